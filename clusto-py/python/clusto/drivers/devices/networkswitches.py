from clusto.drivers.devices import *  # noqa: F401,F403
