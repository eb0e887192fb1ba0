//! A lazy plane (created on cluster create, built on first use) is indistinguishable from an
//! eager one: the same reconcile sequence gives the same objects, uids, timestamps,
//! resourceVersions and watch history; snapshots carry the lazy form compactly and import it
//! back; an inconsistent lazy plane in a snapshot is refused.

mod common;

use aksim::core::kube::nodes::{NodesView, PoolView};
use aksim::core::kube::{MeshView, Plane};
use axum::http::{Method, StatusCode};
use proptest::prelude::*;
use serde_json::{json, Value};
use time::OffsetDateTime;

use common::{Sim, SUB};

fn view() -> impl Strategy<Value = MeshView> {
    let revisions = prop_oneof![
        Just(vec!["asm-1-26".to_owned()]),
        Just(vec!["asm-1-26".to_owned(), "asm-1-27".to_owned()]),
        Just(vec!["asm-1-27".to_owned()]),
    ];
    let ingress = prop_oneof![
        Just(vec![]),
        Just(vec!["External".to_owned()]),
        Just(vec!["External".to_owned(), "Internal".to_owned()]),
    ];
    let egress = prop_oneof![
        Just(vec![]),
        Just(vec![("egw".to_owned(), "aks-istio-egress".to_owned())]),
    ];
    let redirection = prop_oneof![
        Just(None),
        Just(Some("CNIChaining".to_owned())),
        Just(Some("InitContainers".to_owned())),
    ];
    (
        any::<bool>(),
        revisions,
        ingress,
        egress,
        redirection,
        any::<bool>(),
        0u32..3,
    )
        .prop_map(
            |(
                enabled,
                revisions,
                ingress_gateways,
                egress_gateways,
                proxy_redirection,
                plugin_ca,
                nodes,
            )| MeshView {
                enabled,
                ingress_gateways,
                egress_gateways,
                // Native sidecars: the first revision's, when the add-on is on.
                native_sidecars: if plugin_ca {
                    revisions.first().cloned().into_iter().collect()
                } else {
                    vec![]
                },
                revisions,
                proxy_redirection,
                plugin_ca,
                // The agent pools (their nodes, and the DaemonSet's pods) replay too.
                nodes: (nodes > 0).then(|| NodesView {
                    id: "12345678".to_owned(),
                    location: "eastus".to_owned(),
                    subscription: SUB.to_owned(),
                    node_resource_group: "MC_rg1_c1_eastus".to_owned(),
                    pools: vec![PoolView {
                        name: "nodepool1".to_owned(),
                        count: nodes,
                        vm_size: "Standard_D4ds_v5".to_owned(),
                        os_type: "Linux".to_owned(),
                        os_sku: "Ubuntu".to_owned(),
                        mode: "System".to_owned(),
                        version: "1.33.2".to_owned(),
                        zones: vec![],
                        max_pods: 110,
                        node_image: "img".to_owned(),
                        removed: vec![],
                    }],
                }),
                ..MeshView::default()
            },
        )
}

/// The plane as everything outside sees it (the serialised form without the lazy marker).
fn observable(plane: &Plane) -> Value {
    let mut v = serde_json::to_value(plane).expect("plane serialises");
    v.as_object_mut().expect("object").remove("lazy");
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn lazy_and_eager_planes_agree(
        steps in proptest::collection::vec((view(), 1i64..5000, any::<bool>()), 0..24)
    ) {
        let start = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time")
            + time::Duration::nanoseconds(123_456_789);
        let mut eager = Plane::new("1.33.2", "tok", start);
        let mut lazy = Plane::lazy("1.33.2", "tok", start);
        prop_assert!(!lazy.is_materialised());
        let mut now = start;
        for (view, secs, repeat) in &steps {
            now += time::Duration::seconds(*secs);
            eager.reconcile_addon(view, now);
            lazy.reconcile_addon(view, now);
            if *repeat {
                // A cluster update that leaves the mesh alone reconciles the same view again.
                now += time::Duration::seconds(1);
                eager.reconcile_addon(view, now);
                lazy.reconcile_addon(view, now);
            }
            prop_assert_eq!(&eager.mesh, &lazy.mesh);
            prop_assert_eq!(eager.has_self_managed_istio(), lazy.has_self_managed_istio());
        }
        // A lazy plane round-trips through its snapshot form, still lazy.
        let text = serde_json::to_string(&lazy).expect("serialise");
        let mut back: Plane = serde_json::from_str(&text).expect("deserialise");
        prop_assert!(back.check().is_ok());
        prop_assert_eq!(back.is_materialised(), lazy.is_materialised());
        lazy.materialise();
        back.materialise();
        prop_assert!(lazy.is_materialised());
        prop_assert_eq!(observable(&eager), observable(&lazy));
        prop_assert_eq!(observable(&eager), observable(&back));
    }
}

fn cluster_url() -> String {
    common::aks::cluster_url("rg1", "c1")
}

/// A cluster created with the add-on (az's body), its create finished; returns its token.
async fn meshed_cluster(sim: &Sim) -> String {
    common::aks::prepare(sim, "rg1").await;
    common::aks::create(
        sim,
        "rg1",
        "c1",
        Some(json!({"mode": "Istio", "istio": {}})),
    )
    .await;
    sim.state
        .core
        .store
        .with(SUB, sim.state.core.clock.now(), |s| {
            s.clusters.planes[&aksim::core::clusters::cluster_key("rg1", "c1")]
                .token
                .clone()
        })
}

fn plane_is_materialised(sim: &Sim) -> bool {
    sim.state
        .core
        .store
        .with(SUB, sim.state.core.clock.now(), |s| {
            s.clusters.planes[&aksim::core::clusters::cluster_key("rg1", "c1")].is_materialised()
        })
}

#[tokio::test]
async fn a_cluster_plane_is_built_on_first_kube_use_only() {
    let sim = common::aks::new_sim();
    let token = meshed_cluster(&sim).await;
    // ARM reads, credentials and the public endpoints leave it lazy.
    assert_eq!(sim.get(&cluster_url()).await.status, StatusCode::OK);
    let creds = format!(
        "{}/listClusterUserCredential?api-version={}",
        common::aks::cluster_path("rg1", "c1"),
        common::aks::API
    );
    assert_eq!(sim.post(&creds).await.status, StatusCode::OK);
    let r = sim
        .call_with(
            Method::GET,
            &format!("/k8s/{SUB}/rg1/c1/version"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = sim
        .call_with(
            Method::GET,
            &format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(!plane_is_materialised(&sim));
    // The snapshot carries the compact form.
    let snap = sim
        .call_with(Method::GET, &format!("/_sim/snapshot/{SUB}"), None, &[])
        .await;
    let plane = &snap.body["subscriptions"][0]["kubePlanes"]["rg1/c1"];
    assert!(
        plane["lazy"]["reconciles"][0]["view"]["enabled"] == json!(true),
        "{plane}"
    );
    assert_eq!(plane["objects"], json!({}));
    // The first authorised request builds it: the add-on's namespace and CRDs are there.
    let bearer = format!("Bearer {token}");
    let r = sim
        .call_with(
            Method::GET,
            &format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces/aks-istio-system"),
            None,
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // After the four initial namespaces, as on an eager plane (the property test above).
    let rv: u64 = r.body["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a resourceVersion");
    assert!(rv > 4, "{rv}");
    assert!(plane_is_materialised(&sim));
    // A snapshot taken before materialising imports back and serves the same objects.
    let put = sim
        .call_with(
            Method::PUT,
            &format!("/_sim/snapshot/{SUB}"),
            Some(snap.body.clone()),
            &[],
        )
        .await;
    assert!(put.status.is_success(), "{:?}", put.body);
    assert!(!plane_is_materialised(&sim));
    let again = sim
        .call_with(
            Method::GET,
            &format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces/aks-istio-system"),
            None,
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(again.body, r.body);
}

#[tokio::test]
async fn a_snapshot_with_an_inconsistent_lazy_plane_is_refused() {
    let sim = common::aks::new_sim();
    meshed_cluster(&sim).await;
    let snap = sim
        .call_with(Method::GET, &format!("/_sim/snapshot/{SUB}"), None, &[])
        .await
        .body;
    let edits: [(&str, Value); 3] = [
        ("/resourceVersion", json!(7)),
        (
            "/objects",
            json!({"/namespaces//x": {"metadata": {"name": "x"}}}),
        ),
        ("/mesh/enabled", json!(false)),
    ];
    for (pointer, value) in edits {
        let mut bad = snap.clone();
        *bad["subscriptions"][0]["kubePlanes"]["rg1/c1"]
            .pointer_mut(pointer)
            .expect("the field exists") = value;
        let r = sim
            .call_with(
                Method::PUT,
                &format!("/_sim/snapshot/{SUB}"),
                Some(bad),
                &[],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{pointer}: {:?}", r.body);
        assert!(
            r.body.to_string().contains("plane 'rg1/c1'"),
            "{pointer}: {:?}",
            r.body
        );
    }
    assert!(!plane_is_materialised(&sim));
}
