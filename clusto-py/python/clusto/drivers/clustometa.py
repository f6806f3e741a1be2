"""The clustometa singleton: the schema version and the global allocation counters."""

from clusto.drivers.base import Driver


class ClustoMeta(Driver):
    """Holds ``schemaversion``; created by ``clusto.init_clusto()``."""

    _driver_name = "clustometa"
    _clusto_type = "clustometa"
    _properties = {"schemaversion": None}
