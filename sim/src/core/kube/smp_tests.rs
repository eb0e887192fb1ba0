//! Strategic merge patches as kubectl sends them (client-side apply's three-way patches with
//! `$setElementOrder`, `kubectl patch` with directives), against kube-apiserver's results.

use serde_json::{json, Value};

use super::*;

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "finalizers": ["a", "b"],
                     "ownerReferences": [{"uid": "u1", "name": "o1", "kind": "X", "apiVersion": "v1"}]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "nginx:1.25", "args": ["-a", "-b"],
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}],
                         "volumeMounts": [{"name": "cfg", "mountPath": "/etc/cfg"}]},
                        {"name": "side", "image": "busybox"}
                    ],
                    "tolerations": [{"key": "k1", "operator": "Exists"}],
                    "volumes": [{"name": "cfg", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]
                }
            }
        }
    })
}

fn patched(original: &Value, patch: Value) -> Result<Value, SmpError> {
    let schema = schema_for(
        original["apiVersion"].as_str().unwrap(),
        original["kind"].as_str().unwrap(),
    )
    .expect("a built-in kind");
    apply(original, &patch, schema)
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[test]
fn the_data_covers_the_served_kinds() {
    for (api, kind) in [
        ("v1", "Pod"),
        ("v1", "Service"),
        ("v1", "Namespace"),
        ("v1", "ConfigMap"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "ReplicaSet"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        (
            "admissionregistration.k8s.io/v1",
            "MutatingWebhookConfiguration",
        ),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ] {
        assert!(schema_for(api, kind).is_some(), "{api} {kind}");
    }
    assert!(schema_for("networking.istio.io/v1", "VirtualService").is_none());
    let (_, meta) = Schema::of("core.v1.PodSpec").lookup("volumes");
    assert_eq!((meta.strategy, meta.key), ("merge", "name"));
    let (_, meta) = Schema::of("core.v1.PodSpec").lookup("tolerations");
    assert_eq!(meta.strategy, "");
}

/// What `kubectl apply` sends after the user changed one container's image and added an env
/// var (the last-applied annotation elided): only the changes, ordered by `$setElementOrder`.
#[test]
fn client_side_apply_merges_containers_and_env_by_name() {
    let out = patched(
        &deployment(),
        json!({
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
                "containers": [{
                    "$setElementOrder/env": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
                    "env": [{"name": "C", "value": "3"}],
                    "image": "nginx:1.26",
                    "name": "app"
                }]
            }}}
        }),
    )
    .unwrap();
    let cs = &out["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(cs), ["app", "side"]);
    assert_eq!(cs[0]["image"], "nginx:1.26");
    assert_eq!(names(&cs[0]["env"]), ["A", "B", "C"]);
    assert_eq!(cs[0]["env"][2]["value"], "3");
    assert_eq!(cs[0]["ports"].as_array().unwrap().len(), 2);
    assert_eq!(cs[1]["image"], "busybox");
    assert!(out
        .pointer("/spec/template/spec/containers/0/$setElementOrder~1env")
        .is_none());
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{}"
    );
}

/// A container removed from the applied file: kubectl sends a `$patch: delete` element and
/// the new order.
#[test]
fn delete_directive_in_a_list_and_a_new_container_in_order() {
    let out = patched(
        &deployment(),
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "init"}, {"name": "app"}],
            "containers": [{"name": "init", "image": "alpine"}, {"$patch": "delete", "name": "side"}]
        }}}}),
    )
    .unwrap();
    assert_eq!(
        names(&out["spec"]["template"]["spec"]["containers"]),
        ["init", "app"]
    );
    // Without an order list, kube puts the patch's new items first.
    let out = patched(
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "extra", "image": "x"}]}}}}),
    )
    .unwrap();
    assert_eq!(
        names(&out["spec"]["template"]["spec"]["containers"]),
        ["extra", "app", "side"]
    );
}

#[test]
fn ports_mounts_and_volumes_merge_by_their_keys_other_lists_are_replaced() {
    let out = patched(
        &deployment(),
        json!({"spec": {"template": {"spec": {
            "containers": [{"name": "app",
                            "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 8080}],
                            "volumeMounts": [{"mountPath": "/data", "name": "data"}],
                            "args": ["-c"]}],
            "tolerations": [{"key": "k2", "operator": "Exists"}],
            "volumes": [{"name": "extra", "configMap": {"name": "x"}}]
        }}}}),
    )
    .unwrap();
    let spec = &out["spec"]["template"]["spec"];
    let ports = spec["containers"][0]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 3);
    assert_eq!(
        ports[0],
        json!({"containerPort": 80, "protocol": "TCP", "name": "http"})
    );
    assert_eq!(
        spec["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(spec["containers"][0]["args"], json!(["-c"]));
    assert_eq!(
        spec["tolerations"],
        json!([{"key": "k2", "operator": "Exists"}])
    );
    assert_eq!(names(&spec["volumes"]), ["extra", "cfg", "data"]);
}

#[test]
fn replace_and_delete_directives() {
    // `$patch: replace` in a list: the list is the patch's.
    let out = patched(
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [
            {"name": "only", "image": "x"}, {"$patch": "replace"}
        ]}}}}),
    )
    .unwrap();
    assert_eq!(
        names(&out["spec"]["template"]["spec"]["containers"]),
        ["only"]
    );
    // `$patch: replace` in a map: the map is the patch's.
    let out = patched(
        &deployment(),
        json!({"spec": {"selector": {"$patch": "replace", "matchLabels": {"x": "y"}}}}),
    )
    .unwrap();
    assert_eq!(out["spec"]["selector"], json!({"matchLabels": {"x": "y"}}));
    // `$patch: delete` in a map empties it.
    let out = patched(
        &deployment(),
        json!({"spec": {"strategy": {"$patch": "delete"}}}),
    )
    .unwrap();
    assert_eq!(out["spec"]["strategy"], json!({}));
    // null deletes a field.
    let out = patched(&deployment(), json!({"spec": {"replicas": null}})).unwrap();
    assert!(out["spec"].get("replicas").is_none());
}

#[test]
fn primitive_lists_ownerrefs_and_retain_keys() {
    let out = patched(
        &deployment(),
        json!({"metadata": {
            "$deleteFromPrimitiveList/finalizers": ["a"],
            "finalizers": ["c"],
            "ownerReferences": [{"uid": "u2", "name": "o2", "kind": "X", "apiVersion": "v1"}]
        }}),
    )
    .unwrap();
    // kube's order: the patch's new items first.
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "b"]));
    assert_eq!(
        out["metadata"]["ownerReferences"].as_array().unwrap().len(),
        2
    );
    // kubectl's patch when the strategy changes to Recreate.
    let out = patched(
        &deployment(),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}}),
    )
    .unwrap();
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    // A volume changing its source: `$retainKeys` drops the old one.
    let out = patched(
        &deployment(),
        json!({"spec": {"template": {"spec": {"volumes": [
            {"$retainKeys": ["configMap", "name"], "configMap": {"name": "c"}, "name": "cfg"}
        ]}}}}),
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["volumes"][0],
        json!({"name": "cfg", "configMap": {"name": "c"}})
    );
    // A key outside the list is refused.
    let e = patched(
        &deployment(),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}, "type": "Recreate"}}}),
    )
    .unwrap_err();
    assert_eq!(e.0, "invalid patch format of retainKeys");
}

#[test]
fn bad_patches_are_refused_with_kubes_text() {
    let e = patched(
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
    )
    .unwrap_err();
    assert_eq!(
        e.0,
        "map: map[image:x] does not contain declared merge key: name"
    );
    let e = patched(
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [{"$patch": "merge", "name": "app"}]}}}}),
    )
    .unwrap_err();
    assert_eq!(e.0, "merging lists cannot yet be specified in the patch");
    let e = patched(&deployment(), json!({"spec": {"$patch": "frob"}})).unwrap_err();
    assert_eq!(e.0, "unknown patch type: frob in map: map[$patch:frob]");
    let e = patched(
        &deployment(),
        json!({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}),
    )
    .unwrap_err();
    assert_eq!(e.0, "invalid patch format of primitive list");
    let e = patched(&deployment(), json!({"metadata": {"finalizers": [["x"]]}})).unwrap_err();
    assert_eq!(e.0, "list element types are not identical: [[a b] [[x]]]");
    let e = patched(
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [["x"]]}}}}),
    )
    .unwrap_err();
    assert!(
        e.0.starts_with("list element types are not identical"),
        "{e:?}"
    );
}

#[test]
fn service_ports_merge_by_port_and_labels_by_key() {
    let svc = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "s", "labels": {"a": "1"}},
        "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}});
    let out = patched(
        &svc,
        json!({"metadata": {"labels": {"b": "2"}}, "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}),
    )
    .unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"a": "1", "b": "2"}));
    assert_eq!(out["spec"]["ports"][0]["targetPort"], 8080);
    assert_eq!(out["spec"]["ports"].as_array().unwrap().len(), 2);
}

/// The patch kubectl 1.33 sent (captured with `-v=8` by tests/kubectl_apply.rs) after the
/// user changed `app`'s image and added `FEATURE` to its env, against the live object that
/// another writer had given a `debug` container.
#[test]
fn a_patch_kubectl_sent() {
    let live = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"old\":true}\n"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [
                    {"env": [{"name": "MODE", "value": "prod"}], "image": "nginx:1.25", "name": "app",
                     "ports": [{"containerPort": 80}], "volumeMounts": [{"mountPath": "/cache", "name": "cache"}]},
                    {"env": [{"name": "LEVEL", "value": "info"}], "image": "fluentbit:2", "name": "logger"},
                    {"image": "busybox", "name": "debug"}],
                "initContainers": [{"image": "busybox", "name": "setup"}],
                "volumes": [{"emptyDir": {}, "name": "cache"}]}}}
    });
    let sent: Value = serde_json::from_str(
        r#"{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"new\":true}\n"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"logger"}],"containers":[{"$setElementOrder/env":[{"name":"MODE"},{"name":"FEATURE"}],"env":[{"name":"FEATURE","value":"on"}],"image":"nginx:1.26","name":"app"}]}}}}"#,
    )
    .unwrap();
    let out = patched(&live, sent).unwrap();
    let cs = &out["spec"]["template"]["spec"]["containers"];
    // The order list names the file's containers; the server's own (debug) keeps its place
    // after them.
    assert_eq!(names(cs), ["app", "logger", "debug"]);
    assert_eq!(cs[0]["image"], "nginx:1.26");
    assert_eq!(names(&cs[0]["env"]), ["MODE", "FEATURE"]);
    assert_eq!(cs[0]["volumeMounts"][0]["mountPath"], "/cache");
    assert_eq!(cs[1]["env"][0]["name"], "LEVEL");
    assert_eq!(
        out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"new\":true}\n"
    );
}
