//! Model-based property test: random sequences of user actions run against aksim through the
//! scenario runner, with every expectation predicted by a plain reference model. When a
//! sequence fails, proptest shrinks it and the minimal sequence is written out as a scenario
//! file — a reproducer anyone can read and rerun with `aksim scenario run FILE`.
//!
//! Invariants checked after every step (as the step's expectations): the status and error
//! code the model predicts, names echo their creation casing, lists equal the model, every
//! answer carries `x-ms-request-id` and refusals the ARM envelope, registration states only
//! follow Azure's machine on the (frozen, advanced-by-steps) virtual clock.
//!
//! Cases: 48 by default, `PROPTEST_CASES=N` for more. Reproducers go to
//! `target/aksim-proptest/` (or `AKSIM_PROPTEST_OUT`).

use std::collections::BTreeMap;
use std::path::PathBuf;

mod common;

use aksim::scenario::exec;
use aksim::scenario::model::{ErrorExpect, Expect, Request, Scenario, Settings, Setup, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

const GROUPS: [&str; 3] = ["rg-alpha", "rg-beta", "rg-gamma"];
const LOCATIONS: [&str; 3] = ["eastus", "westeurope", "japaneast"];
const REGISTRATION_SECS: i64 = 3;
const FEATURE: &str = "AzureServiceMeshPreview";
const NS: &str = "Microsoft.ContainerService";

/// One user action.
#[derive(Debug, Clone)]
enum Action {
    PutGroup {
        group: usize,
        upper: bool,
        location: usize,
    },
    GetGroup {
        group: usize,
    },
    DeleteGroup {
        group: usize,
    },
    ListGroups,
    RegisterFeature,
    UnregisterFeature,
    GetFeature,
    RegisterProvider,
    GetProvider,
    Advance {
        seconds: u8,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..GROUPS.len(), any::<bool>(), 0..LOCATIONS.len())
            .prop_map(|(group, upper, location)| Action::PutGroup { group, upper, location }),
        2 => (0..GROUPS.len()).prop_map(|group| Action::GetGroup { group }),
        2 => (0..GROUPS.len()).prop_map(|group| Action::DeleteGroup { group }),
        1 => Just(Action::ListGroups),
        2 => Just(Action::RegisterFeature),
        1 => Just(Action::UnregisterFeature),
        1 => Just(Action::GetFeature),
        2 => Just(Action::RegisterProvider),
        1 => Just(Action::GetProvider),
        2 => (0u8..6).prop_map(|seconds| Action::Advance { seconds }),
    ]
}

/// Azure's registration machine, on the model's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reg {
    Off(&'static str),
    Registering { due: i64 },
    Registered,
    Unregistering { due: i64 },
}

impl Reg {
    fn at(self, now: i64) -> Reg {
        match self {
            Reg::Registering { due } if now >= due => Reg::Registered,
            Reg::Unregistering { due } if now >= due => Reg::Off("Unregistered"),
            other => other,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Reg::Off(name) => name,
            Reg::Registering { .. } => "Registering",
            Reg::Registered => "Registered",
            Reg::Unregistering { .. } => "Unregistering",
        }
    }
    fn register(self, now: i64) -> Reg {
        match self.at(now) {
            Reg::Off(_) => Reg::Registering {
                due: now + REGISTRATION_SECS,
            },
            Reg::Unregistering { .. } => Reg::Registering {
                due: now + REGISTRATION_SECS,
            },
            other => other,
        }
    }
    fn unregister(self, now: i64) -> Reg {
        match self.at(now) {
            Reg::Registering { .. } | Reg::Registered => Reg::Unregistering {
                due: now + REGISTRATION_SECS,
            },
            other => other,
        }
    }
}

/// The reference model: plain data.
#[derive(Debug, Clone)]
struct Model {
    now: i64,
    /// lower-case name → (name as created, location)
    groups: BTreeMap<String, (String, String)>,
    feature: Reg,
    provider: Reg,
}

impl Model {
    fn new() -> Self {
        Model {
            now: 0,
            groups: BTreeMap::new(),
            feature: Reg::Off("NotRegistered"),
            provider: Reg::Off("NotRegistered"),
        }
    }

    /// The step this action becomes, with what the model predicts; advances the model.
    fn step(&mut self, action: &Action) -> Step {
        let sub = "/subscriptions/{{subscription}}";
        let features =
            format!("{sub}/providers/Microsoft.Features/providers/{NS}/features/{FEATURE}");
        let request = |method: &str, path: String, api: &str, body: Option<Value>| Request {
            method: method.into(),
            path,
            api_version: Some(api.into()),
            headers: BTreeMap::new(),
            body,
        };
        let expect = |status: u16, body: Option<Value>, error: Option<&str>| Expect {
            status: Some(status),
            headers: [("x-ms-request-id".to_owned(), "{{uuid}}".to_owned())]
                .into_iter()
                .collect(),
            body,
            json: BTreeMap::new(),
            error: error.map(|code| ErrorExpect {
                code: code.into(),
                message: None,
                message_contains: None,
            }),
        };
        let (req, exp) = match action {
            Action::PutGroup {
                group,
                upper,
                location,
            } => {
                let name = if *upper {
                    GROUPS[*group].to_uppercase()
                } else {
                    GROUPS[*group].to_owned()
                };
                let loc = LOCATIONS[*location];
                let req = request(
                    "PUT",
                    format!("{sub}/resourcegroups/{name}"),
                    "2024-11-01",
                    Some(json!({"location": loc})),
                );
                let key = GROUPS[*group].to_owned();
                let exp = match self.groups.get(&key) {
                    None => {
                        self.groups.insert(key, (name.clone(), loc.to_owned()));
                        expect(201, Some(json!({"name": name, "location": loc})), None)
                    }
                    Some((created, existing)) if existing == loc => {
                        expect(200, Some(json!({"name": created})), None)
                    }
                    Some(_) => expect(409, None, Some("InvalidResourceGroupLocation")),
                };
                (req, exp)
            }
            Action::GetGroup { group } => {
                let req = request(
                    "GET",
                    format!("{sub}/resourceGroups/{}", GROUPS[*group]),
                    "2025-04-01",
                    None,
                );
                let exp = match self.groups.get(GROUPS[*group]) {
                    Some((name, loc)) => {
                        expect(200, Some(json!({"name": name, "location": loc})), None)
                    }
                    None => expect(404, None, Some("ResourceGroupNotFound")),
                };
                (req, exp)
            }
            Action::DeleteGroup { group } => {
                let req = request(
                    "DELETE",
                    format!("{sub}/resourcegroups/{}", GROUPS[*group]),
                    "2024-11-01",
                    None,
                );
                // Operations take no virtual time here: the next request sees the group gone.
                let exp = match self.groups.remove(GROUPS[*group]) {
                    Some(_) => expect(202, None, None),
                    None => expect(404, None, Some("ResourceGroupNotFound")),
                };
                (req, exp)
            }
            Action::ListGroups => {
                let names: Vec<Value> = self
                    .groups
                    .values()
                    .map(|(n, l)| json!({"name": n, "location": l}))
                    .collect();
                (
                    request("GET", format!("{sub}/resourcegroups"), "2024-11-01", None),
                    expect(200, Some(json!({"value": names})), None),
                )
            }
            Action::RegisterFeature => {
                self.feature = self.feature.register(self.now);
                let state = self.feature.at(self.now).name();
                (
                    request("POST", format!("{features}/register"), "2021-07-01", None),
                    expect(200, Some(json!({"properties": {"state": state}})), None),
                )
            }
            Action::UnregisterFeature => {
                self.feature = self.feature.unregister(self.now);
                let state = self.feature.at(self.now).name();
                (
                    request("POST", format!("{features}/unregister"), "2021-07-01", None),
                    expect(200, Some(json!({"properties": {"state": state}})), None),
                )
            }
            Action::GetFeature => {
                let state = self.feature.at(self.now).name();
                (
                    request("GET", features, "2025-03-01", None),
                    expect(200, Some(json!({"properties": {"state": state}})), None),
                )
            }
            Action::RegisterProvider => {
                self.provider = self.provider.register(self.now);
                let state = self.provider.at(self.now).name();
                (
                    request(
                        "POST",
                        format!("{sub}/providers/{NS}/register"),
                        "2024-11-01",
                        None,
                    ),
                    expect(200, Some(json!({"registrationState": state})), None),
                )
            }
            Action::GetProvider => {
                let state = self.provider.at(self.now).name();
                (
                    request("GET", format!("{sub}/providers/{NS}"), "2016-02-01", None),
                    expect(200, Some(json!({"registrationState": state})), None),
                )
            }
            Action::Advance { seconds } => {
                self.now += i64::from(*seconds);
                return Step {
                    name: Some(format!("advance {seconds}s")),
                    advance_clock: Some(f64::from(*seconds)),
                    ..Step::default()
                };
            }
        };
        Step {
            name: Some(format!(
                "{} {}",
                req.method,
                req.path.replace("{{subscription}}", "…")
            )),
            request: Some(req),
            expect: Some(exp),
            ..Step::default()
        }
    }
}

/// The scenario a sequence of actions becomes, after `prefix` steps (e.g. an armed fault).
fn scenario_of(prefix: &[Step], actions: &[Action]) -> Scenario {
    let mut model = Model::new();
    Scenario {
        name: "model property".into(),
        description:
            "Generated from the reference model; each step's expectation is the model's prediction."
                .into(),
        tags: vec!["property-groups-registration".into()],
        settings: Settings {
            // The seed flow's day: AzureServiceMeshPreview exists (it is retired today).
            azure_date: Some("2023-12-01".to_owned()),
            operation_durations: [("default".to_owned(), 0.0)].into_iter().collect(),
            registration_seconds: Some(REGISTRATION_SECS as f64),
            freeze_clock: true,
            ..Settings::default()
        },
        setup: Setup::default(),
        steps: prefix
            .iter()
            .cloned()
            .chain(actions.iter().map(|a| model.step(a)))
            .collect(),
    }
}

fn property(cases: u32, prefix: &[Step]) -> Result<(), (PathBuf, String)> {
    common::props::run_property(cases, 30, action(), prefix, scenario_of)
}

#[test]
fn aksim_agrees_with_the_reference_model() {
    if let Err((path, why)) = property(common::props::cases(), &[]) {
        panic!(
            "aksim and the model disagree; reproducer written to {}\n{why}",
            path.display()
        );
    }
}

/// The shrink-to-scenario path works end to end: a simulated bug (a fault rule that makes
/// every second group PUT answer 500) makes the property fail, proptest shrinks the sequence
/// to the two PUTs that show it, the reproducer file is a valid scenario, and running that
/// file with the scenario runner fails the same way.
#[test]
fn a_failing_property_becomes_a_small_reproducer_scenario() {
    let out = tempfile::tempdir().unwrap();
    std::env::set_var("AKSIM_PROPTEST_OUT", out.path());
    let bug = Step {
        name: Some("simulated bug: every second group PUT fails".into()),
        fault: Some(json!({
            "method": "PUT", "path": "*/resourcegroups/*", "every": 2,
            "action": {"type": "error", "status": 500, "code": "SimulatedBug"}
        })),
        ..Step::default()
    };
    let (path, why) =
        property(256, std::slice::from_ref(&bug)).expect_err("the bug must be caught");
    assert!(why.contains("got 500"), "{why}");
    let loaded = aksim::scenario::load(&path).expect("the reproducer is a valid scenario file");
    assert_eq!(
        loaded.scenario.steps.len(),
        3,
        "the fault and two PUTs: {:#?}",
        loaded.scenario.steps
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(exec::run_one(
        &loaded,
        &aksim::scenario::in_process_target(),
    ));
    let failure = outcome.failure().expect("the reproducer reproduces");
    assert!(failure.detail.contains("got 500"), "{failure}");
}
