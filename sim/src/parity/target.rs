//! Where a cassette replays: a fresh in-process aksim (the default) or a running server
//! (`--target`). A [`Session`] hides the difference: it sends the recorded requests, sets the
//! simulator up from the [`Plan`], moves the virtual clock, times operations and injects
//! recorded transient failures — all through the `/_sim` control API, so a remote aksim gets
//! exactly what the in-process one gets — and restores what it changed on a shared target.
//!
//! The recording's date reaches the simulator in one place, [`configure_for_date`].

use std::time::Duration;

use axum::body::Body;
use serde_json::{json, Value};
use time::OffsetDateTime;
use tower::ServiceExt;

use crate::parity::cassette::Headers;
use crate::parity::compare::Reply;
use crate::parity::plan::Plan;
use crate::state::AppState;

/// The origin recorded URIs and answers use.
pub const RECORDED_ORIGIN: &str = "https://management.azure.com";
/// Host the in-process requests are addressed to (so aksim's URLs carry the recorded origin).
const IN_PROCESS_HOST: &str = "management.azure.com";
/// api-version of the replay's own resource-group writes.
const GROUPS_API: &str = "2021-04-01";
/// Request headers never forwarded from a recording.
const HOP_HEADERS: [&str; 10] = [
    "host",
    "content-length",
    "connection",
    "accept-encoding",
    "authorization",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
    "te",
    "proxy-authorization",
];

/// Where cassettes replay.
#[derive(Clone)]
pub enum Target {
    /// A fresh in-process aksim per cassette, built from this config.
    InProcess(Box<crate::config::Config>),
    /// A running server (an aksim or anything ARM-compatible).
    Remote {
        base: String,
        client: reqwest::Client,
        token: String,
    },
}

/// The default target: a fresh in-process aksim per cassette.
pub fn in_process() -> Target {
    Target::InProcess(Box::new(crate::config::Config::for_tests()))
}

/// A `--target` client that trusts `ca` (PEM).
pub fn remote(
    base: &str,
    ca: Option<&std::path::Path>,
    token: Option<String>,
) -> Result<Target, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{}: {e}", ca.display()))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    Ok(Target::Remote {
        base: base.trim_end_matches('/').to_owned(),
        client: builder.build().map_err(|e| e.to_string())?,
        token: token.unwrap_or_else(|| "aksim-parity".to_owned()),
    })
}

/// Whether the simulator was given the recording's AKS date (`--azure-date`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AzureDate {
    /// The AKS of that day answers (`--azure-date`).
    Applied(String),
    /// The recording predates aksim's data: the AKS of the data's first day answers.
    Clamped { recorded: String, used: String },
    /// The cassette has no `Date` headers.
    Unknown,
}

/// The date a cassette replays at, as set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateSetting {
    /// `YYYY-MM-DD` of the first response `Date`.
    pub day: Option<String>,
    /// The virtual clock's start (RFC 3339), in-process.
    pub clock_start: Option<String>,
    pub azure_date: AzureDate,
}

/// The one place a cassette's recorded date configures the in-process simulator: the
/// virtual clock starts (frozen) at the first response's `Date`, and the AKS date hook gets
/// the day.
pub fn configure_for_date(
    config: &mut crate::config::Config,
    start: Option<OffsetDateTime>,
) -> DateSetting {
    config.clock_frozen = true;
    let Some(start) = start else {
        return DateSetting {
            day: None,
            clock_start: None,
            azure_date: AzureDate::Unknown,
        };
    };
    let clock_start = crate::clock::rfc3339_seconds(start);
    config.clock_start = Some(clock_start.clone());
    let day = start.date().to_string();
    DateSetting {
        azure_date: azure_date_hook(config, &day),
        day: Some(day),
        clock_start: Some(clock_start),
    }
}

/// The day the AKS answers as for a recording made on `day`: that day, or the nearest day
/// aksim's data describes.
fn azure_date_for(day: &str) -> (String, AzureDate) {
    let t = crate::core::timeline::timeline();
    let Some(d) = crate::core::timeline::parse_day(day) else {
        return (String::new(), AzureDate::Unknown);
    };
    let used = d.clamp(t.first_day(), t.newest_day());
    let used_text = crate::core::timeline::day_string(used);
    let setting = if used == d {
        AzureDate::Applied(used_text.clone())
    } else {
        AzureDate::Clamped {
            recorded: day.to_owned(),
            used: used_text.clone(),
        }
    };
    (used_text, setting)
}

/// The recorded day reaches the in-process simulator as its `--azure-date`.
fn azure_date_hook(config: &mut crate::config::Config, day: &str) -> AzureDate {
    let (used, setting) = azure_date_for(day);
    if !used.is_empty() {
        config.azure_date = Some(used);
    }
    setting
}

/// On a remote aksim the recorded day goes into the sandbox preset (`azureDate`).
fn sandbox_date_hook(preset: &mut Value, day: Option<&str>) -> AzureDate {
    let Some(day) = day else {
        return AzureDate::Unknown;
    };
    let (used, setting) = azure_date_for(day);
    if !used.is_empty() {
        preset["azureDate"] = used.into();
    }
    setting
}

/// One cassette's connection to its simulator.
pub struct Session {
    state: Option<AppState>,
    app: Option<crate::http::App>,
    remote: Option<(String, reqwest::Client, String)>,
    /// Whether the target has `/_sim` (in-process: always).
    pub sim: bool,
    /// Recorded text → the target's (subscription, origin); reversed on answers.
    subs: Vec<(String, String)>,
    recorded_now: Option<OffsetDateTime>,
    durations: Option<f64>,
    saved_durations: Option<Value>,
    unfreeze: bool,
    faults: Vec<String>,
    sandbox: Option<String>,
    pub date: DateSetting,
    /// What setup could not do, for the report.
    pub notes: Vec<String>,
}

impl Session {
    /// Connects (or builds the in-process simulator) and applies the plan's setup.
    pub async fn open(target: &Target, plan: &Plan) -> Result<Session, String> {
        let start = plan.start();
        let mut session = match target {
            Target::InProcess(config) => {
                let mut config = (**config).clone();
                config.subscription = plan.subscription.clone();
                config.http = false;
                config.op_durations = vec!["default=0".to_owned()];
                config.registration_seconds = 0.0;
                config.auto_register_providers = false;
                let date = configure_for_date(&mut config, start);
                let state = AppState::new(config, crate::identity::TokenIssuer::ephemeral(), None)?;
                Session {
                    app: Some(crate::http::app(state.clone())),
                    state: Some(state),
                    remote: None,
                    sim: true,
                    subs: Vec::new(),
                    recorded_now: start,
                    durations: None,
                    saved_durations: None,
                    unfreeze: false,
                    faults: Vec::new(),
                    sandbox: None,
                    date,
                    notes: Vec::new(),
                }
            }
            Target::Remote {
                base,
                client,
                token,
            } => {
                let sim = client
                    .get(format!("{base}/_sim/health"))
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                let mut subs = Vec::new();
                if base != RECORDED_ORIGIN {
                    subs.push((RECORDED_ORIGIN.to_owned(), base.clone()));
                }
                let mut session = Session {
                    app: None,
                    state: None,
                    remote: Some((base.clone(), client.clone(), token.clone())),
                    sim,
                    subs,
                    recorded_now: start,
                    durations: None,
                    saved_durations: None,
                    unfreeze: false,
                    faults: Vec::new(),
                    sandbox: None,
                    date: DateSetting {
                        day: start.map(|s| s.date().to_string()),
                        clock_start: None,
                        azure_date: AzureDate::Unknown,
                    },
                    notes: Vec::new(),
                };
                if !sim {
                    session.notes.push(
                        "the target has no /_sim: no setup, no clock, no operation timing; the \
                         recorded subscription is used as it is"
                            .into(),
                    );
                }
                session
            }
        };
        if session.sim {
            session.setup(plan).await?;
        }
        Ok(session)
    }

    async fn setup(&mut self, plan: &Plan) -> Result<(), String> {
        let mut subscription = plan.subscription.clone();
        if self.remote.is_some() {
            self.saved_durations = self
                .control("GET", "/_sim/operations/durations", None)
                .await?
                .json();
            let clock = self.control("GET", "/_sim/clock", None).await?.json();
            if clock.as_ref().and_then(|c| c["frozen"].as_bool()) == Some(false) {
                self.control("POST", "/_sim/clock/freeze", None).await?;
                self.unfreeze = true;
            }
            subscription = uuid::Uuid::new_v4().hyphenated().to_string();
            self.subs
                .push((plan.subscription.clone(), subscription.clone()));
            self.sandbox = Some(subscription.clone());
        }
        let mut features = plan.features.clone();
        let mut providers = plan.providers.clone();
        for _ in 0..=features.len() + providers.len() {
            let mut preset = json!({
                "subscriptionId": subscription,
                "features": features,
                "providers": providers,
            });
            if self.remote.is_some() {
                self.date.azure_date = sandbox_date_hook(&mut preset, self.date.day.as_deref());
            }
            let reply = self
                .control_raw("POST", "/_sim/sandboxes", Some(&preset))
                .await?;
            if reply.status < 300 {
                break;
            }
            let message = reply.error().map(|(_, m)| m).unwrap_or_default();
            let unknown = message.split('\'').nth(1).unwrap_or("").to_owned();
            let before = features.len() + providers.len();
            features.retain(|f| !f.eq_ignore_ascii_case(&unknown));
            providers.retain(|p| !p.eq_ignore_ascii_case(&unknown));
            if features.len() + providers.len() == before {
                return Err(format!("setting up the subscription: {message}"));
            }
            self.notes.push(format!(
                "setup: '{unknown}' is unknown to aksim, not registered"
            ));
        }
        for group in &plan.groups {
            let mut body = json!({ "location": group.location });
            if let Some(tags) = &group.tags {
                body["tags"] = tags.clone();
            }
            let path = format!(
                "/subscriptions/{}/resourcegroups/{}?api-version={GROUPS_API}",
                plan.subscription, group.name
            );
            let body = body.to_string();
            let reply = self
                .send("PUT", &path, &Headers::default(), Some(&body))
                .await?;
            if reply.status >= 300 {
                self.notes.push(format!(
                    "setup: resource group '{}' in '{}' was refused: {} {}",
                    group.name,
                    group.location,
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                ));
            }
        }
        Ok(())
    }

    /// Sends a recorded request (recorded text mapped to the target's) and maps the answer back.
    pub async fn send(
        &self,
        method: &str,
        path_query: &str,
        headers: &Headers,
        body: Option<&str>,
    ) -> Result<Reply, String> {
        self.exchange(method, path_query, headers, body, true).await
    }

    /// One exchange; `map`: translate recorded text to the target's and back (control calls
    /// carry none).
    async fn exchange(
        &self,
        method: &str,
        path_query: &str,
        headers: &Headers,
        body: Option<&str>,
        map: bool,
    ) -> Result<Reply, String> {
        let map = map && !self.subs.is_empty();
        let path_query = if map {
            self.to_target(path_query)
        } else {
            path_query.to_owned()
        };
        let body = body.map(|b| if map { self.to_target(b) } else { b.to_owned() });
        let method = axum::http::Method::from_bytes(method.as_bytes())
            .map_err(|_| format!("'{method}' is not an HTTP method"))?;
        let forwarded = headers
            .0
            .iter()
            .filter(|(k, _)| !HOP_HEADERS.iter().any(|h| k.eq_ignore_ascii_case(h)))
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.as_str(), v.as_str())))
            .filter(|(k, v)| {
                axum::http::HeaderName::from_bytes(k.as_bytes()).is_ok()
                    && axum::http::HeaderValue::from_str(v).is_ok()
            });
        let mut reply = if let Some(app) = &self.app {
            let mut builder = axum::http::Request::builder()
                .method(method)
                .uri(&path_query)
                .header("host", IN_PROCESS_HOST)
                .header("authorization", "Bearer aksim-parity");
            for (k, v) in forwarded {
                builder = builder.header(k, v);
            }
            let request = builder
                .body(body.map(Body::from).unwrap_or_else(Body::empty))
                .map_err(|e| format!("cannot build the request {path_query}: {e}"))?;
            let response = match app.clone().oneshot(request).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect();
            let body = axum::body::to_bytes(response.into_body(), 256 * 1024 * 1024)
                .await
                .map_err(|e| format!("reading the answer to {path_query}: {e}"))?
                .to_vec();
            Reply {
                status,
                headers,
                body,
            }
        } else if let Some((base, client, token)) = &self.remote {
            let url = format!("{base}{path_query}");
            let mut request = client
                .request(method, &url)
                .header("authorization", format!("Bearer {token}"));
            for (k, v) in forwarded {
                request = request.header(k, v);
            }
            if let Some(body) = body {
                request = request.body(body);
            }
            let response = request
                .send()
                .await
                .map_err(|e| format!("{url}: {}", crate::parity::error_chain(&e)))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect();
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("reading {url}: {e}"))?
                .to_vec();
            Reply {
                status,
                headers,
                body,
            }
        } else {
            return Err("the session has no target".into());
        };
        if map {
            for (_, v) in reply.headers.iter_mut() {
                *v = self.to_recorded(v);
            }
            if let Ok(text) = std::str::from_utf8(&reply.body) {
                reply.body = self.to_recorded(text).into_bytes();
            }
        }
        Ok(reply)
    }

    fn to_target(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (recorded, actual) in &self.subs {
            out = replace_ignoring_case(&out, recorded, actual);
        }
        out
    }

    fn to_recorded(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (recorded, actual) in &self.subs {
            out = replace_ignoring_case(&out, actual, recorded);
        }
        out
    }

    async fn control_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let mut headers = Headers::default();
        if body.is_some() {
            headers.push("content-type", "application/json");
        }
        let body = body.map(Value::to_string);
        self.exchange(method, path, &headers, body.as_deref(), false)
            .await
    }

    async fn control(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        let reply = self.control_raw(method, path, body).await?;
        if reply.status >= 300 {
            return Err(format!(
                "{method} {path} was refused: {} {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
        Ok(reply)
    }

    /// Moves the virtual clock to the recorded instant `at` (never back).
    pub async fn advance_to(&mut self, at: Option<OffsetDateTime>) -> Result<(), String> {
        let (Some(at), true) = (at, self.sim) else {
            return Ok(());
        };
        let secs = match self.recorded_now {
            Some(now) if at > now => (at - now).as_seconds_f64(),
            Some(_) => return Ok(()),
            None => 0.0,
        };
        self.recorded_now = Some(at);
        if secs > 0.0 {
            self.advance(secs).await?;
        }
        Ok(())
    }

    /// Moves the virtual clock forward (polls aksim answers sooner than Azure did).
    pub async fn advance(&self, secs: f64) -> Result<(), String> {
        if let Some(state) = &self.state {
            state.core.clock.advance(time::Duration::seconds_f64(secs));
            return Ok(());
        }
        if self.sim {
            self.control(
                "POST",
                "/_sim/clock/advance",
                Some(&json!({ "seconds": secs })),
            )
            .await?;
        } else {
            tokio::time::sleep(Duration::from_secs_f64(secs.min(60.0))).await;
        }
        Ok(())
    }

    /// Makes the next operations take `secs` virtual seconds (every kind alike).
    pub async fn set_durations(&mut self, secs: f64) -> Result<(), String> {
        if !self.sim || self.durations == Some(secs) {
            return Ok(());
        }
        let mut body = json!({ "default": secs });
        for kind in &crate::core::OP_KINDS {
            body[kind.name()] = json!(secs);
        }
        self.control("PUT", "/_sim/operations/durations", Some(&body))
            .await?;
        self.durations = Some(secs);
        Ok(())
    }

    /// Arms a one-shot fault that answers the next `method path` with the recorded error.
    pub async fn inject_fault(
        &mut self,
        method: &str,
        path: &str,
        status: u16,
        error: Option<(String, String)>,
    ) -> Result<bool, String> {
        if !self.sim {
            return Ok(false);
        }
        let mut action = json!({ "type": "error", "status": status });
        if let Some((code, message)) = error {
            action["code"] = json!(code);
            action["message"] = json!(message);
        }
        let mut rule = json!({
            "method": method,
            "path": self.to_target(path.split('?').next().unwrap_or(path)),
            "times": 1,
            "action": action,
        });
        if let Some(sub) = &self.sandbox {
            rule["subscription"] = json!(sub);
        }
        let reply = self.control("POST", "/_sim/faults", Some(&rule)).await?;
        if let Some(id) = reply
            .json()
            .and_then(|j| j["id"].as_str().map(str::to_owned))
        {
            self.faults.push(id);
        }
        Ok(true)
    }

    /// Restores what the replay changed on a shared target (nothing to do in-process).
    pub async fn close(mut self) {
        if self.remote.is_none() || !self.sim {
            return;
        }
        for id in std::mem::take(&mut self.faults) {
            let _ = self
                .control_raw("DELETE", &format!("/_sim/faults/{id}"), None)
                .await;
        }
        if let Some(saved) = self.saved_durations.take() {
            let _ = self
                .control_raw("PUT", "/_sim/operations/durations", Some(&saved))
                .await;
        }
        if self.unfreeze {
            let _ = self.control_raw("POST", "/_sim/clock/unfreeze", None).await;
        }
        if let Some(sub) = self.sandbox.take() {
            let _ = self
                .control_raw("POST", &format!("/_sim/reset/{sub}"), None)
                .await;
        }
    }
}

/// `text` with every occurrence of `from` (ignoring ASCII case) replaced by `to`.
fn replace_ignoring_case(text: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        return text.to_owned();
    }
    let lower = text.to_ascii_lowercase();
    let needle = from.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(&needle) {
        out.push_str(&text[last..at]);
        out.push_str(to);
        last = at + from.len();
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_ignoring_case() {
        assert_eq!(
            replace_ignoring_case("/Subscriptions/ABC/x/abc", "abc", "d"),
            "/Subscriptions/d/x/d"
        );
        assert_eq!(replace_ignoring_case("x", "", "d"), "x");
    }

    #[test]
    fn the_date_configures_the_clock() {
        let mut config = crate::config::Config::for_tests();
        let at = crate::clock::parse_rfc3339("2024-07-03T07:13:27Z");
        let d = configure_for_date(&mut config, at);
        assert_eq!(d.day.as_deref(), Some("2024-07-03"));
        assert_eq!(config.clock_start.as_deref(), Some("2024-07-03T07:13:27Z"));
        assert!(config.clock_frozen);
        assert_eq!(d.azure_date, AzureDate::Applied("2024-07-03".into()));
        assert_eq!(config.azure_date.as_deref(), Some("2024-07-03"));
        let at = crate::clock::parse_rfc3339("2022-05-27T01:00:00Z");
        let d = configure_for_date(&mut config, at);
        assert_eq!(
            d.azure_date,
            AzureDate::Clamped {
                recorded: "2022-05-27".into(),
                used: "2023-04-16".into()
            }
        );
        let d = configure_for_date(&mut config, None);
        assert_eq!(d.azure_date, AzureDate::Unknown);
    }
}
