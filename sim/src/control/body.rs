//! Control request bodies, read as a stream up to a limit: `REQUEST_BODY_MAX_BYTES` (what ARM
//! takes) for every control endpoint, `SNAPSHOT_IMPORT_MAX_BYTES` for snapshot imports. Past
//! the limit the answer is ARM's 413 `RequestEntityTooLarge` naming it — never axum's
//! plain-text 413. As on ARM paths, the rest of an oversize body is still read and dropped (up
//! to `REQUEST_BODY_DRAIN_MAX_BYTES`) before the answer goes out, so an HTTP/1.1 client that is
//! still sending reads the 413 instead of a reset connection; a body announced bigger than the
//! limit plus that is answered at once.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;

use crate::arm::error::ArmError;
use crate::limits::{
    REQUEST_BODY_DRAIN_MAX_BYTES, REQUEST_BODY_MAX_BYTES, SNAPSHOT_IMPORT_MAX_BYTES,
};

/// A control endpoint's body (at most `REQUEST_BODY_MAX_BYTES`).
pub struct ControlBody(pub Bytes);

/// A snapshot import's body (at most `SNAPSHOT_IMPORT_MAX_BYTES`).
pub struct SnapshotBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ControlBody {
    type Rejection = ArmError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ArmError> {
        read(request, REQUEST_BODY_MAX_BYTES).await.map(ControlBody)
    }
}

impl<S: Send + Sync> FromRequest<S> for SnapshotBody {
    type Rejection = ArmError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ArmError> {
        read(request, SNAPSHOT_IMPORT_MAX_BYTES)
            .await
            .map(SnapshotBody)
    }
}

async fn read(request: Request, limit: usize) -> Result<Bytes, ArmError> {
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    read_limited(request.into_body(), announced, limit).await
}

/// Reads `body` whole if it is at most `limit` bytes; else the 413 (after draining).
pub async fn read_limited(
    body: Body,
    announced: Option<u64>,
    limit: usize,
) -> Result<Bytes, ArmError> {
    use futures_util::StreamExt;
    let too_large = || ArmError::request_too_large(limit);
    let drain_max = limit.saturating_add(REQUEST_BODY_DRAIN_MAX_BYTES);
    if announced.is_some_and(|n| n > drain_max as u64) {
        return Err(too_large());
    }
    let mut kept = bytes::BytesMut::with_capacity(
        announced.map_or(0, |n| usize::try_from(n).unwrap_or(0).min(limit)),
    );
    let mut seen: usize = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ArmError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "InvalidControlRequest",
                format!("the request body could not be read: {e}"),
            )
        })?;
        seen = seen.saturating_add(chunk.len());
        if seen > drain_max {
            return Err(too_large());
        }
        if seen <= limit {
            kept.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(too_large());
    }
    Ok(kept.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(parts: usize, size: usize) -> Body {
        let chunks =
            (0..parts).map(move |_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; size])));
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    #[tokio::test]
    async fn a_stream_is_kept_up_to_the_limit_and_refused_past_it() {
        let kept = read_limited(chunked(4, 10), None, 40).await.unwrap();
        assert_eq!(kept.len(), 40);
        let refused = read_limited(chunked(5, 10), None, 40).await.unwrap_err();
        assert_eq!(refused.status.as_u16(), 413);
        assert!(
            refused.body.message.contains("40 bytes"),
            "{}",
            refused.body.message
        );
        let announced = read_limited(chunked(1, 1), Some(u64::MAX), 40)
            .await
            .unwrap_err();
        assert_eq!(announced.status.as_u16(), 413);
    }
}
