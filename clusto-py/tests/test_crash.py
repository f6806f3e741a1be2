"""Crash safety through Python: a child interpreter commits transactions through
``import clusto`` and reports each; it is killed with SIGKILL at random moments; after
each kill the database is reopened and checked: ``check()`` clean, every acknowledged
commit present, no partial transaction.

Rounds: ``CLUSTO_PY_CRASH_ROUNDS`` (default 5; ``make test-slow`` runs hundreds).
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import clusto
from clusto.drivers import BasicServer, Pool

WRITER = textwrap.dedent(
    """
    import sys
    import clusto
    from clusto.drivers import BasicServer, Pool

    clusto.connect(sys.argv[1], lock_wait=20.0)
    pool = clusto.get_or_create("tally", "pool")
    n = pool.attr_value("count", default=0)
    while True:
        n += 1
        with clusto.transaction(user="crash", description="step %d" % n):
            server = BasicServer("e%d" % n)
            for key in ("a", "b", "c"):
                server.add_attr(key, n)
            pool.insert(server)
            if n > 3:
                clusto.delete_entity(clusto.get_by_name("e%d" % (n - 3)))
            pool.set_attr("count", n)
        print("committed %d" % n, flush=True)
    """
)


def verify(path, acknowledged):
    clusto.connect(str(path), lock_wait=20.0)
    try:
        assert clusto.check() == [], "check() after the crash"
        pool = clusto.get_by_name("tally")
        n = pool.attr_value("count")
        assert n >= acknowledged, "commit %d acknowledged, tally %d" % (acknowledged, n)
        members = sorted(m.name for m in pool.contents())
        assert members == sorted("e%d" % j for j in range(max(1, n - 2), n + 1)), (n, members)
        for name in members:
            server = clusto.get_by_name(name)
            assert isinstance(server, BasicServer)
            j = int(name[1:])
            assert [a.value for a in server.attrs()] == [j, j, j], name
        return n
    finally:
        clusto.disconnect()


def test_survives_sigkill_through_python(tmp_path):
    rounds = int(os.environ.get("CLUSTO_PY_CRASH_ROUNDS", "5"))
    path = tmp_path / "db"
    clusto.connect(str(path))
    clusto.init_clusto()
    Pool("tally")
    clusto.disconnect()
    acknowledged = 0
    for round_ in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        first = child.stdout.readline()
        assert first.startswith("committed "), "the writer commits: %r" % first
        acknowledged = max(acknowledged, int(first.split()[1]))
        time.sleep(random.uniform(0.001, 0.15))
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
        for line in rest.splitlines():
            if line.startswith("committed "):
                acknowledged = max(acknowledged, int(line.split()[1]))
        n = verify(path, acknowledged)
        print("round %d: %d acknowledged, tally %d" % (round_, acknowledged, n))
    assert acknowledged >= rounds
