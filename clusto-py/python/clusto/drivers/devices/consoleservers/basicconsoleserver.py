"""``clusto.drivers.devices.consoleservers.basicconsoleserver``."""

from clusto.drivers.base import Device
from clusto.drivers.devices.common import IPMixin, PortMixin

__all__ = ["BasicConsoleServer"]


class BasicConsoleServer(IPMixin, PortMixin, Device):
    """A console server: one power port, one network port, 24 serial ports."""

    _driver_name = "basicconsoleserver"
    _clusto_type = "consoleserver"
    _portmeta = {"pwr-nema-5": {"numports": 1}, "nic-eth": {"numports": 1}, "console-serial": {"numports": 24}}

    def connect(self, port, num, ssh_user="root"):
        """Opens the console on serial port ``num``. The generic console server cannot
        (NotImplementedError): a driver for your hardware subclasses this one and
        implements it; ``Device.console()`` calls it."""
        raise NotImplementedError(
            "%s is a generic console server: connecting to %s:%s needs a driver for the hardware "
            "(a subclass of BasicConsoleServer that implements connect)" % (self.name, port, num)
        )
