//! `migrate`: import a database of the original clusto (SQLite file, PostgreSQL or
//! MySQL server), with a progress bar on a terminal and a report at the end.

use std::io::IsTerminal;

use clusto_core::{Error, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::Ctx;
use crate::output::{Output, record};

/// Runs the migration; exits 1 (the flag) when rows were skipped or check() complains.
pub fn run(
    ctx: &Ctx,
    from: Option<&str>,
    legacy_config: Option<&std::path::Path>,
) -> Result<(Output, bool)> {
    let dsn = match (from, legacy_config) {
        (Some(dsn), _) => dsn.to_owned(),
        (None, Some(conf)) => crate::config::dsn_from_config(conf)?,
        (None, None) => return Err(Error::InvalidValue("give --from or --legacy-config".into())),
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let report = clusto_migrate::migrate(&dsn, &ctx.db, |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let failed = !report.skipped.is_empty() || !report.problems.is_empty();
    let summary = record([
        // The DSN as the report names it: with the password as ***.
        ("source", json!(report.source)),
        ("entities", json!(report.entities)),
        ("attributes", json!(report.attributes)),
        ("counters", json!(report.counters)),
        ("versions", json!(report.versions)),
        ("skipped", json!(report.skipped)),
        (
            "check",
            json!(if report.problems.is_empty() {
                "clean".to_owned()
            } else {
                report.problems.join("; ")
            }),
        ),
    ]);
    Ok((Output::Blocks(vec![summary]), failed))
}
