//! `/resourcemanager`: list, create and show resource managers; allocate and
//! deallocate their resources.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use clusto_core::drivers::{self, DriverSpec};
use clusto_core::{Entity, EntityQuery, NumberSpec, Value, View};
use serde_json::json;

use super::{blocking, meta};
use crate::AppState;
use crate::auth::Caller;
use crate::params::Params;
use crate::reply::{ApiError, Outcome, Reply};
use crate::show::{self, Mode};

fn is_manager(e: &Entity) -> bool {
    drivers::spec_of(e).behaviour.is_resource_manager()
}

/// `GET /resourcemanager[/DRIVER]`: every resource manager, or those of one driver.
pub(crate) async fn list(State(state): State<AppState>, driver: Option<Path<String>>) -> Outcome {
    let query = match driver {
        Some(Path(d)) => {
            if drivers::lookup(&d).is_none() {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("Not a valid driver \"{d}\" (driver name {d} doesn't exist.)"),
                ));
            }
            EntityQuery {
                drivers: vec![d],
                ..Default::default()
            }
        }
        None => EntityQuery {
            types: vec!["resourcemanager".into()],
            ..Default::default()
        },
    };
    blocking(&state, move |db| {
        let found = db.read(|v| v.entities(&query))?;
        let list: Vec<String> = found
            .iter()
            .filter(|e| is_manager(e))
            .map(show::path)
            .collect();
        Ok(Reply::ok(json!(list)))
    })
    .await
}

/// A property given as text, typed as the driver's default is (`digits=3` is an
/// integer for a name manager).
fn property_value(spec: &DriverSpec, name: &str, text: &str) -> Result<Value, ApiError> {
    match spec.property_default(name)? {
        Some(Value::Int(_)) => text.trim().parse().map(Value::Int).map_err(|_| {
            ApiError::bad_request(format!(
                "property '{name}' must be an integer, not '{text}'"
            ))
        }),
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// `POST /resourcemanager/DRIVER` with `name=N` and the driver's properties (e.g.
/// `gateway`, `netmask`, `baseip`): creates the manager (201) or finds it (202 with a
/// `Warnings` header) and shows it.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(driver): Path<String>,
    p: Params,
) -> Outcome {
    let spec = super::entity::known_driver(&driver, "Requested driver")?;
    let Some(name) = p.non_empty("name").map(str::to_owned) else {
        return Err(ApiError::precondition(
            "Provide the name of the resource manager",
        ));
    };
    let mut props = Vec::new();
    for (k, v) in p.pairs().iter().filter(|(k, _)| k != "name") {
        props.push((k.clone(), property_value(&spec, k, v)?));
    }
    let meta = meta(&caller, format!("POST /resourcemanager/{driver}"));
    blocking(&state, move |db| {
        let (e, existed) = db.write(meta, |tx| match tx.view().find(&name)? {
            Some(e) => Ok((e, true)),
            None => {
                let props: Vec<(&str, Value)> =
                    props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                Ok((tx.create(&driver, &name, &props)?, false))
            }
        })?;
        let body = db.read(|v| Ok(show::entity(v, &e, Mode::Expanded)))??;
        let existed =
            existed.then(|| format!("Resource manager \"{}\" already exists", show::path(&e)));
        Ok(Reply::created(body, existed))
    })
    .await
}

/// The resource manager `name` of `driver`, or clusto-apiserver's refusal.
fn manager(v: &View<'_>, name: &str, driver: &str) -> Result<Entity, ApiError> {
    let e = show::lookup(v, name, Some(driver))?;
    if !is_manager(&e) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("The object \"{name}\" is not a resource manager"),
        ));
    }
    Ok(e)
}

/// `GET /resourcemanager/DRIVER/NAME`: the manager, expanded.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path((driver, name)): Path<(String, String)>,
    p: Params,
) -> Outcome {
    let mode = p.mode(Mode::Expanded)?;
    blocking(&state, move |db| {
        db.read(|v| {
            Ok(manager(v, &name, &driver).and_then(|m| show::entity(v, &m, mode).map(Reply::ok)))
        })?
    })
    .await
}

/// `POST /resourcemanager/DRIVER/NAME` with `driver=D` (a new entity named by the
/// manager: `"/driver/name"`) or `object=O` (a resource for an entity: the attribute
/// recording it), and optionally `resource=R`; 201.
pub(crate) async fn allocate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((driver, name)): Path<(String, String)>,
    p: Params,
) -> Outcome {
    let new_driver = p.non_empty("driver").map(str::to_owned);
    let object = p.non_empty("object").map(str::to_owned);
    let resource = p.non_empty("resource").map(str::to_owned);
    if new_driver.is_none() && object.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Cannot allocate an empty thing, send one of \"driver\", \"object\"",
        ));
    }
    let meta = meta(&caller, format!("POST /resourcemanager/{driver}/{name}"));
    blocking(&state, move |db| {
        let not_found = |thing: &str| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("Thing was \"{thing}\" not found"),
            )
        };
        let outcome = db.write(meta, |tx| {
            let m = match manager(&tx.view(), &name, &driver) {
                Ok(m) => m,
                Err(refused) => return Ok(Err(refused)),
            };
            if let Some(d) = &new_driver {
                if drivers::lookup(d).is_none() {
                    return Ok(Err(not_found(d)));
                }
                let e = tx.allocate_entity(m.id, d, resource.as_deref())?;
                return Ok(Ok(json!(show::path(&e))));
            }
            let object = object.as_deref().unwrap_or_default();
            let Some(thing) = tx.view().find(object)? else {
                return Ok(Err(not_found(object)));
            };
            let a = tx.allocate(
                m.id,
                thing.id,
                resource.clone().map(Value::String),
                NumberSpec::Next,
                false,
            )?;
            Ok(show::attr(&tx.view(), &a))
        })?;
        outcome.map(|body| Reply::new(StatusCode::CREATED, body))
    })
    .await
}

/// `DELETE /resourcemanager/DRIVER/NAME` with `object=O` and optionally `resource=R`:
/// frees the object's resources of this manager (or that one); 204.
pub(crate) async fn deallocate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((driver, name)): Path<(String, String)>,
    p: Params,
) -> Outcome {
    let Some(object) = p.non_empty("object").map(str::to_owned) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Cannot deallocate empty, send an object to deallocate",
        ));
    };
    let resource = p.non_empty("resource").map(str::to_owned);
    let meta = meta(&caller, format!("DELETE /resourcemanager/{driver}/{name}"));
    blocking(&state, move |db| {
        let freed = db.write(meta, |tx| {
            let found = manager(&tx.view(), &name, &driver)
                .and_then(|m| Ok((m, show::find(&tx.view(), &object)?)));
            match found {
                Ok((m, thing)) => {
                    tx.deallocate(m.id, thing.id, resource.clone().map(Value::String))?;
                    Ok(Ok(()))
                }
                Err(refused) => Ok(Err(refused)),
            }
        })?;
        freed.map(|()| Reply::empty(StatusCode::NO_CONTENT))
    })
    .await
}
