//! Router tests: request bodies past the 4 MiB limit get the 413 envelope, and the rest of
//! such a body is still read (bounded) first, so an HTTP/1.1 client that is still sending sees
//! the error instead of a connection reset (found by the real-client tests; the TCP side is
//! covered by client-tests `oversize_body_is_refused_on_http1_too`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aksim::limits::{REQUEST_BODY_DRAIN_MAX_BYTES, REQUEST_BODY_MAX_BYTES};
use aksim::AppState;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

const SUB: &str = "00000000-0000-0000-0000-000000000001";
const CHUNK: usize = 256 * 1024;

/// PUTs a body of `total` bytes in 256 KiB chunks; returns the status, the error code and how
/// many bytes the server pulled from the body.
async fn put_streamed(total: usize) -> (StatusCode, String, usize) {
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let chunks = (0..total.div_ceil(CHUNK)).map(move |i| {
        let len = CHUNK.min(total - i * CHUNK);
        counter.fetch_add(len, Ordering::SeqCst);
        Ok::<_, std::io::Error>(Bytes::from(vec![b' '; len]))
    });
    let request = Request::builder()
        .method("PUT")
        .uri(format!(
            "/subscriptions/{SUB}/resourcegroups/rg1?api-version=2024-11-01"
        ))
        .header("host", "sim.test")
        .header("authorization", "Bearer t")
        .header("content-type", "application/json")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .expect("request");
    let response = aksim::app(AppState::for_tests())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let raw = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body: serde_json::Value = serde_json::from_slice(&raw).unwrap_or_default();
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    (status, code, pulled.load(Ordering::SeqCst))
}

#[tokio::test]
async fn oversize_bodies_are_drained_then_refused() {
    // (body size, status, code, whether the whole body was read), data-driven.
    for (total, status, code, drained) in [
        // At the limit: read, then refused as JSON (spaces only) — not a size problem.
        (
            REQUEST_BODY_MAX_BYTES,
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            true,
        ),
        (
            REQUEST_BODY_MAX_BYTES + 1,
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            true,
        ),
        (
            3 * REQUEST_BODY_MAX_BYTES,
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            true,
        ),
        // Past the drain bound the server stops reading.
        (
            REQUEST_BODY_DRAIN_MAX_BYTES + 4 * CHUNK,
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            false,
        ),
    ] {
        let (got_status, got_code, pulled) = put_streamed(total).await;
        assert_eq!(got_status, status, "{total} bytes");
        assert_eq!(got_code, code, "{total} bytes");
        assert_eq!(pulled == total, drained, "{total} bytes, pulled {pulled}");
        assert!(pulled <= REQUEST_BODY_DRAIN_MAX_BYTES + CHUNK, "{pulled}");
    }
}
