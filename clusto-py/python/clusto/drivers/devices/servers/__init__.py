"""``clusto.drivers.devices.servers``: servers."""

from clusto.drivers.devices.servers import basicserver  # noqa: F401
from clusto.drivers.devices.servers.basicserver import *  # noqa: F401,F403

__all__ = sorted(set(basicserver.__all__) | {"basicserver"})
