//! `aksim scenario from-cassette`: a recorded session as a scenario file, so a tool author who
//! recorded once against Azure keeps the result as a regression test.
//!
//! Every request becomes a `request` step expecting the recorded status (and error code), the
//! recorded body as a JSON subset, and the operation headers when the recording had them.
//! Values the normalisation rules treat as generated become placeholders (`{{uuid}}`,
//! `{{now}}`, `{{etag}}`, `{{any}}`), the recorded subscription becomes `{{subscription}}` (a
//! scenario runs in its own), polls collapse into one `waitForOperation` expecting the
//! recorded terminal status, and a recorded transient failure before a retry becomes a
//! one-shot `fault` step. Setup (providers, features, resource groups) comes from `plan`.
//! Account listings (`GET /subscriptions`, `GET /tenants`) are checked by status only.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::parity::cassette::Cassette;
use crate::parity::plan::{is_terminal, request_path, request_path_query, Plan, Role};
use crate::parity::rules::{Rules, Seg};
use crate::scenario::model::{ErrorExpect, Expect, Request, Scenario, Setup, Step, STEPS_MAX};

/// Request headers a converted step keeps (the rest are the client's own business).
const KEPT_HEADERS: [&str; 4] = [
    "akshttpcustomfeatures",
    "if-match",
    "if-none-match",
    "content-type",
];

/// Converts a cassette; the result validates as a scenario.
pub fn from_cassette(cassette: &Cassette, rules: &Rules) -> Result<Scenario, String> {
    let plan = Plan::derive(cassette);
    let sub = plan.subscription.clone();
    let catalog = crate::core::resource_types::Catalog::embedded();
    let features = crate::core::registration::features::FeatureCatalog::load(None)?;
    // The scenario runs against the AKS of the day it was recorded (within aksim's data).
    let t = crate::core::timeline::timeline();
    let recorded_day = plan
        .start()
        .map(|d| d.date().clamp(t.first_day(), t.newest_day()));
    let plan_day = recorded_day.unwrap_or(t.newest_day());
    let mut setup = Setup {
        register_providers: plan
            .providers
            .iter()
            .filter(|p| catalog.provider(p).is_some())
            .cloned()
            .collect(),
        register_features: plan
            .features
            .iter()
            .filter(|f| {
                f.split_once('/')
                    .and_then(|(ns, n)| features.find(ns, n, plan_day))
                    .is_some_and(|spec| !spec.retired)
            })
            .cloned()
            .collect(),
        ..Setup::default()
    };
    let mut steps = Vec::new();
    for group in &plan.groups {
        match &group.tags {
            None => {
                setup
                    .resource_groups
                    .insert(group.name.clone(), group.location.clone());
            }
            Some(tags) => steps.push(Step {
                name: Some(format!("resource group {} (made outside the recording)", group.name)),
                request: Some(Request {
                    method: "PUT".into(),
                    path: format!(
                        "/subscriptions/{{{{subscription}}}}/resourcegroups/{}?api-version=2021-04-01",
                        group.name
                    ),
                    body: Some(serde_json::json!({"location": group.location, "tags": tags})),
                    ..Request::default()
                }),
                ..Step::default()
            }),
        }
    }
    for (i, it) in cassette.interactions.iter().enumerate() {
        let command = it
            .request
            .headers
            .get("CommandName")
            .map(|c| format!(" [az {c}]"))
            .unwrap_or_default();
        let path = request_path(it);
        let name = format!("#{i}{command} {} {}", it.request.method, short(path));
        let recorded_body: Option<Value> = serde_json::from_str(&it.response.body.string).ok();
        if let Role::Poll { started_by, header } = &plan.roles[i] {
            if !is_terminal(it.response.status.code, recorded_body.as_ref()) {
                continue;
            }
            let first_terminal = !cassette.interactions[..i].iter().enumerate().any(|(j, p)| {
                matches!(&plan.roles[j], Role::Poll { started_by: s, .. } if s == started_by)
                    && is_terminal(
                        p.response.status.code,
                        serde_json::from_str::<Value>(&p.response.body.string)
                            .ok()
                            .as_ref(),
                    )
            });
            if !first_terminal {
                continue;
            }
            let mut json = BTreeMap::new();
            if let Some(status) = recorded_body.as_ref().and_then(|b| b.get("status")) {
                json.insert("$.status".to_owned(), status.clone());
            }
            steps.push(Step {
                name: Some(format!(
                    "{name} (operation of #{started_by}, polled until it ends)"
                )),
                wait_for_operation: Some(format!("{{{{op{started_by}_{}}}}}", var_suffix(header))),
                expect: Some(Expect {
                    status: Some(it.response.status.code),
                    json,
                    ..Expect::default()
                }),
                ..Step::default()
            });
            continue;
        }
        if plan.faults.contains(&i) {
            let mut action =
                serde_json::json!({"type": "error", "status": it.response.status.code});
            if let Some((code, message)) = recorded_body.as_ref().and_then(error_of) {
                action["code"] = Value::String(code);
                action["message"] = Value::String(message);
            }
            steps.push(Step {
                name: Some(format!(
                    "{name}: Azure answered {} here once",
                    it.response.status.code
                )),
                fault: Some(serde_json::json!({
                    "method": it.request.method,
                    "path": subscription_var(path, &sub),
                    "times": 1,
                    "action": action,
                })),
                ..Step::default()
            });
        }
        let body = match it.request.body.as_deref().filter(|b| !b.trim().is_empty()) {
            None => None,
            Some(text) => {
                let json: Value = serde_json::from_str(text).map_err(|e| {
                    format!("{}: exchange #{i}: the request body is not JSON ({e}); a scenario cannot send it", cassette.locate(i))
                })?;
                Some(request_json(&json, &sub).ok_or_else(|| {
                    format!("{}: exchange #{i}: the request body holds `{{{{`, which scenarios read as a placeholder", cassette.locate(i))
                })?)
            }
        };
        let mut headers = BTreeMap::new();
        for (k, values) in &it.request.headers.0 {
            if KEPT_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                if let Some(v) = values.first().filter(|v| !v.contains("{{")) {
                    headers.insert(k.clone(), v.clone());
                }
            }
        }
        let mut expect = Expect {
            status: Some(it.response.status.code),
            ..Expect::default()
        };
        let listing = it.request.method == "GET"
            && ["/subscriptions", "/tenants"]
                .contains(&path.to_ascii_lowercase().trim_end_matches('/'));
        if !listing {
            match recorded_body.as_ref() {
                Some(b) if error_of(b).is_some() => {
                    expect.error = error_of(b).map(|(code, _)| ErrorExpect {
                        code,
                        ..ErrorExpect::default()
                    });
                }
                Some(b) => {
                    let mut segs = Vec::new();
                    expect.body = Some(expected(b, rules, path, &sub, &mut segs));
                }
                None => {}
            }
            for h in ["azure-asyncoperation", "location"] {
                if it.response.headers.contains(h) && (200..300).contains(&it.response.status.code)
                {
                    expect.headers.insert(h.to_owned(), "{{any}}".to_owned());
                }
            }
        }
        let mut capture = BTreeMap::new();
        if let Some(op) = plan.operations.get(&i) {
            for (header, _) in &op.urls {
                capture.insert(
                    format!("op{i}_{}", var_suffix(header)),
                    format!("header:{header}"),
                );
            }
        }
        steps.push(Step {
            name: Some(name),
            request: Some(Request {
                method: it.request.method.clone(),
                path: subscription_var(request_path_query(it), &sub),
                headers,
                body,
                ..Request::default()
            }),
            expect: Some(expect),
            capture,
            ..Step::default()
        });
    }
    if steps.is_empty() {
        return Err(format!(
            "{}: no interactions to convert",
            cassette.path.display()
        ));
    }
    if steps.len() > STEPS_MAX {
        return Err(format!(
            "{}: {} steps; a scenario may have at most {STEPS_MAX}",
            cassette.path.display(),
            steps.len()
        ));
    }
    let stem = cassette
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cassette".into());
    Ok(Scenario {
        name: format!("recorded: {stem}"),
        description: format!(
            "Converted by `aksim scenario from-cassette` from {} ({} interactions{}).",
            cassette.name(),
            cassette.interactions.len(),
            plan.start()
                .map(|d| format!(", recorded {}", d.date()))
                .unwrap_or_default()
        ),
        tags: vec!["recorded".into()],
        settings: crate::scenario::model::Settings {
            azure_date: recorded_day.map(crate::core::timeline::day_string),
            ..Default::default()
        },
        setup,
        steps,
    })
}

fn var_suffix(header: &str) -> &'static str {
    if header.eq_ignore_ascii_case("location") {
        "location"
    } else {
        "async"
    }
}

fn short(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let tail = segs.len().saturating_sub(2);
    format!("…/{}", segs[tail..].join("/"))
}

fn error_of(body: &Value) -> Option<(String, String)> {
    let e = body.get("error")?;
    Some((
        e.get("code")?.as_str()?.to_owned(),
        e.get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    ))
}

fn subscription_var(text: &str, sub: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(sub) {
        out.push_str(&text[last..at]);
        out.push_str("{{subscription}}");
        last = at + sub.len();
    }
    out.push_str(&text[last..]);
    out
}

/// A request body with the subscription as `{{subscription}}`; `None` if it holds `{{`.
fn request_json(v: &Value, sub: &str) -> Option<Value> {
    Some(match v {
        Value::String(s) if s.contains("{{") => return None,
        Value::String(s) => Value::String(subscription_var(s, sub)),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| request_json(x, sub))
                .collect::<Option<_>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if k.contains("{{") {
                    return None;
                }
                out.insert(k.clone(), request_json(x, sub)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// The recorded body as an expected subset: generated values as placeholders.
fn expected(v: &Value, rules: &Rules, request: &str, sub: &str, path: &mut Vec<Seg>) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if k.contains("{{") {
                    continue;
                }
                path.push(Seg::Key(k.clone()));
                out.insert(k.clone(), expected(x, rules, request, sub, path));
                path.pop();
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| {
                    path.push(Seg::Index(i));
                    let e = expected(x, rules, request, sub, path);
                    path.pop();
                    e
                })
                .collect(),
        ),
        leaf => {
            let placeholder = |shape: &str| {
                Value::String(
                    match shape {
                        "guid" => "{{uuid}}",
                        "timestamp" => "{{now}}",
                        "nonEmpty" => "{{etag}}",
                        _ => "{{any}}",
                    }
                    .to_owned(),
                )
            };
            if let Some(rule) = rules.field(request, path) {
                if rule.shape.accepts(leaf) {
                    return placeholder(&rule.shape.name);
                }
            }
            if let Some(s) = rules.sanitised(leaf) {
                return placeholder(&s.shape.name);
            }
            match leaf {
                Value::String(s) => {
                    let text = subscription_var(s, sub);
                    if text.contains("{{") && !s.to_ascii_lowercase().contains(sub) {
                        return Value::String("{{any}}".into());
                    }
                    let bare = text.replace("{{subscription}}", "");
                    if rules.mask(&bare) != bare || bare.contains("{{") {
                        return Value::String("{{any}}".into());
                    }
                    Value::String(text)
                }
                other => other.clone(),
            }
        }
    }
}
