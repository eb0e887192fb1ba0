//! All simulator state, one lock per subscription.
//!
//! `Store` maps a subscription id to an `Arc<RwLock<Subscription>>`. A `Subscription` owns
//! everything in it (`core::subscription`), so there is never a second lock to take in order.
//! Subscriptions are the isolation unit: parallel CI jobs pick their own GUID and never
//! contend.
//!
//! Invariants: a lock is never held across `.await`; every write
//! goes through [`Store::with`] (the exclusive lock), which first settles the subscription's
//! due operations on the virtual clock. [`Store::read`] is the shared-lock fast path for reads
//! (cluster GETs): it runs only when nothing is due to settle, so what it sees is exactly what
//! `with` would have seen, and it hands back to `with` whenever it would need to write.

use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::RwLock;
use time::OffsetDateTime;

pub use crate::core::subscription::Subscription;
use crate::limits;

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
