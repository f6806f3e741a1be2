"""``clusto.drivers.devices.consoleservers``: console servers."""

from clusto.drivers.devices.consoleservers import basicconsoleserver  # noqa: F401
from clusto.drivers.devices.consoleservers.basicconsoleserver import *  # noqa: F401,F403

__all__ = sorted(set(basicconsoleserver.__all__) | {"basicconsoleserver"})
