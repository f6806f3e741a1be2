"""The session, entity and attribute objects, and value conversion."""

import datetime as _dt
import json
import sys
import threading

from clusto import _clusto
from clusto.exceptions import ClustoEmptyCommit, SQLAlchemyAPIError, TransactionException  # noqa: F401
from clusto.util import Py2Tuple

__all__ = ["SESSION", "Entity", "Attribute", "Counter", "VERSION", "working_version", "latest_version", "METADATA",
           "ClustoEmptyCommit"]

#: The schema version of the original clusto that this package keeps.
VERSION = 3

#: The original's SQLAlchemy MetaData; there are no SQL tables here, so it is None.
METADATA = None

_EPOCH = _dt.datetime(1970, 1, 1)


class _NotConnected:
    """``SESSION.db`` while clusto is not connected: every use raises."""

    def __getattr__(self, name):
        raise TransactionException("clusto is not connected: call clusto.connect() first")


_NOT_CONNECTED = _NotConnected()


class _Session:
    """The module-global session of the original API.

    ``clusto_user`` and ``clusto_description`` are recorded with the next versions;
    ``clusto_version`` (None: live) makes reads see the database as of that version.
    ``native`` is the native session (None when not connected) and ``db`` the same, or
    an object whose every use raises when not connected: a plain attribute, read on
    every call.
    """

    def __init__(self):
        object.__setattr__(self, "native", None)
        object.__setattr__(self, "db", _NOT_CONNECTED)
        object.__setattr__(self, "clusto_user", None)
        object.__setattr__(self, "clusto_description", None)
        object.__setattr__(self, "clusto_version", None)
        object.__setattr__(self, "_local", threading.local())
        # How many `at_version` blocks are open in all threads: while none is, a read
        # need not look at its thread's local version (a tenth of a get_by_name).
        object.__setattr__(self, "_pinned", 0)
        object.__setattr__(self, "_pin_lock", threading.Lock())

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name == "native":
            object.__setattr__(self, "db", _NOT_CONNECTED if value is None else value)
        if name in ("clusto_user", "clusto_description") and self.native is not None:
            self.native.set_meta(self.clusto_user, self.clusto_description)

    def query(self, *args, **kwargs):
        """The original's ``SESSION`` was an SQLAlchemy session; its query API does not
        exist here and raises SQLAlchemyAPIError naming the public alternatives."""
        raise SQLAlchemyAPIError("SESSION.query")

    def add(self, *args, **kwargs):
        """Not available (SQLAlchemy session API): raises SQLAlchemyAPIError."""
        raise SQLAlchemyAPIError("SESSION.add")

    def execute(self, *args, **kwargs):
        """Not available (SQLAlchemy session API): raises SQLAlchemyAPIError."""
        raise SQLAlchemyAPIError("SESSION.execute")

    def at(self):
        """The version reads see (thread's ``at_version`` first, then the global one)."""
        if not self._pinned:
            return self.clusto_version
        local = getattr(self._local, "version", None)
        return local if local is not None else self.clusto_version

    def pin(self, version):
        """Makes this thread's reads see ``version`` (None: back to the global one);
        returns the thread's previous version."""
        previous = getattr(self._local, "version", None)
        with self._pin_lock:
            object.__setattr__(self, "_pinned", self._pinned + (version is not None) - (previous is not None))
        self._local.version = version
        return previous


SESSION = _Session()

_BASE = None


def _base():
    """``clusto.drivers.base``, imported on first use (it imports this module). Hot paths
    such as ``to_native`` reach it here: an import statement per call cost ~1 µs."""
    global _BASE
    if _BASE is None:
        import clusto.drivers.base

        _BASE = clusto.drivers.base
    return _BASE


def to_native(value):
    """A Python value as the native layer stores it (the original's coercions)."""
    if isinstance(value, _base().Driver):
        return _clusto.Relation(value.entity.id)
    if isinstance(value, Entity):
        return _clusto.Relation(value.id)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if value > sys.maxsize or value < -sys.maxsize - 1:
            raise ValueError("%d does not fit a 64-bit integer" % value)
        return value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        delta = value - _EPOCH
        return _clusto.Datetime((delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds)
    if isinstance(value, (list, dict)):
        return _clusto.Json(json.dumps(value))
    return str(value)


def from_native(value):
    """A native value as the original returned it (relations as drivers)."""
    kind = type(value)
    if kind is _clusto.Relation:
        return driver_for_id(value.id)
    if kind is _clusto.Json:
        return json.loads(value.text)
    if kind is _clusto.Datetime:
        return _EPOCH + _dt.timedelta(microseconds=value.micros)
    return value


def driver_for_id(entity_id):
    """The driver of the entity row ``entity_id``."""
    return _base().wrap_entity(SESSION.db.entity(entity_id))


def datatype_of(value):
    """The datatype name of a native value."""
    kind = type(value)
    if kind is _clusto.Relation:
        return "relation"
    if kind is _clusto.Json:
        return "json"
    if kind is _clusto.Datetime:
        return "datetime"
    if kind is int:
        return "int"
    return "string"


class _Immutable:
    __slots__ = ()

    def __setattr__(self, name, value):
        raise Exception("Not Writable")

    def __delattr__(self, name):
        raise Exception("Not Writable")


class Entity(_Immutable):
    """One entity row: ``id``, ``name``, ``type``, ``driver``, ``version`` and
    ``deleted_at_version``. Equal and ordered by name."""

    __slots__ = ("entity_id", "name", "type", "driver", "version", "deleted_at_version")

    def __init__(self, name, driver="entity", clustotype="entity", type=None):
        """``Entity('name')`` creates and stores a new entity, as the original did:
        driver ``entity`` and type ``entity`` unless ``driver=``/``type=`` (or the
        original's ``clustotype=``) say otherwise, in one version. A live entity of
        that name raises NameException. ``Driver(entity)`` wraps it in its driver.
        (A native ``EntityRow`` is taken as it is, for this package's own use.)"""
        if isinstance(name, str):
            row = _create_entity(name, driver, type if type is not None else clustotype)
        elif isinstance(name, _clusto.EntityRow):
            row = name
        else:
            raise TypeError("an Entity takes a name (str), not %r" % (name,))
        set_slot = object.__setattr__
        set_slot(self, "entity_id", row.id)
        set_slot(self, "name", row.name)
        set_slot(self, "type", row.type)
        set_slot(self, "driver", row.driver)
        set_slot(self, "version", row.version)
        set_slot(self, "deleted_at_version", row.deleted_at)

    @classmethod
    def query(cls, *args, **kwargs):
        """The original's SQLAlchemy query: not available here (SQLAlchemyAPIError,
        which names the public alternatives)."""
        raise SQLAlchemyAPIError("Entity.query()")

    @property
    def references(self):
        """The live attributes of other entities whose value is this entity."""
        rows = SESSION.db.references(self.entity_id, _base().make_filter(ignore_hidden=False), at=SESSION.at())
        return attributes(rows)

    def add_attr(self, key, value=None, subkey=None, number=None):
        """Adds an attribute to this entity (as ``Driver.add_attr``; one version)."""
        return _base().Driver(self).add_attr(key, value, number=number, subkey=subkey)

    @property
    def id(self):
        """The row id."""
        return self.entity_id

    @property
    def attrs(self):
        """The live attributes of this entity, hidden ones included."""
        rows = SESSION.db.attrs(self.entity_id, _base().make_filter(ignore_hidden=False), at=SESSION.at())
        return attributes(rows)

    @property
    def counters(self):
        """The entity's counters."""
        return [Counter(self, key, value) for key, value in SESSION.db.counters(self.entity_id)]

    def delete(self):
        """Deletes the entity (see ``clusto.delete_entity``)."""
        SESSION.db.delete_entity(self.name)

    def __eq__(self, other):
        if isinstance(other, Entity):
            return self.name == other.name
        if isinstance(other, _base().Driver):
            return self.name == other.name
        return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def __lt__(self, other):
        if other is None:
            return False
        if not isinstance(getattr(other, "name", None), str):
            raise TypeError("cannot compare Entity with %s" % type(other).__name__)
        return self.name < other.name

    def __gt__(self, other):
        if other is None:
            return True
        if not isinstance(getattr(other, "name", None), str):
            raise TypeError("cannot compare Entity with %s" % type(other).__name__)
        return self.name > other.name

    def __str__(self):
        return self.name

    def __repr__(self):
        return "Entity(%r, type=%r, driver=%r)" % (self.name, self.type, self.driver)


def attributes(rows):
    """``Attribute(row)`` for each native ``AttrRow``, made natively."""
    return _clusto.wrap_attrs(rows, Attribute)


def attribute(row):
    """``Attribute(row)`` for one native ``AttrRow``, made natively."""
    return _clusto.wrap_attr(row, Attribute)


class Attribute(_Immutable):
    """One attribute row. ``value`` is a driver for a relation, the decoded object for
    json, a datetime for a datetime. Equality compares key, subkey and value (not the
    number); ordering is by key."""

    __slots__ = ("attr_id", "entity_id", "key", "subkey", "number", "_raw", "version", "deleted_at_version")

    def __init__(self, row):
        """From a native ``AttrRow``."""
        set_slot = object.__setattr__
        set_slot(self, "attr_id", row.id)
        set_slot(self, "entity_id", row.entity_id)
        set_slot(self, "key", row.key)
        set_slot(self, "subkey", row.subkey)
        set_slot(self, "number", row.number)
        set_slot(self, "_raw", row.value)
        set_slot(self, "version", row.version)
        set_slot(self, "deleted_at_version", row.deleted_at)

    @property
    def value(self):
        """The value, converted as the original returned it."""
        return from_native(self._raw)

    @property
    def datatype(self):
        """``int``, ``string``, ``datetime``, ``relation`` or ``json``."""
        return datatype_of(self._raw)

    @property
    def is_relation(self):
        """Whether the value is a relation."""
        return type(self._raw) is _clusto.Relation

    @property
    def relation_value(self):
        """The related entity's driver, for a relation."""
        return self.value if self.is_relation else None

    @property
    def entity(self):
        """The owning entity."""
        return Entity(SESSION.db.entity(self.entity_id))

    @property
    def keytuple(self):
        """``(key, number, subkey)``, ordered against other tuples as Python 2 did
        (None before numbers), so lists of them sort as they did in the original."""
        return Py2Tuple((self.key, self.number, self.subkey))

    @property
    def to_tuple(self):
        """``(key, number, subkey, value)``, ordered as Python 2 did (see keytuple)."""
        return Py2Tuple((self.key, self.number, self.subkey, self.value))

    @classmethod
    def query(cls, *args, **kwargs):
        """The original's SQLAlchemy query: not available here (SQLAlchemyAPIError,
        which names the public alternatives)."""
        raise SQLAlchemyAPIError("Attribute.query()")

    @classmethod
    def queryarg(cls, *args, **kwargs):
        """The original's SQLAlchemy filter builder: not available (SQLAlchemyAPIError)."""
        raise SQLAlchemyAPIError("Attribute.queryarg()")

    @classmethod
    def get_type(cls, value):
        """The datatype a value is stored as: ``int``, ``string``, ``datetime``,
        ``relation`` or ``json`` (anything else is stored as its string form)."""
        return datatype_of(to_native(value))

    def get_value_type(self, value=None):
        """The original's column name for the value: ``<datatype>_value`` (json values
        lived in ``string_value``)."""
        kind = self.datatype if value is None else self.get_type(value)
        return ("string" if kind == "json" else kind) + "_value"

    def delete(self):
        """Deletes this attribute (one version). Attributes of the same entity identical
        to it (same key, number, subkey and value) go with it: nothing tells them apart
        through this API."""
        number = self.number if self.number is not None else None
        _base().Driver(self.entity).del_attrs(key=self.key, value=self.value, number=number, subkey=self.subkey,
                                      ignore_hidden=False)

    def __eq__(self, other):
        if not isinstance(other, Attribute):
            return NotImplemented
        return (self.key, self.subkey, self._raw) == (other.key, other.subkey, other._raw)

    def __hash__(self):
        return hash((self.key, self.subkey))

    def __lt__(self, other):
        return self.key < other.key

    def __repr__(self):
        return "Attribute(%r, subkey=%r, number=%r, value=%r)" % (self.key, self.subkey, self.number, self.value)


class Counter:
    """A named integer per (entity, key). ``next()`` increments atomically and returns
    the new value; counters never go back."""

    def __init__(self, entity, key, start=0):
        self.entity = entity if isinstance(entity, Entity) else entity.entity
        self.attr_key = key
        if SESSION.db.counter(self.entity.id, key) is None:
            SESSION.db.counter_set(self.entity.id, key, start)

    @classmethod
    def query(cls, *args, **kwargs):
        """The original's SQLAlchemy query: not available here (SQLAlchemyAPIError)."""
        raise SQLAlchemyAPIError("Counter.query()")

    @classmethod
    def get(cls, entity, key, default=0):
        """The counter, created at ``default`` when missing."""
        return cls(entity, key, default)

    @property
    def value(self):
        """The current value."""
        return SESSION.db.counter(self.entity.id, self.attr_key)

    def next(self):
        """Increments and returns the new value."""
        return SESSION.db.counter_next(self.entity.id, self.attr_key, 0)

    def delete(self):
        """Removes the counter."""
        SESSION.db.counter_delete(self.entity.id, self.attr_key)


def _create_entity(name, driver, type_name):
    """Creates the entity row ``name`` with exactly this driver and type, in one version."""
    db = SESSION.db
    db.begin()
    try:
        db.create("entity", name, [])
        row = db.change_driver(name, type_name, driver)
    except BaseException:
        db.rollback()
        raise
    db.commit()
    return row


def working_version():
    """The version the next write transaction will commit as."""
    return SESSION.db.latest_version() + 1


def latest_version():
    """The newest committed version."""
    return SESSION.db.latest_version()
