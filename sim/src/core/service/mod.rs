//! The core's use cases, as methods of [`Core`]: what the wire's adapters call after parsing a
//! request, and what they render the answer from. Each takes the subscription's lock once
//! (`Store::with`, or `Store::read` for the cached reads), runs ARM's gates in ARM's order —
//! provider registration → resource group → resource — asks the owning domain module to act,
//! and starts the operation it asks for (`Core::start_operation`).
//!
//! Files by area: `groups` (subscriptions and resource groups), `registration` (providers and
//! features), `clusters` (managed clusters and their profiles), `operations` (operation
//! status), `kube` (a cluster's Kubernetes plane), `surface` (the Microsoft.ContainerService
//! resources around a cluster).

mod clusters;
mod groups;
mod kube;
mod namespaces;
mod operations;
mod pools;
mod registration;
mod surface;

pub use clusters::{ClusterInfo, ClusterWrite, Credential};
pub use pools::PoolWrite;

use time::OffsetDateTime;

use super::error::Result;
use super::groups::{being_deleted, GroupState};
use super::store::Subscription;
use super::Core;
use crate::core::error::Error;

impl Core {
    /// The provider gate: `namespace` registered (or auto-registered now).
    pub fn require_registered(
        &self,
        s: &mut Subscription,
        namespace: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let auto = self.settings.auto_register_providers;
        if s.registrations
            .require(self.resource_types, namespace, now, auto)?
        {
            s.touched = true;
        }
        Ok(())
    }

    /// The shared gates of a resource-group-scoped request after the api-version check:
    /// provider `namespace` registered, then the resource group exists.
    pub(crate) fn gate_group(
        &self,
        s: &mut Subscription,
        namespace: &str,
        rg: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.require_registered(s, namespace, now)?;
        if !s.groups.contains_key(&rg.to_ascii_lowercase()) {
            return Err(Error::resource_group_not_found(rg));
        }
        Ok(())
    }

    /// [`Core::gate_group`] for writes: a group whose delete is running takes no new writes.
    pub(crate) fn gate_group_write(
        &self,
        s: &mut Subscription,
        namespace: &str,
        rg: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.gate_group(s, namespace, rg, now)?;
        match s.groups.get(&rg.to_ascii_lowercase()) {
            Some(group) if group.state == GroupState::Deleting => Err(being_deleted(&group.name)),
            _ => Ok(()),
        }
    }

    /// The preview gates for one write (when preview gating is on).
    #[allow(clippy::too_many_arguments)] // the write's coordinates, its body and the time
    pub fn check_preview_gates(
        &self,
        s: &Subscription,
        namespace: &str,
        resource_type: &str,
        api_version: &str,
        body: Option<&serde_json::Value>,
        now: OffsetDateTime,
    ) -> Result<()> {
        if !self.settings.preview_gating {
            return Ok(());
        }
        self.gates.check(
            &s.registrations,
            self.resource_types,
            namespace,
            resource_type,
            api_version,
            body,
            now,
            self.behaviour_for(&s.id).day,
        )
    }
}
