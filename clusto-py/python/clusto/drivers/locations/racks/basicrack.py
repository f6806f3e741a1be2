"""``clusto.drivers.locations.racks.basicrack``: racks and their unit slots. The slot
rules (range, adjacency, free units, one rack per device) are the core's; this module
checks the Python argument types, as the original did, and converts."""

from clusto.drivers.base import Device, Driver, Location, wrap_entity
from clusto.exceptions import ConflictException, RackConflictError
from clusto.schema import SESSION

__all__ = ["BasicRack", "Device", "Driver", "Location"]


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _units(rackU):
    """The units of an insert: an int, or a list or tuple of ints (TypeError otherwise)."""
    if _is_int(rackU):
        return [rackU]
    if not isinstance(rackU, (list, tuple)) or not rackU:
        raise TypeError("a rackU must be an integer or a non-empty list or tuple of integers, not %r" % (rackU,))
    if not all(_is_int(u) for u in rackU):
        raise TypeError("a rackU must be an integer or a list or tuple of integers: %r" % (rackU,))
    return list(rackU)


class BasicRack(Location):
    """A rack: devices occupy rack units ``minu..maxu`` (properties, 1 and 45 by
    default). A device taking several units is stored once per unit and listed once
    by ``contents()``."""

    _driver_name = "basicrack"
    _clusto_type = "rack"
    _properties = {"minu": 1, "maxu": 45}

    def insert(self, device, rackU):
        """Racks ``device`` at one unit or a list of adjacent units. TypeError when
        ``device`` is not a Device, a unit is not an int, a unit is out of range or
        taken, the units are not adjacent, or their count differs from the device's
        ``rack_units`` (its driver class's attribute or property, or its attribute)."""
        if not isinstance(device, Device):
            raise TypeError("You can only add Devices to a rack: %r is not a Device" % (device,))
        units = _units(rackU)
        needed = getattr(device, "rack_units", None)
        if _is_int(needed) and needed != len(units):
            raise TypeError("%s is a %dU device, cannot insert it in %dU" % (device.name, needed, len(units)))
        try:
            SESSION.db.rack_insert(self._id(), device._id(), units)
        except ConflictException as e:
            raise RackConflictError(str(e)) from None

    def get_device_in(self, rackU):
        """The device in unit ``rackU`` (a single int, else TypeError), or None."""
        if not _is_int(rackU):
            raise TypeError("RackU must be a single integer. Got: %r" % (rackU,))
        row = SESSION.db.device_in(self._id(), rackU)
        return wrap_entity(row) if row else None

    @classmethod
    def get_rack_and_u(cls, device):
        """``{'rack': rack, 'RU': [units]}`` of a racked device, or None."""
        slot = SESSION.db.rack_slot(Driver.ensure_driver(device)._id())
        if slot is None:
            return None
        rack, units = slot
        return {"rack": wrap_entity(rack), "RU": units}
