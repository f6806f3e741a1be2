"""``clusto.drivers.devices.common``: the mixins devices are made of."""

from clusto.drivers.devices.common import ipmixin, portmixin  # noqa: F401
from clusto.drivers.devices.common.ipmixin import *  # noqa: F401,F403
from clusto.drivers.devices.common.portmixin import *  # noqa: F401,F403

__all__ = sorted(set(ipmixin.__all__) | set(portmixin.__all__) | {"ipmixin", "portmixin"})
