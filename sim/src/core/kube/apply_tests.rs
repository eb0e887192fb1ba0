//! Field sets, their `FieldsV1` form, and conflicts' texts.

use serde_json::json;

use super::*;

fn deployment_schema() -> Schema {
    smp::schema_for("apps/v1", "Deployment").unwrap()
}

#[test]
fn field_sets_round_trip_through_fields_v1() {
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"spec": {"containers": [
                     {"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}});
    let (leaves, nodes) = object_set(&d, deployment_schema());
    let all: Set = leaves.union(&nodes).cloned().collect();
    let v1 = encode(&all);
    assert_eq!(
        v1,
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                    ".": {}, "f:image": {}, "f:name": {},
                    "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                        ".": {}, "f:containerPort": {}}}}}}}
            }
        })
    );
    let mut back = Set::new();
    decode(&v1, &mut Vec::new(), &mut back);
    assert_eq!(back, all);
    let p: Path = vec![
        "f:spec".into(),
        "f:template".into(),
        "f:spec".into(),
        "f:containers".into(),
        "k:{\"name\":\"app\"}".into(),
        "f:image".into(),
    ];
    assert_eq!(
        path_string(&p),
        ".spec.template.spec.containers[name=\"app\"].image"
    );
    assert_eq!(value_at(&d, &p), Some(&json!("nginx")));
}

#[test]
fn updates_take_changed_fields_from_other_managers() {
    let now = OffsetDateTime::UNIX_EPOCH;
    let mut v1 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                        "data": {"a": "1", "b": "2"}});
    track_update(
        None,
        &mut v1,
        "v1",
        "ConfigMap",
        FieldManager::new("kubectl-create"),
        now,
    );
    assert_eq!(
        v1["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}})
    );
    assert_eq!(v1["metadata"]["managedFields"][0]["operation"], "Update");
    let mut v2 = v1.clone();
    v2["data"]["a"] = json!("9");
    track_update(
        Some(&v1),
        &mut v2,
        "v1",
        "ConfigMap",
        FieldManager::new("kubectl-edit"),
        now,
    );
    let mf = v2["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(mf.len(), 2);
    assert_eq!(mf[0]["fieldsV1"], json!({"f:data": {".": {}, "f:b": {}}}));
    assert_eq!(mf[1]["manager"], "kubectl-edit");
    assert_eq!(mf[1]["fieldsV1"], json!({"f:data": {"f:a": {}}}));
    // The simulator's own writes record nothing.
    let mut v3 = v2.clone();
    v3["data"]["b"] = json!("x");
    track_update(
        Some(&v2),
        &mut v3,
        "v1",
        "ConfigMap",
        FieldManager::NONE,
        now,
    );
    assert_eq!(
        v3["metadata"]["managedFields"],
        v2["metadata"]["managedFields"]
    );
}

#[test]
fn conflict_texts_are_kubes() {
    let p: Path = vec!["f:spec".into(), "f:replicas".into()];
    let e = |manager: &str, op: &str| Entry {
        manager: manager.into(),
        operation: op.into(),
        api_version: "apps/v1".into(),
        time: Value::Null,
        set: Set::new(),
        rest: Map::new(),
    };
    let entries = vec![
        e("kubectl-client-side-apply", "Update"),
        e("kubectl", "Apply"),
    ];
    let Error::ApplyConflict { message, causes } = conflict_error(&entries, &[(0, p.clone())])
    else {
        panic!("a conflict")
    };
    assert_eq!(
        message,
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    assert_eq!(
        causes,
        [(
            "conflict with \"kubectl-client-side-apply\" using apps/v1".to_owned(),
            ".spec.replicas".to_owned()
        )]
    );
    let q: Path = vec!["f:metadata".into(), "f:labels".into(), "f:app".into()];
    let Error::ApplyConflict { message, .. } = conflict_error(&entries, &[(1, p), (1, q)]) else {
        panic!("a conflict")
    };
    assert_eq!(
        message,
        "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .spec.replicas\n- .metadata.labels.app"
    );
    assert_eq!(FieldManager::new(&"x".repeat(300)).as_str().len(), 128);
    assert_eq!(
        FieldManager::from_user_agent("kubectl/v1.33.2 (linux/amd64)").as_str(),
        "kubectl"
    );
}
