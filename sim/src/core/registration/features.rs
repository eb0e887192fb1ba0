//! The preview features aksim knows (`data/features.json`, merged with a user file given by
//! `--feature-catalog`): which exist, which need approval, which are retired (`FeatureNotFound`).

use serde::Deserialize;

use crate::limits;

const EMBEDDED: &str = include_str!("../../../data/features.json");

/// Whether registering a feature needs someone's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum ApprovalType {
    #[default]
    AutoApproval,
    ApprovalRequired,
}

impl ApprovalType {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalType::AutoApproval => "AutoApproval",
            ApprovalType::ApprovalRequired => "ApprovalRequired",
        }
    }
}

/// One known feature.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureSpec {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub documentation_link: Option<String>,
    #[serde(default)]
    pub approval_type: ApprovalType,
    /// Answers `FeatureNotFound`, as Azure does once a preview flag is removed.
    #[serde(default)]
    pub retired: bool,
}

impl FeatureSpec {
    /// The store key: lower-case `namespace/name`.
    pub fn key(&self) -> String {
        feature_key(&self.namespace, &self.name)
    }

    /// `Namespace/Name` in canonical casing.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The store key of a feature.
pub fn feature_key(namespace: &str, name: &str) -> String {
    format!(
        "{}/{}",
        namespace.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default, rename = "_comment")]
    _comment: Option<String>,
    features: Vec<FeatureSpec>,
}

/// Every feature aksim knows, in catalogue order.
#[derive(Debug, Clone, Default)]
pub struct FeatureCatalog {
    pub features: Vec<FeatureSpec>,
}

impl FeatureCatalog {
    /// The built-in catalogue merged with `overlay` (file text), entry by entry.
    pub fn load(overlay: Option<&str>) -> Result<FeatureCatalog, String> {
        let mut catalog = Self::parse(EMBEDDED).map_err(|e| format!("data/features.json: {e}"))?;
        if let Some(text) = overlay {
            let extra = Self::parse(text)?;
            for spec in extra.features {
                let key = spec.key();
                match catalog.features.iter_mut().find(|f| f.key() == key) {
                    Some(existing) => *existing = spec,
                    None => catalog.features.push(spec),
                }
            }
        }
        if catalog.features.len() > limits::FEATURE_CATALOG_ENTRIES_MAX {
            return Err(format!(
                "the feature catalogue holds more than {} entries",
                limits::FEATURE_CATALOG_ENTRIES_MAX
            ));
        }
        Ok(catalog)
    }

    fn parse(text: &str) -> Result<FeatureCatalog, String> {
        let raw: RawCatalog =
            serde_json::from_str(text).map_err(|e| format!("invalid feature catalogue: {e}"))?;
        for f in &raw.features {
            let bad =
                |s: &str| s.is_empty() || s.contains('/') || s.chars().any(char::is_whitespace);
            if bad(&f.namespace) || bad(&f.name) {
                return Err(format!(
                    "invalid feature catalogue entry '{}/{}': namespace and name must be \
                     non-empty, without '/' or spaces",
                    f.namespace, f.name
                ));
            }
        }
        Ok(FeatureCatalog {
            features: raw.features,
        })
    }

    /// A live (not retired) feature, names compared ignoring case.
    pub fn find(&self, namespace: &str, name: &str) -> Option<&FeatureSpec> {
        let key = feature_key(namespace, name);
        self.features.iter().find(|f| !f.retired && f.key() == key)
    }

    /// Live features, optionally of one namespace.
    pub fn live<'a, 'b>(
        &'a self,
        namespace: Option<&'b str>,
    ) -> impl Iterator<Item = &'a FeatureSpec> + use<'a, 'b> {
        self.features.iter().filter(move |f| {
            !f.retired && namespace.is_none_or(|ns| f.namespace.eq_ignore_ascii_case(ns))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_parses_and_overlays_merge() {
        let c = FeatureCatalog::load(None).unwrap();
        assert!(c
            .find("microsoft.containerservice", "azureservicemeshpreview")
            .is_some());
        assert!(c
            .find("Microsoft.ContainerService", "IstioCNIPreview")
            .is_some());
        assert!(c
            .find("Microsoft.ContainerService", "StartStopPreview")
            .is_none());
        let overlay = r#"{"features":[
            {"namespace":"Microsoft.ContainerService","name":"AzureServiceMeshPreview","retired":true},
            {"namespace":"Microsoft.Contoso","name":"Gadget","approvalType":"ApprovalRequired"}]}"#;
        let c = FeatureCatalog::load(Some(overlay)).unwrap();
        assert!(c
            .find("Microsoft.ContainerService", "AzureServiceMeshPreview")
            .is_none());
        assert_eq!(
            c.find("microsoft.contoso", "gadget").unwrap().approval_type,
            ApprovalType::ApprovalRequired
        );
        assert!(
            FeatureCatalog::load(Some(r#"{"features":[{"namespace":"a b","name":"x"}]}"#)).is_err()
        );
        assert!(FeatureCatalog::load(Some("[]")).is_err());
    }
}
