//! The routes: clusto-apiserver's (lookups, `/entity`, `/attribute`,
//! `/resourcemanager`, the server's own) and ours beyond it (`/api`, `/history`,
//! `/diff`, `/watch`, `/rack/NAME.svg`).

mod attribute;
mod entity;
mod extra;
mod lookup;
mod meta;
mod resources;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::get;
use clusto_core::{Clusto, TxMeta};

use crate::AppState;
use crate::auth::Caller;
use crate::reply::{ApiError, Outcome};

/// Every route.
pub(crate) fn all() -> Router<AppState> {
    Router::new()
        .route("/", get(meta::docs).head(meta::version))
        .route("/__doc__", get(meta::docs))
        .route("/__version__", get(meta::version))
        .route("/version", get(meta::version))
        .route("/__meta__", get(meta::mounts))
        .route("/meta", get(meta::mounts))
        .route("/favicon.ico", get(meta::favicon))
        .route("/driverlist", get(meta::driverlist))
        .route("/typelist", get(meta::typelist))
        .route("/by-name/{name}", get(lookup::by_name))
        .route("/by-names", get(lookup::by_names))
        .route("/by-attr", get(lookup::by_attr))
        .route("/from-pools", get(lookup::from_pools))
        .route("/entity", get(entity::list))
        .route("/entity/{driver}", get(entity::list).post(entity::create))
        .route(
            "/entity/{driver}/{name}",
            get(entity::show)
                .post(entity::action)
                .delete(entity::delete),
        )
        .route(
            "/attribute/{name}",
            get(attribute::show).post(attribute::add),
        )
        .route(
            "/attribute/{name}/{key}",
            get(attribute::show)
                .put(attribute::set)
                .delete(attribute::delete),
        )
        .route(
            "/attribute/{name}/{key}/{subkey}",
            get(attribute::show)
                .post(attribute::add)
                .put(attribute::set)
                .delete(attribute::delete),
        )
        .route(
            "/attribute/{name}/{key}/{subkey}/{number}",
            get(attribute::show)
                .post(attribute::add)
                .put(attribute::set)
                .delete(attribute::delete),
        )
        .route("/resourcemanager", get(resources::list))
        .route(
            "/resourcemanager/{driver}",
            get(resources::list).post(resources::create),
        )
        .route(
            "/resourcemanager/{driver}/{manager}",
            get(resources::show)
                .post(resources::allocate)
                .delete(resources::deallocate),
        )
        .route("/api", axum::routing::post(extra::api))
        .route("/history", get(extra::history))
        .route("/diff", get(extra::diff))
        .route("/watch", get(extra::watch))
        .route("/rack/{file}", get(extra::rack_svg))
        .fallback(unknown_route)
        .layer(axum::middleware::from_fn(meta::answer_options))
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no route for {method} {} (see GET /__doc__)", uri.path()),
    )
}

/// Runs `work` on the database in a blocking thread; a panic in it is a 500.
pub(crate) async fn blocking(
    state: &AppState,
    work: impl FnOnce(&Clusto) -> Outcome + Send + 'static,
) -> Outcome {
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || work(&db))
        .await
        .unwrap_or_else(|e| {
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error while serving the request: {e}"),
            ))
        })
}

/// The user and description a write records: the token's name, and the request.
pub(crate) fn meta(caller: &Caller, what: String) -> TxMeta {
    TxMeta {
        user: caller.user.clone(),
        description: Some(format!("clusto serve: {what}")),
    }
}
