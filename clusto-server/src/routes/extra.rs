//! Beyond clusto-apiserver: the JSON protocol, history, diff, the change feed and rack
//! pictures.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use clusto_core::json::version_json;
use clusto_core::protocol::{self, Context};
use clusto_core::{ErrorKind, Version, VersionQuery};
use serde_json::Value as Json;
use tokio_stream::wrappers::ReceiverStream;

use super::blocking;
use crate::AppState;
use crate::auth::Caller;
use crate::params::Params;
use crate::reply::{ApiError, Outcome, Reply, status_of};

/// `POST /api`: one request of the JSON protocol (an operation, or a batch in one
/// transaction), answered `{"ok": ..., "result"|"error": ...}` with the status of the
/// error. Reads need no token; writes record the token's name as the user.
pub(crate) async fn api(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Outcome {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
    let context = Context {
        at: None,
        meta: super::meta(&caller, "POST /api".into()),
        user_fixed: true,
        read_only: caller.refused.is_some(),
    };
    let refusal = caller.refused;
    blocking(&state, move |db| {
        let outcome = protocol::run(db, &text, &context);
        let status = match &outcome {
            Ok(_) => StatusCode::OK,
            Err(e) if e.kind() == ErrorKind::ReadOnly => {
                refusal.map_or(StatusCode::FORBIDDEN, |r| r.error().status)
            }
            Err(e) => status_of(e),
        };
        Ok(Reply::new(status, protocol::response(&outcome)))
    })
    .await
}

fn version_param(p: &Params, name: &str) -> Result<Option<Version>, ApiError> {
    p.get(name)
        .map(|v| {
            v.trim().parse().map_err(|_| {
                ApiError::bad_request(format!("parameter '{name}' is not a version number: '{v}'"))
            })
        })
        .transpose()
}

/// `GET /history[?name=N&user=U&from=V&to=V]`: the versions, oldest first.
pub(crate) async fn history(State(state): State<AppState>, p: Params) -> Outcome {
    let query = VersionQuery {
        from: version_param(&p, "from")?,
        to: version_param(&p, "to")?,
        user: p.non_empty("user").map(str::to_owned),
        entity: p.non_empty("name").map(str::to_owned),
        ..Default::default()
    };
    blocking(&state, move |db| {
        let versions = db.read(|v| v.versions(&query))?;
        Ok(Reply::ok(Json::Array(
            versions.iter().map(version_json).collect(),
        )))
    })
    .await
}

/// `GET /diff?from=V[&to=V&name=N...]`: what changed between two versions.
pub(crate) async fn diff(State(state): State<AppState>, p: Params) -> Outcome {
    let Some(from) = version_param(&p, "from")? else {
        return Err(ApiError::precondition("Provide 'from', a version"));
    };
    let to = version_param(&p, "to")?;
    let names = p.all("name");
    blocking(&state, move |db| {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let body = db.read(|v| v.diff_json(&v.diff(from, to, &names)?))?;
        Ok(Reply::ok(body))
    })
    .await
}

/// How long a watcher waits for a commit before it looks whether to stop.
const WATCH_POLL: Duration = Duration::from_millis(250);

/// `GET /watch[?since=V]` (or `Last-Event-ID: V`): every version after `since` (default:
/// the latest, i.e. only what comes), then each new one as it is committed, as
/// Server-Sent Events `version` whose id is the version and data its changes.
pub(crate) async fn watch(State(state): State<AppState>, p: Params) -> Response {
    let since = match version_param(&p, "since") {
        Ok(Some(v)) => Some(v),
        Ok(None) => p
            .header("last-event-id")
            .and_then(|v| v.trim().parse().ok()),
        Err(e) => return e.into_response(),
    };
    let (events, receiver) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(64);
    let db = state.db.clone();
    let stopping = state.stopping.clone();
    tokio::task::spawn_blocking(move || {
        let send = |event: Event| events.blocking_send(Ok(event)).is_ok();
        let mut after = match since.map_or_else(|| db.latest_version(), Ok) {
            Ok(v) => v,
            Err(e) => {
                send(Event::default().event("error").data(e.to_string()));
                return;
            }
        };
        while !*stopping.borrow() && !events.is_closed() {
            let step = db
                .wait_for_version(after, Some(WATCH_POLL))
                .and_then(|latest| {
                    if latest <= after {
                        return Ok(Vec::new());
                    }
                    db.read(|v| {
                        v.changes_since(after, Some(100))?
                            .iter()
                            .map(|c| Ok((c.info.version, v.version_changes_json(c)?)))
                            .collect::<clusto_core::Result<Vec<_>>>()
                    })
                });
            match step {
                Ok(versions) => {
                    for (version, body) in versions {
                        let event = Event::default()
                            .event("version")
                            .id(version.to_string())
                            .data(body.to_string());
                        if !send(event) {
                            return;
                        }
                        after = version;
                    }
                }
                Err(e) => {
                    send(Event::default().event("error").data(e.to_string()));
                    return;
                }
            }
        }
    });
    Sse::new(ReceiverStream::new(receiver))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `GET /rack/NAME.svg`: the rack's elevation.
pub(crate) async fn rack_svg(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(rack) = file.strip_suffix(".svg").map(str::to_owned) else {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no picture '{file}': ask for /rack/NAME.svg"),
        )
        .into_response();
    };
    let picture = tokio::task::spawn_blocking(move || state.db.read(|v| v.rack_svg(&rack))).await;
    match picture {
        Ok(Ok(svg)) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Ok(Err(e)) => ApiError::from(e).into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {e}"),
        )
        .into_response(),
    }
}
