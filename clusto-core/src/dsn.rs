//! Connection strings: which database a DSN names, on which engine. Read once here, for
//! [`crate::Clusto::open`], so that every consumer accepts the same forms and gives the
//! same errors.
//!
//! | DSN | database |
//! | --- | --- |
//! | `/path/to/dir`, `relative/dir` | the directory's database; a new one is LMDB |
//! | `lmdb:///path` | LMDB in that directory |
//! | `sled:///path` | sled 0.34 in that directory (databases of the first release) |
//! | `memory:` | a new database in memory, gone when its last handle drops |
//! | `postgresql://user[:password]@host[:port]/db[?schema=NAME]` | PostgreSQL (feature `postgres`), for many hosts |

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A storage engine for a database in a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// LMDB: the default; many processes at once.
    Lmdb,
    /// sled 0.34: one process at a time.
    Sled,
}

impl Engine {
    /// The engine's DSN scheme.
    pub fn scheme(self) -> &'static str {
        match self {
            Engine::Lmdb => "lmdb",
            Engine::Sled => "sled",
        }
    }
}

/// Where a DSN points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A database in a directory; `engine` is `None` for a plain path, whose engine is
    /// the one of the database found there (LMDB for a new one).
    Directory {
        /// The directory.
        path: PathBuf,
        /// The engine the DSN asks for.
        engine: Option<Engine>,
    },
    /// A new database in memory.
    Memory,
    /// A database on a PostgreSQL server (the whole DSN, for the client).
    Postgres {
        /// The DSN.
        dsn: String,
    },
}

/// `dsn` with its passwords replaced by `***`: the user part's, and the value of every
/// query parameter whose name contains `password` (`password=`, `sslpassword=`). What
/// messages show.
pub fn hide_password(dsn: &str) -> String {
    let Some((scheme, rest)) = dsn.split_once("://") else {
        return dsn.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_part, host)) => match user_part.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.to_ascii_lowercase().contains("password") => {
                        format!("{name}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Reads a DSN given as a path (a path that is not valid UTF-8 is a plain path).
///
/// SQL URLs of the original clusto (`sqlite:///…`, `mysql://…`) are refused with an error
/// that points to `clusto migrate`, which imports such a database.
pub fn locate(dsn: &Path) -> Result<Location> {
    match dsn.to_str() {
        Some(text) => parse(text),
        None => Ok(Location::Directory {
            path: dsn.to_path_buf(),
            engine: None,
        }),
    }
}

/// Reads a DSN.
pub fn parse(dsn: &str) -> Result<Location> {
    let dsn = dsn.trim();
    if dsn.is_empty() {
        return Err(Error::InvalidValue("the DSN is empty".into()));
    }
    if dsn == "memory:" || dsn == "memory://" {
        return Ok(Location::Memory);
    }
    let Some((scheme, rest)) = dsn.split_once("://") else {
        return Ok(Location::Directory {
            path: PathBuf::from(dsn),
            engine: None,
        });
    };
    let engine = match scheme {
        "lmdb" => Engine::Lmdb,
        "sled" => Engine::Sled,
        "postgresql" | "postgres" if cfg!(feature = "postgres") => {
            return Ok(Location::Postgres {
                dsn: dsn.to_string(),
            });
        }
        _ => return Err(unknown_scheme(&hide_password(dsn), scheme)),
    };
    if !rest.starts_with('/') {
        return Err(Error::InvalidValue(format!(
            "DSN '{dsn}' must name an absolute path: {scheme}:///absolute/path"
        )));
    }
    Ok(Location::Directory {
        path: PathBuf::from(rest),
        engine: Some(engine),
    })
}

fn unknown_scheme(dsn: &str, scheme: &str) -> Error {
    let sql = ["sqlite", "mysql", "mssql", "oracle"];
    let base = scheme.split('+').next().unwrap_or(scheme);
    if sql.contains(&base) {
        return Error::InvalidValue(format!(
            "DSN '{dsn}' names an SQL database of the original clusto; import it with \
             `clusto migrate --from '{dsn}'` and use the path of the new database"
        ));
    }
    if base == "postgres" || base == "postgresql" {
        return Error::InvalidValue(format!(
            "DSN '{dsn}': this build has no PostgreSQL backend (the `postgres` feature); a \
             database of the original clusto is imported with `clusto migrate --from \
             '{dsn}'`"
        ));
    }
    Error::InvalidValue(format!(
        "DSN '{dsn}' has unknown scheme '{scheme}' (expected a path, lmdb:///path, \
         sled:///path or memory:)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(path: &str, engine: Option<Engine>) -> Location {
        Location::Directory {
            path: PathBuf::from(path),
            engine,
        }
    }

    #[test]
    fn paths_and_engine_urls() {
        assert_eq!(
            parse("/var/lib/clusto").unwrap(),
            dir("/var/lib/clusto", None)
        );
        assert_eq!(parse("rel/db").unwrap(), dir("rel/db", None));
        assert_eq!(
            parse("sled:///srv/db").unwrap(),
            dir("/srv/db", Some(Engine::Sled))
        );
        assert_eq!(
            parse("lmdb:///srv/db").unwrap(),
            dir("/srv/db", Some(Engine::Lmdb))
        );
        assert_eq!(parse("memory:").unwrap(), Location::Memory);
        assert!(parse("sled://relative").is_err());
        assert!(parse("lmdb://relative").is_err());
        assert!(parse("  ").is_err());
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            hide_password("postgresql://u:secret@h:5432/db?schema=x"),
            "postgresql://u:***@h:5432/db?schema=x"
        );
        assert_eq!(hide_password("postgresql://u@h/db"), "postgresql://u@h/db");
        assert_eq!(
            hide_password("postgresql://u@h/db?schema=x&password=secret&sslpassword=s2&a=b"),
            "postgresql://u@h/db?schema=x&password=***&sslpassword=***&a=b"
        );
        let e = parse("mysql://u:secret@h/db").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn sql_urls_point_to_migration() {
        for dsn in [
            "sqlite:///x.db",
            "mysql://u@h/db",
            "postgresql+psycopg2://h/db",
        ] {
            let e = parse(dsn).unwrap_err().to_string();
            assert!(e.contains("clusto migrate"), "{e}");
        }
        let e = parse("http://api").unwrap_err().to_string();
        assert!(e.contains("unknown scheme 'http'"), "{e}");
    }
}
