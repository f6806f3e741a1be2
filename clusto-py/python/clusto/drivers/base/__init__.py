"""``clusto.drivers.base``: the Driver base class and the bases of the driver families
(Device, Location, ResourceManager, ClustoMeta, Controller), as the original laid them
out: ``from clusto.drivers.base import *`` brings all of them, their modules and the
names those modules exported."""

from clusto.drivers.base import (  # noqa: F401 (the submodules are part of the surface)
    clustodriver, clustometa, controller, device, driver, location, resourcemanager,
)
from clusto.drivers.base.clustodriver import *  # noqa: F401,F403
from clusto.drivers.base.clustometa import *  # noqa: F401,F403
from clusto.drivers.base.controller import *  # noqa: F401,F403
from clusto.drivers.base.device import *  # noqa: F401,F403
from clusto.drivers.base.driver import *  # noqa: F401,F403
from clusto.drivers.base.driver import make_filter, wrap_entity  # noqa: F401 (used by the package)
from clusto.drivers.base.location import *  # noqa: F401,F403
from clusto.drivers.base.resourcemanager import *  # noqa: F401,F403
from clusto.schema import VERSION  # noqa: F401 (the original exported it here)

__all__ = sorted(
    set(clustodriver.__all__) | set(clustometa.__all__) | set(controller.__all__) | set(device.__all__)
    | set(driver.__all__) | set(location.__all__) | set(resourcemanager.__all__)
    | {"clustodriver", "clustometa", "controller", "device", "driver", "location", "resourcemanager", "VERSION"}
)
