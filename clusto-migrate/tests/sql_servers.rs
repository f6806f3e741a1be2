//! The legacy sample, loaded into a PostgreSQL and a MySQL/MariaDB server with the
//! original's table definitions (SQLAlchemy's DDL for each dialect), imports with the
//! same view as from SQLite: the original's own expected view.
//!
//! The servers come from `CLUSTO_TEST_POSTGRES_DSN` and `CLUSTO_TEST_MYSQL_DSN` (a
//! database the user may create tables in; its four clusto tables are replaced).
//! `tests/start-sql-servers.sh` starts throwaway servers and prints both. A test whose
//! variable is unset says so and passes: these run in `make test-slow`, not in CI.

mod common;

use clusto_core::Clusto;
use clusto_migrate::SourceDsn;
use rusqlite::types::Value as Sql;

/// How a column of the original is typed, for loading it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Time,
}

/// The original's tables, in load order, with their columns.
const TABLES: [(&str, &[(&str, Kind)]); 4] = [
    (
        "entities",
        &[
            ("entity_id", Kind::Int),
            ("name", Kind::Text),
            ("type", Kind::Text),
            ("driver", Kind::Text),
            ("version", Kind::Int),
            ("deleted_at_version", Kind::Int),
        ],
    ),
    (
        "entity_attrs",
        &[
            ("attr_id", Kind::Int),
            ("entity_id", Kind::Int),
            ("key", Kind::Text),
            ("subkey", Kind::Text),
            ("number", Kind::Int),
            ("datatype", Kind::Text),
            ("int_value", Kind::Int),
            ("string_value", Kind::Text),
            ("datetime_value", Kind::Time),
            ("relation_id", Kind::Int),
            ("version", Kind::Int),
            ("deleted_at_version", Kind::Int),
        ],
    ),
    (
        "counters",
        &[
            ("counter_id", Kind::Int),
            ("entity_id", Kind::Int),
            ("attr_key", Kind::Text),
            ("value", Kind::Int),
        ],
    ),
    (
        "clustoversioning",
        &[
            ("version", Kind::Int),
            ("timestamp", Kind::Time),
            ("user", Kind::Text),
            ("description", Kind::Text),
        ],
    ),
];

/// Every row of a table of the sample (a copy of it), as SQLite holds them.
fn sample_rows(copy: &std::path::Path, table: &str, columns: &[(&str, Kind)]) -> Vec<Vec<Sql>> {
    let conn = rusqlite::Connection::open(copy).unwrap();
    let list: Vec<String> = columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {} FROM {table} ORDER BY 1",
            list.join(", ")
        ))
        .unwrap();
    stmt.query_map([], |row| {
        (0..columns.len())
            .map(|i| row.get::<_, Sql>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .unwrap()
    .collect::<rusqlite::Result<Vec<_>>>()
    .unwrap()
}

fn int(v: &Sql) -> Option<i64> {
    match v {
        Sql::Null => None,
        Sql::Integer(i) => Some(*i),
        other => panic!("the sample has {other:?} in an integer column"),
    }
}

fn text(v: &Sql) -> Option<String> {
    match v {
        Sql::Null => None,
        Sql::Text(t) => Some(t.clone()),
        other => panic!("the sample has {other:?} in a text column"),
    }
}

/// The server's DSN from `var`, or `None` (and a note) when it is unset.
fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(dsn) if !dsn.trim().is_empty() => Some(dsn),
        _ => {
            eprintln!(
                "skipped: {var} is not set (tests/start-sql-servers.sh starts a server and prints it)"
            );
            None
        }
    }
}

/// The same DSN, written with a driver suffix as the original's clusto.conf may have
/// it, and another password; `None` when it names no host.
fn with_wrong_password(dsn: &str) -> Option<String> {
    let (scheme, server) = match clusto_migrate::parse_dsn(dsn).unwrap() {
        SourceDsn::Postgres(s) => ("postgresql+psycopg2", s),
        SourceDsn::Mysql(s) => ("mysql+mysqldb", s),
        SourceDsn::Sqlite(_) => return None,
    };
    let host = server.host.clone()?;
    let port = server.port.map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!(
        "{scheme}://{}:not-the-password-xyz@{host}{port}/{}",
        server.login(),
        server.database
    ))
}

fn migrate_err(dsn: &str) -> clusto_core::Error {
    let dir = tempfile::tempdir().unwrap();
    let db = Clusto::open(dir.path().join("clusto")).unwrap();
    clusto_migrate::migrate(dsn, &db, |_, _| {}).unwrap_err()
}

/// A database without the original's tables is refused as not clusto's.
fn refuses_a_database_without_the_tables(dsn: &str) {
    let err = migrate_err(dsn).to_string();
    assert!(
        err.contains("no table entities, entity_attrs, counters or clustoversioning"),
        "{err}"
    );
}

/// A wrong password is refused as such, and never shown.
fn refuses_a_wrong_password(dsn: &str) {
    let Some(wrong) = with_wrong_password(dsn) else {
        return;
    };
    let err = migrate_err(&wrong);
    let text = err.to_string();
    assert!(
        matches!(err, clusto_core::Error::InvalidValue(_)),
        "{err:?}"
    );
    assert!(text.contains("refused the login"), "{text}");
    assert!(!text.contains("not-the-password-xyz"), "{text}");
}

/// Another schema version is refused by number.
fn refuses_schema_version_2(dsn: &str) {
    let err = migrate_err(dsn).to_string();
    assert!(err.contains("schema version 2"), "{err}");
}

/// Migrates from `dsn` into a new database and checks it against the expected view.
fn migrate_and_compare(dsn: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = Clusto::open(dir.path().join("clusto")).unwrap();
    let mut last = (0, 0);
    let report = clusto_migrate::migrate(dsn, &db, |done, total| last = (done, total)).unwrap();
    common::assert_complete(&report);
    let (e, a, c, v) = common::SAMPLE_ROWS;
    assert_eq!(last, (e + a + c + v, e + a + c + v));
    if let Ok(SourceDsn::Postgres(s) | SourceDsn::Mysql(s)) = clusto_migrate::parse_dsn(dsn)
        && let Some(p) = s.password()
    {
        assert!(!report.source.contains(p), "{}", report.source);
    }
    common::assert_expected_view(&db);
}

mod postgres_server {
    use super::*;
    use postgres::types::ToSql;

    /// SQLAlchemy's DDL for the original's tables on PostgreSQL (Integer primary keys
    /// are SERIAL, DateTime and TIMESTAMP are `timestamp without time zone`).
    const DDL: &str = r#"
        DROP TABLE IF EXISTS counters, entity_attrs, clustoversioning, entities CASCADE;
        CREATE TABLE entities (entity_id SERIAL NOT NULL, name VARCHAR(128) NOT NULL,
          type VARCHAR(32) NOT NULL, driver VARCHAR(32) NOT NULL, version INTEGER NOT NULL,
          deleted_at_version INTEGER, PRIMARY KEY (entity_id));
        CREATE TABLE entity_attrs (attr_id SERIAL NOT NULL, entity_id INTEGER NOT NULL,
          key VARCHAR(256), subkey VARCHAR(256), number INTEGER, datatype VARCHAR(32) NOT NULL,
          int_value INTEGER, string_value TEXT, datetime_value TIMESTAMP WITHOUT TIME ZONE,
          relation_id INTEGER, version INTEGER NOT NULL, deleted_at_version INTEGER,
          PRIMARY KEY (attr_id), FOREIGN KEY(entity_id) REFERENCES entities (entity_id),
          FOREIGN KEY(relation_id) REFERENCES entities (entity_id));
        CREATE TABLE counters (counter_id SERIAL NOT NULL, entity_id INTEGER NOT NULL,
          attr_key VARCHAR(256), value INTEGER, PRIMARY KEY (counter_id),
          FOREIGN KEY(entity_id) REFERENCES entities (entity_id));
        CREATE TABLE clustoversioning (version SERIAL NOT NULL,
          timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP, "user" VARCHAR(64),
          description TEXT, PRIMARY KEY (version));
        CREATE INDEX idx_entity_name_version ON entities (name, version, deleted_at_version);
        CREATE INDEX idx_attrs_entity_version ON entity_attrs (entity_id, version, deleted_at_version);
        CREATE INDEX idx_attrs_key ON entity_attrs (key);
        CREATE INDEX idx_attrs_subkey ON entity_attrs (subkey);
        CREATE INDEX idx_counter_entity_attr ON counters (entity_id, attr_key);
        CREATE INDEX ix_clustoversioning_timestamp ON clustoversioning (timestamp);
    "#;

    fn connect(dsn: &str) -> postgres::Client {
        let SourceDsn::Postgres(s) = clusto_migrate::parse_dsn(dsn).unwrap() else {
            panic!("CLUSTO_TEST_POSTGRES_DSN is not a postgresql:// DSN");
        };
        let mut config = postgres::Config::new();
        config
            .user(&s.login())
            .dbname(&s.database)
            .port(s.port.unwrap_or(5432));
        if let Some(p) = s.password() {
            config.password(p);
        }
        match (&s.host, &s.socket) {
            (Some(h), _) => config.host(h),
            (None, Some(dir)) => config.host_path(dir),
            (None, None) => config.host("localhost"),
        };
        config.connect(postgres::NoTls).unwrap()
    }

    /// Loads the sample's rows, as the original wrote them, through the text form of
    /// each value (the server converts it to the column's type, as from psycopg2).
    fn load(client: &mut postgres::Client, copy: &std::path::Path) {
        client.batch_execute(DDL).unwrap();
        let mut tx = client.transaction().unwrap();
        for (table, columns) in TABLES {
            let names: Vec<String> = columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
            let values: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| match kind {
                    Kind::Int => format!("${}::bigint", i + 1),
                    Kind::Text => format!("${}::text", i + 1),
                    Kind::Time => format!("(${}::text)::timestamp", i + 1),
                })
                .collect();
            let stmt = tx
                .prepare(&format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    names.join(", "),
                    values.join(", ")
                ))
                .unwrap();
            for row in sample_rows(copy, table, columns) {
                let ints: Vec<Option<i64>> = row
                    .iter()
                    .zip(columns)
                    .map(|(v, (_, kind))| (*kind == Kind::Int).then(|| int(v)).flatten())
                    .collect();
                let texts: Vec<Option<String>> = row
                    .iter()
                    .zip(columns)
                    .map(|(v, (_, kind))| (*kind != Kind::Int).then(|| text(v)).flatten())
                    .collect();
                let params: Vec<&(dyn ToSql + Sync)> = columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, kind))| -> &(dyn ToSql + Sync) {
                        match kind {
                            Kind::Int => &ints[i],
                            _ => &texts[i],
                        }
                    })
                    .collect();
                tx.execute(&stmt, &params).unwrap();
            }
        }
        tx.commit().unwrap();
    }

    #[test]
    fn postgres_source_imports_with_the_expected_view() {
        let Some(dsn) = server("CLUSTO_TEST_POSTGRES_DSN") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let copy = common::sample_copy(dir.path());
        let mut client = connect(&dsn);
        client
            .batch_execute(
                "DROP TABLE IF EXISTS counters, entity_attrs, clustoversioning, entities CASCADE",
            )
            .unwrap();
        refuses_a_database_without_the_tables(&dsn);
        refuses_a_wrong_password(&dsn);
        load(&mut client, &copy);
        migrate_and_compare(&dsn);
        client
            .batch_execute(
                "UPDATE entity_attrs SET int_value = 2 WHERE key = 'schemaversion' \
                 AND deleted_at_version IS NULL",
            )
            .unwrap();
        refuses_schema_version_2(&dsn);
    }
}

mod mysql_server {
    use super::*;
    use mysql::prelude::Queryable;

    /// SQLAlchemy's DDL for the original's tables on MySQL/MariaDB (utf8mb4 tables;
    /// DateTime is DATETIME, TIMESTAMP nullable is `TIMESTAMP NULL`).
    const DDL: [&str; 11] = [
        "DROP TABLE IF EXISTS counters, entity_attrs, clustoversioning, entities",
        "CREATE TABLE entities (entity_id INTEGER NOT NULL AUTO_INCREMENT, name VARCHAR(128) NOT NULL,
          type VARCHAR(32) NOT NULL, driver VARCHAR(32) NOT NULL, version INTEGER NOT NULL,
          deleted_at_version INTEGER, PRIMARY KEY (entity_id)) DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE entity_attrs (attr_id INTEGER NOT NULL AUTO_INCREMENT, entity_id INTEGER NOT NULL,
          `key` VARCHAR(256), subkey VARCHAR(256), number INTEGER, datatype VARCHAR(32) NOT NULL,
          int_value INTEGER, string_value TEXT, datetime_value DATETIME, relation_id INTEGER,
          version INTEGER NOT NULL, deleted_at_version INTEGER, PRIMARY KEY (attr_id),
          FOREIGN KEY(entity_id) REFERENCES entities (entity_id),
          FOREIGN KEY(relation_id) REFERENCES entities (entity_id)) DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE counters (counter_id INTEGER NOT NULL AUTO_INCREMENT, entity_id INTEGER NOT NULL,
          attr_key VARCHAR(256), value INTEGER, PRIMARY KEY (counter_id),
          FOREIGN KEY(entity_id) REFERENCES entities (entity_id)) DEFAULT CHARSET=utf8mb4",
        "CREATE TABLE clustoversioning (version INTEGER NOT NULL AUTO_INCREMENT,
          timestamp TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP, user VARCHAR(64), description TEXT,
          PRIMARY KEY (version)) DEFAULT CHARSET=utf8mb4",
        "CREATE INDEX idx_entity_name_version ON entities (name, version, deleted_at_version)",
        "CREATE INDEX idx_attrs_entity_version ON entity_attrs (entity_id, version, deleted_at_version)",
        "CREATE INDEX idx_attrs_key ON entity_attrs (`key`(191))",
        "CREATE INDEX idx_attrs_subkey ON entity_attrs (subkey(191))",
        "CREATE INDEX idx_counter_entity_attr ON counters (entity_id, attr_key(191))",
        "CREATE INDEX ix_clustoversioning_timestamp ON clustoversioning (timestamp)",
    ];

    fn connect(dsn: &str) -> mysql::Conn {
        let SourceDsn::Mysql(s) = clusto_migrate::parse_dsn(dsn).unwrap() else {
            panic!("CLUSTO_TEST_MYSQL_DSN is not a mysql:// DSN");
        };
        let mut opts = mysql::OptsBuilder::new()
            .user(Some(s.login()))
            .pass(s.password().map(str::to_owned))
            .db_name(Some(s.database.clone()))
            .tcp_port(s.port.unwrap_or(3306))
            .prefer_socket(false)
            .init(vec!["SET NAMES utf8mb4"]);
        opts = match (&s.socket, &s.host) {
            (Some(sock), _) => opts.socket(Some(sock.display().to_string())),
            (None, h) => opts.ip_or_hostname(Some(h.clone().unwrap_or("127.0.0.1".into()))),
        };
        mysql::Conn::new(opts).unwrap()
    }

    fn load(conn: &mut mysql::Conn, copy: &std::path::Path) {
        for ddl in DDL {
            conn.query_drop(ddl).unwrap();
        }
        let mut tx = conn.start_transaction(mysql::TxOpts::default()).unwrap();
        for (table, columns) in TABLES {
            let names: Vec<String> = columns.iter().map(|(c, _)| format!("`{c}`")).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                vec!["?"; columns.len()].join(", ")
            );
            let rows = sample_rows(copy, table, columns).into_iter().map(|row| {
                row.iter()
                    .zip(columns)
                    .map(|(v, (_, kind))| match kind {
                        Kind::Int => int(v).map_or(mysql::Value::NULL, mysql::Value::Int),
                        Kind::Text | Kind::Time => {
                            text(v).map_or(mysql::Value::NULL, |t| mysql::Value::Bytes(t.into()))
                        }
                    })
                    .collect::<Vec<_>>()
            });
            tx.exec_batch(sql, rows).unwrap();
        }
        tx.commit().unwrap();
    }

    #[test]
    fn mysql_source_imports_with_the_expected_view() {
        let Some(dsn) = server("CLUSTO_TEST_MYSQL_DSN") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let copy = common::sample_copy(dir.path());
        let mut conn = connect(&dsn);
        conn.query_drop(DDL[0]).unwrap();
        refuses_a_database_without_the_tables(&dsn);
        refuses_a_wrong_password(&dsn);
        load(&mut conn, &copy);
        migrate_and_compare(&dsn);
        conn.query_drop(
            "UPDATE entity_attrs SET int_value = 2 WHERE `key` = 'schemaversion' \
             AND deleted_at_version IS NULL",
        )
        .unwrap();
        refuses_schema_version_2(&dsn);
    }
}
