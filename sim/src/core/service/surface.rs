//! The Microsoft.ContainerService surface around a cluster (`core::clusters::surface`): child
//! resources (maintenance configurations, trusted access role bindings), `runCommand` and its
//! results, `rotateClusterCertificates` (an update operation), node-pool snapshots, and the
//! checks the read-only lists need (the cluster exists).

use serde_json::{json, Value};

use crate::core::clusters::lifecycle;
use crate::core::clusters::surface::{self, ChildKind, CommandResult, Snapshot};
use crate::core::clusters::{
    cluster_key, Effect as ClusterEffect, ManagedCluster, ProvisioningState, NS,
};
use crate::core::error::{Error, Result};
use crate::core::ops::{Injected, Operation};
use crate::core::subscription::{Effect, Subscription};
use crate::core::Core;

impl Core {
    /// Runs `f` on the cluster `rg/name` after the gates (`write`: a group being deleted takes
    /// no writes).
    pub(super) fn on_cluster<T>(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        write: bool,
        f: impl FnOnce(&mut Subscription, &str) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        let key = cluster_key(rg, name);
        self.store.with(sub, now, |s| {
            if write {
                self.gate_group_write(s, NS, rg, now)?;
            } else {
                self.gate_group(s, NS, rg, now)?;
            }
            if !s.clusters.clusters.contains_key(&key) {
                return Err(lifecycle::not_found(name, rg));
            }
            f(s, &key)
        })
    }

    /// Records an `update` operation on cluster `key` (in its region) that ends in the
    /// cluster's `ClusterProvisioned`: what the actions around a cluster start.
    pub(super) fn start_cluster_update(
        &self,
        s: &mut Subscription,
        key: &str,
        operation_id: String,
        (api_version, injected): (&str, Option<&Injected>),
    ) -> Result<Operation<Effect>> {
        let location = cluster(s, key)?.location.clone();
        let op = self.start_operation(
            operation_id.clone(),
            crate::core::clusters::UPDATE,
            Some(NS),
            Some(&location),
            api_version,
            Effect::Cluster(ClusterEffect::ClusterProvisioned {
                cluster_key: key.to_owned(),
                operation_id,
            }),
            injected,
        );
        s.add_operation(op.clone());
        Ok(op)
    }

    /// The provider gate of a subscription-scoped catalogue read.
    pub fn require_provider(&self, sub: &str) -> Result<()> {
        let now = self.now();
        self.store
            .with(sub, now, |s| self.require_registered(s, NS, now))
    }

    /// The cluster exists (the lists that are empty on a public cluster need no more).
    pub fn require_cluster(&self, sub: &str, rg: &str, name: &str) -> Result<()> {
        self.on_cluster(sub, rg, name, false, |_, _| Ok(()))
    }

    /// `GET .../{kind}`: `{"value": [...]}`.
    pub fn list_children(&self, sub: &str, rg: &str, name: &str, kind: ChildKind) -> Result<Value> {
        self.on_cluster(sub, rg, name, false, |s, key| {
            let c = cluster(s, key)?;
            let value: Vec<Value> = c
                .surface
                .children(kind)
                .values()
                .map(|b| surface::render_body(c, kind, b))
                .collect();
            Ok(json!({ "value": value }))
        })
    }

    /// `GET .../{kind}/{child}`.
    pub fn get_child(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        kind: ChildKind,
        child: &str,
    ) -> Result<Value> {
        self.on_cluster(sub, rg, name, false, |s, key| {
            let c = cluster(s, key)?;
            let (_, b) = surface::get_child(c, kind, child)?;
            Ok(surface::render_body(c, kind, b))
        })
    }

    /// `PUT .../{kind}/{child}`: `(created, answer)`.
    pub fn put_child(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        kind: ChildKind,
        child: &str,
        body: Result<Option<Value>>,
    ) -> Result<(bool, Value)> {
        self.on_cluster(sub, rg, name, true, |s, key| {
            let raw = body?
                .ok_or_else(|| Error::invalid_request_content("The request content was empty."))?;
            let props = surface::read_child(kind, child, raw)?;
            let c = cluster_mut(s, key)?;
            if let Some(running) = c.running_operation() {
                return Err(Error::operation_not_allowed(running));
            }
            let lower = child.to_ascii_lowercase();
            let children = c.surface.children_mut(kind);
            let created = !children.contains_key(&lower);
            let stored_name = children
                .get(&lower)
                .map(|b| surface::stored_name(b).to_owned())
                .unwrap_or_else(|| child.to_owned());
            let stored = json!({"name": stored_name, "properties": Value::Object(props)});
            children.insert(lower, stored.clone());
            Ok((
                created,
                surface::render_child(c, kind, &stored_name, &stored["properties"]),
            ))
        })
    }

    /// `DELETE .../{kind}/{child}`: whether it existed (200) or not (204).
    pub fn delete_child(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        kind: ChildKind,
        child: &str,
    ) -> Result<bool> {
        self.on_cluster(sub, rg, name, true, |s, key| {
            let c = cluster_mut(s, key)?;
            Ok(c.surface
                .children_mut(kind)
                .remove(&child.to_ascii_lowercase())
                .is_some())
        })
    }

    /// `POST .../runCommand`: the command id (its result is ready at once).
    pub fn run_command(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        body: Result<Option<Value>>,
    ) -> Result<String> {
        let id = self.ids.hex(32);
        let now = crate::clock::rfc3339_seconds(self.now());
        self.on_cluster(sub, rg, name, true, |s, key| {
            let raw = body?
                .ok_or_else(|| Error::invalid_request_content("The request content was empty."))?;
            let command = raw
                .get("command")
                .and_then(Value::as_str)
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| {
                    Error::invalid_parameter("The run command request needs 'command'.", "command")
                })?
                .to_owned();
            let c = cluster_mut(s, key)?;
            if c.provisioning_state == ProvisioningState::Creating {
                return Err(Error::operation_not_allowed(c.provisioning_state.as_str()));
            }
            let results = &mut c.surface.command_results;
            while results.len() >= surface::COMMAND_RESULTS_MAX {
                let oldest = results
                    .iter()
                    .min_by(|a, b| a.1.started_at.cmp(&b.1.started_at))
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => results.remove(&k),
                    None => break,
                };
            }
            results.insert(
                id.clone(),
                CommandResult {
                    command,
                    started_at: now.clone(),
                    finished_at: now,
                },
            );
            Ok(id)
        })
    }

    /// `GET .../commandResults/{id}`.
    pub fn command_result(&self, sub: &str, rg: &str, name: &str, id: &str) -> Result<Value> {
        self.on_cluster(sub, rg, name, false, |s, key| {
            let c = cluster(s, key)?;
            let r = c.surface.command_results.get(id).ok_or_else(|| {
                Error::resource_not_found(
                    &format!("{NS}/managedClusters/{}/commandResults/{id}", c.name),
                    &c.resource_group,
                )
            })?;
            Ok(surface::render_command(id, r))
        })
    }

    /// `POST .../rotateClusterCertificates`: the cluster is `Updating` until its operation ends.
    pub fn rotate_certificates(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        api_version: &str,
        injected: Option<&Injected>,
    ) -> Result<Operation<Effect>> {
        let operation_id = self.ids.uuid_string();
        self.on_cluster(sub, rg, name, true, |s, key| {
            let c = cluster_mut(s, key)?;
            if let Some(running) = c.running_operation() {
                return Err(Error::operation_not_allowed(running));
            }
            c.provisioning_state = ProvisioningState::Updating;
            c.operation_id = Some(operation_id.clone());
            c.touch();
            let op = self.start_cluster_update(s, key, operation_id, (api_version, injected))?;
            Ok(op)
        })
    }

    /// `PUT .../snapshots/{name}`: a copy of an agent pool's image and version. `(created, answer)`.
    pub fn put_snapshot(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        body: Result<Option<Value>>,
    ) -> Result<(bool, Value)> {
        let now = self.now();
        self.store.with(sub, now, |s| {
            self.gate_group_write(s, NS, rg, now)?;
            crate::core::clusters::body::validate_name(name)?;
            let raw = body?
                .ok_or_else(|| Error::invalid_request_content("The request content was empty."))?;
            let (source, src_rg, src_cluster, src_pool) = surface::snapshot_source(&raw)?;
            let c = s
                .clusters
                .clusters
                .get(&cluster_key(&src_rg, &src_cluster))
                .ok_or_else(|| lifecycle::not_found(&src_cluster, &src_rg))?;
            // The pool as its GET answers it (the values AKS filled in included).
            let rendered = c.render(self.store.tenant_id());
            let pool = surface::pool_of(&rendered, &src_pool).ok_or_else(|| {
                Error::resource_not_found(
                    &format!("{NS}/managedClusters/{src_cluster}/agentPools/{src_pool}"),
                    &src_rg,
                )
            })?;
            let text =
                |k: &str, d: &str| pool.get(k).and_then(Value::as_str).unwrap_or(d).to_owned();
            let location = raw
                .get("location")
                .and_then(Value::as_str)
                .and_then(|l| self.resource_types.normalize_location(l))
                .unwrap_or_else(|| c.location.clone());
            let tags = raw.get("tags").and_then(Value::as_object).cloned();
            let snapshot = Snapshot {
                subscription: sub.to_owned(),
                resource_group: rg.to_owned(),
                name: name.to_owned(),
                location,
                tags,
                source,
                kubernetes_version: c.current_kubernetes_version.clone(),
                node_image_version: text("nodeImageVersion", ""),
                os_type: text("osType", "Linux"),
                os_sku: text("osSKU", "Ubuntu"),
                vm_size: text("vmSize", ""),
                enable_fips: pool
                    .get("enableFIPS")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            };
            let key = surface::snapshot_key(rg, name);
            let created = !s.clusters.snapshots.contains_key(&key);
            let answer = snapshot.render();
            s.clusters.snapshots.insert(key, snapshot);
            Ok((created, answer))
        })
    }

    /// `GET .../snapshots/{name}`.
    pub fn get_snapshot(&self, sub: &str, rg: &str, name: &str) -> Result<Value> {
        let now = self.now();
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            s.clusters
                .snapshots
                .get(&surface::snapshot_key(rg, name))
                .map(Snapshot::render)
                .ok_or_else(|| Error::resource_not_found(&format!("{NS}/snapshots/{name}"), rg))
        })
    }

    /// `PATCH .../snapshots/{name}` (tags).
    pub fn patch_snapshot(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        body: Result<Option<Value>>,
    ) -> Result<Value> {
        let now = self.now();
        self.store.with(sub, now, |s| {
            self.gate_group_write(s, NS, rg, now)?;
            let raw = body?.unwrap_or(Value::Null);
            let snapshot = s
                .clusters
                .snapshots
                .get_mut(&surface::snapshot_key(rg, name))
                .ok_or_else(|| Error::resource_not_found(&format!("{NS}/snapshots/{name}"), rg))?;
            match raw.get("tags") {
                None | Some(Value::Null) => snapshot.tags = None,
                Some(Value::Object(m)) => snapshot.tags = Some(m.clone()),
                Some(_) => {
                    return Err(Error::invalid_request_content(
                        "Error converting value at path 'tags': expected an object",
                    ))
                }
            }
            Ok(snapshot.render())
        })
    }

    /// `DELETE .../snapshots/{name}`: whether it existed.
    pub fn delete_snapshot(&self, sub: &str, rg: &str, name: &str) -> Result<bool> {
        let now = self.now();
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            Ok(s.clusters
                .snapshots
                .remove(&surface::snapshot_key(rg, name))
                .is_some())
        })
    }

    /// `GET .../snapshots` of a subscription or one group.
    pub fn list_snapshots(&self, sub: &str, rg: Option<&str>) -> Result<Value> {
        let now = self.now();
        self.store.with(sub, now, |s| {
            match rg {
                Some(rg) => self.gate_group(s, NS, rg, now)?,
                None => self.require_registered(s, NS, now)?,
            }
            let prefix = rg.map(|g| format!("{}/", g.to_ascii_lowercase()));
            let value: Vec<Value> = s
                .clusters
                .snapshots
                .iter()
                .filter(|(k, _)| prefix.as_ref().is_none_or(|p| k.starts_with(p.as_str())))
                .map(|(_, v)| v.render())
                .collect();
            Ok(json!({ "value": value }))
        })
    }
}

/// The cluster `on_cluster` checked (its key is `rg/name`).
pub(super) fn cluster<'a>(s: &'a Subscription, key: &str) -> Result<&'a ManagedCluster> {
    s.clusters.clusters.get(key).ok_or_else(|| gone(key))
}

pub(super) fn cluster_mut<'a>(
    s: &'a mut Subscription,
    key: &str,
) -> Result<&'a mut ManagedCluster> {
    s.clusters.clusters.get_mut(key).ok_or_else(|| gone(key))
}

fn gone(key: &str) -> Error {
    let (rg, name) = key.split_once('/').unwrap_or(("", key));
    lifecycle::not_found(name, rg)
}
