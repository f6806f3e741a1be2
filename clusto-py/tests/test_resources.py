import pytest

import clusto
from clusto.drivers import (
    BasicServer, IPManager, ResourceManager, SimpleEntityNameManager, SimpleNameManager,
)
from clusto.drivers.resourcemanagers.simplenummanager import SimpleNumManager


def test_ip_manager(db):
    ipm = IPManager("prod", baseip="10.20.0.0", netmask="255.255.254.0", gateway="10.20.0.1")
    s = BasicServer("s1")
    s.add_ip(ipman=ipm)
    s.add_ip(ipman=ipm)
    assert s.get_ips() == ["10.20.0.2", "10.20.0.3"]
    attrs = s.attrs("ip", number=0)
    assert [(a.subkey, a.value) for a in attrs if a.subkey != "manager"] == [
        (None, -1978400766), ("ipstring", "10.20.0.2"), ("cidr", "10.20.0.2/23")]
    assert s.attr_value("ip", number=0, subkey="manager") == ipm
    assert IPManager.get_devices("10.20.0.3") == [s]
    assert IPManager.get_ip_manager("10.20.1.9") == ipm
    with pytest.raises(clusto.ResourceException):
        IPManager.get_ip_manager("192.168.0.1")
    assert s.has_ip("10.20.0.2")
    with pytest.raises(clusto.ResourceTypeException):
        s.add_ip("10.30.0.1", ipm)
    with pytest.raises(clusto.ResourceNotAvailableException):
        BasicServer("s2").add_ip("10.20.0.2", ipm)
    with pytest.raises(clusto.ResourceException):
        s.add_ip()
    assert ipm.count == 2
    ipm.deallocate(s, "10.20.0.2")
    assert s.get_ips() == ["10.20.0.3"]
    with pytest.raises(clusto.ResourceException):
        ipm.deallocate(BasicServer("s3"), "10.20.0.3")
    assert [a.value for a in IPManager.resources(s)] == [-1978400765]


def test_ip_exhaustion_and_reuse(db):
    ipm = IPManager("tiny", baseip="192.168.0.0", netmask="255.255.255.252")
    s = BasicServer("s1")
    s.add_ip(ipman=ipm)
    s.add_ip(ipman=ipm)
    with pytest.raises(clusto.ResourceNotAvailableException):
        s.add_ip(ipman=ipm)
    ipm.deallocate(s, "192.168.0.1")
    s.add_ip(ipman=ipm)
    assert sorted(s.get_ips()) == ["192.168.0.1", "192.168.0.2"]


def test_bind_ip_to_osport(db):
    ipm = IPManager("net", baseip="10.0.0.0", netmask="255.255.255.0")
    s = BasicServer("s1")
    s.bind_ip_to_osport("10.0.0.5", "eth0", ipman=ipm, porttype="nic-eth", portnum=1)
    assert s.get_port_attr("nic-eth", 1, "osportname") == "eth0"
    assert s.attr_values("ip", subkey="osportname") == ["eth0"]
    with pytest.raises(Exception):
        s.bind_ip_to_osport("10.0.0.5", "eth0", porttype="nic-eth")


def test_name_managers(db):
    names = SimpleNameManager("names", basename="web", digits=2, next=98)
    s = BasicServer("s1")
    assert names.allocate(s).value == "web98"
    assert names.allocate(s).value == "web99"
    with pytest.raises(clusto.SimpleNameManagerException):
        names.allocate(s)
    assert s.attr_values("simplename", subkey=None) == ["web98", "web99"]
    ents = SimpleEntityNameManager("servers", basename="s", digits=3)
    made = ents.allocate(BasicServer)
    assert made.name == "s001" and isinstance(made, BasicServer)
    assert ents.allocate(BasicServer, "custom").name == "custom"
    with pytest.raises(TypeError):
        ents.allocate("basicserver")
    with pytest.raises(Exception):
        ents.deallocate(made)


def test_num_manager(db):
    vlans = SimpleNumManager("vlans", maxnum=4, next=3)
    s = BasicServer("s1")
    assert vlans.allocate(s).value == 3
    assert vlans.allocate(s).value == 4
    with pytest.raises(clusto.SimpleNumManagerException):
        vlans.allocate(s)


def test_base_resource_manager(db):
    rm = ResourceManager("licenses")
    s = BasicServer("s1")
    with pytest.raises(clusto.ResourceException):
        rm.allocate(s)
    a = rm.allocate(s, "RHEL-1")
    assert a.value == "RHEL-1" and a.number == 0
    assert not rm.available("RHEL-1") and rm.owners("RHEL-1") == [s]
    rm.allocate(rm, "RHEL-2")
    assert rm.owners("RHEL-2") == [rm], "a manager reserves by allocating to itself"
    rm.add_resource_attr(s, "RHEL-1", "seats", 4)
    assert rm.get_resource_attr_values(s, "RHEL-1", "seats") == [4]
    assert ResourceManager.get_resource_manager(a) == rm
    rm.deallocate(s)
    assert rm.available("RHEL-1")
    with pytest.raises(TypeError):
        rm.allocate("s1", "x")


def test_python_allocator_override(db):
    class EvenNumbers(ResourceManager):
        _driver_name = "test-evennumbers"
        _attr_name = "even"

        def allocator(self):
            return (self.count + 1) * 2

    mgr = EvenNumbers("evens")
    s = BasicServer("s1")
    assert mgr.allocate(s).value == 2
    assert mgr.allocate(s).value == 4


def test_a_failing_hook_leaves_no_partial_allocation(db):
    """allocator, the allocation and additional_attrs are one transaction."""
    from clusto.drivers import ResourceManager

    class Tagged(ResourceManager):
        _driver_name = "test-tagged"
        _attr_name = "tag"

        def allocator(self, thing=None):
            return "t-%s" % thing.name

        def additional_attrs(self, thing, resource, number):
            thing.add_attr("tag_note", "noted")
            raise RuntimeError("the hook failed after writing")

    manager = Tagged("tags")
    server = BasicServer("s1")
    before = clusto.get_latest_version_number()
    with pytest.raises(RuntimeError, match="hook failed"):
        manager.allocate(server)
    assert clusto.get_latest_version_number() == before, "no version was made"
    assert server.attrs("tag") == [] and server.attrs("tag_note") == []
    assert manager.count == 0


def test_an_empty_name_allocates_the_next_one(db):
    """clusto-apiserver called ``allocate(cls, ())`` for "the next name"."""
    ents = SimpleEntityNameManager("hosts", basename="h", digits=2)
    assert ents.allocate(BasicServer, ()).name == "h01"
    assert ents.allocate(BasicServer, "").name == "h02"
    assert ents.allocate(BasicServer, None).name == "h03"
    with pytest.raises(TypeError):
        ents.allocate(BasicServer, 7)
    assert [e.name for e in clusto.get_entities(clusto_drivers=["basicserver"])] == ["h01", "h02", "h03"]


def test_queries_name_unknown_drivers_and_types(db):
    """The original raised NameError for a driver or type name nobody registered; a
    typo then fails loudly instead of finding nothing."""
    BasicServer("s1")
    with pytest.raises(NameError, match="nosuchdriver"):
        clusto.get_entities(clusto_drivers=["nosuchdriver"])
    with pytest.raises(NameError, match="nosuchtype"):
        clusto.get_entities(clusto_types=["nosuchtype"])
    assert clusto.get_entities(clusto_drivers=["basicserver", BasicServer]) == [clusto.get_by_name("s1")]
    assert clusto.get_entities(clusto_types=["pool"]) == []


def test_add_ip_refuses_a_manager_that_is_not_an_ip_manager(db):
    """The core refuses it (WrongTypeError), instead of handing out a VLAN number as an
    address; nothing is written."""
    vlans = SimpleNumManager("vlans", maxnum=9)
    server = BasicServer("s1")
    before = clusto.get_latest_version_number()
    with pytest.raises(clusto.exceptions.WrongTypeError, match="not an IP manager"):
        server.add_ip(ipman=vlans)
    assert clusto.get_latest_version_number() == before
    assert server.get_ips() == []
