//! The registry of server-side rules a managedCluster PUT must pass, each one named,
//! documented and evaluated in a fixed order (`../shared/reference/ARM-CONTRACT.md` §5.2, §5.6, §6).
//!
//! A rule is a pure function of a [`RuleInput`] (the stored cluster, the cluster the request
//! asks for, the AKS catalogue and one fact from the Kubernetes plane). The first rule that
//! fails decides the answer. `/_sim/info` lists the registry (`rules`) and
//! docs/service-mesh.md documents each id with its error and a command that shows it.

mod cluster;
mod components;
mod revisions;

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
    rules().try_for_each(|rule| (rule.check)(input))
}

/// Every rule, in order.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    TABLES.iter().flat_map(|table| table.iter())
}

/// The registry as JSON, for `/_sim/info`.
pub fn as_json() -> Value {
    rules()
        .map(|r| serde_json::json!({"id": r.id, "source": r.source, "description": r.description}))
        .collect()
}

pub(super) fn bad(message: impl Into<String>) -> Error {
    Error::bad_request(message)
}

pub(super) fn not_allowed(reason: &str) -> Error {
    bad(format!(
        "Requested change in revisions is not allowed. Reason: {reason}"
    ))
}

pub(super) fn revision_key(r: &str) -> (u32, u32) {
    revision_number(r).unwrap_or((0, 0))
}

pub(super) fn immutable(prop: &str) -> Error {
    Error::new(
        ErrorKind::BadRequest,
        "PropertyChangeNotAllowed",
        format!("Changing property '{prop}' is not allowed."),
    )
    .with_target(prop)
}

pub(super) fn changed(old: Option<&str>, new: Option<&str>, ignore_case: bool) -> bool {
    // A member the request leaves out is unchanged; one it sets must equal the stored value
    // (an unset stored value counts as empty).
    match (old.unwrap_or(""), new) {
        (o, Some(n)) if ignore_case => !o.eq_ignore_ascii_case(n),
        (o, Some(n)) => o != n,
        _ => false,
    }
}

/// Every rule, in the order they run: the cluster's own, then the mesh's revisions and
/// Kubernetes versions, then its components.
static TABLES: &[&[Rule]] = &[cluster::RULES, revisions::RULES, components::RULES];

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
        let mut ids: Vec<&str> = rules().map(|r| r.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(rules().all(|r| r.id.contains('.') && !r.description.is_empty()));
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
