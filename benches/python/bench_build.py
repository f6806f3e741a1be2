#!/usr/bin/env python3
"""Python-level figures: building N servers through `import clusto` — each with three
attributes, a pool, a rack slot and an IP address — in autocommit mode (every call its
own durable transaction, as legacy scripts run) and in batches of 1000 per transaction;
then get_by_name round trips and single IP allocations.

Usage: bench_build.py [N] (default 10000). Prints a Markdown table.
"""

import os
import resource
import sys
import tempfile
import time

import clusto
from clusto.drivers import BasicRack, BasicServer, IPManager, Pool

ORIGINAL = {"servers/s": 51.0, "IP allocations/s": 35.0}


def build(n, batch, prefix):
    pools = [Pool("%s-pool%d" % (prefix, i)) for i in range(10)]
    racks = [BasicRack("%s-rack%d" % (prefix, i)) for i in range((n + 39) // 40)]
    ipm = IPManager("%s-net" % prefix, baseip="10.%d.0.0" % (len(prefix) * 7 % 200), netmask="255.255.0.0")
    start = time.perf_counter()
    for i in range(n):
        if batch and i % batch == 0:
            clusto.begin_transaction()
        s = BasicServer("%s-s%d" % (prefix, i))
        s.add_attr("system", "P%010d" % i, subkey="serial")
        s.add_attr("cpucount", i % 64)
        s.add_attr("owner", "team%d" % (i % 100))
        pools[i % 10].insert(s)
        racks[i // 40].insert(s, i % 40 + 1)
        s.add_ip(ipman=ipm)
        if batch and (i % batch == batch - 1 or i == n - 1):
            clusto.commit()
    return time.perf_counter() - start, ipm


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rows = []
    # CLUSTO_BENCH_DSN=postgresql://… runs it on that server (a schema of its own);
    # CLUSTO_BENCH_DURABILITY=grouped the autocommit rows with group commit.
    server = os.environ.get("CLUSTO_BENCH_DSN")
    durability = os.environ.get("CLUSTO_BENCH_DURABILITY")
    with tempfile.TemporaryDirectory() as tmp:
        if server:
            dsn = "%s?schema=pybench_%d" % (server, os.getpid())
        else:
            dsn = os.path.join(tmp, "db")
        clusto.connect(dsn, create=True, durability=durability)
        clusto.init_clusto()
        auto_n = min(n, 2000)
        elapsed, _ = build(auto_n, None, "auto")
        mode = durability or "immediate"
        rows.append(("build servers, autocommit (%s, ~7 commits each)" % mode, auto_n, elapsed, "servers/s"))
        elapsed, ipm = build(n, 1000, "bulk")
        rows.append(("build servers, 1000 per transaction", n, elapsed, "servers/s"))

        names = ["bulk-s%d" % i for i in range(0, n, 7)]
        start = time.perf_counter()
        for name in names:
            clusto.get_by_name(name)
        rows.append(("get_by_name round trip", len(names), time.perf_counter() - start, "lookups/s"))

        spare = BasicServer("spare")
        count = 2000
        start = time.perf_counter()
        for _ in range(count):
            spare.add_ip(ipman=ipm)
        rows.append(("IP allocation, autocommit (%s)" % mode, count, time.perf_counter() - start, "IP allocations/s"))
        problems = clusto.check()
        clusto.disconnect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| operation | count | seconds | rate | µs each | vs original clusto |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, count, seconds, unit in rows:
        rate = count / seconds
        ratio = "%.0f×" % (rate / ORIGINAL[unit]) if unit in ORIGINAL else "—"
        print("| %s | %d | %.2f | %.0f %s | %.1f | %s |" % (label, count, seconds, rate, unit, 1e6 / rate, ratio))
    print("\npeak RSS %.0f MiB; check: %s" % (peak, "clean" if not problems else problems[:3]))


if __name__ == "__main__":
    main()
