//! The Azure Python SDK (pinned in `client-tests/python/sdk-requirements.txt`) set up exactly
//! as README.md tells users: `ClientSecretCredential("adfs", …, authority=<aksim>)`,
//! `ResourceManagementClient(…, base_url=<aksim>, credential_scopes=[…])`.

use crate::support::python::run_script;
use crate::support::sim::spawn_sim;
use crate::support::SUB;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_groups_through_the_python_sdk() {
    // Strict auth: the SDK's token must come from aksim's token endpoint, for ARM.
    let sim = spawn_sim(|c| {
        c.op_durations = vec!["resourceGroupDelete=1".into()];
        c.auth = aksim::config::AuthMode::Strict;
    })
    .await;
    let run = run_script(&sim, "sdk", "sdk_resource_groups.py", &[]).await;
    assert_eq!(run.code, 0, "{run}");
    let seen = run.json();
    assert_eq!(
        seen["created"]["id"],
        format!("/subscriptions/{SUB}/resourceGroups/sdk-rg"),
        "{seen:#}"
    );
    assert_eq!(seen["created"]["location"], "westus2");
    assert_eq!(seen["created"]["provisioningState"], "Succeeded");
    assert_eq!(seen["shownName"], "sdk-rg");
    assert_eq!(seen["existsBefore"], true);
    assert_eq!(seen["listed"], serde_json::json!(["sdk-rg"]));
    assert_eq!(seen["existsAfter"], false);
}
