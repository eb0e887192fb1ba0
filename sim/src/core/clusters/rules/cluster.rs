//! The cluster's own rules: what may not change after create, and the Kubernetes version.

use super::*;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "cluster.location.immutable",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "../shared/reference/ARM-CONTRACT.md §5.2",
        aksim_text: false,
        description: "location cannot change after create",
        check: |i| match &i.old {
            Some(o) if changed(Some(o.location), Some(i.new.location), true) => {
                Err(immutable("location"))
            }
            _ => Ok(()),
        },
    },
    Rule {
        id: "cluster.dnsPrefix.immutable",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "../shared/reference/ARM-CONTRACT.md §5.2",
        aksim_text: false,
        description: "dnsPrefix cannot change after create",
        check: |i| match &i.old {
            Some(o) if changed(o.dns_prefix, i.new.dns_prefix, false) => {
                Err(immutable("dnsPrefix"))
            }
            _ => Ok(()),
        },
    },
    Rule {
        id: "cluster.fqdnSubdomain.immutable",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "../shared/reference/ARM-CONTRACT.md §5.2",
        aksim_text: false,
        description: "fqdnSubdomain cannot change after create",
        check: |i| match &i.old {
            Some(o) if changed(o.fqdn_subdomain, i.new.fqdn_subdomain, false) => {
                Err(immutable("fqdnSubdomain"))
            }
            _ => Ok(()),
        },
    },
    Rule {
        id: "cluster.nodeResourceGroup.immutable",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "../shared/reference/ARM-CONTRACT.md §5.2",
        aksim_text: false,
        description: "nodeResourceGroup cannot change after create",
        check: |i| match &i.old {
            Some(o) if changed(o.node_resource_group, i.new.node_resource_group, true) => {
                Err(immutable("nodeResourceGroup"))
            }
            _ => Ok(()),
        },
    },
    Rule {
        id: "cluster.kubernetesVersion.supported",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "AKS AgentPoolK8sVersionNotSupported (issues); data/aks-timeline.json",
        aksim_text: false,
        description: "a new or changed kubernetesVersion must be in the catalogue",
        check: |i| {
            let unchanged = i
                .old
                .as_ref()
                .is_some_and(|o| o.kubernetes_version == i.new.kubernetes_version);
            if unchanged
                || i.catalog
                    .resolve_kubernetes(i.new.kubernetes_version)
                    .is_some()
            {
                return Ok(());
            }
            Err(Error::new(
                ErrorKind::BadRequest,
                "AgentPoolK8sVersionNotSupported",
                format!(
                    "Version {} is not supported in this region. Please use [az aks get-versions] \
                     command to get the supported version list in this region. For more \
                     information, please check https://aka.ms/supported-version-list",
                    i.new.kubernetes_version
                ),
            ))
        },
    },
    Rule {
        id: "cluster.kubernetesVersion.ltsOnly",
        since: "2024-07-16",
        until: None,
        source: "docs long-term-support, AKS release 2024-07-16 (rule); text chosen by aksim",
        aksim_text: true,
        description: "a minor past community support (offered only with long-term support) needs \
                      supportPlan AKSLongTermSupport",
        check: |i| {
            let unchanged = i
                .old
                .as_ref()
                .is_some_and(|o| o.kubernetes_version == i.new.kubernetes_version);
            let minor = i.new.minor();
            let Some(entry) = i.catalog.minor(&minor) else {
                return Ok(());
            };
            if unchanged
                || entry.official
                || i.new
                    .support_plan
                    .eq_ignore_ascii_case("AKSLongTermSupport")
            {
                return Ok(());
            }
            Err(Error::new(
                ErrorKind::BadRequest,
                "AgentPoolK8sVersionNotSupported",
                format!(
                    "Version {} is only available with the AKSLongTermSupport support plan \
                     (tier Premium) in this region. Please use [az aks get-versions] command to \
                     get the supported version list in this region. For more information, \
                     please check https://aka.ms/aks/lts",
                    i.new.kubernetes_version
                ),
            ))
        },
    },
    Rule {
        id: "cluster.kubernetesVersion.oneMinorAtATime",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "docs supported-kubernetes-versions (rule: minors can't be skipped, except from \
                 an unsupported version or between LTS versions); OperationNotAllowed text \
                 reported in rancher/dashboard #11884 (2024-09)",
        aksim_text: false,
        description: "a supported cluster upgrades one Kubernetes minor at a time",
        check: |i| {
            let Some(o) = &i.old else { return Ok(()) };
            let (Some(old), Some(new)) = (
                minor_of(o.kubernetes_version),
                minor_of(i.new.kubernetes_version),
            ) else {
                return Ok(());
            };
            if old.0 != new.0 || new.1 <= old.1 + 1 {
                return Ok(());
            }
            let old_entry = i.catalog.minor(&o.minor());
            let new_entry = i.catalog.minor(&i.new.minor());
            // Recovery: from a version AKS no longer offers, any supported target.
            let recovering = old_entry.is_none();
            let lts_to_lts = i
                .new
                .support_plan
                .eq_ignore_ascii_case("AKSLongTermSupport")
                && old_entry.is_some_and(|e| e.lts)
                && new_entry.is_some_and(|e| e.lts);
            if recovering || lts_to_lts {
                return Ok(());
            }
            let mut upgrades: Vec<String> = Vec::new();
            if let Some(next) = i.catalog.minor(&format!("{}.{}", old.0, old.1 + 1)) {
                upgrades.extend(next.patch_versions.iter().rev().cloned());
            }
            Err(Error::new(
                ErrorKind::BadRequest,
                "OperationNotAllowed",
                format!(
                    "Upgrading Kubernetes version {} to {} is not allowed. Available upgrades: \
                     [{}]. Please see https://aka.ms/aks-supported-k8s-ver for version details.",
                    o.kubernetes_version,
                    i.new.kubernetes_version,
                    upgrades.join(" ")
                ),
            ))
        },
    },
    Rule {
        id: "cluster.kubernetesVersion.noDowngrade",
        since: ADDON_FIRST_DAY,
        until: None,
        source: "AKS NotAllowedK8sVersionDowngrading (inferred text)",
        aksim_text: false,
        description: "the Kubernetes minor cannot go down",
        check: |i| {
            let Some(o) = &i.old else { return Ok(()) };
            match (
                minor_of(o.kubernetes_version),
                minor_of(i.new.kubernetes_version),
            ) {
                (Some(old), Some(new)) if new < old => Err(Error::new(
                    ErrorKind::BadRequest,
                    "NotAllowedK8sVersionDowngrading",
                    format!(
                        "Downgrading kubernetes version {} to {} is not allowed.",
                        o.kubernetes_version, i.new.kubernetes_version
                    ),
                )),
                _ => Ok(()),
            }
        },
    },
];
