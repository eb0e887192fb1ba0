//! What kube-apiserver knows of each built-in kind's fields when it merges: the strategic
//! merge patch strategy and merge key of a field, and how server-side apply sees it (list type
//! and keys, atomic structs and maps). The data is `data/k8s-patch-strategies.json`, written by
//! `data/k8s-patch-strategies.py` from k8s.io/api's struct tags and markers.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct FieldMeta {
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(default)]
    strategy: Option<String>,
    #[serde(default)]
    key: Option<String>,
    /// Server-side apply: `map` (items keyed by `listKeys`), `set`, or none (atomic).
    #[serde(default, rename = "listType")]
    list_type: Option<String>,
    #[serde(default, rename = "listKeys")]
    list_keys: Vec<String>,
    /// A struct or map that server-side apply owns whole.
    #[serde(default)]
    atomic: bool,
}

/// How server-side apply sees a field: its list type and keys, or whether it is atomic.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyMeta {
    /// `"map"`, `"set"`, or `""` (a list without a type is atomic).
    pub list_type: &'static str,
    pub list_keys: &'static [String],
    pub atomic: bool,
}

#[derive(Debug, Deserialize)]
struct Data {
    kinds: HashMap<String, String>,
    types: HashMap<String, HashMap<String, FieldMeta>>,
}

fn data() -> &'static Data {
    static D: OnceLock<Data> = OnceLock::new();
    D.get_or_init(|| {
        serde_json::from_str(include_str!("../../../data/k8s-patch-strategies.json"))
            .expect("data/k8s-patch-strategies.json is valid (checked by a unit test)")
    })
}

/// Where in a kind's type tree a merge is (kube's `LookupPatchMeta`).
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub(super) name: &'static str,
    fields: Option<&'static HashMap<String, FieldMeta>>,
}

/// A field's patch metadata: its strategy (`merge`, `replace`, or none) and merge key.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PatchMeta {
    pub(super) strategy: &'static str,
    pub(super) key: &'static str,
}

impl Schema {
    pub(super) fn of(name: &'static str) -> Schema {
        Schema {
            name,
            fields: data().types.get(name),
        }
    }

    pub(super) fn lookup(&self, key: &str) -> (Schema, PatchMeta) {
        let Some(f) = self.fields.and_then(|fs| fs.get(key)) else {
            return (
                Schema {
                    name: self.name,
                    fields: None,
                },
                PatchMeta::default(),
            );
        };
        let sub = match &f.ty {
            Some(t) => Schema::of(t.as_str()),
            None => Schema {
                name: self.name,
                fields: None,
            },
        };
        // `merge,retainKeys` → `merge`; `retainKeys` alone → none (kube's
        // extractRetainKeysPatchStrategy).
        let strategy = f
            .strategy
            .as_deref()
            .unwrap_or("")
            .split(',')
            .find(|s| *s != "retainKeys")
            .unwrap_or("");
        (
            sub,
            PatchMeta {
                strategy,
                key: f.key.as_deref().unwrap_or(""),
            },
        )
    }
}

impl Schema {
    /// A field's sub-schema (of its elements, for a list) and how server-side apply sees it.
    pub fn apply_field(&self, key: &str) -> (Schema, ApplyMeta) {
        let (sub, _) = self.lookup(key);
        let meta = match self.fields.and_then(|fs| fs.get(key)) {
            Some(f) => ApplyMeta {
                list_type: f.list_type.as_deref().unwrap_or(""),
                list_keys: &f.list_keys,
                atomic: f.atomic,
            },
            None => ApplyMeta::default(),
        };
        (sub, meta)
    }

    /// The schema of an unknown type: every object granular, every list atomic.
    pub fn untyped() -> Schema {
        Schema {
            name: "",
            fields: None,
        }
    }
}

/// The schema of a built-in kind (`apiVersion`, `kind`); `None` for custom resources.
pub fn schema_for(api_version: &str, kind: &str) -> Option<Schema> {
    let d = data();
    let name = d.kinds.get(&format!("{api_version} {kind}"))?;
    Some(Schema::of(name.as_str()))
}
