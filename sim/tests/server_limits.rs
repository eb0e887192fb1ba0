//! The connection-level limits of `aksim::serve_with` (sim/src/limits.rs), over real sockets on
//! 127.0.0.1:0: the request-head size and count (431), the slow-header read timeout (closed),
//! the connection limit (503 `ServiceUnavailable` / 429 `TooManyRequests`, then a free slot
//! serves again; the overflow bounded in number and time), the TLS handshake timeout, the
//! whole-request deadline (504 `GatewayTimeout` / `Timeout` Status) and a
//! watch streaming past that deadline. Timeouts are shrunk through `ServerLimits` so each test
//! waits only as long as the timeout it checks.

mod common;

use std::time::Duration;

use aksim::core::clusters::cluster_key;
use aksim::core::kube::Plane;
use aksim::ServerLimits;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use common::{Sim, SUB};

/// How long any single socket read in these tests may take before the test fails.
const READ_BOUND: Duration = Duration::from_secs(10);
const TOKEN: &str = "limits-token";

struct Server {
    state: aksim::AppState,
    addr: std::net::SocketAddr,
    /// Sending (or dropping) stops the server: its accept loop ends, then its connections.
    stop: tokio::sync::oneshot::Sender<()>,
    /// The server's task, done once every connection is.
    served: tokio::task::JoinHandle<()>,
}

async fn start(limits: ServerLimits) -> Server {
    let state = aksim::AppState::for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(aksim::serve_with(
        listener,
        None,
        aksim::app(state.clone()),
        async {
            let _ = stopped.await;
        },
        limits,
    ));
    Server {
        state,
        addr,
        stop,
        served,
    }
}

/// Reads until the peer closes (or `READ_BOUND` passes, which fails the test).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(READ_BOUND, stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one response (head + a `content-length` body) from a kept-alive connection.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(READ_BOUND, stream.read(&mut chunk))
            .await
            .expect("a response in time")
            .expect("read");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

fn body_json(response: &str) -> Value {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body ({e}): {response}"))
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\n\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_header_block_gets_431_and_a_close() {
    let server = start(ServerLimits::default()).await;
    let cases = [
        (
            "one header past REQUEST_HEADER_MAX_BYTES",
            format!(
                "GET /_sim/health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
                "a".repeat(aksim::limits::REQUEST_HEADER_MAX_BYTES)
            ),
        ),
        (
            "more than REQUEST_HEADERS_MAX fields",
            format!(
                "GET /_sim/health HTTP/1.1\r\nhost: x\r\n{}\r\n",
                (0..=aksim::limits::REQUEST_HEADERS_MAX)
                    .map(|i| format!("x-h{i}: v\r\n"))
                    .collect::<String>()
            ),
        ),
    ];
    for (what, request) in cases {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        // The server may answer and close before it has read everything: ignore write errors.
        let _ = stream.write_all(request.as_bytes()).await;
        let response = read_to_close(&mut stream).await;
        assert!(
            status_line(&response).starts_with("HTTP/1.1 431"),
            "{what}: {response}"
        );
    }
    // Just under both limits is served.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let headers: String = (0..aksim::limits::REQUEST_HEADERS_MAX - 2)
        .map(|i| format!("x-h{i}: v\r\n"))
        .collect();
    let request = format!(
        "GET /_sim/health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n{headers}\r\n",
        "a".repeat(aksim::limits::REQUEST_HEADER_MAX_BYTES - 8 * 1024)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let response = read_response(&mut stream).await;
    assert!(
        status_line(&response).starts_with("HTTP/1.1 200"),
        "{response}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_header_is_cut_off_at_the_header_read_timeout() {
    let server = start(ServerLimits {
        header_read_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let started = std::time::Instant::now();
    stream
        .write_all(b"GET /_sim/health HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let response = read_to_close(&mut stream).await;
    assert_eq!(response, "", "closed without an answer");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
    // A complete head on a fresh connection is answered as usual; the same timer then runs
    // while the kept-alive connection waits for its next head, from the end of the answer.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(get("/_sim/health").as_bytes())
        .await
        .unwrap();
    assert!(status_line(&read_response(&mut stream).await).starts_with("HTTP/1.1 200"));
    let answered = std::time::Instant::now();
    stream
        .write_all(b"GET /_sim/health HTTP/1.1\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_to_close(&mut stream).await,
        "",
        "closed without an answer"
    );
    let waited = answered.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_connection_is_not_cut_at_the_header_read_timeout() {
    let server = start(ServerLimits {
        header_read_timeout: Duration::from_millis(200),
        ..ServerLimits::default()
    })
    .await;
    // HTTP/2 with prior knowledge: the preface and an empty SETTINGS frame.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    // Past three timeouts nothing closes it (only the server's SETTINGS frames arrive)...
    let mut seen = Vec::new();
    let mut chunk = [0u8; 1024];
    let quiet = tokio::time::timeout(Duration::from_millis(600), async {
        loop {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed within the header read timeout");
            seen.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    assert!(quiet.is_err(), "the connection stays open");
    // ... and it still answers a PING.
    stream
        .write_all(b"\0\0\x08\x06\0\0\0\0\0aksimpng")
        .await
        .unwrap();
    let ack = b"\0\0\x08\x06\x01\0\0\0\0aksimpng";
    while !seen.windows(ack.len()).any(|w| w == ack) {
        let n = tokio::time::timeout(READ_BOUND, stream.read(&mut chunk))
            .await
            .expect("the PING ack")
            .expect("read");
        assert!(n > 0, "closed before the PING ack");
        seen.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_get_503_or_429_and_a_freed_slot_serves_again() {
    let server = start(ServerLimits {
        connections_max: 2,
        connections_overflow_max: 2,
        ..ServerLimits::default()
    })
    .await;
    // Two kept-alive connections take both slots (each answered once, so surely accepted).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(get("/_sim/health").as_bytes())
            .await
            .unwrap();
        assert!(status_line(&read_response(&mut stream).await).starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    // ARM paths: 503 ServiceUnavailable in the ARM envelope, Retry-After, then closed.
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    third
        .write_all(
            get(&format!(
                "/subscriptions/{SUB}/resourcegroups?api-version=2024-11-01"
            ))
            .as_bytes(),
        )
        .await
        .unwrap();
    let response = read_to_close(&mut third).await;
    assert!(
        status_line(&response).starts_with("HTTP/1.1 503"),
        "{response}"
    );
    assert!(
        response
            .to_ascii_lowercase()
            .contains("\r\nretry-after: 1\r\n"),
        "{response}"
    );
    assert_eq!(body_json(&response)["error"]["code"], "ServiceUnavailable");
    // Kubernetes paths: kube-apiserver's 429 TooManyRequests Status.
    let mut fourth = TcpStream::connect(server.addr).await.unwrap();
    fourth
        .write_all(get(&format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces")).as_bytes())
        .await
        .unwrap();
    let response = read_to_close(&mut fourth).await;
    assert!(
        status_line(&response).starts_with("HTTP/1.1 429"),
        "{response}"
    );
    let status = body_json(&response);
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "TooManyRequests");
    assert_eq!(status["details"]["retryAfterSeconds"], 1);
    // Closing a held connection frees its slot: a new connection is served normally. The
    // server notices the close asynchronously, so a few attempts are allowed.
    drop(held.pop());
    let mut served = false;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(get("/_sim/health").as_bytes())
            .await
            .unwrap();
        let response = read_response(&mut stream).await;
        if status_line(&response).starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        assert!(
            status_line(&response).starts_with("HTTP/1.1 503"),
            "{response}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "a freed slot serves again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_the_deadline_gets_504_in_its_envelope() {
    let server = start(ServerLimits {
        request_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    })
    .await;
    // A body announced but never sent keeps the handler waiting past the deadline.
    let cases = [
        (
            format!("/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-06-01"),
            "GatewayTimeout",
        ),
        (
            format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces"),
            "Timeout",
        ),
    ];
    for (path, code) in cases {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "PUT {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let response = read_response(&mut stream).await;
        assert!(
            status_line(&response).starts_with("HTTP/1.1 504"),
            "{path}: {response}"
        );
        let body = body_json(&response);
        if code == "GatewayTimeout" {
            assert_eq!(body["error"]["code"], code, "{body}");
            assert_eq!(
                body["error"]["message"],
                "The gateway did not receive a response from 'Microsoft.ContainerService' \
                 within the specified time period."
            );
        } else {
            assert_eq!(body["kind"], "Status", "{body}");
            assert_eq!(body["reason"], code, "{body}");
            assert_eq!(body["code"], 504, "{body}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_streams_past_the_request_deadline() {
    // ... and past the header read timeout: an answer in flight is not waiting for a head.
    let server = start(ServerLimits {
        request_timeout: Duration::from_millis(200),
        header_read_timeout: Duration::from_millis(200),
        ..ServerLimits::default()
    })
    .await;
    let now = server.state.core.clock.now();
    server.state.core.store.with(SUB, now, |s| {
        s.clusters
            .planes
            .insert(cluster_key("rg1", "c1"), Plane::new("1.33.2", TOKEN, now))
    });
    let base = format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces");
    let mut watch = TcpStream::connect(server.addr).await.unwrap();
    watch
        .write_all(
            get(&format!(
                "{base}?watch=1&resourceVersion=0&timeoutSeconds=30"
            ))
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut seen = String::new();
    let mut chunk = [0u8; 8192];
    while !seen.contains("\r\n\r\n") {
        let n = tokio::time::timeout(READ_BOUND, watch.read(&mut chunk))
            .await
            .expect("the watch head")
            .unwrap();
        assert!(n > 0, "closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    assert!(status_line(&seen).starts_with("HTTP/1.1 200"), "{seen}");
    // Outlive the deadline (the one real wait this test needs), then create a namespace: the
    // watch still delivers it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let body =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "late"}}).to_string();
    let mut create = TcpStream::connect(server.addr).await.unwrap();
    create
        .write_all(
            format!(
                "POST {base} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    assert!(status_line(&read_response(&mut create).await).starts_with("HTTP/1.1 201"));
    while !seen.contains("\"late\"") {
        let n = tokio::time::timeout(READ_BOUND, watch.read(&mut chunk))
            .await
            .expect("the ADDED event")
            .unwrap();
        assert!(n > 0, "the watch ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    assert!(seen.contains("\"ADDED\""), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_reports_every_server_limit() {
    let sim = Sim::new();
    let info = sim.get("/_sim/info").await;
    let limits = &info.body["limits"];
    for (key, value) in [
        (
            "requestHeaderMaxBytes",
            aksim::limits::REQUEST_HEADER_MAX_BYTES as u64,
        ),
        (
            "requestHeadersMax",
            aksim::limits::REQUEST_HEADERS_MAX as u64,
        ),
        (
            "requestHeaderReadTimeoutSecs",
            aksim::limits::REQUEST_HEADER_READ_TIMEOUT_SECS,
        ),
        ("requestTimeoutSecs", aksim::limits::REQUEST_TIMEOUT_SECS),
        ("connectionsMax", aksim::limits::CONNECTIONS_MAX as u64),
        (
            "connectionsOverflowMax",
            aksim::limits::CONNECTIONS_OVERFLOW_MAX as u64,
        ),
        (
            "overflowConnectionSecs",
            aksim::limits::OVERFLOW_CONNECTION_SECS,
        ),
        (
            "tlsHandshakeTimeoutSecs",
            aksim::limits::TLS_HANDSHAKE_TIMEOUT_SECS,
        ),
        (
            "http2MaxConcurrentStreams",
            u64::from(aksim::limits::HTTP2_MAX_CONCURRENT_STREAMS),
        ),
        ("shutdownGraceSecs", aksim::limits::SHUTDOWN_GRACE_SECS),
        (
            "managedClustersPerSubscriptionMax",
            aksim::limits::MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX as u64,
        ),
    ] {
        assert_eq!(limits[key], json!(value), "{key}: {limits:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_tls_handshake_is_closed_at_the_handshake_timeout() {
    let tls_dir = tempfile::tempdir().unwrap();
    let mut config = aksim::Config::for_tests();
    config.http = false;
    config.tls_dir = Some(tls_dir.path().to_path_buf());
    let prepared = aksim::prepare(config).expect("prepare");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aksim::serve_with(
        listener,
        prepared.tls.map(|t| t.server_config),
        aksim::app(prepared.state),
        async {
            let _ = stopped.await;
        },
        ServerLimits {
            tls_handshake_timeout: Duration::from_millis(300),
            ..ServerLimits::default()
        },
    ));
    // Connect and never send a ClientHello.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        read_to_close(&mut stream).await,
        "",
        "closed without a byte"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflow_connections_are_bounded_in_number_and_time() {
    // No normal slot at all: every connection is an overflow connection, and only one at once.
    let server = start(ServerLimits {
        connections_max: 0,
        connections_overflow_max: 1,
        overflow_connection: Duration::from_secs(1),
        ..ServerLimits::default()
    })
    .await;
    let started = std::time::Instant::now();
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    // The second is past the overflow too: closed at once, unanswered.
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(read_to_close(&mut second).await, "", "closed unanswered");
    let second_closed = started.elapsed();
    // The first, silent, is dropped when OVERFLOW_CONNECTION_SECS (here 1 s) is up.
    assert_eq!(read_to_close(&mut first).await, "", "dropped unanswered");
    let first_closed = started.elapsed();
    assert!(
        second_closed < Duration::from_millis(800) && first_closed >= Duration::from_millis(900),
        "second closed after {second_closed:?}, first after {first_closed:?}"
    );
    // Its slot is free again: the next connection gets the 503.
    let mut answered = None;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let _ = stream.write_all(get("/_sim/health").as_bytes()).await;
        let response = read_to_close(&mut stream).await;
        if !response.is_empty() {
            answered = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let response = answered.expect("a freed overflow slot answers");
    assert!(
        status_line(&response).starts_with("HTTP/1.1 503"),
        "{response}"
    );
}

/// Plain HTTP on the TLS port gets what Go's and nginx's servers answer: a plain-text 400
/// naming the https:// URL (HTTP/2's cleartext preface too), not TLS bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_on_the_tls_port_gets_a_400_naming_https() {
    let tls_dir = tempfile::tempdir().unwrap();
    let mut config = aksim::Config::for_tests();
    config.http = false;
    config.tls_dir = Some(tls_dir.path().to_path_buf());
    let prepared = aksim::prepare(config).expect("prepare");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aksim::serve(
        listener,
        prepared.tls.map(|t| t.server_config),
        aksim::app(prepared.state),
        async {
            let _ = stopped.await;
        },
    ));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /_sim/health?x=1 HTTP/1.1\r\nHost: aksim.local:8443\r\nUser-Agent: curl\r\n\r\n",
        )
        .await
        .unwrap();
    let answer = read_to_close(&mut stream).await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("content-type: text/plain"), "{answer}");
    assert!(
        answer.ends_with(
            "\r\n\r\nthis port speaks HTTPS: use https://aksim.local:8443/_sim/health?x=1\n"
        ),
        "{answer}"
    );
    let mut h2 = TcpStream::connect(addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut h2).await;
    assert!(
        answer.starts_with("HTTP/1.1 400") && answer.contains(&format!("use https://{addr}/")),
        "{answer}"
    );
    // A TLS client still gets TLS on the same port.
    let pem = std::fs::read(tls_dir.path().join("ca.pem")).unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let health = https
        .get(format!("https://127.0.0.1:{}/_sim/health", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_answers_in_flight_finish_and_closes_idle_connections() {
    let Server {
        state,
        addr,
        stop,
        served,
    } = start(ServerLimits::default()).await;
    let spec: aksim::control::faults::FaultSpec = serde_json::from_value(
        json!({"path": "/tenants", "action": {"type": "latency", "ms": 400}}),
    )
    .unwrap();
    state.faults.add(spec, "slow".into()).unwrap();
    // A kept-alive connection waiting for its next request...
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(get("/_sim/health").as_bytes())
        .await
        .unwrap();
    assert!(status_line(&read_response(&mut idle).await).starts_with("HTTP/1.1 200"));
    // ... and one whose answer is in flight (the latency fault holds it).
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(get("/tenants?api-version=2022-12-01").as_bytes())
        .await
        .unwrap();
    tokio::time::timeout(READ_BOUND, async {
        while state.faults.list()[0].fired == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the request reaches the fault");
    let _ = stop.send(());
    // The idle connection is closed at once, without an answer; the busy one gets its answer.
    let started = std::time::Instant::now();
    assert_eq!(read_to_close(&mut idle).await, "");
    assert!(started.elapsed() < Duration::from_millis(400));
    let answer = read_to_close(&mut busy).await;
    assert!(status_line(&answer).starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::timeout(READ_BOUND, served)
        .await
        .expect("the server stops once its connections are done")
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}
