//! Resident memory per managed cluster, in-process: builds the app like `lro_cycles`, creates
//! N clusters in 64 subscriptions through the real HTTP handlers (PUT, poll the operation to
//! Succeeded, GET), then prints the process's VmRSS from `/proc/self/status` before and after.
//!
//! Usage: `rss_clusters [CLUSTERS] [mesh] [kube]` (default 10000; `mesh` creates every cluster
//! with the Istio add-on; `kube` also fetches each cluster's credentials and lists its
//! namespaces, which builds its Kubernetes plane). Run it in release mode:
//! `cargo run --release -p aksim --example rss_clusters -- 10000 mesh`.

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use tower::ServiceExt;

/// `VmRSS` of this process in KiB (0 where `/proc` is missing).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let clusters: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let args: Vec<String> = std::env::args().skip(2).collect();
    let mesh = args.iter().any(|a| a == "mesh");
    let kube = args.iter().any(|a| a == "kube");
    let mut config = aksim::Config::for_tests();
    config.auto_register_providers = true;
    config.journal_size = 0;
    let state = aksim::AppState::new(config, aksim::identity::TokenIssuer::ephemeral(), None)
        .expect("state");
    let app = aksim::app(state);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let send_as = move |method: &str, uri: String, body: Option<&'static str>, bearer: String| {
            let app = app.clone();
            let request = Request::builder()
                .method(method)
                .uri(uri)
                .header("host", "bench")
                .header("authorization", format!("Bearer {bearer}"))
                .header("content-type", "application/json")
                .body(body.map(Body::from).unwrap_or_else(Body::empty))
                .expect("request");
            async move {
                let response = app.oneshot(request).await.expect("infallible");
                let status = response.status();
                let headers = response.headers().clone();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body");
                (status, headers, bytes)
            }
        };
        let send = {
            let send_as = send_as.clone();
            move |method: &str, uri: String, body: Option<&'static str>| {
                send_as(method, uri, body, "x".to_owned())
            }
        };
        let subs: Vec<String> = (0..64)
            .map(|i| format!("00000000-0000-0000-0000-{i:012}"))
            .collect();
        for sub in &subs {
            let uri = format!("/subscriptions/{sub}/resourcegroups/rg?api-version=2024-11-01");
            let (s, _, _) = send("PUT", uri, Some(r#"{"location":"eastus"}"#)).await;
            assert!(s.is_success());
        }
        let before = rss_kib();
        let body: &'static str = if mesh {
            r#"{"location":"eastus","properties":{"dnsPrefix":"c","agentPoolProfiles":[{"name":"np1","count":1,"mode":"System"}],"serviceMeshProfile":{"mode":"Istio","istio":{}}}}"#
        } else {
            r#"{"location":"eastus","properties":{"dnsPrefix":"c","agentPoolProfiles":[{"name":"np1","count":1,"mode":"System"}]}}"#
        };
        let started = std::time::Instant::now();
        for i in 0..clusters {
            let sub = &subs[i % subs.len()];
            let cluster = format!(
                "/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c{i}"
            );
            let (s, h, _) = send("PUT", format!("{cluster}?api-version=2026-06-01"), Some(body)).await;
            assert_eq!(s.as_u16(), 201);
            let op = h["azure-asyncoperation"]
                .to_str()
                .expect("header")
                .trim_start_matches("http://bench")
                .to_owned();
            let (s, _, b) = send("GET", op, None).await;
            assert!(s.is_success() && b.windows(9).any(|w| w == b"Succeeded"));
            let (s, _, _) = send("GET", format!("{cluster}?api-version=2026-06-01"), None).await;
            assert!(s.is_success());
            if kube {
                let creds = format!("{cluster}/listClusterUserCredential?api-version=2026-06-01");
                let (s, _, b) = send("POST", creds, None).await;
                assert!(s.is_success());
                let doc: serde_json::Value = serde_json::from_slice(&b).expect("json");
                let yaml = base64::engine::general_purpose::STANDARD
                    .decode(doc["kubeconfigs"][0]["value"].as_str().expect("kubeconfig"))
                    .expect("base64");
                let yaml = String::from_utf8(yaml).expect("utf-8");
                let token = yaml
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("token: "))
                    .expect("a token")
                    .trim_matches('"')
                    .to_owned();
                let list = format!("/k8s/{sub}/rg/c{i}/api/v1/namespaces");
                let (s, _, _) = send_as("GET", list, None, token).await;
                assert!(s.is_success(), "{s}");
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let after = rss_kib();
        let per = (after.saturating_sub(before) as f64 * 1024.0) / clusters.max(1) as f64;
        println!(
            "{clusters} {}{} clusters in {secs:.2}s: VmRSS {:.1} MiB before, {:.1} MiB after (≈ {:.1} KB per cluster)",
            if mesh { "meshed" } else { "plain" },
            if kube { " kube-used" } else { "" },
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            per / 1000.0
        );
    });
}
