//! The unmodified az CLI 2.91 drives aksim's registration state machines (docs/registration.md):
//! `az feature register/show/list/unregister` and `az provider register/show/list/unregister`
//! (with and without `--wait`) across virtual-clock advances, az's own client-side warnings,
//! az's automatic provider registration on a 409 `MissingSubscriptionRegistration`
//! (`../shared/reference/ARM-CONTRACT.md` §4.3), and preview gating seen through `az rest`.

use serde_json::{json, Value};

use crate::support::az::{Az, Login};
use crate::support::journal;
use crate::support::sim::spawn_sim;
use crate::support::SUB;

const CS: &str = "Microsoft.ContainerService";
const MESH_PREVIEW: &str = "AzureServiceMeshPreview";
/// The seed flow's day: `AzureServiceMeshPreview` exists and gates the add-on (retired later;
/// `the_mesh_preview_flag_is_gone_today` covers today).
const SEED_DAY: &str = "2023-12-01";
/// The refusal of a gated request (AKS's text; docs/registration.md).
const GATE_TEXT: &str = "Feature Microsoft.ContainerService/AzureServiceMeshPreview is not enabled. Please see https://aka.ms/aks/previews for how to enable features.";

fn feature_args(verb: &str) -> [&str; 6] {
    ["feature", verb, "--namespace", CS, "--name", MESH_PREVIEW]
}

async fn feature_state(az: &Az) -> Value {
    let shown = az.json(&feature_args("show")).await;
    assert_eq!(
        shown["name"],
        format!("{CS}/{MESH_PREVIEW}"),
        "the canonical name: {shown:#}"
    );
    assert_eq!(
        shown["id"],
        format!("/subscriptions/{SUB}/providers/Microsoft.Features/providers/{CS}/features/{MESH_PREVIEW}")
    );
    shown["properties"]["state"].clone()
}

async fn provider_state(az: &Az) -> Value {
    let shown = az.json(&["provider", "show", "-n", CS]).await;
    assert_eq!(shown["namespace"], CS, "{shown:#}");
    assert_eq!(shown["id"], format!("/subscriptions/{SUB}/providers/{CS}"));
    shown["registrationState"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_feature_and_provider_state_machines_across_the_clock() {
    let sim = spawn_sim(|c| {
        c.registration_seconds = 3.0;
        c.clock_frozen = true;
        c.azure_date = Some(SEED_DAY.into());
    })
    .await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;

    // Feature: NotRegistered → (register) Registering → (3 virtual s) Registered.
    assert_eq!(feature_state(&az).await, "NotRegistered");
    let registered = az.ok(&feature_args("register")).await;
    assert_eq!(
        registered.json()["properties"]["state"],
        "Registering",
        "{registered}"
    );
    assert!(
        registered.stderr.contains(&format!(
            "Once the feature '{MESH_PREVIEW}' is registered, invoking 'az provider register -n {CS}' is required to get the change propagated"
        )),
        "{registered}"
    );
    assert_eq!(feature_state(&az).await, "Registering");
    sim.advance(2.0);
    assert_eq!(feature_state(&az).await, "Registering", "not before 3 s");
    sim.advance(1.0);
    assert_eq!(feature_state(&az).await, "Registered");

    // `az feature list` (one namespace, and the whole subscription) shows the same state.
    let in_namespace = az
        .json(&[
            "feature",
            "list",
            "--namespace",
            CS,
            "--query",
            &format!("[?name=='{CS}/{MESH_PREVIEW}'].properties.state"),
        ])
        .await;
    assert_eq!(in_namespace, json!(["Registered"]));
    let everywhere = az.json(&["feature", "list"]).await;
    let everywhere = everywhere.as_array().expect("a JSON list");
    let mine: Vec<&Value> = everywhere
        .iter()
        .filter(|f| f["name"] == format!("{CS}/{MESH_PREVIEW}").as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{everywhere:#?}");
    assert_eq!(mine[0]["properties"]["state"], "Registered");
    let other = everywhere
        .iter()
        .find(|f| f["name"] == format!("{CS}/ManagedNamespacePreview").as_str())
        .expect("the list holds the other features too");
    assert_eq!(other["properties"]["state"], "NotRegistered");
    assert!(
        !everywhere
            .iter()
            .any(|f| f["name"] == format!("{CS}/IstioCNIPreview").as_str()),
        "a feature that did not exist yet on the day is not listed"
    );

    // Provider: NotRegistered → (register) Registering → (3 virtual s) Registered.
    assert_eq!(provider_state(&az).await, "NotRegistered");
    let provider = az.ok(&["provider", "register", "-n", CS]).await;
    assert!(provider.stdout.trim().is_empty(), "{provider}");
    assert!(
        provider.stderr.contains(&format!(
            "Registering is still on-going. You can monitor using 'az provider show -n {CS}'"
        )),
        "{provider}"
    );
    assert_eq!(provider_state(&az).await, "Registering");
    sim.advance(3.0);
    assert_eq!(provider_state(&az).await, "Registered");
    let listed = az
        .json(&[
            "provider",
            "list",
            "--query",
            &format!("[?namespace=='{CS}'].registrationState"),
        ])
        .await;
    assert_eq!(listed, json!(["Registered"]));
    // RegistrationFree providers are always Registered.
    let resources = az
        .json(&[
            "provider",
            "list",
            "--query",
            "[?namespace=='Microsoft.Resources'].registrationState",
        ])
        .await;
    assert_eq!(resources, json!(["Registered"]));

    // Unregister both: Unregistering → Unregistered, with az's warnings.
    let unregistered = az.ok(&feature_args("unregister")).await;
    assert_eq!(
        unregistered.json()["properties"]["state"],
        "Unregistering",
        "{unregistered}"
    );
    assert!(
        unregistered.stderr.contains(&format!(
            "Once the feature '{MESH_PREVIEW}' is unregistered, invoking 'az provider register -n {CS}' is required to get the change propagated"
        )),
        "{unregistered}"
    );
    let provider_off = az.ok(&["provider", "unregister", "-n", CS]).await;
    assert!(
        provider_off.stderr.contains(&format!(
            "Unregistering is still on-going. You can monitor using 'az provider show -n {CS}'"
        )),
        "{provider_off}"
    );
    assert_eq!(feature_state(&az).await, "Unregistering");
    assert_eq!(provider_state(&az).await, "Unregistering");
    sim.advance(3.0);
    assert_eq!(feature_state(&az).await, "Unregistered");
    assert_eq!(provider_state(&az).await, "Unregistered");

    // An unknown feature is Azure's 404.
    let unknown = az
        .run(&[
            "feature",
            "show",
            "--namespace",
            CS,
            "--name",
            "NoSuchPreview",
        ])
        .await;
    assert_eq!(unknown.code, 3, "{unknown}");
    assert!(
        unknown
            .stderr
            .contains("(FeatureNotFound) The feature 'NoSuchPreview' could not be found."),
        "{unknown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_provider_register_and_unregister_with_wait() {
    // `--wait` sleeps 10 real seconds between polls; with an immediate registration the
    // register call itself answers `Registered` and az returns without sleeping.
    let sim = spawn_sim(|c| {
        c.registration_seconds = 0.0;
        c.azure_date = Some(SEED_DAY.into());
    })
    .await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    assert_eq!(provider_state(&az).await, "NotRegistered");
    let waited = az.ok(&["provider", "register", "-n", CS, "--wait"]).await;
    assert!(
        !waited.stderr.contains("still on-going"),
        "--wait prints no monitoring hint: {waited}"
    );
    assert!(
        waited.elapsed < std::time::Duration::from_secs(10),
        "no 10 s poll was needed: {waited}"
    );
    eprintln!("az provider register --wait took {:.2?}", waited.elapsed);
    assert_eq!(provider_state(&az).await, "Registered");
    let unwaited = az.ok(&["provider", "unregister", "-n", CS, "--wait"]).await;
    assert!(
        unwaited.elapsed < std::time::Duration::from_secs(10),
        "{unwaited}"
    );
    assert_eq!(provider_state(&az).await, "Unregistered");
    // Re-registering from Unregistered is allowed.
    az.ok(&["provider", "register", "-n", CS, "--wait"]).await;
    assert_eq!(provider_state(&az).await, "Registered");

    let posts = journal::entries(
        &sim,
        "method=POST&path=*/providers/Microsoft.ContainerService/*",
    )
    .await;
    let paths: Vec<(&str, &str)> = posts
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or(""),
                e["query"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            (
                format!("/subscriptions/{SUB}/providers/{CS}/register").as_str(),
                "api-version=2024-11-01"
            ),
            (
                format!("/subscriptions/{SUB}/providers/{CS}/unregister").as_str(),
                "api-version=2024-11-01"
            ),
            (
                format!("/subscriptions/{SUB}/providers/{CS}/register").as_str(),
                "api-version=2024-11-01"
            ),
        ],
        "{}",
        journal::summary(&posts)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_registers_a_missing_provider_by_itself() {
    // This test takes about 10 s of real time by design: az's ARMAutoResourceProviderRegistration
    // policy sleeps a real 10 s after its register POST before it polls the provider.
    let sim = spawn_sim(|c| {
        c.registration_seconds = 0.0;
        c.azure_date = Some(SEED_DAY.into());
    })
    .await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let mark = journal::entries(&sim, "").await.len();

    let listed = az.ok(&["aks", "list", "-g", "rg1"]).await;
    assert_eq!(listed.json(), json!([]), "{listed}");
    assert!(
        listed.stderr.contains(&format!(
            "Resource provider '{CS}' used by this operation is not registered. We are registering for you."
        )),
        "{listed}"
    );
    assert!(
        listed.stderr.contains("Registration succeeded."),
        "{listed}"
    );
    assert!(
        listed.elapsed >= std::time::Duration::from_secs(10),
        "the policy sleeps 10 s: {listed}"
    );
    eprintln!(
        "az aks list with auto-registration took {:.2?}",
        listed.elapsed
    );
    assert_eq!(provider_state(&az).await, "Registered");

    let entries = journal::entries(&sim, "").await;
    let during: Vec<&Value> = entries[mark..]
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.contains("Microsoft.ContainerService"))
        })
        .collect();
    let summary = journal::summary(&entries[mark..]);
    assert!(during.len() >= 4, "{summary}");
    let list_path =
        format!("/subscriptions/{SUB}/resourceGroups/rg1/providers/{CS}/managedClusters");
    // 1) the list is refused with the 409 that triggers the policy,
    assert_eq!(during[0]["method"], "GET", "{summary}");
    assert!(
        during[0]["path"]
            .as_str()
            .is_some_and(|p| p.eq_ignore_ascii_case(&list_path)),
        "{summary}"
    );
    assert_eq!(during[0]["status"], 409, "{summary}");
    assert_eq!(
        during[0]["errorCode"], "MissingSubscriptionRegistration",
        "{summary}"
    );
    // 2) the policy registers with its own api-version,
    assert_eq!(during[1]["method"], "POST", "{summary}");
    assert_eq!(
        during[1]["path"],
        format!("/subscriptions/{SUB}/providers/{CS}/register"),
        "{summary}"
    );
    assert_eq!(during[1]["query"], "api-version=2016-02-01", "{summary}");
    assert_eq!(during[1]["status"], 200, "{summary}");
    // 3) polls the provider after its sleep,
    assert_eq!(during[2]["method"], "GET", "{summary}");
    assert_eq!(
        during[2]["path"],
        format!("/subscriptions/{SUB}/providers/{CS}"),
        "{summary}"
    );
    assert_eq!(during[2]["query"], "api-version=2016-02-01", "{summary}");
    // 4) and resends the original request once, now answered.
    assert_eq!(during[3]["method"], "GET", "{summary}");
    assert!(
        during[3]["path"]
            .as_str()
            .is_some_and(|p| p.eq_ignore_ascii_case(&list_path)),
        "{summary}"
    );
    assert_eq!(during[3]["status"], 200, "{summary}");
    assert_ne!(
        during[0]["clientRequestId"], during[3]["clientRequestId"],
        "the retry has a fresh x-ms-client-request-id: {summary}"
    );
}

/// A managedClusters body for the 2023 preview api-versions with the Istio add-on on.
fn preview_mesh_cluster() -> String {
    json!({
        "location": "eastus",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "dnsPrefix": "c1",
            "agentPoolProfiles": [{
                "name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2",
                "osType": "Linux", "mode": "System", "type": "VirtualMachineScaleSets"
            }],
            "serviceMeshProfile": {"mode": "Istio", "istio": {"revisions": ["asm-1-17"]}}
        }
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_rest_preview_request_is_gated_until_feature_and_provider_are_registered() {
    // az 2.91's `az aks` sends the GA api-version 2026-06-01, which no gate covers; the 2023
    // mesh preview api-versions are reached with `az rest` (an unmodified az command).
    let sim = spawn_sim(|c| {
        c.registration_seconds = 3.0;
        c.clock_frozen = true;
        c.azure_date = Some(SEED_DAY.into());
    })
    .await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    az.ok(&["provider", "register", "-n", CS]).await;
    sim.advance(3.0);
    assert_eq!(provider_state(&az).await, "Registered");
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let url = sim.url(&format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/{CS}/managedClusters/c1?api-version=2023-05-02-preview"
    ));
    let body = preview_mesh_cluster();
    let put = ["rest", "--method", "put", "--url", &url, "--body", &body];
    let get = ["rest", "--method", "get", "--url", &url];

    let refused = az.run(&put).await;
    assert_eq!(refused.code, 1, "{refused}");
    assert!(refused.stderr.contains("Bad Request"), "{refused}");
    assert!(refused.stderr.contains("BadRequest"), "{refused}");
    assert!(refused.stderr.contains(GATE_TEXT), "{refused}");
    let absent = az.run(&get).await;
    assert_eq!(absent.code, 1, "nothing was created: {absent}");
    assert!(absent.stderr.contains("ResourceNotFound"), "{absent}");

    // Registered but not yet propagated (the provider was registered before the feature).
    az.ok(&feature_args("register")).await;
    let still_registering = az.run(&put).await;
    assert_eq!(still_registering.code, 1, "{still_registering}");
    assert!(
        still_registering.stderr.contains(GATE_TEXT),
        "{still_registering}"
    );
    sim.advance(3.0);
    assert_eq!(feature_state(&az).await, "Registered");
    let not_propagated = az.run(&put).await;
    assert_eq!(not_propagated.code, 1, "{not_propagated}");
    assert!(
        not_propagated.stderr.contains(GATE_TEXT),
        "a feature takes effect only after the provider is registered again: {not_propagated}"
    );

    // `az provider register` propagates it (the register call itself takes effect).
    az.ok(&["provider", "register", "-n", CS]).await;
    sim.advance(3.0);
    let created = az.json(&put).await;
    assert_eq!(
        created["id"],
        format!("/subscriptions/{SUB}/resourcegroups/rg1/providers/{CS}/managedClusters/c1"),
        "{created:#}"
    );
    assert_eq!(
        created["properties"]["serviceMeshProfile"]["mode"], "Istio",
        "{created:#}"
    );
    assert_eq!(
        created["properties"]["serviceMeshProfile"]["istio"]["revisions"],
        json!(["asm-1-17"])
    );
    let shown = az.json(&get).await;
    assert_eq!(shown["name"], "c1", "{shown:#}");
}

/// Today the preview flag of the seed flow is gone: az answers `FeatureNotFound`, and the add-on
/// needs no flag (GA since 2024-02-26).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mesh_preview_flag_is_gone_today() {
    let sim = spawn_sim(|c| c.registration_seconds = 0.0).await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    let run = az.run(&feature_args("register")).await;
    assert_ne!(run.code, 0, "{run}");
    assert!(
        run.stderr.contains(
            "(FeatureNotFound) The feature 'AzureServiceMeshPreview' could not be found."
        ),
        "{run}"
    );
}
