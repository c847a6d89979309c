#!/usr/bin/env bash
# Benchmark: the bench dataflow and the same pipeline as a recipe, on generated CRM-like data,
# swell against DuckDB in the same run, and against the engine's own limit: the same pipeline
# as plain DataFusion SQL on the engine's session settings (crates/swell-engine/examples/sql.rs).
#   bench/run.sh [SCALE]      (1.0 = Opportunity 10M rows, Account 1M)
# Prints the best wall time of RUNS runs (default 3) and the peak RSS of each, and the ratios. Needs a release build of swell and of
# the SQL runner (built here if missing: -p swell and -p swell-engine together, so that
# DataFusion's features are the binary's and nothing is rebuilt) and Python 3 with the
# packages of bench/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1.0}"
TARGET="${CARGO_TARGET_DIR:-target}"
SWELL="$TARGET/release/swell"
SQL="$TARGET/release/examples/sql"
DATA="bench/data/scale-$SCALE"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 -c "import duckdb, numpy, pyarrow" 2>/dev/null || pip install -q -r bench/requirements.txt
[ -x "$SWELL" ] && [ -x "$SQL" ] || cargo build --release -p swell -p swell-engine --bin swell --example sql
[ -f "$DATA/Opportunity.parquet" ] || python3 bench/generate.py "$DATA" --scale "$SCALE"

RUNS="${RUNS:-3}"
measure() { # name, outputs to remove before each run, command...: prints "name best_seconds peak_rss_mb"
  local name="$1" outputs="$2"; shift 2
  local best="" peak=0
  for _ in $(seq "$RUNS"); do
    rm -rf $outputs
    /usr/bin/time -f "%e %M" -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2>&1 || { cat "$WORK/$name.out" >&2; exit 1; }
    read -r secs kb < "$WORK/$name.time"
    best=$(python3 -c "print(min($secs, ${best:-$secs}))")
    peak=$(( kb / 1024 > peak ? kb / 1024 : peak ))
  done
  echo "$name $best $peak"
}

echo "scale $SCALE: $(python3 -c "import pyarrow.parquet as pq; print(f'{pq.ParquetFile(\"$DATA/Opportunity.parquet\").metadata.num_rows:,}')") opportunities"
S=$(measure swell "$WORK/swell-data $WORK/swell-out" env SWELL_NOW=2025-01-01T00:00:00Z "$SWELL" run bench/dataflow.json --objects "$DATA" --data-dir "$WORK/swell-data" --out "$WORK/swell-out" --quiet)
R=$(measure recipe "$WORK/recipe-data $WORK/recipe-out" env SWELL_NOW=2025-01-01T00:00:00Z "$SWELL" run bench/recipe.json --objects "$DATA" --data-dir "$WORK/recipe-data" --out "$WORK/recipe-out" --quiet)
D=$(measure duckdb "$WORK/duckdb.parquet" python3 bench/run_duckdb.py "$DATA" "$WORK/duckdb.parquet" 2)
F=$(measure datafusion "$WORK/datafusion.parquet" "$SQL" bench/datafusion.sql "$DATA" "$WORK/datafusion.parquet" 2)
grep -E "registered" "$WORK/swell.out" "$WORK/recipe.out" || true
cat "$WORK/duckdb.out" "$WORK/datafusion.out"
read -r _ ss sm <<< "$S"; read -r _ rs rm <<< "$R"; read -r _ ds dm <<< "$D"; read -r _ fs fm <<< "$F"
printf "%-16s %10s %14s\n" engine "wall (s)" "peak RSS (MB)"
printf "%-16s %10s %14s\n" "swell dataflow" "$ss" "$sm"
printf "%-16s %10s %14s\n" "swell recipe" "$rs" "$rm"
printf "%-16s %10s %14s\n" duckdb "$ds" "$dm"
printf "%-16s %10s %14s\n" "datafusion sql" "$fs" "$fm"
python3 -c "print(f'swell dataflow / duckdb wall time: {$ss / $ds:.2f}x; recipe / duckdb: {$rs / $ds:.2f}x')"
python3 -c "print(f'swell dataflow / plain datafusion sql: {$ss / $fs:.2f}x; datafusion sql / duckdb: {$fs / $ds:.2f}x')"

# Every output holds DuckDB's rows on its own columns (the recipe's have no generated date
# parts; CloseDate differs only in its time-zone annotation, so it is left out); the script
# fails on any difference.
same_rows() { # label, file: the rows of file not in DuckDB's output
  python3 - "$1" "$2" "$WORK/duckdb.parquet" <<'PY'
import sys, duckdb
label, a, b = sys.argv[1:4]
cols = ', '.join(f'"{c}"' for c in duckdb.sql(f"SELECT * FROM '{a}' LIMIT 0").columns if c != 'CloseDate')
q = f"SELECT count(*) FROM (SELECT {cols} FROM '{a}' EXCEPT ALL SELECT {cols} FROM '{b}')"
diff = duckdb.sql(q).fetchall()[0][0]
print(f"rows of {label} not in DuckDB's: {diff}")
sys.exit(1 if diff else 0)
PY
}
same_rows "the recipe's output" "$WORK/recipe-out/Opportunity_Pipeline.parquet"
same_rows "the plain DataFusion SQL's output" "$WORK/datafusion.parquet"
same_rows "swell's output" "$WORK/swell-out/Opportunity_Pipeline.parquet"
