//! `POST .../agentPools/{p}/deleteMachines` (`AgentPools_DeleteMachines`): the named machines
//! leave the pool's `machines` list, its `count` drops by as many, and the pool is `Scaling`
//! until its operation (an `agentPoolUpdate`) ends. The removed machines' indices are kept in
//! the cluster's surface so the remaining machines keep their names.

use serde_json::Value;

use super::lifecycle::{check_idle, cluster_mut, cluster_stopped, pool_not_found};
use super::lifecycle::{start_pool_operation, Accepted};
use super::{position, profiles, profiles_mut, Effect};
use crate::core::clusters::lifecycle::Ctx;
use crate::core::clusters::upgrades;
use crate::core::clusters::{cluster_key, Clusters, ProvisioningState};
use crate::core::error::{Error, Result};

fn bad(message: String) -> Error {
    Error::invalid_parameter(message, "machineNames")
}

/// The names in a `deleteMachines` body (`{"machineNames": [...]}`, at least one, no repeats).
pub fn read_names(body: Option<Value>) -> Result<Vec<String>> {
    let names = body
        .as_ref()
        .and_then(|b| b.get("machineNames"))
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            bad("The request needs machineNames, a list of at least one machine name.".into())
        })?;
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        let n = n
            .as_str()
            .ok_or_else(|| bad("Every entry of machineNames must be a string.".into()))?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(n)) {
            out.push(n.to_owned());
        }
    }
    Ok(out)
}

/// Removes `names` from pool `pool`, gates passed.
pub fn delete_machines(
    clusters: &mut Clusters,
    ctx: &Ctx,
    (rg, cluster_name, pool): (&str, &str, &str),
    names: &[String],
) -> Result<Accepted> {
    let cluster = cluster_mut(clusters, rg, cluster_name)?;
    let key = pool.to_ascii_lowercase();
    let index = position(profiles(&cluster.properties), pool)
        .ok_or_else(|| pool_not_found(&cluster.name, pool))?;
    check_idle(cluster)?;
    if cluster.is_stopped() {
        return Err(cluster_stopped());
    }
    let machines = upgrades::machines(cluster, pool).unwrap_or_default();
    let mut indices = Vec::with_capacity(names.len());
    for n in names {
        let found = machines.iter().find_map(|m| {
            let name = m.get("name").and_then(Value::as_str)?;
            if !name.eq_ignore_ascii_case(n) {
                return None;
            }
            let id = m["properties"]["resourceId"].as_str()?;
            id.rsplit('/').next()?.parse::<u64>().ok()
        });
        indices.push(found.ok_or_else(|| {
            bad(format!(
                "Machine '{n}' is not a machine of agent pool '{pool}'."
            ))
        })?);
    }
    let p = profiles(&cluster.properties)
        .get(index)
        .and_then(Value::as_object);
    let count = p
        .and_then(|p| p.get("count"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let system = p
        .and_then(|p| p.get("mode"))
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("System"));
    let left = count.saturating_sub(indices.len() as u64);
    if system && left == 0 {
        return Err(bad(format!(
            "Deleting every machine of System agent pool '{pool}' is not allowed: a System \
             pool keeps at least one node."
        )));
    }
    cluster
        .surface
        .deleted_machines
        .entry(key.clone())
        .or_default()
        .extend(indices);
    if let Some(Value::Object(p)) =
        profiles_mut(&mut cluster.properties).and_then(|pools| pools.get_mut(index))
    {
        p.insert("count".into(), left.into());
    }
    let operation_id = ctx.ids.uuid_string();
    start_pool_operation(cluster, &key, ProvisioningState::Scaling, &operation_id);
    Ok(Accepted {
        kind: super::UPDATE,
        effect: Effect::AgentPoolProvisioned {
            cluster_key: cluster_key(rg, cluster_name),
            pool: key,
            operation_id: operation_id.clone(),
        },
        operation_id,
        location: cluster.location.clone(),
        body: None,
    })
}
