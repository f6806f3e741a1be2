//! `watch`, `diff` and `revert`: the change feed, the difference between two versions,
//! and undoing a version. The core decides; this prints.

use std::io::Write;

use clusto_core::{Diff, DiffKind, FeedFilter, Result, View};
use serde_json::{Value as Json, json};

use super::Ctx;
use crate::output::{Format, Output};

/// Streams every version after `since` (default: now) that passes `filter`, one line
/// each (a JSON object per line with `--format json`), until interrupted or `count`
/// versions were printed.
pub fn watch(
    ctx: &Ctx,
    since: Option<u64>,
    count: Option<usize>,
    filter: &FeedFilter,
    format: Format,
) -> Result<Output> {
    let mut since = match since {
        Some(v) => v,
        None => ctx.db.latest_version()?,
    };
    let mut printed = 0;
    let mut out = std::io::stdout().lock();
    loop {
        if count.is_some_and(|c| printed >= c) {
            return Ok(Output::Nothing);
        }
        let latest = ctx.db.wait_for_version(since, None)?;
        let lines: Vec<String> = ctx.db.read(|v| {
            v.changes_since(since, Some((latest - since) as usize))?
                .iter()
                .filter_map(|c| filter.apply(c))
                .map(|c| {
                    let entry = v.version_changes_json(&c)?;
                    Ok(match format {
                        Format::Table => summary(&entry),
                        _ => entry.to_string(),
                    })
                })
                .collect()
        })?;
        for line in lines
            .into_iter()
            .take(count.map_or(usize::MAX, |c| c - printed))
        {
            // A closed pipe (`clusto watch | head`) ends the watch quietly.
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return Ok(Output::Nothing);
            }
            printed += 1;
        }
        since = latest;
    }
}

/// One line for a feed entry: version, user, description, then each change.
fn summary(entry: &Json) -> String {
    let changes: Vec<String> = entry["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let what = match &c["change"] {
                Json::String(s) => s.clone(),
                Json::Object(o) => match (o.get("added"), o.get("deleted")) {
                    (Some(a), _) => format!("+{}={}", a["key"], a["value"]),
                    (_, Some(d)) => format!("-{}={}", d["key"], d["value"]),
                    _ => Json::Object(o.clone()).to_string(),
                },
                other => other.to_string(),
            };
            format!("{} {what}", c["entity"].as_str().unwrap_or(""))
        })
        .collect();
    format!(
        "{} {} {}: {}",
        entry["version"],
        entry["user"].as_str().unwrap_or("-"),
        entry["description"].as_str().unwrap_or(""),
        changes.join("; ")
    )
}

/// The difference between `from` and `to` (default: the latest), of `names` or all.
pub fn diff(ctx: &Ctx, from: u64, rest: &[String]) -> Result<Output> {
    let (to, names) = match rest.first().and_then(|r| r.parse::<u64>().ok()) {
        Some(to) => (Some(to), &rest[1..]),
        None => (None, rest),
    };
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    ctx.db.read(|v| {
        let diff = v.diff(from, to, &names)?;
        Ok(Output::Text {
            text: diff_text(v, &diff)?,
            json: v.diff_json(&diff)?,
        })
    })
}

/// A diff as lines: `+ name` created, `- name` deleted, `~ name` changed, then its
/// attributes, `+`, `-` or `~` each.
fn diff_text(v: &View<'_>, diff: &Diff) -> Result<String> {
    let mut text = format!("versions {} to {}\n", diff.from, diff.to);
    let shown = |a: &clusto_core::Attribute| -> Result<String> {
        let mut slot = a.key.clone();
        if let Some(s) = &a.subkey {
            slot = format!("{slot}.{s}");
        }
        if let Some(n) = a.number {
            slot = format!("{slot}#{n}");
        }
        Ok(format!("{slot} = {}", v.value_json(&a.value)?))
    };
    for e in &diff.entities {
        let (mark, note) = match &e.kind {
            DiffKind::Created => ("+", " (created)".to_string()),
            DiffKind::Deleted => ("-", " (deleted)".to_string()),
            DiffKind::Renamed { from } => ("~", format!(" (renamed from {from})")),
            DiffKind::Changed => ("~", String::new()),
        };
        text += &format!("{mark} {}{note}\n", e.name);
        if let (Some(b), Some(a)) = (&e.before, &e.after)
            && b != a
        {
            text += &format!("    ~ driver {}/{} -> {}/{}\n", b.0, b.1, a.0, a.1);
        }
        for a in &e.added {
            text += &format!("    + {}\n", shown(a)?);
        }
        for a in &e.removed {
            text += &format!("    - {}\n", shown(a)?);
        }
        for (b, a) in &e.changed {
            text += &format!("    ~ {} -> {}\n", shown(b)?, v.value_json(&a.value)?);
        }
    }
    Ok(text)
}

/// Undoes the version `args` names, or (with `to`) makes the entities `args` names as
/// they were at `to`; prints the new version.
pub fn revert(ctx: &Ctx, args: &[String], to: Option<u64>, force: bool) -> Result<Output> {
    let usage = || {
        clusto_core::Error::InvalidValue(
            "give a version to revert (`clusto revert V`), or --to V and the names to \
             restore (`clusto revert --to V NAME...`)"
                .into(),
        )
    };
    let names: Vec<&str> = args.iter().map(String::as_str).collect();
    let version = match (to, names.as_slice()) {
        (None, [v]) => Some(v.parse::<u64>().map_err(|_| {
            clusto_core::Error::InvalidValue(format!("'{v}' is not a version number"))
        })?),
        (Some(_), [_, ..]) => None,
        _ => return Err(usage()),
    };
    let made = ctx.write(|tx| {
        match (version, to) {
            (Some(v), _) => tx.revert(v, force)?,
            (None, Some(to)) => tx.restore(&names, to)?,
            (None, None) => return Err(usage()),
        }
        tx.version()
    })?;
    Ok(Output::Records(vec![crate::output::record([(
        "version",
        json!(made),
    )])]))
}
