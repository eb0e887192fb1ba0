//! The cluster's own rules: what may not change after create, and the Kubernetes version.

use super::*;

pub(super) static RULES: &[Rule] = &[
    Rule {
        id: "cluster.location.immutable",
        source: "../shared/reference/ARM-CONTRACT.md §5.2",
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
        source: "../shared/reference/ARM-CONTRACT.md §5.2",
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
        source: "../shared/reference/ARM-CONTRACT.md §5.2",
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
        source: "../shared/reference/ARM-CONTRACT.md §5.2",
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
        source: "AKS AgentPoolK8sVersionNotSupported (issues); data/aks-catalog",
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
        id: "cluster.kubernetesVersion.noDowngrade",
        source: "AKS NotAllowedK8sVersionDowngrading (inferred text)",
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
