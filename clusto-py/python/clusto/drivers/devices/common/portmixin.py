"""``clusto.drivers.devices.common.portmixin``: ports declared by a driver class and the
connections between them (reference §11). The core keeps the port rules; this module
checks the Python arguments and converts."""

from clusto.drivers.base import wrap_entity
from clusto.exceptions import ConnectionException
from clusto.schema import SESSION, from_native, to_native

__all__ = ["PortMixin", "ConnectionException"]


def _port_number(portnum):
    """``portnum`` if it is an int of at least 1, else TypeError (as the original)."""
    if isinstance(portnum, bool) or not isinstance(portnum, int):
        raise TypeError("Port number %r needs to be an integer." % (portnum,))
    if portnum < 1:
        raise TypeError("Port number %d needs to be greater than 0." % portnum)
    return portnum


class PortMixin:
    """Ports declared by ``_portmeta = {porttype: {'numports': n}}``, numbered 1..n.
    Port data is stored as attributes ``port-<porttype>`` numbered by the port, one
    subkey per port attribute (``connection``, ``otherportnum``, ``mac``…)."""

    _portmeta = {}

    def _port_key(self, porttype):
        """The attribute key of a port type's data."""
        return "port-" + porttype

    def _ensure_portnum(self, porttype, portnum):
        """``portnum`` checked: TypeError unless an int of at least 1, and
        ConnectionException when this device has no such port."""
        _port_number(portnum)
        if not SESSION.db.port_exists(self._id(), porttype, portnum):
            raise ConnectionException("No port %s:%s exists on %s." % (porttype, portnum, self.name))
        return portnum

    def port_exists(self, porttype, portnum):
        """Whether the port exists on this driver (TypeError for a bad number)."""
        return SESSION.db.port_exists(self._id(), porttype, _port_number(portnum))

    def connect_ports(self, porttype, srcportnum, dstdev, dstportnum):
        """Connects a port of this device to the port of the same type on ``dstdev``.
        Both port numbers are checked first (TypeError), then that ``dstdev`` has ports
        (ConnectionException); the core refuses ports that do not exist or are in use
        (ConnectionException)."""
        _port_number(srcportnum)
        _port_number(dstportnum)
        if not isinstance(dstdev, PortMixin):
            raise ConnectionException("%s has no ports." % getattr(dstdev, "name", dstdev))
        SESSION.db.connect_ports(self._id(), porttype, srcportnum, dstdev._id(), dstportnum)

    def disconnect_port(self, porttype, portnum):
        """Disconnects a port (both ends); nothing happens if it is free."""
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
        """Sets a port attribute (e.g. ``mac``), replacing its value."""
        SESSION.db.set_port_attr(self._id(), porttype, _port_number(portnum), key, to_native(value))

    def add_port_attr(self, porttype, portnum, key, value):
        """Adds a value to a port attribute (a port attribute may then hold several)."""
        SESSION.db.set_port_attr(self._id(), porttype, _port_number(portnum), key, to_native(value), add=True)

    def get_port_attr(self, porttype, portnum, key):
        """A port attribute, or None; several values are a ConnectionException."""
        value = SESSION.db.port_attr(self._id(), porttype, _port_number(portnum), key)
        return from_native(value) if value is not None else None

    def del_port_attr(self, porttype, portnum, key, value=()):
        """Deletes a port attribute: every value of it, or only ``value`` when given."""
        if value == ():
            SESSION.db.del_port_attr(self._id(), porttype, _port_number(portnum), key)
            return
        self._ensure_portnum(porttype, portnum)
        self.del_attrs(key=self._port_key(porttype), number=portnum, subkey=key, value=value)

    def _ports(self):
        for porttype, number, peer, other in SESSION.db.port_info(self._id()):
            yield porttype, number, (wrap_entity(peer) if peer else None), other

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
        """``{type: [connected port numbers, sorted]}`` with every port type of the
        device, ``[]`` where nothing is connected."""
        out = {porttype: [] for porttype in self.port_types}
        for porttype, number, peer, _ in self._ports():
            if peer is not None:
                out.setdefault(porttype, []).append(number)
        for numbers in out.values():
            numbers.sort()
        return out

    @property
    def port_types(self):
        """The port types of this driver."""
        return list(type(self)._portmeta)
