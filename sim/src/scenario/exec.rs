//! Running one scenario: in-process through `aksim::app` (no sockets; each scenario gets its
//! own `AppState`, built with its settings, so clocks and faults never leak between
//! scenarios) or against a running server (`--target`). Every scenario ends [`Verdict::Passed`],
//! [`Verdict::Failed`] or [`Verdict::Skipped`] with the reason; a scenario the target cannot run
//! as written (simulator-only steps against something that is not aksim, a start flag that
//! differs) is skipped before its first request, never half-run.
//!
//! Against a live aksim the runner applies the scenario's settings (`plan::apply`), and when
//! the scenario ends puts back what it changed and reads it again (`plan::restore`), removes
//! the fault rules it armed, and forgets the subscription it made up if the scenario passed (a
//! failed scenario's state is kept for inspection).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::matching::substitute;
use super::model::{Loaded, Scenario};
use super::plan::{self, Probe, Refusal};
use super::session::{Reply, Session, Transport, DEFAULT_TOKEN, IN_PROCESS_HOST};
use super::steps;
use crate::state::AppState;

pub use super::session::WAIT_POLLS_MAX;

/// Where scenarios run.
#[derive(Clone)]
pub enum Target {
    /// A fresh in-process aksim per scenario, built from this config and the scenario's
    /// settings.
    InProcess(Box<crate::config::Config>),
    /// A running server (see [`Target::remote`]).
    Remote(Remote),
}

/// A running server: an aksim, or anything that speaks ARM.
#[derive(Clone)]
pub struct Remote {
    pub base: String,
    pub client: reqwest::Client,
    /// The bearer token to send; `None`: a made-up one, or one from the target's token
    /// endpoint when it runs `--auth strict`.
    pub token: Option<String>,
    probe: Arc<tokio::sync::OnceCell<Result<Probe, String>>>,
}

impl Target {
    pub fn remote(base: &str, client: reqwest::Client, token: Option<String>) -> Target {
        Target::Remote(Remote {
            base: base.trim_end_matches('/').to_owned(),
            client,
            token,
            probe: Arc::default(),
        })
    }

    /// What the target is (read once): `None` in-process.
    pub async fn probe(&self) -> Option<Result<Probe, String>> {
        match self {
            Target::InProcess(_) => None,
            Target::Remote(r) => Some(
                r.probe
                    .get_or_init(|| plan::probe(&r.client, &r.base))
                    .await
                    .clone(),
            ),
        }
    }
}

/// How a scenario ended.
#[derive(Debug, Clone)]
pub enum Verdict {
    Passed,
    Failed(Box<Failure>),
    /// Not run, and why.
    Skipped(String),
}

/// The outcome of one scenario.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub path: PathBuf,
    /// Steps that ran to the end (a failed step is not counted).
    pub steps_run: usize,
    pub steps_total: usize,
    pub duration: Duration,
    pub verdict: Verdict,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self.verdict, Verdict::Passed)
    }
    pub fn failure(&self) -> Option<&Failure> {
        match &self.verdict {
            Verdict::Failed(f) => Some(f),
            _ => None,
        }
    }
    pub fn skip_reason(&self) -> Option<&str> {
        match &self.verdict {
            Verdict::Skipped(reason) => Some(reason),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Failure {
    /// 1-based; 0 = before the first step (settings, setup).
    pub step: usize,
    pub step_name: String,
    pub request: String,
    pub detail: String,
    pub journal: Vec<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let which = if self.step == 0 {
            "setup".to_owned()
        } else {
            format!("step {}", self.step)
        };
        writeln!(f, "  at {which} ({})", self.step_name)?;
        if !self.request.is_empty() {
            writeln!(f, "  request: {}", self.request)?;
        }
        for line in self.detail.lines() {
            writeln!(f, "  {line}")?;
        }
        if !self.journal.is_empty() {
            writeln!(f, "  journal of this scenario's requests:")?;
            for line in &self.journal {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}

fn fail(step: usize, name: &str, request: &str, detail: impl Into<String>) -> Verdict {
    Verdict::Failed(Box::new(Failure {
        step,
        step_name: name.to_owned(),
        request: request.to_owned(),
        detail: detail.into(),
        journal: Vec::new(),
    }))
}

/// Runs one scenario to its end or first failure.
pub async fn run_one(loaded: &Loaded, target: &Target) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome {
        name: loaded.scenario.name.clone(),
        path: loaded.path.clone(),
        steps_run: 0,
        steps_total: loaded.scenario.steps.len(),
        duration: Duration::ZERO,
        verdict: Verdict::Passed,
    };
    outcome.verdict = run(loaded, target, &mut outcome.steps_run).await;
    outcome.duration = started.elapsed();
    outcome
}

async fn run(loaded: &Loaded, target: &Target, steps_run: &mut usize) -> Verdict {
    let scenario = &loaded.scenario;
    let probe = match target.probe().await {
        None => None,
        Some(Ok(probe)) => Some(probe),
        Some(Err(e)) => return fail(0, "connect", "", e),
    };
    if let Some(reason) = probe.as_ref().and_then(|p| plan::skip_reason(scenario, p)) {
        return Verdict::Skipped(reason);
    }
    let mut session = match open(target, loaded, probe.as_ref()).await {
        Ok(session) => session,
        Err(e) => return fail(0, "connect", "", e),
    };
    let applied = match &probe {
        Some(p) if p.sim => match plan::apply(&mut session, loaded, p).await {
            Ok(applied) => Some(applied),
            Err(Refusal::Skip(reason)) => return Verdict::Skipped(reason),
            Err(Refusal::Fail(e)) => {
                let verdict = fail(0, "settings", &session.last_request, e);
                return verdict;
            }
        },
        _ => None,
    };
    let mut verdict = steps_of(&mut session, scenario, steps_run).await;
    if let Verdict::Failed(failure) = &mut verdict {
        failure.journal = session.journal().await;
    }
    if let Some(applied) = applied {
        let fixed = scenario.setup.subscription.is_some();
        verdict = clean_up(&mut session, applied, verdict, fixed).await;
    }
    verdict
}

/// The setup and the steps.
async fn steps_of(session: &mut Session, scenario: &Scenario, steps_run: &mut usize) -> Verdict {
    // Setup variables may use the built-in ones (`{{subscription}}`, `{{base}}`).
    for (name, value) in &scenario.setup.vars {
        match substitute(value, &session.vars) {
            Ok(v) => {
                session.vars.insert(name.clone(), v);
            }
            Err(e) => return fail(0, "setup", "", format!("setup.vars.{name}: {e}")),
        }
    }
    if let Err(e) = setup(session, scenario).await {
        return fail(0, "setup", &session.last_request, e);
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        let name = step
            .name
            .clone()
            .unwrap_or_else(|| format!("step {}", i + 1));
        if let Err(detail) = steps::run_step(session, step).await {
            return fail(i + 1, &name, &session.last_request, detail);
        }
        *steps_run += 1;
    }
    Verdict::Passed
}

/// On a live aksim: removes the faults the scenario armed, puts the settings back (a failure
/// to do so fails the scenario), and forgets the scenario's made-up subscription if it passed.
async fn clean_up(
    session: &mut Session,
    applied: plan::Applied,
    verdict: Verdict,
    fixed_subscription: bool,
) -> Verdict {
    for id in std::mem::take(&mut session.armed_faults) {
        let _ = session
            .send(
                "DELETE",
                &format!("/_sim/faults/{id}"),
                &BTreeMap::new(),
                None,
                None,
            )
            .await;
    }
    if let Err(e) = plan::restore(session, applied).await {
        return match verdict {
            Verdict::Failed(mut failure) => {
                failure.detail.push('\n');
                failure.detail.push_str(&e);
                Verdict::Failed(failure)
            }
            _ => fail(0, "putting the settings back", "", e),
        };
    }
    match verdict {
        Verdict::Passed if !fixed_subscription => {
            let path = format!("/_sim/reset/{}", session.subscription);
            if let Err(e) = session.sim_call("POST", &path, None).await {
                return fail(0, "forgetting the scenario's subscription", "", e);
            }
            Verdict::Passed
        }
        Verdict::Failed(mut failure) if !fixed_subscription => {
            failure.detail.push_str(&format!(
                "\nits state is kept in subscription {sub} (POST /_sim/reset/{sub} forgets it)",
                sub = session.subscription
            ));
            Verdict::Failed(failure)
        }
        other => other,
    }
}

/// The scenario's session: its own simulator in-process, or the remote target's client.
async fn open(target: &Target, loaded: &Loaded, probe: Option<&Probe>) -> Result<Session, String> {
    let subscription = match &loaded.scenario.setup.subscription {
        Some(s) => uuid::Uuid::parse_str(s)
            .map_err(|_| format!("setup.subscription '{s}' is not a GUID"))?
            .hyphenated()
            .to_string(),
        None => uuid::Uuid::new_v4().hyphenated().to_string(),
    };
    let (transport, base, sim, token, strict) = match target {
        Target::InProcess(config) => {
            let config = plan::in_process_config(config, loaded)?;
            let strict = config.auth == crate::config::AuthMode::Strict;
            let state = AppState::new(config, crate::identity::TokenIssuer::ephemeral(), None)?;
            let app = crate::http::app(state.clone());
            let base = format!("{}://{IN_PROCESS_HOST}", state.config.scheme());
            let transport = Transport::InProcess { state, app };
            (transport, base, true, None, strict)
        }
        Target::Remote(remote) => {
            let sim = probe.is_some_and(|p| p.sim);
            let strict = probe.and_then(|p| p.auth) == Some(crate::config::AuthMode::Strict);
            let transport = Transport::Remote {
                client: remote.client.clone(),
            };
            (
                transport,
                remote.base.clone(),
                sim,
                remote.token.clone(),
                strict,
            )
        }
    };
    let mut vars = BTreeMap::new();
    vars.insert("subscription".to_owned(), subscription.clone());
    vars.insert("base".to_owned(), base.clone());
    let mut session = Session {
        transport,
        base,
        sim,
        subscription,
        vars,
        kube_credentials: BTreeMap::new(),
        last_request: String::new(),
        token: token.clone().unwrap_or_else(|| DEFAULT_TOKEN.to_owned()),
        token_issued: false,
        armed_faults: Vec::new(),
    };
    if strict && token.is_none() {
        session.token = session.issue_token().await?;
        session.token_issued = true;
    }
    Ok(session)
}

async fn setup(run: &mut Session, scenario: &Scenario) -> Result<(), String> {
    let s = &scenario.setup;
    let sub = run.subscription.clone();
    let registered = |r: &Reply| {
        r.json().is_some_and(|j| {
            j["registrationState"] == "Registered" || j["properties"]["state"] == "Registered"
        })
    };
    let mut providers: Vec<String> = s.register_providers.clone();
    for feature in &s.register_features {
        let (ns, name) = feature
            .split_once('/')
            .ok_or_else(|| format!("setup feature '{feature}' must be Namespace/Name"))?;
        let url = format!(
            "/subscriptions/{sub}/providers/Microsoft.Features/providers/{ns}/features/{name}"
        );
        let reply = run
            .send(
                "POST",
                &format!("{url}/register?api-version=2021-07-01"),
                &BTreeMap::new(),
                None,
                None,
            )
            .await?;
        if reply.status != 200 {
            return Err(format!(
                "registering feature {feature}: {}",
                reply.summary()
            ));
        }
        run.poll(&format!("{url}?api-version=2021-07-01"), registered)
            .await?;
        if !providers.iter().any(|p| p.eq_ignore_ascii_case(ns)) {
            providers.push(ns.to_owned());
        }
    }
    for ns in providers {
        let url = format!("/subscriptions/{sub}/providers/{ns}");
        let reply = run
            .send(
                "POST",
                &format!("{url}/register?api-version=2024-11-01"),
                &BTreeMap::new(),
                None,
                None,
            )
            .await?;
        if reply.status != 200 {
            return Err(format!("registering provider {ns}: {}", reply.summary()));
        }
        run.poll(&format!("{url}?api-version=2024-11-01"), registered)
            .await?;
    }
    for (name, location) in &s.resource_groups {
        let body = serde_json::json!({ "location": location });
        let url = format!("/subscriptions/{sub}/resourcegroups/{name}?api-version=2024-11-01");
        let reply = run
            .send("PUT", &url, &BTreeMap::new(), Some(&body), None)
            .await?;
        if reply.status >= 300 {
            return Err(format!(
                "creating resource group {name}: {}",
                reply.summary()
            ));
        }
    }
    Ok(())
}
