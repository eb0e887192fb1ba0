//! Running scenarios: in-process through `aksim::app` (no sockets; each scenario gets its own
//! `AppState`, so clocks and faults never leak between scenarios) or over HTTP against any
//! running aksim (`--target`). Against a target that is not an aksim (no `/_sim`), steps only a
//! simulator can do (clock, faults, scripts) are reported as skipped.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use base64::Engine;
use serde_json::Value;
use tower::ServiceExt;

use crate::scenario::matching::{resolve, subset, substitute, substitute_json};
use crate::scenario::model::{Expect, Loaded, Step};
use crate::state::AppState;

/// Polls a wait step may make before it fails.
pub const WAIT_POLLS_MAX: usize = 500;
/// Host in-process requests are addressed to.
const IN_PROCESS_HOST: &str = "aksim.scenario";
/// api-version used for the runner's own ARM calls (setup, credentials).
const AKS_API: &str = "2026-06-01";

/// Where scenarios run.
#[derive(Clone)]
pub enum Target {
    /// A fresh in-process aksim per scenario, built from this config.
    InProcess(Box<crate::config::Config>),
    /// A running server.
    Remote {
        base: String,
        client: reqwest::Client,
        token: String,
    },
}

/// The outcome of one scenario.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub path: PathBuf,
    pub steps: usize,
    pub skipped: usize,
    pub duration: Duration,
    pub failure: Option<Failure>,
    /// Why the scenario was skipped as a whole, if it was.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Failure {
    /// 1-based; 0 = setup.
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

/// One HTTP answer, whichever transport produced it.
#[derive(Debug, Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
    fn summary(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let body: String = body.chars().take(600).collect();
        format!("{} {}", self.status, body)
    }
}

struct Run {
    target: Target,
    state: Option<AppState>,
    app: Option<crate::http::App>,
    base: String,
    /// Whether `/_sim` is available (in-process: always).
    sim: bool,
    subscription: String,
    vars: BTreeMap<String, String>,
    kube_credentials: BTreeMap<String, (String, String)>,
    last_request: String,
    /// Fault rules this scenario armed (removed when it ends, on a shared target).
    armed_faults: Vec<String>,
    /// Whether it set operation scripts (cleared when it ends, on a shared target).
    scripted: bool,
    /// Durations to restore when it ends (it changed them on a shared target).
    saved_durations: Option<Value>,
    /// Registration delay to restore when it ends (shared target).
    saved_registration: Option<Value>,
    /// Whether it froze the clock (unfrozen when it ends, on a shared target).
    froze_clock: bool,
}

impl Run {
    async fn send(
        &mut self,
        method: &str,
        url: &str,
        headers: &BTreeMap<String, String>,
        body: Option<&Value>,
        auth: Option<&str>,
    ) -> Result<Reply, String> {
        let path = url.strip_prefix(&self.base).unwrap_or(url).to_owned();
        let method_parsed = axum::http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("'{method}' is not an HTTP method"))?;
        self.last_request = match body {
            Some(b) => format!("{method} {path} {b}"),
            None => format!("{method} {path}"),
        };
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        match &self.target {
            Target::InProcess(_) => {
                let app = self.app.clone().ok_or("no in-process app")?;
                let mut builder = axum::http::Request::builder()
                    .method(method_parsed)
                    .uri(&path)
                    .header("host", IN_PROCESS_HOST);
                let token = auth
                    .map(str::to_owned)
                    .unwrap_or_else(|| "Bearer scenario".to_owned());
                if !headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("authorization"))
                {
                    builder = builder.header("authorization", token);
                }
                for (k, v) in headers {
                    builder = builder.header(k.as_str(), v.as_str());
                }
                if bytes.is_some()
                    && !headers
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case("content-type"))
                {
                    builder = builder.header("content-type", "application/json");
                }
                let request = builder
                    .body(bytes.map(Body::from).unwrap_or_else(Body::empty))
                    .map_err(|e| format!("cannot build request {path}: {e}"))?;
                let response = match app.oneshot(request).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                let body = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024)
                    .await
                    .map_err(|e| format!("reading the response: {e}"))?
                    .to_vec();
                Ok(Reply {
                    status,
                    headers,
                    body,
                })
            }
            Target::Remote { client, token, .. } => {
                let full = if url.starts_with("http://") || url.starts_with("https://") {
                    url.to_owned()
                } else {
                    format!("{}{}", self.base, path)
                };
                let mut request = client.request(method_parsed, &full);
                let bearer = auth
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("Bearer {token}"));
                if !headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("authorization"))
                {
                    request = request.header("authorization", bearer);
                }
                for (k, v) in headers {
                    request = request.header(k.as_str(), v.as_str());
                }
                if let Some(bytes) = bytes {
                    request = request
                        .header("content-type", "application/json")
                        .body(bytes);
                }
                let response = request
                    .send()
                    .await
                    .map_err(|e| format!("{method} {full}: {}", chain(&e)))?;
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| format!("reading {full}: {e}"))?
                    .to_vec();
                Ok(Reply {
                    status,
                    headers,
                    body,
                })
            }
        }
    }

    async fn sim_call(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let reply = self
            .send(method, path, &BTreeMap::new(), body, None)
            .await?;
        if reply.status >= 300 {
            return Err(format!("{method} {path} was refused: {}", reply.summary()));
        }
        Ok(reply)
    }

    async fn advance(&mut self, seconds: f64) -> Result<(), String> {
        if let Some(state) = &self.state {
            state
                .core
                .clock
                .advance(time::Duration::seconds_f64(seconds));
            return Ok(());
        }
        self.sim_call(
            "POST",
            "/_sim/clock/advance",
            Some(&serde_json::json!({ "seconds": seconds })),
        )
        .await
        .map(|_| ())
    }

    /// Polls `url` until `done` says so, moving the clock (or waiting) between polls.
    async fn poll(&mut self, url: &str, done: impl Fn(&Reply) -> bool) -> Result<Reply, String> {
        for _ in 0..WAIT_POLLS_MAX {
            let reply = self.send("GET", url, &BTreeMap::new(), None, None).await?;
            if done(&reply) {
                return Ok(reply);
            }
            if reply.status >= 400 {
                return Err(format!("polling {url} failed: {}", reply.summary()));
            }
            let wait = reply
                .header("retry-after")
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(1.0)
                .max(1.0);
            if self.sim {
                self.advance(wait).await?;
            } else {
                tokio::time::sleep(Duration::from_secs_f64(wait.min(60.0))).await;
            }
        }
        Err(format!("{url} did not finish after {WAIT_POLLS_MAX} polls"))
    }

    fn journal(&self) -> Vec<String> {
        let Some(state) = &self.state else {
            return Vec::new();
        };
        let filter = crate::control::journal::Filter::default();
        state
            .journal
            .query(&filter)
            .iter()
            .map(|e| {
                let why = e
                    .error_code
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                format!("#{} {} {} → {}{why}", e.seq, e.method, e.path, e.status)
            })
            .collect()
    }
}

/// An error with its causes (`error sending request: operation timed out`).
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if error.is_timeout() {
        text.push_str(": timed out");
    } else if error.is_connect() {
        text.push_str(": could not connect");
    }
    let error: &dyn std::error::Error = error;
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn fail(step: usize, name: &str, request: &str, detail: impl Into<String>) -> Failure {
    Failure {
        step,
        step_name: name.to_owned(),
        request: request.to_owned(),
        detail: detail.into(),
        journal: Vec::new(),
    }
}

fn with_api_version(path: &str, api_version: Option<&str>) -> String {
    match api_version {
        Some(v) if !path.contains("api-version=") => {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}api-version={v}")
        }
        _ => path.to_owned(),
    }
}

/// Runs one scenario to its end or first failure.
pub async fn run_one(loaded: &Loaded, target: &Target) -> Outcome {
    let started = Instant::now();
    let scenario = &loaded.scenario;
    let mut outcome = Outcome {
        name: scenario.name.clone(),
        path: loaded.path.clone(),
        steps: 0,
        skipped: 0,
        duration: Duration::ZERO,
        failure: None,
        note: None,
    };
    let catalog = scenario.setup.mesh_catalog.as_deref().map(|c| {
        if crate::core::clusters::catalog::EMBEDDED_NAMES.contains(&c) {
            c.to_owned()
        } else {
            let base = loaded
                .path
                .parent()
                .unwrap_or_else(|| std::path::Path::new("."));
            base.join(c).to_string_lossy().into_owned()
        }
    });
    let mut run = match prepare(
        target,
        scenario.setup.subscription.as_deref(),
        catalog.as_deref(),
    )
    .await
    {
        Ok(run) => run,
        Err(e) => {
            outcome.failure = Some(fail(0, "connect", "", e));
            outcome.duration = started.elapsed();
            return outcome;
        }
    };
    if let (Some(wanted), false) = (catalog.as_deref(), run.state.is_some()) {
        if let Some(reason) = catalog_mismatch(&mut run, wanted).await {
            outcome.skipped = scenario.steps.len();
            outcome.note = Some(reason);
            outcome.duration = started.elapsed();
            return outcome;
        }
    }
    // Setup variables may use the built-in ones (`{{subscription}}`, `{{base}}`).
    for (name, value) in &scenario.setup.vars {
        match substitute(value, &run.vars) {
            Ok(v) => {
                run.vars.insert(name.clone(), v);
            }
            Err(e) => {
                outcome.failure = Some(fail(0, "setup", "", format!("setup.vars.{name}: {e}")));
                outcome.duration = started.elapsed();
                return outcome;
            }
        }
    }
    if let Err(e) = setup(&mut run, scenario).await {
        let mut failure = fail(0, "setup", &run.last_request, e);
        failure.journal = run.journal();
        outcome.failure = Some(failure);
        outcome.duration = started.elapsed();
        return outcome;
    }
    for (i, step) in scenario.steps.iter().enumerate() {
        let name = step
            .name
            .clone()
            .unwrap_or_else(|| format!("step {}", i + 1));
        match run_step(&mut run, step).await {
            Ok(StepResult::Done) => outcome.steps += 1,
            Ok(StepResult::Skipped) => outcome.skipped += 1,
            Err(detail) => {
                let mut failure = fail(i + 1, &name, &run.last_request, detail);
                failure.journal = run.journal();
                outcome.failure = Some(failure);
                break;
            }
        }
    }
    cleanup(&mut run).await;
    outcome.duration = started.elapsed();
    outcome
}

/// Why a target cannot run a scenario that needs the AKS catalogue `wanted` (a built-in name
/// or a file), if it cannot.
async fn catalog_mismatch(run: &mut Run, wanted: &str) -> Option<String> {
    let name = if crate::core::clusters::catalog::EMBEDDED_NAMES.contains(&wanted) {
        wanted.to_owned()
    } else {
        let text = std::fs::read_to_string(wanted).ok()?;
        let json: Value = serde_json::from_str(&text).ok()?;
        json["name"].as_str()?.to_owned()
    };
    if !run.sim {
        return Some(format!(
            "needs the AKS catalogue '{name}', which only aksim has"
        ));
    }
    let info = run
        .send("GET", "/_sim/info", &BTreeMap::new(), None, None)
        .await
        .ok()?;
    let actual = info
        .json()
        .and_then(|j| j["aksCatalog"]["name"].as_str().map(str::to_owned));
    match actual {
        Some(actual) if actual == name => None,
        other => Some(format!(
            "needs the AKS catalogue '{name}'; the target runs '{}' (start it with --mesh-catalog)",
            other.unwrap_or_default()
        )),
    }
}

/// On a shared target, removes the faults and scripts a scenario armed.
async fn cleanup(run: &mut Run) {
    if run.state.is_some() || !run.sim {
        return;
    }
    for id in std::mem::take(&mut run.armed_faults) {
        let _ = run
            .send(
                "DELETE",
                &format!("/_sim/faults/{id}"),
                &BTreeMap::new(),
                None,
                None,
            )
            .await;
    }
    if run.scripted {
        let _ = run
            .send(
                "DELETE",
                "/_sim/operations/scripts",
                &BTreeMap::new(),
                None,
                None,
            )
            .await;
    }
    if let Some(durations) = run.saved_durations.take() {
        let _ = run
            .send(
                "PUT",
                "/_sim/operations/durations",
                &BTreeMap::new(),
                Some(&durations),
                None,
            )
            .await;
    }
    if let Some(settings) = run.saved_registration.take() {
        let _ = run
            .send(
                "PUT",
                "/_sim/registration",
                &BTreeMap::new(),
                Some(&settings),
                None,
            )
            .await;
    }
    if run.froze_clock {
        let _ = run
            .send("POST", "/_sim/clock/unfreeze", &BTreeMap::new(), None, None)
            .await;
    }
}

async fn prepare(
    target: &Target,
    subscription: Option<&str>,
    mesh_catalog: Option<&str>,
) -> Result<Run, String> {
    let subscription = match subscription {
        Some(s) => uuid::Uuid::parse_str(s)
            .map_err(|_| format!("setup.subscription '{s}' is not a GUID"))?
            .hyphenated()
            .to_string(),
        None => uuid::Uuid::new_v4().hyphenated().to_string(),
    };
    let (state, app, base, sim) = match target {
        Target::InProcess(config) => {
            let mut config = (**config).clone();
            if let Some(catalog) = mesh_catalog {
                config.mesh_catalog = Some(catalog.to_owned());
            }
            let state = AppState::new(config, crate::identity::TokenIssuer::ephemeral(), None)?;
            let app = crate::http::app(state.clone());
            let base = format!("{}://{IN_PROCESS_HOST}", state.config.scheme());
            (Some(state), Some(app), base, true)
        }
        Target::Remote { base, client, .. } => {
            let sim = client
                .get(format!("{base}/_sim/health"))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            (None, None, base.trim_end_matches('/').to_owned(), sim)
        }
    };
    let mut vars = BTreeMap::new();
    vars.insert("subscription".to_owned(), subscription.clone());
    vars.insert("base".to_owned(), base.clone());
    Ok(Run {
        target: target.clone(),
        state,
        app,
        base,
        sim,
        subscription,
        vars,
        kube_credentials: BTreeMap::new(),
        last_request: String::new(),
        armed_faults: Vec::new(),
        scripted: false,
        saved_durations: None,
        froze_clock: false,
        saved_registration: None,
    })
}

async fn setup(run: &mut Run, scenario: &crate::scenario::model::Scenario) -> Result<(), String> {
    let s = &scenario.setup;
    let shared = run.state.is_none();
    if !s.operation_durations.is_empty() && run.sim {
        if shared {
            run.saved_durations = run
                .sim_call("GET", "/_sim/operations/durations", None)
                .await?
                .json();
        }
        let body = serde_json::to_value(&s.operation_durations).map_err(|e| e.to_string())?;
        run.sim_call("PUT", "/_sim/operations/durations", Some(&body))
            .await?;
    }
    if let (Some(secs), true) = (s.registration_seconds, run.sim) {
        if shared {
            run.saved_registration = run
                .sim_call("GET", "/_sim/registration", None)
                .await?
                .json();
        }
        let body = serde_json::json!({ "delaySeconds": secs });
        run.sim_call("PUT", "/_sim/registration", Some(&body))
            .await?;
    }
    if s.freeze_clock && run.sim {
        run.sim_call("POST", "/_sim/clock/freeze", None).await?;
        run.froze_clock = shared;
    }
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

enum StepResult {
    Done,
    Skipped,
}

async fn run_step(run: &mut Run, step: &Step) -> Result<StepResult, String> {
    let vars = run.vars.clone();
    let sim_only =
        step.advance_clock.is_some() || step.fault.is_some() || step.operation_scripts.is_some();
    if sim_only && !run.sim {
        return Ok(StepResult::Skipped);
    }
    let reply = if let Some(secs) = step.advance_clock {
        run.advance(secs).await?;
        None
    } else if let Some(fault) = &step.fault {
        let mut body = substitute_json(fault, &vars)?;
        // Scope the rule to this scenario's subscription so parallel scenarios against one
        // server never see each other's faults.
        if let Some(map) = body.as_object_mut() {
            map.entry("subscription")
                .or_insert_with(|| Value::String(run.subscription.clone()));
        }
        let reply = run.sim_call("POST", "/_sim/faults", Some(&body)).await?;
        if let Some(id) = reply
            .json()
            .and_then(|j| j["id"].as_str().map(str::to_owned))
        {
            run.armed_faults.push(id);
        }
        Some(reply)
    } else if let Some(scripts) = &step.operation_scripts {
        let body = substitute_json(scripts, &vars)?;
        Some(
            run.sim_call("PUT", "/_sim/operations/scripts", Some(&body))
                .await?,
        )
    } else if let Some(url) = &step.wait_for_operation {
        let url = substitute(url, &vars)?;
        let terminal = |r: &Reply| {
            if r.status == 202 {
                return false;
            }
            match r
                .json()
                .and_then(|j| j.get("status").and_then(Value::as_str).map(str::to_owned))
            {
                Some(status) => ["succeeded", "failed", "canceled"]
                    .contains(&status.to_ascii_lowercase().as_str()),
                None => r.status < 300 || r.status >= 400,
            }
        };
        Some(run.poll(&url, terminal).await?)
    } else if let Some(create) = &step.create_cluster {
        Some(create_cluster(run, create, &vars).await?)
    } else if let Some(request) = &step.request {
        let path = with_api_version(
            &substitute(&request.path, &vars)?,
            request.api_version.as_deref(),
        );
        let mut headers = BTreeMap::new();
        for (k, v) in &request.headers {
            headers.insert(k.clone(), substitute(v, &vars)?);
        }
        let body = request
            .body
            .as_ref()
            .map(|b| substitute_json(b, &vars))
            .transpose()?;
        Some(
            run.send(&request.method, &path, &headers, body.as_ref(), None)
                .await?,
        )
    } else if let Some(kube) = &step.kube {
        let cluster = substitute(&kube.cluster, &vars)?;
        let (server, token) = kube_credentials(run, &cluster).await?;
        let path = substitute(&kube.path, &vars)?;
        let mut headers = BTreeMap::new();
        for (k, v) in &kube.headers {
            headers.insert(k.clone(), substitute(v, &vars)?);
        }
        let body = kube
            .body
            .as_ref()
            .map(|b| substitute_json(b, &vars))
            .transpose()?;
        let url = format!("{server}{path}");
        let bearer = format!("Bearer {token}");
        let mut reply = run
            .send(&kube.method, &url, &headers, body.as_ref(), Some(&bearer))
            .await?;
        if reply.status == 401 {
            // The cluster was re-created since the credentials were fetched: fetch them again.
            run.kube_credentials.remove(&cluster);
            let (server, token) = kube_credentials(run, &cluster).await?;
            let url = format!("{server}{path}");
            let bearer = format!("Bearer {token}");
            reply = run
                .send(&kube.method, &url, &headers, body.as_ref(), Some(&bearer))
                .await?;
        }
        Some(reply)
    } else {
        return Err("a step needs an action".into());
    };
    if let Some(reply) = &reply {
        check(step.expect.as_ref(), reply, &vars)?;
        for (name, source) in &step.capture {
            let value = capture(reply, source)?;
            run.vars.insert(name.clone(), value);
        }
    } else if step.expect.is_some() || !step.capture.is_empty() {
        return Err("this step has no response to check or capture".into());
    }
    Ok(StepResult::Done)
}

/// `createCluster`: PUT the body `az aks create` sends, wait for the operation, GET.
async fn create_cluster(
    run: &mut Run,
    create: &crate::scenario::model::CreateCluster,
    vars: &BTreeMap<String, String>,
) -> Result<Reply, String> {
    let rg = substitute(&create.resource_group, vars)?;
    let name = substitute(&create.name, vars)?;
    let api = create.api_version.as_deref().unwrap_or(AKS_API);
    let mut properties = serde_json::json!({
        "kubernetesVersion": create.kubernetes_version.clone().unwrap_or_default(),
        "dnsPrefix": format!("{name}-{rg}"),
        "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vmSize": "", "osType": "Linux",
                               "mode": "System", "type": "VirtualMachineScaleSets"}],
    });
    if create.mesh {
        let istio = match &create.revision {
            Some(r) => serde_json::json!({ "revisions": [substitute(r, vars)?] }),
            None => serde_json::json!({}),
        };
        properties["serviceMeshProfile"] = serde_json::json!({ "mode": "Istio", "istio": istio });
    }
    if let Some(Value::Object(extra)) = create
        .properties
        .as_ref()
        .map(|p| substitute_json(p, vars))
        .transpose()?
    {
        for (k, v) in extra {
            properties[k] = v;
        }
    }
    let body = serde_json::json!({
        "location": create.location.clone().unwrap_or_else(|| "eastus".to_owned()),
        "identity": {"type": "SystemAssigned"},
        "properties": properties,
    });
    let path = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}?api-version={api}",
        run.subscription
    );
    let put = run
        .send("PUT", &path, &BTreeMap::new(), Some(&body), None)
        .await?;
    if put.status >= 300 {
        return Err(format!(
            "createCluster {rg}/{name}: the PUT was refused: {}",
            put.summary()
        ));
    }
    let op = put
        .header("azure-asyncoperation")
        .ok_or("createCluster: no Azure-AsyncOperation header")?
        .to_owned();
    let done = run
        .poll(&op, |r| {
            r.json()
                .and_then(|j| j["status"].as_str().map(str::to_owned))
                .is_some_and(|s| {
                    ["succeeded", "failed", "canceled"].contains(&s.to_ascii_lowercase().as_str())
                })
        })
        .await?;
    if done.json().map(|j| j["status"].clone()) != Some(Value::String("Succeeded".into())) {
        return Err(format!(
            "createCluster {rg}/{name}: the operation ended {}",
            done.summary()
        ));
    }
    run.send("GET", &path, &BTreeMap::new(), None, None).await
}

async fn kube_credentials(run: &mut Run, cluster: &str) -> Result<(String, String), String> {
    if let Some(found) = run.kube_credentials.get(cluster) {
        return Ok(found.clone());
    }
    let (rg, name) = cluster
        .split_once('/')
        .ok_or_else(|| format!("kube.cluster '{cluster}' must be resourceGroup/name"))?;
    let url = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}/listClusterUserCredential?api-version={AKS_API}",
        run.subscription
    );
    let reply = run.send("POST", &url, &BTreeMap::new(), None, None).await?;
    let json = reply
        .json()
        .filter(|_| reply.status == 200)
        .ok_or_else(|| format!("credentials for {cluster}: {}", reply.summary()))?;
    let encoded = json["kubeconfigs"][0]["value"]
        .as_str()
        .ok_or("credentials carry no kubeconfig")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("kubeconfig is not base64: {e}"))?;
    let config: Value =
        yaml_serde::from_slice(&decoded).map_err(|e| format!("kubeconfig is not YAML: {e}"))?;
    let server = config["clusters"][0]["cluster"]["server"]
        .as_str()
        .ok_or("kubeconfig has no server")?
        .to_owned();
    let token = config["users"][0]["user"]["token"]
        .as_str()
        .ok_or("kubeconfig has no token")?
        .to_owned();
    run.kube_credentials
        .insert(cluster.to_owned(), (server.clone(), token.clone()));
    Ok((server, token))
}

fn capture(reply: &Reply, source: &str) -> Result<String, String> {
    if let Some(name) = source.strip_prefix("header:") {
        return reply
            .header(name.trim())
            .map(str::to_owned)
            .ok_or_else(|| format!("capture: no header '{name}'"));
    }
    if let Some(path) = source.strip_prefix("body:") {
        let json = reply.json().ok_or("capture: the body is not JSON")?;
        return match resolve(&json, path)? {
            Some(Value::String(s)) => Ok(s),
            Some(v) => Ok(v.to_string()),
            None => Err(format!("capture: nothing at {path}")),
        };
    }
    if source == "status" {
        return Ok(reply.status.to_string());
    }
    Err(format!(
        "capture source '{source}' must be header:NAME, body:$.path or status"
    ))
}

fn check(
    expect: Option<&Expect>,
    reply: &Reply,
    vars: &BTreeMap<String, String>,
) -> Result<(), String> {
    let Some(expect) = expect else {
        if reply.status >= 500 {
            return Err(format!("unexpected server error: {}", reply.summary()));
        }
        return Ok(());
    };
    if let Some(status) = expect.status {
        if status != reply.status {
            return Err(format!(
                "status: expected {status}, got {}\nbody: {}",
                reply.status,
                reply.summary()
            ));
        }
    } else if reply.status >= 500 {
        return Err(format!("unexpected server error: {}", reply.summary()));
    }
    for (name, value) in &expect.headers {
        let value = substitute(value, vars)?;
        let actual = reply.header(name).map(|v| Value::String(v.to_owned()));
        subset(
            &Value::String(value),
            actual.as_ref(),
            &format!("header {name}"),
        )
        .map_err(|m| m.to_string())?;
    }
    let json = reply.json();
    if let Some(body) = &expect.body {
        let body = substitute_json(body, vars)?;
        subset(&body, json.as_ref(), "$").map_err(|m| format!("body {m}"))?;
    }
    for (path, value) in &expect.json {
        let value = substitute_json(value, vars)?;
        let root = json.as_ref().ok_or("the body is not JSON")?;
        let actual = resolve(root, path)?;
        subset(&value, actual.as_ref(), path).map_err(|m| m.to_string())?;
    }
    if let Some(error) = &expect.error {
        let root = json
            .as_ref()
            .ok_or_else(|| format!("expected error {}, but the body is not JSON", error.code))?;
        // ARM envelope, operation status error, or Kubernetes Status.
        let (code, message) = if root.get("kind").and_then(Value::as_str) == Some("Status") {
            (root["reason"].as_str(), root["message"].as_str())
        } else {
            (
                root["error"]["code"].as_str(),
                root["error"]["message"].as_str(),
            )
        };
        if code != Some(error.code.as_str()) {
            return Err(format!(
                "error code: expected {}, got {}\nbody: {}",
                error.code,
                code.unwrap_or("(none)"),
                reply.summary()
            ));
        }
        if let Some(m) = &error.message {
            let m = substitute(m, vars)?;
            if message != Some(m.as_str()) {
                return Err(format!(
                    "error message:\n  expected: {m}\n  actual:   {}",
                    message.unwrap_or("(none)")
                ));
            }
        }
        if let Some(part) = &error.message_contains {
            if !message.is_some_and(|msg| msg.contains(part.as_str())) {
                return Err(format!(
                    "error message should contain '{part}', got: {}",
                    message.unwrap_or("(none)")
                ));
            }
        }
    }
    Ok(())
}
