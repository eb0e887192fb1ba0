//! PATCH on the plane as kube-apiserver answers it: strategic merge patch by merge keys for
//! built-in kinds and 415 for custom resources, JSON patch failures as its bare 422, and
//! server-side apply (field managers, conflicts).

mod common;

use common::kube::enabled;
use common::{Reply, Sim};
use serde_json::{json, Value};

fn sim() -> Sim {
    let sim = Sim::new();
    sim.plane("1.33.2");
    sim
}

fn deployment() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [
                                     {"name": "app", "image": "nginx", "env": [{"name": "A", "value": "1"}]},
                                     {"name": "side", "image": "busybox"}]}}}})
}

fn assert_status(r: &Reply, code: u16, reason: &str, message: &str) {
    assert_eq!(r.status.as_u16(), code, "{}", r.body);
    assert_eq!(r.body["kind"], "Status", "{}", r.body);
    assert_eq!(r.body["reason"], reason, "{}", r.body);
    assert_eq!(r.body["message"], message, "{}", r.body);
}

const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments";

#[tokio::test]
async fn strategic_merge_patch_merges_by_key_and_refuses_bad_patches() {
    let sim = sim();
    let r = sim.kpost(DEPLOY, deployment()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = sim
        .kpatch(
            &format!("{DEPLOY}/web"),
            "application/strategic-merge-patch+json",
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "env": [{"name": "B", "value": "2"}]}]}}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cs = &r.body["spec"]["template"]["spec"]["containers"];
    assert_eq!(cs.as_array().unwrap().len(), 2, "{cs}");
    assert_eq!(cs[0]["image"], "nginx");
    assert_eq!(cs[0]["env"].as_array().unwrap().len(), 2);
    let rv = r.body["metadata"]["resourceVersion"].clone();

    // A list element without its merge key: 400 with kube's text, nothing stored.
    let r = sim
        .kpatch(
            &format!("{DEPLOY}/web"),
            "application/strategic-merge-patch+json",
            json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        )
        .await;
    assert_status(
        &r,
        400,
        "BadRequest",
        "map: map[image:x] does not contain declared merge key: name",
    );
    // A JSON patch whose operation fails: kube-apiserver's bare 422.
    let r = sim
        .kpatch(
            &format!("{DEPLOY}/web"),
            "application/json-patch+json",
            json!([{"op": "remove", "path": "/spec/nosuch"}]),
        )
        .await;
    assert_status(
        &r,
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
    );
    let now = sim.kget(&format!("{DEPLOY}/web")).await;
    assert_eq!(now.body["metadata"]["resourceVersion"], rv);
}

#[tokio::test]
async fn custom_resources_take_no_strategic_merge_patch() {
    let sim = sim();
    sim.reconcile(&enabled(&["asm-1-27"]));
    let vs = "/apis/networking.istio.io/v1/namespaces/default/virtualservices";
    let r = sim
        .kpost(
            vs,
            json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                   "metadata": {"name": "r"}, "spec": {"hosts": ["r"]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = sim
        .kpatch(
            &format!("{vs}/r"),
            "application/strategic-merge-patch+json",
            json!({"spec": {"hosts": ["s"]}}),
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(r.body["reason"], "UnsupportedMediaType");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json"),
        "{message}"
    );
    assert!(!message.contains("strategic"), "{message}");
    let r = sim
        .kpatch(
            &format!("{vs}/r"),
            "application/merge-patch+json",
            json!({"spec": {"hosts": ["s"]}}),
        )
        .await;
    assert_eq!(r.body["spec"]["hosts"], json!(["s"]));
}
