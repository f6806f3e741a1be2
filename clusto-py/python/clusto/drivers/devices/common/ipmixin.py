"""``clusto.drivers.devices.common.ipmixin``: IP addresses for devices, from IP managers.
Which manager covers an address and how one is chosen are the core's rules; this
module converts the address forms legacy code passes."""

import ipaddress

from clusto.drivers.devices.common.portmixin import _port_number
from clusto.drivers.resourcemanagers.ipmanager import IPManager
from clusto.exceptions import ResourceException, ResourceTypeException
from clusto.schema import SESSION, attribute

__all__ = ["IPMixin", "IPManager", "ResourceException"]

# The original stored an IPv4 address as the int ``address - 2**31`` (a signed 32-bit
# column); that int is what ``ipman.allocate(...)``'s attribute value holds.
_INT_IP_OFFSET = 2 ** 31


def ip_text(ip):
    """An address as dotted text: a str is returned as it is; the stored int form
    (``address - 2**31``) and ``ipaddress`` objects are converted. Anything else, or an
    int outside the IPv4 range, raises ResourceTypeException."""
    if isinstance(ip, str):
        return ip
    if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return str(ip)
    if isinstance(ip, int) and not isinstance(ip, bool):
        if not -_INT_IP_OFFSET <= ip < _INT_IP_OFFSET:
            raise ResourceTypeException("%d is not the stored form of an IPv4 address" % ip)
        return str(ipaddress.IPv4Address(ip + _INT_IP_OFFSET))
    raise ResourceTypeException("%r is not an IP address" % (ip,))


class IPMixin:
    """IP addresses from IP managers."""

    def add_ip(self, ip=None, ipman=None):
        """Allocates ``ip`` (from ``ipman``, else from the one manager whose range holds
        it: ResourceException when none or several do), or the next free address of
        ``ipman``. ``ip`` may be dotted text or the stored int form. Returns the
        allocation's attribute."""
        if not ip and not ipman:
            raise ResourceException("If no ip is specified then an ipmanager must be specified")
        if ip:
            ip = ip_text(ip)
            if ipman is None:
                ipman = IPManager.get_ip_manager(ip)
        row = SESSION.db.add_ip(self._id(), ip=ip or None, manager=ipman._id())
        return attribute(row)

    def has_ip(self, ip):
        """Whether the device holds ``ip`` (dotted text or the stored int form)."""
        return ip_text(ip) in self.get_ips()

    def get_ips(self):
        """The device's addresses (dotted strings)."""
        return SESSION.db.ips_of(self._id())

    def bind_ip_to_osport(self, ip, osportname, ipman=None, porttype=None, portnum=None):
        """Names the OS interface of an address, and the physical port too when
        ``porttype`` and ``portnum`` are given (both or neither). ``ip`` may be dotted
        text or the stored int form (``ipman.allocate(...).value``). An address the
        device already holds is reused; any other is allocated first (from ``ipman``,
        else the one manager covering it). All of it is one transaction."""
        if (porttype is None) != (portnum is None):
            raise Exception("both porttype and portnum need to be specified or set to None")
        ip = ip_text(ip)
        port = (porttype, _port_number(portnum)) if porttype is not None else None
        if ipman is None and not self.has_ip(ip):
            ipman = IPManager.get_ip_manager(ip)
        SESSION.db.bind_ip_to_osport(self._id(), ip, osportname, manager=ipman._id() if ipman else None, port=port)
