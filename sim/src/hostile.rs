//! Hostile-input checks, shared by the cargo-fuzz targets (`fuzz/`, nightly features on the
//! stable toolchain) and the stable property tests (`tests/hostile_props.rs`), so `cargo test`
//! keeps guarding what the fuzzers explored.
//!
//! Each `check_*` function takes arbitrary bytes, drives them through the real code (the
//! in-process router for request paths and bodies, the scenario parser for scenario files, the
//! cassette reader, comparison and scenario conversion of `aksim parity` for cassettes)
//! and returns `Err(finding)` when an invariant breaks:
//! - no panic (the fuzzers abort on one; under `cargo test` the catch-panic layer makes it a
//!   500, which the next rule catches), no 5xx;
//! - every 4xx is in the right envelope: ARM `{"error":{"code","message"}}`, a Kubernetes
//!   `Status` under `/k8s/`, or the OAuth `{"error","error_description"}` of the token paths;
//! - a refused write changes nothing (the subscription's fingerprint is compared), an accepted
//!   one can be read back;
//! - a scenario either parses and survives a JSON and a YAML round trip, or gets an error.
//!
//! The first byte of an input picks the endpoint (or method, or format): [`selector`] counts
//! from `'0'`, so seeds can start with a readable digit.
//!
//! Every input runs against a fresh [`World`] (a simulator with a resource group, a meshed
//! cluster and its Kubernetes plane), so a finding replays from its input alone.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, Uri};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::core::clusters::cluster_key;
use crate::core::store::Subscription;
use crate::scenario::{matching, model};
use crate::state::AppState;

/// The subscription every world uses.
pub const SUB: &str = "00000000-0000-0000-0000-000000000001";
/// az 2.91's AKS api-version.
const AKS_API: &str = "2026-06-01";
const RESOURCES_API: &str = "2024-11-01";
/// Id seeds of the template world and of the worlds cloned from it.
const TEMPLATE_SEED: u64 = 1;
const WORLD_SEED: u64 = 2;
/// The plane token every world's cluster gets (set directly in the store).
const KUBE_TOKEN: &str = "hostile-token";

/// A simulator populated for hostile input: resource group `rg1`, a meshed cluster `rg1/c1`
/// (provisioned) and its Kubernetes plane with a namespace `ns1` and a ConfigMap `ns1/cm1`.
pub struct World {
    pub state: AppState,
    runtime: tokio::runtime::Runtime,
}

/// One answer: status and raw body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Which error envelope a 4xx must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    Arm,
    Kube,
    /// ARM, Kubernetes `Status` or OAuth: the path decides (request-path fuzzing).
    Any,
}

impl World {
    /// Builds the world; `Err` only if the simulator itself cannot start (a bug, not input).
    ///
    /// Populating through the router costs ~30× more than the simulator itself (the add-on's
    /// objects), so it happens once per process: later worlds get a clone of that
    /// subscription. Their id generator runs on another seed, so new ids never repeat the
    /// template's.
    pub fn new() -> Result<World, String> {
        static TEMPLATE: OnceLock<Result<Subscription, String>> = OnceLock::new();
        let template = TEMPLATE
            .get_or_init(|| {
                let world = World::empty(TEMPLATE_SEED)?;
                world.populate()?;
                let now = world.state.core.clock.now();
                Ok(world.state.core.store.with(SUB, now, |s| s.clone()))
            })
            .as_ref()
            .map_err(Clone::clone)?;
        let world = World::empty(WORLD_SEED)?;
        let now = world.state.core.clock.now();
        world
            .state
            .core
            .store
            .with(SUB, now, |s| *s = template.clone());
        Ok(world)
    }

    fn empty(seed: u64) -> Result<World, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        let mut config = crate::config::Config::for_tests();
        config.auto_register_providers = true;
        config.seed = Some(seed);
        let state = AppState::new(config, crate::identity::TokenIssuer::ephemeral(), None)?;
        Ok(World { state, runtime })
    }

    fn populate(&self) -> Result<(), String> {
        let expect = |what: &str, a: Answer| -> Result<(), String> {
            if a.status.is_success() {
                Ok(())
            } else {
                Err(format!(
                    "setup {what}: {} {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                ))
            }
        };
        let rg = format!("/subscriptions/{SUB}/resourcegroups/rg1?api-version={RESOURCES_API}");
        expect(
            "resource group",
            self.arm(Method::PUT, &rg, br#"{"location":"eastus"}"#)?,
        )?;
        let body = json!({
            "location": "eastus",
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "kubernetesVersion": "",
                "dnsPrefix": "c1-rg1-000000",
                "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "mode": "System",
                    "osType": "Linux", "type": "VirtualMachineScaleSets"}],
                "serviceMeshProfile": {"mode": "Istio", "istio": {}}
            }
        });
        let url = cluster_url("c1");
        expect(
            "cluster",
            self.arm(Method::PUT, &url, body.to_string().as_bytes())?,
        )?;
        // Operations take no virtual time here: the next look at the store settles them.
        expect("cluster read", self.arm(Method::GET, &url, b"")?)?;
        let now = self.state.core.clock.now();
        self.state.core.store.with(SUB, now, |s| {
            s.clusters
                .planes
                .get_mut(&cluster_key("rg1", "c1"))
                .map(|p| p.token = KUBE_TOKEN.to_owned())
                .ok_or_else(|| "setup: the cluster has no plane".to_owned())
        })?;
        expect(
            "namespace",
            self.kube(
                Method::POST,
                "/api/v1/namespaces",
                "application/json",
                br#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns1"}}"#,
            )?,
        )?;
        expect(
            "configmap",
            self.kube(
                Method::POST,
                "/api/v1/namespaces/ns1/configmaps",
                "application/json",
                br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"},"data":{"a":"1"}}"#,
            )?,
        )
    }

    /// One request through the router. `Err` when the request cannot even be built (an
    /// unparseable URI never reaches a server).
    pub fn send(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, String> {
        let uri: Uri = uri.parse().map_err(|e| format!("uri: {e}"))?;
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "sim.test");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = builder
            .body(Body::from(body.to_vec()))
            .map_err(|e| format!("request: {e}"))?;
        let app = crate::http::app(self.state.clone());
        self.runtime.block_on(async move {
            let response = app
                .oneshot(request)
                .await
                .map_err(|e| format!("router: {e}"))?;
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .map_err(|e| format!("response body: {e}"))?;
            Ok(Answer {
                status,
                body: body.to_vec(),
            })
        })
    }

    /// An authenticated ARM request with a JSON body.
    pub fn arm(&self, method: Method, uri: &str, body: &[u8]) -> Result<Answer, String> {
        self.send(
            method,
            uri,
            &[
                ("authorization", "Bearer hostile"),
                ("content-type", "application/json"),
            ],
            body,
        )
    }

    /// A request to `rg1/c1`'s Kubernetes API with the plane's token.
    pub fn kube(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Answer, String> {
        self.send(
            method,
            &format!("/k8s/{SUB}/rg1/c1{path}"),
            &[
                ("authorization", &format!("Bearer {KUBE_TOKEN}")),
                ("content-type", content_type),
            ],
            body,
        )
    }

    /// What a refused write must leave as it was: the subscription's ARM state whole, and
    /// each plane's resourceVersion (every stored Kubernetes change moves it). Cheaper than a
    /// snapshot, which serialises every plane's objects.
    pub fn fingerprint(&self) -> Result<Value, String> {
        let now = self.state.core.clock.now();
        self.state.core.store.with(SUB, now, |s| {
            let planes: serde_json::Map<String, Value> = s
                .clusters
                .planes
                .iter()
                .map(|(k, p)| (k.clone(), p.resource_version.into()))
                .collect();
            let arm = serde_json::to_value((
                &s.groups,
                &s.operations,
                &s.clusters.clusters,
                &s.registrations.features,
                &s.registrations.providers,
            ))
            .map_err(|e| format!("fingerprint: {e}"))?;
            Ok(json!({"arm": arm, "planes": planes}))
        })
    }

    /// Moves the virtual clock (settles operations started by the input).
    pub fn advance(&self, seconds: i64) {
        self.state
            .core
            .clock
            .advance(time::Duration::seconds(seconds));
    }
}

/// `rg1/{name}`'s ARM URL.
pub fn cluster_url(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{name}?api-version={AKS_API}"
    )
}

/// The invariant every answer keeps: no 5xx; a 4xx carries its envelope.
/// An agent pool of cluster `c1`.
pub fn pool_url(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/{name}?api-version={AKS_API}"
    )
}

pub fn check_answer(
    what: &str,
    envelope: Envelope,
    path: &str,
    answer: &Answer,
) -> Result<(), String> {
    let show = || {
        format!(
            "{what}: {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body[..answer.body.len().min(2000)])
        )
    };
    if answer.status.is_server_error() {
        return Err(format!("server error: {}", show()));
    }
    if !answer.status.is_client_error() {
        return Ok(());
    }
    let body = answer.json();
    let arm = body["error"]["code"]
        .as_str()
        .is_some_and(|c| !c.is_empty())
        && body["error"]["message"].is_string();
    let kube = body["kind"] == "Status"
        && body["status"] == "Failure"
        && body["code"] == answer.status.as_u16()
        && body["message"].is_string()
        && body["reason"].is_string();
    let oauth = body["error"].is_string() && body["error_description"].is_string();
    let ok = match envelope {
        Envelope::Arm => arm,
        Envelope::Kube => kube,
        Envelope::Any if crate::kubeapi::http::is_kube_path(path) => kube,
        Envelope::Any => arm || oauth,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("wrong error envelope ({envelope:?}): {}", show()))
    }
}

/// Which of `n` choices the selector byte picks: `'0'` is the first.
pub fn selector(byte: u8, n: usize) -> usize {
    usize::from(byte.wrapping_sub(b'0')) % n
}

const METHODS: [&str; 6] = ["GET", "PUT", "PATCH", "POST", "DELETE", "HEAD"];

/// Request paths: `data[0]` picks the method, the rest is the path (and query). The path is
/// parsed by `ArmPath` directly (any string) and, when it is a valid URI path, sent through
/// the router (ARM routing, identity, `/k8s/` planes, `/_sim`).
pub fn check_path(data: &[u8]) -> Result<(), String> {
    let Some((&first, rest)) = data.split_first() else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(rest);
    check_arm_path_parse(&text)?;
    let path = if text.starts_with('/') {
        text.into_owned()
    } else {
        format!("/{text}")
    };
    // What a server never sees: a request line that is not a URI.
    let Ok(uri) = path.parse::<Uri>() else {
        return Ok(());
    };
    let method = METHODS[selector(first, METHODS.len())];
    let method = Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let world = World::new()?;
    // The envelope depends on the path alone (`/k8s?x` is the kube prefix with a query).
    let kube = crate::kubeapi::http::is_kube_path(uri.path());
    let headers: &[(&str, &str)] = if kube {
        &[("authorization", "Bearer hostile-token")]
    } else {
        &[("authorization", "Bearer hostile")]
    };
    let head = method == Method::HEAD;
    let answer = world.send(method, &path, headers, b"")?;
    if head {
        // HEAD answers carry no body: only the status is checked.
        if answer.status.is_server_error() {
            return Err(format!("HEAD {path}: {}", answer.status));
        }
        return Ok(());
    }
    check_answer(&format!("path {path}"), Envelope::Any, uri.path(), &answer)
}

/// `ArmPath::parse` on any string: no panic, and what it accepts keeps its promises.
pub fn check_arm_path_parse(text: &str) -> Result<(), String> {
    let Ok(parsed) = crate::arm::path::ArmPath::parse(text) else {
        return Ok(());
    };
    for s in parsed.segments() {
        if s.is_empty()
            || s == "."
            || s == ".."
            || s.contains('/')
            || s.chars().any(char::is_control)
        {
            return Err(format!("ArmPath accepted segment {s:?} of {text:?}"));
        }
    }
    Ok(())
}

/// The ARM request bodies a fuzz input can go to (`data[0]` picks one).
pub const ARM_BODY_TARGETS: [(&str, &str); 7] = [
    ("cluster create", "PUT c2"),
    ("cluster update", "PUT c1"),
    ("cluster patch", "PATCH c1"),
    ("resource group create", "PUT rg2"),
    ("resource group update", "PATCH rg1"),
    ("agent pool create", "PUT c1/agentPools/np2"),
    ("agent pool update", "PUT c1/agentPools/nodepool1"),
];

/// ARM bodies: `data[0]` picks the endpoint ([`ARM_BODY_TARGETS`]), the rest is the body. A
/// refused write changes nothing; an accepted one reads back (200, JSON) once its operation
/// ended.
pub fn check_arm_body(data: &[u8]) -> Result<(), String> {
    let Some((&first, body)) = data.split_first() else {
        return Ok(());
    };
    let index = selector(first, ARM_BODY_TARGETS.len());
    let rg = |name: &str| {
        format!("/subscriptions/{SUB}/resourcegroups/{name}?api-version={RESOURCES_API}")
    };
    let (method, url) = match index {
        0 => (Method::PUT, cluster_url("c2")),
        1 => (Method::PUT, cluster_url("c1")),
        2 => (Method::PATCH, cluster_url("c1")),
        3 => (Method::PUT, rg("rg2")),
        4 => (Method::PATCH, rg("rg1")),
        5 => (Method::PUT, pool_url("np2")),
        _ => (Method::PUT, pool_url("nodepool1")),
    };
    let what = ARM_BODY_TARGETS[index].0;
    let world = World::new()?;
    let before = world.fingerprint()?;
    let answer = world.arm(method, &url, body)?;
    check_answer(what, Envelope::Arm, &url, &answer)?;
    if answer.status.is_client_error() {
        let after = world.fingerprint()?;
        if before != after {
            return Err(format!(
                "{what}: refused ({}) but the state changed: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
        }
        return Ok(());
    }
    world.advance(3600);
    let read = world.arm(Method::GET, &url, b"")?;
    check_answer(what, Envelope::Arm, &url, &read)?;
    if read.status != StatusCode::OK || !read.json().is_object() {
        return Err(format!(
            "{what}: accepted ({}) but the read-back is {} {}",
            answer.status,
            read.status,
            String::from_utf8_lossy(&read.body)
        ));
    }
    // The list view renders every stored resource of the type: it must survive the new one.
    let list = match index {
        0..=2 => format!("/subscriptions/{SUB}/providers/Microsoft.ContainerService/managedClusters?api-version={AKS_API}"),
        3 | 4 => format!("/subscriptions/{SUB}/resourcegroups?api-version={RESOURCES_API}"),
        _ => format!("/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools?api-version={AKS_API}"),
    };
    let a = world.arm(Method::GET, &list, b"")?;
    if a.status != StatusCode::OK {
        return Err(format!("{what}: then {list}: {}", a.status));
    }
    Ok(())
}

/// The Kubernetes requests a fuzz input can go to: (what, method, path, content type).
pub const KUBE_BODY_TARGETS: [(&str, &str, &str, &str); 12] = [
    (
        "namespace create",
        "POST",
        "/api/v1/namespaces",
        "application/json",
    ),
    (
        "configmap create",
        "POST",
        "/api/v1/namespaces/ns1/configmaps",
        "application/json",
    ),
    (
        "configmap replace",
        "PUT",
        "/api/v1/namespaces/ns1/configmaps/cm1",
        "application/json",
    ),
    (
        "configmap merge patch",
        "PATCH",
        "/api/v1/namespaces/ns1/configmaps/cm1",
        "application/merge-patch+json",
    ),
    (
        "configmap strategic patch",
        "PATCH",
        "/api/v1/namespaces/ns1/configmaps/cm1",
        "application/strategic-merge-patch+json",
    ),
    (
        "configmap json patch",
        "PATCH",
        "/api/v1/namespaces/ns1/configmaps/cm1",
        "application/json-patch+json",
    ),
    (
        "namespace create (yaml)",
        "POST",
        "/api/v1/namespaces",
        "application/yaml",
    ),
    (
        "configmap create (protobuf)",
        "POST",
        "/api/v1/namespaces/ns1/configmaps",
        "application/vnd.kubernetes.protobuf",
    ),
    (
        "pod create (injection)",
        "POST",
        "/api/v1/namespaces/ns1/pods",
        "application/json",
    ),
    (
        "namespace merge patch",
        "PATCH",
        "/api/v1/namespaces/ns1",
        "application/merge-patch+json",
    ),
    (
        "configmap server-side apply",
        "PATCH",
        "/api/v1/namespaces/ns1/configmaps/cm1?fieldManager=fuzz",
        "application/apply-patch+yaml",
    ),
    (
        "deployment create (workload validation)",
        "POST",
        "/apis/apps/v1/namespaces/ns1/deployments",
        "application/json",
    ),
];

/// Kubernetes bodies: `data[0]` picks the request ([`KUBE_BODY_TARGETS`]), the rest is the
/// body. A refused write changes nothing; after any answer the plane still lists.
pub fn check_kube_body(data: &[u8]) -> Result<(), String> {
    let Some((&first, body)) = data.split_first() else {
        return Ok(());
    };
    let (what, method, path, content_type) =
        KUBE_BODY_TARGETS[selector(first, KUBE_BODY_TARGETS.len())];
    let method = Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let world = World::new()?;
    let before = world.fingerprint()?;
    let answer = world.kube(method.clone(), path, content_type, body)?;
    check_answer(what, Envelope::Kube, "/k8s/", &answer)?;
    if answer.status.is_client_error() {
        let after = world.fingerprint()?;
        if before != after {
            return Err(format!(
                "{what}: refused ({}) but the state changed: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
        }
    } else if !answer.json().is_object() {
        return Err(format!("{what}: {} without a JSON object", answer.status));
    }
    // The collection the write went to still lists (it renders every stored object).
    let list = match path.rsplit_once('/') {
        Some((parent, _)) if method != Method::POST => parent,
        _ => path,
    };
    let a = world.kube(Method::GET, list, "application/json", b"")?;
    if a.status != StatusCode::OK {
        return Err(format!("{what}: then GET {list}: {}", a.status));
    }
    Ok(())
}

/// Scenario files: `data[0]` picks the format (`'0'` YAML, `'1'` JSON); the rest is the text. A scenario that
/// parses survives a JSON and a YAML round trip, and its placeholders and JSON paths either
/// resolve or give an error.
pub fn check_scenario(data: &[u8]) -> Result<(), String> {
    let Some((&first, rest)) = data.split_first() else {
        return Ok(());
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return Ok(());
    };
    let json = selector(first, 2) == 1;
    let scenario = match model::parse(text, json) {
        Ok(s) => s,
        Err(e) if e.trim().is_empty() => return Err("a parse error without a reason".into()),
        Err(_) => return Ok(()),
    };
    let as_json = serde_json::to_string(&scenario).map_err(|e| format!("to JSON: {e}"))?;
    model::parse(&as_json, true).map_err(|e| format!("JSON round trip: {e}\n{as_json}"))?;
    let as_yaml = yaml_serde::to_string(&scenario).map_err(|e| format!("to YAML: {e}"))?;
    model::parse(&as_yaml, false).map_err(|e| format!("YAML round trip: {e}\n{as_yaml}"))?;
    // What the runner does with the strings: substitute variables, resolve JSON paths.
    let sample = json!({"properties": {"a": [1, "x", {"b.c": true}]}, "value": []});
    for step in &scenario.steps {
        if let Some(r) = &step.request {
            let _ = matching::substitute(&r.path, &scenario.setup.vars);
            if let Some(body) = &r.body {
                let _ = matching::substitute_json(body, &scenario.setup.vars);
            }
        }
        if let Some(expect) = &step.expect {
            for path in expect.json.keys() {
                let _ = matching::resolve(&sample, path);
            }
            if let Some(body) = &expect.body {
                let _ = matching::subset(body, Some(&sample), "$");
            }
        }
        for how in step.capture.values() {
            if let Some(path) = how.strip_prefix("body:") {
                let _ = matching::resolve(&sample, path);
            }
        }
    }
    Ok(())
}

/// Cassettes (`aksim parity`, `aksim scenario from-cassette`): any text either parses or
/// gets an error that names a line and column (or is a whole-file reason); one that parses
/// survives a write-and-read round trip, every recorded response compares equal to itself,
/// its replay plan derives, and its scenario conversion either refuses with a reason or
/// validates.
pub fn check_cassette(data: &[u8]) -> Result<(), String> {
    use crate::parity::{cassette, compare, plan, rules, to_scenario};
    static RULES: OnceLock<rules::Rules> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    let path = std::path::Path::new("fuzz.yaml");
    let parsed = match cassette::parse(text, path) {
        Ok(c) => c,
        Err(e) => {
            let located = e
                .split(':')
                .next()
                .is_some_and(|l| l.parse::<usize>().is_ok());
            if e.trim().is_empty() || !(located || e.starts_with(' ')) {
                return Err(format!("a parse error without a place or reason: {e:?}"));
            }
            return Ok(());
        }
    };
    let yaml = cassette::to_yaml(&parsed.interactions)?;
    let again = cassette::parse(&yaml, path).map_err(|e| format!("round trip: {e}\n{yaml}"))?;
    if again.interactions != parsed.interactions {
        return Err(format!("the round trip changed the cassette:\n{yaml}"));
    }
    let rules = RULES.get_or_init(rules::Rules::embedded);
    let _ = plan::Plan::derive(&parsed);
    for (i, it) in parsed.interactions.iter().enumerate() {
        let reply = compare::Reply {
            status: it.response.status.code,
            headers: it
                .response
                .headers
                .0
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.first()?.clone())))
                .collect(),
            body: it.response.body.string.as_bytes().to_vec(),
        };
        let diffs = compare::compare(rules, plan::request_path(it), &it.response, &reply);
        if let Some(d) = diffs.first() {
            return Err(format!("interaction {i} differs from itself: {d}"));
        }
    }
    if let Ok(scenario) = to_scenario::from_cassette(&parsed, rules) {
        let text =
            yaml_serde::to_string(&scenario).map_err(|e| format!("scenario to YAML: {e}"))?;
        model::parse(&text, false)
            .map_err(|e| format!("the converted scenario does not validate:{e}\n{text}"))?;
    }
    Ok(())
}
