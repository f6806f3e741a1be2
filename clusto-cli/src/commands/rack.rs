//! `rack show|insert|remove`: elevations as text and SVG.

use std::fmt::Write as _;

use clusto_core::{Error, Result};
use serde_json::json;

use super::{Ctx, RackCommand};
use crate::output::Output;

/// Parses `U` or `U-U`.
fn units(ru: &str) -> Result<Vec<i64>> {
    let bad = || Error::InvalidValue(format!("rack units '{ru}' are not U or U-U"));
    match ru.split_once('-') {
        Some((a, b)) => {
            let (a, b): (i64, i64) = (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            );
            if a > b {
                return Err(bad());
            }
            Ok((a..=b).collect())
        }
        None => Ok(vec![ru.trim().parse().map_err(|_| bad())?]),
    }
}

/// Runs a `rack` subcommand.
pub fn run(ctx: &Ctx, cmd: &RackCommand) -> Result<Output> {
    match cmd {
        RackCommand::Show { rack, svg: file } => {
            let slots = ctx.db.read(|v| v.rack_units(v.entity(rack)?.id))?;
            if let Some(file) = file {
                std::fs::write(file, clusto_core::render::rack_svg(rack, &slots))
                    .map_err(|e| Error::os(format_args!("cannot write {}", file.display()), &e))?;
            }
            let mut text = format!("{rack}\n");
            for (unit, device) in &slots {
                let device = device.as_ref().map_or("", |d| d.name.as_str());
                let _ = writeln!(text, "U{unit:<3} | {device}");
            }
            let json = json!({
                "rack": rack,
                "units": slots.iter().map(|(unit, device)| json!({"unit": unit, "device": device.as_ref().map(|d| &d.name)})).collect::<Vec<_>>(),
            });
            Ok(Output::Text { text, json })
        }
        RackCommand::Insert { rack, device, ru } => {
            let units = units(ru)?;
            ctx.write(|tx| {
                let (r, d) = (tx.view().entity(rack)?.id, tx.view().entity(device)?.id);
                tx.rack_insert(r, d, &units)
            })?;
            Ok(Output::Nothing)
        }
        RackCommand::Remove { rack, device } => {
            ctx.write(|tx| {
                let (r, d) = (tx.view().entity(rack)?.id, tx.view().entity(device)?.id);
                tx.remove(r, d)
            })?;
            Ok(Output::Nothing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_ranges() {
        assert_eq!(units("3").unwrap(), [3]);
        assert_eq!(units("3-5").unwrap(), [3, 4, 5]);
        assert!(units("5-3").is_err() && units("x").is_err());
    }
}
