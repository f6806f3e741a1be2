//! Entities and attributes in clusto-apiserver's shapes: an entity is `"/driver/name"`
//! (compact) or `{name, driver, type, attrs, contents, parents, ips|count}`
//! (expanded); an attribute `{key, subkey, number, datatype, value}` whose relation
//! values are `"/driver/name"`.

use axum::http::StatusCode;
use clusto_core::drivers::{self, Behaviour};
use clusto_core::{AttrFilter, Attribute, Entity, Related, Value, View};
use serde_json::{Value as Json, json};

use crate::reply::ApiError;

/// How entities are shown (`Clusto-Mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `"/driver/name"`.
    Compact,
    /// Everything about the entity.
    Expanded,
}

impl Mode {
    /// Parses a `Clusto-Mode` header; clusto-apiserver answered 409 to a bad one.
    pub(crate) fn parse(text: &str) -> Result<Mode, ApiError> {
        match text {
            "compact" => Ok(Mode::Compact),
            "expanded" => Ok(Mode::Expanded),
            other => Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("'{other}' is not a valid mode. Please choose from: {{compact,expanded}}."),
            )),
        }
    }
}

/// `"/driver/name"`.
pub(crate) fn path(e: &Entity) -> String {
    format!("/{}/{}", e.driver, e.name)
}

/// An entity in `mode`.
pub(crate) fn entity(v: &View<'_>, e: &Entity, mode: Mode) -> Result<Json, ApiError> {
    match mode {
        Mode::Compact => Ok(json!(path(e))),
        Mode::Expanded => expanded(v, e),
    }
}

/// Entities in `mode`.
pub(crate) fn entities(v: &View<'_>, list: &[Entity], mode: Mode) -> Result<Json, ApiError> {
    list.iter()
        .map(|e| entity(v, e, mode))
        .collect::<Result<Vec<_>, _>>()
        .map(Json::Array)
}

fn paths(list: &[Entity]) -> Json {
    json!(list.iter().map(path).collect::<Vec<_>>())
}

/// Whether entities of this driver have IP addresses (the original's devices with its
/// IP mixin: every device driver but the bare `device`).
fn has_ips(e: &Entity) -> bool {
    let spec = drivers::spec_of(e);
    spec.behaviour == Behaviour::Device && spec.name != "device"
}

fn expanded(v: &View<'_>, e: &Entity) -> Result<Json, ApiError> {
    let mut out = json!({
        "name": e.name,
        "driver": e.driver,
        "type": e.type_name,
        "attrs": attrs(v, &v.attrs(e.id, &AttrFilter::any())?)?,
        "contents": paths(&v.contents(e.id, &AttrFilter::any(), &Related::direct())?),
        "parents": paths(&v.parents(e.id, &Related::direct())?),
    });
    if drivers::spec_of(e).behaviour.is_resource_manager() {
        out["count"] = json!(v.allocation_count(e.id)?);
    } else if has_ips(e) {
        out["ips"] = json!(v.ips_of(e.id)?);
    }
    Ok(out)
}

/// Attributes as a list.
pub(crate) fn attrs(v: &View<'_>, list: &[Attribute]) -> Result<Json, ApiError> {
    list.iter()
        .map(|a| attr(v, a))
        .collect::<Result<Vec<_>, _>>()
        .map(Json::Array)
}

/// One attribute.
pub(crate) fn attr(v: &View<'_>, a: &Attribute) -> Result<Json, ApiError> {
    let value = match &a.value {
        Value::Relation(id) => json!(path(&v.entity_by_id(*id)?)),
        other => v.value_json(other)?,
    };
    Ok(json!({
        "key": a.key,
        "subkey": a.subkey,
        "number": a.number,
        "datatype": a.value.datatype().as_str(),
        "value": value,
    }))
}

/// The entity `name`, checked to be of `driver` (or a driver derived from it) when one
/// is given: clusto-apiserver's lookup, with its statuses and messages (412 unknown
/// driver, 404 unknown name, 409 another driver).
pub(crate) fn lookup(v: &View<'_>, name: &str, driver: Option<&str>) -> Result<Entity, ApiError> {
    if let Some(d) = driver
        && drivers::lookup(d).is_none()
    {
        return Err(ApiError::precondition(format!(
            "The driver \"{d}\" is not a valid driver"
        )));
    }
    let e = find(v, name)?;
    if let Some(d) = driver
        && !drivers::is_a(&e.driver, d)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("The driver for object \"{name}\" is not \"{d}\""),
        ));
    }
    Ok(e)
}

/// The entity `name`; 404 in clusto-apiserver's words.
pub(crate) fn find(v: &View<'_>, name: &str) -> Result<Entity, ApiError> {
    v.find(name)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Object \"{name}\" not found ({name} does not exist.)"),
        )
    })
}
