//! The outer layer of every request: renders its JSON body, adds the configured
//! response headers, and writes one access-log line (method, path, status, duration,
//! user — never a query string, a header or a body, where secrets travel).

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::auth::Caller;
use crate::reply::{render, wants_minified};

/// Renders, decorates and logs one request.
pub(crate) async fn access_log(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let minify = wants_minified(request.headers());
    let mut response = next.run(request).await;
    render(&mut response, minify);
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("clusto-minify"),
        HeaderValue::from_static(if minify { "True" } else { "False" }),
    );
    for (name, value) in &state.config.response_headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            headers.entry(name).or_insert(value);
        }
    }
    if state.config.access_log {
        let user = response
            .extensions()
            .get::<Caller>()
            .and_then(|c| c.user.clone())
            .unwrap_or_else(|| "-".into());
        eprintln!(
            "{} {method} {path} {} {:.1}ms user={user}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            response.status().as_u16(),
            start.elapsed().as_secs_f64() * 1000.0,
        );
    }
    response
}
