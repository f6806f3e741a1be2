"""Number managers: a counter up to ``maxnum``."""

from clusto.drivers.base import ResourceManager
from clusto.exceptions import ResourceException, ResourceNotAvailableException, SimpleNumManagerException  # noqa: F401


__all__ = ["SimpleNumManager", "ResourceManager", "ResourceException", "SimpleNumManagerException"]


class SimpleNumManager(ResourceManager):
    """Hands out ``next``, ``next + 1``, … up to and including ``maxnum``."""

    _driver_name = "simplenummanager"
    _attr_name = "simplenum"
    _properties = {"maxnum": None, "next": 0}

    def allocate(self, thing, resource=(), number=True, force=False):
        """Allocates the next number (or ``resource``) to ``thing``."""
        try:
            return super().allocate(thing, resource, number, force)
        except ResourceNotAvailableException as e:
            if resource == ():
                raise SimpleNumManagerException(str(e)) from e
            raise
