//! `ip`, `name` and `port` commands.

use clusto_core::Result;
use serde_json::json;

use super::{Ctx, IpCommand, NameCommand, PortCommand, entity_record};
use crate::output::{Output, record};

/// Runs an `ip` subcommand.
pub fn ip(ctx: &Ctx, cmd: &IpCommand) -> Result<Output> {
    match cmd {
        IpCommand::Allocate {
            device,
            manager,
            ip,
        } => {
            let (name, address) = ctx.write(|tx| {
                let d = tx.view().entity(device)?;
                let m = manager
                    .as_deref()
                    .map(|m| tx.view().entity(m))
                    .transpose()?
                    .map(|m| m.id);
                let a = tx.add_ip(d.id, ip.as_deref(), m)?;
                Ok((d.name, clusto_core::ip_address(&a.value)?.to_string()))
            })?;
            Ok(Output::Records(vec![record([
                ("name", json!(name)),
                ("ip", json!(address)),
            ])]))
        }
        IpCommand::Deallocate {
            device,
            manager,
            ip,
        } => {
            let freed = ctx.write(|tx| {
                let d = tx.view().entity(device)?.id;
                let m = manager
                    .as_deref()
                    .map(|m| tx.view().entity(m))
                    .transpose()?
                    .map(|m| m.id);
                tx.remove_ip(d, ip.as_deref(), m)
            })?;
            Ok(Output::Records(vec![record([(
                "deallocated",
                json!(freed),
            )])]))
        }
        IpCommand::Show { target } => ctx.db.read(|v| {
            let rows = match v.find(target)? {
                Some(e) => v
                    .ips_of(e.id)?
                    .into_iter()
                    .map(|ip| record([("name", json!(e.name)), ("ip", json!(ip))]))
                    .collect(),
                None => v
                    .devices_with_ip(target)?
                    .into_iter()
                    .map(|e| record([("name", json!(e.name)), ("ip", json!(target))]))
                    .collect(),
            };
            Ok(Output::Records(rows))
        }),
    }
}

/// Runs a `name` subcommand.
pub fn name(ctx: &Ctx, cmd: &NameCommand) -> Result<Output> {
    match cmd {
        NameCommand::Allocate { manager, driver } => {
            let e = ctx.write(|tx| {
                let m = tx.view().entity(manager)?.id;
                tx.allocate_entity(m, driver, None)
            })?;
            Ok(Output::Records(vec![entity_record(&e)]))
        }
    }
}

/// Runs a `port` subcommand.
pub fn port(ctx: &Ctx, cmd: &PortCommand) -> Result<Output> {
    match cmd {
        PortCommand::Connect {
            device,
            port_type,
            number,
            other,
            other_number,
        } => {
            ctx.write(|tx| {
                let (d, o) = (tx.view().entity(device)?.id, tx.view().entity(other)?.id);
                tx.connect_ports(d, port_type, *number, o, *other_number)
            })?;
            Ok(Output::Nothing)
        }
        PortCommand::Disconnect {
            device,
            port_type,
            number,
        } => {
            let was = ctx.write(|tx| {
                let d = tx.view().entity(device)?.id;
                tx.disconnect_port(d, port_type, *number)
            })?;
            Ok(Output::Records(vec![record([(
                "disconnected",
                json!(was),
            )])]))
        }
        PortCommand::Show { device } => ctx.db.read(|v| {
            let d = v.entity(device)?;
            let rows = v
                .port_info(d.id)?
                .into_iter()
                .map(|p| {
                    let mac = v.port_attr(d.id, &p.port_type, p.number, "mac")?;
                    Ok(record([
                        ("type", json!(p.port_type)),
                        ("number", json!(p.number)),
                        ("connection", json!(p.connection.map(|c| c.name))),
                        ("other_port", json!(p.other_port)),
                        ("mac", json!(mac.map(|m| m.to_string()))),
                    ]))
                })
                .collect::<Result<_>>()?;
            Ok(Output::Records(rows))
        }),
    }
}
