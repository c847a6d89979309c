#!/usr/bin/env python3
"""Deterministic generator of CRM-like objects for benchmarks, written as Parquet.

    python3 bench/generate.py OUT_DIR [--scale 1.0] [--seed 42]

Scale 1.0 gives Account 1M rows, Opportunity 10M, User 10k: sizes of a large CRM Analytics
org. The same seed and scale always give the same files.
"""
import argparse
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

INDUSTRIES = ["Manufacturing", "Technology", "Healthcare", "Retail", "Finance", "Energy", "Education",
              "Government", "Media", "Transport"]
REGIONS = ["EMEA", "AMER", "APAC", "LATAM", "ANZ"]
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won",
          "Closed Lost", "On Hold"]
TYPES = ["New Business", "Existing Business", "Renewal"]


def ids(prefix, n, offset=0):
    # 15-character Salesforce-like ids: key prefix + zero-padded number
    nums = np.arange(offset, offset + n).astype(str)
    return pa.array(np.char.add(prefix, np.char.zfill(nums, 12)))


def write(table, path):
    pq.write_table(table, path, compression="snappy", row_group_size=1_000_000)
    print(f"{path}: {table.num_rows:,} rows")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    n_users = max(10, int(10_000 * a.scale))
    n_accounts = max(10, int(1_000_000 * a.scale))
    n_opps = max(10, int(10_000_000 * a.scale))

    users = pa.table({
        "Id": ids("005", n_users),
        "Name": pa.array(np.char.add("User ", np.arange(n_users).astype(str))),
        "Title": pa.array(rng.choice(["Rep", "Manager", "Director", "VP"], n_users)),
    })
    write(users, os.path.join(a.out, "User.parquet"))

    accounts = pa.table({
        "Id": ids("001", n_accounts),
        "Name": pa.array(np.char.add("Account ", np.arange(n_accounts).astype(str))),
        "Industry": pa.array(rng.choice(INDUSTRIES, n_accounts)),
        "Region": pa.array(rng.choice(REGIONS, n_accounts)),
        "AnnualRevenue": pa.array(np.round(rng.exponential(5_000_000, n_accounts), 2)),
        "OwnerId": pa.array(np.char.add("005", np.char.zfill(rng.integers(0, n_users, n_accounts).astype(str), 12))),
    })
    write(accounts, os.path.join(a.out, "Account.parquet"))

    days = rng.integers(0, 6 * 365, n_opps)  # 2020-01-01 .. 2025-12-30
    close = (np.datetime64("2020-01-01") + days.astype("timedelta64[D]")).astype("datetime64[D]")
    opps = pa.table({
        "Id": ids("006", n_opps),
        "Name": pa.array(np.char.add("Opportunity ", np.arange(n_opps).astype(str))),
        "AccountId": pa.array(np.char.add("001", np.char.zfill(rng.integers(0, n_accounts, n_opps).astype(str), 12))),
        "Amount": pa.array(np.round(rng.exponential(25_000, n_opps), 2)),
        "StageName": pa.array(rng.choice(STAGES, n_opps)),
        "CloseDate": pa.array(close, type=pa.date32()),
        "Probability": pa.array(rng.choice([0, 10, 20, 40, 60, 80, 100], n_opps).astype(np.int64)),
        "Type": pa.array(rng.choice(TYPES, n_opps)),
    })
    write(opps, os.path.join(a.out, "Opportunity.parquet"))


if __name__ == "__main__":
    main()
