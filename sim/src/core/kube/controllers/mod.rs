//! The workload controllers, run on the virtual clock right after every write (no background
//! threads): one sweep ([`Plane::run_controllers`]) brings every workload to its desired
//! state at once — pods are Running and Ready when they are made — and every step is a
//! stored change with its watch event, as a real cluster's controllers would write them:
//!
//! 1. HorizontalPodAutoscalers clamp their target's `spec.replicas` (`deployment`);
//! 2. Deployments own ReplicaSets `<deploy>-<pod-template-hash>`; a template change makes a
//!    new one and scales the old ones to 0 (`deployment`);
//! 3. dependents whose owner is gone are deleted (background cascading: [`Plane::collect_garbage`]);
//! 4. ReplicaSets, DaemonSets (`daemonset`), StatefulSets (`statefulset`) and Jobs (`job`)
//!    create and delete their pods through [`Plane::create`] — the same validation, limits and
//!    sidecar injection as a pod a user creates;
//! 5. each workload's `status` follows its pods.
//!
//! Deletes take a propagation policy ([`Plane::delete_propagating`]): `Background` (the
//! default) and `Foreground` remove the dependents too, `Orphan` leaves them without owner.

mod daemonset;
mod deployment;
mod job;
mod scale;
mod statefulset;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::catalog::{self, ResourceType};
use super::error::Error;
use super::{object_key, str_at, timestamp, Plane, WriteCtx};
use crate::limits;

pub use scale::{has_scale, scale_of};

/// How a delete treats the object's dependents (`DeleteOptions.propagationPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

impl Propagation {
    /// `Background`, `Foreground` or `Orphan`; anything else is a 400 as kube-apiserver says.
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "Background" => Ok(Propagation::Background),
            "Foreground" => Ok(Propagation::Foreground),
            "Orphan" => Ok(Propagation::Orphan),
            other => Err(Error::bad_request(format!(
                "DeleteOptions.propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\""
            ))),
        }
    }
}

/// A container's status in a running pod: what the kubelet reports (every field the
/// official clients require: `imageID`, `containerID`, `image`, `name`, `ready`,
/// `restartCount`, `started`, `state`).
pub fn container_status(container: &Value, now: OffsetDateTime) -> Value {
    let name = str_at(container, "/name");
    let image = str_at(container, "/image");
    let digest = fnv64(image.as_bytes());
    let image_ref = if image.contains('/') {
        image.to_owned()
    } else {
        format!("docker.io/library/{image}")
    };
    let repo = image_ref
        .rsplit_once(':')
        .filter(|(_, tag)| !tag.contains('/'))
        .map_or(image_ref.as_str(), |(r, _)| r);
    json!({
        "name": name,
        "image": image_ref,
        "imageID": format!("{repo}@sha256:{digest:016x}{digest:016x}{digest:016x}{digest:016x}"),
        "containerID": format!("containerd://{:016x}{:016x}{:016x}{:016x}", fnv64(name.as_bytes()), digest, now.unix_timestamp(), fnv64(image_ref.as_bytes())),
        "ready": true,
        "started": true,
        "restartCount": 0,
        "lastState": {},
        "state": {"running": {"startedAt": timestamp(now)}}
    })
}

/// Why a controller could not make a pod, as its `ReplicaFailure` condition says.
fn failure_message(e: &Error) -> String {
    match e {
        Error::TooMany { what, limit } => {
            format!(
                "pods is forbidden: exceeded quota: aksim holds at most {limit} {what} per cluster"
            )
        }
        Error::Invalid { causes, .. } => format!(
            "Pod is invalid: {}",
            causes
                .iter()
                .map(|c| c.line())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("pods could not be created: {other:?}"),
    }
}

/// FNV-1a, 64 bits.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// kube's `rand.SafeEncodeString` alphabet.
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The hash of a pod template as a label value (`pod-template-hash`, `controller-revision-hash`):
/// FNV-1a 32 of the template, its decimal digits mapped to kube's safe alphabet.
pub fn template_hash(template: &Value) -> String {
    let text = serde_json::to_string(template).unwrap_or_default();
    let hash = text.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash.to_string()
        .bytes()
        .map(|b| SAFE[usize::from(b) % SAFE.len()] as char)
        .collect()
}

/// The controller `ownerReference` to `owner`.
fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": str_at(owner, "/apiVersion"),
        "kind": str_at(owner, "/kind"),
        "name": str_at(owner, "/metadata/name"),
        "uid": str_at(owner, "/metadata/uid"),
        "controller": true,
        "blockOwnerDeletion": true
    })
}

/// The uid of an object's controller, if it has one.
pub fn controller_uid(object: &Value) -> Option<&str> {
    super::at(object, "/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller") == Some(&json!(true)))
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
}

fn owner_uids(object: &Value) -> Vec<&str> {
    super::at(object, "/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// The types controllers read and write, looked up once per sweep.
pub(crate) struct Types {
    pub pods: ResourceType,
    pub replicasets: ResourceType,
    pub deployments: ResourceType,
    pub daemonsets: ResourceType,
    pub statefulsets: ResourceType,
    pub jobs: ResourceType,
    pub hpas: ResourceType,
}

impl Types {
    fn new() -> Self {
        let all = catalog::builtins();
        let find = |g: &str, r: &str| {
            all.iter()
                .find(|t| t.group == g && t.resource == r)
                .cloned()
                .expect("a built-in type")
        };
        Types {
            pods: find("", "pods"),
            replicasets: find("apps", "replicasets"),
            deployments: find("apps", "deployments"),
            daemonsets: find("apps", "daemonsets"),
            statefulsets: find("apps", "statefulsets"),
            jobs: find("batch", "jobs"),
            hpas: find("autoscaling", "horizontalpodautoscalers"),
        }
    }
}

/// One pod as its controller sees it.
#[derive(Debug, Clone)]
pub(crate) struct PodInfo {
    pub name: String,
    pub ready: bool,
    pub succeeded: bool,
    /// `pod-template-hash` / `controller-revision-hash`.
    pub revision: String,
    pub node: String,
}

/// The pods of each controller uid, by name.
pub(crate) type PodIndex = BTreeMap<String, Vec<PodInfo>>;

impl Plane {
    /// Runs the controllers after a write (not from inside a sweep: a controller's own writes
    /// are part of the sweep that made them).
    pub(super) fn after_write(&mut self, ctx: WriteCtx) {
        if self.in_controllers || ctx.dry_run {
            return;
        }
        self.in_controllers = true;
        self.run_controllers(ctx);
        self.in_controllers = false;
    }

    /// One sweep of every controller (see the module docs).
    fn run_controllers(&mut self, ctx: WriteCtx) {
        let ctx = WriteCtx {
            dry_run: false,
            ..ctx
        };
        let t = Types::new();
        self.run_hpas(&t, ctx.now);
        self.run_deployments(&t, ctx);
        self.collect_garbage();
        self.pod_tally = self.pod_count();
        let mut index = self.pod_index(&t);
        self.run_replicasets(&t, ctx, &mut index);
        self.run_daemonsets(&t, ctx, &mut index);
        self.run_statefulsets(&t, ctx, &mut index);
        self.run_jobs(&t, ctx, &mut index);
        self.deployment_statuses(&t, ctx.now);
        self.hpa_statuses(&t, ctx.now);
    }

    /// Every object of `rt` in `namespace`, cloned (the controllers write while they walk).
    pub(crate) fn objects_in(&self, rt: &ResourceType, namespace: &str) -> Vec<Value> {
        let prefix = format!("{}/{}/{namespace}/", rt.group, rt.resource);
        self.objects
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, o)| Value::clone(o))
            .collect()
    }

    /// Every object of `rt`, cloned.
    pub(crate) fn all_of(&self, rt: &ResourceType) -> Vec<Value> {
        self.objects_of(rt).map(|(_, o)| o.clone()).collect()
    }

    /// Stores `object` as MODIFIED when it differs from what is stored.
    pub(crate) fn put(&mut self, rt: &ResourceType, object: Value) {
        let ns = str_at(&object, "/metadata/namespace").to_owned();
        let name = str_at(&object, "/metadata/name").to_owned();
        let key = object_key(&rt.group, &rt.resource, &ns, &name);
        let Some(old) = self.objects.get(&key) else {
            return;
        };
        let mut object = object;
        object["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        if **old != object {
            self.store(rt, &ns, &name, object, "MODIFIED");
        }
    }

    /// The pods of every controller, from one walk over the pods.
    fn pod_index(&self, t: &Types) -> PodIndex {
        let mut index = PodIndex::new();
        for (_, pod) in self.objects_of(&t.pods) {
            if let Some(uid) = controller_uid(pod) {
                index.entry(uid.to_owned()).or_default().push(pod_info(pod));
            }
        }
        index
    }

    /// Creates a pod for the workload `owner` from its template, through the same path as a
    /// user's pod (validation, limits, sidecar injection). `name` is the pod's name, or the
    /// prefix of a generated one when it ends in `-`.
    pub(crate) fn create_pod(
        &mut self,
        t: &Types,
        owner: &Value,
        name: &str,
        labels: &[(&str, String)],
        node: Option<&str>,
        ctx: WriteCtx,
    ) -> Result<PodInfo, Error> {
        let ns = str_at(owner, "/metadata/namespace").to_owned();
        let template = owner
            .pointer("/spec/template")
            .cloned()
            .unwrap_or(json!({}));
        let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
        if !metadata.is_object() {
            metadata = json!({});
        }
        if !metadata["labels"].is_object() {
            metadata["labels"] = json!({});
        }
        for (k, v) in labels {
            metadata["labels"][*k] = json!(v);
        }
        metadata["namespace"] = json!(ns);
        metadata["ownerReferences"] = json!([owner_ref(owner)]);
        if self.pod_tally >= limits::KUBE_PODS_PER_PLANE_MAX {
            return Err(Error::too_many("pods", limits::KUBE_PODS_PER_PLANE_MAX));
        }
        for attempt in 0..5 {
            let pod_name = if name.ends_with('-') {
                metadata["generateName"] = json!(name);
                self.pod_suffix(name, attempt)
            } else {
                name.to_owned()
            };
            metadata["name"] = json!(pod_name);
            let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata.clone(),
                                 "spec": template.get("spec").cloned().unwrap_or(json!({}))});
            if let Some(node) = node {
                pod["spec"]["nodeName"] = json!(node);
            }
            match self.create(&t.pods, "v1", &ns, pod, ctx) {
                Ok(created) => {
                    self.pod_tally += 1;
                    return Ok(pod_info(&created));
                }
                Err(Error::AlreadyExists { .. }) if name.ends_with('-') => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::already_exists(&t.pods.group_resource(), name))
    }

    /// `<prefix><5 characters>` as kube's `generateName` makes them.
    fn pod_suffix(&self, prefix: &str, attempt: u32) -> String {
        let hash = fnv64(
            format!(
                "{}/{}/{prefix}/{attempt}",
                self.uid_seed, self.resource_version
            )
            .as_bytes(),
        );
        let suffix: String = (0..5)
            .map(|i| SAFE[((hash >> (i * 8)) & 0xff) as usize % SAFE.len()] as char)
            .collect();
        format!("{prefix}{suffix}")
    }

    /// Deletes one pod (a controller scaling down).
    pub(crate) fn delete_pod(&mut self, t: &Types, namespace: &str, name: &str) {
        if self.remove(&t.pods, namespace, name).is_some() {
            self.pod_tally = self.pod_tally.saturating_sub(1);
        }
    }

    /// Whether one more pod fits under `KUBE_PODS_PER_PLANE_MAX` (inside a sweep the
    /// controllers keep the count themselves).
    pub fn pods_full(&self) -> bool {
        if self.in_controllers {
            return self.pod_tally >= limits::KUBE_PODS_PER_PLANE_MAX;
        }
        self.pod_count() >= limits::KUBE_PODS_PER_PLANE_MAX
    }

    /// The number of pods.
    pub fn pod_count(&self) -> usize {
        let prefix = "/pods/";
        self.objects
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .count()
    }

    /// Deletes every object (pods, ReplicaSets, …) whose owners are all gone.
    fn collect_garbage(&mut self) {
        let t = Types::new();
        for rt in [&t.replicasets, &t.pods] {
            // The owners as they are now (the ReplicaSets' pass may have removed some).
            let owners: BTreeSet<String> = [
                &t.deployments,
                &t.replicasets,
                &t.daemonsets,
                &t.statefulsets,
                &t.jobs,
            ]
            .iter()
            .flat_map(|rt| {
                self.objects_of(rt)
                    .map(|(_, o)| str_at(o, "/metadata/uid").to_owned())
            })
            .collect();
            let orphans: Vec<(String, String)> = self
                .objects_of(rt)
                .map(|(_, o)| o)
                .filter(|o| {
                    let refs = owner_uids(o);
                    !refs.is_empty() && refs.iter().all(|u| !owners.contains(*u))
                })
                .map(|o| {
                    (
                        str_at(o, "/metadata/namespace").to_owned(),
                        str_at(o, "/metadata/name").to_owned(),
                    )
                })
                .collect();
            for (ns, name) in orphans {
                self.remove(rt, &ns, &name);
            }
        }
    }

    /// Deletes an object with a propagation policy: `Orphan` first takes the owner out of its
    /// dependents' `ownerReferences`, `Foreground` deletes the dependents before the owner,
    /// `Background` deletes the owner and lets the garbage collector take the rest.
    pub fn delete_propagating(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        policy: Propagation,
        ctx: WriteCtx,
    ) -> Result<Value, Error> {
        self.materialise();
        let old = self.get(rt, namespace, name)?;
        if policy == Propagation::Orphan && !ctx.dry_run && rt.namespaced {
            self.check_deletable(rt, namespace, name)?;
            let uid = str_at(&old, "/metadata/uid").to_owned();
            let t = Types::new();
            for dep_rt in [&t.replicasets, &t.pods] {
                for mut dep in self.objects_in(dep_rt, namespace) {
                    if !owner_uids(&dep).contains(&uid.as_str()) {
                        continue;
                    }
                    if let Some(refs) = dep["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"] != json!(uid));
                        if refs.is_empty() {
                            if let Some(m) = dep["metadata"].as_object_mut() {
                                m.remove("ownerReferences");
                            }
                        }
                    }
                    self.put(dep_rt, dep);
                }
            }
        }
        if policy == Propagation::Foreground && !ctx.dry_run && rt.namespaced {
            self.check_deletable(rt, namespace, name)?;
            self.remove_dependents(str_at(&old, "/metadata/uid"), namespace);
        }
        self.delete(rt, namespace, name, ctx)
    }

    /// Removes every dependent of `uid` in `namespace`, theirs first.
    fn remove_dependents(&mut self, uid: &str, namespace: &str) {
        let t = Types::new();
        for rt in [&t.replicasets, &t.pods] {
            for dep in self.objects_in(rt, namespace) {
                if owner_uids(&dep).contains(&uid) {
                    let dep_uid = str_at(&dep, "/metadata/uid").to_owned();
                    self.remove_dependents(&dep_uid, namespace);
                    self.remove(rt, namespace, str_at(&dep, "/metadata/name"));
                }
            }
        }
    }

    /// The checks a delete makes before it changes anything (the add-on's objects).
    fn check_deletable(&self, rt: &ResourceType, namespace: &str, name: &str) -> Result<(), Error> {
        self.check_not_addon(rt, namespace, name)
    }
}

fn pod_info(pod: &Value) -> PodInfo {
    let labels = super::at(pod, "/metadata/labels");
    let label = |k: &str| {
        labels
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let revision = match label("pod-template-hash") {
        s if s.is_empty() => label("controller-revision-hash"),
        s => s,
    };
    PodInfo {
        name: str_at(pod, "/metadata/name").to_owned(),
        ready: super::at(pod, "/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            }),
        succeeded: str_at(pod, "/status/phase") == "Succeeded",
        revision,
        node: str_at(pod, "/spec/nodeName").to_owned(),
    }
}

/// A condition object as the controllers write them; `previous` keeps its transition time
/// when the status did not change.
pub(crate) fn condition(
    previous: Option<&Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: OffsetDateTime,
    with_update_time: bool,
) -> Value {
    let old = previous
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind));
    let same = old.is_some_and(|c| c["status"] == status && c["reason"] == reason);
    let transition = match old {
        Some(c) if c["status"] == status => c["lastTransitionTime"].clone(),
        _ => json!(timestamp(now)),
    };
    let mut c = json!({"type": kind, "status": status, "reason": reason, "message": message,
                       "lastTransitionTime": transition});
    if with_update_time {
        c["lastUpdateTime"] = match old {
            Some(o) if same && o["message"] == message => o["lastUpdateTime"].clone(),
            _ => json!(timestamp(now)),
        };
    }
    c
}

/// `spec.replicas` (default 1, negative read as 0).
pub(crate) fn replicas_of(object: &Value) -> usize {
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
        .max(0) as usize
}

/// `metadata.generation` (default 1).
pub(crate) fn generation_of(object: &Value) -> i64 {
    object
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}
