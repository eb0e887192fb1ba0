//! What watches an HTTP/1 connection from outside its hot path: the slow-header timeout
//! (`REQUEST_HEADER_READ_TIMEOUT_SECS`) and the server's graceful shutdown, kept by one
//! watchdog task per connection instead of work on every request.
//!
//! hyper's own `header_read_timeout` arms a timer (a boxed sleep in the runtime's timer wheel)
//! for every request head of a kept-alive connection and drops it once the head is in: a
//! clock read, an allocation, a wheel insertion and a removal on every request, the largest
//! single cost of a cached GET after the socket itself; hyper-util's graceful-shutdown wrapper
//! polls its shutdown signal on every wake of the connection (docs/performance.md). Here a
//! request costs two counter increments and a flag load instead:
//!
//! - `started` counts request heads that arrived (the service was called);
//! - `finished` counts answers hyper is done with (it dropped the response body, which it
//!   does once the body is written or the connection is lost).
//!
//! The connection waits for a head exactly when the two are equal, as hyper's timer runs
//! exactly while hyper reads a head: from the accept (after TLS) and from the end of each
//! answer. The watchdog looks at the counters a few times per timeout and ends the connection
//! (without an answer, as hyper does) when it has seen them equal and unchanged for the whole
//! timeout: never before the timeout, at most one tick (`1/TICKS` of the timeout) after it. A
//! request in flight, a streaming watch and HTTP/2 connections (which hyper's timer never
//! covered) are left alone. The same task hears the server's shutdown and tells the
//! connection to finish what it is answering and close ([`Watched`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use futures_util::task::AtomicWaker;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Looks per timeout: the cut-off comes at most this fraction of the timeout late.
const TICKS: u32 = 8;

/// The first bytes of HTTP/2's connection preface (a client speaking HTTP/2 without TLS).
const H2_PREFACE_START: &[u8] = b"PRI ";

/// One connection's counters (see the module docs).
#[derive(Debug, Default)]
pub(super) struct HeadWatch {
    started: AtomicU64,
    finished: AtomicU64,
    http2: AtomicBool,
}

impl HeadWatch {
    /// A request head arrived: the service is called with it.
    pub(super) fn head_arrived(&self) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }

    /// Resolves when the connection has waited longer than `timeout` for a request head;
    /// never, once the connection turns out to speak HTTP/2.
    pub(super) async fn overdue(&self, timeout: Duration) {
        let mut ticks = tokio::time::interval((timeout / TICKS).max(Duration::from_millis(1)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is now: the wait for the first head starts with the connection.
        let mut looks = Looks::new(ticks.tick().await.into_std(), timeout);
        loop {
            let now = ticks.tick().await.into_std();
            if self.http2.load(Ordering::Relaxed) {
                return std::future::pending().await;
            }
            // One total order over both counters (SeqCst costs what Relaxed does on x86 for
            // these), `started` read first: a request that starts and ends between the two
            // loads makes `finished` the larger, which reads as busy (never as a longer wait).
            let started = self.started.load(Ordering::SeqCst);
            let finished = self.finished.load(Ordering::SeqCst);
            if looks.overdue(now, started, finished) {
                return;
            }
        }
    }
}

/// What the watchdog knows between two looks at the counters.
struct Looks {
    timeout: Duration,
    /// `started` at the last look.
    seen: u64,
    /// Since when the connection has surely been waiting for a head; `None` while busy.
    waiting_since: Option<Instant>,
}

impl Looks {
    fn new(start: Instant, timeout: Duration) -> Self {
        Looks {
            timeout,
            seen: 0,
            waiting_since: Some(start),
        }
    }

    /// One look at the counters at `now`: whether the connection has waited for a head
    /// for the whole timeout.
    fn overdue(&mut self, now: Instant, started: u64, finished: u64) -> bool {
        if started != finished {
            self.waiting_since = None;
        } else if started != self.seen || self.waiting_since.is_none() {
            // The wait began after the last look: count it from now (never early).
            self.seen = started;
            self.waiting_since = Some(now);
        } else if self
            .waiting_since
            .is_some_and(|since| now.duration_since(since) >= self.timeout)
        {
            return true;
        }
        false
    }
}

/// What the watchdog tells its connection (read by [`Watched`] on every poll: one load).
#[derive(Debug, Default)]
pub(super) struct Signal {
    state: AtomicU8,
    waker: AtomicWaker,
}

/// [`Signal`] states, in the order they may be raised.
const SHUT_DOWN: u8 = 1;
const OVERDUE: u8 = 2;

impl Signal {
    fn raise(&self, state: u8) {
        self.state.fetch_max(state, Ordering::Release);
        self.waker.wake();
    }
}

/// The watchdog of one connection: raises `OVERDUE` when no head came within `timeout`,
/// `SHUT_DOWN` when the server stops (`stop` changes or its sender is gone). It holds `stop`
/// for as long as it runs: the server's shutdown waits for every receiver to go.
pub(super) async fn watchdog(
    watch: Arc<HeadWatch>,
    signal: Arc<Signal>,
    timeout: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let overdue = watch.overdue(timeout);
    tokio::pin!(overdue);
    let mut stopping = false;
    loop {
        tokio::select! {
            () = &mut overdue => {
                signal.raise(OVERDUE);
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                signal.raise(SHUT_DOWN);
            }
        }
    }
}

/// How a watched connection ended.
pub(super) enum Ended {
    /// hyper finished it (the client closed, an error, or a graceful shutdown completed).
    Closed,
    /// No request head within the header read timeout: dropped without an answer.
    Overdue,
}

/// A hyper connection and its watchdog's [`Signal`]: shuts the connection down gracefully
/// when told, ends it when its head is overdue.
pub(super) struct Watched<C> {
    conn: Pin<Box<C>>,
    /// Asks the connection to finish what it is answering and close.
    shut_down: fn(Pin<&mut C>),
    signal: Arc<Signal>,
    /// The task's waker as last handed to the signal (a task's waker rarely changes).
    registered: Option<std::task::Waker>,
    shutting_down: bool,
}

impl<C: Future> Watched<C> {
    pub(super) fn new(conn: C, shut_down: fn(Pin<&mut C>), signal: Arc<Signal>) -> Self {
        Watched {
            conn: Box::pin(conn),
            shut_down,
            signal,
            registered: None,
            shutting_down: false,
        }
    }
}

impl<C: Future> Future for Watched<C> {
    type Output = Ended;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Ended> {
        let this = &mut *self;
        if !this
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            this.signal.waker.register(cx.waker());
            this.registered = Some(cx.waker().clone());
        }
        match this.signal.state.load(Ordering::Acquire) {
            OVERDUE => return Poll::Ready(Ended::Overdue),
            SHUT_DOWN if !this.shutting_down => {
                this.shutting_down = true;
                (this.shut_down)(this.conn.as_mut());
            }
            _ => {}
        }
        this.conn.as_mut().poll(cx).map(|_| Ended::Closed)
    }
}

/// A response body that tells the watch when hyper is done with it (see the module docs).
pub(super) struct WatchedBody {
    inner: axum::body::Body,
    watch: Arc<HeadWatch>,
}

impl WatchedBody {
    pub(super) fn new(inner: axum::body::Body, watch: Arc<HeadWatch>) -> Self {
        WatchedBody { inner, watch }
    }
}

impl Drop for WatchedBody {
    fn drop(&mut self) {
        self.watch.finished.fetch_add(1, Ordering::SeqCst);
    }
}

impl hyper::body::Body for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The connection's socket (or TLS stream), watched for HTTP/2's preface in its first bytes.
pub(super) struct Sniffed<I> {
    io: I,
    /// How many of the first bytes have been compared with the preface (at most 4).
    compared: usize,
    watch: Arc<HeadWatch>,
}

impl<I> Sniffed<I> {
    pub(super) fn new(io: I, watch: Arc<HeadWatch>) -> Self {
        Sniffed {
            io,
            compared: 0,
            watch,
        }
    }

    fn sniff(&mut self, read: &[u8]) {
        let want = &H2_PREFACE_START[self.compared..];
        let n = want.len().min(read.len());
        if read[..n] != want[..n] {
            self.compared = H2_PREFACE_START.len();
            return;
        }
        self.compared += n;
        if self.compared == H2_PREFACE_START.len() {
            self.watch.http2.store(true, Ordering::Relaxed);
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Sniffed<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if self.compared < H2_PREFACE_START.len() {
            let read = &buf.filled()[before..];
            if !read.is_empty() {
                self.sniff(read);
            }
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Sniffed<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniffed(chunks: &[&[u8]]) -> bool {
        let watch = Arc::new(HeadWatch::default());
        let mut io = Sniffed::new((), watch.clone());
        for chunk in chunks {
            if io.compared < H2_PREFACE_START.len() {
                io.sniff(chunk);
            }
        }
        watch.http2.load(Ordering::Relaxed)
    }

    #[test]
    fn the_preface_is_recognised_in_any_split() {
        assert!(sniffed(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]));
        assert!(sniffed(&[b"P", b"RI", b" * HTTP/2.0"]));
        assert!(!sniffed(&[b"GET / HTTP/1.1\r\n"]));
        assert!(!sniffed(&[b"PR", b"OPFIND / HTTP/1.1"]));
        assert!(!sniffed(&[b"PRI", b"X"]));
    }

    /// Looks every tick from `start` with the counters `at(tick)` gives, until overdue: the
    /// tick it happened at.
    fn overdue_at(timeout: Duration, at: impl Fn(u32) -> (u64, u64)) -> Option<u32> {
        let start = Instant::now();
        let tick = timeout / TICKS;
        let mut looks = Looks::new(start, timeout);
        (1..1000).find(|&n| {
            let (started, finished) = at(n);
            looks.overdue(start + tick * n, started, finished)
        })
    }

    #[test]
    fn an_idle_connection_is_overdue_at_the_timeout_not_before() {
        let timeout = Duration::from_secs(30);
        assert_eq!(overdue_at(timeout, |_| (0, 0)), Some(TICKS));
    }

    #[test]
    fn requests_and_answers_in_flight_keep_the_connection() {
        let timeout = Duration::from_secs(8);
        // A request every 5 ticks for 100 ticks: never a whole timeout without a head.
        let requests = |n: u32| u64::from(n.min(100) / 5);
        // ... then one answer in flight (a streaming watch) until tick 200.
        let counters = |n: u32| match n {
            0..=100 => (requests(n), requests(n)),
            101..=200 => (requests(n) + 1, requests(n)),
            _ => (requests(n) + 1, requests(n) + 1),
        };
        // The answer ended between tick 200 and 201: the wait counts from 201.
        assert_eq!(overdue_at(timeout, counters), Some(201 + TICKS));
        // A request and its answer between two looks restart the wait as well.
        let one_more = |n: u32| if n < 5 { (0, 0) } else { (1, 1) };
        assert_eq!(overdue_at(timeout, one_more), Some(5 + TICKS));
        // A look between a request's start and its end counts as busy.
        let racing = |n: u32| if n < 3 { (0, 0) } else { (0, 1) };
        assert_eq!(overdue_at(timeout, racing), None);
    }

    #[test]
    fn an_http2_connection_is_recognised() {
        let watch = Arc::new(HeadWatch::default());
        let mut io = Sniffed::new((), watch.clone());
        io.sniff(b"PRI * HTTP/2.0\r\n");
        assert!(watch.http2.load(Ordering::Relaxed));
    }
}
