"""The exceptions of clusto: the original hierarchy, plus the builtin bases the original
raised (``LookupError`` for a missing name, ``TypeError`` for refused inserts)."""


class ClustoException(Exception):
    """Base of clusto's own exceptions."""


class DriverException(ClustoException):
    """A driver-level error, e.g. ``set_attr`` matching several attributes."""


class ConnectionException(ClustoException):
    """A port does not exist or is already in use."""


class NameException(ClustoException):
    """An invalid or taken name, key or subkey."""


class ResourceException(ClustoException):
    """A resource manager error."""


class ResourceNotAvailableException(ResourceException):
    """The requested resource is taken, or the manager is exhausted."""


class ResourceTypeException(ResourceException):
    """The resource is not of the manager's kind, or is outside its range."""


class SimpleNameManagerException(ResourceException):
    """A name manager ran out of names."""


class SimpleNumManagerException(ResourceException):
    """A number manager passed its maxnum."""


class PoolException(ClustoException):
    """A pool's membership rule refuses the insert."""


class TransactionException(ClustoException):
    """begin/commit/rollback used out of order, or a write in a rolled-back transaction."""


class ClustoEmptyCommit(ClustoException):
    """Kept for compatibility: an empty commit is silently skipped."""


class ConflictException(ClustoException):
    """The change conflicts with the current state (e.g. a device already racked)."""


class RackConflictError(ConflictException, TypeError):
    """A rack unit is taken, or the device is racked elsewhere: a conflict with the
    state, and a ``TypeError`` as the original raised for a taken unit."""


class LockedException(ClustoException):
    """Another process holds the database."""


class CorruptException(ClustoException):
    """Stored data is corrupt or of an unknown format."""


class NotFoundError(ClustoException, LookupError):
    """A missing entity (a ``LookupError``, as in the original)."""


class InvalidValueError(ClustoException, ValueError, TypeError):
    """A refused value; also a ``TypeError``, which the original raised for bad rack
    units and port numbers."""


class WrongTypeError(ClustoException, TypeError):
    """A thing of the wrong driver for the operation."""


class StorageIOError(ClustoException, OSError):
    """The storage failed."""


class SQLAlchemyAPIError(ClustoException, NotImplementedError):
    """The original's SQLAlchemy session and query API (``Entity.query()``,
    ``Attribute.query()``, ``SESSION.query`` …) is out of scope: this clusto has no SQL
    session. The message names the public functions that answer the same questions."""

    def __init__(self, what):
        super().__init__(
            "%s is the SQLAlchemy query API of the original clusto, which this clusto does not have "
            "(there is no SQL session). Use the public API instead: clusto.get_by_name(name), "
            "clusto.get_by_names(names), clusto.get_entities(names=..., clusto_types=..., clusto_drivers=..., "
            "attrs=[{'key': ..., 'subkey': ..., 'number': ..., 'value': ...}]), Driver.do_attr_query(...) "
            "for attributes across entities, driver.attrs(...) / driver.attr_query(...) for one entity's, "
            "and clusto.history() / clusto.changes(version) for versions." % what
        )


__all__ = [name for name in dir() if name[0].isupper()]
