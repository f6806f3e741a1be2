"""IP address managers (IPv4, and IPv6 beyond the original)."""

from clusto.drivers.base import Driver, wrap_entities
from clusto.drivers.resourcemanagers.resourcemanager import ResourceManager
from clusto.exceptions import ResourceException
from clusto.schema import SESSION


class IPManager(ResourceManager):
    """Hands out the addresses of ``baseip/netmask`` (skipping network, broadcast and
    gateway), in order after the last one handed out, wrapping to reuse freed ones."""

    _driver_name = "ipmanager"
    _attr_name = "ip"
    _properties = {"gateway": None, "netmask": "255.255.255.255", "baseip": None}

    @classmethod
    def get_ip_managers(cls, ip):
        """Every IP manager whose range holds ``ip``."""
        return wrap_entities(SESSION.db.ip_managers_for(ip))

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
        return wrap_entities(SESSION.db.devices_with_ip(ip))
