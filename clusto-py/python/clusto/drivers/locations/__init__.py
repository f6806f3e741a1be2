"""``clusto.drivers.locations``: datacenters, cages, zones and racks."""

from clusto.drivers.base import Location  # noqa: F401
from clusto.drivers.locations import datacenters, racks, zones  # noqa: F401
from clusto.drivers.locations.datacenters import *  # noqa: F401,F403
from clusto.drivers.locations.racks import *  # noqa: F401,F403
from clusto.drivers.locations.zones import *  # noqa: F401,F403

__all__ = sorted({"Location", "datacenters", "racks", "zones"}
                 | set(datacenters.__all__) | set(racks.__all__) | set(zones.__all__))
