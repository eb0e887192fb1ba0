//! `MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX`: a create past the per-subscription cluster quota is
//! 409 `QuotaExceeded`; updates of existing clusters and other subscriptions are unaffected,
//! and a finished delete frees a place. The store is filled directly (copies of one created
//! cluster) so the test does not make 5,000 requests. Also `SUBSCRIPTIONS_MAX` on ARM paths.

mod common;

use aksim::core::clusters::cluster_key;
use aksim::limits::MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX;
use axum::http::StatusCode;
use common::aks::*;
use common::SUB;

#[tokio::test]
async fn a_create_past_the_cluster_quota_is_409_quota_exceeded() {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    let created = sim
        .put(&cluster_url("rg1", "c0"), az_create_body("c0", "rg1", None))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    sim.advance(3600.0);
    let now = sim.state.core.clock.now();
    sim.state.core.store.with(SUB, now, |s| {
        let template = s.clusters.clusters[&cluster_key("rg1", "c0")].clone();
        for i in 1..MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX {
            let mut copy = template.clone();
            copy.name = format!("c{i}");
            s.clusters
                .clusters
                .insert(cluster_key("rg1", &copy.name), copy);
        }
        assert_eq!(
            s.clusters.clusters.len(),
            MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX
        );
    });

    let refused = sim
        .put(
            &cluster_url("rg1", "one-more"),
            az_create_body("one-more", "rg1", None),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
    assert_eq!(refused.code(), "QuotaExceeded");
    assert_eq!(
        refused.body["error"]["message"],
        format!(
            "Creating the managed cluster 'one-more' would exceed the quota of \
             {MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX} managed clusters per subscription."
        )
    );
    assert_eq!(
        sim.get(&cluster_url("rg1", "one-more")).await.status,
        StatusCode::NOT_FOUND
    );

    // An update of an existing cluster is not a create.
    let mut update = az_create_body("c0", "rg1", None);
    update["tags"] = serde_json::json!({"k": "v"});
    let updated = sim.put(&cluster_url("rg1", "c0"), update).await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    sim.advance(3600.0);

    // Another subscription has its own quota (providers register on first use here).
    let other = "00000000-0000-0000-0000-00000000a070";
    let url = cluster_url("rg1", "c0").replace(SUB, other);
    let rg = sim
        .put(
            &format!("/subscriptions/{other}/resourcegroups/rg1?api-version=2024-11-01"),
            serde_json::json!({"location": "eastus"}),
        )
        .await;
    assert_eq!(rg.status, StatusCode::CREATED, "{:?}", rg.body);
    let r = sim.put(&url, az_create_body("c0", "rg1", None)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    // A finished delete frees a place.
    assert_eq!(
        sim.delete(&cluster_url("rg1", "c1")).await.status,
        StatusCode::ACCEPTED
    );
    sim.advance(3600.0);
    let created = sim
        .put(
            &cluster_url("rg1", "one-more"),
            az_create_body("one-more", "rg1", None),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
}

/// `SUBSCRIPTIONS_MAX`: once that many subscriptions hold state, a new one is 404
/// `SubscriptionNotFound` on ARM paths (the ones already held keep working).
#[tokio::test]
async fn past_the_subscription_cap_a_new_subscription_is_not_found() {
    let sim = new_sim();
    let now = sim.state.core.clock.now();
    for i in 0..aksim::limits::SUBSCRIPTIONS_MAX {
        sim.state
            .core
            .store
            .with(&format!("00000000-0000-0000-0001-{i:012}"), now, |_| ());
    }
    let held = "00000000-0000-0000-0001-000000000007";
    let r = sim
        .get(&format!(
            "/subscriptions/{held}/resourcegroups?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let new = "00000000-0000-0000-0002-000000000001";
    let r = sim
        .get(&format!(
            "/subscriptions/{new}/resourcegroups?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    assert_eq!(r.code(), "SubscriptionNotFound");
    assert_eq!(
        r.body["error"]["message"],
        format!("The subscription '{new}' could not be found.")
    );
}
