//! Operation status: a poll of an operation's status URL, and the operation-status resource
//! of a cluster and its pools.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::core::clusters::lifecycle::not_found;
use crate::core::clusters::pools::{self, lifecycle::pool_not_found};
use crate::core::clusters::{cluster_key, Effect as ClusterEffect, NS};
use crate::core::error::{Error, Result};
use crate::core::ops::{OpStatus, Operation};
use crate::core::subscription::Effect;
use crate::core::Core;

impl Core {
    /// Counts a poll of operation `id` (scripted operations finish after N polls), settles,
    /// and returns the operation as it is now — when it is served under `namespace` (`None`:
    /// ARM's own `operationresults`). A provider's operations need the provider registered.
    pub fn poll_operation(
        &self,
        sub: &str,
        id: &str,
        namespace: Option<&str>,
    ) -> Result<Operation<Effect>> {
        let now = self.now();
        self.store
            .with(sub, now, |s| {
                if let Some(namespace) = namespace {
                    self.require_registered(s, namespace, now)?;
                }
                Ok(s.poll_operation(id, now))
            })?
            .filter(|op| op.namespace.as_deref() == namespace)
            .ok_or_else(|| Error::operation_not_found(id))
    }
}

/// The operation-status resource (`OperationStatusResult`, AKS's preview API since
/// 2024-01-02-preview): an operation on a cluster or on one of its pools, as
/// `az aks operation show[-latest]` (aks-preview) reads it.
impl Core {
    /// `GET .../managedClusters/{c}[/agentPools/{p}]/operations/{id}`; `latest` is the newest
    /// operation on the cluster (or the pool).
    pub fn cluster_operation_status(
        &self,
        sub: &str,
        rg: &str,
        (cluster, pool): (&str, Option<&str>),
        id: &str,
    ) -> Result<Value> {
        let mut all = self.cluster_operations(sub, rg, cluster, pool)?;
        let found = if id.eq_ignore_ascii_case("latest") {
            all.drain(..).next()
        } else {
            all.into_iter()
                .find(|(op, _)| op["name"] == id.to_ascii_lowercase())
        };
        found
            .map(|(op, _)| op)
            .ok_or_else(|| Error::operation_not_found(id))
    }

    /// `GET .../managedClusters/{c}/operations`: the operations on the cluster and its pools,
    /// newest first.
    pub fn cluster_operation_statuses(
        &self,
        sub: &str,
        rg: &str,
        cluster: &str,
    ) -> Result<Vec<Value>> {
        Ok(self
            .cluster_operations(sub, rg, cluster, None)?
            .into_iter()
            .map(|(op, _)| op)
            .collect())
    }

    /// The operations on `cluster` (only `pool`'s when given) since it was last created,
    /// newest first, as `OperationStatusResult`s with their start times.
    fn cluster_operations(
        &self,
        sub: &str,
        rg: &str,
        cluster: &str,
        pool: Option<&str>,
    ) -> Result<Vec<(Value, OffsetDateTime)>> {
        let now = self.now();
        let key = cluster_key(rg, cluster);
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            let c = s
                .clusters
                .clusters
                .get(&key)
                .ok_or_else(|| not_found(cluster, rg))?;
            let pool_name = match pool {
                Some(p) => Some(
                    pools::name_of(
                        pools::profiles(&c.properties)
                            .get(
                                pools::position(pools::profiles(&c.properties), p)
                                    .ok_or_else(|| pool_not_found(&c.name, p))?,
                            )
                            .unwrap_or(&Value::Null),
                    )
                    .to_owned(),
                ),
                None => None,
            };
            let ours = |op: &Operation<Effect>| {
                op.effect.target().is_some_and(|(k, p)| {
                    k == key
                        && pool_name
                            .as_deref()
                            .is_none_or(|want| p.is_some_and(|p| p.eq_ignore_ascii_case(want)))
                })
            };
            // A cluster deleted and created again under the same name starts afresh.
            let born = s
                .operations
                .values()
                .filter(|op| {
                    ours(op)
                        && op.status == OpStatus::Succeeded
                        && matches!(
                            op.effect,
                            Effect::Cluster(ClusterEffect::ClusterDeleted { .. })
                        )
                })
                .map(|op| op.started)
                .max();
            let id_base = match &pool_name {
                Some(p) => c.pool_id(p),
                None => c.id(),
            };
            let mut out: Vec<(Value, OffsetDateTime)> = s
                .operations
                .values()
                .filter(|op| ours(op) && born.is_none_or(|b| op.started > b))
                .map(|op| (status_result(op, &id_base, now), op.started))
                .collect();
            out.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| b.0["name"].as_str().cmp(&a.0["name"].as_str()))
            });
            Ok(out)
        })
    }
}

/// An operation as an `OperationStatusResult` under `id_base` (the cluster's or the pool's
/// id): `percentComplete` from the virtual clock while it runs, 100 once it succeeded.
fn status_result(op: &Operation<Effect>, id_base: &str, now: OffsetDateTime) -> Value {
    let percent = match op.status {
        OpStatus::InProgress => {
            let total = (op.due - op.started).as_seconds_f64();
            let done = (now - op.started).as_seconds_f64();
            Some(if total > 0.0 {
                ((done / total) * 100.0).clamp(0.0, 99.0).floor()
            } else {
                0.0
            })
        }
        OpStatus::Succeeded => Some(100.0),
        OpStatus::Failed | OpStatus::Canceled => None,
    };
    let mut body = Map::new();
    body.insert(
        "id".into(),
        format!("{id_base}/operations/{}", op.id).into(),
    );
    body.extend(op.status_fields(percent));
    Value::Object(body)
}
