//! The `/_sim` control API over HTTPS: health, reset, clock advance (and its refusals).

use reqwest::StatusCode;
use serde_json::json;

use crate::support::sim::spawn_sim;
use crate::support::SUB;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reset_and_clock() {
    let sim = spawn_sim(|_| {}).await;
    let health = sim.get("/_sim/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");

    let rg = format!("/subscriptions/{SUB}/resourcegroups/rg1?api-version=2024-11-01");
    assert_eq!(
        sim.put(&rg, json!({"location": "eastus"})).await.status,
        StatusCode::CREATED
    );
    let reset = sim.control("/_sim/reset", "").await;
    assert_eq!(reset.status, StatusCode::OK, "{reset:#?}");
    sim.get(&rg)
        .await
        .assert_arm_error(404, "ResourceGroupNotFound");

    let before = sim.get("/_sim/clock").await.body["offsetSeconds"]
        .as_f64()
        .expect("offsetSeconds");
    let advanced = sim
        .control("/_sim/clock/advance", r#"{"seconds": 90}"#)
        .await;
    assert_eq!(advanced.status, StatusCode::OK, "{advanced:#?}");
    let after = advanced.body["offsetSeconds"]
        .as_f64()
        .expect("offsetSeconds");
    assert!((after - before - 90.0).abs() < 1e-6, "{before} -> {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_control_bodies_are_400s() {
    let sim = spawn_sim(|_| {}).await;
    for body in [
        "not json",
        r#"{"seconds": -1}"#,
        r#"{"seconds": "ten"}"#,
        r#"{"secs": 1}"#,
        r#"{}"#,
        r#"{"seconds": 1e300}"#,
    ] {
        let reply = sim.control("/_sim/clock/advance", body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {reply:#?}");
        assert_eq!(reply.code(), "InvalidControlRequest", "{body}");
    }
    let unknown = sim.get("/_sim/nope").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "NotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_durations_round_trip() {
    let sim = spawn_sim(|_| {}).await;
    let set = sim
        .client
        .put(sim.url("/_sim/operations/durations"))
        .header("content-type", "application/json")
        .body(r#"{"default": 0, "resourceGroupDelete": 7}"#)
        .send()
        .await
        .expect("reaches aksim");
    assert_eq!(set.status(), StatusCode::OK);
    let shown = sim.get("/_sim/operations/durations").await;
    assert_eq!(shown.body["resourceGroupDelete"], 7.0);
    assert_eq!(shown.body["default"], 0.0);
}
