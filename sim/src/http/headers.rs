//! The response headers the edge adds: ARM's (request and correlation ids, `Date` from the
//! virtual clock, the cache headers, the client's request id) on ARM answers, and
//! kube-apiserver's (`Audit-Id`, `Date`, `Cache-Control`) on the clusters' Kubernetes answers.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

use crate::clock::http_date_secs;
use crate::state::AppState;

/// Response headers whose names are fixed: parsed once, at compile time.
pub(super) const X_MS_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
pub(super) const X_MS_CORRELATION_REQUEST_ID: HeaderName =
    HeaderName::from_static("x-ms-correlation-request-id");
pub(super) const X_MS_ROUTING_REQUEST_ID: HeaderName =
    HeaderName::from_static("x-ms-routing-request-id");
pub(super) const X_MS_CLIENT_REQUEST_ID: HeaderName =
    HeaderName::from_static("x-ms-client-request-id");

/// One request's ids: the request id (formatted once, also as the routing id) and the
/// client's ids as they came.
pub(super) struct RequestIds {
    pub(super) request_id: uuid::Uuid,
    /// `AKSIM:{request id}`: the routing id, and after the prefix the request id.
    routing: [u8; ROUTING_LEN],
    /// The client's `x-ms-correlation-request-id` when usable (else the request id stands in).
    client_correlation: Option<HeaderValue>,
    pub(super) client_request_id: Option<HeaderValue>,
}

/// The routing id's prefix: the "region" of `x-ms-routing-request-id`.
const ROUTING_PREFIX: &[u8] = b"AKSIM:";
const ROUTING_LEN: usize = ROUTING_PREFIX.len() + uuid::fmt::Hyphenated::LENGTH;

impl RequestIds {
    pub(super) fn new(state: &AppState, headers: &HeaderMap) -> Self {
        let request_id = state.core.ids.uuid();
        // One pass over the few headers a request has, instead of two hashed lookups.
        let (mut correlation, mut client_request_id) = (None, None);
        for (name, value) in headers {
            if correlation.is_none() && name == X_MS_CORRELATION_REQUEST_ID {
                correlation = Some(value);
            } else if client_request_id.is_none() && name == X_MS_CLIENT_REQUEST_ID {
                client_request_id = Some(value);
            }
        }
        let mut routing = [0u8; ROUTING_LEN];
        routing[..ROUTING_PREFIX.len()].copy_from_slice(ROUTING_PREFIX);
        request_id
            .hyphenated()
            .encode_lower(&mut routing[ROUTING_PREFIX.len()..]);
        RequestIds {
            request_id,
            routing,
            client_correlation: usable_client_id(correlation),
            client_request_id: usable_client_id(client_request_id),
        }
    }

    /// The request id as text (lower-case hyphenated).
    fn request_id_text(&self) -> &[u8] {
        &self.routing[ROUTING_PREFIX.len()..]
    }

    /// The client's correlation id, if it sent a usable one.
    pub(super) fn client_correlation(&self) -> Option<&HeaderValue> {
        self.client_correlation.as_ref()
    }

    /// The correlation id ARM answers: the client's, else the request id.
    pub(super) fn correlation_str(&self) -> &str {
        match &self.client_correlation {
            Some(value) => value.to_str().unwrap_or_default(),
            None => std::str::from_utf8(self.request_id_text()).unwrap_or_default(),
        }
    }

    /// The three id headers: request, correlation and routing ids.
    fn header_values(&self) -> [HeaderValue; 3] {
        let correlation = match &self.client_correlation {
            Some(client) => client.clone(),
            None => self.request_id_value(),
        };
        [
            self.request_id_value(),
            correlation,
            id_value(&self.routing),
        ]
    }

    fn request_id_value(&self) -> HeaderValue {
        id_value(self.request_id_text())
    }
}

/// An id (ASCII by construction) as a header value.
fn id_value(id: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(id).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A client's id header when usable: printable ASCII, not empty, at most 256 bytes.
fn usable_client_id(value: Option<&HeaderValue>) -> Option<HeaderValue> {
    value
        .filter(|v| v.to_str().is_ok() && !v.is_empty() && v.len() <= 256)
        .cloned()
}

/// The `Date` header for `secs` (Unix seconds), formatted once per second (per worker thread).
fn date_header(secs: i64) -> Option<HeaderValue> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(i64, HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((at, value)) = last.as_ref() {
            if *at == secs {
                return Some(value.clone());
            }
        }
        let value = HeaderValue::from_str(&http_date_secs(secs)).ok()?;
        *last = Some((secs, value.clone()));
        Some(value)
    })
}

/// ARM's response headers, in ARM's order: request and correlation ids, `Date` (`now_secs`,
/// Unix seconds of the virtual clock), the cache headers, and the client's request id when it
/// sent one. They go after the handler's own; where both name a header, the edge's value wins.
pub(super) fn finish(mut response: Response, ids: &RequestIds, now_secs: i64) -> Response {
    if is_plain_json(response.headers()) {
        *response.headers_mut() = plain_json_headers(ids, now_secs);
        return response;
    }
    let [request_id, correlation, routing_id] = ids.header_values();
    let headers = response.headers_mut();
    // Room for all of them at once (growing the map one insert at a time rehashes it twice).
    headers.reserve(8);
    headers.insert(X_MS_REQUEST_ID, request_id);
    headers.insert(X_MS_CORRELATION_REQUEST_ID, correlation);
    headers.insert(X_MS_ROUTING_REQUEST_ID, routing_id);
    headers.insert(header::DATE, date_or_epoch(now_secs));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("-1"));
    if let Some(id) = &ids.client_request_id {
        headers.insert(X_MS_CLIENT_REQUEST_ID, id.clone());
    }
    response
}

/// A 200 with a JSON body and ARM's headers, as [`finish`] makes of a handler's plain JSON
/// answer (the cluster-GET fast path builds its answer here, with no handler map to replace).
pub(super) fn json_ok(body: Bytes, ids: &RequestIds, now_secs: i64) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.headers_mut() = plain_json_headers(ids, now_secs);
    response
}

/// ARM's headers on a plain JSON answer: a clone of a ready map, filled by position (no name
/// is hashed; inserting each header costs three times as much).
fn plain_json_headers(ids: &RequestIds, now_secs: i64) -> HeaderMap {
    let mut headers = json_template(ids.client_request_id.is_some()).clone();
    let [request_id, correlation, routing_id] = ids.header_values();
    let fresh = [request_id, correlation, routing_id, date_or_epoch(now_secs)];
    // Position 0 is the content type, then the fresh values in template order.
    for (slot, value) in headers.values_mut().skip(1).zip(fresh) {
        *slot = value;
    }
    if let (Some(id), Some(slot)) = (&ids.client_request_id, headers.values_mut().last()) {
        *slot = id.clone();
    }
    headers
}

fn date_or_epoch(now_secs: i64) -> HeaderValue {
    date_header(now_secs)
        .unwrap_or_else(|| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

/// kube-apiserver's response headers on a cluster's Kubernetes answer: `Audit-Id` (the
/// request id), `Cache-Control` and `Date` from the virtual clock; no ARM `x-ms-*` ids.
pub(super) fn finish_kube(mut response: Response, ids: &RequestIds, now_secs: i64) -> Response {
    let date = date_or_epoch(now_secs);
    let headers = response.headers_mut();
    headers.reserve(3);
    headers.insert(AUDIT_ID, ids.request_id_value());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    headers.insert(header::DATE, date);
    response
}

/// kube-apiserver's request id header.
const AUDIT_ID: HeaderName = HeaderName::from_static("audit-id");

/// ARM's JSON content type, as handlers set it.
const JSON: &str = "application/json; charset=utf-8";

/// Whether a handler's headers are just ARM's JSON content type (most answers).
fn is_plain_json(headers: &HeaderMap) -> bool {
    let mut all = headers.iter();
    matches!(
        (all.next(), all.next()),
        (Some((name, value)), None) if name == header::CONTENT_TYPE && value == JSON
    )
}

/// What [`finish`] makes of a plain JSON answer, with placeholders for the per-request
/// values; one map with the client's request id at the end and one without.
fn json_template(with_client_id: bool) -> &'static HeaderMap {
    static TEMPLATES: std::sync::OnceLock<[HeaderMap; 2]> = std::sync::OnceLock::new();
    let templates = TEMPLATES.get_or_init(|| {
        let build = |with_client_id: bool| {
            let placeholder = HeaderValue::from_static("");
            let mut headers = HeaderMap::with_capacity(9);
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
            headers.insert(X_MS_REQUEST_ID, placeholder.clone());
            headers.insert(X_MS_CORRELATION_REQUEST_ID, placeholder.clone());
            headers.insert(X_MS_ROUTING_REQUEST_ID, placeholder.clone());
            headers.insert(header::DATE, placeholder.clone());
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            headers.insert(header::EXPIRES, HeaderValue::from_static("-1"));
            if with_client_id {
                headers.insert(X_MS_CLIENT_REQUEST_ID, placeholder);
            }
            headers
        };
        [build(false), build(true)]
    });
    &templates[usize::from(with_client_id)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    #[test]
    fn ids_become_header_values() {
        let state = AppState::for_tests();
        let mut headers = HeaderMap::new();
        headers.insert(X_MS_CLIENT_REQUEST_ID, HeaderValue::from_static("abc"));
        headers.insert(X_MS_CORRELATION_REQUEST_ID, HeaderValue::from_static(""));
        let ids = RequestIds::new(&state, &headers);
        assert_eq!(ids.client_request_id.as_ref().unwrap(), "abc");
        // An empty correlation id is replaced by the request id.
        let id = ids.request_id.hyphenated().to_string();
        assert_eq!(ids.client_correlation(), None);
        assert_eq!(ids.correlation_str(), id);
        let [request_id, correlation, routing] = ids.header_values();
        assert_eq!(request_id, id.as_str());
        assert_eq!(correlation, id.as_str());
        assert_eq!(routing, format!("AKSIM:{id}").as_str());
        headers.insert(
            X_MS_CORRELATION_REQUEST_ID,
            HeaderValue::from_static("corr"),
        );
        let long = "x".repeat(257);
        headers.insert(
            X_MS_CLIENT_REQUEST_ID,
            HeaderValue::from_str(&long).unwrap(),
        );
        let ids = RequestIds::new(&state, &headers);
        assert!(ids.client_request_id.is_none());
        assert_eq!(ids.correlation_str(), "corr");
        assert_eq!(ids.header_values()[1], "corr");
    }

    #[test]
    fn all_ways_of_finishing_give_the_same_headers() {
        let state = AppState::for_tests();
        let now = state.core.clock.now_unix_secs();
        for client_id in [None, Some("client-1")] {
            let mut request = HeaderMap::new();
            request.insert(
                X_MS_CORRELATION_REQUEST_ID,
                HeaderValue::from_static("corr-1"),
            );
            if let Some(id) = client_id {
                request.insert(X_MS_CLIENT_REQUEST_ID, HeaderValue::from_static(id));
            }
            let ids = RequestIds::new(&state, &request);
            let mut json = Response::new(Body::empty());
            json.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
            assert!(is_plain_json(json.headers()));
            let template = finish(json, &ids, now);
            // The same headers through the general path (an extra header forces it).
            let mut other = Response::new(Body::empty());
            other
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
            other
                .headers_mut()
                .insert(header::ETAG, HeaderValue::from_static("\"e\""));
            assert!(!is_plain_json(other.headers()));
            let general = finish(other, &ids, now);
            let fast = json_ok(Bytes::new(), &ids, now);
            let list = |r: &Response| -> Vec<(String, String)> {
                r.headers()
                    .iter()
                    .filter(|(n, _)| *n != header::ETAG)
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                    .collect()
            };
            assert_eq!(list(&template), list(&general));
            assert_eq!(list(&fast), list(&general));
            assert_eq!(
                fast.headers()[X_MS_REQUEST_ID],
                ids.request_id.hyphenated().to_string().as_str()
            );
            assert_eq!(fast.headers()[X_MS_CORRELATION_REQUEST_ID], "corr-1");
            assert_eq!(
                fast.headers()
                    .get(X_MS_CLIENT_REQUEST_ID)
                    .map(|v| v.to_str().unwrap()),
                client_id
            );
            assert_eq!(fast.headers().len(), 8 + usize::from(client_id.is_some()));
        }
    }

    #[test]
    fn the_date_header_follows_the_second() {
        let at = time::macros::datetime!(2024-07-03 07:13:32 UTC).unix_timestamp();
        assert_eq!(date_header(at).unwrap(), "Wed, 03 Jul 2024 07:13:32 GMT");
        assert_eq!(date_header(at).unwrap(), "Wed, 03 Jul 2024 07:13:32 GMT");
        assert_eq!(
            date_header(at + 1).unwrap(),
            "Wed, 03 Jul 2024 07:13:33 GMT"
        );
    }
}
