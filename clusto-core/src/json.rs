//! The JSON shape of values, attributes and entities, shared by the CLI, the C ABI's
//! JSON entry point and exports, so every consumer prints the same document.
//!
//! A value is an integer, a string, `null`, an ISO datetime string, the decoded JSON
//! document, or `{"relation": "<name of the target row>"}` — the shape of the legacy
//! expected views.

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::feed::{Diff, DiffKind, VersionChanges};
use crate::records::{Attribute, Change, Entity, VersionInfo};
use crate::value::{Datatype, Timestamp, Value};
use crate::view::{ChangeDetail, View};

impl View<'_> {
    /// A value as JSON; relations name their target row.
    pub fn value_json(&self, value: &Value) -> Result<Json> {
        Ok(match value {
            Value::Int(i) => json!(i),
            Value::String(s) => json!(s),
            Value::Null => Json::Null,
            Value::Datetime(t) => json!(t.to_iso()),
            Value::Json(text) => serde_json::from_str(text)
                .map_err(|e| Error::Corrupt(format!("stored JSON {text:?} does not parse: {e}")))?,
            Value::Relation(id) => json!({ "relation": self.entity_by_id(*id)?.name }),
        })
    }

    /// A value given as text with its datatype, as a user types it: `int` parses an
    /// integer, `datetime` an ISO datetime, `json` a JSON array or object, `relation` the
    /// name of a live entity; `string` is the text itself.
    pub fn value_from_text(&self, datatype: Datatype, text: &str) -> Result<Value> {
        match datatype {
            Datatype::String => Ok(Value::String(text.to_owned())),
            Datatype::Int => text
                .trim()
                .parse()
                .map(Value::Int)
                .map_err(|_| Error::InvalidValue(format!("'{text}' is not an integer"))),
            Datatype::Datetime => Timestamp::parse(text).map(Value::Datetime),
            Datatype::Json => Value::json(text),
            Datatype::Relation => Ok(Value::Relation(self.entity(text)?.id)),
        }
    }

    /// A value read from JSON, the inverse of [`View::value_json`]: with `datatype` (the
    /// `datatype` field of [`View::attr_json`]) a value read back is the value written —
    /// a datetime's ISO string is a datetime again, a relation's name (or
    /// `{"relation": name}`) the entity. Without it: null, a boolean (0/1) or an integer,
    /// a string, `{"relation": name}`, `{"datetime": iso}`, or any other array or object
    /// as a JSON value.
    pub fn value_from_json(&self, datatype: Option<Datatype>, json: &Json) -> Result<Value> {
        let bad = |what: &str| Error::InvalidValue(format!("{json} is not {what}"));
        let integer = || match json {
            Json::Bool(b) => Ok(Value::Int(i64::from(*b))),
            Json::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .ok_or_else(|| bad("a 64-bit integer")),
            _ => Err(bad("an integer")),
        };
        let tagged = |tag: &str| match json {
            Json::Object(o) if o.len() == 1 => o.get(tag).and_then(Json::as_str),
            _ => None,
        };
        match datatype {
            Some(Datatype::Int) => integer(),
            Some(Datatype::String) => match json {
                Json::Null => Ok(Value::Null),
                Json::String(s) => Ok(Value::String(s.clone())),
                _ => Err(bad("a string")),
            },
            Some(Datatype::Datetime) => match json.as_str().or_else(|| tagged("datetime")) {
                Some(s) => Timestamp::parse(s).map(Value::Datetime),
                None => Err(bad("a datetime (an ISO string)")),
            },
            Some(Datatype::Relation) => match json.as_str().or_else(|| tagged("relation")) {
                Some(name) => Ok(Value::Relation(self.entity(name)?.id)),
                None => Err(bad("a relation (an entity's name)")),
            },
            Some(Datatype::Json) => match json {
                Json::Array(_) | Json::Object(_) => Value::json(json.to_string()),
                _ => Err(bad("a JSON array or object")),
            },
            None => match json {
                Json::Null => Ok(Value::Null),
                Json::Bool(_) | Json::Number(_) => integer(),
                Json::String(s) => Ok(Value::String(s.clone())),
                _ if tagged("relation").is_some() => {
                    self.value_from_json(Some(Datatype::Relation), json)
                }
                _ if tagged("datetime").is_some() => {
                    self.value_from_json(Some(Datatype::Datetime), json)
                }
                _ => Value::json(json.to_string()),
            },
        }
    }

    /// An attribute as `{key, subkey, number, datatype, value}`.
    pub fn attr_json(&self, a: &Attribute) -> Result<Json> {
        Ok(json!({
            "key": a.key,
            "subkey": a.subkey,
            "number": a.number,
            "datatype": a.value.datatype().as_str(),
            "value": self.value_json(&a.value)?,
        }))
    }
}

impl View<'_> {
    /// One change as `{entity, type, kind, change}`: `kind` is [`Change::kind`], `change`
    /// `{"added": attr}`,
    /// `{"deleted": attr}`, `"created"`, `"deleted"`, `{"driver_was": driver,
    /// "type_was": type}` or `{"counter": key, "value": value}`.
    pub fn change_json(&self, d: &ChangeDetail) -> Result<Json> {
        let what = match (&d.change, &d.attr) {
            (Change::AttrAdded { .. }, Some(a)) => json!({"added": self.attr_json(a)?}),
            (Change::AttrDeleted { .. }, Some(a)) => json!({"deleted": self.attr_json(a)?}),
            (Change::EntityCreated { .. }, _) => json!("created"),
            (Change::EntityDeleted { .. }, _) => json!("deleted"),
            (
                Change::DriverChanged {
                    old_type,
                    old_driver,
                    ..
                },
                _,
            ) => json!({"driver_was": old_driver, "type_was": old_type}),
            (Change::CounterSet { key, value, .. }, _) => json!({"counter": key, "value": value}),
            (Change::AttrAdded { attr, .. } | Change::AttrDeleted { attr, .. }, None) => {
                return Err(Error::Corrupt(format!(
                    "a change of version names attribute {attr:?}, which has no row"
                )));
            }
        };
        Ok(json!({
            "entity": d.entity.name,
            "type": d.entity.type_name,
            "kind": d.change.kind(),
            "change": what,
        }))
    }

    /// A version of the change feed: [`version_json`] with `changes`, a list of
    /// [`View::change_json`].
    pub fn version_changes_json(&self, v: &VersionChanges) -> Result<Json> {
        let mut out = version_json(&v.info);
        let changes = v
            .changes
            .iter()
            .map(|d| self.change_json(d))
            .collect::<Result<Vec<_>>>()?;
        out["changes"] = Json::Array(changes);
        Ok(out)
    }

    /// A diff as `{from, to, entities: [{name, kind, renamed_from, before, after, added,
    /// removed, changed}]}`: `kind` is created, deleted, renamed or changed; `before` and
    /// `after` are `{type, driver}` or null; `added` and `removed` lists of attributes;
    /// `changed` a list of `{before, after}` attributes.
    pub fn diff_json(&self, diff: &Diff) -> Result<Json> {
        let attrs = |list: &[Attribute]| {
            list.iter()
                .map(|a| self.attr_json(a))
                .collect::<Result<Vec<_>>>()
        };
        let type_driver = |t: &Option<(String, String)>| {
            t.as_ref()
                .map(|(t, d)| json!({"type": t, "driver": d}))
                .unwrap_or(Json::Null)
        };
        let mut entities = Vec::new();
        for e in &diff.entities {
            let (kind, from) = match &e.kind {
                DiffKind::Created => ("created", None),
                DiffKind::Deleted => ("deleted", None),
                DiffKind::Renamed { from } => ("renamed", Some(from)),
                DiffKind::Changed => ("changed", None),
            };
            let changed = e
                .changed
                .iter()
                .map(|(b, a)| {
                    Ok(json!({"before": self.attr_json(b)?, "after": self.attr_json(a)?}))
                })
                .collect::<Result<Vec<_>>>()?;
            entities.push(json!({
                "name": e.name,
                "kind": kind,
                "renamed_from": from,
                "before": type_driver(&e.before),
                "after": type_driver(&e.after),
                "added": attrs(&e.added)?,
                "removed": attrs(&e.removed)?,
                "changed": changed,
            }));
        }
        Ok(json!({"from": diff.from, "to": diff.to, "entities": entities}))
    }
}

/// An entity as `{name, type, driver}`.
pub fn entity_json(e: &Entity) -> Json {
    json!({ "name": e.name, "type": e.type_name, "driver": e.driver })
}

/// A version as `{version, timestamp, user, description}`.
pub fn version_json(v: &VersionInfo) -> Json {
    json!({
        "version": v.version,
        "timestamp": v.timestamp.map(|t| t.to_iso()),
        "user": v.user,
        "description": v.description,
    })
}
