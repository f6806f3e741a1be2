"""Name managers: ``basename`` + a zero-padded counter."""

from clusto.drivers.base import Driver
from clusto.drivers.base import ResourceManager, wrap_entity
from clusto.exceptions import ResourceException, ResourceNotAvailableException, SimpleNameManagerException  # noqa: F401
from clusto.schema import SESSION


__all__ = ["SimpleNameManager", "SimpleEntityNameManager", "ResourceManager", "ResourceException",
           "SimpleNameManagerException"]


class SimpleNameManager(ResourceManager):
    """Records names on things (attribute ``simplename``)."""

    _driver_name = "simplenamemanager"
    _attr_name = "simplename"
    _properties = {"basename": "", "digits": 2, "next": 1, "leadingZeros": 1}

    def allocate(self, thing, resource=(), number=True, force=False):
        """Allocates the next name (or ``resource``) to ``thing``."""
        try:
            return super().allocate(thing, resource, number, force)
        except ResourceNotAvailableException as e:
            if resource == ():
                raise SimpleNameManagerException(str(e)) from e
            raise


class SimpleEntityNameManager(SimpleNameManager):
    """Creates entities with the next name."""

    _driver_name = "simpleentitynamemanager"
    _record_allocations = False

    def allocate(self, clustotype, resource=None, number=True):
        """Creates a ``clustotype`` entity named ``resource``, or the next name when
        ``resource`` is empty (None, ``()`` or ``""``, as clusto-apiserver passed it)."""
        if not (isinstance(clustotype, type) and issubclass(clustotype, Driver)):
            raise TypeError("allocate takes a Driver class, not %r" % (clustotype,))
        if resource in (None, (), ""):
            resource = None
        elif not isinstance(resource, str):
            raise TypeError("a name to allocate is a string, not %r" % (resource,))
        try:
            row = SESSION.db.allocate_entity(self._id(), clustotype._driver_name, resource)
        except ResourceNotAvailableException as e:
            raise SimpleNameManagerException(str(e)) from e
        return wrap_entity(row)

    def deallocate(self, thing, resource=(), number=True):
        """Names are freed by deleting their entity."""
        raise Exception("can't deallocate a name created by a SimpleEntityNameManager: delete the entity")
