//! Stopping and starting a managed cluster (`POST .../stop`, `POST .../start`, 202 with both
//! status URLs, as recorded): a stop shows `Stopping` and `powerState: Stopped` at once (the
//! cluster and every pool), a start shows `Starting` and the cluster runs again when its
//! operation ends. While stopped, the cluster takes no write but a start or a delete (AKS's
//! `OperationNotAllowed` text, `pools::lifecycle::cluster_stopped`) and its Kubernetes API
//! answers no request (`core::service::kube`).

use super::lifecycle::{not_found, Ctx};
use super::pools::lifecycle::{check_idle, Accepted};
use super::pools::Effect;
use super::{cluster_key, Clusters, ProvisioningState};
use crate::core::error::Result;
use crate::core::ops::{OpKind, Outcome};

/// The operation kinds of a stop and a start.
pub const STOP: OpKind = OpKind::named("clusterStop");
pub const START: OpKind = OpKind::named("clusterStart");

/// `POST .../stop` (`running: false`) or `POST .../start` (`running: true`), gates passed.
pub fn change(
    clusters: &mut Clusters,
    ctx: &Ctx,
    rg: &str,
    name: &str,
    running: bool,
) -> Result<Accepted> {
    let key = cluster_key(rg, name);
    let cluster = clusters
        .clusters
        .get_mut(&key)
        .ok_or_else(|| not_found(name, rg))?;
    check_idle(cluster)?;
    let operation_id = ctx.ids.uuid_string();
    cluster.provisioning_state = if running {
        ProvisioningState::Starting
    } else {
        // The API server goes away as the stop begins.
        cluster.stopped = true;
        ProvisioningState::Stopping
    };
    cluster.operation_id = Some(operation_id.clone());
    cluster.touch();
    Ok(Accepted {
        kind: if running { START } else { STOP },
        effect: Effect::ClusterPowerChanged {
            cluster_key: key,
            operation_id: operation_id.clone(),
            running,
        },
        operation_id,
        location: cluster.location.clone(),
        body: None,
    })
}

/// A stop or start ended: `Succeeded` and the power state it asked for, or `Failed` with the
/// power state as it was.
pub fn on_changed(
    clusters: &mut Clusters,
    key: &str,
    operation_id: &str,
    running: bool,
    outcome: Outcome,
) {
    let Some(cluster) = clusters.clusters.get_mut(key) else {
        return;
    };
    if cluster.operation_id.as_deref() != Some(operation_id) {
        return;
    }
    cluster.operation_id = None;
    match outcome {
        Outcome::Succeeded => {
            cluster.provisioning_state = ProvisioningState::Succeeded;
            cluster.stopped = !running;
        }
        Outcome::Failed => cluster.provisioning_state = ProvisioningState::Failed,
    }
    cluster.touch();
}

/// Whether the Kubernetes API of the cluster at `key` is down (stopped or starting).
pub fn api_down(clusters: &Clusters, key: &str) -> bool {
    clusters.clusters.get(key).is_some_and(|c| c.stopped)
}
