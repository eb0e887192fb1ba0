//! The injected pod shape by date, through ARM and the real kubectl: a cluster created today
//! (Kubernetes ≥ 1.33, asm-1-29+) runs native sidecars (`istio-proxy` an init container with
//! `restartPolicy: Always`, istiod with `ENABLE_NATIVE_SIDECARS=true`); the same flow on a 2024
//! day gives the classic sidecar container. The dates come from `data/aks-timeline.json`
//! (`defaults`, `nativeSidecar`), never from the test.

mod common;

use aksim::core::clusters::cluster_key;
use common::aks::{az_create_body, prepare, put_and_wait};
use common::kube::{Server, CLUSTER, RG};
use common::kubectl::Kubectl;
use common::{Sim, SUB};
use serde_json::{json, Value};

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: app
    image: nginx
";

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .map(|l| l.iter().map(|c| c["name"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// Creates rg1/c1 with the add-on on `day` (the day's default Kubernetes version and
/// revision, and `mesh_extra` merged into `istio`), labels `default` with its revision and
/// creates a pod with kubectl; the pod as `kubectl get -o json` shows it, and istiod.
async fn pod_on(day: &str, istio: Value) -> (Value, Value, String, String) {
    let server = Server::start().await;
    let sim = Sim {
        state: server.state.clone(),
    };
    sim.set_azure_date(day);
    prepare(&sim, RG).await;
    let body = az_create_body(CLUSTER, RG, Some(json!({"mode": "Istio", "istio": istio})));
    let cluster = put_and_wait(&sim, RG, CLUSTER, body)
        .await
        .unwrap_or_else(|r| panic!("create failed: {} {}", r.status, r.body));
    let rev = cluster["properties"]["serviceMeshProfile"]["istio"]["revisions"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let token = sim
        .state
        .core
        .store
        .with(SUB, sim.state.core.clock.now(), |s| {
            s.clusters.planes[&cluster_key(RG, CLUSTER)].token.clone()
        });
    let k = Kubectl::for_cluster(&server, &token);
    k.ok(&[
        "label",
        "namespace",
        "default",
        &format!("istio.io/rev={rev}"),
    ])
    .await;
    let f = k.file("pod.yaml", POD);
    k.ok(&["apply", "-f", &f]).await;
    let pod = k.json(&["get", "pod", "web"]).await;
    let istiod = k
        .json(&[
            "get",
            "deployment",
            &format!("istiod-{rev}"),
            "-n",
            "aks-istio-system",
        ])
        .await;
    let ready = k.ok(&["get", "pod", "web"]).await;
    (pod, istiod, rev, ready)
}

#[tokio::test(flavor = "multi_thread")]
async fn today_native_sidecars_in_2024_classic_ones() {
    let (pod, istiod, rev, ready) = pod_on("2026-12-07", json!({})).await;
    let spec = &pod["spec"];
    assert_eq!(names(&spec["containers"]), ["app"], "{rev}: {spec}");
    assert_eq!(
        names(&spec["initContainers"]),
        ["istio-init", "istio-proxy"],
        "{spec}"
    );
    assert_eq!(spec["initContainers"][1]["restartPolicy"], "Always");
    let status: Value = serde_json::from_str(
        pod["metadata"]["annotations"]["sidecar.istio.io/status"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        status["initContainers"],
        json!(["istio-init", "istio-proxy"])
    );
    assert_eq!(
        istiod["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "ENABLE_NATIVE_SIDECARS", "value": "true"}])
    );
    // kubectl counts the native sidecar among the pod's containers.
    assert!(ready.contains("2/2"), "{ready}");

    // Istio CNI today (a new install of asm-1-30+ defaults to it; asked for here):
    // istio-validation instead of istio-init, the proxy still native.
    let (pod, _, _, _) = pod_on(
        "2026-12-07",
        json!({"components": {"proxyRedirectionMechanism": "CNIChaining"}}),
    )
    .await;
    assert_eq!(
        names(&pod["spec"]["initContainers"]),
        ["istio-validation", "istio-proxy"]
    );

    let (pod, istiod, rev, ready) = pod_on("2024-09-01", json!({})).await;
    assert!(ready.contains("2/2"), "{ready}");
    let spec = &pod["spec"];
    assert_eq!(
        names(&spec["containers"]),
        ["app", "istio-proxy"],
        "{rev}: {spec}"
    );
    assert_eq!(names(&spec["initContainers"]), ["istio-init"]);
    assert!(spec["containers"][1].get("restartPolicy").is_none());
    assert!(istiod["spec"]["template"]["spec"]["containers"][0]
        .get("env")
        .is_none());
}
