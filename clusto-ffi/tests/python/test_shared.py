"""One database, used at once by a Python script that stays connected and writes, `clusto`
commands in a shell, and a C program: every process reads whole commits only, no address
is given twice, every commit is in the history and the database checks clean.

CLUSTO_LIB names libclusto.so and CLUSTO_BIN the `clusto` binary (make test-c sets both).
It runs on LMDB, and on PostgreSQL when CLUSTO_TEST_POSTGRES_DSN names a server (make
test-c starts one): there the processes stand for many hosts.
"""

import os
import subprocess
import sys
import textwrap
import time

import pytest

LIB_PATH = os.environ.get("CLUSTO_LIB")
CLI = os.environ.get("CLUSTO_BIN")
pytestmark = pytest.mark.skipif(
    not (LIB_PATH and CLI), reason="CLUSTO_LIB and CLUSTO_BIN are not set (run through make test-c)"
)
HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS = 25

PYTHON_WRITER = textwrap.dedent(
    """
    import sys
    import clusto
    from clusto.drivers import BasicServer

    clusto.connect(sys.argv[1], wait=30)
    net = clusto.get_by_name("net")
    for i in range(int(sys.argv[2])):
        with clusto.transaction(user="py-worker", description="one ip"):
            BasicServer("py%d" % i).add_ip(ipman=net)
        print("done", i, flush=True)
    """
)


def cli(dsn, *args, check=True):
    out = subprocess.run([CLI, "--dsn", dsn, "--wait", "30", *args], capture_output=True, text=True)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


@pytest.fixture
def c_worker(tmp_path):
    include = os.path.join(HERE, "..", "..", "include")
    exe = tmp_path / "shared_worker"
    subprocess.run(
        [
            "gcc", "-std=c99", "-Wall", "-Werror", "-I", include,
            os.path.join(HERE, "..", "c", "shared_worker.c"),
            "-L", os.path.dirname(LIB_PATH), "-lclusto", "-Wl,-rpath," + os.path.dirname(LIB_PATH),
            "-o", str(exe),
        ],
        check=True,
    )
    return str(exe)


@pytest.fixture(params=["lmdb", "postgresql"])
def shared_dsn(request, tmp_path):
    if request.param == "lmdb":
        return str(tmp_path / "db")
    server = os.environ.get("CLUSTO_TEST_POSTGRES_DSN")
    if not server:
        pytest.fail("CLUSTO_TEST_POSTGRES_DSN is not set: run through make test-c")
    return "%s?schema=shared_%d_%d" % (server, os.getpid(), time.time_ns() % 10**9)


def test_python_cli_and_c_share_one_database(shared_dsn, c_worker):
    import clusto

    dsn = shared_dsn
    cli(dsn, "initdb")
    cli(dsn, "create", "ipmanager", "net", "--prop", "baseip=10.1.0.0", "--prop", "netmask=255.255.0.0")
    clusto.connect(dsn)
    start = clusto.get_latest_version_number()
    clusto.disconnect()

    python = subprocess.Popen([sys.executable, "-c", PYTHON_WRITER, dsn, str(ROUNDS)], stdout=subprocess.PIPE, text=True)
    c = subprocess.Popen([c_worker, dsn, str(ROUNDS)], stdout=subprocess.PIPE, text=True)
    for i in range(ROUNDS):
        cli(dsn, "create", "basicserver", "cli%d" % i)
        cli(dsn, "ip", "allocate", "cli%d" % i, "--manager", "net")
        # Readers while the others write: a torn read would break an index.
        assert cli(dsn, "check").returncode == 0
    python_out, _ = python.communicate(timeout=300)
    c_out, _ = c.communicate(timeout=300)
    assert python.returncode == 0 and c.returncode == 0, (python_out, c_out)
    assert python_out.count("done") == ROUNDS
    c_versions = [int(line.split()[1]) for line in c_out.splitlines() if line.startswith("ip ")]
    assert len(c_versions) == ROUNDS

    clusto.connect(dsn)
    try:
        assert clusto.check() == []
        total = ROUNDS * (1 + 1 + 2)  # Python and C: one commit each; the CLI: two
        assert clusto.get_latest_version_number() == start + total
        versions = [v["version"] for v in clusto.history(first=start + 1)]
        assert versions == list(range(start + 1, start + total + 1)), "consecutive, none lost"
        addresses = []
        for prefix in ("py", "c", "cli"):
            for i in range(ROUNDS):
                ips = clusto.get_by_name("%s%d" % (prefix, i)).get_ips()
                assert len(ips) == 1
                addresses += ips
        assert len(set(addresses)) == len(addresses) == 3 * ROUNDS, "no address given twice"
    finally:
        clusto.disconnect()


def test_bad_dsns_are_refused_by_name(tmp_path, c_worker):
    """An unknown scheme and a directory of other files: the same clear error from the
    CLI and from C (the core decides), and nothing is written."""
    (tmp_path / "notes.txt").write_text("mine")
    for dsn, says in (("ftp:///srv/db", "unknown scheme 'ftp'"), (str(tmp_path), "other files")):
        out = cli(dsn, "check", check=False)
        assert out.returncode == 3 and says in out.stderr, out.stderr
        c = subprocess.run([c_worker, dsn, "1"], capture_output=True, text=True)
        assert c.returncode == 1 and says in c.stderr, c.stderr
    assert sorted(os.listdir(tmp_path)) == ["notes.txt", "shared_worker"], "nothing was written"
