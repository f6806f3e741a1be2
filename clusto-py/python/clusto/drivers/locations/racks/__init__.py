"""``clusto.drivers.locations.racks``: racks."""

from clusto.drivers.locations.racks import basicrack  # noqa: F401
from clusto.drivers.locations.racks.basicrack import *  # noqa: F401,F403

__all__ = sorted(set(basicrack.__all__) | {"basicrack"})
