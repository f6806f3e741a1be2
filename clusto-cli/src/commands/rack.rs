//! `rack show|insert|remove`: elevations as text and SVG.

use std::fmt::Write as _;

use clusto_core::{Error, Result};
use serde_json::json;

use super::{Ctx, RackCommand};
use crate::output::Output;

/// One rack unit and what occupies it.
struct Slot {
    unit: i64,
    device: Option<String>,
}

fn slots(ctx: &Ctx, rack: &str) -> Result<Vec<Slot>> {
    ctx.db.read(|v| {
        let units = v.rack_units(v.entity(rack)?.id)?;
        Ok(units
            .into_iter()
            .map(|(unit, device)| Slot {
                unit,
                device: device.map(|d| d.name),
            })
            .collect())
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The elevation as SVG: one row per unit, top unit first; a device spanning several
/// units is one box.
fn svg(rack: &str, slots: &[Slot]) -> String {
    const ROW: usize = 18;
    const WIDTH: usize = 320;
    let height = ROW * slots.len() + 40;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" font-family=\"monospace\" font-size=\"11\">\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">{}</text>\n",
        escape(rack)
    );
    let mut i = 0;
    while i < slots.len() {
        let mut span = 1;
        while i + span < slots.len()
            && slots[i + span].device.is_some()
            && slots[i + span].device == slots[i].device
        {
            span += 1;
        }
        let y = 30 + i * ROW;
        let _ = writeln!(
            s,
            "<text x=\"10\" y=\"{}\">U{}</text>",
            y + 13,
            slots[i].unit
        );
        let (fill, label) = match &slots[i].device {
            Some(d) => ("#cfe2f3", escape(d)),
            None => ("#f4f4f4", String::new()),
        };
        let _ = writeln!(
            s,
            "<rect x=\"50\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" stroke=\"#555\"/>\n<text x=\"56\" y=\"{}\">{label}</text>",
            WIDTH - 60,
            span * ROW,
            y + 13
        );
        i += span;
    }
    s.push_str("</svg>\n");
    s
}

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
            let slots = slots(ctx, rack)?;
            if let Some(file) = file {
                std::fs::write(file, svg(rack, &slots))
                    .map_err(|e| Error::Io(format!("cannot write {}: {e}", file.display())))?;
            }
            let mut text = format!("{rack}\n");
            for s in &slots {
                let _ = writeln!(
                    text,
                    "U{:<3} | {}",
                    s.unit,
                    s.device.as_deref().unwrap_or("")
                );
            }
            let json = json!({
                "rack": rack,
                "units": slots.iter().map(|s| json!({"unit": s.unit, "device": s.device})).collect::<Vec<_>>(),
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

    #[test]
    fn svg_spans_multi_unit_devices() {
        let slots = [
            Slot {
                unit: 3,
                device: Some("s<1>".into()),
            },
            Slot {
                unit: 2,
                device: Some("s<1>".into()),
            },
            Slot {
                unit: 1,
                device: None,
            },
        ];
        let out = svg("r1", &slots);
        assert_eq!(out.matches("<rect").count(), 2, "{out}");
        assert!(out.contains("s&lt;1&gt;") && out.contains("height=\"36\""));
    }
}
