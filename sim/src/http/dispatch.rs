//! Behind the edge: `/_sim` to the control router; everything else to the clusters'
//! Kubernetes APIs (`/k8s/...`), identity and metadata, or ARM (authenticated, then the route
//! table).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::arm::error::ArmError;
use crate::arm::path::ArmPath;
use crate::arm::request::ArmRequest;
use crate::core::ops::Injected;
use crate::state::AppState;
use crate::{identity, kubeapi, limits, providers};

/// Behind the edge: the control router for `/_sim`, [`dispatch`] for everything else.
pub(super) async fn route(state: &AppState, control: Router, request: Request) -> Response {
    if is_control_path(request.uri().path()) {
        use tower::ServiceExt;
        match control.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else {
        dispatch(State(state.clone()), request).await
    }
}

/// `/_sim` and everything under it.
pub(super) fn is_control_path(path: &str) -> bool {
    path == "/_sim" || path.starts_with("/_sim/")
}

/// `scheme://host` as the client addressed us.
fn base_url(state: &AppState, uri: &Uri, headers: &HeaderMap) -> String {
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()))
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()));
    let scheme = state.config.scheme();
    match host {
        Some(host) => {
            let mut out = String::with_capacity(scheme.len() + 3 + host.len());
            out.push_str(scheme);
            out.push_str("://");
            out.push_str(host);
            out
        }
        None => format!("{scheme}://{}", state.config.addr),
    }
}

/// Everything outside `/_sim`.
async fn dispatch(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if kubeapi::http::is_kube_path(parts.uri.path()) {
        return kubeapi::http::handle(state, parts, body).await;
    }
    // Most ARM requests (GETs) have no body at all: skip the stream.
    let body = if axum::body::HttpBody::is_end_stream(&body) {
        Bytes::new()
    } else {
        match read_body(body).await {
            Ok(body) => body,
            Err(e) => return e.into_response(),
        }
    };
    let path = match ArmPath::parse(parts.uri.path()) {
        Ok(path) => path,
        Err(e) => return e.into_response(),
    };
    let query = parts.uri.query().map(parse_query).unwrap_or_default();
    let base = base_url(&state, &parts.uri, &parts.headers);

    if let Some(response) = identity::dispatch(
        &state,
        &parts.method,
        &path,
        &query,
        &parts.headers,
        &body,
        &base,
    ) {
        return response;
    }

    let mut req = ArmRequest::new(parts.method, path, query, parts.headers, body, base);
    req.injected_failure = parts.extensions.get::<Injected>().cloned();
    if let Err(e) = identity::check_arm_auth(&state, &req.headers) {
        return e.into_response();
    }
    if let Err(e) = check_content_type(&req) {
        return e.into_response();
    }
    let head = req.method == Method::HEAD;
    match providers::dispatch(&state, &mut req) {
        Ok(response) => response.into_response(),
        // HEAD answers carry no body.
        Err(e) if head => e.status.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The query's name/value pairs, decoded as `application/x-www-form-urlencoded`. Without a
/// `%` or `+` nothing needs decoding, and the pairs are the pieces themselves.
fn parse_query(query: &str) -> Vec<(String, String)> {
    if query.bytes().any(|b| b == b'%' || b == b'+') {
        return form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
    }
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

/// Reads the body up to `REQUEST_BODY_MAX_BYTES`. Past the limit the rest is still read and
/// thrown away, up to `REQUEST_BODY_DRAIN_MAX_BYTES`, before the 413 goes out: an HTTP/1.1
/// client is usually still sending, and a server that answers and closes with unread bytes
/// makes the kernel reset the connection, so the client sees "broken pipe" instead of the
/// error (found by the real-client tests).
pub(super) async fn read_body(body: Body) -> Result<Bytes, ArmError> {
    use futures_util::StreamExt;
    let too_large = || ArmError::request_too_large(limits::REQUEST_BODY_MAX_BYTES);
    let mut stream = body.into_data_stream();
    let mut kept = bytes::BytesMut::new();
    let mut seen: usize = 0;
    while let Some(chunk) = stream.next().await {
        // A body that breaks off mid-way: the client is gone, the answer goes nowhere.
        let chunk = chunk.map_err(|_| too_large())?;
        seen = seen.saturating_add(chunk.len());
        if seen > limits::REQUEST_BODY_DRAIN_MAX_BYTES {
            return Err(too_large());
        }
        if seen <= limits::REQUEST_BODY_MAX_BYTES {
            kept.extend_from_slice(&chunk);
        }
    }
    if seen > limits::REQUEST_BODY_MAX_BYTES {
        return Err(too_large());
    }
    Ok(kept.freeze())
}

/// A body that says it is not JSON is refused (415); no Content-Type is tolerated.
fn check_content_type(req: &ArmRequest) -> Result<(), ArmError> {
    if !req.has_body() {
        return Ok(());
    }
    match req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(ct) if !ct.to_ascii_lowercase().contains("json") => {
            Err(ArmError::unsupported_media_type(ct))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_fast_path_agrees_with_form_decoding() {
        for query in [
            "api-version=2026-06-01",
            "api-version=2026-06-01&$top=5&&x",
            "a=b=c&=v&k=",
            "$filter=tagName%20eq%20'env'&x=a+b",
            "",
            "&&",
            "name=%ZZ&ü=ö",
        ] {
            let slow: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            assert_eq!(parse_query(query), slow, "{query}");
        }
    }
}
