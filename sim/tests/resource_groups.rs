//! Router tests: resource groups, subscriptions, the ARM envelope and headers, api-version
//! validation, auth, and the resource-group delete LRO.

mod common;

use axum::http::{Method, StatusCode};
use common::{Sim, SUB};
use serde_json::json;

fn rg(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourcegroups/{name}?api-version=2024-11-01")
}

#[tokio::test]
async fn group_lifecycle_with_both_casings() {
    let sim = Sim::new();
    let created = sim
        .put(
            &rg("Rg1"),
            json!({"location": "East US", "tags": {"a": "b"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["name"], "Rg1");
    assert_eq!(created.body["location"], "eastus");
    assert_eq!(
        created.body["id"],
        format!("/subscriptions/{SUB}/resourceGroups/Rg1")
    );
    assert_eq!(created.body["properties"]["provisioningState"], "Succeeded");

    let again = sim.put(&rg("RG1"), json!({"location": "eastus"})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.body["name"], "Rg1",
        "the name keeps the casing given at creation"
    );
    assert!(again.body.get("tags").is_none(), "PUT replaces tags");

    let upper = format!("/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/rg1?api-version=2025-04-01");
    assert_eq!(sim.get(&upper).await.status, StatusCode::OK);
    let head = sim.call(Method::HEAD, &rg("rg1"), None).await;
    assert_eq!(head.status, StatusCode::NO_CONTENT);
    assert!(head.raw.is_empty());
    let head_missing = sim.call(Method::HEAD, &rg("nope"), None).await;
    assert_eq!(head_missing.status, StatusCode::NOT_FOUND);

    let patched = sim
        .call(Method::PATCH, &rg("rg1"), Some(json!({"tags": {"x": "y"}})))
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["tags"]["x"], "y");

    let list = sim
        .get(&format!(
            "/subscriptions/{SUB}/resourceGroups?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);

    let moved = sim.put(&rg("rg1"), json!({"location": "westus"})).await;
    assert_eq!(moved.status, StatusCode::CONFLICT);
    assert_eq!(moved.code(), "InvalidResourceGroupLocation");
}

#[tokio::test]
async fn delete_is_a_long_running_operation() {
    let sim = Sim::new();
    sim.state.core.durations.write().default_secs = 5.0;
    sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    let deleted = sim.delete(&rg("rg1")).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    let location = deleted.header("location").unwrap().to_owned();
    assert!(location.starts_with(&format!(
        "http://sim.test/subscriptions/{SUB}/operationresults/"
    )));
    assert_eq!(deleted.header("retry-after"), Some("1"));
    let path = location.trim_start_matches("http://sim.test");

    let during = sim.get(&rg("rg1")).await;
    assert_eq!(during.body["properties"]["provisioningState"], "Deleting");
    let put_during = sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    assert_eq!(put_during.code(), "ResourceGroupBeingDeleted");
    assert_eq!(sim.get(path).await.status, StatusCode::ACCEPTED);

    sim.advance(5.0);
    assert_eq!(sim.get(path).await.status, StatusCode::OK);
    let gone = sim.get(&rg("rg1")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "ResourceGroupNotFound");
    assert_eq!(
        gone.body["error"]["message"],
        "Resource group 'rg1' could not be found."
    );
    assert_eq!(sim.delete(&rg("rg1")).await.code(), "ResourceGroupNotFound");
}

#[tokio::test]
async fn envelope_headers_and_gates() {
    let sim = Sim::new();
    let r = sim
        .call_with(
            Method::GET,
            &rg("missing"),
            None,
            &[
                ("authorization", "Bearer t"),
                ("x-ms-correlation-request-id", "corr-1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("x-ms-correlation-request-id"), Some("corr-1"));
    assert!(r.header("x-ms-request-id").is_some());
    assert!(r.header("date").is_some());
    assert_eq!(r.header("x-ms-failure-cause"), Some("gateway"));

    let no_version = sim
        .get(&format!("/subscriptions/{SUB}/resourcegroups/x"))
        .await;
    assert_eq!(no_version.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_version.code(), "MissingApiVersionParameter");
    let bad_version = sim
        .get(&format!(
            "/subscriptions/{SUB}/resourcegroups/x?api-version=2000-01-01"
        ))
        .await;
    assert_eq!(bad_version.code(), "InvalidApiVersionParameter");

    let anonymous = sim.call_with(Method::GET, &rg("x"), None, &[]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.code(), "AuthenticationFailed");
    assert!(anonymous.header("www-authenticate").is_some());
    let garbled = sim
        .call_with(Method::GET, &rg("x"), None, &[("authorization", "Basic x")])
        .await;
    assert_eq!(garbled.code(), "AuthenticationFailedInvalidHeader");

    let bad_sub = sim
        .get("/subscriptions/not-a-guid/resourcegroups?api-version=2024-11-01")
        .await;
    assert_eq!(bad_sub.code(), "InvalidSubscriptionId");

    let junk = sim.call(Method::PUT, &rg("rg1"), None).await;
    assert_eq!(junk.code(), "InvalidRequestContent");
    let no_location = sim.put(&rg("rg1"), json!({"tags": {}})).await;
    assert_eq!(no_location.code(), "LocationRequired");
    let bad_location = sim.put(&rg("rg1"), json!({"location": "mars"})).await;
    assert_eq!(bad_location.code(), "LocationNotAvailableForResourceGroup");
    let bad_name = sim
        .put(&rg("bad*name"), json!({"location": "eastus"}))
        .await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST);
    let unknown = sim.get("/nothing/here?api-version=2024-11-01").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body["error"]["code"].is_string());
}

#[tokio::test]
async fn subscriptions_are_isolated_and_listed() {
    let sim = Sim::new();
    let other = "11111111-2222-3333-4444-555555555555";
    sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    let there = sim
        .get(&format!(
            "/subscriptions/{other}/resourcegroups/rg1?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(there.status, StatusCode::NOT_FOUND);
    sim.put(
        &format!("/subscriptions/{other}/resourcegroups/rg2?api-version=2024-11-01"),
        json!({"location": "westus"}),
    )
    .await;
    let subs = sim.get("/subscriptions?api-version=2022-12-01").await;
    let ids: Vec<&str> = subs.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subscriptionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![SUB, other]);
    let one = sim
        .get(&format!("/subscriptions/{other}?api-version=2022-12-01"))
        .await;
    assert_eq!(one.body["state"], "Enabled");
    let tenants = sim.get("/tenants?api-version=2022-12-01").await;
    assert_eq!(tenants.status, StatusCode::OK);
}
