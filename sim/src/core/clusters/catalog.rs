//! The AKS catalogue: supported Kubernetes versions and Istio add-on revisions, as data.
//!
//! Two catalogues are embedded (`data/aks-catalog/current.json`, the default, and `2023.json`,
//! the era of the project's seed flow); `--mesh-catalog NAME|PATH` picks one or loads a file of
//! the same format, so users can track new revisions without a new aksim. Everything the API
//! says about versions (kubernetesVersions, meshRevisionProfiles, meshUpgradeProfiles, default
//! revision, upgrade targets, compatibility) is computed here from that data.

use serde::{Deserialize, Serialize};

const CURRENT: &str = include_str!("../../../data/aks-catalog/current.json");
const ERA_2023: &str = include_str!("../../../data/aks-catalog/2023.json");

/// Names of the embedded catalogues, for `--mesh-catalog`.
pub const EMBEDDED_NAMES: [&str; 2] = ["current", "2023"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AksCatalog {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kubernetes: KubernetesCatalog,
    pub mesh: MeshCatalog,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubernetesCatalog {
    /// The minor a cluster gets when `kubernetesVersion` is empty, e.g. `"1.33"`.
    pub default: String,
    pub versions: Vec<KubernetesMinor>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubernetesMinor {
    /// `major.minor`.
    pub version: String,
    /// Full versions, oldest first.
    pub patch_versions: Vec<String>,
    /// Available under the `AKSLongTermSupport` plan.
    #[serde(default)]
    pub lts: bool,
    #[serde(default)]
    pub preview: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeshCatalog {
    /// Regions (canonical names) where the add-on is not offered.
    #[serde(default)]
    pub unsupported_regions: Vec<String>,
    /// Oldest first.
    pub revisions: Vec<MeshRevision>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeshRevision {
    /// `asm-<major>-<minor>`.
    pub revision: String,
    #[serde(default)]
    pub released: String,
    /// In support: a valid upgrade target and a candidate for the default revision.
    pub supported: bool,
    /// No new installs (enabling or upgrading to it is refused).
    pub deprecated: bool,
    /// `[{name: KubernetesOfficial|AKSLongTermSupport|kubernetes, versions: ["1.30", ...]}]`.
    pub compatible_with: Vec<Compatibility>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Compatibility {
    pub name: String,
    pub versions: Vec<String>,
}

/// `(major, minor)` of `asm-X-Y`.
pub fn revision_number(revision: &str) -> Option<(u32, u32)> {
    let rest = revision.strip_prefix("asm-")?;
    let (major, minor) = rest.split_once('-')?;
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(major) || !all_digits(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `(major, minor)` of `1.33` or `1.33.2`.
pub fn minor_of(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

impl AksCatalog {
    pub fn embedded(name: &str) -> Option<AksCatalog> {
        let text = match name {
            "current" => CURRENT,
            "2023" => ERA_2023,
            _ => return None,
        };
        Some(Self::parse(text).expect("embedded AKS catalogue is valid"))
    }

    /// `--mesh-catalog`: an embedded name, or a path to a JSON file of the same format.
    pub fn load(spec: Option<&str>) -> Result<AksCatalog, String> {
        let spec = spec
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("current");
        if let Some(catalog) = Self::embedded(spec) {
            return Ok(catalog);
        }
        let text = std::fs::read_to_string(spec).map_err(|e| {
            format!(
                "--mesh-catalog '{spec}' is neither an embedded catalogue ({}) nor a readable \
                 file: {e}",
                EMBEDDED_NAMES.join(", ")
            )
        })?;
        Self::parse(&text).map_err(|e| format!("--mesh-catalog '{spec}': {e}"))
    }

    /// Parses and checks a catalogue: names well formed, revisions sorted, default present.
    pub fn parse(text: &str) -> Result<AksCatalog, String> {
        let catalog: AksCatalog = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if catalog.kubernetes.versions.is_empty() {
            return Err("kubernetes.versions is empty".into());
        }
        for v in &catalog.kubernetes.versions {
            if minor_of(&v.version).is_none() || v.patch_versions.is_empty() {
                return Err(format!("kubernetes version '{}' is malformed", v.version));
            }
        }
        if catalog.minor(&catalog.kubernetes.default).is_none() {
            return Err(format!(
                "kubernetes.default '{}' is not in kubernetes.versions",
                catalog.kubernetes.default
            ));
        }
        let mut previous = None;
        for r in &catalog.mesh.revisions {
            let number = revision_number(&r.revision)
                .ok_or_else(|| format!("revision '{}' is not asm-X-Y", r.revision))?;
            if previous.is_some_and(|p| p >= number) {
                return Err(
                    "mesh.revisions must be sorted oldest first, without duplicates".into(),
                );
            }
            previous = Some(number);
        }
        Ok(catalog)
    }

    pub fn minor(&self, version: &str) -> Option<&KubernetesMinor> {
        self.kubernetes
            .versions
            .iter()
            .find(|v| v.version == version)
    }

    /// Resolves a requested `kubernetesVersion` (`1.33` or `1.33.5`) to `(minor, full patch)`;
    /// `None` when the catalogue does not offer it.
    pub fn resolve_kubernetes(&self, requested: &str) -> Option<(String, String)> {
        let (major, minor) = minor_of(requested)?;
        let key = format!("{major}.{minor}");
        let entry = self.minor(&key)?;
        let dots = requested.matches('.').count();
        if dots == 1 {
            return Some((requested.to_owned(), entry.patch_versions.last()?.clone()));
        }
        entry
            .patch_versions
            .iter()
            .find(|p| *p == requested)
            .map(|p| (requested.to_owned(), p.clone()))
    }

    pub fn revision(&self, name: &str) -> Option<&MeshRevision> {
        self.mesh
            .revisions
            .iter()
            .find(|r| r.revision.eq_ignore_ascii_case(name))
    }

    /// Revisions the location lists (every revision that still accepts installs).
    pub fn listed_revisions(&self) -> impl Iterator<Item = &MeshRevision> {
        self.mesh.revisions.iter().filter(|r| !r.deprecated)
    }

    /// Whether `revision` runs on Kubernetes `minor` (`1.33`) under `support_plan`.
    pub fn is_compatible(&self, revision: &str, minor: &str, support_plan: &str) -> bool {
        let Some(r) = self.revision(revision) else {
            return false;
        };
        compat_list(r, support_plan).is_some_and(|c| c.versions.iter().any(|v| v == minor))
    }

    /// Allowed upgrade targets of `revision` (`../shared/reference/ARM-CONTRACT.md` §5.6): `n+1` and `n+2` among the
    /// supported revisions; when neither is supported, the lowest supported revision above it.
    pub fn upgrade_targets(&self, revision: &str) -> Vec<String> {
        let revisions = &self.mesh.revisions;
        let Some(index) = revisions
            .iter()
            .position(|r| r.revision.eq_ignore_ascii_case(revision))
        else {
            return Vec::new();
        };
        let next: Vec<String> = revisions
            .iter()
            .skip(index + 1)
            .take(2)
            .filter(|r| r.supported && !r.deprecated)
            .map(|r| r.revision.clone())
            .collect();
        if !next.is_empty() {
            return next;
        }
        revisions
            .iter()
            .skip(index + 1)
            .find(|r| r.supported && !r.deprecated)
            .map(|r| vec![r.revision.clone()])
            .unwrap_or_default()
    }

    /// The revision AKS installs when none is requested: n-1 of the supported revisions that
    /// run on the cluster's Kubernetes minor (the newest when only one qualifies).
    pub fn default_revision(&self, minor: &str, support_plan: &str) -> Option<String> {
        let candidates: Vec<&MeshRevision> = self
            .mesh
            .revisions
            .iter()
            .filter(|r| r.supported && !r.deprecated)
            .filter(|r| self.is_compatible(&r.revision, minor, support_plan))
            .collect();
        let pick = match candidates.len() {
            0 => return None,
            1 => candidates[0],
            n => candidates[n - 2],
        };
        Some(pick.revision.clone())
    }

    pub fn region_supported(&self, location: &str) -> bool {
        !self
            .mesh
            .unsupported_regions
            .iter()
            .any(|r| r.eq_ignore_ascii_case(location))
    }
}

/// The compatibility list that applies to a support plan; catalogues of the 2023 era carry a
/// single legacy `kubernetes` list for every plan.
pub fn compat_list<'a>(
    revision: &'a MeshRevision,
    support_plan: &str,
) -> Option<&'a Compatibility> {
    revision
        .compatible_with
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(support_plan))
        .or_else(|| {
            revision
                .compatible_with
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case("kubernetes"))
        })
}

/// The AKS catalogues of sandbox subscriptions (subscription id → catalogue). Subscriptions
/// without one use the server's (`--mesh-catalog`).
#[derive(Default)]
pub struct SandboxCatalogs(
    parking_lot::RwLock<std::collections::HashMap<String, std::sync::Arc<AksCatalog>>>,
);

impl SandboxCatalogs {
    pub fn get(&self, sub: &str) -> Option<std::sync::Arc<AksCatalog>> {
        let map = self.0.read();
        if map.is_empty() {
            return None;
        }
        map.get(sub).cloned()
    }
    pub fn set(&self, sub: &str, catalog: std::sync::Arc<AksCatalog>) {
        self.0.write().insert(sub.to_owned(), catalog);
    }
    pub fn remove(&self, sub: &str) -> bool {
        self.0.write().remove(sub).is_some()
    }
    pub fn clear(&self) {
        self.0.write().clear();
    }
    /// Every (subscription, catalogue), sorted by subscription.
    pub fn all(&self) -> std::collections::BTreeMap<String, std::sync::Arc<AksCatalog>> {
        self.0
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogues_parse_and_pick_defaults() {
        let current = AksCatalog::embedded("current").unwrap();
        assert_eq!(current.kubernetes.default, "1.33");
        assert_eq!(
            current
                .default_revision("1.33", "KubernetesOfficial")
                .as_deref(),
            Some("asm-1-29")
        );
        assert_eq!(
            current.upgrade_targets("asm-1-28"),
            ["asm-1-29", "asm-1-30"]
        );
        assert_eq!(
            current.upgrade_targets("asm-1-27"),
            ["asm-1-28", "asm-1-29"]
        );
        assert_eq!(current.upgrade_targets("asm-1-17"), ["asm-1-28"]);
        assert!(current.upgrade_targets("asm-1-30").is_empty());
        let old = AksCatalog::embedded("2023").unwrap();
        assert_eq!(
            old.default_revision("1.27", "KubernetesOfficial")
                .as_deref(),
            Some("asm-1-17")
        );
        assert_eq!(old.upgrade_targets("asm-1-17"), ["asm-1-18"]);
        assert!(old.is_compatible("asm-1-17", "1.27", "AKSLongTermSupport"));
    }

    #[test]
    fn versions_resolve_and_bad_files_are_refused() {
        let c = AksCatalog::embedded("current").unwrap();
        assert_eq!(
            c.resolve_kubernetes("1.33"),
            Some(("1.33".into(), "1.33.5".into()))
        );
        assert_eq!(
            c.resolve_kubernetes("1.33.3"),
            Some(("1.33.3".into(), "1.33.3".into()))
        );
        assert_eq!(c.resolve_kubernetes("1.33.4"), None);
        assert_eq!(c.resolve_kubernetes("1.20"), None);
        assert!(AksCatalog::parse("{}").is_err());
        assert!(AksCatalog::load(Some("/nonexistent/catalog.json")).is_err());
        assert_eq!(revision_number("asm-1-30"), Some((1, 30)));
        assert_eq!(revision_number("1-18"), None);
    }
}
