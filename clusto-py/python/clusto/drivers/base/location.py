"""``clusto.drivers.base.location``: the Location base class."""

from clusto.drivers.base.driver import Driver

__all__ = ["Location", "Driver"]


class Location(Driver):
    """A place: a thing may be in one location of each driver (the core checks it on
    insert and raises TypeError otherwise)."""

    _driver_name = "location"
    _clusto_type = "location"
