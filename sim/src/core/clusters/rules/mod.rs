//! The registry of server-side rules a managedCluster PUT must pass, each one named,
//! documented and evaluated in a fixed order (`../shared/reference/ARM-CONTRACT.md` §5.2, §5.6, §6).
//!
//! A rule is a pure function of a [`RuleInput`] (the stored cluster, the cluster the request
//! asks for, the AKS catalogue of the subscription's day and one fact from the Kubernetes
//! plane). Every rule carries the days it is in force (`since <= day < until`) and its source;
//! a rule runs only on its days. The first rule that fails decides the answer. `/_sim/info`
//! lists the registry (`rules`), docs/service-mesh.md documents each id with its error and a
//! command that shows it, and docs/aks-by-date.md lists the dated ones.

mod cluster;
mod components;
mod revisions;

use serde_json::{Map, Value};

use super::mesh::{canonical, MeshProfile};
use crate::core::error::{Error, ErrorKind};
use crate::core::timeline::catalog::{minor_of, revision_number, AksCatalog};
use crate::core::timeline::{self, Day};

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
/// First stable api-version with the Static-Egress-Gateway based egress schema (SDK 40.1.0;
/// the 2025-11-05 egress recording uses it).
pub const EGRESS_STABLE_API_MIN: &str = "2025-09-01";
/// First preview api-version with that schema.
pub const EGRESS_PREVIEW_API_MIN: &str = "2024-10-02-preview";
/// First stable api-version with `istio.components.proxyRedirectionMechanism`.
pub const PROXY_REDIRECTION_STABLE_API_MIN: &str = "2026-01-01";
/// First preview api-version with it.
pub const PROXY_REDIRECTION_PREVIEW_API_MIN: &str = "2025-08-02-preview";

/// Whether `api` (stable or preview) is at least the first stable/preview version given.
pub fn api_at_least(api: &str, stable: &str, preview: &str) -> bool {
    let api = api.to_ascii_lowercase();
    if api.ends_with("-preview") {
        api.as_str() >= preview
    } else {
        api.as_str() >= stable
    }
}

/// Whether `api` knows `proxyRedirectionMechanism`.
pub fn api_has_proxy_redirection(api: &str) -> bool {
    api_at_least(
        api,
        PROXY_REDIRECTION_STABLE_API_MIN,
        PROXY_REDIRECTION_PREVIEW_API_MIN,
    )
}

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
    /// The cluster's `properties` (network profile, agent pools, ingress profile).
    pub properties: Option<&'a Map<String, Value>>,
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

    /// The value at a dotted path under `properties` (names compared ignoring case).
    fn property(&self, path: &str) -> Option<&Value> {
        let mut at = self.properties?;
        let mut parts = path.split('.').peekable();
        while let Some(key) = parts.next() {
            let v = at.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?.1;
            if parts.peek().is_none() {
                return Some(v);
            }
            at = v.as_object()?;
        }
        None
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
    /// The subscription's day: only the rules in force then run.
    pub day: Day,
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
    /// The first day the rule is in force (`YYYY-MM-DD`; the add-on's first preview,
    /// 2023-04-16, for rules as old as the add-on).
    pub since: &'static str,
    /// The day it stopped (exclusive), if it did.
    pub until: Option<&'static str>,
    /// Where the rule (and its text) comes from.
    pub source: &'static str,
    /// The error text is aksim's own: no source publishes the real one.
    pub aksim_text: bool,
    pub description: &'static str,
    pub check: Check,
}

/// The add-on's first public preview: rules as old as the add-on start here.
pub const ADDON_FIRST_DAY: &str = "2023-04-16";
/// `istio.revisions` (and the revision catalogue) arrive with api 2023-06-02-preview; before,
/// a requested revision is ignored and the add-on installs its one revision.
pub const REVISIONS_FIRST_DAY: &str = "2023-06-01";
/// The plug-in CA (preview docs 2023-12, AKS release 2024-01-23).
pub const PLUGIN_CA_FIRST_DAY: &str = "2024-01-23";
/// Istio egress gateways (Static Egress Gateway based; docs 2025-04-28).
pub const EGRESS_FIRST_DAY: &str = "2025-04-28";
/// Istio CNI (`proxyRedirectionMechanism`; docs 2025-10-20).
pub const CNI_FIRST_DAY: &str = "2025-10-20";

impl Rule {
    /// Whether the rule is in force on `day`.
    pub fn in_force(&self, day: Day) -> bool {
        timeline::in_force(self.since, self.until, day)
    }
}

/// Runs every rule in force on the input's day, in order; the first failure is the answer.
pub fn evaluate(input: &RuleInput) -> Result<(), Error> {
    rules()
        .filter(|rule| rule.in_force(input.day))
        .try_for_each(|rule| (rule.check)(input))
}

/// Every rule, in order.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    TABLES.iter().flat_map(|table| table.iter())
}

/// The registry as JSON, for `/_sim/info`.
pub fn as_json() -> Value {
    rules()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "since": r.since,
                "until": r.until,
                "source": r.source,
                "aksimText": r.aksim_text,
                "description": r.description,
            })
        })
        .collect()
}

/// The registry for docs/aks-by-date.md: `[id, since, until, aksim's text, source,
/// description]` per rule, and a dated change for every rule that came or went after the
/// add-on's first day.
pub fn by_date() -> (
    Vec<[String; 6]>,
    Vec<crate::core::timeline::changes::Change>,
) {
    let mut table = Vec::new();
    let mut changes = Vec::new();
    for r in rules() {
        table.push([
            r.id.to_owned(),
            r.since.to_owned(),
            r.until.unwrap_or("").to_owned(),
            r.aksim_text.to_string(),
            r.source.to_owned(),
            r.description.to_owned(),
        ]);
        let text = if r.aksim_text { " (aksim's text)" } else { "" };
        if r.since != ADDON_FIRST_DAY {
            changes.push(crate::core::timeline::changes::Change {
                day: r.since.to_owned(),
                area: "rules",
                what: format!("`{}` comes into force: {}{text}", r.id, r.description),
                confidence: String::new(),
                source: r.source.to_owned(),
            });
        }
        if let Some(until) = r.until {
            changes.push(crate::core::timeline::changes::Change {
                day: until.to_owned(),
                area: "rules",
                what: format!("`{}` no longer applies: {}", r.id, r.description),
                confidence: String::new(),
                source: r.source.to_owned(),
            });
        }
    }
    (table, changes)
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
            kubernetes_version: "1.35",
            support_plan: "KubernetesOfficial",
            mesh,
            addons: None,
            properties: None,
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

    /// Every rule carries its days and its source, and says whether its text is aksim's.
    #[test]
    fn every_rule_has_dates_and_a_source() {
        for r in rules() {
            let since = timeline::parse_day(r.since);
            assert!(
                since.is_some(),
                "{}: since '{}' is not a day",
                r.id,
                r.since
            );
            if let Some(until) = r.until {
                let until = timeline::parse_day(until);
                assert!(until.is_some_and(|u| Some(u) > since), "{}: until", r.id);
            }
            assert!(!r.source.trim().is_empty(), "{}: no source", r.id);
            assert_eq!(
                r.aksim_text,
                r.source.contains("text chosen by aksim")
                    || r.source.contains("texts chosen by aksim"),
                "{}: aksim_text must agree with the source ('text chosen by aksim')",
                r.id
            );
        }
    }

    /// The plane of the kube branch reports self-managed Istio; the rule reads that flag.
    #[test]
    fn self_managed_istio_blocks_enabling() {
        let catalog = timeline::Behaviour::at(timeline::timeline().newest_day()).aks;
        let mesh = MeshProfile {
            mode: Some("Istio".into()),
            istio: Some(super::super::mesh::Istio {
                revisions: Some(vec!["asm-1-29".into()]),
                ..Default::default()
            }),
        };
        let input = RuleInput {
            catalog: &catalog,
            day: timeline::timeline().newest_day(),
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
