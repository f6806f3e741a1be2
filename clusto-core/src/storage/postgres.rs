//! The PostgreSQL backend (feature `postgres`): one inventory for many hosts.
//!
//! Layout: in a schema clusto owns (`clusto` unless the DSN says `?schema=NAME`), the
//! table `kv (k bytea primary key, v bytea)` holds the same ordered key space as the
//! embedded engines, and `clusto_layout (version int)` marks the schema as clusto's.
//!
//! - A snapshot is a `REPEATABLE READ READ ONLY` transaction on a pooled connection: it
//!   sees whole commits only. Scans read pages in key order. Its `BEGIN` travels with its
//!   first read (one simple query), and its end with the next `BEGIN` on the connection,
//!   or the pool ends it after 200 ms idle. A live name's entry holds its entity's
//!   record: `get_by_name` is one round trip, an index lookup one.
//! - The write lease is a transaction-scoped advisory lock on its own connection: it
//!   serializes writers across every host, and the server frees it with the transaction
//!   when a client dies or its connection drops. Nothing goes out when the lease is
//!   taken: its `BEGIN`, the lock (under a `lock_timeout`, so that a lock not granted
//!   stops what follows), the reads the transaction announced (its counters, an
//!   entity's record and attributes: [`KvRead::read_ahead`]) and its first statement
//!   travel in one simple query. While it holds the lock no other writer changes the
//!   store, so the lease remembers what it read, and the gaps its missed lookups found
//!   (a lookup that misses learns the server's next key).
//! - A commit sends its writes in one statement (arrays of keys and values; with the
//!   `COMMIT` in the same round trip up to 64 KiB), or, when it writes many rows, deletes
//!   their keys and copies them in with a binary `COPY`; then `NOTIFY clusto, 'SCHEMA'`
//!   and `COMMIT`: a watcher on any host `LISTEN`s on its own connection and wakes when
//!   the commit lands, instead of asking every 10 ms.
//! - Durability: `immediate` is PostgreSQL's synchronous commit; `grouped` (and
//!   `periodic`) turn `synchronous_commit` off for clusto's sessions: a commit survives
//!   the client's death at once and the server's crash after `wal_writer_delay`.
//! - A connection that fails is dropped with every idle one (a server that restarted or
//!   cut its clients leaves them all dead); the next call connects again.
//!
//! The DSN is `postgresql://user[:password]@host[:port]/dbname[?schema=NAME&sslmode=MODE&
//! sslrootcert=FILE&sslcert=FILE&sslkey=FILE&passfile=FILE&...]` (other parameters go to
//! the client as they are), with the libpq environment (`PGHOST`, `PGPORT`, `PGUSER`,
//! `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`,
//! `PGPASSFILE`) for what it leaves out.
//!
//! - TLS follows libpq's `sslmode` (module `pg_tls.rs`): `disable`, `allow` and `prefer`
//!   (libpq's default) never try TLS; `require` encrypts without checking the
//!   certificate unless a root file is found (then as `verify-ca`); `verify-ca` checks
//!   the chain; `verify-full` the chain and the host name. Roots come from
//!   `sslrootcert` / `PGSSLROOTCERT` (`system` for the system's store), else
//!   `~/.postgresql/root.crt`, else the system's store for the `verify-*` modes (where
//!   libpq would refuse); as in libpq, no TLS over a Unix socket. A bad `sslmode` or an
//!   unreadable root file is `Error::InvalidValue`; a failed handshake is `Error::Io`
//!   naming the TLS problem.
//! - Without a password in the DSN or `PGPASSWORD`, libpq's password file gives it
//!   (module `pgpass.rs`: `passfile=`, `PGPASSFILE`, else `~/.pgpass`; ignored, as by
//!   libpq, when its group or others may read it, and a refused connection says so).
//! - A password never appears in an error, a log or `Debug` output: messages show the
//!   DSN with `***` for it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, Statement};

use super::ticker::Ticker;
use super::{Backend, CommitListener, Entry, EntryIter, KvRead, Snapshot, Write, WriteLease};
use crate::db::{Durability, OpenOptions};
use crate::dsn::hide_password;
use crate::error::{Error, Result, os_kind};
use crate::keys::FreshIds;
use crate::records::Version;

/// The layout of the tables this build reads and writes.
const LAYOUT_VERSION: i32 = 1;

/// Rows per page of a scan: small first (many scans stop at their first entry).
const PAGES: [i64; 3] = [16, 256, 2048];

/// Keys a write lease's lookup learns after the key it asks for, in the key's space.
const SEEK_KEYS: i64 = 64;

#[path = "pgpass.rs"]
mod pgpass;
#[path = "pg_tls.rs"]
mod tls;

use tls::{ClientCert, SslMode, Tls};

/// A PostgreSQL DSN, read: the client's configuration, its TLS, clusto's schema, and
/// the DSN with its password hidden, for messages.
struct Target {
    config: postgres::Config,
    tls: Tls,
    schema: String,
    shown: String,
    /// Where the password came from, or why the password file was not used: said when
    /// the server refuses the connection.
    password_note: Option<String>,
}

/// The libpq environment variable `name`, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `%XX` escapes of a DSN's query value, decoded (a bad escape is kept as it is).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || {
            let pair = text.get(i + 1..i + 3)?;
            pair.bytes().all(|b| b.is_ascii_hexdigit()).then_some(())?;
            u8::from_str_radix(pair, 16).ok()
        };
        match (bytes[i], hex()) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads `postgresql://user[:password]@host[:port]/dbname[?schema=NAME&sslmode=MODE&
/// sslrootcert=FILE&sslcert=FILE&sslkey=FILE&passfile=FILE&...]`, with the libpq
/// environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`,
/// `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`, `PGPASSFILE`) for what the DSN leaves out, and the password file when neither the
/// DSN nor `PGPASSWORD` gives a password.
fn target(dsn: &str) -> Result<Target> {
    let shown = hide_password(dsn);
    let (base, query) = dsn.split_once('?').unwrap_or((dsn, ""));
    let mut schema = "clusto".to_string();
    let (mut sslmode, mut rootcert, mut passfile) = (None, None, None);
    let mut client = ClientCert::default();
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("schema", name)) => schema = name.to_string(),
            Some(("sslmode", mode)) => sslmode = Some(percent_decode(mode)),
            Some(("sslrootcert", file)) => rootcert = Some(percent_decode(file)),
            Some(("passfile", file)) => passfile = Some(percent_decode(file)),
            Some(("sslcert", file)) => client.cert = Some(percent_decode(file)),
            Some(("sslkey", file)) => client.key = Some(percent_decode(file)),
            _ => rest.push(pair),
        }
    }
    if schema.is_empty()
        || schema.len() > 63
        || !schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || schema.starts_with(|c: char| c.is_ascii_digit())
    {
        return Err(Error::InvalidValue(format!(
            "DSN '{shown}': schema '{schema}' must be a lower-case SQL name ([a-z_][a-z0-9_]*)"
        )));
    }
    let sslmode = match sslmode.or_else(|| env("PGSSLMODE")) {
        None => None,
        Some(text) => Some(SslMode::parse(&text).ok_or_else(|| {
            Error::InvalidValue(format!(
                "DSN '{shown}': sslmode '{text}' is not one of disable, allow, prefer, \
                 require, verify-ca, verify-full"
            ))
        })?),
    };
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let rootcert = rootcert.or_else(|| env("PGSSLROOTCERT"));
    client.cert = client.cert.or_else(|| env("PGSSLCERT"));
    client.key = client.key.or_else(|| env("PGSSLKEY"));
    let tls = Tls::new(sslmode, rootcert.as_deref(), home.as_deref(), &client)
        .map_err(|why| Error::InvalidValue(format!("DSN '{shown}': {why}")))?;
    let url = match rest.is_empty() {
        true => base.to_string(),
        false => format!("{base}?{}", rest.join("&")),
    };
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| Error::InvalidValue(format!("DSN '{shown}' cannot be read: {e}")))?;
    if config.get_hosts().is_empty() {
        config.host(env("PGHOST").as_deref().unwrap_or("localhost"));
    }
    if config.get_ports().is_empty()
        && let Some(port) = env("PGPORT").and_then(|p| p.parse().ok())
    {
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = env("PGUSER").or_else(|| env("USER")).unwrap_or_default();
        config.user(&user);
    }
    if config.get_password().is_none_or(<[u8]>::is_empty)
        && let Some(password) = env("PGPASSWORD")
    {
        config.password(password);
    }
    if config.get_dbname().is_none()
        && let Some(db) = env("PGDATABASE")
    {
        config.dbname(&db);
    }
    let mut password_note = None;
    if config.get_password().is_none_or(<[u8]>::is_empty)
        && let Some(file) = pgpass::location(
            passfile.or_else(|| env("PGPASSFILE")).as_deref(),
            home.as_deref(),
        )
    {
        password_note = from_password_file(&mut config, &file);
    }
    // As libpq: no TLS over Unix sockets, whatever sslmode says (the server offers none
    // there, and the socket does not leave the host).
    #[cfg(unix)]
    let tls = match config
        .get_hosts()
        .iter()
        .all(|h| matches!(h, postgres::config::Host::Unix(_)))
    {
        true => Tls::Plain,
        false => tls,
    };
    config
        .ssl_mode(tls.client_mode())
        .application_name(&format!("clusto (pid {})", std::process::id()))
        .connect_timeout(Duration::from_secs(10));
    Ok(Target {
        config,
        tls,
        schema,
        shown,
        password_note,
    })
}

/// Sets the password of `config` from the password file `file` when a line matches
/// (libpq's matching: the first host and port, the database, which defaults to the
/// user, and the user); returns a note for messages.
fn from_password_file(config: &mut postgres::Config, file: &std::path::Path) -> Option<String> {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(dir)) => {
            // libpq: the default socket directory counts as `localhost`.
            match dir.to_str() {
                Some("/tmp" | "/var/run/postgresql" | "/run/postgresql") | None => {
                    "localhost".to_string()
                }
                Some(dir) => dir.to_string(),
            }
        }
        None => "localhost".to_string(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let database = config.get_dbname().unwrap_or(&user).to_string();
    let wanted = pgpass::Wanted {
        host: &host,
        port: &port,
        database: &database,
        user: &user,
    };
    match pgpass::lookup(file, &wanted) {
        pgpass::Lookup::None => None,
        pgpass::Lookup::Found(password) => {
            config.password(password.bytes());
            Some(format!(
                "the password came from the password file {}",
                file.display()
            ))
        }
        pgpass::Lookup::Ignored(why) => Some(why),
    }
}

/// `e` in one line: the server's message, or the error and its causes.
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.ends_with(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text.replace('\n', " ")
}

/// One connection with clusto's statements prepared.
struct Conn {
    client: Client,
    /// A snapshot's transaction is still open on it: the next user ends it in the same
    /// round trip as its own BEGIN, or the pool after [`SNAPSHOT_LINGER`].
    pending_end: bool,
    /// When it went back to the pool.
    idle_since: Instant,
    get: Statement,
    get_many: Statement,
    /// The scans, by [`scan_shape`].
    scans: [Statement; 4],
    /// A write lease's lookup: [`seek_sql`].
    seek: Statement,
    /// A commit's writes as one upsert: keys removed, keys and values written.
    write: Statement,
    /// Removes the keys a commit of many rows writes or removes, before it copies its
    /// rows in.
    delete: Statement,
    /// A large commit's values go in by binary `COPY`.
    copy_in: String,
}

/// The four shapes of a scan: forward or reverse, with an end or open-ended. Each is its
/// own statement because the planner cannot use `k < $2` as an index bound in a generic
/// plan for `$2 IS NULL OR k < $2`: after a few runs such a statement walks the index
/// past the end of the range, to the end of the table, to fill its page.
fn scan_shape(reverse: bool, bounded: bool) -> usize {
    usize::from(reverse) * 2 + usize::from(bounded)
}

/// The SQL of a scan of `shape` on `kv`: `$1` start, then `$2` end when bounded, then
/// the row limit; `hex` gives text columns, for the simple-query protocol.
fn scan_sql(kv: &str, shape: usize, hex: bool) -> String {
    let (reverse, bounded) = (shape >= 2, shape % 2 == 1);
    let columns = if hex {
        "encode(k, 'hex'), encode(v, 'hex')"
    } else {
        "k, v"
    };
    let (range, limit) = match bounded {
        true => ("k >= $1 AND k < $2", "$3"),
        false => ("k >= $1", "$2"),
    };
    let order = if reverse { "DESC" } else { "ASC" };
    format!("SELECT {columns} FROM {kv} WHERE {range} ORDER BY k {order} LIMIT {limit}")
}

/// The name of the prepared text form of a scan of `shape`.
fn scan_hex_name(shape: usize) -> String {
    format!("clusto_scan{shape}_hex")
}

/// The SQL of a write lease's lookup on `kv`: the keys from `$1` up to `$2`, at most
/// `$3` of them, with the value of `$1` alone (the others are NULL: a lookup needs
/// only where they are). `hex` gives text columns, for the simple-query protocol.
fn seek_sql(kv: &str, hex: bool) -> String {
    let value = "CASE WHEN k = $1 THEN v END";
    let columns = match hex {
        true => format!("encode(k, 'hex'), encode({value}, 'hex')"),
        false => format!("k, {value}"),
    };
    format!("SELECT {columns} FROM {kv} WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3")
}

struct Inner {
    target: Target,
    durability: Durability,
    idle: Mutex<Vec<Conn>>,
    /// The advisory lock key of this database (its schema).
    lock_key: i64,
    /// A session listening for commits, kept between waits.
    listening: Mutex<Option<Client>>,
}

/// The channel commits are announced on; the payload names the schema.
const CHANNEL: &str = "clusto";

/// A PostgreSQL database used as a [`Backend`].
pub struct PostgresBackend {
    inner: Arc<Inner>,
    /// Ends the snapshots left open on idle pooled connections.
    _reaper: Ticker,
}

impl Inner {
    fn io(&self, doing: &str, e: postgres::Error) -> Error {
        let shown = &self.target.shown;
        if let Some(db) = e.as_db_error() {
            // A session the server shut down or cut is a lost connection, as a closed
            // socket is.
            let kind = match connection_gone(&e) {
                true => std::io::ErrorKind::ConnectionAborted,
                false => std::io::ErrorKind::Other,
            };
            return Error::Io {
                kind,
                message: format!("{doing} {shown}: {}", db.message()),
            };
        }
        if e.is_closed() {
            return Error::Io {
                kind: std::io::ErrorKind::ConnectionAborted,
                message: format!(
                    "{doing} {shown}: the connection was lost; the next call connects again"
                ),
            };
        }
        let kind = os_kind(&e);
        let message = match std::error::Error::source(&e) {
            Some(cause) => format!("{doing} {shown}: {e}: {cause}"),
            None => format!("{doing} {shown}: {e}"),
        };
        Error::Io { kind, message }
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.target.schema)
    }

    /// The end of a write transaction: the announcement of its commit, and the commit.
    /// (The schema is a checked SQL name, safe inside quotes.)
    fn commit_sql(&self) -> String {
        format!("NOTIFY {CHANNEL}, '{}'; COMMIT", self.target.schema)
    }

    /// A new session, configured for clusto.
    fn client(&self) -> Result<Client> {
        let mut client = self
            .target
            .tls
            .connect(&self.target.config)
            .map_err(|e| connect_failure(&self.target, &e))?;
        if self.durability != Durability::Immediate {
            client
                .batch_execute("SET synchronous_commit = off")
                .map_err(|e| self.io("configuring", e))?;
        }
        Ok(client)
    }

    /// A new session with clusto's statements prepared.
    fn connect(&self) -> Result<Conn> {
        let mut client = self.client()?;
        let kv = self.table("kv");
        let mut prepare = |sql: String| {
            client
                .prepare(&sql)
                .map_err(|e| self.io("preparing statements on", e))
        };
        let get = prepare(format!("SELECT v FROM {kv} WHERE k = $1"))?;
        let get_many = prepare(format!("SELECT k, v FROM {kv} WHERE k = ANY($1::bytea[])"))?;
        let scans = [
            prepare(scan_sql(&kv, 0, false))?,
            prepare(scan_sql(&kv, 1, false))?,
            prepare(scan_sql(&kv, 2, false))?,
            prepare(scan_sql(&kv, 3, false))?,
        ];
        let seek = prepare(seek_sql(&kv, false))?;
        let write_sql = format!(
            "WITH gone AS (DELETE FROM {kv} WHERE k = ANY($1::bytea[])) \
             INSERT INTO {kv} (k, v) SELECT * FROM unnest($2::bytea[], $3::bytea[]) \
             ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
        );
        let write = prepare(write_sql.clone())?;
        let delete = prepare(format!("DELETE FROM {kv} WHERE k = ANY($1::bytea[])"))?;
        // The first read of a snapshot goes as text with its BEGIN: these are its
        // statements, planned once per session like the others.
        let mut text = format!(
            "PREPARE clusto_get_hex(bytea) AS SELECT encode(v, 'hex') FROM {kv} WHERE k = $1; \
             PREPARE clusto_write_hex(bytea[], bytea[], bytea[]) AS {write_sql}"
        );
        text.push_str(&format!(
            "; PREPARE clusto_seek_hex(bytea, bytea, bigint) AS {}",
            seek_sql(&kv, true)
        ));
        for shape in 0..4 {
            let types = if shape % 2 == 1 {
                "bytea, bytea, bigint"
            } else {
                "bytea, bigint"
            };
            text.push_str(&format!(
                "; PREPARE {}({types}) AS {}",
                scan_hex_name(shape),
                scan_sql(&kv, shape, true)
            ));
        }
        client
            .batch_execute(&text)
            .map_err(|e| self.io("preparing statements on", e))?;
        Ok(Conn {
            client,
            pending_end: false,
            idle_since: Instant::now(),
            get,
            get_many,
            scans,
            seek,
            write,
            delete,
            copy_in: format!("COPY {kv} (k, v) FROM STDIN BINARY"),
        })
    }

    /// An idle connection, or a new one.
    fn take(&self) -> Result<Conn> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(conn) if !conn.client.is_closed() => Ok(conn),
            _ => self.connect(),
        }
    }

    /// Puts a connection back for the next call (a failed one is dropped).
    fn give_back(&self, mut conn: Conn) {
        if !conn.client.is_closed() {
            conn.idle_since = Instant::now();
            self.idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
    }

    /// Ends the snapshots left open on connections idle for [`SNAPSHOT_LINGER`]: a held
    /// snapshot keeps the server from cleaning up and blocks DDL on clusto's tables.
    fn end_lingering_snapshots(&self) {
        let lingering: Vec<Conn> = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let (lingering, fresh) = idle
                .drain(..)
                .partition(|c| c.pending_end && c.idle_since.elapsed() >= SNAPSHOT_LINGER);
            *idle = fresh;
            lingering
        };
        for mut conn in lingering {
            if conn.client.batch_execute("ROLLBACK").is_ok() {
                conn.pending_end = false;
                self.give_back(conn);
            }
        }
    }

    /// Reads the announcements that reached the listening session while no watcher
    /// waits on it: unread, they would fill its socket, and the server would hold every
    /// later announcement in its queue for it.
    fn drain_idle_listener(&self) {
        let Ok(mut kept) = self.listening.try_lock() else {
            return;
        };
        let Some(client) = kept.as_mut() else {
            return;
        };
        // A short wait, not the non-blocking iterator: that one returns what the client
        // has already read, and an idle client reads nothing.
        let lost = {
            let mut pending = client.notifications();
            let mut heard = pending.timeout_iter(Duration::from_millis(1));
            loop {
                match postgres::fallible_iterator::FallibleIterator::next(&mut heard) {
                    Ok(Some(_)) => continue,
                    Ok(None) => break false,
                    Err(_) => break true,
                }
            }
        };
        if lost || client.is_closed() {
            // The next watcher opens a new session.
            *kept = None;
        }
    }

    /// Checks the schema: clusto's, of this layout; creates it when `create` is set
    /// and it is missing.
    fn check_schema(&self, create: bool) -> Result<()> {
        self.schema_state(&mut self.client()?, create)
    }

    fn schema_state(&self, client: &mut Client, create: bool) -> Result<()> {
        let schema = &self.target.schema;
        let shown = &self.target.shown;
        let exists = client
            .query_one(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
                &[schema],
            )
            .map_err(|e| self.io("reading", e))?
            .get::<_, i64>(0)
            > 0;
        if !exists {
            if !create {
                return Err(Error::NotFound(format!(
                    "{shown} has no clusto schema '{schema}': create it with `clusto \
                     --dsn '{shown}' initdb`"
                )));
            }
            let (kv, layout) = (self.table("kv"), self.table("clusto_layout"));
            client
                .batch_execute(&format!(
                    "BEGIN; CREATE SCHEMA {schema}; \
                     CREATE TABLE {kv} (k bytea PRIMARY KEY, v bytea NOT NULL); \
                     CREATE TABLE {layout} (version int NOT NULL); \
                     INSERT INTO {layout} VALUES ({LAYOUT_VERSION}); COMMIT"
                ))
                .map_err(|e| {
                    let _ = client.batch_execute("ROLLBACK");
                    self.io("creating the schema in", e)
                })?;
            return Ok(());
        }
        let layout = client
            .query_opt(
                &format!(
                    "SELECT version FROM {} WHERE to_regclass($1) IS NOT NULL",
                    self.table("clusto_layout")
                ),
                &[&format!("{schema}.kv")],
            )
            .map(|row| row.map(|r| r.get::<_, i32>(0)));
        match layout {
            Ok(Some(LAYOUT_VERSION)) => Ok(()),
            Ok(Some(newer)) => Err(Error::UnsupportedFormat {
                found: newer as u32,
                supported: LAYOUT_VERSION as u32,
            }),
            Ok(None) | Err(_) => Err(Error::InvalidValue(format!(
                "schema '{schema}' of {shown} is not a clusto database (no clusto_layout \
                 and kv tables); name another with ?schema=NAME"
            ))),
        }
    }

    /// The pid of the clusto process holding the write lease, if the server tells. The
    /// server shows a bigint lock key as two unsigned halves (`classid`, `objid`).
    fn lease_holder(&self, client: &mut Client) -> Option<u32> {
        let row = client
            .query_opt(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a \
                 ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted \
                 AND l.objid = ($1::bigint & 4294967295) \
                 AND l.classid = (($1::bigint >> 32) & 4294967295) LIMIT 1",
                &[&self.lock_key],
            )
            .ok()??;
        let name: String = row.get(0);
        name.strip_prefix("clusto (pid ")?
            .strip_suffix(')')?
            .parse()
            .ok()
    }
}

impl PostgresBackend {
    /// Connects to the database `dsn` names and checks its schema; with
    /// `options.create`, makes the schema when it is missing.
    pub fn open(dsn: &str, options: &OpenOptions) -> Result<Self> {
        let target = target(dsn)?;
        let lock_key = xxhash_rust::xxh3::xxh3_64(target.schema.as_bytes()) as i64;
        let inner = Arc::new(Inner {
            target,
            durability: options.durability,
            idle: Mutex::new(Vec::new()),
            lock_key,
            listening: Mutex::new(None),
        });
        inner.check_schema(options.create)?;
        let pool = inner.clone();
        let reaper = Ticker::start("clusto-pg-pool", SNAPSHOT_LINGER / 2, move || {
            pool.end_lingering_snapshots();
            pool.drain_idle_listener();
        })?;
        Ok(PostgresBackend {
            inner,
            _reaper: reaper,
        })
    }

    /// The DSN with its password hidden.
    pub fn shown_dsn(&self) -> &str {
        &self.inner.target.shown
    }
}

/// Whether `e` means the connection is gone: closed, or the server said it is shutting
/// down or cutting this session (class 57P, admin/crash shutdown) or lost it (class 08).
/// Which of the two a client sees first depends on timing.
fn connection_gone(e: &postgres::Error) -> bool {
    e.is_closed()
        || e.code()
            .is_some_and(|c| c.code().starts_with("57P") || c.code().starts_with("08"))
}

/// How long a snapshot's transaction stays open on an idle pooled connection before the
/// pool ends it (the next read on that connection would have ended it for free).
const SNAPSHOT_LINGER: Duration = Duration::from_millis(200);

/// Reads through one connection inside one transaction. The transaction's `BEGIN` goes
/// out with the first read, in the same round trip; a snapshot's end is left to the next
/// user of the connection, whose `BEGIN` carries it. A point read such as `get_by_name`
/// is then one round trip.
struct PgReader {
    inner: Arc<Inner>,
    conn: RefCell<Option<Conn>>,
    /// The `BEGIN` statements not sent yet.
    begin: RefCell<Option<String>>,
    /// A write lease's lock and first reads, which go out with its `BEGIN`: the results
    /// of these statements come before those of the statement they travel with.
    lease_opening: RefCell<Option<LeaseOpening>>,
    /// Whether the transaction is a snapshot, ended lazily.
    snapshot: bool,
    /// What a write lease has read (see [`Memo`]); `None` for other readers.
    memo: Option<RefCell<Memo>>,
}

/// What a write lease's `BEGIN` carries: the advisory lock, then reads of keys and of
/// whole key ranges, for the memo.
struct LeaseOpening {
    /// `BEGIN`, the lock under its timeout, the timeout's reset.
    lock: String,
    /// Keys to read.
    gets: Vec<Vec<u8>>,
    /// Key ranges to read whole (start, end), when they fit a page of the largest size.
    wholes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl LeaseOpening {
    /// Statements in the opening.
    fn statements(&self) -> usize {
        4 + self.gets.len() + self.wholes.len()
    }

    fn sql(&self) -> String {
        let mut sql = self.lock.clone();
        for key in &self.gets {
            sql.push_str(&format!(
                "; EXECUTE clusto_get_hex(decode('{}', 'hex'))",
                hex::encode(key)
            ));
        }
        for (start, end) in &self.wholes {
            sql.push_str("; ");
            sql.push_str(&page_sql(&(start.clone(), end.clone(), false, PAGES[2])));
        }
        sql
    }
}

/// The answers a write lease got from the server, by request. While the lease is held
/// no other writer can change the store (every writer takes the same advisory lock), so
/// a request made again in the same transaction — a rack's record read for each of its
/// 40 servers, the last run of an IP range for each allocation — is answered without a
/// round trip. The transaction's own writes are layered above, never in here.
#[derive(Default)]
struct Memo {
    gets: HashMap<Vec<u8>, Option<Vec<u8>>>,
    pages: HashMap<PageRequest, Vec<Entry>>,
    /// Key ranges read whole, with every entry in them.
    whole: WholeRanges,
    /// Key ranges the server holds nothing in (start → end, `None`: no end), learnt from
    /// lookups that missed: the key asked for, up to the next key the server has. A load
    /// of new names in order asks the server once per run of them, not once per name.
    gaps: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    entries: usize,
    /// The ids the store had not given when the lease began (kept when the rest is
    /// forgotten: they do not take room).
    fresh: Option<FreshIds>,
}

/// Key ranges read whole, by start: the end (`None`: no end) and every entry inside.
/// Looked up by the nearest start: one range inside another may be missed (then the
/// server is asked), never a range taken for whole that is not.
type WholeRanges = BTreeMap<Vec<u8>, (Option<Vec<u8>>, Vec<Entry>)>;

/// What a write lease's lookup found: the key's value, and the keys after it.
type Seek = (Option<Vec<u8>>, Vec<Vec<u8>>);

/// One page of a scan: start, end, reverse, rows at most.
type PageRequest = (Vec<u8>, Option<Vec<u8>>, bool, i64);

/// Entries (keys and page rows) a memo holds before it starts again, so that a huge
/// transaction's memo stays a bounded cache.
const MEMO_ENTRIES: usize = 1 << 18;

impl Memo {
    /// Makes room for `more` entries, forgetting everything when full.
    fn reserve(&mut self, more: usize) {
        self.entries += more;
        if self.entries > MEMO_ENTRIES {
            self.gets.clear();
            self.pages.clear();
            self.whole.clear();
            self.gaps.clear();
            self.entries = more;
        }
    }

    /// What the server holds under `key`, when a read or a gap told it (`None`: not
    /// known).
    fn known(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        match self.gets.get(key) {
            Some(value) => Some(value.clone()),
            None => self.in_gap(key).then_some(None),
        }
    }

    /// Whether [`Memo::known`] knows `key`.
    fn knows(&self, key: &[u8]) -> bool {
        self.gets.contains_key(key) || self.in_gap(key)
    }

    /// Whether the server cannot hold `key`: it names an id not given when the lease
    /// began, or a read or a gap told so.
    fn holds_nothing_at(&self, key: &[u8]) -> bool {
        self.fresh.is_some_and(|fresh| fresh.named_in(key))
            || match self.gets.get(key) {
                Some(value) => value.is_none(),
                None => self.in_gap(key),
            }
    }

    /// Whether the server holds nothing under `key`, by a gap learnt before, or by a
    /// range read whole without it (its entries are all in `gets`).
    fn in_gap(&self, key: &[u8]) -> bool {
        let inside =
            |(_, end): (&Vec<u8>, &Option<Vec<u8>>)| end.as_deref().is_none_or(|end| key < end);
        let below = (Bound::Unbounded, Bound::Included(key));
        self.gaps
            .range::<[u8], _>(below)
            .next_back()
            .is_some_and(inside)
            || self
                .whole
                .range::<[u8], _>(below)
                .next_back()
                .is_some_and(|(start, (end, _))| inside((start, end)))
    }

    /// Records what a lookup of `key` found: its value (`None`: the server has no such
    /// key) and the keys the server has after it, in order, up to `end`; `to_end` says
    /// there are no others before `end`. When the key was missing, the ranges between
    /// them are gaps; a key found says nothing worth keeping about its neighbours (an
    /// entity's record is followed by the next id's, with no room between).
    fn remember_seek(
        &mut self,
        key: &[u8],
        value: Option<Vec<u8>>,
        after: &[Vec<u8>],
        end: &[u8],
        to_end: bool,
    ) {
        if value.is_some() {
            self.reserve(1);
            self.gets.insert(key.to_vec(), value);
            return;
        }
        self.reserve(after.len() + 2);
        let just_after = |k: &[u8]| [k, &[0]].concat();
        let mut gap_from = key.to_vec();
        self.gets.insert(key.to_vec(), None);
        for next in after {
            if gap_from < *next {
                self.gaps.insert(gap_from, Some(next.clone()));
            }
            gap_from = just_after(next);
        }
        if to_end && gap_from.as_slice() < end {
            self.gaps.insert(gap_from, Some(end.to_vec()));
        }
    }
}

impl PgReader {
    /// A reader that will begin with `begin` on a pooled connection.
    fn begin(inner: &Arc<Inner>, begin: String, snapshot: bool) -> Result<Self> {
        Ok(PgReader {
            inner: inner.clone(),
            conn: RefCell::new(Some(inner.take()?)),
            begin: RefCell::new(Some(begin)),
            lease_opening: RefCell::new(None),
            snapshot,
            memo: None,
        })
    }

    /// A reader for a write lease, which remembers what it read. Nothing is sent yet:
    /// the `BEGIN`, the advisory lock (waiting up to `wait`) and reads of `first` go
    /// with the lease's first statement, in one round trip.
    fn begin_lease(inner: &Arc<Inner>, wait: Option<Duration>, first: &[Vec<u8>]) -> Result<Self> {
        // A lock not granted must stop the statements sent after it, so even the lease
        // that does not wait takes the lock under a timeout (1 ms), which raises an error.
        let ms = wait.map_or(1, |w| w.as_millis().clamp(1, i32::MAX as u128));
        // The timeout is for the lock alone: the `COMMIT` (whose `NOTIFY` takes a lock
        // of its own) must not fail for it.
        let lock = format!(
            "BEGIN; SET LOCAL lock_timeout = {ms}; SELECT pg_advisory_xact_lock({}); \
             SET LOCAL lock_timeout TO DEFAULT",
            inner.lock_key
        );
        let mut reader = PgReader::begin(inner, "BEGIN".into(), false)?;
        reader.memo = Some(RefCell::new(Memo::default()));
        reader.lease_opening = RefCell::new(Some(LeaseOpening {
            lock,
            gets: first.to_vec(),
            wholes: Vec::new(),
        }));
        Ok(reader)
    }

    /// The statements that start the transaction on `conn`, ending a snapshot left open.
    fn opening(&self, conn: &Conn) -> Option<String> {
        let mut begin = self.begin.borrow().clone()?;
        if let Some(lease) = &*self.lease_opening.borrow() {
            begin = lease.sql();
        }
        Some(match conn.pending_end {
            true => format!("ROLLBACK; {begin}"),
            false => begin,
        })
    }

    /// Takes a lease opening's results off the front of `messages` (from a simple query
    /// that began with the opening `open`): the memo learns what it read. Returns the
    /// results of the statements after it.
    fn take_opening(
        &self,
        open: &str,
        mut messages: Vec<postgres::SimpleQueryMessage>,
    ) -> Result<Vec<postgres::SimpleQueryMessage>> {
        let Some(opening) = self.lease_opening.borrow_mut().take() else {
            return Ok(messages);
        };
        let statements = opening.statements() + usize::from(open.starts_with("ROLLBACK; "));
        let (mut groups, split) = row_groups(&messages, statements);
        // The reads are the opening's last statements: keys, then ranges.
        let ranges = groups.split_off(groups.len().saturating_sub(opening.wholes.len()));
        let gets = groups.split_off(groups.len().saturating_sub(opening.gets.len()));
        for (key, rows) in opening.gets.iter().zip(gets) {
            let value = rows.first().map(|row| unhex(row.get(0))).transpose()?;
            self.remember(key, &value);
        }
        for ((start, end), rows) in opening.wholes.into_iter().zip(ranges) {
            self.remember_whole(start, end, hex_entries(rows)?);
        }
        Ok(messages.split_off(split))
    }

    /// The error of a lease whose lock another session holds, naming the holder; ends
    /// the failed transaction on `conn`.
    fn locked(&self, conn: &mut Conn) -> Error {
        let _ = conn.client.batch_execute("ROLLBACK");
        Error::Locked {
            path: PathBuf::from(&self.inner.target.shown),
            holder: self.inner.lease_holder(&mut conn.client),
            by_this_process: false,
        }
    }

    fn opened(&self, conn: &mut Conn) {
        conn.pending_end = false;
        *self.begin.borrow_mut() = None;
    }

    /// Runs `call` inside the transaction, sending the `BEGIN` first when it has not
    /// gone out yet.
    fn with<T>(
        &self,
        call: impl FnMut(&mut Conn) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        self.doing("reading", call)
    }

    /// [`PgReader::with`], a failure saying what the call was `doing`.
    fn doing<T>(
        &self,
        doing: &str,
        mut call: impl FnMut(&mut Conn) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        match self.first_or_raw(None, &mut call) {
            Ok(First::Value(v)) => Ok(v),
            Ok(First::Rows(_)) => unreachable!("rows come back only for a combined query"),
            Err(RawError::Pg(e)) => Err(self.inner.io(doing, e)),
            Err(RawError::Clusto(e)) => Err(e),
        }
    }

    /// Runs `call` in the transaction. When the `BEGIN` is still to go, `combined` (an
    /// SQL text run after it in one simple query) goes with it instead of `call`, and
    /// its rows come back. A connection found dead by the `BEGIN` is replaced once:
    /// nothing of the transaction happened on it.
    fn first_or<T>(
        &self,
        combined: Option<&str>,
        mut call: impl FnMut(&mut Conn) -> std::result::Result<T, postgres::Error>,
    ) -> Result<First<T>> {
        self.first_or_raw(combined, &mut call).map_err(|e| match e {
            RawError::Pg(e) => self.inner.io("reading", e),
            RawError::Clusto(e) => e,
        })
    }

    fn first_or_raw<T>(
        &self,
        combined: Option<&str>,
        call: &mut impl FnMut(&mut Conn) -> std::result::Result<T, postgres::Error>,
    ) -> std::result::Result<First<T>, RawError> {
        let mut slot = self.conn.borrow_mut();
        let mut replaced = false;
        loop {
            let conn = slot.as_mut().ok_or_else(|| {
                RawError::Clusto(Error::Io {
                    kind: std::io::ErrorKind::ConnectionAborted,
                    message: format!(
                        "reading {}: the connection was lost",
                        self.inner.target.shown
                    ),
                })
            })?;
            let opening = self.opening(conn);
            // Whether a lease's opening went through before `call` (then a lost
            // connection took the lock and what was read with it: no second try).
            let mut opened_alone = false;
            let outcome = match (&opening, combined) {
                (Some(open), Some(sql)) => conn
                    .client
                    .simple_query(&format!("{open}; {sql}"))
                    .map(First::Rows),
                (Some(open), None) if self.lease_opening.borrow().is_some() => {
                    match conn.client.simple_query(open) {
                        Ok(messages) => {
                            self.opened(conn);
                            opened_alone = true;
                            match self.take_opening(open, messages) {
                                Ok(_) => call(conn).map(First::Value),
                                Err(e) => return Err(RawError::Clusto(e)),
                            }
                        }
                        Err(e) => Err(e),
                    }
                }
                (Some(open), None) => conn
                    .client
                    .batch_execute(open)
                    .and_then(|()| call(conn).map(First::Value)),
                (None, _) => call(conn).map(First::Value),
            };
            match outcome {
                Ok(First::Rows(messages)) if opening.is_some() => {
                    self.opened(conn);
                    let open = opening.as_deref().unwrap_or_default();
                    return self
                        .take_opening(open, messages)
                        .map(First::Rows)
                        .map_err(RawError::Clusto);
                }
                Ok(done) => {
                    if opening.is_some() {
                        self.opened(conn);
                    }
                    return Ok(done);
                }
                Err(e)
                    if opening.is_some()
                        && self.lease_opening.borrow().is_some()
                        && e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) =>
                {
                    // The lock was not granted: the transaction is rolled back and the
                    // opening stays to go, so that the lease's next statement asks for
                    // the lock again rather than run without it.
                    conn.pending_end = false;
                    return Err(RawError::Clusto(self.locked(conn)));
                }
                Err(e) if connection_gone(&e) => {
                    *slot = None;
                    // The server went away or cut us off: the idle connections are most
                    // likely gone too, and each would cost a caller a failed call.
                    self.inner
                        .idle
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clear();
                    if opening.is_some() && !replaced && !opened_alone {
                        replaced = true;
                        *slot = Some(self.inner.connect().map_err(RawError::Clusto)?);
                        continue;
                    }
                    return Err(RawError::Pg(e));
                }
                Err(e) => {
                    if opening.is_some() {
                        // The BEGIN ran before the statement that failed: the transaction
                        // is open (and aborted); it ends with the reader.
                        self.opened(conn);
                    }
                    return Err(RawError::Pg(e));
                }
            }
        }
    }

    /// Returns the connection to the pool after the transaction's end went out with its
    /// last statement.
    fn finished(&self) {
        if let Some(conn) = self.conn.borrow_mut().take() {
            self.inner.give_back(conn);
        }
    }

    /// Ends the transaction and returns the connection to the pool.
    fn finish(&self, end: &str) -> Result<()> {
        let Some(mut conn) = self.conn.borrow_mut().take() else {
            return Ok(());
        };
        if self.begin.borrow().is_some() {
            // Nothing was sent: the connection is as it was taken.
            self.inner.give_back(conn);
            return Ok(());
        }
        if self.snapshot && end == "ROLLBACK" {
            conn.pending_end = true;
            self.inner.give_back(conn);
            return Ok(());
        }
        match conn.client.batch_execute(end) {
            Ok(()) => {
                self.inner.give_back(conn);
                Ok(())
            }
            Err(e) => Err(self.inner.io("committing to", e)),
        }
    }
}

impl Drop for PgReader {
    fn drop(&mut self) {
        let _ = self.finish("ROLLBACK");
    }
}

/// What a first read gave: the rows of the combined simple query, or `call`'s value.
enum First<T> {
    Rows(Vec<postgres::SimpleQueryMessage>),
    Value(T),
}

/// A failure of a read, with the server's error kept for callers that look at its code.
enum RawError {
    Pg(postgres::Error),
    Clusto(Error),
}

/// The bytes of a hex text column of a simple query.
fn unhex(text: Option<&str>) -> Result<Vec<u8>> {
    hex::decode(text.unwrap_or_default())
        .map_err(|e| Error::Corrupt(format!("the server sent a value that is not hex: {e}")))
}

/// The rows of the first `statements` statements of a simple query, one group per
/// statement, and the index of the first message after them.
fn row_groups(
    messages: &[postgres::SimpleQueryMessage],
    statements: usize,
) -> (Vec<Vec<&postgres::SimpleQueryRow>>, usize) {
    let mut groups: Vec<Vec<&postgres::SimpleQueryRow>> = vec![Vec::new()];
    let mut completed = 0;
    for (i, message) in messages.iter().enumerate() {
        match message {
            postgres::SimpleQueryMessage::Row(row) => {
                groups.last_mut().expect("a group").push(row);
            }
            postgres::SimpleQueryMessage::CommandComplete(_) => {
                completed += 1;
                if completed == statements {
                    return (groups, i + 1);
                }
                groups.push(Vec::new());
            }
            _ => {}
        }
    }
    (groups, messages.len())
}

/// Entries from rows of hex key and value.
fn hex_entries(rows: Vec<&postgres::SimpleQueryRow>) -> Result<Vec<Entry>> {
    rows.into_iter()
        .map(|row| Ok((unhex(row.get(0))?, unhex(row.get(1))?)))
        .collect()
}

/// Rows of a simple query whose `columns` columns are hex text, as bytes.
fn hex_rows(
    messages: &[postgres::SimpleQueryMessage],
    columns: usize,
) -> Result<Vec<Vec<Vec<u8>>>> {
    messages
        .iter()
        .filter_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .map(|row| (0..columns).map(|i| unhex(row.get(i))).collect())
        .collect()
}

impl KvRead for PgReader {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(memo) = &self.memo else {
            return self.fetch(key);
        };
        if let Some(known) = memo.borrow().known(key) {
            return Ok(known);
        }
        // A lease seeks rather than looks up: the same one statement also tells which
        // keys of the key's space come next, so a load of new names in order asks the
        // server once per run of names it has, not once per name.
        let Some(end) = key
            .first()
            .and_then(|space| crate::keys::prefix_end(&[*space]))
        else {
            return self.fetch(key);
        };
        let (value, after) = self.fetch_seek(key, &end)?;
        let to_end = after.len() + usize::from(value.is_some()) < SEEK_KEYS as usize;
        memo.borrow_mut()
            .remember_seek(key, value.clone(), &after, &end, to_end);
        Ok(value)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        let Some(memo) = &self.memo else {
            return self.fetch_many(keys);
        };
        let unknown: Vec<Vec<u8>> = {
            let memo = memo.borrow();
            keys.iter().filter(|k| !memo.knows(k)).cloned().collect()
        };
        let fetched = self.fetch_many(&unknown)?;
        let mut memo = memo.borrow_mut();
        memo.reserve(unknown.len());
        // Answered from what was fetched, then from the memo (which a reset may have
        // just emptied of the other keys).
        let mut fresh: HashMap<Vec<u8>, Option<Vec<u8>>> =
            unknown.into_iter().zip(fetched).collect();
        let answers = keys
            .iter()
            .map(|k| match fresh.get(k) {
                Some(v) => Ok(v.clone()),
                None => match memo.known(k) {
                    Some(v) => Ok(v),
                    None => self.fetch(k),
                },
            })
            .collect();
        memo.gets.extend(fresh.drain());
        answers
    }

    fn prefetch_prefix(&self, prefix: &[u8]) -> Result<()> {
        self.read_whole(prefix)
    }

    fn learned(&self, key: &[u8], value: &[u8]) {
        let known = self
            .memo
            .as_ref()
            .is_some_and(|memo| memo.borrow().gets.contains_key(key));
        if !known {
            self.remember(key, &Some(value.to_vec()));
        }
    }

    fn takes_read_ahead(&self) -> bool {
        self.memo.is_some()
    }

    fn read_ahead(&self, prefixes: &[&[u8]]) -> Result<()> {
        let Some(memo) = &self.memo else {
            return Ok(());
        };
        // Not what is known: a range read whole, or a record read by its key (an entity's
        // record is the only key under its prefix).
        let wanted: Vec<(Vec<u8>, Option<Vec<u8>>)> = prefixes
            .iter()
            .filter(|p| !memo.borrow().gets.contains_key(**p))
            .map(|p| (p.to_vec(), crate::keys::prefix_end(p)))
            .filter(|(start, end)| {
                let request = (start.clone(), end.clone(), false, PAGES[2]);
                from_whole(&memo.borrow().whole, &request).is_none()
            })
            .collect();
        // A lease's opening still to go carries them; else they go together now, when
        // that saves a round trip (one alone is read as it is asked for, in binary).
        let opening_to_go = self.begin.borrow().is_some();
        if wanted.is_empty() || (!opening_to_go && wanted.len() < 2) {
            return Ok(());
        }
        if opening_to_go && let Some(opening) = &mut *self.lease_opening.borrow_mut() {
            opening.wholes.extend(wanted);
            return Ok(());
        }
        let sql = wanted
            .iter()
            .map(|(start, end)| page_sql(&(start.clone(), end.clone(), false, PAGES[2])))
            .collect::<Vec<_>>()
            .join("; ");
        let messages = self.with(|c| c.client.simple_query(&sql))?;
        let (groups, _) = row_groups(&messages, wanted.len());
        for ((start, end), rows) in wanted.into_iter().zip(groups) {
            self.remember_whole(start, end, hex_entries(rows)?);
        }
        Ok(())
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        Box::new(Pages {
            reader: self,
            start: start.to_vec(),
            end: end.map(<[u8]>::to_vec),
            reverse,
            page: Vec::new().into_iter(),
            pages_read: 0,
            done: end.is_some_and(|e| e <= start),
        })
    }
}

/// The statement that reads one page of a scan, its rows in hex (for a simple query).
fn page_sql(request: &PageRequest) -> String {
    let (start, end, reverse, limit) = request;
    format!(
        "EXECUTE {}(decode('{}', 'hex'), {}{limit})",
        scan_hex_name(scan_shape(*reverse, end.is_some())),
        hex::encode(start),
        end.as_ref()
            .map(|e| format!("decode('{}', 'hex'), ", hex::encode(e)))
            .unwrap_or_default(),
    )
}

/// A page answered from a key range read whole, when the request lies inside one.
fn from_whole(whole: &WholeRanges, request: &PageRequest) -> Option<Vec<Entry>> {
    let (start, end, reverse, limit) = request;
    let (_, (_, rows)) = whole
        .range::<[u8], _>((Bound::Unbounded, Bound::Included(start.as_slice())))
        .next_back()
        .filter(|(_, (to, _))| match (to, end) {
            (None, _) => true,
            (Some(to), Some(end)) => end <= to,
            (Some(_), None) => false,
        })?;
    let inside = rows
        .iter()
        .filter(|(k, _)| k >= start && end.as_ref().is_none_or(|e| k < e));
    let limit = usize::try_from(*limit).unwrap_or(usize::MAX);
    Some(match reverse {
        false => inside.take(limit).cloned().collect(),
        true => inside.rev().take(limit).cloned().collect(),
    })
}

impl PgReader {
    /// Reads the whole of `prefix` for a lease, in one round trip, when it holds no more
    /// than a page of the largest size; later scans inside it are answered from that.
    fn read_whole(&self, prefix: &[u8]) -> Result<()> {
        let Some(memo) = &self.memo else {
            return Ok(());
        };
        let end = crate::keys::prefix_end(prefix);
        let request: PageRequest = (prefix.to_vec(), end.clone(), false, PAGES[2]);
        if from_whole(&memo.borrow().whole, &request).is_some() {
            return Ok(());
        }
        let rows = self.fetch_page(&request)?;
        self.remember_whole(prefix.to_vec(), end, rows);
        Ok(())
    }

    /// Records a key range read whole (unless the page was full: then it may hold more),
    /// and each of its entries as a key read.
    fn remember_whole(&self, start: Vec<u8>, end: Option<Vec<u8>>, rows: Vec<Entry>) {
        let Some(memo) = &self.memo else {
            return;
        };
        if rows.len() >= PAGES[2] as usize {
            return;
        }
        let mut memo = memo.borrow_mut();
        memo.reserve(2 * rows.len() + 1);
        for (k, v) in &rows {
            memo.gets.insert(k.clone(), Some(v.clone()));
        }
        memo.whole.insert(start, (end, rows));
    }

    /// Records what the server said `key` holds, for a lease's later reads.
    fn remember(&self, key: &[u8], value: &Option<Vec<u8>>) {
        if let Some(memo) = &self.memo {
            let mut memo = memo.borrow_mut();
            memo.reserve(1);
            memo.gets.insert(key.to_vec(), value.clone());
        }
    }

    /// The value of `key`, from the server.
    fn fetch(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let combined = format!(
            "EXECUTE clusto_get_hex(decode('{}', 'hex'))",
            hex::encode(key)
        );
        match self.first_or(Some(&combined), |c| c.client.query_opt(&c.get, &[&key]))? {
            First::Rows(messages) => Ok(hex_rows(&messages, 1)?.pop().and_then(|mut r| r.pop())),
            First::Value(found) => Ok(found.map(|r| r.get(0))),
        }
    }

    /// The value of `key` and the keys after it up to `end` (at most [`SEEK_KEYS`] in
    /// all), from the server in one round trip.
    fn fetch_seek(&self, key: &[u8], end: &[u8]) -> Result<Seek> {
        let combined = format!(
            "EXECUTE clusto_seek_hex(decode('{}', 'hex'), decode('{}', 'hex'), {SEEK_KEYS})",
            hex::encode(key),
            hex::encode(end)
        );
        // Only the key asked for has its value (never NULL) in its row.
        let rows: Vec<(Vec<u8>, Option<Vec<u8>>)> = match self.first_or(Some(&combined), |c| {
            c.client.query(&c.seek, &[&key, &end, &SEEK_KEYS])
        })? {
            First::Rows(messages) => hex_rows(&messages, 2)?
                .into_iter()
                .map(|mut row| {
                    let v = row.pop();
                    (row.pop().unwrap_or_default(), v)
                })
                .collect(),
            First::Value(rows) => rows.into_iter().map(|r| (r.get(0), r.get(1))).collect(),
        };
        let mut rows = rows.into_iter().peekable();
        let value = rows
            .next_if(|(k, _)| k.as_slice() == key)
            .and_then(|(_, v)| v);
        Ok((value, rows.map(|(k, _)| k).collect()))
    }

    /// The values of `keys`, from the server in one round trip (none for no keys).
    fn fetch_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.with(|c| c.client.query(&c.get_many, &[&keys]))?;
        let found: HashMap<Vec<u8>, Vec<u8>> =
            rows.into_iter().map(|r| (r.get(0), r.get(1))).collect();
        // A key asked for twice gets its value twice.
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    /// One page of a scan, from the memo or the server.
    fn page(&self, request: PageRequest) -> Result<Vec<Entry>> {
        if let Some(memo) = &self.memo {
            let memo = memo.borrow();
            if let Some(rows) = memo.pages.get(&request) {
                return Ok(rows.clone());
            }
            if let Some(rows) = from_whole(&memo.whole, &request) {
                return Ok(rows);
            }
        }
        let rows = self.fetch_page(&request)?;
        if let Some(memo) = &self.memo {
            let mut memo = memo.borrow_mut();
            memo.reserve(rows.len().max(1));
            memo.pages.insert(request, rows.clone());
        }
        Ok(rows)
    }

    /// One page of a scan, from the server.
    fn fetch_page(&self, request: &PageRequest) -> Result<Vec<Entry>> {
        let (start, end, reverse, limit) = request;
        let (reverse, limit) = (*reverse, *limit);
        let shape = scan_shape(reverse, end.is_some());
        // The first page of a snapshot's first read travels with its BEGIN.
        let combined = page_sql(request);
        let read = self.first_or(Some(&combined), |c| match end {
            Some(end) => c.client.query(&c.scans[shape], &[start, end, &limit]),
            None => c.client.query(&c.scans[shape], &[start, &limit]),
        });
        match read {
            Ok(First::Value(rows)) => Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect()),
            Ok(First::Rows(messages)) => hex_rows(&messages, 2).map(|rows| {
                rows.into_iter()
                    .map(|mut r| {
                        let v = r.pop().unwrap_or_default();
                        (r.pop().unwrap_or_default(), v)
                    })
                    .collect()
            }),
            Err(e) => Err(e),
        }
    }
}

/// A scan, read a page at a time.
struct Pages<'a> {
    reader: &'a PgReader,
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    reverse: bool,
    page: std::vec::IntoIter<(Vec<u8>, Vec<u8>)>,
    pages_read: usize,
    done: bool,
}

impl Iterator for Pages<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.page.next() {
            return Some(Ok(entry));
        }
        if self.done {
            return None;
        }
        let limit = PAGES[self.pages_read.min(PAGES.len() - 1)];
        self.pages_read += 1;
        let reverse = self.reverse;
        let rows = self
            .reader
            .page((self.start.clone(), self.end.clone(), reverse, limit));
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        if (rows.len() as i64) < limit {
            self.done = true;
        } else if let Some((last, _)) = rows.last() {
            // The next page starts after the last key read (or, in reverse, ends at it).
            if reverse {
                self.end = Some(last.clone());
            } else {
                let mut after = last.clone();
                after.push(0);
                self.start = after;
            }
        }
        self.page = rows.into_iter();
        self.page.next().map(Ok)
    }
}

/// The write lease: an advisory lock held by an open transaction.
struct PgLease(PgReader);

impl KvRead for PgLease {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.0.get(key)
    }

    fn prefetch_prefix(&self, prefix: &[u8]) -> Result<()> {
        self.0.prefetch_prefix(prefix)
    }

    fn takes_read_ahead(&self) -> bool {
        self.0.takes_read_ahead()
    }

    fn read_ahead(&self, prefixes: &[&[u8]]) -> Result<()> {
        self.0.read_ahead(prefixes)
    }

    fn learned(&self, key: &[u8], value: &[u8]) {
        self.0.learned(key, value)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        self.0.get_many(keys)
    }

    fn scan(&self, start: &[u8], end: Option<&[u8]>, reverse: bool) -> EntryIter<'_> {
        self.0.scan(start, end, reverse)
    }
}

/// Commits whose keys and values take at most this many bytes go as text with their
/// `COMMIT`, in one round trip; larger ones as binary parameters, then the `COMMIT`.
const ONE_TRIP_COMMIT_BYTES: usize = 64 * 1024;

/// Commits that write at least this many rows delete their keys and copy the rows in:
/// cheaper for PostgreSQL than an upsert of each, for two round trips more.
const COPY_ROWS: usize = 1000;

/// `keys` as an SQL array literal of bytea.
fn bytea_array(keys: &[Vec<u8>]) -> String {
    if keys.is_empty() {
        return "'{}'::bytea[]".into();
    }
    let items: Vec<String> = keys
        .iter()
        .map(|k| format!("decode('{}', 'hex')", hex::encode(k)))
        .collect();
    format!("ARRAY[{}]", items.join(", "))
}

impl PgLease {
    /// The commit of a small batch: its writes and the `COMMIT` in one simple query.
    fn commit_in_one_trip(
        self,
        removed: &[Vec<u8>],
        keys: &[Vec<u8>],
        values: &[Vec<u8>],
    ) -> Result<()> {
        let sql = format!(
            "EXECUTE clusto_write_hex({}, {}, {}); {}",
            bytea_array(removed),
            bytea_array(keys),
            bytea_array(values),
            self.0.inner.commit_sql()
        );
        match self
            .0
            .first_or_raw(None, &mut |c| c.client.batch_execute(&sql))
        {
            Ok(First::Value(())) => {
                self.0.finished();
                Ok(())
            }
            Ok(First::Rows(_)) => unreachable!("rows come back only for a combined query"),
            // The session ended under the query (a shutdown or a cut may come after the
            // COMMIT's completion): whether it committed is unknown.
            Err(RawError::Pg(e)) if connection_gone(&e) => {
                Err(uncertain_commit(self.0.inner.io("committing to", e)))
            }
            // The server refused the writes: the COMMIT after them did not run.
            Err(RawError::Pg(e)) if e.as_db_error().is_some() => {
                Err(self.0.inner.io("committing to", e))
            }
            Err(RawError::Pg(e)) => Err(uncertain_commit(self.0.inner.io("committing to", e))),
            // The connection was gone before: nothing was sent, the server rolled back.
            Err(RawError::Clusto(e)) => Err(e),
        }
    }
}

/// A failed `COMMIT`'s error, saying the outcome is unknown when the connection failed.
fn uncertain_commit(e: Error) -> Error {
    match e {
        Error::Io { kind, message } => Error::Io {
            kind,
            message: format!(
                "{message}: the commit may or may not have been applied (read the latest \
                 version to know)"
            ),
        },
        other => other,
    }
}

impl WriteLease for PgLease {
    fn fresh_ids(&mut self, fresh: FreshIds) {
        if let Some(memo) = &self.0.memo {
            memo.borrow_mut().fresh = Some(fresh);
        }
    }

    fn commit(self: Box<Self>, mut writes: Vec<Write>, _version: Version) -> Result<()> {
        // The last write of a key counts, as on the other engines; a `COPY` takes each
        // key once. A transaction's writes come sorted, one per key.
        if !writes.windows(2).all(|w| w[0].0 < w[1].0) {
            writes.reverse();
            let mut seen = std::collections::HashSet::new();
            writes.retain(|(k, _)| seen.insert(k.clone()));
        }
        let size: usize = writes
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
            .sum();
        let mut removed: Vec<Vec<u8>> = Vec::new();
        let (mut keys, mut values): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (Vec::new(), Vec::new());
        for (key, value) in writes {
            match value {
                Some(v) => {
                    keys.push(key);
                    values.push(v);
                }
                None => removed.push(key),
            }
        }
        if size <= ONE_TRIP_COMMIT_BYTES {
            return self.commit_in_one_trip(&removed, &keys, &values);
        }
        if keys.len() < COPY_ROWS {
            self.0.doing("committing to", |c| {
                c.client
                    .execute(&c.write, &[&removed, &keys, &values])
                    .map(drop)
            })?;
        } else {
            // An upsert of every row costs PostgreSQL about twice what deleting the keys
            // and copying the rows in does (a 1000-server load's 28,000 rows: ~105 µs
            // against ~65 per server, benches/RESULTS.md), for two round trips more. Keys
            // the server cannot hold (new ids, names found free) need no deleting: most
            // of a load's.
            let every: Vec<&[u8]> = removed.iter().chain(&keys).map(Vec::as_slice).collect();
            let doomed: Vec<&[u8]> = match &self.0.memo {
                Some(memo) => {
                    let memo = memo.borrow();
                    let new = |k: &&[u8]| memo.holds_nothing_at(k);
                    removed
                        .iter()
                        .map(Vec::as_slice)
                        .chain(keys.iter().map(Vec::as_slice).filter(|k| !new(k)))
                        .collect()
                }
                None => every.clone(),
            };
            let trusted = doomed.len() < every.len();
            self.0.doing("committing to", |c| {
                if trusted {
                    c.client.batch_execute("SAVEPOINT clusto_copy")?;
                }
                if !doomed.is_empty() {
                    c.client.execute(&c.delete, &[&doomed])?;
                }
                match copy_rows(c, &keys, &values) {
                    // A key taken for new was there after all: every key goes, as if
                    // nothing had been known.
                    Err(e) if trusted && e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                        c.client
                            .batch_execute("ROLLBACK TO SAVEPOINT clusto_copy")?;
                        c.client.execute(&c.delete, &[&every])?;
                        copy_rows(c, &keys, &values)
                    }
                    done => done,
                }
            })?;
        }
        self.0
            .finish(&self.0.inner.commit_sql())
            .map_err(uncertain_commit)
    }
}

/// Copies rows in with binary `COPY`.
fn copy_rows(
    c: &mut Conn,
    keys: &[Vec<u8>],
    values: &[Vec<u8>],
) -> std::result::Result<(), postgres::Error> {
    let sink = c.client.copy_in(c.copy_in.as_str())?;
    let mut rows = BinaryCopyInWriter::new(sink, &[Type::BYTEA, Type::BYTEA]);
    for (k, v) in keys.iter().zip(values) {
        rows.write(&[k, v])?;
    }
    rows.finish().map(drop)
}

/// A session that `LISTEN`s for commits; it goes back to the backend for the next wait.
struct PgListener<'a> {
    inner: &'a Inner,
    client: Option<Client>,
}

impl CommitListener for PgListener<'_> {
    fn wait(&mut self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        let Some(client) = self.client.as_mut() else {
            return Err(Error::io_other(format!(
                "listening on {}: the session was lost",
                self.inner.target.shown
            )));
        };
        let schema = &self.inner.target.schema;
        let mut notifications = client.notifications();
        let heard = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut next = notifications.timeout_iter(left);
            match postgres::fallible_iterator::FallibleIterator::next(&mut next) {
                Ok(Some(n)) if n.payload() == schema => break Ok(true),
                // Another clusto database's commit on the same server.
                Ok(Some(_)) => continue,
                Ok(None) => break Ok(false),
                Err(e) => break Err(e),
            }
        };
        drop(notifications);
        let heard = heard.map_err(|e| self.inner.io("listening on", e));
        if heard.is_err() {
            self.client = None;
        }
        heard
    }
}

impl Drop for PgListener<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take().filter(|c| !c.is_closed()) {
            *self
                .inner
                .listening
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(client);
        }
    }
}

impl Backend for PostgresBackend {
    fn snapshot(&self) -> Result<Snapshot<'_>> {
        let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_owned();
        Ok(Box::new(PgReader::begin(&self.inner, begin, true)?))
    }

    fn begin_write(&self, wait: Option<Duration>) -> Result<Box<dyn WriteLease>> {
        self.begin_write_prefetching(wait, &[])
    }

    fn begin_write_prefetching(
        &self,
        wait: Option<Duration>,
        first: &[Vec<u8>],
    ) -> Result<Box<dyn WriteLease>> {
        Ok(Box::new(PgLease(PgReader::begin_lease(
            &self.inner,
            wait,
            first,
        )?)))
    }

    fn commit_listener(&self) -> Result<Option<Box<dyn CommitListener + '_>>> {
        let kept = self
            .inner
            .listening
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let client = match kept {
            Some(client) if !client.is_closed() => client,
            _ => {
                let mut client = self.inner.client()?;
                client
                    .batch_execute(&format!("LISTEN {CHANNEL}"))
                    .map_err(|e| self.inner.io("listening on", e))?;
                client
            }
        };
        Ok(Some(Box::new(PgListener {
            inner: &self.inner,
            client: Some(client),
        })))
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        let reader = PgReader::begin(&self.inner, "BEGIN".into(), false)?;
        let kv = self.inner.table("kv");
        reader
            .with(|c| {
                c.client
                    .query_one("SELECT pg_total_relation_size($1::text::regclass)", &[&kv])
            })
            .map(|r| r.get::<_, i64>(0) as u64)
    }

    fn is_empty(&self) -> Result<bool> {
        Ok(self.snapshot()?.scan(&[], None, false).next().is_none())
    }

    fn engine(&self) -> &'static str {
        "postgresql"
    }

    fn commit_failure_poisons(&self) -> bool {
        false
    }
}

/// Why connecting to `target` failed, in one line that names the TLS checks when the
/// handshake failed, and where the password came from when the server refused it.
fn connect_failure(target: &Target, e: &postgres::Error) -> Error {
    let mut why = describe(e);
    if let Some(checks) = target.tls.checks()
        && why.contains("TLS")
    {
        if why.contains("UnknownIssuer") {
            why.push_str(": the server's certificate is not signed by a trusted root");
        }
        why = format!("{why} (TLS with {checks})");
    }
    if let Some(note) = &target.password_note
        && (e.as_db_error().is_some() || why.contains("password"))
    {
        why = format!("{why} ({note})");
    }
    Error::Io {
        kind: os_kind(e),
        message: format!("cannot connect to {}: {why}", target.shown),
    }
}

/// Drops `schema` and everything in it, for tests that make a schema of their own.
pub fn drop_schema(dsn: &str) -> Result<()> {
    let target = target(dsn)?;
    let mut client = target
        .tls
        .connect(&target.config)
        .map_err(|e| connect_failure(&target, &e))?;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", target.schema))
        .map_err(|e| Error::io_other(format!("dropping the schema of {}: {e}", target.shown)))
}

#[cfg(test)]
mod tests {
    /// A scan inside a range read whole is answered from it: bounds, order and limit as
    /// the server would apply them; a scan reaching outside it is not.
    #[test]
    fn scans_inside_a_range_read_whole_are_answered_from_it() {
        let rows: Vec<Entry> = [b"Ga1", b"Ga3", b"Ga5", b"Ga7"]
            .iter()
            .map(|k| (k.to_vec(), vec![k[2]]))
            .collect();
        let whole = WholeRanges::from([(b"Ga".to_vec(), (Some(b"Gb".to_vec()), rows))]);
        let keys = |request: PageRequest| -> Option<Vec<Vec<u8>>> {
            from_whole(&whole, &request).map(|rows| rows.into_iter().map(|(k, _)| k).collect())
        };
        let k = |s: &[u8]| s.to_vec();
        assert_eq!(
            keys((k(b"Ga"), Some(k(b"Ga6")), true, 2)),
            Some(vec![k(b"Ga5"), k(b"Ga3")])
        );
        assert_eq!(
            keys((k(b"Ga3"), Some(k(b"Gb")), false, 16)),
            Some(vec![k(b"Ga3"), k(b"Ga5"), k(b"Ga7")])
        );
        assert_eq!(keys((k(b"Ga8"), Some(k(b"Ga9")), false, 16)), Some(vec![]));
        assert_eq!(
            keys((k(b"Ga"), Some(k(b"Gc")), false, 16)),
            None,
            "past its end"
        );
        assert_eq!(
            keys((k(b"G"), Some(k(b"Ga5")), false, 16)),
            None,
            "before its start"
        );
        assert_eq!(keys((k(b"Ga"), None, false, 16)), None, "open-ended");
    }
    use super::*;

    /// Every scan statement bounds its index walk by both ends of the range, even in
    /// the generic plan a prepared statement falls back to after a few runs: a scan of
    /// an empty range must not read on to the end of the table to fill its page (a
    /// 10k-server load on PostgreSQL spent most of its time there).
    #[test]
    fn scans_bound_their_index_walk_in_generic_plans() {
        let server = std::env::var("CLUSTO_TEST_POSTGRES_DSN").expect(
            "CLUSTO_TEST_POSTGRES_DSN names the test server's database: run through `make test`",
        );
        let mut client = Client::connect(&server, postgres::NoTls).unwrap();
        client
            .batch_execute(
                "SET plan_cache_mode = force_generic_plan; \
                 CREATE TEMP TABLE kv (k bytea PRIMARY KEY, v bytea NOT NULL)",
            )
            .unwrap();
        for shape in 0..4 {
            let (reverse, bounded) = (shape >= 2, shape % 2 == 1);
            assert_eq!(scan_shape(reverse, bounded), shape);
            let name = scan_hex_name(shape);
            client
                .batch_execute(&format!(
                    "PREPARE {name} AS {}",
                    scan_sql("kv", shape, true)
                ))
                .unwrap();
            let arguments = match bounded {
                true => "'\\x41', '\\x42', 16",
                false => "'\\x41', 16",
            };
            let plan: Vec<String> = client
                .query(&format!("EXPLAIN EXECUTE {name}({arguments})"), &[])
                .unwrap()
                .iter()
                .map(|row| row.get(0))
                .collect();
            let plan = plan.join("\n");
            let condition = match bounded {
                true => "Index Cond: ((k >= $1) AND (k < $2))",
                false => "Index Cond: (k >= $1)",
            };
            assert!(
                plan.contains(condition) && !plan.contains("Filter"),
                "{name}: {plan}"
            );
        }
    }

    #[test]
    fn schemas_and_tls_are_checked_without_showing_the_password() {
        let bad = target("postgresql://u:secret@h/db?schema=Drop;--")
            .err()
            .unwrap()
            .to_string();
        assert!(bad.contains("schema") && !bad.contains("secret"), "{bad}");
        let bogus = target("postgresql://u:secret@h/db?sslmode=bogus")
            .err()
            .unwrap();
        assert!(
            matches!(&bogus, Error::InvalidValue(m) if m.contains("sslmode 'bogus'")
                && m.contains("verify-full") && !m.contains("secret")),
            "{bogus}"
        );
        let no_root =
            target("postgresql://u:secret@h/db?sslmode=verify-full&sslrootcert=/no/ca%20file.crt")
                .err()
                .unwrap();
        assert!(
            matches!(&no_root, Error::InvalidValue(m) if m.contains("/no/ca file.crt")
                && !m.contains("secret")),
            "{no_root}"
        );
        let require = target("postgresql://u:secret@h/db?sslmode=require&schema=inv").unwrap();
        assert!(require.tls.is_on());
        assert_eq!(
            require.config.get_ssl_mode(),
            postgres::config::SslMode::Require
        );
        for plain in ["disable", "allow", "prefer"] {
            let t = target(&format!("postgresql://u:secret@h/db?sslmode={plain}")).unwrap();
            assert!(!t.tls.is_on(), "{plain}");
            assert_eq!(t.config.get_ssl_mode(), postgres::config::SslMode::Disable);
        }
        let socket = target("postgresql://u@%2Frun%2Fpostgresql/db?sslmode=require").unwrap();
        assert!(!socket.tls.is_on(), "no TLS over a Unix socket, as libpq");
        let ok = target("postgresql://u:secret@h:6000/db?schema=inv").unwrap();
        assert_eq!(ok.schema, "inv");
        assert_eq!(ok.config.get_ports(), &[6000]);
        let debug = format!("{:?}", ok.config);
        assert!(!debug.contains("secret"), "{debug}");
    }

    #[test]
    fn the_password_file_gives_a_missing_password() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "other:6000:db:u:no\nh:6000:db:u:from-file\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let passfile = file.to_str().unwrap();
        let t = target(&format!("postgresql://u@h:6000/db?passfile={passfile}")).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"from-file"[..]));
        assert!(t.password_note.unwrap().contains(passfile));
        // A password in the DSN wins.
        let t = target(&format!("postgresql://u:dsn@h:6000/db?passfile={passfile}")).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"dsn"[..]));
        assert!(t.password_note.is_none());
        // No line for this database.
        let t = target(&format!("postgresql://u@h:6000/other?passfile={passfile}")).unwrap();
        assert_eq!(t.config.get_password(), None);
    }

    #[test]
    fn percent_escapes_are_decoded() {
        assert_eq!(percent_decode("/a%20b/c%2Fd"), "/a b/c/d");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%+1"), "%+1");
    }
}
