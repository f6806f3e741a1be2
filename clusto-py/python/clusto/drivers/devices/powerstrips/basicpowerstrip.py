"""``clusto.drivers.devices.powerstrips.basicpowerstrip``."""

from clusto.drivers.base import Device
from clusto.drivers.devices.common import IPMixin, PortMixin

__all__ = ["BasicPowerStrip"]


class BasicPowerStrip(IPMixin, PortMixin, Device):
    """A power strip: 24 outlets, one network port."""

    _driver_name = "basicpowerstrip"
    _clusto_type = "powerstrip"
    _portmeta = {"pwr-nema-5": {"numports": 24}, "nic-eth": {"numports": 1}}
