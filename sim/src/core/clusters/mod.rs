//! Managed clusters: the one home of the cluster model and its lifecycle.
//!
//! A [`ManagedCluster`] is the writable JSON the client sent (read-only input removed, nulls
//! dropped) plus the server-computed values; its Kubernetes plane (`core::kube::Plane`) lives
//! next to it under the same key in [`Clusters`], and the two live and die together.
//! Submodules: `body` (reading a PUT), `defaults` (what AKS fills in at create, by day),
//! `render` (the GET shape), `surface` (child resources, command results, snapshots and the
//! provider's read-only catalogues), `mesh` (the typed
//! `serviceMeshProfile`), `rules` (the registry of named PUT rules), `catalog` (Kubernetes
//! versions and mesh revisions), `lifecycle` (create/update/delete/abort and what their
//! operations do when they end), `profiles` (kubernetesVersions, meshRevisionProfiles,
//! meshUpgradeProfiles).

pub mod body;
pub mod defaults;
pub mod lifecycle;
pub mod mesh;
pub mod namespaces;
pub mod nodes_view;
pub mod pools;
pub mod power;
pub mod profiles;
mod render;
pub mod rules;
pub mod surface;
pub mod upgrades;

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::core::kube::Plane;
use crate::core::ops::{OpKind, Outcome};
use mesh::MeshProfile;

/// The provider namespace.
pub const NS: &str = "Microsoft.ContainerService";
/// The resource type clusters report.
pub const RESOURCE_TYPE: &str = "Microsoft.ContainerService/ManagedClusters";

/// The operation kinds of a cluster.
pub const CREATE: OpKind = OpKind::named("clusterCreate");
pub const UPDATE: OpKind = OpKind::named("clusterUpdate");
pub const DELETE: OpKind = OpKind::named("clusterDelete");

/// The key of a cluster (and of its plane) among a subscription's clusters: `"{rg}/{cluster}"`,
/// lower-case.
pub fn cluster_key(resource_group: &str, cluster: &str) -> String {
    format!(
        "{}/{}",
        resource_group.to_ascii_lowercase(),
        cluster.to_ascii_lowercase()
    )
}

/// A cluster's `provisioningState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProvisioningState {
    Creating,
    Updating,
    Deleting,
    Succeeded,
    Failed,
    Canceled,
    Stopping,
    Starting,
    Upgrading,
    Scaling,
    UpgradingNodeImageVersion,
}

impl ProvisioningState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisioningState::Creating => "Creating",
            ProvisioningState::Updating => "Updating",
            ProvisioningState::Deleting => "Deleting",
            ProvisioningState::Succeeded => "Succeeded",
            ProvisioningState::Failed => "Failed",
            ProvisioningState::Canceled => "Canceled",
            ProvisioningState::Stopping => "Stopping",
            ProvisioningState::Starting => "Starting",
            ProvisioningState::Upgrading => "Upgrading",
            ProvisioningState::Scaling => "Scaling",
            ProvisioningState::UpgradingNodeImageVersion => "UpgradingNodeImageVersion",
        }
    }

    /// Whether a write operation is running in this state.
    pub fn is_running(self) -> bool {
        !matches!(
            self,
            ProvisioningState::Succeeded | ProvisioningState::Failed | ProvisioningState::Canceled
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedCluster {
    pub subscription: String,
    /// Casing given at creation (ids and names echo it).
    pub resource_group: String,
    pub name: String,
    /// Canonical location (`eastus`).
    pub location: String,
    pub tags: Option<Map<String, Value>>,
    /// Writable top-level members other than location/tags/properties (`sku`, `identity`,
    /// `kind`, `extendedLocation`, unknown ones), as sent.
    pub top: Map<String, Value>,
    /// Writable `properties` as sent, minus `serviceMeshProfile` (kept typed in `mesh`);
    /// agent pools carry their filled-in defaults.
    pub properties: Map<String, Value>,
    /// `1.33` or `1.33.5`, as requested (or the default minor).
    pub kubernetes_version: String,
    /// Full patch version running.
    pub current_kubernetes_version: String,
    pub dns_prefix: String,
    /// The 8 hex digits in the FQDN.
    pub fqdn_hash: String,
    pub node_resource_group: String,
    pub resource_uid: String,
    pub principal_id: String,
    pub etag: String,
    /// Agent pool eTags by lower-cased pool name.
    pub pool_etags: BTreeMap<String, String>,
    /// `None`: never meshed (no `serviceMeshProfile` key in responses).
    pub mesh: Option<MeshProfile>,
    pub provisioning_state: ProvisioningState,
    /// The operation whose completion settles `provisioning_state`.
    pub operation_id: Option<String>,
    /// What only the server knows of each agent pool, by lower-cased name (`pools`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pool_status: BTreeMap<String, pools::PoolStatus>,
    /// `powerState.code` is `Stopped` (set when a stop is accepted, cleared when a start ends).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped: bool,
    /// How the GET renders, decided at create from the day's AKS (`defaults`).
    #[serde(default)]
    pub shape: defaults::Shape,
    /// Child resources and command results (`surface`), not part of the cluster's body.
    #[serde(default, skip_serializing_if = "surface::ClusterSurface::is_empty")]
    pub surface: surface::ClusterSurface,
    /// The serialised GET body; rebuilt after every change.
    #[serde(skip)]
    pub cached: Option<Bytes>,
}

impl ManagedCluster {
    /// Gives the stored JSON back the spare capacity parsing and building left in it (maps
    /// and arrays grow by doubling): ten thousand clusters keep their JSON for a long time.
    pub fn compact(&mut self) {
        if let Some(tags) = self.tags.as_mut() {
            crate::compact::map(tags);
        }
        crate::compact::map(&mut self.top);
        crate::compact::map(&mut self.properties);
    }

    /// The running write operation's state (second writes get `OperationNotAllowed`).
    pub fn running_operation(&self) -> Option<&'static str> {
        self.provisioning_state
            .is_running()
            .then(|| self.provisioning_state.as_str())
    }

    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn fqdn(&self) -> String {
        format!(
            "{}-{}.hcp.{}.azmk8s.io",
            self.dns_prefix.to_ascii_lowercase(),
            self.fqdn_hash,
            self.location
        )
    }

    pub fn support_plan(&self) -> &str {
        self.properties
            .get("supportPlan")
            .and_then(Value::as_str)
            .unwrap_or("KubernetesOfficial")
    }

    pub fn addons(&self) -> Option<&Map<String, Value>> {
        self.properties
            .get("addonProfiles")
            .and_then(Value::as_object)
    }

    pub fn disable_local_accounts(&self) -> bool {
        self.properties
            .get("disableLocalAccounts")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Marks the cluster changed: the cached body is rebuilt on the next read.
    pub fn touch(&mut self) {
        self.cached = None;
    }

    /// New eTags for the cluster and each agent pool (every cluster-level write).
    pub fn new_etags(&mut self, mut fresh: impl FnMut() -> String) {
        self.etag = fresh();
        let names: Vec<String> = self
            .properties
            .get("agentPoolProfiles")
            .and_then(Value::as_array)
            .map(|pools| {
                pools
                    .iter()
                    .filter_map(|p| p.get("name").and_then(Value::as_str))
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        self.pool_etags = names
            .into_iter()
            .map(|n| (n, fresh()))
            .collect::<BTreeMap<_, _>>();
        self.touch();
    }
}

/// What a cluster's operation does when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Effect {
    /// A create/update finished: `Succeeded`, and the Kubernetes plane is reconciled with the
    /// cluster's mesh. Ignored when a newer operation took over.
    ClusterProvisioned {
        cluster_key: String,
        operation_id: String,
    },
    /// A delete finished: the cluster and its plane are gone.
    ClusterDeleted {
        cluster_key: String,
        operation_id: String,
    },
}

/// A subscription's managed clusters and their Kubernetes planes, under one key each.
#[derive(Debug, Clone, Default)]
pub struct Clusters {
    pub clusters: BTreeMap<String, ManagedCluster>,
    pub planes: BTreeMap<String, Plane>,
    /// Node-pool snapshots (`Microsoft.ContainerService/snapshots`), by `rg/name`.
    pub snapshots: BTreeMap<String, surface::Snapshot>,
}

impl Clusters {
    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&ManagedCluster> {
        self.clusters.get(key)
    }

    /// Removes every cluster (and plane) of the resource group `group_key`.
    pub fn remove_group(&mut self, group_key: &str) {
        let prefix = format!("{group_key}/");
        self.planes.retain(|key, _| !key.starts_with(&prefix));
        self.clusters.retain(|key, _| !key.starts_with(&prefix));
        self.snapshots.retain(|key, _| !key.starts_with(&prefix));
    }

    /// Applies a finished pool or power operation's effect.
    pub fn apply_pool(&mut self, effect: &pools::Effect, outcome: Outcome) {
        use pools::lifecycle as pl;
        use pools::Effect as E;
        match (effect, outcome) {
            (
                E::AgentPoolProvisioned {
                    cluster_key,
                    pool,
                    operation_id,
                },
                Outcome::Succeeded,
            ) => pl::on_provisioned(self, cluster_key, pool, operation_id),
            (
                E::AgentPoolDeleted {
                    cluster_key,
                    pool,
                    operation_id,
                },
                Outcome::Succeeded,
            ) => pl::on_deleted(self, cluster_key, pool, operation_id),
            (
                E::AgentPoolProvisioned {
                    cluster_key,
                    pool,
                    operation_id,
                }
                | E::AgentPoolDeleted {
                    cluster_key,
                    pool,
                    operation_id,
                },
                Outcome::Failed,
            ) => pl::on_failed(self, cluster_key, pool, operation_id),
            (
                E::ClusterPowerChanged {
                    cluster_key,
                    operation_id,
                    running,
                },
                outcome,
            ) => power::on_changed(self, cluster_key, operation_id, *running, outcome),
        }
    }

    /// Applies a finished operation's effect.
    pub fn apply(&mut self, effect: &Effect, outcome: Outcome, now: OffsetDateTime) {
        match (effect, outcome) {
            (
                Effect::ClusterProvisioned {
                    cluster_key,
                    operation_id,
                },
                Outcome::Succeeded,
            ) => lifecycle::on_provisioned(self, cluster_key, operation_id, now),
            (
                Effect::ClusterDeleted {
                    cluster_key,
                    operation_id,
                },
                Outcome::Succeeded,
            ) => lifecycle::on_deleted(self, cluster_key, operation_id),
            (
                Effect::ClusterProvisioned {
                    cluster_key,
                    operation_id,
                }
                | Effect::ClusterDeleted {
                    cluster_key,
                    operation_id,
                },
                Outcome::Failed,
            ) => lifecycle::on_failed(self, cluster_key, operation_id),
        }
    }
}
