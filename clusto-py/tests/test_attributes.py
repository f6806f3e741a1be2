import datetime

import pytest

import clusto
from clusto.drivers import BasicServer, Driver, Pool


def test_typed_values_round_trip(db):
    s = BasicServer("s1")
    when = datetime.datetime(2012, 3, 4, 5, 6, 7, 8)
    s.add_attr("i", 42)
    s.add_attr("b", True)
    s.add_attr("t", "東京")
    s.add_attr("n", None)
    s.add_attr("f", 1.5)
    s.add_attr("d", when)
    s.add_attr("j", {"a": [1, None, False]})
    s.add_attr("r", s)
    got = {a.key: (a.datatype, a.value) for a in s.attrs()}
    assert got["i"] == ("int", 42)
    assert got["b"] == ("int", 1)
    assert got["t"] == ("string", "東京")
    assert got["n"] == ("string", None)
    assert got["f"] == ("string", "1.5")
    assert got["d"] == ("datetime", when)
    assert got["j"] == ("json", {"a": [1, None, False]})
    assert got["r"] == ("relation", s)
    with pytest.raises(ValueError):
        s.add_attr("big", 2**63)


def test_attribute_objects(db):
    s = BasicServer("s1")
    a = s.add_attr("port", 1, number=3, subkey="x")
    assert a.keytuple == ("port", 3, "x")
    assert a.to_tuple == ("port", 3, "x", 1)
    assert not a.is_relation
    assert a.entity == s.entity
    with pytest.raises(Exception, match="Not Writable"):
        a.key = "other"
    b = s.add_attr("port", 1, number=4, subkey="x")
    assert a == b, "equality ignores the number"


def test_filters(db):
    s = BasicServer("s1")
    s.add_attr("system", "P0000000001", subkey="serial")
    s.add_attr("system", 8, subkey="cpucount")
    s.add_attr("_hidden", "x")
    s.add_attr("fqdn", "a", number=True)
    s.add_attr("fqdn", "b", number=True)
    assert len(s.attrs()) == 4
    assert len(s.attrs(ignore_hidden=False)) == 5
    assert s.attr_values("_hidden") == ["x"]
    assert s.attr_values("system", subkey="cpucount") == [8]
    assert s.attr_values("fqdn", number=1) == ["b"]
    assert len(s.attrs(number=True)) == 2
    assert len(s.attrs("system", number=None)) == 2
    assert s.attr_values(key="sys", regex=True, subkey="ser") == ["P0000000001"]
    assert s.attr_query(key="sys*", glob=True, count=True) == 2
    assert s.attr_query(key="fqdn", value="a")[0].number == 0
    assert s.attr_items("system", subkey="serial") == [(("system", None, "serial"), "P0000000001")]
    assert s.has_attr("fqdn") and not s.has_attr("nope")
    with pytest.raises(clusto.DriverException):
        s.attr_value("fqdn")
    assert s.attr_value("missing", default=7) == 7


def test_set_attr_and_del_attrs(db):
    s = BasicServer("s1")
    s.set_attr("owner", "a")
    v = clusto.get_latest_version_number()
    s.set_attr("owner", "a")
    assert clusto.get_latest_version_number() == v, "the same value is no change"
    s.set_attr("owner", "b")
    assert clusto.get_latest_version_number() == v + 1
    assert s.attr_values("owner") == ["b"]
    s.add_attr("tag", 1)
    s.add_attr("tag", 2)
    with pytest.raises(clusto.DriverException):
        s.set_attr("tag", 3)
    s.add_attr("_keep", 1)
    s.del_attrs()
    assert s.attrs() == []
    assert s.attr_values("_keep") == [1]


def test_bad_keys(db):
    s = BasicServer("s1")
    with pytest.raises(clusto.NameException):
        s.add_attr("9bad", 1)
    with pytest.raises(clusto.NameException):
        s.set_attr("ok", 1, subkey="not ok")


def test_references_and_get_by_attr(db):
    a, b = BasicServer("a"), BasicServer("b")
    p = Pool("p")
    a.add_attr("peer", b)
    p.insert(b)
    assert {x.entity.name for x in b.references()} == {"a", "p"}
    assert b.referencers(clusto_types=["pool"]) == [p]
    a.add_attr("owner", "ops")
    b.add_attr("owner", "ops")
    assert sorted(d.name for d in clusto.get_by_attr("owner", "ops")) == ["a", "b"]
    assert Driver.get_by_attr("owner", "ops") == clusto.get_by_attr("owner", "ops")
    assert Pool.get_by_attr("owner", "ops") == [], "a subclass only returns its own kind"


def test_counters(db):
    s = BasicServer("s1")
    c = clusto.Counter.get(s, "x", default=10)
    assert c.value == 10
    assert c.next() == 11
    assert [(k.attr_key, k.value) for k in s.entity.counters] == [("x", 11)]
    c.delete()
    assert s.entity.counters == []
    s.add_attr("n", "a", number=True)
    s.del_attrs("n")
    assert s.add_attr("n", "b", number=True).number == 1, "auto numbers never go back"


def test_fqdns_come_from_the_core_and_are_added_once(db):
    import threading

    s = BasicServer("s1")
    s.hostname = "web-1"
    assert s.hostname == "web-1"
    before = clusto.get_latest_version_number()

    def add(name):
        for _ in range(20):
            s.add_fqdn(name)

    threads = [threading.Thread(target=add, args=("s1.example.com",)) for _ in range(4)]
    threads += [threading.Thread(target=add, args=("s1.example.net",))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.fqdns == ["s1.example.com", "s1.example.net"], "each once, in order"
    assert clusto.get_latest_version_number() == before + 2, "a present name makes no version"
    s.remove_fqdn("s1.example.com")
    assert s.fqdns == ["s1.example.net"]
