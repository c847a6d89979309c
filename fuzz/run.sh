#!/usr/bin/env bash
# Runs the fuzz targets (nightly toolchain, cargo-fuzz) for SECONDS each, seeded with the
# conformance fixtures and, when present, the public definitions of ../shared/realworld (read
# in place, never copied into the repository). A crash is minimised and its input kept in
# fuzz/regressions/<target>/, which the crates' tests replay in CI.
#   fuzz/run.sh [SECONDS] [TARGET...]      (default 600 s; saql dataflow recipe formula schedule)
# FUZZ_SANITIZER (default none) picks cargo-fuzz's sanitizer: the code under test has no unsafe
# code of its own, and what the targets look for (panics, stack overflows, runaway memory or
# time) shows without one, at about twice the executions per second; use `address` to look
# for memory errors in dependencies.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${1:-600}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(saql dataflow recipe formula schedule)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/work/target-fuzz}"

seed() { # target: fills corpus/<target> once
  local t="$1" dir="corpus/$1"
  [ -d "$dir" ] && return
  mkdir -p "$dir"
  local fixtures=../crates/swell-engine/tests/fixtures
  case "$t" in
    dataflow|recipe)
      for f in "$fixtures"/*/definition.json ../shared/realworld/* ../../shared/realworld/*; do
        [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | md5sum | cut -c1-16)" || true
      done ;;
    saql)
      python3 - "$fixtures" "$dir" <<'PY'
import json, sys, os, hashlib, glob
out = sys.argv[2]
for f in glob.glob(sys.argv[1] + "/*/definition.json"):
    try:
        text = open(f).read()
    except OSError:
        continue
    for key in ("saqlExpression", "saqlFilter"):
        for part in text.split(f'"{key}"')[1:]:
            try:
                value = json.loads(part.split(":", 1)[1].lstrip().split("\n")[0].rstrip(", }"))
            except Exception:
                continue
            if isinstance(value, str):
                open(os.path.join(out, hashlib.md5(value.encode()).hexdigest()), "w").write(value)
PY
      ;;
    formula)
      printf '%s' "concat(Name, ' ', upper(Stage))" > "$dir/a"
      printf '%s' "case when Amount > 1000 then 'big' else 'small' end" > "$dir/b"
      printf '%s' "date_format(CloseDate, 'yyyy-MM') || substr(Id, 1, 3)" > "$dir/c" ;;
    schedule)
      printf '%s' '{"frequency":"weekly","daysOfWeek":["Monday"],"time":{"hour":6,"minute":30,"timeZone":"America/Los_Angeles"}}' > "$dir/a"
      printf '%s' '{"frequency":"monthlyrelative","weekInMonth":"Last","dayInWeek":"Friday","time":{"hour":23,"timeZone":"Europe/Berlin"}}' > "$dir/b"
      printf '%s' '{"frequency":"hourly","daysOfWeek":["Sunday"],"hourlyInterval":3,"time":{"hour":1}}' > "$dir/c" ;;
  esac
}

for t in "${TARGETS[@]}"; do
  seed "$t"
  mkdir -p "regressions/$t" "artifacts/$t"
  echo "== $t: ${SECONDS_EACH}s"
  set +e
  cargo +nightly fuzz run -s "${FUZZ_SANITIZER:-none}" "$t" "corpus/$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 \
    -artifact_prefix="artifacts/$t/" -max_len=65536 2>&1 | tail -5
  set -e
  for crash in artifacts/"$t"/crash-* artifacts/"$t"/oom-* artifacts/"$t"/timeout-*; do
    [ -f "$crash" ] && cp "$crash" "regressions/$t/" && echo "kept $crash"
  done
done
