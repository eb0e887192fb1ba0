//! The real, unmodified az CLI 2.91.0 against aksim, in both ways of pointing it there:
//! `az cloud register` + `az cloud set` (adfs-style metadata) and env-only
//! `ARM_CLOUD_METADATA_URL`, with a secret or a federated token, some under `--auth strict`.
//! Asserts exit codes and the JSON az prints, not just that it ran. Independent scenarios are
//! separate tests so they run in parallel.

use std::time::Duration;

use serde_json::Value;

use crate::support::az::{Az, Login};
use crate::support::sim::spawn_sim;
use crate::support::{CLIENT_ID, SUB, TENANT};

/// Asserts `az account show` describes aksim's default subscription.
async fn check_account(az: &Az) {
    let account = az.json(&["account", "show"]).await;
    assert_eq!(account["id"], SUB, "{account:#}");
    assert_eq!(account["tenantId"], TENANT, "{account:#}");
    assert_eq!(account["environmentName"], "aksim", "{account:#}");
    assert_eq!(account["state"], "Enabled", "{account:#}");
    assert_eq!(account["isDefault"], true, "{account:#}");
    assert_eq!(account["user"]["name"], CLIENT_ID, "{account:#}");
    assert_eq!(account["user"]["type"], "servicePrincipal", "{account:#}");
}

/// `az group create` + `show` (other casing) + `exists` + `list`, asserting the JSON.
async fn create_and_read_group(az: &Az, name: &str, location: &str) {
    let created = az
        .json(&["group", "create", "-n", name, "-l", location])
        .await;
    let id = format!("/subscriptions/{SUB}/resourceGroups/{name}");
    assert_eq!(created["id"], id.as_str(), "{created:#}");
    assert_eq!(created["name"], name, "{created:#}");
    assert_eq!(created["location"], location, "{created:#}");
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    assert_eq!(created["type"], "Microsoft.Resources/resourceGroups");

    let upper = name.to_uppercase();
    let shown = az.json(&["group", "show", "-n", &upper]).await;
    assert_eq!(
        shown["id"],
        id.as_str(),
        "names match ignoring case: {shown:#}"
    );

    let exists = az.ok(&["group", "exists", "-n", name]).await;
    assert_eq!(exists.stdout.trim(), "true", "{exists}");

    let list = az.json(&["group", "list"]).await;
    let names: Vec<&str> = list
        .as_array()
        .expect("a JSON list")
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert!(names.contains(&name), "{names:?}");
}

async fn assert_gone(az: &Az, name: &str) {
    let exists = az.ok(&["group", "exists", "-n", name]).await;
    assert_eq!(exists.stdout.trim(), "false", "{exists}");
    let shown = az.run(&["group", "show", "-n", name]).await;
    assert_eq!(shown.code, 3, "az maps a 404 to exit code 3: {shown}");
    assert!(shown.stderr.contains("ResourceGroupNotFound"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_register_mode_group_lifecycle() {
    // One virtual second for the delete: az polls the Location once, waits Retry-After: 1,
    // polls again. Without Retry-After it would wait 30 s.
    let sim = spawn_sim(|c| c.op_durations = vec!["resourceGroupDelete=1".into()]).await;
    let az = Az::logged_in(&sim, Login::CloudRegister).await;
    let clouds = az.json(&["cloud", "show", "-n", "aksim"]).await;
    assert_eq!(
        clouds["endpoints"]["resourceManager"],
        format!("{}/", sim.base_url)
    );
    assert_eq!(
        clouds["endpoints"]["activeDirectory"],
        format!("{}/adfs", sim.base_url)
    );
    assert_eq!(clouds["isActive"], true);
    check_account(&az).await;

    // The token az holds is aksim's ES256 JWT for ARM's audience.
    let token = az.json(&["account", "get-access-token"]).await;
    assert_eq!(token["tokenType"], "Bearer", "{token:#}");
    assert_eq!(token["subscription"], SUB, "{token:#}");
    assert_eq!(token["tenant"], TENANT, "{token:#}");
    let jwt = token["accessToken"].as_str().expect("accessToken");
    let header = jsonwebtoken::decode_header(jwt).expect("az holds a JWT");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let claims = sim.state.tokens.verify(jwt).expect("signed by this aksim");
    assert_eq!(claims.aud, "https://management.core.windows.net/");
    assert_eq!(claims.appid, CLIENT_ID);
    create_and_read_group(&az, "rg1", "eastus").await;

    let deleted = az.ok(&["group", "delete", "-n", "rg1", "--yes"]).await;
    assert!(deleted.stdout.trim().is_empty(), "{deleted}");
    assert!(
        deleted.elapsed < Duration::from_secs(20),
        "the delete LRO is polled every Retry-After (1 s), not every 30 s: {deleted}"
    );
    assert_gone(&az, "rg1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_only_mode_group_lifecycle_with_no_wait() {
    let sim = spawn_sim(|c| c.op_durations = vec!["resourceGroupDelete=600".into()]).await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    let clouds = az.json(&["cloud", "list"]).await;
    let clouds = clouds.as_array().expect("a list");
    assert_eq!(clouds.len(), 1, "env mode knows only aksim: {clouds:#?}");
    assert_eq!(clouds[0]["name"], "aksim");
    check_account(&az).await;
    create_and_read_group(&az, "rg-env", "westeurope").await;

    let deleted = az
        .ok(&["group", "delete", "-n", "rg-env", "--yes", "--no-wait"])
        .await;
    assert!(deleted.stdout.trim().is_empty(), "{deleted}");
    let during = az.json(&["group", "show", "-n", "rg-env"]).await;
    assert_eq!(during["properties"]["provisioningState"], "Deleting");
    // A create during the delete is refused by the server.
    let again = az
        .run(&["group", "create", "-n", "rg-env", "-l", "westeurope"])
        .await;
    assert_eq!(again.code, 1, "{again}");
    assert!(
        again.stderr.contains("ResourceGroupBeingDeleted"),
        "{again}"
    );

    // Ten virtual minutes later the operation is done; nobody slept.
    sim.advance(600.0);
    assert_gone(&az, "rg-env").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_show_the_arm_error_under_strict_auth() {
    // `--auth strict`: every token az sends must be one aksim issued, unexpired, for ARM.
    let sim = spawn_sim(|c| c.auth = aksim::config::AuthMode::Strict).await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;

    let missing = az.run(&["group", "show", "-n", "missing"]).await;
    assert_eq!(missing.code, 3, "{missing}");
    assert!(
        missing
            .stderr
            .contains("(ResourceGroupNotFound) Resource group 'missing' could not be found."),
        "{missing}"
    );
    let delete_missing = az.run(&["group", "delete", "-n", "missing", "--yes"]).await;
    assert_eq!(delete_missing.code, 3, "{delete_missing}");
    assert!(delete_missing.stderr.contains("ResourceGroupNotFound"));

    let nowhere = az
        .run(&["group", "create", "-n", "x", "-l", "nowhere"])
        .await;
    assert_eq!(nowhere.code, 1, "{nowhere}");
    assert!(
        nowhere
            .stderr
            .contains("LocationNotAvailableForResourceGroup"),
        "{nowhere}"
    );

    let bad_name = az
        .run(&["group", "create", "-n", "bad name!", "-l", "eastus"])
        .await;
    assert_eq!(bad_name.code, 1, "{bad_name}");
    assert!(
        bad_name.stderr.contains("InvalidResourceGroup"),
        "{bad_name}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_list_by_tag_locations_and_az_rest_with_double_slashes() {
    let sim = spawn_sim(|_| {}).await;
    let az = Az::logged_in(&sim, Login::CloudRegister).await;
    az.ok(&[
        "group", "create", "-n", "Rest1", "-l", "eastus2", "--tags", "env=dev", "team=a",
    ])
    .await;
    az.ok(&[
        "group", "create", "-n", "other", "-l", "eastus2", "--tags", "env=prod",
    ])
    .await;
    // `--tag` becomes `$filter=tagName eq '…' and tagValue eq '…'`, answered by the server.
    for (tag, want) in [
        ("env=dev", vec!["Rest1"]),
        ("ENV=prod", vec!["other"]),
        ("team", vec!["Rest1"]),
        ("env=none", vec![]),
    ] {
        let listed = az
            .json(&["group", "list", "--tag", tag, "--query", "[].name"])
            .await;
        assert_eq!(listed, serde_json::json!(want), "--tag {tag}");
    }
    let region = az
        .json(&[
            "account",
            "list-locations",
            "--query",
            "[?name=='westeurope'] | [0]",
        ])
        .await;
    assert_eq!(region["displayName"], "West Europe", "{region:#}");
    assert_eq!(region["regionalDisplayName"], "(Europe) West Europe");

    // az rest adds the bearer token because the URL is on the registered ARM endpoint.
    let url = sim.url(&format!(
        "/subscriptions/{SUB}//RESOURCEGROUPS//rest1?api-version=2024-11-01"
    ));
    let group: Value = az.json(&["rest", "--method", "get", "--url", &url]).await;
    assert_eq!(
        group["id"],
        format!("/subscriptions/{SUB}/resourceGroups/Rest1")
    );
    assert_eq!(group["location"], "eastus2");

    let subs = az
        .json(&[
            "rest",
            "--method",
            "get",
            "--url",
            &sim.url("/subscriptions?api-version=2022-12-01"),
        ])
        .await;
    assert_eq!(subs["value"][0]["subscriptionId"], SUB);

    let missing = az
        .run(&[
            "rest",
            "--method",
            "get",
            "--url",
            &sim.url(&format!(
                "/subscriptions/{SUB}/resourcegroups/nope?api-version=2024-11-01"
            )),
        ])
        .await;
    assert_eq!(missing.code, 1, "{missing}");
    assert!(
        missing.stderr.contains("ResourceGroupNotFound"),
        "{missing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_a_federated_token() {
    let sim = spawn_sim(|c| c.auth = aksim::config::AuthMode::Strict).await;
    let az = Az::new(&sim, Login::EnvOnly).await;
    // Any JWT works as the client assertion; use one aksim signed.
    let assertion =
        crate::support::sim::send(sim.client.post(sim.url("/adfs/oauth2/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "s"),
            ("scope", "api://AzureADTokenExchange/.default"),
        ]))
        .await
        .body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
    let accounts = az
        .json(&[
            "login",
            "--service-principal",
            "-u",
            CLIENT_ID,
            "--federated-token",
            &assertion,
            "--tenant",
            TENANT,
        ])
        .await;
    assert_eq!(accounts[0]["id"], SUB, "{accounts:#}");
    let listed = az.json(&["group", "list"]).await;
    assert_eq!(listed, serde_json::json!([]));
}
