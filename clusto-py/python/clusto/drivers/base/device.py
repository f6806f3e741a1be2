"""``clusto.drivers.base.device``: the Device base class of servers, switches, power
strips and the rest."""

import sys

from clusto.drivers.base.driver import Driver
from clusto.schema import SESSION

__all__ = ["Device", "Driver"]


class Device(Driver):
    """A physical or virtual device: a hostname, fully qualified names, power through
    the power strips its ``pwr-*`` ports connect to, and a console through the console
    server its ``console-serial`` port 1 connects to."""

    _driver_name = "device"
    _clustotype = "generic"
    _clusto_type = "generic"
    _properties = {"model": None, "serialnum": None, "manufacturer": None}

    @classmethod
    def get_by_serial_number(cls, serialnum):
        """The devices of this class whose ``serialnum`` property is ``serialnum`` (the
        original declared this method and returned None; this one looks them up)."""
        import clusto

        found = clusto.get_entities(attrs=[{"key": "serialnum", "subkey": "property", "value": serialnum}])
        return [d for d in found if isinstance(d, cls)]

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

    def power_on(self, *args, **kwargs):
        """Turns the connected power strip outlets on (needs a strip driver that can)."""
        self._power("set_power_on")

    def power_off(self, *args, **kwargs):
        """Turns the connected power strip outlets off."""
        self._power("set_power_off")

    def power_reboot(self, *args, **kwargs):
        """Power-cycles through the connected power strips."""
        self._power("reboot")

    def console(self, ssh_user="root"):
        """Opens the console: calls ``connect('console-serial', port, ssh_user)`` on the
        console server that ``console-serial`` port 1 is connected to, and returns what
        it returns. Writes why to stderr and returns None when the device has no such
        port, nothing is connected to it, or the other end cannot connect."""
        ports = getattr(self, "port_info", {}).get("console-serial", {})
        port = ports.get(1)
        if port is None:
            sys.stderr.write("%s has no console-serial port\n" % self.name)
            return None
        server = port["connection"]
        if server is None:
            sys.stderr.write("No console connected to %s console-serial:1\n" % self.name)
            return None
        if not callable(getattr(server, "connect", None)):
            sys.stderr.write("No console method on %s\n" % server.name)
            return None
        return server.connect("console-serial", port["otherportnum"], ssh_user)
