//! The Azure Python SDK's `FeatureClient` (azure-mgmt-resource-features) and
//! `ResourceManagementClient.providers` (azure-mgmt-resource) drive aksim's registration
//! state machines; the test runs `client-tests/python/sdk_registration.py` once per step and
//! moves the virtual clock in between.

use serde_json::{json, Value};

use crate::support::python::run_script;
use crate::support::sim::{spawn_sim, SimHandle};
use crate::support::SUB;

const CS: &str = "Microsoft.ContainerService";

async fn step(sim: &SimHandle, name: &str) -> Value {
    let run = run_script(sim, "sdk", "sdk_registration.py", &[name]).await;
    assert_eq!(run.code, 0, "{run}");
    let seen = run.json();
    assert_eq!(seen["step"], name, "{seen:#}");
    seen
}

/// Asserts what the `show` step saw: the mesh preview feature in `feature` (also in both
/// lists), the CNI preview through subscriptionFeatureRegistrations in `sfr`, the provider in
/// `provider` (also in the list).
#[track_caller]
fn assert_states(seen: &Value, feature: &str, sfr: &str, provider: &str) {
    let name = format!("{CS}/AzureServiceMeshPreview");
    assert_eq!(seen["feature"]["state"], feature, "{seen:#}");
    assert_eq!(seen["listedInNamespace"][&name], feature, "{seen:#}");
    assert_eq!(seen["listedAll"][&name], feature, "{seen:#}");
    assert_eq!(seen["sfr"]["state"], sfr, "{seen:#}");
    assert_eq!(seen["provider"]["state"], provider, "{seen:#}");
    assert_eq!(seen["providersListed"][CS], provider, "{seen:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_feature_and_provider_state_machines() {
    // The seed flow's day, when AzureServiceMeshPreview existed.
    let sim = spawn_sim(|c| {
        c.registration_seconds = 3.0;
        c.clock_frozen = true;
        c.azure_date = Some("2023-12-01".into());
    })
    .await;

    let fresh = step(&sim, "show").await;
    assert_states(&fresh, "NotRegistered", "NotRegistered", "NotRegistered");
    assert_eq!(
        fresh["feature"]["name"],
        format!("{CS}/AzureServiceMeshPreview")
    );
    assert_eq!(
        fresh["feature"]["id"],
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.Features/providers/{CS}/features/AzureServiceMeshPreview"
        )
    );
    assert_eq!(
        fresh["feature"]["type"],
        "Microsoft.Features/providers/features"
    );
    assert_eq!(fresh["sfr"]["name"], "ManagedNamespacePreview", "{fresh:#}");
    assert_eq!(fresh["provider"]["namespace"], CS);
    assert_eq!(
        fresh["provider"]["id"],
        format!("/subscriptions/{SUB}/providers/{CS}")
    );
    let types = fresh["provider"]["resourceTypes"]
        .as_array()
        .expect("resourceTypes");
    assert!(types.contains(&json!("managedClusters")), "{fresh:#}");
    assert_eq!(
        fresh["providersListed"]["Microsoft.Resources"], "Registered",
        "RegistrationFree providers are always Registered: {fresh:#}"
    );

    let registered = step(&sim, "register").await;
    assert_eq!(
        registered,
        json!({"step": "register", "feature": "Registering", "sfr": "Registering", "provider": "Registering"})
    );
    assert_states(
        &step(&sim, "show").await,
        "Registering",
        "Registering",
        "Registering",
    );
    sim.advance(3.0);
    assert_states(
        &step(&sim, "show").await,
        "Registered",
        "Registered",
        "Registered",
    );

    // Registering again changes nothing and answers the current state.
    let again = step(&sim, "register").await;
    assert_eq!(
        again,
        json!({"step": "register", "feature": "Registered", "sfr": "Registered", "provider": "Registered"})
    );

    let unregistered = step(&sim, "unregister").await;
    assert_eq!(
        unregistered,
        json!({"step": "unregister", "feature": "Unregistering", "provider": "Unregistering"})
    );
    assert_states(
        &step(&sim, "show").await,
        "Unregistering",
        "Unregistering",
        "Unregistering",
    );
    sim.advance(3.0);
    assert_states(
        &step(&sim, "show").await,
        "Unregistered",
        "Unregistered",
        "Unregistered",
    );
}
