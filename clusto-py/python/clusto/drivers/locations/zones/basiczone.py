"""``clusto.drivers.locations.zones.basiczone``."""

from clusto.drivers.base import Location

__all__ = ["BasicZone", "Location"]


class BasicZone(Location):
    """A zone in a datacenter."""

    _driver_name = "basiczone"
    _clusto_type = "zone"
