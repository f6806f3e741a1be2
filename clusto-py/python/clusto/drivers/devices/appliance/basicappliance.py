"""``clusto.drivers.devices.appliance.basicappliance``."""

from clusto.drivers.base import Device
from clusto.drivers.devices.common import IPMixin, PortMixin

__all__ = ["BasicAppliance"]


class BasicAppliance(IPMixin, PortMixin, Device):
    """An appliance: two power ports, one network port, one serial console port."""

    _driver_name = "basicappliance"
    _clusto_type = "appliance"
    _portmeta = {"pwr-nema-5": {"numports": 2}, "nic-eth": {"numports": 1}, "console-serial": {"numports": 1}}
