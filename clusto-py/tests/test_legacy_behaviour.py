"""Behaviour of the original clusto that legacy scripts and the original's own tests rely
on (issue 17, part 2), and the members it had that were missing."""

import ipaddress

import pytest

import clusto
from clusto.drivers import (
    BasicConsoleServer, BasicNetworkSwitch, BasicRack, BasicServer, ClustoMeta, Device, Driver, IPManager, Pool,
    ResourceManager,
)
from clusto.exceptions import (
    ConnectionException, DriverException, NameException, ResourceException, ResourceTypeException,
    SQLAlchemyAPIError,
)
from clusto.schema import SESSION, Attribute, Counter, Entity
from clusto.util import py2_sort_key

# --- versions ---------------------------------------------------------------------


def test_init_clusto_leaves_version_2_like_the_original(tmp_path):
    clusto.connect(str(tmp_path / "db"))
    try:
        assert clusto.get_latest_version_number() == 0
        clusto.init_clusto()
        assert clusto.get_latest_version_number() == 2
        assert clusto.get_by_name("clustometa").schemaversion == clusto.VERSION
        clusto.init_clusto()  # idempotent: no new version
        assert clusto.get_latest_version_number() == 2
        assert ClustoMeta() == clusto.get_by_name("clustometa")
    finally:
        clusto.disconnect()


# --- Entity -----------------------------------------------------------------------


def test_entity_constructs_and_persists_like_the_original(db):
    before = clusto.get_latest_version_number()
    e1 = Entity("e1")
    assert str(e1) == "e1"
    assert (e1.type, e1.driver) == ("entity", "entity")
    assert clusto.get_latest_version_number() == before + 1
    assert clusto.get_by_name("e1") == e1
    assert type(Driver(e1)) is Driver

    e1.add_attr("foo", 2)
    assert clusto.get_latest_version_number() == before + 2
    assert [(a.key, a.value) for a in e1.attrs] == [("foo", 2)]

    server = Entity("web01", driver="basicserver", type="server")
    wrapped = Driver(server)
    assert isinstance(wrapped, BasicServer)
    assert clusto.get_entities(clusto_types=["server"]) == [wrapped]
    legacy = Entity("old", driver="basicserver", clustotype="server")
    assert clusto.get_by_name("old").type == "server" and legacy.driver == "basicserver"

    e2 = Entity("e2")
    e2.add_attr("link", e1)
    assert [a.entity.name for a in e1.references] == ["e2"]
    e1.delete()
    with pytest.raises(LookupError):
        clusto.get_by_name("e1")
    assert Entity("e1").version == clusto.get_latest_version_number()


def test_entity_refuses_a_taken_name_and_bad_arguments_without_writing(db):
    Entity("e1")
    version = clusto.get_latest_version_number()
    with pytest.raises(NameException):
        Entity("e1")
    with pytest.raises(NameException):
        Entity("")
    with pytest.raises(TypeError):
        Entity(42)
    assert clusto.get_latest_version_number() == version
    assert [e.name for e in clusto.get_entities(names=["e1", ""])] == ["e1"]


def test_sqlalchemy_query_api_raises_a_clear_error(db):
    for call in (Entity.query, Attribute.query, Counter.query, lambda: SESSION.query(Entity)):
        with pytest.raises(SQLAlchemyAPIError) as info:
            call()
        assert "get_entities" in str(info.value) and "SQLAlchemy" in str(info.value)
    assert isinstance(info.value, NotImplementedError)


# --- drivers ----------------------------------------------------------------------


def test_driver_repr_is_the_originals(db):
    assert repr(BasicServer("web01")) == "BasicServer(name=web01, type=server, driver=basicserver)"
    assert repr(Pool("p")) == "Pool(name=p, type=pool, driver=pool)"


def test_drivers_order_by_name_and_after_none(db):
    a, b = BasicServer("a"), BasicServer("b")
    assert sorted([b, None, a]) == [None, a, b]
    with pytest.raises(TypeError):
        a < 3  # noqa: B015


def test_ensure_driver_expire_update_metadata(db):
    s = BasicServer("s1")
    assert Driver.ensure_driver(s) is s
    assert Driver.ensure_driver(s.entity) == s
    with pytest.raises(TypeError, match="nope"):
        Driver.ensure_driver("s1", "nope")
    s.set_attr("k", 1)
    version = clusto.get_latest_version_number()
    assert s.expire(key="k") is None and s.update_metadata() is None
    assert clusto.get_latest_version_number() == version
    assert s.attr_values("k") == [1]


def test_attr_filter_filters_lists_like_attrs(db):
    d = Driver("d1")
    d.add_attr("foo", "a")
    d.add_attr("foo", "b", number=3)
    d.add_attr("foo", "c", number=4, subkey="x")
    d.add_attr("_hidden", "h")
    target = BasicServer("t")
    d.add_attr("link", target)
    every = d.attrs(ignore_hidden=False)
    assert [a.value for a in Driver.attr_filter(every, key="foo", number=True)] == ["b", "c"]
    assert [a.value for a in Driver.attr_filter(every, key="foo", number=None)] == ["a"]
    assert [a.value for a in Driver.attr_filter(every, subkey="x")] == ["c"]
    assert [a.value for a in Driver.attr_filter(every, key="_hid.*", regex=True)] == ["h"]
    assert "_hidden" not in [a.key for a in Driver.attr_filter(every)]
    assert [a.value for a in Driver.attr_filter(every, clusto_types=["server"])] == [target]
    assert Driver.attr_filter(every, clusto_drivers=[Pool]) == []
    assert Driver.attr_filter(every, key="foo", number=3) == d.attrs("foo", number=3)
    with pytest.raises(TypeError):
        Driver.attr_filter(every, number="3")


def test_positional_attr_arguments_follow_the_originals_order(db):
    d = Driver("d1")
    d.add_attr("a", "v", 2, "s")  # key, value, number, subkey
    assert d.attr_items() == [(("a", 2, "s"), "v")]
    assert d.attrs("a", "v", 2) == d.attrs("a", value="v", number=2)
    p = Pool("p")
    p.insert(d)
    assert p.contents(d) == [d] and p.content_attrs(d)[0].value == d


def test_python2_ordering_of_listings(db):
    d = Driver("d1")
    d.add_attr("foo", "bar")
    d.add_attr("foo", "bar1", number=0)
    d.add_attr("foo", 7, number=1)
    # In Python 3 a plain sort of these would raise TypeError (None vs 0, int vs str).
    assert sorted(d.attr_items()) == [(("foo", None, None), "bar"), (("foo", 0, None), "bar1"),
                                      (("foo", 1, None), 7)]
    assert sorted(d.attr_key_tuples(), reverse=True)[-1] == ("foo", None, None)
    assert sorted([3, None, "a", 1.5, [1], (0,)], key=py2_sort_key) == [None, 1.5, 3, [1], "a", (0,)]


def test_members_for_devices_and_managers(db, capsys):
    sw = BasicNetworkSwitch("sw1", serialnum="SN1")
    BasicNetworkSwitch("sw2", serialnum="SN2")
    assert BasicNetworkSwitch.get_by_serial_number("SN1") == [sw]
    assert Device.get_by_serial_number("SN1") == [sw]
    assert BasicConsoleServer.get_by_serial_number("SN1") == []
    assert Device.get_by_serial_number("nothing") == []
    # BasicServer declares its own properties (model, manufacturer), as in the original:
    # a serialnum keyword is ignored like any unknown keyword.
    s = BasicServer("s1", serialnum="SN1")
    assert s.attrs() == []

    assert s.console() is None
    assert "No console connected to s1" in capsys.readouterr().err
    cs = BasicConsoleServer("cs1")
    s.connect_ports("console-serial", 1, cs, 5)
    with pytest.raises(NotImplementedError, match="cs1"):
        s.console()

    class SiteConsoleServer(BasicConsoleServer):
        """A console server driver of a site."""

        _driver_name = "test_siteconsoleserver"

        def connect(self, port, num, ssh_user="root"):
            """Records the call."""
            return (port, num, ssh_user)

    cs2 = SiteConsoleServer("cs2")
    s2 = BasicServer("s2")
    s2.connect_ports("console-serial", 1, cs2, 7)
    assert s2.console(ssh_user="ops") == ("console-serial", 7, "ops")


def test_post_allocation_hooks_run_after_commit(db):
    calls = []

    class HookedManager(ResourceManager):
        """A manager that records its hooks."""

        _driver_name = "test_hookedmanager"
        _attr_name = "hooked"

        def allocator(self, thing=None):
            """Always 'auto'."""
            return "auto"

        def post_automatic_allocation(self, thing, resource, number):
            """Records the call."""
            calls.append(("auto", thing.name, resource, clusto.get_latest_version_number()))

        def post_allocation(self, thing, resource, number):
            """Records the call."""
            calls.append(("post", thing.name, resource, number))

    m, s = HookedManager("m"), BasicServer("s")
    m.allocate(s, "given")
    m.allocate(s)
    latest = clusto.get_latest_version_number()
    assert calls == [("post", "s", "given", 0), ("auto", "s", "auto", latest), ("post", "s", "auto", 1)]


def test_ipmanager_ipy(db):
    ipman = IPManager("net", baseip="10.0.0.5", netmask="255.255.255.0")
    assert ipman.ipy == ipaddress.ip_network("10.0.0.0/24")
    assert ipaddress.ip_address("10.0.0.200") in ipman.ipy
    with pytest.raises(ResourceTypeException, match="no baseip"):
        IPManager("nobase").ipy


# --- racks ------------------------------------------------------------------------


def test_rack_lists_a_multi_unit_device_once(db):
    rack, big, small = BasicRack("r1"), BasicServer("big"), BasicServer("small")
    rack.insert(big, [1, 2, 3])
    rack.insert(small, 5)
    assert rack.contents() == [big, small]
    assert BasicRack.get_rack_and_u(big) == {"rack": rack, "RU": [1, 2, 3]}
    assert [a.number for a in rack.content_attrs(big, subkey="ru")] == [1, 2, 3]
    assert rack.get_device_in(2) == big and rack.get_device_in(4) is None


@pytest.mark.parametrize("thing,units", [
    ("pool", 3), ("name", 3), ("entity", 3),                    # only devices go in a rack
    ("server", "3"), ("server", 3.0), ("server", True), ("server", (3, "4")), ("server", [3, None]),
    ("server", []), ("server", {3: 1}),                         # units must be ints
    ("server", [7, 9]),                                         # not adjacent
    ("server", [1, 2]),                                         # unit 1 taken
    ("server", 46),                                             # past maxu
])
def test_rack_insert_refusals_are_type_errors_that_change_nothing(db, thing, units):
    rack = BasicRack("r1")
    rack.insert(BasicServer("first"), 1)
    things = {"pool": Pool("p"), "name": "s1", "entity": Entity("e"), "server": BasicServer("s1")}
    version = clusto.get_latest_version_number()
    with pytest.raises(TypeError):
        rack.insert(things[thing], units)
    assert clusto.get_latest_version_number() == version
    assert [d.name for d in rack.contents()] == ["first"]


def test_rack_units_of_a_driver_class_must_match(db):
    class TwoUServer(BasicServer):
        """A 2U server model of a site."""

        _driver_name = "test_twouserver"
        rack_units = 2

    rack, s = BasicRack("r1"), TwoUServer("s")
    with pytest.raises(TypeError, match="2U device"):
        rack.insert(s, 3)
    with pytest.raises(TypeError):
        rack.insert(s, [3, 4, 5])
    rack.insert(s, [3, 4])
    assert rack.contents() == [s]
    other = BasicServer("o")
    other.set_attr("rack_units", 1)
    with pytest.raises(TypeError):
        rack.insert(other, [10, 11])


def test_get_device_in_takes_a_single_int(db):
    rack = BasicRack("r1")
    for bad in ([1], "1", 1.0):
        with pytest.raises(TypeError):
            rack.get_device_in(bad)


# --- ports ------------------------------------------------------------------------


def test_connected_ports_has_every_port_type(db):
    s, sw = BasicServer("s1"), BasicNetworkSwitch("sw1")
    assert s.connected_ports == {"pwr-nema-5": [], "nic-eth": [], "console-serial": []}
    assert s.connected_ports["console-serial"] == []
    s.connect_ports("nic-eth", 2, sw, 10)
    s.connect_ports("nic-eth", 1, sw, 11)
    assert s.connected_ports["nic-eth"] == [1, 2]
    assert sw.connected_ports == {"pwr-nema-5": [], "nic-eth": [10, 11]}


def test_connect_ports_checks_port_numbers_first(db):
    s, sw = BasicServer("s1"), BasicNetworkSwitch("sw1")
    version = clusto.get_latest_version_number()
    with pytest.raises(TypeError):
        s.connect_ports("nic-eth", "1", Pool("p"), 1)  # before "has no ports"
    version = clusto.get_latest_version_number()
    with pytest.raises(TypeError):
        s.connect_ports("no-such-type", 1, sw, 0)       # before "no such port"
    with pytest.raises(TypeError):
        s.connect_ports("nic-eth", True, sw, 1)
    with pytest.raises(ConnectionException, match="has no ports"):
        s.connect_ports("nic-eth", 1, Pool("p2"), 1)
    version = clusto.get_latest_version_number()
    with pytest.raises(ConnectionException):
        s.connect_ports("nic-eth", 3, sw, 1)
    assert clusto.get_latest_version_number() == version
    assert s.port_free("nic-eth", 1) and sw.port_free("nic-eth", 1)


def test_port_attributes_behave_as_the_originals(db):
    s = BasicServer("s1")
    assert s.get_port_attr("nic-eth", 1, "mac") is None
    s.set_port_attr("nic-eth", 1, "mac", "aa")
    s.set_port_attr("nic-eth", 1, "mac", "bb")
    assert s.get_port_attr("nic-eth", 1, "mac") == "bb"
    assert s.attr_items("port-nic-eth") == [(("port-nic-eth", 1, "mac"), "bb")]
    s.add_port_attr("nic-eth", 1, "mac", "cc")
    with pytest.raises(ConnectionException):
        s.get_port_attr("nic-eth", 1, "mac")
    with pytest.raises(DriverException):
        s.set_port_attr("nic-eth", 1, "mac", "dd")
    s.del_port_attr("nic-eth", 1, "mac", "cc")
    assert s.get_port_attr("nic-eth", 1, "mac") == "bb"
    s.del_port_attr("nic-eth", 1, "mac")
    assert s.get_port_attr("nic-eth", 1, "mac") is None
    for bad in (("nic-eth", 3), ("no-such-type", 1)):
        with pytest.raises(ConnectionException):
            s.set_port_attr(bad[0], bad[1], "mac", "x")
        with pytest.raises(ConnectionException):
            s.del_port_attr(bad[0], bad[1], "mac", "x")
    with pytest.raises(TypeError):
        s.get_port_attr("nic-eth", 0, "mac")


# --- IPs --------------------------------------------------------------------------


def test_add_ip_outside_every_manager_is_a_resource_exception(db):
    IPManager("net", baseip="10.0.0.0", netmask="255.255.255.0")
    s = BasicServer("s1")
    version = clusto.get_latest_version_number()
    with pytest.raises(ResourceException, match="10.1.0.100") as info:
        s.add_ip("10.1.0.100")
    assert not isinstance(info.value, LookupError)
    assert clusto.get_latest_version_number() == version
    attr = s.add_ip("10.0.0.100")
    assert attr.key == "ip" and s.get_ips() == ["10.0.0.100"]
    IPManager("overlap", baseip="10.0.0.0", netmask="255.255.0.0")
    with pytest.raises(ResourceException, match="More than one"):
        s.add_ip("10.0.0.101")


def test_bind_ip_to_osport_takes_the_int_form_and_reuses_the_allocation(db):
    ipman = IPManager("net", baseip="10.0.0.0", netmask="255.255.255.0")
    s = BasicServer("s1")
    attr = ipman.allocate(s)
    assert isinstance(attr.value, int)
    count = len(s.attrs("ip"))
    s.bind_ip_to_osport(attr.value, "eth0", porttype="nic-eth", portnum=1)
    assert s.get_ips() == ["10.0.0.1"]
    assert len(s.attrs("ip")) == count + 1  # only the osportname attribute
    assert s.attr_value("ip", number=attr.number, subkey="osportname") == "eth0"
    assert s.get_port_attr("nic-eth", 1, "osportname") == "eth0"
    assert s.has_ip(attr.value) and s.has_ip("10.0.0.1")
    s.bind_ip_to_osport("10.0.0.1", "eth1")
    assert s.get_ips() == ["10.0.0.1"]
    assert s.attr_value("ip", number=attr.number, subkey="osportname") == "eth1"
    s.bind_ip_to_osport("10.0.0.9", "eth2")  # not held yet: allocated from the covering manager
    assert s.get_ips() == ["10.0.0.1", "10.0.0.9"]
    version = clusto.get_latest_version_number()
    for bad in (2 ** 40, 1.5, None):
        with pytest.raises(ResourceTypeException):
            s.bind_ip_to_osport(bad, "eth3")
    with pytest.raises(Exception, match="both"):
        s.bind_ip_to_osport("10.0.0.1", "eth3", porttype="nic-eth")
    assert clusto.get_latest_version_number() == version
