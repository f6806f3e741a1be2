"""``clusto.drivers.devices.loadbalancers.basicloadbalancer``."""

from clusto.drivers.base import Device
from clusto.drivers.devices.common import IPMixin, PortMixin

__all__ = ["BasicLoadBalancer"]


class BasicLoadBalancer(IPMixin, PortMixin, Device):
    """A load balancer: two power ports, one network port, one serial console port."""

    _driver_name = "basicloadbalancer"
    _clusto_type = "loadbalancer"
    _portmeta = {"pwr-nema-5": {"numports": 2}, "nic-eth": {"numports": 1}, "console-serial": {"numports": 1}}
