//! Property test: any strategic merge patch and any server-side apply configuration, built from
//! the keys and directives these code paths read, is answered — applied or refused — and never
//! panics; a refused write changes nothing, and the object stays a JSON object.

use aksim::core::kube::apply::FieldManager;
use aksim::core::kube::catalog;
use aksim::core::kube::patch::PatchType;
use aksim::core::kube::{Plane, WriteCtx};
use proptest::prelude::*;
use serde_json::{json, Value};

fn deployment() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a"]},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "app", "image": "nginx", "env": [{"name": "A", "value": "1"}],
                                "ports": [{"containerPort": 80}]}],
                "volumes": [{"name": "v", "emptyDir": {}}]}}}})
}

/// JSON made of the names these paths look at.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i64..100).prop_map(Value::from),
        prop_oneof![
            Just("app"),
            Just("x"),
            Just("delete"),
            Just("replace"),
            Just("merge"),
            Just("TCP"),
            Just("nginx"),
            Just("web"),
        ]
        .prop_map(Value::from),
    ];
    let key = prop_oneof![
        Just("metadata"),
        Just("spec"),
        Just("template"),
        Just("containers"),
        Just("env"),
        Just("name"),
        Just("image"),
        Just("ports"),
        Just("containerPort"),
        Just("protocol"),
        Just("volumes"),
        Just("labels"),
        Just("finalizers"),
        Just("replicas"),
        Just("selector"),
        Just("matchLabels"),
        Just("$patch"),
        Just("$retainKeys"),
        Just("$setElementOrder/containers"),
        Just("$setElementOrder/env"),
        Just("$deleteFromPrimitiveList/finalizers"),
        Just("$deleteFromPrimitiveList"),
        Just("apiVersion"),
        Just("kind"),
        Just("status"),
    ];
    leaf.prop_recursive(4, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..5).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

fn ctx(manager: &str) -> WriteCtx {
    let mut c = WriteCtx::new(time::OffsetDateTime::UNIX_EPOCH);
    c.manager = FieldManager::new(manager);
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn patches_and_applies_never_panic(ops in prop::collection::vec((0u8..3, value(), any::<bool>()), 1..6)) {
        let rt = catalog::builtins().into_iter().find(|t| t.resource == "deployments").unwrap();
        let mut plane = Plane::new("1.33.2", "t", time::OffsetDateTime::UNIX_EPOCH);
        plane.create(&rt, "v1", "default", deployment(), ctx("kubectl-create")).unwrap();
        for (kind, body, force) in ops {
            let before = plane.get(&rt, "default", "web").ok();
            let result = match kind {
                0 => plane.patch(&rt, "v1", "default", "web", PatchType::StrategicMerge, &body, ctx("p")),
                1 => {
                    let mut applied = body.clone();
                    if let Some(o) = applied.as_object_mut() {
                        o.insert("apiVersion".into(), json!("apps/v1"));
                        o.insert("kind".into(), json!("Deployment"));
                    }
                    plane
                        .server_side_apply(&rt, "v1", "default", "web", applied, force, ctx(if force { "a" } else { "b" }))
                        .map(|(o, _)| o)
                }
                _ => plane.patch(&rt, "v1", "default", "web", PatchType::Merge, &body, ctx("m")),
            };
            let after = plane.get(&rt, "default", "web").ok();
            match result {
                Ok(o) => prop_assert!(o.is_object()),
                Err(_) => prop_assert_eq!(before, after),
            }
        }
    }
}
