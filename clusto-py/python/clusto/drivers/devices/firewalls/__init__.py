"""``clusto.drivers.devices.firewalls``: firewalls (not importable in the original, registered here)."""

from clusto.drivers.devices.firewalls import basicfirewall  # noqa: F401
from clusto.drivers.devices.firewalls.basicfirewall import *  # noqa: F401,F403

__all__ = sorted(set(basicfirewall.__all__) | {"basicfirewall"})
