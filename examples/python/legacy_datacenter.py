#!/usr/bin/env python3
"""A data-center build written the way legacy clusto automation is written: a config
file, module functions, driver classes, SESSION user and description, and queries.

Usage: legacy_datacenter.py [clusto.conf]
"""

import sys
from configparser import ConfigParser

import clusto
from clusto.drivers import (
    BasicDatacenter, BasicNetworkSwitch, BasicPowerStrip, BasicRack, BasicServer, IPManager, Pool,
    SimpleEntityNameManager, UniquePool,
)
from clusto.drivers.resourcemanagers.simplenummanager import SimpleNumManager


def build():
    clusto.SESSION.clusto_user = "ops"
    clusto.SESSION.clusto_description = "build iad1"
    dc = clusto.get_or_create("iad1", BasicDatacenter)
    mgmt = IPManager("iad1-mgmt", baseip="10.11.0.0", netmask="255.255.252.0", gateway="10.11.0.1")
    names = SimpleEntityNameManager("iad1-servernames", basename="iad1-s", digits=4)
    vlans = SimpleNumManager("vlan-ids", next=100, maxnum=4094)
    web, db = Pool("web"), Pool("db")
    prod = UniquePool("env-prod")
    web.add_attr("puppet", "role::web", subkey="class")
    clusto.begin_transaction()
    try:
        for r in range(1, 3):
            rack = BasicRack("iad1-r%02d" % r, maxu=42)
            dc.insert(rack)
            pdu = BasicPowerStrip("iad1-r%02d-pdu" % r)
            switch = BasicNetworkSwitch("iad1-r%02d-sw" % r)
            rack.insert(pdu, 1)
            rack.insert(switch, 42)
            switch.add_ip(ipman=mgmt)
            vlans.allocate(switch)
            for u in range(2, 12, 2):
                server = names.allocate(BasicServer)
                rack.insert(server, [u, u + 1])
                server.add_attr("system", "P%010d" % (r * 100 + u), subkey="serial")
                server.set_attr("owner", "web-team" if u % 4 else "dba")
                (web if u % 4 else db).insert(server)
                prod.insert(server)
                server.connect_ports("nic-eth", 1, switch, u)
                server.connect_ports("pwr-nema-5", 1, pdu, u)
                server.bind_ip_to_osport("10.11.1.%d" % (r * 20 + u), "eth0", ipman=mgmt,
                                         porttype="nic-eth", portnum=1)
        clusto.commit()
    except Exception:
        clusto.rollback_transaction()
        raise


def report():
    servers = clusto.get_from_pools(["web", "env-prod"], clusto_types=[BasicServer])
    print("web servers in prod: %s" % ", ".join(sorted(s.name for s in servers)))
    for server in sorted(servers)[:3]:
        where = BasicRack.get_rack_and_u(server)
        print("  %-11s %s U%s  ip %s  switch %s port %s" % (
            server.name, where["rack"].name, "-".join(map(str, where["RU"])), ", ".join(server.get_ips()),
            server.get_connected("nic-eth", 1).name, server.get_port_attr("nic-eth", 1, "otherportnum")))
    print("10.11.1.26 belongs to %s" % [d.name for d in clusto.get_by_ip("10.11.1.26")])
    print("P0000000104 is %s" % [d.name for d in clusto.get("P0000000104")])
    rack = clusto.get_by_name("iad1-r01")
    print("iad1-r01 elevation:")
    for u in range(rack.maxu, 0, -1):
        device = rack.get_device_in(u)
        if device is not None:
            print("  U%-2d %s" % (u, device.name))
    for entry in clusto.history()[-3:]:
        print("v%(version)d by %(user)s: %(description)s" % entry)
    problems = clusto.check()
    print("check: %s" % ("clean" if not problems else problems))


def main(conf):
    config = ConfigParser()
    config.read(conf)
    clusto.connect(config)
    clusto.init_clusto()
    try:
        clusto.get_by_name("iad1")
    except LookupError:
        build()
    report()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "clusto.conf")
