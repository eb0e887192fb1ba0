//! Property test: random sequences of feature and provider register / unregister requests
//! (through every API that drives them) and clock advances, checked after every step against
//! a plain reference model of Azure's registration machine:
//! - every state shown is one Azure can show (providers never `Pending`);
//! - states only move along the machine's edges;
//! - the state in each response and in each GET equals the model's;
//! - after an advance of at least the delay, nothing is left `Registering`/`Unregistering`.
//!
//! 64 cases by default; `PROPTEST_CASES=N` raises it.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aksim::config::Config;
use aksim::identity::TokenIssuer;
use aksim::AppState;
use axum::http::{Method, StatusCode};
use common::{Sim, SUB};
use proptest::prelude::*;

const DELAY: i64 = 3;
const CS: &str = "Microsoft.ContainerService";
/// (name, approval required)
const FEATURES: [(&str, bool); 3] = [
    ("IstioNativeSidecarModePreview", false),
    ("IstioCNIPreview", false),
    ("NeedsApproval", true),
];
/// (namespace, registration free)
const PROVIDERS: [(&str, bool); 3] = [
    ("Microsoft.ContainerService", false),
    ("Microsoft.KeyVault", false),
    ("Microsoft.Features", true),
];
const FEATURE_VERSIONS: [&str; 3] = ["2015-12-01", "2021-07-01", "2025-03-01"];
const PROVIDER_VERSIONS: [&str; 4] = ["2016-02-01", "2024-11-01", "2025-04-01", "2021-04-01"];

#[derive(Debug, Clone)]
enum Op {
    Feature {
        idx: usize,
        on: bool,
        version: usize,
    },
    /// The same machine through subscriptionFeatureRegistrations PUT / DELETE.
    Sfr {
        idx: usize,
        on: bool,
        latest: bool,
    },
    Provider {
        idx: usize,
        on: bool,
        version: usize,
    },
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..FEATURES.len(), any::<bool>(), 0..FEATURE_VERSIONS.len())
            .prop_map(|(idx, on, version)| Op::Feature { idx, on, version }),
        1 => (0..FEATURES.len(), any::<bool>(), any::<bool>())
            .prop_map(|(idx, on, latest)| Op::Sfr { idx, on, latest }),
        3 => (0..PROVIDERS.len(), any::<bool>(), 0..PROVIDER_VERSIONS.len())
            .prop_map(|(idx, on, version)| Op::Provider { idx, on, version }),
        3 => prop_oneof![Just(0i64), Just(1), Just(2), Just(3), Just(7)].prop_map(Op::Advance),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S {
    NotRegistered,
    Pending,
    Registering,
    Registered,
    Unregistering,
    Unregistered,
}

impl S {
    fn parse(s: &str) -> Option<S> {
        Some(match s {
            "NotRegistered" => S::NotRegistered,
            "Pending" => S::Pending,
            "Registering" => S::Registering,
            "Registered" => S::Registered,
            "Unregistering" => S::Unregistering,
            "Unregistered" => S::Unregistered,
            _ => return None,
        })
    }
}

/// The reference model: phase plus the virtual second a transitional phase ends.
#[derive(Debug, Clone, Copy)]
struct Entry {
    phase: S,
    due: i64,
}

impl Entry {
    fn state(self, t: i64) -> S {
        match self.phase {
            S::Registering if t >= self.due => S::Registered,
            S::Unregistering if t >= self.due => S::Unregistered,
            p => p,
        }
    }
    fn register(&mut self, t: i64, approval: bool) {
        let s = self.state(t);
        *self = match s {
            S::NotRegistered | S::Unregistering | S::Unregistered if approval => Entry {
                phase: S::Pending,
                due: 0,
            },
            S::NotRegistered | S::Unregistering | S::Unregistered => Entry {
                phase: S::Registering,
                due: t + DELAY,
            },
            _ => self.settled(t),
        };
    }
    fn unregister(&mut self, t: i64) {
        let s = self.state(t);
        *self = match s {
            S::Registered | S::Registering | S::Pending => Entry {
                phase: S::Unregistering,
                due: t + DELAY,
            },
            _ => self.settled(t),
        };
    }
    /// The entry with an elapsed transitional phase written back.
    fn settled(self, t: i64) -> Entry {
        let s = self.state(t);
        if s == self.phase {
            self
        } else {
            Entry { phase: s, due: 0 }
        }
    }
}

/// Edges of the machine (self-loops are always allowed).
fn edge_allowed(from: S, to: S) -> bool {
    use S::*;
    from == to
        || matches!(
            (from, to),
            (NotRegistered, Registering | Pending)
                | (Registering, Registered | Unregistering)
                | (Registered, Unregistering)
                | (Pending, Unregistering)
                | (Unregistering, Unregistered | Registering | Pending)
                | (Unregistered, Registering | Pending)
        )
}

fn catalog_path() -> &'static std::path::Path {
    static PATH: OnceLock<std::path::PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // In cargo's directory for integration tests' files (under target/), under one name:
        // a file per process in the system's temp dir was never removed. Written aside and
        // renamed into place, so a concurrent run never reads it half written.
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        let path = dir.join("aksim-registration-props.json");
        let fresh = dir.join(format!(
            "aksim-registration-props-{}.json",
            std::process::id()
        ));
        std::fs::write(
            &fresh,
            r#"{"features":[{"namespace":"Microsoft.ContainerService","name":"NeedsApproval","approvalType":"ApprovalRequired"}]}"#,
        )
        .expect("cargo's test temp dir is writable");
        std::fs::rename(&fresh, &path).expect("renamed into place");
        path
    })
}

fn feature_url(name: &str, action: &str, version: &str) -> String {
    format!(
        "/subscriptions/{SUB}/providers/Microsoft.Features/providers/{CS}/features/{name}{action}?api-version={version}"
    )
}

fn sfr_url(name: &str, version: &str) -> String {
    format!(
        "/subscriptions/{SUB}/providers/Microsoft.Features/featureProviders/{CS}/subscriptionFeatureRegistrations/{name}?api-version={version}"
    )
}

async fn run(ops: Vec<Op>) -> Result<(), String> {
    let mut config = Config::for_tests();
    config.registration_seconds = DELAY as f64;
    config.feature_catalog = Some(catalog_path().to_path_buf());
    let state = AppState::new(config, TokenIssuer::ephemeral(), None)?;
    state.core.clock.set_frozen(true);
    let sim = Sim { state };

    let mut t = 0i64;
    let mut features: BTreeMap<usize, Entry> = BTreeMap::new();
    let mut providers: BTreeMap<usize, Entry> = BTreeMap::new();
    let fresh = Entry {
        phase: S::NotRegistered,
        due: 0,
    };
    let mut seen_f: Vec<S> = vec![S::NotRegistered; FEATURES.len()];
    let mut seen_p: Vec<S> = PROVIDERS
        .iter()
        .map(|(_, free)| {
            if *free {
                S::Registered
            } else {
                S::NotRegistered
            }
        })
        .collect();

    for (step, op) in ops.iter().enumerate() {
        // The request, and the state its response shows.
        let answered: Option<(bool, usize, String)> = match *op {
            Op::Feature { idx, on, version } => {
                let (name, approval) = FEATURES[idx];
                let action = if on { "/register" } else { "/unregister" };
                let r = sim
                    .post(&feature_url(name, action, FEATURE_VERSIONS[version]))
                    .await;
                if r.status != StatusCode::OK {
                    return Err(format!("step {step} {op:?}: {} {}", r.status, r.body));
                }
                let e = features.entry(idx).or_insert(fresh);
                if on {
                    e.register(t, approval);
                } else {
                    e.unregister(t);
                }
                Some((
                    true,
                    idx,
                    r.body["properties"]["state"].as_str().unwrap_or("").into(),
                ))
            }
            Op::Sfr { idx, on, latest } => {
                let (name, approval) = FEATURES[idx];
                let version = if latest { "2025-03-01" } else { "2021-07-01" };
                let url = sfr_url(name, version);
                let r = if on {
                    sim.call(
                        Method::PUT,
                        &url,
                        Some(serde_json::json!({"properties": {}})),
                    )
                    .await
                } else {
                    sim.delete(&url).await
                };
                if r.status != StatusCode::OK {
                    return Err(format!("step {step} {op:?}: {} {}", r.status, r.body));
                }
                if on {
                    features.entry(idx).or_insert(fresh).register(t, approval);
                    Some((
                        true,
                        idx,
                        r.body["properties"]["state"].as_str().unwrap_or("").into(),
                    ))
                } else {
                    // DELETE of a never-registered feature touches nothing.
                    if let Some(e) = features.get_mut(&idx) {
                        e.unregister(t);
                    }
                    None
                }
            }
            Op::Provider { idx, on, version } => {
                let (ns, free) = PROVIDERS[idx];
                let action = if on { "/register" } else { "/unregister" };
                let r = sim
                    .post(&format!(
                        "/subscriptions/{SUB}/providers/{ns}{action}?api-version={}",
                        PROVIDER_VERSIONS[version]
                    ))
                    .await;
                if r.status != StatusCode::OK {
                    return Err(format!("step {step} {op:?}: {} {}", r.status, r.body));
                }
                if !free {
                    let e = providers.entry(idx).or_insert(fresh);
                    if on {
                        e.register(t, false);
                    } else {
                        e.unregister(t);
                    }
                }
                Some((
                    false,
                    idx,
                    r.body["registrationState"].as_str().unwrap_or("").into(),
                ))
            }
            Op::Advance(secs) => {
                sim.advance(secs as f64);
                t += secs;
                None
            }
        };

        // The response shows the model's state.
        if let Some((is_feature, idx, shown)) = answered {
            let want = if is_feature {
                features.get(&idx).copied().unwrap_or(fresh).state(t)
            } else if PROVIDERS[idx].1 {
                S::Registered
            } else {
                providers.get(&idx).copied().unwrap_or(fresh).state(t)
            };
            if S::parse(&shown) != Some(want) {
                return Err(format!(
                    "step {step} {op:?}: response shows {shown}, model {want:?}"
                ));
            }
        }

        // Every GET agrees with the model and moved only along the machine.
        for (idx, (name, _)) in FEATURES.iter().enumerate() {
            let version = FEATURE_VERSIONS[step % FEATURE_VERSIONS.len()];
            let r = sim.get(&feature_url(name, "", version)).await;
            let shown = r.body["properties"]["state"].as_str().unwrap_or("");
            let got = S::parse(shown).ok_or_else(|| {
                format!("step {step}: {name} shows an impossible state '{shown}'")
            })?;
            let want = features.get(&idx).copied().unwrap_or(fresh).state(t);
            if got != want {
                return Err(format!(
                    "step {step} {op:?}: {name} is {got:?}, model {want:?}"
                ));
            }
            if !edge_allowed(seen_f[idx], got) {
                return Err(format!(
                    "step {step}: {name} jumped {:?} -> {got:?}",
                    seen_f[idx]
                ));
            }
            if matches!(op, Op::Advance(s) if *s >= DELAY)
                && matches!(got, S::Registering | S::Unregistering)
            {
                return Err(format!("step {step}: {name} still {got:?} after the delay"));
            }
            seen_f[idx] = got;
        }
        for (idx, (ns, free)) in PROVIDERS.iter().enumerate() {
            let version = PROVIDER_VERSIONS[step % PROVIDER_VERSIONS.len()];
            let r = sim
                .get(&format!(
                    "/subscriptions/{SUB}/providers/{ns}?api-version={version}"
                ))
                .await;
            if r.status != StatusCode::OK {
                return Err(format!("step {step}: provider GET {} {}", r.status, r.body));
            }
            let shown = r.body["registrationState"].as_str().unwrap_or("");
            let got = S::parse(shown)
                .ok_or_else(|| format!("step {step}: {ns} shows an impossible state '{shown}'"))?;
            let want = if *free {
                S::Registered
            } else {
                providers.get(&idx).copied().unwrap_or(fresh).state(t)
            };
            if got != want || got == S::Pending {
                return Err(format!(
                    "step {step} {op:?}: {ns} is {got:?}, model {want:?}"
                ));
            }
            if !edge_allowed(seen_p[idx], got) {
                return Err(format!(
                    "step {step}: {ns} jumped {:?} -> {got:?}",
                    seen_p[idx]
                ));
            }
            if matches!(op, Op::Advance(s) if *s >= DELAY)
                && matches!(got, S::Registering | S::Unregistering)
            {
                return Err(format!("step {step}: {ns} still {got:?} after the delay"));
            }
            seen_p[idx] = got;
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn registrations_follow_the_machine(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let outcome = runtime.block_on(run(ops));
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
