//! The bad-input suite: malformed and hostile requests against a populated simulator (a
//! meshed cluster and its Kubernetes plane) each get a clear 4xx in the right envelope (ARM
//! `{"error":{code,message}}` or a Kubernetes `Status`) — never a 5xx or a panic — and the
//! state is the same afterwards (a snapshot of the subscription before and after is compared).
//! Wrong JSON types for every field of the cluster and mesh bodies are refused with 400.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::aks::{az_create_body, cluster_url, prepare, put_and_wait};
use common::{Sim, SUB};
use serde_json::{json, Value};
use tower::ServiceExt;

/// (what, method, uri, headers, body)
type Case<'a> = (&'a str, &'a str, String, &'a [(&'a str, &'a str)], Vec<u8>);

/// Sends raw bytes (so invalid UTF-8 and truncated JSON can be sent).
async fn raw(
    sim: &Sim,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "sim.test");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let request = b.body(Body::from(body)).expect("request");
    let response = aksim::app(sim.state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The subscription as a snapshot sees it (the clock field aside).
async fn snapshot(sim: &Sim) -> Value {
    let r = sim
        .call_with(Method::GET, &format!("/_sim/snapshot/{SUB}"), None, &[])
        .await;
    r.body["subscriptions"].clone()
}

async fn populated() -> (Sim, String) {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    let body = az_create_body("c1", "rg1", Some(json!({"mode": "Istio", "istio": {}})));
    put_and_wait(&sim, "rg1", "c1", body)
        .await
        .expect("cluster created");
    let creds = sim
        .post(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/listClusterUserCredential?api-version=2026-06-01"
        ))
        .await;
    let kubeconfig = base64_decode(
        creds.body["kubeconfigs"][0]["value"]
            .as_str()
            .expect("kubeconfig"),
    );
    let config: Value = yaml_serde::from_str(&kubeconfig).expect("yaml");
    let token = config["users"][0]["user"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    (sim, token)
}

fn base64_decode(text: &str) -> String {
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64"),
    )
    .expect("utf8")
}

fn assert_envelope(status: StatusCode, body: &Value, what: &str) {
    assert!(
        status.is_client_error(),
        "{what}: expected a 4xx, got {status}: {body}"
    );
    let arm = body["error"]["code"].is_string() && body["error"]["message"].is_string();
    let kube = body["kind"] == "Status" && body["message"].is_string();
    assert!(arm || kube, "{what}: no error envelope: {body}");
}

#[tokio::test]
async fn hostile_requests_are_refused_and_change_nothing() {
    let (sim, token) = populated().await;
    // Move `default` past resourceVersion 1, so "1" is stale below.
    let (status, _) = raw(
        &sim,
        "PATCH",
        &format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces/default"),
        &[
            ("authorization", &format!("Bearer {token}")),
            ("content-type", "application/merge-patch+json"),
        ],
        br#"{"metadata":{"labels":{"istio.io/rev":"asm-1-29"}}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let before = snapshot(&sim).await;
    let cluster = cluster_url("rg1", "c1");
    let bearer = format!("Bearer {token}");
    let json_headers: &[(&str, &str)] = &[
        ("authorization", "Bearer t"),
        ("content-type", "application/json"),
    ];
    let kube_headers: &[(&str, &str)] = &[
        ("authorization", &bearer),
        ("content-type", "application/json"),
    ];
    let apply_patch: &[(&str, &str)] = &[
        ("authorization", &bearer),
        ("content-type", "application/apply-patch+yaml"),
    ];
    let k8s = |p: &str| format!("/k8s/{SUB}/rg1/c1{p}");
    let big = vec![b'x'; 10 * 1024 * 1024];
    let long_name = "a".repeat(2000);
    let cases: Vec<Case> = vec![
        ("truncated JSON", "PUT", cluster.clone(), json_headers, br#"{"location":"eastus","properties":{"#.to_vec()),
        ("not JSON", "PUT", cluster.clone(), json_headers, b"location=eastus".to_vec()),
        ("invalid UTF-8", "PUT", cluster.clone(), json_headers, vec![b'{', 0xff, 0xfe, b'}']),
        ("a JSON array", "PUT", cluster.clone(), json_headers, b"[1,2,3]".to_vec()),
        ("10 MB body", "PUT", cluster.clone(), json_headers, big.clone()),
        ("text/plain body", "PUT", cluster.clone(), &[("authorization", "Bearer t"), ("content-type", "text/plain")], b"{}".to_vec()),
        ("no token", "DELETE", cluster.clone(), &[], vec![]),
        ("garbage token scheme", "DELETE", cluster.clone(), &[("authorization", "Token abc")], vec![]),
        ("unknown api-version", "DELETE", cluster.replace("2026-06-01", "2099-01-01"), json_headers, vec![]),
        ("no api-version", "DELETE", cluster.split('?').next().unwrap_or("").to_owned(), json_headers, vec![]),
        ("wrong verb", "POST", cluster.clone(), json_headers, vec![]),
        ("dot-dot segment", "DELETE", format!("/subscriptions/{SUB}/resourceGroups/rg1/../rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-06-01"), json_headers, vec![]),
        ("encoded slash", "DELETE", format!("/subscriptions/{SUB}/resourceGroups/rg1%2Fx/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-06-01"), json_headers, vec![]),
        ("over-long name", "PUT", cluster.replace("/c1?", &format!("/{long_name}?")), json_headers, serde_json::to_vec(&az_create_body("x", "rg1", None)).unwrap()),
        ("bad subscription id", "DELETE", cluster.replace(SUB, "not-a-guid"), json_headers, vec![]),
        ("bad group name", "PUT", format!("/subscriptions/{SUB}/resourcegroups/rg*1?api-version=2024-11-01"), json_headers, br#"{"location":"eastus"}"#.to_vec()),
        ("kube: no token", "DELETE", k8s("/api/v1/namespaces/default"), &[], vec![]),
        ("kube: malformed JSON", "POST", k8s("/api/v1/namespaces"), kube_headers, b"{\"apiVersion\":".to_vec()),
        ("kube: wrong kind for the URL", "POST", k8s("/api/v1/namespaces"), kube_headers, br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}"#.to_vec()),
        ("kube: DNS-1123 violation", "POST", k8s("/api/v1/namespaces"), kube_headers, br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"Not_Valid"}}"#.to_vec()),
        ("kube: label value too long", "POST", k8s("/api/v1/namespaces"), kube_headers, format!(r#"{{"apiVersion":"v1","kind":"Namespace","metadata":{{"name":"ok","labels":{{"a":"{}"}}}}}}"#, "v".repeat(64)).into_bytes()),
        ("kube: unsupported patch type", "PATCH", k8s("/api/v1/namespaces/default"), apply_patch, b"{}".to_vec()),
        ("kube: stale resourceVersion", "PUT", k8s("/api/v1/namespaces/default"), kube_headers, br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default","resourceVersion":"1","labels":{"a":"b"}}}"#.to_vec()),
        ("kube: delete a protected namespace", "DELETE", k8s("/api/v1/namespaces/kube-system"), kube_headers, vec![]),
        ("kube: write an add-on object", "DELETE", k8s("/api/v1/namespaces/aks-istio-system"), kube_headers, vec![]),
        ("control: unknown fields", "POST", "/_sim/faults".to_owned(), json_headers, br#"{"bogus":1,"action":{"type":"drop"}}"#.to_vec()),
        ("control: snapshot from the future", "PUT", "/_sim/snapshot".to_owned(), json_headers, br#"{"format":"aksim-snapshot","version":99,"subscriptions":[]}"#.to_vec()),
    ];
    for (what, method, uri, headers, body) in cases {
        let (status, reply) = raw(&sim, method, &uri, headers, body).await;
        assert_envelope(status, &reply, what);
    }
    assert_eq!(
        snapshot(&sim).await,
        before,
        "refused requests changed the state"
    );
}

/// Every leaf of a cluster body replaced by a value of the wrong JSON type: never a 5xx; the
/// typed fields of the mesh profile and the cluster answer 400.
#[tokio::test]
async fn wrong_types_for_every_field() {
    let (sim, _) = populated().await;
    let base = az_create_body(
        "c1",
        "rg1",
        Some(json!({
            "mode": "Istio",
            "istio": {
                "revisions": ["asm-1-29"],
                "components": {
                    "ingressGateways": [{"mode": "External", "enabled": true}],
                    "egressGateways": [{"name": "eg", "enabled": true, "gatewayConfigurationName": "gw"}],
                    "proxyRedirectionMechanism": "InitContainers"
                }
            }
        })),
    );
    let mut paths = Vec::new();
    leaves(&base, String::new(), &mut paths);
    assert!(paths.len() > 25, "{paths:?}");
    for path in &paths {
        for wrong in [
            json!(12345),
            json!({"x": 1}),
            json!([1, "a"]),
            json!(true),
            json!("text"),
        ] {
            let mut body = base.clone();
            let slot = body.pointer_mut(path).expect("leaf");
            if same_type(slot, &wrong) {
                continue;
            }
            *slot = wrong.clone();
            let r = sim.put(&cluster_url("rg1", "c1"), body).await;
            assert!(
                r.status.as_u16() < 500,
                "{path} = {wrong}: {} {}",
                r.status,
                r.body
            );
            if path.contains("serviceMeshProfile") || path.ends_with("/location") {
                assert_eq!(
                    r.status,
                    StatusCode::BAD_REQUEST,
                    "{path} = {wrong}: {}",
                    r.body
                );
                assert!(r.body["error"]["message"].is_string());
            }
        }
    }
}

fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| leaves(x, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}
