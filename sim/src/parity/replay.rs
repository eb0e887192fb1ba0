//! Replaying one cassette: each recorded request in order, at its recorded time, against a
//! [`Session`], and each answer compared with the recorded one.
//!
//! Polls are matched by operation, not by index: a poll of a recorded operation goes to the
//! URL aksim gave for the same request. aksim's operations are timed from the recording (see
//! `plan`), so in-process every recorded in-progress poll meets an in-progress answer and the
//! terminal poll the terminal one. Where aksim still runs when the recording has finished,
//! the replay polls on (moving the clock by `Retry-After`) and compares the terminal answer;
//! where aksim finished sooner (a target that is not an aksim), the recorded in-progress poll
//! is `collapsed`: not compared and not counted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::parity::cassette::Cassette;
use crate::parity::compare::{compare, Difference, Kind, Reply};
use crate::parity::plan::{is_terminal, request_path, request_path_query, Plan, Role};
use crate::parity::rules::Rules;
use crate::parity::target::{AzureDate, Session, Target};

/// Extra polls the replay makes when aksim is still running where the recording finished.
pub const EXTRA_POLLS_MAX: usize = 200;

/// How one exchange was replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Replayed {
    /// Sent and compared.
    Compared,
    /// A recorded in-progress poll after aksim had already finished the operation.
    Collapsed,
    /// A recorded transient failure, answered by an injected one-shot fault (compared, not
    /// counted).
    InjectedFault,
    /// Could not be sent (transport error).
    Failed,
}

/// One exchange's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeResult {
    /// 0-based position in the cassette.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub method: String,
    /// The recorded path and query (long query values cut).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub recorded_status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_status: Option<u16>,
    pub replayed: Replayed,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ExchangeResult {
    /// Counted in the figure (not collapsed, not an injected fault).
    pub fn counted(&self) -> bool {
        matches!(self.replayed, Replayed::Compared | Replayed::Failed)
    }

    /// No difference at all.
    pub fn identical(&self) -> bool {
        self.differences.is_empty() && self.error.is_none()
    }

    /// No difference except accepted ones.
    pub fn equal(&self) -> bool {
        self.error.is_none() && self.differences.iter().all(|d| d.accepted.is_some())
    }
}

/// One cassette's result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CassetteResult {
    pub name: String,
    pub path: String,
    /// `YYYY-MM-DD` the cassette replayed at (its first response `Date`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Whether aksim's dated behaviour (`--azure-date`) was set to that date.
    pub azure_date: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub exchanges: Vec<ExchangeResult>,
    /// Why the cassette could not be replayed at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub duration: Duration,
}

impl CassetteResult {
    pub fn counted(&self) -> usize {
        self.exchanges.iter().filter(|e| e.counted()).count()
    }
    pub fn equal(&self) -> usize {
        self.exchanges
            .iter()
            .filter(|e| e.counted() && e.equal())
            .count()
    }
    pub fn identical(&self) -> usize {
        self.exchanges
            .iter()
            .filter(|e| e.counted() && e.identical())
            .count()
    }
    /// Differences no `--ignore` entry accepts.
    pub fn new_differences(&self) -> usize {
        self.exchanges
            .iter()
            .filter(|e| e.counted())
            .map(|e| {
                e.differences
                    .iter()
                    .filter(|d| d.accepted.is_none())
                    .count()
                    + usize::from(e.error.is_some())
            })
            .sum()
    }
    /// The first exchange with a new difference.
    pub fn first_difference(&self) -> Option<&ExchangeResult> {
        self.exchanges.iter().find(|e| e.counted() && !e.equal())
    }
}

fn show_path_query(pq: &str) -> String {
    let (path, query) = pq.split_once('?').unwrap_or((pq, ""));
    if query.is_empty() {
        return path.to_owned();
    }
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, v)) if v.len() > 24 => format!("{k}=…"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

fn azure_date_text(a: &AzureDate) -> String {
    match a {
        AzureDate::Applied(day) => format!("applied ({day})"),
        AzureDate::Clamped { recorded, used } => {
            format!("recorded {recorded}, before aksim's AKS data: the AKS of {used} answered")
        }
        AzureDate::Unknown => "unknown: the cassette has no Date headers".into(),
    }
}

/// Replays one cassette on a fresh session of `target`.
pub async fn replay(cassette: &Cassette, target: &Target, rules: &Rules) -> CassetteResult {
    let started = Instant::now();
    let plan = Plan::derive(cassette);
    let mut result = CassetteResult {
        name: cassette.name(),
        path: cassette.path.display().to_string(),
        date: plan.start().map(|d| d.date().to_string()),
        azure_date: azure_date_text(&AzureDate::Unknown),
        notes: Vec::new(),
        exchanges: Vec::new(),
        error: None,
        duration: Duration::ZERO,
    };
    let mut session = match Session::open(target, &plan).await {
        Ok(s) => s,
        Err(e) => {
            result.error = Some(e);
            result.duration = started.elapsed();
            return result;
        }
    };
    result.azure_date = azure_date_text(&session.date.azure_date);
    let mut run = Run {
        session: &mut session,
        plan: &plan,
        rules,
        cassette,
        mapped: BTreeMap::new(),
        refused: Vec::new(),
    };
    for i in 0..cassette.interactions.len() {
        let exchange = run.exchange(i).await;
        result.exchanges.push(exchange);
    }
    result.notes = std::mem::take(&mut session.notes);
    session.close().await;
    result.duration = started.elapsed();
    result
}

struct Run<'a> {
    session: &'a mut Session,
    plan: &'a Plan,
    rules: &'a Rules,
    cassette: &'a Cassette,
    /// (starting interaction, header) → aksim's operation URL (path and query).
    mapped: BTreeMap<(usize, String), String>,
    /// Resource paths (lower case) of writes aksim refused where Azure accepted them, with
    /// the interaction: later differences on them are follow-ons.
    refused: Vec<(String, usize)>,
}

impl Run<'_> {
    async fn exchange(&mut self, i: usize) -> ExchangeResult {
        let it = &self.cassette.interactions[i];
        let mut out = ExchangeResult {
            index: i,
            line: self.cassette.lines.get(i).copied().flatten(),
            method: it.request.method.clone(),
            path: show_path_query(request_path_query(it)),
            command: it.request.headers.get("CommandName").map(str::to_owned),
            recorded_status: it.response.status.code,
            actual_status: None,
            replayed: Replayed::Compared,
            differences: Vec::new(),
            error: None,
        };
        let answer = match self.plan.roles[i].clone() {
            Role::Poll { started_by, header } => self.poll(i, started_by, &header, &mut out).await,
            Role::Plain => self.plain(i, &mut out).await,
        };
        match answer {
            Ok(Some(reply)) => {
                out.actual_status = Some(reply.status);
                let mut diffs = compare(self.rules, request_path(it), &it.response, &reply);
                self.follow_on(i, &mut diffs);
                out.differences.extend(diffs);
            }
            Ok(None) => {}
            Err(e) => {
                out.replayed = Replayed::Failed;
                out.error = Some(e);
            }
        }
        out
    }

    async fn plain(&mut self, i: usize, out: &mut ExchangeResult) -> Result<Option<Reply>, String> {
        let it = &self.cassette.interactions[i];
        self.session.advance_to(self.plan.times[i]).await?;
        if self.plan.faults.contains(&i) {
            let error = serde_json::from_str::<serde_json::Value>(&it.response.body.string)
                .ok()
                .and_then(|b| {
                    let e = b.get("error")?;
                    Some((
                        e.get("code")?.as_str()?.to_owned(),
                        e.get("message")?.as_str()?.to_owned(),
                    ))
                });
            let path = request_path(it).to_owned();
            if self
                .session
                .inject_fault(&it.request.method, &path, it.response.status.code, error)
                .await?
            {
                out.replayed = Replayed::InjectedFault;
            }
        }
        let op = self.plan.operations.get(&i);
        if let Some(op) = op {
            self.session.set_durations(op.duration_secs).await?;
        }
        let reply = self
            .session
            .send(
                &it.request.method,
                request_path_query(it),
                &it.request.headers,
                it.request.body.as_deref(),
            )
            .await?;
        if op.is_some() {
            // Operations the recording does not have end at once.
            self.session.set_durations(0.0).await?;
        }
        if let Some(op) = op {
            for (header, _) in &op.urls {
                if let Some(url) = reply.header(header) {
                    let pq = crate::parity::cassette::split_uri(url)
                        .map_or(url, |(_, p)| p)
                        .to_owned();
                    self.mapped.insert((i, header.clone()), pq);
                }
            }
        }
        let accepted = (200..300).contains(&it.response.status.code);
        if accepted && reply.status >= 400 && it.request.method != "GET" {
            self.refused
                .push((request_path(it).to_ascii_lowercase(), i));
        }
        Ok(Some(reply))
    }

    async fn poll(
        &mut self,
        i: usize,
        started_by: usize,
        header: &str,
        out: &mut ExchangeResult,
    ) -> Result<Option<Reply>, String> {
        let it = &self.cassette.interactions[i];
        self.session.advance_to(self.plan.times[i]).await?;
        let Some(url) = self.mapped.get(&(started_by, header.to_owned())).cloned() else {
            // aksim started no such operation: send the recorded poll as it is (it shows
            // what aksim answers there); its differences are follow-ons.
            let reply = self
                .session
                .send("GET", request_path_query(it), &it.request.headers, None)
                .await?;
            self.refused
                .push((request_path(it).to_ascii_lowercase(), started_by));
            return Ok(Some(reply));
        };
        let recorded_body: Option<serde_json::Value> =
            serde_json::from_str(&it.response.body.string).ok();
        let recorded_terminal = is_terminal(it.response.status.code, recorded_body.as_ref());
        let mut reply = self
            .session
            .send("GET", &url, &it.request.headers, None)
            .await?;
        let terminal = |r: &Reply| is_terminal(r.status, r.json().as_ref());
        if !recorded_terminal && terminal(&reply) && reply.status < 400 {
            out.replayed = Replayed::Collapsed;
            out.actual_status = Some(reply.status);
            return Ok(None);
        }
        let mut polls = 0;
        while recorded_terminal && !terminal(&reply) && polls < EXTRA_POLLS_MAX {
            let wait = reply
                .header("retry-after")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(1.0)
                .max(1.0);
            self.session.advance(wait).await?;
            reply = self
                .session
                .send("GET", &url, &it.request.headers, None)
                .await?;
            polls += 1;
        }
        Ok(Some(reply))
    }

    /// Differences on a resource whose write aksim refused (or on a poll of an operation it
    /// never started) are follow-ons of that exchange.
    fn follow_on(&self, i: usize, diffs: &mut [Difference]) {
        let path = request_path(&self.cassette.interactions[i]).to_ascii_lowercase();
        let cause = self
            .refused
            .iter()
            .filter(|(p, at)| *at != i && (path == *p || path.starts_with(&format!("{p}/"))))
            .map(|(_, at)| *at)
            .next_back();
        let Some(cause) = cause else { return };
        for d in diffs.iter_mut().filter(|d| d.kind != Kind::MissingEndpoint) {
            d.category = "follow-on".to_owned();
            d.note = Some(format!(
                "aksim refused or did not start what exchange #{cause} asked for"
            ));
        }
    }
}
