"""The clustometa singleton: the schema version and the global allocation counters."""

from clusto.drivers.base.driver import Driver, wrap_entity
from clusto.schema import SESSION, VERSION

__all__ = ["ClustoMeta", "Driver", "VERSION"]


class ClustoMeta(Driver):
    """Holds ``schemaversion``; created by ``clusto.init_clusto()``. ``ClustoMeta()``
    with no argument is the singleton, as in the original (created if missing)."""

    _driver_name = "clustometa"
    _clusto_type = "clustometa"
    _properties = {"schemaversion": None}

    def __new__(cls, name_or_entity=None, **kwargs):
        if name_or_entity is None:
            row = SESSION.db.find(cls._driver_name)
            if row is None:
                row = SESSION.db.init_clusto()
            return wrap_entity(row)
        return super().__new__(cls, name_or_entity, **kwargs)
