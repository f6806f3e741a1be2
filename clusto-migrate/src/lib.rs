//! Migration from the original clusto: reads a schema-3 database of the original (its
//! four tables `entities`, `entity_attrs`, `counters`, `clustoversioning`) and imports
//! every row — live and deleted, with the versions that created and deleted it — into
//! an empty clusto database, so reads as of any old version answer as the original did.
//!
//! Today the source is SQLite (`sqlite:///relative.db`, `sqlite:////absolute.db`, or a
//! path). Rows that cannot be imported (a relation to a missing entity, an unknown
//! datatype…) are listed in the report with their ids; they are never dropped silently.

pub mod dump;

use std::path::{Path, PathBuf};

use clusto_core::{
    AttrId, Attribute, Clusto, Entity, EntityId, Error, Result, Timestamp, Value, VersionInfo,
};
use rusqlite::{Connection, OpenFlags, Row};

/// The schema version of the original this importer reads.
pub const SOURCE_SCHEMA: i64 = 3;

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Entity rows imported (live and deleted).
    pub entities: usize,
    /// Attribute rows imported (live and deleted).
    pub attributes: usize,
    /// Counters imported.
    pub counters: usize,
    /// Version records imported.
    pub versions: usize,
    /// One line per row not imported: table, id and why.
    pub skipped: Vec<String>,
    /// What `check()` found in the new database afterwards (empty when clean).
    pub problems: Vec<String>,
}

/// The SQLite file a DSN of the original names (`sqlite:///relative`,
/// `sqlite:////absolute`, or a plain path). Other SQL DSNs are refused with a clear
/// error: this build reads SQLite only.
pub fn sqlite_path(dsn: &str) -> Result<PathBuf> {
    if let Some(rest) = dsn.strip_prefix("sqlite:///") {
        return Ok(PathBuf::from(rest));
    }
    if let Some((scheme, _)) = dsn.split_once("://") {
        return Err(Error::InvalidValue(format!(
            "migrating from '{scheme}' is not supported by this build: export the original's tables \
             to SQLite (same four tables) and migrate from sqlite:///path"
        )));
    }
    Ok(PathBuf::from(dsn))
}

fn sql(e: rusqlite::Error) -> Error {
    Error::InvalidValue(format!("reading the source database: {e}"))
}

fn open(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::NotFound(format!(
            "source database {} does not exist",
            path.display()
        )));
    }
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)
}

fn schema_version(conn: &Connection) -> Result<i64> {
    let found = conn.query_row(
        "SELECT a.int_value FROM entity_attrs a JOIN entities e ON a.entity_id = e.entity_id \
         WHERE e.name = 'clustometa' AND e.deleted_at_version IS NULL AND a.key = 'schemaversion' \
         AND a.deleted_at_version IS NULL",
        [],
        |r| r.get::<_, Option<i64>>(0),
    );
    match found {
        Ok(Some(v)) => Ok(v),
        Ok(None) | Err(rusqlite::Error::QueryReturnedNoRows) => Err(Error::InvalidValue(
            "the source has no clustometa schemaversion: is it a clusto database?".into(),
        )),
        Err(e) => Err(sql(e)),
    }
}

fn version_of(v: Option<i64>, what: &str) -> Result<Option<u64>> {
    v.map(|v| {
        u64::try_from(v)
            .map_err(|_| Error::InvalidValue(format!("{what} has negative version {v}")))
    })
    .transpose()
}

fn attr_value(row: &Row<'_>) -> Result<Value> {
    let get = |i: usize| -> Result<rusqlite::types::Value> { row.get(i).map_err(sql) };
    use rusqlite::types::Value as Sql;
    let datatype: String = row.get(5).map_err(sql)?;
    Ok(match datatype.as_str() {
        "int" => match get(6)? {
            Sql::Integer(i) => Value::Int(i),
            other => return Err(Error::InvalidValue(format!("int value is {other:?}"))),
        },
        "string" => match get(7)? {
            Sql::Null => Value::Null,
            Sql::Text(s) => Value::String(s),
            other => return Err(Error::InvalidValue(format!("string value is {other:?}"))),
        },
        "json" => match get(7)? {
            Sql::Text(s) => Value::json(s)?,
            other => return Err(Error::InvalidValue(format!("json value is {other:?}"))),
        },
        "datetime" => match get(8)? {
            Sql::Text(s) => Value::Datetime(Timestamp::parse(&s)?),
            other => return Err(Error::InvalidValue(format!("datetime value is {other:?}"))),
        },
        "relation" => match get(9)? {
            Sql::Integer(id) if id > 0 => Value::Relation(EntityId(id as u64)),
            other => return Err(Error::InvalidValue(format!("relation value is {other:?}"))),
        },
        other => return Err(Error::InvalidValue(format!("unknown datatype '{other}'"))),
    })
}

/// Imports the SQLite database at `source` into `target`, which must be empty, and runs
/// the integrity check. `progress` is called with (rows done, rows in all).
pub fn migrate_sqlite(
    source: &Path,
    target: &Clusto,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let conn = open(source)?;
    let found = schema_version(&conn)?;
    if found != SOURCE_SCHEMA {
        return Err(Error::UnsupportedFormat {
            found: found as u32,
            supported: SOURCE_SCHEMA as u32,
        });
    }
    let count = |table: &str| -> Result<usize> {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as usize)
        .map_err(sql)
    };
    let total = count("entities")?
        + count("entity_attrs")?
        + count("counters")?
        + count("clustoversioning")?;
    let mut done = 0;
    let mut report = Report::default();
    let mut importer = target.importer()?;

    let mut stmt = conn
        .prepare("SELECT entity_id, name, type, driver, version, deleted_at_version FROM entities ORDER BY entity_id")
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let id: i64 = row.get(0).map_err(sql)?;
        let entity = (|| -> Result<Entity> {
            Ok(Entity {
                id: EntityId(
                    u64::try_from(id)
                        .map_err(|_| Error::InvalidValue(format!("negative id {id}")))?,
                ),
                name: row.get(1).map_err(sql)?,
                type_name: row.get(2).map_err(sql)?,
                driver: row.get(3).map_err(sql)?,
                version: version_of(row.get(4).map_err(sql)?, "entity")?.unwrap_or(0),
                deleted_at: version_of(row.get(5).map_err(sql)?, "entity")?,
            })
        })();
        match entity.and_then(|e| importer.entity(e)) {
            Ok(()) => report.entities += 1,
            Err(e) => report.skipped.push(format!("entities row {id}: {e}")),
        }
        done += 1;
        progress(done, total);
    }

    let mut stmt = conn
        .prepare(
            "SELECT attr_id, entity_id, key, subkey, number, datatype, int_value, string_value, \
             datetime_value, relation_id, version, deleted_at_version FROM entity_attrs ORDER BY attr_id",
        )
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let id: i64 = row.get(0).map_err(sql)?;
        let attr = (|| -> Result<Attribute> {
            let entity: i64 = row.get(1).map_err(sql)?;
            Ok(Attribute {
                id: AttrId(id as u64),
                entity: EntityId(entity as u64),
                key: row
                    .get::<_, Option<String>>(2)
                    .map_err(sql)?
                    .ok_or_else(|| Error::InvalidValue("NULL key".into()))?,
                subkey: row.get(3).map_err(sql)?,
                number: row.get(4).map_err(sql)?,
                value: attr_value(row)?,
                version: version_of(row.get(10).map_err(sql)?, "attribute")?.unwrap_or(0),
                deleted_at: version_of(row.get(11).map_err(sql)?, "attribute")?,
            })
        })();
        match attr.and_then(|a| importer.attr(a)) {
            Ok(()) => report.attributes += 1,
            Err(e) => report.skipped.push(format!("entity_attrs row {id}: {e}")),
        }
        done += 1;
        progress(done, total);
    }

    let mut stmt = conn
        .prepare("SELECT counter_id, entity_id, attr_key, value FROM counters ORDER BY counter_id")
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let id: i64 = row.get(0).map_err(sql)?;
        let counter = (|| -> Result<()> {
            let entity: i64 = row.get(1).map_err(sql)?;
            let key: String = row.get(2).map_err(sql)?;
            let value: Option<i64> = row.get(3).map_err(sql)?;
            importer.counter(EntityId(entity as u64), &key, value.unwrap_or(0))
        })();
        match counter {
            Ok(()) => report.counters += 1,
            Err(e) => report.skipped.push(format!("counters row {id}: {e}")),
        }
        done += 1;
        progress(done, total);
    }

    let mut stmt = conn
        .prepare(
            "SELECT version, timestamp, user, description FROM clustoversioning ORDER BY version",
        )
        .map_err(sql)?;
    let mut rows = stmt.query([]).map_err(sql)?;
    while let Some(row) = rows.next().map_err(sql)? {
        let version: i64 = row.get(0).map_err(sql)?;
        let timestamp: Option<String> = row.get(1).map_err(sql)?;
        let info = VersionInfo {
            version: version as u64,
            timestamp: timestamp.map(|t| Timestamp::parse(&t)).transpose()?,
            user: row.get(2).map_err(sql)?,
            description: row.get(3).map_err(sql)?,
        };
        importer.version(info);
        report.versions += 1;
        done += 1;
        progress(done, total);
    }

    importer.finish()?;
    report.problems = target.check()?.problems;
    Ok(report)
}

/// The "expected view" of a database in the format of the legacy sample
/// (`shared/legacy/README.md` §3): latest version, live entities with their live
/// attributes (hidden ones included), counters, versions, and the names visible as of
/// each of `as_of`. Comparing this document before and after a migration checks it.
pub fn legacy_view(db: &Clusto, as_of: &[u64]) -> Result<serde_json::Value> {
    use serde_json::{Map, Value as Json, json};
    db.read(|v| {
        let mut entities = v.all_entities()?;
        entities.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out_entities = Vec::new();
        let mut counters = Vec::new();
        for e in &entities {
            let mut attrs: Vec<(Json, String)> = Vec::new();
            for a in v.attrs(e.id, &clusto_core::AttrFilter::any().with_hidden())? {
                let value = v.value_json(&a.value)?;
                let sort = canonical(&value);
                let json = json!({
                    "key": a.key, "subkey": a.subkey, "number": a.number,
                    "datatype": a.value.datatype().as_str(), "value": value,
                });
                let order = format!(
                    "{}\u{0}{}\u{0}{}\u{0}{:020}\u{0}{}\u{0}{}\u{0}{}",
                    a.key,
                    a.subkey.as_deref().unwrap_or(""),
                    a.subkey.is_some() as u8,
                    a.number.map_or(0, |n| (n as i128 + (1i128 << 63) + 1) as u128),
                    a.number.is_some() as u8,
                    a.value.datatype().as_str(),
                    sort
                );
                attrs.push((json, order));
            }
            attrs.sort_by(|x, y| x.1.cmp(&y.1));
            out_entities.push(json!({
                "name": e.name, "type": e.type_name, "driver": e.driver,
                "attrs": attrs.into_iter().map(|(j, _)| j).collect::<Vec<_>>(),
            }));
            for (key, value) in v.counters(e.id)? {
                counters.push((e.name.clone(), key, value));
            }
        }
        counters.sort();
        let versions: Vec<Json> = v
            .versions(&clusto_core::VersionQuery::default())?
            .iter()
            .map(|i| json!({"version": i.version, "timestamp": i.timestamp.map(|t| t.to_iso()), "user": i.user, "description": i.description}))
            .collect();
        let mut as_of_map = Map::new();
        for &version in as_of {
            let mut names: Vec<String> = db.read_at(version, |past| past.all_entities())?.into_iter().map(|e| e.name).collect();
            names.sort();
            as_of_map.insert(version.to_string(), json!(names));
        }
        Ok(json!({
            "latest_version": v.latest_version()?,
            "entities": out_entities,
            "counters": counters.into_iter().map(|(e, k, n)| json!({"entity": e, "key": k, "value": n})).collect::<Vec<_>>(),
            "versions": versions,
            "as_of": as_of_map,
        }))
    })
}

/// Compact JSON with object keys sorted, as the legacy view orders values.
fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::Value::String((*k).clone()),
                        canonical(&o[*k])
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}
