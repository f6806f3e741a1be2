//! Attribute values and their datatypes.

use std::fmt;

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::records::EntityId;

/// A point in time without a time zone, with microsecond precision, as the original
/// clusto stored datetimes. Counted in microseconds since 1970-01-01T00:00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time (UTC).
    pub fn now() -> Self {
        Timestamp(chrono::Utc::now().timestamp_micros())
    }

    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff]`, with `T` or a space between date and time.
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(trimmed, format) {
                return Ok(Timestamp(t.and_utc().timestamp_micros()));
            }
        }
        Err(Error::InvalidValue(format!(
            "'{text}' is not a datetime (expected YYYY-MM-DDTHH:MM:SS[.ffffff])"
        )))
    }

    /// The ISO-8601 form Python's `datetime.isoformat()` gives: the fraction is
    /// left out when it is zero, else written with 6 digits.
    pub fn to_iso(self) -> String {
        match DateTime::from_timestamp_micros(self.0) {
            Some(t) if t.timestamp_subsec_micros() == 0 => {
                t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string()
            }
            Some(t) => t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            None => format!("@{}us", self.0),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso())
    }
}

/// The datatype column of the original schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Datatype {
    /// 64-bit signed integer (booleans are stored as 0/1).
    Int,
    /// Text, possibly NULL.
    String,
    /// A [`Timestamp`].
    Datetime,
    /// A reference to another entity.
    Relation,
    /// A JSON array or object, kept as text.
    Json,
}

impl Datatype {
    /// The name used by the original schema: `int`, `string`, `datetime`, `relation`, `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::Int => "int",
            Datatype::String => "string",
            Datatype::Datetime => "datetime",
            Datatype::Relation => "relation",
            Datatype::Json => "json",
        }
    }

    /// Parses a datatype name as [`Datatype::as_str`] writes it.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "int" => Datatype::Int,
            "string" => Datatype::String,
            "datetime" => Datatype::Datetime,
            "relation" => Datatype::Relation,
            "json" => Datatype::Json,
            other => {
                return Err(Error::InvalidValue(format!(
                    "unknown datatype '{other}' (expected int, string, datetime, relation or json)"
                )));
            }
        })
    }
}

impl fmt::Display for Datatype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of an attribute.
///
/// Equality is by datatype and content: the string `"1"` is not the int `1`, as in the
/// original's queries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A text.
    String(String),
    /// A string attribute whose value is NULL (the original's `None`).
    Null,
    /// A datetime.
    Datetime(Timestamp),
    /// A reference to an entity, by id.
    Relation(EntityId),
    /// A JSON array or object as compact text; build it with [`Value::json`].
    Json(String),
}

impl Value {
    /// Builds a JSON value from its text: it must be a JSON array or object, as the
    /// original stored only lists and dicts as json. The text is kept as given.
    pub fn json(text: impl Into<String>) -> Result<Self> {
        let text = text.into();
        Self::check_json(&text)?;
        Ok(Value::Json(text))
    }

    /// Checks that `text` is a JSON array or object.
    pub fn check_json(text: &str) -> Result<()> {
        let parsed: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::InvalidValue(format!("invalid JSON value {text:?}: {e}")))?;
        if !(parsed.is_array() || parsed.is_object()) {
            return Err(Error::InvalidValue(format!(
                "a json value must be an array or an object, not {text:?}"
            )));
        }
        Ok(())
    }

    /// The datatype this value is stored with (`Null` is a string, as in the original).
    pub fn datatype(&self) -> Datatype {
        match self {
            Value::Int(_) => Datatype::Int,
            Value::String(_) | Value::Null => Datatype::String,
            Value::Datetime(_) => Datatype::Datetime,
            Value::Relation(_) => Datatype::Relation,
            Value::Json(_) => Datatype::Json,
        }
    }

    /// The target of a relation value.
    pub fn as_relation(&self) -> Option<EntityId> {
        self.as_value_ref().as_relation()
    }

    /// The integer of an int value.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// A stored value read in place: its text borrowed from the record's bytes. Its variants
/// are [`Value`]'s, in the same order, so it decodes from the same stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum ValueRef<'a> {
    Int(i64),
    String(&'a str),
    Null,
    Datetime(Timestamp),
    Relation(EntityId),
    Json(&'a str),
}

impl ValueRef<'_> {
    /// The owned value.
    pub(crate) fn to_value(self) -> Value {
        match self {
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::String(s) => Value::String(s.to_owned()),
            ValueRef::Null => Value::Null,
            ValueRef::Datetime(t) => Value::Datetime(t),
            ValueRef::Relation(id) => Value::Relation(id),
            ValueRef::Json(s) => Value::Json(s.to_owned()),
        }
    }

    /// The target of a relation value.
    pub(crate) fn as_relation(self) -> Option<EntityId> {
        match self {
            ValueRef::Relation(id) => Some(id),
            _ => None,
        }
    }
}

impl Value {
    /// This value, borrowed.
    pub(crate) fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Int(i) => ValueRef::Int(*i),
            Value::String(s) => ValueRef::String(s),
            Value::Null => ValueRef::Null,
            Value::Datetime(t) => ValueRef::Datetime(*t),
            Value::Relation(id) => ValueRef::Relation(*id),
            Value::Json(s) => ValueRef::Json(s),
        }
    }
}

impl fmt::Display for Value {
    /// Integers and texts as they are, NULL as `NULL`, datetimes in ISO form, relations as
    /// `#id` (resolve the name through a view to show it), JSON as its text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::String(s) | Value::Json(s) => f.write_str(s),
            Value::Null => f.write_str("NULL"),
            Value::Datetime(t) => write!(f, "{t}"),
            Value::Relation(id) => write!(f, "{id}"),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<Timestamp> for Value {
    fn from(v: Timestamp) -> Self {
        Value::Datetime(v)
    }
}

impl From<EntityId> for Value {
    fn from(v: EntityId) -> Self {
        Value::Relation(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_must_be_array_or_object() {
        assert!(Value::json("[1, 2]").is_ok());
        assert!(Value::json("{\"a\": null}").is_ok());
        assert!(matches!(Value::json("3"), Err(Error::InvalidValue(_))));
        assert!(matches!(Value::json("{oops"), Err(Error::InvalidValue(_))));
    }

    #[test]
    fn timestamps_round_trip_in_python_isoformat() {
        let t = Timestamp::parse("2012-01-09 09:00:01").unwrap();
        assert_eq!(t.to_iso(), "2012-01-09T09:00:01");
        let t = Timestamp::parse("2012-01-09T09:00:01.000250").unwrap();
        assert_eq!(t.to_iso(), "2012-01-09T09:00:01.000250");
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn string_and_int_values_differ() {
        assert_ne!(Value::from("1"), Value::from(1));
        assert_eq!(Value::from(true), Value::Int(1));
        assert_eq!(Value::Null.datatype(), Datatype::String);
    }
}
