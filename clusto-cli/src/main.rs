//! `clusto`: inspect and check a clusto database from the shell.
//!
//! The CLI parses arguments, calls clusto-core and prints; every rule lives in the core.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use clusto_core::{AttrFilter, Clusto, Error, OpenOptions, VersionQuery};

/// Exit codes, documented in `clusto --help`.
const EXIT_NOT_FOUND: u8 = 2;
const EXIT_INVALID: u8 = 3;
const EXIT_LOCKED: u8 = 4;
const EXIT_OTHER: u8 = 1;

#[derive(Parser)]
#[command(
    name = "clusto",
    version,
    about = "Inventory, grouping and history of infrastructure: the clusto CMDB.",
    after_help = "Database: --dsn, else $CLUSTODSN, else $XDG_DATA_HOME/clusto/db \
                  (~/.local/share/clusto/db).\n\
                  Exit codes: 0 ok, 1 other error, 2 not found, 3 invalid input, 4 locked."
)]
struct Cli {
    /// The database: a directory path or sled:///absolute/path.
    #[arg(long, env = "CLUSTODSN", global = true)]
    dsn: Option<String>,
    /// Seconds to wait while another process holds the database.
    #[arg(long, default_value_t = 0.0, global = true)]
    wait: f64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database if it does not exist and print its state.
    Initdb,
    /// Show entities: type, driver, containers, contents and attributes.
    Info {
        /// Entity names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Verify every record and index entry; exits non-zero on any problem.
    Check,
    /// List versions (who, when, why), optionally only those touching NAME.
    History {
        /// Only versions that touched this entity.
        name: Option<String>,
    },
}

fn default_dsn() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("clusto").join("db")
}

fn open(cli: &Cli) -> clusto_core::Result<Clusto> {
    let path = match &cli.dsn {
        Some(dsn) => clusto_core::dsn::database_path(dsn)?,
        None => default_dsn(),
    };
    let options = OpenOptions {
        lock_wait: (cli.wait > 0.0).then(|| std::time::Duration::from_secs_f64(cli.wait)),
        ..Default::default()
    };
    Clusto::open_with(path, &options)
}

fn run(cli: &Cli) -> clusto_core::Result<ExitCode> {
    let db = open(cli)?;
    match &cli.command {
        Command::Initdb => {
            let path = db
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            println!("database {path} at version {}", db.latest_version()?);
        }
        Command::Info { names } => db.read(|v| {
            for name in names {
                let e = v.entity(name)?;
                println!(
                    "name:    {}\ntype:    {}\ndriver:  {}",
                    e.name, e.type_name, e.driver
                );
                let parents = v.referencers(e.id, &AttrFilter::key("_contains"))?;
                let names: Vec<_> = parents.iter().map(|p| p.name.as_str()).collect();
                println!("parents: {}", names.join(", "));
                let contents = v.attrs(e.id, &AttrFilter::key("_contains"))?;
                let mut members = Vec::new();
                for a in &contents {
                    if let Some(target) = a.value.as_relation() {
                        members.push(v.entity_by_id(target)?.name);
                    }
                }
                println!("contents: {}", members.join(", "));
                for a in v.attrs(e.id, &AttrFilter::any())? {
                    let value = match a.value.as_relation() {
                        Some(target) => v.entity_by_id(target)?.name,
                        None => a.value.to_string(),
                    };
                    println!(
                        "  {}{}{} = {value}",
                        a.key,
                        a.subkey.map(|s| format!(".{s}")).unwrap_or_default(),
                        a.number.map(|n| format!("[{n}]")).unwrap_or_default()
                    );
                }
            }
            Ok(())
        })?,
        Command::Check => {
            let report = db.check()?;
            for p in &report.problems {
                println!("problem: {p}");
            }
            println!(
                "{} entities, {} attributes, {} index entries, {} versions: {}",
                report.entities,
                report.attributes,
                report.index_entries,
                report.versions,
                if report.is_clean() {
                    "clean"
                } else {
                    "PROBLEMS FOUND"
                }
            );
            if !report.is_clean() {
                return Ok(ExitCode::from(EXIT_OTHER));
            }
        }
        Command::History { name } => db.read(|v| {
            let versions = match name {
                Some(n) => v
                    .entity_versions(n)?
                    .into_iter()
                    .map(|n| v.version_info(n))
                    .collect::<clusto_core::Result<Vec<_>>>()?,
                None => v.versions(&VersionQuery::default())?,
            };
            for info in versions {
                println!(
                    "{}\t{}\t{}\t{}",
                    info.version,
                    info.timestamp.map(|t| t.to_iso()).unwrap_or_default(),
                    info.user.unwrap_or_default(),
                    info.description.unwrap_or_default()
                );
            }
            Ok(())
        })?,
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("clusto: {e}");
            ExitCode::from(match e {
                Error::NotFound(_) => EXIT_NOT_FOUND,
                Error::InvalidName(_) | Error::InvalidValue(_) => EXIT_INVALID,
                Error::Locked { .. } => EXIT_LOCKED,
                _ => EXIT_OTHER,
            })
        }
    }
}
