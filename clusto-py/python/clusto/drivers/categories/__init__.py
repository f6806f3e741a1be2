"""``clusto.drivers.categories``: pools."""

from clusto.drivers.categories import pool  # noqa: F401
from clusto.drivers.categories.pool import *  # noqa: F401,F403

__all__ = sorted({"pool"} | set(pool.__all__))
