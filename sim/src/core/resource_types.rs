//! The resource-type catalogue: which provider namespaces exist, which resource types each
//! serves, at which api-versions and in which locations (`data/resource-types.json`, embedded at
//! build time). The api-version check and the provider documents of `GET /providers` are both
//! generated from it, so they cannot disagree.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;

const EMBEDDED: &str = include_str!("../../data/resource-types.json");

#[derive(Debug)]
pub struct Catalog {
    pub locations: Vec<String>,
    pub providers: Vec<ProviderSpec>,
}

#[derive(Debug)]
pub struct ProviderSpec {
    pub namespace: String,
    /// `namespace` in lower case: the key of the subscription's registration records.
    pub key: String,
    pub registration_policy: String,
    pub resource_types: Vec<ResourceTypeSpec>,
}

#[derive(Debug)]
pub struct ResourceTypeSpec {
    pub resource_type: String,
    pub api_versions: Vec<String>,
    pub locations: Vec<String>,
    /// `api_versions` lower-cased, for the per-request check (a type has up to ~70).
    api_version_set: HashSet<String, foldhash::fast::FixedState>,
}

impl ResourceTypeSpec {
    /// Whether `given` is one of the type's api-versions, ignoring ASCII case.
    pub fn supports(&self, given: &str) -> bool {
        if given.bytes().any(|b| b.is_ascii_uppercase()) {
            self.api_version_set.contains(&given.to_ascii_lowercase())
        } else {
            self.api_version_set.contains(given)
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    version_sets: BTreeMap<String, Vec<String>>,
    locations: Vec<String>,
    providers: Vec<RawProvider>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProvider {
    namespace: String,
    registration_policy: String,
    resource_types: Vec<RawResourceType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResourceType {
    resource_type: String,
    api_versions: StringsOrRef,
    locations: StringsOrRef,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringsOrRef {
    List(Vec<String>),
    Ref(String),
}

impl Catalog {
    /// The catalogue built into the binary.
    pub fn embedded() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::parse(EMBEDDED).expect("data/resource-types.json is valid (tested)")
        })
    }

    pub fn parse(text: &str) -> Result<Catalog, String> {
        let raw: RawCatalog = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let resolve = |value: StringsOrRef| -> Result<Vec<String>, String> {
            match value {
                StringsOrRef::List(list) => Ok(list),
                StringsOrRef::Ref(name) if name == "@all" => Ok(raw.locations.clone()),
                StringsOrRef::Ref(name) => raw
                    .version_sets
                    .get(name.trim_start_matches('@'))
                    .cloned()
                    .ok_or_else(|| format!("unknown version set {name}")),
            }
        };
        let mut providers = Vec::new();
        for p in raw.providers {
            let mut resource_types = Vec::new();
            for t in p.resource_types {
                let api_versions = resolve(t.api_versions)?;
                resource_types.push(ResourceTypeSpec {
                    resource_type: t.resource_type,
                    api_version_set: api_versions
                        .iter()
                        .map(|v| v.to_ascii_lowercase())
                        .collect(),
                    api_versions,
                    locations: resolve(t.locations)?,
                });
            }
            providers.push(ProviderSpec {
                key: p.namespace.to_ascii_lowercase(),
                namespace: p.namespace,
                registration_policy: p.registration_policy,
                resource_types,
            });
        }
        Ok(Catalog {
            locations: raw.locations.clone(),
            providers,
        })
    }

    pub fn provider(&self, namespace: &str) -> Option<&ProviderSpec> {
        self.providers
            .iter()
            // Callers mostly spell it as the catalogue does: one memcmp before the per-byte
            // comparison.
            .find(|p| p.namespace == namespace || p.namespace.eq_ignore_ascii_case(namespace))
    }

    pub fn resource_type(&self, namespace: &str, resource_type: &str) -> Option<&ResourceTypeSpec> {
        self.provider(namespace)?
            .resource_types
            .iter()
            .find(|t| t.resource_type.eq_ignore_ascii_case(resource_type))
    }

    /// A location in its canonical spelling (`East US` and `eastus` are the same place).
    pub fn normalize_location(&self, location: &str) -> Option<String> {
        let squashed: String = location
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        self.locations.iter().find(|l| **l == squashed).cloned()
    }

    pub fn canonical_namespace<'a>(&'a self, namespace: &'a str) -> &'a str {
        self.provider(namespace)
            .map(|p| p.namespace.as_str())
            .unwrap_or(namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_parses_and_normalises_locations() {
        let c = Catalog::embedded();
        assert!(c
            .resource_type("microsoft.containerservice", "managedclusters")
            .is_some());
        assert_eq!(c.normalize_location("East US").as_deref(), Some("eastus"));
        assert_eq!(c.normalize_location("mars"), None);
    }
}
