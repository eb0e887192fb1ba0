//! Upgrade profiles from the day's Kubernetes catalogue: a cluster's
//! `upgradeProfiles/default` (`az aks get-upgrades`: the control plane's and each pool's
//! targets) and a pool's `agentPools/{p}/upgradeProfiles/default` (`az aks nodepool
//! get-upgrades`), shaped as the spec-generated SDK models (`ManagedClusterUpgradeProfile`,
//! `AgentPoolUpgradeProfile`); also `availableAgentPoolVersions` and a pool's `machines` (views
//! of the catalogue and of the pools, like the profiles).
//!
//! Targets: the control plane (and, in the cluster's profile, each pool with it) may move to a
//! later patch of its minor or to any patch of the next minor — the same edges
//! `kubernetesVersions` lists; a pool on its own may move to any version after its own that is
//! not newer than the control plane.

use serde_json::{json, Map, Value};

use super::pools::{self, is_windows, name_of, node_image_for, position, profiles};
use super::ManagedCluster;
use crate::core::kube::nodes::node_objects;
use crate::core::timeline::catalog::AksCatalog;

fn triple(version: &str) -> Option<(u32, u32, u32)> {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

/// Every catalogue patch with its minor's preview flag, oldest first.
fn patches(catalog: &AksCatalog) -> Vec<(String, bool)> {
    let mut all: Vec<(String, bool)> = catalog
        .kubernetes
        .versions
        .iter()
        .flat_map(|m| m.patch_versions.iter().map(move |p| (p.clone(), m.preview)))
        .collect();
    all.sort_by_key(|(p, _)| triple(p));
    all
}

fn item(version: &str, preview: bool) -> Value {
    let mut v = json!({ "kubernetesVersion": version });
    if preview {
        v["isPreview"] = true.into();
    }
    v
}

/// A later patch of `current`'s minor, or any patch of the next minor.
fn control_plane_targets(catalog: &AksCatalog, current: &str) -> Vec<Value> {
    let Some(now) = triple(current) else {
        return Vec::new();
    };
    patches(catalog)
        .into_iter()
        .filter(|(p, _)| {
            triple(p).is_some_and(|t| {
                t.0 == now.0 && ((t.1 == now.1 && t.2 > now.2) || t.1 == now.1 + 1)
            })
        })
        .map(|(p, preview)| item(&p, preview))
        .collect()
}

fn os_type(pool: &Map<String, Value>) -> &'static str {
    if is_windows(pool) {
        "Windows"
    } else {
        "Linux"
    }
}

fn pool_current(cluster: &ManagedCluster, name: &str) -> String {
    cluster
        .pool_status
        .get(&name.to_ascii_lowercase())
        .map_or_else(
            || cluster.current_kubernetes_version.clone(),
            |s| s.current_version.clone(),
        )
}

/// `managedClusters/{c}/upgradeProfiles/default`.
pub fn cluster_profile(catalog: &AksCatalog, cluster: &ManagedCluster) -> Value {
    let current = &cluster.current_kubernetes_version;
    let agent_pools: Vec<Value> = profiles(&cluster.properties)
        .iter()
        .filter_map(Value::as_object)
        .map(|p| {
            let name = pools::str_of(p, "name").unwrap_or("");
            let version = pool_current(cluster, name);
            json!({
                "kubernetesVersion": version,
                "name": name,
                "osType": os_type(p),
                "upgrades": control_plane_targets(catalog, &version),
            })
        })
        .collect();
    json!({
        "id": format!("{}/upgradeprofiles/default", cluster.id()),
        "name": "default",
        "type": "Microsoft.ContainerService/managedClusters/upgradeprofiles",
        "properties": {
            "controlPlaneProfile": {
                "kubernetesVersion": current,
                "osType": "Linux",
                "upgrades": control_plane_targets(catalog, current),
            },
            "agentPoolProfiles": agent_pools,
        },
    })
}

/// `managedClusters/{c}/agentPools/{p}/upgradeProfiles/default` (`None`: no such pool).
pub fn pool_profile(
    catalog: &AksCatalog,
    images: &std::collections::BTreeMap<String, String>,
    cluster: &ManagedCluster,
    pool: &str,
) -> Option<Value> {
    let all = profiles(&cluster.properties);
    let p = all.get(position(all, pool)?)?.as_object()?;
    let name = name_of(&all[position(all, pool)?]).to_owned();
    let version = pool_current(cluster, &name);
    let (now, ceiling) = (
        triple(&version),
        triple(&cluster.current_kubernetes_version),
    );
    let upgrades: Vec<Value> = patches(catalog)
        .into_iter()
        .filter(|(v, _)| {
            let t = triple(v);
            t > now && t <= ceiling && t.map(|t| t.0) == now.map(|n| n.0)
        })
        .map(|(v, preview)| item(&v, preview))
        .collect();
    Some(json!({
        "id": format!("{}/upgradeProfiles/default", cluster.pool_id(&name)),
        "name": "default",
        "type": "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles",
        "properties": {
            "kubernetesVersion": version,
            "osType": os_type(p),
            "upgrades": upgrades,
            "latestNodeImageVersion": node_image_for(p, images),
        },
    }))
}

/// `managedClusters/{c}/availableAgentPoolVersions`: every patch of the day's catalogue, the
/// default minor's newest marked `default` (the shape of the spec's example
/// `AgentPoolsGetAgentPoolAvailableVersions.json`).
pub fn available_versions(catalog: &AksCatalog, cluster: &ManagedCluster) -> Value {
    let default = catalog
        .resolve_kubernetes(&catalog.kubernetes.default)
        .map(|(_, patch)| patch);
    let versions: Vec<Value> = patches(catalog)
        .into_iter()
        .map(|(v, preview)| {
            let mut item = item(&v, preview);
            if default.as_deref() == Some(v.as_str()) {
                item["default"] = true.into();
            }
            item
        })
        .collect();
    json!({
        "id": format!("{}/availableagentpoolversions", cluster.id()),
        "name": "default",
        "type": "Microsoft.ContainerService/managedClusters/availableAgentpoolversions",
        "properties": { "agentPoolVersions": versions },
    })
}

/// The machines (`agentPools/{p}/machines`) of pool `pool`: one per node of the pool (none
/// while the cluster or the pool is stopped), named as the node is
/// (`aks-{pool}-{digits}-vmss{index}`), with the node's InternalIP and its scale-set VM.
/// `None`: no such pool.
pub fn machines(cluster: &ManagedCluster, pool: &str) -> Option<Vec<Value>> {
    let all = profiles(&cluster.properties);
    let index = position(all, pool)?;
    let name = name_of(&all[index]).to_owned();
    if cluster.stopped {
        return Some(Vec::new());
    }
    let view = super::nodes_view::nodes_view(cluster);
    let nodes = node_objects(&view);
    Some(
        nodes
            .iter()
            .filter(|(_, node)| {
                node.pointer("/metadata/labels/kubernetes.azure.com~1agentpool")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.eq_ignore_ascii_case(&name))
            })
            .map(|(machine, node)| {
                let ip = node
                    .pointer("/status/addresses")
                    .and_then(Value::as_array)
                    .and_then(|a| {
                        a.iter()
                            .find(|x| x["type"] == "InternalIP")
                            .and_then(|x| x["address"].as_str())
                    })
                    .unwrap_or_default();
                let resource_id = node
                    .pointer("/spec/providerID")
                    .and_then(Value::as_str)
                    .and_then(|id| id.strip_prefix("azure://"))
                    .unwrap_or_default();
                json!({
                    "id": format!("{}/machines/{machine}", cluster.pool_id(&name)),
                    "name": machine,
                    "type": "Microsoft.ContainerService/managedClusters/agentPools/machines",
                    "properties": {
                        "network": {"ipAddresses": [{"family": "IPv4", "ip": ip}]},
                        "resourceId": resource_id,
                    },
                })
            })
            .collect(),
    )
}
