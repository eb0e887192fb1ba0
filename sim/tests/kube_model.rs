//! Property test of the plane's namespace store against a plain reference model (a BTreeMap):
//! random create / label / delete sequences, with the invariants checked after every step —
//! the listed namespaces and their labels equal the model, the resourceVersion only moves
//! forward (and only when something changed), and every change produced exactly one event.

use std::collections::BTreeMap;

use aksim::core::kube::validate::LabelSelector;
use aksim::core::kube::{ListOptions, Plane, WriteCtx};
use proptest::prelude::*;
use serde_json::json;

#[derive(Debug, Clone)]
enum Op {
    Create(String),
    Label(String, String, Option<String>),
    Delete(String),
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("c".to_owned()),
        Just("default".to_owned()),
        Just("Bad_Name".to_owned()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        name().prop_map(Op::Create),
        (
            name(),
            prop_oneof![Just("team".to_owned()), Just("istio.io/rev".to_owned())],
            proptest::option::of(prop_oneof![Just("x".to_owned()), Just("y".to_owned())])
        )
            .prop_map(|(n, k, v)| Op::Label(n, k, v)),
        name().prop_map(Op::Delete),
    ]
}

type Model = BTreeMap<String, BTreeMap<String, String>>;

fn initial_model() -> Model {
    ["default", "kube-node-lease", "kube-public", "kube-system"]
        .iter()
        .map(|n| {
            let mut labels = BTreeMap::new();
            labels.insert("kubernetes.io/metadata.name".to_owned(), (*n).to_owned());
            ((*n).to_owned(), labels)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn namespaces_follow_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let now = time::OffsetDateTime::now_utc();
        let mut plane = Plane::new("1.33.2", "t", now);
        plane.termination_delay_secs = 0.0;
        let rt = aksim::core::kube::catalog::find_type(&plane.resource_types(), "", "v1", "namespaces").unwrap();
        let mut model = initial_model();
        let ctx = WriteCtx::new(now);
        for op in ops {
            let rv_before = plane.resource_version;
            let events_before = plane.events.len();
            let changed = match &op {
                Op::Create(n) => {
                    let r = plane.create(&rt, "v1", "", json!({"metadata": {"name": n}}), ctx);
                    let valid = n != "Bad_Name" && !model.contains_key(n);
                    prop_assert_eq!(r.is_ok(), valid, "{:?}", op);
                    if valid {
                        let mut labels = BTreeMap::new();
                        labels.insert("kubernetes.io/metadata.name".to_owned(), n.clone());
                        model.insert(n.clone(), labels);
                    }
                    valid
                }
                Op::Label(n, k, v) => {
                    let r = plane.patch(&rt, "v1", "", n, aksim::core::kube::patch::PatchType::Merge,
                        &json!({"metadata": {"labels": {k.as_str(): v}}}), ctx);
                    match model.get_mut(n) {
                        Some(labels) => {
                            prop_assert!(r.is_ok(), "{:?}: {:?}", op, r);
                            let before = labels.clone();
                            match v {
                                Some(v) => { labels.insert(k.clone(), v.clone()); }
                                None => { labels.remove(k); }
                            }
                            *labels != before
                        }
                        None => {
                            prop_assert!(r.is_err());
                            false
                        }
                    }
                }
                Op::Delete(n) => {
                    let r = plane.delete(&rt, "", n, ctx);
                    let allowed = model.contains_key(n) && n != "default";
                    prop_assert_eq!(r.is_ok(), allowed, "{:?}", op);
                    if allowed {
                        model.remove(n);
                    }
                    allowed
                }
            };
            // Invariants.
            let page = plane.list(&rt, None, &ListOptions { labels: LabelSelector::default(), ..ListOptions::default() });
            let listed: Model = page.items.iter().map(|o| {
                let labels = aksim::core::kube::validate::labels_of(o);
                (o["metadata"]["name"].as_str().unwrap().to_owned(), labels)
            }).collect();
            prop_assert_eq!(&listed, &model);
            if changed {
                prop_assert!(plane.resource_version > rv_before);
                prop_assert!(plane.events.len() > events_before || plane.events.len() == aksim::limits::KUBE_WATCH_HISTORY_MAX);
            } else {
                prop_assert_eq!(plane.resource_version, rv_before, "{:?}", op);
                prop_assert_eq!(plane.events.len(), events_before);
            }
            for o in &page.items {
                let rv: u64 = o["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
                prop_assert!(rv <= plane.resource_version);
            }
        }
        // A snapshot round-trips.
        let text = serde_json::to_string(&plane).unwrap();
        let back: Plane = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back.objects, plane.objects);
    }
}
