//! The response headers the edge adds: ARM's (request and correlation ids, `Date` from the
//! virtual clock, the cache headers, the client's request id) on ARM answers, and
//! kube-apiserver's (`Audit-Id`, `Date`, `Cache-Control`) on the clusters' Kubernetes answers.

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

/// One request's ids, kept as header values (the client's are reused as they came).
pub(super) struct RequestIds {
    pub(super) request_id: uuid::Uuid,
    /// The client's `x-ms-correlation-request-id`, or the request id.
    pub(super) correlation: HeaderValue,
    /// Whether `correlation` is the client's.
    pub(super) correlation_from_client: bool,
    pub(super) client_request_id: Option<HeaderValue>,
}

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
        let correlation = usable_client_id(correlation);
        RequestIds {
            request_id,
            correlation_from_client: correlation.is_some(),
            correlation: correlation.unwrap_or_else(|| uuid_header(&request_id, "")),
            client_request_id: usable_client_id(client_request_id),
        }
    }

    pub(super) fn correlation_str(&self) -> &str {
        self.correlation.to_str().unwrap_or_default()
    }
}

/// A client's id header when usable: printable ASCII, not empty, at most 256 bytes.
fn usable_client_id(value: Option<&HeaderValue>) -> Option<HeaderValue> {
    value
        .filter(|v| v.to_str().is_ok() && !v.is_empty() && v.len() <= 256)
        .cloned()
}

/// `{prefix}{uuid}` as a header value, formatted without allocating on the way.
pub(super) fn uuid_header(id: &uuid::Uuid, prefix: &str) -> HeaderValue {
    let mut buf = [0u8; 48];
    let mut uuid_buf = uuid::Uuid::encode_buffer();
    let text = id.hyphenated().encode_lower(&mut uuid_buf);
    let n = prefix.len() + text.len();
    buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
    buf[prefix.len()..n].copy_from_slice(text.as_bytes());
    HeaderValue::from_bytes(&buf[..n]).unwrap_or_else(|_| HeaderValue::from_static(""))
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

/// ARM's response headers, in ARM's order: request and correlation ids, `Date` from the
/// virtual clock, the cache headers, and the client's request id when it sent one. They go
/// after the handler's own; where both name a header, the edge's value wins.
pub(super) fn finish(state: &AppState, mut response: Response, ids: &RequestIds) -> Response {
    let date = date_header(state.core.clock.now_unix_secs())
        .unwrap_or_else(|| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"));
    let request_id = uuid_header(&ids.request_id, "");
    let routing_id = uuid_header(&ids.request_id, "AKSIM:");
    if is_plain_json(response.headers()) {
        // The usual answer: a clone of a ready map, filled by position (no name is hashed;
        // inserting each header costs three times as much).
        let mut headers = json_template(ids.client_request_id.is_some()).clone();
        let fresh = [request_id, ids.correlation.clone(), routing_id, date];
        // Position 0 is the content type, then the fresh values in template order.
        for (slot, value) in headers.values_mut().skip(1).zip(fresh) {
            *slot = value;
        }
        if let (Some(id), Some(slot)) = (&ids.client_request_id, headers.values_mut().last()) {
            *slot = id.clone();
        }
        *response.headers_mut() = headers;
        return response;
    }
    let headers = response.headers_mut();
    // Room for all of them at once (growing the map one insert at a time rehashes it twice).
    headers.reserve(8);
    headers.insert(X_MS_REQUEST_ID, request_id);
    headers.insert(X_MS_CORRELATION_REQUEST_ID, ids.correlation.clone());
    headers.insert(X_MS_ROUTING_REQUEST_ID, routing_id);
    headers.insert(header::DATE, date);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("-1"));
    if let Some(id) = &ids.client_request_id {
        headers.insert(X_MS_CLIENT_REQUEST_ID, id.clone());
    }
    response
}

/// kube-apiserver's response headers on a cluster's Kubernetes answer: `Audit-Id` (the
/// request id), `Cache-Control` and `Date` from the virtual clock; no ARM `x-ms-*` ids.
pub(super) fn finish_kube(state: &AppState, mut response: Response, ids: &RequestIds) -> Response {
    let date = date_header(state.core.clock.now_unix_secs())
        .unwrap_or_else(|| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"));
    let headers = response.headers_mut();
    headers.reserve(3);
    headers.insert(AUDIT_ID, uuid_header(&ids.request_id, ""));
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
        let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(
            uuid_header(&id, "AKSIM:"),
            "AKSIM:01234567-89ab-cdef-0123-456789abcdef"
        );
        let state = AppState::for_tests();
        let mut headers = HeaderMap::new();
        headers.insert(X_MS_CLIENT_REQUEST_ID, HeaderValue::from_static("abc"));
        headers.insert(X_MS_CORRELATION_REQUEST_ID, HeaderValue::from_static(""));
        let ids = RequestIds::new(&state, &headers);
        assert_eq!(ids.client_request_id.unwrap(), "abc");
        // An empty correlation id is replaced by the request id.
        assert_eq!(ids.correlation, uuid_header(&ids.request_id, ""));
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
        assert_eq!(ids.correlation, "corr");
    }

    #[test]
    fn both_ways_of_finishing_give_the_same_headers() {
        let state = AppState::for_tests();
        for client_id in [None, Some(HeaderValue::from_static("client-1"))] {
            let ids = RequestIds {
                request_id: uuid::Uuid::from_u128(7),
                correlation: HeaderValue::from_static("corr-1"),
                correlation_from_client: true,
                client_request_id: client_id.clone(),
            };
            let mut json = Response::new(Body::empty());
            json.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
            assert!(is_plain_json(json.headers()));
            let fast = finish(&state, json, &ids);
            // The same headers through the general path (an extra header forces it).
            let mut other = Response::new(Body::empty());
            other
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
            other
                .headers_mut()
                .insert(header::ETAG, HeaderValue::from_static("\"e\""));
            assert!(!is_plain_json(other.headers()));
            let general = finish(&state, other, &ids);
            let list = |r: &Response| -> Vec<(String, String)> {
                r.headers()
                    .iter()
                    // `Date` may change second between the two calls.
                    .map(|(n, v)| {
                        (
                            n,
                            if n == header::DATE {
                                "(date)"
                            } else {
                                v.to_str().unwrap()
                            },
                        )
                    })
                    .filter(|(n, _)| *n != header::ETAG)
                    .map(|(n, v)| (n.to_string(), v.to_owned()))
                    .collect()
            };
            assert_eq!(list(&fast), list(&general));
            assert_eq!(
                fast.headers()[X_MS_REQUEST_ID],
                uuid_header(&ids.request_id, "")
            );
            assert_eq!(fast.headers()[X_MS_CORRELATION_REQUEST_ID], "corr-1");
            assert_eq!(
                fast.headers().get(X_MS_CLIENT_REQUEST_ID),
                client_id.as_ref()
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
