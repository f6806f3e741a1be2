"""Categories: pools."""

from clusto.drivers.categories.pool import ExclusivePool, Pool, UniquePool

__all__ = ["Pool", "ExclusivePool", "UniquePool"]
