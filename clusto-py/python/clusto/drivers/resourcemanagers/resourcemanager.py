"""``clusto.drivers.resourcemanagers.resourcemanager``: the ResourceManager base class,
which the original kept in ``clusto.drivers.base.resourcemanager`` (where it lives)."""

from clusto.drivers.base.resourcemanager import *  # noqa: F401,F403
from clusto.drivers.base.resourcemanager import ResourceManager, __all__  # noqa: F401
