"""Resource managers. ``SimpleNumManager`` lives in
``clusto.drivers.resourcemanagers.simplenummanager``, as in the original."""

from clusto.drivers.resourcemanagers.ipmanager import IPManager
from clusto.drivers.resourcemanagers.resourcemanager import ResourceManager
from clusto.drivers.resourcemanagers.simplenamemanager import SimpleEntityNameManager, SimpleNameManager
from clusto.drivers.resourcemanagers.simplenummanager import SimpleNumManager

__all__ = ["ResourceManager", "IPManager", "SimpleNameManager", "SimpleEntityNameManager", "SimpleNumManager"]
