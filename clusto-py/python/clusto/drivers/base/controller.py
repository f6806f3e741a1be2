"""``clusto.drivers.base.controller``: the original's empty ``Controller`` base class,
kept so that site drivers deriving from it still import."""

__all__ = ["Controller"]


class Controller:
    """A base for site drivers that control hardware (power, consoles); it has no
    behaviour of its own, as in the original."""
