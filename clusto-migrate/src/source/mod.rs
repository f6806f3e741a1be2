//! The SQL databases a migration reads from. Each backend does two things only: run a
//! query and hand back every row as [`Cell`]s, converting its own column types
//! (SQLite's dynamic values, PostgreSQL's `integer`/`text`/`timestamp`, MySQL's
//! binary-protocol values); and map its own errors to clusto's with messages that name
//! the server, never the password. Everything else — which tables and columns, the
//! schema check, turning rows into clusto's model, the report — is done once, in the
//! crate root, by `import`.

// The helpers of the server sources (dialects, time cells, host resolution) go unused
// in a build that leaves a server source out.
#![cfg_attr(
    not(all(feature = "postgresql-source", feature = "mysql-source")),
    allow(dead_code)
)]

use clusto_core::{Result, Timestamp};

use crate::dsn::SourceDsn;

#[cfg(feature = "mysql-source")]
mod my;
#[cfg(feature = "postgresql-source")]
mod pg;
pub(crate) mod sqlite;

/// One value of a source row, in the few shapes the original's schema holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    /// SQL NULL.
    Null,
    /// Any integer column (64-bit signed, as SQLite stores them).
    Int(i64),
    /// Any text column.
    Text(String),
    /// A server-native date and time (PostgreSQL `timestamp`, MySQL `DATETIME`),
    /// without time zone, as the original wrote it.
    Time(Timestamp),
    /// Anything else, described for the message that refuses it (a float, a blob…).
    Other(String),
}

impl Cell {
    /// A short description for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Cell::Null => "NULL".into(),
            Cell::Int(i) => format!("the integer {i}"),
            Cell::Text(t) if t.chars().count() > 60 => {
                format!("the text '{}…'", t.chars().take(60).collect::<String>())
            }
            Cell::Text(t) => format!("the text '{t}'"),
            Cell::Time(t) => format!("the datetime {t}"),
            Cell::Other(what) => what.clone(),
        }
    }
}

/// The SQL dialect of a source: how identifiers are quoted and how tables are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
    /// `ident` quoted (the original's columns include `key`, reserved in MySQL, and
    /// `user`, which PostgreSQL reads as `current_user` unless quoted).
    pub(crate) fn quote(self, ident: &str) -> String {
        match self {
            Dialect::Mysql => format!("`{ident}`"),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{ident}\""),
        }
    }

    /// A query listing the tables (and views) of the database, one name per row.
    pub(crate) fn tables_sql(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')",
            // Tables visible through the search_path, as the original's unqualified
            // queries saw them.
            Dialect::Postgres => {
                "SELECT c.relname::text FROM pg_catalog.pg_class c \
                 WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND pg_catalog.pg_table_is_visible(c.oid)"
            }
            Dialect::Mysql => {
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            }
        }
    }
}

/// A connection to a source database.
pub(crate) trait Reader {
    /// The dialect the queries given to [`Reader::query`] are written in.
    fn dialect(&self) -> Dialect;

    /// The source, as messages name it (a path, or the DSN without its password).
    fn name(&self) -> String;

    /// Runs `sql` and calls `each` with every row, in order, as it arrives. Stops at
    /// the first error of the source or of `each`.
    fn query(&mut self, sql: &str, each: &mut dyn FnMut(Vec<Cell>) -> Result<()>) -> Result<()>;
}

/// Connects to the source a DSN names.
pub(crate) fn open(dsn: &SourceDsn) -> Result<Box<dyn Reader>> {
    match dsn {
        SourceDsn::Sqlite(path) => Ok(Box::new(sqlite::Sqlite::open(path)?)),
        #[cfg(feature = "postgresql-source")]
        SourceDsn::Postgres(server) => Ok(Box::new(pg::Postgres::connect(server)?)),
        #[cfg(feature = "mysql-source")]
        SourceDsn::Mysql(server) => Ok(Box::new(my::Mysql::connect(server)?)),
        #[allow(unreachable_patterns)]
        other => Err(not_built(other)),
    }
}

/// The refusal of a source whose client this build leaves out.
fn not_built(dsn: &SourceDsn) -> clusto_core::Error {
    let (engine, feature) = match dsn {
        SourceDsn::Mysql(_) => ("MySQL", "mysql-source"),
        _ => ("PostgreSQL", "postgresql-source"),
    };
    clusto_core::Error::InvalidValue(format!(
        "{dsn}: this build of clusto cannot read {engine} sources (it was built without \
         clusto-migrate's feature '{feature}'); the `clusto migrate` command reads them"
    ))
}

/// Resolves a server's host name before connecting, so that a DSN naming a host that
/// does not exist gets its own clear error (invalid input) rather than a driver's I/O
/// error.
pub(crate) fn resolve(host: &str, port: u16, what: &str) -> Result<()> {
    use std::net::ToSocketAddrs;
    match (host, port).to_socket_addrs() {
        Ok(addrs) if addrs.len() > 0 => Ok(()),
        Ok(_) => Err(clusto_core::Error::InvalidValue(format!(
            "{what}: host '{host}' has no address"
        ))),
        Err(e) => Err(clusto_core::Error::InvalidValue(format!(
            "{what}: cannot resolve host '{host}': {e}"
        ))),
    }
}

/// Microseconds since 1970 of a date and time without time zone, or `None` when it
/// is not a real date (MySQL's zero date, out of range).
pub(crate) fn civil_micros(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
) -> Option<i64> {
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    let time = date.and_hms_micro_opt(hour, minute, second, micros)?;
    Some(time.and_utc().timestamp_micros())
}
