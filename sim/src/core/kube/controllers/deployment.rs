//! Deployments → ReplicaSets → Pods, and the HorizontalPodAutoscaler in front of them.
//!
//! A Deployment's current ReplicaSet is `<deploy>-<pod-template-hash>` (the hash of its pod
//! template): made on the first sweep after a template change (revision + 1), scaled to
//! `spec.replicas` while the older ones go to 0 (at once: every pod is ready when made), the
//! oldest beyond `revisionHistoryLimit` (10) deleted. A paused Deployment is left alone.
//! `kubectl rollout restart` is a template change (the `kubectl.kubernetes.io/restartedAt`
//! annotation). A ReplicaSet keeps `spec.replicas` pods `<rs>-<5 characters>`.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{
    condition, controller_uid, generation_of, replicas_of, template_hash, PodIndex, Types,
};
use crate::core::kube::{str_at, Plane, WriteCtx};

const REVISION: &str = "deployment.kubernetes.io/revision";

fn revision_of(rs: &Value) -> u64 {
    rs.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The ReplicaSet a Deployment wants for its current template.
fn replicaset_for(deploy: &Value, hash: &str, revision: u64, replicas: usize) -> Value {
    let name = format!("{}-{hash}", str_at(deploy, "/metadata/name"));
    let mut template = deploy
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(json!({}));
    if !template["metadata"].is_object() {
        template["metadata"] = json!({});
    }
    if !template["metadata"]["labels"].is_object() {
        template["metadata"]["labels"] = json!({});
    }
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = deploy
        .pointer("/spec/selector")
        .cloned()
        .unwrap_or(json!({}));
    if !selector["matchLabels"].is_object() {
        selector["matchLabels"] = json!({});
    }
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let desired = replicas_of(deploy);
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": str_at(deploy, "/metadata/namespace"),
            "labels": template["metadata"]["labels"].clone(),
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                "deployment.kubernetes.io/max-replicas": (desired + desired.div_ceil(4)).to_string(),
                REVISION: revision.to_string()
            },
            "ownerReferences": [super::owner_ref(deploy)]
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template}
    })
}

impl Plane {
    /// Each Deployment's ReplicaSets: the current one made and scaled up, the rest to 0.
    pub(super) fn run_deployments(&mut self, t: &Types, ctx: WriteCtx) {
        let mut by_owner = self.replicasets_by_owner(t);
        for deploy in self.all_of(&t.deployments) {
            if deploy.pointer("/spec/paused") == Some(&json!(true)) {
                continue;
            }
            let ns = str_at(&deploy, "/metadata/namespace").to_owned();
            let uid = str_at(&deploy, "/metadata/uid").to_owned();
            let template = deploy
                .pointer("/spec/template")
                .cloned()
                .unwrap_or(json!({}));
            let hash = template_hash(&template);
            let current = format!("{}-{hash}", str_at(&deploy, "/metadata/name"));
            let owned = by_owner.remove(&uid).unwrap_or_default();
            let top = owned.iter().map(revision_of).max().unwrap_or(0);
            let replicas = replicas_of(&deploy);
            match owned
                .iter()
                .find(|rs| str_at(rs, "/metadata/name") == current)
            {
                None => {
                    let rs = replicaset_for(&deploy, &hash, top + 1, replicas);
                    // A refusal (the object cap) leaves the Deployment without it; the next
                    // write tries again.
                    let _ = self.create(&t.replicasets, "v1", &ns, rs, ctx);
                }
                Some(rs) => {
                    let mut next = rs.clone();
                    next["spec"]["replicas"] = json!(replicas);
                    let desired = replicaset_for(&deploy, &hash, 0, replicas);
                    next["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                        desired["metadata"]["annotations"]
                            ["deployment.kubernetes.io/desired-replicas"]
                            .clone();
                    next["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] =
                        desired["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"]
                            .clone();
                    if revision_of(rs) < top {
                        next["metadata"]["annotations"][REVISION] = json!((top + 1).to_string());
                    }
                    if next != *rs {
                        if next["spec"] != rs["spec"] {
                            let g = generation_of(rs);
                            next["metadata"]["generation"] = json!(g + 1);
                        }
                        self.put(&t.replicasets, next);
                    }
                }
            }
            // The old ones: scaled to 0; beyond the history limit, deleted.
            let limit = deploy
                .pointer("/spec/revisionHistoryLimit")
                .and_then(Value::as_u64)
                .unwrap_or(10) as usize;
            let mut old: Vec<Value> = owned
                .into_iter()
                .filter(|rs| str_at(rs, "/metadata/name") != current)
                .collect();
            old.sort_by_key(revision_of);
            let excess = old.len().saturating_sub(limit);
            for (i, rs) in old.into_iter().enumerate() {
                if i < excess {
                    self.remove(&t.replicasets, &ns, str_at(&rs, "/metadata/name"));
                    continue;
                }
                if replicas_of(&rs) != 0 {
                    let mut next = rs.clone();
                    next["spec"]["replicas"] = json!(0);
                    next["metadata"]["generation"] = json!(generation_of(&rs) + 1);
                    self.put(&t.replicasets, next);
                }
            }
        }
    }

    /// Every ReplicaSet with a controller, by the controller's uid (one walk per phase).
    fn replicasets_by_owner(&self, t: &Types) -> BTreeMap<String, Vec<Value>> {
        let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (_, rs) in self.objects_of(&t.replicasets) {
            if let Some(uid) = controller_uid(rs) {
                out.entry(uid.to_owned()).or_default().push(rs.clone());
            }
        }
        out
    }

    /// Each ReplicaSet's pods: made up to `spec.replicas`, the newest beyond it deleted; then
    /// its status.
    pub(super) fn run_replicasets(&mut self, t: &Types, ctx: WriteCtx, index: &mut PodIndex) {
        for rs in self.all_of(&t.replicasets) {
            let ns = str_at(&rs, "/metadata/namespace").to_owned();
            let name = str_at(&rs, "/metadata/name").to_owned();
            let uid = str_at(&rs, "/metadata/uid").to_owned();
            let want = replicas_of(&rs);
            let mut pods = index.remove(&uid).unwrap_or_default();
            let mut failure = None;
            while pods.len() < want {
                match self.create_pod(t, &rs, &format!("{name}-"), &[], None, ctx) {
                    Ok(p) => pods.push(p),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            while pods.len() > want {
                if let Some(p) = pods.pop() {
                    self.delete_pod(t, &ns, &p.name);
                }
            }
            let ready = pods.iter().filter(|p| p.ready).count();
            let mut status = json!({
                "replicas": pods.len(),
                "fullyLabeledReplicas": pods.len(),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": generation_of(&rs)
            });
            for k in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] {
                if status[k] == json!(0) {
                    if let Some(m) = status.as_object_mut() {
                        m.remove(k);
                    }
                }
            }
            if let Some(e) = failure {
                status["conditions"] = json!([condition(
                    rs.pointer("/status/conditions"),
                    "ReplicaFailure",
                    "True",
                    "FailedCreate",
                    &super::failure_message(&e),
                    ctx.now,
                    false
                )]);
            }
            index.insert(uid, pods);
            // The ReplicaSet as stored now (a sweep may have changed it since the walk).
            let Ok(mut next) = self.get(&t.replicasets, &ns, &name) else {
                continue;
            };
            next["status"] = status;
            self.put(&t.replicasets, next);
        }
    }

    /// Each Deployment's status from its ReplicaSets.
    pub(super) fn deployment_statuses(&mut self, t: &Types, now: OffsetDateTime) {
        let mut by_owner = self.replicasets_by_owner(t);
        for deploy in self.all_of(&t.deployments) {
            let uid = str_at(&deploy, "/metadata/uid");
            let hash = template_hash(
                &deploy
                    .pointer("/spec/template")
                    .cloned()
                    .unwrap_or(json!({})),
            );
            let current = format!("{}-{hash}", str_at(&deploy, "/metadata/name"));
            let owned = by_owner.remove(uid).unwrap_or_default();
            let count = |rs: &Value, k: &str| {
                rs.pointer(&format!("/status/{k}"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
            };
            let total: u64 = owned.iter().map(|rs| count(rs, "replicas")).sum();
            let ready: u64 = owned.iter().map(|rs| count(rs, "readyReplicas")).sum();
            let available: u64 = owned.iter().map(|rs| count(rs, "availableReplicas")).sum();
            let new_rs = owned
                .iter()
                .find(|rs| str_at(rs, "/metadata/name") == current);
            let updated = new_rs.map_or(0, |rs| count(rs, "replicas"));
            let desired = replicas_of(&deploy) as u64;
            let prev = deploy.pointer("/status/conditions");
            let available_cond = if available >= desired {
                condition(
                    prev,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    now,
                    true,
                )
            } else {
                condition(
                    prev,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    now,
                    true,
                )
            };
            let done = updated == desired && total == desired && available == desired;
            let progressing = match (new_rs, done) {
                (Some(rs), true) => condition(
                    prev,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!(
                        "ReplicaSet \"{}\" has successfully progressed.",
                        str_at(rs, "/metadata/name")
                    ),
                    now,
                    true,
                ),
                (Some(rs), false) => condition(
                    prev,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    &format!(
                        "ReplicaSet \"{}\" is progressing.",
                        str_at(rs, "/metadata/name")
                    ),
                    now,
                    true,
                ),
                (None, _) => condition(
                    prev,
                    "Progressing",
                    "False",
                    "ReplicaSetCreateError",
                    &format!("Failed to create new replica set \"{current}\""),
                    now,
                    true,
                ),
            };
            let mut status = json!({
                "observedGeneration": generation_of(&deploy),
                "replicas": total,
                "updatedReplicas": updated,
                "readyReplicas": ready,
                "availableReplicas": available,
                "conditions": [available_cond, progressing]
            });
            let unavailable = total.saturating_sub(available);
            if unavailable > 0 {
                status["unavailableReplicas"] = json!(unavailable);
            }
            for k in [
                "replicas",
                "updatedReplicas",
                "readyReplicas",
                "availableReplicas",
            ] {
                if status[k] == json!(0) {
                    if let Some(m) = status.as_object_mut() {
                        m.remove(k);
                    }
                }
            }
            let mut next = deploy.clone();
            next["status"] = status;
            if let Some(rs) = new_rs {
                if !next["metadata"]["annotations"].is_object() {
                    next["metadata"]["annotations"] = json!({});
                }
                next["metadata"]["annotations"][REVISION] = json!(revision_of(rs).to_string());
            }
            self.put(&t.deployments, next);
        }
    }

    /// Each HorizontalPodAutoscaler keeps its target's `spec.replicas` within
    /// `[minReplicas, maxReplicas]` (no metrics: the CPU stays under target).
    pub(super) fn run_hpas(&mut self, t: &Types, now: OffsetDateTime) {
        let _ = now;
        self.canary_hpas_follow_stable(t);
        for hpa in self.all_of(&t.hpas) {
            let Some((deploy, lo, hi)) = self.hpa_target(t, &hpa) else {
                continue;
            };
            let current = replicas_of(&deploy) as i64;
            let want = current.clamp(lo, hi.max(lo));
            if want != current {
                let mut next = deploy.clone();
                next["spec"]["replicas"] = json!(want);
                next["metadata"]["generation"] = json!(generation_of(&deploy) + 1);
                self.put(&t.deployments, next);
            }
        }
    }

    /// During a canary upgrade the add-on's HPAs of the canary revision carry the stable
    /// revision's bounds (docs `istio-upgrade.md`: the stable revision's HPA spec takes
    /// precedence; a change to the canary's is reverted).
    fn canary_hpas_follow_stable(&mut self, t: &Types) {
        let [stable, canary] = self.mesh.revisions.as_slice() else {
            return;
        };
        let (stable, canary) = (format!("-{stable}"), format!("-{canary}"));
        for hpa in self.all_of(&t.hpas) {
            let name = str_at(&hpa, "/metadata/name");
            let ns = str_at(&hpa, "/metadata/namespace");
            let key = crate::core::kube::object_key(&t.hpas.group, &t.hpas.resource, ns, name);
            let Some(base) = name.strip_suffix(canary.as_str()) else {
                continue;
            };
            if !self.addon_keys.contains(&key) {
                continue;
            }
            let Ok(stable_hpa) = self.get(&t.hpas, ns, &format!("{base}{stable}")) else {
                continue;
            };
            let mut next = hpa.clone();
            for k in ["minReplicas", "maxReplicas"] {
                next["spec"][k] = stable_hpa["spec"][k].clone();
            }
            if next != hpa {
                next["metadata"]["generation"] = json!(generation_of(&hpa) + 1);
                self.put(&t.hpas, next);
            }
        }
    }

    /// The Deployment an HPA scales and its bounds.
    fn hpa_target(&self, t: &Types, hpa: &Value) -> Option<(Value, i64, i64)> {
        let target = hpa.pointer("/spec/scaleTargetRef")?;
        if str_at(target, "/kind") != "Deployment" {
            return None;
        }
        let ns = str_at(hpa, "/metadata/namespace");
        let deploy = self.get(&t.deployments, ns, str_at(target, "/name")).ok()?;
        let lo = hpa
            .pointer("/spec/minReplicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let hi = hpa
            .pointer("/spec/maxReplicas")
            .and_then(Value::as_i64)
            .unwrap_or(lo);
        Some((deploy, lo, hi))
    }

    /// Each HPA's status: its target's replicas, no CPU reading, conditions as a cluster
    /// whose pods idle shows them.
    pub(super) fn hpa_statuses(&mut self, t: &Types, now: OffsetDateTime) {
        for hpa in self.all_of(&t.hpas) {
            let prev = hpa.pointer("/status/conditions");
            let (replicas, able) = match self.hpa_target(t, &hpa) {
                Some((deploy, _, _)) => (
                    deploy
                        .pointer("/status/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                    true,
                ),
                None => (0, false),
            };
            let conditions = if able {
                json!([
                    condition(prev, "AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size", now, false),
                    condition(prev, "ScalingActive", "True", "ValidMetricFound", "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)", now, false),
                    condition(prev, "ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range", now, false),
                ])
            } else {
                json!([condition(
                    prev,
                    "AbleToScale",
                    "False",
                    "FailedGetScale",
                    "the HPA controller was unable to get the target's current scale",
                    now,
                    false
                )])
            };
            let mut next = hpa.clone();
            next["status"] = json!({
                "currentReplicas": replicas,
                "desiredReplicas": replicas,
                "currentMetrics": [],
                "conditions": conditions
            });
            self.put(&t.hpas, next);
        }
    }
}
