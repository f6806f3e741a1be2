"""Devices: servers, switches, power strips, console servers and appliances, with
their ports (PortMixin) and IP addresses (IPMixin)."""

from clusto.drivers.base import Driver
from clusto.exceptions import ConnectionException, ResourceException
from clusto.schema import SESSION, Entity, from_native, to_native


def _port_number(portnum):
    if isinstance(portnum, bool) or not isinstance(portnum, int):
        raise TypeError("a port number must be an int, not %r" % (portnum,))
    if portnum < 1:
        raise TypeError("port numbers start at 1, not %d" % portnum)
    return portnum


class PortMixin:
    """Ports declared by ``_portmeta = {porttype: {'numports': n}}``, numbered 1..n."""

    _portmeta = {}

    def port_exists(self, porttype, portnum):
        """Whether the port exists on this driver."""
        return SESSION.db.port_exists(self._id(), porttype, _port_number(portnum))

    def connect_ports(self, porttype, srcportnum, dstdev, dstportnum):
        """Connects a port of this device to a port of ``dstdev`` (same type)."""
        if not isinstance(dstdev, PortMixin):
            raise ConnectionException("%s has no ports" % dstdev)
        SESSION.db.connect_ports(self._id(), porttype, _port_number(srcportnum), dstdev._id(),
                                 _port_number(dstportnum))

    def disconnect_port(self, porttype, portnum):
        """Disconnects a port (both ends)."""
        SESSION.db.disconnect_port(self._id(), porttype, _port_number(portnum))

    def get_connected(self, porttype, portnum):
        """The device connected to a port, or None."""
        value = SESSION.db.port_attr(self._id(), porttype, _port_number(portnum), "connection")
        return from_native(value) if value is not None else None

    def port_free(self, porttype, portnum):
        """Whether a port has no connection."""
        return SESSION.db.port_free(self._id(), porttype, _port_number(portnum))

    def ports_connectable(self, porttype, srcportnum, dstdev, dstportnum):
        """Whether both ports exist and are free."""
        if not isinstance(dstdev, PortMixin):
            return False
        return SESSION.db.ports_connectable(self._id(), porttype, _port_number(srcportnum), dstdev._id(),
                                            _port_number(dstportnum))

    def set_port_attr(self, porttype, portnum, key, value):
        """Sets a port attribute (e.g. ``mac``)."""
        SESSION.db.set_port_attr(self._id(), porttype, _port_number(portnum), key, to_native(value))

    def add_port_attr(self, porttype, portnum, key, value):
        """Adds a value to a port attribute."""
        SESSION.db.set_port_attr(self._id(), porttype, _port_number(portnum), key, to_native(value), add=True)

    def get_port_attr(self, porttype, portnum, key):
        """A port attribute, or None; several values are a ConnectionException."""
        value = SESSION.db.port_attr(self._id(), porttype, _port_number(portnum), key)
        return from_native(value) if value is not None else None

    def del_port_attr(self, porttype, portnum, key, value=()):
        """Deletes a port attribute."""
        SESSION.db.del_port_attr(self._id(), porttype, _port_number(portnum), key)

    def _ports(self):
        for porttype, number, peer, other in SESSION.db.port_info(self._id()):
            yield porttype, number, (Driver(Entity(peer)) if peer else None), other

    @property
    def port_info(self):
        """``{type: {n: {'connection': device or None, 'otherportnum': n or None}}}``."""
        info = {}
        for porttype, number, peer, other in self._ports():
            info.setdefault(porttype, {})[number] = {"connection": peer, "otherportnum": other}
        return info

    @property
    def port_info_tuples(self):
        """``[(type, n, device or None, other port or None)]``."""
        return list(self._ports())

    @property
    def free_ports(self):
        """``[(type, n)]`` with no other end recorded."""
        return [(t, n) for t, n, _, other in self._ports() if other is None]

    @property
    def connected_ports(self):
        """``{type: [connected port numbers]}``."""
        out = {}
        for porttype, number, peer, _ in self._ports():
            if peer is not None:
                out.setdefault(porttype, []).append(number)
        return out

    @property
    def port_types(self):
        """The port types of this driver."""
        return list(type(self)._portmeta)


class IPMixin:
    """IP addresses from IP managers."""

    def add_ip(self, ip=None, ipman=None):
        """Allocates ``ip`` (from the one manager whose range holds it, or ``ipman``), or
        the next free address of ``ipman``."""
        if not ip and not ipman:
            raise ResourceException("If no ip is specified then an ipmanager must be specified")
        SESSION.db.add_ip(self._id(), ip=ip or None, manager=ipman._id() if ipman else None)

    def has_ip(self, ip):
        """Whether the device holds ``ip``."""
        return ip in self.get_ips()

    def get_ips(self):
        """The device's addresses (dotted strings)."""
        return SESSION.db.ips_of(self._id())

    def bind_ip_to_osport(self, ip, osportname, ipman=None, porttype=None, portnum=None):
        """Names the OS interface of an address (allocating it if needed), and the
        physical port too when ``porttype`` and ``portnum`` are given."""
        if (porttype is None) != (portnum is None):
            raise Exception("both porttype and portnum are required together")
        port = (porttype, _port_number(portnum)) if porttype is not None else None
        SESSION.db.bind_ip_to_osport(self._id(), ip, osportname, manager=ipman._id() if ipman else None, port=port)


class Device(Driver):
    """A physical or virtual device."""

    _driver_name = "device"
    _clustotype = "generic"
    _clusto_type = "generic"
    _properties = {"model": None, "serialnum": None, "manufacturer": None}

    @property
    def hostname(self):
        """The ``hostname`` attribute, else the name."""
        return SESSION.db.hostname(self._id())

    @hostname.setter
    def hostname(self, value):
        SESSION.db.set_hostname(self._id(), value)

    @property
    def fqdns(self):
        """The fully qualified names."""
        return SESSION.db.fqdns(self._id())

    def add_fqdn(self, fqdn):
        """Adds a fully qualified name unless present (the check and the write are one
        transaction)."""
        SESSION.db.add_fqdn(self._id(), fqdn)

    def remove_fqdn(self, fqdn):
        """Removes a fully qualified name."""
        SESSION.db.remove_fqdn(self._id(), fqdn)

    def _power(self, method):
        for porttype, number, peer, other in getattr(self, "_ports", lambda: [])():
            if porttype.startswith("pwr") and peer is not None and hasattr(peer, method):
                getattr(peer, method)("pwr-nema-5" if porttype == "pwr-nema-5" else porttype, other)

    def power_on(self):
        """Turns the connected power strip outlets on (needs a strip driver that can)."""
        self._power("set_power_on")

    def power_off(self):
        """Turns the connected power strip outlets off."""
        self._power("set_power_off")

    def power_reboot(self):
        """Power-cycles through the connected power strips."""
        self._power("reboot")


class BasicServer(IPMixin, PortMixin, Device):
    """A server."""

    _driver_name = "basicserver"
    _clusto_type = "server"
    _properties = {"model": None, "manufacturer": None}
    _portmeta = {"pwr-nema-5": {"numports": 1}, "nic-eth": {"numports": 2}, "console-serial": {"numports": 1}}


class BasicVirtualServer(BasicServer):
    """A virtual server (power and lifecycle are not implemented)."""

    _driver_name = "basicvirtualserver"

    def power_on(self):
        raise NotImplementedError

    def power_off(self):
        raise NotImplementedError

    def power_reboot(self):
        raise NotImplementedError

    def create(self):
        raise NotImplementedError

    def destroy(self):
        raise NotImplementedError


class BasicNetworkSwitch(IPMixin, PortMixin, Device):
    """A network switch."""

    _driver_name = "basicnetworkswitch"
    _clusto_type = "networkswitch"
    _portmeta = {"pwr-nema-5": {"numports": 1}, "nic-eth": {"numports": 48}}


class BasicPowerStrip(IPMixin, PortMixin, Device):
    """A power strip."""

    _driver_name = "basicpowerstrip"
    _clusto_type = "powerstrip"
    _portmeta = {"pwr-nema-5": {"numports": 24}, "nic-eth": {"numports": 1}}


class BasicConsoleServer(IPMixin, PortMixin, Device):
    """A console server."""

    _driver_name = "basicconsoleserver"
    _clusto_type = "consoleserver"
    _portmeta = {"pwr-nema-5": {"numports": 1}, "nic-eth": {"numports": 1}, "console-serial": {"numports": 24}}


_APPLIANCE_PORTS = {"pwr-nema-5": {"numports": 2}, "nic-eth": {"numports": 1}, "console-serial": {"numports": 1}}


class BasicAppliance(IPMixin, PortMixin, Device):
    """An appliance."""

    _driver_name = "basicappliance"
    _clusto_type = "appliance"
    _portmeta = _APPLIANCE_PORTS


class BasicFirewall(IPMixin, PortMixin, Device):
    """A firewall."""

    _driver_name = "basicfirewall"
    _clusto_type = "firewall"
    _portmeta = _APPLIANCE_PORTS


class BasicLoadBalancer(IPMixin, PortMixin, Device):
    """A load balancer."""

    _driver_name = "basicloadbalancer"
    _clusto_type = "loadbalancer"
    _portmeta = _APPLIANCE_PORTS


__all__ = [
    "PortMixin", "IPMixin", "Device", "BasicServer", "BasicVirtualServer", "BasicNetworkSwitch",
    "BasicPowerStrip", "BasicConsoleServer", "BasicAppliance", "BasicFirewall", "BasicLoadBalancer",
]
