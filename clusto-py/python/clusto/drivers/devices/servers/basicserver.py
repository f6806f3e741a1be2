"""``clusto.drivers.devices.servers.basicserver``: BasicServer and BasicVirtualServer."""

from clusto.drivers.base import Device
from clusto.drivers.devices.common import IPMixin, PortMixin

__all__ = ["BasicServer", "BasicVirtualServer", "Device", "IPMixin", "PortMixin"]


class BasicServer(IPMixin, PortMixin, Device):
    """A server: one power port, two network ports, one serial console port."""

    _driver_name = "basicserver"
    _clusto_type = "server"
    _properties = {"model": None, "manufacturer": None}
    _portmeta = {"pwr-nema-5": {"numports": 1}, "nic-eth": {"numports": 2}, "console-serial": {"numports": 1}}


class BasicVirtualServer(BasicServer):
    """A virtual server: power and lifecycle need a site driver (NotImplementedError)."""

    _driver_name = "basicvirtualserver"

    def power_on(self, *args, **kwargs):
        """Not implemented for a generic virtual server."""
        raise NotImplementedError("power_on needs a virtual server driver for your platform")

    def power_off(self, *args, **kwargs):
        """Not implemented for a generic virtual server."""
        raise NotImplementedError("power_off needs a virtual server driver for your platform")

    def power_reboot(self, *args, **kwargs):
        """Not implemented for a generic virtual server."""
        raise NotImplementedError("power_reboot needs a virtual server driver for your platform")

    def create(self, *args, **kwargs):
        """Not implemented for a generic virtual server."""
        raise NotImplementedError("create needs a virtual server driver for your platform")

    def destroy(self):
        """Not implemented for a generic virtual server."""
        raise NotImplementedError("destroy needs a virtual server driver for your platform")
