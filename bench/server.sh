#!/usr/bin/env bash
# Server benchmark: latency of POST start -> Running with a free slot, and GET of one job with
# 8 concurrent clients (wrk), with the server's token and with a user's. Needs a release build (cargo build --release) and wrk
# (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
SWELL="$TARGET/release/swell"
WORK="$(mktemp -d)"
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 2; }
[ -x "$SWELL" ] || cargo build --release -p swell

export SWELL_API_TOKEN=bench-token
"$SWELL" demo --listen 127.0.0.1:0 --data-dir "$WORK/data" > "$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "^listening on" "$WORK/log" && break; sleep 0.1; done
BASE=$(grep "^listening on" "$WORK/log" | sed 's/listening on //')
API="$BASE/services/data/v66.0/wave"
H="Authorization: Bearer $SWELL_API_TOKEN"
DF=$(curl -s -H "$H" "$API/dataflows" | python3 -c "import json,sys; print(json.load(sys.stdin)['dataflows'][0]['id'])")

python3 - "$API" "$DF" <<'PY'
import json, sys, time, urllib.request
api, df = sys.argv[1], sys.argv[2]
H = {"Authorization": "Bearer bench-token", "Content-Type": "application/json", "X-Chatter-Entity-Encoding": "false"}
def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method, headers=H, data=json.dumps(body).encode() if body else None)
    with urllib.request.urlopen(req) as r:
        return json.load(r)
latencies = []
for i in range(50):
    # wait for the previous run to end so that a slot is free
    while call("GET", f"/dataflowjobs?dataflowId={df}&status=Running")["totalSize"] or call("GET", f"/dataflowjobs?dataflowId={df}&status=Queued")["totalSize"]:
        time.sleep(0.01)
    t = time.perf_counter()
    job = call("POST", "/dataflowjobs", {"dataflowId": df, "command": "start"})
    while call("GET", f"/dataflowjobs/{job['id']}")["status"] == "Queued":
        time.sleep(0.001)
    latencies.append((time.perf_counter() - t) * 1000)
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"POST start -> Running, {len(latencies)} runs: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {latencies[-1]:.1f} ms")
PY

JOB=$(curl -s -H "$H" "$API/dataflowjobs?pageSize=1" | python3 -c "import json,sys; print(json.load(sys.stdin)['dataflowJobs'][0]['id'])")
echo "GET one job, 8 connections, 2 threads, 10 s:"
wrk -t2 -c8 -d10s --latency -H "$H" "$API/dataflowjobs/$JOB" | grep -E "Requests/sec|50%|99%|Latency"

# the same GET with a user's own token (issue 15): each request looks the token's hash up in
# the store, where the server's token is compared in memory
USER_TOKEN=$("$SWELL" user add bench@example.com --role viewer --data-dir "$WORK/data" | sed -n 's/.*(shown once): //p')
echo "GET one job with a viewer's token, 8 connections, 2 threads, 10 s:"
wrk -t2 -c8 -d10s --latency -H "Authorization: Bearer $USER_TOKEN" "$API/dataflowjobs/$JOB" | grep -E "Requests/sec|50%|99%|Latency"
