//! The registry of agent-pool rules: what every pool write (an agentPools PUT or DELETE, and
//! each pool of a cluster PUT) must pass, named, with its source, evaluated in a fixed order;
//! the first failure decides the answer and nothing is stored. Where no source publishes
//! AKS's text the rule says so (`aksim_text`; docs/deviations.md lists them), and every rule
//! has a scenario tagged `rule:<id>` in `scenarios/agent-pools/` (`tests/agent_pools.rs`).

use serde_json::{Map, Value};

use super::{is_gateway, is_system, is_windows, name_of, str_of};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::timeline::catalog::{minor_of, AksCatalog};

/// Nodes one pool may have (AKS: 1000 per pool).
pub const COUNT_MAX: i64 = 1000;
/// `maxPods` bounds (docs concepts-network-ip-address-planning).
pub const MAX_PODS_MIN: i64 = 10;
pub const MAX_PODS_MAX: i64 = 250;
/// Longest Linux / Windows pool name.
pub const NAME_MAX_CHARS: usize = 12;
pub const WINDOWS_NAME_MAX_CHARS: usize = 6;
/// `gatewayProfile.publicIPPrefixSize` bounds and default (docs configure-static-egress-gateway;
/// spec `AgentPoolGatewayProfile`).
pub const GATEWAY_PREFIX_MIN: i64 = 28;
pub const GATEWAY_PREFIX_MAX: i64 = 31;
pub const GATEWAY_PREFIX_DEFAULT: i64 = 31;
/// From this control-plane minor on a pool may trail by three minors, before by two (docs
/// supported-kubernetes-versions: "AKS follows this skew version policy change starting from
/// version 1.28 onwards").
pub const SKEW_THREE_FROM_MINOR: u32 = 28;

/// What a pool rule sees.
pub struct PoolInput<'a> {
    pub catalog: &'a AksCatalog,
    /// The control plane's `kubernetesVersion` after the write.
    pub cluster_version: &'a str,
    /// The pool as stored (`None`: it is created).
    pub old: Option<&'a Map<String, Value>>,
    /// The pool after the write, defaults filled (`None`: it is deleted).
    pub new: Option<&'a Map<String, Value>>,
    /// Every pool of the cluster after the write.
    pub pools_after: &'a [Value],
    /// `networkProfile.staticEgressGatewayProfile.enabled` of the cluster after the write.
    pub static_egress_gateway: bool,
}

pub struct PoolRule {
    pub id: &'static str,
    /// Where the rule (and its text) comes from.
    pub source: &'static str,
    /// The error text is aksim's own: no source publishes the real one.
    pub aksim_text: bool,
    pub description: &'static str,
    pub check: fn(&PoolInput) -> Result<()>,
}

fn int(pool: &Map<String, Value>, key: &str) -> Option<i64> {
    pool.get(key).and_then(Value::as_i64)
}

fn autoscaling(pool: &Map<String, Value>) -> bool {
    pool.get("enableAutoScaling")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn prefix_size(pool: &Map<String, Value>) -> i64 {
    pool.get("gatewayProfile")
        .and_then(|g| g.get("publicIPPrefixSize"))
        .and_then(Value::as_i64)
        .unwrap_or(GATEWAY_PREFIX_DEFAULT)
}

fn invalid(message: impl Into<String>, target: &str) -> Error {
    Error::invalid_parameter(message, target)
}

/// AKS's naming-rules refusal for `agentPoolProfile.<field>`.
pub fn naming_rules(field: &str) -> Error {
    invalid(
        format!(
            "The value of parameter agentPoolProfile.{field} is invalid. Please see \
             https://aka.ms/aks-naming-rules for more details."
        ),
        &format!("agentPoolProfile.{field}"),
    )
}

/// Whether `name` is a valid pool name (`windows`: at most six characters).
pub fn valid_name(name: &str, windows: bool) -> bool {
    let max = if windows {
        WINDOWS_NAME_MAX_CHARS
    } else {
        NAME_MAX_CHARS
    };
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

fn incompatible(pool: &str, cp: &str, detail: String) -> Error {
    Error::new(
        ErrorKind::BadRequest,
        "NodePoolMcVersionIncompatible",
        format!(
            "Node pool version {pool} and control plane version {cp} are incompatible. {detail} \
             For more information, please check https://aka.ms/version-skew-policy"
        ),
    )
}

fn version_changed(i: &PoolInput, new: &Map<String, Value>) -> bool {
    let old = i.old.and_then(|o| str_of(o, "orchestratorVersion"));
    old != str_of(new, "orchestratorVersion")
}

/// Every rule, in the order they run.
pub static RULES: &[PoolRule] = &[
    PoolRule {
        id: "agentPool.name.pattern",
        source: "AKS InvalidParameter text (Azure/AKS #3300, azure-cli-extensions #1365); rule: \
                 docs create-node-pools Limitations (lower-case letters and digits, starting \
                 with a letter, 1-12 characters for Linux and 1-6 for Windows)",
        aksim_text: false,
        description: "a pool name is lower-case letters and digits starting with a letter, at \
                      most 12 characters (6 for Windows pools)",
        check: |i| match i.new {
            Some(p) if !valid_name(str_of(p, "name").unwrap_or(""), is_windows(p)) => {
                Err(naming_rules("name"))
            }
            _ => Ok(()),
        },
    },
    PoolRule {
        id: "agentPool.count.range",
        source: "AKS text quoted by rancher/aks-operator's tests ('agentPoolProfile.count was 0. \
                 It must be greater or equal to minCount:1 and less than or equal to \
                 maxCount:1000'); spec ManagedClusterAgentPoolProfile.count (0-1000 for user \
                 pools, 1-1000 for system pools)",
        aksim_text: false,
        description: "count is 0-1000, at least 1 for a System pool",
        check: |i| {
            let Some(p) = i.new else { return Ok(()) };
            let Some(count) = int(p, "count") else {
                return Ok(());
            };
            let min = if is_system(p) { 1 } else { 0 };
            if (min..=COUNT_MAX).contains(&count) {
                return Ok(());
            }
            Err(invalid(
                format!(
                    "agentPoolProfile.count was {count}. It must be greater or equal to \
                     minCount:{min} and less than or equal to maxCount:{COUNT_MAX}."
                ),
                "agentPoolProfile.count",
            ))
        },
    },
    PoolRule {
        id: "agentPool.maxPods.range",
        source: "docs concepts-network-ip-address-planning (maximum pods per node up to 250, at \
                 least 10); text chosen by aksim",
        aksim_text: true,
        description: "maxPods is 10-250",
        check: |i| match i.new.and_then(|p| int(p, "maxPods")) {
            Some(n) if !(MAX_PODS_MIN..=MAX_PODS_MAX).contains(&n) => Err(invalid(
                format!(
                    "The value {n} of agentPoolProfile.maxPods is invalid. The maximum pods per \
                     node must be between {MAX_PODS_MIN} and {MAX_PODS_MAX}."
                ),
                "agentPoolProfile.maxPods",
            )),
            _ => Ok(()),
        },
    },
    PoolRule {
        id: "agentPool.autoscaler.bounds",
        source: "docs cluster-autoscaler (min/max per pool, 0-1000; system pools at least 1); \
                 text chosen by aksim",
        aksim_text: true,
        description: "with enableAutoScaling, minCount and maxCount are set, \
                      0 <= minCount <= maxCount <= 1000 (minCount >= 1 for a System pool)",
        check: |i| {
            let Some(p) = i.new.filter(|p| autoscaling(p)) else {
                return Ok(());
            };
            let (Some(min), Some(max)) = (int(p, "minCount"), int(p, "maxCount")) else {
                return Err(invalid(
                    "minCount and maxCount are required when enableAutoScaling is true.",
                    "agentPoolProfile.minCount",
                ));
            };
            let floor = if is_system(p) { 1 } else { 0 };
            if min < floor || max > COUNT_MAX || min > max {
                return Err(invalid(
                    format!(
                        "minCount ({min}) and maxCount ({max}) must satisfy {floor} <= minCount \
                         <= maxCount <= {COUNT_MAX}."
                    ),
                    "agentPoolProfile.minCount",
                ));
            }
            Ok(())
        },
    },
    PoolRule {
        id: "agentPool.system.atLeastOne",
        source: "AKS text quoted by rancher/hosted-providers-e2e ('There has to be at least one \
                 system agent pool'); spec AgentPoolMode (a cluster must have at least one \
                 System agent pool at all times); code inferred",
        aksim_text: false,
        description: "a cluster keeps at least one System pool (the last one cannot be deleted \
                      or made User)",
        check: |i| {
            let any_system = i
                .pools_after
                .iter()
                .filter_map(Value::as_object)
                .any(is_system);
            if any_system {
                Ok(())
            } else {
                Err(Error::new(
                    ErrorKind::BadRequest,
                    "OperationNotAllowed",
                    "There has to be at least one system agent pool.",
                ))
            }
        },
    },
    PoolRule {
        id: "agentPool.system.linuxOnly",
        source: "docs use-system-pools Limitations (system pools must run Linux); text chosen \
                 by aksim",
        aksim_text: true,
        description: "a Windows pool is a User pool",
        check: |i| match i.new {
            Some(p) if is_windows(p) && is_system(p) => Err(invalid(
                format!(
                    "Agent pool '{}' has osType Windows: System mode agent pools must be Linux.",
                    str_of(p, "name").unwrap_or("")
                ),
                "agentPoolProfile.mode",
            )),
            _ => Ok(()),
        },
    },
    PoolRule {
        id: "agentPool.osType.immutable",
        source: "AKS PropertyChangeNotAllowed (the cluster's immutable-property text)",
        aksim_text: false,
        description: "a pool's osType cannot change",
        check: |i| match (i.old, i.new) {
            (Some(o), Some(n)) if is_windows(o) != is_windows(n) => {
                Err(super::super::rules::immutable("osType"))
            }
            _ => Ok(()),
        },
    },
    PoolRule {
        id: "agentPool.orchestratorVersion.supported",
        source: "AKS AgentPoolK8sVersionNotSupported (the cluster rule's text); \
                 data/aks-timeline.json",
        aksim_text: false,
        description: "a new or changed orchestratorVersion must be in the day's catalogue",
        check: |i| {
            let Some(p) = i.new.filter(|p| version_changed(i, p)) else {
                return Ok(());
            };
            let version = str_of(p, "orchestratorVersion").unwrap_or("");
            if i.catalog.resolve_kubernetes(version).is_some() {
                return Ok(());
            }
            Err(Error::new(
                ErrorKind::BadRequest,
                "AgentPoolK8sVersionNotSupported",
                format!(
                    "Version {version} is not supported in this region. Please use [az aks \
                     get-versions] command to get the supported version list in this region. \
                     For more information, please check https://aka.ms/supported-version-list"
                ),
            ))
        },
    },
    PoolRule {
        id: "agentPool.orchestratorVersion.notNewer",
        source: "AKS NodePoolMcVersionIncompatible (troubleshooting article \
                 error-code-nodepoolmcversionincompatible; rancher/rancher #33426)",
        aksim_text: false,
        description: "a pool's Kubernetes minor is not newer than the control plane's",
        check: |i| {
            let Some(p) = i.new else { return Ok(()) };
            let version = str_of(p, "orchestratorVersion").unwrap_or("");
            match (minor_of(version), minor_of(i.cluster_version)) {
                (Some(pool), Some(cp)) if pool > cp => Err(incompatible(
                    version,
                    i.cluster_version,
                    format!(
                        "Minor version of node pool version {} is bigger than control plane \
                         version {}.",
                        pool.1, cp.1
                    ),
                )),
                _ => Ok(()),
            }
        },
    },
    PoolRule {
        id: "agentPool.orchestratorVersion.skew",
        source: "AKS NodePoolMcVersionIncompatible (troubleshooting article \
                 error-code-nodepoolmcversionincompatible); docs supported-kubernetes-versions \
                 (N-3 from 1.28 on, N-2 before)",
        aksim_text: false,
        description: "a pool trails the control plane by at most three minors (two before 1.28)",
        check: |i| {
            let Some(p) = i.new else { return Ok(()) };
            let version = str_of(p, "orchestratorVersion").unwrap_or("");
            let (Some(pool), Some(cp)) = (minor_of(version), minor_of(i.cluster_version)) else {
                return Ok(());
            };
            let allowed = if cp.1 >= SKEW_THREE_FROM_MINOR { 3 } else { 2 };
            if pool.0 != cp.0 || pool.1 + allowed >= cp.1 {
                return Ok(());
            }
            Err(incompatible(
                version,
                i.cluster_version,
                format!(
                    "Minor version of node pool cannot be more than {allowed} versions less than \
                     control plane's version. Minor version of node pool is {} and control plane \
                     is {}.",
                    pool.1, cp.1
                ),
            ))
        },
    },
    PoolRule {
        id: "agentPool.orchestratorVersion.noDowngrade",
        source: "AKS NotAllowedK8sVersionDowngrading (the cluster rule's inferred text)",
        aksim_text: false,
        description: "a pool's Kubernetes minor cannot go down",
        check: |i| {
            let (Some(o), Some(n)) = (i.old, i.new) else {
                return Ok(());
            };
            let old = str_of(o, "orchestratorVersion").unwrap_or("");
            let new = str_of(n, "orchestratorVersion").unwrap_or("");
            match (minor_of(old), minor_of(new)) {
                (Some(a), Some(b)) if b < a => Err(Error::new(
                    ErrorKind::BadRequest,
                    "NotAllowedK8sVersionDowngrading",
                    format!("Downgrading kubernetes version {old} to {new} is not allowed."),
                )),
                _ => Ok(()),
            }
        },
    },
    PoolRule {
        id: "agentPool.gateway.modeImmutable",
        source: "docs configure-static-egress-gateway (a dedicated gateway node pool); text \
                 chosen by aksim",
        aksim_text: true,
        description: "a pool cannot become or stop being a Gateway pool",
        check: |i| match (i.old, i.new) {
            (Some(o), Some(n)) if is_gateway(o) != is_gateway(n) => Err(invalid(
                format!(
                    "Agent pool '{}' cannot change mode to or from 'Gateway'; create a new \
                     Gateway pool instead.",
                    str_of(n, "name").unwrap_or("")
                ),
                "agentPoolProfile.mode",
            )),
            _ => Ok(()),
        },
    },
    PoolRule {
        id: "agentPool.gateway.staticEgressGateway",
        source: "docs configure-static-egress-gateway ('Before you can create and manage \
                 gateway node pools, you must enable the Static Egress Gateway feature'); text \
                 chosen by aksim",
        aksim_text: true,
        description: "a Gateway pool needs the cluster's Static Egress Gateway \
                      (networkProfile.staticEgressGatewayProfile.enabled)",
        check: |i| match i.new {
            Some(p) if is_gateway(p) && !i.static_egress_gateway => Err(invalid(
                format!(
                    "Agent pool '{}' has mode 'Gateway', which requires the Static Egress \
                     Gateway to be enabled on the cluster \
                     (networkProfile.staticEgressGatewayProfile.enabled, az aks update \
                     --enable-static-egress-gateway).",
                    str_of(p, "name").unwrap_or("")
                ),
                "agentPoolProfile.mode",
            )),
            _ => Ok(()),
        },
    },
    PoolRule {
        id: "agentPool.gateway.linuxOnly",
        source: "docs configure-static-egress-gateway Limitations ('Windows node pools can't be \
                 used as gateway node pools'); text chosen by aksim",
        aksim_text: true,
        description: "a Gateway pool runs Linux",
        check: |i| match i.new {
            Some(p) if is_gateway(p) && is_windows(p) => Err(invalid(
                "Windows node pools can't be used as gateway node pools.",
                "agentPoolProfile.osType",
            )),
            _ => Ok(()),
        },
    },
    PoolRule {
        id: "agentPool.gateway.prefixSize",
        source: "docs configure-static-egress-gateway ('The allowed range is 28-31'); spec \
                 AgentPoolGatewayProfile.publicIPPrefixSize; text chosen by aksim",
        aksim_text: true,
        description: "gatewayProfile.publicIPPrefixSize is 28-31",
        check: |i| match i.new.filter(|p| is_gateway(p)).map(prefix_size) {
            Some(size) if !(GATEWAY_PREFIX_MIN..=GATEWAY_PREFIX_MAX).contains(&size) => {
                Err(invalid(
                    format!(
                        "The value {size} of gatewayProfile.publicIPPrefixSize is invalid. The \
                         allowed range is {GATEWAY_PREFIX_MIN}-{GATEWAY_PREFIX_MAX}."
                    ),
                    "agentPoolProfile.gatewayProfile.publicIPPrefixSize",
                ))
            }
            _ => Ok(()),
        },
    },
    PoolRule {
        id: "agentPool.gateway.capacity",
        source: "docs configure-static-egress-gateway (nodes must fit the prefix: /28 16, /29 \
                 8, /30 4, /31 2); text chosen by aksim",
        aksim_text: true,
        description: "a Gateway pool has at most as many nodes as its public IP prefix has \
                      addresses",
        check: |i| {
            let Some(p) = i.new.filter(|p| is_gateway(p)) else {
                return Ok(());
            };
            let size = prefix_size(p).clamp(GATEWAY_PREFIX_MIN, GATEWAY_PREFIX_MAX);
            let capacity = 1i64 << (32 - size);
            match int(p, "count") {
                Some(count) if count > capacity => Err(invalid(
                    format!(
                        "Gateway agent pool '{}' count {count} exceeds the {capacity} addresses \
                         of its /{size} public IP prefix.",
                        str_of(p, "name").unwrap_or("")
                    ),
                    "agentPoolProfile.count",
                )),
                _ => Ok(()),
            }
        },
    },
    PoolRule {
        id: "agentPool.gateway.noAutoscaler",
        source: "docs configure-static-egress-gateway ('cluster autoscaler isn't supported'); \
                 text chosen by aksim",
        aksim_text: true,
        description: "a Gateway pool does not autoscale",
        check: |i| match i.new {
            Some(p) if is_gateway(p) && autoscaling(p) => Err(invalid(
                "Gateway agent pools don't support the cluster autoscaler \
                 (enableAutoScaling must be false).",
                "agentPoolProfile.enableAutoScaling",
            )),
            _ => Ok(()),
        },
    },
];

/// Runs every rule, in order; the first failure is the answer.
pub fn evaluate(input: &PoolInput) -> Result<()> {
    RULES.iter().try_for_each(|rule| (rule.check)(input))
}

/// The pool rules for a cluster PUT: each pool of `after` against its stored self in `before`,
/// and the cluster-wide ones once.
pub fn check_cluster(
    catalog: &AksCatalog,
    cluster_version: &str,
    before: &[Value],
    after: &[Value],
    static_egress_gateway: bool,
) -> Result<()> {
    let base = PoolInput {
        catalog,
        cluster_version,
        old: None,
        new: None,
        pools_after: after,
        static_egress_gateway,
    };
    evaluate(&base)?;
    for pool in after.iter().filter_map(Value::as_object) {
        let name = str_of(pool, "name").unwrap_or("");
        let old = before
            .iter()
            .find(|p| name_of(p).eq_ignore_ascii_case(name))
            .and_then(Value::as_object);
        evaluate(&PoolInput {
            old,
            new: Some(pool),
            ..base
        })?;
    }
    Ok(())
}

/// The registry as JSON, for `/_sim/info`.
pub fn as_json() -> Value {
    RULES
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "source": r.source,
                "aksimText": r.aksim_text,
                "description": r.description,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_sources_agree_with_the_flag() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for r in RULES {
            assert_eq!(
                r.aksim_text,
                r.source.contains("text chosen by aksim"),
                "{}",
                r.id
            );
        }
    }

    #[test]
    fn names() {
        assert!(valid_name("nodepool1", false));
        assert!(valid_name("abcdefghijkl", false));
        assert!(!valid_name("abcdefghijklm", false));
        assert!(!valid_name("win1234", true));
        assert!(valid_name("win123", true));
        assert!(!valid_name("Np1", false));
        assert!(!valid_name("1np", false));
        assert!(!valid_name("np-1", false));
    }
}
