#!/usr/bin/env python3
"""Scheduler benchmark: N active schedules (default 10,000) on one `swell serve`.

Measures (1) idle CPU of the server while every schedule waits for its time, (2) the lag from
each tick's nominal time to its job being queued (the job's createdDate), when the ticks come
in bursts: the schedules are daily at BURSTS consecutive minutes, N/BURSTS per minute, all at
second 0. Needs a release build (cargo build --release).

    python3 bench/schedules.py [N] [BURSTS]
"""
import concurrent.futures as cf
import datetime as dt
import sys
import time

from swellapi import Server

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
BURSTS = int(sys.argv[2]) if len(sys.argv) > 2 else 5

server = Server()
call, cpu_seconds = server.call, server.cpu_seconds
try:
    # the ticks: BURSTS minutes starting far enough ahead for the setup
    setup_minutes = 1 + N // 5000
    first = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=setup_minutes + 1)).replace(second=0, microsecond=0)
    nominal = {}

    def create(i):
        df = call("POST", "/dataflows", {"name": f"Bench_{i}", "definition": {}})
        at = first + dt.timedelta(minutes=i % BURSTS)
        body = {"frequency": "daily", "time": {"hour": at.hour, "minute": at.minute, "timeZone": "UTC"}}
        call("PUT", f"/asset/{df['id']}/schedule", body)
        return df["id"], at

    t = time.perf_counter()
    with cf.ThreadPoolExecutor(8) as pool:
        for df, at in pool.map(create, range(N)):
            nominal[df] = at
    setup = time.perf_counter() - t
    print(f"{N} dataflows + schedules created in {setup:.1f} s ({2 * N / setup:.0f} requests/s)")

    # idle: every schedule waits; measure the server's CPU over 30 s
    wait_idle = (first - dt.datetime.now(dt.timezone.utc)).total_seconds() - 5
    span = min(30.0, wait_idle)
    if span > 5:
        c0, w0 = cpu_seconds(), time.monotonic()
        time.sleep(span)
        c1, w1 = cpu_seconds(), time.monotonic()
        print(f"idle with {N} schedules: {100 * (c1 - c0) / (w1 - w0):.2f} % of one core over {w1 - w0:.0f} s")
    else:
        print("idle CPU not measured: the setup took too long")

    last = first + dt.timedelta(minutes=BURSTS - 1)
    while dt.datetime.now(dt.timezone.utc) < last + dt.timedelta(seconds=20):
        time.sleep(1)

    lags = []
    page = 1
    while True:
        res = call("GET", f"/dataflowjobs?pageSize=200&page={page}")
        for j in res["dataflowJobs"]:
            df = j["source"]["id"]
            if df in nominal:
                created = dt.datetime.fromisoformat(j["createdDate"].replace("Z", "+00:00"))
                lags.append((created - nominal[df]).total_seconds() * 1000)
        if not res.get("nextPageUrl"):
            break
        page += 1
    lags.sort()
    p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
    print(f"ticks fired: {len(lags)} of {N} ({N // BURSTS} at each of {BURSTS} minutes)")
    print(f"lag nominal -> Queued: p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, max {lags[-1]:.0f} ms")
finally:
    server.close()
