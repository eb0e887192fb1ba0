//! The HTTP edge: `app(state)` builds the one `Router` that the server, the in-process tests
//! and the scenario runner all use. Only this module (and `arm::request`) knows the wire.
//!
//! Every request passes the `common_headers` middleware (request and correlation ids, `Date`
//! from the virtual clock, ARM's cache headers) and a catch-panic layer that turns a broken
//! internal invariant into a 500 in the ARM envelope for that request only. `/_sim/*` is the
//! control API; everything else goes through [`dispatch`]: the per-cluster Kubernetes planes
//! (`/k8s/...`, see `kube::http`), identity and metadata paths, then ARM (authenticated).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::arm::error::ArmError;
use crate::arm::path::ArmPath;
use crate::arm::request::ArmRequest;
use crate::clock::http_date;
use crate::state::AppState;
use crate::{control, identity, kube, limits, providers};

/// The whole simulator as a `Router`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/_sim", control::routes())
        .fallback(dispatch)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            common_headers,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .with_state(state)
}

fn on_panic(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(%detail, "handler panicked");
    ArmError::internal(format!("aksim hit an internal error: {detail}")).into_response()
}

/// Adds ARM's response headers to everything.
async fn common_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let request_id = state.ids.uuid_string();
    let correlation = request
        .headers()
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| request_id.clone());
    let client_request_id = request.headers().get("x-ms-client-request-id").cloned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set("x-ms-request-id", &request_id);
    set("x-ms-correlation-request-id", &correlation);
    set("x-ms-routing-request-id", &format!("AKSIM:{request_id}"));
    set("date", &http_date(state.clock.now()));
    set("cache-control", "no-cache");
    set("pragma", "no-cache");
    set("expires", "-1");
    if let Some(id) = client_request_id {
        headers.insert("x-ms-client-request-id", id);
    }
    let status = response.status().as_u16();
    tracing::debug!(
        %method, %path, status, request_id, correlation,
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// `scheme://host` as the client addressed us.
fn base_url(state: &AppState, uri: &Uri, headers: &HeaderMap) -> String {
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| state.config.addr.to_string());
    format!("{}://{host}", state.config.scheme())
}

/// Everything outside `/_sim`.
async fn dispatch(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if kube::http::is_kube_path(parts.uri.path()) {
        return kube::http::handle(state, parts, body).await;
    }
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let path = match ArmPath::parse(parts.uri.path()) {
        Ok(path) => path,
        Err(e) => return e.into_response(),
    };
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
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

    let req = ArmRequest {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        body,
        base_url: base,
    };
    if let Err(e) = identity::check_arm_auth(&state, &req.headers) {
        return e.into_response();
    }
    if let Err(e) = check_content_type(&req) {
        return e.into_response();
    }
    let head = req.method == Method::HEAD;
    match providers::dispatch(&state, &req) {
        Ok(response) => response.into_response(),
        // HEAD answers carry no body.
        Err(e) if head => e.status.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn read_body(body: Body) -> Result<Bytes, ArmError> {
    axum::body::to_bytes(body, limits::REQUEST_BODY_MAX_BYTES)
        .await
        .map_err(|_| ArmError::request_too_large(limits::REQUEST_BODY_MAX_BYTES))
}

/// A body that says it is not JSON is refused (415); no Content-Type is tolerated.
fn check_content_type(req: &ArmRequest) -> Result<(), ArmError> {
    if !req.has_body() {
        return Ok(());
    }
    match req.header("content-type") {
        Some(ct) if !ct.to_ascii_lowercase().contains("json") => {
            Err(ArmError::unsupported_media_type(ct))
        }
        _ => Ok(()),
    }
}
