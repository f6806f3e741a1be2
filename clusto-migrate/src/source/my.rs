//! MySQL and MariaDB sources, through the `mysql` client without TLS.
//!
//! Queries use the binary protocol, so values arrive typed: integers as integers,
//! `DATETIME`/`TIMESTAMP` as their date and time to the microsecond, text as UTF-8
//! (the connection asks for utf8mb4). `TIMESTAMP` columns are shown by MySQL in the
//! session time zone; the server's default is kept, so they read as the original's
//! own sessions saw them.

use std::io;

use clusto_core::{Error, Result, Timestamp};
use mysql::consts::ColumnType;
use mysql::prelude::Queryable;
use mysql::{Conn, DriverError, OptsBuilder, Value};

use super::{Cell, Dialect, Reader, civil_micros, resolve};
use crate::dsn::{ServerDsn, SourceDsn};

const DEFAULT_PORT: u16 = 3306;

/// MySQL's error numbers for the failures a migration can explain.
mod code {
    pub const DB_ACCESS_DENIED: u16 = 1044;
    pub const ACCESS_DENIED: u16 = 1045;
    pub const BAD_DB: u16 = 1049;
    pub const TABLE_ACCESS_DENIED: u16 = 1142;
    pub const NO_SUCH_TABLE: u16 = 1146;
    pub const ACCESS_DENIED_NO_PASSWORD: u16 = 1698;
}

/// A connection to the MySQL database holding the original's tables.
pub(crate) struct Mysql {
    conn: Conn,
    name: String,
    user: String,
}

impl Mysql {
    /// Connects as the DSN says. Errors name the server and user, never the password.
    pub(crate) fn connect(dsn: &ServerDsn) -> Result<Self> {
        let name = SourceDsn::Mysql(dsn.clone()).to_string();
        let user = dsn.login();
        let port = dsn.port.unwrap_or(DEFAULT_PORT);
        let socket = dsn.socket.clone().or_else(|| {
            // No host: the local server's socket, as the MySQL clients do for localhost.
            let default = std::path::Path::new("/var/run/mysqld/mysqld.sock");
            (dsn.host.is_none() && default.exists()).then(|| default.to_path_buf())
        });
        let mut opts = OptsBuilder::new()
            .user(Some(user.clone()))
            .pass(dsn.password().map(str::to_owned))
            .db_name(Some(dsn.database.clone()))
            .tcp_port(port)
            .tcp_connect_timeout(Some(dsn.connect_timeout))
            .prefer_socket(false)
            // Text arrives as UTF-8 whatever the server's default character set.
            .init(vec!["SET NAMES utf8mb4"]);
        let address = match (&dsn.host, &socket) {
            (_, Some(path)) => {
                opts = opts.socket(Some(path.display().to_string()));
                format!("socket {}", path.display())
            }
            (Some(host), None) => {
                resolve(host, port, &name)?;
                opts = opts.ip_or_hostname(Some(host.clone()));
                dsn.address(DEFAULT_PORT)
            }
            (None, None) => {
                opts = opts.ip_or_hostname(Some("127.0.0.1"));
                format!("127.0.0.1:{port}")
            }
        };
        let conn = Conn::new(opts).map_err(|e| connect_error(e, &name, &address, &user, dsn))?;
        Ok(Mysql { conn, name, user })
    }
}

/// An error of a query, naming the source (and the user when it lacks a privilege).
fn query_error(e: mysql::Error, name: &str, user: &str) -> Error {
    match e {
        mysql::Error::MySqlError(e) if e.code == code::NO_SUCH_TABLE => {
            Error::InvalidValue(format!(
                "{name}: {} (is it a database of the original clusto?)",
                e.message
            ))
        }
        mysql::Error::MySqlError(e) if e.code == code::TABLE_ACCESS_DENIED => {
            Error::InvalidValue(format!(
                "{name}: user '{user}' may not read the tables: {}",
                e.message
            ))
        }
        mysql::Error::MySqlError(e) => Error::InvalidValue(format!("{name}: {}", e.message)),
        mysql::Error::IoError(e) => Error::os(format_args!("{name}: reading from the server"), &e),
        other => Error::io_other(format!("{name}: reading from the server: {other}")),
    }
}

fn connect_error(e: mysql::Error, name: &str, address: &str, user: &str, dsn: &ServerDsn) -> Error {
    let cannot = format!("{name}: cannot connect to the MySQL server at {address}");
    let io_kind = |kind: io::ErrorKind, text: &str| Error::Io {
        kind,
        message: match kind {
            io::ErrorKind::ConnectionRefused => {
                format!("{cannot}: connection refused (is it running and listening there?)")
            }
            io::ErrorKind::NotFound => format!("{cannot}: no such socket (is it running?)"),
            _ => format!("{cannot}: {text}"),
        },
    };
    match e {
        mysql::Error::MySqlError(e)
            if matches!(
                e.code,
                code::ACCESS_DENIED | code::ACCESS_DENIED_NO_PASSWORD
            ) =>
        {
            let hint = if dsn.password().is_none() {
                " (the DSN has no password)"
            } else {
                ""
            };
            Error::InvalidValue(format!(
                "{name}: the MySQL server at {address} refused the login of user '{user}' \
                 (authentication failed: {}){hint}",
                e.message
            ))
        }
        // MySQL says this, rather than "unknown database", to a user without privileges
        // on a database that does not exist.
        mysql::Error::MySqlError(e) if e.code == code::DB_ACCESS_DENIED => {
            Error::InvalidValue(format!(
                "{name}: the MySQL server at {address} refused user '{user}' the database \
                 '{}': it does not exist or the user has no privileges on it ({})",
                dsn.database, e.message
            ))
        }
        mysql::Error::MySqlError(e) if e.code == code::BAD_DB => Error::NotFound(format!(
            "{name}: the MySQL server at {address} has no such database ({})",
            e.message
        )),
        mysql::Error::MySqlError(e) => Error::InvalidValue(format!(
            "{name}: the MySQL server at {address} refused the connection: {}",
            e.message
        )),
        mysql::Error::DriverError(DriverError::CouldNotConnect(Some((_, text, kind)))) => {
            io_kind(kind, &text)
        }
        mysql::Error::DriverError(DriverError::ConnectTimeout) => Error::Io {
            kind: io::ErrorKind::TimedOut,
            message: format!(
                "{cannot}: no answer within {} s",
                dsn.connect_timeout.as_secs()
            ),
        },
        mysql::Error::IoError(e) => io_kind(e.kind(), &e.to_string()),
        other => Error::io_other(format!("{cannot}: {other}")),
    }
}

fn cell(value: Value, column: &mysql::Column) -> Cell {
    match value {
        Value::NULL => Cell::Null,
        Value::Int(i) => Cell::Int(i),
        Value::UInt(u) => i64::try_from(u).map_or_else(
            |_| Cell::Other(format!("the unsigned integer {u}, beyond 64-bit signed")),
            Cell::Int,
        ),
        Value::Bytes(bytes) => {
            let decimal = matches!(
                column.column_type(),
                ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL
            );
            match String::from_utf8(bytes) {
                // An integral DECIMAL is an integer (a site may have widened a column).
                Ok(text) if decimal => text
                    .parse::<i64>()
                    .map_or_else(|_| Cell::Other(format!("the decimal {text}")), Cell::Int),
                Ok(text) => Cell::Text(text),
                Err(e) => Cell::Other(format!("{} bytes that are not UTF-8", e.as_bytes().len())),
            }
        }
        Value::Date(year, month, day, hour, minute, second, micros) => civil_micros(
            year.into(),
            month.into(),
            day.into(),
            hour.into(),
            minute.into(),
            second.into(),
            micros,
        )
        .map_or_else(
            || {
                Cell::Other(format!(
                    "the date {year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}, \
                     which is not a real date"
                ))
            },
            |t| Cell::Time(Timestamp(t)),
        ),
        Value::Float(f) => Cell::Other(format!("the real number {f}")),
        Value::Double(f) => Cell::Other(format!("the real number {f}")),
        Value::Time(..) => Cell::Other("a time of day without a date".into()),
    }
}

impl Reader for Mysql {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn query(&mut self, sql: &str, each: &mut dyn FnMut(Vec<Cell>) -> Result<()>) -> Result<()> {
        let Mysql { conn, name, user } = self;
        let result = conn
            .exec_iter(sql.to_owned(), ())
            .map_err(|e| query_error(e, name, user))?;
        let mut failure = None;
        for row in result {
            match row {
                Ok(row) => {
                    let columns = row.columns();
                    let cells = row
                        .unwrap()
                        .into_iter()
                        .zip(columns.iter())
                        .map(|(v, c)| cell(v, c))
                        .collect();
                    each(cells)?;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        match failure {
            Some(e) => Err(query_error(e, name, user)),
            None => Ok(()),
        }
    }
}
