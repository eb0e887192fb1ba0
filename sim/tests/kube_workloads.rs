//! The plane as a cluster: nodes from the agent pools, the workload controllers (Deployment →
//! ReplicaSet → Pods, rollouts, scale, DaemonSet, StatefulSet, Job, cascading deletes), the
//! add-on's own pods and HPAs, what tools probe (health, self reviews, logs), the pod limit,
//! and every served kind deserialising strictly in k8s-openapi.

mod common;

use aksim::core::kube::nodes::{NodesView, PoolView};
use aksim::core::kube::MeshView;
use aksim::limits;
use axum::http::Method;
use common::aks::{az_update, create, new_sim, prepare};
use common::kube::{enabled, TOKEN};
use common::{Reply, Sim};
use serde_json::{json, Value};

fn pools(counts: &[(&str, u32, &str)]) -> NodesView {
    NodesView {
        id: "12345678".into(),
        location: "eastus".into(),
        subscription: common::SUB.into(),
        node_resource_group: "MC_rg1_c1_eastus".into(),
        pools: counts
            .iter()
            .map(|(name, count, os)| PoolView {
                name: (*name).into(),
                count: *count,
                vm_size: "Standard_D4ds_v5".into(),
                os_type: (*os).into(),
                os_sku: if *os == "Windows" {
                    "Windows2022"
                } else {
                    "Ubuntu"
                }
                .into(),
                mode: "System".into(),
                version: "1.33.2".into(),
                zones: vec![],
                max_pods: 110,
                node_image: "AKSUbuntu-2204gen2containerd-202611.01.0".into(),
                removed: vec![],
            })
            .collect(),
    }
}

/// A plane with 3 Linux nodes (and `view`'s mesh).
fn sim_with(view: MeshView) -> Sim {
    let sim = Sim::new();
    sim.plane("1.33.2");
    let mut view = view;
    view.nodes = Some(pools(&[("nodepool1", 3, "Linux")]));
    sim.reconcile(&view);
    sim
}

fn deployment(name: &str, replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [{"name": "app", "image": image}]}}}})
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn list(sim: &Sim, path: &str) -> Value {
    let r = sim.kget(path).await;
    assert_eq!(r.status.as_u16(), 200, "{path}: {:?}", r.body);
    r.body
}

fn ok(r: &Reply) {
    assert!(r.status.is_success(), "{} {:?}", r.status, r.body);
}

async fn pods_of(sim: &Sim, ns: &str, selector: &str) -> Vec<Value> {
    let body = list(
        sim,
        &format!("/api/v1/namespaces/{ns}/pods?labelSelector={selector}"),
    )
    .await;
    body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn nodes_follow_the_clusters_agent_pools() {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;
    let token = sim
        .state
        .core
        .store
        .with(common::SUB, sim.state.core.clock.now(), |s| {
            s.clusters.planes[&aksim::core::clusters::cluster_key("rg1", "c1")]
                .token
                .clone()
        });
    let auth = format!("Bearer {token}");
    let get = |path: &'static str| {
        let auth = auth.clone();
        let sim = &sim;
        async move {
            sim.kube_raw(Method::GET, path, None, None, &[("authorization", &auth)])
                .await
        }
    };
    let r = get("/api/v1/nodes").await;
    ok(&r);
    let nodes = names(&r.body);
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    let re = |n: &str| {
        let rest = n.strip_prefix("aks-nodepool1-").unwrap_or("");
        let (digits, vmss) = rest.split_once("-vmss").unwrap_or(("", ""));
        digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()) && vmss.len() == 6
    };
    assert!(nodes.iter().all(|n| re(n)), "{nodes:?}");
    assert!(nodes[0].ends_with("vmss000000") && nodes[2].ends_with("vmss000002"));
    let node = &r.body["items"][0];
    let labels = &node["metadata"]["labels"];
    assert_eq!(labels["kubernetes.azure.com/agentpool"], "nodepool1");
    assert_eq!(labels["kubernetes.io/os"], "linux");
    assert_eq!(labels["kubernetes.io/arch"], "amd64");
    assert_eq!(labels["kubernetes.azure.com/mode"], "system");
    assert_eq!(labels["topology.kubernetes.io/region"], "eastus");
    assert!(labels["node.kubernetes.io/instance-type"]
        .as_str()
        .unwrap()
        .starts_with("Standard_"));
    let cluster = sim.get(&common::aks::cluster_url("rg1", "c1")).await;
    let version = cluster.body["properties"]["currentKubernetesVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        node["status"]["nodeInfo"]["kubeletVersion"],
        format!("v{version}")
    );
    assert!(node["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Ready" && c["status"] == "True"));
    // A second pool and a bigger first one: the nodes follow when the operation ends.
    az_update(&sim, "rg1", "c1", |b| {
        let pools = b["properties"]["agentPoolProfiles"].as_array_mut().unwrap();
        pools[0]["count"] = json!(12);
        let mut user = pools[0].clone();
        user["name"] = json!("user1");
        user["mode"] = json!("User");
        user["count"] = json!(2);
        pools.push(user);
    })
    .await
    .unwrap();
    let r = get("/api/v1/nodes").await;
    let nodes = names(&r.body);
    assert_eq!(nodes.len(), 14, "{nodes:?}");
    assert!(nodes.iter().any(|n| n.ends_with("vmss00000b")), "{nodes:?}");
    assert!(nodes.iter().any(|n| n.starts_with("aks-user1-")));
    // kubectl get nodes: the Table's columns.
    let t = sim
        .kube_raw(
            Method::GET,
            "/api/v1/nodes",
            None,
            None,
            &[
                ("authorization", &auth),
                ("accept", "application/json;as=Table;v=v1;g=meta.k8s.io"),
            ],
        )
        .await;
    let cols: Vec<&str> = t.body["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(&cols[..5], ["Name", "Status", "Roles", "Age", "Version"]);
    assert_eq!(t.body["rows"][0]["cells"][1], "Ready");
    assert_eq!(t.body["rows"][0]["cells"][2], "agent");
}

#[tokio::test]
async fn a_deployment_makes_a_replicaset_and_running_pods() {
    let sim = sim_with(MeshView::default());
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("web", 3, "nginx:1.27"),
        )
        .await);
    let d = sim
        .kget("/apis/apps/v1/namespaces/default/deployments/web")
        .await
        .body;
    assert_eq!(d["status"]["replicas"], 3);
    assert_eq!(d["status"]["readyReplicas"], 3);
    assert_eq!(d["status"]["updatedReplicas"], 3);
    assert_eq!(d["status"]["availableReplicas"], 3);
    assert_eq!(d["status"]["observedGeneration"], 1);
    let conds = d["status"]["conditions"].as_array().unwrap();
    assert!(conds
        .iter()
        .any(|c| c["type"] == "Available" && c["status"] == "True"));
    assert!(conds
        .iter()
        .any(|c| c["type"] == "Progressing" && c["reason"] == "NewReplicaSetAvailable"));
    let rs = list(&sim, "/apis/apps/v1/namespaces/default/replicasets").await;
    let rs_names = names(&rs);
    assert_eq!(rs_names.len(), 1);
    let rs0 = &rs["items"][0];
    let hash = rs0["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(rs_names[0], format!("web-{hash}"));
    let owner = &rs0["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Deployment");
    assert_eq!(owner["uid"], d["metadata"]["uid"]);
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["blockOwnerDeletion"], true);
    let pods = pods_of(&sim, "default", "app=web").await;
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let name = p["metadata"]["name"].as_str().unwrap();
        let suffix = name.strip_prefix(&format!("web-{hash}-")).unwrap();
        assert_eq!(suffix.len(), 5, "{name}");
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
        assert_eq!(p["status"]["phase"], "Running");
        assert!(p["spec"]["nodeName"]
            .as_str()
            .unwrap()
            .starts_with("aks-nodepool1-12345678-vmss"));
        assert!(p["status"]["podIP"]
            .as_str()
            .unwrap()
            .starts_with("10.244."));
        let cs = &p["status"]["containerStatuses"][0];
        for k in ["imageID", "containerID", "image", "name"] {
            assert!(cs[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {cs}");
        }
        assert_eq!(
            cs["state"]["running"]["startedAt"],
            p["status"]["startTime"]
        );
    }
    // The label index (a namespaced list with an equality selector) agrees with a walk (a
    // cluster-wide list), also after a relabel.
    let walked = |sel: &'static str| {
        let sim = &sim;
        async move {
            let mut n = names(&list(sim, &format!("/api/v1/pods?labelSelector={sel}")).await);
            n.sort();
            n
        }
    };
    let mut indexed = names(
        &list(
            &sim,
            "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb",
        )
        .await,
    );
    indexed.sort();
    assert_eq!(indexed, walked("app%3Dweb").await);
    let first = pods[0]["metadata"]["name"].as_str().unwrap().to_owned();
    ok(&sim
        .kpatch(
            &format!("/api/v1/namespaces/default/pods/{first}"),
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"app": "other"}}}),
        )
        .await);
    let mut indexed = names(
        &list(
            &sim,
            "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb",
        )
        .await,
    );
    indexed.sort();
    assert_eq!(indexed.len(), 2);
    assert_eq!(indexed, walked("app%3Dweb").await);
    assert_eq!(
        names(
            &list(
                &sim,
                "/api/v1/namespaces/default/pods?labelSelector=app%3Dother"
            )
            .await
        ),
        [first]
    );
    // Pods spread over the nodes.
    let mut nodes: Vec<&str> = pods
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap())
        .collect();
    nodes.dedup();
    assert!(nodes.len() > 1, "{nodes:?}");
}

#[tokio::test]
async fn scale_rollout_restart_and_cascading_delete() {
    let sim = sim_with(MeshView::default());
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("web", 2, "nginx"),
        )
        .await);
    // kubectl scale: the scale subresource.
    let s = sim
        .kget("/apis/apps/v1/namespaces/default/deployments/web/scale")
        .await;
    ok(&s);
    assert_eq!(s.body["kind"], "Scale");
    assert_eq!(s.body["spec"]["replicas"], 2);
    assert_eq!(s.body["status"]["selector"], "app=web");
    let r = sim
        .kpatch(
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
            "application/merge-patch+json",
            json!({"spec": {"replicas": 4}}),
        )
        .await;
    ok(&r);
    assert_eq!(r.body["spec"]["replicas"], 4);
    assert_eq!(pods_of(&sim, "default", "app=web").await.len(), 4);
    let bad = sim
        .kpatch(
            "/apis/apps/v1/namespaces/default/deployments/web/scale",
            "application/merge-patch+json",
            json!({"spec": {"replicas": -1}}),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422, "{:?}", bad.body);
    // kubectl rollout restart: the template's restartedAt annotation.
    let before = pods_of(&sim, "default", "app=web").await;
    let r = sim
        .kpatch(
            "/apis/apps/v1/namespaces/default/deployments/web",
            "application/strategic-merge-patch+json",
            json!({"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": "2026-12-07T12:00:00Z"}}}}}),
        )
        .await;
    ok(&r);
    let d = sim
        .kget("/apis/apps/v1/namespaces/default/deployments/web")
        .await
        .body;
    assert_eq!(d["metadata"]["generation"], 3, "{d}");
    assert_eq!(d["status"]["observedGeneration"], 3);
    assert_eq!(d["status"]["updatedReplicas"], 4);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    let rs = list(&sim, "/apis/apps/v1/namespaces/default/replicasets").await;
    assert_eq!(names(&rs).len(), 2);
    let replicas: Vec<i64> = rs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["spec"]["replicas"].as_i64().unwrap())
        .collect();
    assert!(
        replicas.contains(&0) && replicas.contains(&4),
        "{replicas:?}"
    );
    let after = pods_of(&sim, "default", "app=web").await;
    assert_eq!(after.len(), 4);
    for p in &after {
        assert!(!before
            .iter()
            .any(|b| b["metadata"]["name"] == p["metadata"]["name"]));
        assert_eq!(
            p["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "2026-12-07T12:00:00Z"
        );
    }
    // A pod deleted by hand comes back.
    let victim = after[0]["metadata"]["name"].as_str().unwrap().to_owned();
    ok(&sim
        .kube(
            Method::DELETE,
            &format!("/api/v1/namespaces/default/pods/{victim}"),
            None,
        )
        .await);
    assert_eq!(pods_of(&sim, "default", "app=web").await.len(), 4);
    // Orphan keeps the ReplicaSets (without owner); background takes everything.
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("keep", 1, "nginx"),
        )
        .await);
    ok(&sim
        .kube(
            Method::DELETE,
            "/apis/apps/v1/namespaces/default/deployments/keep",
            Some(
                json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"}),
            ),
        )
        .await);
    let orphans = pods_of(&sim, "default", "app=keep").await;
    assert_eq!(orphans.len(), 1);
    let rs = list(
        &sim,
        "/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dkeep",
    )
    .await;
    assert!(rs["items"][0]["metadata"].get("ownerReferences").is_none());
    let rv = sim.with_plane(|p| p.resource_version);
    ok(&sim
        .kube(
            Method::DELETE,
            "/apis/apps/v1/namespaces/default/deployments/web",
            None,
        )
        .await);
    assert!(pods_of(&sim, "default", "app=web").await.is_empty());
    let rs = list(
        &sim,
        "/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dweb",
    )
    .await;
    assert!(names(&rs).is_empty());
    // One event per stored change: 1 deployment + 2 RS + 4 pods deleted.
    let events = sim.with_plane(|p| {
        p.events
            .iter()
            .filter(|e| e.resource_version > rv)
            .map(|e| e.event_type.clone())
            .collect::<Vec<_>>()
    });
    assert_eq!(events.len(), 7, "{events:?}");
    assert!(events.iter().all(|e| e == "DELETED"));
    let bad = sim
        .kube(
            Method::DELETE,
            "/apis/apps/v1/namespaces/default/replicasets/x?propagationPolicy=Sideways",
            None,
        )
        .await;
    assert_eq!(bad.status.as_u16(), 400, "{:?}", bad.body);
}

#[tokio::test]
async fn daemonsets_statefulsets_and_jobs() {
    let sim = Sim::new();
    sim.plane("1.33.2");
    sim.reconcile(&MeshView {
        nodes: Some(pools(&[("nodepool1", 3, "Linux"), ("win", 2, "Windows")])),
        ..MeshView::default()
    });
    let template = json!({"metadata": {"labels": {"app": "agent"}},
                          "spec": {"containers": [{"name": "a", "image": "busybox"}]}});
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/daemonsets",
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                   "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template}}),
        )
        .await);
    let pods = pods_of(&sim, "default", "app=agent").await;
    assert_eq!(pods.len(), 3, "one per Linux node");
    let mut nodes: Vec<&str> = pods
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap())
        .collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 3);
    let ds = sim
        .kget("/apis/apps/v1/namespaces/default/daemonsets/agent")
        .await
        .body;
    assert_eq!(ds["status"]["desiredNumberScheduled"], 3);
    assert_eq!(ds["status"]["numberReady"], 3);
    // StatefulSet: ordinal names, scale down takes the highest.
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/statefulsets",
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                   "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                            "template": {"metadata": {"labels": {"app": "db"}},
                                         "spec": {"containers": [{"name": "db", "image": "postgres"}]}}}}),
        )
        .await);
    let mut sts: Vec<String> = pods_of(&sim, "default", "app=db")
        .await
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    sts.sort();
    assert_eq!(sts, ["db-0", "db-1", "db-2"]);
    ok(&sim
        .kpatch(
            "/apis/apps/v1/namespaces/default/statefulsets/db/scale",
            "application/merge-patch+json",
            json!({"spec": {"replicas": 1}}),
        )
        .await);
    let sts: Vec<String> = pods_of(&sim, "default", "app=db")
        .await
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sts, ["db-0"]);
    // Job: complete at once.
    ok(&sim
        .kpost(
            "/apis/batch/v1/namespaces/default/jobs",
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                   "spec": {"completions": 2, "template": {"spec": {"restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox"}]}}}}),
        )
        .await);
    let job = sim
        .kget("/apis/batch/v1/namespaces/default/jobs/once")
        .await
        .body;
    assert_eq!(job["status"]["succeeded"], 2);
    assert!(job["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Complete" && c["status"] == "True"));
    let pods = pods_of(&sim, "default", "job-name=once").await;
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| p["status"]["phase"] == "Succeeded"));
    // Fewer nodes: the DaemonSet follows.
    sim.reconcile(&MeshView {
        nodes: Some(pools(&[("nodepool1", 1, "Linux")])),
        ..MeshView::default()
    });
    ok(&sim
        .kpost(
            "/api/v1/namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "poke"}}),
        )
        .await);
    assert_eq!(pods_of(&sim, "default", "app=agent").await.len(), 1);
}

#[tokio::test]
async fn controller_pods_get_the_namespaces_revision_sidecar() {
    let sim = sim_with(enabled(&["asm-1-26", "asm-1-27"]));
    ok(&sim
        .kpost(
            "/api/v1/namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "shop", "labels": {"istio.io/rev": "asm-1-26"}}}),
        )
        .await);
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/shop/deployments",
            deployment("web", 2, "nginx"),
        )
        .await);
    let sidecar = |p: &Value| {
        p["metadata"]["annotations"]["sidecar.istio.io/status"]
            .as_str()
            .map(|s| serde_json::from_str::<Value>(s).unwrap()["revision"].clone())
    };
    let pods = pods_of(&sim, "shop", "app=web").await;
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert_eq!(sidecar(p), Some(json!("asm-1-26")));
        assert!(p["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "istio-proxy"));
        assert_eq!(
            p["status"]["containerStatuses"].as_array().unwrap().len(),
            2
        );
    }
    ok(&sim
        .kpatch(
            "/api/v1/namespaces/shop",
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"istio.io/rev": "asm-1-27"}}}),
        )
        .await);
    ok(&sim
        .kpatch(
            "/apis/apps/v1/namespaces/shop/deployments/web",
            "application/strategic-merge-patch+json",
            json!({"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": "2026-12-07T13:00:00Z"}}}}}),
        )
        .await);
    let pods = pods_of(&sim, "shop", "app=web").await;
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert_eq!(sidecar(p), Some(json!("asm-1-27")));
    }
}

#[tokio::test]
async fn the_addons_deployments_have_pods_and_hpas() {
    let sim = sim_with(MeshView {
        ingress_gateways: vec!["External".into()],
        ..enabled(&["asm-1-26"])
    });
    let pods = pods_of(&sim, "aks-istio-system", "app=istiod").await;
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| p["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["name"] != "istio-proxy")));
    let gw = pods_of(
        &sim,
        "aks-istio-ingress",
        "istio=aks-istio-ingressgateway-external",
    )
    .await;
    assert_eq!(gw.len(), 2);
    let hpas = list(&sim, "/apis/autoscaling/v2/horizontalpodautoscalers").await;
    let mut hpa_names = names(&hpas);
    hpa_names.sort();
    assert_eq!(
        hpa_names,
        [
            "aks-istio-ingressgateway-external-asm-1-26",
            "istiod-asm-1-26"
        ]
    );
    let hpa = &hpas["items"][0];
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["maxReplicas"], 5);
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
    let path =
        "/apis/autoscaling/v2/namespaces/aks-istio-system/horizontalpodautoscalers/istiod-asm-1-26";
    // Below the documented minimum: refused with the reason.
    let r = sim
        .kpatch(
            path,
            "application/merge-patch+json",
            json!({"spec": {"minReplicas": 1}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403, "{:?}", r.body);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("minReplicas below the initial default of 2"));
    // Within the limits: the deployment follows, and a reconcile keeps it.
    let r = sim
        .kpatch(
            path,
            "application/merge-patch+json",
            json!({"spec": {"minReplicas": 3, "maxReplicas": 6}}),
        )
        .await;
    ok(&r);
    assert_eq!(
        pods_of(&sim, "aks-istio-system", "app=istiod").await.len(),
        3
    );
    let mut view = enabled(&["asm-1-26", "asm-1-27"]);
    view.ingress_gateways = vec!["External".into()];
    view.nodes = Some(pools(&[("nodepool1", 3, "Linux")]));
    sim.reconcile(&view);
    let h = sim.kget(path).await.body;
    assert_eq!(h["spec"]["minReplicas"], 3);
    // The canary's HPA takes the stable revision's bounds, and keeps them.
    let canary = path.replace("asm-1-26", "asm-1-27");
    let c = sim.kget(&canary).await.body;
    assert_eq!(
        (
            c["spec"]["minReplicas"].clone(),
            c["spec"]["maxReplicas"].clone()
        ),
        (json!(3), json!(6))
    );
    ok(&sim
        .kpatch(
            &canary,
            "application/merge-patch+json",
            json!({"spec": {"minReplicas": 4}}),
        )
        .await);
    assert_eq!(
        sim.kget(&canary).await.body["spec"]["minReplicas"],
        3,
        "reverted to the stable's"
    );
    for rev in ["asm-1-26", "asm-1-27"] {
        assert_eq!(
            pods_of(
                &sim,
                "aks-istio-system",
                &format!("app=istiod,istio.io/rev={rev}")
            )
            .await
            .len(),
            3,
            "{rev}"
        );
    }
    // Mesh off: the add-on's pods go with their namespaces.
    sim.reconcile(&MeshView {
        nodes: Some(pools(&[("nodepool1", 3, "Linux")])),
        ..MeshView::default()
    });
    let all = list(&sim, "/api/v1/pods").await;
    assert!(names(&all).is_empty(), "{:?}", names(&all));
}

#[tokio::test]
async fn probes_reviews_and_logs() {
    let sim = sim_with(MeshView::default());
    for path in ["/healthz", "/livez", "/readyz"] {
        let r = sim.kube_raw(Method::GET, path, None, None, &[]).await;
        assert_eq!(r.status.as_u16(), 200);
        assert_eq!(r.raw, b"ok");
        let v = sim
            .kube_raw(Method::GET, &format!("{path}?verbose"), None, None, &[])
            .await;
        let text = String::from_utf8(v.raw).unwrap();
        assert!(text.starts_with("[+]ping ok\n"), "{text}");
        assert!(
            text.ends_with(&format!("{} check passed\n", &path[1..])),
            "{text}"
        );
    }
    let r = sim
        .kpost(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                   "spec": {"resourceAttributes": {"namespace": "default", "verb": "create",
                            "group": "apps", "resource": "deployments"}}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{:?}", r.body);
    assert_eq!(r.body["status"]["allowed"], true);
    let r = sim
        .kpost(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{:?}", r.body);
    let r = sim
        .kpost(
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                   "spec": {"namespace": "default"}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{:?}", r.body);
    assert_eq!(r.body["status"]["incomplete"], false);
    let r = sim
        .kget("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
        .await;
    assert_eq!(r.status.as_u16(), 405);
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("web", 1, "nginx"),
        )
        .await);
    let pod = pods_of(&sim, "default", "app=web").await[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = sim
        .kget(&format!("/api/v1/namespaces/default/pods/{pod}/log"))
        .await;
    assert_eq!(r.status.as_u16(), 400, "{:?}", r.body);
    assert_eq!(r.body["kind"], "Status");
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .starts_with("logs are not available in aksim"));
    let r = sim.kget("/api/v1/namespaces/default/pods/nope/log").await;
    assert_eq!(r.status.as_u16(), 404);
    // Discovery lists the subresources kubectl looks for.
    let apps = list(&sim, "/apis/apps/v1").await;
    let scale = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments/scale")
        .cloned()
        .unwrap();
    assert_eq!(scale["group"], "autoscaling");
    assert_eq!(scale["kind"], "Scale");
}

#[tokio::test]
async fn pods_per_cluster_are_bounded() {
    let sim = sim_with(MeshView::default());
    // Fill up to the limit cheaply: one deployment at the limit.
    let r = sim
        .kpost(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("big", limits::KUBE_PODS_PER_PLANE_MAX as i64, "nginx"),
        )
        .await;
    ok(&r);
    assert_eq!(
        sim.with_plane(|p| p.pod_count()),
        limits::KUBE_PODS_PER_PLANE_MAX
    );
    let r = sim
        .kpost(
            "/api/v1/namespaces/default/pods",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "one-more"},
                   "spec": {"containers": [{"name": "a", "image": "nginx"}]}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 403, "{:?}", r.body);
    assert!(r.body["message"].as_str().unwrap().contains("pods"));
    // A controller past it reports why.
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("more", 1, "nginx"),
        )
        .await);
    let rs = list(
        &sim,
        "/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dmore",
    )
    .await;
    let cond = &rs["items"][0]["status"]["conditions"][0];
    assert_eq!(cond["type"], "ReplicaFailure");
    assert!(cond["message"].as_str().unwrap().contains("exceeded quota"));
    let _ = TOKEN;
}

/// Every kind the plane serves deserialises strictly in k8s-openapi (the Rust types of the
/// Kubernetes OpenAPI schema: required fields, types, no unknown fields).
#[tokio::test]
async fn every_served_kind_is_schema_valid() {
    use k8s_openapi::api::admissionregistration::v1::{
        MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
    };
    use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
    use k8s_openapi::api::authorization::v1::{SelfSubjectAccessReview, SelfSubjectRulesReview};
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod, Secret, Service};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

    let sim = sim_with(MeshView {
        ingress_gateways: vec!["External".into()],
        egress_gateways: vec![("egress1".into(), String::new())],
        proxy_redirection: Some("CNIChaining".into()),
        plugin_ca: true,
        ..enabled(&["asm-1-26", "asm-1-27"])
    });
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/deployments",
            deployment("web", 2, "nginx"),
        )
        .await);
    ok(&sim
        .kpost(
            "/apis/apps/v1/namespaces/default/statefulsets",
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                   "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                            "template": {"metadata": {"labels": {"app": "db"}},
                                         "spec": {"containers": [{"name": "db", "image": "postgres"}]}}}}),
        )
        .await);
    ok(&sim
        .kpost(
            "/apis/batch/v1/namespaces/default/jobs",
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
                   "spec": {"template": {"spec": {"restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox"}]}}}}),
        )
        .await);

    /// Deserialises every item as `T` and serialises it back: a missing required field or a
    /// wrong type fails the first step, a field the schema does not know is lost in the
    /// second (so the two differ).
    fn strict<T: serde::de::DeserializeOwned + serde::Serialize>(
        list: &Value,
        what: &str,
    ) -> usize {
        fn without_nulls(v: &Value) -> Value {
            match v {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| (k.clone(), without_nulls(v)))
                        .collect(),
                ),
                Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
                other => other.clone(),
            }
        }
        fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
            match (a, b) {
                (Value::Object(x), Value::Object(y)) => {
                    for (k, v) in x {
                        match y.get(k) {
                            None => return Some(format!("{path}.{k} (unknown to the schema)")),
                            Some(w) => {
                                if let Some(d) = first_difference(v, w, &format!("{path}.{k}")) {
                                    return Some(d);
                                }
                            }
                        }
                    }
                    None
                }
                (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                    .iter()
                    .zip(y)
                    .enumerate()
                    .find_map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]"))),
                _ if a == b => None,
                _ => Some(format!("{path}: {a} became {b}")),
            }
        }
        let items = list["items"].as_array().expect("a list");
        for item in items {
            let typed: T = serde_json::from_value(item.clone())
                .unwrap_or_else(|e| panic!("{what}: {e} in {item}"));
            let back = serde_json::to_value(&typed).unwrap();
            if let Some(d) = first_difference(&without_nulls(item), &back, "") {
                panic!("{what}: {d} in {item}");
            }
        }
        items.len()
    }
    type Check = fn(&Value, &str) -> usize;
    let kinds: Vec<(&str, Check)> = vec![
        ("/api/v1/pods", strict::<Pod>),
        ("/api/v1/nodes", strict::<Node>),
        ("/api/v1/namespaces", strict::<Namespace>),
        ("/api/v1/configmaps", strict::<ConfigMap>),
        ("/api/v1/secrets", strict::<Secret>),
        ("/api/v1/services", strict::<Service>),
        ("/apis/apps/v1/deployments", strict::<Deployment>),
        ("/apis/apps/v1/replicasets", strict::<ReplicaSet>),
        ("/apis/apps/v1/daemonsets", strict::<DaemonSet>),
        ("/apis/apps/v1/statefulsets", strict::<StatefulSet>),
        ("/apis/batch/v1/jobs", strict::<Job>),
        (
            "/apis/autoscaling/v2/horizontalpodautoscalers",
            strict::<HorizontalPodAutoscaler>,
        ),
        (
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            strict::<CustomResourceDefinition>,
        ),
        (
            "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
            strict::<MutatingWebhookConfiguration>,
        ),
        (
            "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
            strict::<ValidatingWebhookConfiguration>,
        ),
    ];
    for (path, check) in kinds {
        let body = list(&sim, path).await;
        let n = check(&body, path);
        assert!(n > 0, "{path} served nothing to check");
    }
    let r = sim
        .kpost(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                   "spec": {"resourceAttributes": {"verb": "list", "resource": "pods"}}}),
        )
        .await;
    strict::<SelfSubjectAccessReview>(&json!({"items": [r.body]}), "ssar");
    let r = sim
        .kpost(
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                   "spec": {"namespace": "default"}}),
        )
        .await;
    strict::<SelfSubjectRulesReview>(&json!({"items": [r.body]}), "ssrr");
}
