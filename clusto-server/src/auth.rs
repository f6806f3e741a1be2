//! Who may write: bearer tokens from a token file, each with the name recorded as the
//! user of the versions it writes.

use std::fmt;
use std::path::Path;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clusto_core::{Error, Result};

use crate::AppState;
use crate::reply::ApiError;

/// The shortest token accepted: shorter ones are guessable.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The tokens of a token file: one `NAME TOKEN` pair per line; blank lines and lines
/// starting with `#` are skipped.
#[derive(Clone)]
pub struct Tokens {
    entries: Vec<(String, String)>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The tokens themselves never reach a log.
        let names: Vec<&str> = self.entries.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Tokens").field("names", &names).finish()
    }
}

impl Tokens {
    /// Reads a token file. Errors name the file and line, never a token.
    pub fn load(path: &Path) -> Result<Tokens> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::os(
                format_args!("cannot read the token file {}", path.display()),
                &e,
            )
        })?;
        Tokens::parse(&text).map_err(|e| match e {
            Error::InvalidValue(m) => {
                Error::InvalidValue(format!("token file {}: {m}", path.display()))
            }
            other => other,
        })
    }

    /// Parses the text of a token file.
    pub fn parse(text: &str) -> Result<Tokens> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |what: &str| Error::InvalidValue(format!("line {}: {what}", i + 1));
            let mut fields = line.split_whitespace();
            let (Some(name), Some(token), None) = (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad("expected two fields, NAME TOKEN"));
            };
            if token.chars().count() < MIN_TOKEN_CHARS {
                return Err(bad(&format!(
                    "the token of '{name}' is shorter than {MIN_TOKEN_CHARS} characters"
                )));
            }
            if entries.iter().any(|(_, t)| t == token) {
                return Err(bad(&format!("the token of '{name}' is used twice")));
            }
            entries.push((name.to_owned(), token.to_owned()));
        }
        if entries.is_empty() {
            return Err(Error::InvalidValue("it has no tokens".into()));
        }
        Ok(Tokens { entries })
    }

    /// The name of the token `given`, compared in constant time.
    pub fn name_of(&self, given: &str) -> Option<&str> {
        let mut found = None;
        for (name, token) in &self.entries {
            if constant_time_eq::constant_time_eq(token.as_bytes(), given.as_bytes()) {
                found = Some(name.as_str());
            }
        }
        found
    }
}

/// Who sent a request, as the routes see it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Caller {
    /// The token's name; `None` without a token.
    pub(crate) user: Option<String>,
    /// Why this caller may not write; `None` when it may.
    pub(crate) refused: Option<Refusal>,
}

/// Why a caller may not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The server runs with `--read-only`.
    ReadOnlyServer,
    /// The server has no token file.
    NoTokens,
    /// No token was given.
    NoToken,
}

impl Refusal {
    /// The answer to a write this refusal forbids.
    pub(crate) fn error(self) -> ApiError {
        match self {
            Refusal::ReadOnlyServer => ApiError::new(
                StatusCode::FORBIDDEN,
                "this server is read-only (--read-only): writes are refused",
            ),
            Refusal::NoTokens => ApiError::new(
                StatusCode::FORBIDDEN,
                "this server has no --token-file: writes are refused",
            ),
            Refusal::NoToken => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "writes need a token: send 'Authorization: Bearer TOKEN'",
            ),
        }
    }
}

fn bearer(headers: &HeaderMap) -> std::result::Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| Some(t.trim()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the Authorization header must be 'Bearer TOKEN'",
            )
        })
}

/// Whether `method` changes data on the compatible routes (`POST /api` decides by its
/// operation instead).
fn writes(method: &Method, path: &str) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) && path != "/api"
}

/// Identifies the caller from its token, refuses writes it may not make, and hands the
/// [`Caller`] to the routes.
pub(crate) async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let tokens = state.config.tokens.as_ref();
    let caller = match bearer(request.headers()) {
        Err(e) => return unauthorized(e),
        Ok(Some(token)) => match tokens.and_then(|t| t.name_of(token)) {
            Some(name) => Caller {
                user: Some(name.to_owned()),
                refused: state.config.read_only.then_some(Refusal::ReadOnlyServer),
            },
            None if tokens.is_none() => Caller {
                user: None,
                refused: Some(Refusal::NoTokens),
            },
            None => {
                return unauthorized(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "the token is not valid",
                ));
            }
        },
        Ok(None) => Caller {
            user: None,
            refused: Some(if state.config.read_only {
                Refusal::ReadOnlyServer
            } else if tokens.is_none() {
                Refusal::NoTokens
            } else {
                Refusal::NoToken
            }),
        },
    };
    if let Some(refusal) = caller.refused
        && writes(request.method(), request.uri().path())
    {
        let mut response = match refusal {
            Refusal::NoToken => unauthorized(refusal.error()),
            _ => refusal.error().into_response(),
        };
        response.extensions_mut().insert(caller);
        return response;
    }
    request.extensions_mut().insert(caller.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(caller);
    response
}

fn unauthorized(e: ApiError) -> Response {
    let mut response = e.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_names_its_tokens() {
        let t =
            Tokens::parse("# ops\nalice 0123456789abcdef0\n\nci   fedcba98765432100\n").unwrap();
        assert_eq!(t.name_of("0123456789abcdef0"), Some("alice"));
        assert_eq!(t.name_of("fedcba98765432100"), Some("ci"));
        assert_eq!(t.name_of("0123456789abcdef"), None);
        assert!(!format!("{t:?}").contains("0123"), "no token in Debug");
    }

    #[test]
    fn bad_token_files_name_the_line_not_the_token() {
        for (text, needle) in [
            ("alice", "line 1: expected two fields"),
            ("alice tiny12", "shorter than 16"),
            (
                "a 0123456789abcdefX\nb 0123456789abcdefX",
                "line 2: the token of 'b' is used twice",
            ),
            ("# nothing\n", "no tokens"),
        ] {
            let e = Tokens::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
            assert!(
                !e.contains("0123456789abcdefX") && !e.contains("tiny12"),
                "{e}"
            );
        }
    }
}
