//! Model-based property test of managed clusters, the mesh add-on and its Kubernetes plane:
//! random sequences of what users do (create, enable, disable, canary upgrade start /
//! complete / rollback, ingress on/off, label a namespace and start a pod, delete), each sent
//! as az sends it (a whole-cluster PUT built from the current state), with every answer
//! predicted by a plain reference model. After every action the cluster is read back and
//! checked against the invariants:
//! - never more than two revisions, and only the model's;
//! - a disabled profile is exactly `{"mode":"Disabled"}`; a never-meshed cluster has no key;
//! - the add-on's namespace exists in the cluster iff the mesh is on;
//! - a pod is injected iff its namespace names an installed revision, with a native sidecar
//!   (`istio-proxy` an init container) when the revision runs them;
//! - refusals carry the ARM envelope with the rule's code.
//!
//! A failing sequence is shrunk and written out as a scenario file (see `common::props`).

mod common;

use std::collections::BTreeMap;

use aksim::scenario::model::{
    ErrorExpect, Expect, KubeRequest, Request, Scenario, Settings, Setup, Step,
};
use proptest::prelude::*;
use serde_json::{json, Value};

const CLUSTERS: [&str; 2] = ["c1", "c2"];
/// The AKS the model describes: on 2026-08-01 asm-1-28, asm-1-29 (the default) and asm-1-30
/// are all supported, with upgrades n+1 and n+2 (asm-1-28 was deprecated on 2026-09-01).
const AZURE_DATE: &str = "2026-08-01";
/// Revisions of that day's catalogue the actions use (asm-1-29 is the default).
const REVISIONS: [u8; 3] = [28, 29, 30];
const DEFAULT_REVISION: u8 = 29;
/// That day's native-sidecar defaults on its default Kubernetes version (>= 1.33): asm-1-29+
/// whether installed or upgraded to, asm-1-27/asm-1-28 when installed by enabling the add-on —
/// and asm-1-28, the oldest revision here, is only ever installed that way.
fn runs_native_sidecars(revision: u8) -> bool {
    revision >= 28
}
const API: &str = "2026-06-01";

#[derive(Debug, Clone)]
enum Action {
    Create { c: usize, mesh: bool },
    Enable { c: usize, revision: Option<u8> },
    Disable { c: usize },
    UpgradeStart { c: usize, target: u8 },
    Complete { c: usize },
    Rollback { c: usize },
    Ingress { c: usize, on: bool },
    Pod { c: usize, revision: u8 },
    Delete { c: usize },
}

fn action() -> impl Strategy<Value = Action> {
    let c = 0..CLUSTERS.len();
    let rev = prop::sample::select(REVISIONS.to_vec());
    prop_oneof![
        2 => (c.clone(), any::<bool>()).prop_map(|(c, mesh)| Action::Create { c, mesh }),
        2 => (c.clone(), prop::option::of(prop::sample::select(vec![28u8, 29])))
            .prop_map(|(c, revision)| Action::Enable { c, revision }),
        1 => c.clone().prop_map(|c| Action::Disable { c }),
        3 => (c.clone(), rev.clone()).prop_map(|(c, target)| Action::UpgradeStart { c, target }),
        2 => c.clone().prop_map(|c| Action::Complete { c }),
        1 => c.clone().prop_map(|c| Action::Rollback { c }),
        2 => (c.clone(), any::<bool>()).prop_map(|(c, on)| Action::Ingress { c, on }),
        2 => (c.clone(), rev).prop_map(|(c, revision)| Action::Pod { c, revision }),
        1 => c.prop_map(|c| Action::Delete { c }),
    ]
}

/// The mesh as the model knows it.
#[derive(Debug, Clone, PartialEq)]
enum Mesh {
    Never,
    Disabled,
    On {
        revisions: Vec<u8>,
        ingress: Option<bool>,
    },
}

#[derive(Debug, Default)]
struct Model {
    clusters: BTreeMap<usize, Mesh>,
    pods: usize,
}

fn asm(r: u8) -> String {
    format!("asm-1-{r}")
}

/// Upgrade targets of the current catalogue: n+1 and n+2 while supported.
fn upgrades(from: u8) -> Vec<u8> {
    REVISIONS
        .iter()
        .copied()
        .filter(|t| *t > from && *t <= from + 2)
        .collect()
}

fn cluster_path(c: usize) -> String {
    format!(
        "/subscriptions/{{{{subscription}}}}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{}",
        CLUSTERS[c]
    )
}

/// The whole-cluster body az sends for a mesh state.
fn body(c: usize, mesh: &Mesh, enable_default: bool) -> Value {
    let mut props = json!({
        "dnsPrefix": CLUSTERS[c],
        "kubernetesVersion": "",
        "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "osType": "Linux", "mode": "System"}]
    });
    match mesh {
        Mesh::Never => {}
        Mesh::Disabled => props["serviceMeshProfile"] = json!({"mode": "Disabled"}),
        Mesh::On { revisions, ingress } => {
            let mut istio = json!({});
            if !(enable_default && revisions.is_empty()) {
                istio["revisions"] = json!(revisions.iter().map(|r| asm(*r)).collect::<Vec<_>>());
            }
            if let Some(on) = ingress {
                istio["components"] =
                    json!({"ingressGateways": [{"mode": "External", "enabled": on}]});
            }
            props["serviceMeshProfile"] = json!({"mode": "Istio", "istio": istio});
        }
    }
    json!({"location": "eastus", "properties": props})
}

fn expect_status(status: u16) -> Expect {
    Expect {
        status: Some(status),
        headers: [("x-ms-request-id".to_owned(), "{{uuid}}".to_owned())]
            .into_iter()
            .collect(),
        ..Expect::default()
    }
}

fn put(name: String, c: usize, body: Value, expect: Expect) -> Step {
    Step {
        name: Some(name),
        request: Some(Request {
            method: "PUT".into(),
            path: cluster_path(c),
            api_version: Some(API.into()),
            headers: BTreeMap::new(),
            body: Some(body),
        }),
        expect: Some(expect),
        ..Step::default()
    }
}

fn kube(c: usize, method: &str, path: &str, body: Option<Value>, mut expect: Expect) -> Step {
    // The clusters' Kubernetes APIs answer with kube-apiserver's headers, not ARM's.
    if expect.headers.remove("x-ms-request-id").is_some() {
        expect
            .headers
            .insert("audit-id".to_owned(), "{{uuid}}".to_owned());
    }
    let mut headers = BTreeMap::new();
    if method == "PATCH" {
        headers.insert(
            "content-type".to_owned(),
            "application/merge-patch+json".to_owned(),
        );
    }
    Step {
        name: Some(format!("kube {method} {path} on {}", CLUSTERS[c])),
        kube: Some(KubeRequest {
            cluster: format!("rg1/{}", CLUSTERS[c]),
            method: method.into(),
            path: path.into(),
            headers,
            body,
        }),
        expect: Some(expect),
        ..Step::default()
    }
}

impl Model {
    /// The steps an action becomes (with predictions), then the invariant checks.
    fn steps(&mut self, action: &Action) -> Vec<Step> {
        let mut out = Vec::new();
        let c = match action {
            Action::Create { c, .. }
            | Action::Enable { c, .. }
            | Action::Disable { c }
            | Action::UpgradeStart { c, .. }
            | Action::Complete { c }
            | Action::Rollback { c }
            | Action::Ingress { c, .. }
            | Action::Pod { c, .. }
            | Action::Delete { c } => *c,
        };
        let current = self.clusters.get(&c).cloned();
        match (action, current) {
            (Action::Create { mesh, .. }, None) => {
                let state = if *mesh {
                    Mesh::On {
                        revisions: vec![],
                        ingress: None,
                    }
                } else {
                    Mesh::Never
                };
                out.push(put(
                    format!("create {}", CLUSTERS[c]),
                    c,
                    body(c, &state, true),
                    expect_status(201),
                ));
                let state = match state {
                    Mesh::On { .. } => Mesh::On {
                        revisions: vec![DEFAULT_REVISION],
                        ingress: None,
                    },
                    other => other,
                };
                self.clusters.insert(c, state);
            }
            (Action::Create { .. }, Some(state)) => {
                // Re-sending the same state is an update that changes nothing.
                out.push(put(
                    format!("re-put {}", CLUSTERS[c]),
                    c,
                    body(c, &state, false),
                    expect_status(200),
                ));
            }
            (Action::Enable { revision, .. }, Some(Mesh::Never | Mesh::Disabled)) => {
                let revisions: Vec<u8> = revision.iter().copied().collect();
                let state = Mesh::On {
                    revisions: revisions.clone(),
                    ingress: None,
                };
                out.push(put(
                    format!("az aks mesh enable {}", CLUSTERS[c]),
                    c,
                    body(c, &state, true),
                    expect_status(200),
                ));
                let installed = if revisions.is_empty() {
                    vec![DEFAULT_REVISION]
                } else {
                    revisions
                };
                self.clusters.insert(
                    c,
                    Mesh::On {
                        revisions: installed,
                        ingress: None,
                    },
                );
            }
            (Action::Disable { .. }, Some(Mesh::On { revisions, .. })) => {
                // az sends the old istio object along with mode Disabled.
                let mut b = body(
                    c,
                    &Mesh::On {
                        revisions,
                        ingress: None,
                    },
                    false,
                );
                b["properties"]["serviceMeshProfile"]["mode"] = json!("Disabled");
                out.push(put(
                    format!("az aks mesh disable {}", CLUSTERS[c]),
                    c,
                    b,
                    expect_status(200),
                ));
                self.clusters.insert(c, Mesh::Disabled);
            }
            (Action::UpgradeStart { target, .. }, Some(Mesh::On { revisions, ingress })) => {
                let mut wanted = revisions.clone();
                wanted.push(*target);
                let state = Mesh::On {
                    revisions: wanted.clone(),
                    ingress,
                };
                let (expect, next) = if wanted.len() > 2 {
                    (
                        rule_error("Request exceeds maximum allowed number of revisions (2)"),
                        None,
                    )
                } else if *target == revisions[0] {
                    (rule_error_contains("is listed more than once"), None)
                } else if *target < revisions[0] {
                    (rule_error_contains("Downgrading the service mesh"), None)
                } else if !upgrades(revisions[0]).contains(target) {
                    (rule_error_contains("is not a valid upgrade target"), None)
                } else {
                    (expect_status(200), Some(state.clone()))
                };
                out.push(put(
                    format!("az aks mesh upgrade start --revision {}", asm(*target)),
                    c,
                    body(c, &state, false),
                    expect,
                ));
                if let Some(next) = next {
                    self.clusters.insert(c, next);
                }
            }
            (
                Action::Complete { .. } | Action::Rollback { .. },
                Some(Mesh::On { revisions, ingress }),
            ) if revisions.len() == 2 => {
                let keep = if matches!(action, Action::Complete { .. }) {
                    *revisions.iter().max().unwrap_or(&DEFAULT_REVISION)
                } else {
                    *revisions.iter().min().unwrap_or(&DEFAULT_REVISION)
                };
                let state = Mesh::On {
                    revisions: vec![keep],
                    ingress,
                };
                out.push(put(
                    format!("az aks mesh upgrade {action:?}"),
                    c,
                    body(c, &state, false),
                    expect_status(200),
                ));
                self.clusters.insert(c, state);
            }
            (Action::Ingress { on, .. }, Some(Mesh::On { revisions, .. })) => {
                let state = Mesh::On {
                    revisions,
                    ingress: Some(*on),
                };
                out.push(put(
                    format!("ingress external {on}"),
                    c,
                    body(c, &state, false),
                    expect_status(200),
                ));
                self.clusters.insert(c, state);
            }
            (Action::Pod { revision, .. }, Some(state)) => {
                self.pods += 1;
                let ns = format!("ns{}", self.pods);
                out.push(kube(
                    c,
                    "POST",
                    "/api/v1/namespaces",
                    Some(json!({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": ns, "labels": {"istio.io/rev": asm(*revision)}}})),
                    expect_status(201),
                ));
                let injected =
                    matches!(&state, Mesh::On { revisions, .. } if revisions.contains(revision));
                let mut expect = expect_status(201);
                expect.headers.clear();
                let native = injected && runs_native_sidecars(*revision);
                expect.json.insert(
                    "$.spec.containers.length()".into(),
                    json!(if injected && !native { 2 } else { 1 }),
                );
                if native {
                    expect
                        .json
                        .insert("$.spec.initContainers[1].name".into(), json!("istio-proxy"));
                }
                out.push(kube(
                    c,
                    "POST",
                    &format!("/api/v1/namespaces/{ns}/pods"),
                    Some(
                        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
                        "spec": {"containers": [{"name": "app", "image": "nginx"}]}}),
                    ),
                    expect,
                ));
            }
            (Action::Delete { .. }, Some(_)) => {
                out.push(Step {
                    name: Some(format!("az aks delete {}", CLUSTERS[c])),
                    request: Some(Request {
                        method: "DELETE".into(),
                        path: cluster_path(c),
                        api_version: Some(API.into()),
                        headers: BTreeMap::new(),
                        body: None,
                    }),
                    expect: Some(expect_status(202)),
                    ..Step::default()
                });
                self.clusters.remove(&c);
            }
            // What az refuses on the client (or what needs a cluster that is not there): read.
            _ => {}
        }
        out.extend(self.checks(c));
        out
    }

    /// Reads the cluster (and its plane) back and checks the invariants.
    fn checks(&self, c: usize) -> Vec<Step> {
        let get = |expect: Expect| Step {
            name: Some(format!("read {}", CLUSTERS[c])),
            request: Some(Request {
                method: "GET".into(),
                path: cluster_path(c),
                api_version: Some(API.into()),
                headers: BTreeMap::new(),
                body: None,
            }),
            expect: Some(expect),
            ..Step::default()
        };
        let Some(state) = self.clusters.get(&c) else {
            let mut e = expect_status(404);
            e.error = Some(ErrorExpect {
                code: "ResourceNotFound".into(),
                message: None,
                message_contains: None,
            });
            return vec![get(e)];
        };
        let mut e = expect_status(200);
        e.json
            .insert("$.properties.provisioningState".into(), json!("Succeeded"));
        match state {
            Mesh::Never => {
                e.json.insert(
                    "$.properties.serviceMeshProfile".into(),
                    json!("{{absent}}"),
                );
            }
            Mesh::Disabled => {
                e.json.insert(
                    "$.properties.serviceMeshProfile".into(),
                    json!({"mode": "Disabled"}),
                );
                e.json
                    .insert("$.properties.serviceMeshProfile.length()".into(), json!(1));
            }
            Mesh::On { revisions, ingress } => {
                e.json.insert(
                    "$.properties.serviceMeshProfile.mode".into(),
                    json!("Istio"),
                );
                e.json.insert(
                    "$.properties.serviceMeshProfile.istio.revisions".into(),
                    json!(revisions.iter().map(|r| asm(*r)).collect::<Vec<_>>()),
                );
                if let Some(on) = ingress {
                    e.json.insert(
                        "$.properties.serviceMeshProfile.istio.components.ingressGateways".into(),
                        // AKS answers a disabled gateway without `enabled`.
                        if *on {
                            json!([{"mode": "External", "enabled": true}])
                        } else {
                            json!([{"mode": "External"}])
                        },
                    );
                }
            }
        }
        let on = matches!(state, Mesh::On { .. });
        let mut ns = expect_status(if on { 200 } else { 404 });
        ns.headers.clear();
        vec![
            get(e),
            kube(c, "GET", "/api/v1/namespaces/aks-istio-system", None, ns),
        ]
    }
}

fn rule_error(message: &str) -> Expect {
    let mut e = expect_status(400);
    e.error = Some(ErrorExpect {
        code: "BadRequest".into(),
        message: Some(message.into()),
        message_contains: None,
    });
    e
}

fn rule_error_contains(part: &str) -> Expect {
    let mut e = expect_status(400);
    e.error = Some(ErrorExpect {
        code: "BadRequest".into(),
        message: None,
        message_contains: Some(part.into()),
    });
    e
}

fn scenario_of(prefix: &[Step], actions: &[Action]) -> Scenario {
    let mut model = Model::default();
    Scenario {
        name: "clusters and mesh against the model".into(),
        description: "Generated from the reference model.".into(),
        tags: vec!["property-mesh".into()],
        settings: Settings {
            azure_date: Some(AZURE_DATE.to_owned()),
            operation_durations: [("default".to_owned(), 0.0)].into_iter().collect(),
            ..Settings::default()
        },
        setup: Setup {
            register_providers: vec!["Microsoft.ContainerService".into()],
            resource_groups: [("rg1".to_owned(), "eastus".to_owned())]
                .into_iter()
                .collect(),
            ..Setup::default()
        },
        steps: prefix
            .iter()
            .cloned()
            .chain(actions.iter().flat_map(|a| model.steps(a)))
            .collect(),
    }
}

#[test]
fn clusters_and_the_mesh_agree_with_the_model() {
    let cases = common::props::cases();
    if let Err((path, why)) = common::props::run_property(cases, 20, action(), &[], scenario_of) {
        panic!(
            "aksim and the mesh model disagree; reproducer written to {}\n{why}",
            path.display()
        );
    }
}
