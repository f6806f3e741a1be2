import subprocess
import sys

import pytest

import clusto
from clusto.drivers import BasicServer, Driver, ResourceManager
from clusto.exceptions import (
    ClustoException, DriverException, PoolException, ResourceException, ResourceNotAvailableException,
    ResourceTypeException, SimpleNameManagerException, SimpleNumManagerException, TransactionException,
)


def test_exception_hierarchy():
    for cls in (DriverException, PoolException, ResourceException, TransactionException, clusto.NameException,
                clusto.ConnectionException):
        assert issubclass(cls, ClustoException)
    for cls in (ResourceNotAvailableException, ResourceTypeException, SimpleNameManagerException,
                SimpleNumManagerException):
        assert issubclass(cls, ResourceException)
    assert issubclass(clusto.NotFoundError, LookupError)


class GpuServer(BasicServer):
    _driver_name = "test-gpuserver"
    _properties = {"gpus": 8}
    _portmeta = {"nic-eth": {"numports": 4}, "pwr-nema-5": {"numports": 2}}

    def describe(self):
        return "%s with %d GPUs" % (self.name, self.gpus)


def test_custom_driver_subclass(db):
    g = GpuServer("g1")
    assert clusto.DRIVERLIST["test-gpuserver"] is GpuServer
    assert g.type == "server" and g.driver == "test-gpuserver"
    found = clusto.get_by_name("g1")
    assert type(found) is GpuServer and found.describe() == "g1 with 8 GPUs"
    assert found.port_exists("nic-eth", 4)
    g.gpus = 4
    assert clusto.get_by_name("g1").gpus == 4
    assert GpuServer.get_by_attr("gpus", 4, subkey="property") == [g]


class CachingServer(BasicServer):
    """A driver with an __init__ of its own, which runs however the object is made."""

    _driver_name = "test-cachingserver"

    def __init__(self, name_or_entity=None, **kwargs):
        super().__init__(name_or_entity, **kwargs)
        object.__setattr__(self, "_seen", getattr(self, "_seen", 0) + 1)


def test_a_custom_drivers_own_init_runs_for_every_object(db):
    made = CachingServer("c1")
    assert made._seen == 1
    pool = clusto.drivers.Pool("p1")
    pool.insert(made)
    assert clusto.get_by_name("c1")._seen == 1
    assert [m._seen for m in pool.contents()] == [1]
    assert [e._seen for e in clusto.get_entities(clusto_drivers=[CachingServer])] == [1]
    assert clusto.get_by_name("p1")._entity is not None
    assert not hasattr(clusto.get_by_name("p1"), "_seen"), "a driver without one runs none"


def test_duplicate_driver_name_raises():
    with pytest.raises(KeyError):
        class Again(Driver):
            _driver_name = "basicserver"


def test_unknown_driver_loads_as_generic(db):
    clusto.SESSION.db.create("entity", "plain", [])
    clusto.change_driver("plain", BasicServer)
    clusto.SESSION.db.change_driver("plain", "server", "acmeserver")
    d = clusto.get_by_name("plain")
    assert type(d) is Driver and d.driver == "acmeserver"


def test_a_second_process_works_beside_this_one(db):
    """Two connected processes: the second reads and writes; while this one holds a
    transaction, the second's write waits ``wait`` seconds, then raises LockedException."""
    code = (
        "import clusto, sys\n"
        "from clusto.drivers import BasicServer\n"
        "clusto.connect(sys.argv[1], wait=float(sys.argv[2]))\n"
        "print('sees', [e.name for e in clusto.get_entities(clusto_types=['server'])])\n"
        "try:\n"
        "    BasicServer(sys.argv[3])\n"
        "    print('wrote')\n"
        "except clusto.LockedException as e:\n"
        "    print('locked:', e)\n"
    )

    def other(wait, name):
        return subprocess.run(
            [sys.executable, "-c", code, str(db), str(wait), name], capture_output=True, text=True, timeout=60
        )

    BasicServer("here")
    out = other(5, "there")
    assert "sees ['here']" in out.stdout and "wrote" in out.stdout, out.stdout + out.stderr
    assert clusto.get_by_name("there")
    clusto.begin_transaction()
    try:
        BasicServer("held")
        out = other(0.3, "blocked")
        assert "sees ['here', 'there']" in out.stdout, out.stdout + out.stderr
        assert "locked:" in out.stdout and str(db) in out.stdout, out.stdout + out.stderr
    finally:
        clusto.rollback_transaction()
    out = other(5, "after")
    assert "wrote" in out.stdout, out.stdout + out.stderr


def test_resource_manager_classmethods(db):
    class Tickets(ResourceManager):
        _driver_name = "test-tickets"
        _attr_name = "ticket"

    t = Tickets("t")
    s = BasicServer("s")
    t.allocate(s, "T-1")
    assert [a.key for a in Tickets.resources(s)] == ["ticket"]
    assert [a.value for a in ResourceManager.resources(s)] == ["T-1"]


def test_an_operating_system_failure_carries_its_errno(tmp_path):
    """A StorageIOError is an OSError whose errno says what the system refused, so a
    script can tell a server that is down from a path it may not use."""
    import errno

    with pytest.raises(clusto.exceptions.StorageIOError) as refused:
        clusto.connect("postgresql://nobody:secret@127.0.0.1:1/nothing")
    assert refused.value.errno == errno.ECONNREFUSED
    assert isinstance(refused.value, OSError) and "secret" not in str(refused.value)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(clusto.exceptions.StorageIOError) as not_a_dir:
        clusto.connect(str(blocker / "db"))
    assert not_a_dir.value.errno == errno.ENOTDIR
    assert str(blocker) in str(not_a_dir.value)
