//! The edge every request passes: fault injection, the response headers, the request
//! journal and a debug span.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::dispatch::{is_control_path, read_body, route};
use super::headers::{finish, finish_kube, RequestIds};
use super::DropConnection;
use crate::arm::error::{ArmError, ErrorBody};
use crate::arm::path::subscription_of;
use crate::clock::unix_secs;
use crate::control::faults::FaultAction;
use crate::control::journal::Record;
use crate::core::ops::Injected;
use crate::kubeapi;
use crate::state::AppState;

/// The edge every request passes: fault injection, the response headers (ARM's, or
/// kube-apiserver's on `/k8s`), the journal and a debug span. Per-request work is kept to what the configuration asks for: the subscription, the
/// path and the other journal fields are only copied out when faults, the journal or debug
/// logging want them (the GET benchmark measures this edge; docs/performance.md).
pub(super) async fn edge(state: AppState, control: Router, request: Request) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let path = uri.path();
    let is_control = is_control_path(path);
    let journaling = !is_control && state.journal.capacity() > 0;
    let faulting = !is_control && !state.faults.is_empty();
    let subscription = if faulting || tracing::enabled!(tracing::Level::DEBUG) {
        subscription_of(path)
    } else {
        None
    };
    let ids = RequestIds::new(&state, request.headers());
    let user_agent = journaling.then(|| user_agent(request.headers())).flatten();

    // The journal keeps a prefix of the request body; buffer it (the dispatcher reads it again).
    let (request, request_body) = if journaling {
        let (parts, body) = request.into_parts();
        match read_body(body).await {
            Ok(bytes) => {
                let snippet = (!bytes.is_empty()).then(|| {
                    let cut = bytes.len().min(JOURNAL_BODY_MAX_BYTES);
                    String::from_utf8_lossy(&bytes[..cut]).into_owned()
                });
                (Request::from_parts(parts, Body::from(bytes)), snippet)
            }
            Err(e) => {
                let response = e.into_response();
                return finish(response, &ids, state.core.clock.now_unix_secs());
            }
        }
    } else {
        (request, None)
    };

    let mut request = request;
    let (fault_id, response) = if faulting {
        fire_fault(&state, &mut request, path, subscription.as_deref()).await
    } else {
        (None, None)
    };
    // Debug level: at the default `info` the span is never built (its fields cost more than
    // the rest of a cached GET). Nothing inside a request logs above debug.
    let span = tracing::debug_span!(
        "request",
        method = %method,
        path = %path,
        subscription = subscription.as_deref().unwrap_or(""),
        correlation_id = %ids.correlation_str(),
        request_id = %ids.request_id,
        operation_id = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let response = match response {
        Some(r) => r,
        None if span.is_disabled() => route(&state, control, request).await,
        None => {
            tracing::Instrument::instrument(route(&state, control, request), span.clone()).await
        }
    };
    let status = response.status().as_u16();

    // Refusals are journalled with their code and message: buffer small error bodies.
    let (response, error_code, error_message) = if journaling && status >= 400 {
        explain(response).await
    } else {
        (response, None, None)
    };
    let now_nanos = state.core.clock.now_nanos();
    let now_secs = unix_secs(now_nanos);
    let response = if kubeapi::http::is_kube_path(path) {
        finish_kube(response, &ids, now_secs)
    } else {
        finish(response, &ids, now_secs)
    };
    let micros = started.elapsed().as_micros() as u64;
    if !span.is_disabled() {
        span.record("status", status);
        span.in_scope(|| {
            tracing::debug!(
                micros,
                fault = fault_id.as_deref().unwrap_or(""),
                "answered"
            )
        });
    }
    if journaling {
        state.journal.record_target(
            target_of(&uri),
            Record {
                status,
                user_agent,
                error_code,
                error_message,
                fault: fault_id,
                request_body,
                duration_micros: micros,
                ..journal_record(now_nanos, &method, &ids)
            },
        );
    }
    response
}

/// Runs the first fault rule that matches the request: its id, and the answer it gives
/// instead of the handler's (an error, a dropped connection), if any. A latency rule waits
/// here (for real: the client's own timeout is what the tester exercises); an operation
/// failure marks the request, so the operation it starts fails.
async fn fire_fault(
    state: &AppState,
    request: &mut Request,
    path: &str,
    subscription: Option<&str>,
) -> (Option<String>, Option<Response>) {
    let method = request.method().clone();
    let Some(fired) = state
        .faults
        .evaluate(method.as_str(), path, subscription, || {
            state.core.ids.unit()
        })
    else {
        return (None, None);
    };
    let response = match fired.action {
        FaultAction::Error {
            status,
            code,
            message,
            retry_after,
        } => Some(fault_error(
            path,
            &method,
            status,
            code,
            message,
            retry_after,
            subscription,
        )),
        FaultAction::Latency { ms } => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            None
        }
        FaultAction::Drop => {
            let mut dropped = axum::http::StatusCode::BAD_GATEWAY.into_response();
            dropped.extensions_mut().insert(DropConnection);
            Some(dropped)
        }
        FaultAction::OperationFailure {
            code,
            message,
            canceled,
        } => {
            request.extensions_mut().insert(Injected {
                error: ErrorBody {
                    code,
                    message,
                    target: None,
                    details: Vec::new(),
                },
                canceled,
            });
            None
        }
    };
    (Some(fired.rule_id), response)
}

/// The journal record of a request answered at `at_nanos` (virtual), its outcome left for the
/// caller to fill in.
pub(super) fn journal_record(at_nanos: i128, method: &Method, ids: &RequestIds) -> Record {
    let text = |v: &HeaderValue| v.to_str().ok().map(Box::from);
    Record {
        at_nanos,
        method: method.clone(),
        // Filled in by the journal (`Journal::record_target`) from the request's target.
        target: String::new(),
        status: 0,
        request_id: ids.request_id,
        client_correlation_id: ids.client_correlation().and_then(text),
        client_request_id: ids.client_request_id.as_ref().and_then(text),
        user_agent: None,
        error_code: None,
        error_message: None,
        fault: None,
        request_body: None,
        duration_micros: 0,
    }
}

/// The path and query as sent.
pub(super) fn target_of(uri: &Uri) -> &str {
    uri.path_and_query()
        .map_or_else(|| uri.path(), |target| target.as_str())
}

/// The client's `User-Agent` as the journal keeps it (printable, at most 256 bytes).
pub(super) fn user_agent(headers: &HeaderMap) -> Option<Box<str>> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .map(Box::from)
}

/// Request-body bytes the journal keeps per entry.
const JOURNAL_BODY_MAX_BYTES: usize = 4096;

/// Reads a small error body to learn its code and message (ARM envelope or Kubernetes Status).
async fn explain(response: Response) -> (Response, Option<String>, Option<String>) {
    let small = axum::body::HttpBody::size_hint(response.body())
        .exact()
        .is_some_and(|n| n <= 65_536);
    if !small {
        return (response, None, None);
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 65_536).await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let (code, message) = if json.get("kind").and_then(|k| k.as_str()) == Some("Status") {
        (json["reason"].as_str(), json["message"].as_str())
    } else {
        (
            json["error"]["code"].as_str(),
            json["error"]["message"].as_str(),
        )
    };
    let out = (code.map(str::to_owned), message.map(str::to_owned));
    (Response::from_parts(parts, Body::from(bytes)), out.0, out.1)
}

/// The response of an `error` fault: ARM's envelope, or a Kubernetes `Status` on `/k8s` paths.
fn fault_error(
    path: &str,
    method: &Method,
    status: u16,
    code: Option<String>,
    message: Option<String>,
    retry_after: Option<u32>,
    subscription: Option<&str>,
) -> Response {
    let status_code = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = FaultAction::error_body(status, code.as_deref(), message.as_deref(), subscription);
    let mut response = if path.starts_with("/k8s/") {
        let status_json = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": body.message, "reason": body.code, "code": status
        });
        let mut r = (status_code, status_json.to_string()).into_response();
        r.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    } else {
        ArmError::new(status_code, &body.code, body.message).into_response()
    };
    let retry = retry_after.or(matches!(status, 429 | 503).then_some(1));
    if let Some(secs) = retry {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert("retry-after", v);
        }
    }
    if status == 429 {
        let kind = match *method {
            Method::GET | Method::HEAD => "reads",
            Method::DELETE => "deletes",
            _ => "writes",
        };
        let name = format!("x-ms-ratelimit-remaining-subscription-{kind}");
        if let Ok(name) = axum::http::HeaderName::from_bytes(name.as_bytes()) {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_static("0"));
        }
    }
    response
}
