"""``clusto.drivers.locations.datacenters.basicdatacenter``."""

from clusto.drivers.base import Location

__all__ = ["BasicDatacenter", "Location"]


class BasicDatacenter(Location):
    """A datacenter."""

    _driver_name = "basicdatacenter"
    _clusto_type = "datacenter"
