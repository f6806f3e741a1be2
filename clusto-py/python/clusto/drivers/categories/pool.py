"""Pools: groups of entities with membership rules (reference §9)."""

from clusto.drivers.base import Driver
from clusto.exceptions import PoolException  # noqa: F401 (the original exported it here)
from clusto.schema import *  # noqa: F401,F403 (the original exported the schema names here)
from clusto.schema import SESSION, __all__ as _schema_names


__all__ = ["Pool", "ExclusivePool", "UniquePool", "Driver", "PoolException"] + list(_schema_names)


class Pool(Driver):
    """A group: a thing may be in many pools, but not twice in one, and not in one
    while it is in an exclusive pool."""

    _driver_name = "pool"
    _clusto_type = "pool"

    def is_parent(self, thing):
        """Whether this pool contains ``thing``."""
        return thing in self

    @classmethod
    def get_pools(cls, obj, allPools=True):
        """The pools ``obj`` is in, followed by the pools containing those (recursively
        with ``allPools``); not de-duplicated, as the original."""
        return SESSION.db.pools_of(Driver(obj)._id(), allPools)


class ExclusivePool(Pool):
    """A pool whose members may be in no other pool."""

    _driver_name = "exclusive_pool"


class UniquePool(Pool):
    """A pool of which a thing may be in only one of the same driver."""

    _driver_name = "unique_pool"
