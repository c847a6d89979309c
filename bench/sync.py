#!/usr/bin/env python3
"""Sync benchmark: a ROWS-row PostgreSQL table (default 1,000,000) synced by a release
`swell serve` through the API (connection, connected object, Run Now, wait for the job),
next to `psql -c "\\copy (select ...) to '/dev/null' csv"` on the same table in the same run.
Then incremental syncs, each after 1 % of the rows changed (the second also inserts 0.1 %,
the later ones also delete 0.1 %), each against the best full sync: they write layers
(issue 17) and compact them when they pile up, and read the table's keys only when its row
count says rows were deleted. The rows of the last version are checked against the table
(count and sums). Next to them, psql's own time for the reads an incremental sync makes:
the changed rows, the row count, the keys.

The watermark column `updated_at` is indexed, as a column an application reads changes by
is (Salesforce indexes SystemModstamp); NO_WATERMARK_INDEX=1 leaves it without one. Each
round VACUUMs the table after changing it, as autovacuum does between syncs on a live table
(NO_VACUUM=1 leaves that out: the first reader after a bulk change then pays for the rows'
hint bits, whoever it is).

The table has the usual column kinds: integer key, text, numeric(12,2), double, boolean,
date, timestamp. Needs the machine's PostgreSQL (SWELL_BENCH_PG, default
postgres@127.0.0.1:5432/test) and a release build (cargo build --release).

    python3 bench/sync.py [ROWS] [REPEATS] [ROUNDS]
"""
import datetime as dt
import json
import os
import subprocess
import sys
import time

import duckdb
from swellapi import SWELL, Server

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
HOST, PORT, DB, USER = "127.0.0.1", "5432", "test", "postgres"
COLUMNS = "id, name, amount, rate, active, close_date, updated_at"


def psql(sql):
    subprocess.run(["psql", "-h", HOST, "-p", PORT, "-U", USER, "-d", DB, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                   check=True, stdout=subprocess.DEVNULL)


print(f"creating bench_sync with {ROWS:,} rows")
psql("DROP TABLE IF EXISTS bench_sync")
psql(f"""CREATE TABLE bench_sync AS SELECT g AS id, 'Account ' || g AS name,
          round((random() * 1000000)::numeric, 2)::numeric(12,2) AS amount, random() AS rate,
          g % 3 = 0 AS active, date '2020-01-01' + (g % 2000) AS close_date,
          timestamp '2026-01-01' - (g || ' seconds')::interval AS updated_at
        FROM generate_series(1, {ROWS}) g""")
psql("ALTER TABLE bench_sync ADD PRIMARY KEY (id)")
if not os.environ.get("NO_WATERMARK_INDEX"):
    psql("CREATE INDEX ON bench_sync (updated_at)")
psql("VACUUM ANALYZE bench_sync")

copy = []
for _ in range(REPEATS):
    t = time.perf_counter()
    psql(f"\\copy (select {COLUMNS} from bench_sync) to '/dev/null' csv")
    copy.append(time.perf_counter() - t)

server = Server()
try:
    server.call("POST", "/dataConnectors", {
        "name": "Bench_PG", "connectorType": "AwsRdsPostgres",
        "connectionProperties": [{"name": "host", "value": HOST}, {"name": "port", "value": PORT},
                                 {"name": "database", "value": DB}, {"name": "username", "value": USER}]})
    server.call("POST", "/replicatedDatasets", {"connectorId": "Bench_PG", "sourceObjectName": "bench_sync"})

    def run_now():
        """Run Now; returns (wall seconds, job seconds, rows read, rows in the new version)."""
        t = time.perf_counter()
        server.call("POST", "/dataConnectors/Bench_PG/ingest", {})
        while True:
            latest = server.call("GET", "/dataflowjobs?jobTypes=datasync")["dataflowJobs"][0]
            if latest["status"] not in ("Queued", "Running"):
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t
        if latest["status"] != "Success":
            raise SystemExit(f"sync failed: {latest}")
        node = server.call("GET", f"/dataflowjobs/{latest['id']}/nodes")["nodes"][0]
        start = dt.datetime.fromisoformat(latest["executedDate"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(latest["endDate"].replace("Z", "+00:00"))
        return wall, (end - start).total_seconds(), node["inputRows"]["processedCount"], node["outputRows"]["processedCount"]

    runs = [run_now() for _ in range(REPEATS)]
    # incremental: the first run establishes the watermark; then 1 % of the rows change
    objects = server.call("GET", "/replicatedDatasets?connector=Bench_PG")["replicatedDatasets"]
    server.call("PATCH", f"/replicatedDatasets/{objects[0]['id']}", {
        "connectionMode": "Incremental", "advancedProperties": [{"name": "watermarkField", "value": "updated_at"}]})
    run_now()
    incremental = []
    psql_reads = []

    def timed(sql):
        t = time.perf_counter()
        psql(sql)
        return time.perf_counter() - t
    for round in range(ROUNDS):
        # each round's changes are stamped over 50 minutes of its hour, as changes come in
        stamp = f"timestamp '2026-06-01' + interval '{round} hours'"
        psql(f"UPDATE bench_sync SET name = name || ' (changed {round})', "
             f"updated_at = {stamp} + (id % 3000) * interval '1 second' WHERE id % 100 = {round}")
        if round > 1:
            psql(f"DELETE FROM bench_sync WHERE id % 1000 = {500 + round}")
        if round > 0:
            psql(f"INSERT INTO bench_sync SELECT {ROWS} + {round} * {ROWS // 1000} + g, 'New ' || g, 1, 0.5, true, "
                 f"date '2026-01-01', {stamp} + (g % 3000) * interval '1 second' FROM generate_series(1, {ROWS // 1000}) g")
        if not os.environ.get("NO_VACUUM"):
            # what autovacuum does on a live table between two syncs: without it, the first
            # reader after a bulk change (swell or psql) pays for setting the rows' hint bits
            psql("VACUUM bench_sync")
        incremental.append(run_now())
        # psql's own time for what this sync read (the watermark is the previous round's stamp)
        since = (f"timestamp '2026-06-01' + interval '{round - 1} hours' + interval '2999 seconds'" if round
                 else "timestamp '2025-12-31 23:59:59'")
        psql_reads.append({
            "the changed rows": timed(f"\\copy (select {COLUMNS} from bench_sync where updated_at >= {since}) "
                                      "to '/dev/null' csv"),
            "count(*)": timed("select count(*) from bench_sync"),
            "the keys": timed("\\copy (select id from bench_sync) to '/dev/null' csv"),
        })
    # the synced rows are the table's: `swell run` reads the object (its layers merged) from
    # the server's data dir into a Parquet file, summed here next to the same sums in psql
    expected = subprocess.run(
        ["psql", "-h", HOST, "-p", PORT, "-U", USER, "-d", DB, "-At", "-F", ",", "-c",
         "select count(*), sum(id), sum(length(name)) from bench_sync"],
        check=True, capture_output=True, text=True).stdout.strip()
    flow = os.path.join(server.work, "check.json")
    with open(flow, "w") as f:
        json.dump({"d": {"action": "sfdcDigest", "parameters": {
            "connectionName": "Bench_PG", "object": "bench_sync", "fields": [{"name": "id"}, {"name": "name"}]}},
            "r": {"action": "sfdcRegister", "parameters": {"source": "d", "alias": "check", "name": "check"}}}, f)
    out = os.path.join(server.work, "out")
    t = time.perf_counter()
    subprocess.run([SWELL, "run", flow, "--data-dir", os.path.join(server.work, "data"), "--out", out, "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    check_run = time.perf_counter() - t
    layers = json.load(open(os.path.join(server.work, "data", "connections", "Bench_PG", "objects", "bench_sync",
                                         "versions", open(os.path.join(server.work, "data", "connections", "Bench_PG",
                                                                       "objects", "bench_sync", "current")).read().strip(),
                                         "metadata.json"))).get("layers")
    got = duckdb.sql(f"select count(*), sum(id::bigint), sum(length(name)) from '{out}/check.parquet'").fetchall()[0]
    got = ",".join(str(int(v)) for v in got)
finally:
    server.close()

best_copy = min(copy)
print(f"psql \\copy to /dev/null (csv): " + ", ".join(f"{c:.2f} s" for c in copy) + f" (best {best_copy:.2f} s)")
for wall, job, _, rows in runs:
    print(f"swell full sync: {wall:.2f} s wall from Run Now to Success (job {job:.2f} s), {rows:,} rows")
best = min(r[0] for r in runs)
print(f"ratio swell / psql: {best / best_copy:.2f}x (best of {REPEATS} each)")
for round, (wall, job, read, rows) in enumerate(incremental):
    changed = "1 % updated" + (", 0.1 % inserted" if round else "") + (", 0.1 % deleted" if round > 1 else "")
    print(f"swell incremental sync {round + 1} ({changed}): {wall:.2f} s wall (job {job:.2f} s), "
          f"{wall / best:.1%} of the best full sync; {read:,} rows read, {rows:,} rows in the new version")
    print("  psql alone, after it: " + ", ".join(f"{k} {v:.2f} s" for k, v in psql_reads[round].items()))
print(f"the last version: layers {layers}; `swell run` of a digest and register of two fields: {check_run:.2f} s")
print(f"rows of the last version (count, sum of id, sum of name lengths): {got}; in PostgreSQL: {expected}")
if got != expected:
    raise SystemExit("the synced rows differ from the table's")
