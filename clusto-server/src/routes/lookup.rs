//! The main lookups: by name, by names, by attribute, from pools.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use clusto_core::{AttrFilter, Related, SubkeyMatch, TextMatch};
use serde_json::Value as Json;

use super::blocking;
use crate::AppState;
use crate::params::Params;
use crate::reply::{ApiError, Outcome, Reply};
use crate::show::{self, Mode};

/// `GET /by-name/NAME[?driver=D]`: the entity, expanded unless `Clusto-Mode: compact`.
pub(crate) async fn by_name(
    State(state): State<AppState>,
    Path(name): Path<String>,
    p: Params,
) -> Outcome {
    let mode = p.mode(Mode::Expanded)?;
    let driver = p.non_empty("driver").map(str::to_owned);
    blocking(&state, move |db| {
        db.read(|v| {
            Ok(show::lookup(v, &name, driver.as_deref())
                .and_then(|e| show::entity(v, &e, mode).map(Reply::ok)))
        })?
    })
    .await
}

/// `GET /by-names?name=A&name=B`: each entity or null; 206 when some are missing, 404
/// when all are.
pub(crate) async fn by_names(State(state): State<AppState>, p: Params) -> Outcome {
    let names = p.all("name");
    if names.is_empty() {
        return Err(ApiError::precondition(
            "Provide at least one name to get data from",
        ));
    }
    let mode = p.mode(Mode::Compact)?;
    blocking(&state, move |db| {
        db.read(|v| {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let found = v.entities_by_names(&refs)?;
            let shown = found
                .iter()
                .map(|e| match e {
                    Some(e) => show::entity(v, e, mode),
                    None => Ok(Json::Null),
                })
                .collect::<Result<Vec<_>, _>>();
            Ok(shown.map(|list| {
                let present = found.iter().filter(|e| e.is_some()).count();
                let status = match present {
                    n if n == found.len() => StatusCode::OK,
                    0 => StatusCode::NOT_FOUND,
                    _ => StatusCode::PARTIAL_CONTENT,
                };
                Reply::new(status, Json::Array(list))
            }))
        })?
    })
    .await
}

/// `GET /by-attr?key=K[&subkey=S&value=V]`: entities with a matching attribute. A value
/// matches an attribute whose value reads as that text, whatever its datatype.
pub(crate) async fn by_attr(State(state): State<AppState>, p: Params) -> Outcome {
    let Some(key) = p.non_empty("key").map(str::to_owned) else {
        return Err(ApiError::precondition("Provide a key to use get_by_attr"));
    };
    let subkey = p.non_empty("subkey").map(str::to_owned);
    let value = p.non_empty("value").map(str::to_owned);
    let mode = p.mode(Mode::Compact)?;
    blocking(&state, move |db| {
        db.read(|v| {
            let filter = AttrFilter {
                key: Some(TextMatch::Exact(key)),
                subkey: subkey.map_or(SubkeyMatch::Any, |s| SubkeyMatch::Is(TextMatch::Exact(s))),
                ..AttrFilter::any()
            };
            let mut seen = HashSet::new();
            let mut owners = Vec::new();
            for a in v.attr_query(&filter)? {
                let matches = match &value {
                    None => true,
                    Some(text) => {
                        let shown = match v.value_json(&a.value)? {
                            Json::String(s) => s,
                            other => other.to_string(),
                        };
                        shown == *text
                    }
                };
                if matches && seen.insert(a.entity) {
                    owners.push(a.entity);
                }
            }
            let list = v.entities_by_ids(&owners)?;
            Ok(show::entities(v, &list, mode).map(Reply::ok))
        })?
    })
    .await
}

/// `GET /from-pools?pool=P[&pool=Q&type=T&driver=D&children=false]`: the entities in
/// every pool given, by default at any depth.
pub(crate) async fn from_pools(State(state): State<AppState>, p: Params) -> Outcome {
    let pools = p.all("pool");
    if pools.is_empty() {
        return Err(ApiError::precondition(
            "Provide at least one pool to get data from",
        ));
    }
    let page = p.page()?;
    let mode = p.mode(Mode::Compact)?;
    let related = Related {
        types: p.all("type"),
        drivers: p.all("driver"),
        recursive: p.flag("children", true),
    };
    blocking(&state, move |db| {
        db.read(|v| {
            let mut ids = Vec::with_capacity(pools.len());
            for pool in &pools {
                match show::find(v, pool) {
                    Ok(e) => ids.push(e.id),
                    Err(e) => return Ok(Err(e)),
                }
            }
            let (list, pages) = page.cut(v.from_pools(&ids, &related)?);
            Ok(show::entities(v, &list, mode).map(|body| paged(Reply::ok(body), page, pages)))
        })?
    })
    .await
}

/// Adds the paging headers to a paged listing.
pub(crate) fn paged(reply: Reply, page: crate::params::Page, pages: Option<usize>) -> Reply {
    match pages {
        None => reply,
        Some(total) => reply
            .header("clusto-pages", total)
            .header("clusto-per-page", page.per)
            .header("clusto-page", page.current),
    }
}
