//! The documented canary upgrade of the Istio add-on (`istio-upgrade.md`) as a user runs it:
//! az 2.91 makes the cluster and starts the upgrade, the installed kubectl labels the
//! namespace, applies a Deployment, waits for its rollout, relabels the namespace with the new
//! revision, `kubectl rollout restart`s the Deployment and waits again; the new pods carry the
//! new revision's sidecar; az completes the upgrade. On the way: `kubectl get nodes`, the
//! add-on's pods and HPAs, `kubectl scale`, `kubectl wait`, `kubectl auth can-i`,
//! `kubectl logs`, `kubectl describe pod`.

use std::path::Path;

use serde_json::Value;

use crate::kubectl_e2e::{
    assert_version, create_cluster, get_credentials, require_kubectl_minor, seed_era_sim, Kubectl,
};
use crate::support::az::{Az, Login};

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
";

/// The revision in each pod's `sidecar.istio.io/status` (`None`: not injected), by pod.
async fn sidecar_revisions(k: &Kubectl, ns: &str) -> Vec<(String, Option<String>)> {
    let pods = k
        .ok(&["get", "pods", "-n", ns, "-l", "app=web", "-o", "json"])
        .await
        .json();
    pods["items"]
        .as_array()
        .expect("a pod list")
        .iter()
        .map(|p| {
            let status = p["metadata"]["annotations"]["sidecar.istio.io/status"]
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok());
            (
                p["metadata"]["name"].as_str().unwrap_or("").to_owned(),
                status.and_then(|s| s["revision"].as_str().map(str::to_owned)),
            )
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the manifest");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_upgrade_with_rollout_restart() {
    require_kubectl_minor("27").await;
    let sim = seed_era_sim().await;
    let az = Az::logged_in(&sim, Login::CloudRegister).await;
    az.register_mesh_preview(&sim).await;
    az.json(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    create_cluster(&az, "rg1", "c1", &[], "asm-1-17").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let k = Kubectl::new(&get_credentials(&sim, &az, dir.path(), "rg1", "c1", false).await);
    assert_version(&k, "27").await;

    // The nodes of the cluster's pool (az's default: 3).
    let nodes = k.ok(&["get", "nodes"]).await.stdout;
    let header: Vec<&str> = nodes
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        "{nodes}"
    );
    let rows: Vec<&str> = nodes.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{nodes}");
    for row in &rows {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert!(cells[0].starts_with("aks-nodepool1-"), "{nodes}");
        assert_eq!(cells[1], "Ready", "{nodes}");
        assert!(cells[4].starts_with("v1.27."), "{nodes}");
    }
    // The add-on's own pods and HPAs.
    let istiod = k
        .ok(&[
            "get",
            "pods",
            "-n",
            "aks-istio-system",
            "-l",
            "app=istiod",
            "-o",
            "name",
        ])
        .await
        .stdout;
    assert_eq!(istiod.lines().count(), 2, "{istiod}");
    let hpa = k
        .ok(&[
            "get",
            "hpa",
            "istiod-asm-1-17",
            "-n",
            "aks-istio-system",
            "-o",
            "json",
        ])
        .await
        .json();
    assert_eq!(hpa["spec"]["minReplicas"], 2, "{hpa:#}");
    assert_eq!(hpa["spec"]["maxReplicas"], 5, "{hpa:#}");
    k.fails_with(
        &[
            "patch",
            "hpa",
            "istiod-asm-1-17",
            "-n",
            "aks-istio-system",
            "--type",
            "merge",
            "--patch",
            r#"{"spec": {"minReplicas": 1}}"#,
        ],
        "minReplicas below the initial default of 2",
    )
    .await;
    // What tools ask before they act.
    let can = k.ok(&["auth", "can-i", "create", "deployments"]).await;
    assert_eq!(can.stdout.trim(), "yes", "{can}");

    // The canary: asm-1-18 next to asm-1-17.
    let cluster = az
        .json(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--revision",
            "asm-1-18",
        ])
        .await;
    assert_eq!(
        cluster["serviceMeshProfile"]["istio"]["revisions"],
        serde_json::json!(["asm-1-17", "asm-1-18"]),
        "{cluster:#}"
    );
    k.ok(&["create", "namespace", "shop"]).await;
    k.ok(&["label", "namespace", "shop", "istio.io/rev=asm-1-17"])
        .await;
    let manifest = write(dir.path(), "web.yaml", DEPLOYMENT);
    k.ok(&["apply", "-n", "shop", "-f", &manifest]).await;
    let rolled = k
        .ok(&[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            "shop",
            "--timeout=60s",
        ])
        .await;
    assert!(
        rolled.stdout.contains("successfully rolled out"),
        "{rolled}"
    );
    k.ok(&[
        "wait",
        "--for=condition=Available",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=60s",
    ])
    .await;
    let before = sidecar_revisions(&k, "shop").await;
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(
        before.iter().all(|(_, r)| r.as_deref() == Some("asm-1-17")),
        "{before:?}"
    );
    let pods = k.ok(&["get", "pods", "-n", "shop"]).await.stdout;
    assert!(
        pods.lines()
            .skip(1)
            .all(|l| l.contains(" 2/2 ") && l.contains("Running")),
        "{pods}"
    );
    // kubectl logs and describe on one of them.
    let first = before[0].0.clone();
    k.fails_with(
        &["logs", &first, "-n", "shop", "-c", "web"],
        "logs are not available in aksim",
    )
    .await;
    let described = k
        .ok(&["describe", "pod", &first, "-n", "shop"])
        .await
        .stdout;
    for needle in [
        "Controlled By:  ReplicaSet/web-",
        "istio-proxy",
        "Status:           Running",
    ] {
        assert!(described.contains(needle), "{needle} in:\n{described}");
    }

    // Move the namespace to the canary and restart the workload.
    k.ok(&[
        "label",
        "namespace",
        "shop",
        "istio.io/rev=asm-1-18",
        "--overwrite",
    ])
    .await;
    k.ok(&["rollout", "restart", "deployment", "web", "-n", "shop"])
        .await;
    let rolled = k
        .ok(&[
            "rollout",
            "status",
            "deployment/web",
            "-n",
            "shop",
            "--timeout=60s",
        ])
        .await;
    assert!(
        rolled.stdout.contains("successfully rolled out"),
        "{rolled}"
    );
    let after = sidecar_revisions(&k, "shop").await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after.iter().all(|(_, r)| r.as_deref() == Some("asm-1-18")),
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .all(|(n, _)| before.iter().all(|(b, _)| b != n)),
        "new pods: {before:?} -> {after:?}"
    );
    let images = k
        .ok(&[
            "get",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].spec.containers[*].image}",
        ])
        .await
        .stdout;
    assert!(images.contains("proxyv2:1.18."), "{images}");
    assert!(!images.contains("proxyv2:1.17."), "{images}");
    let rs = k
        .ok(&["get", "rs", "-n", "shop", "-o", "json"])
        .await
        .json();
    let replicas: Vec<i64> = rs["items"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["spec"]["replicas"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(replicas.len(), 2, "old and new ReplicaSet: {rs:#}");
    assert!(
        replicas.contains(&0) && replicas.contains(&2),
        "{replicas:?}"
    );
    k.ok(&["scale", "deployment", "web", "-n", "shop", "--replicas=3"])
        .await;
    k.ok(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=60s",
    ])
    .await;
    assert_eq!(sidecar_revisions(&k, "shop").await.len(), 3);

    // Complete: the old control plane goes, the workload stays on the new one.
    let cluster = az
        .json(&[
            "aks", "mesh", "upgrade", "complete", "-g", "rg1", "-n", "c1", "--yes",
        ])
        .await;
    assert_eq!(
        cluster["serviceMeshProfile"]["istio"]["revisions"],
        serde_json::json!(["asm-1-18"]),
        "{cluster:#}"
    );
    let deploy = k
        .ok(&["get", "deploy", "-n", "aks-istio-system", "-o", "name"])
        .await
        .stdout;
    assert_eq!(deploy.trim(), "deployment.apps/istiod-asm-1-18", "{deploy}");
    let istiod = k
        .ok(&["get", "pods", "-n", "aks-istio-system", "-o", "name"])
        .await
        .stdout;
    assert!(
        istiod.lines().count() == 2 && istiod.lines().all(|l| l.contains("istiod-asm-1-18-")),
        "{istiod}"
    );
    let final_pods = sidecar_revisions(&k, "shop").await;
    assert_eq!(final_pods.len(), 3, "{final_pods:?}");
    // Deleting the Deployment takes its ReplicaSets and pods (background cascading).
    k.ok(&["delete", "deployment", "web", "-n", "shop"]).await;
    let left = k.ok(&["get", "pods,rs", "-n", "shop", "-o", "name"]).await;
    assert_eq!(left.stdout.trim(), "", "{left}");
}

/// The official Kubernetes Python client reads every kind the plane serves (its models
/// validate required fields such as `containerStatuses[].imageID`), through the kubeconfig
/// the Azure Python SDK returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kubernetes_python_client_reads_every_kind() {
    let sim = crate::support::sim::spawn_sim(|c| {
        c.auto_register_providers = true;
        c.op_durations = vec!["default=0".into()];
    })
    .await;
    let run = crate::support::python::run_script(&sim, "sdk", "kube_python_client.py", &[]).await;
    assert_eq!(run.code, 0, "{run}");
    let seen = run.json();
    let counts = &seen["counts"];
    assert_eq!(counts["nodes"], 2, "{seen:#}");
    for kind in [
        "namespaces",
        "pods",
        "deployments",
        "replicasets",
        "statefulsets",
        "jobs",
        "configmaps",
        "services",
        "hpas",
        "crds",
        "mutating",
        "validating",
    ] {
        assert!(counts[kind].as_u64().unwrap_or(0) > 0, "{kind}: {seen:#}");
    }
    assert!(
        seen["nodes"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("aks-nodepool1-"),
        "{seen:#}"
    );
    assert!(
        seen["kubelet"].as_str().unwrap_or("").starts_with("v1."),
        "{seen:#}"
    );
    let web = seen["webPods"].as_array().expect("pods");
    assert_eq!(web.len(), 2, "{seen:#}");
    for pod in web {
        assert_eq!(pod["phase"], "Running", "{seen:#}");
        assert_eq!(pod["owner"], "ReplicaSet", "{seen:#}");
        // Today's default Kubernetes (>= 1.33) and revision: the sidecar is native (an init container
        // that keeps running), so the app is the only regular container.
        assert_eq!(pod["containers"], serde_json::json!(["web"]), "{seen:#}");
        assert!(
            pod["initContainers"]
                .as_array()
                .is_some_and(|c| c.contains(&serde_json::json!(["istio-proxy", "Always"]))),
            "{seen:#}"
        );
        assert!(
            pod["imageIDs"].as_array().is_some_and(|ids| ids
                .iter()
                .all(|i| i.as_str().is_some_and(|s| s.contains("@sha256:")))),
            "{seen:#}"
        );
    }
    assert_eq!(seen["deployment"]["ready"], 2, "{seen:#}");
    assert_eq!(seen["deployment"]["available"], serde_json::json!(["True"]));
    assert_eq!(seen["istiodReady"], 2, "{seen:#}");
    assert_eq!(seen["istiodHpa"], serde_json::json!([2, 5]));
    assert_eq!(
        seen["injectorKeys"],
        serde_json::json!(["config", "values"])
    );
    assert_eq!(seen["allowed"], true);
}
