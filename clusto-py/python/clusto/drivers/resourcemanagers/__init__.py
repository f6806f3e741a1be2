"""``clusto.drivers.resourcemanagers``: resource managers (IP addresses, names, numbers).
``SimpleNumManager`` also lives in ``clusto.drivers.resourcemanagers.simplenummanager``,
as in the original."""

from clusto.drivers.resourcemanagers import ipmanager, resourcemanager, simplenamemanager, simplenummanager  # noqa
from clusto.drivers.resourcemanagers.ipmanager import *  # noqa: F401,F403
from clusto.drivers.resourcemanagers.simplenamemanager import *  # noqa: F401,F403
from clusto.drivers.resourcemanagers.simplenummanager import *  # noqa: F401,F403

__all__ = sorted({"ipmanager", "simplenamemanager", "simplenummanager", "resourcemanager"}
                 | set(ipmanager.__all__) | set(simplenamemanager.__all__) | set(simplenummanager.__all__))
