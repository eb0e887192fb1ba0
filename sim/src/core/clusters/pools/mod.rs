//! Agent pools: the child resources `managedClusters/{c}/agentPools/{p}` and the cluster's
//! `properties.agentPoolProfiles` are one truth. The pools live in the cluster's
//! `agentPoolProfiles` array (the writable JSON of each pool, with the defaults AKS fills);
//! what only the server knows of a pool — its own running operation, its provisioning state,
//! the Kubernetes patch its nodes run — is a [`PoolStatus`] next to it, keyed by the lower-cased
//! pool name. A PUT of either resource is seen by the other; a cluster PUT without
//! `agentPoolProfiles` keeps the pools.
//!
//! Submodules: `rules` (the registry of named pool rules, with AKS's codes and texts),
//! `lifecycle` (PUT/DELETE/upgradeNodeImageVersion/abort of one pool and what their operations
//! do when they end).

pub mod lifecycle;
pub mod machines;
pub mod rules;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ManagedCluster, ProvisioningState};
use crate::core::ops::OpKind;
use crate::core::timeline::catalog::AksCatalog;

/// The operation kinds of an agent pool.
pub const CREATE: OpKind = OpKind::named("agentPoolCreate");
pub const UPDATE: OpKind = OpKind::named("agentPoolUpdate");
pub const DELETE: OpKind = OpKind::named("agentPoolDelete");
pub const UPGRADE_NODE_IMAGE: OpKind = OpKind::named("agentPoolUpgradeNodeImage");

/// The resource type agent pools report.
pub const RESOURCE_TYPE: &str = "Microsoft.ContainerService/managedClusters/agentPools";

/// The newest node images (AKS's weekly release of 2026-11; a new pool gets these, and
/// `upgradeNodeImageVersion` moves a pool to them).
pub const NODE_IMAGE_UBUNTU: &str = "AKSUbuntu-2204gen2containerd-202611.01.0";
pub const NODE_IMAGE_AZURE_LINUX: &str = "AKSAzureLinux-V3gen2-202611.01.0";
pub const NODE_IMAGE_WINDOWS: &str = "AKSWindows-2022-containerd-20348.4405.251111";

/// What the server alone knows of one pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolStatus {
    pub provisioning_state: ProvisioningState,
    /// The pool's own running operation (a cluster-wide one is the cluster's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The full Kubernetes patch the pool's nodes run.
    pub current_version: String,
}

/// What a pool's operation does when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Effect {
    /// A create/update/upgrade of the pool finished: `Succeeded`.
    AgentPoolProvisioned {
        cluster_key: String,
        pool: String,
        operation_id: String,
    },
    /// A delete finished: the pool is gone.
    AgentPoolDeleted {
        cluster_key: String,
        pool: String,
        operation_id: String,
    },
    /// A cluster stop or start finished: `powerState` settles.
    ClusterPowerChanged {
        cluster_key: String,
        operation_id: String,
        running: bool,
    },
}

/// The pools of a cluster (its `agentPoolProfiles`), possibly none.
pub fn profiles(properties: &Map<String, Value>) -> &[Value] {
    properties
        .get("agentPoolProfiles")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

/// The pools, mutable (`None` when the cluster has no `agentPoolProfiles` array).
pub fn profiles_mut(properties: &mut Map<String, Value>) -> Option<&mut Vec<Value>> {
    properties
        .get_mut("agentPoolProfiles")
        .and_then(Value::as_array_mut)
}

/// A pool's name as stored.
pub fn name_of(pool: &Value) -> &str {
    pool.get("name").and_then(Value::as_str).unwrap_or("")
}

pub fn str_of<'a>(pool: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    pool.get(key).and_then(Value::as_str)
}

/// `mode` (default `System`, as AKS fills it for a cluster's first pool).
pub fn mode_of(pool: &Map<String, Value>) -> &str {
    str_of(pool, "mode").unwrap_or("System")
}

pub fn is_system(pool: &Map<String, Value>) -> bool {
    mode_of(pool).eq_ignore_ascii_case("system")
}

pub fn is_gateway(pool: &Map<String, Value>) -> bool {
    mode_of(pool).eq_ignore_ascii_case("gateway")
}

pub fn is_windows(pool: &Map<String, Value>) -> bool {
    str_of(pool, "osType").is_some_and(|o| o.eq_ignore_ascii_case("windows"))
}

/// The index of pool `name` (compared ignoring case) among `pools`.
pub fn position(pools: &[Value], name: &str) -> Option<usize> {
    pools
        .iter()
        .position(|p| name_of(p).eq_ignore_ascii_case(name))
}

/// The node image a pool of this OS gets on the day (`images`: `timeline::Dated::node_images`;
/// aksim's newest when the day names none).
pub fn node_image_for(pool: &Map<String, Value>, images: &BTreeMap<String, String>) -> String {
    let sku = str_of(pool, "osSKU").unwrap_or("");
    let (os, fallback) = if is_windows(pool) {
        ("Windows", NODE_IMAGE_WINDOWS)
    } else if sku.starts_with("AzureLinux") || sku.eq_ignore_ascii_case("CBLMariner") {
        ("AzureLinux", NODE_IMAGE_AZURE_LINUX)
    } else {
        ("Ubuntu", NODE_IMAGE_UBUNTU)
    };
    images
        .get(os)
        .cloned()
        .unwrap_or_else(|| fallback.to_owned())
}

/// Whether a member counts as "not sent": absent, `""` or (for numbers AKS fills) `0`.
fn blank(pool: &Map<String, Value>, key: &str) -> bool {
    match pool.get(key) {
        None => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Number(n)) => n.as_i64() == Some(0) && key == "osDiskSizeGB",
        _ => false,
    }
}

/// Where a pool's defaults come from: a cluster PUT (`agentPoolProfiles`) or the agentPools
/// API. AKS answers them slightly differently (recorded az traffic): a cluster's pool sent with
/// `upgradeSettings: {}` gets `maxSurge: 10%`, an added pool keeps `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Cluster,
    AgentPoolApi,
}

/// The VM size AKS picks when a pool leaves it to the server (az 2.91 sends `vmSize: ""`), with
/// the OS disk it then gets (recorded 2026-04-21).
pub const SERVER_VM_SIZE: &str = "Standard_D4d_v5";
pub const SERVER_VM_OS_DISK_GB: i64 = 150;

/// Fills the defaults AKS fills in one pool and drops the request-only values it does not
/// echo (`scaleSetPriority: Regular` with its eviction policy and spot price, `nodeTaints: []`,
/// `nodeLabels: {}`). `version` is the cluster's `kubernetesVersion`; `dated` the day's
/// `agentPool defaults` (`timeline::Dated::pool_defaults`): a cluster's pool gets them for
/// members it leaves unset or sends empty (`upgradeSettings: {}`), a pool added through
/// `agentPools` only for members it leaves out (recorded: an added pool keeps `{}`).
pub fn fill_defaults(
    pool: &mut Map<String, Value>,
    version: &str,
    origin: Origin,
    dated: &Map<String, Value>,
    cluster: &Map<String, Value>,
    images: &BTreeMap<String, String>,
) {
    let server_vm = blank(pool, "vmSize");
    if server_vm {
        pool.insert("vmSize".into(), SERVER_VM_SIZE.into());
        if blank(pool, "osDiskType") {
            pool.insert("osDiskType".into(), "Ephemeral".into());
        }
        if blank(pool, "osDiskSizeGB") {
            pool.insert("osDiskSizeGB".into(), SERVER_VM_OS_DISK_GB.into());
        }
    }
    let defaults: [(&str, Value); 9] = [
        (
            "count",
            match origin {
                Origin::Cluster => 3.into(),
                Origin::AgentPoolApi => 1.into(),
            },
        ),
        ("osType", "Linux".into()),
        (
            "mode",
            match origin {
                Origin::Cluster => "System".into(),
                Origin::AgentPoolApi => "User".into(),
            },
        ),
        ("type", "VirtualMachineScaleSets".into()),
        ("maxPods", default_max_pods(cluster, pool).into()),
        ("osDiskSizeGB", 128.into()),
        ("osDiskType", "Managed".into()),
        ("kubeletDiskType", "OS".into()),
        ("orchestratorVersion", version.into()),
    ];
    for (key, value) in defaults {
        if blank(pool, key) {
            pool.insert(key.into(), value);
        }
    }
    if blank(pool, "osSKU") {
        let sku = if is_windows(pool) {
            "Windows2022"
        } else {
            "Ubuntu"
        };
        pool.insert("osSKU".into(), sku.into());
    }
    let spot = str_of(pool, "scaleSetPriority").is_some_and(|p| p.eq_ignore_ascii_case("spot"));
    if !spot {
        pool.remove("scaleSetPriority");
        pool.remove("scaleSetEvictionPolicy");
        pool.remove("spotMaxPrice");
    }
    for key in ["nodeTaints", "nodeLabels", "tags"] {
        let empty = match pool.get(key) {
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Object(m)) => m.is_empty(),
            _ => false,
        };
        if empty {
            pool.remove(key);
        }
    }
    for (key, value) in dated {
        let unset = match pool.get(key) {
            None => true,
            Some(Value::Object(m)) => m.is_empty() && origin == Origin::Cluster,
            Some(_) => blank(pool, key) && origin == Origin::Cluster,
        };
        if unset {
            pool.insert(key.clone(), value.clone());
        }
    }
    if is_gateway(pool) {
        let profile = pool
            .entry("gatewayProfile")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(g) = profile {
            g.entry("publicIPPrefixSize")
                .or_insert(rules::GATEWAY_PREFIX_DEFAULT.into());
        }
    }
    if blank(pool, "nodeImageVersion") {
        let image = node_image_for(pool, images);
        pool.insert("nodeImageVersion".into(), image.into());
    }
    if blank(pool, "powerState") {
        pool.insert("powerState".into(), serde_json::json!({"code": "Running"}));
    }
}

/// The `maxPods` a pool gets by the cluster's network (`cluster` is its `properties`; docs
/// concepts-network-ip-address-planning: Azure CNI Overlay 250, Azure CNI with a pod subnet 110,
/// Azure CNI (legacy) 30, kubenet 110).
pub fn default_max_pods(cluster: &Map<String, Value>, pool: &Map<String, Value>) -> i64 {
    let network = cluster.get("networkProfile");
    let field = |k: &str| network.and_then(|n| n.get(k)).and_then(Value::as_str);
    match field("networkPlugin") {
        Some(p) if p.eq_ignore_ascii_case("azure") => {
            if field("networkPluginMode").is_some_and(|m| m.eq_ignore_ascii_case("overlay")) {
                250
            } else if pool.contains_key("podSubnetID") {
                110
            } else {
                30
            }
        }
        _ => 110,
    }
}

/// The full patch a pool's `orchestratorVersion` runs, or `fallback`.
pub fn resolve_version(catalog: &AksCatalog, pool: &Map<String, Value>, fallback: &str) -> String {
    str_of(pool, "orchestratorVersion")
        .and_then(|v| catalog.resolve_kubernetes(v))
        .map(|(_, full)| full)
        .unwrap_or_else(|| fallback.to_owned())
}

/// After a cluster PUT: every pool has a status that defers to the cluster's state
/// (`Succeeded`), statuses of pools that left are dropped, and each pool's running patch
/// follows its version.
pub fn sync_status(cluster: &mut ManagedCluster, catalog: &AksCatalog) {
    let mut status = std::mem::take(&mut cluster.pool_status);
    let mut next = std::collections::BTreeMap::new();
    for pool in profiles(&cluster.properties) {
        let Some(p) = pool.as_object() else { continue };
        let key = name_of(pool).to_ascii_lowercase();
        let current = resolve_version(catalog, p, &cluster.current_kubernetes_version);
        let mut entry = status.remove(&key).unwrap_or(PoolStatus {
            provisioning_state: ProvisioningState::Succeeded,
            operation_id: None,
            current_version: current.clone(),
        });
        entry.current_version = current;
        entry.operation_id = None;
        entry.provisioning_state = ProvisioningState::Succeeded;
        next.insert(key, entry);
    }
    cluster.pool_status = next;
}

/// Keys of a pool's `properties`, in the order AKS writes them (recorded GETs); the rest
/// follow as stored.
const ORDER: &[&str] = &[
    "count",
    "vmSize",
    "osDiskSizeGB",
    "osDiskType",
    "kubeletDiskType",
    "workloadRuntime",
    "vnetSubnetID",
    "podSubnetID",
    "maxPods",
    "type",
    "maxCount",
    "minCount",
    "enableAutoScaling",
    "scaleDownMode",
    "scaleSetPriority",
    "scaleSetEvictionPolicy",
    "spotMaxPrice",
    "provisioningState",
    "powerState",
    "orchestratorVersion",
    "currentOrchestratorVersion",
    "enableNodePublicIP",
    "tags",
    "nodeLabels",
    "nodeTaints",
    "mode",
    "enableEncryptionAtHost",
    "enableUltraSSD",
    "osType",
    "osSKU",
    "nodeImageVersion",
    "upgradeSettings",
    "enableFIPS",
    "gatewayProfile",
];

impl ManagedCluster {
    /// Whether the cluster is stopped (or stopping): its API server does not answer.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// The provisioning state pool `key` shows: a cluster-wide operation's while one runs,
    /// else its own operation's (running, failed or canceled), else the cluster's.
    pub fn pool_state(&self, key: &str) -> ProvisioningState {
        if self.provisioning_state.is_running() {
            return self.provisioning_state;
        }
        match self.pool_status.get(key).map(|s| s.provisioning_state) {
            Some(ProvisioningState::Succeeded) | None => self.provisioning_state,
            Some(own) => own,
        }
    }

    /// A running operation of any pool: `(pool name, state)`.
    pub fn running_pool_operation(&self) -> Option<(String, ProvisioningState)> {
        self.pool_status
            .iter()
            .find(|(_, s)| s.provisioning_state.is_running() && s.operation_id.is_some())
            .map(|(key, s)| {
                let name = profiles(&self.properties)
                    .iter()
                    .map(name_of)
                    .find(|n| n.eq_ignore_ascii_case(key))
                    .unwrap_or(key)
                    .to_owned();
                (name, s.provisioning_state)
            })
    }

    /// One pool's `properties` as AKS shows them (`with_name`: the cluster's
    /// `agentPoolProfiles` item, which carries `name` first).
    pub fn render_pool(&self, pool: &Map<String, Value>, with_name: bool) -> Map<String, Value> {
        let name = str_of(pool, "name").unwrap_or("");
        let key = name.to_ascii_lowercase();
        let mut server = Map::new();
        server.insert(
            "provisioningState".into(),
            self.pool_state(&key).as_str().into(),
        );
        let current = self
            .pool_status
            .get(&key)
            .map_or(self.current_kubernetes_version.as_str(), |s| {
                s.current_version.as_str()
            });
        server.insert("currentOrchestratorVersion".into(), current.into());
        if self.stopped {
            server.insert("powerState".into(), serde_json::json!({"code": "Stopped"}));
        }
        let mut out = Map::new();
        if with_name {
            out.insert("name".into(), name.into());
        }
        for key in ORDER {
            if let Some(v) = server.get(*key).or_else(|| pool.get(*key)) {
                out.insert((*key).to_owned(), v.clone());
            }
        }
        for (k, v) in pool {
            if k != "name" && !out.contains_key(k) {
                out.insert(k.clone(), v.clone());
            }
        }
        if let Some(tag) = self.pool_etags.get(&key).filter(|_| self.shows_etags()) {
            out.insert("eTag".into(), tag.clone().into());
        }
        out
    }

    /// The cluster's `agentPoolProfiles` as AKS shows them.
    pub fn render_profiles(&self) -> Value {
        Value::Array(
            profiles(&self.properties)
                .iter()
                .filter_map(Value::as_object)
                .map(|p| Value::Object(self.render_pool(p, true)))
                .collect(),
        )
    }

    pub fn pool_id(&self, pool: &str) -> String {
        format!("{}/agentPools/{pool}", self.id())
    }

    /// The agentPools child resource of pool `name` (`None`: no such pool).
    pub fn agent_pool(&self, name: &str) -> Option<Value> {
        let pools = profiles(&self.properties);
        let pool = pools.get(position(pools, name)?)?.as_object()?;
        let stored_name = str_of(pool, "name").unwrap_or(name);
        Some(serde_json::json!({
            "id": self.pool_id(stored_name),
            "name": stored_name,
            "type": RESOURCE_TYPE,
            "properties": Value::Object(self.render_pool(pool, false)),
        }))
    }

    /// Every pool as a child resource, in the order of `agentPoolProfiles`.
    pub fn agent_pools(&self) -> Vec<Value> {
        profiles(&self.properties)
            .iter()
            .filter_map(|p| self.agent_pool(name_of(p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_drop_request_only_values_and_keep_spot_ones() {
        let mut pool = serde_json::json!({
            "name": "np", "count": 2, "vmSize": "Standard_DS2_v2", "scaleSetPriority": "Regular",
            "scaleSetEvictionPolicy": "Delete", "spotMaxPrice": -1.0, "nodeTaints": [],
            "upgradeSettings": {}, "osDiskSizeGB": 0
        });
        let p = pool.as_object_mut().unwrap();
        let today = serde_json::json!({"upgradeSettings": {"maxSurge": "10%"}});
        let today = today.as_object().unwrap();
        fill_defaults(
            p,
            "1.33",
            Origin::AgentPoolApi,
            today,
            &Map::new(),
            &BTreeMap::new(),
        );
        assert!(!p.contains_key("scaleSetPriority") && !p.contains_key("nodeTaints"));
        assert_eq!(p["upgradeSettings"], serde_json::json!({}));
        assert_eq!(p["osDiskSizeGB"], 128);
        assert_eq!(p["mode"], "User");
        let mut spot = serde_json::json!({"name": "sp", "scaleSetPriority": "Spot",
            "spotMaxPrice": -1.0, "upgradeSettings": {}});
        let s = spot.as_object_mut().unwrap();
        let overlay = serde_json::json!({"networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay"}});
        fill_defaults(
            s,
            "1.33",
            Origin::Cluster,
            today,
            overlay.as_object().unwrap(),
            &BTreeMap::new(),
        );
        assert_eq!(s["maxPods"], 250);
        assert_eq!(s["scaleSetPriority"], "Spot");
        assert_eq!(s["upgradeSettings"]["maxSurge"], "10%");
        assert_eq!(s["mode"], "System");
        assert_eq!(s["vmSize"], SERVER_VM_SIZE);
        assert_eq!(s["osDiskType"], "Ephemeral");
        // Before the day maxSurge was filled, `{}` stays `{}`.
        let mut old =
            serde_json::json!({"name": "np", "vmSize": "Standard_DS2_v2", "upgradeSettings": {}});
        let o = old.as_object_mut().unwrap();
        fill_defaults(
            o,
            "1.27",
            Origin::Cluster,
            &Map::new(),
            &Map::new(),
            &BTreeMap::new(),
        );
        assert_eq!(o["maxPods"], 110);
        assert_eq!(o["upgradeSettings"], serde_json::json!({}));
        assert_eq!(o["osDiskType"], "Managed");
    }
}
