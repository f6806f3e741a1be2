//! The source DSNs a migration accepts, parsed the way the original's clusto.conf wrote
//! them: SQLAlchemy URLs (`dialect[+driver]://user:password@host:port/database?options`)
//! or a plain path to a SQLite file.
//!
//! A parsed DSN never shows its password: [`fmt::Display`] and [`fmt::Debug`] write
//! `***` in its place, and every error message built here names the DSN that way.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use clusto_core::{Error, Result};

/// Where a migration reads the original's four tables from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceDsn {
    /// A SQLite file (`sqlite:///relative.db`, `sqlite:////absolute.db` or a path).
    Sqlite(PathBuf),
    /// A PostgreSQL server (`postgresql://…`, `postgres://…`, `postgresql+driver://…`).
    Postgres(ServerDsn),
    /// A MySQL or MariaDB server (`mysql://…`, `mysql+driver://…`, `mariadb://…`).
    Mysql(ServerDsn),
}

/// The connection parameters of a SQL server DSN.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerDsn {
    /// The login name; `None` means the current OS user, as the original's drivers did.
    pub user: Option<String>,
    password: Option<String>,
    /// The host name or address (IPv6 without brackets); `None` means the local server
    /// through its default Unix socket.
    pub host: Option<String>,
    /// The TCP port; `None` means the server's default (5432, 3306).
    pub port: Option<u16>,
    /// The database; empty means the server's default (PostgreSQL: the user's name).
    pub database: String,
    /// A Unix socket: the directory holding it for PostgreSQL (`?host=/dir`), the socket
    /// file for MySQL (`?unix_socket=/path`).
    pub socket: Option<PathBuf>,
    /// How long to wait for the connection (`?connect_timeout=seconds`).
    pub connect_timeout: Duration,
    /// PostgreSQL's `options` (`?options=-csearch_path%3Dclusto`).
    pub options: Option<String>,
}

/// The connect timeout when the DSN gives none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

impl ServerDsn {
    /// The password, if the DSN has one (percent-decoded).
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The user to log in as: the DSN's, else the login name of this process.
    pub fn login(&self) -> String {
        self.user.clone().unwrap_or_else(|| {
            ["USER", "LOGNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
                .unwrap_or_else(|| "root".into())
        })
    }

    /// `host:port` (or the socket) for messages.
    pub fn address(&self, default_port: u16) -> String {
        match (&self.host, &self.socket) {
            (Some(h), _) if h.contains(':') => {
                format!("[{h}]:{}", self.port.unwrap_or(default_port))
            }
            (Some(h), _) => format!("{h}:{}", self.port.unwrap_or(default_port)),
            (None, Some(s)) => format!("socket {}", s.display()),
            (None, None) => "the local default socket".into(),
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, scheme: &str) -> fmt::Result {
        write!(f, "{scheme}://")?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
        }
        if self.password.is_some() {
            f.write_str(":***")?;
        }
        if self.user.is_some() || self.password.is_some() {
            f.write_str("@")?;
        }
        let mut query = Vec::new();
        match &self.host {
            Some(h) if h.contains(':') => write!(f, "[{h}]")?,
            Some(h) => f.write_str(h)?,
            None => {}
        }
        match (self.port, &self.host) {
            (Some(port), Some(_)) => write!(f, ":{port}")?,
            (Some(port), None) => query.push(format!("port={port}")),
            (None, _) => {}
        }
        write!(f, "/{}", self.database)?;
        if let Some(socket) = &self.socket {
            let name = if scheme == "mysql" {
                "unix_socket"
            } else {
                "host"
            };
            query.insert(0, format!("{name}={}", socket.display()));
        }
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

impl fmt::Debug for ServerDsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerDsn")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("socket", &self.socket)
            .field("connect_timeout", &self.connect_timeout)
            .field("options", &self.options)
            .finish()
    }
}

impl fmt::Display for SourceDsn {
    /// The DSN with its password replaced by `***`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceDsn::Sqlite(path) => write!(f, "sqlite:///{}", path.display()),
            SourceDsn::Postgres(s) => s.write(f, "postgresql"),
            SourceDsn::Mysql(s) => s.write(f, "mysql"),
        }
    }
}

/// The schemes [`parse`] knows, for messages.
const KNOWN: &str = "sqlite:///path, postgresql://, postgres:// and mysql:// (mariadb://), \
                     each optionally with a +driver suffix, or a path to a SQLite file";

/// Parses a DSN of the original (see the module docs). Unknown schemes are refused
/// with an error naming the scheme.
pub fn parse(dsn: &str) -> Result<SourceDsn> {
    let Some((scheme, rest)) = dsn.split_once("://") else {
        if dsn.trim().is_empty() {
            return Err(Error::InvalidValue("the source DSN is empty".into()));
        }
        return Ok(SourceDsn::Sqlite(PathBuf::from(dsn)));
    };
    let dialect = scheme
        .split_once('+')
        .map_or(scheme, |(d, _)| d)
        .to_ascii_lowercase();
    match dialect.as_str() {
        "sqlite" => {
            let path = rest.strip_prefix('/').unwrap_or(rest);
            let path = path.split_once('?').map_or(path, |(p, _)| p);
            if path.is_empty() {
                return Err(Error::InvalidValue(format!(
                    "the source DSN '{scheme}://{rest}' names no SQLite file (an in-memory \
                     database has nothing to migrate)"
                )));
            }
            Ok(SourceDsn::Sqlite(PathBuf::from(path)))
        }
        "postgresql" | "postgres" | "pgsql" => Ok(SourceDsn::Postgres(server(rest, Kind::Pg)?)),
        "mysql" | "mariadb" => Ok(SourceDsn::Mysql(server(rest, Kind::My)?)),
        _ => Err(Error::InvalidValue(format!(
            "migrating from '{scheme}' is not supported: clusto-migrate reads {KNOWN}"
        ))),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pg,
    My,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Pg => "postgresql",
            Kind::My => "mysql",
        }
    }
}

/// The part after `scheme://`, split as SQLAlchemy's URL pattern does: the password
/// runs to the last `@`, so it may hold `@`, `:` and `/` unescaped.
fn server(rest: &str, kind: Kind) -> Result<ServerDsn> {
    let bad = |what: String| Error::InvalidValue(format!("{} DSN: {what}", kind.name()));
    let (userinfo, location) = match rest.rsplit_once('@') {
        Some((u, l)) => (Some(u), l),
        None => (None, rest),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (name, pass) = match u.split_once(':') {
                Some((n, p)) => (n, Some(p)),
                None => (u, None),
            };
            if name.contains('/') {
                return Err(bad("a user name cannot contain '/'".into()));
            }
            let name = unquote(name).map_err(|e| bad(format!("the user name {e}")))?;
            // The password's own text never goes into a message.
            let pass = pass
                .map(|p| {
                    unquote(p)
                        .map_err(|_| bad("the password is not valid percent-encoded UTF-8".into()))
                })
                .transpose()?;
            ((!name.is_empty()).then_some(name), pass)
        }
    };
    let (hostport, database, query) = match location.split_once('/') {
        Some((h, p)) => match p.split_once('?') {
            Some((d, q)) => (h, d, Some(q)),
            None => (h, p, None),
        },
        None => match location.split_once('?') {
            Some((h, q)) => (h, "", Some(q)),
            None => (location, "", None),
        },
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| bad(format!("unclosed '[' in host '{hostport}'")))?;
        (Some(addr.to_owned()), after.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => ((!h.is_empty()).then(|| h.to_owned()), Some(p)),
            None => ((!hostport.is_empty()).then(|| hostport.to_owned()), None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad(format!("port '{p}' is not a number from 1 to 65535")))?,
        ),
    };
    let database = unquote(database).map_err(|e| bad(format!("the database name {e}")))?;
    let mut dsn = ServerDsn {
        user,
        password,
        host,
        port,
        database,
        socket: None,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        options: None,
    };
    for pair in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = unquote(value).map_err(|e| bad(format!("option '{name}' {e}")))?;
        option(&mut dsn, kind, name, &value).map_err(bad)?;
    }
    if kind == Kind::My && dsn.database.is_empty() {
        return Err(bad(
            "no database given: write mysql://user:password@host:port/database".into(),
        ));
    }
    Ok(dsn)
}

/// Applies one `?name=value` option. Options that only tune the original's Python
/// driver are ignored; ones that ask for something this reader does not do (TLS, other
/// auth) are refused rather than silently dropped.
fn option(
    dsn: &mut ServerDsn,
    kind: Kind,
    name: &str,
    value: &str,
) -> std::result::Result<(), String> {
    match (kind, name) {
        (Kind::Pg, "host") if value.starts_with('/') => {
            dsn.socket = Some(value.into());
            dsn.host = None;
        }
        (Kind::Pg, "options") => dsn.options = Some(value.into()),
        (Kind::Pg, "host") if !value.is_empty() => {
            dsn.host = Some(value.into());
            dsn.socket = None;
        }
        (Kind::Pg, "port") | (Kind::My, "port") => {
            dsn.port = Some(
                value
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("port '{value}' is not a number from 1 to 65535"))?,
            )
        }
        (Kind::Pg, "user") | (Kind::My, "user") => dsn.user = Some(value.into()),
        (Kind::Pg, "dbname") | (Kind::My, "db") | (Kind::My, "database") => {
            dsn.database = value.into()
        }
        (Kind::My, "unix_socket") | (Kind::My, "socket") => dsn.socket = Some(value.into()),
        (_, "connect_timeout") => {
            let secs: u64 = value
                .parse()
                .map_err(|_| format!("connect_timeout '{value}' is not a number of seconds"))?;
            dsn.connect_timeout = Duration::from_secs(secs.max(1));
        }
        (Kind::Pg, "sslmode") if matches!(value, "disable" | "allow" | "prefer") => {}
        (Kind::Pg, "sslmode") => {
            return Err(format!(
                "sslmode={value} is not supported: this reader connects without TLS (run it \
                 on the database host or through a tunnel, with sslmode=disable or prefer)"
            ));
        }
        (Kind::My, "ssl") | (Kind::My, "ssl_mode")
            if matches!(value, "" | "0" | "false" | "DISABLED" | "PREFERRED") => {}
        (_, n) if n.starts_with("ssl") => {
            return Err(format!(
                "option '{n}' is not supported: this reader connects without TLS"
            ));
        }
        // Tuning of the original's Python drivers, meaningless here.
        (
            _,
            "charset" | "client_encoding" | "use_unicode" | "application_name" | "encoding"
            | "keepalives" | "keepalives_idle" | "binary_prefix" | "autocommit" | "local_infile"
            | "read_timeout" | "write_timeout",
        ) => {}
        (_, n) => {
            return Err(format!("unknown option '{n}'"));
        }
    }
    Ok(())
}

/// Percent-decodes `text` (RFC 1738, as SQLAlchemy unquotes user, password and database).
fn unquote(text: &str) -> std::result::Result<String, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("has a '%' not followed by two hex digits")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once percent-decoded")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(dsn: &str) -> ServerDsn {
        match parse(dsn).unwrap() {
            SourceDsn::Postgres(s) => s,
            other => panic!("{dsn} parsed as {other:?}"),
        }
    }

    fn my(dsn: &str) -> ServerDsn {
        match parse(dsn).unwrap() {
            SourceDsn::Mysql(s) => s,
            other => panic!("{dsn} parsed as {other:?}"),
        }
    }

    #[test]
    fn sqlite_forms() {
        assert_eq!(
            parse("sqlite:///rel/x.db").unwrap(),
            SourceDsn::Sqlite("rel/x.db".into())
        );
        assert_eq!(
            parse("sqlite:////abs/x.db").unwrap(),
            SourceDsn::Sqlite("/abs/x.db".into())
        );
        assert_eq!(
            parse("sqlite+pysqlite:////abs/x.db").unwrap(),
            SourceDsn::Sqlite("/abs/x.db".into())
        );
        assert_eq!(
            parse("/plain/path.db").unwrap(),
            SourceDsn::Sqlite("/plain/path.db".into())
        );
        assert!(parse("sqlite://").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn postgres_forms() {
        let s = pg("postgresql://clusto:s%40cr%3At@db.example:6543/inventory");
        assert_eq!(s.user.as_deref(), Some("clusto"));
        assert_eq!(s.password(), Some("s@cr:t"));
        assert_eq!(
            (s.host.as_deref(), s.port, s.database.as_str()),
            (Some("db.example"), Some(6543), "inventory")
        );
        let s = pg("postgres+psycopg2://u:p@w/rd@[::1]/db?connect_timeout=3&sslmode=disable");
        assert_eq!(s.password(), Some("p@w/rd"));
        assert_eq!((s.host.as_deref(), s.port), (Some("::1"), None));
        assert_eq!(s.connect_timeout, Duration::from_secs(3));
        let s = pg("postgresql:///clusto?host=/var/run/postgresql&port=5433");
        assert_eq!(s.socket, Some(PathBuf::from("/var/run/postgresql")));
        assert_eq!(
            SourceDsn::Postgres(s.clone()).to_string(),
            "postgresql:///clusto?host=/var/run/postgresql&port=5433"
        );
        assert_eq!(
            (s.host, s.user, s.database.as_str()),
            (None, None, "clusto")
        );
        let s = pg("PostgreSQL+pg8000://u@h");
        assert_eq!((s.host.as_deref(), s.database.as_str()), (Some("h"), ""));
        assert!(parse("postgresql://u@h/db?sslmode=require").is_err());
        assert!(parse("postgresql://u@h:99999/db").is_err());
        assert!(parse("postgresql://u@h/db?frobnicate=1").is_err());
    }

    #[test]
    fn mysql_forms() {
        let s = my("mysql://root:pw@127.0.0.1:3307/clusto?charset=utf8");
        assert_eq!(
            (s.user.as_deref(), s.password(), s.port),
            (Some("root"), Some("pw"), Some(3307))
        );
        let s = my("mysql+mysqldb://u@localhost/clusto?unix_socket=/tmp/m.sock");
        assert_eq!(s.socket, Some(PathBuf::from("/tmp/m.sock")));
        assert_eq!(s.password(), None);
        my("mariadb+mariadbconnector://u:p@h/db");
        assert!(parse("mysql://u:p@h").is_err(), "a database is required");
    }

    #[test]
    fn unknown_schemes_are_named() {
        let err = parse("oracle+cx_oracle://u:secret@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'oracle+cx_oracle'"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn passwords_are_never_shown() {
        for dsn in [
            "postgresql://u:secret@h:1/db",
            "mysql+pymysql://u:secret@h/db",
        ] {
            let parsed = parse(dsn).unwrap();
            assert!(!parsed.to_string().contains("secret"), "{parsed}");
            assert!(!format!("{parsed:?}").contains("secret"), "{parsed:?}");
            assert!(parsed.to_string().contains(":***@"), "{parsed}");
        }
        let err = parse("postgresql://u:secret@h:port/db")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
