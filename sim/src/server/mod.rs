//! The accept loop: TLS (rustls) or plain TCP, HTTP/1.1 and HTTP/2 (hyper-util's auto
//! builder), graceful shutdown, and the connection-level limits of `crate::limits`: at most
//! `CONNECTIONS_MAX` connections (the overflow gets one 503 and is closed), a request-head size
//! and count limit (431), a slow-header read timeout, a TLS handshake timeout and a
//! whole-request deadline (504). A plain-HTTP request on the TLS port gets a plain-text 400
//! naming the https:// URL (as Go's and nginx's servers answer). `serve` is what `main` and the
//! black-box tests call;
//! `serve_with` takes the limits as `ServerLimits` so tests can shrink them.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::arm::error::ArmError;
use crate::http::{App, DropConnection};
use crate::kubeapi::status::Status;
use crate::limits;
use watchdog::{watchdog, Ended, HeadWatch, Signal, Sniffed, Watched, WatchedBody};

mod watchdog;

// A latency fault must answer normally, not run into the request deadline.
const _: () =
    assert!(limits::REQUEST_TIMEOUT_SECS * 1000 > crate::control::faults::FAULT_LATENCY_MAX_MS);

/// The connection-level limits `serve_with` applies. `Default` is the named limits of
/// `crate::limits`; tests shrink the timeouts and counts to keep themselves short.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    pub connections_max: usize,
    pub connections_overflow_max: usize,
    pub overflow_connection: Duration,
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    pub header_max_bytes: usize,
    pub headers_max: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            connections_max: limits::CONNECTIONS_MAX,
            connections_overflow_max: limits::CONNECTIONS_OVERFLOW_MAX,
            overflow_connection: Duration::from_secs(limits::OVERFLOW_CONNECTION_SECS),
            request_timeout: Duration::from_secs(limits::REQUEST_TIMEOUT_SECS),
            header_read_timeout: Duration::from_secs(limits::REQUEST_HEADER_READ_TIMEOUT_SECS),
            tls_handshake_timeout: Duration::from_secs(limits::TLS_HANDSHAKE_TIMEOUT_SECS),
            header_max_bytes: limits::REQUEST_HEADER_MAX_BYTES,
            headers_max: limits::REQUEST_HEADERS_MAX,
        }
    }
}

/// hyper's own default header count: setting it explicitly moves header parsing to the heap.
const HYPER_DEFAULT_MAX_HEADERS: usize = 100;
/// hyper's smallest accepted read buffer (its `max_buf_size` panics below this).
const HYPER_MIN_BUF_BYTES: usize = 8192;

/// The service of one connection: the app, a deadline on every answer that is not given on
/// the spot, and a response marked [`DropConnection`] (a `drop` fault) turned into a service
/// error: hyper then closes the connection without answering. It counts heads and answers
/// for the connection's [`HeadWatch`]. A hyper `Service` of its own (not a tower one through
/// hyper-util's adapter, which clones the service and runs a readiness check per request).
struct ConnService {
    app: App,
    request_timeout: Duration,
    watch: Arc<HeadWatch>,
}

type Answered = Result<hyper::Response<WatchedBody>, std::io::Error>;

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for ConnService {
    type Response = hyper::Response<WatchedBody>;
    type Error = std::io::Error;
    type Future = futures_util::future::Either<
        std::future::Ready<Answered>,
        std::pin::Pin<Box<dyn Future<Output = Answered> + Send>>,
    >;

    fn call(&self, request: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        use futures_util::future::Either;
        self.watch.head_arrived();
        let watch = self.watch.clone();
        // A cached cluster GET is answered on the spot: no future, no timer (it cannot be
        // late), and never a dropped connection (no fault rule is installed when it runs).
        if let Some(response) = self.app.answer_now(&request) {
            return Either::Left(std::future::ready(Ok(
                response.map(|body| WatchedBody::new(body, watch))
            )));
        }
        // The 504 is built only when the deadline passes (building it per request cost more
        // than the rest of a cluster GET); the URI clone is a reference count. `App` is always
        // ready, so its answer is taken directly (no `oneshot` readiness dance, one box).
        let uri = request.uri().clone();
        let call = self.app.answer(request.map(axum::body::Body::new));
        let deadline = self.request_timeout;
        Either::Right(Box::pin(async move {
            let response = match tokio::time::timeout(deadline, call).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::warn!(secs = deadline.as_secs_f64(), "request deadline passed");
                    timeout_response(uri.path())
                }
            };
            if response.extensions().get::<DropConnection>().is_some() {
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "fault: drop",
                ))
            } else {
                Ok(response.map(|body| WatchedBody::new(body, watch)))
            }
        }))
    }
}

/// What a request past the deadline gets: kube-apiserver's `Timeout` Status on `/k8s/...`,
/// else ARM's `GatewayTimeout` naming the provider of the path (`Microsoft.Resources` when the
/// path names none).
fn timeout_response(path: &str) -> axum::response::Response {
    if path.starts_with("/k8s/") {
        return Status::timeout().into_response();
    }
    let segments: Vec<&str> = path.split('/').collect();
    let namespace = segments
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
        .and_then(|i| segments.get(i + 1))
        .filter(|ns| !ns.is_empty())
        .copied()
        .unwrap_or("Microsoft.Resources");
    ArmError::gateway_timeout(namespace).into_response()
}

/// The one answer a connection past `CONNECTIONS_MAX` gets: 503 `ServiceUnavailable` with
/// `Retry-After` (kube-apiserver's 429 `TooManyRequests` on `/k8s/...`).
#[derive(Clone, Copy)]
struct Overloaded;

impl<B: Send + 'static> tower::Service<axum::http::Request<B>> for Overloaded {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let mut response = if request.uri().path().starts_with("/k8s/") {
            Status::too_many_requests().into_response()
        } else {
            ArmError::service_unavailable_overloaded().into_response()
        };
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(limits::RETRY_AFTER_SECS),
        );
        headers.insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        std::future::ready(Ok(response))
    }
}

/// A connection's place: within `CONNECTIONS_MAX`, or in the overflow that is answered 503.
enum Slot {
    Normal(OwnedSemaphorePermit),
    Overflow(OwnedSemaphorePermit),
}

/// Serves `app` on `listener` with the default limits until `shutdown` resolves, then lets open
/// connections finish (up to `SHUTDOWN_GRACE_SECS`).
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    serve_with(listener, tls, app, shutdown, ServerLimits::default()).await
}

/// `serve` with explicit connection-level limits.
pub async fn serve_with(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    // Every connection holds a receiver until it ends; shutdown sends `true` and waits for
    // them all to go.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let normal = Arc::new(Semaphore::new(limits.connections_max));
    let overflow = Arc::new(Semaphore::new(limits.connections_overflow_max));
    let limits = Arc::new(limits);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match normal.clone().try_acquire_owned() {
            Ok(permit) => Slot::Normal(permit),
            Err(_) => match overflow.clone().try_acquire_owned() {
                Ok(permit) => {
                    tracing::warn!(%peer, max = limits.connections_max, "connection limit reached: answering 503");
                    Slot::Overflow(permit)
                }
                Err(_) => {
                    tracing::warn!(%peer, "connection limit and overflow reached: closing");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let stopping = stopped.clone();
        let app = app.clone();
        let limits = limits.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                Some(acceptor) => {
                    if speaks_plain_http(&stream, limits.tls_handshake_timeout).await {
                        answer_plain_http(stream, limits.header_read_timeout).await;
                        return;
                    }
                    let tls_stream = match tokio::time::timeout(
                        limits.tls_handshake_timeout,
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    serve_connection(tls_stream, app, &limits, slot, stopping).await
                }
                None => serve_connection(stream, app, &limits, slot, stopping).await,
            }
        });
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(
        Duration::from_secs(crate::limits::SHUTDOWN_GRACE_SECS),
        stop.closed(),
    )
    .await;
}

/// Whether a client on the TLS port opened with plain text (an HTTP/1 request line, or
/// HTTP/2's preface) instead of a TLS ClientHello (a handshake record, byte 0x16).
async fn speaks_plain_http(stream: &tokio::net::TcpStream, wait: Duration) -> bool {
    let mut first = [0u8; 1];
    match tokio::time::timeout(wait, stream.peek(&mut first)).await {
        Ok(Ok(1)) => first[0].is_ascii_uppercase(),
        _ => false,
    }
}

/// What Go's and nginx's HTTPS servers do with a plain-HTTP request: a plain-text 400 that
/// names the fix, then close. The request head is read (bounded) for its Host and target.
async fn answer_plain_http(mut stream: tokio::net::TcpStream, wait: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let read = async {
        while head.len() < PLAIN_HTTP_HEAD_MAX && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(wait, read).await;
    let text = String::from_utf8_lossy(&head);
    let target = text
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .filter(|t| t.starts_with('/'))
        .unwrap_or("/");
    let host = text
        .lines()
        .skip(1)
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("host")
                .then(|| value.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .or_else(|| stream.local_addr().ok().map(|a| a.to_string()))
        .unwrap_or_default();
    let body = format!("this port speaks HTTPS: use https://{host}{target}\n");
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// How much of a plain-HTTP request head on the TLS port is read for its Host and target.
const PLAIN_HTTP_HEAD_MAX: usize = 8 * 1024;

/// Serves one accepted (and, with TLS, handshaken) connection; the slot's permit is held until
/// the connection ends.
async fn serve_connection<I>(
    io: I,
    app: App,
    limits: &ServerLimits,
    slot: Slot,
    stopping: tokio::sync::watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = Builder::new(TokioExecutor::new());
    {
        let mut http1 = builder.http1();
        http1
            .timer(TokioTimer::new())
            .max_buf_size(limits.header_max_bytes.max(HYPER_MIN_BUF_BYTES));
        if limits.headers_max != HYPER_DEFAULT_MAX_HEADERS {
            http1.max_headers(limits.headers_max);
        }
        match slot {
            // The connection's head watch keeps the slow-header timeout (no timer per request).
            Slot::Normal(_) => http1.header_read_timeout(None),
            // One answer, then closed: hyper's own timer is as good.
            Slot::Overflow(_) => http1
                .keep_alive(false)
                .header_read_timeout(limits.header_read_timeout),
        };
    }
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.header_max_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(crate::limits::HTTP2_MAX_CONCURRENT_STREAMS);
    match slot {
        Slot::Normal(_permit) => {
            let watch = Arc::new(HeadWatch::default());
            let service = ConnService {
                app,
                request_timeout: limits.request_timeout,
                watch: watch.clone(),
            };
            let io = TokioIo::new(Sniffed::new(io, watch.clone()));
            let conn = builder.serve_connection_with_upgrades(io, service);
            // The watchdog runs as a task of its own (the slow-header timeout, the server's
            // shutdown): polled beside the connection, it would be looked at on every wake of
            // the connection, that is every request.
            let signal = Arc::new(Signal::default());
            let watchdog = tokio::spawn(watchdog(
                watch,
                signal.clone(),
                limits.header_read_timeout,
                stopping,
            ));
            let ended = Watched::new(conn, |c| c.graceful_shutdown(), signal).await;
            watchdog.abort();
            if let Ended::Overdue = ended {
                tracing::debug!("no request head within the header read timeout: closed");
            }
        }
        Slot::Overflow(_permit) => {
            // One answer, then closed, within `overflow_connection`; the server's shutdown
            // waits for it (the receiver goes when it ends).
            let _stopping = stopping;
            let service = TowerToHyperService::new(Overloaded);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            let _ = tokio::time::timeout(limits.overflow_connection, conn).await;
        }
    }
}

/// Everything `main` needs to run: the state and, unless `--http`, the TLS material.
pub struct Prepared {
    pub state: crate::state::AppState,
    pub tls: Option<crate::tls::TlsMaterial>,
}

/// Loads (or creates) the TLS directory's CA and token key and builds the state.
pub fn prepare(config: crate::config::Config) -> Result<Prepared, String> {
    config.validate()?;
    let dir = config.tls_dir();
    let tokens = crate::identity::tokens::TokenIssuer::load_or_create(&dir)?;
    let tls = if config.http {
        None
    } else {
        Some(crate::tls::load_or_create(&dir, &config.hostnames)?)
    };
    let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
    let state = crate::state::AppState::new(config, tokens, ca_pem)?;
    Ok(Prepared { state, tls })
}
