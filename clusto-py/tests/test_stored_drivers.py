"""A driver class defined in Python is stored in the database with the first entity made
with it, so the CLI (another process, which never saw the class) gives that entity the
same ports and rules."""

import json
import pathlib
import subprocess

import pytest

import clusto
from clusto.drivers import BasicServer
from clusto.drivers.categories.pool import ExclusivePool

CLI = pathlib.Path(__file__).resolve().parents[2] / "target" / "debug" / "clusto"


class StoredTestServer(BasicServer):
    """A site's server model with four NICs."""

    _driver_name = "storedtestserver"
    _clusto_type = "server"
    _portmeta = {"nic-eth": {"numports": 4}, "pwr-nema-5": {"numports": 2}}


class StoredTestPool(ExclusivePool):
    """A site's exclusive pool."""

    _driver_name = "storedtestpool"
    _clusto_type = "pool"


def _cli(db, *args):
    out = subprocess.run([str(CLI), "--dsn", str(db), *args, "--format", "json"],
                         capture_output=True, text=True)
    return out.returncode, out.stdout, out.stderr


@pytest.mark.skipif(not CLI.exists(), reason="the clusto CLI is not built: cargo build -p clusto-cli")
def test_a_python_driver_behaves_the_same_in_the_cli(db):
    before = clusto.get_latest_version_number()
    s = StoredTestServer("web01")
    assert clusto.get_latest_version_number() == before + 1, "stored in the entity's own version"
    pool = StoredTestPool("only")
    pool.insert(s)
    clusto.drivers.Pool("other")

    code, out, err = _cli(db, "info", "web01")
    assert code == 0, err
    assert json.loads(out)[0]["driver"] == "storedtestserver"
    code, out, err = _cli(db, "port", "show", "web01")
    assert code == 0, err
    ports = [(p["type"], p["number"]) for p in json.loads(out)]
    assert ports == [("nic-eth", n) for n in range(1, 5)] + [("pwr-nema-5", 1), ("pwr-nema-5", 2)], ports

    # The exclusive pool's rule holds in the CLI too: web01 may join no other pool.
    code, out, err = _cli(db, "pool", "insert", "other", "web01")
    assert code == 3, (out, err)
    assert [p.name for p in s.parents()] == ["only"]

    # Stored once: a second entity of the driver adds no specification.
    StoredTestServer("web02")
    stored = clusto.get_by_name("clustometa").attrs(key="_driver", ignore_hidden=False)
    assert sorted(a.subkey for a in stored) == ["storedtestpool", "storedtestserver"]
