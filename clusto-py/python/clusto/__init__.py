"""clusto: the classic clusto CMDB API on an embedded Rust core.

    import clusto
    from clusto.drivers import BasicServer, Pool

    clusto.connect("/var/lib/clusto/db")      # or a ConfigParser with [clusto] dsn
    clusto.init_clusto()
    web = Pool("web")
    web.insert(BasicServer("s1"))
"""

import collections
import configparser
import contextlib
import re

from clusto import _clusto, drivers, util  # noqa: F401 (clusto.drivers and clusto.util, as the original)
from clusto.drivers import DRIVERLIST, TYPELIST, ClustoMeta, Driver, IPManager  # noqa: F401
from clusto.drivers.base import make_filter, wrap_entity
from clusto.exceptions import *  # noqa: F401,F403
from clusto.exceptions import DriverException, TransactionException  # noqa: F401
from clusto.schema import (  # noqa: F401
    METADATA, SESSION, VERSION, Attribute, Counter, Entity, latest_version, to_native, working_version,
)

__version__ = _clusto.__version__

driverlist = DRIVERLIST
typelist = TYPELIST

#: A containment edge of ``adjacency_map()``.
Adjacency = collections.namedtuple(
    "Adjacency", "parent_id parent_name parent_type child_id child_name child_type"
)


def connect(config, echo=False, lock_wait=None, wait=None, durability=None, create=False):
    """Opens the database named by ``config``: a ConfigParser with ``[clusto] dsn``, or a
    DSN string (a path, ``lmdb:///path``, ``sled:///path`` or ``memory:``). SQL DSNs of
    the original clusto are refused with a pointer to ``clusto migrate``. ``versioning``
    is accepted and ignored: history is always kept.

    ``wait`` (alias ``lock_wait``): seconds a write waits while another process writes
    (default 5; 0 fails at once). ``durability``: ``immediate`` (default), ``grouped``,
    ``grouped:MS`` or ``periodic:MS``. Both may also be set in ``[clusto]``; arguments win.
    ``create``: make the schema of a ``postgresql://`` database when it has none (as
    ``clusto initdb`` does); embedded databases are always created.
    """
    settings = {}
    if isinstance(config, configparser.RawConfigParser):
        dsn = config.get("clusto", "dsn")
        for key in ("wait", "durability"):
            if config.has_option("clusto", key):
                settings[key] = config.get("clusto", key)
    else:
        dsn = str(config)
    if wait is None:
        wait = lock_wait
    if wait is not None:
        settings["wait"] = str(float(wait))
    if durability is not None:
        settings["durability"] = str(durability)
    if create:
        settings["create"] = "true"
    disconnect()
    SESSION.native = _clusto.Session(dsn, list(settings.items()))
    SESSION.native.set_meta(SESSION.clusto_user, SESSION.clusto_description)
    SESSION.clusto_version = None


def disconnect():
    """Closes the session."""
    if SESSION.native is not None:
        SESSION.native.clear()
    SESSION.native = None


def checkDBcompatibility(dbver):
    """Whether a database of schema version ``dbver`` is the schema this clusto keeps."""
    return dbver == VERSION


def init_clusto():
    """Creates the clustometa singleton with the schema version; idempotent (nothing
    changes, and no version is made, when it exists). On a new database it takes two
    versions, as the original's did (the entity, then its ``schemaversion``), so
    ``get_latest_version_number()`` is 2 afterwards, as scripts of the original expect."""
    SESSION.db.init_clusto()


def clear():
    """Drops this thread's open transaction, whatever its depth."""
    SESSION.db.clear()


def flush():
    """Kept for compatibility: every call is already applied."""


def begin_transaction():
    """Begins a transaction (or a nested level)."""
    SESSION.db.begin()


def commit():
    """Ends a level; the outermost commits."""
    SESSION.db.commit()


def rollback_transaction():
    """Rolls back the whole transaction; outer levels can then only end."""
    SESSION.db.rollback()


@contextlib.contextmanager
def transaction(user=None, description=None):
    """``with clusto.transaction(user=..., description=...):`` commits on success and
    rolls back on an exception."""
    SESSION.db.begin(user, description)
    try:
        yield
    except BaseException:
        SESSION.db.rollback()
        raise
    SESSION.db.commit()


@contextlib.contextmanager
def at_version(version):
    """``with clusto.at_version(v):`` reads the database as it was at version ``v``."""
    previous = SESSION.pin(version)
    try:
        yield
    finally:
        SESSION.pin(previous)


def get_latest_version_number():
    """The newest committed version (0 for an empty database)."""
    return SESSION.db.latest_version()


def commit_stats():
    """(commits, seconds): the commits this process made to the connected database and
    the time its storage spent making them durable."""
    return SESSION.db.commit_stats()


def history(first=None, last=None, user=None):
    """Versions as dicts: version, timestamp (datetime), user, description."""
    import datetime as dt

    out = []
    for row in SESSION.db.versions(first, last, user):
        micros = row.timestamp
        when = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros) if micros is not None else None
        out.append({"version": row.version, "timestamp": when, "user": row.user, "description": row.description})
    return out


def changes(version):
    """What one version changed: dicts with kind, entity, attr and detail."""
    out = []
    for kind, entity, attr, detail in SESSION.db.changes(version):
        out.append({"kind": kind, "entity": Entity(entity), "attr": Attribute(attr) if attr else None,
                    "detail": detail})
    return out


def get_by_name(name, assert_driver=None):
    """The live entity called ``name``, as its driver; LookupError when missing."""
    # find and wrap_entity in one native call: the hottest lookup of legacy scripts.
    driver = SESSION.db.find_driver(name, SESSION.at())
    if driver is None:
        raise LookupError("%s does not exist." % name)
    if assert_driver is not None and not isinstance(driver, assert_driver):
        raise TypeError("%s is a %s, not a %s" % (name, type(driver).__name__, assert_driver.__name__))
    return driver


def get_by_names(names):
    """Drivers aligned with ``names``, None where missing."""
    rows = SESSION.db.find_many(list(names), at=SESSION.at())
    return [wrap_entity(r) if r else None for r in rows]


def _type_names(items):
    """Type names of names, classes or entities; NameError for an unknown name, as the
    original's queries raised."""
    return [get_type_name(i) for i in items or ()]


def _driver_names(items):
    """Driver names of names, classes or entities; NameError for an unknown name."""
    return [get_driver_name(i) for i in items or ()]


def _attr_filter(spec):
    number = spec.get("number", ())
    return make_filter(
        key=spec.get("key") or (),
        value=spec.get("value", ()),
        subkey=spec.get("subkey", ()),
        number=number,
        ignore_hidden=False,
    )


def get_entities(names=(), clusto_types=(), clusto_drivers=(), attrs=()):
    """Entities matching every given list (attribute dicts ORed), as drivers."""
    return SESSION.db.entities(list(names), _type_names(clusto_types), _driver_names(clusto_drivers),
                               [_attr_filter(a) for a in attrs], at=SESSION.at())


def get_by_attr(*args, **kwargs):
    """The owners of the matching attributes, one per attribute."""
    return Driver.get_by_attr(*args, **kwargs)


def _pool(item):
    from clusto.drivers import Pool

    if isinstance(item, str):
        item = get_by_name(item)
    elif not isinstance(item, Driver):
        raise TypeError("%r is not a pool name or a Pool" % (item,))
    if not isinstance(item, Pool):
        raise TypeError("%s is not a Pool" % item.name)
    return item


def get_from_pools(pools, clusto_types=(), clusto_drivers=(), search_children=True):
    """The set of entities in every one of ``pools``."""
    ids = [_pool(p)._id() for p in pools]
    return set(SESSION.db.pool_intersection(ids, _type_names(clusto_types), _driver_names(clusto_drivers),
                                            search_children))


def get_from_entities(entities, clusto_types=(), clusto_drivers=(), search_children=True, assert_driver=None):
    """The set of entities in every one of ``entities`` (any container, or names)."""
    result = None
    for item in entities:
        container = get_by_name(item) if isinstance(item, str) else Driver(item)
        members = set(container.contents(clusto_types=clusto_types, clusto_drivers=clusto_drivers,
                                         search_children=search_children))
        result = members if result is None else result & members
    result = result or set()
    if assert_driver is not None:
        result = {d for d in result if isinstance(d, assert_driver)}
    return result


def get_or_create(name, driver, **kwargs):
    """The entity called ``name``, created as ``driver(name, **kwargs)`` if missing."""
    try:
        return get_by_name(name)
    except LookupError:
        return driver(name, **kwargs)


def get_by_serial(serial):
    """Entities whose ``system/serial`` is ``serial``."""
    return get_entities(attrs=[{"key": "system", "subkey": "serial", "value": serial}])


def get_by_mac(mac):
    """Entities with an attribute of subkey ``mac`` equal to ``mac`` (ports included)."""
    return get_entities(attrs=[{"subkey": "mac", "value": mac}])


def get_by_ip(ip):
    """Entities holding the address ``ip``."""
    return get_entities(attrs=[{"key": "ip", "subkey": "ipstring", "value": ip}])


_MATCHERS = (
    (re.compile(r"^P\d{10}$"), get_by_serial),
    (re.compile(r"^\d{1,3}(\.\d{1,3}){3}$"), lambda ip: DRIVERLIST["ipmanager"].get_devices(ip)),
    (re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$"), get_by_mac),
)


def get(term):
    """A smart lookup: a name, a serial (P + 10 digits), an IPv4 address or a MAC.
    Returns a list, or None when nothing matches."""
    if not isinstance(term, str):
        raise ValueError("get() takes a string")
    try:
        return [get_by_name(term)]
    except LookupError:
        pass
    for pattern, lookup in _MATCHERS:
        if pattern.match(term):
            try:
                found = lookup(term)
            except Exception:
                continue
            if found:
                return list(found)
    return None


def _name(thing):
    if isinstance(thing, str):
        return thing
    if isinstance(thing, (Driver, Entity)):
        return thing.name
    raise TypeError("expected a name, an Entity or a Driver, not %r" % (thing,))


def rename(oldname, newname):
    """Renames an entity: a new row takes the new name, its attributes and every
    reference; the old row ends in the same version."""
    SESSION.db.rename(_name(oldname), newname)


def delete_entity(entity):
    """Deletes an entity (Entity or Driver): references to it go with it."""
    SESSION.db.delete_entity(_name(entity))


def change_driver(thing, driver):
    """Changes an entity's driver and type in place."""
    if not (isinstance(driver, type) and issubclass(driver, Driver)):
        raise DriverException("%r is not a Driver class" % (driver,))
    SESSION.db.change_driver(_name(thing), driver._clusto_type, driver._driver_name)


def get_driver_name(name):
    """The driver name of a name in DRIVERLIST, a Driver class or an Entity."""
    if isinstance(name, str):
        if name in DRIVERLIST:
            return name
        raise NameError("driver %r does not exist" % name)
    if isinstance(name, type) and issubclass(name, Driver):
        return name._driver_name
    if isinstance(name, Entity):
        return name.driver
    if isinstance(name, Driver):
        return name.driver
    raise LookupError("no driver name for %r" % (name,))


def get_type_name(name):
    """The type name of a name in TYPELIST, a Driver class or an Entity."""
    if isinstance(name, str):
        if name in TYPELIST:
            return name
        raise NameError("type %r does not exist" % name)
    if isinstance(name, type) and issubclass(name, Driver):
        return name._clusto_type
    if isinstance(name, (Entity, Driver)):
        return name.type
    raise LookupError("no type name for %r" % (name,))


def get_driver(entity):
    """The driver class of an entity (Driver for an unknown driver)."""
    return DRIVERLIST.get(entity.driver, Driver)


def adjacency_map():
    """Every containment edge as an Adjacency namedtuple."""
    return [
        Adjacency(p.id, p.name, p.type, c.id, c.name, c.type)
        for p, c in SESSION.db.adjacency()
    ]


def migrate(source):
    """Imports a database of the original clusto into the connected database, which
    must be empty. ``source`` is the DSN of the original's clusto.conf: ``sqlite:///path``
    or a path to its SQLite file, ``postgresql://user:password@host:port/db`` or
    ``mysql://user:password@host:port/db`` (``+driver`` suffixes are accepted; MySQL only
    in a package built with the feature ``mysql-migration``, else the ``clusto migrate``
    command reads it). Returns a
    report dict; rows that could not be imported are listed under ``skipped`` with their
    table and id."""
    entities, attributes, counters, versions, skipped, problems = SESSION.db.migrate_sqlite(source)
    return {"entities": entities, "attributes": attributes, "counters": counters,
            "versions": versions, "skipped": skipped, "problems": problems}


def feed(since=0, limit=None, entity=None, key=None, type=None, user=None):
    """The change feed: each version after ``since`` (at most ``limit``), oldest first, as
    a dict ``{version, timestamp, user, description, changes: [{entity, type, kind, change}]}``.
    ``entity``, ``key``, ``type`` and ``user`` keep only the matching changes (and the
    versions that have some). Resuming from the last version seen misses nothing."""
    import json

    return json.loads(SESSION.db.changes_json(since, limit, entity, key, type, user))


def watch(since=None, timeout=None, entity=None, key=None, type=None, user=None):
    """``for version in clusto.watch(since=v):`` yields each version committed after
    ``since`` (default: now) as ``feed()`` gives it, by this process or any other,
    waiting between them without holding the GIL. Ends after ``timeout`` seconds without
    a new version (``None``: never), or quietly on Ctrl-C (KeyboardInterrupt). Entries
    are ``feed()``'s."""
    import time

    if since is None:
        since = get_latest_version_number()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            left = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
            if left <= 0:
                return
            latest = SESSION.db.wait_for_version(since, left)
            if latest <= since:
                continue
            for entry in feed(since, latest - since, entity, key, type, user):
                yield entry
            since = latest
            if timeout is not None:
                deadline = time.monotonic() + timeout
    except KeyboardInterrupt:
        return


def diff(v1, v2=None, names=None):
    """What changed between versions ``v1`` and ``v2`` (default: the latest), of the
    entities ``names`` or of all: ``{from, to, entities: [{name, kind, renamed_from,
    before, after, added, removed, changed}]}``, ``kind`` being created, deleted, renamed
    or changed."""
    import json

    return json.loads(SESSION.db.diff_json(v1, v2, list(names or ())))


def revert(version, force=False):
    """Undoes version ``version`` as a new version: what it created is deleted, what it
    deleted comes back with its attributes and containment, attributes it set go back.
    Refused (``ConflictException``) when a later version touched the same things, unless
    ``force``; refused whatever ``force`` says when a name, rack unit or resource it
    would take back is someone else's now."""
    SESSION.db.revert(version, force)


def restore(names, to):
    """Makes the entities ``names`` as they were at the end of version ``to``, in one new
    version."""
    SESSION.db.restore(list(names), to)


def copy(source, target):
    """Copies the database ``source`` names (a path or DSN), with its full history, into
    the empty database ``target`` names, on any engines: ``clusto.copy("sled:///old",
    "lmdb:///new")`` moves a database of the first release to LMDB."""
    _clusto.copy(str(source), str(target))


def check():
    """The problems the integrity check finds (empty when the database is sound)."""
    return SESSION.db.check()
