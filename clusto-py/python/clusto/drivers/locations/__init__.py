"""Locations: datacenters, cages, zones and racks."""

from clusto.drivers.base import Driver
from clusto.schema import SESSION, Entity


class Location(Driver):
    """A place: a thing may be in one location of each driver."""

    _driver_name = "location"
    _clusto_type = "location"


class BasicDatacenter(Location):
    """A datacenter."""

    _driver_name = "basicdatacenter"
    _clusto_type = "datacenter"


class BasicCage(Location):
    """A cage in a datacenter."""

    _driver_name = "basiccage"
    _clusto_type = "cage"


class BasicZone(Location):
    """A zone in a datacenter."""

    _driver_name = "basiczone"
    _clusto_type = "zone"


def _units(rackU):
    if isinstance(rackU, bool) or not isinstance(rackU, (int, list, tuple)):
        raise TypeError("rackU must be an int or a list of ints, not %r" % (rackU,))
    units = [rackU] if isinstance(rackU, int) else list(rackU)
    if not all(isinstance(u, int) and not isinstance(u, bool) for u in units):
        raise TypeError("rack units must be ints: %r" % (rackU,))
    return units


class BasicRack(Location):
    """A rack: devices occupy rack units ``minu..maxu``."""

    _driver_name = "basicrack"
    _clusto_type = "rack"
    _properties = {"minu": 1, "maxu": 45}

    def insert(self, device, rackU):
        """Racks ``device`` at one unit or a list of adjacent units."""
        from clusto.drivers.devices import Device

        if not isinstance(device, Device):
            raise TypeError("only a Device can be racked, not %r" % (device,))
        SESSION.db.rack_insert(self._id(), device._id(), _units(rackU))

    def get_device_in(self, rackU):
        """The device in unit ``rackU``, or None."""
        (unit,) = _units(rackU)[:1] or [None]
        row = SESSION.db.device_in(self._id(), unit)
        return Driver(Entity(row)) if row else None

    @classmethod
    def get_rack_and_u(cls, device):
        """``{'rack': rack, 'RU': [units]}`` of a racked device, or None."""
        slot = SESSION.db.rack_slot(Driver(device)._id())
        if slot is None:
            return None
        rack, units = slot
        return {"rack": Driver(Entity(rack)), "RU": units}


__all__ = ["Location", "BasicDatacenter", "BasicCage", "BasicZone", "BasicRack"]
