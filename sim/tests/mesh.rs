//! Router tests for the Istio service-mesh add-on: the project's seed flow at the API level
//! (2023-era catalogue), each `az aks mesh` command as az 2.91 sends it (GET → mutate → PUT
//! whole body → poll → GET, `../shared/reference/ARM-CONTRACT.md` §7) with at least one refusal each, the profile
//! endpoints, every rule of the registry with its code and exact message, and wrong JSON
//! types for every mesh field.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::aks::*;
use common::{Reply, Sim, SUB};
use serde_json::{json, Value};

// ---- az aks mesh, as az 2.91 does it ---------------------------------------------------------

/// Why an az command stopped: on the client (az's own check) or with the server's error.
#[derive(Debug)]
enum AzError {
    Client(String),
    Server(Reply),
}

impl AzError {
    fn server(&self) -> &Reply {
        match self {
            AzError::Server(r) => r,
            AzError::Client(m) => panic!("expected a server refusal, got client error {m}"),
        }
    }
    fn client(&self) -> &str {
        match self {
            AzError::Client(m) => m,
            AzError::Server(r) => panic!("expected a client refusal, got {:?}", r.body),
        }
    }
}

fn profile(body: &mut Value) -> &mut Value {
    let p = &mut body["properties"]["serviceMeshProfile"];
    if p.is_null() {
        *p = json!({"mode": "Disabled"});
    }
    p
}

fn is_istio(body: &Value) -> bool {
    mesh_of(body)["mode"] == "Istio"
}

const NOT_ENABLED: &str = "Istio has not been enabled for this cluster, please refer to https://aka.ms/asm-aks-addon-docs for more details on enabling Azure Service Mesh.";

/// One `az aks mesh ...` command as az 2.91 sends it (`../shared/reference/ARM-CONTRACT.md` §7): GET the cluster
/// (`enable` GETs it twice: once for its key-vault check), apply the client checks and the
/// mutation, GET `meshRevisionProfiles` when the resulting profile holds exactly one revision
/// (az warns about unsupported revisions from it), PUT the whole body, poll, GET.
async fn az_mesh(
    sim: &Sim,
    rg: &str,
    name: &str,
    command: impl FnOnce(&mut Value) -> Result<(), String>,
) -> Result<Value, AzError> {
    az_mesh_with(sim, rg, name, 1, command).await
}

async fn az_mesh_with(
    sim: &Sim,
    rg: &str,
    name: &str,
    gets: usize,
    command: impl FnOnce(&mut Value) -> Result<(), String>,
) -> Result<Value, AzError> {
    let mut got = sim.get(&cluster_url(rg, name)).await;
    for _ in 1..gets {
        got = sim.get(&cluster_url(rg, name)).await;
    }
    assert_eq!(got.status, StatusCode::OK);
    let mut body = without_read_only(got.body);
    command(&mut body).map_err(AzError::Client)?;
    let revisions = mesh_of(&body)["istio"]["revisions"]
        .as_array()
        .map_or(0, Vec::len);
    if is_istio(&body) && revisions == 1 {
        let location = body["location"].as_str().unwrap_or("eastus").to_owned();
        let profiles = sim.get(&revisions_url(&location)).await;
        assert_eq!(profiles.status, StatusCode::OK);
    }
    put_and_wait(sim, rg, name, body)
        .await
        .map_err(AzError::Server)
}

/// `az aks mesh enable` (two GETs first).
async fn az_mesh_enable(
    sim: &Sim,
    rg: &str,
    name: &str,
    revision: Option<&'static str>,
) -> Result<Value, AzError> {
    az_mesh_with(sim, rg, name, 2, enable(revision)).await
}

fn enable(revision: Option<&'static str>) -> impl FnOnce(&mut Value) -> Result<(), String> {
    move |b| {
        if is_istio(b) {
            return Err("Istio has already been enabled for this cluster, please refer to https://aka.ms/asm-aks-upgrade-docs for more details on updating the mesh profile.".into());
        }
        let p = profile(b);
        p["mode"] = json!("Istio");
        if p["istio"].is_null() {
            p["istio"] = json!({});
        }
        if let Some(r) = revision {
            p["istio"]["revisions"] = json!([r]);
        }
        Ok(())
    }
}

fn disable(b: &mut Value) -> Result<(), String> {
    if !is_istio(b) {
        return Err(NOT_ENABLED.into());
    }
    profile(b)["mode"] = json!("Disabled");
    Ok(())
}

fn ingress(mode: &'static str, enabled: bool) -> impl FnOnce(&mut Value) -> Result<(), String> {
    move |b| {
        if !enabled && !is_istio(b) {
            return Err(NOT_ENABLED.into());
        }
        let p = profile(b);
        p["mode"] = json!("Istio");
        if p["istio"].is_null() {
            p["istio"] = json!({});
        }
        let gateways = &mut p["istio"]["components"]["ingressGateways"];
        if gateways.is_null() {
            *gateways = json!([]);
        }
        let list = gateways.as_array_mut().unwrap();
        match list
            .iter_mut()
            .find(|g| g["mode"].as_str().unwrap_or("").eq_ignore_ascii_case(mode))
        {
            Some(g) => g["enabled"] = json!(enabled),
            None => list.push(json!({"mode": mode, "enabled": enabled})),
        }
        Ok(())
    }
}

fn egress(
    name: String,
    namespace: &'static str,
    config: Option<&'static str>,
    enabled: bool,
) -> impl FnOnce(&mut Value) -> Result<(), String> {
    move |b| {
        if enabled {
            // az's validator: the DNS regex with at most 63 characters.
            if name.len() > 63 || !aksim::core::clusters::rules::is_dns_subdomain(&name) {
                return Err(format!("Istio egress name {name} is invalid."));
            }
            if config.is_none() {
                return Err("--gateway-configuration-name is required.".into());
            }
        } else if !is_istio(b) {
            return Err(NOT_ENABLED.into());
        }
        let p = profile(b);
        p["mode"] = json!("Istio");
        if p["istio"].is_null() {
            p["istio"] = json!({});
        }
        let gateways = &mut p["istio"]["components"]["egressGateways"];
        if gateways.is_null() {
            *gateways = json!([]);
        }
        let list = gateways.as_array_mut().unwrap();
        let existing = list
            .iter_mut()
            .find(|g| g["name"] == name.as_str() && g["namespace"] == namespace);
        match (existing, enabled) {
            (Some(g), true) => {
                if g["enabled"] == true {
                    return Err(format!("Egress gateway {name} in namespace {namespace} is already enabled with gateway configuration name {}.", g["gatewayConfigurationName"].as_str().unwrap_or("")));
                }
                g["enabled"] = json!(true);
                g["gatewayConfigurationName"] = json!(config);
            }
            (Some(g), false) => {
                // AKS answers a disabled gateway without `enabled` (az reads it as not enabled).
                if g["enabled"] != true {
                    return Err(format!("Egress gateway {name} in namespace {namespace} is already disabled."));
                }
                g["enabled"] = json!(false);
            }
            (None, true) => list.push(json!({"enabled": true, "name": name, "namespace": namespace, "gatewayConfigurationName": config})),
            (None, false) => {
                return Err(format!("Egress gateway {name} in namespace {namespace} does not exist, cannot disable."))
            }
        }
        Ok(())
    }
}

fn revision_key(r: &Value) -> (u32, u32) {
    aksim::core::timeline::catalog::revision_number(r.as_str().unwrap_or("")).unwrap_or_default()
}

fn upgrade_start(revision: &'static str) -> impl FnOnce(&mut Value) -> Result<(), String> {
    move |b| {
        if !is_istio(b) {
            return Err(NOT_ENABLED.into());
        }
        profile(b)["istio"]["revisions"]
            .as_array_mut()
            .unwrap()
            .push(json!(revision));
        Ok(())
    }
}

/// `upgrade complete` removes the lowest revision, `rollback` the highest.
fn upgrade_finish(complete: bool) -> impl FnOnce(&mut Value) -> Result<(), String> {
    move |b| {
        if !is_istio(b) {
            return Err(NOT_ENABLED.into());
        }
        let revisions = profile(b)["istio"]["revisions"].as_array_mut().unwrap();
        if revisions.len() < 2 {
            return Err("Azure Service Mesh upgrade is not in progress.".into());
        }
        revisions.sort_by_key(revision_key);
        if complete {
            revisions.remove(0);
        } else {
            revisions.pop();
        }
        Ok(())
    }
}

fn proxy_redirection(mechanism: &'static str) -> impl FnOnce(&mut Value) -> Result<(), String> {
    move |b| {
        if !is_istio(b) {
            return Err(NOT_ENABLED.into());
        }
        let components = &mut profile(b)["istio"]["components"];
        if components["proxyRedirectionMechanism"] == mechanism {
            return Err(format!(
                "Proxy redirection mechanism is already set to '{mechanism}' for this cluster."
            ));
        }
        components["proxyRedirectionMechanism"] = json!(mechanism);
        Ok(())
    }
}

fn revisions_url(location: &str) -> String {
    format!(
        "/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/{location}/meshRevisionProfiles?api-version={API}"
    )
}

fn upgrades_url(rg: &str, name: &str) -> String {
    format!(
        "{}/meshUpgradeProfiles?api-version={API}",
        cluster_path(rg, name)
    )
}

fn plane_mesh(sim: &Sim, rg: &str, name: &str) -> aksim::core::kube::MeshView {
    sim.state
        .core
        .store
        .with(SUB, sim.state.core.clock.now(), |s| {
            s.clusters.planes[&aksim::core::clusters::cluster_key(rg, name)]
                .mesh
                .clone()
        })
}

// ---- the seed flow -------------------------------------------------------------------------

#[tokio::test]
async fn seed_flow_with_the_2023_catalogue() {
    let sim = sim_2023();
    prepare(&sim, "rg1").await;
    // az aks create --enable-azure-service-mesh: istio {} → the default revision (n-1).
    let c1 = create(
        &sim,
        "rg1",
        "c1",
        Some(json!({"mode": "Istio", "istio": {}})),
    )
    .await;
    assert_eq!(
        mesh_of(&c1),
        &json!({"mode": "Istio", "istio": {"components": {}, "revisions": ["asm-1-17"]}})
    );
    assert_eq!(c1["properties"]["kubernetesVersion"], "1.27");
    assert_eq!(plane_mesh(&sim, "rg1", "c1").revisions, ["asm-1-17"]);
    // az aks mesh enable on c1: refused by az itself.
    let err = az_mesh_enable(&sim, "rg1", "c1", None).await.unwrap_err();
    assert!(err.client().starts_with("Istio has already been enabled"));
    // az aks show --query serviceMeshProfile.mode
    let shown = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(mesh_of(&shown.body)["mode"], "Istio");

    // az aks mesh get-revisions -l eastus
    let revs = sim.get(&revisions_url("eastus")).await;
    assert_eq!(revs.status, StatusCode::OK);
    let item = &revs.body["value"][0];
    assert_eq!(item["name"], "istio");
    assert_eq!(
        item["type"],
        "Microsoft.ContainerService/locations/meshRevisionProfiles"
    );
    assert_eq!(
        item["id"],
        format!("/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus/meshRevisionProfiles/istio")
    );
    let mesh_revisions = item["properties"]["meshRevisions"].as_array().unwrap();
    assert_eq!(mesh_revisions[0]["revision"], "asm-1-17");
    assert_eq!(mesh_revisions[0]["upgrades"], json!(["asm-1-18"]));
    assert_eq!(mesh_revisions[0]["compatibleWith"][0]["name"], "kubernetes");
    assert!(
        mesh_revisions[1].get("upgrades").is_none(),
        "the newest omits upgrades"
    );

    // az aks mesh get-upgrades
    let ups = sim.get(&upgrades_url("rg1", "c1")).await;
    let p = &ups.body["value"][0];
    assert_eq!(p["properties"]["revision"], "asm-1-17");
    assert_eq!(p["properties"]["upgrades"], json!(["asm-1-18"]));
    assert_eq!(
        p["id"],
        format!("/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/meshUpgradeProfiles/istio")
    );
    assert_eq!(
        p["type"],
        "Microsoft.ContainerService/managedClusters/meshUpgradeProfiles"
    );

    // az aks mesh upgrade start --revision asm-1-18
    let started = az_mesh(&sim, "rg1", "c1", upgrade_start("asm-1-18"))
        .await
        .unwrap();
    assert_eq!(
        mesh_of(&started)["istio"]["revisions"],
        json!(["asm-1-17", "asm-1-18"])
    );
    assert_eq!(plane_mesh(&sim, "rg1", "c1").revisions.len(), 2);
    // get-upgrades during the canary upgrade is refused.
    let during = sim.get(&upgrades_url("rg1", "c1")).await;
    assert_eq!(during.status, StatusCode::BAD_REQUEST);
    assert_eq!(during.code(), "BadRequest");
    assert_eq!(
        during.body["error"]["message"],
        "Mesh upgrade is in progress. Please complete or roll back the current upgrade before \
         attempting to retrieve versioning and compatibility information"
    );
    // az aks mesh upgrade complete keeps the higher revision.
    let done = az_mesh(&sim, "rg1", "c1", upgrade_finish(true))
        .await
        .unwrap();
    assert_eq!(mesh_of(&done)["istio"]["revisions"], json!(["asm-1-18"]));
    let err = az_mesh(&sim, "rg1", "c1", upgrade_finish(true))
        .await
        .unwrap_err();
    assert_eq!(
        err.client(),
        "Azure Service Mesh upgrade is not in progress."
    );

    // az aks mesh enable-ingress-gateway --ingress-gateway-type external / internal
    let ext = az_mesh(&sim, "rg1", "c1", ingress("External", true))
        .await
        .unwrap();
    assert_eq!(
        mesh_of(&ext)["istio"]["components"]["ingressGateways"],
        json!([{"mode": "External", "enabled": true}])
    );
    let int = az_mesh(&sim, "rg1", "c1", ingress("Internal", true))
        .await
        .unwrap();
    assert_eq!(
        mesh_of(&int)["istio"]["components"]["ingressGateways"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        plane_mesh(&sim, "rg1", "c1").ingress_gateways,
        ["External", "Internal"]
    );
    let off = az_mesh(&sim, "rg1", "c1", ingress("External", false))
        .await
        .unwrap();
    assert_eq!(
        mesh_of(&off)["istio"]["components"]["ingressGateways"][0],
        json!({"mode": "External"}),
        "a disabled gateway is kept, answered without enabled:false as AKS does"
    );
    assert_eq!(plane_mesh(&sim, "rg1", "c1").ingress_gateways, ["Internal"]);

    // az aks get-credentials: the kubeconfig points at this cluster's plane.
    let creds = sim
        .post(&format!(
            "{}/listClusterUserCredential?api-version={API}",
            cluster_path("rg1", "c1")
        ))
        .await;
    let yaml = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            creds.body["kubeconfigs"][0]["value"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(yaml.contains(&aksim::kubeapi::server_url(
        "http://sim.test",
        SUB,
        "rg1",
        "c1"
    )));

    // az aks mesh disable → exactly {"mode":"Disabled"}; the plane drops the add-on.
    let disabled = az_mesh(&sim, "rg1", "c1", disable).await.unwrap();
    assert_eq!(mesh_of(&disabled), &json!({"mode": "Disabled"}));
    assert!(!plane_mesh(&sim, "rg1", "c1").enabled);
    let err = az_mesh(&sim, "rg1", "c1", disable).await.unwrap_err();
    assert_eq!(err.client(), NOT_ENABLED);
    let ups = sim.get(&upgrades_url("rg1", "c1")).await;
    assert_eq!(ups.body["value"], json!([]));

    // A rollback keeps the lower revision (second cluster, enabled afterwards by az aks mesh
    // enable on a cluster created without the mesh).
    let c2 = create(&sim, "rg1", "c2", None).await;
    assert!(c2["properties"].get("serviceMeshProfile").is_none());
    let enabled = az_mesh_enable(&sim, "rg1", "c2", None).await.unwrap();
    assert_eq!(mesh_of(&enabled)["istio"]["revisions"], json!(["asm-1-17"]));
    az_mesh(&sim, "rg1", "c2", upgrade_start("asm-1-18"))
        .await
        .unwrap();
    let rolled = az_mesh(&sim, "rg1", "c2", upgrade_finish(false))
        .await
        .unwrap();
    assert_eq!(mesh_of(&rolled)["istio"]["revisions"], json!(["asm-1-17"]));
}

// ---- every az aks mesh command with a refusal -------------------------------------------------

#[tokio::test]
async fn az_mesh_commands_and_their_refusals() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;

    // enable --revision asm-1-17 (deprecated today): the verified AKS text.
    let err = az_mesh_enable(&sim, "rg1", "c1", Some("asm-1-17"))
        .await
        .unwrap_err();
    let r = err.server();
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "BadRequest");
    assert_eq!(
        r.body["error"]["message"],
        "Requested change in revisions is not allowed. Reason: Revision asm-1-17 is not \
         supported by the service mesh add-on."
    );
    // enable (default revision today: asm-1-29).
    let on = az_mesh_enable(&sim, "rg1", "c1", None).await.unwrap();
    assert_eq!(
        mesh_of(&on),
        &json!({"mode": "Istio", "istio": {"components": {}, "revisions": ["asm-1-29"]}})
    );

    // upgrade start: a deprecated (older) target is refused, an allowed one accepted, a third
    // refused.
    let err = az_mesh(&sim, "rg1", "c1", upgrade_start("asm-1-28"))
        .await
        .unwrap_err();
    assert!(err.server().body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Revision asm-1-28 is not supported by the service mesh add-on"));
    az_mesh(&sim, "rg1", "c1", upgrade_start("asm-1-30"))
        .await
        .unwrap();
    let err = az_mesh(&sim, "rg1", "c1", upgrade_start("asm-1-30"))
        .await
        .unwrap_err();
    assert_eq!(
        err.server().body["error"]["message"],
        "Request exceeds maximum allowed number of revisions (2)"
    );
    // rollback, then complete with nothing in progress (client refusal).
    let rolled = az_mesh(&sim, "rg1", "c1", upgrade_finish(false))
        .await
        .unwrap();
    assert_eq!(mesh_of(&rolled)["istio"]["revisions"], json!(["asm-1-29"]));
    let err = az_mesh(&sim, "rg1", "c1", upgrade_finish(false))
        .await
        .unwrap_err();
    assert_eq!(
        err.client(),
        "Azure Service Mesh upgrade is not in progress."
    );

    // enable-egress-gateway: az accepts 54-63 characters, the server allows 53.
    let long = "e".repeat(54);
    let err = az_mesh(
        &sim,
        "rg1",
        "c1",
        egress(long.clone(), "aks-istio-egress", Some("gw"), true),
    )
    .await
    .unwrap_err();
    assert!(err.server().body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Istio egress gateway name '{long}' is invalid.")));
    // An egress gateway needs the Static Egress Gateway first (a hard dependency).
    let err = az_mesh(
        &sim,
        "rg1",
        "c1",
        egress(
            "my-egress".into(),
            "aks-istio-egress",
            Some("gw-config"),
            true,
        ),
    )
    .await
    .unwrap_err();
    assert!(err.server().body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Istio egress gateways require the Static Egress Gateway feature."));
    // az aks update --enable-static-egress-gateway
    az_update(&sim, "rg1", "c1", |b| {
        b["properties"]["networkProfile"]["staticEgressGatewayProfile"] = json!({"enabled": true})
    })
    .await
    .unwrap();
    let with_egress = az_mesh(
        &sim,
        "rg1",
        "c1",
        egress(
            "my-egress".into(),
            "aks-istio-egress",
            Some("gw-config"),
            true,
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        mesh_of(&with_egress)["istio"]["components"]["egressGateways"],
        json!([{"enabled": true, "name": "my-egress", "namespace": "aks-istio-egress", "gatewayConfigurationName": "gw-config"}])
    );
    assert_eq!(
        plane_mesh(&sim, "rg1", "c1").egress_gateways,
        [("my-egress".to_owned(), "aks-istio-egress".to_owned())]
    );
    let err = az_mesh(
        &sim,
        "rg1",
        "c1",
        egress(
            "my-egress".into(),
            "aks-istio-egress",
            Some("gw-config"),
            true,
        ),
    )
    .await
    .unwrap_err();
    assert!(err.client().contains("is already enabled"));
    // disable-egress-gateway
    let off = az_mesh(
        &sim,
        "rg1",
        "c1",
        egress("my-egress".into(), "aks-istio-egress", None, false),
    )
    .await
    .unwrap();
    let disabled = &mesh_of(&off)["istio"]["components"]["egressGateways"][0];
    assert!(
        disabled.get("enabled").is_none() && disabled["name"] == "my-egress",
        "AKS drops enabled:false: {disabled}"
    );
    let err = az_mesh(
        &sim,
        "rg1",
        "c1",
        egress("nope".into(), "aks-istio-egress", None, false),
    )
    .await
    .unwrap_err();
    assert!(err.client().ends_with("does not exist, cannot disable."));

    // proxy-redirection-mechanism
    let cni = az_mesh(&sim, "rg1", "c1", proxy_redirection("CNIChaining"))
        .await
        .unwrap();
    assert_eq!(
        mesh_of(&cni)["istio"]["components"]["proxyRedirectionMechanism"],
        "CNIChaining"
    );
    assert_eq!(
        plane_mesh(&sim, "rg1", "c1").proxy_redirection.as_deref(),
        Some("CNIChaining")
    );
    let err = az_mesh(&sim, "rg1", "c1", proxy_redirection("CNIChaining"))
        .await
        .unwrap_err();
    assert!(err
        .client()
        .starts_with("Proxy redirection mechanism is already set"));

    // disable-ingress-gateway needs the mesh; enable-ingress-gateway enables it implicitly,
    // which the OSM add-on forbids.
    az_mesh(&sim, "rg1", "c1", disable).await.unwrap();
    let err = az_mesh(&sim, "rg1", "c1", ingress("Internal", false))
        .await
        .unwrap_err();
    assert_eq!(err.client(), NOT_ENABLED);
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    let mut body = without_read_only(got.body);
    body["properties"]["addonProfiles"]["openServiceMesh"] = json!({"enabled": true, "config": {}});
    put_and_wait(&sim, "rg1", "c1", body).await.unwrap();
    let err = az_mesh(&sim, "rg1", "c1", ingress("External", true))
        .await
        .unwrap_err();
    assert_eq!(
        err.server().body["error"]["message"],
        "Istio based Azure service mesh is incompatible with feature openServiceMesh"
    );

    // disable on a disabled mesh: az refuses.
    let err = az_mesh(&sim, "rg1", "c1", disable).await.unwrap_err();
    assert_eq!(err.client(), NOT_ENABLED);

    // proxy-redirection in 2023: Istio CNI did not exist (2025-10-20), so AKS of that day
    // ignores the field, as it ignores any property it does not know.
    let old = sim_2023();
    prepare(&old, "rg1").await;
    create(
        &old,
        "rg1",
        "c1",
        Some(json!({"mode": "Istio", "istio": {}})),
    )
    .await;
    let ignored = az_mesh(&old, "rg1", "c1", proxy_redirection("CNIChaining"))
        .await
        .unwrap();
    assert_eq!(
        mesh_of(&ignored),
        &json!({"mode": "Istio", "istio": {"components": {}, "revisions": ["asm-1-17"]}})
    );
}

// ---- profile endpoints ------------------------------------------------------------------------

#[tokio::test]
async fn revision_and_upgrade_profiles_from_the_current_catalogue() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    let list = sim.get(&revisions_url("eastus")).await;
    let revisions: Vec<&str> = list.body["value"][0]["properties"]["meshRevisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_str().unwrap())
        .collect();
    // Today: asm-1-27 (2026-05-29) and asm-1-28 (2026-09-01, inferred) are deprecated, and
    // since 2026-05-29 deprecated revisions are no longer listed.
    assert_eq!(revisions, ["asm-1-29", "asm-1-30"]);
    let one = sim
        .get(
            &revisions_url("eastus")
                .replace("meshRevisionProfiles?", "meshRevisionProfiles/Istio?"),
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["properties"], list.body["value"][0]["properties"]);
    let newest = &one.body["properties"]["meshRevisions"][1];
    assert!(newest.get("upgrades").is_none());
    assert_eq!(newest["compatibleWith"][0]["name"], "KubernetesOfficial");
    assert_eq!(newest["compatibleWith"][1]["name"], "AKSLongTermSupport");
    let other = sim
        .get(
            &revisions_url("eastus")
                .replace("meshRevisionProfiles?", "meshRevisionProfiles/linkerd?"),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let bad_version = sim
        .get(&revisions_url("eastus").replace(API, "2020-01-01"))
        .await;
    assert_eq!(bad_version.code(), "NoRegisteredProviderFound");

    create(&sim, "rg1", "plain", None).await;
    let empty = sim.get(&upgrades_url("rg1", "plain")).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["value"], json!([]));
    let none = sim
        .get(
            &upgrades_url("rg1", "plain")
                .replace("meshUpgradeProfiles?", "meshUpgradeProfiles/istio?"),
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let missing = sim.get(&upgrades_url("rg1", "nope")).await;
    assert_eq!(missing.code(), "ResourceNotFound");

    let mut body = az_create_body(
        "m",
        "rg1",
        Some(json!({"mode": "Istio", "istio": {"revisions": ["asm-1-29"]}})),
    );
    body["properties"]["kubernetesVersion"] = json!("1.35");
    put_and_wait(&sim, "rg1", "m", body).await.unwrap();
    let one = sim
        .get(
            &upgrades_url("rg1", "m").replace("meshUpgradeProfiles?", "meshUpgradeProfiles/istio?"),
        )
        .await;
    assert_eq!(one.body["properties"]["revision"], "asm-1-29");
    assert_eq!(one.body["properties"]["upgrades"], json!(["asm-1-30"]));
    assert_eq!(one.body["name"], "istio");
}

#[tokio::test]
async fn spec_examples_of_the_profiles_have_our_shape() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    create(
        &sim,
        "rg1",
        "c1",
        Some(json!({"mode": "Istio", "istio": {}})),
    )
    .await;
    let load = |p: &str| -> Value {
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/arm-examples/containerservice/{p}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let list_ex = load("2026-08-01/ManagedClustersList_MeshRevisionProfiles.json");
    let list = sim.get(&revisions_url("eastus")).await;
    let ex_item = &list_ex["responses"]["200"]["body"]["value"][0];
    assert_eq!(keys(&list.body["value"][0]), keys(ex_item));
    assert_eq!(list.body["value"][0]["type"], ex_item["type"]);
    assert_eq!(
        keys(&list.body["value"][0]["properties"]["meshRevisions"][0]),
        keys(&ex_item["properties"]["meshRevisions"][0])
    );
    let get_ex = load("2026-05-01/ManagedClustersGet_MeshRevisionProfile.json");
    let one = sim
        .get(
            &revisions_url("eastus")
                .replace("meshRevisionProfiles?", "meshRevisionProfiles/istio?"),
        )
        .await;
    assert_eq!(keys(&one.body), keys(&get_ex["responses"]["200"]["body"]));
    let up_ex = load("2026-03-01/ManagedClustersGet_MeshUpgradeProfile.json");
    let up = sim
        .get(
            &upgrades_url("rg1", "c1")
                .replace("meshUpgradeProfiles?", "meshUpgradeProfiles/istio?"),
        )
        .await;
    let ex_body = &up_ex["responses"]["200"]["body"];
    assert_eq!(keys(&up.body), keys(ex_body));
    assert_eq!(up.body["type"], ex_body["type"]);
    assert_eq!(keys(&up.body["properties"]), keys(&ex_body["properties"]));
    let list_up_ex = load("2026-05-01/ManagedClustersList_MeshUpgradeProfiles.json");
    let ups = sim.get(&upgrades_url("rg1", "c1")).await;
    assert_eq!(
        keys(&ups.body["value"][0]),
        keys(&list_up_ex["responses"]["200"]["body"]["value"][0])
    );
}

// ---- every rule ---------------------------------------------------------------------------------

/// Where a rule case starts.
#[derive(Clone, Copy)]
enum Start {
    /// The PUT creates the cluster (the mutation edits az's create body).
    Fresh,
    /// An existing cluster without the mesh at this Kubernetes version ("" = default).
    Plain(&'static str),
    /// An existing Istio cluster at this Kubernetes version and revision.
    Meshed(&'static str, &'static str),
    /// An existing cluster in a canary upgrade from → to.
    Canary(&'static str, &'static str),
}

/// The AKS a rule case runs against.
#[derive(Clone, Copy)]
enum At {
    /// The newest day of aksim's data (the default).
    Today,
    /// The AKS of one day.
    Day(&'static str),
    /// Set up on the first day, the refused PUT on the second.
    Then(&'static str, &'static str),
    /// Today's catalogue + Kubernetes 1.22 (older than the add-on) + westus3 without mesh.
    Custom,
}

struct Case {
    rule: &'static str,
    at: At,
    start: Start,
    api: &'static str,
    mutate: fn(&mut Value),
    code: &'static str,
    message: &'static str,
}

fn istio(b: &mut Value) -> &mut Value {
    &mut b["properties"]["serviceMeshProfile"]["istio"]
}

fn custom_catalogue_file() -> tempfile::NamedTempFile {
    let t = aksim::core::timeline::timeline();
    let today = aksim::core::timeline::Behaviour::at(t.newest_day()).aks;
    let mut c = serde_json::to_value(&*today).unwrap();
    c["name"] = json!("custom");
    let versions = c["kubernetes"]["versions"].as_array_mut().unwrap();
    versions.insert(0, json!({"version": "1.22", "patchVersions": ["1.22.17"]}));
    c["mesh"]["unsupportedRegions"] = json!(["westus3"]);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&c).unwrap()).unwrap();
    file
}

fn sim_for(at: At) -> Sim {
    match at {
        At::Today => common::aks::new_sim(),
        At::Day(day) | At::Then(day, _) => common::aks::sim_at(day),
        At::Custom => {
            let file = custom_catalogue_file();
            common::aks::new_sim_with_catalog(&file.path().to_string_lossy())
        }
    }
}

async fn run_case(case: &Case) -> Reply {
    let sim = sim_for(case.at);
    prepare(&sim, "rg1").await;
    let with_version = |k8s: &str, mesh: Option<Value>| {
        let mut b = az_create_body("c1", "rg1", mesh);
        b["properties"]["kubernetesVersion"] = json!(k8s);
        b
    };
    let mut body = match case.start {
        Start::Fresh => az_create_body("c1", "rg1", None),
        Start::Plain(k8s) => {
            put_and_wait(&sim, "rg1", "c1", with_version(k8s, None))
                .await
                .unwrap();
            without_read_only(sim.get(&cluster_url("rg1", "c1")).await.body)
        }
        Start::Meshed(k8s, rev) => {
            let mesh = json!({"mode": "Istio", "istio": {"revisions": [rev]}});
            put_and_wait(&sim, "rg1", "c1", with_version(k8s, Some(mesh)))
                .await
                .unwrap();
            without_read_only(sim.get(&cluster_url("rg1", "c1")).await.body)
        }
        Start::Canary(from, to) => {
            let mesh = json!({"mode": "Istio", "istio": {"revisions": [from]}});
            put_and_wait(&sim, "rg1", "c1", with_version("", Some(mesh)))
                .await
                .unwrap();
            let mut b = without_read_only(sim.get(&cluster_url("rg1", "c1")).await.body);
            istio(&mut b)["revisions"] = json!([from, to]);
            put_and_wait(&sim, "rg1", "c1", b).await.unwrap();
            without_read_only(sim.get(&cluster_url("rg1", "c1")).await.body)
        }
    };
    if let At::Then(_, day) = case.at {
        sim.set_azure_date(day);
        register_gated_features(&sim).await;
    }
    (case.mutate)(&mut body);
    let url = cluster_url("rg1", "c1").replace(API, case.api);
    sim.put(&url, body).await
}

const KV_ID: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1";

fn plugin_all(b: &mut Value) {
    istio(b)["certificateAuthority"] = json!({"plugin": {
        "keyVaultId": KV_ID, "certObjectName": "ca-cert", "keyObjectName": "ca-key",
        "rootCertObjectName": "root-cert", "certChainObjectName": "cert-chain"}});
}

fn kv_addon(b: &mut Value) {
    b["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] = json!({"enabled": true});
}

fn cases() -> Vec<Case> {
    use At::*;
    use Start::*;
    const A: &str = API;
    vec![
        Case { rule: "cluster.location.immutable", at: Today, start: Plain(""), api: A,
            mutate: |b| b["location"] = json!("westus2"), code: "PropertyChangeNotAllowed",
            message: "Changing property 'location' is not allowed." },
        Case { rule: "cluster.dnsPrefix.immutable", at: Today, start: Plain(""), api: A,
            mutate: |b| b["properties"]["dnsPrefix"] = json!("x"), code: "PropertyChangeNotAllowed",
            message: "Changing property 'dnsPrefix' is not allowed." },
        Case { rule: "cluster.fqdnSubdomain.immutable", at: Today, start: Plain(""), api: A,
            mutate: |b| b["properties"]["fqdnSubdomain"] = json!("x"), code: "PropertyChangeNotAllowed",
            message: "Changing property 'fqdnSubdomain' is not allowed." },
        Case { rule: "cluster.nodeResourceGroup.immutable", at: Today, start: Plain(""), api: A,
            mutate: |b| b["properties"]["nodeResourceGroup"] = json!("MC_x"), code: "PropertyChangeNotAllowed",
            message: "Changing property 'nodeResourceGroup' is not allowed." },
        Case { rule: "cluster.kubernetesVersion.supported", at: Today, start: Fresh, api: A,
            mutate: |b| b["properties"]["kubernetesVersion"] = json!("1.99"), code: "AgentPoolK8sVersionNotSupported",
            message: "Version 1.99 is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region. For more information, please check https://aka.ms/supported-version-list" },
        Case { rule: "cluster.kubernetesVersion.ltsOnly", at: Today, start: Fresh, api: A,
            mutate: |b| b["properties"]["kubernetesVersion"] = json!("1.33"), code: "AgentPoolK8sVersionNotSupported",
            message: "Version 1.33 is only available with the AKSLongTermSupport support plan (tier Premium) in this region. Please use [az aks get-versions] command to get the supported version list in this region. For more information, please check https://aka.ms/aks/lts" },
        Case { rule: "cluster.kubernetesVersion.oneMinorAtATime", at: Today, start: Plain("1.35"), api: A,
            mutate: |b| b["properties"]["kubernetesVersion"] = json!("1.37"), code: "OperationNotAllowed",
            message: "Upgrading Kubernetes version 1.35 to 1.37 is not allowed. Available upgrades: [1.36.2 1.36.1]. Please see https://aka.ms/aks-supported-k8s-ver for version details." },
        Case { rule: "cluster.kubernetesVersion.noDowngrade", at: Today, start: Plain("1.36"), api: A,
            mutate: |b| b["properties"]["kubernetesVersion"] = json!("1.35"), code: "NotAllowedK8sVersionDowngrading",
            message: "Downgrading kubernetes version 1.36 to 1.35 is not allowed." },
        Case { rule: "mesh.mode.required", at: Today, start: Plain(""), api: A,
            mutate: |b| b["properties"]["serviceMeshProfile"] = json!({"istio": {}}), code: "BadRequest",
            message: "Missing service mesh mode: " },
        Case { rule: "mesh.mode.valid", at: Today, start: Plain(""), api: A,
            mutate: |b| b["properties"]["serviceMeshProfile"] = json!({"mode": "Linkerd"}), code: "BadRequest",
            message: "Invalid service mesh mode: Linkerd. Allowed values are 'Istio' and 'Disabled'." },
        Case { rule: "mesh.region.supported", at: Custom, start: Fresh, api: A,
            mutate: |b| { b["location"] = json!("westus3"); b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {}}); },
            code: "BadRequest", message: "Azure service mesh is not supported in this region" },
        Case { rule: "mesh.istio.required", at: Today, start: Plain(""), api: A,
            mutate: |b| b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": null}), code: "BadRequest",
            message: "Istio profile is missing even though Service Mesh mode is Istio" },
        Case { rule: "mesh.kubernetes.minimum", at: Custom, start: Fresh, api: A,
            mutate: |b| { b["properties"]["kubernetesVersion"] = json!("1.22"); b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {}}); },
            code: "BadRequest", message: "Azure service mesh requires Kubernetes version 1.23 or later. The cluster version is 1.22." },
        Case { rule: "mesh.osm.conflict", at: Today, start: Plain(""), api: A,
            mutate: |b| { b["properties"]["addonProfiles"]["openServiceMesh"] = json!({"enabled": true}); b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {}}); },
            code: "BadRequest", message: "Istio based Azure service mesh is incompatible with feature openServiceMesh" },
        Case { rule: "mesh.revisions.notEmpty", at: Today, start: Plain(""), api: A,
            mutate: |b| b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {"revisions": [""]}}), code: "BadRequest",
            message: "ServiceMeshProfile revision field must not be empty" },
        Case { rule: "mesh.revisions.max", at: Today, start: Canary("asm-1-29", "asm-1-30"), api: A,
            mutate: |b| istio(b)["revisions"] = json!(["asm-1-29", "asm-1-30", "asm-1-31"]), code: "BadRequest",
            message: "Request exceeds maximum allowed number of revisions (2)" },
        Case { rule: "mesh.revisions.known", at: Today, start: Plain(""), api: A,
            mutate: |b| b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {"revisions": ["asm-1-27"]}}), code: "BadRequest",
            message: "Requested change in revisions is not allowed. Reason: Revision asm-1-27 is not supported by the service mesh add-on." },
        Case { rule: "mesh.revisions.distinct", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["revisions"] = json!(["asm-1-29", "asm-1-29"]), code: "BadRequest",
            message: "Requested change in revisions is not allowed. Reason: Revision asm-1-29 is listed more than once." },
        Case { rule: "mesh.revisions.noDowngrade", at: Today, start: Meshed("", "asm-1-30"), api: A,
            mutate: |b| istio(b)["revisions"] = json!(["asm-1-30", "asm-1-29"]), code: "BadRequest",
            message: "Requested change in revisions is not allowed. Reason: Downgrading the service mesh from revision asm-1-30 to asm-1-29 is not supported." },
        Case { rule: "mesh.revisions.upgradePath", at: Day("2026-04-21"), start: Meshed("", "asm-1-26"), api: A,
            mutate: |b| istio(b)["revisions"] = json!(["asm-1-26", "asm-1-29"]), code: "BadRequest",
            message: "Requested change in revisions is not allowed. Reason: Revision asm-1-29 is not a valid upgrade target for revision asm-1-26. Valid upgrade targets: asm-1-27, asm-1-28. To find information about valid upgrades, use 'az aks mesh get-upgrades'." },
        Case { rule: "mesh.revisions.upgradePath", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["revisions"] = json!(["asm-1-30"]), code: "BadRequest",
            message: "Requested change in revisions is not allowed. Reason: Revision asm-1-29 can only be replaced through a canary upgrade: add asm-1-30 alongside it, then complete or roll back the upgrade." },
        Case { rule: "mesh.revisions.upgradePath", at: Day("2026-08-01"), start: Canary("asm-1-28", "asm-1-29"), api: A,
            mutate: |b| istio(b)["revisions"] = json!(["asm-1-28", "asm-1-30"]), code: "BadRequest",
            message: "Requested change in revisions is not allowed. Reason: An upgrade from asm-1-28 to asm-1-29 is in progress. Complete it (keep asm-1-29) or roll it back (keep asm-1-28) before requesting other revisions." },
        Case { rule: "mesh.revisions.compatible", at: Today, start: Plain("1.37"), api: A,
            mutate: |b| b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {"revisions": ["asm-1-30"]}}), code: "BadRequest",
            message: "Service mesh revision asm-1-30 is not compatible with cluster version 1.37. To find information about mesh-cluster compatibility, use 'az aks mesh get-upgrades'" },
        Case { rule: "mesh.kubernetes.supported", at: Today, start: Plain("1.37"), api: A,
            mutate: |b| b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {}}), code: "BadRequest",
            message: "Kubernetes version 1.37 not supported. Please upgrade to a supported cluster version first. To find compatibility information, use 'az aks mesh get-upgrades'" },
        Case { rule: "mesh.revisions.compatibleOnEveryPut", at: Then("2023-12-01", "2024-01-20"), start: Meshed("1.25", "asm-1-17"), api: A,
            mutate: |b| b["tags"] = json!({"team": "a"}), code: "BadRequest",
            message: "Service mesh revision asm-1-17 is not compatible with cluster version 1.25. To find information about mesh-cluster compatibility, use 'az aks mesh get-upgrades'" },
        Case { rule: "mesh.kubernetesUpgrade.compatible", at: Day("2025-01-15"), start: Meshed("1.30", "asm-1-22"), api: A,
            mutate: |b| b["properties"]["kubernetesVersion"] = json!("1.31"), code: "BadRequest",
            message: "Service mesh revision asm-1-22 is not compatible with cluster version 1.31.3. To find information about mesh-cluster compatibility, use 'az aks mesh get-upgrades'" },
        Case { rule: "mesh.kubernetesUpgrade.blockedByRevision", at: Today, start: Meshed("1.36", "asm-1-29"), api: A,
            mutate: |b| b["properties"]["kubernetesVersion"] = json!("1.37"), code: "BadRequest",
            message: "Service mesh revision asm-1-29 is not compatible with cluster version 1.37.1. To find information about mesh-cluster compatibility, use 'az aks mesh get-upgrades'" },
        Case { rule: "mesh.ingress.mode", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["components"] = json!({"ingressGateways": [{"mode": "Public", "enabled": true}]}), code: "BadRequest",
            message: "Invalid istio ingress mode: Public" },
        Case { rule: "mesh.ingress.count", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["components"] = json!({"ingressGateways": [{"mode": "External", "enabled": true}, {"mode": "external", "enabled": false}]}), code: "BadRequest",
            message: "Too many ingresses for type: External. Only 1 ingress gateway are allowed" },
        Case { rule: "mesh.egress.disallowed", at: Day("2024-09-01"), start: Meshed("", "asm-1-22"), api: A,
            mutate: |b| istio(b)["components"] = json!({"egressGateways": [{"enabled": true, "name": "eg", "gatewayConfigurationName": "gw"}]}), code: "BadRequest",
            message: "Use of Istio egress gateway for Azure Service Mesh is disallowed." },
        Case { rule: "mesh.egress.apiVersion", at: Today, start: Meshed("", "asm-1-29"), api: "2025-08-01",
            mutate: |b| istio(b)["components"] = json!({"egressGateways": [{"enabled": true}]}), code: "BadRequest",
            message: "Use of Istio egress gateway for Azure Service Mesh is disallowed." },
        Case { rule: "mesh.egress.count", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| {
                let gws: Vec<Value> = (0..501).map(|i| json!({"enabled": true, "name": format!("eg{i}"), "gatewayConfigurationName": "gw"})).collect();
                istio(b)["components"] = json!({"egressGateways": gws});
            }, code: "BadRequest",
            message: "Too many egress gateways: 501. Only 500 egress gateways are allowed per cluster" },
        Case { rule: "mesh.egress.name", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["components"] = json!({"egressGateways": [{"enabled": true, "name": "Bad_Name", "gatewayConfigurationName": "gw"}]}), code: "BadRequest",
            message: "Istio egress gateway name 'Bad_Name' is invalid. Name must be between 1 and 53 characters, consist of lower case alphanumeric characters, '-' or '.', and start and end with an alphanumeric character." },
        Case { rule: "mesh.egress.namespace", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["components"] = json!({"egressGateways": [{"enabled": true, "name": "eg", "namespace": "a.b", "gatewayConfigurationName": "gw"}]}), code: "BadRequest",
            message: "Istio egress gateway namespace 'a.b' is invalid. A namespace must be between 1 and 63 characters, consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character." },
        Case { rule: "mesh.egress.gatewayConfigurationName", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["components"] = json!({"egressGateways": [{"enabled": true, "name": "eg"}]}), code: "BadRequest",
            message: "Istio egress gateway 'eg' in namespace 'aks-istio-egress' requires gatewayConfigurationName, the name of its StaticGatewayConfiguration." },
        Case { rule: "mesh.egress.unique", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["components"] = json!({"egressGateways": [
                {"enabled": true, "name": "eg", "gatewayConfigurationName": "gw"},
                {"enabled": false, "name": "eg", "namespace": "aks-istio-egress", "gatewayConfigurationName": "gw"}]}), code: "BadRequest",
            message: "Istio egress gateway 'eg' is defined more than once in namespace 'aks-istio-egress'. Egress gateway names must be unique per namespace." },
        Case { rule: "mesh.egress.staticEgressGateway", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["components"] = json!({"egressGateways": [{"enabled": true, "name": "eg", "gatewayConfigurationName": "gw"}]}), code: "BadRequest",
            message: "Istio egress gateways require the Static Egress Gateway feature. Enable it on the cluster (networkProfile.staticEgressGatewayProfile.enabled, az aks update --enable-static-egress-gateway) before enabling an Istio egress gateway." },
        Case { rule: "mesh.egress.podSubnet", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| {
                b["properties"]["networkProfile"]["staticEgressGatewayProfile"] = json!({"enabled": true});
                b["properties"]["agentPoolProfiles"][0]["podSubnetID"] = json!("/subscriptions/x/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/v/subnets/pods");
                istio(b)["components"] = json!({"egressGateways": [{"enabled": true, "name": "eg", "gatewayConfigurationName": "gw"}]});
            }, code: "BadRequest",
            message: "Istio egress gateways are not supported on clusters that use Azure CNI with a pod subnet (agentPoolProfiles[].podSubnetID): the Static Egress Gateway they need is not available there." },
        Case { rule: "mesh.pluginCa.parameters", at: Today, start: Plain(""), api: A,
            mutate: |b| { kv_addon(b); b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {"certificateAuthority": {"plugin": {"keyVaultId": KV_ID, "certObjectName": ""}}}}); },
            code: "BadRequest", message: "ServiceMeshProfile is missing required parameters: certObjectName, keyObjectName, rootCertObjectName, certChainObjectName for plugin certificate authority" },
        Case { rule: "mesh.pluginCa.keyVaultAddon", at: Today, start: Plain(""), api: A,
            mutate: |b| { b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {}}); plugin_all(b); },
            code: "BadRequest", message: "AzureKeyvaultSecretsProvider addon is required for Azure Service Mesh plugin certificate authority feature" },
        Case { rule: "mesh.pluginCa.keyVaultId", at: Today, start: Plain(""), api: A,
            mutate: |b| { kv_addon(b); b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {}}); plugin_all(b); istio(b)["certificateAuthority"]["plugin"]["keyVaultId"] = json!("/subscriptions/x/vaults/kv1"); },
            code: "BadRequest", message: "'KeyVaultId': '/subscriptions/x/vaults/kv1' is not a valid Azure keyvault resource identifier. Please make sure that the format matches '/subscriptions//resourceGroups//providers/Microsoft.KeyVault/vaults/'" },
        Case { rule: "mesh.pluginCa.onlyWhenEnabling", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| { kv_addon(b); plugin_all(b); },
            code: "BadRequest", message: "The certificate authority of Azure Service Mesh can only be configured when enabling the add-on. To switch certificate authority, disable the add-on and enable it again with the new certificate authority." },
        Case { rule: "mesh.proxyRedirection.valid", at: Today, start: Meshed("", "asm-1-29"), api: A,
            mutate: |b| istio(b)["components"] = json!({"proxyRedirectionMechanism": "Sidecar"}), code: "BadRequest",
            message: "Invalid proxy redirection mechanism: Sidecar. Allowed values are 'InitContainers' and 'CNIChaining'." },
        Case { rule: "mesh.proxyRedirection.cniRevision", at: Then("2025-06-01", "2025-11-01"), start: Meshed("", "asm-1-24"), api: A,
            mutate: |b| istio(b)["components"] = json!({"proxyRedirectionMechanism": "CNIChaining"}), code: "BadRequest",
            message: "Proxy redirection mechanism CNIChaining requires service mesh revision asm-1-25 or later. Revision asm-1-24 does not support it." },
        Case { rule: "mesh.appRouting.gatewayApi", at: Today, start: Plain(""), api: A,
            mutate: |b| {
                b["properties"]["ingressProfile"] = json!({"webAppRouting": {"enabled": true, "gatewayAPIImplementations": {"appRoutingIstio": {"mode": "Enabled"}}}});
                b["properties"]["serviceMeshProfile"] = json!({"mode": "Istio", "istio": {}});
            }, code: "BadRequest",
            message: "The Istio-based service mesh add-on and the application routing Gateway API implementation (ingressProfile.webAppRouting.gatewayAPIImplementations.appRoutingIstio) cannot be enabled at the same time. Disable one of them first, in a separate operation." },
    ]
}

/// Each rule of the registry refuses with its code and exact text; together the cases cover
/// every rule (the self-managed-Istio rule reads the kube plane and is covered by a unit test
/// in rules.rs until the plane can report one).
#[tokio::test]
async fn every_rule_refuses_with_its_code_and_text() {
    let mut covered = BTreeSet::new();
    for case in cases() {
        let r = run_case(&case).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{}: {:?}",
            case.rule,
            r.body
        );
        assert_eq!(r.code(), case.code, "{}", case.rule);
        assert_eq!(r.body["error"]["message"], case.message, "{}", case.rule);
        covered.insert(case.rule);
    }
    let registry: BTreeSet<&str> = aksim::core::clusters::rules::rules()
        .map(|r| r.id)
        .filter(|id| *id != "mesh.selfManagedIstio.conflict")
        .collect();
    let missing: Vec<_> = registry.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "rules without a router test: {missing:?}"
    );
    // The registry is published on /_sim/info.
    let sim = common::aks::new_sim();
    let info = sim.get("/_sim/info").await;
    let ids: Vec<&str> = info.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"mesh.revisions.upgradePath"));
}

#[tokio::test]
async fn windows_pools_are_accepted_with_the_mesh() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    let mut body = az_create_body("c1", "rg1", Some(json!({"mode": "Istio", "istio": {}})));
    body["properties"]["agentPoolProfiles"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"name": "win1", "count": 1, "osType": "Windows", "mode": "User", "vmSize": ""}),
        );
    body["properties"]["windowsProfile"] =
        json!({"adminUsername": "azureuser", "adminPassword": "P@ssw0rd1234!"});
    let created = put_and_wait(&sim, "rg1", "c1", body).await.unwrap();
    assert_eq!(mesh_of(&created)["mode"], "Istio");
    assert_eq!(
        created["properties"]["agentPoolProfiles"][1]["osSKU"],
        "Windows2022"
    );
}

// ---- wrong JSON types ---------------------------------------------------------------------

#[tokio::test]
async fn wrong_json_types_in_the_mesh_profile_are_400() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    let profiles = [
        json!("Istio"),
        json!({"mode": 1}),
        json!({"mode": "Istio", "istio": []}),
        json!({"mode": "Istio", "istio": {"components": "x"}}),
        json!({"mode": "Istio", "istio": {"components": {"ingressGateways": {}}}}),
        json!({"mode": "Istio", "istio": {"components": {"ingressGateways": ["x"]}}}),
        json!({"mode": "Istio", "istio": {"components": {"ingressGateways": [{"mode": 1, "enabled": true}]}}}),
        json!({"mode": "Istio", "istio": {"components": {"ingressGateways": [{"mode": "External", "enabled": "true"}]}}}),
        json!({"mode": "Istio", "istio": {"components": {"egressGateways": 1}}}),
        json!({"mode": "Istio", "istio": {"components": {"egressGateways": [[]]}}}),
        json!({"mode": "Istio", "istio": {"components": {"egressGateways": [{"enabled": 1}]}}}),
        json!({"mode": "Istio", "istio": {"components": {"egressGateways": [{"enabled": true, "name": 1}]}}}),
        json!({"mode": "Istio", "istio": {"components": {"egressGateways": [{"enabled": true, "name": "e", "namespace": true}]}}}),
        json!({"mode": "Istio", "istio": {"components": {"egressGateways": [{"enabled": true, "name": "e", "gatewayConfigurationName": {}}]}}}),
        json!({"mode": "Istio", "istio": {"components": {"proxyRedirectionMechanism": 1}}}),
        json!({"mode": "Istio", "istio": {"certificateAuthority": "x"}}),
        json!({"mode": "Istio", "istio": {"certificateAuthority": {"plugin": []}}}),
        json!({"mode": "Istio", "istio": {"certificateAuthority": {"plugin": {"keyVaultId": 1}}}}),
        json!({"mode": "Istio", "istio": {"certificateAuthority": {"plugin": {"certObjectName": false}}}}),
        json!({"mode": "Istio", "istio": {"certificateAuthority": {"plugin": {"keyObjectName": 2}}}}),
        json!({"mode": "Istio", "istio": {"certificateAuthority": {"plugin": {"rootCertObjectName": []}}}}),
        json!({"mode": "Istio", "istio": {"certificateAuthority": {"plugin": {"certChainObjectName": {}}}}}),
        json!({"mode": "Istio", "istio": {"revisions": "asm-1-29"}}),
        json!({"mode": "Istio", "istio": {"revisions": [129]}}),
    ];
    for p in profiles {
        let body = az_create_body("c1", "rg1", Some(p.clone()));
        let r = sim.put(&cluster_url("rg1", "c1"), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{p}: {:?}", r.body);
        assert_eq!(r.code(), "InvalidRequestContent", "{p}");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("properties.serviceMeshProfile"),
            "{p}"
        );
    }
    // Nothing was stored by the refused requests.
    assert_eq!(
        sim.get(&cluster_url("rg1", "c1")).await.status,
        StatusCode::NOT_FOUND
    );
}

// ---- a reference model of the mesh, driven by random az command sequences ----------------------

/// One `az aks mesh` command (revision indexes point into [`REVISIONS`]).
#[derive(Debug, Clone)]
enum Action {
    Enable(Option<usize>),
    Disable,
    Start(usize),
    Complete,
    Rollback,
    Ingress(bool, bool),
}

/// Revisions the commands pick from (deprecated ones included).
const REVISIONS: [&str; 6] = [
    "asm-1-17", "asm-1-26", "asm-1-27", "asm-1-28", "asm-1-29", "asm-1-30",
];

/// An Istio mesh in the model: revisions, ingress gateways (mode, enabled) and whether the
/// install got Istio CNI by default.
type IstioModel = (Vec<&'static str>, Vec<(&'static str, bool)>, bool);

/// What aksim should hold: `None` never meshed, `Some(None)` disabled, `Some(Some(..))` Istio.
#[derive(Debug, Clone, Default)]
struct Model {
    mesh: Option<Option<IstioModel>>,
}

/// Today's AKS, the facts the model's rules read (the cluster runs today's default minor).
fn today() -> aksim::core::timeline::Behaviour {
    let t = aksim::core::timeline::timeline();
    aksim::core::timeline::Behaviour::at(t.newest_day())
}

fn minor() -> String {
    today().aks.kubernetes.default.clone()
}

fn installable(revision: &str) -> bool {
    let b = today();
    b.aks.revision(revision).is_some_and(|r| !r.deprecated)
        && b.aks
            .is_compatible(revision, &minor(), "KubernetesOfficial")
}

fn targets(revision: &str) -> Vec<String> {
    today()
        .aks
        .upgrade_targets(revision)
        .into_iter()
        .filter(|t| installable(t))
        .collect()
}

fn default_revision() -> &'static str {
    let d = today()
        .aks
        .default_revision(&minor(), "KubernetesOfficial")
        .unwrap();
    REVISIONS.iter().find(|r| **r == d).copied().unwrap()
}

/// Whether a new install of `revision` gets Istio CNI (asm-1-30+ since 2026-07-17).
fn cni_by_default(revision: &str) -> bool {
    today().dated.cni_by_default(revision, &minor())
}

impl Model {
    /// The model's answer: `None` = az refuses on the client, `Some(false)` = the server
    /// refuses (the model is unchanged), `Some(true)` = accepted (the model is updated).
    fn step(&mut self, action: &Action) -> Option<bool> {
        let istio = self.mesh.clone().flatten();
        match (action, istio) {
            (Action::Enable(_), Some(_)) => None,
            (Action::Enable(r), None) => {
                let revision = r.map_or_else(default_revision, |i| REVISIONS[i]);
                if !installable(revision) {
                    return Some(false);
                }
                self.mesh = Some(Some((vec![revision], Vec::new(), cni_by_default(revision))));
                Some(true)
            }
            (Action::Disable, None) => None,
            (Action::Disable, Some(_)) => {
                self.mesh = Some(None);
                Some(true)
            }
            (Action::Start(_) | Action::Complete | Action::Rollback, None) => None,
            (Action::Start(i), Some((revs, ingress, cni))) => {
                let r = REVISIONS[*i];
                if revs.len() != 1 || !targets(revs[0]).iter().any(|t| t == r) {
                    return Some(false);
                }
                self.mesh = Some(Some((vec![revs[0], r], ingress, cni)));
                Some(true)
            }
            (Action::Complete | Action::Rollback, Some((revs, _, _))) if revs.len() < 2 => None,
            (Action::Complete, Some((revs, ingress, cni))) => {
                self.mesh = Some(Some((vec![revs[1]], ingress, cni)));
                Some(true)
            }
            (Action::Rollback, Some((revs, ingress, cni))) => {
                self.mesh = Some(Some((vec![revs[0]], ingress, cni)));
                Some(true)
            }
            (Action::Ingress(_, false), None) => None,
            (Action::Ingress(external, enabled), istio) => {
                let mode = if *external { "External" } else { "Internal" };
                let (revs, mut ingress, cni) = istio.unwrap_or_else(|| {
                    let r = default_revision();
                    (vec![r], Vec::new(), cni_by_default(r))
                });
                match ingress.iter_mut().find(|(m, _)| *m == mode) {
                    Some(g) => g.1 = *enabled,
                    None => ingress.push((mode, *enabled)),
                }
                self.mesh = Some(Some((revs, ingress, cni)));
                Some(true)
            }
        }
    }

    fn expected_profile(&self) -> Option<Value> {
        let mesh = self.mesh.as_ref()?;
        let Some((revs, ingress, cni)) = mesh else {
            return Some(json!({"mode": "Disabled"}));
        };
        let mut components = json!({});
        if *cni {
            components["proxyRedirectionMechanism"] = json!("CNIChaining");
        }
        if !ingress.is_empty() {
            components["ingressGateways"] = ingress
                .iter()
                .map(|(m, e)| {
                    // AKS answers a disabled gateway without `enabled`.
                    if *e {
                        json!({"mode": m, "enabled": true})
                    } else {
                        json!({"mode": m})
                    }
                })
                .collect();
        }
        Some(json!({"mode": "Istio", "istio": {"components": components, "revisions": revs}}))
    }
}

/// An az command's client-side part.
type Command = Box<dyn FnOnce(&mut Value) -> Result<(), String>>;

fn command(action: &Action) -> Command {
    match action {
        Action::Enable(r) => Box::new(enable(r.map(|i| REVISIONS[i]))),
        Action::Disable => Box::new(disable),
        Action::Start(i) => Box::new(upgrade_start(REVISIONS[*i])),
        Action::Complete => Box::new(upgrade_finish(true)),
        Action::Rollback => Box::new(upgrade_finish(false)),
        Action::Ingress(external, enabled) => Box::new(ingress(
            if *external { "External" } else { "Internal" },
            *enabled,
        )),
    }
}

fn action_strategy() -> impl proptest::strategy::Strategy<Value = Action> {
    use proptest::prelude::*;
    prop_oneof![
        proptest::option::of(0..REVISIONS.len()).prop_map(Action::Enable),
        Just(Action::Disable),
        (0..REVISIONS.len()).prop_map(Action::Start),
        Just(Action::Complete),
        Just(Action::Rollback),
        (any::<bool>(), any::<bool>()).prop_map(|(x, e)| Action::Ingress(x, e)),
    ]
}

async fn run_sequence(actions: Vec<Action>) {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;
    let mut model = Model::default();
    for (n, action) in actions.iter().enumerate() {
        let expected = model.step(action);
        let outcome = az_mesh(&sim, "rg1", "c1", command(action)).await;
        match (expected, &outcome) {
            (None, Err(AzError::Client(_))) | (Some(true), Ok(_)) => {}
            (Some(false), Err(AzError::Server(r))) => {
                assert_eq!(r.status, StatusCode::BAD_REQUEST, "step {n} {action:?}");
                assert_eq!(r.code(), "BadRequest", "step {n} {action:?}");
            }
            _ => panic!("step {n} {action:?}: model {expected:?}, aksim {outcome:?}"),
        }
        let got = sim.get(&cluster_url("rg1", "c1")).await;
        let profile = got.body["properties"].get("serviceMeshProfile").cloned();
        assert_eq!(profile, model.expected_profile(), "step {n} {action:?}");
        // The plane follows the finished operation.
        let view = plane_mesh(&sim, "rg1", "c1");
        match &model.mesh {
            Some(Some((revs, ingress, _))) => {
                assert!(view.enabled);
                assert_eq!(view.revisions, *revs);
                let on: Vec<&str> = ingress.iter().filter(|g| g.1).map(|g| g.0).collect();
                assert_eq!(view.ingress_gateways, on);
            }
            _ => assert!(!view.enabled, "step {n}"),
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]
    /// Random `az aks mesh` sequences against a reference model: same acceptance, same
    /// profile, the plane in step, never a 5xx.
    #[test]
    fn mesh_commands_follow_the_reference_model(
        actions in proptest::collection::vec(action_strategy(), 1..12)
    ) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(run_sequence(actions));
    }
}
