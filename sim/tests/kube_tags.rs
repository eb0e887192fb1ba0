//! Istio revision tags (`istioctl tag set`): a namespace labelled with a tag is injected by
//! the revision the tag points at; re-pointing the tag moves new pods; the tag's webhook is not
//! a self-managed Istio.

mod common;

use common::kube::enabled;
use common::Sim;
use serde_json::{json, Value};

/// What `istioctl tag set <tag> --revision <rev> --istioNamespace aks-istio-system` creates
/// (its namespace webhook; the object one is alike).
fn tag_webhook(tag: &str, rev: &str) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": format!("istio-revision-tag-{tag}"),
            "labels": {"istio.io/tag": tag, "istio.io/rev": rev, "app": "sidecar-injector"}
        },
        "webhooks": [{
            "name": "rev.namespace.sidecar-injector.istio.io",
            "admissionReviewVersions": ["v1beta1", "v1"],
            "sideEffects": "None",
            "clientConfig": {"service": {"name": format!("istiod-{rev}"), "namespace": "aks-istio-system", "path": "/inject", "port": 443}},
            "namespaceSelector": {"matchExpressions": [
                {"key": "istio.io/rev", "operator": "In", "values": [tag]},
                {"key": "istio-injection", "operator": "DoesNotExist"}]},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]
        }]
    })
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
}

const MWC: &str = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations";

#[tokio::test]
async fn a_tag_injects_the_revision_it_points_at() {
    let sim = Sim::new();
    sim.plane("1.34.2");
    sim.reconcile(&enabled(&["asm-1-28", "asm-1-29"]));
    let r = sim.kpost(MWC, tag_webhook("prod-stable", "asm-1-28")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = sim
        .kpost(
            "/api/v1/namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "shop", "labels": {"istio.io/rev": "prod-stable"}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = sim.kpost("/api/v1/namespaces/shop/pods", pod("a")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["metadata"]["labels"]["istio.io/rev"], "asm-1-28");
    let proxy = &r.body["spec"]["containers"][1];
    assert_eq!(proxy["name"], "istio-proxy", "{}", r.body);
    assert!(
        proxy["image"].as_str().unwrap().contains(":1.28."),
        "{proxy}"
    );

    // istioctl tag set prod-stable --revision asm-1-29 --overwrite
    let r = sim
        .kpatch(
            &format!("{MWC}/istio-revision-tag-prod-stable"),
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"istio.io/rev": "asm-1-29"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = sim.kpost("/api/v1/namespaces/shop/pods", pod("b")).await;
    assert_eq!(r.body["metadata"]["labels"]["istio.io/rev"], "asm-1-29");
    // A pod labelled with a tag in an unlabelled namespace is injected too.
    let mut labelled = pod("c");
    labelled["metadata"]["labels"] = json!({"istio.io/rev": "prod-stable"});
    let r = sim.kpost("/api/v1/namespaces/default/pods", labelled).await;
    assert_eq!(r.body["metadata"]["labels"]["istio.io/rev"], "asm-1-29");
    // A tag pointing at a revision that is not installed injects nothing.
    sim.kpost(MWC, tag_webhook("old", "asm-1-17")).await;
    let mut old = pod("d");
    old["metadata"]["labels"] = json!({"istio.io/rev": "old"});
    let r = sim.kpost("/api/v1/namespaces/default/pods", old).await;
    assert_eq!(r.body["spec"]["containers"].as_array().unwrap().len(), 1);

    // The tags' webhooks are the user's, not a self-managed Istio; istiod's are.
    assert!(!sim.with_plane(|p| p.has_self_managed_istio()));
    let mut injector = tag_webhook("x", "asm-1-28");
    injector["metadata"]["name"] = json!("istio-sidecar-injector");
    sim.kpost(MWC, injector).await;
    assert!(sim.with_plane(|p| p.has_self_managed_istio()));
}
