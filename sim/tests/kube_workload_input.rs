//! Bad input on the workload kinds: kube-apiserver's 422 `Status` (reason `Invalid`, the
//! group kind in the message, `details.causes`), and nothing stored or changed.

mod common;

use common::Sim;
use serde_json::{json, Value};

const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments";

fn deployment(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec})
}

fn good_spec() -> Value {
    json!({"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
           "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "app", "image": "nginx"}]}}})
}

#[tokio::test]
async fn invalid_workloads_are_refused_with_kubes_status() {
    let sim = Sim::new();
    sim.plane("1.34.2");
    let mut mismatch = good_spec();
    mismatch["selector"]["matchLabels"]["app"] = json!("other");
    let mut negative = good_spec();
    negative["replicas"] = json!(-1);
    let mut no_containers = good_spec();
    no_containers["template"]["spec"] = json!({"containers": []});
    let cases = [
        (
            "mismatch",
            mismatch,
            "Deployment.apps \"mismatch\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`",
            json!([{"reason": "FieldValueInvalid", "field": "spec.template.metadata.labels",
                    "message": "Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`"}]),
        ),
        (
            "negative",
            negative,
            "Deployment.apps \"negative\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            json!([{"reason": "FieldValueInvalid", "field": "spec.replicas",
                    "message": "Invalid value: -1: must be greater than or equal to 0"}]),
        ),
        (
            "empty",
            no_containers,
            "Deployment.apps \"empty\" is invalid: spec.template.spec.containers: Required value",
            json!([{"reason": "FieldValueRequired", "field": "spec.template.spec.containers",
                    "message": "Required value"}]),
        ),
    ];
    for (name, spec, message, causes) in cases {
        let r = sim.kpost(DEPLOY, deployment(name, spec)).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["kind"], "Status");
        assert_eq!(r.body["reason"], "Invalid");
        assert_eq!(r.body["message"], message);
        assert_eq!(r.body["details"]["name"], name);
        assert_eq!(r.body["details"]["group"], "apps");
        assert_eq!(r.body["details"]["kind"], "Deployment");
        assert_eq!(r.body["details"]["causes"], causes);
        let get = sim.kget(&format!("{DEPLOY}/{name}")).await;
        assert_eq!(get.status, 404, "{name} was stored");
    }
    // Several at once: kube's list.
    let r = sim
        .kpost(DEPLOY, deployment("many", json!({"replicas": -2})))
        .await;
    assert_eq!(
        r.body["message"],
        "Deployment.apps \"many\" is invalid: [spec.replicas: Invalid value: -2: must be greater than or equal to 0, spec.selector: Required value, spec.template: Required value]"
    );

    // A valid one, then a patch and a server-side apply that would break it: refused, unchanged.
    let r = sim.kpost(DEPLOY, deployment("web", good_spec())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The stored version: the controllers write the status right after the request.
    let rv = sim.kget(&format!("{DEPLOY}/web")).await.body["metadata"]["resourceVersion"].clone();
    let r = sim
        .kpatch(
            &format!("{DEPLOY}/web"),
            "application/merge-patch+json",
            json!({"spec": {"replicas": -1}}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = sim
        .kpatch(
            &format!("{DEPLOY}/web?fieldManager=x"),
            "application/apply-patch+yaml",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"template": {"metadata": {"labels": {"app": "changed"}}}}}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("`selector` does not match template `labels`"));
    let now = sim.kget(&format!("{DEPLOY}/web")).await;
    assert_eq!(now.body["metadata"]["resourceVersion"], rv);
    assert_eq!(now.body["spec"]["replicas"], 1);

    // DaemonSets too (no replicas).
    let r = sim
        .kpost(
            "/apis/apps/v1/namespaces/default/daemonsets",
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds"},
                   "spec": {"selector": {"matchLabels": {"app": "a"}},
                            "template": {"metadata": {"labels": {"app": "b"}},
                                         "spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .starts_with("DaemonSet.apps \"ds\" is invalid: spec.template.metadata.labels"));
}
