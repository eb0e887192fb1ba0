//! The registry of server-side rules a managedCluster PUT must pass, each one named,
//! documented and evaluated in a fixed order (ARM-CONTRACT §5.2, §5.6, §6).
//!
//! A rule is a pure function of a [`RuleInput`] (the stored cluster, the cluster the request
//! asks for, the AKS catalogue and one fact from the Kubernetes plane). The first rule that
//! fails decides the answer. `/_sim/info` lists the registry (`rules`) and
//! docs/service-mesh.md documents each id with its error and a command that shows it.

use serde_json::{Map, Value};

use super::catalog::{minor_of, revision_number, AksCatalog};
use super::mesh::{canonical, MeshProfile};
use crate::core::error::{Error, ErrorKind};

/// Revisions a cluster may hold at once (spec docstring; tsg text).
pub const MESH_REVISIONS_MAX: usize = 2;
/// Ingress gateways of one mode (External / Internal).
pub const INGRESS_GATEWAYS_PER_MODE_MAX: usize = 1;
/// Egress gateways per cluster (docs `istio-deploy-egress.md`).
pub const EGRESS_GATEWAYS_MAX: usize = 500;
/// Longest egress gateway name the server accepts (docs; az allows 63).
pub const EGRESS_NAME_MAX_CHARS: usize = 53;
/// Oldest Kubernetes minor the add-on runs on (docs `istio-deploy-addon.md`).
pub const MESH_KUBERNETES_MIN: (u32, u32) = (1, 23);
/// Oldest revision that supports `CNIChaining` (docs `istio-cni.md`).
pub const CNI_CHAINING_MIN_REVISION: (u32, u32) = (1, 25);
/// First stable api-version with the Static-Egress-Gateway based egress schema.
pub const EGRESS_STABLE_API_MIN: &str = "2025-10-01";
/// First preview api-version with that schema.
pub const EGRESS_PREVIEW_API_MIN: &str = "2024-10-02-preview";

/// What a rule sees of one side (stored or requested) of a cluster.
#[derive(Debug, Clone, Copy)]
pub struct ClusterFacts<'a> {
    pub location: &'a str,
    pub dns_prefix: Option<&'a str>,
    pub fqdn_subdomain: Option<&'a str>,
    pub node_resource_group: Option<&'a str>,
    /// As requested/stored: `1.33` or `1.33.5`.
    pub kubernetes_version: &'a str,
    pub support_plan: &'a str,
    /// For the requested side: the request's profile with `revisions` made effective (kept
    /// from the stored cluster or the default revision when the request names none).
    pub mesh: Option<&'a MeshProfile>,
    pub addons: Option<&'a Map<String, Value>>,
}

impl ClusterFacts<'_> {
    fn istio(&self) -> Option<&MeshProfile> {
        self.mesh.filter(|m| m.is_istio())
    }

    fn minor(&self) -> String {
        minor_of(self.kubernetes_version)
            .map(|(a, b)| format!("{a}.{b}"))
            .unwrap_or_else(|| self.kubernetes_version.to_owned())
    }

    fn addon_enabled(&self, name: &str) -> bool {
        self.addons
            .and_then(|a| {
                a.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .and_then(|v| v.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

pub struct RuleInput<'a> {
    pub catalog: &'a AksCatalog,
    pub api_version: &'a str,
    pub old: Option<ClusterFacts<'a>>,
    pub new: ClusterFacts<'a>,
    /// `Plane::has_self_managed_istio` of the cluster's plane.
    pub self_managed_istio: bool,
}

impl RuleInput<'_> {
    fn old_istio(&self) -> Option<&MeshProfile> {
        self.old.as_ref().and_then(ClusterFacts::istio)
    }
    fn enabling(&self) -> bool {
        self.new.istio().is_some() && self.old_istio().is_none()
    }
    fn old_revisions(&self) -> &[String] {
        self.old_istio().map(MeshProfile::revisions).unwrap_or(&[])
    }
    fn new_revisions(&self) -> &[String] {
        self.new.istio().map(MeshProfile::revisions).unwrap_or(&[])
    }
    /// Requested revisions that are not installed yet.
    fn added_revisions(&self) -> impl Iterator<Item = &String> {
        let old = self.old_revisions();
        self.new_revisions()
            .iter()
            .filter(move |r| !old.iter().any(|o| o.eq_ignore_ascii_case(r)))
    }
    fn istio_components(&self) -> Option<&super::mesh::Istio> {
        self.new.istio().and_then(|m| m.istio.as_ref())
    }
}

pub type Check = fn(&RuleInput) -> Result<(), Error>;

pub struct Rule {
    pub id: &'static str,
    /// Where the rule (and its text) comes from.
    pub source: &'static str,
    pub description: &'static str,
    pub check: Check,
}

/// Runs every rule in order; the first failure is the answer.
pub fn evaluate(input: &RuleInput) -> Result<(), Error> {
    RULES.iter().try_for_each(|rule| (rule.check)(input))
}

pub fn rules() -> &'static [Rule] {
    RULES
}

/// The registry as JSON, for `/_sim/info`.
pub fn as_json() -> Value {
    RULES
        .iter()
        .map(|r| serde_json::json!({"id": r.id, "source": r.source, "description": r.description}))
        .collect()
}

fn bad(message: impl Into<String>) -> Error {
    Error::bad_request(message)
}

fn not_allowed(reason: &str) -> Error {
    bad(format!(
        "Requested change in revisions is not allowed. Reason: {reason}"
    ))
}

fn revision_key(r: &str) -> (u32, u32) {
    revision_number(r).unwrap_or((0, 0))
}

fn immutable(prop: &str) -> Error {
    Error::new(
        ErrorKind::BadRequest,
        "PropertyChangeNotAllowed",
        format!("Changing property '{prop}' is not allowed."),
    )
    .with_target(prop)
}

fn changed(old: Option<&str>, new: Option<&str>, ignore_case: bool) -> bool {
    // A member the request leaves out is unchanged; one it sets must equal the stored value
    // (an unset stored value counts as empty).
    match (old.unwrap_or(""), new) {
        (o, Some(n)) if ignore_case => !o.eq_ignore_ascii_case(n),
        (o, Some(n)) => o != n,
        _ => false,
    }
}

static RULES: &[Rule] = &[
    Rule {
        id: "cluster.location.immutable",
        source: "ARM-CONTRACT §5.2",
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
        source: "ARM-CONTRACT §5.2",
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
        source: "ARM-CONTRACT §5.2",
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
        source: "ARM-CONTRACT §5.2",
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
    Rule {
        id: "mesh.ingress.mode",
        source: "tsg (text)",
        description: "ingress gateway mode is External or Internal",
        check: |i| {
            for g in i
                .istio_components()
                .map_or(&[][..], |x| &x.ingress_gateways)
            {
                let ok = ["External", "Internal"]
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(&g.mode));
                if !ok {
                    return Err(bad(format!("Invalid istio ingress mode: {}", g.mode)));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.ingress.count",
        source: "tsg (text)",
        description: "at most one ingress gateway per mode",
        check: |i| {
            let gateways = i
                .istio_components()
                .map_or(&[][..], |x| &x.ingress_gateways);
            for mode in ["External", "Internal"] {
                let n = gateways
                    .iter()
                    .filter(|g| canonical(&g.mode, &["External", "Internal"]) == mode)
                    .count();
                if n > INGRESS_GATEWAYS_PER_MODE_MAX {
                    return Err(bad(format!(
                        "Too many ingresses for type: {mode}. Only \
                         {INGRESS_GATEWAYS_PER_MODE_MAX} ingress gateway are allowed"
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.apiVersion",
        source: "azure-cli #28809 (text, BadRequest); spec field history",
        description: "egress gateways need an api-version with the Static Egress Gateway schema",
        check: |i| {
            let enabled = i
                .istio_components()
                .is_some_and(|x| x.egress_gateways.iter().any(|g| g.enabled));
            let api = i.api_version.to_ascii_lowercase();
            let too_old = if api.ends_with("-preview") {
                api.as_str() < EGRESS_PREVIEW_API_MIN
            } else {
                api.as_str() < EGRESS_STABLE_API_MIN
            };
            if enabled && too_old {
                return Err(bad(
                    "Use of Istio egress gateway for Azure Service Mesh is disallowed.",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.count",
        source: "docs istio-deploy-egress (limit); text chosen by aksim",
        description: "at most 500 egress gateways",
        check: |i| {
            let n = i.istio_components().map_or(0, |x| x.egress_gateways.len());
            if n > EGRESS_GATEWAYS_MAX {
                return Err(bad(format!(
                    "Too many egress gateways: {n}. Only {EGRESS_GATEWAYS_MAX} egress gateways \
                     are allowed per cluster"
                )));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.name",
        source: "docs istio-deploy-egress (regex, 1-53); text chosen by aksim",
        description: "egress gateway names are DNS-1123 subdomains of 1-53 characters",
        check: |i| {
            for g in i.istio_components().map_or(&[][..], |x| &x.egress_gateways) {
                let name = g.name.as_deref().unwrap_or("");
                if name.is_empty() || name.len() > EGRESS_NAME_MAX_CHARS || !is_dns_subdomain(name)
                {
                    return Err(bad(format!(
                        "Istio egress gateway name '{name}' is invalid. Name must be between 1 \
                         and {EGRESS_NAME_MAX_CHARS} characters, consist of lower case \
                         alphanumeric characters, '-' or '.', and start and end with an \
                         alphanumeric character."
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.namespace",
        source: "Kubernetes namespace rule; text chosen by aksim",
        description: "egress gateway namespaces are DNS-1123 labels",
        check: |i| {
            for g in i.istio_components().map_or(&[][..], |x| &x.egress_gateways) {
                let ns = g.namespace_or_default();
                if ns.len() > 63 || ns.contains('.') || !is_dns_subdomain(ns) {
                    return Err(bad(format!(
                        "Istio egress gateway namespace '{ns}' is invalid. A namespace must be \
                         between 1 and 63 characters, consist of lower case alphanumeric \
                         characters or '-', and start and end with an alphanumeric character."
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.gatewayConfigurationName",
        source: "docs istio-deploy-egress (rule); text chosen by aksim",
        description: "an enabled egress gateway names its StaticGatewayConfiguration",
        check: |i| {
            for g in i.istio_components().map_or(&[][..], |x| &x.egress_gateways) {
                let missing = g
                    .gateway_configuration_name
                    .as_deref()
                    .is_none_or(|n| n.trim().is_empty());
                if g.enabled && missing {
                    return Err(bad(format!(
                        "Istio egress gateway '{}' in namespace '{}' requires \
                         gatewayConfigurationName, the name of its StaticGatewayConfiguration.",
                        g.name.as_deref().unwrap_or(""),
                        g.namespace_or_default()
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.egress.unique",
        source: "docs istio-deploy-egress (rule); text chosen by aksim",
        description: "egress gateway names are unique per namespace",
        check: |i| {
            let gateways = i.istio_components().map_or(&[][..], |x| &x.egress_gateways);
            for (n, g) in gateways.iter().enumerate() {
                let dup = gateways[..n].iter().any(|o| {
                    o.name == g.name && o.namespace_or_default() == g.namespace_or_default()
                });
                if dup {
                    return Err(bad(format!(
                        "Istio egress gateway '{}' is defined more than once in namespace '{}'. \
                         Egress gateway names must be unique per namespace.",
                        g.name.as_deref().unwrap_or(""),
                        g.namespace_or_default()
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.pluginCa.parameters",
        source: "tsg (text)",
        description: "a plug-in CA names the key vault and all four objects",
        check: |i| {
            if let Some(p) = i.istio_components().and_then(|x| x.plugin_ca.as_ref()) {
                let missing = p.missing();
                if !missing.is_empty() {
                    return Err(bad(format!(
                        "ServiceMeshProfile is missing required parameters: {} for plugin \
                         certificate authority",
                        missing.join(", ")
                    )));
                }
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.pluginCa.keyVaultAddon",
        source: "tsg (text)",
        description: "a plug-in CA needs the azureKeyvaultSecretsProvider add-on",
        check: |i| {
            let plugin = i.istio_components().is_some_and(|x| x.plugin_ca.is_some());
            if plugin && !i.new.addon_enabled("azureKeyvaultSecretsProvider") {
                return Err(bad(
                    "AzureKeyvaultSecretsProvider addon is required for Azure Service Mesh \
                     plugin certificate authority feature",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.pluginCa.keyVaultId",
        source: "tsg (text)",
        description: "keyVaultId is a Microsoft.KeyVault/vaults resource id",
        check: |i| {
            let id = i
                .istio_components()
                .and_then(|x| x.plugin_ca.as_ref())
                .and_then(|p| p.key_vault_id.as_deref());
            match id {
                Some(id) if !is_key_vault_id(id) => Err(bad(format!(
                    "'KeyVaultId': '{id}' is not a valid Azure keyvault resource identifier. \
                     Please make sure that the format matches \
                     '/subscriptions//resourceGroups//providers/Microsoft.KeyVault/vaults/'"
                ))),
                _ => Ok(()),
            }
        },
    },
    Rule {
        id: "mesh.pluginCa.onlyWhenEnabling",
        source: "docs istio-plugin-ca (rule); text chosen by aksim",
        description: "the certificate authority is set when enabling; changing it needs disable \
                      + enable",
        check: |i| {
            let Some(old) = i.old_istio() else {
                return Ok(());
            };
            let old_ca = old.istio.as_ref().and_then(|x| x.plugin_ca.as_ref());
            let new_ca = i.istio_components().and_then(|x| x.plugin_ca.as_ref());
            if i.new.istio().is_some() && old_ca != new_ca {
                return Err(bad(
                    "The certificate authority of Azure Service Mesh can only be configured when \
                     enabling the add-on. To switch certificate authority, disable the add-on \
                     and enable it again with the new certificate authority.",
                ));
            }
            Ok(())
        },
    },
    Rule {
        id: "mesh.proxyRedirection.valid",
        source: "spec enum ProxyRedirectionMechanism; text chosen by aksim",
        description: "proxyRedirectionMechanism is InitContainers or CNIChaining",
        check: |i| {
            let m = i
                .istio_components()
                .and_then(|x| x.proxy_redirection_mechanism.as_deref());
            match m {
                Some(m)
                    if !["InitContainers", "CNIChaining"]
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(m)) =>
                {
                    Err(bad(format!(
                        "Invalid proxy redirection mechanism: {m}. Allowed values are \
                         'InitContainers' and 'CNIChaining'."
                    )))
                }
                _ => Ok(()),
            }
        },
    },
    Rule {
        id: "mesh.proxyRedirection.cniRevision",
        source: "docs istio-cni (rule); text chosen by aksim",
        description: "CNIChaining needs every installed revision to be asm-1-25 or later",
        check: |i| {
            let cni = i
                .istio_components()
                .and_then(|x| x.proxy_redirection_mechanism.as_deref())
                .is_some_and(|m| m.eq_ignore_ascii_case("CNIChaining"));
            if !cni {
                return Ok(());
            }
            for r in i.new_revisions() {
                if revision_key(r) < CNI_CHAINING_MIN_REVISION {
                    return Err(bad(format!(
                        "Proxy redirection mechanism CNIChaining requires service mesh revision \
                         asm-{}-{} or later. Revision {r} does not support it.",
                        CNI_CHAINING_MIN_REVISION.0, CNI_CHAINING_MIN_REVISION.1
                    )));
                }
            }
            Ok(())
        },
    },
];

/// DNS-1123 subdomain: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}`.
pub fn is_key_vault_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() == 9
        && parts[0].is_empty()
        && parts[1].eq_ignore_ascii_case("subscriptions")
        && !parts[2].is_empty()
        && parts[3].eq_ignore_ascii_case("resourceGroups")
        && !parts[4].is_empty()
        && parts[5].eq_ignore_ascii_case("providers")
        && parts[6].eq_ignore_ascii_case("Microsoft.KeyVault")
        && parts[7].eq_ignore_ascii_case("vaults")
        && !parts[8].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(mesh: Option<&'a MeshProfile>) -> ClusterFacts<'a> {
        ClusterFacts {
            location: "eastus",
            dns_prefix: None,
            fqdn_subdomain: None,
            node_resource_group: None,
            kubernetes_version: "1.33",
            support_plan: "KubernetesOfficial",
            mesh,
            addons: None,
        }
    }

    #[test]
    fn ids_are_unique_and_dotted() {
        let mut ids: Vec<&str> = rules().iter().map(|r| r.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(rules()
            .iter()
            .all(|r| r.id.contains('.') && !r.description.is_empty()));
    }

    /// The plane of the kube branch reports self-managed Istio; the rule reads that flag.
    #[test]
    fn self_managed_istio_blocks_enabling() {
        let catalog = AksCatalog::embedded("current").unwrap();
        let mesh = MeshProfile {
            mode: Some("Istio".into()),
            istio: Some(super::super::mesh::Istio {
                revisions: Some(vec!["asm-1-29".into()]),
                ..Default::default()
            }),
        };
        let input = RuleInput {
            catalog: &catalog,
            api_version: "2026-06-01",
            old: Some(facts(None)),
            new: facts(Some(&mesh)),
            self_managed_istio: true,
        };
        let err = evaluate(&input).unwrap_err();
        assert!(
            err.body.message.contains("not managed by the add-on"),
            "{err}"
        );
        let ok = RuleInput {
            self_managed_istio: false,
            ..input
        };
        assert!(evaluate(&ok).is_ok());
    }

    #[test]
    fn name_helpers() {
        assert!(is_dns_subdomain("my-egress.a1"));
        assert!(!is_dns_subdomain("-bad"));
        assert!(!is_dns_subdomain("Upper"));
        assert!(is_key_vault_id(
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
        ));
        assert!(!is_key_vault_id("/subscriptions/x/vaults/kv"));
    }
}
