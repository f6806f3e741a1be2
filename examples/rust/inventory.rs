//! Builds a small data center in an embedded database — datacenter, racks, servers,
//! switches and power strips wired by ports, pools, two IP subnets — queries it the way
//! an automation script would, makes day-two changes, and prints the result with its
//! history.
//!
//! Usage: `inventory-demo [DATABASE_DIR]` (default `./demo-db`; an inventory already
//! there is reused).

use std::error::Error;

use clusto_core::{
    AttrFilter, Change, Clusto, EntityQuery, NewAttr, Related, TxMeta, Value, VersionQuery,
};

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "demo-db".into());
    let db = Clusto::open(&path)?;
    println!("clusto inventory in {path}");
    if db.read(|v| v.find("sjc1"))?.is_none() {
        build(&db)?;
        day_two(&db)?;
    }
    report(&db)?;
    Ok(())
}

/// Two racks: a power strip at U1, a switch at U45, four 2U servers wired to both.
fn build(db: &Clusto) -> clusto_core::Result<()> {
    db.write(
        TxMeta::new("alice", "build sjc1: 2 racks, 8 servers"),
        |tx| {
            tx.init_clusto()?;
            let dc = tx.create("basicdatacenter", "sjc1", &[])?;
            let mgmt = tx.create(
                "ipmanager",
                "sjc1-mgmt",
                &[
                    ("baseip", "10.10.0.0".into()),
                    ("netmask", "255.255.252.0".into()),
                    ("gateway", "10.10.0.1".into()),
                ],
            )?;
            let prod = tx.create(
                "ipmanager",
                "sjc1-prod",
                &[
                    ("baseip", "10.20.0.0".into()),
                    ("netmask", "255.255.254.0".into()),
                    ("gateway", "10.20.0.1".into()),
                ],
            )?;
            let names = tx.create(
                "simpleentitynamemanager",
                "sjc1-names",
                &[("basename", "sjc1-s".into()), ("digits", Value::Int(3))],
            )?;
            let web = tx.create("pool", "web", &[])?;
            let db_pool = tx.create("pool", "db", &[])?;
            let prod_env = tx.create("unique_pool", "env-prod", &[])?;
            tx.add_attr(web.id, NewAttr::new("puppet", "role::web").subkey("class"))?;
            for r in 1..=2 {
                let rack = tx.create("basicrack", &format!("sjc1-r{r:02}"), &[])?;
                tx.insert(dc.id, rack.id)?;
                let pdu = tx.create("basicpowerstrip", &format!("sjc1-r{r:02}-pdu"), &[])?;
                let switch = tx.create("basicnetworkswitch", &format!("sjc1-r{r:02}-sw"), &[])?;
                tx.rack_insert(rack.id, pdu.id, &[1])?;
                tx.rack_insert(rack.id, switch.id, &[45])?;
                tx.add_ip(switch.id, None, Some(mgmt.id))?;
                for s in 1..=4 {
                    let server = tx.allocate_entity(names.id, "basicserver", None)?;
                    tx.rack_insert(rack.id, server.id, &[2 * s, 2 * s + 1])?;
                    tx.set_property(server.id, "model", "ProLiant DL380".into())?;
                    tx.add_attr(
                        server.id,
                        NewAttr::new("system", format!("P{r}{s:09}")).subkey("serial"),
                    )?;
                    tx.add_attr(
                        server.id,
                        NewAttr::new("owner", if s % 2 == 0 { "web-team" } else { "dba" }),
                    )?;
                    tx.insert(if s % 2 == 0 { web.id } else { db_pool.id }, server.id)?;
                    tx.insert(prod_env.id, server.id)?;
                    tx.connect_ports(server.id, "nic-eth", 1, switch.id, s)?;
                    tx.connect_ports(server.id, "pwr-nema-5", 1, pdu.id, s)?;
                    let prod_ip = tx.add_ip(server.id, None, Some(prod.id))?;
                    let ip = clusto_core::ip_address(&prod_ip.value)?.to_string();
                    tx.bind_ip_to_osport(
                        server.id,
                        &ip,
                        "eth0",
                        Some(prod.id),
                        Some(("nic-eth", 1)),
                    )?;
                    tx.add_ip(server.id, None, Some(mgmt.id))?;
                }
            }
            Ok(())
        },
    )
}

fn day_two(db: &Clusto) -> clusto_core::Result<()> {
    db.write(
        TxMeta::new("bob", "sjc1-s003 moves to the web team"),
        |tx| {
            let s = tx.view().entity("sjc1-s003")?;
            let (web, dbp) = (tx.view().entity("web")?.id, tx.view().entity("db")?.id);
            tx.set_attr(s.id, NewAttr::new("owner", "web-team"))?;
            tx.remove(dbp, s.id)?;
            tx.insert(web, s.id).map(drop)
        },
    )?;
    db.write(TxMeta::new("bob", "RMA sjc1-s001: failed disk"), |tx| {
        let s = tx.view().entity("sjc1-s001")?.id;
        for manager in ["sjc1-prod", "sjc1-mgmt"] {
            let m = tx.view().entity(manager)?.id;
            tx.deallocate(m, s, None)?;
        }
        tx.delete_entity("sjc1-s001")
    })?;
    db.write(
        TxMeta::new("carol", "naming convention for web servers"),
        |tx| tx.rename("sjc1-s002", "sjc1-web-01").map(drop),
    )
}

fn report(db: &Clusto) -> clusto_core::Result<()> {
    db.read(|v| {
        let servers = v.entities(&EntityQuery {
            types: vec!["server".into()],
            ..Default::default()
        })?;
        println!("\n{} servers:", servers.len());
        println!(
            "  {:<12} {:<9} {:<6} {:<5} {:<9} {:<11} {:<10} {:<10} eth0 switch port",
            "name", "rack", "units", "pool", "owner", "serial", "prod ip", "mgmt ip"
        );
        for s in &servers {
            let slot = v.rack_slot(s.id)?;
            let pools = v.pools_of(s.id, false)?;
            let first = |key: &str, sub: Option<&str>| -> clusto_core::Result<String> {
                let f = match sub {
                    Some(sub) => AttrFilter::key(key).subkey(sub),
                    None => AttrFilter::key(key),
                };
                Ok(v.attrs(s.id, &f)?
                    .first()
                    .map(|a| a.value.to_string())
                    .unwrap_or_else(|| "-".into()))
            };
            let ips = v.ips_of(s.id)?;
            let switch = v.connected(s.id, "nic-eth", 1)?;
            let port = v.port_attr(s.id, "nic-eth", 1, "otherportnum")?;
            println!(
                "  {:<12} {:<9} {:<6} {:<5} {:<9} {:<11} {:<10} {:<10} {} {}",
                s.name,
                slot.as_ref().map_or("-".into(), |r| r.rack.name.clone()),
                slot.as_ref().map_or("-".into(), |r| format!(
                    "U{}-{}",
                    r.units[0],
                    r.units[r.units.len() - 1]
                )),
                pools
                    .iter()
                    .find(|p| p.driver == "pool")
                    .map_or("-", |p| p.name.as_str()),
                first("owner", None)?,
                first("system", Some("serial"))?,
                ips.iter()
                    .find(|ip| ip.starts_with("10.20."))
                    .map_or("-", String::as_str),
                ips.iter()
                    .find(|ip| ip.starts_with("10.10."))
                    .map_or("-", String::as_str),
                switch.map_or("-".into(), |sw| sw.name),
                port.map_or("-".into(), |p| p.to_string()),
            );
        }
        let web = v.entity("web")?.id;
        let prod = v.entity("env-prod")?.id;
        let both = v.from_pools(&[web, prod], &Related::direct())?;
        println!(
            "\nin web and env-prod: {}",
            both.iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let owned = v.owners(&AttrFilter::key("owner").value("web-team"))?;
        println!(
            "owned by web-team: {}",
            owned
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rack = v.entity("sjc1-r01")?.id;
        println!(
            "sjc1-r01 U2: {}",
            v.device_in(rack, 2)?.map_or("(empty)".into(), |e| e.name)
        );

        println!("\nhistory:");
        for info in v.versions(&VersionQuery::default())? {
            let changes = v.change_details(info.version)?;
            println!(
                "  v{} {} {:<6} {} ({} changes)",
                info.version,
                info.timestamp.map(|t| t.to_iso()).unwrap_or_default(),
                info.user.as_deref().unwrap_or("?"),
                info.description.as_deref().unwrap_or(""),
                changes.len()
            );
            if changes.len() > 16 {
                continue;
            }
            for d in changes {
                let what = match &d.change {
                    Change::EntityCreated { .. } => "created".to_string(),
                    Change::EntityDeleted { .. } => "deleted".to_string(),
                    Change::DriverChanged { old_driver, .. } => format!("driver was {old_driver}"),
                    Change::CounterSet { key, value, .. } => format!("counter {key} = {value:?}"),
                    Change::AttrAdded { .. } | Change::AttrDeleted { .. } => {
                        let a = d.attr.as_ref().expect("attribute changes name a row");
                        let sign = if matches!(d.change, Change::AttrAdded { .. }) {
                            "+"
                        } else {
                            "-"
                        };
                        let value = match a.value.as_relation() {
                            Some(target) => v.entity_by_id(target)?.name,
                            None => a.value.to_string(),
                        };
                        let subkey = a
                            .subkey
                            .as_ref()
                            .map(|s| format!("/{s}"))
                            .unwrap_or_default();
                        let number = a.number.map(|n| format!("[{n}]")).unwrap_or_default();
                        format!("{sign} {}{number}{subkey} = {value}", a.key)
                    }
                };
                println!("      {:<12} {what}", d.entity.name);
            }
        }
        v.latest_version()
    })
    .and_then(|latest| {
        db.read_at(1, |v| {
            println!(
                "\nas of v1, sjc1-s001 existed: {}",
                v.find("sjc1-s001")?.is_some()
            );
            Ok(())
        })?;
        let report = db.check()?;
        println!(
            "latest version {latest}; check: {} ({} entities, {} attributes, {} index entries)",
            if report.is_clean() {
                "clean"
            } else {
                "PROBLEMS"
            },
            report.entities,
            report.attributes,
            report.index_entries
        );
        Ok(())
    })
}
