//! The Kubernetes plane: one small API server per managed cluster, reachable at the server URL
//! of the kubeconfig that `listClusterUserCredential` returns (`{base}/k8s/{sub}/{rg}/{name}`).
//!
//! Coupling to ARM is one pure input: after every mesh change the cluster calls
//! [`Plane::reconcile_addon`] with a [`MeshView`], and the plane makes the add-on's objects
//! match [`addon::addon_objects`]. The mesh code never pokes the plane's objects, and the plane
//! never reads ARM bodies. The mesh rules read back one fact: [`Plane::has_self_managed_istio`].
//!
//! A plane is a generic object store (JSON objects keyed by group, resource, namespace and
//! name) with one `resourceVersion` counter that only moves forward, a bounded history of
//! watch events and a sink for live watchers ([`Watchers`]). Everything time-dependent (a
//! namespace leaving `Terminating`) is settled on the virtual clock when someone looks
//! ([`Plane::settle`]). A cluster's plane starts lazy ([`Plane::lazy`]): it records its
//! creation and each reconcile, and builds its objects by replaying them on first use
//! ([`Plane::materialise`]), so a cluster never used through Kubernetes costs a few hundred
//! bytes here. Submodules: `catalog` (served types, discovery, OpenAPI), `validate`,
//! `patch`, `admission` (the add-on's webhook), `inject` (sidecar injection), `addon` (the
//! add-on's objects), `table` (kubectl's Table output), `http` (the wire), `status` (errors).

pub mod addon;
pub mod admission;
pub mod apply;
pub mod catalog;
pub mod controllers;
pub mod error;
pub mod fields_v1;
pub mod hpa;
pub mod index;
pub mod inject;
pub mod nodes;
pub mod patch;
pub mod patch_meta;
mod reconcile;
pub mod reviews;
pub mod smp;
pub mod tags;
pub mod validate;
pub mod validate_workload;
mod write;

use crate::core::timeline::{self, admission::AdmissionPolicy};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::limits;
use catalog::ResourceType;
use error::Error;
use validate::{FieldTerm, LabelSelector};

/// What the add-on's in-cluster objects are derived from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshView {
    /// `serviceMeshProfile.mode == Istio`.
    pub enabled: bool,
    /// Installed revisions, e.g. `["asm-1-26"]`, two during a canary upgrade.
    pub revisions: Vec<String>,
    /// Enabled ingress gateways: `"External"` / `"Internal"`.
    pub ingress_gateways: Vec<String>,
    /// Enabled egress gateways: (name, namespace).
    pub egress_gateways: Vec<(String, String)>,
    /// `CNIChaining` or `InitContainers`.
    pub proxy_redirection: Option<String>,
    /// Plug-in CA configured (the `cacerts` secret exists).
    pub plugin_ca: bool,
    /// The cluster's agent pools (its nodes); `None` for a plane made without a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<nodes::NodesView>,
    /// Revisions whose proxies the add-on runs as native sidecars (`istio-proxy` an init
    /// container with `restartPolicy: Always`; istiod with `ENABLE_NATIVE_SIDECARS=true`),
    /// resolved from the day's defaults when the mesh was written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_sidecars: Vec<String>,
    /// The Static Egress Gateway is enabled (`networkProfile.staticEgressGatewayProfile`): its
    /// `StaticGatewayConfiguration` CRD is served. Independent of the mesh.
    #[serde(default)]
    pub static_egress_gateway: bool,
}

/// One change, as watchers see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchEvent {
    pub resource_version: u64,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub event_type: String,
    pub group: String,
    pub resource: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    /// Shared with the object map (an object and its latest event are one allocation).
    #[serde(with = "shared")]
    pub object: Arc<Value>,
}

/// Serde for `Arc<Value>` as the plain value (the snapshot format does not change).
mod shared {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(value: &Arc<Value>, s: S) -> Result<S::Ok, S::Error> {
        value.as_ref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Value>, D::Error> {
        Value::deserialize(d).map(Arc::new)
    }

    /// The same for a map of them.
    pub mod map {
        use super::*;

        pub fn serialize<S: Serializer>(
            map: &BTreeMap<String, Arc<Value>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_map(map.iter().map(|(k, v)| (k, v.as_ref())))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<BTreeMap<String, Arc<Value>>, D::Error> {
            let plain = BTreeMap::<String, Value>::deserialize(d)?;
            Ok(plain.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
        }
    }
}

/// Where a plane sends its live events: installed by the wire when the plane is first
/// watched (a broadcast channel there); not part of snapshots.
pub trait EventSink: Send + Sync + std::fmt::Debug {
    fn send(&self, event: Arc<WatchEvent>);
    /// The sink as `Any`, so its installer can find its own type again.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A plane's live-event sink, if anyone watches.
#[derive(Debug, Clone, Default)]
pub struct Watchers(Option<Arc<dyn EventSink>>);

impl Watchers {
    fn send(&self, event: WatchEvent) {
        if let Some(sink) = &self.0 {
            sink.send(Arc::new(event));
        }
    }

    /// The installed sink, or `make`'s (installed now).
    pub fn get_or_install(
        &mut self,
        make: impl FnOnce() -> Arc<dyn EventSink>,
    ) -> &Arc<dyn EventSink> {
        self.0.get_or_insert_with(make)
    }
}

/// Per-request context of a write.
#[derive(Debug, Clone, Copy)]
pub struct WriteCtx {
    pub now: OffsetDateTime,
    /// `dryRun=All`: run every check, store nothing.
    pub dry_run: bool,
    /// The add-on's admission policy on the subscription's day.
    pub admission: &'static AdmissionPolicy,
    /// Who writes (`managedFields`); `FieldManager::NONE` for the simulator's own writes.
    pub manager: apply::FieldManager,
}

impl WriteCtx {
    /// A write at `now` under the newest day's admission policy.
    pub fn new(now: OffsetDateTime) -> Self {
        let t = timeline::timeline();
        WriteCtx {
            now,
            dry_run: false,
            admission: &t.dated(t.newest_day()).admission,
            manager: apply::FieldManager::NONE,
        }
    }
}

/// What a list asks for.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub labels: LabelSelector,
    pub fields: Vec<FieldTerm>,
    pub limit: Option<usize>,
    pub continue_after: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// The stored objects themselves (shared, not copied).
    pub items: Vec<Arc<Value>>,
    pub resource_version: u64,
    /// Key of the last item when more remain.
    pub continue_after: Option<String>,
    pub remaining: usize,
}

/// One cluster's Kubernetes objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Plane {
    /// `major.minor.patch` reported by `/version`.
    pub kubernetes_version: String,
    /// Bearer token the kubeconfig carries.
    pub token: String,
    pub mesh: MeshView,
    /// Virtual seconds a deleted namespace stays `Terminating`.
    pub termination_delay_secs: f64,
    /// The last `resourceVersion` handed out.
    pub resource_version: u64,
    /// Every object, keyed by [`object_key`].
    #[serde(with = "shared::map")]
    pub objects: BTreeMap<String, Arc<Value>>,
    /// Keys of the objects the add-on owns (read-only for users).
    pub addon_keys: BTreeSet<String>,
    /// Namespaces being deleted → when they go away (unix milliseconds, virtual clock).
    pub terminating: BTreeMap<String, i64>,
    /// Recent events, oldest first, at most `KUBE_WATCH_HISTORY_MAX`.
    pub events: VecDeque<WatchEvent>,
    /// Events up to this resourceVersion have left the history.
    pub history_floor: u64,
    /// Seed of the plane's object uids.
    pub uid_seed: String,
    /// Set while the plane is not materialised: what its objects are derived from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lazy: Option<Box<Lazy>>,
    #[serde(skip)]
    pub watchers: Watchers,
    /// Set while the workload controllers run (their own writes do not start another sweep).
    #[serde(skip)]
    pub in_controllers: bool,
    /// The pods a sweep counts as it makes and deletes them.
    #[serde(skip)]
    pub pod_tally: usize,
    /// Objects by label, per type and namespace (`None` until built: lists then walk).
    #[serde(skip)]
    pub label_index: Option<index::LabelIndex>,
}

/// A plane that nobody has looked at through Kubernetes yet: everything it would hold is
/// the initial namespaces (created at `created`) plus the add-on's objects of each reconcile
/// since, so it keeps only those inputs and builds its objects on first use
/// ([`Plane::materialise`]) by replaying them, with the same uids, timestamps,
/// resourceVersions and watch history an eager plane would have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lazy {
    /// When the plane was created (the initial namespaces' creation time).
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// Every reconcile that changed the `MeshView`, oldest first, at most
    /// `KUBE_LAZY_RECONCILES_MAX` (one more materialises the plane).
    pub reconciles: Vec<LazyReconcile>,
}

/// One recorded [`Plane::reconcile_addon`] call of a lazy plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LazyReconcile {
    pub view: MeshView,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// `group/resource/namespace/name` (empty group for core, empty namespace for cluster scope).
pub fn object_key(group: &str, resource: &str, namespace: &str, name: &str) -> String {
    format!("{group}/{resource}/{namespace}/{name}")
}

fn type_prefix(group: &str, resource: &str) -> String {
    format!("{group}/{resource}/")
}

/// RFC 3339 with second precision, as Kubernetes writes timestamps.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    at(v, ptr).and_then(Value::as_str).unwrap_or("")
}

/// `Value::pointer` without its allocations (it builds a `String` per token; the controllers
/// and lists read a few fields of every object of a type).
pub fn at<'a>(v: &'a Value, ptr: &str) -> Option<&'a Value> {
    if ptr.is_empty() {
        return Some(v);
    }
    let rest = ptr.strip_prefix('/')?;
    rest.split('/').try_fold(v, |cur, token| {
        let unescaped;
        let token = if token.contains('~') {
            unescaped = token.replace("~1", "/").replace("~0", "~");
            unescaped.as_str()
        } else {
            token
        };
        match cur {
            Value::Object(m) => m.get(token),
            Value::Array(a) => token.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
    })
}

/// The namespaces a real cluster starts with.
const INITIAL_NAMESPACES: &[&str] = &["default", "kube-node-lease", "kube-public", "kube-system"];
/// Namespaces that may not be deleted.
const PROTECTED_NAMESPACES: &[&str] = &["default", "kube-public", "kube-system"];

fn namespaces_type() -> ResourceType {
    catalog::builtins()
        .into_iter()
        .find(|t| t.resource == "namespaces")
        .expect("namespaces is a built-in")
}

impl Plane {
    /// A materialised plane with the initial namespaces, created at `now`.
    pub fn new(kubernetes_version: &str, token: &str, now: OffsetDateTime) -> Self {
        let mut plane = Plane::lazy(kubernetes_version, token, now);
        plane.materialise();
        plane
    }

    /// A plane that builds its objects on first use ([`Plane::materialise`]); until then it
    /// costs its token, version and the recorded add-on inputs. Observably the same as
    /// [`Plane::new`] at `now`.
    pub fn lazy(kubernetes_version: &str, token: &str, now: OffsetDateTime) -> Self {
        Plane {
            kubernetes_version: kubernetes_version.to_owned(),
            token: token.to_owned(),
            termination_delay_secs: limits::KUBE_NAMESPACE_TERMINATION_SECS,
            uid_seed: format!("{token}@{}", now.unix_timestamp_nanos()),
            lazy: Some(Box::new(Lazy {
                created: now,
                reconciles: Vec::new(),
            })),
            ..Plane::default()
        }
    }

    /// Whether the objects exist (false until the first use of a lazy plane).
    pub fn is_materialised(&self) -> bool {
        self.lazy.is_none()
    }

    /// Builds a lazy plane's objects by replaying its creation and recorded reconciles; a
    /// no-op on a materialised plane. Everything that reads objects calls this first (the
    /// read methods see a lazy plane as empty).
    pub fn materialise(&mut self) {
        let Some(lazy) = self.lazy.take() else {
            if self.label_index.is_none() {
                let mut index = index::LabelIndex::default();
                for (k, o) in &self.objects {
                    index.add(k, o);
                }
                self.label_index = Some(index);
            }
            return;
        };
        self.label_index.get_or_insert_with(Default::default);
        let current = std::mem::take(&mut self.mesh);
        let ns = namespaces_type();
        for name in INITIAL_NAMESPACES {
            let object =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
            let object = self.with_system_fields(&ns, object, lazy.created);
            self.store(&ns, "", name, object, "ADDED");
        }
        for r in lazy.reconciles {
            self.apply_addon(&r.view, r.at);
        }
        self.mesh = current;
    }

    /// A snapshot's plane is consistent: a lazy one holds no objects yet.
    pub fn check(&self) -> Result<(), String> {
        let Some(lazy) = &self.lazy else {
            return Ok(());
        };
        if !self.objects.is_empty()
            || self.resource_version != 0
            || !self.events.is_empty()
            || !self.addon_keys.is_empty()
            || !self.terminating.is_empty()
        {
            return Err(
                "a plane with \"lazy\" must not hold objects, events or a resourceVersion"
                    .to_owned(),
            );
        }
        if lazy.reconciles.len() > limits::KUBE_LAZY_RECONCILES_MAX {
            return Err(format!(
                "a lazy plane records at most {} reconciles",
                limits::KUBE_LAZY_RECONCILES_MAX
            ));
        }
        // `mesh` is the last recorded view (what the plane's objects will be built from).
        let last = lazy.reconciles.last().map(|r| &r.view);
        if last.unwrap_or(&MeshView::default()) != &self.mesh {
            return Err(
                "the \"mesh\" of a lazy plane must be the view of its last reconcile".to_owned(),
            );
        }
        Ok(())
    }

    // ----- the store ------------------------------------------------------------------------

    fn next_rv(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    fn uid(&self, salt: &str) -> String {
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{}/{}/{salt}", self.uid_seed, self.resource_version).as_bytes(),
        )
        .hyphenated()
        .to_string()
    }

    fn emit(
        &mut self,
        rv: u64,
        event_type: &str,
        rt: &ResourceType,
        namespace: &str,
        object: Arc<Value>,
    ) {
        let event = WatchEvent {
            resource_version: rv,
            event_type: event_type.to_owned(),
            group: rt.group.clone(),
            resource: rt.resource.clone(),
            namespace: namespace.to_owned(),
            object,
        };
        while self.events.len() >= limits::KUBE_WATCH_HISTORY_MAX {
            if let Some(old) = self.events.pop_front() {
                self.history_floor = old.resource_version;
            }
        }
        self.events.push_back(event.clone());
        self.watchers.send(event);
    }

    /// Stores `object` under a fresh resourceVersion and tells watchers.
    fn store(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        mut object: Value,
        event_type: &str,
    ) -> Value {
        let rv = self.next_rv();
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        crate::compact::value(&mut object);
        let shared = Arc::new(object);
        let key = object_key(&rt.group, &rt.resource, namespace, name);
        if let Some(index) = self.label_index.as_mut() {
            if let Some(old) = self.objects.get(&key) {
                index.remove(&key, old);
            }
            index.add(&key, &shared);
        }
        self.objects.insert(key, shared.clone());
        self.emit(rv, event_type, rt, namespace, shared.clone());
        Value::clone(&shared)
    }

    /// Removes an object and tells watchers (the DELETED event carries a new resourceVersion).
    fn remove(&mut self, rt: &ResourceType, namespace: &str, name: &str) -> Option<Value> {
        let key = object_key(&rt.group, &rt.resource, namespace, name);
        let removed = self.objects.remove(&key)?;
        if let Some(index) = self.label_index.as_mut() {
            index.remove(&key, &removed);
        }
        let mut object = Arc::unwrap_or_clone(removed);
        self.addon_keys.remove(&key);
        let rv = self.next_rv();
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let shared = Arc::new(object);
        self.emit(rv, "DELETED", rt, namespace, shared.clone());
        Some(Value::clone(&shared))
    }

    /// Every type served now: the built-ins plus one per stored CRD.
    pub fn resource_types(&self) -> Vec<ResourceType> {
        let mut types = catalog::builtins();
        let prefix = type_prefix("apiextensions.k8s.io", "customresourcedefinitions");
        for (_, crd) in self
            .objects
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            if let Some(rt) = catalog::from_crd(crd) {
                if !types
                    .iter()
                    .any(|t| t.group == rt.group && t.resource == rt.resource)
                {
                    types.push(rt);
                }
            }
        }
        types
    }

    fn objects_of<'a>(
        &'a self,
        rt: &ResourceType,
    ) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
        let prefix = type_prefix(&rt.group, &rt.resource);
        self.objects
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
            .map(|(k, o)| (k, o.as_ref()))
    }

    fn namespace_object(&self, name: &str) -> Option<&Value> {
        self.objects
            .get(&object_key("", "namespaces", "", name))
            .map(|o| o.as_ref())
    }

    // ----- time -----------------------------------------------------------------------------

    /// Whether [`Plane::settle`] at `now` would change anything (a namespace deletion is due).
    pub fn needs_settle(&self, now: OffsetDateTime) -> bool {
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        self.terminating.values().any(|at| *at <= now_ms)
    }

    /// Finishes every namespace deletion that is due at `now`.
    pub fn settle(&mut self, now: OffsetDateTime) {
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        let due: Vec<String> = self
            .terminating
            .iter()
            .filter(|(_, at)| **at <= now_ms)
            .map(|(ns, _)| ns.clone())
            .collect();
        for ns in due {
            self.terminating.remove(&ns);
            self.purge_namespace(&ns);
        }
    }

    /// Deletes a namespace and everything in it, now.
    fn purge_namespace(&mut self, ns: &str) {
        let types = self.resource_types();
        for rt in types.iter().filter(|t| t.namespaced) {
            let names: Vec<String> = self
                .objects_of(rt)
                .filter(|(_, o)| str_at(o, "/metadata/namespace") == ns)
                .map(|(_, o)| str_at(o, "/metadata/name").to_owned())
                .collect();
            for name in names {
                self.remove(rt, ns, &name);
            }
        }
        self.terminating.remove(ns);
        self.remove(&namespaces_type(), "", ns);
    }

    // ----- reads ----------------------------------------------------------------------------

    pub fn get(&self, rt: &ResourceType, namespace: &str, name: &str) -> Result<Value, Error> {
        self.objects
            .get(&object_key(&rt.group, &rt.resource, namespace, name))
            .map(|o| Value::clone(o))
            .ok_or_else(|| Error::not_found(&rt.group_resource(), name))
    }

    /// Lists `rt` in `namespace` (`None` = all namespaces / cluster scope), filtered and paged.
    /// Without a `limit` (or `limit=0`) every match is returned, as kube-apiserver does —
    /// clients that do not page (kube-rs's `list` with default parameters) must not see a
    /// silently truncated list; the plane's object cap bounds the size. A `limit` above
    /// `KUBE_LIST_PAGE_MAX` gets that many and a `continue` token (the API lets a server
    /// return fewer than asked).
    pub fn list(&self, rt: &ResourceType, namespace: Option<&str>, opts: &ListOptions) -> ListPage {
        let limit = match opts.limit.filter(|l| *l > 0) {
            Some(l) => l.min(limits::KUBE_LIST_PAGE_MAX),
            None => usize::MAX,
        };
        // A continued list starts right after its key instead of walking the earlier pages;
        // a namespaced list walks only its namespace (keys are type/namespace/name).
        let prefix = match namespace {
            Some(ns) if rt.namespaced => format!("{}{ns}/", type_prefix(&rt.group, &rt.resource)),
            _ => type_prefix(&rt.group, &rt.resource),
        };
        if let Some(page) = self.list_indexed(&prefix, opts, limit) {
            return page;
        }
        let lower = match &opts.continue_after {
            Some(after) if after.starts_with(&prefix) => Bound::Excluded(after.clone()),
            _ => Bound::Included(prefix.clone()),
        };
        let matching = self
            .objects
            .range((lower, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| opts.continue_after.as_ref().is_none_or(|after| *k > after))
            .filter(|(_, o)| {
                namespace.is_none_or(|ns| {
                    o.get("metadata")
                        .and_then(|m| m.get("namespace"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        == ns
                })
            })
            .filter(|(_, o)| opts.labels.matches_object(o))
            .filter(|(_, o)| validate::fields_match(o, &opts.fields));
        let mut items = Vec::new();
        let mut last_key = None;
        let mut remaining = 0;
        for (k, o) in matching {
            if items.len() < limit {
                items.push(Arc::clone(o));
                last_key = Some(k.clone());
            } else {
                remaining += 1;
            }
        }
        ListPage {
            items,
            resource_version: self.resource_version,
            continue_after: if remaining > 0 { last_key } else { None },
            remaining,
        }
    }

    /// A list through the label index: when the plane is indexed, the list names one type in
    /// one namespace (or a cluster-scoped type) and its selector has an equality term, only
    /// the objects with that label are read. `None`: walk instead.
    fn list_indexed(&self, prefix: &str, opts: &ListOptions, limit: usize) -> Option<ListPage> {
        let index = self.label_index.as_ref()?;
        if prefix.matches('/').count() != 3 {
            return None;
        }
        let (label, value) = opts.labels.0.iter().find_map(|r| match r {
            validate::Requirement::Equals(k, v) => Some((k, v)),
            validate::Requirement::In(k, vs) if vs.len() == 1 => Some((k, &vs[0])),
            _ => None,
        })?;
        let empty = std::collections::BTreeSet::new();
        let keys = index.lookup(prefix, label, value).unwrap_or(&empty);
        let mut items = Vec::new();
        let mut last_key = None;
        let mut remaining = 0;
        for key in keys {
            if opts
                .continue_after
                .as_ref()
                .is_some_and(|after| key <= after)
            {
                continue;
            }
            let Some(o) = self.objects.get(key) else {
                continue;
            };
            if !opts.labels.matches_object(o) || !validate::fields_match(o, &opts.fields) {
                continue;
            }
            if items.len() < limit {
                items.push(Arc::clone(o));
                last_key = Some(key.clone());
            } else {
                remaining += 1;
            }
        }
        Some(ListPage {
            items,
            resource_version: self.resource_version,
            continue_after: if remaining > 0 { last_key } else { None },
            remaining,
        })
    }

    // ----- watches --------------------------------------------------------------------------

    /// Starts a watch: the events to send first (synthetic ADDED for the current state when
    /// `from` is `None`, else the retained history after `from`). The caller subscribes to the
    /// plane's [`Watchers`] under the same lock, so nothing falls between the two.
    pub fn watch(&self, rt: &ResourceType, from: Option<u64>) -> Result<Vec<WatchEvent>, Error> {
        let initial = match from {
            None => self
                .objects_of(rt)
                .map(|(_, o)| WatchEvent {
                    resource_version: o
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    event_type: "ADDED".to_owned(),
                    group: rt.group.clone(),
                    resource: rt.resource.clone(),
                    namespace: str_at(o, "/metadata/namespace").to_owned(),
                    object: Arc::new(o.clone()),
                })
                .collect(),
            Some(rv) => {
                if rv < self.history_floor {
                    return Err(Error::gone(rv));
                }
                self.events
                    .iter()
                    .filter(|e| {
                        e.resource_version > rv && e.group == rt.group && e.resource == rt.resource
                    })
                    .cloned()
                    .collect()
            }
        };
        Ok(initial)
    }
}
