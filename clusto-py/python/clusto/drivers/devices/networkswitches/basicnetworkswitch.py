"""``clusto.drivers.devices.networkswitches.basicnetworkswitch``."""

from clusto.drivers.base import Device
from clusto.drivers.devices.common import IPMixin, PortMixin

__all__ = ["BasicNetworkSwitch"]


class BasicNetworkSwitch(IPMixin, PortMixin, Device):
    """A network switch: one power port, 48 network ports."""

    _driver_name = "basicnetworkswitch"
    _clusto_type = "networkswitch"
    _portmeta = {"pwr-nema-5": {"numports": 1}, "nic-eth": {"numports": 48}}
