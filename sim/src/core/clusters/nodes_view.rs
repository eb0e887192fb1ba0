//! A cluster's agent pools as its Kubernetes nodes see them ([`NodesView`]), handed to the
//! plane with the mesh when an operation ends.

use serde_json::Value;

use time::OffsetDateTime;

use super::pools::{NODE_IMAGE_UBUNTU as DEFAULT_NODE_IMAGE, SERVER_VM_SIZE as DEFAULT_VM_SIZE};
use super::{Clusters, ManagedCluster};
use crate::core::kube::nodes::{NodesView, PoolView};

/// The 8 digits of a cluster's node names: stable for the cluster (from its resource uid).
fn node_id(cluster: &ManagedCluster) -> String {
    let hash = cluster
        .resource_uid
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{:08}", hash % 100_000_000)
}

fn pool_stopped(p: &Value) -> bool {
    p.pointer("/powerState/code")
        .and_then(Value::as_str)
        .is_some_and(|c| c.eq_ignore_ascii_case("stopped"))
}

/// The pools of `cluster` (count, size, OS, mode, zones) and its running version.
pub fn nodes_view(cluster: &ManagedCluster) -> NodesView {
    let s = |p: &Value, k: &str, d: &str| -> String {
        p.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .unwrap_or(d)
            .to_owned()
    };
    let pools = cluster
        .properties
        .get("agentPoolProfiles")
        .and_then(Value::as_array)
        .map(|pools| {
            pools
                .iter()
                .map(|p| PoolView {
                    name: s(p, "name", "nodepool1"),
                    // A stopped pool has no nodes.
                    count: if pool_stopped(p) {
                        0
                    } else {
                        p.get("count")
                            .and_then(Value::as_u64)
                            .unwrap_or(3)
                            .min(1000) as u32
                    },
                    vm_size: s(p, "vmSize", DEFAULT_VM_SIZE),
                    os_type: s(p, "osType", "Linux"),
                    os_sku: s(p, "osSKU", "Ubuntu"),
                    mode: s(p, "mode", "System"),
                    version: cluster
                        .pool_status
                        .get(&s(p, "name", "nodepool1").to_ascii_lowercase())
                        .map_or_else(
                            || cluster.current_kubernetes_version.clone(),
                            |st| st.current_version.clone(),
                        ),
                    zones: p
                        .get("availabilityZones")
                        .and_then(Value::as_array)
                        .map(|z| {
                            z.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    max_pods: p
                        .get("maxPods")
                        .and_then(Value::as_u64)
                        .unwrap_or(110)
                        .min(250) as u32,
                    node_image: s(p, "nodeImageVersion", DEFAULT_NODE_IMAGE),
                    removed: cluster
                        .surface
                        .deleted_machines
                        .get(&s(p, "name", "nodepool1").to_ascii_lowercase())
                        .map(|d| d.iter().filter_map(|i| u32::try_from(*i).ok()).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    NodesView {
        id: node_id(cluster),
        location: cluster.location.clone(),
        subscription: cluster.subscription.clone(),
        node_resource_group: cluster.node_resource_group.clone(),
        pools,
    }
}

/// After a pool's own operation (the agentPools API): the plane's nodes follow the pools, its
/// mesh unchanged.
pub fn refresh(clusters: &mut Clusters, key: &str, now: OffsetDateTime) {
    let Some(cluster) = clusters.clusters.get(key) else {
        return;
    };
    let nodes = nodes_view(cluster);
    if let Some(plane) = clusters.planes.get_mut(key) {
        let mut view = plane.mesh.clone();
        view.nodes = Some(nodes);
        plane.reconcile_addon(&view, now);
    }
}
