#!/usr/bin/env python3
"""Seeds a swell data dir's SQLite store with a long history, for bench/ui.sh.

The store must exist (start `swell serve` on the data dir once, then stop it). Adds:
200 dataflows (50 of them recipes), 10,000 jobs over 90 days (dataflows, recipes and syncs;
Success, Failure, Warning, Cancelled, 2 Queued, 3 Running), about 200,000 job nodes (one job
with exactly 100); 20 data connections with 50 objects each and a sync job of 50 nodes; 500
datasets with 20 versions each; written straight into the tables as the store writes them. Ids are real
Salesforce ids (prefix, pod `Sw`, base-62 counter, checksum suffix) after the store's own
counters, which are moved past them.

Usage: bench/ui_seed.py DATA_DIR
Prints the id of the job with 100 nodes, then the id of a connection, then of a dataset.
"""

import random
import sqlite3
import sys
import time

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ADMIN = "005Sw0000000001IAA"


def suffix(fifteen):
    out = ""
    for i in range(0, 15, 5):
        bits = 0
        for j, c in enumerate(fifteen[i:i + 5]):
            if "A" <= c <= "Z":
                bits |= 1 << j
        out += SUFFIX[bits]
    return out


def sf_id(prefix, n):
    digits = ""
    for _ in range(9):
        digits = BASE62[n % 62] + digits
        n //= 62
    fifteen = f"{prefix}Sw0{digits}"
    return fifteen + suffix(fifteen)


class Ids:
    """Takes ids after the store's counters and moves the counters past them."""

    def __init__(self, db):
        self.db = db
        self.next = {}

    def take(self, prefix):
        if prefix not in self.next:
            row = self.db.execute("SELECT next_value FROM id_sequence WHERE prefix = ?", (prefix,)).fetchone()
            self.next[prefix] = (row[0] if row else 0) + 1
        n = self.next[prefix]
        self.next[prefix] = n + 1
        return sf_id(prefix, n)

    def save(self):
        for prefix, n in self.next.items():
            self.db.execute(
                "INSERT INTO id_sequence (prefix, next_value) VALUES (?, ?) "
                "ON CONFLICT (prefix) DO UPDATE SET next_value = excluded.next_value",
                (prefix, n - 1),
            )


NODE_TYPES = ["sfdcDigest", "augment", "computeExpression", "filter", "computeRelative", "sliceDataset", "sfdcRegister"]


def main():
    data_dir = sys.argv[1]
    db = sqlite3.connect(f"{data_dir}/swell.db")
    rnd = random.Random(16)
    ids = Ids(db)
    now = int(time.time() * 1000)
    day = 86_400_000
    flows = []
    for i in range(200):
        fid = ids.take("02K")
        kind = "recipe" if i % 4 == 3 else "dataflow"
        label = f"{'Recipe' if kind == 'recipe' else 'Flow'} {i:03d} {rnd.choice(['Sales', 'Service', 'Pipeline', 'Accounts', 'Cases'])}"
        created = now - 91 * day
        db.execute(
            "INSERT INTO dataflow (id, name, label, kind, definition, created_date, last_modified_date) "
            "VALUES (?, ?, ?, ?, '{}', ?, ?)",
            (fid, f"Bench_{i:03d}", label, kind, created, created),
        )
        if kind == "recipe":
            db.execute("INSERT INTO recipe (id, dataflow_id, created_date) VALUES (?, ?, ?)", (ids.take("05v"), fid, created))
        flows.append((fid, kind, label))
    jobs = 10_000
    nodes_total = 0
    hundred = None
    active = set()
    for k in range(jobs):
        fid, kind, label = flows[rnd.randrange(len(flows))]
        created = now - 90 * day + int(k * (90 * day - 60_000) / jobs)
        if k >= jobs - 5:
            status = "Running" if k < jobs - 2 else "Queued"
            # one active job per dataflow (the store's unique index)
            while fid in active:
                fid, kind, label = flows[rnd.randrange(len(flows))]
            active.add(fid)
        else:
            status = rnd.choices(["Success", "Failure", "Warning", "Cancelled"], [80, 12, 3, 5])[0]
        job_type = {"recipe": "recipe_v3", "dataflow": "user"}[kind]
        if kind == "dataflow" and k % 7 == 0:
            job_type = "datasync"
        prefix = "0eP" if job_type == "recipe_v3" else "03C"
        jid = ids.take(prefix)
        executed = None if status == "Queued" else created + rnd.randint(100, 5_000)
        duration = rnd.randint(2_000, 900_000)
        end = executed + duration if status not in ("Queued", "Running") else None
        message = None
        if status == "Failure":
            message = f"Node Compute_{rnd.randint(1, 9)} failed: Field 'Amount__c' is missing from the source.\nmore detail"
        elif status == "Warning":
            message = "2 rows were skipped"
        trigger = rnd.choices(["user", "schedule", "event"], [30, 60, 10])[0]
        # the running ones: another server's, with a heartbeat the sweep never finds stale
        owner, heartbeat = ("bench-other", now + 365 * day) if status == "Running" else (None, None)
        changed = end or executed or created
        db.execute(
            "INSERT INTO job (id, dataflow_id, job_type, label, status, message, progress, created_date, executed_date, "
            "end_date, owner, heartbeat, started_by, trigger, changed_at, failure_class) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (jid, fid, job_type, label, status, message, 1.0 if end else 0.4, created, executed, end, owner,
             heartbeat, ADMIN, trigger, changed, "definition" if status == "Failure" else None),
        )
        count = 100 if k == jobs - 10 else rnd.randint(10, 30)
        if count == 100:
            hundred = jid
        start = executed or created
        for p in range(count):
            node_status = "success"
            if status == "Failure" and p == count // 2:
                node_status = "error"
            elif status == "Failure" and p > count // 2:
                node_status = "aborted"
            elif status in ("Queued",):
                node_status = "pending"
            rows = rnd.randint(1_000, 5_000_000)
            d = duration // count
            db.execute(
                "INSERT INTO job_node (id, job_id, position, name, node_type, status, start_date, duration_ms, "
                "input_rows, output_rows, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ids.take("03L"), jid, p, f"Node_{p:03d}", NODE_TYPES[p % len(NODE_TYPES)], node_status,
                 start + p * d, d, rows, rows - rnd.randint(0, 1000),
                 "Field 'Amount__c' is missing from the source." if node_status == "error" else None),
            )
            nodes_total += 1
    connection = seed_connections(db, ids, rnd, now, day)
    dataset = seed_datasets(db, ids, rnd, now, day)
    ids.save()
    db.commit()
    print(hundred)
    print(connection)
    print(dataset)
    print(f"seeded 200 dataflows, {jobs} jobs, {nodes_total} nodes, 20 connections x 50 objects, "
          "500 datasets x 20 versions", file=sys.stderr)


def seed_connections(db, ids, rnd, now, day):
    """20 connections, each with its sync dataflow, 50 objects and a finished sync of them."""
    first = None
    for c in range(20):
        name = f"Bench_Conn_{c:02d}"
        created = now - 91 * day
        fid = ids.take("02K")
        db.execute(
            "INSERT INTO dataflow (id, name, label, kind, definition, created_date, last_modified_date) "
            "VALUES (?, ?, ?, 'sync', '{}', ?, ?)",
            (fid, f"sync:{name}", name, created, created),
        )
        cid = ids.take("0It")
        first = first or cid
        properties = '[{"name": "host", "value": "db.example.com"}, {"name": "database", "value": "crm"}, ' \
                     '{"name": "username", "value": "swell"}, {"name": "password", "value": ""}]'
        db.execute(
            "INSERT INTO data_connector (id, name, label, connector_type, properties, dataflow_id, created_date, "
            "last_modified_date) VALUES (?, ?, ?, 'AwsRdsPostgres', ?, ?, ?, ?)",
            (cid, name, f"Connection {c:02d}", properties, fid, created, created),
        )
        synced = now - rnd.randint(1, 10) * 3_600_000
        jid = ids.take("03C")
        db.execute(
            "INSERT INTO job (id, dataflow_id, job_type, label, status, progress, created_date, executed_date, "
            "end_date, started_by, trigger, changed_at) VALUES (?, ?, 'datasync', ?, 'Success', 1.0, ?, ?, ?, ?, "
            "'schedule', ?)",
            (jid, fid, name, synced - 600_000, synced - 599_000, synced, ADMIN, synced),
        )
        for o in range(50):
            obj = f"Object_{o:02d}__c"
            db.execute(
                "INSERT INTO replicated_dataset (id, connector_id, source_object, connection_mode, status, "
                "settings_version, synced_settings_version, last_refreshed, created_date, last_modified_date) "
                "VALUES (?, ?, ?, ?, 'Success', 1, 1, ?, ?, ?)",
                (ids.take("0Iu"), cid, obj, rnd.choice(["Full", "Incremental", "PeriodicFull"]), synced, created,
                 created),
            )
            rows = rnd.randint(1_000, 2_000_000)
            db.execute(
                "INSERT INTO job_node (id, job_id, position, name, node_type, status, start_date, duration_ms, "
                "input_rows, output_rows) VALUES (?, ?, ?, ?, 'digest', 'success', ?, ?, ?, ?)",
                (ids.take("03L"), jid, o, obj, synced - 599_000 + o * 10_000, 10_000, rows, rows),
            )
    return first


def seed_datasets(db, ids, rnd, now, day):
    """500 datasets, each with 20 versions over 90 days, the newest current."""
    first = None
    for d in range(500):
        did = ids.take("0Fb")
        first = first or did
        created = now - 90 * day
        db.execute(
            "INSERT INTO dataset (id, name, label, created_date, last_modified_date) VALUES (?, ?, ?, ?, ?)",
            (did, f"Bench_Data_{d:03d}", f"Dataset {d:03d} {rnd.choice(['Sales', 'Service', 'Accounts'])}", created,
             created),
        )
        current = None
        for v in range(20):
            current = ids.take("0Fc")
            at = created + v * (90 * day // 20)
            db.execute(
                "INSERT INTO dataset_version (id, dataset_id, storage_version, row_count, created_date) "
                "VALUES (?, ?, ?, ?, ?)",
                (current, did, f"v{v:02d}", rnd.randint(1_000, 10_000_000), at),
            )
        db.execute("UPDATE dataset SET current_version_id = ?, last_modified_date = ? WHERE id = ?",
                   (current, at, did))
    return first


if __name__ == "__main__":
    main()
