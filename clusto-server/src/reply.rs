//! Responses: JSON as clusto-apiserver wrote it (sorted keys, indented by four unless
//! `Clusto-Minify: true`), and errors as a JSON string with the status that says what
//! went wrong.

use std::io;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clusto_core::{Error, ErrorKind};
use serde_json::Value as Json;
use serde_json::ser::{Formatter, PrettyFormatter, Serializer};

/// A failed request: its status and a message naming what was wrong.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: the request is malformed.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 412: a required parameter is missing or names nothing known (clusto-apiserver's
    /// status for both).
    pub(crate) fn precondition(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, message)
    }
}

/// The HTTP status of a core error.
pub(crate) fn status_of(e: &Error) -> StatusCode {
    match e.kind() {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidName | ErrorKind::InvalidValue | ErrorKind::InvalidResource => {
            StatusCode::BAD_REQUEST
        }
        ErrorKind::AlreadyExists
        | ErrorKind::TypeMismatch
        | ErrorKind::ResourceUnavailable
        | ErrorKind::Ambiguous
        | ErrorKind::Conflict
        | ErrorKind::PoolRule
        | ErrorKind::Port => StatusCode::CONFLICT,
        ErrorKind::ReadOnly => StatusCode::FORBIDDEN,
        ErrorKind::Locked | ErrorKind::Io => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::new(status_of(&e), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Reply::new(self.status, Json::String(self.message)).into_response()
    }
}

/// What a route returns.
pub(crate) type Outcome = Result<Reply, ApiError>;

/// A JSON reply.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    /// `None`: no body and no content type (a 204, or clusto-apiserver's bare 404).
    pub(crate) body: Option<Json>,
    pub(crate) headers: Vec<(HeaderName, String)>,
}

impl Reply {
    /// A reply with this status and body.
    pub(crate) fn new(status: StatusCode, body: Json) -> Self {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    /// A reply with this status and no body.
    pub(crate) fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    /// 200 with this body.
    pub(crate) fn ok(body: Json) -> Self {
        Self::new(StatusCode::OK, body)
    }

    /// 201 with `body`, or 202 with a `Warnings` header when `existed` says what was
    /// already there (clusto-apiserver's answer to a create).
    pub(crate) fn created(body: Json, existed: Option<String>) -> Self {
        match existed {
            None => Self::new(StatusCode::CREATED, body),
            Some(warning) => Self::new(StatusCode::ACCEPTED, body).header("warnings", warning),
        }
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers
            .push((HeaderName::from_static(name), value.to_string()));
        self
    }
}

/// Whether the request asks for unindented JSON.
pub(crate) fn wants_minified(headers: &HeaderMap) -> bool {
    headers
        .get("clusto-minify")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        // The body is rendered by `render` once the request's Clusto-Minify is known
        // (see `log::access_log`); here it travels as an extension.
        let mut response = (self.status, ()).into_response();
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, v);
            }
        }
        if let Some(body) = self.body {
            response.extensions_mut().insert(Pending(sorted(body)));
        }
        response
    }
}

/// A JSON body still to render.
#[derive(Debug, Clone)]
pub(crate) struct Pending(pub(crate) Json);

/// Renders a pending JSON body into `response`.
pub(crate) fn render(response: &mut Response, minify: bool) {
    let Some(Pending(body)) = response.extensions_mut().remove::<Pending>() else {
        return;
    };
    let text = if minify {
        to_text(&body, SpacedCompact)
    } else {
        to_text(&body, PrettyFormatter::with_indent(b"    "))
    };
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    *response.body_mut() = axum::body::Body::from(text);
}

fn to_text(body: &Json, formatter: impl Formatter) -> String {
    let mut out = Vec::new();
    let mut ser = Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(body, &mut ser).expect("a JSON value serializes");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Keys in sorted order at every level, as clusto-apiserver's `sort_keys=True` (the
/// workspace's serde_json keeps insertion order).
fn sorted(value: Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Python's `json.dumps` without indentation: `", "` between items, `": "` after keys.
struct SpacedCompact;

impl Formatter for SpacedCompact {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minified_json_is_spaced_like_python_and_keys_are_sorted() {
        let body = sorted(json!({"b": [1, 2], "a": {"y": null, "x": "s"}}));
        assert_eq!(
            to_text(&body, SpacedCompact),
            r#"{"a": {"x": "s", "y": null}, "b": [1, 2]}"#
        );
        assert_eq!(
            to_text(&json!(["/pool/p"]), PrettyFormatter::with_indent(b"    ")),
            "[\n    \"/pool/p\"\n]"
        );
    }
}
