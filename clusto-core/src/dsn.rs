//! Connection strings: which database a DSN names. Shared by the CLI and the bindings so
//! that every consumer accepts the same forms and gives the same errors.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The database directory a DSN names: a filesystem path, or `sled:///absolute/path`.
///
/// SQL URLs of the original clusto (`sqlite:///…`, `mysql://…`, `postgresql://…`) are
/// refused with an error that points to `clusto migrate`, which imports such a database.
pub fn database_path(dsn: &str) -> Result<PathBuf> {
    let dsn = dsn.trim();
    if dsn.is_empty() {
        return Err(Error::InvalidValue("the DSN is empty".into()));
    }
    if let Some(rest) = dsn.strip_prefix("sled://") {
        if !rest.starts_with('/') {
            return Err(Error::InvalidValue(format!(
                "DSN '{dsn}' must name an absolute path: sled:///absolute/path"
            )));
        }
        return Ok(PathBuf::from(rest));
    }
    if let Some((scheme, _)) = dsn.split_once("://") {
        let sql = [
            "sqlite",
            "mysql",
            "postgres",
            "postgresql",
            "mssql",
            "oracle",
        ];
        let base = scheme.split('+').next().unwrap_or(scheme);
        if sql.contains(&base) {
            return Err(Error::InvalidValue(format!(
                "DSN '{dsn}' names an SQL database of the original clusto; import it with \
                 `clusto migrate --from '{dsn}'` and use the path of the new database"
            )));
        }
        return Err(Error::InvalidValue(format!(
            "DSN '{dsn}' has unknown scheme '{scheme}' (expected a path or sled:///path)"
        )));
    }
    Ok(PathBuf::from(dsn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sled_urls() {
        assert_eq!(
            database_path("/var/lib/clusto").unwrap(),
            PathBuf::from("/var/lib/clusto")
        );
        assert_eq!(database_path("rel/db").unwrap(), PathBuf::from("rel/db"));
        assert_eq!(
            database_path("sled:///srv/db").unwrap(),
            PathBuf::from("/srv/db")
        );
        assert!(database_path("sled://relative").is_err());
        assert!(database_path("  ").is_err());
    }

    #[test]
    fn sql_urls_point_to_migration() {
        for dsn in [
            "sqlite:///x.db",
            "mysql://u@h/db",
            "postgresql+psycopg2://h/db",
        ] {
            let e = database_path(dsn).unwrap_err().to_string();
            assert!(e.contains("clusto migrate"), "{e}");
        }
        assert!(
            database_path("http://api")
                .unwrap_err()
                .to_string()
                .contains("unknown scheme")
        );
    }
}
