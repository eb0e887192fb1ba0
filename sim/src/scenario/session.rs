//! One scenario's line to its target: requests in-process through `aksim::app` (no sockets)
//! or over HTTP(S) to a running server, the `/_sim` calls the runner makes, polling on the
//! virtual clock, and the runner's own bearer token.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Body;
use serde_json::Value;
use tower::ServiceExt;

use crate::state::AppState;

/// Polls a wait step may make before it fails.
pub const WAIT_POLLS_MAX: usize = 500;
/// Host in-process requests are addressed to.
pub(crate) const IN_PROCESS_HOST: &str = "aksim.scenario";
/// The token the runner sends when no valid one is needed (`--auth any`).
pub(crate) const DEFAULT_TOKEN: &str = "aksim-scenario-runner";

/// One HTTP answer, whichever transport produced it.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
    pub fn summary(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let body: String = body.chars().take(600).collect();
        format!("{} {}", self.status, body)
    }
}

/// How a request is sent.
pub(crate) enum Transport {
    /// A fresh simulator of this scenario's own.
    InProcess {
        state: AppState,
        app: crate::http::App,
    },
    /// A running server.
    Remote { client: reqwest::Client },
}

/// A request body.
pub(crate) enum Payload<'a> {
    None,
    Json(&'a Value),
    Form(String),
}

pub(crate) struct Session {
    pub transport: Transport,
    pub base: String,
    /// Whether the target has aksim's control API (in-process: always).
    pub sim: bool,
    pub subscription: String,
    pub vars: BTreeMap<String, String>,
    pub kube_credentials: BTreeMap<String, (String, String)>,
    pub last_request: String,
    /// The bearer token the runner sends when a step names none.
    pub token: String,
    /// Whether `token` came from the target's token endpoint (and can be fetched again).
    pub token_issued: bool,
    /// Fault rules this scenario armed (removed when it ends, on a live aksim).
    pub armed_faults: Vec<String>,
}

impl Session {
    /// The in-process simulator's state, when there is one.
    pub fn state(&self) -> Option<&AppState> {
        match &self.transport {
            Transport::InProcess { state, .. } => Some(state),
            Transport::Remote { .. } => None,
        }
    }

    /// Sends one request; `auth` replaces the runner's `Authorization` header (`Some("")`:
    /// none).
    pub async fn send(
        &mut self,
        method: &str,
        url: &str,
        headers: &BTreeMap<String, String>,
        body: Option<&Value>,
        auth: Option<&str>,
    ) -> Result<Reply, String> {
        let payload = body.map_or(Payload::None, Payload::Json);
        let reply = self.exchange(method, url, headers, &payload, auth).await?;
        // The runner's issued token ran out on the virtual clock: fetch another, once.
        if reply.status == 401
            && auth.is_none()
            && self.token_issued
            && reply.summary().contains("ExpiredAuthenticationToken")
        {
            self.token = self.issue_token().await?;
            return self.exchange(method, url, headers, &payload, auth).await;
        }
        Ok(reply)
    }

    async fn exchange(
        &mut self,
        method: &str,
        url: &str,
        headers: &BTreeMap<String, String>,
        payload: &Payload<'_>,
        auth: Option<&str>,
    ) -> Result<Reply, String> {
        let path = url.strip_prefix(&self.base).unwrap_or(url).to_owned();
        let method_parsed = axum::http::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("'{method}' is not an HTTP method"))?;
        let (bytes, content_type) = match payload {
            Payload::None => (None, None),
            Payload::Json(v) => (
                Some(serde_json::to_vec(v).unwrap_or_default()),
                Some("application/json"),
            ),
            Payload::Form(f) => (
                Some(f.clone().into_bytes()),
                Some("application/x-www-form-urlencoded"),
            ),
        };
        self.last_request = match payload {
            Payload::Json(b) => format!("{method} {path} {b}"),
            _ => format!("{method} {path}"),
        };
        let bearer = auth
            .map(str::to_owned)
            .unwrap_or_else(|| format!("Bearer {}", self.token));
        let named = |name: &str| headers.keys().any(|k| k.eq_ignore_ascii_case(name));
        let mut extra: Vec<(&str, &str)> = Vec::new();
        // `Some("")`: no Authorization header at all (the token endpoint).
        if !named("authorization") && auth != Some("") {
            extra.push(("authorization", &bearer));
        }
        if let (Some(ct), false) = (content_type, named("content-type")) {
            extra.push(("content-type", ct));
        }
        match &self.transport {
            Transport::InProcess { app, .. } => {
                let mut builder = axum::http::Request::builder()
                    .method(method_parsed)
                    .uri(&path)
                    .header("host", IN_PROCESS_HOST);
                for (k, v) in extra.iter().copied() {
                    builder = builder.header(k, v);
                }
                for (k, v) in headers {
                    builder = builder.header(k.as_str(), v.as_str());
                }
                let request = builder
                    .body(bytes.map(Body::from).unwrap_or_else(Body::empty))
                    .map_err(|e| format!("cannot build request {path}: {e}"))?;
                let response = match app.clone().oneshot(request).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                let status = response.status().as_u16();
                let headers = header_pairs(response.headers());
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
            Transport::Remote { client } => {
                let full = if url.starts_with("http://") || url.starts_with("https://") {
                    url.to_owned()
                } else {
                    format!("{}{}", self.base, path)
                };
                let mut request = client.request(method_parsed, &full);
                for (k, v) in extra.iter().copied() {
                    request = request.header(k, v);
                }
                for (k, v) in headers {
                    request = request.header(k.as_str(), v.as_str());
                }
                if let Some(bytes) = bytes {
                    request = request.body(bytes);
                }
                let response = request
                    .send()
                    .await
                    .map_err(|e| format!("{method} {full}: {}", chain(&e)))?;
                let status = response.status().as_u16();
                let headers = header_pairs(response.headers());
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

    /// A `/_sim` call that must succeed.
    pub async fn sim_call(
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

    /// A `/_sim` call whose answer must be JSON.
    pub async fn sim_json(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let reply = self.sim_call(method, path, body).await?;
        reply.json().ok_or_else(|| {
            format!(
                "{method} {path}: the answer is not JSON: {}",
                reply.summary()
            )
        })
    }

    /// A token from the target's token endpoint (client credentials, ARM's scope), for targets
    /// that check tokens (`--auth strict`).
    pub async fn issue_token(&mut self) -> Result<String, String> {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", "11111111-2222-3333-4444-555555555555")
            .append_pair("client_secret", "aksim-scenario-runner")
            .append_pair("scope", "https://management.core.windows.net/.default")
            .finish();
        let reply = self
            .exchange(
                "POST",
                "/adfs/oauth2/token",
                &BTreeMap::new(),
                &Payload::Form(form),
                Some(""),
            )
            .await?;
        reply
            .json()
            .filter(|_| reply.status == 200)
            .and_then(|j| j["access_token"].as_str().map(str::to_owned))
            .ok_or_else(|| format!("getting a token for the runner: {}", reply.summary()))
    }

    pub async fn advance(&mut self, seconds: f64) -> Result<(), String> {
        if let Some(state) = self.state() {
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
    pub async fn poll(
        &mut self,
        url: &str,
        done: impl Fn(&Reply) -> bool,
    ) -> Result<Reply, String> {
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

    /// The requests of this scenario's subscription, for a failure's report: from the
    /// in-process journal, or from a live aksim's `/_sim/journal`.
    pub async fn journal(&mut self) -> Vec<String> {
        let line = |e: &Value| {
            let why = e["errorCode"]
                .as_str()
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            format!(
                "#{} {} {} → {}{why}",
                e["seq"],
                e["method"].as_str().unwrap_or(""),
                e["path"].as_str().unwrap_or(""),
                e["status"]
            )
        };
        if let Some(state) = self.state() {
            let filter = crate::control::journal::Filter::default();
            return state
                .journal
                .query(&filter)
                .iter()
                .filter_map(|e| serde_json::to_value(e).ok())
                .map(|e| line(&e))
                .collect();
        }
        if !self.sim {
            return Vec::new();
        }
        let path = format!("/_sim/journal?subscription={}&limit=50", self.subscription);
        match self.sim_json("GET", &path, None).await {
            Ok(j) => j["value"]
                .as_array()
                .map(|entries| entries.iter().map(line).collect())
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }
}

fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect()
}

/// An error with its causes (`error sending request: operation timed out`).
pub(crate) fn chain(error: &reqwest::Error) -> String {
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
