//! Managed clusters: create/update, tags, delete, abort, reads, credentials, and the catalogue
//! views (Kubernetes versions, mesh revision and upgrade profiles).

use bytes::Bytes;
use serde_json::Value;
use time::OffsetDateTime;

use crate::core::clusters::lifecycle::{self, Accepted, Ctx, Deletion};
use crate::core::clusters::{body, cluster_key, profiles, ManagedCluster, NS};
use crate::core::error::{Error, Result};
use crate::core::kube::Plane;
use crate::core::ops::{Injected, Operation};
use crate::core::preconditions::Preconditions;
use crate::core::subscription::{Effect, Subscription};
use crate::core::timeline::Behaviour;
use crate::core::Core;

/// A cluster write as the wire parsed it.
pub struct ClusterWrite<'a> {
    pub sub: &'a str,
    pub rg: &'a str,
    pub name: &'a str,
    /// The JSON body: `Ok(None)` when empty, `Err` when it is not JSON (refused only once the
    /// gates before it passed, as ARM orders them).
    pub body: Result<Option<Value>>,
    pub preconditions: Preconditions,
    pub api_version: &'a str,
    pub injected: Option<&'a Injected>,
}

/// What a cluster's kubeconfig needs.
#[derive(Debug, Clone)]
pub struct Credential {
    pub cluster_name: String,
    pub resource_group: String,
    pub token: String,
}

/// A cluster as its read-only views need it (name and group in their stored casing).
#[derive(Debug, Clone)]
pub struct ClusterInfo {
    pub cluster: ManagedCluster,
}

impl Core {
    fn cluster_ctx<'a>(&'a self, behaviour: &'a Behaviour, now: OffsetDateTime) -> Ctx<'a> {
        Ctx {
            behaviour,
            aks: &behaviour.aks,
            resource_types: self.resource_types,
            ids: &self.ids,
            tenant: self.store.tenant_id(),
            now,
        }
    }

    /// A write's JSON body, present (an empty one is refused), after the preview gates passed
    /// for it.
    fn gated_body(
        &self,
        s: &Subscription,
        body: Result<Option<Value>>,
        api_version: &str,
        now: OffsetDateTime,
    ) -> Result<Value> {
        let raw = body?
            .ok_or_else(|| Error::invalid_request_content("The request content was empty."))?;
        self.check_preview_gates(s, NS, "managedClusters", api_version, Some(&raw), now)?;
        Ok(raw)
    }

    fn start_cluster_operation(
        &self,
        s: &mut Subscription,
        accepted: Accepted,
        api_version: &str,
        injected: Option<&Injected>,
    ) -> Operation<Effect> {
        let op = self.start_operation(
            accepted.operation_id,
            accepted.kind,
            Some(NS),
            Some(&accepted.location),
            api_version,
            Effect::Cluster(accepted.effect),
            injected,
        );
        s.add_operation(op.clone());
        op
    }

    /// A create-or-update PUT: `(created, body, operation)`.
    pub fn put_cluster(&self, w: ClusterWrite) -> Result<(bool, Bytes, Operation<Effect>)> {
        let now = self.now();
        let key = cluster_key(w.rg, w.name);
        let behaviour = self.behaviour_for(w.sub);
        self.store.with(w.sub, now, |s| {
            self.gate_group_write(s, NS, w.rg, now)?;
            body::validate_name(w.name)?;
            let raw = self.gated_body(s, w.body, w.api_version, now)?;
            let created = !s.clusters.clusters.contains_key(&key);
            let accepted = lifecycle::put(
                &mut s.clusters,
                &self.cluster_ctx(&behaviour, now),
                (w.sub, w.rg, w.name),
                raw,
                &w.preconditions,
                w.api_version,
            )?;
            let body = accepted.body.clone().unwrap_or_default();
            let op = self.start_cluster_operation(s, accepted, w.api_version, w.injected);
            Ok((created, body, op))
        })
    }

    /// A tags PATCH: the cluster's body.
    pub fn patch_cluster(&self, w: ClusterWrite) -> Result<Bytes> {
        let now = self.now();
        let behaviour = self.behaviour_for(w.sub);
        self.store.with(w.sub, now, |s| {
            self.gate_group_write(s, NS, w.rg, now)?;
            let raw = self.gated_body(s, w.body, w.api_version, now)?;
            lifecycle::patch_tags(
                &mut s.clusters,
                &self.cluster_ctx(&behaviour, now),
                w.rg,
                w.name,
                raw,
                &w.preconditions,
            )
        })
    }

    /// A DELETE: `None` when there was nothing to delete, else the (running or new) operation.
    pub fn delete_cluster(&self, w: ClusterWrite) -> Result<Option<Operation<Effect>>> {
        let now = self.now();
        let operation_id = self.ids.uuid_string();
        self.store.with(w.sub, now, |s| {
            self.gate_group(s, NS, w.rg, now)?;
            let operations = &s.operations;
            let deletion = lifecycle::delete(
                &mut s.clusters,
                w.rg,
                w.name,
                &w.preconditions,
                operation_id,
                |id| operations.get(id).is_some(),
            )?;
            Ok(match deletion {
                Deletion::Absent => None,
                Deletion::Running(id) => s.operations.get(&id).cloned(),
                Deletion::Started(accepted) => {
                    Some(self.start_cluster_operation(s, accepted, w.api_version, w.injected))
                }
            })
        })
    }

    /// Aborts a running create/update: it ends `Canceled` at once.
    pub fn abort_cluster(&self, sub: &str, rg: &str, name: &str) -> Result<()> {
        let now = self.now();
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            let operation_id = lifecycle::abort(&mut s.clusters, rg, name)?;
            if let Some(op) = s.operations.get_mut(&operation_id) {
                op.cancel_now(
                    now,
                    crate::core::error::ErrorBody {
                        code: "OperationCanceled".into(),
                        message: "The operation was canceled by an abort request.".into(),
                        target: None,
                        details: Vec::new(),
                    },
                );
            }
            Ok(())
        })
    }

    /// A cluster's GET body.
    pub fn get_cluster(&self, sub: &str, rg: &str, name: &str) -> Result<Bytes> {
        let now = self.now();
        if let Some(bytes) = self.cached_cluster_body(sub, rg, name, now) {
            return Ok(bytes);
        }
        let tenant = self.store.tenant_id();
        let key = cluster_key(rg, name);
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            s.clusters
                .clusters
                .get_mut(&key)
                .map(|c| c.body_bytes(tenant))
                .ok_or_else(|| lifecycle::not_found(name, rg))
        })
    }

    /// The read fast path of a cluster GET (shared lock): the cluster's cached body when every
    /// gate after the api-version check passes without writing (provider registered, resource
    /// group present, cluster present and its body rendered). `None` means "take the full
    /// path", which then answers (a refusal, auto-registration, a body to render). `sub` is the
    /// lower-case subscription GUID. The wire's cluster-GET fast path calls this too, so both
    /// paths share one definition of "cached and allowed".
    pub fn cached_cluster_body(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        now: OffsetDateTime,
    ) -> Option<Bytes> {
        // The cluster key (`rg/name`, lower case) on the stack: this runs on every GET.
        let mut buf = [0u8; 256];
        let len = rg.len() + 1 + name.len();
        let long;
        let key = match buf.get_mut(..len) {
            Some(key) => {
                key[..rg.len()].copy_from_slice(rg.as_bytes());
                key[rg.len()] = b'/';
                key[rg.len() + 1..].copy_from_slice(name.as_bytes());
                key.make_ascii_lowercase();
                std::str::from_utf8(key).ok()?
            }
            None => {
                long = cluster_key(rg, name);
                long.as_str()
            }
        };
        debug_assert_eq!(key, cluster_key(rg, name));
        self.store.read(sub, now, |s| {
            let group_key = &key[..rg.len()];
            (s.registrations.is_registered(self.resource_types, NS, now)
                && s.groups.contains_key(group_key))
            .then(|| s.clusters.clusters.get(key)?.cached.clone())
            .flatten()
        })
    }

    /// The clusters of a subscription (or of one group), `render(total, page)` choosing the
    /// page: only the page's clusters are rendered (a list of 10k clusters stays cheap).
    pub fn list_clusters<T>(
        &self,
        sub: &str,
        rg: Option<&str>,
        render: impl FnOnce(usize, &mut dyn FnMut(usize, usize) -> Vec<Value>) -> T,
    ) -> Result<T> {
        let now = self.now();
        let tenant = self.store.tenant_id().to_owned();
        self.store.with(sub, now, |s| {
            match rg {
                Some(rg) => self.gate_group(s, NS, rg, now)?,
                None => self.require_registered(s, NS, now)?,
            }
            let prefix = rg.map(|g| format!("{}/", g.to_ascii_lowercase()));
            let in_scope = |k: &String| prefix.as_ref().is_none_or(|p| k.starts_with(p));
            let total = s.clusters.clusters.keys().filter(|k| in_scope(k)).count();
            let clusters = &mut s.clusters.clusters;
            let mut page = |skip: usize, top: usize| -> Vec<Value> {
                clusters
                    .iter_mut()
                    .filter(|(k, _)| in_scope(k))
                    .skip(skip)
                    .take(top)
                    .filter_map(|(_, c)| serde_json::from_slice(&c.body_bytes(&tenant)).ok())
                    .collect()
            };
            Ok(render(total, &mut page))
        })
    }

    /// A copy of a cluster (gates passed), for the read-only views of it.
    pub fn cluster_info(&self, sub: &str, rg: &str, name: &str) -> Result<ClusterInfo> {
        let now = self.now();
        let key = cluster_key(rg, name);
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            let cluster = s
                .clusters
                .clusters
                .get(&key)
                .ok_or_else(|| lifecycle::not_found(name, rg))?;
            Ok(ClusterInfo {
                cluster: cluster.clone(),
            })
        })
    }

    /// What a cluster's kubeconfig carries: its plane's token (a plane is made if the cluster
    /// lost it). `admin`: local accounts must be enabled.
    pub fn cluster_credential(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        admin: bool,
    ) -> Result<Credential> {
        let now = self.now();
        let key = cluster_key(rg, name);
        let fallback_token = self.ids.hex(32);
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            let cluster = s
                .clusters
                .clusters
                .get(&key)
                .ok_or_else(|| lifecycle::not_found(name, rg))?;
            if admin && cluster.disable_local_accounts() {
                return Err(Error::bad_request(
                    "Getting static credential is not allowed because this cluster is set to \
                     disable local accounts.",
                ));
            }
            let (cluster_name, resource_group, version) = (
                cluster.name.clone(),
                cluster.resource_group.clone(),
                cluster.current_kubernetes_version.clone(),
            );
            let plane = s
                .clusters
                .planes
                .entry(key.clone())
                .or_insert_with(|| Plane::lazy(&version, &fallback_token, now));
            Ok(Credential {
                cluster_name,
                resource_group,
                token: plane.token.clone(),
            })
        })
    }

    /// `kubernetesVersions` of a location (the provider gate passed).
    pub fn kubernetes_versions(&self, sub: &str) -> Result<Value> {
        let now = self.now();
        self.store
            .with(sub, now, |s| self.require_registered(s, NS, now))?;
        Ok(profiles::kubernetes_versions(&self.aks_for(sub)))
    }

    /// The `istio` mesh revision profile of `location` (`canonical`: its canonical name).
    pub fn mesh_revision_profile(
        &self,
        sub: &str,
        location: &str,
        canonical: &str,
    ) -> Result<Value> {
        let now = self.now();
        self.store
            .with(sub, now, |s| self.require_registered(s, NS, now))?;
        Ok(profiles::mesh_revision_profile(
            &self.aks_for(sub),
            sub,
            location,
            canonical,
        ))
    }
}
