"""The driver classes of clusto, by the names legacy scripts import."""

from clusto.drivers.base import DRIVERLIST, TYPELIST, Driver
from clusto.drivers.categories import ExclusivePool, Pool, UniquePool
from clusto.drivers.clustometa import ClustoMeta
from clusto.drivers.devices import (
    BasicAppliance, BasicConsoleServer, BasicFirewall, BasicLoadBalancer, BasicNetworkSwitch,
    BasicPowerStrip, BasicServer, BasicVirtualServer, Device, IPMixin, PortMixin,
)
from clusto.drivers.locations import BasicCage, BasicDatacenter, BasicRack, BasicZone, Location
from clusto.drivers.resourcemanagers import (
    IPManager, ResourceManager, SimpleEntityNameManager, SimpleNameManager, SimpleNumManager,
)
from clusto.exceptions import *  # noqa: F401,F403

__all__ = [
    "Driver", "DRIVERLIST", "TYPELIST", "Device", "Location", "ResourceManager", "ClustoMeta", "Pool",
    "ExclusivePool", "UniquePool", "BasicDatacenter", "BasicCage", "BasicZone", "BasicRack", "BasicServer",
    "BasicVirtualServer", "BasicNetworkSwitch", "BasicPowerStrip", "BasicConsoleServer", "BasicAppliance",
    "BasicFirewall", "BasicLoadBalancer", "IPManager", "SimpleNameManager", "SimpleEntityNameManager",
    "PortMixin", "IPMixin", "SimpleNumManager",
]
