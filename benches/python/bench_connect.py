#!/usr/bin/env python3
"""`clusto.connect()` on an existing database, each time in a fresh process.

Issue 16's start-up target: a Python `connect()` on a 1M-entity database in ≤ 5 ms
median. Each run starts a new interpreter (so nothing of the database is mapped or
cached in the process), imports clusto, then times `connect()` alone and the first
`get_by_name` after it.

Usage: bench_connect.py DB NAME [RUNS] (default 20 runs). Prints a Markdown table row.
"""

import subprocess
import sys

ONE_RUN = """
import time, clusto
start = time.perf_counter()
clusto.connect(%r)
connected = time.perf_counter()
clusto.get_by_name(%r)
print(connected - start, time.perf_counter() - connected)
"""


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: bench_connect.py DB NAME [RUNS]")
    db, name = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    connects, first_reads = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", ONE_RUN % (db, name)],
                             check=True, capture_output=True, text=True).stdout.split()
        connects.append(float(out[0]) * 1e3)
        first_reads.append(float(out[1]) * 1e3)
    connects.sort()
    first_reads.sort()
    print("| database | runs | connect() median ms | max ms | first get_by_name median ms |")
    print("|---|---:|---:|---:|---:|")
    print("| %s | %d | %.2f | %.2f | %.2f |" % (
        db, runs, connects[runs // 2], connects[-1], first_reads[runs // 2]))


if __name__ == "__main__":
    main()
