//! One agent pool's lifecycle: a create-or-update PUT (201/200, `Creating`/`Updating`, or
//! `Scaling`/`Upgrading`/`Stopping`/`Starting` by what changed), a DELETE (202), a
//! `upgradeNodeImageVersion` (202, `UpgradingNodeImageVersion`) and an abort, each checked
//! against the cluster's and the other pools' running operations and every pool rule before
//! anything is stored; and what their operations do when they end. The caller
//! (`core::service`) runs the gates first and starts the operation asked for.

use serde_json::{Map, Value};

use super::rules::{self, PoolInput};
use super::{
    fill_defaults, name_of, position, profiles, resolve_version, str_of, Effect, Origin, PoolStatus,
};
use crate::core::clusters::body::MAX_AGENT_POOLS;
use crate::core::clusters::lifecycle::{not_found, Ctx};
use crate::core::clusters::{cluster_key, Clusters, ManagedCluster, ProvisioningState};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::ops::OpKind;
use crate::core::preconditions::{Preconditions, Write};

/// An accepted pool (or cluster power) write that runs as an operation.
#[derive(Debug)]
pub struct Accepted {
    pub kind: OpKind,
    pub operation_id: String,
    /// The cluster's canonical location (its operations are served there).
    pub location: String,
    pub effect: Effect,
    /// The response body, when the write answers with one.
    pub body: Option<Value>,
}

/// A missing pool (aksim's text: AKS's is not published).
pub fn pool_not_found(cluster: &str, pool: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        "NotFound",
        format!("Agent pool '{pool}' was not found in managed cluster '{cluster}'."),
    )
}

/// AKS's refusal of a write while a pool's operation runs.
pub fn pool_operation_running(pool: &str, state: ProvisioningState) -> Error {
    Error::conflict(
        "OperationNotAllowed",
        format!(
            "Operation is not allowed: Another agentpool operation ({pool} - {}) is in progress, \
             please wait for it to finish before starting a new operation. See \
             https://aka.ms/aks-pending-operation for more details",
            state.as_str()
        ),
    )
}

/// A write on a stopped cluster: AKS's refusal (400 `OperationNotAllowed`, quoted in
/// terraform-provider-azurerm reports).
pub fn cluster_stopped() -> Error {
    Error::new(
        ErrorKind::BadRequest,
        "OperationNotAllowed",
        "Managed Cluster is in stopped state, no operations except for start are allowed.",
    )
}

/// No write runs on the cluster or any of its pools.
pub fn check_idle(cluster: &ManagedCluster) -> Result<()> {
    if let Some(running) = cluster.running_operation() {
        return Err(Error::operation_not_allowed(running));
    }
    if let Some((pool, state)) = cluster.running_pool_operation() {
        return Err(pool_operation_running(&pool, state));
    }
    Ok(())
}

pub(super) fn cluster_mut<'a>(
    clusters: &'a mut Clusters,
    rg: &str,
    name: &str,
) -> Result<&'a mut ManagedCluster> {
    clusters
        .clusters
        .get_mut(&cluster_key(rg, name))
        .ok_or_else(|| not_found(name, rg))
}

/// `networkProfile.staticEgressGatewayProfile.enabled` of a cluster's properties.
pub fn static_egress_gateway(properties: &Map<String, Value>) -> bool {
    properties
        .get("networkProfile")
        .and_then(|n| n.get("staticEgressGatewayProfile"))
        .and_then(|s| s.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Members of a pool only the server writes.
const READ_ONLY: &[&str] = &[
    "name",
    "provisioningState",
    "currentOrchestratorVersion",
    "eTag",
    "nodeImageVersion",
    "status",
];

fn type_error(path: &str, expected: &str) -> Error {
    Error::invalid_request_content(&format!(
        "Error converting value at path '{path}': expected {expected}"
    ))
}

/// A member, the test of its JSON type, and the type named in the refusal.
type TypeCheck = (&'static str, fn(&Value) -> bool, &'static str);

/// The pool's writable `properties` from an agentPools PUT body.
fn read_body(raw: Value) -> Result<Map<String, Value>> {
    let Value::Object(mut top) = raw else {
        return Err(type_error("", "an object"));
    };
    let mut props = match top.remove("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(type_error("properties", "an object")),
    };
    props.retain(|_, v| !v.is_null());
    for key in READ_ONLY {
        props.remove(*key);
    }
    let checks: [TypeCheck; 12] = [
        ("count", |v| v.is_i64(), "an integer"),
        ("minCount", |v| v.is_i64(), "an integer"),
        ("maxCount", |v| v.is_i64(), "an integer"),
        ("maxPods", |v| v.is_i64(), "an integer"),
        ("osDiskSizeGB", |v| v.is_i64(), "an integer"),
        ("vmSize", Value::is_string, "a string"),
        ("osType", Value::is_string, "a string"),
        ("osSKU", Value::is_string, "a string"),
        ("mode", Value::is_string, "a string"),
        ("orchestratorVersion", Value::is_string, "a string"),
        ("enableAutoScaling", Value::is_boolean, "a boolean"),
        ("gatewayProfile", Value::is_object, "an object"),
    ];
    for (key, ok, expected) in checks {
        if props.get(key).is_some_and(|v| !ok(v)) {
            return Err(type_error(&format!("properties.{key}"), expected));
        }
    }
    if let Some(size) = props
        .get("gatewayProfile")
        .and_then(|g| g.get("publicIPPrefixSize"))
    {
        if !size.is_i64() {
            return Err(type_error(
                "properties.gatewayProfile.publicIPPrefixSize",
                "an integer",
            ));
        }
    }
    for key in ["powerState", "upgradeSettings"] {
        if props.get(key).is_some_and(|v| !v.is_object()) {
            return Err(type_error(&format!("properties.{key}"), "an object"));
        }
    }
    Ok(props)
}

fn power_code(pool: &Map<String, Value>) -> &str {
    pool.get("powerState")
        .and_then(|p| p.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("Running")
}

/// The state an update shows, by what it changes.
fn update_state(old: &Map<String, Value>, new: &Map<String, Value>) -> ProvisioningState {
    let (was, is) = (power_code(old), power_code(new));
    if !was.eq_ignore_ascii_case(is) {
        return if is.eq_ignore_ascii_case("stopped") {
            ProvisioningState::Stopping
        } else {
            ProvisioningState::Starting
        };
    }
    if str_of(old, "orchestratorVersion") != str_of(new, "orchestratorVersion") {
        return ProvisioningState::Upgrading;
    }
    let mut without_count = new.clone();
    without_count.insert(
        "count".into(),
        old.get("count").cloned().unwrap_or_default(),
    );
    if old.get("count") != new.get("count") && &without_count == old {
        return ProvisioningState::Scaling;
    }
    ProvisioningState::Updating
}

/// A create-or-update PUT of pool `pool` (gates passed): `(created, accepted)`.
pub fn put(
    clusters: &mut Clusters,
    ctx: &Ctx,
    (rg, cluster_name, pool): (&str, &str, &str),
    raw: Value,
    preconditions: &Preconditions,
) -> Result<(bool, Accepted)> {
    let cluster = cluster_mut(clusters, rg, cluster_name)?;
    let key = pool.to_ascii_lowercase();
    let pools = profiles(&cluster.properties);
    let index = position(pools, pool);
    let old = index.and_then(|i| pools[i].as_object());
    preconditions.check(
        old.and(cluster.pool_etags.get(&key).map(String::as_str)),
        Write::Put,
    )?;
    check_idle(cluster)?;
    if cluster.is_stopped() {
        return Err(cluster_stopped());
    }
    let mut new = read_body(raw)?;
    new.insert("name".into(), pool.into());
    if let Some(old) = old {
        // Server-owned: the node image moves only by upgradeNodeImageVersion.
        if let Some(image) = old.get("nodeImageVersion") {
            new.insert("nodeImageVersion".into(), image.clone());
        }
        if !new.contains_key("powerState") {
            if let Some(p) = old.get("powerState") {
                new.insert("powerState".into(), p.clone());
            }
        }
    }
    fill_defaults(
        &mut new,
        &cluster.kubernetes_version,
        Origin::AgentPoolApi,
        &ctx.behaviour.dated.pool_defaults,
        &cluster.properties,
        &ctx.behaviour.dated.node_images,
    );
    if index.is_none() && pools.len() as u64 >= MAX_AGENT_POOLS {
        return Err(Error::invalid_parameter(
            format!(
                "Managed cluster '{}' already has {MAX_AGENT_POOLS} agent pools, the most \
                 maxAgentPools allows.",
                cluster.name
            ),
            "agentPoolProfile",
        ));
    }
    let mut after = pools.to_vec();
    match index {
        Some(i) => after[i] = Value::Object(new.clone()),
        None => after.push(Value::Object(new.clone())),
    }
    rules::evaluate(&PoolInput {
        catalog: ctx.aks,
        cluster_version: &cluster.kubernetes_version,
        old,
        new: Some(&new),
        pools_after: &after,
        static_egress_gateway: static_egress_gateway(&cluster.properties),
    })?;

    // Accepted.
    let (state, kind) = match old {
        None => (ProvisioningState::Creating, super::CREATE),
        Some(old) => (update_state(old, &new), super::UPDATE),
    };
    let operation_id = ctx.ids.uuid_string();
    let current = resolve_version(ctx.aks, &new, &cluster.current_kubernetes_version);
    cluster
        .properties
        .insert("agentPoolProfiles".into(), Value::Array(after));
    cluster.pool_status.insert(
        key.clone(),
        PoolStatus {
            provisioning_state: state,
            operation_id: Some(operation_id.clone()),
            current_version: current,
        },
    );
    cluster
        .pool_etags
        .insert(key.clone(), ctx.ids.uuid_string());
    cluster.touch();
    cluster.compact();
    let body = cluster.agent_pool(pool);
    Ok((
        index.is_none(),
        Accepted {
            kind,
            effect: Effect::AgentPoolProvisioned {
                cluster_key: cluster_key(rg, cluster_name),
                pool: key,
                operation_id: operation_id.clone(),
            },
            operation_id,
            location: cluster.location.clone(),
            body,
        },
    ))
}

/// What a pool DELETE does.
#[derive(Debug)]
pub enum Deletion {
    /// No such pool: 204.
    Absent,
    /// Its delete already runs: that operation answers.
    Running(String),
    Started(Accepted),
}

/// A DELETE of pool `pool` (gates passed); `operation_id` names the operation it starts.
pub fn delete(
    clusters: &mut Clusters,
    ctx: &Ctx,
    (rg, cluster_name, pool): (&str, &str, &str),
    preconditions: &Preconditions,
    recorded: impl Fn(&str) -> bool,
) -> Result<Deletion> {
    let cluster = cluster_mut(clusters, rg, cluster_name)?;
    let key = pool.to_ascii_lowercase();
    let pools = profiles(&cluster.properties);
    let Some(index) = position(pools, pool) else {
        return Ok(Deletion::Absent);
    };
    preconditions.check(
        cluster.pool_etags.get(&key).map(String::as_str),
        Write::Modify,
    )?;
    if let Some(status) = cluster.pool_status.get(&key) {
        let running = status.operation_id.as_ref().filter(|id| recorded(id));
        if let (ProvisioningState::Deleting, Some(id)) = (status.provisioning_state, running) {
            return Ok(Deletion::Running(id.clone()));
        }
    }
    check_idle(cluster)?;
    if cluster.is_stopped() {
        return Err(cluster_stopped());
    }
    let mut after = pools.to_vec();
    after.remove(index);
    rules::evaluate(&PoolInput {
        catalog: ctx.aks,
        cluster_version: &cluster.kubernetes_version,
        old: pools[index].as_object(),
        new: None,
        pools_after: &after,
        static_egress_gateway: static_egress_gateway(&cluster.properties),
    })?;
    let operation_id = ctx.ids.uuid_string();
    start_pool_operation(cluster, &key, ProvisioningState::Deleting, &operation_id);
    Ok(Deletion::Started(Accepted {
        kind: super::DELETE,
        effect: Effect::AgentPoolDeleted {
            cluster_key: cluster_key(rg, cluster_name),
            pool: key,
            operation_id: operation_id.clone(),
        },
        operation_id,
        location: cluster.location.clone(),
        body: None,
    }))
}

pub(super) fn start_pool_operation(
    cluster: &mut ManagedCluster,
    key: &str,
    state: ProvisioningState,
    operation_id: &str,
) {
    let fallback = cluster.current_kubernetes_version.clone();
    let status = cluster
        .pool_status
        .entry(key.to_owned())
        .or_insert_with(|| PoolStatus {
            provisioning_state: state,
            operation_id: None,
            current_version: fallback,
        });
    status.provisioning_state = state;
    status.operation_id = Some(operation_id.to_owned());
    cluster.touch();
}

/// `POST .../agentPools/{p}/upgradeNodeImageVersion`: the pool moves to the newest node image
/// of its OS (202 with the pool).
pub fn upgrade_node_image(
    clusters: &mut Clusters,
    ctx: &Ctx,
    (rg, cluster_name, pool): (&str, &str, &str),
) -> Result<Accepted> {
    let cluster = cluster_mut(clusters, rg, cluster_name)?;
    let key = pool.to_ascii_lowercase();
    let index = position(profiles(&cluster.properties), pool)
        .ok_or_else(|| pool_not_found(&cluster.name, pool))?;
    check_idle(cluster)?;
    if cluster.is_stopped() {
        return Err(cluster_stopped());
    }
    let operation_id = ctx.ids.uuid_string();
    start_pool_operation(
        cluster,
        &key,
        ProvisioningState::UpgradingNodeImageVersion,
        &operation_id,
    );
    if let Some(Value::Object(p)) =
        super::profiles_mut(&mut cluster.properties).and_then(|pools| pools.get_mut(index))
    {
        let image = super::node_image_for(p, &ctx.behaviour.dated.node_images);
        p.insert("nodeImageVersion".into(), image.into());
    }
    let body = cluster.agent_pool(pool);
    Ok(Accepted {
        kind: super::UPGRADE_NODE_IMAGE,
        effect: Effect::AgentPoolProvisioned {
            cluster_key: cluster_key(rg, cluster_name),
            pool: key,
            operation_id: operation_id.clone(),
        },
        operation_id,
        location: cluster.location.clone(),
        body,
    })
}

/// `POST .../agentPools/{p}/abort`: the pool's running operation ends `Canceled` at once; its
/// id is returned. Nothing running (or a delete) → 409 `OperationNotAllowed`.
pub fn abort(clusters: &mut Clusters, rg: &str, cluster_name: &str, pool: &str) -> Result<String> {
    let cluster = cluster_mut(clusters, rg, cluster_name)?;
    let key = pool.to_ascii_lowercase();
    if position(profiles(&cluster.properties), pool).is_none() {
        return Err(pool_not_found(&cluster.name, pool));
    }
    let status = cluster.pool_status.get_mut(&key);
    let running = status.and_then(|s| {
        let abortable = s.provisioning_state.is_running()
            && s.provisioning_state != ProvisioningState::Deleting;
        s.operation_id.take().filter(|_| abortable).inspect(|_| {
            s.provisioning_state = ProvisioningState::Canceled;
        })
    });
    let operation_id = running.ok_or_else(|| {
        Error::conflict(
            "OperationNotAllowed",
            format!(
                "There is no running operation to abort on agent pool '{pool}' of managed \
                 cluster '{}'.",
                cluster.name
            ),
        )
    })?;
    cluster.touch();
    Ok(operation_id)
}

/// A pool's operation ended well.
pub fn on_provisioned(clusters: &mut Clusters, key: &str, pool: &str, operation_id: &str) {
    let Some(cluster) = clusters.clusters.get_mut(key) else {
        return;
    };
    if let Some(s) = cluster.pool_status.get_mut(pool) {
        if s.operation_id.as_deref() == Some(operation_id) {
            s.provisioning_state = ProvisioningState::Succeeded;
            s.operation_id = None;
            cluster.touch();
        }
    }
}

/// A pool's delete ended well: the pool is gone.
pub fn on_deleted(clusters: &mut Clusters, key: &str, pool: &str, operation_id: &str) {
    let Some(cluster) = clusters.clusters.get_mut(key) else {
        return;
    };
    let ours = cluster
        .pool_status
        .get(pool)
        .is_some_and(|s| s.operation_id.as_deref() == Some(operation_id));
    if !ours {
        return;
    }
    cluster.pool_status.remove(pool);
    cluster.pool_etags.remove(pool);
    if let Some(pools) = super::profiles_mut(&mut cluster.properties) {
        pools.retain(|p| !name_of(p).eq_ignore_ascii_case(pool));
    }
    cluster.touch();
}

/// A pool's operation failed or was canceled: the pool shows `Failed`.
pub fn on_failed(clusters: &mut Clusters, key: &str, pool: &str, operation_id: &str) {
    let Some(cluster) = clusters.clusters.get_mut(key) else {
        return;
    };
    if let Some(s) = cluster.pool_status.get_mut(pool) {
        if s.operation_id.as_deref() == Some(operation_id) {
            s.provisioning_state = ProvisioningState::Failed;
            s.operation_id = None;
            cluster.touch();
        }
    }
}
