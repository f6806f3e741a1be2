"""The driver registry and the metaclass that fills it (the original's
``clusto.drivers.base.clustodriver``)."""

from clusto import _clusto
from clusto.schema import to_native

__all__ = ["ClustoDriver", "DRIVERLIST", "TYPELIST", "RESERVEDATTRS"]

#: Driver name -> class, filled as classes are defined.
DRIVERLIST = {}
#: Type name -> [classes].
TYPELIST = {}
#: Kept for compatibility: the original declared it and never filled it.
RESERVEDATTRS = {}


class ClustoDriver(type):
    """Registers every class that declares a ``_driver_name``: in DRIVERLIST and
    TYPELIST, and in the core's registry (derived from the nearest registered base).
    A second class with a driver name already taken raises KeyError; ``_properties``
    that is not a dict raises TypeError."""

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        driver_name = namespace.get("_driver_name")
        if driver_name is None:
            return
        if not isinstance(getattr(cls, "_properties", {}), dict):
            raise TypeError("_properties of %s is not a dict" % name)
        if driver_name in DRIVERLIST:
            raise KeyError("driver name %r is already registered by %r" % (driver_name, DRIVERLIST[driver_name]))
        if "_clusto_type" not in namespace and "_clustotype" in namespace:
            cls._clusto_type = namespace["_clustotype"]
        DRIVERLIST[driver_name] = cls
        TYPELIST.setdefault(cls._clusto_type, []).append(cls)
        if not _clusto.driver_registered(driver_name):
            parent = next(
                (b._driver_name for b in cls.__mro__[1:] if getattr(b, "_driver_name", None) in DRIVERLIST),
                "entity",
            )
            props = [(k, to_native(v)) for k, v in cls.all_properties().items()]
            ports = [(t, int(m.get("numports", 0))) for t, m in getattr(cls, "_portmeta", {}).items()]
            _clusto.register_driver(driver_name, cls._clusto_type, parent, props, ports or None,
                                    getattr(cls, "_attr_name", None))
