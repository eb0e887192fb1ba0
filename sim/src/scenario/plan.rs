//! What a scenario needs of its target, decided before it starts, and how the runner provides
//! it: the target's capabilities (read once from `/_sim/info`), the skip reason when the target
//! cannot take the scenario's settings, whether it must run alone on a live aksim, the
//! in-process simulator's config, and applying the settings to a live aksim — a sandbox
//! subscription for the catalogue, save/apply/restore for server-wide settings — then putting
//! back and re-reading what it changed.

use std::path::Path;

use serde_json::Value;

use super::model::{Loaded, Scenario};
use super::session::Session;
use crate::config::{AuthMode, Config};
use crate::core::timeline::{alias_day, day_string, timeline};

/// What a remote target is, read once per run.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// It has aksim's control API.
    pub sim: bool,
    /// Its `--auth` (aksim only).
    pub auth: Option<AuthMode>,
    /// Its `--azure-date` (aksim only).
    pub azure_date: Option<String>,
    /// Whether it runs with a catalogue file of its own (aksim only).
    pub catalog_file: bool,
}

/// Reads `/_sim/info`: an aksim answers 200 with its settings; anything else that answers is
/// not an aksim. A target that cannot be reached is an error, not "not aksim".
pub async fn probe(client: &reqwest::Client, base: &str) -> Result<Probe, String> {
    let url = format!("{base}/_sim/info");
    let response = client.get(&url).send().await.map_err(|e| {
        format!(
            "cannot reach the target: GET {url}: {}",
            super::session::chain(&e)
        )
    })?;
    let status = response.status();
    let info: Option<Value> = response.json().await.ok();
    let info = info.filter(|i| status.is_success() && i.get("aksCatalog").is_some());
    Ok(match info {
        Some(info) => Probe {
            sim: true,
            auth: info["auth"]
                .as_str()
                .and_then(|a| serde_json::from_value(Value::String(a.to_owned())).ok()),
            azure_date: info["azureDate"].as_str().map(str::to_owned),
            catalog_file: info["aksCatalog"]["file"].is_string(),
        },
        None => Probe {
            sim: false,
            auth: None,
            azure_date: None,
            catalog_file: false,
        },
    })
}

/// What the scenario asks of aksim's control API (settings and simulator-only steps).
pub fn control_uses(s: &Scenario) -> Vec<String> {
    let mut uses: Vec<String> = s.settings.names().iter().map(|n| (*n).to_owned()).collect();
    for (i, step) in s.steps.iter().enumerate() {
        let what = if step.advance_clock.is_some() {
            "advanceClock"
        } else if step.fault.is_some() {
            "fault"
        } else if step.operation_scripts.is_some() {
            "operationScripts"
        } else if step.azure_date.is_some() {
            "azureDate"
        } else {
            continue;
        };
        uses.push(format!("step {} ({what})", i + 1));
    }
    uses
}

/// Whether, on a live aksim, the scenario changes or moves something every subscription sees
/// (server-wide settings, operation scripts, the clock — polls move it too): it then runs with
/// nothing else of the run in flight.
pub fn runs_alone(s: &Scenario) -> bool {
    s.settings.server_wide()
        || !s.setup.register_features.is_empty()
        || !s.setup.register_providers.is_empty()
        || s.steps.iter().any(|step| {
            step.advance_clock.is_some()
                || step.operation_scripts.is_some()
                || step.wait_for_operation.is_some()
                || step.create_cluster.is_some()
        })
}

/// Why a remote target cannot run the scenario, if it cannot.
pub fn skip_reason(s: &Scenario, probe: &Probe) -> Option<String> {
    if !probe.sim {
        let uses = control_uses(s);
        if !uses.is_empty() {
            return Some(format!(
                "needs aksim's control API (/_sim) for {}; the target has none",
                uses.join(", ")
            ));
        }
        return None;
    }
    if let (Some(wanted), Some(actual)) = (s.settings.auth, probe.auth) {
        if wanted != actual {
            return Some(format!(
                "needs --auth {w}; the target runs with --auth {a}, which is fixed when aksim \
                 starts: run it against an aksim started with --auth {w}, or in-process (without \
                 --target)",
                w = wanted.name(),
                a = actual.name()
            ));
        }
    }
    None
}

/// The day and the catalogue file a scenario's settings ask for: `azureDate`, and
/// `meshCatalog` (a file relative to the scenario file, or an old name standing for a day).
pub struct DateChoice {
    pub day: Option<String>,
    pub catalog_file: Option<String>,
}

pub fn date_choice(loaded: &Loaded) -> Result<DateChoice, String> {
    let settings = &loaded.scenario.settings;
    let mut day = settings
        .azure_date
        .as_deref()
        .map(|d| {
            timeline()
                .check_day(d, "settings.azureDate")
                .map(day_string)
        })
        .transpose()?;
    let mut catalog_file = None;
    if let Some(c) = settings.mesh_catalog.as_deref() {
        match alias_day(c) {
            Some(alias) => {
                let alias = day_string(alias);
                if day.as_ref().is_some_and(|d| *d != alias) {
                    return Err(format!(
                        "settings.azureDate and settings.meshCatalog {c} (= azureDate {alias}) \
                         disagree; give only azureDate"
                    ));
                }
                day = Some(alias);
            }
            None => {
                let base = loaded.path.parent().unwrap_or_else(|| Path::new("."));
                catalog_file = Some(base.join(c).to_string_lossy().into_owned());
            }
        }
    }
    Ok(DateChoice { day, catalog_file })
}

/// `settings.operationDurations` as `--op-duration` items.
fn duration_items(s: &Scenario) -> Vec<String> {
    s.settings
        .operation_durations
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// The in-process simulator for the scenario: `base` with the scenario's settings.
pub fn in_process_config(base: &Config, loaded: &Loaded) -> Result<Config, String> {
    let settings = &loaded.scenario.settings;
    let mut config = base.clone();
    let choice = date_choice(loaded)?;
    if let Some(day) = choice.day {
        config.azure_date = Some(day);
        config.istio_admission_era = None;
    }
    if let Some(file) = choice.catalog_file {
        config.mesh_catalog = Some(file);
    }
    if !settings.operation_durations.is_empty() {
        config.op_durations = duration_items(&loaded.scenario);
    }
    if let Some(secs) = settings.registration_seconds {
        config.registration_seconds = secs;
    }
    if settings.freeze_clock {
        config.clock_frozen = true;
    }
    if let Some(auth) = settings.auth {
        config.auth = auth;
    }
    Ok(config)
}

/// Why applying settings stopped the scenario before it began.
pub(crate) enum Refusal {
    Skip(String),
    Fail(String),
}

/// What the runner changed on a live aksim, with the values to put back.
#[derive(Default)]
pub(crate) struct Applied {
    durations: Option<Value>,
    registration: Option<Value>,
    scripts: Option<Value>,
    /// The runner froze the clock (it was running).
    froze: bool,
}

/// Applies the scenario's settings to a live aksim: the catalogue through a sandbox
/// subscription, the server-wide ones after saving their values.
pub(crate) async fn apply(
    session: &mut Session,
    loaded: &Loaded,
    probe: &Probe,
) -> Result<Applied, Refusal> {
    let s = &loaded.scenario;
    let settings = &s.settings;
    let mut applied = Applied::default();
    let choice = date_choice(loaded).map_err(Refusal::Fail)?;
    if choice.day.is_some() || choice.catalog_file.is_some() {
        sandbox_day(session, &choice, probe).await?;
    }
    let fail = Refusal::Fail;
    if s.steps.iter().any(|step| step.operation_scripts.is_some()) {
        applied.scripts = Some(
            session
                .sim_json("GET", "/_sim/operations/scripts", None)
                .await
                .map_err(fail)?,
        );
    }
    if !settings.operation_durations.is_empty() {
        let kinds = &crate::core::OP_KINDS;
        let wanted = crate::core::ops::Durations::parse(&duration_items(s), kinds)
            .map_err(|e| Refusal::Fail(format!("settings.operationDurations: {e}")))?
            .as_json(kinds);
        applied.durations = Some(
            session
                .sim_json("GET", "/_sim/operations/durations", None)
                .await
                .map_err(fail)?,
        );
        session
            .sim_call("PUT", "/_sim/operations/durations", Some(&wanted))
            .await
            .map_err(fail)?;
    }
    if let Some(secs) = settings.registration_seconds {
        applied.registration = Some(
            session
                .sim_json("GET", "/_sim/registration", None)
                .await
                .map_err(fail)?,
        );
        let body = serde_json::json!({ "delaySeconds": secs });
        session
            .sim_call("PUT", "/_sim/registration", Some(&body))
            .await
            .map_err(fail)?;
    }
    if settings.freeze_clock {
        let clock = session
            .sim_json("GET", "/_sim/clock", None)
            .await
            .map_err(fail)?;
        if clock["frozen"] != Value::Bool(true) {
            session
                .sim_call("POST", "/_sim/clock/freeze", None)
                .await
                .map_err(fail)?;
            applied.froze = true;
        }
    }
    Ok(applied)
}

/// Makes the scenario's subscription a sandbox with the day and catalogue it needs (unless
/// the server already answers as that day, with its own catalogue).
async fn sandbox_day(
    session: &mut Session,
    choice: &DateChoice,
    probe: &Probe,
) -> Result<(), Refusal> {
    if choice.catalog_file.is_none()
        && !probe.catalog_file
        && choice.day.is_some()
        && probe.azure_date == choice.day
    {
        return Ok(());
    }
    let mut body = serde_json::json!({ "subscriptionId": session.subscription });
    if let Some(day) = &choice.day {
        body["azureDate"] = day.clone().into();
    }
    if let Some(spec) = &choice.catalog_file {
        let text = std::fs::read_to_string(spec)
            .map_err(|e| Refusal::Fail(format!("settings.meshCatalog: {spec}: {e}")))?;
        body["meshCatalog"] = serde_json::from_str(&text)
            .map_err(|e| Refusal::Fail(format!("settings.meshCatalog: {spec}: {e}")))?;
    }
    let reply = session
        .send(
            "POST",
            "/_sim/sandboxes",
            &Default::default(),
            Some(&body),
            None,
        )
        .await
        .map_err(Refusal::Fail)?;
    if reply.status == 201 {
        return Ok(());
    }
    let text = reply.summary();
    if text.contains("unknown field `azureDate`") || text.contains("unknown field `meshCatalog`") {
        let flag = match (&choice.day, &choice.catalog_file) {
            (Some(d), _) => format!("--azure-date {d}"),
            (None, Some(f)) => format!("--mesh-catalog {f}"),
            (None, None) => String::new(),
        };
        return Err(Refusal::Skip(format!(
            "needs its own AKS date or catalogue, and the target aksim's sandboxes cannot carry \
             one (an older aksim): start it with {flag}"
        )));
    }
    Err(Refusal::Fail(format!(
        "creating a sandbox for the scenario's AKS date/catalogue was refused: {text}"
    )))
}

/// Puts back what [`apply`] changed, then reads it again: an error names what differs.
pub(crate) async fn restore(session: &mut Session, applied: Applied) -> Result<(), String> {
    let mut errors = Vec::new();
    if let Some(scripts) = &applied.scripts {
        let put_back = async {
            session
                .sim_call("DELETE", "/_sim/operations/scripts", None)
                .await?;
            if scripts.as_object().is_some_and(|m| !m.is_empty()) {
                session
                    .sim_call("PUT", "/_sim/operations/scripts", Some(scripts))
                    .await?;
            }
            Ok::<_, String>(())
        };
        if let Err(e) = put_back.await {
            errors.push(e);
        }
    }
    if let Some(durations) = &applied.durations {
        if let Err(e) = session
            .sim_call("PUT", "/_sim/operations/durations", Some(durations))
            .await
        {
            errors.push(e);
        }
    }
    if let Some(registration) = &applied.registration {
        if let Err(e) = session
            .sim_call("PUT", "/_sim/registration", Some(registration))
            .await
        {
            errors.push(e);
        }
    }
    if applied.froze {
        if let Err(e) = session.sim_call("POST", "/_sim/clock/unfreeze", None).await {
            errors.push(e);
        }
    }
    // Read everything back: what the runner saved must be what the server now says.
    let checks = [
        ("/_sim/operations/scripts", applied.scripts.as_ref()),
        ("/_sim/operations/durations", applied.durations.as_ref()),
        ("/_sim/registration", applied.registration.as_ref()),
    ];
    for (path, saved) in checks {
        let Some(saved) = saved else { continue };
        match session.sim_json("GET", path, None).await {
            Ok(now) if now == *saved => {}
            Ok(now) => errors.push(format!("{path} was {saved}, is now {now}")),
            Err(e) => errors.push(e),
        }
    }
    if applied.froze {
        match session.sim_json("GET", "/_sim/clock", None).await {
            Ok(clock) if clock["frozen"] == Value::Bool(false) => {}
            Ok(clock) => errors.push(format!("the clock was running, is now {clock}")),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the runner could not put the target's settings back:\n  {}",
            errors.join("\n  ")
        ))
    }
}
