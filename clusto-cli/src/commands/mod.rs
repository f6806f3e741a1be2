//! The subcommands: their arguments (clap) and what each does.

mod edit;
mod feed;
mod inspect;
mod migrate;
mod rack;
mod resources;
mod serve;

use clap::{Args, Subcommand, ValueEnum};
use clusto_core::{Clusto, Datatype, Entity, Result, Transaction, TxMeta};
use serde_json::{Value as Json, json};

use crate::output::Output;

/// What every command works with.
pub struct Ctx {
    /// The database.
    pub db: Clusto,
    /// User and description for the changes.
    pub meta: TxMeta,
    /// The output format (for commands that stream).
    pub format: crate::output::Format,
    /// The config file named by `--config` or `$CLUSTOCONFIG`, if any.
    pub config: Option<std::path::PathBuf>,
}

impl Ctx {
    /// Runs `f` in one transaction (one version).
    pub fn write<T>(&self, f: impl FnOnce(&mut Transaction) -> Result<T>) -> Result<T> {
        self.db.write(self.meta.clone(), f)
    }
}

/// The type of a value given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValueType {
    /// A 64-bit integer.
    Int,
    /// Text (the default).
    String,
    /// A JSON array or object.
    Json,
    /// YYYY-MM-DDTHH:MM:SS[.ffffff].
    Datetime,
    /// The name of an entity.
    Relation,
}

impl ValueType {
    fn datatype(self) -> Datatype {
        match self {
            ValueType::Int => Datatype::Int,
            ValueType::String => Datatype::String,
            ValueType::Json => Datatype::Json,
            ValueType::Datetime => Datatype::Datetime,
            ValueType::Relation => Datatype::Relation,
        }
    }
}

/// Key, subkey and number options shared by the `attr` subcommands.
#[derive(Args, Debug, Clone)]
pub struct AttrArgs {
    /// The entity.
    pub name: String,
    /// Attribute key.
    #[arg(short, long)]
    pub key: Option<String>,
    /// Attribute subkey.
    #[arg(short, long)]
    pub subkey: Option<String>,
    /// Attribute value.
    #[arg(short, long)]
    pub value: Option<String>,
    /// Attribute number (`next` takes the counter when adding).
    #[arg(short, long)]
    pub number: Option<String>,
    /// Type of --value.
    #[arg(long = "type", value_enum, default_value_t = ValueType::String)]
    pub value_type: ValueType,
    /// Include attributes of every container (show only).
    #[arg(long)]
    pub merge: bool,
    /// Include hidden attributes (keys starting with `_`).
    #[arg(long)]
    pub all: bool,
}

/// `clusto attr …`
#[derive(Subcommand, Debug)]
pub enum AttrCommand {
    /// Show attributes (filtered by -k/-s/-n/-v).
    Show(AttrArgs),
    /// Add an attribute (-k and -v required).
    Add(AttrArgs),
    /// Replace the attribute with this key, subkey and number.
    Set(AttrArgs),
    /// Delete the attributes matching -k/-s/-n/-v.
    Delete(AttrArgs),
}

/// `clusto pool …`
#[derive(Subcommand, Debug)]
pub enum PoolCommand {
    /// Members of a pool.
    Show {
        /// The pool.
        pool: String,
        /// Members of nested pools too.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Create a pool.
    Create {
        /// The pool's name.
        pool: String,
        /// pool, unique_pool or exclusive_pool.
        #[arg(long, default_value = "pool")]
        driver: String,
    },
    /// Delete a pool (its members stay).
    Delete {
        /// The pool.
        pool: String,
    },
    /// Put entities into a pool.
    Insert {
        /// The pool.
        pool: String,
        /// Entities.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Take entities out of a pool.
    Remove {
        /// The pool.
        pool: String,
        /// Entities.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// `clusto rack …`
#[derive(Subcommand, Debug)]
pub enum RackCommand {
    /// Draw the rack elevation (text, or SVG with --svg).
    Show {
        /// The rack.
        rack: String,
        /// Also write the elevation as SVG to this file.
        #[arg(long)]
        svg: Option<std::path::PathBuf>,
    },
    /// Put a device into rack units.
    Insert {
        /// The rack.
        rack: String,
        /// The device.
        device: String,
        /// Rack unit, or a range such as 3-4.
        #[arg(long)]
        ru: String,
    },
    /// Take a device out of a rack.
    Remove {
        /// The rack.
        rack: String,
        /// The device.
        device: String,
    },
}

/// `clusto ip …`
#[derive(Subcommand, Debug)]
pub enum IpCommand {
    /// Give a device an address (the next free one of --manager, or --ip).
    Allocate {
        /// The device.
        device: String,
        /// The IP manager.
        #[arg(long)]
        manager: Option<String>,
        /// The address.
        #[arg(long)]
        ip: Option<String>,
    },
    /// Free an address of a device (all of --manager's without --ip).
    Deallocate {
        /// The device.
        device: String,
        /// The IP manager (default: the one that manages --ip).
        #[arg(long)]
        manager: Option<String>,
        /// The address.
        #[arg(long)]
        ip: Option<String>,
    },
    /// Addresses of a device, or devices of an address.
    Show {
        /// A device name or an address.
        target: String,
    },
}

/// `clusto name …`
#[derive(Subcommand, Debug)]
pub enum NameCommand {
    /// Create an entity of DRIVER named by a simple entity-name manager.
    Allocate {
        /// The name manager.
        manager: String,
        /// The driver of the new entity.
        driver: String,
    },
}

/// `clusto port …`
#[derive(Subcommand, Debug)]
pub enum PortCommand {
    /// Connect a port of a device to a port of another (same port type).
    Connect {
        /// The device.
        device: String,
        /// Port type, e.g. nic-eth.
        port_type: String,
        /// Port number.
        number: i64,
        /// The other device.
        other: String,
        /// The other port number.
        other_number: i64,
    },
    /// Disconnect a port (both ends).
    Disconnect {
        /// The device.
        device: String,
        /// Port type.
        port_type: String,
        /// Port number.
        number: i64,
    },
    /// Every port of a device and what it is connected to.
    Show {
        /// The device.
        device: String,
    },
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the database (if needed) and its clustometa entity.
    Initdb,
    /// Type, driver, parents, contents, attributes, IPs and ports of entities.
    Info {
        /// Entity names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// An entity as it was at a version.
    Show {
        /// The entity.
        name: String,
        /// The version to read.
        #[arg(long)]
        at: u64,
    },
    /// Show, add, set or delete attributes.
    #[command(subcommand)]
    Attr(AttrCommand),
    /// Pools: show, create, delete, insert, remove.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Every entity, optionally of a type or driver.
    ListAll {
        /// Only this type.
        #[arg(long = "type")]
        type_name: Option<String>,
        /// Only this driver.
        #[arg(long)]
        driver: Option<String>,
    },
    /// Members of all the given pools, with their IPs (names only with --names).
    ListPool {
        /// Pools.
        #[arg(required = true)]
        pools: Vec<String>,
        /// Members of nested pools too.
        #[arg(short, long)]
        recursive: bool,
        /// Only this type.
        #[arg(long = "type")]
        type_name: Option<String>,
        /// Print names instead of IPs.
        #[arg(long)]
        names: bool,
    },
    /// Contents (default) or parents of an entity as a tree, with attribute values.
    Tree {
        /// The root entity.
        name: String,
        /// Show parents.
        #[arg(short, long, conflicts_with = "contents")]
        parents: bool,
        /// Show contents.
        #[arg(short, long)]
        contents: bool,
        /// Attribute keys to show beside each entity.
        attrs: Vec<String>,
    },
    /// Create an entity of a driver, with properties.
    Create {
        /// The driver, e.g. basicserver.
        driver: String,
        /// The name.
        name: String,
        /// Properties as key=value.
        #[arg(long = "prop")]
        props: Vec<String>,
    },
    /// Rename an entity (references follow).
    Rename {
        /// Current name.
        old: String,
        /// New name.
        new: String,
    },
    /// Delete an entity (references to it go too).
    Delete {
        /// The entity.
        name: String,
    },
    /// Racks: elevation, insert, remove.
    #[command(subcommand)]
    Rack(RackCommand),
    /// IP addresses: allocate, deallocate, show.
    #[command(subcommand)]
    Ip(IpCommand),
    /// Names from name managers.
    #[command(subcommand)]
    Name(NameCommand),
    /// Ports: connect, disconnect, show.
    #[command(subcommand)]
    Port(PortCommand),
    /// Versions with user, time, description and changes.
    History {
        /// Only versions that touched this entity.
        name: Option<String>,
        /// From this version, or from this time (YYYY-MM-DD[THH:MM:SS]).
        #[arg(long)]
        since: Option<String>,
        /// Only this user's versions.
        #[arg(long)]
        user: Option<String>,
        /// List the changes of each version.
        #[arg(long)]
        changes: bool,
    },
    /// Entities whose attributes match every KEY[.SUBKEY][=VALUE].
    Query {
        /// Terms: key, key=value, key.subkey=value.
        #[arg(required = true)]
        terms: Vec<String>,
        /// Only this type.
        #[arg(long = "type")]
        type_name: Option<String>,
        /// Only this driver.
        #[arg(long)]
        driver: Option<String>,
        /// Only members of this pool.
        #[arg(long)]
        pool: Option<String>,
    },
    /// Import a database of the original clusto (schema 3, from SQLite, PostgreSQL or
    /// MySQL) into an empty database (the one --dsn names, or --to).
    Migrate {
        /// The original's DSN: sqlite:///relative.db, sqlite:////absolute.db, a path,
        /// postgresql://user:password@host:port/db or mysql://user:password@host:port/db.
        #[arg(long, required_unless_present = "legacy_config")]
        from: Option<String>,
        /// A legacy clusto.conf whose [clusto] dsn is the source.
        #[arg(long = "legacy-config")]
        legacy_config: Option<std::path::PathBuf>,
    },
    /// Write the whole database as a JSON dump (JSON Lines; see the README) to stdout, with
    /// its history, or only the state as of --at.
    Export {
        /// Only the state as of this version (one version in the dump).
        #[arg(long)]
        at: Option<u64>,
    },
    /// Read a JSON dump into the (empty) database.
    Import {
        /// The dump file ('-' for stdin).
        file: std::path::PathBuf,
    },
    /// Copy the whole database, history included, to a new database at PATH, while it is
    /// in use.
    Backup {
        /// Where the copy goes (must not hold a database).
        path: std::path::PathBuf,
    },
    /// Copy the database SOURCE names, history included, into the empty database TARGET
    /// names, on any engines: `clusto copy sled:///srv/old lmdb:///srv/new` moves a
    /// database of the first release to LMDB. Ignores --dsn.
    Copy {
        /// The database to copy (a path or a DSN).
        source: String,
        /// Where the copy goes (a path or a DSN; must not hold a database).
        target: String,
    },
    /// Stream each new version (by any process) as it is committed, until interrupted:
    /// one line each, a JSON object per line with --format json.
    Watch {
        /// Start after this version (default: now).
        #[arg(long)]
        since: Option<u64>,
        /// Stop after this many versions.
        #[arg(long)]
        count: Option<usize>,
        /// Only changes of this entity.
        #[arg(long)]
        entity: Option<String>,
        /// Only changes of this attribute key.
        #[arg(long)]
        key: Option<String>,
        /// Only changes of entities of this type.
        #[arg(long = "type")]
        type_name: Option<String>,
        /// Only versions of this user.
        #[arg(long = "by")]
        by: Option<String>,
    },
    /// What changed between version V1 and V2 (default: the latest), of NAMEs or all:
    /// `clusto diff V1 [V2] [NAME...]`.
    Diff {
        /// The first version.
        from: u64,
        /// [V2] [NAME...].
        rest: Vec<String>,
    },
    /// Undo version V as a new version (`clusto revert V [--force]`), or make NAMEs as they
    /// were at a version (`clusto revert --to V NAME...`).
    Revert {
        /// V, the version to undo; with --to, the NAMEs to restore.
        args: Vec<String>,
        /// Make NAMEs as they were at this version.
        #[arg(long)]
        to: Option<u64>,
        /// Revert even when later versions touched the same things (rules still hold).
        #[arg(long)]
        force: bool,
    },
    /// Verify every record and index entry (exit 1 on problems).
    Check,
    /// Serve the HTTP API (the URLs of clusto-apiserver, the JSON protocol, history, diff
    /// and a change feed) until SIGTERM or SIGINT. Reads are open; writes need a token of
    /// --token-file, whose name is recorded as the user.
    Serve(serve::ServeArgs),
    /// Print shell completions.
    Completion {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// `{name, type, driver}` plus more fields.
pub fn entity_record(e: &Entity) -> serde_json::Map<String, Json> {
    match clusto_core::json::entity_json(e) {
        Json::Object(o) => o,
        _ => unreachable!("entity_json is an object"),
    }
}

/// A list of names as JSON.
pub fn names(list: &[Entity]) -> Json {
    json!(list.iter().map(|e| e.name.as_str()).collect::<Vec<_>>())
}

/// Runs a command; the flag says the command found problems (exit 1).
pub fn run(ctx: &Ctx, command: &Command) -> Result<(Output, bool)> {
    let ok = |o: Output| Ok((o, false));
    match command {
        Command::Initdb => ok(edit::initdb(ctx)?),
        Command::Info { names } => ok(inspect::info(ctx, names, None)?),
        Command::Show { name, at } => {
            ok(inspect::info(ctx, std::slice::from_ref(name), Some(*at))?)
        }
        Command::Attr(cmd) => ok(edit::attr(ctx, cmd)?),
        Command::Pool(cmd) => ok(edit::pool(ctx, cmd)?),
        Command::ListAll { type_name, driver } => ok(inspect::list_all(ctx, type_name, driver)?),
        Command::ListPool {
            pools,
            recursive,
            type_name,
            names,
        } => ok(inspect::list_pool(
            ctx, pools, *recursive, type_name, *names,
        )?),
        Command::Tree {
            name,
            parents,
            attrs,
            ..
        } => ok(inspect::tree(ctx, name, *parents, attrs)?),
        Command::Create {
            driver,
            name,
            props,
        } => ok(edit::create(ctx, driver, name, props)?),
        Command::Rename { old, new } => ok(edit::rename(ctx, old, new)?),
        Command::Delete { name } => ok(edit::delete(ctx, name)?),
        Command::Rack(cmd) => ok(rack::run(ctx, cmd)?),
        Command::Ip(cmd) => ok(resources::ip(ctx, cmd)?),
        Command::Name(cmd) => ok(resources::name(ctx, cmd)?),
        Command::Port(cmd) => ok(resources::port(ctx, cmd)?),
        Command::History {
            name,
            since,
            user,
            changes,
        } => ok(inspect::history(
            ctx,
            name.as_deref(),
            since.as_deref(),
            user.as_deref(),
            *changes,
        )?),
        Command::Query {
            terms,
            type_name,
            driver,
            pool,
        } => ok(inspect::query(ctx, terms, type_name, driver, pool)?),
        Command::Check => inspect::check(ctx),
        Command::Watch {
            since,
            count,
            entity,
            key,
            type_name,
            by,
        } => {
            let filter = clusto_core::FeedFilter {
                entity: entity.clone(),
                key: key.clone(),
                type_name: type_name.clone(),
                user: by.clone(),
            };
            ok(feed::watch(ctx, *since, *count, &filter, ctx.format)?)
        }
        Command::Diff { from, rest } => ok(feed::diff(ctx, *from, rest)?),
        Command::Revert { args, to, force } => ok(feed::revert(ctx, args, *to, *force)?),
        Command::Export { at } => {
            let stdout = std::io::stdout();
            clusto_migrate::dump::export(&ctx.db, *at, std::io::BufWriter::new(stdout.lock()))?;
            ok(Output::Nothing)
        }
        Command::Import { file } => {
            let rows = if file.as_os_str() == "-" {
                clusto_migrate::dump::import(std::io::stdin().lock(), &ctx.db)?
            } else {
                let f = std::fs::File::open(file).map_err(|e| {
                    clusto_core::Error::NotFound(format!("cannot read {}: {e}", file.display()))
                })?;
                clusto_migrate::dump::import(std::io::BufReader::new(f), &ctx.db)?
            };
            ok(Output::Records(vec![crate::output::record([(
                "imported_rows",
                json!(rows),
            )])]))
        }
        Command::Backup { path } => {
            ctx.db.backup(path)?;
            let where_ = path.display().to_string();
            ok(Output::Records(vec![crate::output::record([(
                "backup",
                json!(where_),
            )])]))
        }
        Command::Migrate {
            from,
            legacy_config,
        } => migrate::run(ctx, from.as_deref(), legacy_config.as_deref()),
        Command::Serve(args) => {
            let conf = crate::config::apiserver_settings(ctx.config.as_deref())?;
            ok(serve::run(ctx, args, conf)?)
        }
        Command::Completion { .. } | Command::Copy { .. } => ok(Output::Nothing),
    }
}
