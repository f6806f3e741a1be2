import configparser

import pytest

import clusto
from clusto.drivers import BasicAppliance, BasicRack, BasicServer, Driver, Pool


def test_get_by_name_and_names(db):
    s = BasicServer("s1")
    assert clusto.get_by_name("s1") == s
    assert isinstance(clusto.get_by_name("s1"), BasicServer)
    with pytest.raises(LookupError, match="s1x does not exist"):
        clusto.get_by_name("s1x")
    with pytest.raises(TypeError):
        clusto.get_by_name("s1", assert_driver=Pool)
    assert clusto.get_by_names(["s1", "x", "s1"]) == [s, None, s]


def test_natively_made_drivers_are_what_driver_of_entity_makes(db):
    from clusto.schema import Entity

    pool = Pool("p1")
    members = [BasicServer("s1"), BasicAppliance("a1"), Driver(Entity("odd", driver="nosuchdriver", type="thing"))]
    for m in members:
        pool.insert(m)
    made_natively = pool.contents()
    assert [d.name for d in made_natively] == ["s1", "a1", "odd"]
    rows = [clusto.SESSION.db.find(d.name) for d in made_natively]
    for row, made in zip(rows, made_natively):
        expected = Driver(Entity(row))
        assert type(made) is type(expected)
        fields = ("entity_id", "name", "type", "driver", "version", "deleted_at_version")
        assert [getattr(made.entity, f) for f in fields] == [getattr(expected.entity, f) for f in fields]
        with pytest.raises(Exception):
            made.entity.name = "renamed"
    assert [type(m).__name__ for m in pool.contents()] == ["BasicServer", "BasicAppliance", "Driver"]


def test_natively_made_attributes_are_what_attribute_of_row_makes(db):
    from clusto.schema import Attribute

    s = BasicServer("s1")
    s.add_attr("system", "P1", subkey="serial")
    s.add_attr("port", 3, number=2)
    s.add_attr("peer", Pool("p1"))
    s.add_attr("empty", None)
    rows = clusto.SESSION.db.attrs(s.entity.id, clusto.drivers.base.make_filter(ignore_hidden=False))
    fields = ("attr_id", "entity_id", "key", "subkey", "number", "value", "version", "deleted_at_version")
    made = s.attrs(ignore_hidden=False)
    assert len(made) == len(rows) == 4
    by_id = {row.id: row for row in rows}
    for attr in made:
        assert type(attr) is Attribute
        assert [getattr(attr, f) for f in fields] == [getattr(Attribute(by_id[attr.attr_id]), f) for f in fields]
    assert s.attr_value("peer") == clusto.get_by_name("p1")
    with pytest.raises(Exception):
        made[0].key = "other"


def test_duplicate_names_and_constructors(db):
    BasicServer("s1")
    with pytest.raises(clusto.NameException):
        BasicServer("s1")
    with pytest.raises(TypeError):
        BasicServer(3)
    s = BasicServer("s2", model="DL380", nonsense="ignored")
    assert s.model == "DL380"
    assert Driver(s) is s
    assert type(Driver(s.entity)) is BasicServer


def test_properties(db):
    r = BasicRack("r1", maxu=42)
    assert (r.minu, r.maxu) == (1, 42)
    r.maxu = 47
    assert clusto.get_by_name("r1").maxu == 47
    with pytest.raises(AttributeError):
        r.colour


def test_identity(db):
    a, b = BasicServer("a"), BasicServer("b")
    assert sorted([b, a]) == [a, b]
    assert len({a, clusto.get_by_name("a")}) == 1
    assert str(a) == "a" and a == a.entity


def test_get_entities(db):
    s = BasicServer("s1")
    Pool("p1")
    s.add_attr("owner", "x")
    assert clusto.get_entities(clusto_types=["server"]) == [s]
    assert clusto.get_entities(clusto_drivers=[Pool])[0].name == "p1"
    found = clusto.get_entities(attrs=[{"key": "owner", "value": "x"}, {"key": "nope"}])
    assert found == [s]
    assert clusto.get_entities(names=["p1"], clusto_types=["server"]) == []


def test_serial_mac_ip_and_get(db):
    s = BasicServer("s1")
    s.add_attr("system", "P0123456789", subkey="serial")
    s.set_port_attr("nic-eth", 1, "mac", "00:11:22:33:44:55")
    ipm = clusto.drivers.IPManager("net", baseip="10.0.0.0", netmask="255.255.255.0")
    s.add_ip("10.0.0.9", ipm)
    assert clusto.get_by_serial("P0123456789") == [s]
    assert clusto.get_by_mac("00:11:22:33:44:55") == [s]
    assert clusto.get_by_ip("10.0.0.9") == [s]
    assert clusto.get("s1") == [s]
    assert clusto.get("P0123456789") == [s]
    assert clusto.get("10.0.0.9") == [s]
    assert clusto.get("00:11:22:33:44:55") == [s]
    assert clusto.get("nothing") is None
    with pytest.raises(ValueError):
        clusto.get(5)


def test_rename_delete_change_driver(db):
    s = BasicServer("web01")
    p = Pool("web")
    p.insert(s)
    s.add_attr("owner", "ops")
    clusto.rename("web01", "www01")
    renamed = clusto.get_by_name("www01")
    assert renamed.attr_values("owner") == ["ops"]
    assert renamed in p
    with pytest.raises(LookupError):
        clusto.get_by_name("web01")
    clusto.change_driver("www01", BasicAppliance)
    assert type(clusto.get_by_name("www01")) is BasicAppliance
    with pytest.raises(clusto.DriverException):
        clusto.change_driver("www01", int)
    clusto.delete_entity(clusto.get_by_name("www01"))
    assert p.contents() == []
    BasicServer("www01")


def test_driver_and_type_names(db):
    assert clusto.get_driver_name("basicserver") == "basicserver"
    assert clusto.get_driver_name(BasicServer) == "basicserver"
    assert clusto.get_type_name(BasicServer) == "server"
    with pytest.raises(NameError):
        clusto.get_driver_name("warp")
    with pytest.raises(LookupError):
        clusto.get_type_name(3)
    s = BasicServer("s1")
    assert clusto.get_driver(s.entity) is BasicServer
    assert clusto.DRIVERLIST["pool"] is Pool and Pool in clusto.TYPELIST["pool"]


def test_connect_forms(tmp_path):
    config = configparser.ConfigParser()
    config["clusto"] = {"dsn": str(tmp_path / "db"), "versioning": "true"}
    clusto.connect(config)
    clusto.init_clusto()
    clusto.disconnect()
    clusto.connect("sled://" + str(tmp_path / "db2"))
    clusto.disconnect()
    with pytest.raises(ValueError, match="clusto migrate"):
        clusto.connect("mysql://user@host/clusto")
    with pytest.raises(clusto.TransactionException, match="not connected"):
        clusto.get_by_name("x")


def test_init_is_idempotent(db):
    v = clusto.get_latest_version_number()
    clusto.init_clusto()
    assert clusto.get_latest_version_number() == v
    assert clusto.get_by_name("clustometa").schemaversion == 3


def test_adjacency_map(db):
    p = Pool("p")
    s = BasicServer("s")
    p.insert(s)
    (edge,) = clusto.adjacency_map()
    assert (edge.parent_name, edge.parent_type, edge.child_name, edge.child_type) == ("p", "pool", "s", "server")


def test_migrate_the_legacy_sample(tmp_path):
    import os
    import shutil

    sample = os.path.join(
        os.path.dirname(__file__), "..", "..", "clusto-migrate", "tests", "fixtures", "legacy", "sample-clusto.db"
    )
    copy = tmp_path / "sample.db"
    shutil.copy(sample, copy)
    clusto.connect(str(tmp_path / "db"))
    try:
        report = clusto.migrate("sqlite:///" + str(copy))
        assert (report["entities"], report["skipped"], report["problems"]) == (368, [], [])
        server = clusto.get_by_name("sjc1-www01")
        assert server.type == "server" and server.parents()
        assert type(clusto.get_by_name("acme-gpu01")) is clusto.drivers.Driver, "a site-local driver loads as generic"
        with clusto.at_version(6303):
            assert clusto.get_by_name("sjc1-web01")
    finally:
        clusto.disconnect()


def test_the_package_leaves_the_mysql_client_out(db):
    """The wheel links no MySQL client unless built with the feature mysql-migration: a
    MySQL source is refused by name (password hidden), before any connection."""
    with pytest.raises(clusto.exceptions.InvalidValueError) as refused:
        clusto.migrate("mysql://clusto:secret@127.0.0.1:1/clusto")
    message = str(refused.value)
    assert "cannot read MySQL sources" in message and "clusto migrate" in message
    assert "secret" not in message


def test_copy_moves_a_sled_database_to_lmdb(tmp_path):
    old, new = "sled://%s" % (tmp_path / "old"), "lmdb://%s" % (tmp_path / "new")
    clusto.connect(old)
    try:
        clusto.init_clusto()
        BasicServer("s1").add_attr("owner", "alice")
        clusto.rename("s1", "s2")
        latest = clusto.get_latest_version_number()
    finally:
        clusto.disconnect()
    clusto.copy(old, new)
    clusto.connect(str(tmp_path / "new"))
    try:
        assert clusto.get_latest_version_number() == latest
        assert clusto.get_by_name("s2").attr_value("owner") == "alice"
        with clusto.at_version(latest - 1):
            assert clusto.get_by_name("s1")
        assert clusto.check() == []
    finally:
        clusto.disconnect()
    with pytest.raises(clusto.ClustoException, match="not empty"):
        clusto.copy(old, new)


def test_bad_dsns_and_settings_are_refused_by_name(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    for dsn, says in (("ftp:///srv/db", "unknown scheme 'ftp'"), (str(tmp_path), "other files")):
        with pytest.raises(clusto.ClustoException, match=says):
            clusto.connect(dsn)
    with pytest.raises(clusto.ClustoException, match="durability 'sometimes'"):
        clusto.connect(str(tmp_path / "db"), durability="sometimes")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"], "nothing was written"


def test_a_driver_class_python_would_not_make_objects_of_is_refused_not_crashed_on(db):
    # Objects are allocated directly only where object.__new__ would do just that; a
    # class whose base makes its objects in its own __new__ (here a native class) once
    # got a zero-filled object and crashed the interpreter when it was freed.
    pool = Pool("p1")
    pool.insert(BasicServer("s1"))
    registry = clusto.drivers.DRIVERLIST
    saved = registry["basicserver"]
    try:
        registry["basicserver"] = clusto._clusto.EntityRow
        with pytest.raises(TypeError):
            pool.contents()

        class DictDriver(Driver, dict):
            pass

        registry["basicserver"] = DictDriver
        with pytest.raises(TypeError, match="not safe"):
            pool.contents()
        registry["basicserver"] = "not a class"
        with pytest.raises(TypeError, match="basicserver"):
            pool.contents()
    finally:
        registry["basicserver"] = saved
    assert [d.name for d in pool.contents()] == ["s1"]
