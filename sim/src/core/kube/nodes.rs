//! Nodes: one `Node` per VM of the cluster's agent pools, as a pure function of the
//! [`NodesView`] (part of the [`MeshView`](super::MeshView) the cluster hands the plane when
//! an operation ends), reconciled like the add-on's objects: added, changed (version, pool
//! labels) and removed with the pools. Names are AKS's: `aks-<pool>-<8 digits>-vmss<6 base-36
//! digits>` for Linux pools, `<pool><6 base-36 digits>` for Windows ones. A node that goes
//! away takes the pods scheduled on it (their controllers make new ones elsewhere).
//!
//! Scheduling is here too: [`Plane::schedule`] picks a node for a new pod (the Linux nodes
//! for Linux pods, Windows nodes for `kubernetes.io/os: windows`) and its pod IP from the
//! node's pod CIDR.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::catalog::ResourceType;
use super::{object_key, str_at, timestamp, Plane};

/// One agent pool, as the nodes see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolView {
    pub name: String,
    pub count: u32,
    pub vm_size: String,
    /// `Linux` or `Windows`.
    pub os_type: String,
    pub os_sku: String,
    /// `System` or `User`.
    pub mode: String,
    /// The kubelet's version (`1.33.2`).
    pub version: String,
    /// Availability zones (`["1","2","3"]`), empty when the pool has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<String>,
    pub max_pods: u32,
    pub node_image: String,
    /// Scale-set instance indices removed from the pool (`deleteMachines`): the pool's nodes
    /// are the first `count` indices not among them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<u32>,
}

/// What a cluster's nodes derive from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodesView {
    /// The 8 digits in every node name of the cluster.
    pub id: String,
    /// The cluster's region (`eastus`).
    pub location: String,
    pub subscription: String,
    pub node_resource_group: String,
    pub pools: Vec<PoolView>,
}

/// The node name used when a plane has no nodes (planes made without a cluster).
pub const FALLBACK_NODE: &str = "aks-nodepool1-00000000-vmss000000";

/// `n` in base 36, six digits (`00000a`), as VMSS instance names count.
fn base36(mut n: u32) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_windows(pool: &PoolView) -> bool {
    pool.os_type.eq_ignore_ascii_case("windows")
}

/// The scale-set instance indices of `pool`'s nodes: the first `count` not removed.
pub fn pool_indices(pool: &PoolView) -> impl Iterator<Item = u32> + '_ {
    (0..)
        .filter(|i| !pool.removed.contains(i))
        .take(pool.count as usize)
}

/// The scale set of `pool` (`aks-<pool>-<digits>-vmss`; a Windows pool's is the pool's name).
pub fn scale_set_name(view: &NodesView, pool: &PoolView) -> String {
    if is_windows(pool) {
        pool.name.to_ascii_lowercase()
    } else {
        format!("aks-{}-{}-vmss", pool.name.to_ascii_lowercase(), view.id)
    }
}

/// A node's name (also its machine's name in the agentPools API).
pub fn node_name(view: &NodesView, pool: &PoolView, index: u32) -> String {
    if is_windows(pool) {
        format!("{}{}", pool.name.to_ascii_lowercase(), base36(index))
    } else {
        format!(
            "aks-{}-{}-vmss{}",
            pool.name.to_ascii_lowercase(),
            view.id,
            base36(index)
        )
    }
}

/// vCPUs and memory (KiB) of a VM size: the digits after the family letters
/// (`Standard_D4ds_v5` → 4 vCPUs), 4 GiB per vCPU (8 for E, 2 for F series).
fn vm_shape(vm_size: &str) -> (u64, u64) {
    let rest = vm_size
        .strip_prefix("Standard_")
        .unwrap_or(vm_size)
        .to_ascii_uppercase();
    let family = rest.chars().next().unwrap_or('D');
    let digits: String = rest
        .chars()
        .skip_while(|c| c.is_ascii_alphabetic())
        .take_while(char::is_ascii_digit)
        .collect();
    let cpus = digits.parse::<u64>().unwrap_or(2).clamp(1, 416);
    let per_cpu_gib = match family {
        'E' | 'M' => 8,
        'F' => 2,
        _ => 4,
    };
    (cpus, cpus * per_cpu_gib * 1024 * 1024)
}

/// The index of every node among the cluster's nodes (its InternalIP and pod CIDR).
fn node_object(view: &NodesView, pool: &PoolView, index: u32, ordinal: u32) -> Value {
    let name = node_name(view, pool, index);
    let os = if is_windows(pool) { "windows" } else { "linux" };
    let zone = if pool.zones.is_empty() {
        "0".to_owned()
    } else {
        let z = &pool.zones[(index as usize) % pool.zones.len()];
        format!("{}-{z}", view.location)
    };
    let labels = json!({
        "agentpool": pool.name,
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": pool.vm_size,
        "beta.kubernetes.io/os": os,
        "failure-domain.beta.kubernetes.io/region": view.location,
        "failure-domain.beta.kubernetes.io/zone": zone,
        "kubernetes.azure.com/agentpool": pool.name,
        "kubernetes.azure.com/cluster": view.node_resource_group,
        "kubernetes.azure.com/mode": pool.mode.to_ascii_lowercase(),
        "kubernetes.azure.com/node-image-version": pool.node_image,
        "kubernetes.azure.com/os-sku": pool.os_sku,
        "kubernetes.azure.com/role": "agent",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": os,
        "kubernetes.io/role": "agent",
        "node.kubernetes.io/instance-type": pool.vm_size,
        "topology.kubernetes.io/region": view.location,
        "topology.kubernetes.io/zone": zone,
    });
    let (cpus, mem_kib) = vm_shape(&pool.vm_size);
    // AKS's kube-reserved: a little CPU and about a fifth of the memory, plus eviction 100Mi.
    let alloc_cpu = cpus * 1000 - (60 + 20 * cpus).min(cpus * 1000 / 2);
    let alloc_mem = mem_kib - mem_kib / 5 - 100 * 1024;
    let ip = format!("10.224.{}.{}", ordinal / 250, ordinal % 250 + 4);
    let vmss = scale_set_name(view, pool);
    let provider = format!(
        "azure:///subscriptions/{}/resourceGroups/{}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}/virtualMachines/{index}",
        view.subscription,
        view.node_resource_group.to_ascii_lowercase()
    );
    let (image, kernel, runtime) = if is_windows(pool) {
        (
            "Windows Server 2022 Datacenter",
            "10.0.20348.2849",
            "containerd://1.7.20+azure",
        )
    } else {
        (
            "Ubuntu 22.04.5 LTS",
            "5.15.0-1079-azure",
            "containerd://1.7.27-1",
        )
    };
    let uuid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, provider.as_bytes())
        .hyphenated()
        .to_string();
    let kubelet = format!("v{}", pool.version);
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"
            }
        },
        "spec": {
            "podCIDR": format!("10.244.{ordinal}.0/24"),
            "podCIDRs": [format!("10.244.{ordinal}.0/24")],
            "providerID": provider
        },
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name}
            ],
            "capacity": {
                "cpu": cpus.to_string(),
                "ephemeral-storage": "129886128Ki",
                "hugepages-1Gi": "0",
                "hugepages-2Mi": "0",
                "memory": format!("{mem_kib}Ki"),
                "pods": pool.max_pods.to_string()
            },
            "allocatable": {
                "cpu": format!("{alloc_cpu}m"),
                "ephemeral-storage": "119703055367",
                "hugepages-1Gi": "0",
                "hugepages-2Mi": "0",
                "memory": format!("{alloc_mem}Ki"),
                "pods": pool.max_pods.to_string()
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": uuid,
                "containerRuntimeVersion": runtime,
                "kernelVersion": kernel,
                "kubeProxyVersion": kubelet,
                "kubeletVersion": kubelet,
                "machineID": uuid.replace('-', ""),
                "operatingSystem": os,
                "osImage": image,
                "systemUUID": uuid
            }
        }
    })
}

/// Every node `view` describes, in pool order: (name, object).
pub fn node_objects(view: &NodesView) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut ordinal = 0;
    for pool in &view.pools {
        for index in pool_indices(pool) {
            out.push((
                node_name(view, pool, index),
                node_object(view, pool, index, ordinal),
            ));
            ordinal += 1;
        }
    }
    out
}

/// The node's conditions at `now` (set when it is added: Ready since then).
fn with_conditions(mut node: Value, since: &str) -> Value {
    let cond = |t: &str, s: &str, reason: &str, message: &str| {
        json!({"type": t, "status": s, "reason": reason, "message": message,
               "lastHeartbeatTime": since, "lastTransitionTime": since})
    };
    node["status"]["conditions"] = json!([
        cond(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available"
        ),
        cond(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure"
        ),
        cond(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available"
        ),
        cond(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status"
        ),
    ]);
    node
}

pub fn nodes_type() -> ResourceType {
    super::catalog::builtins()
        .into_iter()
        .find(|t| t.resource == "nodes")
        .expect("nodes is a built-in")
}

/// A node the scheduler may use: name, OS, InternalIP's pod CIDR base.
#[derive(Debug, Clone)]
pub struct Schedulable {
    pub name: String,
    pub os: String,
    pub host_ip: String,
    /// `10.244.N` of the node's `10.244.N.0/24`.
    pub pod_net: String,
}

impl Plane {
    /// Makes the nodes match `view` (none when `None`); the pods of a node that went away
    /// go with it.
    pub(super) fn apply_nodes(&mut self, view: Option<&NodesView>, now: OffsetDateTime) {
        let rt = nodes_type();
        let desired = view.map(node_objects).unwrap_or_default();
        let stale: Vec<String> = self
            .objects_of(&rt)
            .map(|(_, o)| o)
            .filter(|o| {
                o.pointer("/metadata/labels/kubernetes.azure.com~1agentpool")
                    .is_some()
            })
            .map(|o| str_at(o, "/metadata/name").to_owned())
            .filter(|n| !desired.iter().any(|(d, _)| d == n))
            .collect();
        for name in stale {
            self.remove(&rt, "", &name);
            self.remove_pods_on(&name);
        }
        for (name, want) in desired {
            let key = object_key("", "nodes", "", &name);
            match self.objects.get(&key).map(|o| Value::clone(o)) {
                None => {
                    let object = self.with_system_fields(&rt, want, now);
                    let object = with_conditions(object, &timestamp(now));
                    self.store(&rt, "", &name, object, "ADDED");
                }
                Some(existing) => {
                    // The user's labels, annotations and taints stay; the pool's win.
                    let mut next = existing.clone();
                    for part in ["labels", "annotations"] {
                        if let Some(m) = want["metadata"][part].as_object() {
                            for (k, v) in m {
                                next["metadata"][part][k] = v.clone();
                            }
                        }
                    }
                    next["status"]["nodeInfo"] = want["status"]["nodeInfo"].clone();
                    next["status"]["capacity"] = want["status"]["capacity"].clone();
                    next["status"]["allocatable"] = want["status"]["allocatable"].clone();
                    next["status"]["addresses"] = want["status"]["addresses"].clone();
                    if next != existing {
                        self.store(&rt, "", &name, next, "MODIFIED");
                    }
                }
            }
        }
    }

    /// Deletes the pods scheduled on `node`.
    fn remove_pods_on(&mut self, node: &str) {
        let Some(pods) = super::catalog::builtins()
            .into_iter()
            .find(|t| t.resource == "pods" && t.group.is_empty())
        else {
            return;
        };
        let gone: Vec<(String, String)> = self
            .objects_of(&pods)
            .map(|(_, o)| o)
            .filter(|o| str_at(o, "/spec/nodeName") == node)
            .map(|o| {
                (
                    str_at(o, "/metadata/namespace").to_owned(),
                    str_at(o, "/metadata/name").to_owned(),
                )
            })
            .collect();
        for (ns, name) in gone {
            self.remove(&pods, &ns, &name);
        }
    }

    /// The nodes pods may be scheduled on, in name order.
    pub fn schedulable_nodes(&self) -> Vec<Schedulable> {
        self.objects_of(&nodes_type())
            .map(|(_, o)| o)
            .filter(|o| o.pointer("/spec/unschedulable") != Some(&json!(true)))
            .map(|o| {
                let cidr = str_at(o, "/spec/podCIDR");
                Schedulable {
                    name: str_at(o, "/metadata/name").to_owned(),
                    os: str_at(o, "/metadata/labels/kubernetes.io~1os").to_owned(),
                    host_ip: o
                        .pointer("/status/addresses/0/address")
                        .and_then(Value::as_str)
                        .unwrap_or("10.224.0.4")
                        .to_owned(),
                    pod_net: cidr.trim_end_matches(".0/24").to_owned(),
                }
            })
            .collect()
    }

    /// Where a new pod runs: (nodeName, hostIP, podIP). A pod that names its node keeps it;
    /// otherwise the nodes of its OS take turns (by the plane's resourceVersion). Without
    /// nodes: the fallback node, `10.224.0.4`, an IP from `10.244.0.0/16`.
    pub fn schedule(&self, pod: &Value) -> (String, String, String) {
        let rv = self.resource_version;
        let host = (rv % 250 + 2).to_string();
        let nodes = self.schedulable_nodes();
        let wanted = str_at(pod, "/spec/nodeName");
        let os = match str_at(pod, "/spec/nodeSelector/kubernetes.io~1os") {
            "" => "linux",
            os => os,
        };
        let pick = if wanted.is_empty() {
            let fit: Vec<&Schedulable> = nodes.iter().filter(|n| n.os == os).collect();
            (!fit.is_empty()).then(|| fit[(rv as usize) % fit.len()].clone())
        } else {
            nodes.iter().find(|n| n.name == wanted).cloned()
        };
        match pick {
            Some(n) => {
                let ip = format!("{}.{}", n.pod_net, host);
                (n.name, n.host_ip, ip)
            }
            None => {
                let name = if wanted.is_empty() {
                    FALLBACK_NODE
                } else {
                    wanted
                };
                (
                    name.to_owned(),
                    "10.224.0.4".to_owned(),
                    format!("10.244.{}.{host}", (rv / 250) % 250),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(count: u32) -> NodesView {
        NodesView {
            id: "12345678".into(),
            location: "eastus".into(),
            subscription: "sub".into(),
            node_resource_group: "MC_rg_c1_eastus".into(),
            pools: vec![PoolView {
                name: "nodepool1".into(),
                count,
                vm_size: "Standard_D4ds_v5".into(),
                os_type: "Linux".into(),
                os_sku: "Ubuntu".into(),
                mode: "System".into(),
                version: "1.33.2".into(),
                zones: vec![],
                max_pods: 110,
                node_image: "img".into(),
                removed: vec![],
            }],
        }
    }

    #[test]
    fn names_count_in_base_36() {
        let nodes = node_objects(&view(12));
        assert_eq!(nodes[0].0, "aks-nodepool1-12345678-vmss000000");
        assert_eq!(nodes[10].0, "aks-nodepool1-12345678-vmss00000a");
        assert_eq!(nodes[11].0, "aks-nodepool1-12345678-vmss00000b");
        assert_eq!(
            nodes[0].1["status"]["nodeInfo"]["kubeletVersion"],
            "v1.33.2"
        );
        assert_eq!(nodes[0].1["status"]["capacity"]["cpu"], "4");
    }

    #[test]
    fn plane_follows_pool_count() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut plane = Plane::new("1.33.2", "t", now);
        plane.apply_nodes(Some(&view(3)), now);
        assert_eq!(plane.schedulable_nodes().len(), 3);
        plane.apply_nodes(Some(&view(1)), now);
        assert_eq!(plane.schedulable_nodes().len(), 1);
        let rv = plane.resource_version;
        plane.apply_nodes(Some(&view(1)), now);
        assert_eq!(plane.resource_version, rv, "no change, no event");
    }
}
