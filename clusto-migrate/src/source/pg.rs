//! PostgreSQL sources, through the synchronous `postgres` client without TLS.
//!
//! Column types are read natively: `smallint`/`integer`/`bigint` as integers, text
//! types as text, and `timestamp without time zone` (what SQLAlchemy's `DateTime` and
//! `TIMESTAMP` create on PostgreSQL) as the wall-clock time it holds, exactly, to the
//! microsecond. A `timestamp with time zone` column is read as its UTC time.

use std::error::Error as StdError;
use std::io;
use std::path::Path;

use clusto_core::{Error, Result, Timestamp, io_cause, os_kind};
use postgres::config::SslMode;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, Type};
use postgres::{Client, NoTls, Row};

use super::{Cell, Dialect, Reader, resolve};
use crate::dsn::{ServerDsn, SourceDsn};

const DEFAULT_PORT: u16 = 5432;

/// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A connection to the PostgreSQL database holding the original's tables.
pub(crate) struct Postgres {
    client: Client,
    name: String,
    user: String,
}

impl Postgres {
    /// Connects as the DSN says. Errors name the server and user, never the password.
    pub(crate) fn connect(dsn: &ServerDsn) -> Result<Self> {
        let name = SourceDsn::Postgres(dsn.clone()).to_string();
        let user = dsn.login();
        let port = dsn.port.unwrap_or(DEFAULT_PORT);
        let mut config = postgres::Config::new();
        config
            .user(&user)
            .dbname(if dsn.database.is_empty() {
                &user
            } else {
                &dsn.database
            })
            .port(port)
            .application_name("clusto-migrate")
            .ssl_mode(SslMode::Disable)
            .connect_timeout(dsn.connect_timeout);
        if let Some(password) = dsn.password() {
            config.password(password);
        }
        if let Some(options) = &dsn.options {
            config.options(options);
        }
        let address = match (&dsn.host, &dsn.socket) {
            (Some(host), _) => {
                resolve(host, port, &name)?;
                config.host(host);
                dsn.address(DEFAULT_PORT)
            }
            (None, Some(dir)) => {
                config.host_path(dir);
                format!("socket {}/.s.PGSQL.{port}", dir.display())
            }
            // As libpq: the local server's Unix socket (Debian's directory, then the
            // upstream default), else localhost over TCP.
            (None, None) => match ["/var/run/postgresql", "/tmp"]
                .iter()
                .find(|d| Path::new(d).join(format!(".s.PGSQL.{port}")).exists())
            {
                Some(dir) => {
                    config.host_path(dir);
                    format!("socket {dir}/.s.PGSQL.{port}")
                }
                None => {
                    config.host("localhost");
                    format!("localhost:{port}")
                }
            },
        };
        let client = config
            .connect(NoTls)
            .map_err(|e| connect_error(&e, &name, &address, &user, dsn))?;
        Ok(Postgres { client, name, user })
    }
}

/// The causes of `e`, joined, for messages (the client's own text is terse).
fn causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

fn connect_error(
    e: &postgres::Error,
    name: &str,
    address: &str,
    user: &str,
    dsn: &ServerDsn,
) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return Error::InvalidValue(format!(
                "{name}: the PostgreSQL server at {address} refused the login of user '{user}' \
                 (authentication failed: {})",
                db.message()
            ));
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return Error::NotFound(format!(
                "{name}: the PostgreSQL server at {address} has no such database ({})",
                db.message()
            ));
        }
        return Error::InvalidValue(format!(
            "{name}: the PostgreSQL server at {address} refused the connection: {}",
            db.message()
        ));
    }
    if let Some(io) = io_cause(e) {
        let message = match io.kind() {
            io::ErrorKind::ConnectionRefused => format!(
                "{name}: cannot connect to the PostgreSQL server at {address}: connection \
                 refused (is it running and listening there?)"
            ),
            io::ErrorKind::NotFound => format!(
                "{name}: cannot connect to the PostgreSQL server at {address}: no such socket \
                 (is it running?)"
            ),
            _ => format!("{name}: cannot connect to the PostgreSQL server at {address}: {io}"),
        };
        return Error::Io {
            kind: io.kind(),
            message,
        };
    }
    let text = causes(e);
    if text.contains("password missing") {
        return Error::InvalidValue(format!(
            "{name}: the PostgreSQL server at {address} asks for the password of user \
             '{user}', and the DSN has none"
        ));
    }
    if text.starts_with("authentication error") {
        let hint = if dsn.password().is_none() {
            " (the DSN has no password)"
        } else {
            ""
        };
        return Error::InvalidValue(format!(
            "{name}: the PostgreSQL server at {address} refused the login of user '{user}' \
             ({text}){hint}"
        ));
    }
    if text.starts_with("timeout") {
        return Error::Io {
            kind: io::ErrorKind::TimedOut,
            message: format!(
                "{name}: cannot connect to the PostgreSQL server at {address}: no answer \
                 within {} s",
                dsn.connect_timeout.as_secs()
            ),
        };
    }
    Error::io_other(format!(
        "{name}: cannot connect to the PostgreSQL server at {address}: {text}"
    ))
}

/// An error of a query, naming the source (and the user when it lacks a privilege).
fn query_error(e: &postgres::Error, name: &str, user: &str) -> Error {
    match e.as_db_error() {
        Some(db) if *db.code() == SqlState::UNDEFINED_TABLE => Error::InvalidValue(format!(
            "{name}: {} (is it a database of the original clusto?)",
            db.message()
        )),
        Some(db) if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE => Error::InvalidValue(format!(
            "{name}: user '{user}' may not read the tables: {}",
            db.message()
        )),
        Some(db) => Error::InvalidValue(format!("{name}: {}", db.message())),
        None => Error::Io {
            kind: os_kind(e),
            message: format!("{name}: reading from the server: {}", causes(e)),
        },
    }
}

/// A `timestamp` or `timestamptz` as PostgreSQL sends it: microseconds since 2000-01-01.
struct PgMicros(i64);

impl<'a> FromSql<'a> for PgMicros {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn StdError + Sync + Send>> {
        let bytes: [u8; 8] = raw.try_into()?;
        Ok(PgMicros(i64::from_be_bytes(bytes)))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::TIMESTAMP | Type::TIMESTAMPTZ)
    }
}

fn cell(row: &Row, i: usize) -> std::result::Result<Cell, postgres::Error> {
    fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
        v.map_or(Cell::Null, f)
    }
    let ty = row.columns()[i].type_();
    Ok(match *ty {
        Type::INT2 => opt(row.try_get::<_, Option<i16>>(i)?, |v| Cell::Int(v.into())),
        Type::INT4 => opt(row.try_get::<_, Option<i32>>(i)?, |v| Cell::Int(v.into())),
        Type::INT8 => opt(row.try_get::<_, Option<i64>>(i)?, Cell::Int),
        Type::OID => opt(row.try_get::<_, Option<u32>>(i)?, |v| Cell::Int(v.into())),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            opt(row.try_get::<_, Option<PgMicros>>(i)?, |PgMicros(t)| {
                match t.checked_add(PG_EPOCH_MICROS) {
                    // ±infinity are i64::MAX / i64::MIN.
                    Some(micros) if t != i64::MAX && t != i64::MIN => Cell::Time(Timestamp(micros)),
                    _ => Cell::Other("an infinite timestamp".into()),
                }
            })
        }
        Type::BOOL => opt(row.try_get::<_, Option<bool>>(i)?, |b| {
            Cell::Other(format!("the boolean {b}"))
        }),
        ref t if <String as FromSql>::accepts(t) => {
            opt(row.try_get::<_, Option<String>>(i)?, Cell::Text)
        }
        ref t => Cell::Other(format!("a value of type {}", t.name())),
    })
}

impl Reader for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn query(&mut self, sql: &str, each: &mut dyn FnMut(Vec<Cell>) -> Result<()>) -> Result<()> {
        let params: [&(dyn postgres::types::ToSql + Sync); 0] = [];
        let Postgres { client, name, user } = self;
        let mut rows = client
            .query_raw(sql, params)
            .map_err(|e| query_error(&e, name, user))?;
        let mut failure = None;
        loop {
            match rows.next() {
                Ok(Some(row)) => {
                    let cells: std::result::Result<Vec<Cell>, _> =
                        (0..row.len()).map(|i| cell(&row, i)).collect();
                    match cells {
                        Ok(cells) => each(cells)?,
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        drop(rows);
        match failure {
            Some(e) => Err(query_error(&e, name, user)),
            None => Ok(()),
        }
    }
}
