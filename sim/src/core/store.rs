//! All simulator state, one lock per subscription.
//!
//! `Store` maps a subscription id to an `Arc<RwLock<Subscription>>`. A `Subscription` owns
//! everything in it (resource groups, operations, and each provider's state), so cascades and
//! snapshots are consistent and there is never a second lock to take in order. Subscriptions
//! are the isolation unit: parallel CI jobs pick their own GUID and never contend.
//!
//! The store knows no HTTP. Invariants: a lock is never held across `.await`; every write
//! goes through [`Store::with`] (the exclusive lock), which first settles the subscription's
//! due operations on the virtual clock. [`Store::read`] is the shared-lock fast path for reads
//! (cluster GETs): it runs only when nothing is due to settle, so what it sees is exactly what
//! `with` would have seen, and it hands back to `with` whenever it would need to write.

use std::collections::BTreeMap;
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::core::ops::{Effect, OpStatus, Operation};
use crate::limits;

pub use crate::core::clusters::ManagedCluster;
pub use crate::core::groups::ResourceGroup;
pub use crate::core::registration::{RegState, Registration};

/// One subscription and everything in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subscription {
    /// Lower-case GUID.
    pub id: String,
    pub display_name: String,
    pub tenant_id: String,
    /// Keyed by the lower-cased name.
    pub resource_groups: BTreeMap<String, ResourceGroup>,
    /// Keyed by operation id.
    pub operations: BTreeMap<String, Operation>,
    /// Each managed cluster's Kubernetes plane, keyed by [`crate::core::kube::plane_key`]. Owned by
    /// the kube module; a cluster refers to its plane by key.
    pub kube_planes: BTreeMap<String, crate::core::kube::Plane>,
    /// Preview-feature registrations, keyed by lower-case `namespace/feature`. A feature
    /// without a record is `NotRegistered`.
    #[serde(default)]
    pub features: BTreeMap<String, Registration>,
    /// Resource-provider registrations, keyed by lower-case namespace. A provider without a
    /// record is `NotRegistered` (RegistrationFree providers are never stored: always
    /// `Registered`).
    #[serde(default)]
    pub providers: BTreeMap<String, Registration>,
    /// Orders register/unregister requests that share a clock instant.
    #[serde(default)]
    pub registration_seq: u64,
    /// Managed clusters keyed like their planes ([`crate::core::kube::plane_key`]).
    #[serde(default)]
    pub managed_clusters: BTreeMap<String, ManagedCluster>,
    /// Whether anything was ever stored (lists show touched subscriptions only).
    pub touched: bool,
    /// In-progress operations by due time, so settling never scans finished ones. Derived
    /// from `operations`: not serialised, rebuilt on first use after a snapshot import.
    #[serde(skip)]
    pending: Option<std::collections::BTreeSet<(OffsetDateTime, String)>>,
}

impl Subscription {
    pub fn new(id: &str, tenant_id: &str) -> Self {
        Subscription {
            id: id.to_owned(),
            display_name: format!("aksim subscription {id}"),
            tenant_id: tenant_id.to_owned(),
            resource_groups: BTreeMap::new(),
            operations: BTreeMap::new(),
            kube_planes: BTreeMap::new(),
            features: BTreeMap::new(),
            providers: BTreeMap::new(),
            registration_seq: 0,
            managed_clusters: BTreeMap::new(),
            touched: false,
            pending: None,
        }
    }

    /// The next registration request number.
    pub fn next_registration_seq(&mut self) -> u64 {
        self.registration_seq += 1;
        self.registration_seq
    }

    /// How many resources of provider `namespace` the subscription holds (a provider cannot
    /// be unregistered while this is non-zero). Microsoft.ContainerService counts managed
    /// clusters through their Kubernetes planes (one per cluster).
    pub fn resources_in_namespace(&self, namespace: &str) -> usize {
        if namespace.eq_ignore_ascii_case("Microsoft.ContainerService") {
            self.kube_planes.len()
        } else {
            0
        }
    }

    /// The in-progress operations by due time (built from `operations` when missing).
    fn pending(&mut self) -> &mut std::collections::BTreeSet<(OffsetDateTime, String)> {
        let operations = &self.operations;
        self.pending.get_or_insert_with(|| {
            operations
                .values()
                .filter(|op| op.status == OpStatus::InProgress)
                .map(|op| (op.due, op.id.clone()))
                .collect()
        })
    }

    /// Whether [`Subscription::settle`] at `now` could change anything: an in-progress
    /// operation is due (or the pending index still has to be built).
    pub fn needs_settle(&self, now: OffsetDateTime) -> bool {
        match &self.pending {
            None => true,
            Some(pending) => pending.first().is_some_and(|(due, _)| *due <= now),
        }
    }

    /// Finishes every operation that is due at `now`, earliest first, applying its effect.
    /// Looks only at in-progress operations whose due time has come (O(due), not O(all)).
    pub fn settle(&mut self, now: OffsetDateTime) {
        loop {
            let candidates: Vec<(OffsetDateTime, String)> = self
                .pending()
                .iter()
                .take_while(|(due, _)| *due <= now)
                .cloned()
                .collect();
            let mut finished = false;
            for (due, id) in candidates {
                match self.operations.get(&id) {
                    Some(op) if op.status == OpStatus::InProgress && op.due == due => {
                        if op.is_due(now) {
                            self.finish_operation(&id, now);
                            finished = true;
                            // Effects may start or end other operations: look again.
                            break;
                        }
                        // Due by time but still waiting for scripted polls: keep it.
                    }
                    // Finished elsewhere (abort), dropped, or re-timed: forget the entry.
                    _ => {
                        self.pending().remove(&(due, id));
                    }
                }
            }
            if !finished {
                break;
            }
        }
    }

    fn finish_operation(&mut self, id: &str, now: OffsetDateTime) {
        let Some(op) = self.operations.get(id).cloned() else {
            return;
        };
        let (status, error) = match op.fail_with.clone() {
            Some(error) => {
                self.apply_failure(&op.effect);
                let status = if op.cancel {
                    OpStatus::Canceled
                } else {
                    OpStatus::Failed
                };
                (status, Some(error))
            }
            None => {
                self.apply(&op.effect, now);
                (OpStatus::Succeeded, None)
            }
        };
        self.pending().remove(&(op.due, op.id.clone()));
        if let Some(op) = self.operations.get_mut(id) {
            op.status = status;
            op.error = error;
            op.ended = Some(op.due.max(op.started).min(now));
        }
    }

    fn apply(&mut self, effect: &Effect, now: OffsetDateTime) {
        match effect {
            Effect::DeleteResourceGroup { group_key } => {
                self.resource_groups.remove(group_key);
                let prefix = format!("{group_key}/");
                self.kube_planes.retain(|key, _| !key.starts_with(&prefix));
                self.managed_clusters
                    .retain(|key, _| !key.starts_with(&prefix));
            }
            Effect::ClusterProvisioned {
                cluster_key,
                operation_id,
            } => crate::providers::container_service::on_provisioned(
                self,
                cluster_key,
                operation_id,
                now,
            ),
            Effect::ClusterDeleted {
                cluster_key,
                operation_id,
            } => {
                let current = self
                    .managed_clusters
                    .get(cluster_key)
                    .and_then(|c| c.operation_id.as_deref());
                if current == Some(operation_id.as_str()) {
                    self.managed_clusters.remove(cluster_key);
                    self.kube_planes.remove(cluster_key);
                }
            }
        }
    }

    /// What a failed or canceled operation leaves behind.
    fn apply_failure(&mut self, effect: &Effect) {
        match effect {
            Effect::DeleteResourceGroup { group_key } => {
                if let Some(group) = self.resource_groups.get_mut(group_key) {
                    group.state = crate::core::groups::GroupState::Succeeded;
                }
            }
            Effect::ClusterProvisioned {
                cluster_key,
                operation_id,
            }
            | Effect::ClusterDeleted {
                cluster_key,
                operation_id,
            } => {
                if let Some(cluster) = self.managed_clusters.get_mut(cluster_key) {
                    if cluster.operation_id.as_deref() == Some(operation_id.as_str()) {
                        cluster.provisioning_state = "Failed".into();
                        cluster.operation_id = None;
                        cluster.touch();
                    }
                }
            }
        }
    }

    /// Records a new operation, dropping the oldest finished ones past the limit.
    pub fn add_operation(&mut self, op: Operation) {
        self.touched = true;
        if self.operations.len() >= limits::OPERATIONS_PER_SUBSCRIPTION_MAX {
            let oldest = self
                .operations
                .values()
                .filter(|o| o.status.is_terminal())
                .min_by_key(|o| o.started)
                .map(|o| o.id.clone());
            if let Some(oldest) = oldest {
                self.operations.remove(&oldest);
            }
        }
        if op.status == OpStatus::InProgress {
            self.pending().insert((op.due, op.id.clone()));
        }
        self.operations.insert(op.id.clone(), op);
    }

    /// Counts a poll of an operation's status URL (scripted operations finish after N polls),
    /// then settles.
    pub fn poll_operation(&mut self, id: &str, now: OffsetDateTime) -> Option<Operation> {
        let op = self.operations.get_mut(&id.to_ascii_lowercase())?;
        op.polls = op.polls.saturating_add(1);
        self.settle(now);
        self.operations.get(&id.to_ascii_lowercase()).cloned()
    }
}

/// Every subscription with state.
#[derive(Debug)]
pub struct Store {
    /// Hashed with foldhash (seeded per process): every request looks its subscription up
    /// here, and SipHash over a 36-byte GUID was a third of that lookup.
    subscriptions: DashMap<String, Arc<RwLock<Subscription>>, foldhash::fast::RandomState>,
    tenant_id: String,
}

impl Store {
    pub fn new(tenant_id: &str) -> Self {
        Store {
            subscriptions: DashMap::with_hasher(foldhash::fast::RandomState::default()),
            tenant_id: tenant_id.to_owned(),
        }
    }

    /// Runs `f` on the subscription `id` (a lower-case GUID; created on first touch) after
    /// settling its due operations. Never call this from inside another `with`.
    pub fn with<R>(
        &self,
        id: &str,
        now: OffsetDateTime,
        f: impl FnOnce(&mut Subscription) -> R,
    ) -> R {
        let handle = self.handle(id);
        let mut sub = handle.write();
        sub.settle(now);
        f(&mut sub)
    }

    /// The read fast path: runs `f` on the subscription `id` under the shared lock, provided
    /// it exists and nothing is due to settle at `now`. `None` (also when `f` says `None`,
    /// meaning it would have to write) tells the caller to take [`Store::with`] instead, which
    /// then gives the same answer with the settling and writing done.
    pub fn read<R>(
        &self,
        id: &str,
        now: OffsetDateTime,
        f: impl FnOnce(&Subscription) -> Option<R>,
    ) -> Option<R> {
        let handle = self.subscriptions.get(id)?.clone();
        let sub = handle.read();
        if sub.needs_settle(now) {
            return None;
        }
        f(&sub)
    }

    fn handle(&self, id: &str) -> Arc<RwLock<Subscription>> {
        if let Some(existing) = self.subscriptions.get(id) {
            return existing.clone();
        }
        self.subscriptions
            .entry(id.to_owned())
            .or_insert_with(|| Arc::new(RwLock::new(Subscription::new(id, &self.tenant_id))))
            .clone()
    }

    /// Whether the store may hold one more subscription.
    pub fn has_room_for(&self, id: &str) -> bool {
        self.subscriptions.contains_key(id) || self.subscriptions.len() < limits::SUBSCRIPTIONS_MAX
    }

    /// Ids of subscriptions that hold state, sorted.
    pub fn touched_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .subscriptions
            .iter()
            .filter(|e| e.value().read().touched)
            .map(|e| e.key().clone())
            .collect();
        ids.sort();
        ids
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// Drops every subscription's state.
    pub fn clear(&self) {
        self.subscriptions.clear();
    }

    /// Installs a whole subscription (snapshot import), replacing any state it had.
    pub fn replace(&self, mut subscription: Subscription) {
        subscription.touched = true;
        self.subscriptions
            .insert(subscription.id.clone(), Arc::new(RwLock::new(subscription)));
    }

    /// Drops one subscription's state; returns whether it had any.
    pub fn remove(&self, id: &str) -> bool {
        self.subscriptions.remove(id).is_some()
    }
}
