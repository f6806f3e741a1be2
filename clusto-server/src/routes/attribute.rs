//! `/attribute/NAME[/KEY[/SUBKEY[/NUMBER]]]`: show, add, set and delete attributes.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use clusto_core::{
    AttrFilter, Clusto, NewAttr, NumberMatch, NumberSpec, SubkeyMatch, TextMatch, Timestamp, Value,
    View,
};
use serde_json::{Map, Value as Json};

use super::{blocking, meta};
use crate::AppState;
use crate::auth::Caller;
use crate::params::Params;
use crate::reply::{ApiError, Outcome, Reply};
use crate::show;

/// The parts of an attribute named in the URL.
#[derive(Debug, Default)]
struct Selector {
    name: String,
    key: Option<String>,
    subkey: Option<String>,
    number: Option<i64>,
}

impl Selector {
    fn from_path(mut path: HashMap<String, String>) -> Result<Selector, ApiError> {
        let number = path
            .remove("number")
            .map(|n| {
                n.parse().map_err(|_| {
                    ApiError::bad_request(format!("the attribute number '{n}' is not an integer"))
                })
            })
            .transpose()?;
        Ok(Selector {
            name: path.remove("name").unwrap_or_default(),
            key: path.remove("key"),
            subkey: path.remove("subkey"),
            number,
        })
    }

    fn filter(&self) -> AttrFilter {
        AttrFilter {
            key: self.key.clone().map(TextMatch::Exact),
            subkey: self
                .subkey
                .clone()
                .map_or(SubkeyMatch::Any, |s| SubkeyMatch::Is(TextMatch::Exact(s))),
            number: self.number.map_or(NumberMatch::Any, NumberMatch::Is),
            ..AttrFilter::any()
        }
    }
}

/// Every attribute of the entity, as the write routes answer.
fn all_attrs(v: &View<'_>, name: &str) -> Result<Json, ApiError> {
    let e = show::find(v, name)?;
    show::attrs(v, &v.attrs(e.id, &AttrFilter::any())?)
}

/// `GET /attribute/NAME[/KEY[/SUBKEY[/NUMBER]]][?driver=D]`: the matching attributes.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(path): Path<HashMap<String, String>>,
    p: Params,
) -> Outcome {
    let selector = Selector::from_path(path)?;
    let driver = p.non_empty("driver").map(str::to_owned);
    blocking(&state, move |db| {
        db.read(|v| {
            Ok(show::lookup(v, &selector.name, driver.as_deref())
                .and_then(|e| show::attrs(v, &v.attrs(e.id, &selector.filter())?).map(Reply::ok)))
        })?
    })
    .await
}

/// `POST /attribute/NAME[/KEY/SUBKEY[/NUMBER]]`: adds attributes (201).
pub(crate) async fn add(
    state: State<AppState>,
    caller: Extension<Caller>,
    path: Path<HashMap<String, String>>,
    p: Params,
) -> Outcome {
    write(state, caller, path, p, false).await
}

/// `PUT /attribute/NAME/KEY[/SUBKEY[/NUMBER]]`: sets attributes, replacing those with
/// the same key, subkey and number (200).
pub(crate) async fn set(
    state: State<AppState>,
    caller: Extension<Caller>,
    path: Path<HashMap<String, String>>,
    p: Params,
) -> Outcome {
    write(state, caller, path, p, true).await
}

/// One attribute of a write, as sent: text from a form, or JSON values.
type Fields = Map<String, Json>;

/// The attributes a write request describes: the parameters merged with the URL's
/// parts, or a JSON object or list of objects.
fn requested(selector: &Selector, p: &Params) -> Result<Vec<Fields>, ApiError> {
    let mut fields = Fields::new();
    for (part, value) in [
        ("key", selector.key.clone()),
        ("subkey", selector.subkey.clone()),
        ("number", selector.number.map(|n| n.to_string())),
    ] {
        if let Some(value) = value {
            fields.insert(part.into(), Json::String(value));
        }
    }
    for (name, value) in p.pairs() {
        if name == "driver" {
            continue;
        }
        match fields.get(name) {
            Some(Json::String(given)) if given != value => {
                return Err(ApiError::bad_request(format!(
                    "Two different values were submitted for \"{name}\": [{given:?}, {value:?}]"
                )));
            }
            _ => {
                fields.insert(name.clone(), Json::String(value.clone()));
            }
        }
    }
    let Some(body) = &p.json else {
        return Ok(vec![fields]);
    };
    if p.has_query() {
        return Err(ApiError::bad_request(
            "Error: json and query params may not be passed in the same request.",
        ));
    }
    match body {
        Json::Object(o) => Ok(vec![o.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|i| {
                i.as_object().cloned().ok_or_else(|| {
                    ApiError::bad_request("each attribute of a JSON list must be an object")
                })
            })
            .collect(),
        _ => Err(ApiError::bad_request(
            "the JSON body must be an attribute object or a list of them",
        )),
    }
}

fn text_of(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Python's strptime directives in chrono's words: `%f` is six digits of microseconds.
fn chrono_mask(mask: &str) -> String {
    mask.replace("%f", "%6f")
}

/// A value with its `datatype` (clusto-apiserver's typecast): int, string, datetime
/// (by `mask`), relation (`/driver/name`) or json.
fn typecast(v: &View<'_>, value: &Json, datatype: &str, mask: &str) -> Result<Value, ApiError> {
    let text = text_of(value);
    let cast_error = |e: &dyn std::fmt::Display| {
        ApiError::bad_request(format!("Error casting {text} into a(n) {datatype}: {e}"))
    };
    match datatype {
        "int" => text
            .trim()
            .parse()
            .map(Value::Int)
            .map_err(|e| cast_error(&e)),
        "string" => Ok(Value::String(text.clone())),
        "datetime" => {
            let t = NaiveDateTime::parse_from_str(&text, &chrono_mask(mask))
                .map_err(|e| cast_error(&e))?;
            Ok(Value::Datetime(Timestamp(t.and_utc().timestamp_micros())))
        }
        "relation" => {
            let mut parts = text.splitn(3, '/');
            let (Some(""), Some(driver), Some(name)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(cast_error(&"a relation is written /driver/name"));
            };
            Ok(Value::Relation(show::lookup(v, name, Some(driver))?.id))
        }
        "json" => {
            let parsed: Json = serde_json::from_str(&text).map_err(|e| cast_error(&e))?;
            Value::json(parsed.to_string()).map_err(ApiError::from)
        }
        other => Err(ApiError::bad_request(format!(
            "{other} is not a valid datatype. datatypes include: ('int', 'string', 'datetime', 'relation', 'json')"
        ))),
    }
}

/// The attribute one set of fields describes.
fn new_attr(v: &View<'_>, fields: &Fields) -> Result<NewAttr, ApiError> {
    let (Some(key), Some(value)) = (fields.get("key"), fields.get("value")) else {
        return Err(ApiError::precondition(
            "Provide at least \"key\" and \"value\"",
        ));
    };
    let number = match fields.get("number") {
        None | Some(Json::Null) => NumberSpec::None,
        Some(n) => NumberSpec::Exact(
            text_of(n)
                .trim()
                .parse()
                .map_err(|_| ApiError::bad_request(format!("the number {n} is not an integer")))?,
        ),
    };
    let value = match fields.get("datatype") {
        Some(datatype) => {
            let mask = fields
                .get("mask")
                .map_or_else(|| "%Y-%m-%dT%H:%M:%S.%f".to_owned(), text_of);
            typecast(v, value, &text_of(datatype), &mask)?
        }
        None => v.value_from_json(None, value)?,
    };
    Ok(NewAttr {
        key: text_of(key),
        subkey: fields.get("subkey").filter(|s| !s.is_null()).map(text_of),
        number,
        value,
    })
}

async fn write(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<HashMap<String, String>>,
    p: Params,
    replace: bool,
) -> Outcome {
    let selector = Selector::from_path(path)?;
    let requested = requested(&selector, &p)?;
    let driver = p.non_empty("driver").map(str::to_owned);
    let method = if replace { "PUT" } else { "POST" };
    let meta = meta(&caller, format!("{method} /attribute/{}", selector.name));
    blocking(&state, move |db: &Clusto| {
        let name = selector.name;
        let written = db.write(meta, |tx| {
            let e = match show::lookup(&tx.view(), &name, driver.as_deref()) {
                Ok(e) => e,
                Err(refused) => return Ok(Err(refused)),
            };
            // Every attribute is checked before any is written.
            let mut attrs = Vec::with_capacity(requested.len());
            for fields in &requested {
                match new_attr(&tx.view(), fields) {
                    Ok(a) => attrs.push(a),
                    Err(refused) => return Ok(Err(refused)),
                }
            }
            for attr in attrs {
                if replace {
                    tx.set_attr(e.id, attr)?;
                } else {
                    tx.add_attr(e.id, attr)?;
                }
            }
            Ok(Ok(()))
        })?;
        written?;
        let status = if replace {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        db.read(|v| Ok(all_attrs(v, &name).map(|body| Reply::new(status, body))))?
    })
    .await
}

/// `DELETE /attribute/NAME/KEY[/SUBKEY[/NUMBER]]`: deletes the matching attributes and
/// gives those left.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<HashMap<String, String>>,
    p: Params,
) -> Outcome {
    let selector = Selector::from_path(path)?;
    let driver = p.non_empty("driver").map(str::to_owned);
    let meta = meta(&caller, format!("DELETE /attribute/{}", selector.name));
    blocking(&state, move |db| {
        let done = db.write(meta, |tx| {
            Ok(
                match show::lookup(&tx.view(), &selector.name, driver.as_deref()) {
                    Ok(e) => tx.delete_attrs(e.id, &selector.filter()).map(|_| Ok(()))?,
                    Err(refused) => Err(refused),
                },
            )
        })?;
        done?;
        db.read(|v| Ok(all_attrs(v, &selector.name).map(Reply::ok)))?
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_mask_reads_microseconds() {
        let t = NaiveDateTime::parse_from_str(
            "1991-07-09T14:46:51.321435",
            &chrono_mask("%Y-%m-%dT%H:%M:%S.%f"),
        )
        .unwrap();
        assert_eq!(
            Timestamp(t.and_utc().timestamp_micros()).to_iso(),
            "1991-07-09T14:46:51.321435"
        );
    }
}
