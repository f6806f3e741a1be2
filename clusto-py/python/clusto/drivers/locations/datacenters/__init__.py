"""``clusto.drivers.locations.datacenters``: datacenters and cages."""

from clusto.drivers.locations.datacenters import basiccage, basicdatacenter  # noqa: F401
from clusto.drivers.locations.datacenters.basiccage import *  # noqa: F401,F403
from clusto.drivers.locations.datacenters.basicdatacenter import *  # noqa: F401,F403

__all__ = sorted(set(basiccage.__all__) | set(basicdatacenter.__all__) | {"basiccage", "basicdatacenter"})
