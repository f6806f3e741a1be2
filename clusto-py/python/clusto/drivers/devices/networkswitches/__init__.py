"""``clusto.drivers.devices.networkswitches``: network switches."""

from clusto.drivers.devices.networkswitches import basicnetworkswitch  # noqa: F401
from clusto.drivers.devices.networkswitches.basicnetworkswitch import *  # noqa: F401,F403

__all__ = sorted(set(basicnetworkswitch.__all__) | {"basicnetworkswitch"})
