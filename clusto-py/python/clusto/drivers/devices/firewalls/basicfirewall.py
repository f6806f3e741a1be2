"""``clusto.drivers.devices.firewalls.basicfirewall``."""

from clusto.drivers.base import Device
from clusto.drivers.devices.common import IPMixin, PortMixin

__all__ = ["BasicFirewall"]


class BasicFirewall(IPMixin, PortMixin, Device):
    """A firewall: two power ports, one network port, one serial console port."""

    _driver_name = "basicfirewall"
    _clusto_type = "firewall"
    _portmeta = {"pwr-nema-5": {"numports": 2}, "nic-eth": {"numports": 1}, "console-serial": {"numports": 1}}
