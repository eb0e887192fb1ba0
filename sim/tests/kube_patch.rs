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
    // The stored version: the controllers write the status right after the request.
    let rv = sim.kget(&format!("{DEPLOY}/web")).await.body["metadata"]["resourceVersion"].clone();

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

const APPLY: &str = "application/apply-patch+yaml";

fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data})
}

#[tokio::test]
async fn server_side_apply_tracks_managers_and_refuses_conflicts() {
    let sim = sim();
    let path = "/api/v1/namespaces/default/configmaps/c";
    // No field manager: kube-apiserver's 422 on the query.
    let r = sim.kpatch(path, APPLY, cm(json!({"a": "1"}))).await;
    assert_status(
        &r,
        422,
        "Invalid",
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
    );
    // The first apply creates (201) and records the manager.
    let r = sim
        .kpatch(
            &format!("{path}?fieldManager=alice"),
            APPLY,
            cm(json!({"a": "1", "b": "2"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mf = &r.body["metadata"]["managedFields"];
    assert_eq!(mf[0]["manager"], "alice");
    assert_eq!(mf[0]["operation"], "Apply");
    assert_eq!(mf[0]["fieldsType"], "FieldsV1");
    assert_eq!(mf[0]["fieldsV1"], json!({"f:data": {"f:a": {}, "f:b": {}}}));
    // Applying the same again changes nothing.
    let rv = r.body["metadata"]["resourceVersion"].clone();
    let r = sim
        .kpatch(
            &format!("{path}?fieldManager=alice"),
            APPLY,
            cm(json!({"a": "1", "b": "2"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["metadata"]["resourceVersion"], rv);
    // Another manager setting the same value shares it; a different value conflicts.
    let r = sim
        .kpatch(
            &format!("{path}?fieldManager=bob"),
            APPLY,
            cm(json!({"a": "1", "c": "3"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = sim
        .kpatch(
            &format!("{path}?fieldManager=bob"),
            APPLY,
            cm(json!({"b": "x"})),
        )
        .await;
    assert_status(
        &r,
        409,
        "Conflict",
        "Apply failed with 1 conflict: conflict with \"alice\": .data.b",
    );
    assert_eq!(
        r.body["details"]["causes"],
        json!([{"reason": "FieldManagerConflict", "message": "conflict with \"alice\"", "field": ".data.b"}])
    );
    // Forced, bob takes .data.b over; his .data.a and .data.c he no longer applies: .data.c
    // goes (nobody else owns it), .data.a stays (alice owns it).
    let r = sim
        .kpatch(
            &format!("{path}?fieldManager=bob&force=true"),
            APPLY,
            cm(json!({"b": "x"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"], json!({"a": "1", "b": "x"}));
    let mf = r.body["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf[0]["fieldsV1"], json!({"f:data": {"f:a": {}}}));
    assert_eq!(mf[1]["manager"], "bob");
    assert_eq!(mf[1]["fieldsV1"], json!({"f:data": {"f:b": {}}}));
    // An update by a third writer takes the fields it changes.
    let r = sim
        .kpatch(
            &format!("{path}?fieldManager=carol"),
            "application/merge-patch+json",
            json!({"data": {"a": "2"}}),
        )
        .await;
    let mf = r.body["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf.len(), 2, "alice owns nothing any more: {mf:?}");
    assert_eq!(mf[1]["manager"], "carol");
    assert_eq!(mf[1]["operation"], "Update");
    // Malformed configurations are a 400, on an existing object and a new one alike.
    for name in ["c", "new"] {
        for body in [
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": "x"}),
            json!([1]),
            json!("s"),
        ] {
            let r = sim
                .kpatch(
                    &format!("/api/v1/namespaces/default/configmaps/{name}?fieldManager=z"),
                    APPLY,
                    body,
                )
                .await;
            assert_eq!(r.status, 400, "{}", r.body);
            assert_eq!(r.body["kind"], "Status");
        }
    }
    // `force` belongs to apply.
    let r = sim
        .kpatch(
            &format!("{path}?force=true"),
            "application/merge-patch+json",
            json!({"data": {"a": "3"}}),
        )
        .await;
    assert_status(
        &r,
        422,
        "Invalid",
        "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch",
    );
}

#[tokio::test]
async fn server_side_apply_merges_containers_by_name() {
    let sim = sim();
    let path = format!("{DEPLOY}/web?fieldManager=ci");
    let r = sim.kpatch(&path, APPLY, deployment()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Another manager adds an env var to one container by applying only that.
    let r = sim
        .kpatch(
            &format!("{DEPLOY}/web?fieldManager=ops"),
            APPLY,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"template": {"spec": {"containers": [
                       {"name": "app", "env": [{"name": "DEBUG", "value": "1"}]}]}}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let cs = &r.body["spec"]["template"]["spec"]["containers"];
    assert_eq!(cs.as_array().unwrap().len(), 2, "{cs}");
    assert_eq!(cs[0]["image"], "nginx");
    assert_eq!(cs[0]["env"].as_array().unwrap().len(), 2, "{cs}");
    // A YAML body works the same.
    let yaml =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n";
    let r = sim
        .kube_raw(
            axum::http::Method::PATCH,
            &format!("{DEPLOY}/web?fieldManager=ci"),
            Some(APPLY),
            Some(yaml.as_bytes().to_vec()),
            &[],
        )
        .await;
    // ci stopped applying its selector and containers: what only it owned would go — the
    // selector, `side`, `app`'s image — and kube-apiserver's validation refuses the result.
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(
        r.body["message"],
        "Deployment.apps \"web\" is invalid: [spec.selector: Required value, spec.template.spec.containers[0].image: Required value]"
    );
    // The whole manifest with 3 replicas: ops' env var stays.
    let mut scaled = deployment();
    scaled["spec"]["replicas"] = json!(3);
    let r = sim
        .kpatch(&format!("{DEPLOY}/web?fieldManager=ci"), APPLY, scaled)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["spec"]["replicas"], 3);
    let cs = &r.body["spec"]["template"]["spec"]["containers"];
    assert_eq!(cs[0]["env"].as_array().unwrap().len(), 2, "{cs}");
}

/// An object `kubectl apply` (client-side) created, then applied server-side with other
/// replicas: the conflict names the client-side manager as kube-apiserver does.
#[tokio::test]
async fn server_side_apply_after_client_side_apply_names_the_updater() {
    let sim = sim();
    let r = sim
        .kpost(
            &format!("{DEPLOY}?fieldManager=kubectl-client-side-apply"),
            deployment(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["metadata"]["managedFields"][0]["manager"],
        "kubectl-client-side-apply"
    );
    let mut scaled = deployment();
    scaled["spec"]["replicas"] = json!(4);
    let r = sim
        .kpatch(&format!("{DEPLOY}/web?fieldManager=kubectl"), APPLY, scaled)
        .await;
    assert_status(
        &r,
        409,
        "Conflict",
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas",
    );
}

/// Custom resources take server-side apply too: no schema, so objects merge field by field
/// and lists are atomic.
#[tokio::test]
async fn server_side_apply_of_a_custom_resource() {
    let sim = sim();
    sim.reconcile(&enabled(&["asm-1-27"]));
    let path = "/apis/networking.istio.io/v1/namespaces/default/virtualservices/r";
    let vs = |hosts: Value| {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": "r"}, "spec": {"hosts": hosts}})
    };
    let r = sim
        .kpatch(
            &format!("{path}?fieldManager=team-a"),
            APPLY,
            vs(json!(["r"])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:spec": {"f:hosts": {}}})
    );
    let r = sim
        .kpatch(
            &format!("{path}?fieldManager=team-b"),
            APPLY,
            vs(json!(["r", "s"])),
        )
        .await;
    assert_status(
        &r,
        409,
        "Conflict",
        "Apply failed with 1 conflict: conflict with \"team-a\": .spec.hosts",
    );
}
