from clusto.drivers.locations import *  # noqa: F401,F403
