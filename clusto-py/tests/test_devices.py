import pytest

import clusto
from clusto.drivers import BasicNetworkSwitch, BasicPowerStrip, BasicRack, BasicServer, Pool


def test_rack_slots(db):
    r = BasicRack("r1")
    s1, s2 = BasicServer("s1"), BasicServer("s2")
    r.insert(s1, [3, 4])
    assert BasicRack.get_rack_and_u(s1) == {"rack": r, "RU": [3, 4]}
    assert r.get_device_in(4) == s1
    assert r.get_device_in(5) is None
    with pytest.raises(TypeError):
        r.insert(s2, 4)
    with pytest.raises(TypeError):
        r.insert(s2, [6, 8])
    with pytest.raises(TypeError):
        r.insert(s2, 46)
    with pytest.raises(TypeError):
        r.insert(s2, "3")
    with pytest.raises(TypeError):
        r.insert(Pool("p"), 10)
    with pytest.raises(Exception, match="already in rack"):
        BasicRack("r2").insert(s1, 1)
    s2.add_attr("rack_units", 2)
    with pytest.raises(TypeError):
        r.insert(s2, 10)
    r.insert(s2, [10, 11])
    Pool("web").insert(s2)
    r.remove(s1)
    assert BasicRack.get_rack_and_u(s1) is None


def test_ports(db):
    s, sw = BasicServer("s1"), BasicNetworkSwitch("sw1")
    s.connect_ports("nic-eth", 1, sw, 7)
    assert s.get_connected("nic-eth", 1) == sw
    assert sw.get_connected("nic-eth", 7) == s
    assert s.port_info["nic-eth"][1] == {"connection": sw, "otherportnum": 7}
    assert ("nic-eth", 1, sw, 7) in s.port_info_tuples
    assert s.connected_ports == {"nic-eth": [1], "pwr-nema-5": [], "console-serial": []}
    assert ("nic-eth", 2) in s.free_ports and ("nic-eth", 1) not in s.free_ports
    assert sorted(s.port_types) == ["console-serial", "nic-eth", "pwr-nema-5"]
    assert s.port_exists("nic-eth", 2) and not s.port_exists("nic-eth", 3)
    with pytest.raises(clusto.ConnectionException, match="already in use"):
        BasicServer("s2").connect_ports("nic-eth", 1, sw, 7)
    with pytest.raises(clusto.ConnectionException):
        s.connect_ports("nic-eth", 3, sw, 1)
    with pytest.raises(TypeError):
        s.connect_ports("nic-eth", "1", sw, 1)
    with pytest.raises(TypeError):
        s.connect_ports("nic-eth", 0, sw, 1)
    with pytest.raises(clusto.ConnectionException, match="has no ports"):
        s.connect_ports("nic-eth", 2, Pool("p"), 1)
    assert not s.ports_connectable("nic-eth", 1, sw, 8)
    assert s.ports_connectable("nic-eth", 2, sw, 8)
    s.set_port_attr("nic-eth", 1, "mac", "aa:bb")
    assert s.get_port_attr("nic-eth", 1, "mac") == "aa:bb"
    s.add_port_attr("nic-eth", 1, "mac", "cc:dd")
    with pytest.raises(clusto.ConnectionException):
        s.get_port_attr("nic-eth", 1, "mac")
    s.del_port_attr("nic-eth", 1, "mac")
    assert s.get_port_attr("nic-eth", 1, "mac") is None
    s.disconnect_port("nic-eth", 1)
    assert s.port_free("nic-eth", 1) and sw.port_free("nic-eth", 7)


def test_device_hostname_and_fqdns(db):
    s = BasicServer("s1")
    assert s.hostname == "s1"
    s.hostname = "web-1"
    assert clusto.get_by_name("s1").hostname == "web-1"
    s.add_fqdn("a.example")
    s.add_fqdn("a.example")
    s.add_fqdn("b.example")
    s.remove_fqdn("a.example")
    assert s.fqdns == ["b.example"]


def test_power_walks_pwr_ports(db):
    calls = []

    class SmartStrip(BasicPowerStrip):
        _driver_name = "test-smartstrip"

        def set_power_on(self, porttype, portnum):
            calls.append((self.name, porttype, portnum))

    s, strip = BasicServer("s1"), SmartStrip("pdu")
    s.connect_ports("pwr-nema-5", 1, strip, 9)
    clusto.get_by_name("s1").power_on()
    assert calls == [("pdu", "pwr-nema-5", 9)]
