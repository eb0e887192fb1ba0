//! Helpers for managedCluster tests: the one place that "prepares a subscription", the body
//! `az aks create` sends, and az's GET → mutate → PUT → poll → GET sequence.
#![allow(dead_code)]

use serde_json::{json, Value};

use super::{Reply, Sim, SUB};

/// az 2.91's api-version for every AKS call.
pub const API: &str = "2026-06-01";

pub fn cluster_url(rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}?api-version={API}"
    )
}

pub fn cluster_path(rg: &str, name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}"
    )
}

/// A simulator for cluster tests: ARM's auto-registration is on, so tests that are not about
/// registration need no register step (`prepare` registers explicitly anyway).
pub fn new_sim() -> Sim {
    let mut config = aksim::Config::for_tests();
    config.auto_register_providers = true;
    Sim::with_config(config)
}

/// A cluster-test simulator with a given AKS catalogue file (or an old name: `2023`,
/// `current`).
pub fn new_sim_with_catalog(catalog: &str) -> Sim {
    let mut config = aksim::Config::for_tests();
    config.auto_register_providers = true;
    config.mesh_catalog = Some(catalog.to_owned());
    Sim::with_config(config)
}

/// Registers the features of the preview gates in force on the subscription's day (as the
/// seed flow registers `AzureServiceMeshPreview` on days the add-on was a preview), then the
/// provider again so they take effect (the test config registers instantly).
pub async fn register_gated_features(sim: &Sim) {
    let day = sim.state.core.behaviour_for(SUB).day;
    let features: Vec<String> = sim
        .state
        .core
        .gates
        .rules
        .iter()
        .filter(|g| g.in_force(day) && g.feature.starts_with("Microsoft.ContainerService/"))
        .map(|g| g.feature.clone())
        .collect();
    for feature in &features {
        let (ns, name) = feature.split_once('/').unwrap();
        let r = sim
            .post(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.Features/providers/{ns}/features/{name}/register?api-version=2021-07-01"
            ))
            .await;
        assert_eq!(r.status.as_u16(), 200, "{feature}: {:?}", r.body);
    }
    if !features.is_empty() {
        let r = sim
            .post(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.ContainerService/register?api-version=2024-11-01"
            ))
            .await;
        assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
    }
}

/// Makes a subscription ready for AKS calls as the seed flow does: the features of the
/// preview gates in force (`AzureServiceMeshPreview` on days the add-on was a preview), then
/// Microsoft.ContainerService (the test config registers instantly) and the resource group.
pub async fn prepare(sim: &Sim, rg: &str) {
    register_gated_features(sim).await;
    let r = sim
        .post(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/register?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(r.body["registrationState"], "Registered", "{:?}", r.body);
    let r = sim
        .put(
            &format!("/subscriptions/{SUB}/resourcegroups/{rg}?api-version=2024-11-01"),
            json!({"location": "eastus"}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
}

/// The PUT body `az aks create -g RG -n NAME [--enable-asm]` sends (`../shared/reference/REAL-CLIENTS.md`).
pub fn az_create_body(name: &str, rg: &str, mesh: Option<Value>) -> Value {
    let mut props = json!({
        "kubernetesVersion": "",
        "dnsPrefix": format!("{name}-{rg}-000000"),
        "agentPoolProfiles": [{
            "name": "nodepool1", "count": 3, "vmSize": "", "orchestratorVersion": "",
            "osType": "Linux", "mode": "System", "type": "VirtualMachineScaleSets",
            "enableNodePublicIP": false
        }],
        "enableRBAC": true,
        "disableLocalAccounts": false,
        "networkProfile": {"loadBalancerSku": "standard", "outboundType": "loadBalancer"},
        "addonProfiles": {},
        "storageProfile": {},
        "bootstrapProfile": {"artifactSource": "Direct"}
    });
    if let Some(mesh) = mesh {
        props["serviceMeshProfile"] = mesh;
    }
    json!({
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "sku": {"name": "Base", "tier": "Free"},
        "properties": props
    })
}

/// Strips what the SDK drops with `exclude_readonly=True` (`../shared/reference/ARM-CONTRACT.md` §0.6).
pub fn without_read_only(mut body: Value) -> Value {
    if let Some(m) = body.as_object_mut() {
        for k in ["id", "name", "type", "systemData", "eTag"] {
            m.remove(k);
        }
    }
    if let Some(id) = body.get_mut("identity").and_then(Value::as_object_mut) {
        id.remove("principalId");
        id.remove("tenantId");
    }
    if let Some(p) = body.get_mut("properties").and_then(Value::as_object_mut) {
        for k in [
            "provisioningState",
            "powerState",
            "fqdn",
            "azurePortalFQDN",
            "privateFQDN",
            "currentKubernetesVersion",
            "maxAgentPools",
            "resourceUID",
        ] {
            p.remove(k);
        }
        if let Some(pools) = p.get_mut("agentPoolProfiles").and_then(Value::as_array_mut) {
            for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
                for k in ["currentOrchestratorVersion", "provisioningState", "eTag"] {
                    pool.remove(k);
                }
            }
        }
    }
    body
}

/// Follows an `Azure-AsyncOperation` URL until a terminal status; returns the last status body.
pub async fn poll(sim: &Sim, reply: &Reply) -> Value {
    let url = reply
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation header")
        .to_owned();
    let path = url
        .strip_prefix("http://sim.test")
        .or_else(|| url.strip_prefix("https://sim.test"))
        .expect("absolute URL on our host");
    for _ in 0..100 {
        let r = sim.get(path).await;
        assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
        assert_eq!(r.header("retry-after"), Some("1"));
        let status = r.body["status"].as_str().unwrap_or("").to_owned();
        if ["Succeeded", "Failed", "Canceled"].contains(&status.as_str()) {
            return r.body;
        }
        sim.advance(1.0);
    }
    panic!("operation did not finish");
}

/// PUT + poll to Succeeded + final GET (what az does without --no-wait).
pub async fn put_and_wait(sim: &Sim, rg: &str, name: &str, body: Value) -> Result<Value, Reply> {
    let r = sim.put(&cluster_url(rg, name), body).await;
    if !r.status.is_success() {
        return Err(r);
    }
    let status = poll(sim, &r).await;
    assert_eq!(status["status"], "Succeeded", "{status}");
    let g = sim.get(&cluster_url(rg, name)).await;
    assert_eq!(g.status.as_u16(), 200);
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    Ok(g.body)
}

/// az's update commands: GET, mutate the model, PUT the whole body, poll, GET.
pub async fn az_update(
    sim: &Sim,
    rg: &str,
    name: &str,
    mutate: impl FnOnce(&mut Value),
) -> Result<Value, Reply> {
    let got = sim.get(&cluster_url(rg, name)).await;
    assert_eq!(got.status.as_u16(), 200, "{:?}", got.body);
    let mut body = without_read_only(got.body);
    mutate(&mut body);
    put_and_wait(sim, rg, name, body).await
}

/// Creates a cluster the way `az aks create` does and waits for it.
pub async fn create(sim: &Sim, rg: &str, name: &str, mesh: Option<Value>) -> Value {
    put_and_wait(sim, rg, name, az_create_body(name, rg, mesh))
        .await
        .unwrap_or_else(|r| panic!("create failed: {} {:?}", r.status, r.body))
}

pub fn mesh_of(body: &Value) -> &Value {
    &body["properties"]["serviceMeshProfile"]
}

/// A simulator answering as AKS did on the seed flow's day, 2023-12-01 (asm-1-17 default,
/// asm-1-18 upgrade, the add-on behind `AzureServiceMeshPreview`).
pub fn sim_2023() -> Sim {
    sim_at("2023-12-01")
}

/// A simulator answering as AKS did on `day`.
pub fn sim_at(day: &str) -> Sim {
    let mut config = aksim::Config::for_tests();
    config.azure_date = Some(day.into());
    Sim::with_config(config)
}
