"""``clusto.drivers.devices.powerstrips``: power strips."""

from clusto.drivers.devices.powerstrips import basicpowerstrip  # noqa: F401
from clusto.drivers.devices.powerstrips.basicpowerstrip import *  # noqa: F401,F403

__all__ = sorted(set(basicpowerstrip.__all__) | {"basicpowerstrip"})
