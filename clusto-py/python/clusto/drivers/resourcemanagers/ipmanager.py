"""IP address managers (IPv4, and IPv6 beyond the original)."""

import ipaddress

from clusto.drivers.base import Driver, ResourceManager
from clusto.exceptions import ResourceException, ResourceNotAvailableException, ResourceTypeException  # noqa: F401
from clusto.schema import SESSION, Attribute  # noqa: F401

__all__ = ["IPManager", "ResourceManager", "Driver", "Attribute", "ResourceException",
           "ResourceNotAvailableException", "ResourceTypeException"]


class IPManager(ResourceManager):
    """Hands out the addresses of ``baseip/netmask`` (skipping network, broadcast and
    gateway), in order after the last one handed out, wrapping to reuse freed ones."""

    _driver_name = "ipmanager"
    _attr_name = "ip"
    _properties = {"gateway": None, "netmask": "255.255.255.255", "baseip": None}

    @property
    def ipy(self):
        """The managed network, ``baseip/netmask`` made a network, as an
        ``ipaddress.IPv4Network`` (or ``IPv6Network``). The original returned an
        ``IPy.IP``; the common uses carry over: ``ipaddress.ip_address(ip) in
        ipman.ipy``, ``.network_address``, ``.broadcast_address``, ``.prefixlen``.
        ResourceTypeException when the manager has no ``baseip``."""
        if self.baseip is None:
            raise ResourceTypeException("IP manager %s has no baseip, so it has no network" % self.name)
        netmask = self.netmask
        try:
            return ipaddress.ip_network("%s/%s" % (self.baseip, netmask), strict=False)
        except ValueError as e:
            raise ResourceTypeException("IP manager %s: %s" % (self.name, e)) from None

    @classmethod
    def get_ip_managers(cls, ip):
        """Every IP manager whose range holds ``ip``."""
        return SESSION.db.ip_managers_for(ip)

    @classmethod
    def get_ip_manager(cls, ip):
        """The one IP manager whose range holds ``ip``."""
        managers = cls.get_ip_managers(ip)
        if not managers:
            raise ResourceException("No resource manager for %s exists." % ip)
        if len(managers) > 1:
            raise ResourceException("More than one resource manager for %s exists." % ip)
        return managers[0]

    @classmethod
    def get_ips(cls, device):
        """The addresses of ``device``."""
        return SESSION.db.ips_of(Driver(device)._id())

    @classmethod
    def get_devices(cls, ip):
        """The drivers holding ``ip``."""
        return SESSION.db.devices_with_ip(ip)
