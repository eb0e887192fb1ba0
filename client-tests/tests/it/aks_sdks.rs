//! managedClusters and the Istio add-on through the Azure SDKs (issue 4): the Python SDK
//! (`azure-mgmt-containerservice` 41.8.0, `client-tests/python/sdk_managed_clusters.py`) and
//! the JavaScript SDK (`@azure/arm-containerservice` + `@azure/identity`, pinned in
//! `client-tests/js/package.json`, script `client-tests/js/aks_mesh.mjs`). Each script creates a
//! meshed cluster, runs a canary upgrade, lists the mesh profiles and credentials, provokes a
//! refusal and deletes the cluster; the tests assert on the JSON it prints.

use serde_json::{json, Value};

use crate::support::sim::{spawn_sim, SimHandle};
use crate::support::{node, python, SUB};

/// The current catalogue's revisions with their upgrade targets, as both SDKs list them.
fn current_revisions() -> Value {
    json!([
        {"revision": "asm-1-29", "upgrades": ["asm-1-30"]},
        {"revision": "asm-1-30", "upgrades": null},
    ])
}

/// The assertions both SDKs share: what the script saw of cluster `name`.
#[track_caller]
fn assert_lifecycle(sim: &SimHandle, seen: &Value, name: &str) {
    assert_eq!(
        seen["created"]["id"],
        format!(
            "/subscriptions/{SUB}/resourcegroups/rg1/providers/Microsoft.ContainerService/\
             managedClusters/{name}"
        ),
        "{seen:#}"
    );
    assert_eq!(
        seen["created"]["provisioningState"], "Succeeded",
        "{seen:#}"
    );
    assert_eq!(
        seen["created"]["serviceMeshProfile"],
        json!({"mode": "Istio", "istio": {"components": {}, "revisions": ["asm-1-29"]}}),
        "{seen:#}"
    );
    assert_eq!(seen["startedRevisions"], json!(["asm-1-29", "asm-1-30"]));
    assert_eq!(seen["completedRevisions"], json!(["asm-1-30"]));
    assert_eq!(seen["shown"]["mode"], "Istio", "{seen:#}");
    assert_eq!(seen["shown"]["provisioningState"], "Succeeded", "{seen:#}");
    assert_eq!(seen["revisionProfiles"][0]["name"], "istio", "{seen:#}");
    assert_eq!(
        seen["revisionProfiles"][0]["revisions"],
        current_revisions(),
        "{seen:#}"
    );
    assert_eq!(
        seen["upgradeProfiles"],
        json!([{"name": "istio", "revision": "asm-1-30", "upgrades": null}]),
        "{seen:#}"
    );
    assert_eq!(seen["credentialName"], "clusterUser", "{seen:#}");
    assert_eq!(
        seen["server"],
        format!("{}/k8s/{SUB}/rg1/{name}", sim.base_url),
        "{seen:#}"
    );
}

/// The error fields a script reported for a refusal.
#[track_caller]
fn assert_refusal(seen: &Value, status: u64, code: &str, message: &str) {
    assert_eq!(
        seen["status"].as_u64().or(seen["statusCode"].as_u64()),
        Some(status),
        "{seen:#}"
    );
    assert_eq!(seen["code"], code, "{seen:#}");
    let text = seen["message"].as_str().unwrap_or("");
    assert!(text.starts_with(message), "{message:?} expected: {seen:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_meshed_cluster_lifecycle() {
    // Providers are registered by hand in the other tests; here the SDK's own 409 handling
    // would cost a real 10 s, so ARM auto-registers.
    let sim = spawn_sim(|c| c.auto_register_providers = true).await;
    for credential in ["secret", "static"] {
        let run = python::run_script(&sim, "sdk", "sdk_managed_clusters.py", &[credential]).await;
        assert_eq!(run.code, 0, "{run}");
        let seen = run.json();
        assert_lifecycle(&sim, &seen, "py1");
        assert_refusal(
            &seen["duringCanary"],
            400,
            "BadRequest",
            "Mesh upgrade is in progress. Please complete or roll back the current upgrade",
        );
        assert_refusal(
            &seen["thirdRevision"],
            400,
            "BadRequest",
            "Request exceeds maximum allowed number of revisions (2)",
        );
        assert_refusal(
            &seen["afterDelete"],
            404,
            "ResourceNotFound",
            "The Resource 'Microsoft.ContainerService/managedClusters/py1' under resource group \
             'rg1' was not found.",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_sdk_meshed_cluster_lifecycle() {
    let sim = spawn_sim(|c| c.auto_register_providers = true).await;
    let group = sim
        .put(
            &format!("/subscriptions/{SUB}/resourcegroups/rg1?api-version=2024-11-01"),
            json!({"location": "eastus"}),
        )
        .await;
    assert_eq!(group.status, 201, "{group:#?}");
    // `static`: a TokenCredential object; `secret`: ClientSecretCredential("adfs", …) with
    // authorityHost = aksim, which needs no instance discovery (no internet).
    for credential in ["static", "secret"] {
        let run = node::run_script(&sim, "aks_mesh.mjs", &[credential]).await;
        assert_eq!(run.code, 0, "{run}");
        let seen = run.json();
        let name = format!("js-{credential}");
        assert_lifecycle(&sim, &seen, &name);
        assert_eq!(seen["shown"]["revisions"], json!(["asm-1-30"]), "{seen:#}");
        assert_refusal(
            &seen["downgrade"],
            400,
            "BadRequest",
            "Requested change in revisions is not allowed. Reason: Downgrading the service mesh \
             from revision asm-1-30 to asm-1-29 is not supported.",
        );
        assert_refusal(
            &seen["afterDelete"],
            404,
            "ResourceNotFound",
            &format!(
                "The Resource 'Microsoft.ContainerService/managedClusters/{name}' under resource \
                 group 'rg1' was not found."
            ),
        );
    }
}
