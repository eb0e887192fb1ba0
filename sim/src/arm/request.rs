//! The request and response types ARM handlers work with. Only this module and `http/` know
//! how they map to HTTP.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::arm::error::ArmResult;
use crate::arm::path::ArmPath;
use crate::core::error::Error;
use crate::core::ops::Injected;

/// One ARM request, parsed once.
#[derive(Debug)]
pub struct ArmRequest {
    pub method: Method,
    pub path: ArmPath,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `scheme://host[:port]` as the client addressed us; used for absolute URLs.
    pub base_url: String,
    /// Set when an `operationFailure` fault matched: the operation this request starts fails.
    pub injected_failure: Option<Injected>,
    /// The body parsed as JSON, once (`json_ref`, `take_json`).
    parsed: std::sync::OnceLock<Result<Option<serde_json::Value>, Error>>,
}

impl ArmRequest {
    pub fn new(
        method: Method,
        path: ArmPath,
        query: Vec<(String, String)>,
        headers: HeaderMap,
        body: Bytes,
        base_url: String,
    ) -> Self {
        ArmRequest {
            method,
            path,
            query,
            headers,
            body,
            base_url,
            injected_failure: None,
            parsed: std::sync::OnceLock::new(),
        }
    }

    /// A query parameter, name compared ignoring ASCII case.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn api_version(&self) -> Option<&str> {
        self.query("api-version")
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    pub fn has_body(&self) -> bool {
        !self.body.iter().all(u8::is_ascii_whitespace)
    }

    /// The JSON body, parsed on first use, or `None` when it is empty (clients send empty
    /// bodies with `Content-Type: application/json`).
    pub fn json_ref(&self) -> Result<Option<&serde_json::Value>, Error> {
        self.parsed
            .get_or_init(|| {
                if !self.has_body() {
                    return Ok(None);
                }
                serde_json::from_slice(&self.body)
                    .map(Some)
                    .map_err(|e| Error::invalid_request_content(&e.to_string()))
            })
            .as_ref()
            .map(Option::as_ref)
            .map_err(Clone::clone)
    }

    /// The parsed JSON body, taken out (a request's body is parsed once).
    pub fn take_json(&mut self) -> Result<Option<serde_json::Value>, Error> {
        self.json_ref()?;
        self.parsed.take().unwrap_or(Ok(None))
    }

    /// [`ArmRequest::json_ref`], cloned, with the wire's error.
    pub fn json_value(&self) -> ArmResult<Option<serde_json::Value>> {
        Ok(self.json_ref()?.cloned())
    }

    /// The JSON body as `T`; an empty body is an error.
    pub fn json<T: DeserializeOwned>(&mut self) -> ArmResult<T> {
        let value = self
            .take_json()?
            .ok_or_else(|| Error::invalid_request_content("The request content was empty."))?;
        serde_json::from_value(value)
            .map_err(|e| Error::invalid_request_content(&e.to_string()).into())
    }

    /// Refuses a body on requests that take none (e.g. GET with JSON, or a register POST
    /// with junk). Whitespace and `{}` are tolerated: clients send them.
    pub fn expect_no_body(&self) -> ArmResult<()> {
        match self.json_value()? {
            None => Ok(()),
            Some(serde_json::Value::Object(map)) if map.is_empty() => Ok(()),
            Some(_) => Err(Error::invalid_request_content(
                "This operation does not take a request body.",
            )
            .into()),
        }
    }

    /// The write's `If-Match` / `If-None-Match` headers.
    pub fn preconditions(&self) -> crate::core::preconditions::Preconditions {
        crate::core::preconditions::Preconditions::new(
            self.header("if-match"),
            self.header("if-none-match"),
        )
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A successful ARM response.
#[derive(Debug)]
pub struct ArmResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Bytes>,
}

impl ArmResponse {
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        ArmResponse {
            status,
            headers: Vec::new(),
            body: Some(Bytes::from(body)),
        }
    }

    pub fn ok(value: &serde_json::Value) -> Self {
        Self::json(StatusCode::OK, value)
    }

    /// Pre-serialised JSON bytes (the fast path for GETs).
    pub fn raw_json(status: StatusCode, body: Bytes) -> Self {
        ArmResponse {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn empty(status: StatusCode) -> Self {
        ArmResponse {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((HeaderName::from_static(name), v));
        }
        self
    }
}

impl IntoResponse for ArmResponse {
    fn into_response(self) -> Response {
        // The map is sized once for these and the edge's ARM headers (`http::finish`). A plain
        // JSON answer gets a map of one: the edge replaces it with a ready-made one.
        let plain_json = self.headers.is_empty() && self.body.is_some();
        let capacity = if plain_json {
            1
        } else {
            12 + self.headers.len()
        };
        let mut headers = HeaderMap::with_capacity(capacity);
        let body = match self.body {
            Some(body) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                axum::body::Body::from(body)
            }
            None => {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
                axum::body::Body::empty()
            }
        };
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = headers;
        response
    }
}
