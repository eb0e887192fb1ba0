//! `aksim::TestServer`, as a tool author uses it in their own tests: one line to start, HTTPS
//! with its own CA, a ready client, a cluster's kubeconfig that kube-rs takes as it is, the
//! clock and faults without a request, any runtime (or none), and stopped when dropped.

use std::time::Duration;

use aksim::TestServer;
use k8s_openapi::api::core::v1::Namespace;
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;

fn group(server: &TestServer, name: &str) -> String {
    server.url(&format!(
        "/subscriptions/{}/resourcegroups/{name}?api-version=2024-11-01",
        server.subscription()
    ))
}

#[tokio::test]
async fn one_line_gives_an_https_server_and_a_client_that_trusts_it() {
    let server = TestServer::start();
    assert!(server.base_url().starts_with("https://127.0.0.1:"));
    assert!(!server.base_url().ends_with(":0"));
    assert_eq!(
        std::fs::read_to_string(server.ca_path()).unwrap(),
        server.ca_pem()
    );
    let created = server
        .client()
        .put(group(&server, "rg1"))
        .json(&json!({"location": "eastus"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // A client that does not trust the CA is refused by TLS, not by aksim.
    let stranger = reqwest::Client::new()
        .get(server.url("/_sim/health"))
        .send()
        .await;
    assert!(stranger.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clusters_kubeconfig_works_in_kube_rs() {
    let server = TestServer::start();
    let cluster = server.create_cluster("rg1", "c1", true).await.unwrap();
    assert_eq!(
        cluster["properties"]["serviceMeshProfile"]["mode"], "Istio",
        "{cluster}"
    );
    let yaml = server.kubeconfig("rg1", "c1").await.unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::from_yaml(&yaml).unwrap(),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let namespaces: kube::Api<Namespace> = kube::Api::all(client);
    let names: Vec<String> = namespaces
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.contains(&"aks-istio-system".to_owned()), "{names:?}");
}

#[tokio::test]
async fn the_clock_and_faults_without_a_request() {
    let server = TestServer::start();
    server.freeze_clock(true);
    let before = server.now();
    server.advance(Duration::from_secs(90));
    assert_eq!(
        server.now().duration_since(before).unwrap(),
        Duration::from_secs(90)
    );
    let id = server
        .add_fault(json!({"method": "PUT", "times": 1, "action": {"type": "error", "status": 429}}))
        .unwrap();
    assert!(id.starts_with("fault-"));
    let throttled = server
        .client()
        .put(group(&server, "rg1"))
        .json(&json!({"location": "eastus"}))
        .send()
        .await
        .unwrap();
    assert_eq!(throttled.status(), 429);
    assert!(server
        .add_fault(json!({"action": {"type": "nope"}}))
        .is_err());
    server.clear_faults();
    assert!(server.state().faults.is_empty());
}

#[tokio::test]
async fn strict_auth_from_the_builder_and_a_client_that_passes_it() {
    let server = TestServer::builder()
        .config(|c| c.auth = aksim::config::AuthMode::Strict)
        .start();
    let ok = server
        .client()
        .get(group(&server, "none"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 404, "the client's token is accepted");
    server.advance(Duration::from_secs(24 * 3600));
    let later = server
        .client()
        .get(group(&server, "none"))
        .send()
        .await
        .unwrap();
    assert_eq!(later.status(), 404, "and still after a day of virtual time");
    let foreign = server
        .client()
        .get(group(&server, "none"))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 401);
}

/// No runtime at all in the test: a blocking client process is served meanwhile.
#[test]
fn it_serves_while_the_test_blocks_on_a_process() {
    let server = TestServer::start();
    let output = std::process::Command::new("curl")
        .args(["--silent", "--show-error", "--cacert"])
        .arg(server.ca_path())
        .arg(server.url("/_sim/health"))
        .output()
        .expect("curl runs");
    assert!(output.status.success(), "{output:?}");
    let health: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn dropping_it_stops_it() {
    let server = TestServer::start();
    let addr = server.base_url().trim_start_matches("https://").to_owned();
    drop(server);
    // The server's thread closes the port when it sees the stop: a bounded wait on it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::net::TcpStream::connect(&addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => break,
            _ if std::time::Instant::now() > deadline => panic!("{addr} still accepts"),
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}
