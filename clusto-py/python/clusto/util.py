"""Small helpers of the original ``clusto.util``, and the Python 2 ordering that listings
of the original relied on.

Python 2 ordered any two values: ``None`` before everything, numbers by value, and
values of different types by the name of their type (so every ``int`` before every
``str``). The original's listings, and the scripts written on it, sorted lists that
mix ``None`` with numbers (an attribute's ``number``, ``subkey``) and ints with
strings (attribute values). Python 3 refuses those comparisons with ``TypeError``.
This package keeps the Python 2 order where the original sorted mixed values: the
``(key, number, subkey)`` tuples it returns compare that way, and ``py2_sort_key``
gives the same order to any list.
"""

import itertools
import numbers

__all__ = ["batch", "py2_sort_key", "Py2Tuple"]


def batch(iterable, size):
    """Yields the items of ``iterable`` in groups of ``size``, each group an iterator
    (the last one may be shorter). ``size`` must be a positive integer."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError("batch size must be a positive integer, not %r" % (size,))
    counter = itertools.count()
    for _, group in itertools.groupby(iterable, lambda _item: next(counter) // size):
        yield group


# Python 2 ranked a number below any other type; other types ranked by type name.
_NONE, _NUMBER, _OTHER = 0, 1, 2


def py2_sort_key(value):
    """A sort key that orders mixed values as Python 2 did: None first, then numbers by
    value, then other values grouped by type name (``datetime`` < ``dict`` < ``list`` <
    ``str`` < ``tuple``), each group in its own order; tuples and lists compare element
    by element with the same rule. ``sorted(values, key=clusto.util.py2_sort_key)``."""
    if value is None:
        return (_NONE,)
    if isinstance(value, numbers.Real):
        return (_NUMBER, value)
    if isinstance(value, (tuple, list)):
        # Python 2 named both str and unicode; scripts ported to 3 only have str.
        name = "tuple" if isinstance(value, tuple) else "list"
        return (_OTHER, name, tuple(py2_sort_key(v) for v in value))
    name = type(value).__name__
    if isinstance(value, str):
        name = "str"
    try:
        value < value  # noqa: B015 (probing whether the type orders at all)
        return (_OTHER, name, value)
    except TypeError:
        # Python 2 fell back on identity for unorderable objects; use the text instead.
        return (_OTHER, name, str(value))


class Py2Tuple(tuple):
    """A tuple that orders against other tuples as Python 2 did (see ``py2_sort_key``),
    so that ``sorted(driver.attr_items())`` works when numbers are mixed with None. It
    is equal to the plain tuple with the same items."""

    __slots__ = ()

    def _key(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return py2_sort_key(tuple(self)), py2_sort_key(tuple(other))

    def __lt__(self, other):
        keys = self._key(other)
        return keys if keys is NotImplemented else keys[0] < keys[1]

    def __le__(self, other):
        keys = self._key(other)
        return keys if keys is NotImplemented else keys[0] <= keys[1]

    def __gt__(self, other):
        keys = self._key(other)
        return keys if keys is NotImplemented else keys[0] > keys[1]

    def __ge__(self, other):
        keys = self._key(other)
        return keys if keys is NotImplemented else keys[0] >= keys[1]
