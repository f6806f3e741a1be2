//! Migration from the original clusto: reads a schema-3 database of the original (its
//! four tables `entities`, `entity_attrs`, `counters`, `clustoversioning`) and imports
//! every row — live and deleted, with the versions that created and deleted it — into
//! an empty clusto database, so reads as of any old version answer as the original did.
//!
//! The source is named by a DSN as in the original's clusto.conf ([`migrate`]): a SQLite
//! file (`sqlite:///relative.db`, `sqlite:////absolute.db`, or a path), a PostgreSQL
//! server (`postgresql://user:password@host:port/database`, also `postgres://` and
//! `postgresql+psycopg2://`) or a MySQL/MariaDB server (`mysql://…`,
//! `mysql+mysqldb://…`). Rows that cannot be imported (a relation to a missing entity,
//! an unknown datatype…) are listed in the report with their table and id; they are
//! never dropped silently.
//!
//! The import itself is written once (`import`): every source backend only runs the
//! queries it is given and hands back typed cells (see `source`).
//!
//! The servers are reached with the pure-Rust `postgres` and `mysql` clients over plain
//! TCP or a Unix socket (no TLS: run the migration on the database host, or through a
//! tunnel).

pub mod dsn;
pub mod dump;
mod source;

use std::path::{Path, PathBuf};

use clusto_core::{
    AttrId, Attribute, Clusto, Entity, EntityId, Error, Result, Timestamp, Value, VersionInfo,
};

pub use dsn::{ServerDsn, SourceDsn};
use source::{Cell, Reader};

/// The schema version of the original this importer reads.
pub const SOURCE_SCHEMA: i64 = 3;

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The source, as messages name it: a path, or the DSN with its password as `***`.
    pub source: String,
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

/// Parses a DSN of the original (see [`dsn::parse`]): which kind of source it names
/// and how to reach it. Unknown schemes are refused with an error naming the scheme.
pub fn parse_dsn(dsn: &str) -> Result<SourceDsn> {
    dsn::parse(dsn)
}

/// The SQLite file a DSN of the original names (`sqlite:///relative`,
/// `sqlite:////absolute`, or a plain path). DSNs of servers and unknown schemes are
/// refused: use [`migrate`], which reads every kind of source.
pub fn sqlite_path(dsn: &str) -> Result<PathBuf> {
    match dsn::parse(dsn)? {
        SourceDsn::Sqlite(path) => Ok(path),
        other => Err(Error::InvalidValue(format!(
            "{other} names a SQL server, not a SQLite file: migrate() reads it"
        ))),
    }
}

/// Imports the original's database that `dsn` names (a SQLite path or `sqlite:///`,
/// `postgresql://`, `mysql://` — see [`parse_dsn`]) into `target`, which must be empty,
/// and runs the integrity check. `progress` is called with (rows done, rows in all).
///
/// Errors name what went wrong — an unknown scheme, a refused connection or login, a
/// missing database or table, another schema version — and never show the password.
pub fn migrate(
    dsn: &str,
    target: &Clusto,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let parsed = dsn::parse(dsn)?;
    let mut reader = source::open(&parsed)?;
    import(reader.as_mut(), target, &mut progress)
}

/// Imports the SQLite database at `source` into `target`, which must be empty, and runs
/// the integrity check. `progress` is called with (rows done, rows in all). The same as
/// [`migrate`] with a path.
pub fn migrate_sqlite(
    source: &Path,
    target: &Clusto,
    mut progress: impl FnMut(usize, usize),
) -> Result<Report> {
    let mut reader = source::sqlite::Sqlite::open(source)?;
    import(&mut reader, target, &mut progress)
}

/// The original's tables, in the order they are imported, with the columns read from
/// each (the first is the row's id in reports and the sort order).
const TABLES: [(&str, &[&str]); 4] = [
    (
        "entities",
        &[
            "entity_id",
            "name",
            "type",
            "driver",
            "version",
            "deleted_at_version",
        ],
    ),
    (
        "entity_attrs",
        &[
            "attr_id",
            "entity_id",
            "key",
            "subkey",
            "number",
            "datatype",
            "int_value",
            "string_value",
            "datetime_value",
            "relation_id",
            "version",
            "deleted_at_version",
        ],
    ),
    (
        "counters",
        &["counter_id", "entity_id", "attr_key", "value"],
    ),
    (
        "clustoversioning",
        &["version", "timestamp", "user", "description"],
    ),
];

/// Reads a source's cells as the model's types; every error names the column.
struct Cells {
    cells: std::vec::IntoIter<Cell>,
    columns: &'static [&'static str],
    at: usize,
}

impl Cells {
    /// The name of the column read next.
    fn column(&self) -> &'static str {
        self.columns.get(self.at).copied().unwrap_or("?")
    }

    fn next(&mut self) -> (Cell, &'static str) {
        let column = self.column();
        self.at += 1;
        (self.cells.next().unwrap_or(Cell::Null), column)
    }

    fn bad(column: &str, cell: &Cell, wanted: &str) -> Error {
        Error::InvalidValue(format!("{column} is {}, not {wanted}", cell.describe()))
    }

    fn opt_int(&mut self) -> Result<Option<i64>> {
        match self.next() {
            (Cell::Null, _) => Ok(None),
            (Cell::Int(i), _) => Ok(Some(i)),
            (other, column) => Err(Self::bad(column, &other, "an integer")),
        }
    }

    /// What `read` reads, which must not be NULL.
    fn required<T>(&mut self, read: fn(&mut Self) -> Result<Option<T>>, wanted: &str) -> Result<T> {
        let column = self.column();
        read(self)?.ok_or_else(|| Self::bad(column, &Cell::Null, wanted))
    }

    fn int(&mut self) -> Result<i64> {
        self.required(Self::opt_int, "an integer")
    }

    /// A row id or version: a non-negative integer.
    fn id(&mut self) -> Result<u64> {
        self.required(Self::opt_id, "an integer")
    }

    fn opt_id(&mut self) -> Result<Option<u64>> {
        let column = self.column();
        self.opt_int()?
            .map(|i| {
                u64::try_from(i)
                    .map_err(|_| Error::InvalidValue(format!("{column} is negative ({i})")))
            })
            .transpose()
    }

    fn opt_text(&mut self) -> Result<Option<String>> {
        match self.next() {
            (Cell::Null, _) => Ok(None),
            (Cell::Text(t), _) => Ok(Some(t)),
            (other, column) => Err(Self::bad(column, &other, "text")),
        }
    }

    fn text(&mut self) -> Result<String> {
        self.required(Self::opt_text, "text")
    }

    /// A datetime: server-native, or text as SQLite holds it.
    fn opt_time(&mut self) -> Result<Option<Timestamp>> {
        match self.next() {
            (Cell::Null, _) => Ok(None),
            (Cell::Time(t), _) => Ok(Some(t)),
            (Cell::Text(t), column) => Timestamp::parse(&t)
                .map(Some)
                .map_err(|e| Error::InvalidValue(format!("{column}: {e}"))),
            (other, column) => Err(Self::bad(column, &other, "a datetime")),
        }
    }

    fn skip(&mut self) {
        self.next();
    }
}

fn entity_row(c: &mut Cells) -> Result<Entity> {
    Ok(Entity {
        id: EntityId(c.id()?),
        name: c.text()?,
        type_name: c.text()?,
        driver: c.text()?,
        version: c.opt_id()?.unwrap_or(0),
        deleted_at: c.opt_id()?,
    })
}

fn attr_row(c: &mut Cells) -> Result<Attribute> {
    let id = AttrId(c.id()?);
    let entity = EntityId(c.id()?);
    let key = c
        .opt_text()?
        .ok_or_else(|| Error::InvalidValue("key is NULL".into()))?;
    let subkey = c.opt_text()?;
    let number = c.opt_int()?;
    let datatype = c.text()?;
    // The value lives in the one column its datatype names; the others are passed over.
    let mut value = None;
    let mut take = |c: &mut Cells, this: &str| -> Result<()> {
        if datatype != this {
            c.skip();
            return Ok(());
        }
        value = Some(match this {
            "int" => Value::Int(c.int()?),
            "string" => c.opt_text()?.map_or(Value::Null, Value::String),
            "json" => match c.opt_text()? {
                Some(text) => Value::json(text)?,
                None => {
                    return Err(Error::InvalidValue(
                        "string_value of a json attribute is NULL".into(),
                    ));
                }
            },
            "datetime" => Value::Datetime(c.opt_time()?.ok_or_else(|| {
                Error::InvalidValue("datetime_value of a datetime attribute is NULL".into())
            })?),
            _ => match c.id()? {
                0 => return Err(Error::InvalidValue("relation_id is 0".into())),
                id => Value::Relation(EntityId(id)),
            },
        });
        Ok(())
    };
    take(c, "int")?;
    // string_value holds both string and json values.
    if datatype == "json" {
        take(c, "json")?;
    } else {
        take(c, "string")?;
    }
    take(c, "datetime")?;
    take(c, "relation")?;
    let value =
        value.ok_or_else(|| Error::InvalidValue(format!("unknown datatype '{datatype}'")))?;
    Ok(Attribute {
        id,
        entity,
        key,
        subkey,
        number,
        value,
        version: c.opt_id()?.unwrap_or(0),
        deleted_at: c.opt_id()?,
    })
}

/// A counter's entity, key and value (its own id is not kept: counters are not
/// versioned).
fn counter_row(c: &mut Cells) -> Result<(EntityId, String, i64)> {
    c.skip();
    let entity = EntityId(c.id()?);
    let key = c
        .opt_text()?
        .ok_or_else(|| Error::InvalidValue("attr_key is NULL".into()))?;
    Ok((entity, key, c.opt_int()?.unwrap_or(0)))
}

fn version_row(c: &mut Cells) -> Result<VersionInfo> {
    Ok(VersionInfo {
        version: c.id()?,
        timestamp: c.opt_time()?,
        user: c.opt_text()?,
        description: c.opt_text()?,
    })
}

/// The schema version the source's live `clustometa` entity records.
fn schema_version(src: &mut dyn Reader) -> Result<i64> {
    let q = |i: &str| src.dialect().quote(i);
    let sql = format!(
        "SELECT a.{int} FROM {attrs} a JOIN {entities} e ON a.{eid} = e.{eid} \
         WHERE e.{name} = 'clustometa' AND e.{del} IS NULL AND a.{key} = 'schemaversion' \
         AND a.{del} IS NULL ORDER BY a.{aid}",
        int = q("int_value"),
        attrs = q("entity_attrs"),
        entities = q("entities"),
        eid = q("entity_id"),
        name = q("name"),
        del = q("deleted_at_version"),
        key = q("key"),
        aid = q("attr_id"),
    );
    let mut found = None;
    src.query(&sql, &mut |row| {
        if found.is_none() {
            found = row.into_iter().next();
        }
        Ok(())
    })?;
    let version = match found {
        Some(Cell::Int(v)) => Some(v),
        Some(Cell::Text(t)) => t.trim().parse().ok(),
        _ => None,
    };
    version.ok_or_else(|| {
        Error::InvalidValue(format!(
            "{}: the source has no clustometa schemaversion: is it a clusto database?",
            src.name()
        ))
    })
}

/// Imports every row a source holds into `target` (which must be empty): the one
/// implementation behind [`migrate`] and [`migrate_sqlite`], whatever the source.
fn import(
    src: &mut dyn Reader,
    target: &Clusto,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report> {
    let name = src.name();
    let dialect = src.dialect();

    let mut tables = Vec::new();
    src.query(dialect.tables_sql(), &mut |row| {
        if let Some(Cell::Text(t)) = row.into_iter().next() {
            tables.push(t);
        }
        Ok(())
    })?;
    let missing: Vec<&str> = TABLES
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| !tables.iter().any(|have| have.eq_ignore_ascii_case(t)))
        .collect();
    if missing.len() == TABLES.len() {
        return Err(Error::InvalidValue(format!(
            "{name}: no table entities, entity_attrs, counters or clustoversioning: this is \
             not a database of the original clusto"
        )));
    }
    if !missing.is_empty() {
        return Err(Error::InvalidValue(format!(
            "{name}: no table {}: this is not a complete database of the original clusto",
            missing.join(", ")
        )));
    }

    let found = schema_version(src)?;
    if found != SOURCE_SCHEMA {
        return Err(Error::InvalidValue(format!(
            "{name}: the source has clusto schema version {found}; clusto-migrate reads \
             schema version {SOURCE_SCHEMA} only"
        )));
    }

    let mut total = 0;
    for (table, _) in TABLES {
        let sql = format!("SELECT COUNT(*) FROM {}", dialect.quote(table));
        let mut n = None;
        src.query(&sql, &mut |row| {
            if let Some(Cell::Int(c)) = row.into_iter().next() {
                n = Some(c);
            }
            Ok(())
        })?;
        total += n.and_then(|n| usize::try_from(n).ok()).ok_or_else(|| {
            Error::InvalidValue(format!("{name}: cannot count the rows of {table}"))
        })?;
    }

    let mut report = Report {
        source: name.clone(),
        ..Report::default()
    };
    let mut importer = target.importer()?;
    let mut done = 0;
    for (table, columns) in TABLES {
        let list: Vec<String> = columns.iter().map(|c| dialect.quote(c)).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            list.join(", "),
            dialect.quote(table),
            list[0]
        );
        src.query(&sql, &mut |row| {
            let id = match row.first() {
                Some(Cell::Int(i)) => i.to_string(),
                Some(other) => other.describe(),
                None => "?".into(),
            };
            let mut cells = Cells {
                cells: row.into_iter(),
                columns,
                at: 0,
            };
            let (imported, count) = match table {
                "entities" => (
                    entity_row(&mut cells).and_then(|e| importer.entity(e)),
                    &mut report.entities,
                ),
                "entity_attrs" => (
                    attr_row(&mut cells).and_then(|a| importer.attr(a)),
                    &mut report.attributes,
                ),
                "counters" => (
                    counter_row(&mut cells)
                        .and_then(|(entity, key, value)| importer.counter(entity, &key, value)),
                    &mut report.counters,
                ),
                _ => (
                    version_row(&mut cells).map(|v| importer.version(v)),
                    &mut report.versions,
                ),
            };
            match imported {
                Ok(()) => *count += 1,
                Err(e) => report.skipped.push(format!("{table} row {id}: {e}")),
            }
            done += 1;
            progress(done, total);
            Ok(())
        })
        .map_err(|e| match e {
            Error::InvalidValue(m) => Error::InvalidValue(format!("reading table {table}: {m}")),
            Error::Io { kind, message } => Error::Io {
                kind,
                message: format!("reading table {table}: {message}"),
            },
            other => other,
        })?;
    }

    if let Err(e) = importer.finish() {
        // A skipped version record leaves a gap: say why it was skipped.
        let versions: Vec<&str> = report
            .skipped
            .iter()
            .filter(|s| s.starts_with("clustoversioning"))
            .map(String::as_str)
            .collect();
        return Err(if versions.is_empty() {
            e
        } else {
            Error::InvalidValue(format!("{e} (skipped: {})", versions.join("; ")))
        });
    }
    report.problems = target.check()?.problems;
    Ok(report)
}

/// The "expected view" of a database in the format of the legacy sample
/// (`tests/fixtures/legacy/README.md` §3): latest version, live entities with their live
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(row: Vec<Cell>) -> Cells {
        Cells {
            cells: row.into_iter(),
            columns: &["entity_id", "name", "version"],
            at: 0,
        }
    }

    fn message(e: Error) -> String {
        match e {
            Error::InvalidValue(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cells_name_the_column_of_a_value_they_refuse() {
        let mut ok = cells(vec![Cell::Int(7), Cell::Text("a".into()), Cell::Null]);
        assert_eq!(ok.id().unwrap(), 7);
        assert_eq!(ok.text().unwrap(), "a");
        assert_eq!(ok.opt_id().unwrap(), None);

        let null = |row| message(cells(row).id().unwrap_err());
        assert_eq!(null(vec![Cell::Null]), "entity_id is NULL, not an integer");
        assert_eq!(null(vec![Cell::Int(-2)]), "entity_id is negative (-2)");
        assert_eq!(
            null(vec![Cell::Text("x".into())]),
            "entity_id is the text 'x', not an integer"
        );
        let mut text = cells(vec![Cell::Int(1), Cell::Null]);
        text.int().unwrap();
        assert_eq!(message(text.text().unwrap_err()), "name is NULL, not text");
        let mut past_the_end = cells(vec![]);
        assert_eq!(
            message(past_the_end.int().unwrap_err()),
            "entity_id is NULL, not an integer"
        );
    }
}
