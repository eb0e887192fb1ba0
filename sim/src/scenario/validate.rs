//! The checks a scenario file passes before it runs (and all that `aksim scenario validate`
//! does): one action per step, bounded sizes, settings in range, and every `{{variable}}`
//! known where it is used — the built-ins, `setup.vars`, and the captures of earlier steps.
//! Errors read ` reason` (the loader puts the file name in front).

use std::collections::BTreeMap;

use serde_json::Value;

use super::matching::substitute;
use super::model::{Scenario, Step, STEPS_MAX};

/// Variables every run defines.
pub const BUILT_IN_VARIABLES: [&str; 2] = ["subscription", "base"];

pub fn validate(s: &Scenario) -> Result<(), String> {
    if s.name.trim().is_empty() {
        return Err(" scenario name must not be empty".into());
    }
    if s.steps.is_empty() {
        return Err(" a scenario needs at least one step".into());
    }
    if s.steps.len() > STEPS_MAX {
        return Err(format!(" at most {STEPS_MAX} steps"));
    }
    settings(s)?;
    for (i, step) in s.steps.iter().enumerate() {
        let actions = [
            step.request.is_some(),
            step.kube.is_some(),
            step.advance_clock.is_some(),
            step.wait_for_operation.is_some(),
            step.fault.is_some(),
            step.operation_scripts.is_some(),
            step.azure_date.is_some(),
            step.create_cluster.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if actions != 1 {
            return Err(format!(
                " step {} ({}) must have exactly one of request, kube, advanceClock, \
                 waitForOperation, fault, operationScripts, azureDate, createCluster; it has \
                 {actions}",
                i + 1,
                step.name.as_deref().unwrap_or("unnamed")
            ));
        }
        if let Some(secs) = step.advance_clock {
            if !secs.is_finite() || secs < 0.0 {
                return Err(format!(" step {}: advanceClock must be ≥ 0", i + 1));
            }
        }
        if let Some(day) = &step.azure_date {
            crate::core::timeline::timeline()
                .check_day(day, "azureDate")
                .map_err(|e| format!(" step {}: {e}", i + 1))?;
        }
    }
    variables(s)
}

fn settings(s: &Scenario) -> Result<(), String> {
    let settings = &s.settings;
    if let Some(day) = &settings.azure_date {
        crate::core::timeline::timeline()
            .check_day(day, "settings.azureDate")
            .map(|_| ())?;
    }
    for (kind, secs) in &settings.operation_durations {
        if !secs.is_finite() || *secs < 0.0 {
            return Err(format!(
                " settings.operationDurations.{kind} must be a number of seconds ≥ 0"
            ));
        }
    }
    let items: Vec<String> = settings
        .operation_durations
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    crate::core::ops::Durations::parse(&items, &crate::core::OP_KINDS)
        .map_err(|e| format!(" settings.operationDurations: {e}"))?;
    if let Some(secs) = settings.registration_seconds {
        if !secs.is_finite() || !(0.0..=crate::limits::REGISTRATION_SECONDS_MAX).contains(&secs) {
            return Err(format!(
                " settings.registrationSeconds must be from 0 to {}",
                crate::limits::REGISTRATION_SECONDS_MAX
            ));
        }
    }
    Ok(())
}

/// Every `{{name}}` must be known where it is used, as the runner will substitute it.
fn variables(s: &Scenario) -> Result<(), String> {
    let mut known: BTreeMap<String, String> = BUILT_IN_VARIABLES
        .iter()
        .map(|v| ((*v).to_owned(), "x".to_owned()))
        .collect();
    // The runner substitutes setup variables in name order, each seeing the ones before it.
    for (name, value) in &s.setup.vars {
        substitute(value, &known).map_err(|e| format!(" setup.vars.{name}: {e}"))?;
        known.insert(name.clone(), "x".to_owned());
    }
    for (i, step) in s.steps.iter().enumerate() {
        let at = |what: &str, e: String| {
            format!(
                " step {} ({}): {e} in {what}",
                i + 1,
                step.name.as_deref().unwrap_or("unnamed")
            )
        };
        for (what, text) in texts(step) {
            substitute(&text, &known).map_err(|e| at(&what, e))?;
        }
        for name in step.capture.keys() {
            known.insert(name.clone(), "x".to_owned());
        }
    }
    Ok(())
}

/// Every text of a step the runner substitutes, with where it is.
fn texts(step: &Step) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut json = |what: &str, value: &Value| strings(what, value, &mut out);
    if let Some(fault) = &step.fault {
        json("fault", fault);
    }
    if let Some(scripts) = &step.operation_scripts {
        json("operationScripts", scripts);
    }
    if let Some(r) = &step.request {
        json("request.path", &Value::String(r.path.clone()));
        for (k, v) in &r.headers {
            json(&format!("request.headers.{k}"), &Value::String(v.clone()));
        }
        if let Some(body) = &r.body {
            json("request.body", body);
        }
    }
    if let Some(k) = &step.kube {
        json("kube.cluster", &Value::String(k.cluster.clone()));
        json("kube.path", &Value::String(k.path.clone()));
        for (name, v) in &k.headers {
            json(&format!("kube.headers.{name}"), &Value::String(v.clone()));
        }
        if let Some(body) = &k.body {
            json("kube.body", body);
        }
    }
    if let Some(c) = &step.create_cluster {
        json(
            "createCluster.resourceGroup",
            &Value::String(c.resource_group.clone()),
        );
        json("createCluster.name", &Value::String(c.name.clone()));
        if let Some(r) = &c.revision {
            json("createCluster.revision", &Value::String(r.clone()));
        }
        if let Some(p) = &c.properties {
            json("createCluster.properties", p);
        }
    }
    if let Some(url) = &step.wait_for_operation {
        json("waitForOperation", &Value::String(url.clone()));
    }
    if let Some(e) = &step.expect {
        for (k, v) in &e.headers {
            json(&format!("expect.headers.{k}"), &Value::String(v.clone()));
        }
        if let Some(body) = &e.body {
            json("expect.body", body);
        }
        for (path, v) in &e.json {
            json(&format!("expect.json.{path}"), v);
        }
        if let Some(m) = e.error.as_ref().and_then(|e| e.message.as_ref()) {
            json("expect.error.message", &Value::String(m.clone()));
        }
    }
    out
}

/// Every string (keys included) of a JSON value, with its place.
fn strings(at: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) => out.push((at.to_owned(), s.clone())),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                strings(&format!("{at}[{i}]"), v, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                out.push((at.to_owned(), k.clone()));
                strings(&format!("{at}.{k}"), v, out);
            }
        }
        _ => {}
    }
}
