//! Request parameters as clusto-apiserver read them: the query string and a
//! form-encoded body together, each name possibly repeated; a JSON body apart.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use serde_json::Value as Json;

use crate::reply::ApiError;
use crate::show::Mode;

/// The parameters of a request.
#[derive(Debug, Default)]
pub(crate) struct Params {
    /// Every `name=value` of the query string, then of a form body, in order.
    pairs: Vec<(String, String)>,
    /// How many of `pairs` came from the query string.
    from_query: usize,
    /// A JSON body (`Content-Type: application/json`).
    pub(crate) json: Option<Json>,
    /// The request's headers.
    pub(crate) headers: HeaderMap,
}

impl Params {
    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `name`.
    pub(crate) fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Every value of `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every parameter, in order.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Whether the query string had parameters.
    pub(crate) fn has_query(&self) -> bool {
        self.from_query > 0
    }

    /// A yes/no parameter: `false`, `no`, `0` and `off` are no; any other value yes.
    pub(crate) fn flag(&self, name: &str, default: bool) -> bool {
        match self.get(name) {
            None => default,
            Some(v) => !matches!(
                v.to_ascii_lowercase().as_str(),
                "false" | "no" | "0" | "off"
            ),
        }
    }

    /// The `Clusto-Mode` header, else `default`.
    pub(crate) fn mode(&self, default: Mode) -> Result<Mode, ApiError> {
        match self.header("clusto-mode") {
            None => Ok(default),
            Some(m) => Mode::parse(m),
        }
    }

    /// A header as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The page asked by `Clusto-Page` and `Clusto-Per-Page` (0: no paging).
    pub(crate) fn page(&self) -> Result<Page, ApiError> {
        let number = |name: &str, default: usize| -> Result<usize, ApiError> {
            match self.header(name) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| {
                    // clusto-apiserver's message, which clients may match.
                    ApiError::bad_request(format!("invalid literal for int() with base 10: '{v}'"))
                }),
            }
        };
        let page = Page {
            current: number("clusto-page", 0)?,
            per: number("clusto-per-page", 50)?,
        };
        if page.current > 0 && page.per == 0 {
            return Err(ApiError::bad_request("Clusto-Per-Page must be at least 1"));
        }
        Ok(page)
    }
}

/// A page of a listing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    /// The page, from 1; 0: the whole list.
    pub(crate) current: usize,
    /// Entries per page.
    pub(crate) per: usize,
}

impl Page {
    /// The entries of this page, and the number of pages (None without paging).
    pub(crate) fn cut<T>(self, mut items: Vec<T>) -> (Vec<T>, Option<usize>) {
        if self.current == 0 {
            return (items, None);
        }
        let total = items.len().div_ceil(self.per);
        let first = (self.current - 1).saturating_mul(self.per).min(items.len());
        let last = first.saturating_add(self.per).min(items.len());
        items.truncate(last);
        items.drain(..first);
        (items, Some(total))
    }
}

fn parse_pairs(text: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(text).into_owned().collect()
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut pairs = request
            .uri()
            .query()
            .map(|q| parse_pairs(q.as_bytes()))
            .unwrap_or_default();
        let from_query = pairs.len();
        let headers = request.headers().clone();
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = Bytes::from_request(request, state).await.map_err(|e| {
            ApiError::new(
                e.status(),
                format!("cannot read the request body: {}", e.body_text()),
            )
        })?;
        let mut json = None;
        if content_type.starts_with("application/json") {
            if !body.is_empty() {
                json = Some(serde_json::from_slice(&body).map_err(|e| {
                    ApiError::bad_request(format!("the body is not valid JSON: {e}"))
                })?);
            }
        } else if !body.is_empty() {
            pairs.extend(parse_pairs(&body));
        }
        Ok(Params {
            pairs,
            from_query,
            json,
            headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cut_like_clusto_apiserver() {
        let page = |current, per| Page { current, per };
        assert_eq!(page(1, 1).cut(vec![1, 2, 3]), (vec![1], Some(3)));
        assert_eq!(page(2, 2).cut(vec![1, 2, 3]), (vec![3], Some(2)));
        assert_eq!(page(100, 100).cut(vec![1, 2]), (vec![], Some(1)));
        assert_eq!(page(0, 50).cut(vec![1, 2]), (vec![1, 2], None));
    }
}
