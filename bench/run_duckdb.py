#!/usr/bin/env python3
"""Runs bench/duckdb.sql with DuckDB on 2 threads and prints wall time and the row count."""
import sys
import time

import duckdb

objects, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 2
sql = open(__file__.replace("run_duckdb.py", "duckdb.sql")).read().format(objects=objects, out=out)
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
start = time.perf_counter()
con.execute(sql)
elapsed = time.perf_counter() - start
rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
print(f"duckdb {duckdb.__version__}: {elapsed:.2f} s, {rows:,} rows")
