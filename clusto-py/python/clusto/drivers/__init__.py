"""The driver classes of clusto, by the names and paths legacy scripts import.

As in the original, ``clusto.drivers`` gathers everything of its subpackages: the
driver classes, the subpackages and modules themselves (``clusto.drivers.pool``,
``clusto.drivers.servers``, ``clusto.drivers.racks``, ``clusto.drivers.datacenters``…)
and, for ``from clusto.drivers import *``, the exceptions and the schema objects.
"""

from clusto import exceptions as _exceptions
from clusto import schema as _schema
from clusto.drivers import base, categories, devices, locations, resourcemanagers  # noqa: F401
from clusto.drivers.base import *  # noqa: F401,F403
from clusto.drivers.categories import *  # noqa: F401,F403
from clusto.drivers.devices import *  # noqa: F401,F403
from clusto.drivers.locations import *  # noqa: F401,F403
from clusto.drivers.resourcemanagers import *  # noqa: F401,F403
from clusto.exceptions import *  # noqa: F401,F403
from clusto.schema import *  # noqa: F401,F403

# The original's packages re-exported these modules under the package's name.
from clusto.drivers.base import clustometa  # noqa: F401,E402 (the module, not a class)

__all__ = sorted(
    {"base", "categories", "devices", "locations", "resourcemanagers"}
    | set(base.__all__) | set(categories.__all__) | set(devices.__all__) | set(locations.__all__)
    | set(resourcemanagers.__all__) | set(_exceptions.__all__) | set(_schema.__all__)
)
