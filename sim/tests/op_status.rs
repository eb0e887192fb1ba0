//! The operation-status resource (`OperationStatusResult`, AKS's preview API; issue 16): a
//! cluster's and a pool's operations by id and `latest`, the list newest first, progress on
//! the virtual clock, and the refusals (stable api-versions, unknown ids, pools, clusters).

mod common;

use axum::http::StatusCode;
use common::aks::*;
use serde_json::{json, Value};

const PREVIEW: &str = "2025-10-02-preview";

fn url(tail: &str, api: &str) -> String {
    format!("{}{tail}?api-version={api}", cluster_path("rg1", "c1"))
}

fn set_default_duration(sim: &common::Sim, secs: f64) {
    sim.state
        .core
        .durations
        .write()
        .apply(&[format!("default={secs}")], &aksim::core::OP_KINDS)
        .unwrap();
}

fn op_id(reply: &common::Reply) -> String {
    let url = reply
        .header("azure-asyncoperation")
        .expect("an operation")
        .to_owned();
    let tail = url.split("/operations/").nth(1).expect("operation URL");
    tail.split('?').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_clusters_operations_by_id_latest_and_list() {
    let sim = new_sim();
    set_default_duration(&sim, 10.0);
    prepare(&sim, "rg1").await;
    let created = sim
        .put(&cluster_url("rg1", "c1"), az_create_body("c1", "rg1", None))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let create_id = op_id(&created);

    // While it runs: InProgress with a percentage below 100, under the cluster's id.
    let running = sim
        .get(&url(&format!("/operations/{create_id}"), PREVIEW))
        .await;
    assert_eq!(running.status, StatusCode::OK, "{}", running.body);
    assert_eq!(running.body["status"], "InProgress");
    assert_eq!(running.body["name"], create_id.as_str());
    let id = running.body["id"].as_str().unwrap().to_ascii_lowercase();
    assert!(
        id.ends_with(&format!("/managedclusters/c1/operations/{create_id}")),
        "{id}"
    );
    let pct = running.body["percentComplete"].as_f64().unwrap();
    assert!((0.0..100.0).contains(&pct), "{pct}");
    assert!(running.body.get("endTime").is_none());
    assert_eq!(poll(&sim, &created).await["status"], "Succeeded");

    let done = sim
        .get(&url(&format!("/operations/{create_id}"), PREVIEW))
        .await;
    assert_eq!(done.body["status"], "Succeeded");
    assert_eq!(done.body["percentComplete"], 100.0);
    assert!(done.body["endTime"].is_string());

    // A pool's own operation: listed for the cluster and for the pool, and `latest` of both.
    let pool_url = url("/agentPools/nodepool1", API);
    let mut body = without_read_only(sim.get(&pool_url).await.body);
    body["properties"]["count"] = json!(4);
    let scaled = sim.put(&pool_url, body).await;
    assert!(scaled.status.is_success(), "{}", scaled.body);
    let scale_id = op_id(&scaled);
    poll(&sim, &scaled).await;

    let latest = sim.get(&url("/operations/latest", PREVIEW)).await;
    assert_eq!(latest.status, StatusCode::OK, "{}", latest.body);
    assert_eq!(latest.body["name"], scale_id.as_str());
    let pool_latest = sim
        .get(&url("/agentPools/nodepool1/operations/latest", PREVIEW))
        .await;
    assert_eq!(pool_latest.body["name"], scale_id.as_str());
    assert!(pool_latest.body["id"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/agentPools/nodepool1/operations/{scale_id}")));
    // The create was the cluster's, not the pool's.
    let r = sim
        .get(&url(
            &format!("/agentPools/nodepool1/operations/{create_id}"),
            PREVIEW,
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let list = sim.get(&url("/operations", PREVIEW)).await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<&str> = list.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, vec![scale_id.as_str(), create_id.as_str()]);
}

#[tokio::test]
async fn a_failed_operation_carries_its_error_and_refusals_name_what_is_wrong() {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;
    set_default_duration(&sim, 10.0);
    // An aborted update ends Canceled with its error and no percentage.
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    let mut body = without_read_only(got.body);
    body["tags"] = json!({"a": "b"});
    let update = sim.put(&cluster_url("rg1", "c1"), body).await;
    let update_id = op_id(&update);
    let abort = sim.post(&url("/abort", API)).await;
    assert!(abort.status.is_success(), "{}", abort.body);
    let r = sim
        .get(&url(&format!("/operations/{update_id}"), PREVIEW))
        .await;
    assert_eq!(r.body["status"], "Canceled", "{}", r.body);
    assert!(r.body["error"]["code"].is_string(), "{}", r.body);
    assert!(r.body.get("percentComplete").is_none());

    let expect = |r: &common::Reply, status: StatusCode, code: &str| {
        assert_eq!(r.status, status, "{}", r.body);
        assert_eq!(r.code(), code, "{}", r.body);
    };
    // Stable api-versions do not serve it.
    let r = sim.get(&url("/operations/latest", API)).await;
    expect(&r, StatusCode::NOT_FOUND, "NotFound");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2024-01-02-preview"));
    // Nor previews before 2024-01-02-preview.
    let r = sim
        .get(&url("/operations/latest", "2023-10-02-preview"))
        .await;
    expect(&r, StatusCode::NOT_FOUND, "NotFound");
    let r = sim.get(&url("/operations/nope", PREVIEW)).await;
    expect(&r, StatusCode::NOT_FOUND, "NotFound");
    let r = sim
        .get(&url("/agentPools/nopool/operations/latest", PREVIEW))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = sim
        .get(&format!(
            "{}/operations/latest?api-version={PREVIEW}",
            cluster_path("rg1", "nocluster")
        ))
        .await;
    expect(&r, StatusCode::NOT_FOUND, "ResourceNotFound");
}

#[tokio::test]
async fn a_cluster_created_again_starts_with_no_operations_of_the_old_one() {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;
    let d = sim.delete(&cluster_url("rg1", "c1")).await;
    assert_eq!(poll(&sim, &d).await["status"], "Succeeded");
    let again = sim
        .put(&cluster_url("rg1", "c1"), az_create_body("c1", "rg1", None))
        .await;
    let again_id = op_id(&again);
    poll(&sim, &again).await;
    let list = sim.get(&url("/operations", PREVIEW)).await;
    let value: &Vec<Value> = list.body["value"].as_array().unwrap();
    assert_eq!(value.len(), 1, "{value:?}");
    assert_eq!(value[0]["name"], again_id.as_str());
}
