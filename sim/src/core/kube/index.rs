//! A label index per type and namespace, so a list with an equality `labelSelector` (what
//! `kubectl get pods -l app=web` sends) reads the matching objects instead of walking every
//! object of its namespace: (`group/resource/namespace/` prefix, label key, value) → object
//! keys. Kept by [`Plane`](super::Plane)'s `store` and `remove`; not part of snapshots (a
//! plane read from one is indexed on its first exclusive use, and lists walk until then).

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

/// The index; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct LabelIndex {
    map: HashMap<(String, String, String), BTreeSet<String>>,
}

/// `group/resource/namespace/` of an object key `group/resource/namespace/name`.
pub fn prefix_of(key: &str) -> &str {
    let mut slashes = 0;
    for (i, b) in key.bytes().enumerate() {
        if b == b'/' {
            slashes += 1;
            if slashes == 3 {
                return &key[..=i];
            }
        }
    }
    key
}

fn labels(object: &Value) -> impl Iterator<Item = (&String, &str)> {
    object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k, v)))
}

impl LabelIndex {
    pub fn add(&mut self, key: &str, object: &Value) {
        let prefix = prefix_of(key);
        for (k, v) in labels(object) {
            self.map
                .entry((prefix.to_owned(), k.clone(), v.to_owned()))
                .or_default()
                .insert(key.to_owned());
        }
    }

    pub fn remove(&mut self, key: &str, object: &Value) {
        let prefix = prefix_of(key);
        for (k, v) in labels(object) {
            let entry = (prefix.to_owned(), k.clone(), v.to_owned());
            if let Some(keys) = self.map.get_mut(&entry) {
                keys.remove(key);
                if keys.is_empty() {
                    self.map.remove(&entry);
                }
            }
        }
    }

    /// The keys under `prefix` whose label `label` is `value` (empty when none).
    pub fn lookup(&self, prefix: &str, label: &str, value: &str) -> Option<&BTreeSet<String>> {
        self.map
            .get(&(prefix.to_owned(), label.to_owned(), value.to_owned()))
    }
}
