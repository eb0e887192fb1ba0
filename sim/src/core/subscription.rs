//! One subscription and everything in it: resource groups, registrations, managed clusters
//! with their Kubernetes planes, and the operations that change them. The subscription is the
//! unit of isolation and of locking (`core::store`), so cascades (a resource group's delete
//! takes its clusters) and snapshots are consistent.
//!
//! It is also where the domains meet: an operation carries an [`Effect`] that names its owner,
//! and [`Subscription::settle`] hands each finished operation's effect to the module that owns
//! the resource (`groups`, `clusters`); a cascade across domains happens here.
//!
//! Serialised (snapshots, `--state-file`) as the flat record it has always been
//! (`SubscriptionRecord`): grouping the fields by domain in memory does not change the format.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::core::clusters::{self, Clusters, ManagedCluster};
use crate::core::groups::{self, ResourceGroup};
use crate::core::kube::Plane;
use crate::core::ops::{Operation, Operations, Outcome};
use crate::core::registration::{Registration, Registrations};
use crate::limits;

/// What an operation does when it ends, by owner. Serialised untagged: each owner's effect
/// carries its own `type` tag, as the single enum before it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Effect {
    Group(groups::Effect),
    Cluster(clusters::Effect),
    Pool(clusters::pools::Effect),
}

impl Effect {
    /// The cluster (its key) an operation works on, and the agent pool when it is a pool's
    /// own operation; `None` for a resource group's.
    pub fn target(&self) -> Option<(&str, Option<&str>)> {
        use clusters::pools::Effect as P;
        use clusters::Effect as C;
        match self {
            Effect::Group(_) => None,
            Effect::Cluster(
                C::ClusterProvisioned { cluster_key, .. } | C::ClusterDeleted { cluster_key, .. },
            )
            | Effect::Pool(P::ClusterPowerChanged { cluster_key, .. }) => Some((cluster_key, None)),
            Effect::Pool(
                P::AgentPoolProvisioned {
                    cluster_key, pool, ..
                }
                | P::AgentPoolDeleted {
                    cluster_key, pool, ..
                },
            ) => Some((cluster_key, Some(pool))),
        }
    }
}

/// One subscription and everything in it.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Lower-case GUID.
    pub id: String,
    pub display_name: String,
    pub tenant_id: String,
    /// Keyed by the lower-cased name.
    pub groups: BTreeMap<String, ResourceGroup>,
    pub operations: Operations<Effect>,
    pub registrations: Registrations,
    pub clusters: Clusters,
    /// Whether anything was ever stored (lists show touched subscriptions only).
    pub touched: bool,
}

impl Subscription {
    pub fn new(id: &str, tenant_id: &str) -> Self {
        Subscription {
            id: id.to_owned(),
            display_name: format!("aksim subscription {id}"),
            tenant_id: tenant_id.to_owned(),
            groups: BTreeMap::new(),
            operations: Operations::default(),
            registrations: Registrations::default(),
            clusters: Clusters::default(),
            touched: false,
        }
    }

    /// How many resources of provider `namespace` the subscription holds (a provider cannot
    /// be unregistered while this is non-zero). Managed clusters count by their Kubernetes
    /// planes (one per cluster).
    pub fn resources_in_namespace(&self, namespace: &str) -> usize {
        if namespace.eq_ignore_ascii_case(clusters::NS) {
            self.clusters.planes.len()
        } else {
            0
        }
    }

    /// Whether [`Subscription::settle`] at `now` could change anything.
    pub fn needs_settle(&self, now: OffsetDateTime) -> bool {
        self.operations.needs_settle(now)
    }

    /// Finishes every operation that is due at `now`, earliest first, and applies its effect.
    pub fn settle(&mut self, now: OffsetDateTime) {
        // Effects may start or end other operations: ask again after each.
        while let Some((effect, outcome)) = self.operations.finish_next(now) {
            self.apply(&effect, outcome, now);
        }
    }

    fn apply(&mut self, effect: &Effect, outcome: Outcome, now: OffsetDateTime) {
        match effect {
            Effect::Group(effect) => {
                let gone = groups::apply(&mut self.groups, effect, outcome);
                if let Some(group_key) = gone {
                    self.clusters.remove_group(&group_key);
                }
            }
            Effect::Cluster(effect) => self.clusters.apply(effect, outcome, now),
            Effect::Pool(effect) => {
                self.clusters.apply_pool(effect, outcome);
                // The nodes follow the pools.
                if let crate::core::clusters::pools::Effect::AgentPoolProvisioned {
                    cluster_key,
                    ..
                }
                | crate::core::clusters::pools::Effect::AgentPoolDeleted {
                    cluster_key, ..
                } = effect
                {
                    crate::core::clusters::nodes_view::refresh(
                        &mut self.clusters,
                        cluster_key,
                        now,
                    );
                }
            }
        }
    }

    /// Records a new operation, dropping the oldest finished ones past the limit.
    pub fn add_operation(&mut self, op: Operation<Effect>) {
        self.touched = true;
        self.operations
            .add(op, limits::OPERATIONS_PER_SUBSCRIPTION_MAX);
    }

    /// Counts a poll of an operation's status URL (scripted operations finish after N polls),
    /// then settles; the operation as it is now.
    pub fn poll_operation(&mut self, id: &str, now: OffsetDateTime) -> Option<Operation<Effect>> {
        let id = id.to_ascii_lowercase();
        if !self.operations.count_poll(&id) {
            return None;
        }
        self.settle(now);
        self.operations.get(&id).cloned()
    }
}

/// The serialised form of a [`Subscription`] (the snapshot format, version 1).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionRef<'a> {
    id: &'a str,
    display_name: &'a str,
    tenant_id: &'a str,
    resource_groups: &'a BTreeMap<String, ResourceGroup>,
    operations: &'a Operations<Effect>,
    kube_planes: &'a BTreeMap<String, Plane>,
    features: &'a BTreeMap<String, Registration>,
    providers: &'a BTreeMap<String, Registration>,
    registration_seq: u64,
    managed_clusters: &'a BTreeMap<String, ManagedCluster>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    snapshots: &'a BTreeMap<String, clusters::surface::Snapshot>,
    touched: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubscriptionRecord {
    id: String,
    display_name: String,
    tenant_id: String,
    resource_groups: BTreeMap<String, ResourceGroup>,
    operations: Operations<Effect>,
    kube_planes: BTreeMap<String, Plane>,
    #[serde(default)]
    features: BTreeMap<String, Registration>,
    #[serde(default)]
    providers: BTreeMap<String, Registration>,
    #[serde(default)]
    registration_seq: u64,
    #[serde(default)]
    managed_clusters: BTreeMap<String, ManagedCluster>,
    #[serde(default)]
    snapshots: BTreeMap<String, clusters::surface::Snapshot>,
    touched: bool,
}

impl Serialize for Subscription {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SubscriptionRef {
            id: &self.id,
            display_name: &self.display_name,
            tenant_id: &self.tenant_id,
            resource_groups: &self.groups,
            operations: &self.operations,
            kube_planes: &self.clusters.planes,
            features: &self.registrations.features,
            providers: &self.registrations.providers,
            registration_seq: self.registrations.seq,
            managed_clusters: &self.clusters.clusters,
            snapshots: &self.clusters.snapshots,
            touched: self.touched,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Subscription {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = SubscriptionRecord::deserialize(d)?;
        Ok(Subscription {
            id: r.id,
            display_name: r.display_name,
            tenant_id: r.tenant_id,
            groups: r.resource_groups,
            operations: r.operations,
            registrations: Registrations {
                features: r.features,
                providers: r.providers,
                seq: r.registration_seq,
            },
            clusters: Clusters {
                clusters: r.managed_clusters,
                planes: r.kube_planes,
                snapshots: r.snapshots,
            },
            touched: r.touched,
        })
    }
}
