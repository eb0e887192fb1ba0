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
pub fn pool_profile(catalog: &AksCatalog, cluster: &ManagedCluster, pool: &str) -> Option<Value> {
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
            "latestNodeImageVersion": node_image_for(p),
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

/// The 8 digits AKS puts in a pool's scale-set name, derived from the cluster and the pool
/// (stable, and drawing nothing from the id stream).
fn scale_set_digits(cluster: &ManagedCluster, pool: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in cluster.resource_uid.bytes().chain([0]).chain(pool.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08}", h % 100_000_000)
}

/// The machines (`agentPools/{p}/machines`) of pool `pool`: one per node of its `count` (none
/// while the cluster or the pool is stopped), named as AKS names scale-set VMs
/// (`aks-{pool}-{digits}-vmss{index:06}`), each with an IPv4 address of the node subnet.
/// `None`: no such pool.
pub fn machines(cluster: &ManagedCluster, pool: &str) -> Option<Vec<Value>> {
    let all = profiles(&cluster.properties);
    let index = position(all, pool)?;
    let p = all.get(index)?.as_object()?;
    let name = name_of(&all[index]).to_owned();
    let stopped = cluster.stopped
        || p.get("powerState")
            .and_then(|s| s.get("code"))
            .and_then(Value::as_str)
            .is_some_and(|c| c.eq_ignore_ascii_case("stopped"));
    let count = if stopped {
        0
    } else {
        p.get("count")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(1000)
    };
    let digits = scale_set_digits(cluster, &name.to_ascii_lowercase());
    let vmss = format!("aks-{}-{digits}-vmss", name.to_ascii_lowercase());
    // Nodes of earlier pools come first in the node subnet.
    let before: u64 = all[..index]
        .iter()
        .filter_map(|q| q.get("count").and_then(Value::as_u64))
        .sum();
    let deleted = cluster
        .surface
        .deleted_machines
        .get(&name.to_ascii_lowercase());
    Some(
        (0..)
            .filter(|i| deleted.is_none_or(|d| !d.contains(i)))
            .take(usize::try_from(count).unwrap_or(0))
            .map(|i| {
                let host = 4 + before + i;
                let machine = format!("{vmss}{i:06}");
                json!({
                    "id": format!("{}/machines/{machine}", cluster.pool_id(&name)),
                    "name": machine,
                    "type": "Microsoft.ContainerService/managedClusters/agentPools/machines",
                    "properties": {
                        "network": {"ipAddresses": [{
                            "family": "IPv4",
                            "ip": format!("10.224.{}.{}", host / 256, host % 256),
                        }]},
                        "resourceId": format!(
                            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}/virtualMachines/{i}",
                            cluster.subscription, cluster.node_resource_group
                        ),
                    },
                })
            })
            .collect(),
    )
}
