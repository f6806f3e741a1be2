//! Choosing the source from its DSN, and the errors a source gives — without a server:
//! unknown schemes, refused connections (the password never shows), missing tables,
//! another schema version, and rows that are skipped with their table and id.

use std::path::Path;

use clusto_core::{Clusto, Error, Value};
use clusto_migrate::{SourceDsn, migrate, parse_dsn};

#[test]
fn dsns_dispatch_on_their_scheme() {
    assert_eq!(
        parse_dsn("sqlite:////srv/clusto.db").unwrap(),
        SourceDsn::Sqlite("/srv/clusto.db".into())
    );
    assert_eq!(
        parse_dsn("sqlite:///clusto.db").unwrap(),
        SourceDsn::Sqlite("clusto.db".into())
    );
    assert_eq!(
        parse_dsn("clusto.db").unwrap(),
        SourceDsn::Sqlite("clusto.db".into())
    );
    for dsn in [
        "postgresql://u:p@db:5433/clusto",
        "postgres://u:p@db:5433/clusto",
        "postgresql+psycopg2://u:p@db:5433/clusto",
    ] {
        let SourceDsn::Postgres(s) = parse_dsn(dsn).unwrap() else {
            panic!("{dsn} is not PostgreSQL");
        };
        assert_eq!(
            (
                s.user.as_deref(),
                s.password(),
                s.host.as_deref(),
                s.port,
                s.database.as_str()
            ),
            (Some("u"), Some("p"), Some("db"), Some(5433), "clusto"),
            "{dsn}"
        );
    }
    for dsn in [
        "mysql://u:p@db/clusto",
        "mysql+mysqldb://u:p@db/clusto",
        "mysql+pymysql://u:p@db/clusto?charset=utf8",
    ] {
        let SourceDsn::Mysql(s) = parse_dsn(dsn).unwrap() else {
            panic!("{dsn} is not MySQL");
        };
        assert_eq!(
            (
                s.user.as_deref(),
                s.host.as_deref(),
                s.port,
                s.database.as_str()
            ),
            (Some("u"), Some("db"), None, "clusto"),
            "{dsn}"
        );
    }
    let err = parse_dsn("mssql+pyodbc://u:secret@h/db")
        .unwrap_err()
        .to_string();
    assert!(err.contains("'mssql+pyodbc' is not supported"), "{err}");
    assert!(!err.contains("secret"), "{err}");
}

fn empty_target(dir: &Path) -> Clusto {
    Clusto::open(dir.join("clusto")).unwrap()
}

/// The error of migrating from `dsn`, where nothing listens, and its text: an I/O error
/// that says the connection was refused and never shows the password.
fn refused(dsn: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let err = migrate(dsn, &empty_target(dir.path()), |_, _| {}).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(!text.contains("secret"), "{text}");
    text
}

#[test]
fn a_refused_postgres_connection_is_named_without_the_password() {
    let text = refused("postgresql+psycopg2://u:secret@127.0.0.1:1/db");
    assert!(text.contains("PostgreSQL server at 127.0.0.1:1"), "{text}");
    assert!(text.contains("postgresql://u:***@127.0.0.1:1/db"), "{text}");
}

#[test]
fn a_refused_mysql_connection_is_named_without_the_password() {
    let text = refused("mysql+mysqldb://u:secret@127.0.0.1:1/db");
    assert!(text.contains("MySQL server at 127.0.0.1:1"), "{text}");
}

#[test]
fn unknown_schemes_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = empty_target(dir.path());
    let err = migrate("oracle://u:secret@h/db", &db, |_, _| {}).unwrap_err();
    assert!(matches!(err, Error::InvalidValue(_)));
    assert!(err.to_string().contains("'oracle'"), "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    let missing = dir.path().join("nope.db");
    let err = migrate(&format!("sqlite:///{}", missing.display()), &db, |_, _| {});
    assert!(matches!(err, Err(Error::NotFound(_))), "{err:?}");
}

/// The original's SQLite tables (legacy/README.md §1), with a few rows: one of each
/// datatype, and rows that cannot be imported.
fn tiny_legacy(path: &Path, schema: i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        r#"
        CREATE TABLE entities (entity_id INTEGER NOT NULL, name VARCHAR(128) NOT NULL,
          type VARCHAR(32) NOT NULL, driver VARCHAR(32) NOT NULL, version INTEGER NOT NULL,
          deleted_at_version INTEGER, PRIMARY KEY (entity_id));
        CREATE TABLE entity_attrs (attr_id INTEGER NOT NULL, entity_id INTEGER NOT NULL,
          "key" VARCHAR(256), subkey VARCHAR(256), number INTEGER, datatype VARCHAR(32) NOT NULL,
          int_value INTEGER, string_value TEXT, datetime_value DATETIME, relation_id INTEGER,
          version INTEGER NOT NULL, deleted_at_version INTEGER, PRIMARY KEY (attr_id));
        CREATE TABLE counters (counter_id INTEGER NOT NULL, entity_id INTEGER NOT NULL,
          attr_key VARCHAR(256), value INTEGER, PRIMARY KEY (counter_id));
        CREATE TABLE clustoversioning (version INTEGER NOT NULL, timestamp TIMESTAMP,
          user VARCHAR(64), description TEXT, PRIMARY KEY (version));
        INSERT INTO clustoversioning VALUES (1, '2012-01-09 09:00:01', 'alice', 'setup'),
          (2, '2012-01-09 09:00:02', NULL, NULL), (3, NULL, 'bob', 'more');
        INSERT INTO entities VALUES (1, 'clustometa', 'clustometa', 'clustometa', 1, NULL),
          (2, 's1', 'server', 'basicserver', 1, NULL), (3, 'old', 'server', 'basicserver', 1, 2);
        INSERT INTO entity_attrs VALUES
          (1, 1, 'schemaversion', NULL, NULL, 'int', {schema}, NULL, NULL, NULL, 1, NULL),
          (2, 2, 'owner', NULL, NULL, 'string', NULL, 'alice', NULL, NULL, 1, NULL),
          (3, 2, 'bought', NULL, NULL, 'datetime', NULL, NULL, '2011-02-03 04:05:06.123456', NULL, 2, NULL),
          (4, 2, 'tags', NULL, NULL, 'json', NULL, '["a", "\u00e9"]', NULL, NULL, 2, NULL),
          (5, 2, '_contains', 'ru', 3, 'relation', NULL, NULL, NULL, 3, 1, 2),
          (6, 2, 'nothing', NULL, NULL, 'string', NULL, NULL, NULL, NULL, 3, NULL),
          (7, 2, 'weird', NULL, NULL, 'bogus', NULL, 'x', NULL, NULL, 3, NULL),
          (8, 2, 'peer', NULL, NULL, 'relation', NULL, NULL, NULL, 99, 3, NULL),
          (9, 2, 'when', NULL, NULL, 'datetime', NULL, NULL, 'yesterday', NULL, 3, NULL);
        INSERT INTO counters VALUES (1, 2, 'port', 7), (2, 50, 'port', 1);
        "#
    ))
    .unwrap();
}

#[test]
fn rows_are_converted_once_and_bad_rows_are_reported_with_table_and_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.db");
    tiny_legacy(&path, 3);
    let db = empty_target(dir.path());
    let mut seen = Vec::new();
    let report = migrate(
        &format!("sqlite:///{}", path.display()),
        &db,
        |done, total| seen.push((done, total)),
    )
    .unwrap();
    assert_eq!(seen.last(), Some(&(17, 17)));
    assert_eq!(
        (
            report.entities,
            report.attributes,
            report.counters,
            report.versions
        ),
        (3, 6, 1, 3)
    );
    assert_eq!(report.skipped.len(), 4, "{:#?}", report.skipped);
    assert!(report.skipped[0].starts_with("entity_attrs row 7: unknown datatype 'bogus'"));
    assert!(report.skipped[1].starts_with("entity_attrs row 8: "));
    assert!(
        report.skipped[2].starts_with("entity_attrs row 9: datetime_value: 'yesterday'"),
        "{}",
        report.skipped[2]
    );
    assert!(report.skipped[3].starts_with("counters row 2: "));
    db.read(|v| {
        let s1 = v.entity("s1")?;
        let value = |key: &str| -> clusto_core::Result<Value> {
            Ok(v.attrs(s1.id, &clusto_core::AttrFilter::key(key))?[0]
                .value
                .clone())
        };
        assert_eq!(value("owner")?, Value::String("alice".into()));
        assert_eq!(
            value("bought")?,
            Value::Datetime(clusto_core::Timestamp::parse("2011-02-03T04:05:06.123456")?)
        );
        assert_eq!(value("nothing")?, Value::Null);
        assert!(matches!(value("tags")?, Value::Json(_)));
        assert_eq!(v.counter(s1.id, "port")?, Some(7));
        assert!(v.find("old")?.is_none());
        Ok(())
    })
    .unwrap();
    db.read_at(1, |v| {
        assert!(v.find("old")?.is_some());
        Ok(())
    })
    .unwrap();
}

#[test]
fn another_schema_version_or_missing_tables_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    tiny_legacy(&path, 2);
    let db = empty_target(dir.path());
    let err = migrate(path.to_str().unwrap(), &db, |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("schema version 2"), "{err}");

    let path = dir.path().join("partial.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE entities (entity_id INTEGER); CREATE TABLE counters (x INTEGER);",
        )
        .unwrap();
    let err = migrate(path.to_str().unwrap(), &db, |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no table entity_attrs, clustoversioning"),
        "{err}"
    );
}
