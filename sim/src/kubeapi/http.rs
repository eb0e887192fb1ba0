//! The plane's wire: `/k8s/{subscription}/{resourceGroup}/{cluster}/<kubernetes path>`.
//!
//! [`handle`] parses the prefix, reads the body (limit → 413 `Status`), locks the subscription
//! once, finds the plane (404 `Status`), checks `Authorization: Bearer <plane token>` (401),
//! settles the plane on the virtual clock and serves the request synchronously. Watches are the
//! one exception: under the lock they collect their first events and subscribe to the plane's
//! channel, then the lock is released and newline-delimited JSON events stream from the
//! receiver until `timeoutSeconds` (real time, bounded by `KUBE_WATCH_TIMEOUT_MAX_SECS`).
//!
//! Request bodies are JSON (or YAML with `Content-Type: application/yaml`); answers are JSON,
//! or a `meta.k8s.io/v1` Table when the `Accept` header asks for one.

use crate::core::timeline::admission::AdmissionPolicy;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::apply;
use super::probes::{self, decode, decode_continue, encode_continue, json_response, present};
use super::protobuf;
use super::status::Status;
use super::table;
use crate::core::clusters::cluster_key;
use crate::core::kube::catalog::{self, ResourceType};
use crate::core::kube::controllers;
use crate::core::kube::patch::{self, PatchType};
use crate::core::kube::smp;
use crate::core::kube::validate::{self, FieldTerm, LabelSelector};
use crate::core::kube::{reviews, EventSink, ListOptions, Plane, WatchEvent, WriteCtx};
use crate::limits;
use crate::state::AppState;

/// Whether a request path belongs to the kube planes.
pub fn is_kube_path(path: &str) -> bool {
    path == "/k8s" || path.starts_with("/k8s/")
}

struct KubeRequest {
    method: Method,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
    now: time::OffsetDateTime,
    /// The add-on's admission policy on the subscription's day.
    admission: &'static AdmissionPolicy,
}

impl KubeRequest {
    fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn flag(&self, name: &str) -> bool {
        matches!(self.q(name), Some("true" | "1"))
    }
}

/// Everything a watch needs once the lock is gone.
struct WatchPlan {
    initial: Vec<WatchEvent>,
    receiver: broadcast::Receiver<Arc<WatchEvent>>,
    rt: ResourceType,
    version: String,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: Vec<FieldTerm>,
    table: bool,
    include: String,
    bookmark_rv: Option<u64>,
    after_rv: u64,
    timeout: Duration,
}

enum Routed {
    Json(StatusCode, Value),
    Raw(StatusCode, &'static str, Vec<u8>),
    Watch(Box<WatchPlan>),
}

/// Serves one request under `/k8s/`.
pub async fn handle(state: AppState, parts: Parts, body: Body) -> Response {
    let body = match axum::body::to_bytes(body, limits::REQUEST_BODY_MAX_BYTES).await {
        Ok(b) => b,
        Err(_) => return Status::request_too_large(limits::REQUEST_BODY_MAX_BYTES).into_response(),
    };
    let path = parts.uri.path().to_owned();
    let mut segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    if segments.len() < 4 || segments[0] != "k8s" {
        return Status::no_route().into_response();
    }
    let sub = segments[1].to_ascii_lowercase();
    if uuid::Uuid::parse_str(&sub).is_err() || !state.core.has_room_for(&sub) {
        return Status::no_route().into_response();
    }
    let key = cluster_key(&segments[2], &segments[3]);
    segments.drain(..4);
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let now = state.core.clock.now();
    let req = KubeRequest {
        method: parts.method,
        segments,
        query,
        headers: parts.headers,
        body,
        now,
        admission: &state.core.behaviour_for(&sub).dated.admission,
    };
    let public = matches!(
        req.segments.first().map(String::as_str),
        Some("version" | "healthz" | "livez" | "readyz")
    ) && req.segments.len() == 1;
    // Reads (GET, not a watch) of a built plane with nothing due run under the subscription's
    // shared lock, so lists and gets of one cluster proceed side by side; anything that would
    // have to build the plane, finish a namespace deletion or refuse takes the exclusive path
    // below, which then gives the same answer.
    let read_only = req.method == Method::GET && !req.flag("watch");
    let read = read_only
        .then(|| {
            state.core.read_plane(&sub, &key, now, |plane| {
                (public || authorized(plane, &req.headers))
                    .then(|| route(Access::Shared(plane), &req))
            })
        })
        .flatten();
    let routed = match read {
        Some(routed) => routed,
        None => state.core.with_live_plane(
            &sub,
            &key,
            now,
            |plane| {
                let Some(plane) = plane else {
                    return Err(Status::no_route());
                };
                if !public && !authorized(plane, &req.headers) {
                    return Err(Status::unauthorized());
                }
                if !public {
                    plane.materialise();
                }
                plane.settle(now);
                route(Access::Exclusive(plane), &req)
            },
            || Err(Status::cluster_stopped()),
        ),
    };
    match routed {
        Err(status) => status.into_response(),
        Ok(Routed::Json(code, value)) => json_response(code, &value),
        Ok(Routed::Raw(code, ct, bytes)) => {
            (code, [(header::CONTENT_TYPE, ct)], bytes).into_response()
        }
        Ok(Routed::Watch(plan)) => stream_watch(state, sub, key, *plan),
    }
}

/// The live side of a plane's watches: a broadcast channel, made on the first watch (a
/// channel preallocates its slots, and most planes are never watched).
#[derive(Debug)]
struct Broadcast(broadcast::Sender<Arc<WatchEvent>>);

impl EventSink for Broadcast {
    fn send(&self, event: Arc<WatchEvent>) {
        // No receivers left is fine: nobody is watching any more.
        let _ = self.0.send(event);
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A receiver of the plane's live events (the channel installed on first use).
fn subscribe(plane: &mut Plane) -> broadcast::Receiver<Arc<WatchEvent>> {
    let sink = plane.watchers.get_or_install(|| {
        Arc::new(Broadcast(
            broadcast::channel(limits::KUBE_WATCH_CHANNEL_CAPACITY).0,
        ))
    });
    match sink.as_any().downcast_ref::<Broadcast>() {
        Some(broadcast) => broadcast.0.subscribe(),
        // Another sink was installed: this watch sees only its first events.
        None => broadcast::channel(1).1,
    }
}

fn authorized(plane: &Plane, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !plane.token.is_empty() && t.trim() == plane.token)
}

/// A plane as a request reaches it: shared (the read path: GETs only) or exclusive.
enum Access<'a> {
    Shared(&'a Plane),
    Exclusive(&'a mut Plane),
}

impl std::ops::Deref for Access<'_> {
    type Target = Plane;

    fn deref(&self) -> &Plane {
        match self {
            Access::Shared(plane) => plane,
            Access::Exclusive(plane) => plane,
        }
    }
}

impl Access<'_> {
    /// The plane for a write. The read path routes only GETs, which never write: a write
    /// reaching it would be refused as a GET of a write is (405), never applied.
    fn write(&mut self) -> Result<&mut Plane, Status> {
        match self {
            Access::Exclusive(plane) => Ok(plane),
            Access::Shared(_) => Err(Status::method_not_allowed()),
        }
    }
}

fn route(plane: Access<'_>, req: &KubeRequest) -> Result<Routed, Status> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let types = plane.resource_types();
    let get_only = |r: Routed| {
        if req.method == Method::GET {
            Ok(r)
        } else {
            Err(Status::method_not_allowed())
        }
    };
    match segs.as_slice() {
        ["version"] => get_only(Routed::Json(
            StatusCode::OK,
            catalog::version_doc(&plane.kubernetes_version),
        )),
        ["healthz" | "livez" | "readyz"] => get_only(Routed::Raw(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            probes::health_body(segs[0], req.q("verbose").is_some()),
        )),
        ["api"] => get_only(Routed::Json(StatusCode::OK, catalog::api_versions())),
        ["apis"] => get_only(Routed::Json(
            StatusCode::OK,
            catalog::api_group_list(&types),
        )),
        ["apis", group] => match catalog::api_group(&types, group) {
            Some(doc) => get_only(Routed::Json(StatusCode::OK, doc)),
            None => Err(Status::no_route()),
        },
        ["api", "v1"] => get_only(Routed::Json(
            StatusCode::OK,
            catalog::resource_list(&types, "", "v1").unwrap_or(Value::Null),
        )),
        ["apis", group, version] => match catalog::resource_list(&types, group, version) {
            Some(doc) => get_only(Routed::Json(StatusCode::OK, doc)),
            None => Err(Status::no_route()),
        },
        ["openapi", "v2"] => get_only(Routed::Raw(
            StatusCode::OK,
            catalog::OPENAPI_V2_CONTENT_TYPE,
            Vec::new(),
        )),
        ["openapi", "v3"] => get_only(Routed::Json(
            StatusCode::OK,
            catalog::openapi_v3_root(&types),
        )),
        ["openapi", "v3", "api", "v1"] => get_only(Routed::Json(
            StatusCode::OK,
            catalog::openapi_v3_group_version(&types, "", "v1"),
        )),
        ["openapi", "v3", "apis", group, version] => {
            if catalog::resource_list(&types, group, version).is_none() {
                return Err(Status::no_route());
            }
            get_only(Routed::Json(
                StatusCode::OK,
                catalog::openapi_v3_group_version(&types, group, version),
            ))
        }
        ["api", "v1", rest @ ..] => resource_request(plane, &types, req, "", "v1", rest),
        ["apis", group, version, rest @ ..] => {
            resource_request(plane, &types, req, group, version, rest)
        }
        _ => Err(Status::no_route()),
    }
}

/// `(resource, namespace, name, subresource)` of a resource path.
type Target<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn parse_target<'a>(group: &str, rest: &[&'a str]) -> Option<Target<'a>> {
    match *rest {
        [res] => Some((res, None, None, None)),
        ["namespaces", name, sub] if group.is_empty() && matches!(sub, "status" | "finalize") => {
            Some(("namespaces", None, Some(name), Some(sub)))
        }
        ["namespaces", ns, res] => Some((res, Some(ns), None, None)),
        [res, name] => Some((res, None, Some(name), None)),
        ["namespaces", ns, res, name] => Some((res, Some(ns), Some(name), None)),
        ["namespaces", ns, res, name, sub] => Some((res, Some(ns), Some(name), Some(sub))),
        [res, name, sub] => Some((res, None, Some(name), Some(sub))),
        _ => None,
    }
}

/// The media types a create/update body may have.
const BODY_TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

fn parse_body(req: &KubeRequest) -> Result<Value, Status> {
    if req.body.is_empty() {
        return Err(Status::bad_request("the request body is empty"));
    }
    let ct = req.header("content-type").unwrap_or("application/json");
    let base = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "application/json" | "" | "*/*" => serde_json::from_slice(&req.body).map_err(|e| {
            Status::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        }),
        "application/yaml" | "application/x-yaml" | "text/yaml" => {
            yaml_serde::from_slice(&req.body).map_err(|e| {
                Status::bad_request(format!("couldn't get version/kind; yaml parse error: {e}"))
            })
        }
        "application/vnd.kubernetes.protobuf" => protobuf::decode(&req.body)
            .map_err(|e| Status::unsupported_patch_type(&format!("{ct} ({e})"), BODY_TYPES)),
        _ => Err(Status::unsupported_patch_type(ct, BODY_TYPES)),
    }
}

fn list_options(req: &KubeRequest, rt: &ResourceType) -> Result<ListOptions, Status> {
    let labels = match req.q("labelSelector") {
        Some(s) => validate::parse_label_selector(s)?,
        None => LabelSelector::default(),
    };
    let fields = match req.q("fieldSelector") {
        Some(s) => validate::parse_field_selector(s, rt.selectable_fields())?,
        None => Vec::new(),
    };
    let limit = match req.q("limit") {
        Some(l) => Some(
            l.parse::<i64>()
                .map_err(|_| {
                    Status::bad_request(format!("invalid limit {l:?}: must be an integer"))
                })?
                .max(0) as usize,
        ),
        None => None,
    };
    let continue_after = match req.q("continue").filter(|c| !c.is_empty()) {
        Some(token) => Some(decode_continue(token)?),
        None => None,
    };
    Ok(ListOptions {
        labels,
        fields,
        limit,
        continue_after,
    })
}

fn write_ctx(req: &KubeRequest) -> Result<WriteCtx, Status> {
    let dry_run = match req.q("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(Status::bad_request(format!(
                "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
            )))
        }
    };
    Ok(WriteCtx {
        now: req.now,
        dry_run,
        admission: req.admission,
        manager: apply::manager(req.q("fieldManager"), req.header("user-agent")),
    })
}

fn respond_object(
    req: &KubeRequest,
    rt: &ResourceType,
    version: &str,
    code: StatusCode,
    object: Value,
) -> Routed {
    let object = present(rt, version, object);
    if table::wants_table(req.header("accept")) {
        let include = req.q("includeObject").unwrap_or("Metadata");
        let rv = object
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(json!(""));
        return Routed::Json(
            code,
            table::table(
                rt,
                &[object],
                json!({"resourceVersion": rv}),
                include,
                req.now,
            ),
        );
    }
    Routed::Json(code, object)
}

fn resource_request(
    mut plane: Access<'_>,
    types: &[ResourceType],
    req: &KubeRequest,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Routed, Status> {
    let (resource, namespace, name, sub) =
        parse_target(group, rest).ok_or_else(Status::no_route)?;
    let rt = catalog::find_type(types, group, version, resource).ok_or_else(Status::no_route)?;
    if (!rt.namespaced && namespace.is_some())
        || (rt.namespaced && namespace.is_none() && name.is_some())
    {
        return Err(Status::no_route());
    }
    let ns = namespace.unwrap_or("");
    if let Some(sub) = sub {
        if let Some(routed) = workload_subresource(&mut plane, &rt, req, ns, name, sub)? {
            return Ok(routed);
        }
        return match (sub, &req.method) {
            ("status", &Method::GET) => {
                let object = plane.get(&rt, ns, name.unwrap_or(""))?;
                Ok(respond_object(req, &rt, version, StatusCode::OK, object))
            }
            ("status" | "finalize", _) => Err(Status::method_not_allowed()),
            _ => Err(Status::no_route()),
        };
    }
    match (name, req.method.clone()) {
        (None, Method::POST) if catalog::is_review(&rt) => {
            let body = parse_body(req)?;
            let answer = reviews::answer(&rt, version, &body)?;
            Ok(Routed::Json(StatusCode::CREATED, answer))
        }
        (_, _) if catalog::is_review(&rt) => Err(Status::method_not_allowed()),
        (None, Method::GET) => {
            let opts = list_options(req, &rt)?;
            if req.flag("watch") {
                return watch_plan(&mut plane, req, &rt, version, namespace, opts);
            }
            let page = plane.list(&rt, namespace, &opts);
            let mut meta = json!({"resourceVersion": page.resource_version.to_string()});
            if let Some(after) = &page.continue_after {
                meta["continue"] = json!(encode_continue(page.resource_version, after));
                meta["remainingItemCount"] = json!(page.remaining);
            }
            if table::wants_table(req.header("accept")) {
                let include = req.q("includeObject").unwrap_or("Metadata");
                let items: Vec<Value> = page
                    .items
                    .iter()
                    .map(|o| present(&rt, version, Value::clone(o)))
                    .collect();
                return Ok(Routed::Json(
                    StatusCode::OK,
                    table::table(&rt, &items, meta, include, req.now),
                ));
            }
            let body = probes::list_json(&rt, version, &meta, &page.items);
            Ok(Routed::Raw(StatusCode::OK, "application/json", body))
        }
        (None, Method::POST) => {
            if rt.namespaced && namespace.is_none() {
                return Err(Status::method_not_allowed());
            }
            let body = parse_body(req)?;
            let ctx = write_ctx(req)?;
            let created = plane.write()?.create(&rt, version, ns, body, ctx)?;
            Ok(respond_object(
                req,
                &rt,
                version,
                StatusCode::CREATED,
                created,
            ))
        }
        (Some(name), Method::GET) => {
            if req.flag("watch") {
                let mut opts = list_options(req, &rt)?;
                opts.fields.push(FieldTerm {
                    field: "metadata.name".to_owned(),
                    value: name.to_owned(),
                    negated: false,
                });
                return watch_plan(&mut plane, req, &rt, version, namespace, opts);
            }
            let object = plane.get(&rt, ns, name)?;
            Ok(respond_object(req, &rt, version, StatusCode::OK, object))
        }
        (Some(name), Method::PUT) => {
            let body = parse_body(req)?;
            let ctx = write_ctx(req)?;
            let updated = plane.write()?.replace(&rt, version, ns, name, body, ctx)?;
            Ok(respond_object(req, &rt, version, StatusCode::OK, updated))
        }
        (Some(name), Method::PATCH) => {
            let ct = req.header("content-type").unwrap_or("");
            if apply::is_apply(ct) {
                let (fm, force) = (req.q("fieldManager"), req.flag("force"));
                let ctx = write_ctx(req)?;
                let (code, object) = apply::server_side_apply(
                    plane.write()?,
                    (&rt, version, ns, name),
                    &req.body,
                    fm,
                    force,
                    ctx,
                )?;
                return Ok(respond_object(req, &rt, version, code, object));
            }
            apply::check_patch_options(req.q("force"))?;
            let custom = smp::schema_for(&rt.api_version(version), &rt.kind).is_none();
            let kind = match PatchType::from_content_type(ct) {
                // Custom resources take no strategic merge patch (kube-apiserver's CRD handler).
                Some(PatchType::StrategicMerge) if custom => None,
                k => k,
            };
            let Some(kind) = kind else {
                let accepted = if custom {
                    patch::ACCEPTED_CUSTOM
                } else {
                    patch::ACCEPTED
                };
                return Err(Status::unsupported_patch_type(ct, accepted));
            };
            let body: Value = serde_json::from_slice(&req.body)
                .map_err(|e| Status::bad_request(format!("error decoding patch: {e}")))?;
            let ctx = write_ctx(req)?;
            let updated = plane
                .write()?
                .patch(&rt, version, ns, name, kind, &body, ctx)?;
            Ok(respond_object(req, &rt, version, StatusCode::OK, updated))
        }
        (Some(name), Method::DELETE) => {
            let ctx = write_ctx(req)?;
            let policy = probes::propagation(req.q("propagationPolicy"), &req.body)?;
            let deleted = plane
                .write()?
                .delete_propagating(&rt, ns, name, policy, ctx)?;
            Ok(Routed::Json(StatusCode::OK, present(&rt, version, deleted)))
        }
        _ => Err(Status::method_not_allowed()),
    }
}

/// `…/scale` of Deployments, ReplicaSets and StatefulSets, and `pods/…/log`; `None` for
/// every other subresource.
fn workload_subresource(
    plane: &mut Access<'_>,
    rt: &ResourceType,
    req: &KubeRequest,
    ns: &str,
    name: Option<&str>,
    sub: &str,
) -> Result<Option<Routed>, Status> {
    let name = name.unwrap_or("");
    if sub == "log" && rt.group.is_empty() && rt.resource == "pods" {
        plane.get(rt, ns, name)?;
        return Err(Status::logs_unavailable(name));
    }
    if sub != "scale" || !controllers::has_scale(rt) {
        return Ok(None);
    }
    let scale = match req.method {
        Method::GET => plane.get_scale(rt, ns, name)?,
        Method::PUT => {
            let body = parse_body(req)?;
            let ctx = write_ctx(req)?;
            plane.write()?.set_scale(rt, ns, name, &body, ctx)?
        }
        Method::PATCH => {
            let ct = req.header("content-type").unwrap_or("");
            let Some(kind) = PatchType::from_content_type(ct) else {
                return Err(Status::unsupported_patch_type(ct, patch::ACCEPTED));
            };
            let body: Value = serde_json::from_slice(&req.body)
                .map_err(|e| Status::bad_request(format!("error decoding patch: {e}")))?;
            let current = plane.get_scale(rt, ns, name)?;
            let patched = patch::apply(kind, &current, &body)?;
            let ctx = write_ctx(req)?;
            plane.write()?.set_scale(rt, ns, name, &patched, ctx)?
        }
        _ => return Err(Status::method_not_allowed()),
    };
    Ok(Some(Routed::Json(StatusCode::OK, scale)))
}

fn watch_plan(
    plane: &mut Access<'_>,
    req: &KubeRequest,
    rt: &ResourceType,
    version: &str,
    namespace: Option<&str>,
    opts: ListOptions,
) -> Result<Routed, Status> {
    let from = match req.q("resourceVersion") {
        None | Some("" | "0") => None,
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
            Status::bad_request(format!(
                "invalid resource version {rv:?}: must be an unsigned integer"
            ))
        })?),
    };
    let timeout = req
        .q("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(limits::KUBE_WATCH_TIMEOUT_MAX_SECS)
        .min(limits::KUBE_WATCH_TIMEOUT_MAX_SECS);
    let initial = plane.watch(rt, from)?;
    let receiver = subscribe(plane.write()?);
    Ok(Routed::Watch(Box::new(WatchPlan {
        initial,
        receiver,
        rt: rt.clone(),
        version: version.to_owned(),
        namespace: namespace.map(str::to_owned),
        labels: opts.labels,
        fields: opts.fields,
        table: table::wants_table(req.header("accept")),
        include: req.q("includeObject").unwrap_or("Metadata").to_owned(),
        bookmark_rv: req
            .flag("allowWatchBookmarks")
            .then_some(plane.resource_version),
        after_rv: from.unwrap_or(0).max(plane.resource_version),
        timeout: Duration::from_secs(timeout),
    })))
}

impl WatchPlan {
    fn wants(&self, e: &WatchEvent) -> bool {
        e.group == self.rt.group
            && e.resource == self.rt.resource
            && self.namespace.as_ref().is_none_or(|ns| *ns == e.namespace)
            && self.labels.matches_object(&e.object)
            && validate::fields_match(&e.object, &self.fields)
    }

    fn encode(&self, event_type: &str, object: &Value, now: time::OffsetDateTime) -> Bytes {
        let object = present(&self.rt, &self.version, object.clone());
        let object = if self.table {
            let rv = object
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(json!(""));
            table::table(
                &self.rt,
                &[object],
                json!({"resourceVersion": rv}),
                &self.include,
                now,
            )
        } else {
            object
        };
        let mut line =
            serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
        line.push(b'\n');
        Bytes::from(line)
    }
}

struct WatchStream {
    plan: WatchPlan,
    pending: VecDeque<Bytes>,
    state: AppState,
    sub: String,
    key: String,
    deadline: tokio::time::Instant,
    done: bool,
}

fn stream_watch(state: AppState, sub: String, key: String, mut plan: WatchPlan) -> Response {
    let now = state.core.clock.now();
    let mut pending = VecDeque::new();
    for e in std::mem::take(&mut plan.initial) {
        if plan.wants(&e) {
            pending.push_back(plan.encode(&e.event_type, &e.object, now));
        }
    }
    if let Some(rv) = plan.bookmark_rv {
        let bookmark = json!({"type": "BOOKMARK", "object": {
            "kind": plan.rt.kind, "apiVersion": plan.rt.api_version(&plan.version),
            "metadata": {"resourceVersion": rv.to_string()}
        }});
        let mut line = serde_json::to_vec(&bookmark).unwrap_or_default();
        line.push(b'\n');
        pending.push_back(Bytes::from(line));
    }
    let deadline = tokio::time::Instant::now() + plan.timeout;
    let stream = WatchStream {
        plan,
        pending,
        state,
        sub,
        key,
        deadline,
        done: false,
    };
    let body = futures_util::stream::unfold(stream, |mut w| async move {
        loop {
            if let Some(line) = w.pending.pop_front() {
                return Some((Ok::<Bytes, Infallible>(line), w));
            }
            if w.done {
                return None;
            }
            let left = w
                .deadline
                .saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            let idle = Duration::from_millis(limits::KUBE_WATCH_IDLE_SETTLE_MILLIS).min(left);
            match tokio::time::timeout(idle, w.plan.receiver.recv()).await {
                Ok(Ok(e)) => {
                    if e.resource_version > w.plan.after_rv && w.plan.wants(&e) {
                        w.plan.after_rv = e.resource_version;
                        let now = w.state.core.clock.now();
                        w.pending
                            .push_back(w.plan.encode(&e.event_type, &e.object, now));
                    }
                }
                // A lagging or closed channel ends the watch; clients re-list and re-watch.
                Ok(Err(_)) => w.done = true,
                Err(_) => {
                    // Idle: let due namespace deletions happen on the virtual clock.
                    let now = w.state.core.clock.now();
                    let (sub, key) = (w.sub.clone(), w.key.clone());
                    let alive = w
                        .state
                        .core
                        .with_plane(&sub, &key, now, |plane| match plane {
                            Some(p) => {
                                p.settle(now);
                                true
                            }
                            None => false,
                        });
                    if !alive {
                        w.done = true;
                    }
                }
            }
        }
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response()
}
