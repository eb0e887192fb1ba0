//! Agent pools (`managedClusters/{c}/agentPools`), their rules, upgrade profiles and a
//! cluster's stop/start, in process: the shapes az and the SDKs read, one truth with the
//! cluster's `agentPoolProfiles`, every refusal leaving the state unchanged, and one scenario
//! per pool rule in the library.

mod common;

use axum::http::Method;
use common::aks::{self, cluster_url, create, new_sim, poll, prepare, API};
use common::{Reply, Sim, SUB};
use serde_json::{json, Value};

fn pools_url(rg: &str, cluster: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{cluster}/agentPools?api-version={API}"
    )
}

fn pool_url(rg: &str, cluster: &str, pool: &str) -> String {
    pool_action(rg, cluster, pool, "")
}

fn pool_action(rg: &str, cluster: &str, pool: &str, action: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{cluster}/agentPools/{pool}{action}?api-version={API}"
    )
}

/// The body `az aks nodepool add` sends (recorded, 2024-08).
fn az_pool_body(mode: &str) -> Value {
    json!({"properties": {
        "count": 3, "vmSize": "Standard_DS2_v2", "osType": "Linux", "osSKU": "AzureLinux",
        "enableAutoScaling": false, "scaleDownMode": "Delete", "type": "VirtualMachineScaleSets",
        "mode": mode, "upgradeSettings": {}, "enableNodePublicIP": false,
        "scaleSetPriority": "Regular", "scaleSetEvictionPolicy": "Delete", "spotMaxPrice": -1.0,
        "nodeTaints": [], "enableEncryptionAtHost": false, "enableUltraSSD": false,
        "enableFIPS": false
    }})
}

fn set_default_duration(sim: &Sim, secs: f64) {
    sim.state
        .core
        .durations
        .write()
        .apply(&[format!("default={secs}")], &aksim::core::OP_KINDS)
        .unwrap();
}

async fn setup() -> Sim {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;
    sim
}

/// Everything a refusal must leave as it was: the cluster and its pools.
async fn state(sim: &Sim) -> (Value, Value) {
    let c = sim.get(&cluster_url("rg1", "c1")).await;
    let p = sim.get(&pools_url("rg1", "c1")).await;
    (c.body, p.body)
}

async fn refused(sim: &Sim, r: Reply, status: u16, code: &str) -> Reply {
    assert_eq!(r.status.as_u16(), status, "{:?}", r.body);
    assert_eq!(r.code(), code, "{:?}", r.body);
    let _ = sim;
    r
}

async fn add_pool(sim: &Sim, name: &str, body: Value) -> Value {
    let r = sim.put(&pool_url("rg1", "c1", name), body).await;
    assert_eq!(r.status.as_u16(), 201, "{:?}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Creating");
    let done = poll(sim, &r).await;
    assert_eq!(done["status"], "Succeeded", "{done}");
    sim.get(&pool_url("rg1", "c1", name)).await.body
}

#[tokio::test]
async fn pools_list_and_get_in_aks_shape() {
    let sim = setup().await;
    let r = sim.get(&pools_url("rg1", "c1")).await;
    assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
    let pools = r.body["value"].as_array().unwrap();
    assert_eq!(pools.len(), 1);
    let p = &pools[0];
    assert_eq!(p["name"], "nodepool1");
    assert_eq!(
        p["type"],
        "Microsoft.ContainerService/managedClusters/agentPools"
    );
    assert!(p["id"]
        .as_str()
        .unwrap()
        .ends_with("/managedClusters/c1/agentPools/nodepool1"));
    let props = &p["properties"];
    for key in [
        "count",
        "vmSize",
        "osDiskSizeGB",
        "osDiskType",
        "kubeletDiskType",
        "maxPods",
        "type",
        "provisioningState",
        "powerState",
        "orchestratorVersion",
        "currentOrchestratorVersion",
        "mode",
        "osType",
        "osSKU",
        "nodeImageVersion",
        "upgradeSettings",
    ] {
        assert!(props.get(key).is_some(), "{key} missing: {props}");
    }
    assert!(props.get("name").is_none());
    assert_eq!(props["provisioningState"], "Succeeded");
    assert_eq!(
        props["upgradeSettings"],
        json!({"maxSurge": "10%", "maxUnavailable": "0"})
    );
    assert_eq!(props["vmSize"], "Standard_D4d_v5");
    assert_eq!(props["osDiskType"], "Ephemeral");
    let one = sim.get(&pool_url("rg1", "c1", "nodepool1")).await;
    assert_eq!(one.status.as_u16(), 200);
    assert_eq!(&one.body, p);
    let missing = sim.get(&pool_url("rg1", "c1", "nope")).await;
    refused(&sim, missing, 404, "NotFound").await;
    let no_cluster = sim.get(&pools_url("rg1", "c9")).await;
    refused(&sim, no_cluster, 404, "ResourceNotFound").await;
}

#[tokio::test]
async fn a_pool_put_is_an_lro_and_one_truth_with_the_cluster() {
    let sim = setup().await;
    set_default_duration(&sim, 5.0);
    let r = sim
        .put(&pool_url("rg1", "c1", "user1"), az_pool_body("User"))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{:?}", r.body);
    let props = &r.body["properties"];
    assert_eq!(props["provisioningState"], "Creating");
    // Request-only values AKS does not echo; `upgradeSettings: {}` kept (recorded).
    for dropped in [
        "scaleSetPriority",
        "scaleSetEvictionPolicy",
        "spotMaxPrice",
        "nodeTaints",
    ] {
        assert!(props.get(dropped).is_none(), "{dropped} echoed");
    }
    assert_eq!(props["upgradeSettings"], json!({}));
    assert!(props["nodeImageVersion"]
        .as_str()
        .unwrap()
        .starts_with("AKSAzureLinux"));
    assert!(r.header("azure-asyncoperation").is_some());
    // The cluster sees the pool while it is created.
    let c = sim.get(&cluster_url("rg1", "c1")).await;
    let names: Vec<&str> = c.body["properties"]["agentPoolProfiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nodepool1", "user1"]);
    assert_eq!(c.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        c.body["properties"]["agentPoolProfiles"][1]["provisioningState"],
        "Creating"
    );
    assert_eq!(poll(&sim, &r).await["status"], "Succeeded");
    let got = sim.get(&pool_url("rg1", "c1", "user1")).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");

    // Update: 200; a count-only change is a scale.
    let mut body = json!({"properties": got.body["properties"].clone()});
    body["properties"]["count"] = 5.into();
    let u = sim.put(&pool_url("rg1", "c1", "user1"), body).await;
    assert_eq!(u.status.as_u16(), 200, "{:?}", u.body);
    assert_eq!(u.body["properties"]["provisioningState"], "Scaling");
    poll(&sim, &u).await;

    // A cluster PUT without agentPoolProfiles keeps the pools; one with them is seen by the
    // agentPools API.
    aks::az_update(&sim, "rg1", "c1", |b| {
        b["properties"]
            .as_object_mut()
            .unwrap()
            .remove("agentPoolProfiles");
        b["tags"] = json!({"a": "b"});
    })
    .await
    .unwrap();
    let list = sim.get(&pools_url("rg1", "c1")).await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["value"][1]["properties"]["count"], 5);
    aks::az_update(&sim, "rg1", "c1", |b| {
        let pools = b["properties"]["agentPoolProfiles"].as_array_mut().unwrap();
        pools.push(json!({"name": "added", "count": 1, "mode": "User"}));
    })
    .await
    .unwrap();
    let added = sim.get(&pool_url("rg1", "c1", "added")).await;
    assert_eq!(added.status.as_u16(), 200, "{:?}", added.body);
    assert_eq!(added.body["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test]
async fn pool_rules_refuse_with_aks_codes_and_change_nothing() {
    let sim = setup().await;
    let aks = sim.state.core.aks_for(SUB);
    let newest = aks.kubernetes.versions.last().unwrap().version.clone();
    let before = state(&sim).await;
    let mut cases: Vec<(&str, Value, u16, &str)> = vec![
        ("UPPER", az_pool_body("User"), 400, "InvalidParameter"),
        (
            "abcdefghijklm",
            az_pool_body("User"),
            400,
            "InvalidParameter",
        ),
        (
            "win1234",
            json!({"properties": {"osType": "Windows", "mode": "User"}}),
            400,
            "InvalidParameter",
        ),
        (
            "big",
            json!({"properties": {"count": 1001, "mode": "User"}}),
            400,
            "InvalidParameter",
        ),
        (
            "sys0",
            json!({"properties": {"count": 0, "mode": "System"}}),
            400,
            "InvalidParameter",
        ),
        (
            "auto",
            json!({"properties": {"mode": "User", "enableAutoScaling": true, "minCount": 5, "maxCount": 2}}),
            400,
            "InvalidParameter",
        ),
        (
            "winsys",
            json!({"properties": {"osType": "Windows", "mode": "System"}}),
            400,
            "InvalidParameter",
        ),
        (
            "gw",
            json!({"properties": {"mode": "Gateway", "count": 2}}),
            400,
            "InvalidParameter",
        ),
        (
            "bad",
            json!({"properties": {"count": "three"}}),
            400,
            "InvalidRequestContent",
        ),
        (
            "vers",
            json!({"properties": {"mode": "User", "orchestratorVersion": "1.99"}}),
            400,
            "AgentPoolK8sVersionNotSupported",
        ),
    ];
    let current = sim.get(&cluster_url("rg1", "c1")).await.body["properties"]["kubernetesVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    if newest != current {
        cases.push((
            "newer",
            json!({"properties": {"mode": "User", "orchestratorVersion": newest}}),
            400,
            "NodePoolMcVersionIncompatible",
        ));
    }
    for (name, body, status, code) in cases {
        let r = sim.put(&pool_url("rg1", "c1", name), body).await;
        refused(&sim, r, status, code).await;
        assert_eq!(state(&sim).await, before, "{name} changed the state");
    }
    // The last System pool can be neither deleted nor made User.
    let r = sim.delete(&pool_url("rg1", "c1", "nodepool1")).await;
    let r = refused(&sim, r, 400, "OperationNotAllowed").await;
    assert_eq!(
        r.body["error"]["message"],
        "There has to be at least one system agent pool."
    );
    let mut body = json!({"properties": before.1["value"][0]["properties"].clone()});
    body["properties"]["mode"] = "User".into();
    let r = sim.put(&pool_url("rg1", "c1", "nodepool1"), body).await;
    refused(&sim, r, 400, "OperationNotAllowed").await;
    assert_eq!(state(&sim).await, before);
}

#[tokio::test]
async fn gateway_pools_follow_the_static_egress_gateway_rules() {
    let sim = setup().await;
    aks::az_update(&sim, "rg1", "c1", |b| {
        b["properties"]["networkProfile"]["staticEgressGatewayProfile"] = json!({"enabled": true});
    })
    .await
    .unwrap();
    let before = state(&sim).await;
    for (body, code) in [
        (
            json!({"properties": {"mode": "Gateway", "count": 2, "gatewayProfile": {"publicIPPrefixSize": 27}}}),
            "InvalidParameter",
        ),
        (
            json!({"properties": {"mode": "Gateway", "count": 3, "gatewayProfile": {"publicIPPrefixSize": 31}}}),
            "InvalidParameter",
        ),
        (
            json!({"properties": {"mode": "Gateway", "count": 2, "enableAutoScaling": true, "minCount": 1, "maxCount": 2}}),
            "InvalidParameter",
        ),
        (
            json!({"properties": {"mode": "Gateway", "count": 1, "osType": "Windows"}}),
            "InvalidParameter",
        ),
    ] {
        let r = sim.put(&pool_url("rg1", "c1", "gw"), body).await;
        refused(&sim, r, 400, code).await;
        assert_eq!(state(&sim).await, before);
    }
    let gw = add_pool(
        &sim,
        "gw",
        json!({"properties": {"mode": "Gateway", "count": 2, "gatewayProfile": {"publicIPPrefixSize": 31}}}),
    )
    .await;
    assert_eq!(gw["properties"]["mode"], "Gateway");
    assert_eq!(gw["properties"]["gatewayProfile"]["publicIPPrefixSize"], 31);
    // Default prefix /31 when none is given; a Gateway pool stays one.
    let mut body = json!({"properties": gw["properties"].clone()});
    body["properties"]["mode"] = "User".into();
    let r = sim.put(&pool_url("rg1", "c1", "gw"), body).await;
    refused(&sim, r, 400, "InvalidParameter").await;
    // A Windows User pool is fine.
    let win = add_pool(
        &sim,
        "win1",
        json!({"properties": {"osType": "Windows", "mode": "User", "count": 1}}),
    )
    .await;
    assert_eq!(win["properties"]["osSKU"], "Windows2022");
}

#[tokio::test]
async fn writes_during_a_running_operation_are_refused() {
    let sim = setup().await;
    set_default_duration(&sim, 60.0);
    // A pool write while the cluster updates.
    let r = sim
        .call(
            Method::PATCH,
            &cluster_url("rg1", "c1"),
            Some(json!({"tags": {"x": "y"}})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200);
    let up = aks::without_read_only(sim.get(&cluster_url("rg1", "c1")).await.body);
    let u = sim.put(&cluster_url("rg1", "c1"), up).await;
    assert_eq!(u.status.as_u16(), 200, "{:?}", u.body);
    let before = state(&sim).await;
    let r = sim
        .put(&pool_url("rg1", "c1", "user1"), az_pool_body("User"))
        .await;
    let r = refused(&sim, r, 409, "OperationNotAllowed").await;
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("(Updating)"));
    assert_eq!(state(&sim).await, before);
    sim.advance(61.0);
    // A cluster write while a pool is created.
    let p = sim
        .put(&pool_url("rg1", "c1", "user1"), az_pool_body("User"))
        .await;
    assert_eq!(p.status.as_u16(), 201);
    let up = aks::without_read_only(sim.get(&cluster_url("rg1", "c1")).await.body);
    let r = sim.put(&cluster_url("rg1", "c1"), up).await;
    let r = refused(&sim, r, 409, "OperationNotAllowed").await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Another agentpool operation (user1 - Creating)"),
        "{:?}",
        r.body
    );
    // Abort ends it Canceled.
    let a = sim.post(&pool_action("rg1", "c1", "user1", "/abort")).await;
    assert_eq!(a.status.as_u16(), 204, "{:?}", a.body);
    let g = sim.get(&pool_url("rg1", "c1", "user1")).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Canceled");
    assert_eq!(poll(&sim, &p).await["status"], "Canceled");
}

#[tokio::test]
async fn delete_and_node_image_upgrade_are_lros() {
    let sim = setup().await;
    add_pool(&sim, "user1", az_pool_body("User")).await;
    let up = sim
        .post(&pool_action(
            "rg1",
            "c1",
            "user1",
            "/upgradeNodeImageVersion",
        ))
        .await;
    assert_eq!(up.status.as_u16(), 202, "{:?}", up.body);
    assert_eq!(
        up.body["properties"]["provisioningState"],
        "UpgradingNodeImageVersion"
    );
    assert!(up.header("location").is_some() && up.header("azure-asyncoperation").is_some());
    assert_eq!(poll(&sim, &up).await["status"], "Succeeded");
    let d = sim.delete(&pool_url("rg1", "c1", "user1")).await;
    assert_eq!(d.status.as_u16(), 202, "{:?}", d.body);
    assert!(d.header("location").is_some());
    assert_eq!(poll(&sim, &d).await["status"], "Succeeded");
    let gone = sim.get(&pool_url("rg1", "c1", "user1")).await;
    assert_eq!(gone.status.as_u16(), 404);
    let c = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(
        c.body["properties"]["agentPoolProfiles"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let again = sim.delete(&pool_url("rg1", "c1", "user1")).await;
    assert_eq!(again.status.as_u16(), 204);
}

/// Every pool rule has a scenario tagged `rule:<id>` in the library.
#[test]
fn every_pool_rule_has_a_scenario() {
    let tree = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let files = aksim::scenario::model::discover(&[tree]).unwrap();
    let mut tags = std::collections::BTreeSet::new();
    for file in files {
        let loaded = aksim::scenario::load(&file).unwrap();
        tags.extend(loaded.scenario.tags.iter().cloned());
    }
    let missing: Vec<&str> = aksim::core::clusters::pools::rules::RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !tags.contains(&format!("rule:{id}")))
        .collect();
    assert!(
        missing.is_empty(),
        "pool rules without a scenario: {missing:?}"
    );
}

fn cluster_action(rg: &str, cluster: &str, action: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{cluster}/{action}?api-version={API}"
    )
}

/// A catalogue minor's patches, oldest first.
fn patches_of(sim: &Sim, minor: &str) -> Vec<String> {
    let aks = sim.state.core.aks_for(SUB);
    aks.minor(minor).unwrap().patch_versions.clone()
}

#[tokio::test]
async fn upgrade_profiles_come_from_the_catalogue_and_pools_upgrade_within_the_skew() {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    let mut body = aks::az_create_body("c1", "rg1", None);
    body["properties"]["kubernetesVersion"] = "1.35".into();
    aks::put_and_wait(&sim, "rg1", "c1", body).await.unwrap();
    let p135 = patches_of(&sim, "1.35");
    let p136 = patches_of(&sim, "1.36");
    let current = p135.last().unwrap().clone();

    let r = sim
        .get(&cluster_action("rg1", "c1", "upgradeProfiles/default"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
    assert_eq!(r.body["name"], "default");
    assert_eq!(
        r.body["type"],
        "Microsoft.ContainerService/managedClusters/upgradeprofiles"
    );
    let cp = &r.body["properties"]["controlPlaneProfile"];
    assert_eq!(cp["kubernetesVersion"], current);
    assert_eq!(cp["osType"], "Linux");
    let targets: Vec<&str> = cp["upgrades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["kubernetesVersion"].as_str().unwrap())
        .collect();
    assert_eq!(targets, p136.iter().map(String::as_str).collect::<Vec<_>>());
    let pools = r.body["properties"]["agentPoolProfiles"]
        .as_array()
        .unwrap();
    assert_eq!(pools[0]["name"], "nodepool1");
    assert_eq!(pools[0]["kubernetesVersion"], current);

    // A pool one minor behind, upgraded to the control plane's version.
    let old = patches_of(&sim, "1.34").last().unwrap().clone();
    add_pool(
        &sim,
        "np2",
        json!({"properties": {"mode": "User", "count": 1, "orchestratorVersion": old}}),
    )
    .await;
    let pr = sim
        .get(&pool_action("rg1", "c1", "np2", "/upgradeProfiles/default"))
        .await;
    assert_eq!(pr.status.as_u16(), 200, "{:?}", pr.body);
    assert_eq!(
        pr.body["type"],
        "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles"
    );
    let props = &pr.body["properties"];
    assert_eq!(props["kubernetesVersion"], old);
    assert!(props["latestNodeImageVersion"]
        .as_str()
        .unwrap()
        .starts_with("AKSUbuntu"));
    let ups: Vec<&str> = props["upgrades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["kubernetesVersion"].as_str().unwrap())
        .collect();
    assert!(ups.contains(&current.as_str()), "{ups:?}");
    assert!(
        !ups.iter().any(|u| u.starts_with("1.36")),
        "newer than the control plane: {ups:?}"
    );
    // `az aks nodepool upgrade -k`: a PUT of the pool with the new version.
    let got = sim.get(&pool_url("rg1", "c1", "np2")).await.body;
    let mut body = json!({"properties": got["properties"].clone()});
    body["properties"]["orchestratorVersion"] = current.clone().into();
    let u = sim.put(&pool_url("rg1", "c1", "np2"), body.clone()).await;
    assert_eq!(u.status.as_u16(), 200, "{:?}", u.body);
    assert_eq!(u.body["properties"]["provisioningState"], "Upgrading");
    poll(&sim, &u).await;
    let after = sim.get(&pool_url("rg1", "c1", "np2")).await.body;
    assert_eq!(after["properties"]["currentOrchestratorVersion"], current);
    // Never past the control plane.
    body["properties"]["orchestratorVersion"] = p136[0].clone().into();
    let r = sim.put(&pool_url("rg1", "c1", "np2"), body).await;
    refused(&sim, r, 400, "NodePoolMcVersionIncompatible").await;
    let missing = sim
        .get(&pool_action(
            "rg1",
            "c1",
            "nope",
            "/upgradeProfiles/default",
        ))
        .await;
    assert_eq!(missing.status.as_u16(), 404);
}

#[tokio::test]
async fn stop_and_start_change_the_power_state_and_a_stopped_cluster_refuses_writes() {
    let sim = setup().await;
    set_default_duration(&sim, 5.0);
    let s = sim.post(&cluster_action("rg1", "c1", "stop")).await;
    assert_eq!(s.status.as_u16(), 202, "{:?}", s.body);
    assert!(s.header("location").is_some() && s.header("azure-asyncoperation").is_some());
    let c = sim.get(&cluster_url("rg1", "c1")).await.body;
    assert_eq!(c["properties"]["provisioningState"], "Stopping");
    assert_eq!(c["properties"]["powerState"]["code"], "Stopped");
    assert_eq!(poll(&sim, &s).await["status"], "Succeeded");
    let c = sim.get(&cluster_url("rg1", "c1")).await.body;
    assert_eq!(c["properties"]["provisioningState"], "Succeeded");
    assert_eq!(c["properties"]["powerState"]["code"], "Stopped");
    assert_eq!(
        c["properties"]["agentPoolProfiles"][0]["powerState"]["code"],
        "Stopped"
    );
    let p = sim.get(&pool_url("rg1", "c1", "nodepool1")).await.body;
    assert_eq!(p["properties"]["powerState"]["code"], "Stopped");

    // Writes (a mesh enable among them) are refused with AKS's text; nothing changes.
    let before = state(&sim).await;
    let mut body = aks::without_read_only(c.clone());
    body["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {}});
    let r = sim.put(&cluster_url("rg1", "c1"), body).await;
    let r = refused(&sim, r, 400, "OperationNotAllowed").await;
    assert_eq!(
        r.body["error"]["message"],
        "Managed Cluster is in stopped state, no operations except for start are allowed."
    );
    let r = sim
        .put(&pool_url("rg1", "c1", "user1"), az_pool_body("User"))
        .await;
    refused(&sim, r, 400, "OperationNotAllowed").await;
    assert_eq!(state(&sim).await, before);

    let st = sim.post(&cluster_action("rg1", "c1", "start")).await;
    assert_eq!(st.status.as_u16(), 202, "{:?}", st.body);
    let c = sim.get(&cluster_url("rg1", "c1")).await.body;
    assert_eq!(c["properties"]["provisioningState"], "Starting");
    assert_eq!(poll(&sim, &st).await["status"], "Succeeded");
    let c = sim.get(&cluster_url("rg1", "c1")).await.body;
    assert_eq!(c["properties"]["powerState"]["code"], "Running");
    assert_eq!(
        c["properties"]["agentPoolProfiles"][0]["powerState"]["code"],
        "Running"
    );
    add_pool(&sim, "user1", az_pool_body("User")).await;
}

#[tokio::test]
async fn a_stopped_clusters_kube_api_answers_503() {
    let sim = setup().await;
    let cred = sim
        .post(&cluster_action("rg1", "c1", "listClusterUserCredential"))
        .await;
    assert_eq!(cred.status.as_u16(), 200);
    let key = aksim::core::clusters::cluster_key("rg1", "c1");
    let token = sim
        .state
        .core
        .with_plane(SUB, &key, sim.state.core.now(), |p| {
            p.unwrap().token.clone()
        });
    let auth = format!("Bearer {token}");
    let ns = format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces");
    let ok = sim
        .call_with(Method::GET, &ns, None, &[("authorization", auth.as_str())])
        .await;
    assert_eq!(ok.status.as_u16(), 200, "{:?}", ok.body);
    let s = sim.post(&cluster_action("rg1", "c1", "stop")).await;
    assert_eq!(poll(&sim, &s).await["status"], "Succeeded");
    let down = sim
        .call_with(Method::GET, &ns, None, &[("authorization", auth.as_str())])
        .await;
    assert_eq!(down.status.as_u16(), 503, "{:?}", down.body);
    assert_eq!(down.body["kind"], "Status");
    assert_eq!(down.body["reason"], "ServiceUnavailable");
    let st = sim.post(&cluster_action("rg1", "c1", "start")).await;
    assert_eq!(poll(&sim, &st).await["status"], "Succeeded");
    let up = sim
        .call_with(Method::GET, &ns, None, &[("authorization", auth.as_str())])
        .await;
    assert_eq!(up.status.as_u16(), 200);
}

/// docs/agent-pools.md lists every pool rule of the registry.
#[test]
fn the_docs_list_every_pool_rule() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/agent-pools.md"),
    )
    .unwrap();
    for rule in aksim::core::clusters::pools::rules::RULES {
        assert!(
            page.contains(&format!("| `{}` |", rule.id)),
            "docs/agent-pools.md does not list {}",
            rule.id
        );
    }
}

/// Pools with their own states, a stopped cluster and running pool operations survive a
/// snapshot export and import unchanged; the operation then ends as it would have.
#[tokio::test]
async fn pools_and_power_round_trip_through_a_snapshot() {
    let sim = setup().await;
    set_default_duration(&sim, 30.0);
    let r = sim
        .put(&pool_url("rg1", "c1", "user1"), az_pool_body("User"))
        .await;
    assert_eq!(r.status.as_u16(), 201);
    let export = sim
        .call_with(Method::GET, &format!("/_sim/snapshot/{SUB}"), None, &[])
        .await;
    assert_eq!(export.status.as_u16(), 200);
    let text = String::from_utf8(export.raw.clone()).unwrap();
    assert!(
        text.contains("poolStatus") && text.contains("agentPoolProvisioned"),
        "{text}"
    );

    let other = new_sim();
    let import = other
        .call_with(
            Method::PUT,
            &format!("/_sim/snapshot/{SUB}"),
            Some(export.body.clone()),
            &[],
        )
        .await;
    assert_eq!(import.status.as_u16(), 200, "{:?}", import.body);
    let pools = |s: &Sim| {
        let s = s.state.core.list_agent_pools(SUB, "rg1", "c1").unwrap();
        serde_json::to_value(s).unwrap()
    };
    assert_eq!(pools(&sim), pools(&other));
    assert_eq!(
        other.get(&pool_url("rg1", "c1", "user1")).await.body["properties"]["provisioningState"],
        "Creating"
    );
    other.advance(31.0);
    assert_eq!(
        other.get(&pool_url("rg1", "c1", "user1")).await.body["properties"]["provisioningState"],
        "Succeeded"
    );
    // A stopped cluster stays stopped.
    sim.advance(31.0);
    let s = sim.post(&cluster_action("rg1", "c1", "stop")).await;
    assert_eq!(s.status.as_u16(), 202);
    sim.advance(31.0);
    let export = sim
        .call_with(Method::GET, &format!("/_sim/snapshot/{SUB}"), None, &[])
        .await;
    let third = new_sim();
    let import = third
        .call_with(
            Method::PUT,
            &format!("/_sim/snapshot/{SUB}"),
            Some(export.body),
            &[],
        )
        .await;
    assert_eq!(import.status.as_u16(), 200, "{:?}", import.body);
    let c = third.get(&cluster_url("rg1", "c1")).await.body;
    assert_eq!(c["properties"]["powerState"]["code"], "Stopped", "{c}");
}

#[tokio::test]
async fn available_agent_pool_versions_list_the_catalogue() {
    let sim = setup().await;
    let r = sim
        .get(&cluster_action("rg1", "c1", "availableAgentPoolVersions"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
    assert_eq!(
        r.body["type"],
        "Microsoft.ContainerService/managedClusters/availableAgentpoolversions"
    );
    let versions = r.body["properties"]["agentPoolVersions"]
        .as_array()
        .unwrap();
    let aks = sim.state.core.aks_for(SUB);
    let all: usize = aks
        .kubernetes
        .versions
        .iter()
        .map(|m| m.patch_versions.len())
        .sum();
    assert_eq!(versions.len(), all);
    let defaults: Vec<&Value> = versions.iter().filter(|v| v["default"] == true).collect();
    assert_eq!(defaults.len(), 1, "{versions:?}");
    let current = sim.get(&cluster_url("rg1", "c1")).await.body["properties"]
        ["currentKubernetesVersion"]
        .clone();
    assert_eq!(defaults[0]["kubernetesVersion"], current);
}

#[tokio::test]
async fn a_pools_machines_follow_its_count_and_power() {
    let sim = setup().await;
    let list_url = pool_action("rg1", "c1", "nodepool1", "/machines");
    let r = sim.get(&list_url).await;
    assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
    let machines = r.body["value"].as_array().unwrap();
    assert_eq!(machines.len(), 3, "az's create asks for 3 nodes");
    let first = &machines[0];
    let name = first["name"].as_str().unwrap();
    assert!(
        name.starts_with("aks-nodepool1-") && name.ends_with("-vmss000000"),
        "{name}"
    );
    assert_eq!(
        first["type"],
        "Microsoft.ContainerService/managedClusters/agentPools/machines"
    );
    assert_eq!(
        first["properties"]["network"]["ipAddresses"][0]["family"],
        "IPv4"
    );
    let one = sim
        .get(&pool_action(
            "rg1",
            "c1",
            "nodepool1",
            &format!("/machines/{name}"),
        ))
        .await;
    assert_eq!(one.status.as_u16(), 200);
    assert_eq!(&one.body, first);
    let missing = sim
        .get(&pool_action("rg1", "c1", "nodepool1", "/machines/nope"))
        .await;
    assert_eq!(missing.status.as_u16(), 404);
    let s = sim.post(&cluster_action("rg1", "c1", "stop")).await;
    assert_eq!(s.status.as_u16(), 202);
    let stopped = sim.get(&list_url).await;
    assert_eq!(
        stopped.body["value"],
        json!([]),
        "a stopped cluster has no machines"
    );
}
