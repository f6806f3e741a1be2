//! Builds a small data-center inventory in an embedded database, queries it the way an
//! automation script would, changes it, and prints the result with its history.
//!
//! Usage: `inventory-demo [DATABASE_DIR]` (default `./demo-db`; an existing inventory
//! there is reused and extended).

use std::error::Error;

use clusto_core::{AttrFilter, Change, Clusto, EntityQuery, NewAttr, TxMeta, VersionQuery};

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "demo-db".into());
    let db = Clusto::open(&path)?;
    println!("clusto inventory in {path}");

    if db.read(|v| v.find("sjc1"))?.is_none() {
        build(&db)?;
    }
    report(&db)?;
    Ok(())
}

/// Two racks of servers in one datacenter, a pool per role, then a few day-two changes.
fn build(db: &Clusto) -> clusto_core::Result<()> {
    db.write(TxMeta::new("alice", "rack sjc1 r01-r02"), |tx| {
        let dc = tx.create_entity("sjc1", "datacenter", "basicdatacenter")?;
        let web = tx.create_entity("web", "pool", "pool")?;
        let db_pool = tx.create_entity("db", "pool", "pool")?;
        for r in 1..=2 {
            let rack = tx.create_entity(&format!("sjc1-r{r:02}"), "rack", "basicrack")?;
            tx.add_attr(dc.id, NewAttr::new("_contains", rack.id).next_number())?;
            for s in 1..=4 {
                let name = format!("sjc1-r{r:02}-s{s:02}");
                let server = tx.create_entity(&name, "server", "basicserver")?;
                let ru = s * 2 + 1;
                tx.add_attr(
                    rack.id,
                    NewAttr::new("_contains", server.id).subkey("ru").number(ru),
                )?;
                tx.add_attr(
                    server.id,
                    NewAttr::new("system", format!("P00000{r}{s:04}")).subkey("serial"),
                )?;
                tx.add_attr(server.id, NewAttr::new("system", 16 * r).subkey("cpucount"))?;
                tx.add_attr(
                    server.id,
                    NewAttr::new("owner", if s % 2 == 0 { "web-team" } else { "dba" }),
                )?;
                let pool = if s % 2 == 0 { web.id } else { db_pool.id };
                tx.add_attr(pool, NewAttr::new("_contains", server.id).next_number())?;
            }
        }
        Ok(())
    })?;
    db.write(TxMeta::new("bob", "hand r02-s03 to the web team"), |tx| {
        let s = tx.view().entity("sjc1-r02-s03")?;
        tx.set_attr(s.id, NewAttr::new("owner", "web-team"))?;
        Ok(())
    })?;
    db.write(TxMeta::new("bob", "RMA: failed disk"), |tx| {
        tx.delete_entity("sjc1-r01-s01")
    })?;
    db.write(TxMeta::new("carol", "naming convention"), |tx| {
        tx.rename("sjc1-r01-s02", "sjc1-web-01").map(drop)
    })?;
    Ok(())
}

fn report(db: &Clusto) -> clusto_core::Result<()> {
    db.read(|v| {
        let servers = v.entities(&EntityQuery {
            types: vec!["server".into()],
            ..Default::default()
        })?;
        println!("\n{} servers:", servers.len());
        for s in &servers {
            let racks = v.referencers(s.id, &AttrFilter::key("_contains").subkey("ru"))?;
            let slot = v.references(s.id, &AttrFilter::key("_contains").subkey("ru"))?;
            let pools = v.referencers(s.id, &AttrFilter::key("_contains").no_subkey())?;
            let owner = v.attrs(s.id, &AttrFilter::key("owner"))?;
            let serial = v.attrs(s.id, &AttrFilter::key("system").subkey("serial"))?;
            println!(
                "  {:<14} rack {:<9} U{:<3} pool {:<4} owner {:<9} serial {}",
                s.name,
                racks.first().map_or("-", |r| r.name.as_str()),
                slot.first().and_then(|a| a.number).unwrap_or(0),
                pools.first().map_or("-", |p| p.name.as_str()),
                owner.first().and_then(|a| a.value.as_str()).unwrap_or("-"),
                serial.first().and_then(|a| a.value.as_str()).unwrap_or("-"),
            );
        }
        let web_team = v.owners(&AttrFilter::key("owner").value("web-team"))?;
        let names: Vec<_> = web_team.iter().map(|e| e.name.as_str()).collect();
        println!("\nowned by web-team: {}", names.join(", "));

        println!("\nhistory:");
        for info in v.versions(&VersionQuery::default())? {
            let changes = v.change_details(info.version)?;
            println!(
                "  v{} {} by {}: {} ({} changes)",
                info.version,
                info.timestamp.map(|t| t.to_iso()).unwrap_or_default(),
                info.user.as_deref().unwrap_or("?"),
                info.description.as_deref().unwrap_or(""),
                changes.len()
            );
            if changes.len() <= 12 {
                for d in changes {
                    let what = match &d.change {
                        Change::EntityCreated { .. } => "created".to_string(),
                        Change::EntityDeleted { .. } => "deleted".to_string(),
                        Change::DriverChanged { old_driver, .. } => {
                            format!("driver was {old_driver}")
                        }
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
                            format!("{sign} {}{subkey} = {value}", a.key)
                        }
                        Change::CounterSet { key, value, .. } => {
                            format!("counter {key} = {value:?}")
                        }
                    };
                    println!("      {:<14} {what}", d.entity.name);
                }
            }
        }
        let latest = v.latest_version()?;
        Ok(latest)
    })
    .and_then(|latest| {
        db.read_at(1, |v| {
            println!(
                "\nas of v1, sjc1-r01-s01 existed: {}",
                v.find("sjc1-r01-s01")?.is_some()
            );
            Ok(())
        })?;
        let report = db.check()?;
        println!(
            "\nlatest version {latest}; check: {} ({} entities, {} attributes, {} index entries)",
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
