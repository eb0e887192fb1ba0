//! The HTTP edge: `app(state)` builds the one `Router` that the server, the in-process tests
//! and the scenario runner all use. Only this module (and `arm::request`) knows the wire.
//!
//! Every request passes the `edge` (`edge.rs`: fault injection, the response headers of
//! `headers.rs`, the journal, a debug span) and a catch-panic guard that turns a broken
//! internal invariant into a 500 in the ARM envelope for that request only. Behind the edge,
//! `dispatch.rs` routes: `/_sim/*` to the control API, the per-cluster Kubernetes planes
//! (`/k8s/...`, `kubeapi`), identity and metadata paths, then ARM (authenticated,
//! `providers`). A plain cached cluster GET is answered on the spot (`fast.rs`).

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::arm::error::ArmError;
use crate::clock::{datetime_from_nanos, unix_secs};
use crate::control;
use crate::control::journal::Record;
use crate::core::error::Error;
use crate::state::AppState;
use edge::{edge, journal_record, target_of, user_agent};
use headers::RequestIds;

mod dispatch;
mod edge;
mod fast;
mod headers;

/// The whole simulator as one `tower::Service`: what the server serves, and what in-process
/// tests and the scenario runner call with `oneshot`.
///
/// Every request goes straight to the edge around the router (`dispatch::route`), with no
/// router in front:
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
        // The journal's `durationMicros` is the only reader of the start time.
        let journaling = state.journal.capacity() > 0;
        let started = journaling.then(std::time::Instant::now);
        // One reading of the clock for the whole answer: the gates, `Date` and the journal.
        let now_nanos = state.core.clock.now_nanos();
        // A panic here leaves the request to the edge, which answers it (a 500 if it panics
        // again); the fast path only reads.
        let body = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fast::cluster_get(state, request, datetime_from_nanos(now_nanos))
        }))
        .ok()??;
        let ids = RequestIds::new(state, request.headers());
        let response = headers::json_ok(body, &ids, unix_secs(now_nanos));
        if let Some(started) = started {
            let record = Record {
                status: response.status().as_u16(),
                user_agent: user_agent(request.headers()),
                duration_micros: started.elapsed().as_micros() as u64,
                ..journal_record(now_nanos, request.method(), &ids)
            };
            state
                .journal
                .record_target(target_of(request.uri()), record);
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
/// injection); `server/` turns it into a connection error.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;
