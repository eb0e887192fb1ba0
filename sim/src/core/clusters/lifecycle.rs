//! A managed cluster's lifecycle: what a create/update PUT, a tags PATCH, a DELETE and an
//! abort do to the cluster, and what their long-running operations do when they end.
//!
//! Writes are long-running operations (`../shared/reference/ARM-CONTRACT.md` §2.4): PUT
//! create → `Creating`, update → `Updating`, DELETE → `Deleting`; the operation's end
//! ([`on_provisioned`], [`on_deleted`], [`on_failed`]) settles the state. A second write while
//! one runs gets 409 `OperationNotAllowed`. Every PUT passes the rule registry
//! ([`super::rules`]) before anything is stored; the mesh reaches the Kubernetes plane only
//! when the write's operation ends. The functions here decide and change the clusters; the
//! caller (`core::service`) runs the gates before them and starts the operation they ask for.

use bytes::Bytes;
use serde_json::Value;
use time::OffsetDateTime;

use super::body::{self, PutBody};
use super::mesh::{self, MeshProfile};
use super::rules::{self, ClusterFacts, RuleInput};
use super::{cluster_key, Clusters, Effect, ManagedCluster, ProvisioningState};
use crate::core::error::{Error, Result};
use crate::core::kube::Plane;
use crate::core::ops::OpKind;
use crate::core::preconditions::{Preconditions, Write};
use crate::core::resource_types::Catalog;
use crate::core::timeline::catalog::{self, AksCatalog};
use crate::core::timeline::Behaviour;
use crate::ids::Ids;
use crate::limits;

/// What the lifecycle needs besides the clusters.
pub struct Ctx<'a> {
    /// The AKS of the subscription's day.
    pub behaviour: &'a Behaviour,
    pub aks: &'a AksCatalog,
    pub resource_types: &'a Catalog,
    pub ids: &'a Ids,
    pub tenant: &'a str,
    pub now: OffsetDateTime,
}

/// An accepted write that runs as an operation.
#[derive(Debug)]
pub struct Accepted {
    pub kind: OpKind,
    pub operation_id: String,
    /// The cluster's canonical location (its operation is served there).
    pub location: String,
    pub effect: Effect,
    /// The response body (the cluster as it is now), when the write answers with one.
    pub body: Option<Bytes>,
}

pub fn not_found(name: &str, rg: &str) -> Error {
    Error::resource_not_found(&format!("{}/managedClusters/{name}", super::NS), rg)
}

/// What an accepted PUT asks for, resolved against the stored cluster and the catalogue.
struct Desired {
    location: String,
    kubernetes_version: String,
    support_plan: String,
    /// The request's mesh (or the stored one when the request has none), with `revisions`
    /// made effective: kept from the stored mesh, or the default revision when enabling.
    mesh: Option<MeshProfile>,
}

impl Desired {
    fn resolve(
        ctx: &Ctx,
        existing: Option<&ManagedCluster>,
        body: &PutBody,
        api_version: &str,
    ) -> Result<Desired> {
        let catalog = ctx.aks;
        let location = ctx
            .resource_types
            .normalize_location(&body.location)
            .ok_or_else(|| {
                Error::location_not_available(
                    &body.location,
                    "Microsoft.ContainerService/managedClusters",
                    &ctx.resource_types.locations,
                )
            })?;
        body::validate_pools(&body.properties, existing.is_none())?;
        if let (Some(prefix), None) = (&body.dns_prefix, existing) {
            body::validate_dns_prefix(prefix)?;
        }
        // "" keeps the current version (update) or takes the default minor (create).
        let kubernetes_version = match (body.kubernetes_version.trim(), existing) {
            ("", Some(c)) => c.kubernetes_version.clone(),
            ("", None) => {
                let minor = catalog.kubernetes.default.clone();
                let patch = catalog.resolve_kubernetes(&minor).map(|(_, p)| p);
                match patch {
                    Some(p) if ctx.behaviour.dated.default_version_echoes_patch => p,
                    _ => minor,
                }
            }
            (v, _) => v.to_owned(),
        };
        let support_plan = body
            .properties
            .get("supportPlan")
            .and_then(Value::as_str)
            .unwrap_or("KubernetesOfficial")
            .to_owned();
        let old_mesh = existing.and_then(|c| c.mesh.as_ref());
        let mesh = match &body.mesh {
            None => old_mesh.cloned(),
            Some(requested) => {
                let mut m = requested.clone();
                let minor = catalog::minor_of(&kubernetes_version)
                    .map(|(a, b)| format!("{a}.{b}"))
                    .unwrap_or_default();
                let enabling = old_mesh.is_none_or(|o| !o.is_istio());
                let istio = m.istio.as_mut().filter(|_| requested.is_istio());
                if let Some(istio) = istio {
                    let cni_exists = crate::core::timeline::parse_day(rules::CNI_FIRST_DAY)
                        .is_some_and(|first| ctx.behaviour.day >= first);
                    if !rules::api_has_proxy_redirection(api_version) || !cni_exists {
                        // Unknown to this api-version (or before Istio CNI existed): ignored,
                        // the stored value kept.
                        istio.proxy_redirection_mechanism = old_mesh
                            .and_then(|o| o.istio.as_ref())
                            .and_then(|o| o.proxy_redirection_mechanism.clone());
                    }
                    let revisions_exist =
                        crate::core::timeline::parse_day(rules::REVISIONS_FIRST_DAY)
                            .is_some_and(|first| ctx.behaviour.day >= first);
                    if !revisions_exist {
                        // Before the field existed AKS installed its one revision.
                        istio.revisions = None;
                    }
                    if istio.revisions.as_ref().is_none_or(Vec::is_empty) {
                        let inherited = old_mesh
                            .map(|o| o.revisions().to_vec())
                            .filter(|r| !r.is_empty());
                        istio.revisions = inherited.or_else(|| {
                            catalog
                                .default_revision(&minor, &support_plan)
                                .map(|r| vec![r])
                        });
                    }
                    // New installs of some revisions get Istio CNI unless they say otherwise.
                    let first = istio.revisions.as_deref().and_then(<[String]>::first);
                    if enabling
                        && istio.proxy_redirection_mechanism.is_none()
                        && first.is_some_and(|r| ctx.behaviour.dated.cni_by_default(r, &minor))
                    {
                        istio.proxy_redirection_mechanism = Some("CNIChaining".into());
                    }
                }
                Some(m)
            }
        };
        Ok(Desired {
            location,
            kubernetes_version,
            support_plan,
            mesh,
        })
    }

    fn facts<'a>(
        &'a self,
        body: &'a PutBody,
        existing: Option<&'a ManagedCluster>,
    ) -> ClusterFacts<'a> {
        ClusterFacts {
            location: &self.location,
            dns_prefix: body.dns_prefix.as_deref(),
            fqdn_subdomain: body.fqdn_subdomain.as_deref(),
            node_resource_group: body.node_resource_group.as_deref(),
            kubernetes_version: &self.kubernetes_version,
            support_plan: &self.support_plan,
            mesh: self.mesh.as_ref(),
            addons: body
                .properties
                .get("addonProfiles")
                .and_then(Value::as_object)
                .or_else(|| existing.and_then(ManagedCluster::addons)),
            properties: Some(&body.properties),
        }
    }
}

/// What the rules see of a stored cluster.
fn stored_facts(c: &ManagedCluster) -> ClusterFacts<'_> {
    ClusterFacts {
        location: &c.location,
        dns_prefix: Some(&c.dns_prefix),
        fqdn_subdomain: c.properties.get("fqdnSubdomain").and_then(Value::as_str),
        node_resource_group: Some(&c.node_resource_group),
        kubernetes_version: &c.kubernetes_version,
        support_plan: c.support_plan(),
        mesh: c.mesh.as_ref(),
        addons: c.addons(),
        properties: Some(&c.properties),
    }
}

/// The cluster to store for an accepted PUT (`Creating` or `Updating`).
fn build_cluster(
    ctx: &Ctx,
    ids: (&str, &str, &str),
    existing: Option<&ManagedCluster>,
    body: PutBody,
    desired: Desired,
) -> ManagedCluster {
    let (sub, rg, name) = ids;
    let current_version = ctx
        .aks
        .resolve_kubernetes(&desired.kubernetes_version)
        .map(|(_, full)| full)
        .or_else(|| existing.map(|c| c.current_kubernetes_version.clone()))
        .unwrap_or_else(|| desired.kubernetes_version.clone());
    let mut mesh = desired.mesh.map(|m| m.normalized(None));
    if let Some(m) = mesh.as_mut() {
        let old = existing.and_then(|c| c.mesh.as_ref());
        mesh::resolve_native_sidecars(m, old, &current_version, ctx.behaviour.dated);
    }
    let mut properties = body.properties;
    let mut top = body.top;
    match existing {
        Some(c) => {
            super::defaults::keep_on_update(&mut top, &mut properties, &c.top, &c.properties)
        }
        None => super::defaults::fill_create(&mut top, &mut properties, ctx.behaviour.day),
    }
    if !body.has_pools {
        if let Some(old) = existing.and_then(|c| c.properties.get("agentPoolProfiles")) {
            properties.insert("agentPoolProfiles".into(), old.clone());
        }
    }
    body::fill_pool_defaults(
        &mut properties,
        &desired.kubernetes_version,
        &ctx.behaviour.dated.pool_defaults,
        &ctx.behaviour.dated.node_images,
    );
    let mut cluster = match existing {
        Some(c) => ManagedCluster {
            tags: body.tags,
            top,
            properties,
            kubernetes_version: desired.kubernetes_version,
            current_kubernetes_version: current_version,
            mesh,
            provisioning_state: ProvisioningState::Updating,
            ..c.clone()
        },
        None => ManagedCluster {
            subscription: sub.to_owned(),
            resource_group: rg.to_owned(),
            name: name.to_owned(),
            dns_prefix: body
                .dns_prefix
                .unwrap_or_else(|| body::default_dns_prefix(name, rg, sub)),
            node_resource_group: body
                .node_resource_group
                .unwrap_or_else(|| format!("MC_{rg}_{name}_{}", desired.location)),
            location: desired.location,
            tags: body.tags,
            top,
            properties,
            kubernetes_version: desired.kubernetes_version,
            current_kubernetes_version: current_version,
            fqdn_hash: ctx.ids.hex(8),
            resource_uid: ctx.ids.hex(24),
            principal_id: ctx.ids.uuid_string(),
            etag: String::new(),
            pool_etags: Default::default(),
            pool_status: Default::default(),
            stopped: false,
            mesh,
            provisioning_state: ProvisioningState::Creating,
            operation_id: None,
            shape: super::defaults::Shape::at(ctx.behaviour.day),
            surface: Default::default(),
            cached: None,
        },
    };
    cluster
        .properties
        .insert("dnsPrefix".into(), cluster.dns_prefix.clone().into());
    cluster.properties.insert(
        "nodeResourceGroup".into(),
        cluster.node_resource_group.clone().into(),
    );
    cluster.new_etags(|| ctx.ids.uuid_string());
    super::pools::sync_status(&mut cluster, ctx.aks);
    cluster.compact();
    cluster
}

/// The pool rules (`pools::rules`) over the pools a cluster PUT leaves, defaults filled.
fn check_pools(
    ctx: &Ctx,
    existing: Option<&ManagedCluster>,
    body: &PutBody,
    desired: &Desired,
) -> Result<()> {
    use super::pools::{self, Origin};
    let stored = existing.map_or(&[][..], |c| pools::profiles(&c.properties));
    let mut after: Vec<Value> = if body.has_pools {
        pools::profiles(&body.properties).to_vec()
    } else {
        stored.to_vec()
    };
    let properties = existing
        .filter(|_| !body.properties.contains_key("networkProfile"))
        .map_or(&body.properties, |c| &c.properties);
    for pool in after.iter_mut().filter_map(Value::as_object_mut) {
        pools::fill_defaults(
            pool,
            &desired.kubernetes_version,
            Origin::Cluster,
            &ctx.behaviour.dated.pool_defaults,
            properties,
            &ctx.behaviour.dated.node_images,
        );
    }
    pools::rules::check_cluster(
        ctx.aks,
        &desired.kubernetes_version,
        stored,
        &after,
        pools::lifecycle::static_egress_gateway(properties),
    )
}

/// A create-or-update PUT of `name` in `rg` (gates passed): checks the preconditions, the
/// running operation, the quota, the body and every rule, then stores the cluster
/// `Creating`/`Updating` (with a lazy plane on create) and asks for its operation.
pub fn put(
    clusters: &mut Clusters,
    ctx: &Ctx,
    ids: (&str, &str, &str),
    raw: Value,
    preconditions: &Preconditions,
    api_version: &str,
) -> Result<Accepted> {
    let (_, rg, name) = ids;
    let key = cluster_key(rg, name);
    let existing = clusters.clusters.get(&key);
    preconditions.check(existing.map(|c| c.etag.as_str()), Write::Put)?;
    if let Some(c) = existing {
        super::pools::lifecycle::check_idle(c)?;
        if c.is_stopped() {
            return Err(super::pools::lifecycle::cluster_stopped());
        }
    }
    if existing.is_none() && clusters.len() >= limits::MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX {
        return Err(Error::managed_cluster_quota_exceeded(name));
    }
    let body = body::read_put(raw)?;
    let desired = Desired::resolve(ctx, existing, &body, api_version)?;
    rules::evaluate(&RuleInput {
        catalog: ctx.aks,
        day: ctx.behaviour.day,
        api_version,
        old: existing.map(stored_facts),
        new: desired.facts(&body, existing),
        self_managed_istio: clusters
            .planes
            .get(&key)
            .is_some_and(Plane::has_self_managed_istio),
    })?;
    // The pool rules run after the cluster's own: a refused cluster change names its rule.
    check_pools(ctx, existing, &body, &desired)?;

    // Accepted: store the cluster; on create its plane too.
    let creating = existing.is_none();
    let mut cluster = build_cluster(ctx, ids, existing, body, desired);
    let operation_id = ctx.ids.uuid_string();
    cluster.operation_id = Some(operation_id.clone());
    let kind = if creating {
        super::CREATE
    } else {
        super::UPDATE
    };
    if creating {
        let token = ctx.ids.hex(32);
        clusters.planes.insert(
            key.clone(),
            Plane::lazy(&cluster.current_kubernetes_version, &token, ctx.now),
        );
    }
    let body = cluster.put_answer(ctx.tenant);
    let location = cluster.location.clone();
    clusters.clusters.insert(key.clone(), cluster);
    Ok(Accepted {
        kind,
        effect: Effect::ClusterProvisioned {
            cluster_key: key,
            operation_id: operation_id.clone(),
        },
        operation_id,
        location,
        body: Some(body),
    })
}

/// A tags PATCH (synchronous): replaces the tags, new eTags.
pub fn patch_tags(
    clusters: &mut Clusters,
    ctx: &Ctx,
    rg: &str,
    name: &str,
    raw: Value,
    preconditions: &Preconditions,
) -> Result<Bytes> {
    let cluster = clusters
        .clusters
        .get_mut(&cluster_key(rg, name))
        .ok_or_else(|| not_found(name, rg))?;
    preconditions.check(Some(&cluster.etag), Write::Modify)?;
    super::pools::lifecycle::check_idle(cluster)?;
    if cluster.is_stopped() {
        return Err(super::pools::lifecycle::cluster_stopped());
    }
    let new_tags = match raw.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => {
            if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                return Err(Error::invalid_request_content(&format!(
                    "Error converting value at path 'tags.{k}': expected a string"
                )));
            }
            Some(m.clone())
        }
        Some(_) => {
            return Err(Error::invalid_request_content(
                "Error converting value at path 'tags': expected an object",
            ))
        }
    };
    cluster.tags = new_tags;
    cluster.new_etags(|| ctx.ids.uuid_string());
    Ok(cluster.body_bytes(ctx.tenant))
}

/// What a DELETE does.
#[derive(Debug)]
pub enum Deletion {
    /// Nothing to delete: 204.
    Absent,
    /// A delete already runs: its operation answers.
    Running(String),
    /// The cluster is `Deleting` now; start this operation.
    Started(Accepted),
}

/// A DELETE of `name` in `rg` (gates passed); `operation_id` names the operation it starts.
/// A second DELETE while one runs points at the running operation, if it is still recorded
/// (`recorded`).
pub fn delete(
    clusters: &mut Clusters,
    rg: &str,
    name: &str,
    preconditions: &Preconditions,
    operation_id: String,
    recorded: impl Fn(&str) -> bool,
) -> Result<Deletion> {
    let key = cluster_key(rg, name);
    let Some(cluster) = clusters.clusters.get_mut(&key) else {
        // If-Match on a missing cluster: AKS answers 204 like any delete of nothing.
        match preconditions.check(None, Write::Modify) {
            Err(e) if e.kind != crate::core::error::ErrorKind::PreconditionFailed => return Err(e),
            _ => return Ok(Deletion::Absent),
        }
    };
    preconditions.check(Some(&cluster.etag), Write::Modify)?;
    if cluster.provisioning_state == ProvisioningState::Deleting {
        if let Some(running) = cluster.operation_id.as_ref().filter(|id| recorded(id)) {
            return Ok(Deletion::Running(running.clone()));
        }
    }
    cluster.provisioning_state = ProvisioningState::Deleting;
    cluster.operation_id = Some(operation_id.clone());
    cluster.touch();
    Ok(Deletion::Started(Accepted {
        kind: super::DELETE,
        effect: Effect::ClusterDeleted {
            cluster_key: key,
            operation_id: operation_id.clone(),
        },
        operation_id,
        location: cluster.location.clone(),
        body: None,
    }))
}

/// `POST .../abort` (AbortLatestOperation): a running create/update ends at once — the
/// cluster shows `Canceled` — and the id of the operation to cancel is returned. Nothing
/// running (or a delete, which AKS does not abort) → 409 `OperationNotAllowed`.
pub fn abort(clusters: &mut Clusters, rg: &str, name: &str) -> Result<String> {
    let cluster = clusters
        .clusters
        .get_mut(&cluster_key(rg, name))
        .ok_or_else(|| not_found(name, rg))?;
    let abortable = matches!(
        cluster.provisioning_state,
        ProvisioningState::Creating | ProvisioningState::Updating
    );
    let operation_id = cluster
        .operation_id
        .clone()
        .filter(|_| abortable)
        .ok_or_else(|| {
            Error::conflict(
                "OperationNotAllowed",
                format!(
                    "There is no running create or update operation to abort on managed \
                     cluster '{name}' (provisioning state {}).",
                    cluster.provisioning_state.as_str()
                ),
            )
        })?;
    cluster.provisioning_state = ProvisioningState::Canceled;
    cluster.operation_id = None;
    cluster.touch();
    Ok(operation_id)
}

/// A create/update operation ended well: `Succeeded`, and the plane follows the mesh.
pub fn on_provisioned(clusters: &mut Clusters, key: &str, operation_id: &str, now: OffsetDateTime) {
    let Some(cluster) = clusters.clusters.get_mut(key) else {
        return;
    };
    if cluster.operation_id.as_deref() != Some(operation_id) {
        return;
    }
    cluster.provisioning_state = ProvisioningState::Succeeded;
    cluster.operation_id = None;
    cluster.shape.provisioned = true;
    cluster.touch();
    let mut view = cluster
        .mesh
        .as_ref()
        .map(MeshProfile::view)
        .unwrap_or_default();
    view.nodes = Some(super::nodes_view::nodes_view(cluster));
    view.static_egress_gateway = cluster
        .properties
        .get("networkProfile")
        .and_then(|n| n.get("staticEgressGatewayProfile"))
        .and_then(|p| p.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let version = cluster.current_kubernetes_version.clone();
    if let Some(plane) = clusters.planes.get_mut(key) {
        plane.kubernetes_version = version;
        plane.reconcile_addon(&view, now);
    }
}

/// A delete operation ended well: the cluster and its plane are gone.
pub fn on_deleted(clusters: &mut Clusters, key: &str, operation_id: &str) {
    let current = clusters
        .clusters
        .get(key)
        .and_then(|c| c.operation_id.as_deref());
    if current == Some(operation_id) {
        clusters.clusters.remove(key);
        clusters.planes.remove(key);
    }
}

/// A cluster operation failed or was canceled: the cluster shows `Failed`.
pub fn on_failed(clusters: &mut Clusters, key: &str, operation_id: &str) {
    if let Some(cluster) = clusters.clusters.get_mut(key) {
        if cluster.operation_id.as_deref() == Some(operation_id) {
            cluster.provisioning_state = ProvisioningState::Failed;
            cluster.operation_id = None;
            cluster.touch();
        }
    }
}
