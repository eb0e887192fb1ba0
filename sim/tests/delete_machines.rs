//! `AgentPools_DeleteMachines` (issue 16): the named machines leave the pool's machines list,
//! its count drops, the remaining machines keep their names; unknown machines and emptying a
//! System pool are refused with state unchanged.

mod common;

use axum::http::{Method, StatusCode};
use common::aks::*;
use common::SUB;
use serde_json::{json, Value};

fn url(tail: &str) -> String {
    format!("{}{tail}?api-version={API}", cluster_path("rg1", "c1"))
}

fn names(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|m| m["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The names of the cluster's nodes in pool `pool`, as `kubectl get nodes` lists them.
async fn node_names(sim: &common::Sim, pool: &str) -> Vec<String> {
    let cred = sim
        .call(Method::POST, &url("/listClusterUserCredential"), None)
        .await;
    assert_eq!(cred.status, StatusCode::OK);
    let key = aksim::core::clusters::cluster_key("rg1", "c1");
    let token = sim
        .state
        .core
        .with_plane(SUB, &key, sim.state.core.now(), |p| {
            p.expect("a plane").token.clone()
        });
    let auth = format!("Bearer {token}");
    let nodes = format!("/k8s/{SUB}/rg1/c1/api/v1/nodes?labelSelector=agentpool%3D{pool}");
    let r = sim
        .call_with(
            Method::GET,
            &nodes,
            None,
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn delete_machines_removes_the_named_machines() {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;
    let pools = sim.get(&url("/agentPools")).await;
    let pool = pools.body["value"][0]["name"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let pool_url = url(&format!("/agentPools/{pool}"));
    let mut body = without_read_only(sim.get(&pool_url).await.body);
    body["properties"]["count"] = json!(3);
    let scaled = sim.put(&pool_url, body).await;
    assert!(scaled.status.is_success(), "{}", scaled.body);
    poll(&sim, &scaled).await;
    let machines_url = url(&format!("/agentPools/{pool}/machines"));
    let before = names(&sim.get(&machines_url).await.body);
    assert_eq!(before.len(), 3);
    // One truth: a machine is a node (same name).
    assert_eq!(node_names(&sim, &pool).await, before);

    let delete_url = url(&format!("/agentPools/{pool}/deleteMachines"));
    for bad in [
        json!({"machineNames": ["nope"]}),
        json!({"machineNames": []}),
        json!({}),
    ] {
        let r = sim.call(Method::POST, &delete_url, Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.code(), "InvalidParameter", "{bad}");
    }
    let all = json!({"machineNames": before});
    let r = sim.call(Method::POST, &delete_url, Some(all)).await;
    assert_eq!(r.code(), "InvalidParameter", "a System pool keeps one node");
    assert_eq!(names(&sim.get(&machines_url).await.body), before);

    let r = sim
        .call(
            Method::POST,
            &delete_url,
            Some(json!({"machineNames": [before[1]]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(r.header("location").is_some());
    assert_eq!(poll(&sim, &r).await["status"], "Succeeded");
    let after = names(&sim.get(&machines_url).await.body);
    assert_eq!(after, vec![before[0].clone(), before[2].clone()]);
    assert_eq!(
        node_names(&sim, &pool).await,
        after,
        "the node went with its machine"
    );
    let pool_now = sim.get(&pool_url).await.body;
    assert_eq!(pool_now["properties"]["count"], 2);
    assert_eq!(pool_now["properties"]["provisioningState"], "Succeeded");
}
