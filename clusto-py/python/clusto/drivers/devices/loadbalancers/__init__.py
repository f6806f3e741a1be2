"""``clusto.drivers.devices.loadbalancers``: load balancers (not importable in the original, registered here)."""

from clusto.drivers.devices.loadbalancers import basicloadbalancer  # noqa: F401
from clusto.drivers.devices.loadbalancers.basicloadbalancer import *  # noqa: F401,F403

__all__ = sorted(set(basicloadbalancer.__all__) | {"basicloadbalancer"})
