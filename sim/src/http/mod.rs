//! The HTTP edge: `app(state)` builds the one `Router` that the server, the in-process tests
//! and the scenario runner all use. Only this module (and `arm::request`) knows the wire.
//!
//! Every request passes the `edge` (fault injection, request and correlation ids, `Date` from
//! the virtual clock, ARM's cache headers, the journal; the router's one handler, not a
//! middleware layer, which costs a boxed service per request) and a catch-panic layer that
//! turns a broken internal invariant into a 500 in the ARM envelope for that request only. `/_sim/*` is the
//! control API; everything else goes through [`dispatch`]: the per-cluster Kubernetes planes
//! (`/k8s/...`, see `kube::http`), identity and metadata paths, then ARM (authenticated).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::arm::error::{ArmError, ErrorBody};
use crate::arm::path::{subscription_of, ArmPath};
use crate::arm::request::ArmRequest;
use crate::clock::http_date_secs;
use crate::control::faults::FaultAction;
use crate::control::journal::Record;
use crate::core::error::Error;
use crate::core::ops::Injected;
use crate::state::AppState;
use crate::{control, identity, kubeapi, limits, providers};

mod fast;

/// The whole simulator as one `tower::Service`: what the server serves, and what in-process
/// tests and the scenario runner call with `oneshot`.
///
/// Every request goes straight to the [`edge`] around [`route`], with no router in front:
/// `/_sim` is a router of its own, reached by a prefix test, so ARM and Kubernetes requests
/// (the hot path) skip route matching, url-parameter maps and layer plumbing altogether.
/// Everything the control router does not serve ends in its `unknown` fallback. A panic in a
/// handler becomes a 500 in the ARM envelope for that request only ([`on_panic`]).
pub fn app(state: AppState) -> App {
    // The fallback catches what the nested router does not see: `/_sim/` with an empty rest
    // (an empty 404 before; found by the `arm_path` fuzz target).
    let control = Router::new()
        .nest("/_sim", control::routes())
        .fallback(control::unknown)
        .with_state(state.clone());
    App { state, control }
}

/// The simulator's service (see [`app`]); cloning it is two reference counts.
#[derive(Clone)]
pub struct App {
    state: AppState,
    control: Router,
}

impl App {
    /// The answer to one request, a handler's panic caught: what the `Service` impl and the
    /// server (which adds its deadline) both run. Boxed here, once: the edge's future is large,
    /// and every wrapper that moved it by value copied it again.
    pub(crate) fn answer(&self, request: Request) -> Answer {
        use futures_util::FutureExt;
        Box::pin(
            std::panic::AssertUnwindSafe(edge(self.state.clone(), self.control.clone(), request))
                .catch_unwind()
                .map(|answer| answer.unwrap_or_else(on_panic)),
        )
    }

    /// The answer to a request that needs no waiting, given synchronously: a cached cluster
    /// GET (see [`fast`]), with the edge's headers and journal entry, exactly as the edge
    /// would answer it. `None` for everything else, and whenever a fault rule is installed or
    /// debug logging wants its span: [`App::answer`] then runs the whole edge.
    ///
    /// Skipping the edge's future for these saves its allocation, its copies, the deadline
    /// timer and the URI copy the deadline's 504 needs: a fast answer cannot be late.
    pub(crate) fn answer_now<B>(&self, request: &axum::http::Request<B>) -> Option<Response>
    where
        B: axum::body::HttpBody,
    {
        let state = &self.state;
        if !state.faults.is_empty() || tracing::enabled!(tracing::Level::DEBUG) {
            return None;
        }
        let started = std::time::Instant::now();
        // A panic here leaves the request to the edge, which answers it (a 500 if it panics
        // again); the fast path only reads.
        let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fast::cluster_get(state, request)
        }))
        .ok()??;
        let ids = RequestIds::new(state, request.headers());
        let response = finish(state, response, &ids);
        if state.journal.capacity() > 0 {
            let uri = request.uri();
            state.journal.record(Record {
                status: response.status().as_u16(),
                user_agent: user_agent(request.headers()),
                duration_micros: started.elapsed().as_micros() as u64,
                ..journal_record(state, request.method(), uri, &ids)
            });
        }
        Some(response)
    }
}

/// One request's answer in the making (see [`App::answer`]).
pub(crate) type Answer = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

impl<B> tower::Service<axum::http::Request<B>> for App
where
    B: axum::body::HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = futures_util::future::Either<
        std::future::Ready<Result<Response, Self::Error>>,
        futures_util::future::Map<Answer, fn(Response) -> Result<Response, Self::Error>>,
    >;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        use futures_util::future::Either;
        use futures_util::FutureExt;
        if let Some(response) = self.answer_now(&request) {
            return Either::Left(std::future::ready(Ok(response)));
        }
        // `Body::new` keeps an axum `Body` as it is and boxes anything else once.
        Either::Right(self.answer(request.map(Body::new)).map(Ok))
    }
}

/// Behind the edge: the control router for `/_sim`, [`dispatch`] for everything else.
async fn route(state: &AppState, control: Router, request: Request) -> Response {
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
fn is_control_path(path: &str) -> bool {
    path == "/_sim" || path.starts_with("/_sim/")
}

/// A handler's panic as a 500 in the ARM envelope (the process and other requests go on).
fn on_panic(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(%detail, "handler panicked");
    ArmError::from(Error::internal(format!(
        "aksim hit an internal error: {detail}"
    )))
    .into_response()
}

/// Marks a response whose connection the server must drop without answering (fault
/// injection); `server.rs` turns it into a connection error.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// Response headers whose names are fixed: parsed once, at compile time.
const X_MS_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
const X_MS_CORRELATION_REQUEST_ID: HeaderName =
    HeaderName::from_static("x-ms-correlation-request-id");
const X_MS_ROUTING_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-routing-request-id");
const X_MS_CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-client-request-id");

/// One request's ids, kept as header values (the client's are reused as they came).
struct RequestIds {
    request_id: uuid::Uuid,
    /// The client's `x-ms-correlation-request-id`, or the request id.
    correlation: HeaderValue,
    /// Whether `correlation` is the client's.
    correlation_from_client: bool,
    client_request_id: Option<HeaderValue>,
}

impl RequestIds {
    fn new(state: &AppState, headers: &HeaderMap) -> Self {
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

    fn correlation_str(&self) -> &str {
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
fn uuid_header(id: &uuid::Uuid, prefix: &str) -> HeaderValue {
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

/// The edge every request passes: fault injection, ARM's response headers (request and
/// correlation ids, `Date` from the virtual clock, cache headers), the journal and a debug
/// span. Per-request work is kept to what the configuration asks for: the subscription, the
/// path and the other journal fields are only copied out when faults, the journal or debug
/// logging want them (the GET benchmark measures this edge; docs/performance.md).
async fn edge(state: AppState, control: Router, request: Request) -> Response {
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
                return finish(&state, response, &ids);
            }
        }
    } else {
        (request, None)
    };

    let mut fault_id = None;
    let mut request = request;
    let mut response = None;
    if faulting {
        if let Some(fired) =
            state
                .faults
                .evaluate(method.as_str(), path, subscription.as_deref(), || {
                    state.core.ids.unit()
                })
        {
            fault_id = Some(fired.rule_id.clone());
            match fired.action {
                FaultAction::Error {
                    status,
                    code,
                    message,
                    retry_after,
                } => {
                    response = Some(fault_error(
                        path,
                        &method,
                        status,
                        code,
                        message,
                        retry_after,
                        subscription.as_deref(),
                    ));
                }
                FaultAction::Latency { ms } => {
                    // A real delay: the client's own timeout is what the tester exercises.
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                FaultAction::Drop => {
                    let mut dropped = axum::http::StatusCode::BAD_GATEWAY.into_response();
                    dropped.extensions_mut().insert(DropConnection);
                    response = Some(dropped);
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
                }
            }
        }
    }
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
    let response = finish(&state, response, &ids);
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
        state.journal.record(Record {
            status,
            user_agent,
            error_code,
            error_message,
            fault: fault_id,
            request_body,
            duration_micros: micros,
            ..journal_record(&state, &method, &uri, &ids)
        });
    }
    response
}

/// The journal record of a request, its outcome left for the caller to fill in.
fn journal_record(state: &AppState, method: &Method, uri: &Uri, ids: &RequestIds) -> Record {
    let text = |v: &HeaderValue| v.to_str().ok().map(Box::from);
    Record {
        at_nanos: state.core.clock.now_nanos(),
        method: method.clone(),
        target: uri.path_and_query().map_or_else(
            || Box::from(uri.path()),
            |target| Box::from(target.as_str()),
        ),
        status: 0,
        request_id: ids.request_id,
        client_correlation_id: ids
            .correlation_from_client
            .then(|| text(&ids.correlation))
            .flatten(),
        client_request_id: ids.client_request_id.as_ref().and_then(text),
        user_agent: None,
        error_code: None,
        error_message: None,
        fault: None,
        request_body: None,
        duration_micros: 0,
    }
}

/// The client's `User-Agent` as the journal keeps it (printable, at most 256 bytes).
fn user_agent(headers: &HeaderMap) -> Option<Box<str>> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .map(Box::from)
}

/// Request-body bytes the journal keeps per entry.
const JOURNAL_BODY_MAX_BYTES: usize = 4096;

/// ARM's response headers, in ARM's order: request and correlation ids, `Date` from the
/// virtual clock, the cache headers, and the client's request id when it sent one. They go
/// after the handler's own; where both name a header, the edge's value wins.
fn finish(state: &AppState, mut response: Response, ids: &RequestIds) -> Response {
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
async fn read_body(body: Body) -> Result<Bytes, ArmError> {
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
