//! Field sets as `metadata.managedFields` carries them (`fieldsType: FieldsV1`): a trie of
//! `f:<field>`, `k:{<list-map keys>}`, `v:<set item>` keys in which `.` marks a member that
//! also has children; and a path as kube-apiserver prints it in a conflict.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

/// A path of a field set, one `FieldsV1` key per element (`f:spec`, `k:{"name":"app"}`).
pub type Path = Vec<String>;
pub type Set = BTreeSet<Path>;

/// A field set as `FieldsV1`.
pub fn encode(set: &Set) -> Value {
    let mut root = Map::new();
    for p in set {
        let mut node = &mut root;
        for e in p {
            node = node
                .entry(e.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("a FieldsV1 node is an object");
        }
        node.insert(".".to_owned(), json!({}));
    }
    tidy(root)
}

/// `.` first; a member without children is `{}`.
fn tidy(mut m: Map<String, Value>) -> Value {
    let member = m.shift_remove(".").is_some();
    let mut out = Map::new();
    if member && !m.is_empty() {
        out.insert(".".to_owned(), json!({}));
    }
    for (k, v) in m {
        let child = match v {
            Value::Object(c) => tidy(c),
            other => other,
        };
        out.insert(k, child);
    }
    Value::Object(out)
}

pub fn decode(node: &Value, path: &mut Path, out: &mut Set) {
    let Some(m) = node.as_object() else {
        return;
    };
    for (k, v) in m {
        if k == "." {
            out.insert(path.clone());
            continue;
        }
        path.push(k.clone());
        if v.as_object().is_some_and(Map::is_empty) {
            out.insert(path.clone());
        } else {
            decode(v, path, out);
        }
        path.pop();
    }
}

/// A path as kube prints it in a conflict: `.spec.replicas`, `.spec.containers[name="app"].image`.
pub fn path_string(p: &Path) -> String {
    let mut s = String::new();
    for e in p {
        if let Some(f) = e.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = e.strip_prefix("k:") {
            let key: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = key.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = e.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        }
    }
    s
}
