#!/usr/bin/env bash
# Data Manager on a long history (issue 16): a store seeded with 10,000 jobs over 90 days,
# about 200,000 nodes, 200 dataflows and recipes, 20 connections with 50 objects and 500
# datasets with 20 versions (bench/ui_seed.py), then, with 10 concurrent clients (wrk), the server's
# latency (p50, p95, p99) of the Monitor (default, filtered, an older page by key) and of a job
# page with 100 nodes, Dataflows & Recipes, Connections, a connection, Data and a dataset; the SQL statements each page runs (from the server's log); the bytes of
# script and style a page loads; DOMContentLoaded in Chromium (bench/ui_browser.py); the memory that 100 open live pages add over 60 seconds.
# Needs a release build (cargo build --release -p swell) and wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
SWELL="$TARGET/release/swell"
WORK="$(mktemp -d)"
PORT="${PORT:-18081}"
BASE="http://127.0.0.1:$PORT"
trap 'kill $PID 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 2; }
[ -x "$SWELL" ] || cargo build --release -p swell

start() {
  "$SWELL" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" > "$WORK/log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do grep -q "^listening on" "$WORK/log" && return; sleep 0.1; done
  echo "the server did not start"; cat "$WORK/log"; exit 1
}

# the store, made by the server; then the history, written while it is stopped
start
kill $PID; wait $PID 2>/dev/null || true
python3 bench/ui_seed.py "$WORK/data" > "$WORK/seeded"
JOB=$(sed -n 1p "$WORK/seeded"); CONNECTION=$(sed -n 2p "$WORK/seeded"); DATASET=$(sed -n 3p "$WORK/seeded")
export SWELL_LOG="warn,sqlx::query=debug" NO_COLOR=1
start
TOKEN=$(cat "$WORK/data/api-token")
COOKIE=$(curl -s -o /dev/null -D - -X POST --data-urlencode "token=$TOKEN" "$BASE/ui/login" \
  | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(swell_session=[^;]*\).*/\1/p')
[ -n "$COOKIE" ] || { echo "no session"; exit 1; }
OLDER=$(curl -s -H "Cookie: $COOKIE" "$BASE/ui/monitor" | sed -n 's/.*href="\([^"]*\)" rel="next".*/\1/p' | sed 's/&amp;/\&/g')

cat > "$WORK/p.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("  %d requests, %d errors; p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
LUA

queries() {
  # the statements one request runs: the log's sqlx lines between two marks
  local before after
  sleep 0.3
  before=$(grep -c "sqlx::query" "$WORK/log" || true)
  curl -s -o /dev/null -H "Cookie: $COOKIE" "$BASE$1"
  sleep 0.3
  after=$(grep -c "sqlx::query" "$WORK/log" || true)
  echo "  SQL statements in the 0.6 s around it: $((after - before)) (the runner's and scheduler's polls included):"
  sed -n "$((before + 1)),${after}p" "$WORK/log" | grep "sqlx::query" | sed 's/\x1b\[[0-9;]*m//g' \
    | grep -o 'summary="[^"]*"' | sed 's/^/    /'
}

for page in "/ui/monitor" "/ui/monitor?status=Failure&type=dataflow&q=sales" "$OLDER" "/ui/jobs/$JOB" \
    "/ui/dataflows" "/ui/connections" "/ui/connections/$CONNECTION" "/ui/data" "/ui/data?q=sales&page=3" \
    "/ui/data/$DATASET"; do
  echo "GET $page"
  curl -s -o /dev/null -w "  one request: %{http_code}, %{size_download} bytes, %{time_total} s\n" -H "Cookie: $COOKIE" "$BASE$page"
  queries "$page"
  wrk -t2 -c10 -d${SECONDS_EACH:-15}s -s "$WORK/p.lua" -H "Cookie: $COOKIE" "$BASE$page" | grep "requests,"
done

echo "what a page loads:"
PAGE=$(curl -s -H "Cookie: $COOKIE" "$BASE/ui/monitor")
JS=0; CSS=0
for src in $(echo "$PAGE" | sed -n 's/.*<script src="\([^"]*\)".*/\1/p'); do
  JS=$((JS + $(curl -s "$BASE$src" | wc -c)))
done
for href in $(echo "$PAGE" | sed -n 's/.*<link rel="stylesheet" href="\([^"]*\)".*/\1/p'); do
  CSS=$((CSS + $(curl -s "$BASE$href" | wc -c)))
done
echo "  scripts $JS bytes, style $CSS bytes (uncompressed)"

if command -v chromedriver >/dev/null; then
  echo "DOMContentLoaded in Chromium (5 loads each):"
  python3 bench/ui_browser.py "$BASE" "$COOKIE" "/ui/monitor" "/ui/monitor?status=Failure&type=dataflow&q=sales" \
    "/ui/jobs/$JOB" "/ui/dataflows" "/ui/connections" "/ui/connections/$CONNECTION" "/ui/data" "/ui/data/$DATASET"
else
  echo "DOMContentLoaded: skipped, no chromedriver (apt-get install chromium chromium-driver)"
fi

echo "100 open live Monitor pages for 60 s:"
RSS0=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
for _ in $(seq 100); do
  curl -s -N -o /dev/null -H "Cookie: $COOKIE" "$BASE/ui/live/monitor" --max-time 65 &
done
sleep 60
RSS1=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
echo "  server RSS $((RSS0 / 1024)) MB before, $((RSS1 / 1024)) MB with them open: +$(((RSS1 - RSS0) / 1024)) MB"
wait 2>/dev/null || true
