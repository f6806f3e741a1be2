"""``clusto.drivers.devices.appliance``: appliances."""

from clusto.drivers.devices.appliance import basicappliance  # noqa: F401
from clusto.drivers.devices.appliance.basicappliance import *  # noqa: F401,F403

__all__ = sorted(set(basicappliance.__all__) | {"basicappliance"})
