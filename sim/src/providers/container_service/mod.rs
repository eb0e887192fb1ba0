//! Microsoft.ContainerService: managedClusters and the Istio service-mesh add-on.
//!
//! Resource types (api-versions from `data/resource-types.json`, set `aks`):
//! `managedClusters` (PUT/GET/PATCH tags/DELETE, lists, `listCluster{User,Admin,MonitoringUser}
//! Credential`, `abort`), `managedClusters/meshUpgradeProfiles`, `locations/kubernetesVersions`,
//! `locations/meshRevisionProfiles`, and the operation-status targets `locations/operations`
//! and `locations/operationresults` (set `aksOperations`).
//!
//! Gates, in ARM's order (ARM-CONTRACT §0.3): api-version → subscription (parsed by the
//! router) → provider registered (`providers::registration`) → resource group → resource.
//! Writes are long-running operations (ARM-CONTRACT §2.4): PUT create 201 `Creating`, PUT update
//! 200 `Updating`, both with `Azure-AsyncOperation`; DELETE 202 with `Azure-AsyncOperation` and
//! `Location`, 204 when absent. A second write while one runs gets 409 `OperationNotAllowed`.
//! Every PUT passes the rule registry in [`rules`] before anything is stored.

pub mod catalog;
pub mod credentials;
pub mod mesh;
pub mod model;
pub mod profiles;
pub mod rules;

use axum::http::{Method, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::etag::{self, Write};
use crate::arm::lro::{Effect, OpKind, OpStatus, Operation};
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::kube::{plane_key, Plane};
use crate::limits;
use crate::providers::resources::{being_deleted, only, page_of};
use crate::providers::{gating, no_route, registration};
use crate::state::AppState;
use crate::store::resource_groups::GroupState;
use crate::store::{ManagedCluster, Subscription};

use mesh::MeshProfile;
use rules::{ClusterFacts, RuleInput};

pub const NS: &str = "Microsoft.ContainerService";

/// `/subscriptions/{s}/providers/Microsoft.ContainerService/...` (segments from index 4).
pub fn dispatch_subscription_scope(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
) -> ArmResult<ArmResponse> {
    let p = &req.path;
    match p.len() {
        5 if p.is(4, "managedClusters") => list_clusters(state, req, sub, None),
        7 if p.is(4, "locations") && p.is(6, "kubernetesVersions") => {
            profiles::kubernetes_versions(state, req, sub, p.seg(5))
        }
        7 if p.is(4, "locations") && p.is(6, "meshRevisionProfiles") => {
            profiles::mesh_revision_profiles(state, req, sub, p.seg(5), None)
        }
        8 if p.is(4, "locations") && p.is(6, "meshRevisionProfiles") => {
            profiles::mesh_revision_profiles(state, req, sub, p.seg(5), Some(p.seg(7)))
        }
        8 if p.is(4, "locations") && p.is(6, "operations") => {
            operation_status(state, req, sub, p.seg(5), p.seg(7), false)
        }
        8 if p.is(4, "locations") && p.is(6, "operationresults") => {
            operation_status(state, req, sub, p.seg(5), p.seg(7), true)
        }
        _ => Err(no_route(req)),
    }
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerService/...`
/// (segments from index 6).
pub fn dispatch_group_scope(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: &str,
) -> ArmResult<ArmResponse> {
    let p = &req.path;
    if !p.is(6, "managedClusters") {
        return Err(no_route(req));
    }
    match p.len() {
        7 => list_clusters(state, req, sub, Some(rg)),
        8 => cluster(state, req, sub, rg, p.seg(7)),
        9 if p.is(8, "meshUpgradeProfiles") => {
            profiles::mesh_upgrade_profiles(state, req, sub, rg, p.seg(7), None)
        }
        10 if p.is(8, "meshUpgradeProfiles") => {
            profiles::mesh_upgrade_profiles(state, req, sub, rg, p.seg(7), Some(p.seg(9)))
        }
        9 if p.is(8, "abort") => abort(state, req, sub, rg, p.seg(7)),
        9 => {
            let action = p.seg(8);
            let kind = credentials::Kind::ALL
                .into_iter()
                .find(|k| k.action().eq_ignore_ascii_case(action))
                .ok_or_else(|| no_route(req))?;
            credentials::list(state, req, sub, rg, p.seg(7), kind)
        }
        _ => Err(no_route(req)),
    }
}

/// The shared gates after the api-version check: provider registered, then resource group.
pub fn gate_group(
    state: &AppState,
    s: &mut Subscription,
    rg: &str,
    now: OffsetDateTime,
) -> ArmResult<()> {
    registration::require_registered(state, s, NS, now)?;
    if !s.resource_groups.contains_key(&rg.to_ascii_lowercase()) {
        return Err(ArmError::resource_group_not_found(rg));
    }
    Ok(())
}

/// [`gate_group`] for writes: a group whose delete is running takes no new writes.
fn gate_group_write(
    state: &AppState,
    s: &mut Subscription,
    rg: &str,
    now: OffsetDateTime,
) -> ArmResult<()> {
    gate_group(state, s, rg, now)?;
    match s.resource_groups.get(&rg.to_ascii_lowercase()) {
        Some(group) if group.state == GroupState::Deleting => Err(being_deleted(&group.name)),
        _ => Ok(()),
    }
}

pub fn cluster_not_found(name: &str, rg: &str) -> ArmError {
    ArmError::resource_not_found(&format!("{NS}/managedClusters/{name}"), rg)
}

/// Called by `Subscription::apply` when a create/update operation ends.
pub fn on_provisioned(s: &mut Subscription, key: &str, operation_id: &str, now: OffsetDateTime) {
    let Some(cluster) = s.managed_clusters.get_mut(key) else {
        return;
    };
    if cluster.operation_id.as_deref() != Some(operation_id) {
        return;
    }
    cluster.provisioning_state = "Succeeded".into();
    cluster.operation_id = None;
    cluster.touch();
    let view = cluster
        .mesh
        .as_ref()
        .map(MeshProfile::view)
        .unwrap_or_default();
    let version = cluster.current_kubernetes_version.clone();
    if let Some(plane) = s.kube_planes.get_mut(key) {
        plane.kubernetes_version = version;
        plane.reconcile_addon(&view, now);
    }
}

fn list_clusters(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: Option<&str>,
) -> ArmResult<ArmResponse> {
    state
        .catalog
        .check_provider(NS, "managedClusters", req.api_version(), None)?;
    only(req, &[Method::GET])?;
    let now = state.clock.now();
    let tenant = state.store.tenant_id().to_owned();
    let body = state.store.with(sub, now, |s| {
        match rg {
            Some(rg) => gate_group(state, s, rg, now)?,
            None => registration::require_registered(state, s, NS, now)?,
        }
        let prefix = rg.map(|g| format!("{}/", g.to_ascii_lowercase()));
        let in_scope = |k: &String| prefix.as_ref().is_none_or(|p| k.starts_with(p));
        let total = s.managed_clusters.keys().filter(|k| in_scope(k)).count();
        // Only the page's clusters are rendered (a list of 10k clusters stays cheap).
        page_of(req, total, |skip, top| {
            s.managed_clusters
                .iter_mut()
                .filter(|(k, _)| in_scope(k))
                .skip(skip)
                .take(top)
                .filter_map(|(_, c)| serde_json::from_slice(&c.body_bytes(&tenant)).ok())
                .collect::<Vec<Value>>()
        })
    })?;
    Ok(ArmResponse::ok(&body))
}

fn cluster(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult<ArmResponse> {
    // ARM names the request's location in NoRegisteredProviderFound; for a PUT it is the body's.
    let location = if req.method == Method::PUT && req.api_version().is_some() {
        req.json_value()
            .ok()
            .flatten()
            .and_then(|b| b.get("location")?.as_str().map(str::to_owned))
            .and_then(|l| state.catalog.normalize_location(&l))
    } else {
        None
    };
    state.catalog.check_provider(
        NS,
        "managedClusters",
        req.api_version(),
        location.as_deref(),
    )?;
    match req.method {
        Method::GET => get_cluster(state, sub, rg, name),
        Method::PUT => put_cluster(state, req, sub, rg, name),
        Method::PATCH => patch_tags(state, req, sub, rg, name),
        Method::DELETE => delete_cluster(state, req, sub, rg, name),
        _ => Err(ArmError::method_not_allowed(
            req.method.as_str(),
            "Microsoft.ContainerService/managedClusters",
        )),
    }
}

fn get_cluster(state: &AppState, sub: &str, rg: &str, name: &str) -> ArmResult<ArmResponse> {
    let now = state.clock.now();
    if let Some(bytes) = cached_cluster_body(state, sub, rg, name, now) {
        return Ok(ArmResponse::raw_json(StatusCode::OK, bytes));
    }
    let tenant = state.store.tenant_id();
    let key = plane_key(rg, name);
    let bytes = state.store.with(sub, now, |s| {
        gate_group(state, s, rg, now)?;
        s.managed_clusters
            .get_mut(&key)
            .map(|c| c.body_bytes(tenant))
            .ok_or_else(|| cluster_not_found(name, rg))
    })?;
    Ok(ArmResponse::raw_json(StatusCode::OK, bytes))
}

/// The read fast path of a cluster GET (shared lock): the cluster's cached body when every
/// gate after the api-version check passes without writing (provider registered, resource
/// group present, cluster present and its body rendered). `None` means "take the full path",
/// which then answers (a refusal, auto-registration, a body to render). `sub` is the
/// lower-case subscription GUID. Also called by the HTTP edge's cluster-GET fast path
/// (`http::fast`), so both paths share one definition of "cached and allowed".
pub fn cached_cluster_body(
    state: &AppState,
    sub: &str,
    rg: &str,
    name: &str,
    now: OffsetDateTime,
) -> Option<bytes::Bytes> {
    // The plane key (`rg/name`, lower case) without `format!`: this runs on every GET.
    let mut key = String::with_capacity(rg.len() + 1 + name.len());
    key.push_str(rg);
    key.push('/');
    key.push_str(name);
    key.make_ascii_lowercase();
    debug_assert_eq!(key, plane_key(rg, name));
    state.store.read(sub, now, |s| {
        let group_key = &key[..rg.len()];
        (registration::is_registered(state, s, NS, now)
            && s.resource_groups.contains_key(group_key))
        .then(|| s.managed_clusters.get(&key)?.cached.clone())
        .flatten()
    })
}

/// A cluster operation; its status URLs carry the request's api-version (every AKS version is
/// also accepted on `locations/operations`; real AKS writes `2016-03-30`).
fn new_operation(
    state: &AppState,
    req: &ArmRequest,
    kind: OpKind,
    location: &str,
    _now: OffsetDateTime,
    effect: Effect,
    id: String,
) -> Operation {
    state.start_operation_with_id(req, kind, Some(NS), Some(location), effect, id)
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
        state: &AppState,
        sub: &str,
        existing: Option<&ManagedCluster>,
        body: &model::PutBody,
    ) -> ArmResult<Desired> {
        let catalog = &state.aks_catalog_for(sub);
        let location = state
            .catalog
            .normalize_location(&body.location)
            .ok_or_else(|| {
                ArmError::location_not_available(
                    &body.location,
                    "Microsoft.ContainerService/managedClusters",
                    &state.catalog.locations,
                )
            })?;
        model::validate_pools(&body.properties, existing.is_none())?;
        if let (Some(prefix), None) = (&body.dns_prefix, existing) {
            model::validate_dns_prefix(prefix)?;
        }
        // "" keeps the current version (update) or takes the default minor (create).
        let kubernetes_version = match (body.kubernetes_version.trim(), existing) {
            ("", Some(c)) => c.kubernetes_version.clone(),
            ("", None) => catalog.kubernetes.default.clone(),
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
                let istio = m.istio.as_mut().filter(|_| requested.is_istio());
                if let Some(istio) = istio {
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
        body: &'a model::PutBody,
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
    }
}

/// The cluster to store for an accepted PUT (`Creating` or `Updating`).
fn build_cluster(
    state: &AppState,
    ids: (&str, &str, &str),
    existing: Option<&ManagedCluster>,
    body: model::PutBody,
    desired: Desired,
) -> ManagedCluster {
    let (sub, rg, name) = ids;
    let catalog = &state.aks_catalog_for(sub);
    let current_version = catalog
        .resolve_kubernetes(&desired.kubernetes_version)
        .map(|(_, full)| full)
        .or_else(|| existing.map(|c| c.current_kubernetes_version.clone()))
        .unwrap_or_else(|| desired.kubernetes_version.clone());
    let mesh = desired.mesh.map(|m| m.normalized(None));
    let mut properties = body.properties;
    if !body.has_pools {
        if let Some(old) = existing.and_then(|c| c.properties.get("agentPoolProfiles")) {
            properties.insert("agentPoolProfiles".into(), old.clone());
        }
    }
    model::fill_pool_defaults(&mut properties, &desired.kubernetes_version);
    let mut cluster = match existing {
        Some(c) => ManagedCluster {
            tags: body.tags,
            top: body.top,
            properties,
            kubernetes_version: desired.kubernetes_version,
            current_kubernetes_version: current_version,
            mesh,
            provisioning_state: "Updating".into(),
            ..c.clone()
        },
        None => ManagedCluster {
            subscription: sub.to_owned(),
            resource_group: rg.to_owned(),
            name: name.to_owned(),
            dns_prefix: body
                .dns_prefix
                .unwrap_or_else(|| model::default_dns_prefix(name, rg, sub)),
            node_resource_group: body
                .node_resource_group
                .unwrap_or_else(|| format!("MC_{rg}_{name}_{}", desired.location)),
            location: desired.location,
            tags: body.tags,
            top: body.top,
            properties,
            kubernetes_version: desired.kubernetes_version,
            current_kubernetes_version: current_version,
            fqdn_hash: state.ids.hex(8),
            resource_uid: state.ids.hex(24),
            principal_id: state.ids.uuid_string(),
            etag: String::new(),
            pool_etags: Default::default(),
            mesh,
            provisioning_state: "Creating".into(),
            operation_id: None,
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
    cluster.new_etags(|| state.ids.uuid_string());
    cluster.compact();
    cluster
}

fn put_cluster(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult<ArmResponse> {
    let now = state.clock.now();
    let api_version = req.api_version().unwrap_or_default().to_owned();
    let key = plane_key(rg, name);
    let tenant = state.store.tenant_id().to_owned();
    state.store.with(sub, now, |s| {
        gate_group_write(state, s, rg, now)?;
        model::validate_name(name)?;
        let raw = gated_body(state, req, s, &api_version, now)?;
        let existing = s.managed_clusters.get(&key);
        etag::check(&req.headers, existing.map(|c| c.etag.as_str()), Write::Put)?;
        if let Some(running) = existing.and_then(ManagedCluster::running_operation) {
            return Err(ArmError::operation_not_allowed(running));
        }
        if existing.is_none()
            && s.managed_clusters.len() >= limits::MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX
        {
            return Err(ArmError::managed_cluster_quota_exceeded(name));
        }
        let body = model::read_put(raw)?;
        let desired = Desired::resolve(state, sub, existing, &body)?;
        rules::evaluate(&RuleInput {
            catalog: &state.aks_catalog_for(sub),
            api_version: &api_version,
            old: existing.map(stored_facts),
            new: desired.facts(&body, existing),
            self_managed_istio: s
                .kube_planes
                .get(&key)
                .is_some_and(Plane::has_self_managed_istio),
        })?;

        // Accepted: store the cluster, start its operation, create the plane on create.
        let creating = existing.is_none();
        let mut cluster = build_cluster(state, (sub, rg, name), existing, body, desired);
        let op_id = state.ids.uuid_string();
        cluster.operation_id = Some(op_id.clone());
        let kind = if creating {
            OpKind::ClusterCreate
        } else {
            OpKind::ClusterUpdate
        };
        let effect = Effect::ClusterProvisioned {
            cluster_key: key.clone(),
            operation_id: op_id.clone(),
        };
        let op = new_operation(state, req, kind, &cluster.location, now, effect, op_id);
        let async_url = op.async_operation_url(&req.base_url, sub);
        if creating {
            let token = state.ids.hex(32);
            s.kube_planes.insert(
                key.clone(),
                Plane::lazy(&cluster.current_kubernetes_version, &token, now),
            );
        }
        let bytes = cluster.body_bytes(&tenant);
        s.managed_clusters.insert(key.clone(), cluster);
        s.add_operation(op);
        let status = if creating {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(ArmResponse::raw_json(status, bytes).with_header("azure-asyncoperation", &async_url))
    })
}

/// A write's JSON body (an empty one is refused), after the preview gates passed for it.
fn gated_body(
    state: &AppState,
    req: &ArmRequest,
    s: &Subscription,
    api_version: &str,
    now: OffsetDateTime,
) -> ArmResult<serde_json::Value> {
    let raw = req
        .json_value()?
        .ok_or_else(|| ArmError::invalid_request_content("The request content was empty."))?;
    gating::check_preview_gates(
        state,
        s,
        NS,
        "managedClusters",
        api_version,
        Some(&raw),
        now,
    )?;
    Ok(raw)
}

fn patch_tags(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult<ArmResponse> {
    let now = state.clock.now();
    let key = plane_key(rg, name);
    let tenant = state.store.tenant_id().to_owned();
    let api_version = req.api_version().unwrap_or_default().to_owned();
    state.store.with(sub, now, |s| {
        gate_group_write(state, s, rg, now)?;
        let raw = gated_body(state, req, s, &api_version, now)?;
        let cluster = s
            .managed_clusters
            .get_mut(&key)
            .ok_or_else(|| cluster_not_found(name, rg))?;
        etag::check(&req.headers, Some(&cluster.etag), Write::Modify)?;
        if let Some(running) = cluster.running_operation() {
            return Err(ArmError::operation_not_allowed(running));
        }
        let new_tags = match raw.get("tags") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => {
                if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                    return Err(ArmError::invalid_request_content(&format!(
                        "Error converting value at path 'tags.{k}': expected a string"
                    )));
                }
                Some(m.clone())
            }
            Some(_) => {
                return Err(ArmError::invalid_request_content(
                    "Error converting value at path 'tags': expected an object",
                ))
            }
        };
        cluster.tags = new_tags;
        cluster.new_etags(|| state.ids.uuid_string());
        Ok(ArmResponse::raw_json(
            StatusCode::OK,
            cluster.body_bytes(&tenant),
        ))
    })
}

fn delete_cluster(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult<ArmResponse> {
    let now = state.clock.now();
    let key = plane_key(rg, name);
    let op_id = state.ids.uuid_string();
    state.store.with(sub, now, |s| {
        gate_group(state, s, rg, now)?;
        let Some(cluster) = s.managed_clusters.get_mut(&key) else {
            etag::check(&req.headers, None, Write::Modify).or_else(|e| {
                // If-Match on a missing cluster: AKS answers 204 like any delete of nothing.
                if e.status == StatusCode::PRECONDITION_FAILED {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
            return Ok(ArmResponse::empty(StatusCode::NO_CONTENT));
        };
        etag::check(&req.headers, Some(&cluster.etag), Write::Modify)?;
        if cluster.provisioning_state == "Deleting" {
            if let Some(op) = cluster
                .operation_id
                .as_ref()
                .and_then(|id| s.operations.get(id))
            {
                return Ok(accepted(op, &req.base_url, sub));
            }
        }
        cluster.provisioning_state = "Deleting".into();
        cluster.operation_id = Some(op_id.clone());
        cluster.touch();
        let op = new_operation(
            state,
            req,
            OpKind::ClusterDelete,
            &cluster.location.clone(),
            now,
            Effect::ClusterDeleted {
                cluster_key: key.clone(),
                operation_id: op_id.clone(),
            },
            op_id,
        );
        let response = accepted(&op, &req.base_url, sub);
        s.add_operation(op);
        Ok(response)
    })
}

/// `POST .../abort` (AbortLatestOperation): cancels a running create/update at once — the
/// operation ends `Canceled`, the cluster shows `Canceled` — and answers 204. Nothing running
/// (or a delete, which AKS does not abort) → 409 `OperationNotAllowed`.
fn abort(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: &str,
    name: &str,
) -> ArmResult<ArmResponse> {
    state
        .catalog
        .check_provider(NS, "managedClusters", req.api_version(), None)?;
    only(req, &[Method::POST])?;
    req.expect_no_body()?;
    let now = state.clock.now();
    let key = plane_key(rg, name);
    state.store.with(sub, now, |s| {
        gate_group(state, s, rg, now)?;
        let cluster = s
            .managed_clusters
            .get_mut(&key)
            .ok_or_else(|| cluster_not_found(name, rg))?;
        let abortable = matches!(cluster.provisioning_state.as_str(), "Creating" | "Updating");
        let op_id = cluster
            .operation_id
            .clone()
            .filter(|_| abortable)
            .ok_or_else(|| {
                ArmError::conflict(
                    "OperationNotAllowed",
                    format!(
                        "There is no running create or update operation to abort on managed \
                     cluster '{name}' (provisioning state {}).",
                        cluster.provisioning_state
                    ),
                )
            })?;
        cluster.provisioning_state = "Canceled".into();
        cluster.operation_id = None;
        cluster.touch();
        if let Some(op) = s.operations.get_mut(&op_id) {
            op.status = OpStatus::Canceled;
            op.ended = Some(now);
            op.error = Some(Box::new(crate::arm::error::ErrorBody {
                code: "OperationCanceled".into(),
                message: "The operation was canceled by an abort request.".into(),
                target: None,
                details: Vec::new(),
            }));
        }
        Ok(ArmResponse::empty(StatusCode::NO_CONTENT))
    })
}

fn accepted(op: &Operation, base: &str, sub: &str) -> ArmResponse {
    ArmResponse::empty(StatusCode::ACCEPTED)
        .with_header("azure-asyncoperation", &op.async_operation_url(base, sub))
        .with_header("location", &op.location_url(base, sub))
        .with_header("retry-after", &limits::RETRY_AFTER_SECS.to_string())
}

/// `locations/{loc}/operations/{id}` (200 + status body) and `operationresults/{id}` (202
/// while running, 204 when done).
fn operation_status(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    location: &str,
    id: &str,
    results: bool,
) -> ArmResult<ArmResponse> {
    let resource_type = if results {
        "locations/operationresults"
    } else {
        "locations/operations"
    };
    state
        .catalog
        .check_provider(NS, resource_type, req.api_version(), Some(location))?;
    only(req, &[Method::GET])?;
    let now = state.clock.now();
    let op = state
        .store
        .with(sub, now, |s| {
            registration::require_registered(state, s, NS, now)?;
            Ok::<_, ArmError>(s.poll_operation(id, now))
        })?
        .filter(|op| op.namespace.as_deref() == Some(NS))
        .ok_or_else(|| ArmError::operation_not_found(id))?;
    let retry = limits::RETRY_AFTER_SECS.to_string();
    if !results {
        return Ok(ArmResponse::ok(&op.status_body()).with_header("retry-after", &retry));
    }
    Ok(match op.status {
        OpStatus::InProgress => ArmResponse::empty(StatusCode::ACCEPTED)
            .with_header("location", &op.location_url(&req.base_url, sub))
            .with_header("retry-after", &retry),
        OpStatus::Succeeded => ArmResponse::empty(StatusCode::NO_CONTENT),
        OpStatus::Failed | OpStatus::Canceled => {
            let error = op
                .error
                .unwrap_or_else(|| ArmError::internal("operation failed").body);
            ArmResponse::ok(&serde_json::json!({ "error": error }))
        }
    })
}
