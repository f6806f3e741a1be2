"""``clusto.drivers.locations.zones``: zones."""

from clusto.drivers.locations.zones import basiczone  # noqa: F401
from clusto.drivers.locations.zones.basiczone import *  # noqa: F401,F403

__all__ = sorted(set(basiczone.__all__) | {"basiczone"})
