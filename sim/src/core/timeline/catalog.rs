//! The AKS catalogue of one day: the Kubernetes versions offered, the Istio add-on's revisions
//! (released, deprecated, listed, their compatibility and upgrade targets) and the default
//! revision. [`from_timeline`] resolves it from `data/aks-timeline.json`; `--mesh-catalog FILE`
//! (and a sandbox's `meshCatalog`) loads one of the same format instead, so users can track
//! revisions newer than their aksim. Everything the API says about versions
//! (kubernetesVersions, meshRevisionProfiles, meshUpgradeProfiles, the default revision,
//! upgrade targets, compatibility) is computed here.

use serde::{Deserialize, Serialize};

use super::raw::Raw;
use super::{day, in_force, latest, Day};

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
    /// Patches offered but never picked for a request of the minor alone (a regressed patch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_default_patches: Vec<String>,
    /// Available under the `KubernetesOfficial` plan (community support); `false` for an
    /// LTS-only minor.
    #[serde(default = "yes")]
    pub official: bool,
    /// Available under the `AKSLongTermSupport` plan.
    #[serde(default)]
    pub lts: bool,
    #[serde(default)]
    pub preview: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeshCatalog {
    /// Regions (canonical names) where the add-on is not offered.
    #[serde(default)]
    pub unsupported_regions: Vec<String>,
    /// The revision installed when none is asked for (when it runs on the cluster's Kubernetes
    /// minor; otherwise the n-1 rule picks among those that do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_revision: Option<String>,
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
    /// Listed by `meshRevisionProfiles` (default: when not deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed: Option<bool>,
    /// The upgrade targets AKS offers (default: computed, see [`AksCatalog::upgrade_targets`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrades: Option<Vec<String>>,
    /// `[{name: KubernetesOfficial|AKSLongTermSupport|kubernetes, versions: ["1.30", ...]}]`;
    /// versions are minors, or full patch versions (the 2023-2024 answers).
    pub compatible_with: Vec<Compatibility>,
}

impl MeshRevision {
    pub fn is_listed(&self) -> bool {
        self.listed.unwrap_or(!self.deprecated)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Compatibility {
    pub name: String,
    /// Absent in AKS's answer when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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
    /// `--mesh-catalog FILE`: a JSON file of this format.
    pub fn load_file(path: &str) -> Result<AksCatalog, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--mesh-catalog '{path}' is not a readable file: {e}"))?;
        Self::parse(&text).map_err(|e| format!("--mesh-catalog '{path}': {e}"))
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
        if let Some(d) = &catalog.mesh.default_revision {
            if catalog.revision(d).is_none() {
                return Err(format!(
                    "mesh.defaultRevision '{d}' is not in mesh.revisions"
                ));
            }
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
            let patch = entry
                .patch_versions
                .iter()
                .rev()
                .find(|p| !entry.not_default_patches.contains(p))
                .or(entry.patch_versions.last())?;
            return Some((requested.to_owned(), patch.clone()));
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

    /// Revisions the location lists.
    pub fn listed_revisions(&self) -> impl Iterator<Item = &MeshRevision> {
        self.mesh.revisions.iter().filter(|r| r.is_listed())
    }

    /// Whether `revision` runs on Kubernetes `minor` (`1.33`) under `support_plan`.
    pub fn is_compatible(&self, revision: &str, minor: &str, support_plan: &str) -> bool {
        let Some(r) = self.revision(revision) else {
            return false;
        };
        let wanted = minor_of(minor);
        compat_list(r, support_plan).is_some_and(|c| {
            c.versions
                .iter()
                .any(|v| v == minor || (wanted.is_some() && minor_of(v) == wanted))
        })
    }

    /// Allowed upgrade targets of `revision`: the catalogue's own list, else
    /// (`../shared/reference/ARM-CONTRACT.md` §5.6) `n+1` and `n+2` among the supported
    /// revisions; when neither is supported, the lowest supported revision above it.
    pub fn upgrade_targets(&self, revision: &str) -> Vec<String> {
        let revisions = &self.mesh.revisions;
        let Some(index) = revisions
            .iter()
            .position(|r| r.revision.eq_ignore_ascii_case(revision))
        else {
            return Vec::new();
        };
        if let Some(targets) = &revisions[index].upgrades {
            return targets.clone();
        }
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

    /// The revision AKS installs when none is requested: the catalogue's default when it runs
    /// on the cluster's Kubernetes minor, else n-1 of the supported revisions that do (the
    /// newest when only one qualifies).
    pub fn default_revision(&self, minor: &str, support_plan: &str) -> Option<String> {
        if let Some(d) = &self.mesh.default_revision {
            let usable = self.revision(d).is_some_and(|r| !r.deprecated);
            if usable && self.is_compatible(d, minor, support_plan) {
                return Some(d.clone());
            }
        }
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

/// The catalogue in force on `d`.
pub fn from_timeline(raw: &Raw, d: Day) -> AksCatalog {
    let mut versions = Vec::new();
    for m in &raw.kubernetes.minors {
        let plan = |name: &str| {
            m.plans
                .iter()
                .any(|p| p.plan == name && in_force(&p.since, p.until.as_deref(), d))
        };
        let preview = m.preview.as_deref().is_some_and(|p| day(p) <= d)
            && m.ga.as_deref().is_none_or(|ga| d < day(ga));
        let (official, lts) = (
            plan("KubernetesOfficial") || preview,
            plan("AKSLongTermSupport"),
        );
        let patch_versions: Vec<String> = m
            .patch_timeline
            .iter()
            .filter(|p| in_force(&p.since, p.until.as_deref(), d))
            .map(|p| p.version.clone())
            .collect();
        let not_default_patches = m
            .patch_timeline
            .iter()
            .filter(|p| !p.default_eligible && patch_versions.contains(&p.version))
            .map(|p| p.version.clone())
            .collect();
        if (official || lts) && !patch_versions.is_empty() {
            versions.push(KubernetesMinor {
                version: m.minor.clone(),
                patch_versions,
                not_default_patches,
                official,
                lts,
                preview,
            });
        }
    }
    let default = latest(&raw.kubernetes.default, |x| &x.since, d)
        .map(|x| x.minor.clone())
        .filter(|m| versions.iter().any(|v| &v.version == m))
        .or_else(|| {
            versions
                .iter()
                .rev()
                .find(|v| v.official && !v.preview)
                .map(|v| v.version.clone())
        })
        .unwrap_or_default();
    let revisions: Vec<MeshRevision> = raw
        .mesh_revisions
        .iter()
        .filter(|r| day(&r.released) <= d)
        .map(|r| {
            let reached = |x: &Option<String>| x.as_deref().is_some_and(|x| day(x) <= d);
            let deprecated = reached(&r.deprecated);
            MeshRevision {
                revision: r.revision.clone(),
                released: r.released.clone(),
                supported: !deprecated && !reached(&r.end_of_life),
                deprecated,
                listed: Some(
                    r.listed_in_mesh_revision_profiles
                        .iter()
                        .any(|p| in_force(&p.since, p.until.as_deref(), d)),
                ),
                upgrades: latest(&r.upgrades, |u| &u.since, d).map(|u| u.targets.clone()),
                compatible_with: latest(&r.compatibility, |c| &c.since, d)
                    .map(|c| {
                        c.compatible_with
                            .iter()
                            .map(|w| Compatibility {
                                name: w.name.clone(),
                                versions: w.versions.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    let default_revision = latest(&raw.resolved_default_revision, |x| &x.since, d)
        .map(|x| x.revision.clone())
        .filter(|r| revisions.iter().any(|x| &x.revision == r));
    AksCatalog {
        name: super::day_string(d),
        description: format!(
            "AKS as of {} (data/aks-timeline.json)",
            super::day_string(d)
        ),
        kubernetes: KubernetesCatalog { default, versions },
        mesh: MeshCatalog {
            unsupported_regions: Vec::new(),
            default_revision,
            revisions,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_day, timeline};
    use super::*;

    fn at(d: &str) -> AksCatalog {
        from_timeline(&timeline().raw, parse_day(d).unwrap())
    }

    #[test]
    fn today_and_the_seed_day_pick_their_defaults() {
        let today = at("2026-12-07");
        assert_eq!(today.kubernetes.default, "1.36");
        assert_eq!(
            today
                .default_revision("1.36", "KubernetesOfficial")
                .as_deref(),
            Some("asm-1-29")
        );
        assert!(today.revision("asm-1-27").unwrap().deprecated);
        assert!(today.is_compatible("asm-1-30", "1.36", "KubernetesOfficial"));
        assert!(!today.minor("1.33").unwrap().official);
        assert!(today.minor("1.33").unwrap().lts);
        let seed = at("2023-12-01");
        assert_eq!(seed.kubernetes.default, "1.27");
        assert_eq!(
            seed.default_revision("1.27", "KubernetesOfficial")
                .as_deref(),
            Some("asm-1-17")
        );
        assert_eq!(seed.upgrade_targets("asm-1-17"), ["asm-1-18"]);
        assert!(seed.is_compatible("asm-1-17", "1.26", "KubernetesOfficial"));
        assert!(seed.is_compatible("asm-1-17", "1.26.6", "AKSLongTermSupport"));
    }

    #[test]
    fn versions_resolve_and_bad_files_are_refused() {
        let c = at("2026-12-07");
        let newest = c
            .minor("1.36")
            .unwrap()
            .patch_versions
            .last()
            .unwrap()
            .clone();
        assert_eq!(
            c.resolve_kubernetes("1.36"),
            Some(("1.36".into(), newest.clone()))
        );
        assert_eq!(
            c.resolve_kubernetes(&newest),
            Some((newest.clone(), newest))
        );
        assert_eq!(c.resolve_kubernetes("1.36.99"), None);
        assert_eq!(c.resolve_kubernetes("1.20"), None);
        assert!(AksCatalog::parse("{}").is_err());
        assert!(AksCatalog::load_file("/nonexistent/catalog.json").is_err());
        assert_eq!(revision_number("asm-1-30"), Some((1, 30)));
        assert_eq!(revision_number("1-18"), None);
        let text = serde_json::to_string(&c).unwrap();
        let back = AksCatalog::parse(&text).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&c).unwrap()
        );
    }
}
