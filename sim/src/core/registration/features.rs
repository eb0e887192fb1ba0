//! The preview features aksim knows (`data/features.json`, merged with a user file given by
//! `--feature-catalog`): which exist, which need approval, and on which days they can be
//! registered (`registrable`, from `data/aks-timeline.json` unless the entry gives its own;
//! outside those days, and when `retired`, the feature answers `FeatureNotFound`).

use serde::{Deserialize, Serialize};

use crate::core::timeline::{self, Day};
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
    /// The days it can be registered (`since <= d < until`); empty: every day.
    #[serde(default)]
    pub registrable: Vec<Period>,
}

/// `{since, until?}` (days, `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub since: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

impl Period {
    pub fn contains(&self, d: Day) -> bool {
        timeline::parse_day(&self.since).is_some_and(|s| s <= d)
            && self
                .until
                .as_deref()
                .is_none_or(|u| timeline::parse_day(u).is_some_and(|u| d < u))
    }
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

    /// Whether it exists (can be registered, shows in lists) on day `d`.
    pub fn live_on(&self, d: Day) -> bool {
        !self.retired
            && (self.registrable.is_empty() || self.registrable.iter().any(|p| p.contains(d)))
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
        for dated in &timeline::timeline().raw.features {
            let key = feature_key(&dated.namespace, &dated.name);
            if let Some(spec) = catalog.features.iter_mut().find(|f| f.key() == key) {
                if spec.registrable.is_empty() {
                    spec.registrable = dated
                        .registrable
                        .iter()
                        .map(|p| Period {
                            since: p.since.clone(),
                            until: p.until.clone(),
                        })
                        .collect();
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
            for p in &f.registrable {
                let ok = timeline::parse_day(&p.since).is_some()
                    && p.until
                        .as_deref()
                        .is_none_or(|u| timeline::parse_day(u).is_some());
                if !ok {
                    return Err(format!(
                        "invalid feature catalogue entry '{}/{}': registrable days must be \
                         YYYY-MM-DD",
                        f.namespace, f.name
                    ));
                }
            }
        }
        Ok(FeatureCatalog {
            features: raw.features,
        })
    }

    /// A feature live on day `d`, names compared ignoring case.
    pub fn find(&self, namespace: &str, name: &str, d: Day) -> Option<&FeatureSpec> {
        let key = feature_key(namespace, name);
        self.features
            .iter()
            .find(|f| f.live_on(d) && f.key() == key)
    }

    /// Features live on day `d`, optionally of one namespace.
    pub fn live<'a, 'b>(
        &'a self,
        namespace: Option<&'b str>,
        d: Day,
    ) -> impl Iterator<Item = &'a FeatureSpec> + use<'a, 'b> {
        self.features.iter().filter(move |f| {
            f.live_on(d) && namespace.is_none_or(|ns| f.namespace.eq_ignore_ascii_case(ns))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> Day {
        timeline::parse_day(d).unwrap()
    }

    #[test]
    fn embedded_catalogue_parses_and_overlays_merge() {
        let c = FeatureCatalog::load(None).unwrap();
        let seed = day(timeline::SEED_DAY);
        let today = timeline::timeline().newest_day();
        assert!(c
            .find(
                "microsoft.containerservice",
                "azureservicemeshpreview",
                seed
            )
            .is_some());
        assert!(c
            .find(
                "Microsoft.ContainerService",
                "AzureServiceMeshPreview",
                today
            )
            .is_none());
        assert!(c
            .find("Microsoft.ContainerService", "IstioCNIPreview", today)
            .is_some());
        assert!(c
            .find("Microsoft.ContainerService", "IstioCNIPreview", seed)
            .is_none());
        assert!(c
            .find("Microsoft.ContainerService", "StartStopPreview", today)
            .is_none());
        let overlay = r#"{"features":[
            {"namespace":"Microsoft.ContainerService","name":"AzureServiceMeshPreview","retired":true},
            {"namespace":"Microsoft.ContainerService","name":"IstioCNIPreview","registrable":[{"since":"2023-01-01"}]},
            {"namespace":"Microsoft.Contoso","name":"Gadget","approvalType":"ApprovalRequired"}]}"#;
        let c = FeatureCatalog::load(Some(overlay)).unwrap();
        assert!(c
            .find(
                "Microsoft.ContainerService",
                "AzureServiceMeshPreview",
                seed
            )
            .is_none());
        assert!(c
            .find("Microsoft.ContainerService", "IstioCNIPreview", seed)
            .is_some());
        assert_eq!(
            c.find("microsoft.contoso", "gadget", seed)
                .unwrap()
                .approval_type,
            ApprovalType::ApprovalRequired
        );
        assert!(
            FeatureCatalog::load(Some(r#"{"features":[{"namespace":"a b","name":"x"}]}"#)).is_err()
        );
        assert!(FeatureCatalog::load(Some(
            r#"{"features":[{"namespace":"a","name":"x","registrable":[{"since":"soon"}]}]}"#
        ))
        .is_err());
        assert!(FeatureCatalog::load(Some("[]")).is_err());
    }

    #[test]
    fn every_dated_feature_is_in_the_catalogue() {
        let c = FeatureCatalog::load(None).unwrap();
        for f in &timeline::timeline().raw.features {
            let key = feature_key(&f.namespace, &f.name);
            let spec = c.features.iter().find(|s| s.key() == key);
            assert!(spec.is_some_and(|s| !s.registrable.is_empty()), "{key}");
        }
    }
}
