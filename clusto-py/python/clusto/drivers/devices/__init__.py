"""``clusto.drivers.devices``: servers, switches, power strips, console servers and
appliances, with their ports (PortMixin) and IP addresses (IPMixin)."""

from clusto.drivers.base import Device  # noqa: F401
from clusto.drivers.devices import (  # noqa: F401
    appliance, common, consoleservers, firewalls, loadbalancers, networkswitches, powerstrips, servers,
)
from clusto.drivers.devices.appliance import *  # noqa: F401,F403
from clusto.drivers.devices.common import *  # noqa: F401,F403
from clusto.drivers.devices.consoleservers import *  # noqa: F401,F403
from clusto.drivers.devices.firewalls import *  # noqa: F401,F403
from clusto.drivers.devices.loadbalancers import *  # noqa: F401,F403
from clusto.drivers.devices.networkswitches import *  # noqa: F401,F403
from clusto.drivers.devices.powerstrips import *  # noqa: F401,F403
from clusto.drivers.devices.servers import *  # noqa: F401,F403

_SUBPACKAGES = (appliance, common, consoleservers, firewalls, loadbalancers, networkswitches, powerstrips, servers)
__all__ = sorted(
    {"Device", "appliance", "common", "consoleservers", "firewalls", "loadbalancers", "networkswitches",
     "powerstrips", "servers"}.union(*(set(m.__all__) for m in _SUBPACKAGES))
)
