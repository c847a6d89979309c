#!/usr/bin/env bash
# The bench dataflow through `swell serve`, as a user runs it: a connection over the local
# folder of generated files (SFDC_LOCAL, allowed with --allow-folder), the dataflow created and
# started over the REST API, its objects synced before the run. Compared in the same run with
# `swell run` on the same files.
#   bench/serve_dataflow.sh [SCALE]      (1.0 = Opportunity 10M rows, Account 1M)
# Prints the wall time of `swell run`, of the first server job (sync before run + run) and of
# a second job (the objects are synced: the run alone), and checks that the server registered
# the same rows as `swell run`. Needs a release build and bench/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1.0}"
TARGET="${CARGO_TARGET_DIR:-target}"
SWELL="$(realpath "$TARGET/release/swell")"
DATA="$(realpath -m "bench/data/scale-$SCALE")"
WORK="$(mktemp -d)"
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
PID=

python3 -c "import duckdb, numpy, pyarrow" 2>/dev/null || pip install -q -r bench/requirements.txt
[ -x "$SWELL" ] || cargo build --release -p swell
[ -f "$DATA/Opportunity.parquet" ] || python3 bench/generate.py "$DATA" --scale "$SCALE"

start=$(date +%s.%N)
env SWELL_NOW=2025-01-01T00:00:00Z "$SWELL" run bench/dataflow.json --objects "$DATA" --data-dir "$WORK/run-data" \
  --out "$WORK/run-out" --quiet > "$WORK/run.log" 2>&1
run_secs=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")

export SWELL_API_TOKEN=bench-token
"$SWELL" serve --listen 127.0.0.1:0 --data-dir "$WORK/serve-data" --allow-folder "$DATA" > "$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "^listening on" "$WORK/serve.log" && break; sleep 0.1; done
BASE=$(grep "^listening on" "$WORK/serve.log" | sed 's/listening on //')

python3 - "$BASE/services/data/v66.0/wave" "$DATA" "$run_secs" "$WORK" <<'PY'
import json, sys, time, urllib.request, urllib.error
api, data, run_secs, work = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
H = {"Authorization": "Bearer bench-token", "Content-Type": "application/json", "X-Chatter-Entity-Encoding": "false"}
def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method, headers=H, data=json.dumps(body).encode() if body else None)
    try:
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode()}")
call("POST", "/dataConnectors", {"name": "SFDC_LOCAL", "connectorType": "SfdcLocal",
     "connectionProperties": [{"name": "FolderPath", "value": data}]})
definition = json.load(open("bench/dataflow.json"))
df = call("POST", "/dataflows", {"name": "Bench", "definition": definition})["id"]
def job():
    t = time.perf_counter()
    j = call("POST", "/dataflowjobs", {"dataflowId": df, "command": "start"})
    while j["status"] in ("Queued", "Running"):
        time.sleep(0.05)
        j = call("GET", f"/dataflowjobs/{j['id']}")
    if j["status"] != "Success":
        sys.exit(f"the job ended {j['status']}: {j.get('message')}")
    return time.perf_counter() - t
first = job()
second = job()
jobs = call("GET", f"/dataflowjobs?dataflowId={df}")["totalSize"]
print(f"swell run:                       {run_secs:.1f} s")
print(f"serve, sync before run + run:    {first:.1f} s ({first / run_secs:.2f}x)")
print(f"serve, run of synced objects:    {second:.1f} s ({second / run_secs:.2f}x)")
print(f"jobs of the dataflow: {jobs} (2 started)")
PY

# the server's dataset holds the same rows as swell run's
python3 - "$WORK/run-out/Opportunity_Pipeline.parquet" "$WORK/serve-data/datasets/Opportunity_Pipeline" <<'PY'
import sys, os, duckdb
a, table = sys.argv[1], sys.argv[2]
current = open(os.path.join(table, "current")).read().strip()
b = os.path.join(table, "versions", current, "part-0.parquet")
# Age is daysBetween(CloseDate, now()): swell run's clock is fixed (SWELL_NOW), the server's is not
q = f"SELECT count(*) FROM ((SELECT * EXCLUDE (Age) FROM '{a}' EXCEPT ALL SELECT * EXCLUDE (Age) FROM '{b}') UNION ALL (SELECT * EXCLUDE (Age) FROM '{b}' EXCEPT ALL SELECT * EXCLUDE (Age) FROM '{a}'))"
diff = duckdb.sql(q).fetchall()[0][0]
rows = duckdb.sql(f"SELECT count(*) FROM '{b}'").fetchall()[0][0]
print(f"rows registered by the server: {rows:,}; rows that differ from swell run's: {diff}")
sys.exit(1 if diff else 0)
PY
