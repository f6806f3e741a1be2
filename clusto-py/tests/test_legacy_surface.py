"""The public surface of the original clusto (github clusto/clusto, src/clusto), listed
as data: every module path legacy scripts import, the names each exported, and the
members of each class. Left out on purpose: the SQLAlchemy objects the original's
modules re-exported (tables, ``and_``, ``select``…), the standard-library modules they
imported (``re``, ``sys``…) and ``IPy``; the README says so."""

import importlib
import inspect

import pytest

import clusto

# module path -> public names the original's module had
MODULES = {
    "clusto": [
        "Adjacency", "Attribute", "ClustoEmptyCommit", "ClustoException", "ClustoMeta", "ConnectionException",
        "Counter", "DRIVERLIST", "Driver", "DriverException", "Entity", "IPManager", "METADATA", "NameException",
        "PoolException", "ResourceException", "ResourceNotAvailableException", "ResourceTypeException", "SESSION",
        "TYPELIST", "TransactionException", "VERSION", "adjacency_map", "begin_transaction", "change_driver",
        "checkDBcompatibility", "clear", "commit", "connect", "delete_entity", "disconnect", "driverlist", "drivers",
        "exceptions", "flush", "get", "get_by_attr", "get_by_ip", "get_by_mac", "get_by_name", "get_by_names",
        "get_by_serial", "get_driver", "get_driver_name", "get_entities", "get_from_entities", "get_from_pools",
        "get_latest_version_number", "get_or_create", "get_type_name", "init_clusto", "latest_version", "rename",
        "rollback_transaction", "schema", "typelist", "working_version",
    ],
    "clusto.schema": [
        "Attribute", "ClustoEmptyCommit", "Counter", "Entity", "METADATA", "SESSION", "VERSION", "latest_version",
        "working_version",
    ],
    "clusto.exceptions": [
        "ClustoException", "ConnectionException", "DriverException", "NameException", "PoolException",
        "ResourceException", "ResourceNotAvailableException", "ResourceTypeException", "TransactionException",
    ],
    "clusto.util": ["batch"],
    "clusto.script_helper": [
        "CmdLineError", "Script", "demodule", "get_conf", "get_logger", "init_arguments", "levels", "load_config",
        "load_plugins", "main", "setup_base_parser",
    ],
    "clusto.drivers": [
        "Attribute", "BasicAppliance", "BasicCage", "BasicConsoleServer", "BasicDatacenter", "BasicNetworkSwitch",
        "BasicPowerStrip", "BasicRack", "BasicServer", "BasicVirtualServer", "BasicZone", "ClustoDriver",
        "ClustoEmptyCommit", "ClustoMeta", "ConnectionException", "Controller", "Counter", "DRIVERLIST", "Device",
        "Driver", "DriverException", "Entity", "ExclusivePool", "IPManager", "IPMixin", "Location", "METADATA",
        "NameException", "Pool", "PoolException", "PortMixin", "RESERVEDATTRS", "ResourceException",
        "ResourceManager", "ResourceNotAvailableException", "ResourceTypeException", "SESSION",
        "SimpleEntityNameManager", "SimpleNameManager", "SimpleNameManagerException", "TYPELIST", "UniquePool",
        "VERSION", "appliance", "base", "basicappliance", "basiccage", "basicconsoleserver", "basicdatacenter",
        "basicnetworkswitch", "basicpowerstrip", "basicrack", "basicserver", "basiczone", "batch", "categories",
        "clustodriver", "clustometa", "common", "consoleservers", "controller", "datacenters", "device", "devices",
        "driver", "ipmanager", "ipmixin", "latest_version", "location", "locations", "networkswitches", "pool",
        "portmixin", "powerstrips", "racks", "resourcemanager", "resourcemanagers", "servers", "simplenamemanager",
        "working_version", "zones",
    ],
    "clusto.drivers.base": [
        "Attribute", "ClustoDriver", "ClustoMeta", "Controller", "Counter", "DRIVERLIST", "Device", "Driver",
        "DriverException", "Entity", "Location", "NameException", "RESERVEDATTRS", "ResourceException",
        "ResourceManager", "TYPELIST", "VERSION", "batch", "clustodriver", "clustometa", "controller", "device",
        "driver", "location", "resourcemanager",
    ],
    "clusto.drivers.base.driver": [
        "Attribute", "ClustoDriver", "DRIVERLIST", "Driver", "DriverException", "Entity", "NameException", "batch",
    ],
    "clusto.drivers.base.clustodriver": ["ClustoDriver", "DRIVERLIST", "RESERVEDATTRS", "TYPELIST"],
    "clusto.drivers.base.clustometa": ["ClustoMeta", "Driver", "VERSION"],
    "clusto.drivers.base.device": ["Device", "Driver"],
    "clusto.drivers.base.location": ["Driver", "Location"],
    "clusto.drivers.base.resourcemanager": ["ClustoMeta", "Counter", "Driver", "ResourceException", "ResourceManager"],
    "clusto.drivers.base.controller": ["Controller"],
    "clusto.drivers.categories": ["ExclusivePool", "Pool", "PoolException", "UniquePool", "pool"],
    "clusto.drivers.categories.pool": [
        "Attribute", "Counter", "Driver", "Entity", "ExclusivePool", "Pool", "PoolException", "SESSION",
        "UniquePool", "VERSION", "latest_version", "working_version",
    ],
    "clusto.drivers.devices": [
        "BasicAppliance", "BasicConsoleServer", "BasicNetworkSwitch", "BasicPowerStrip", "BasicServer",
        "BasicVirtualServer", "ConnectionException", "Device", "IPManager", "IPMixin", "PortMixin",
        "ResourceException", "appliance", "basicappliance", "basicconsoleserver", "basicnetworkswitch",
        "basicpowerstrip", "basicserver", "common", "consoleservers", "ipmixin", "networkswitches", "portmixin",
        "powerstrips", "servers",
    ],
    "clusto.drivers.devices.common": [
        "ConnectionException", "IPManager", "IPMixin", "PortMixin", "ResourceException", "ipmixin", "portmixin",
    ],
    "clusto.drivers.devices.common.ipmixin": ["IPManager", "IPMixin", "ResourceException"],
    "clusto.drivers.devices.common.portmixin": ["ConnectionException", "PortMixin"],
    "clusto.drivers.devices.servers": ["BasicServer", "BasicVirtualServer", "basicserver"],
    "clusto.drivers.devices.servers.basicserver": ["BasicServer", "BasicVirtualServer", "Device", "IPMixin",
                                                   "PortMixin"],
    "clusto.drivers.devices.networkswitches": ["BasicNetworkSwitch", "basicnetworkswitch"],
    "clusto.drivers.devices.networkswitches.basicnetworkswitch": ["BasicNetworkSwitch", "Device", "IPMixin",
                                                                  "PortMixin"],
    "clusto.drivers.devices.powerstrips": ["BasicPowerStrip", "basicpowerstrip"],
    "clusto.drivers.devices.powerstrips.basicpowerstrip": ["BasicPowerStrip", "Device", "IPMixin", "PortMixin"],
    "clusto.drivers.devices.consoleservers": ["BasicConsoleServer", "basicconsoleserver"],
    "clusto.drivers.devices.consoleservers.basicconsoleserver": ["BasicConsoleServer", "Device", "IPMixin",
                                                                 "PortMixin"],
    "clusto.drivers.devices.appliance": ["BasicAppliance", "basicappliance"],
    "clusto.drivers.devices.appliance.basicappliance": ["BasicAppliance", "Device", "IPMixin", "PortMixin"],
    "clusto.drivers.locations": [
        "BasicCage", "BasicDatacenter", "BasicRack", "BasicZone", "Device", "Driver", "Location", "basiccage",
        "basicdatacenter", "basicrack", "basiczone", "datacenters", "racks", "zones",
    ],
    "clusto.drivers.locations.datacenters": ["BasicCage", "BasicDatacenter", "basiccage", "basicdatacenter"],
    "clusto.drivers.locations.datacenters.basicdatacenter": ["BasicDatacenter", "Location"],
    "clusto.drivers.locations.datacenters.basiccage": ["BasicCage", "Location"],
    "clusto.drivers.locations.racks": ["BasicRack", "basicrack"],
    "clusto.drivers.locations.racks.basicrack": ["BasicRack", "Device", "Driver", "Location"],
    "clusto.drivers.locations.zones": ["BasicZone", "Location", "basiczone"],
    "clusto.drivers.locations.zones.basiczone": ["BasicZone", "Location"],
    "clusto.drivers.resourcemanagers": [
        "Attribute", "Driver", "IPManager", "ResourceException", "ResourceManager", "ResourceNotAvailableException",
        "ResourceTypeException", "SimpleEntityNameManager", "SimpleNameManager", "SimpleNameManagerException",
        "ipmanager", "simplenamemanager",
    ],
    "clusto.drivers.resourcemanagers.ipmanager": [
        "Attribute", "Driver", "IPManager", "ResourceException", "ResourceManager", "ResourceNotAvailableException",
        "ResourceTypeException",
    ],
    "clusto.drivers.resourcemanagers.simplenamemanager": [
        "ResourceException", "ResourceManager", "SimpleEntityNameManager", "SimpleNameManager",
        "SimpleNameManagerException",
    ],
    "clusto.drivers.resourcemanagers.simplenummanager": [
        "ResourceException", "ResourceManager", "SimpleNumManager", "SimpleNumManagerException",
    ],
}

# (module, class) -> public members the original's class had
MEMBERS = {
    ("clusto.drivers.base", "Driver"): [
        "add_attr", "attr_filter", "attr_items", "attr_key_tuples", "attr_keys", "attr_query", "attr_value",
        "attr_values", "attrs", "content_attrs", "contents", "del_attrs", "do_attr_query", "driver",
        "ensure_driver", "entity", "expire", "get_by_attr", "has_attr", "insert", "name", "parents", "referencers",
        "references", "remove", "set_attr", "siblings", "type", "update_metadata",
    ],
    ("clusto.drivers.base", "Device"): [
        "add_fqdn", "console", "fqdns", "get_by_serial_number", "hostname", "power_off", "power_on",
        "power_reboot", "remove_fqdn",
    ],
    ("clusto.drivers.base", "Location"): ["insert"],
    ("clusto.drivers.base", "ResourceManager"): [
        "add_resource_attr", "additional_attrs", "allocate", "allocator", "available", "count", "deallocate",
        "del_resource_attr", "ensure_type", "get_resource_attr_values", "get_resource_attrs", "get_resource_manager",
        "get_resource_number", "owners", "post_allocation", "post_automatic_allocation", "resources",
        "set_resource_attr",
    ],
    ("clusto.drivers", "IPManager"): [
        "additional_attrs", "allocator", "ensure_type", "get_devices", "get_ip_manager", "get_ip_managers",
        "get_ips", "ipy",
    ],
    ("clusto.drivers", "SimpleNameManager"): ["allocator"],
    ("clusto.drivers", "SimpleEntityNameManager"): ["allocate", "deallocate"],
    ("clusto.drivers.resourcemanagers.simplenummanager", "SimpleNumManager"): ["allocator"],
    ("clusto.drivers", "PortMixin"): [
        "add_port_attr", "connect_ports", "connected_ports", "del_port_attr", "disconnect_port", "free_ports",
        "get_connected", "get_port_attr", "port_exists", "port_free", "port_info", "port_info_tuples",
        "port_types", "ports_connectable", "set_port_attr",
    ],
    ("clusto.drivers", "IPMixin"): ["add_ip", "bind_ip_to_osport", "get_ips", "has_ip"],
    ("clusto.drivers", "Pool"): ["get_pools", "insert", "is_parent"],
    ("clusto.drivers", "ExclusivePool"): ["insert"],
    ("clusto.drivers", "UniquePool"): ["insert"],
    ("clusto.drivers", "BasicRack"): ["get_device_in", "get_rack_and_u", "insert"],
    ("clusto.drivers", "BasicConsoleServer"): ["connect"],
    ("clusto.drivers", "BasicVirtualServer"): ["create", "destroy", "power_off", "power_on", "power_reboot"],
    ("clusto.schema", "Entity"): ["add_attr", "attrs", "counters", "delete", "query", "references"],
    ("clusto.schema", "Attribute"): [
        "delete", "get_type", "get_value_type", "is_relation", "keytuple", "query", "queryarg", "to_tuple", "value",
    ],
    ("clusto.schema", "Counter"): ["delete", "get", "next", "query"],
    ("clusto.script_helper", "Script"): [
        "add_subparser", "config", "debug", "error", "fatal", "get_conf", "info", "init_script", "log", "logger",
        "run", "set_logger", "warn",
    ],
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_has_the_originals_names(module):
    mod = importlib.import_module(module)
    missing = [name for name in MODULES[module] if not hasattr(mod, name)]
    assert missing == [], "%s lacks %s" % (module, missing)


@pytest.mark.parametrize("module,cls", sorted(MEMBERS))
def test_class_has_the_originals_members(module, cls):
    klass = getattr(importlib.import_module(module), cls)
    missing = [name for name in MEMBERS[(module, cls)] if not hasattr(klass, name)]
    assert missing == [], "%s.%s lacks %s" % (module, cls, missing)


def test_star_imports_bring_what_the_originals_did():
    scope = {}
    exec("from clusto.drivers import *", scope)
    for name in ("ResourceException", "PoolException", "DriverException", "BasicServer", "Pool", "Counter",
                 "servers", "pool", "racks", "datacenters"):
        assert name in scope, name
    scope = {}
    exec("from clusto.drivers.base import *", scope)
    for name in ("Device", "Location", "Controller", "Counter", "ClustoMeta", "ResourceManager", "driver",
                 "Driver", "DRIVERLIST"):
        assert name in scope, name
    assert inspect.ismodule(scope["driver"])


def test_reexports_are_the_same_objects():
    import clusto.drivers as drivers
    from clusto.drivers.devices.servers.basicserver import BasicServer
    from clusto.drivers.locations.racks.basicrack import BasicRack
    from clusto.drivers.resourcemanagers.resourcemanager import ResourceManager

    assert drivers.servers.BasicServer is BasicServer is drivers.BasicServer
    assert drivers.racks.BasicRack is BasicRack
    assert drivers.pool.Pool is drivers.Pool
    assert drivers.datacenters.BasicDatacenter is drivers.BasicDatacenter
    assert ResourceManager is drivers.base.ResourceManager
    assert clusto.IPManager is drivers.IPManager and clusto.ClustoMeta is drivers.ClustoMeta
    assert [list(g) for g in clusto.util.batch(range(5), 2)] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError):
        list(clusto.util.batch([1], 0))


def test_every_public_function_and_class_has_a_docstring():
    undocumented = []
    for module in MODULES:
        mod = importlib.import_module(module)
        if not mod.__name__.startswith("clusto"):
            continue
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                if not inspect.getdoc(obj):
                    undocumented.append("%s.%s" % (module, name))
                if inspect.isclass(obj):
                    for member, value in vars(obj).items():
                        if member.startswith("_") or not (inspect.isfunction(value) or isinstance(
                                value, (property, classmethod, staticmethod))):
                            continue
                        if not inspect.getdoc(getattr(value, "__func__", value)):
                            undocumented.append("%s.%s.%s" % (module, name, member))
    assert undocumented == []
