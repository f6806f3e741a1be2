//! `/entity`: list, create, show, delete, and insert into or remove from an entity.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use std::sync::Arc;

use clusto_core::EntityQuery;
use clusto_core::drivers::{self, DriverSpec};
use serde_json::json;

use super::lookup::paged;
use super::{blocking, meta};
use crate::AppState;
use crate::auth::Caller;
use crate::params::Params;
use crate::reply::{ApiError, Outcome, Reply};
use crate::show::{self, Mode};

/// The registered driver `driver`; clusto-apiserver's 412 (`message` names the driver)
/// when there is none.
pub(crate) fn known_driver(driver: &str, message: &str) -> Result<Arc<DriverSpec>, ApiError> {
    drivers::lookup(driver)
        .ok_or_else(|| ApiError::precondition(format!("{message} \"{driver}\" does not exist")))
}

/// `GET /entity[/DRIVER]`: every entity, or those of one driver; the parameters
/// `name`, `type` (or `clusto_types`) and `driver` (or `clusto_drivers`) narrow it.
pub(crate) async fn list(
    State(state): State<AppState>,
    driver: Option<Path<String>>,
    p: Params,
) -> Outcome {
    let mode = p.mode(Mode::Compact)?;
    let page = p.page()?;
    let mut query = EntityQuery::default();
    for (name, value) in p.pairs() {
        match name.as_str() {
            "name" | "names" => query.names.push(value.clone()),
            "type" | "clusto_types" => query.types.push(value.clone()),
            "driver" | "clusto_drivers" => query.drivers.push(value.clone()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (expected name, type or driver)"
                )));
            }
        }
    }
    if let Some(Path(driver)) = driver {
        known_driver(&driver, "The requested driver")?;
        query.drivers = vec![driver];
    }
    blocking(&state, move |db| {
        db.read(|v| {
            let found = if query == EntityQuery::default() {
                v.all_entities()?
            } else {
                v.entities(&query)?
            };
            let (list, pages) = page.cut(found);
            Ok(show::entities(v, &list, mode).map(|body| paged(Reply::ok(body), page, pages)))
        })?
    })
    .await
}

/// `POST /entity/DRIVER` with `name=N...`: creates the entities that do not exist, all
/// in one version; 201, or 202 with a `Warnings` header naming those that existed.
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(driver): Path<String>,
    p: Params,
) -> Outcome {
    known_driver(&driver, "Requested driver")?;
    let names = p.all("name");
    if names.is_empty() {
        return Err(ApiError::precondition(
            "Provide at least one name to create",
        ));
    }
    let meta = meta(&caller, format!("POST /entity/{driver}"));
    blocking(&state, move |db| {
        let (created, existed) = db.write(meta, |tx| {
            let mut shown = Vec::new();
            let mut existed = Vec::new();
            for name in &names {
                let e = match tx.view().find(name)? {
                    Some(e) => {
                        existed.push(show::path(&e));
                        e
                    }
                    None => tx.create(&driver, name, &[])?,
                };
                shown.push(show::path(&e));
            }
            Ok((shown, existed))
        })?;
        let existed = (!existed.is_empty())
            .then(|| format!("Entity(s) {} already exist(s)", existed.join(",")));
        Ok(Reply::created(json!(created), existed))
    })
    .await
}

/// `GET /entity/DRIVER/NAME`: the entity, expanded unless `Clusto-Mode: compact`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path((driver, name)): Path<(String, String)>,
    p: Params,
) -> Outcome {
    let mode = p.mode(Mode::Expanded)?;
    blocking(&state, move |db| shown(db, &name, &driver, mode)).await
}

fn shown(db: &clusto_core::Clusto, name: &str, driver: &str, mode: Mode) -> Outcome {
    db.read(|v| {
        Ok(show::lookup(v, name, Some(driver))
            .and_then(|e| show::entity(v, &e, mode).map(Reply::ok)))
    })?
}

/// `DELETE /entity/DRIVER/NAME`: 204, or 404 when there is no such entity.
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((driver, name)): Path<(String, String)>,
) -> Outcome {
    known_driver(&driver, "Requested driver")?;
    let meta = meta(&caller, format!("DELETE /entity/{driver}/{name}"));
    blocking(&state, move |db| {
        let deleted = db.write(meta, |tx| match tx.view().find(&name)? {
            Some(_) => tx.delete_entity(&name).map(|()| true),
            None => Ok(false),
        })?;
        Ok(Reply::empty(if deleted {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_FOUND
        }))
    })
    .await
}

/// `POST /entity/DRIVER/NAME` with `action=insert|remove` and `device=D...`: inserts
/// (or removes) the devices not yet in (or still in) the entity, in one version, and
/// shows the entity.
pub(crate) async fn action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((driver, name)): Path<(String, String)>,
    p: Params,
) -> Outcome {
    let devices = p.all("device");
    let insert = match p.non_empty("action") {
        None => return Err(ApiError::bad_request("Parameter 'action' is required.")),
        Some("insert") => true,
        Some("remove") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "{other} is not a valid action."
            )));
        }
    };
    let mode = p.mode(Mode::Expanded)?;
    let meta = meta(&caller, format!("POST /entity/{driver}/{name}"));
    blocking(&state, move |db| {
        let checked = db.read(|v| {
            Ok(show::lookup(v, &name, Some(&driver)).map(|container| {
                let missing: Vec<&str> = devices
                    .iter()
                    .filter(|d| v.find(d).ok().flatten().is_none())
                    .map(String::as_str)
                    .collect();
                (container, missing.join(","))
            }))
        })??;
        let (container, missing) = checked;
        if !missing.is_empty() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("Objects {missing} do not exist and cannot be used with \"{name}\""),
            ));
        }
        db.write(meta, |tx| {
            for device in &devices {
                let thing = tx.view().entity(device)?.id;
                let inside = tx.view().contains(container.id, thing)?;
                if insert && !inside {
                    tx.insert(container.id, thing)?;
                } else if !insert && inside {
                    tx.remove(container.id, thing)?;
                }
            }
            Ok(())
        })?;
        shown(db, &name, &driver, mode)
    })
    .await
}
