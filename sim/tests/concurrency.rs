//! Concurrency: many writers on one cluster get ARM's semantics (409 while an operation runs,
//! 412 on a stale ETag) and no update is lost; writers on different subscriptions never
//! interfere. Runs on a multi-threaded runtime against the in-process router.

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::aks::{az_create_body, cluster_url, prepare, put_and_wait};
use serde_json::json;

const WRITERS: usize = 64;

/// 64 writers each add one to a counter tag with read → PATCH If-Match → retry on 412. The
/// final counter is 64: the ETag check and the write are atomic under the subscription lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn optimistic_writers_lose_no_update() {
    let sim = Arc::new(common::aks::new_sim());
    prepare(&sim, "rg1").await;
    let mut body = az_create_body("c1", "rg1", None);
    body["tags"] = json!({"counter": "0"});
    put_and_wait(&sim, "rg1", "c1", body)
        .await
        .expect("created");
    let url = cluster_url("rg1", "c1");
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let sim = sim.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let mut conflicts = 0;
                loop {
                    let current = sim.get(&url).await;
                    let etag = current.body["eTag"].as_str().expect("etag").to_owned();
                    let n: u64 = current.body["tags"]["counter"]
                        .as_str()
                        .unwrap_or("0")
                        .parse()
                        .expect("number");
                    let r = sim
                        .call_with(
                            Method::PATCH,
                            &url,
                            Some(json!({"tags": {"counter": (n + 1).to_string()}})),
                            &[("authorization", "Bearer t"), ("if-match", &etag)],
                        )
                        .await;
                    match r.status {
                        StatusCode::OK | StatusCode::ACCEPTED => return conflicts,
                        StatusCode::PRECONDITION_FAILED => conflicts += 1,
                        other => panic!("unexpected {other}: {}", r.body),
                    }
                    assert!(conflicts < 10_000, "a writer never got through");
                }
            })
        })
        .collect();
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await.expect("writer");
    }
    let last = sim.get(&url).await;
    assert_eq!(
        last.body["tags"]["counter"],
        WRITERS.to_string(),
        "{conflicts} conflicts on the way"
    );
}

/// 64 concurrent PUTs while an update operation runs: exactly one is accepted, the others get
/// 409 OperationNotAllowed (or 412 when they carried the now-stale ETag), and the cluster ends
/// in the accepted writer's state.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_during_an_operation_are_refused() {
    let sim = Arc::new(common::aks::new_sim());
    prepare(&sim, "rg1").await;
    put_and_wait(&sim, "rg1", "c1", az_create_body("c1", "rg1", None))
        .await
        .expect("created");
    sim.state
        .core
        .durations
        .write()
        .apply(&["clusterUpdate=600".to_owned()], &aksim::core::OP_KINDS)
        .expect("durations");
    let url = cluster_url("rg1", "c1");
    let etag = sim.get(&url).await.body["eTag"]
        .as_str()
        .expect("etag")
        .to_owned();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let sim = sim.clone();
            let url = url.clone();
            let etag = etag.clone();
            tokio::spawn(async move {
                let mut body = az_create_body("c1", "rg1", None);
                body["tags"] = json!({"writer": i.to_string()});
                let headers: Vec<(&str, &str)> = if i % 2 == 0 {
                    vec![("authorization", "Bearer t"), ("if-match", etag.as_str())]
                } else {
                    vec![("authorization", "Bearer t")]
                };
                let r = sim.call_with(Method::PUT, &url, Some(body), &headers).await;
                (i, r.status, r.code().to_owned())
            })
        })
        .collect();
    let mut accepted = Vec::new();
    for t in tasks {
        let (i, status, code) = t.await.expect("writer");
        match status {
            StatusCode::OK => accepted.push(i),
            StatusCode::CONFLICT => assert_eq!(code, "OperationNotAllowed"),
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("writer {i}: unexpected {other} {code}"),
        }
    }
    assert_eq!(
        accepted.len(),
        1,
        "exactly one write starts the operation: {accepted:?}"
    );
    let state = sim.get(&url).await;
    assert_eq!(state.body["tags"]["writer"], accepted[0].to_string());
    assert_eq!(state.body["properties"]["provisioningState"], "Updating");
}

/// 64 subscriptions written at once: each ends with exactly its own group and cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscriptions_do_not_interfere() {
    let sim = Arc::new(common::aks::new_sim());
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let sim = sim.clone();
            tokio::spawn(async move {
                let sub = format!("00000000-0000-0000-0001-{i:012}");
                let rg = format!("/subscriptions/{sub}/resourcegroups/rg{i}?api-version=2024-11-01");
                assert_eq!(sim.put(&rg, json!({"location": "eastus"})).await.status, StatusCode::CREATED);
                let cluster = format!(
                    "/subscriptions/{sub}/resourceGroups/rg{i}/providers/Microsoft.ContainerService/managedClusters/c?api-version=2026-06-01"
                );
                let r = sim.put(&cluster, az_create_body("c", &format!("rg{i}"), None)).await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
                sub
            })
        })
        .collect();
    for t in tasks {
        let sub = t.await.expect("writer");
        let groups = sim
            .get(&format!(
                "/subscriptions/{sub}/resourcegroups?api-version=2024-11-01"
            ))
            .await;
        assert_eq!(groups.body["value"].as_array().map(Vec::len), Some(1));
        let clusters = sim
            .get(&format!("/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters?api-version=2026-06-01"))
            .await;
        assert_eq!(
            clusters.body["value"].as_array().map(Vec::len),
            Some(1),
            "{}",
            clusters.body
        );
    }
}
