"""The resource manager base class (reference §10)."""

from clusto.drivers.base.clustometa import ClustoMeta
from clusto.drivers.base.driver import Driver, NumberSpec
from clusto.exceptions import ResourceException
from clusto.schema import SESSION, Counter, attribute, attributes, to_native

__all__ = ["ResourceManager", "ClustoMeta", "Counter", "Driver", "ResourceException"]

_NOT_GIVEN = ()


def _defined_in_python_subclass(obj, name):
    """Whether ``name`` is overridden by a class outside this package (a site's own
    driver), so its Python hook must run instead of the core's rule."""
    for klass in type(obj).__mro__:
        if name in klass.__dict__:
            return not klass.__module__.startswith("clusto.")
    return False


class ResourceManager(Driver):
    """Hands out resources and records each allocation on the thing holding it."""

    _driver_name = "resourcemanager"
    _clusto_type = "resourcemanager"
    _attr_name = "resource"
    _record_allocations = True

    def allocator(self, thing=None):
        """The next resource; the base manager has none (name the resource)."""
        raise ResourceException("No allocator for %s: give a resource" % self.name)

    def ensure_type(self, resource, number=True, thing=None):
        """The resource in the form the manager stores it."""
        return resource

    def additional_attrs(self, thing, resource, number):
        """Extra attributes a subclass records with an allocation."""

    def allocate(self, thing, resource=(), number=True, force=False):
        """Allocates ``resource`` (or the next one) to ``thing``; returns the attribute.
        The whole allocation — a site's ``allocator`` and ``ensure_type`` hooks, the
        allocation itself and ``additional_attrs`` — is one transaction: when any part
        fails, nothing of it stays."""
        if not isinstance(thing, Driver):
            raise TypeError("only a Driver can hold a resource, not %r" % (thing,))
        SESSION.db.begin()
        try:
            attr = self._allocate(thing, resource, number, force)
        except BaseException:
            SESSION.db.rollback()
            raise
        SESSION.db.commit()
        if resource is _NOT_GIVEN:
            self.post_automatic_allocation(thing, attr.value, attr.number)
        self.post_allocation(thing, attr.value, attr.number)
        return attr

    def post_automatic_allocation(self, thing, resource, number):
        """Called after an allocation that chose the resource itself has committed, with
        the resource as stored and its number; does nothing unless a subclass makes it."""

    def post_allocation(self, thing, resource, number):
        """Called after every allocation has committed (after
        ``post_automatic_allocation``), with the resource as stored and its number;
        does nothing unless a subclass makes it."""

    def _allocate(self, thing, resource, number, force):
        if resource is _NOT_GIVEN and _defined_in_python_subclass(self, "allocator"):
            chosen = self.allocator(thing) if self.allocator.__code__.co_argcount > 1 else self.allocator()
            resource, number = chosen if isinstance(chosen, tuple) and len(chosen) == 2 else (chosen, number)
        if resource is not _NOT_GIVEN and _defined_in_python_subclass(self, "ensure_type"):
            resource = self.ensure_type(resource, number, thing)
        if number is True or number is None or number is False:
            mode, n = NumberSpec.NEXT, 0
        else:
            mode, n = NumberSpec.EXACT, int(number)
        native = None if resource is _NOT_GIVEN else to_native(resource)
        row = SESSION.db.allocate(self._id(), thing._id(), native, mode, n, force)
        attr = attribute(row)
        if _defined_in_python_subclass(self, "additional_attrs"):
            self.additional_attrs(thing, resource if resource is not _NOT_GIVEN else attr.value, attr.number)
        return attr

    def deallocate(self, thing, resource=(), number=True):
        """Frees ``resource`` (or everything of this manager) held by ``thing``."""
        native = None if resource is _NOT_GIVEN else to_native(resource)
        SESSION.db.deallocate(self._id(), Driver(thing)._id(), native)

    def available(self, resource, number=True, thing=None):
        """Whether nobody holds ``resource``."""
        return SESSION.db.available(self._id(), to_native(resource))

    def owners(self, resource):
        """The drivers holding ``resource``."""
        return SESSION.db.owners(self._id(), to_native(resource))

    @property
    def count(self):
        """How many allocations this manager has recorded."""
        return SESSION.db.allocation_count(self._id())

    @classmethod
    def resources(cls, thing):
        """The resource attributes of ``thing`` from managers of this class."""
        driver = None if cls is ResourceManager else cls._driver_name
        return attributes(SESSION.db.resources_of(Driver(thing)._id(), driver))

    @classmethod
    def get_resource_manager(cls, resource_attr):
        """The manager that recorded a resource attribute."""
        thing = Driver(resource_attr.entity)
        return thing.attr_value(key=resource_attr.key, number=resource_attr.number, subkey="manager")

    def get_resource_number(self, thing, resource):
        """The number of ``thing``'s allocation of ``resource``."""
        for attr in Driver(thing).attrs(self._attr_name, subkey=None, ignore_hidden=False):
            if attr.number is not None and attr.value == resource:
                return attr.number
        raise ResourceException("%s does not hold %r" % (thing, resource))

    def get_resource_attrs(self, thing, resource, key=(), value=()):
        """Extra subkeyed attributes of an allocation."""
        number = self.get_resource_number(thing, resource)
        return Driver(thing).attrs(self._attr_name, value=value, number=number, subkey=key, ignore_hidden=False)

    def add_resource_attr(self, thing, resource, key, value):
        """Adds an extra attribute to an allocation."""
        number = self.get_resource_number(thing, resource)
        return Driver(thing).add_attr(self._attr_name, value, number=number, subkey=key)

    def set_resource_attr(self, thing, resource, key, value):
        """Sets an extra attribute of an allocation."""
        number = self.get_resource_number(thing, resource)
        return Driver(thing).set_attr(self._attr_name, value, number=number, subkey=key)

    def del_resource_attr(self, thing, resource, key, value=()):
        """Deletes an extra attribute of an allocation."""
        number = self.get_resource_number(thing, resource)
        Driver(thing).del_attrs(self._attr_name, value, number=number, subkey=key)

    def get_resource_attr_values(self, thing, resource, key, number=True):
        """The values of an extra attribute of an allocation."""
        return [a.value for a in self.get_resource_attrs(thing, resource, key=key)]
