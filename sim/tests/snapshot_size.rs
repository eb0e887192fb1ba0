//! Snapshots of realistic and larger sizes over real sockets: whatever export produces, import
//! accepts (over HTTP/1.1 and HTTP/2, and through `aksim ctl`), up to
//! `limits::SNAPSHOT_IMPORT_MAX_BYTES`; past it, and past `REQUEST_BODY_MAX_BYTES` on the other
//! control endpoints, the answer is a 413 in the ARM envelope that names the limit.

use std::io::{Read, Write};

use aksim::limits::{
    REQUEST_BODY_DRAIN_MAX_BYTES, REQUEST_BODY_MAX_BYTES, SNAPSHOT_IMPORT_MAX_BYTES,
};
use serde_json::{json, Value};
use tower::ServiceExt;

/// Fills two subscriptions with 400 tagged groups each (about 8 MB of snapshot).
async fn populate(state: &aksim::AppState) {
    let app = aksim::app(state.clone());
    let tags: serde_json::Map<String, Value> = (0..40)
        .map(|i| (format!("tag{i:02}"), Value::String("v".repeat(256))))
        .collect();
    for sub in [
        "00000000-0000-0000-0000-0000000000a1",
        "00000000-0000-0000-0000-0000000000a2",
    ] {
        for g in 0..400 {
            let body = json!({"location": "eastus", "tags": tags});
            let request = axum::http::Request::builder()
                .method("PUT")
                .uri(format!(
                    "/subscriptions/{sub}/resourcegroups/rg{g}?api-version=2024-11-01"
                ))
                .header("authorization", "Bearer t")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 201);
        }
    }
}

struct Served {
    url: String,
    ca_pem: String,
    ca_path: std::path::PathBuf,
    state: aksim::AppState,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// aksim over HTTPS on a free port.
async fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let config = aksim::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls_dir: Some(dir.path().to_path_buf()),
        ..aksim::Config::default()
    };
    let prepared = aksim::prepare(config).unwrap();
    let tls = prepared.tls.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aksim::serve(
        listener,
        Some(tls.server_config),
        aksim::app(prepared.state.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    Served {
        url,
        ca_pem: tls.ca_pem,
        ca_path: tls.ca_path,
        state: prepared.state,
        _dir: dir,
        _stop: stop,
    }
}

fn client(ca_pem: &str, http2: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .timeout(std::time::Duration::from_secs(120));
    let builder = if http2 {
        builder.http2_prior_knowledge()
    } else {
        builder.http1_only()
    };
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_megabytes_imports_over_http1_http2_and_ctl() {
    let served = serve().await;
    populate(&served.state).await;
    let http1 = client(&served.ca_pem, false);
    let exported = http1
        .get(format!("{}/_sim/snapshot", served.url))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        exported.len() > 4_300_000,
        "the snapshot is {} bytes",
        exported.len()
    );
    for (name, http) in [
        ("HTTP/1.1", http1),
        ("HTTP/2", client(&served.ca_pem, true)),
    ] {
        served.state.reset();
        let response = http
            .put(format!("{}/_sim/snapshot", served.url))
            .header("content-type", "application/json")
            .body(exported.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["imported"], 2, "{name}");
        assert_eq!(served.state.core.store.touched_ids().len(), 2, "{name}");
    }

    served.state.reset();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    std::fs::write(&file, &exported).unwrap();
    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: aksim::ctl::CtlArgs,
    }
    let args = <Wrapper as clap::Parser>::try_parse_from([
        "ctl",
        "--url",
        &served.url,
        "--ca",
        served.ca_path.to_str().unwrap(),
        "snapshot",
        "import",
        file.to_str().unwrap(),
    ])
    .unwrap()
    .args;
    let out = aksim::ctl::run(args).await.expect("ctl imports it");
    assert!(out.contains("\"imported\": 2"), "{out}");
}

/// A raw HTTP/1.1 exchange on a plain-HTTP aksim: the request head (and `body`), then
/// everything the server answers until it closes.
fn raw_exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The JSON body of a raw HTTP/1.1 answer.
fn body_of(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_limits_control_bodies_get_the_arm_413_naming_the_limit() {
    let state = aksim::AppState::for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aksim::serve(listener, None, aksim::app(state), async {
        let _ = stopped.await;
    }));
    let announced = SNAPSHOT_IMPORT_MAX_BYTES + REQUEST_BODY_DRAIN_MAX_BYTES + 1;
    let answer = tokio::task::spawn_blocking(move || {
        raw_exchange(
            addr,
            &format!(
                "PUT /_sim/snapshot HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {announced}\r\n\r\n"
            ),
            b"{",
        )
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body = body_of(&answer);
    assert_eq!(body["error"]["code"], "RequestEntityTooLarge", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&SNAPSHOT_IMPORT_MAX_BYTES.to_string()),
        "{body}"
    );

    // Other control endpoints take what ARM takes: a body of 3 MB is read (and refused as
    // the wrong shape), one past REQUEST_BODY_MAX_BYTES is a 413 naming that limit.
    let three_mb = format!("{{\"method\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let too_big = "x".repeat(REQUEST_BODY_MAX_BYTES + 1);
    for (body, status, code, limit) in [
        (three_mb, 400, "InvalidControlRequest", None),
        (
            too_big,
            413,
            "RequestEntityTooLarge",
            Some(REQUEST_BODY_MAX_BYTES),
        ),
    ] {
        let answer = tokio::task::spawn_blocking(move || {
            raw_exchange(
                addr,
                &format!(
                    "POST /_sim/journal/verify HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                ),
                body.as_bytes(),
            )
        })
        .await
        .unwrap();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer:.300}"
        );
        let json = body_of(&answer);
        assert_eq!(json["error"]["code"], code, "{json}");
        if let Some(limit) = limit {
            assert!(json["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&limit.to_string()));
        }
    }
}
