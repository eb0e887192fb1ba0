//! How many create-PUT + operation-poll + GET cycles aksim completes per second, in-process
//! (no sockets: this measures the simulator, not the network). Each cycle creates a new
//! cluster in one of 64 subscriptions, polls its operation to Succeeded and reads it back.
//!
//! Usage: `lro_cycles [CYCLES] [mesh]` (default 20000; `mesh` creates every cluster with the
//! Istio add-on, which also materialises the add-on's objects in its Kubernetes plane).
//! Prints `cycles/s`.

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

fn main() {
    let cycles: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mesh = std::env::args().nth(2).as_deref() == Some("mesh");
    let mut config = aksim::Config::for_tests();
    config.auto_register_providers = true;
    config.journal_size = 0;
    let state = aksim::AppState::new(config, aksim::identity::TokenIssuer::ephemeral(), None)
        .expect("state");
    let app = aksim::app(state);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let send = move |method: &str, uri: String, body: Option<&'static str>| {
            let app = app.clone();
            let request = Request::builder()
                .method(method)
                .uri(uri)
                .header("host", "bench")
                .header("authorization", "Bearer x")
                .header("content-type", "application/json")
                .body(body.map(Body::from).unwrap_or_else(Body::empty))
                .expect("request");
            async move {
                let response = app.oneshot(request).await.expect("infallible");
                let status = response.status();
                let headers = response.headers().clone();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
                (status, headers, bytes)
            }
        };
        let subs: Vec<String> = (0..64).map(|i| format!("00000000-0000-0000-0000-{i:012}")).collect();
        for sub in &subs {
            let (s, _, _) = send("PUT", format!("/subscriptions/{sub}/resourcegroups/rg?api-version=2024-11-01"), Some(r#"{"location":"eastus"}"#)).await;
            assert!(s.is_success());
        }
        let body: &'static str = if mesh {
            r#"{"location":"eastus","properties":{"dnsPrefix":"c","agentPoolProfiles":[{"name":"np1","count":1,"mode":"System"}],"serviceMeshProfile":{"mode":"Istio","istio":{}}}}"#
        } else {
            r#"{"location":"eastus","properties":{"dnsPrefix":"c","agentPoolProfiles":[{"name":"np1","count":1,"mode":"System"}]}}"#
        };
        let started = std::time::Instant::now();
        let tasks: Vec<_> = (0..2).map(|worker| {
            let subs = subs.clone();
            let send = send.clone();
            tokio::spawn(async move {
                for i in (worker..cycles).step_by(2) {
                    let sub = &subs[i % subs.len()];
                    let cluster = format!("/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c{i}");
                    let (s, h, _) = send("PUT", format!("{cluster}?api-version=2026-06-01"), Some(body)).await;
                    assert_eq!(s.as_u16(), 201);
                    let op = h["azure-asyncoperation"].to_str().expect("header").trim_start_matches("http://bench").to_owned();
                    let (s, _, b) = send("GET", op, None).await;
                    assert!(s.is_success() && b.windows(9).any(|w| w == b"Succeeded"));
                    let (s, _, _) = send("GET", format!("{cluster}?api-version=2026-06-01"), None).await;
                    assert!(s.is_success());
                }
            })
        }).collect();
        for t in tasks {
            t.await.expect("worker");
        }
        let secs = started.elapsed().as_secs_f64();
        println!("{cycles} cycles in {secs:.2}s = {:.0} cycles/s ({:.0} requests/s)", cycles as f64 / secs, 3.0 * cycles as f64 / secs);
    });
}
