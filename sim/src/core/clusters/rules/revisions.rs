//! The mesh's rules about its mode, its revisions and the Kubernetes versions they run on.

use super::*;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "mesh.mode.required",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "tsg istio-add-on-general-troubleshooting (text)",
        aksim_text: false,
        description: "serviceMeshProfile needs a mode",
        check: |i| match i.new.mesh {
            Some(m) if m.mode.as_deref().is_none_or(str::is_empty) => Err(bad(format!(
                "Missing service mesh mode: {}",
                m.mode.as_deref().unwrap_or("")
            ))),
            _ => Ok(()),
        },
    },
    Rule {
        id: "mesh.mode.valid",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "spec enum ServiceMeshMode (text chosen by aksim)",
        aksim_text: true,
        description: "mode is Istio or Disabled",
        check: |i| match i.new.mesh.and_then(|m| m.mode.as_deref()) {
            Some(mode)
                if !mode.eq_ignore_ascii_case("istio")
                    && !mode.eq_ignore_ascii_case("disabled") =>
            {
                Err(bad(format!(
                    "Invalid service mesh mode: {mode}. Allowed values are 'Istio' and 'Disabled'."
                )))
            }
            _ => Ok(()),
        },
    },
    Rule {
        id: "mesh.region.supported",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "tsg (text); --mesh-catalog mesh.unsupportedRegions",
        aksim_text: false,
        description: "the add-on is offered in the cluster's region",
        check: |i| {
            if i.new.istio().is_some() && !i.catalog.region_supported(i.new.location) {
                return Err(bad("Azure service mesh is not supported in this region"));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.istio.required",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "tsg (text)",
        aksim_text: false,
        description: "mode Istio needs an istio object",
        check: |i| match i.new.istio() {
            Some(m) if m.istio.is_none() => Err(bad(
                "Istio profile is missing even though Service Mesh mode is Istio",
            )),
            _ => Ok(()),
        },
    },
    Rule {
        id: "mesh.kubernetes.minimum",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "docs istio-deploy-addon (rule); text chosen by aksim",
        aksim_text: true,
        description: "the add-on needs Kubernetes 1.23 or later",
        check: |i| match (i.new.istio(), minor_of(i.new.kubernetes_version)) {
            (Some(_), Some(minor)) if minor < MESH_KUBERNETES_MIN => Err(bad(format!(
                "Azure service mesh requires Kubernetes version {}.{} or later. The cluster \
                 version is {}.",
                MESH_KUBERNETES_MIN.0, MESH_KUBERNETES_MIN.1, i.new.kubernetes_version
            ))),
            _ => Ok(()),
        },
    },
    Rule {
        id: "mesh.osm.conflict",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "tsg (text); docs istio-about limitations",
        aksim_text: false,
        description: "the Open Service Mesh add-on and the Istio add-on exclude each other",
        check: |i| {
            if i.new.istio().is_some() && i.new.addon_enabled("openServiceMesh") {
                return Err(bad(
                    "Istio based Azure service mesh is incompatible with feature openServiceMesh",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.selfManagedIstio.conflict",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "docs istio-about limitations; text chosen by aksim",
        aksim_text: true,
        description: "enabling is refused while a self-managed Istio runs in the cluster",
        check: |i| {
            if i.enabling() && i.self_managed_istio {
                return Err(bad(
                    "Istio based Azure service mesh is incompatible with an Istio installation \
                     that is not managed by the add-on. Remove the existing Istio (its CRDs, \
                     istiod and webhooks) before enabling the add-on.",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.revisions.notEmpty",
        since: REVISIONS_FIRST_DAY,
        until: None,
        source: "tsg (text)",
        aksim_text: false,
        description: "no revision may be an empty string",
        check: |i| {
            if i.new_revisions().iter().any(|r| r.trim().is_empty()) {
                return Err(bad("ServiceMeshProfile revision field must not be empty"));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.revisions.max",
        since: REVISIONS_FIRST_DAY,
        until: None,
        source: "tsg (text); spec docstring (2)",
        aksim_text: false,
        description: "at most two revisions (during a canary upgrade)",
        check: |i| {
            if i.new_revisions().len() > MESH_REVISIONS_MAX {
                return Err(bad(format!(
                    "Request exceeds maximum allowed number of revisions ({MESH_REVISIONS_MAX})"
                )));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.revisions.known",
        since: REVISIONS_FIRST_DAY,
        until: None,
        source: "MicrosoftDocs/azure-docs #120606 (text, BadRequest)",
        aksim_text: false,
        description: "a newly requested revision exists and is not deprecated",
        check: |i| {
            for r in i.added_revisions() {
                let ok = revision_number(r).is_some()
                    && i.catalog.revision(r).is_some_and(|rev| !rev.deprecated);
                if !ok {
                    return Err(not_allowed(&format!(
                        "Revision {r} is not supported by the service mesh add-on."
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.revisions.distinct",
        since: REVISIONS_FIRST_DAY,
        until: None,
        source: "spec (revisions are distinct); text chosen by aksim",
        aksim_text: true,
        description: "a revision is listed once",
        check: |i| {
            let revs = i.new_revisions();
            for (n, r) in revs.iter().enumerate() {
                if revs[..n].iter().any(|o| o.eq_ignore_ascii_case(r)) {
                    return Err(not_allowed(&format!(
                        "Revision {r} is listed more than once."
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.revisions.noDowngrade",
        since: REVISIONS_FIRST_DAY,
        until: None,
        source: "tsg istio-add-on-minor-revision-upgrade (rule); text chosen by aksim",
        aksim_text: true,
        description: "a new revision is never older than an installed one",
        check: |i| {
            let Some(oldest) = i.old_revisions().iter().map(|r| revision_key(r)).min() else {
                return Ok(());
            };
            let newest_old = i.old_revisions().iter().max_by_key(|r| revision_key(r));
            for r in i.added_revisions() {
                if revision_key(r) < oldest {
                    return Err(not_allowed(&format!(
                        "Downgrading the service mesh from revision {} to {r} is not supported.",
                        newest_old.map_or("", String::as_str)
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.revisions.upgradePath",
        since: REVISIONS_FIRST_DAY,
        until: None,
        source: "tsg istio-add-on-minor-revision-upgrade (rule); texts chosen by aksim",
        aksim_text: true,
        description: "revisions change only by canary start (old + allowed target), complete or \
                      rollback; enabling installs one revision",
        check: |i| {
            let new = i.new_revisions();
            if i.new.istio().is_none() {
                return Ok(());
            }
            let old = i.old_revisions();
            if old.is_empty() {
                if new.len() > 1 {
                    return Err(not_allowed(
                        "Only one revision can be installed when enabling the service mesh \
                         add-on.",
                    ));
                }
                return Ok(());
            }
            let same = |a: &[String], b: &[String]| {
                a.len() == b.len()
                    && a.iter()
                        .all(|x| b.iter().any(|y| y.eq_ignore_ascii_case(x)))
            };
            if same(old, new) {
                return Ok(());
            }
            if old.len() == 1 {
                let current = &old[0];
                let target = i.added_revisions().next().cloned().unwrap_or_default();
                let keeps_current = new.iter().any(|r| r.eq_ignore_ascii_case(current));
                if !keeps_current {
                    return Err(not_allowed(&format!(
                        "Revision {current} can only be replaced through a canary upgrade: add \
                         {target} alongside it, then complete or roll back the upgrade."
                    )));
                }
                let targets = i.catalog.upgrade_targets(current);
                if !targets.iter().any(|t| t.eq_ignore_ascii_case(&target)) {
                    let list = if targets.is_empty() {
                        "none".to_owned()
                    } else {
                        targets.join(", ")
                    };
                    return Err(not_allowed(&format!(
                        "Revision {target} is not a valid upgrade target for revision {current}. \
                         Valid upgrade targets: {list}. To find information about valid \
                         upgrades, use 'az aks mesh get-upgrades'."
                    )));
                }
                return Ok(());
            }
            let keeps_one = new.len() == 1 && old.iter().any(|o| o.eq_ignore_ascii_case(&new[0]));
            if keeps_one {
                return Ok(());
            }
            let mut sorted: Vec<&String> = old.iter().collect();
            sorted.sort_by_key(|r| revision_key(r));
            let (from, to) = (sorted[0], sorted[sorted.len() - 1]);
            Err(not_allowed(&format!(
                "An upgrade from {from} to {to} is in progress. Complete it (keep {to}) or roll \
                 it back (keep {from}) before requesting other revisions."
            )))
        },
    },
    Rule {
        id: "mesh.revisions.compatible",
        since: REVISIONS_FIRST_DAY,
        until: None,
        source: "tsg (text); data/aks-timeline.json compatibility",
        aksim_text: false,
        description: "a newly requested revision runs on the cluster's Kubernetes minor",
        check: |i| {
            let minor = i.new.minor();
            for r in i.added_revisions() {
                if !i.catalog.is_compatible(r, &minor, i.new.support_plan) {
                    return Err(bad(format!(
                        "Service mesh revision {r} is not compatible with cluster version \
                         {minor}. To find information about mesh-cluster compatibility, use 'az \
                         aks mesh get-upgrades'"
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.kubernetes.supported",
        since: REVISIONS_FIRST_DAY,
        until: None,
        source: "tsg (text)",
        aksim_text: false,
        description: "enabling without a revision needs a supported revision for the cluster's \
                      Kubernetes minor",
        check: |i| {
            if i.new.istio().is_some() && i.new_revisions().is_empty() {
                return Err(bad(format!(
                    "Kubernetes version {} not supported. Please upgrade to a supported cluster \
                     version first. To find compatibility information, use 'az aks mesh \
                     get-upgrades'",
                    i.new.minor()
                )));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.revisions.compatibleOnEveryPut",
        since: ADDON_FIRST_DAY,
        until: Some("2024-04-28"),
        source: "AKS release 2024-04-28 (the check before it: every PUT); tsg (text)",
        aksim_text: false,
        description: "every PUT of a meshed cluster checks each installed revision against the \
                      cluster's Kubernetes minor",
        check: |i| {
            if i.new.istio().is_none() {
                return Ok(());
            }
            let minor = i.new.minor();
            for r in i.new_revisions() {
                if !i.catalog.is_compatible(r, &minor, i.new.support_plan) {
                    return Err(incompatible(r, &minor));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.kubernetesUpgrade.compatible",
        since: ADDON_FIRST_DAY,
        until: Some("2025-03-16"),
        source: "tsg istio-add-on-minor-revision-upgrade (rule, text); AKS release 2025-03-16 \
                 ends it",
        aksim_text: false,
        description: "a Kubernetes minor change is refused while an installed revision does not \
                      run on the new minor",
        check: |i| {
            let (Some(old), Some(_)) = (&i.old, i.new.istio()) else {
                return Ok(());
            };
            let new_minor = i.new.minor();
            if old.minor() == new_minor {
                return Ok(());
            }
            for r in kept_revisions(i) {
                if !i.catalog.is_compatible(r, &new_minor, i.new.support_plan) {
                    return Err(incompatible(r, &full_version(i)));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.kubernetesUpgrade.blockedByRevision",
        since: "2025-03-16",
        until: None,
        source: "AKS release 2025-03-16 ('regardless of the compatibility with the current mesh \
                 revision, allowing to recover'); Azure/ARO-HCP #5156 (2026-05, a compatible \
                 pair still refused); tsg (text)",
        aksim_text: false,
        description: "a Kubernetes minor change from a compatible (revision, minor) pair to an \
                      incompatible one is refused; from an incompatible pair it is allowed \
                      (recovery)",
        check: |i| {
            let (Some(old), Some(_)) = (&i.old, i.new.istio()) else {
                return Ok(());
            };
            let (old_minor, new_minor) = (old.minor(), i.new.minor());
            if old_minor == new_minor {
                return Ok(());
            }
            for r in kept_revisions(i) {
                let was = i.catalog.is_compatible(r, &old_minor, old.support_plan);
                let will = i.catalog.is_compatible(r, &new_minor, i.new.support_plan);
                if was && !will {
                    return Err(incompatible(r, &full_version(i)));
                }
            }
            Ok(())
        },
    },
];

/// Installed revisions the request keeps.
fn kept_revisions<'a>(i: &'a RuleInput) -> impl Iterator<Item = &'a String> {
    i.old_revisions()
        .iter()
        .filter(move |r| i.new_revisions().iter().any(|n| n.eq_ignore_ascii_case(r)))
}

/// The Kubernetes version a PUT asks for, as the full patch it resolves to (AKS names the patch
/// in its compatibility error: "... not compatible with cluster version 1.35.1").
fn full_version(i: &RuleInput) -> String {
    i.catalog
        .resolve_kubernetes(i.new.kubernetes_version)
        .map(|(_, patch)| patch)
        .unwrap_or_else(|| i.new.kubernetes_version.to_owned())
}

/// The troubleshooting guide's compatibility error.
fn incompatible(revision: &str, minor: &str) -> Error {
    bad(format!(
        "Service mesh revision {revision} is not compatible with cluster version {minor}. To \
         find information about mesh-cluster compatibility, use 'az aks mesh get-upgrades'"
    ))
}
