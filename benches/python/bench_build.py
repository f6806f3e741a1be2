#!/usr/bin/env python3
"""The classic workload through `import clusto`, next to the original clusto's figures.

Every step of issue 16's Python table, each call its own transaction (autocommit, as
legacy scripts run): create a server with three attributes, a pool and a rack slot;
get_by_name; `get_entities(attrs=[owner=X])` with 100 results; `pool.contents()` of a
1000-member pool; `parents()`; IP allocation; `set_attr`. Then the batched build (1000
servers per transaction, each also given an IP address).

The write steps also report the time spent in the storage's commits (`commit_stats`),
so a step's cost can be set against its durable commits.

Usage: bench_build.py [N] (default 10000). Prints a Markdown table.
CLUSTO_BENCH_DSN=postgresql://… runs it on that server (a schema of its own);
CLUSTO_BENCH_DURABILITY=grouped runs the autocommit steps with group commit.
"""

import os
import resource
import sys
import tempfile
import time

import clusto
from clusto.drivers import BasicRack, BasicServer, IPManager, Pool

# The original clusto on SQLite in memory, this machine kind, operations per second
# (issue 16). Its batched build managed 51.1 servers/s as well.
ORIGINAL = {
    "create": 51.1,
    "get_by_name": 5025.0,
    "attribute query": 533.0,
    "pool contents": 45.6,
    "parents": 316.9,
    "IP allocation": 35.5,
    "set_attr": 255.3,
    "batched build": 51.1,
}
POOLS = 10
OWNERS = 100
PER_RACK = 40


class Step:
    """One measured step: its count, wall time and the storage commits inside it."""

    def __init__(self, name, label, count):
        self.name, self.label, self.count = name, label, count

    def __enter__(self):
        self.commits0, self.commit_s0 = clusto.commit_stats()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        commits, commit_s = clusto.commit_stats()
        self.commits = commits - self.commits0
        self.commit_seconds = commit_s - self.commit_s0
        return False


def build(prefix, n, pools, racks, ipm=None, batch=None):
    """Creates servers prefix-s0.. with three attributes, a pool and a rack slot (and
    an IP address when `ipm` is given)."""
    out = []
    for i in range(n):
        if batch and i % batch == 0:
            clusto.begin_transaction()
        s = BasicServer("%s-s%d" % (prefix, i))
        s.add_attr("system", "P%010d" % i, subkey="serial")
        s.add_attr("cpucount", i % 64)
        s.add_attr("owner", "%s-team%d" % (prefix, i % OWNERS))
        pools[i % POOLS].insert(s)
        racks[i // PER_RACK].insert(s, i % PER_RACK + 1)
        if ipm is not None:
            s.add_ip(ipman=ipm)
        if batch and (i % batch == batch - 1 or i == n - 1):
            clusto.commit()
        out.append(s)
    return out


def containers(prefix, n):
    pools = [Pool("%s-pool%d" % (prefix, i)) for i in range(POOLS)]
    racks = [BasicRack("%s-rack%d" % (prefix, i)) for i in range((n + PER_RACK - 1) // PER_RACK)]
    return pools, racks


def run(n, durability):
    steps = []
    auto_n = min(n, 2000)
    pools, racks = containers("auto", n)
    # The rest of the 10k servers are made in batches, so the reads below run on a
    # database of the full size; the timed creates are the first `auto_n`.
    with Step("create", "create server + 3 attrs + pool + rack", auto_n) as step:
        servers = build("auto", auto_n, pools, racks)
    steps.append(step)
    if n > auto_n:
        clusto.begin_transaction()
        for i in range(auto_n, n):
            s = BasicServer("auto-s%d" % i)
            s.add_attr("system", "P%010d" % i, subkey="serial")
            s.add_attr("cpucount", i % 64)
            s.add_attr("owner", "auto-team%d" % (i % OWNERS))
            pools[i % POOLS].insert(s)
            racks[i // PER_RACK].insert(s, i % PER_RACK + 1)
            if i % 1000 == 999:
                clusto.commit()
                clusto.begin_transaction()
        clusto.commit()

    # The first pass of a process over a database maps its pages (the writer wrote them
    # with write(), not through the map); the second is the steady state.
    names = ["auto-s%d" % i for i in range(0, n, 7)]
    with Step("get_by_name", "get_by_name, first pass in this process", len(names)) as step:
        for name in names:
            clusto.get_by_name(name)
    steps.append(step)
    with Step("get_by_name", "get_by_name, the same names again", len(names)) as step:
        for name in names:
            clusto.get_by_name(name)
    steps.append(step)

    queries = 200
    with Step("attribute query", "get_entities(attrs=[owner=X]), %d results" % (n // OWNERS), queries) as step:
        for q in range(queries):
            found = clusto.get_entities(attrs=[{"key": "owner", "value": "auto-team%d" % (q % OWNERS)}])
    assert len(found) == n // OWNERS, len(found)
    steps.append(step)

    rounds = 20
    with Step("pool contents", "pool.contents(), %d members" % (n // POOLS), rounds) as step:
        for r in range(rounds):
            members = pools[r % POOLS].contents()
    assert len(members) == n // POOLS, len(members)
    steps.append(step)

    sample = servers[:: max(1, len(servers) // 1000)]
    with Step("parents", "parents() of a server", len(sample)) as step:
        for s in sample:
            found = s.parents()
    assert len(found) == 2, found
    steps.append(step)

    ipm = IPManager("auto-net", baseip="10.1.0.0", netmask="255.255.0.0")
    with Step("IP allocation", "IP allocation (add_ip)", len(sample)) as step:
        for s in sample:
            s.add_ip(ipman=ipm)
    steps.append(step)

    with Step("set_attr", "set_attr", len(sample)) as step:
        for i, s in enumerate(sample):
            s.set_attr("owner", "moved%d" % i)
    steps.append(step)

    bulk_pools, bulk_racks = containers("bulk", n)
    bulk_ipm = IPManager("bulk-net", baseip="10.2.0.0", netmask="255.255.0.0")
    with Step("batched build", "batched build: 1000 servers per transaction, with IP", n) as step:
        build("bulk", n, bulk_pools, bulk_racks, bulk_ipm, batch=1000)
    steps.append(step)
    return steps


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    server = os.environ.get("CLUSTO_BENCH_DSN")
    durability = os.environ.get("CLUSTO_BENCH_DURABILITY")
    with tempfile.TemporaryDirectory() as tmp:
        dsn = "%s?schema=pybench_%d" % (server, os.getpid()) if server else os.path.join(tmp, "db")
        clusto.connect(dsn, create=True, durability=durability)
        clusto.init_clusto()
        steps = run(n, durability)
        problems = clusto.check()
        clusto.disconnect()
        connects = []
        for _ in range(20):
            start = time.perf_counter()
            clusto.connect(dsn, durability=durability)
            connects.append(time.perf_counter() - start)
            clusto.get_by_name("auto-s1")
            clusto.disconnect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mode = durability or "immediate"
    print("%d servers, %s, durability %s\n" % (n, "PostgreSQL" if server else "LMDB", mode))
    print("| step | count | µs each | ops/s | vs original | commits | µs in commits each | "
          "time / commit time |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for s in steps:
        rate = s.count / s.seconds
        in_commits = "%.1f" % (s.commit_seconds * 1e6 / s.count) if s.commits else "—"
        over = "%.2f" % (s.seconds / s.commit_seconds) if s.commits else "—"
        print("| %s | %d | %.1f | %.0f | %.0f× | %d | %s | %s |" % (
            s.label, s.count, s.seconds * 1e6 / s.count, rate, rate / ORIGINAL[s.name], s.commits,
            in_commits, over))
    connects.sort()
    print("\nconnect() to the database: median %.2f ms, max %.2f ms (20 runs)" % (
        connects[len(connects) // 2] * 1e3, connects[-1] * 1e3))
    print("peak RSS %.0f MiB; check: %s" % (peak, "clean" if not problems else problems[:3]))


if __name__ == "__main__":
    main()
