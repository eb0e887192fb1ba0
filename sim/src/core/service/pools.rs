//! Agent pools, a cluster's stop/start and the upgrade profiles: the use cases behind
//! `managedClusters/{c}/agentPools[/{p}]`, `.../upgradeNodeImageVersion`, `.../abort`,
//! `.../stop`, `.../start` and `.../upgradeProfiles/default` (cluster and pool).

use serde_json::Value;

use crate::core::clusters::lifecycle::{not_found, Ctx};
use crate::core::clusters::pools::lifecycle::{self as pool_lifecycle, Accepted, Deletion};
use crate::core::clusters::{cluster_key, power, upgrades, ManagedCluster, NS};
use crate::core::error::{Error, ErrorBody, Result};
use crate::core::ops::{Injected, Operation};
use crate::core::preconditions::Preconditions;
use crate::core::subscription::{Effect, Subscription};
use crate::core::Core;

/// An agent-pool write as the wire parsed it.
pub struct PoolWrite<'a> {
    pub sub: &'a str,
    pub rg: &'a str,
    pub cluster: &'a str,
    pub pool: &'a str,
    /// The JSON body (PUT): `Ok(None)` when empty.
    pub body: Result<Option<Value>>,
    pub preconditions: Preconditions,
    pub api_version: &'a str,
    pub injected: Option<&'a Injected>,
}

impl Core {
    fn start_pool_operation(
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
            Effect::Pool(accepted.effect),
            injected,
        );
        s.add_operation(op.clone());
        op
    }

    /// Runs `f` on the cluster (gates passed, settled) for a read.
    fn read_cluster<T>(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        f: impl FnOnce(&ManagedCluster) -> Result<T>,
    ) -> Result<T> {
        let now = self.now();
        let key = cluster_key(rg, name);
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            let cluster = s
                .clusters
                .clusters
                .get(&key)
                .ok_or_else(|| not_found(name, rg))?;
            f(cluster)
        })
    }

    /// `GET .../agentPools`: every pool as a child resource.
    pub fn list_agent_pools(&self, sub: &str, rg: &str, cluster: &str) -> Result<Vec<Value>> {
        self.read_cluster(sub, rg, cluster, |c| Ok(c.agent_pools()))
    }

    /// `GET .../agentPools/{p}`.
    pub fn get_agent_pool(&self, sub: &str, rg: &str, cluster: &str, pool: &str) -> Result<Value> {
        self.read_cluster(sub, rg, cluster, |c| {
            c.agent_pool(pool)
                .ok_or_else(|| pool_lifecycle::pool_not_found(&c.name, pool))
        })
    }

    /// A pool's create-or-update PUT: `(created, body, operation)`.
    pub fn put_agent_pool(&self, w: PoolWrite) -> Result<(bool, Value, Operation<Effect>)> {
        let now = self.now();
        let behaviour = self.behaviour_for(w.sub);
        self.store.with(w.sub, now, |s| {
            self.gate_group_write(s, NS, w.rg, now)?;
            let raw = w
                .body?
                .ok_or_else(|| Error::invalid_request_content("The request content was empty."))?;
            let ctx = self.pool_ctx(&behaviour, now);
            let (created, accepted) = pool_lifecycle::put(
                &mut s.clusters,
                &ctx,
                (w.rg, w.cluster, w.pool),
                raw,
                &w.preconditions,
            )?;
            let body = accepted.body.clone().unwrap_or_default();
            let op = self.start_pool_operation(s, accepted, w.api_version, w.injected);
            Ok((created, body, op))
        })
    }

    /// A pool's DELETE: `None` when there was no such pool.
    pub fn delete_agent_pool(&self, w: PoolWrite) -> Result<Option<Operation<Effect>>> {
        let now = self.now();
        let behaviour = self.behaviour_for(w.sub);
        self.store.with(w.sub, now, |s| {
            self.gate_group(s, NS, w.rg, now)?;
            let operations = &s.operations;
            let deletion = pool_lifecycle::delete(
                &mut s.clusters,
                &self.pool_ctx(&behaviour, now),
                (w.rg, w.cluster, w.pool),
                &w.preconditions,
                |id| operations.get(id).is_some(),
            )?;
            Ok(match deletion {
                Deletion::Absent => None,
                Deletion::Running(id) => s.operations.get(&id).cloned(),
                Deletion::Started(accepted) => {
                    Some(self.start_pool_operation(s, accepted, w.api_version, w.injected))
                }
            })
        })
    }

    /// `POST .../agentPools/{p}/upgradeNodeImageVersion`: the pool and its operation.
    pub fn upgrade_node_image(&self, w: PoolWrite) -> Result<(Value, Operation<Effect>)> {
        let now = self.now();
        let behaviour = self.behaviour_for(w.sub);
        self.store.with(w.sub, now, |s| {
            self.gate_group_write(s, NS, w.rg, now)?;
            let accepted = pool_lifecycle::upgrade_node_image(
                &mut s.clusters,
                &self.pool_ctx(&behaviour, now),
                (w.rg, w.cluster, w.pool),
            )?;
            let body = accepted.body.clone().unwrap_or_default();
            let op = self.start_pool_operation(s, accepted, w.api_version, w.injected);
            Ok((body, op))
        })
    }

    /// `POST .../agentPools/{p}/deleteMachines`: the named machines leave the pool.
    pub fn delete_machines(&self, w: PoolWrite) -> Result<Operation<Effect>> {
        let now = self.now();
        let behaviour = self.behaviour_for(w.sub);
        self.store.with(w.sub, now, |s| {
            self.gate_group_write(s, NS, w.rg, now)?;
            let names = crate::core::clusters::pools::machines::read_names(w.body?)?;
            let accepted = crate::core::clusters::pools::machines::delete_machines(
                &mut s.clusters,
                &self.pool_ctx(&behaviour, now),
                (w.rg, w.cluster, w.pool),
                &names,
            )?;
            Ok(self.start_pool_operation(s, accepted, w.api_version, w.injected))
        })
    }

    /// `POST .../agentPools/{p}/abort`: the pool's running operation ends `Canceled`.
    pub fn abort_agent_pool(&self, sub: &str, rg: &str, cluster: &str, pool: &str) -> Result<()> {
        let now = self.now();
        self.store.with(sub, now, |s| {
            self.gate_group(s, NS, rg, now)?;
            let operation_id = pool_lifecycle::abort(&mut s.clusters, rg, cluster, pool)?;
            if let Some(op) = s.operations.get_mut(&operation_id) {
                op.cancel_now(
                    now,
                    ErrorBody {
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

    /// `POST .../stop` (`running: false`) or `.../start` (`running: true`).
    #[allow(clippy::too_many_arguments)] // the cluster's coordinates and the operation's cause
    pub fn change_cluster_power(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        running: bool,
        api_version: &str,
        injected: Option<&Injected>,
    ) -> Result<Operation<Effect>> {
        let now = self.now();
        let behaviour = self.behaviour_for(sub);
        self.store.with(sub, now, |s| {
            self.gate_group_write(s, NS, rg, now)?;
            let accepted = power::change(
                &mut s.clusters,
                &self.pool_ctx(&behaviour, now),
                rg,
                name,
                running,
            )?;
            Ok(self.start_pool_operation(s, accepted, api_version, injected))
        })
    }

    /// `GET .../upgradeProfiles/default` of the cluster.
    pub fn cluster_upgrade_profile(&self, sub: &str, rg: &str, name: &str) -> Result<Value> {
        let aks = self.aks_for(sub);
        self.read_cluster(sub, rg, name, |c| Ok(upgrades::cluster_profile(&aks, c)))
    }

    /// `GET .../agentPools/{p}/machines`.
    pub fn list_machines(
        &self,
        sub: &str,
        rg: &str,
        cluster: &str,
        pool: &str,
    ) -> Result<Vec<Value>> {
        self.read_cluster(sub, rg, cluster, |c| {
            upgrades::machines(c, pool).ok_or_else(|| pool_lifecycle::pool_not_found(&c.name, pool))
        })
    }

    /// `GET .../agentPools/{p}/machines/{m}`.
    pub fn get_machine(
        &self,
        sub: &str,
        rg: &str,
        (cluster, pool, machine): (&str, &str, &str),
    ) -> Result<Value> {
        self.read_cluster(sub, rg, cluster, |c| {
            let all = upgrades::machines(c, pool)
                .ok_or_else(|| pool_lifecycle::pool_not_found(&c.name, pool))?;
            all.into_iter()
                .find(|m| {
                    m["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(machine))
                })
                .ok_or_else(|| {
                    Error::new(
                        crate::core::error::ErrorKind::NotFound,
                        "NotFound",
                        format!("Machine '{machine}' was not found in agent pool '{pool}'."),
                    )
                })
        })
    }

    /// `GET .../availableAgentPoolVersions`.
    pub fn available_agent_pool_versions(&self, sub: &str, rg: &str, name: &str) -> Result<Value> {
        let aks = self.aks_for(sub);
        self.read_cluster(sub, rg, name, |c| Ok(upgrades::available_versions(&aks, c)))
    }

    /// `GET .../agentPools/{p}/upgradeProfiles/default`.
    pub fn pool_upgrade_profile(
        &self,
        sub: &str,
        rg: &str,
        cluster: &str,
        pool: &str,
    ) -> Result<Value> {
        let aks = self.aks_for(sub);
        let images = &self.behaviour_for(sub).dated.node_images;
        self.read_cluster(sub, rg, cluster, |c| {
            upgrades::pool_profile(&aks, images, c, pool)
                .ok_or_else(|| pool_lifecycle::pool_not_found(&c.name, pool))
        })
    }

    fn pool_ctx<'a>(
        &'a self,
        behaviour: &'a crate::core::timeline::Behaviour,
        now: time::OffsetDateTime,
    ) -> Ctx<'a> {
        Ctx {
            behaviour,
            aks: &behaviour.aks,
            resource_types: self.resource_types,
            ids: &self.ids,
            tenant: self.store.tenant_id(),
            now,
        }
    }
}
