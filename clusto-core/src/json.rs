//! The JSON shape of values, attributes and entities, shared by the CLI, the C ABI's
//! JSON entry point and exports, so every consumer prints the same document.
//!
//! A value is an integer, a string, `null`, an ISO datetime string, the decoded JSON
//! document, or `{"relation": "<name of the target row>"}` — the shape of the legacy
//! expected views.

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::records::{Attribute, Entity, VersionInfo};
use crate::value::{Datatype, Timestamp, Value};
use crate::view::View;

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
