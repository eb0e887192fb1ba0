//! Every limit aksim enforces, in one place. `/_sim/info` reports them.
//!
//! Each constant names what it bounds and the error a client gets past it.

/// Largest request body accepted on any endpoint (ARM answers 413 `RequestEntityTooLarge`).
pub const REQUEST_BODY_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Largest snapshot `PUT /_sim/snapshot` accepts (413 `RequestEntityTooLarge` past it, naming
/// it). Far above realistic sizes: a meshed cluster exports about 2.4 KB, so 10,000 of them about
/// 25 MB (their Kubernetes objects add to that once used).
pub const SNAPSHOT_IMPORT_MAX_BYTES: usize = 256 * 1024 * 1024;
/// How much of an oversize body is still read (and dropped) so the client gets the 413 rather
/// than a connection reset; past this the connection is simply closed.
pub const REQUEST_BODY_DRAIN_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Largest request head (request line + headers) over HTTP/1.1 and largest header list over
/// HTTP/2. Past it: 431 Request Header Fields Too Large, then the connection is closed.
pub const REQUEST_HEADER_MAX_BYTES: usize = 64 * 1024;
/// Most header fields in one HTTP/1.1 request (431 past it, then closed). Equal to hyper's
/// default, which keeps hyper's fast stack-allocated header parsing.
pub const REQUEST_HEADERS_MAX: usize = 100;
/// Real seconds a client has to send a complete request head once a request has started
/// (slow-header / "slowloris" guard); past it the connection is closed without an answer.
pub const REQUEST_HEADER_READ_TIMEOUT_SECS: u64 = 30;
/// Real seconds a request may take until its response head (the handler, request body
/// included). Past it: 504 `GatewayTimeout` (ARM) or a 504 `Timeout` Status (`/k8s/...`).
/// Longer than the largest latency fault; a watch's streamed body is not counted (a watch ends
/// at `KUBE_WATCH_TIMEOUT_MAX_SECS`).
pub const REQUEST_TIMEOUT_SECS: u64 = 180;
/// Open client connections served at once. The connection past it gets one answer, 503
/// `ServiceUnavailable` with `Retry-After` (429 `TooManyRequests` Status on `/k8s/...`), and
/// is closed.
pub const CONNECTIONS_MAX: usize = 1024;
/// Connections past `CONNECTIONS_MAX` that are still answered with that 503; past this too
/// they are closed at once, unanswered.
pub const CONNECTIONS_OVERFLOW_MAX: usize = 64;
/// Real seconds an over-the-limit connection is kept to send its 503.
pub const OVERFLOW_CONNECTION_SECS: u64 = 5;
/// Real seconds a client has to finish the TLS handshake (closed past it).
pub const TLS_HANDSHAKE_TIMEOUT_SECS: u64 = 10;
/// Concurrent streams per HTTP/2 connection (hyper's default; further streams are refused
/// with `REFUSED_STREAM`, which clients retry).
pub const HTTP2_MAX_CONCURRENT_STREAMS: u32 = 200;
/// Real seconds open connections get to finish after SIGINT/SIGTERM.
pub const SHUTDOWN_GRACE_SECS: u64 = 5;
/// Longest resource name aksim accepts anywhere in a path segment.
pub const PATH_SEGMENT_MAX_CHARS: usize = 1024;
/// Longest request path accepted (ARM: `InvalidRequestUri`/414 beyond that).
pub const PATH_MAX_CHARS: usize = 8 * 1024;
/// Page size of ARM list responses before a `nextLink` is emitted.
pub const ARM_LIST_PAGE_SIZE: usize = 100;
/// Resource groups one subscription may hold (Azure's own quota is 980).
pub const RESOURCE_GROUPS_PER_SUBSCRIPTION_MAX: usize = 980;
/// Managed clusters one subscription may hold (AKS's documented quota is 5,000 clusters per
/// subscription); a create past it is 409 `QuotaExceeded`.
pub const MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX: usize = 5000;
/// Operation records kept per subscription; the oldest finished ones are dropped first.
pub const OPERATIONS_PER_SUBSCRIPTION_MAX: usize = 10_000;
/// Subscriptions with state held at once (each well-formed GUID is usable on first touch).
pub const SUBSCRIPTIONS_MAX: usize = 100_000;
/// Lifetime of an access token issued by the fake Entra ID, in seconds (what Entra answers).
pub const TOKEN_LIFETIME_SECS: i64 = 3599;
/// Largest clock advance accepted by `/_sim/clock/advance`, in seconds (about 100 years).
pub const CLOCK_ADVANCE_MAX_SECS: f64 = 100.0 * 365.0 * 24.0 * 3600.0;
/// Largest journal the control API can configure.
pub const JOURNAL_CAPACITY_MAX: usize = 1_000_000;
/// `Retry-After` sent on operation status responses. Never 0: azure-core then waits 30 s.
pub const RETRY_AFTER_SECS: u32 = 1;
/// Largest `--registration-seconds` accepted (one day).
pub const REGISTRATION_SECONDS_MAX: f64 = 24.0 * 3600.0;
/// Entries a feature catalogue file may hold.
pub const FEATURE_CATALOG_ENTRIES_MAX: usize = 10_000;
/// Rules a preview-gates file may hold.
pub const PREVIEW_GATES_MAX: usize = 1_000;
/// Objects one cluster's Kubernetes plane holds (a create past it is 403 `Forbidden`).
pub const KUBE_OBJECTS_PER_PLANE_MAX: usize = 20_000;
/// Pods per cluster (a pod past it, a user's or a controller's, is refused: 403 Forbidden
/// `too many pods`; its controller reports `ReplicaFailure`).
pub const KUBE_PODS_PER_PLANE_MAX: usize = 12_000;
/// Longest label value and label/annotation key name part (kube-apiserver's own limit; 422).
pub const KUBE_LABEL_VALUE_MAX_CHARS: usize = 63;
/// Longest name part of a label or annotation key (kube-apiserver's own limit; 422).
pub const KUBE_LABEL_NAME_MAX_CHARS: usize = 63;
/// Total size of an object's annotations (kube-apiserver's own limit, 256 KiB; 422).
pub const KUBE_ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;
/// Longest `labelSelector` accepted (400 beyond).
pub const KUBE_SELECTOR_MAX_CHARS: usize = 4096;
/// Largest page of a list with a `limit`; a bigger `limit` gets this many and a `continue`
/// token. A list without `limit` returns every match (bounded by `KUBE_OBJECTS_PER_PLANE_MAX`).
pub const KUBE_LIST_PAGE_MAX: usize = 500;
/// Watch events kept per plane for resuming from a `resourceVersion` (older → 410 `Expired`).
pub const KUBE_WATCH_HISTORY_MAX: usize = 1000;
/// Live events buffered per watcher; a watcher that falls further behind is ended.
pub const KUBE_WATCH_CHANNEL_CAPACITY: usize = 1024;
/// Longest watch, in real seconds (`timeoutSeconds` is capped to this; it is also the default).
pub const KUBE_WATCH_TIMEOUT_MAX_SECS: u64 = 1800;
/// How often an idle watch looks at the virtual clock for due namespace deletions (real ms).
pub const KUBE_WATCH_IDLE_SETTLE_MILLIS: u64 = 200;
/// Virtual seconds a deleted namespace stays `Terminating` (per plane, see `Plane`).
pub const KUBE_NAMESPACE_TERMINATION_SECS: f64 = 5.0;
/// Mesh changes a never-used plane records before it builds its objects (see `kube::Lazy`).
pub const KUBE_LAZY_RECONCILES_MAX: usize = 16;

/// The limits as JSON, for `/_sim/info`.
pub fn as_json() -> serde_json::Value {
    serde_json::json!({
        "requestBodyMaxBytes": REQUEST_BODY_MAX_BYTES,
        "requestBodyDrainMaxBytes": REQUEST_BODY_DRAIN_MAX_BYTES,
        "snapshotImportMaxBytes": SNAPSHOT_IMPORT_MAX_BYTES,
        "requestHeaderMaxBytes": REQUEST_HEADER_MAX_BYTES,
        "requestHeadersMax": REQUEST_HEADERS_MAX,
        "requestHeaderReadTimeoutSecs": REQUEST_HEADER_READ_TIMEOUT_SECS,
        "requestTimeoutSecs": REQUEST_TIMEOUT_SECS,
        "connectionsMax": CONNECTIONS_MAX,
        "connectionsOverflowMax": CONNECTIONS_OVERFLOW_MAX,
        "overflowConnectionSecs": OVERFLOW_CONNECTION_SECS,
        "tlsHandshakeTimeoutSecs": TLS_HANDSHAKE_TIMEOUT_SECS,
        "http2MaxConcurrentStreams": HTTP2_MAX_CONCURRENT_STREAMS,
        "shutdownGraceSecs": SHUTDOWN_GRACE_SECS,
        "pathSegmentMaxChars": PATH_SEGMENT_MAX_CHARS,
        "pathMaxChars": PATH_MAX_CHARS,
        "armListPageSize": ARM_LIST_PAGE_SIZE,
        "resourceGroupsPerSubscriptionMax": RESOURCE_GROUPS_PER_SUBSCRIPTION_MAX,
        "managedClustersPerSubscriptionMax": MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX,
        "operationsPerSubscriptionMax": OPERATIONS_PER_SUBSCRIPTION_MAX,
        "subscriptionsMax": SUBSCRIPTIONS_MAX,
        "tokenLifetimeSecs": TOKEN_LIFETIME_SECS,
        "clockAdvanceMaxSecs": CLOCK_ADVANCE_MAX_SECS,
        "retryAfterSecs": RETRY_AFTER_SECS,
        "journalCapacityMax": JOURNAL_CAPACITY_MAX,
        "registrationSecondsMax": REGISTRATION_SECONDS_MAX,
        "featureCatalogEntriesMax": FEATURE_CATALOG_ENTRIES_MAX,
        "previewGatesMax": PREVIEW_GATES_MAX,
        "kubeObjectsPerPlaneMax": KUBE_OBJECTS_PER_PLANE_MAX,
        "kubePodsPerPlaneMax": KUBE_PODS_PER_PLANE_MAX,
        "kubeLabelValueMaxChars": KUBE_LABEL_VALUE_MAX_CHARS,
        "kubeLabelNameMaxChars": KUBE_LABEL_NAME_MAX_CHARS,
        "kubeAnnotationsMaxBytes": KUBE_ANNOTATIONS_MAX_BYTES,
        "kubeSelectorMaxChars": KUBE_SELECTOR_MAX_CHARS,
        "kubeListPageMax": KUBE_LIST_PAGE_MAX,
        "kubeWatchHistoryMax": KUBE_WATCH_HISTORY_MAX,
        "kubeWatchChannelCapacity": KUBE_WATCH_CHANNEL_CAPACITY,
        "kubeWatchTimeoutMaxSecs": KUBE_WATCH_TIMEOUT_MAX_SECS,
        "kubeWatchIdleSettleMillis": KUBE_WATCH_IDLE_SETTLE_MILLIS,
        "kubeNamespaceTerminationSecs": KUBE_NAMESPACE_TERMINATION_SECS,
        "kubeLazyReconcilesMax": KUBE_LAZY_RECONCILES_MAX,
    })
}
