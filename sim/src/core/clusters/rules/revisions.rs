//! The mesh's rules about its mode, its revisions and the Kubernetes versions they run on.

use super::*;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "mesh.mode.required",
        source: "tsg istio-add-on-general-troubleshooting (text)",
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
        source: "spec enum ServiceMeshMode (text chosen by aksim)",
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
        source: "tsg (text); data/aks-catalog mesh.unsupportedRegions",
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
        source: "tsg (text)",
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
        source: "docs istio-deploy-addon (rule); text chosen by aksim",
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
        source: "tsg (text); docs istio-about limitations",
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
        source: "docs istio-about limitations; text chosen by aksim",
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
        source: "tsg (text)",
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
        source: "tsg (text); spec docstring (2)",
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
        source: "MicrosoftDocs/azure-docs #120606 (text, BadRequest)",
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
        source: "spec (revisions are distinct); text chosen by aksim",
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
        source: "tsg istio-add-on-minor-revision-upgrade (rule); text chosen by aksim",
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
        source: "tsg istio-add-on-minor-revision-upgrade (rule); texts chosen by aksim",
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
        source: "tsg (text); data/aks-catalog compatibleWith",
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
        source: "tsg (text)",
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
        id: "mesh.kubernetesUpgrade.blockedByRevision",
        source: "tsg istio-add-on-minor-revision-upgrade (rule); text chosen by aksim",
        description: "a Kubernetes minor change is refused while an installed revision does not \
                      support the new minor (unless both are out of support)",
        check: |i| {
            let (Some(old), Some(_)) = (&i.old, i.new.istio()) else {
                return Ok(());
            };
            let (old_minor, new_minor) = (old.minor(), i.new.minor());
            if old_minor == new_minor {
                return Ok(());
            }
            let old_k8s_supported = i.catalog.minor(&old_minor).is_some();
            for r in i.old_revisions() {
                let kept = i.new_revisions().iter().any(|n| n.eq_ignore_ascii_case(r));
                if !kept || i.catalog.is_compatible(r, &new_minor, i.new.support_plan) {
                    continue;
                }
                let revision_supported = i.catalog.revision(r).is_some_and(|x| x.supported);
                if !old_k8s_supported && !revision_supported {
                    continue;
                }
                return Err(bad(format!(
                    "Upgrading Kubernetes to version {} is not allowed: service mesh revision {r} \
                     is not compatible with it. Upgrade the service mesh revision first. To find \
                     information about mesh-cluster compatibility, use 'az aks mesh get-upgrades'",
                    i.new.kubernetes_version
                )));
            }
            Ok(())
        },
    },
];
