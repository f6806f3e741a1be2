"""``clusto.drivers.locations.datacenters.basiccage``."""

from clusto.drivers.base import Location

__all__ = ["BasicCage", "Location"]


class BasicCage(Location):
    """A cage in a datacenter."""

    _driver_name = "basiccage"
    _clusto_type = "cage"
