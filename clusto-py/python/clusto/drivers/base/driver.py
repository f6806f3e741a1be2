"""The Driver base class: a proxy around one entity, with the attribute, containment and
reference API of the original clusto. Every rule is the Rust core's; this module
converts arguments and results."""

import re
from enum import IntEnum

from clusto import _clusto
from clusto.drivers.base.clustodriver import DRIVERLIST, TYPELIST, ClustoDriver
from clusto.exceptions import DriverException, NameException  # noqa: F401 (the original exported them here)
from clusto.schema import SESSION, Attribute, Entity, attribute, attributes, from_native, to_native
from clusto.util import Py2Tuple, batch  # noqa: F401 (the original exported batch here)

__all__ = ["Driver", "DRIVERLIST", "TYPELIST", "ClustoDriver", "DriverException", "NameException", "Entity",
           "Attribute", "batch"]

_NOT_GIVEN = ()


class SubkeyMatch(IntEnum):
    """How a filter matches subkeys (the native ``Filter``'s ``subkey_mode``)."""

    ANY = 0
    NULL = 1
    EXACT = 2
    GLOB = 3


class NumberMatch(IntEnum):
    """How a filter matches numbers (the native ``Filter``'s ``number_mode``)."""

    ANY = 0
    NULL = 1
    ANY_NUMBER = 2
    EXACT = 3


class NumberSpec(IntEnum):
    """How a new attribute is numbered (``number_mode`` of the native writes)."""

    NONE = 0
    NEXT = 1
    EXACT = 2


def _number_mode(number):
    """The native (mode, number) of the original's number argument."""
    if number is _NOT_GIVEN:
        return NumberMatch.ANY, 0
    if number is None or number is False:
        return NumberMatch.NULL, 0
    if number is True:
        return NumberMatch.ANY_NUMBER, 0
    return NumberMatch.EXACT, int(number)


def _query_result(rows, sort_by_keys, count):
    """The attributes of an ``attr_query`` as the original returned them: sorted by key
    when asked, or only their number with ``count``."""
    result = attributes(rows)
    if sort_by_keys:
        result.sort(key=lambda a: a.key)
    return len(result) if count else result


def make_filter(key=(), value=(), subkey=(), number=(), ignore_hidden=True, glob=False):
    """A native filter from the original's arguments: ``()`` means not given, ``None`` is
    SQL NULL, ``number=True`` means any number."""
    number_mode, number_value = _number_mode(number)
    if subkey is _NOT_GIVEN:
        subkey_mode, subkey_text = SubkeyMatch.ANY, None
    elif subkey is None:
        subkey_mode, subkey_text = SubkeyMatch.NULL, None
    else:
        subkey_mode, subkey_text = (SubkeyMatch.GLOB if glob else SubkeyMatch.EXACT), subkey
    has_value = value is not _NOT_GIVEN
    return _clusto.Filter(
        key=None if key is _NOT_GIVEN or key is None else key,
        key_glob=glob,
        subkey_mode=subkey_mode,
        subkey=subkey_text,
        number_mode=number_mode,
        number=number_value,
        has_value=has_value,
        value=to_native(value) if has_value else None,
        include_hidden=not ignore_hidden,
    )


def _names(items, attr):
    """Names from a list of classes (their ``attr``) or strings."""
    out = []
    for item in items or ():
        out.append(item if isinstance(item, str) else getattr(item, attr))
    return out


def wrap_entity(row):
    """The driver of one native entity row: ``Driver(Entity(row))``."""
    return _clusto.wrap_entity(row)


class Driver(metaclass=ClustoDriver):
    """A proxy around one entity.

    ``Driver('name', **props)`` creates a new entity of this class's driver;
    ``Driver(entity)`` wraps an existing one in its registered class."""

    _driver_name = "entity"
    _clusto_type = "generic"
    _properties = {}

    def __new__(cls, name_or_entity, **kwargs):
        if isinstance(name_or_entity, Driver):
            return name_or_entity
        if isinstance(name_or_entity, Entity):
            target = DRIVERLIST.get(name_or_entity.driver, Driver)
            obj = object.__new__(target)
            object.__setattr__(obj, "_entity", name_or_entity)
            return obj
        if isinstance(name_or_entity, str):
            props = cls.all_properties()
            given = [(k, to_native(v)) for k, v in kwargs.items() if k in props and v is not None]
            row = SESSION.db.create(cls._driver_name, name_or_entity, given)
            obj = object.__new__(cls)
            object.__setattr__(obj, "_entity", Entity(row))
            return obj
        raise TypeError("a Driver takes a name, an Entity or a Driver, not %r" % (name_or_entity,))

    def __init__(self, name_or_entity=None, **kwargs):
        """Everything happens in ``__new__``; kept so subclasses may call it."""

    @classmethod
    def all_properties(cls):
        """Property names and defaults: the ``_properties`` of the class, or of its
        nearest base that declares them (a class that declares ``_properties`` replaces
        its bases', as in the original: BasicServer has model and manufacturer, not
        Device's serialnum)."""
        return dict(getattr(cls, "_properties", None) or {})

    # identity -----------------------------------------------------------------------

    @property
    def entity(self):
        """The wrapped entity row."""
        return self._entity

    @property
    def name(self):
        """The entity's name."""
        return self._entity.name

    @property
    def type(self):
        """The entity's clusto type."""
        return self._entity.type

    @property
    def driver(self):
        """The entity's driver name."""
        return self._entity.driver

    def _id(self):
        return self._entity.entity_id

    def __eq__(self, other):
        if isinstance(other, (Driver, Entity)):
            return self.name == other.name
        return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def _order(self, other):
        """The names to compare, as the original ordered drivers: by name, any driver
        after None; TypeError against anything without a name."""
        if other is None:
            return 1, 0
        name = getattr(other, "name", None)
        if not isinstance(name, str):
            raise TypeError("cannot compare %s with %s" % (type(self).__name__, type(other).__name__))
        return self.name, name

    def __lt__(self, other):
        a, b = self._order(other)
        return a < b

    def __le__(self, other):
        a, b = self._order(other)
        return a <= b

    def __gt__(self, other):
        a, b = self._order(other)
        return a > b

    def __ge__(self, other):
        a, b = self._order(other)
        return a >= b

    def __str__(self):
        return self.name

    def __repr__(self):
        return "%s(name=%s, type=%s, driver=%s)" % (type(self).__name__, self.name, self.type, self.driver)

    def __contains__(self, other):
        return self.has_attr(key="_contains", value=other)

    def __iter__(self):
        return iter(self.contents())

    # properties ---------------------------------------------------------------------

    def __getattr__(self, name):
        if not name.startswith("_") and name in type(self).all_properties():
            return from_native(SESSION.db.property(self._id(), name, at=SESSION.at()))
        raise AttributeError("%r object has no attribute %r" % (type(self).__name__, name))

    def __setattr__(self, name, value):
        if not name.startswith("_") and name in type(self).all_properties():
            SESSION.db.set_property(self._id(), name, to_native(value))
        else:
            object.__setattr__(self, name, value)

    # members of the original kept for its callers --------------------------------------

    @classmethod
    def ensure_driver(cls, obj, msg=None):
        """``obj`` as a Driver: a Driver is returned as it is, an Entity is wrapped in its
        driver; anything else raises TypeError with ``msg`` (or a generic message)."""
        if isinstance(obj, Driver):
            return obj
        if isinstance(obj, Entity):
            return Driver(obj)
        raise TypeError(msg or "%r is not a Driver or an Entity" % (obj,))

    @classmethod
    def attr_filter(cls, attrlist, key=(), value=(), number=(), subkey=(), ignore_hidden=True, sort_by_keys=True,
                    regex=False, clusto_types=None, clusto_drivers=None):
        """Filters a list of Attributes the way ``attrs()`` filters an entity's: key,
        value and subkey by equality (by ``re.match`` with ``regex``), ``number`` True
        for any number, False/None for none, an int for that number; hidden keys
        (``_…``) dropped unless ``ignore_hidden`` is false or the key asked for is
        hidden; ``clusto_types``/``clusto_drivers`` keep relations whose target has one
        of those types/drivers; sorted by key (stable) with ``sort_by_keys``."""
        if number is not _NOT_GIVEN and not (number is None or isinstance(number, (bool, int))):
            raise TypeError("number must be a boolean, None or an integer, not %r" % (number,))
        result = list(attrlist)
        for wanted, field in ((key, "key"), (subkey, "subkey"), (value, "value")):
            if wanted is _NOT_GIVEN:
                continue
            if regex:
                pattern = re.compile(wanted)
                result = [a for a in result
                          if getattr(a, field) is not None and pattern.match(str(getattr(a, field)))]
            else:
                result = [a for a in result if getattr(a, field) == wanted]
        if number is not _NOT_GIVEN:
            if number is True:
                result = [a for a in result if a.number is not None]
            elif number is None or number is False:
                result = [a for a in result if a.number is None]
            else:
                result = [a for a in result if a.number == number]
        if isinstance(key, str) and key.startswith("_"):
            ignore_hidden = False
        if ignore_hidden:
            result = [a for a in result if not a.key.startswith("_")]
        if clusto_drivers:
            drivers = set(_names(clusto_drivers, "_driver_name"))
            result = [a for a in result if a.is_relation and a.value.driver in drivers]
        if clusto_types:
            types = set(_names(clusto_types, "_clusto_type"))
            result = [a for a in result if a.is_relation and a.value.type in types]
        if sort_by_keys:
            result.sort(key=lambda a: a.key)
        return result

    def expire(self, *args, **kwargs):
        """Kept for compatibility: the original dropped memcache entries here. Every read
        of this clusto sees the committed data, so there is nothing to expire."""

    def update_metadata(self, *args, **kwargs):
        """Kept for compatibility: a hook the original called and left empty."""

    # attributes ---------------------------------------------------------------------

    def attrs(self, key=(), value=(), number=(), subkey=(), ignore_hidden=True, sort_by_keys=True,
              regex=False, clusto_types=None, clusto_drivers=None, merge_container_attrs=False):
        """The entity's attributes matching the filters (reference §6)."""
        if regex:
            native = make_filter(number=number, ignore_hidden=ignore_hidden)
        else:
            native = make_filter(key, value, subkey, number, ignore_hidden)
        rows = SESSION.db.attrs(self._id(), native, merged=merge_container_attrs, at=SESSION.at())
        result = attributes(rows)
        if regex:
            def matches(pattern, text):
                return pattern is _NOT_GIVEN or (text is not None and re.match(pattern, str(text)) is not None)

            result = [a for a in result if matches(key, a.key) and matches(subkey, a.subkey)
                      and (value is _NOT_GIVEN or matches(value, a.value))]
        if clusto_types or clusto_drivers:
            types = set(_names(clusto_types, "_clusto_type"))
            drivers = set(_names(clusto_drivers, "_driver_name"))
            result = [a for a in result if a.is_relation and
                      ((types and a.value.type in types) or (drivers and a.value.driver in drivers))]
        if sort_by_keys:
            result.sort(key=lambda a: a.key)
        return result

    def attr_values(self, *args, **kwargs):
        """The values of ``attrs(...)``."""
        return [a.value for a in self.attrs(*args, **kwargs)]

    def attr_keys(self, *args, **kwargs):
        """The keys of ``attrs(...)``."""
        return [a.key for a in self.attrs(*args, **kwargs)]

    def attr_key_tuples(self, *args, **kwargs):
        """The ``(key, number, subkey)`` of ``attrs(...)``."""
        return [a.keytuple for a in self.attrs(*args, **kwargs)]

    def attr_items(self, *args, **kwargs):
        """``[((key, number, subkey), value)]`` of ``attrs(...)``; the pairs order as
        Python 2 did (``clusto.util.Py2Tuple``), so ``sorted()`` of them works with
        mixed numbers and values as it did in the original."""
        return [Py2Tuple((a.keytuple, a.value)) for a in self.attrs(*args, **kwargs)]

    def attr_value(self, *args, **kwargs):
        """The single matching value, or ``default``; several are a DriverException
        (with merge_container_attrs, the first wins)."""
        default = kwargs.pop("default", None)
        values = self.attr_values(*args, **kwargs)
        if not values:
            return default
        if len(values) > 1 and not kwargs.get("merge_container_attrs"):
            raise DriverException("more than one value matches in %s" % self.name)
        return values[0]

    def attr_query(self, key=(), value=(), number=(), start_timestamp=(), end_timestamp=(), subkey=(),
                   ignore_hidden=True, sort_by_keys=False, glob=False, count=False, return_query=False):
        """The same filters as ``attrs``, with globs (``*``) on key and subkey."""
        rows = SESSION.db.attrs(self._id(), make_filter(key, value, subkey, number, ignore_hidden, glob),
                                at=SESSION.at())
        return _query_result(rows, sort_by_keys, count)

    @classmethod
    def do_attr_query(cls, key=(), value=(), number=(), subkey=(), ignore_hidden=True, sort_by_keys=False,
                      glob=False, count=False, return_query=False, **_ignored):
        """``attr_query`` across every entity."""
        rows = SESSION.db.attr_query(make_filter(key, value, subkey, number, ignore_hidden, glob),
                                     at=SESSION.at())
        return _query_result(rows, sort_by_keys, count)

    @classmethod
    def get_by_attr(cls, *args, **kwargs):
        """The owners of the matching attributes, one per attribute; on a subclass, only
        entities of that class or its subclasses."""
        kwargs.setdefault("ignore_hidden", False)
        owners = [a.entity for a in cls.do_attr_query(*args, **kwargs)]
        drivers = [Driver(e) for e in owners]
        if cls is Driver:
            return drivers
        return [d for d in drivers if isinstance(d, cls)]

    def has_attr(self, *args, **kwargs):
        """Whether ``attr_query(...)`` finds anything."""
        return bool(self.attr_query(*args, **kwargs))

    def add_attr(self, key, value=(), number=(), subkey=()):
        """Adds an attribute; ``number=True`` takes the next number of (entity, key)."""
        if value is _NOT_GIVEN:
            raise TypeError("add_attr needs a value")
        mode, num = self._number_spec(number)
        row = SESSION.db.add_attr(self._id(), key, to_native(value),
                                  subkey=None if subkey is _NOT_GIVEN else subkey, number_mode=mode, number=num)
        return attribute(row)

    @staticmethod
    def _number_spec(number):
        if number is True:
            return NumberSpec.NEXT, 0
        if number is _NOT_GIVEN or number is None or number is False:
            return NumberSpec.NONE, 0
        if hasattr(number, "next") and not isinstance(number, int):
            return NumberSpec.EXACT, number.next()
        return NumberSpec.EXACT, int(number)

    def set_attr(self, key, value, number=False, subkey=None):
        """Replaces the single attribute with this key, number and subkey."""
        mode, num = self._number_spec(number)
        row = SESSION.db.set_attr(self._id(), key, to_native(value), subkey=subkey, number_mode=mode, number=num)
        return attribute(row)

    def del_attrs(self, *args, **kwargs):
        """Deletes what ``attr_query(...)`` matches (with no arguments: every visible
        attribute)."""
        glob = kwargs.pop("glob", False)
        ignore_hidden = kwargs.pop("ignore_hidden", True)
        names = ("key", "value", "number", "subkey")
        given = dict(zip(names, args))
        given.update({k: v for k, v in kwargs.items() if k in names})
        SESSION.db.del_attrs(self._id(), make_filter(ignore_hidden=ignore_hidden, glob=glob, **given))

    def references(self, *args, **kwargs):
        """Attributes of other entities that refer to this one."""
        types = kwargs.pop("clusto_types", None)
        drivers = kwargs.pop("clusto_drivers", None)
        kwargs.setdefault("ignore_hidden", False)
        names = ("key", "value", "number", "subkey")
        filt = dict(zip(names, args))
        filt.update({k: kwargs[k] for k in ("key", "subkey", "number", "ignore_hidden") if k in kwargs})
        filt.pop("value", None)
        rows = SESSION.db.references(self._id(), make_filter(**filt), at=SESSION.at())
        result = attributes(rows)
        if types or drivers:
            tset, dset = set(_names(types, "_clusto_type")), set(_names(drivers, "_driver_name"))
            keep = []
            for a in result:
                owner = a.entity
                if owner.type in tset or owner.driver in dset:
                    keep.append(a)
            result = keep
        return result

    def referencers(self, *args, **kwargs):
        """The distinct entities holding ``references(...)``."""
        seen, out = set(), []
        for a in self.references(*args, **kwargs):
            if a.entity_id not in seen:
                seen.add(a.entity_id)
                out.append(Driver(a.entity))
        return out

    # containment --------------------------------------------------------------------

    def insert(self, thing):
        """Puts ``thing`` into this container, under the container's rules."""
        if not isinstance(thing, (Driver, Entity)):
            raise TypeError("only a Driver or an Entity can be inserted, not %r" % (thing,))
        SESSION.db.insert(self._id(), Driver(thing)._id())

    def remove(self, thing):
        """Takes ``thing`` out of this container."""
        SESSION.db.remove(self._id(), Driver(thing)._id())

    def content_attrs(self, *args, **kwargs):
        """The ``_contains`` attributes matching the filters."""
        kwargs.pop("key", None)
        kwargs.setdefault("ignore_hidden", False)
        return self.attrs("_contains", *args, **kwargs)

    def contents(self, *args, **kwargs):
        """The members (filters on the ``_contains`` attributes; ``clusto_types`` and
        ``clusto_drivers`` on the members; ``search_children`` recurses)."""
        recursive = kwargs.pop("search_children", False)
        types = _names(kwargs.pop("clusto_types", None), "_clusto_type")
        drivers = _names(kwargs.pop("clusto_drivers", None), "_driver_name")
        # Positional arguments follow the key, as in the original: value, number, subkey.
        filt = dict(zip(("value", "number", "subkey"), args))
        filt.update({k: v for k, v in kwargs.items() if k in ("value", "number", "subkey")})
        return SESSION.db.contents(self._id(), make_filter(ignore_hidden=False, **filt), types, drivers,
                                   recursive, at=SESSION.at())

    def parents(self, clusto_types=None, clusto_drivers=None, search_parents=False):
        """The containers of this entity (all ancestors with ``search_parents``)."""
        return SESSION.db.parents(self._id(), _names(clusto_types, "_clusto_type"),
                                  _names(clusto_drivers, "_driver_name"), search_parents, at=SESSION.at())

    def siblings(self, parent_filter=None, parent_kwargs=None, additional_pools=None, **kwargs):
        """Members shared by every pool this entity is in, without it."""
        if parent_filter is None and parent_kwargs is None and not additional_pools:
            return SESSION.db.siblings(self._id())
        from clusto.drivers.categories.pool import Pool

        parents = self.parents(**(parent_kwargs or {"clusto_types": [Pool]}))
        if parent_filter:
            parents = [p for p in parents if parent_filter(p)]
        parents += list(additional_pools or [])
        if not parents:
            return []
        shared = None
        for p in parents:
            members = set(p.contents(**kwargs))
            shared = members if shared is None else shared & members
        return sorted(d for d in shared if d != self)


# The native layer makes the driver objects its queries return: of these classes, the
# class registered for each entity's driver (DRIVERLIST is read at each use).
_clusto.use_driver_classes(Entity, DRIVERLIST, Driver)
