import pytest

import clusto
from clusto.drivers import (
    BasicCage, BasicDatacenter, BasicRack, BasicServer, BasicZone, Driver, ExclusivePool, Pool, UniquePool,
)


def test_pools(db):
    web, db_pool = Pool("web"), Pool("db")
    s1, s2 = BasicServer("s1"), BasicServer("s2")
    web.insert(s1)
    web.insert(s2)
    db_pool.insert(s1)
    assert web.contents() == [s1, s2]
    assert list(web) == [s1, s2]
    assert s1 in web and web.is_parent(s1)
    assert [a.number for a in web.content_attrs()] == [0, 1]
    with pytest.raises(clusto.PoolException):
        web.insert(s1)
    assert s2.siblings() == [s1]
    assert s1.siblings() == [], "s1 is alone in db"
    assert Pool.get_pools(s1) == [web, db_pool]
    web.remove(s2)
    assert web.contents() == [s1]


def test_exclusive_and_unique(db):
    spares, web = ExclusivePool("spares"), Pool("web")
    prod, dev = UniquePool("env-prod"), UniquePool("env-dev")
    s1, s2 = BasicServer("s1"), BasicServer("s2")
    spares.insert(s1)
    with pytest.raises(clusto.PoolException):
        web.insert(s1)
    web.insert(s2)
    with pytest.raises(clusto.PoolException):
        spares.insert(s2)
    prod.insert(s2)
    with pytest.raises(clusto.PoolException):
        dev.insert(s2)


def test_generic_and_location_rules(db):
    dc1, dc2, zone = BasicDatacenter("dc1"), BasicDatacenter("dc2"), BasicZone("z")
    rack = BasicRack("r1")
    dc1.insert(rack)
    with pytest.raises(TypeError):
        dc2.insert(rack)
    zone.insert(rack)
    box, other, thing = Driver("box"), Driver("other"), Driver("thing")
    box.insert(thing)
    with pytest.raises(TypeError):
        other.insert(thing)
    with pytest.raises(TypeError):
        box.insert("not a driver")


def test_cycles_refused(db):
    a, b = Pool("a"), Pool("b")
    a.insert(b)
    with pytest.raises(ValueError, match="contain itself"):
        b.insert(a)


def test_nested_pools_and_get_from_pools(db):
    services, frontend, web = Pool("services"), Pool("frontend"), Pool("web")
    prod = Pool("prod")
    services.insert(frontend)
    frontend.insert(web)
    w1, w2 = BasicServer("w1"), BasicServer("w2")
    web.insert(w1)
    web.insert(w2)
    prod.insert(w1)
    assert services.contents(search_children=True) == [frontend, web, w1, w2]
    assert services.contents(search_children=True, clusto_types=["server"]) == [w1, w2]
    assert w1.parents(search_parents=True) == [web, frontend, services, prod]
    assert w1.parents(clusto_types=[Pool]) == [web, prod]
    assert clusto.get_from_pools(["services", prod]) == {w1}
    assert clusto.get_from_pools([web], clusto_types=["server"]) == {w1, w2}
    with pytest.raises(TypeError):
        clusto.get_from_pools(["w1"])
    with pytest.raises(TypeError):
        clusto.get_from_pools([3])
    with pytest.raises(LookupError):
        clusto.get_from_pools(["nope"])
    assert clusto.get_from_entities(["web", prod]) == {w1}


def test_merge_container_attrs(db):
    dc = BasicDatacenter("dc")
    cage = BasicCage("cage")
    dc.insert(cage)
    rack = BasicRack("r")
    cage.insert(rack)
    s = BasicServer("s")
    rack.insert(s, 3)
    dc.add_attr("ntp", "10.0.0.1")
    assert s.attr_values("ntp", merge_container_attrs=True) == ["10.0.0.1"]
    assert s.attr_value("ntp", merge_container_attrs=True) == "10.0.0.1"
    assert s.attr_values("ntp") == []
