//! The JSON dump: a stable, streamable text form of a whole database.
//!
//! JSON Lines: one JSON object per line. The first line is the header
//! `{"clusto_dump": 1, "history": true|false, "latest_version": N}`; then, in this order:
//!
//! - `{"type":"version","version":N,"timestamp":"YYYY-MM-DDTHH:MM:SS[.ffffff]"|null,"user":S|null,"description":S|null}`
//! - `{"type":"entity","id":N,"name":S,"entity_type":S,"driver":S,"version":N,"deleted_at":N|null}`
//! - `{"type":"attr","id":N,"entity":N,"key":S,"subkey":S|null,"number":N|null,"datatype":D,"value":V,"version":N,"deleted_at":N|null}`
//!   where V is an integer (`int`), a string or null (`string`), an ISO string
//!   (`datetime`), the target entity id (`relation`), or the JSON text as a string (`json`)
//! - `{"type":"counter","entity":N,"key":S,"value":N}`
//!
//! A full dump (`history: true`) keeps every row, deleted ones included, with the
//! versions that created and deleted it: importing it reproduces every past state. A
//! state dump (`--at V`) keeps the rows visible at V as one version.

use std::io::{BufRead, Write};

use clusto_core::{
    AttrId, Attribute, Clusto, Datatype, DumpRecord, Entity, EntityId, Error, Result, Timestamp,
    Value, VersionInfo,
};
use serde_json::{Value as Json, json};

/// The dump format this build writes and reads.
pub const DUMP_FORMAT: u64 = 1;

fn io(e: std::io::Error) -> Error {
    e.into()
}

fn record_json(r: &DumpRecord) -> Json {
    match r {
        DumpRecord::Version(v) => json!({
            "type": "version", "version": v.version, "timestamp": v.timestamp.map(|t| t.to_iso()),
            "user": v.user, "description": v.description,
        }),
        DumpRecord::Entity(e) => json!({
            "type": "entity", "id": e.id.0, "name": e.name, "entity_type": e.type_name, "driver": e.driver,
            "version": e.version, "deleted_at": e.deleted_at,
        }),
        DumpRecord::Attr(a) => {
            let value = match &a.value {
                Value::Int(i) => json!(i),
                Value::String(s) | Value::Json(s) => json!(s),
                Value::Null => Json::Null,
                Value::Datetime(t) => json!(t.to_iso()),
                Value::Relation(id) => json!(id.0),
            };
            json!({
                "type": "attr", "id": a.id.0, "entity": a.entity.0, "key": a.key, "subkey": a.subkey,
                "number": a.number, "datatype": a.value.datatype().as_str(), "value": value,
                "version": a.version, "deleted_at": a.deleted_at,
            })
        }
        DumpRecord::Counter { entity, key, value } => {
            json!({"type": "counter", "entity": entity.0, "key": key, "value": value})
        }
    }
}

/// Writes the dump of `db` to `out`: everything with history, or (with `at`) the state
/// as of that version. Returns the number of rows written.
pub fn export(db: &Clusto, at: Option<u64>, mut out: impl Write) -> Result<usize> {
    let mut rows = 0;
    let read = |v: &clusto_core::View<'_>| -> Result<usize> {
        let latest = v.latest_version()?;
        let header = json!({"clusto_dump": DUMP_FORMAT, "history": at.is_none(), "latest_version": at.map_or(latest, |a| a.min(latest))});
        writeln!(out, "{header}").map_err(io)?;
        let mut emit = |r: DumpRecord| -> Result<()> {
            let r = match (at, r) {
                (None, r) => r,
                (Some(v), DumpRecord::Version(info)) if info.version == 1 => {
                    DumpRecord::Version(VersionInfo {
                        version: 1,
                        timestamp: Some(Timestamp::now()),
                        user: None,
                        description: Some(format!("state as of version {v}")),
                    })
                }
                (Some(_), DumpRecord::Version(_)) => return Ok(()),
                (Some(v), DumpRecord::Entity(e)) if e.visible_at(Some(v)) => {
                    DumpRecord::Entity(Entity {
                        version: 1,
                        deleted_at: None,
                        ..e
                    })
                }
                (Some(v), DumpRecord::Attr(a)) if a.visible_at(Some(v)) => {
                    DumpRecord::Attr(Attribute {
                        version: 1,
                        deleted_at: None,
                        ..a
                    })
                }
                (Some(_), DumpRecord::Entity(_) | DumpRecord::Attr(_)) => return Ok(()),
                (Some(_), counter) => counter,
            };
            writeln!(out, "{}", record_json(&r)).map_err(io)?;
            rows += 1;
            Ok(())
        };
        v.dump(&mut emit)?;
        Ok(rows)
    };
    let written = db.read(read)?;
    Ok(written)
}

fn field<'a>(o: &'a serde_json::Map<String, Json>, name: &str, line: usize) -> Result<&'a Json> {
    o.get(name)
        .ok_or_else(|| Error::InvalidValue(format!("line {line}: missing '{name}'")))
}

fn u64_field(o: &serde_json::Map<String, Json>, name: &str, line: usize) -> Result<u64> {
    field(o, name, line)?
        .as_u64()
        .ok_or_else(|| Error::InvalidValue(format!("line {line}: '{name}' is not a number")))
}

fn opt_u64(o: &serde_json::Map<String, Json>, name: &str, line: usize) -> Result<Option<u64>> {
    match o.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| Error::InvalidValue(format!("line {line}: '{name}' is not a number"))),
    }
}

fn str_field(o: &serde_json::Map<String, Json>, name: &str, line: usize) -> Result<String> {
    field(o, name, line)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::InvalidValue(format!("line {line}: '{name}' is not a string")))
}

fn opt_str(o: &serde_json::Map<String, Json>, name: &str, line: usize) -> Result<Option<String>> {
    match o.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::InvalidValue(format!(
            "line {line}: '{name}' is not a string"
        ))),
    }
}

fn parse_record(o: &serde_json::Map<String, Json>, line: usize) -> Result<DumpRecord> {
    Ok(match str_field(o, "type", line)?.as_str() {
        "version" => DumpRecord::Version(VersionInfo {
            version: u64_field(o, "version", line)?,
            timestamp: opt_str(o, "timestamp", line)?
                .map(|t| Timestamp::parse(&t))
                .transpose()?,
            user: opt_str(o, "user", line)?,
            description: opt_str(o, "description", line)?,
        }),
        "entity" => DumpRecord::Entity(Entity {
            id: EntityId(u64_field(o, "id", line)?),
            name: str_field(o, "name", line)?,
            type_name: str_field(o, "entity_type", line)?,
            driver: str_field(o, "driver", line)?,
            version: u64_field(o, "version", line)?,
            deleted_at: opt_u64(o, "deleted_at", line)?,
        }),
        "attr" => {
            let raw = field(o, "value", line)?;
            let bad = || {
                Error::InvalidValue(format!(
                    "line {line}: value {raw} does not fit its datatype"
                ))
            };
            let value = match Datatype::parse(&str_field(o, "datatype", line)?)? {
                Datatype::Int => Value::Int(raw.as_i64().ok_or_else(bad)?),
                Datatype::String if raw.is_null() => Value::Null,
                Datatype::String => Value::String(raw.as_str().ok_or_else(bad)?.to_owned()),
                Datatype::Datetime => {
                    Value::Datetime(Timestamp::parse(raw.as_str().ok_or_else(bad)?)?)
                }
                Datatype::Relation => Value::Relation(EntityId(raw.as_u64().ok_or_else(bad)?)),
                Datatype::Json => Value::json(raw.as_str().ok_or_else(bad)?)?,
            };
            DumpRecord::Attr(Attribute {
                id: AttrId(u64_field(o, "id", line)?),
                entity: EntityId(u64_field(o, "entity", line)?),
                key: str_field(o, "key", line)?,
                subkey: opt_str(o, "subkey", line)?,
                number: match o.get("number") {
                    None | Some(Json::Null) => None,
                    Some(n) => {
                        Some(n.as_i64().ok_or_else(|| {
                            Error::InvalidValue(format!("line {line}: bad number"))
                        })?)
                    }
                },
                value,
                version: u64_field(o, "version", line)?,
                deleted_at: opt_u64(o, "deleted_at", line)?,
            })
        }
        "counter" => DumpRecord::Counter {
            entity: EntityId(u64_field(o, "entity", line)?),
            key: str_field(o, "key", line)?,
            value: field(o, "value", line)?
                .as_i64()
                .ok_or_else(|| Error::InvalidValue(format!("line {line}: bad counter value")))?,
        },
        other => {
            return Err(Error::InvalidValue(format!(
                "line {line}: unknown record type '{other}'"
            )));
        }
    })
}

/// Reads a dump into `db`, which must be empty; returns the number of rows read. The
/// dump is read line by line; the rows are written in one atomic batch at the end.
pub fn import(input: impl BufRead, db: &Clusto) -> Result<usize> {
    let mut lines = input.lines().enumerate();
    let header = match lines.next() {
        Some((_, line)) => serde_json::from_str::<Json>(&line.map_err(io)?)
            .map_err(|e| Error::InvalidValue(format!("line 1 is not JSON: {e}")))?,
        None => return Err(Error::InvalidValue("the dump is empty".into())),
    };
    match header.get("clusto_dump").and_then(Json::as_u64) {
        Some(DUMP_FORMAT) => {}
        Some(other) => {
            return Err(Error::UnsupportedFormat {
                found: other as u32,
                supported: DUMP_FORMAT as u32,
            });
        }
        None => {
            return Err(Error::InvalidValue(
                "line 1 is not a clusto dump header".into(),
            ));
        }
    }
    let mut importer = db.importer()?;
    let mut rows = 0;
    for (i, line) in lines {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Json = serde_json::from_str(&line)
            .map_err(|e| Error::InvalidValue(format!("line {}: {e}", i + 1)))?;
        let object = value
            .as_object()
            .ok_or_else(|| Error::InvalidValue(format!("line {} is not an object", i + 1)))?;
        importer
            .record(parse_record(object, i + 1)?)
            .map_err(|e| Error::InvalidValue(format!("line {}: {e}", i + 1)))?;
        rows += 1;
    }
    importer.finish()?;
    Ok(rows)
}
