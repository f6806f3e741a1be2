//! `clusto`: the command-line tool for operators. It parses, calls clusto-core and
//! prints; every rule lives in the core.

mod commands;
mod config;
mod dispatch;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use clusto_core::{Clusto, Durability, Error, ErrorKind, OpenOptions, TxMeta};

use crate::commands::Ctx;
use crate::output::Format;

/// sled's start allocates one small page-table entry per storage page; mimalloc serves
/// them about a third faster than glibc (benches/RESULTS.md, start-up).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes (also listed in `clusto --help`).
mod exit {
    pub const OTHER: u8 = 1;
    pub const NOT_FOUND: u8 = 2;
    pub const INVALID: u8 = 3;
    pub const LOCKED: u8 = 4;
}

const AFTER_HELP: &str = "\
Database: --dsn, else $CLUSTODSN, else dsn in [clusto] of --config / $CLUSTOCONFIG /
/etc/clusto/clusto.conf, else $XDG_DATA_HOME/clusto/db (~/.local/share/clusto/db).
A DSN is a directory path, lmdb:///path, sled:///path, postgresql://... or memory:.

Exit codes: 0 ok, 1 other error, 2 not found, 3 invalid input or a refused change
(including usage), 4 database locked by another process.";

#[derive(Parser)]
#[command(name = "clusto", version, about = "Inventory, grouping, connections, resources and history of infrastructure: the clusto CMDB.", after_help = AFTER_HELP)]
struct Cli {
    /// The database: a directory path, lmdb:///path, sled:///path or memory:.
    #[arg(long, env = "CLUSTODSN", global = true)]
    dsn: Option<String>,
    /// A clusto.conf with the dsn in its [clusto] section.
    #[arg(long, env = "CLUSTOCONFIG", global = true)]
    config: Option<PathBuf>,
    /// Who the changes are recorded for (default: the login user).
    #[arg(long, global = true)]
    user: Option<String>,
    /// Why: the description recorded with the changes.
    #[arg(short = 'm', long = "message", global = true)]
    message: Option<String>,
    /// Output format of commands that print data.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    format: Format,
    /// Seconds a write waits while another process writes (or an open waits for a sled
    /// database another process holds); 0 fails at once. Default: `wait` in the config
    /// file, else 5.
    #[arg(long, global = true)]
    wait: Option<f64>,
    /// When commits reach the disk: immediate, grouped, grouped:MS (LMDB) or periodic:MS
    /// (sled). Default: `durability` in the config file, else immediate.
    #[arg(long, global = true)]
    durability: Option<String>,
    /// Open a damaged database to read and export what remains (no changes allowed).
    #[arg(long, global = true)]
    salvage: bool,
    #[command(subcommand)]
    command: commands::Command,
}

fn open(cli: &Cli) -> clusto_core::Result<Clusto> {
    let dsn = config::resolve_dsn(cli.dsn.as_deref(), cli.config.as_deref())?;
    let mut options = OpenOptions {
        salvage: cli.salvage,
        // `initdb` makes a server-side database's schema; other commands expect one.
        create: matches!(cli.command, commands::Command::Initdb),
        ..Default::default()
    };
    config::apply_settings(cli.config.as_deref(), &mut options)?;
    if let Some(wait) = cli.wait {
        options.set("wait", &wait.to_string())?;
    }
    if let Some(durability) = &cli.durability {
        options.set("durability", durability)?;
    }
    Clusto::open_with(dsn, &options)
}

fn exit_code(e: &Error) -> u8 {
    match e.kind() {
        ErrorKind::NotFound => exit::NOT_FOUND,
        ErrorKind::Locked => exit::LOCKED,
        ErrorKind::InvalidName
        | ErrorKind::InvalidValue
        | ErrorKind::InvalidResource
        | ErrorKind::AlreadyExists
        | ErrorKind::TypeMismatch
        | ErrorKind::PoolRule
        | ErrorKind::Port
        | ErrorKind::Conflict
        | ErrorKind::Ambiguous => exit::INVALID,
        _ => exit::OTHER,
    }
}

/// The command line to parse: argv, or that of `clusto-SUB` links; a site command
/// `clusto-foo` replaces this process (and only returns on failure).
fn command_line() -> Result<Vec<std::ffi::OsString>, ExitCode> {
    use std::os::unix::process::CommandExt;
    let subcommands: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    match dispatch::route(
        std::env::args_os().collect(),
        &subcommands,
        dispatch::on_path,
    ) {
        dispatch::Dispatch::Here(args) => Ok(args),
        dispatch::Dispatch::External(program, args) => {
            let err = std::process::Command::new(&program).args(args).exec();
            eprintln!("clusto: cannot run {}: {err}", program.display());
            Err(ExitCode::from(exit::OTHER))
        }
    }
}

fn main() -> ExitCode {
    let args = match command_line() {
        Ok(args) => args,
        Err(code) => return code,
    };
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::INVALID } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let commands::Command::Completion { shell } = &cli.command {
        clap_complete::generate(
            *shell,
            &mut Cli::command(),
            "clusto",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    if let commands::Command::Copy { source, target } = &cli.command {
        return match clusto_core::copy(source, target) {
            Ok(()) => {
                let copied = output::record([("copied", serde_json::json!(target))]);
                match output::print(&output::Output::Records(vec![copied]), cli.format) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(_) => ExitCode::from(exit::OTHER),
                }
            }
            Err(e) => ExitCode::from(fail(&e)),
        };
    }
    let ctx = match open(&cli) {
        Ok(db) => Ctx {
            db,
            format: cli.format,
            config: cli.config.clone(),
            meta: TxMeta {
                user: Some(cli.user.clone().unwrap_or_else(config::login_user)),
                description: cli.message.clone(),
            },
        },
        Err(e) => return ExitCode::from(fail(&e)),
    };
    if cli.salvage {
        report_salvage(&ctx.db);
    }
    let code = match commands::run(&ctx, &cli.command) {
        Ok((out, failed)) => match output::print(&out, cli.format) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("clusto: {e}");
                exit::OTHER
            }
            _ if failed => exit::OTHER,
            _ => 0,
        },
        Err(e) => fail(&e),
    };
    // Every commit was on disk (synced, and marked) before it returned. What closing
    // the database would add (another fsync, and freeing a page table of one entry per
    // storage page: ~10 ms at 100k entities) serves nothing at the exit of the process,
    // so the process ends without it: only a handle that defers its flushes is closed.
    if ctx.db.durability() != Durability::Immediate {
        drop(ctx);
    }
    std::process::exit(code.into())
}

/// Says on stderr how much of the history a salvaged database still holds.
fn report_salvage(db: &Clusto) {
    let latest = match db.latest_version() {
        Ok(latest) => latest,
        Err(e) => return eprintln!("clusto: salvage: {e}"),
    };
    match db.committed_version() {
        Some(committed) if committed > latest => eprintln!(
            "clusto: salvage: the database holds versions up to {latest}; versions {} to \
             {committed} were committed and are lost",
            latest + 1
        ),
        Some(_) => eprintln!(
            "clusto: salvage: the database holds versions up to {latest}: every committed \
             version"
        ),
        None => eprintln!(
            "clusto: salvage: the database holds versions up to {latest}; its commit mark \
             is missing or damaged, so what was lost is not known"
        ),
    }
}

/// Prints `e` and gives its exit code.
fn fail(e: &Error) -> u8 {
    eprintln!("clusto: {e}");
    exit_code(e)
}
