//! A cluster's Kubernetes plane, reached by its subscription and cluster key.

use time::OffsetDateTime;

use crate::core::kube::Plane;
use crate::core::Core;

impl Core {
    /// The read path: runs `f` on the plane of cluster `key` under the subscription's shared
    /// lock, provided the plane exists, is built and nothing about it (or the subscription) is
    /// due to settle at `now`. `None` (also when `f` says `None`) tells the caller to take
    /// [`Core::with_plane`], which then gives the same answer.
    pub fn read_plane<R>(
        &self,
        sub: &str,
        key: &str,
        now: OffsetDateTime,
        f: impl FnOnce(&Plane) -> Option<R>,
    ) -> Option<R> {
        self.store.read(sub, now, |s| {
            if crate::core::clusters::power::api_down(&s.clusters, key) {
                return None;
            }
            let plane = s.clusters.planes.get(key)?;
            (plane.is_materialised() && !plane.needs_settle(now))
                .then(|| f(plane))
                .flatten()
        })
    }

    /// Runs `f` on the plane of cluster `key` (`None` when the cluster has none) under the
    /// subscription's exclusive lock, the subscription settled first.
    pub fn with_plane<R>(
        &self,
        sub: &str,
        key: &str,
        now: OffsetDateTime,
        f: impl FnOnce(Option<&mut Plane>) -> R,
    ) -> R {
        self.store
            .with(sub, now, |s| f(s.clusters.planes.get_mut(key)))
    }

    /// [`Core::with_plane`] for a request of the cluster's own Kubernetes API: `down` answers
    /// instead while the cluster is stopped (its API server is not running).
    pub fn with_live_plane<R>(
        &self,
        sub: &str,
        key: &str,
        now: OffsetDateTime,
        f: impl FnOnce(Option<&mut Plane>) -> R,
        down: impl FnOnce() -> R,
    ) -> R {
        self.store.with(sub, now, |s| {
            if crate::core::clusters::power::api_down(&s.clusters, key) {
                down()
            } else {
                f(s.clusters.planes.get_mut(key))
            }
        })
    }

    /// Whether the store may hold one more subscription (or already holds `sub`).
    pub fn has_room_for(&self, sub: &str) -> bool {
        self.store.has_room_for(sub)
    }
}
