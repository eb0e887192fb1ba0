//! The long-running-operation engine, generic over what an operation does when it ends.
//!
//! An [`Operation`] records when it started and when it is due; nothing runs in the
//! background. Whoever takes a subscription's lock first settles it: [`Operations::finish_next`]
//! hands back the earliest operation that is due (by time and by scripted polls), already marked
//! `Succeeded`, `Failed` or `Canceled`, and the owner applies its effect under that same lock. So
//! a client that saw `Succeeded` on the status URL always sees the finished resource on its
//! next GET.
//!
//! The engine knows no resource: an operation carries an effect of type `E` that the module
//! owning the resource applies (`core::subscription` dispatches), and its kind is a name the
//! owning module declares ([`OpKind::named`]). Durations and scripts are configured per kind.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::core::error::ErrorBody;

/// What kind of work an operation stands for (`clusterCreate`, `resourceGroupDelete`...):
/// declared by the module that owns the resource; durations and scripts are set per kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpKind(Cow<'static, str>);

impl OpKind {
    pub const fn named(name: &'static str) -> Self {
        OpKind(Cow::Borrowed(name))
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// The kind among `known` whose name is `name`, ignoring ASCII case.
    pub fn find<'a>(known: &'a [OpKind], name: &str) -> Option<&'a OpKind> {
        known.iter().find(|k| k.name().eq_ignore_ascii_case(name))
    }
}

impl Serialize for OpKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OpKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| OpKind(Cow::Owned(s)))
    }
}

/// Virtual seconds each operation kind takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Durations {
    pub default_secs: f64,
    pub per_kind: BTreeMap<OpKind, f64>,
}

impl Default for Durations {
    /// Two virtual seconds: long enough that a client sees the transitional state once, short
    /// enough that `az aks create` takes about as long as the recorded clients do (2–3 s).
    fn default() -> Self {
        Durations {
            default_secs: 2.0,
            per_kind: BTreeMap::new(),
        }
    }
}

impl Durations {
    /// Parses `KIND=SECONDS` items (`default=0`, `clusterCreate=30`); kinds from `known`.
    pub fn parse(items: &[String], known: &[OpKind]) -> Result<Durations, String> {
        let mut out = Durations::default();
        out.apply(items, known)?;
        Ok(out)
    }

    /// Changes the kinds named in `items`; the others keep their values. All-or-nothing.
    pub fn apply(&mut self, items: &[String], known: &[OpKind]) -> Result<(), String> {
        let mut out = self.clone();
        for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let (kind, secs) = item
                .split_once('=')
                .ok_or_else(|| format!("op duration '{item}' is not KIND=SECONDS"))?;
            let secs: f64 = secs
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s <= 1e9)
                .ok_or_else(|| format!("op duration '{item}': seconds must be a number ≥ 0"))?;
            if kind.trim().eq_ignore_ascii_case("default") {
                out.default_secs = secs;
            } else {
                let kind = OpKind::find(known, kind.trim()).ok_or_else(|| {
                    let names: Vec<&str> = known.iter().map(OpKind::name).collect();
                    format!(
                        "op duration '{item}': unknown kind; known: default, {}",
                        names.join(", ")
                    )
                })?;
                out.per_kind.insert(kind.clone(), secs);
            }
        }
        *self = out;
        Ok(())
    }

    pub fn secs(&self, kind: &OpKind) -> f64 {
        self.per_kind
            .get(kind)
            .copied()
            .unwrap_or(self.default_secs)
    }

    pub fn for_kind(&self, kind: &OpKind) -> time::Duration {
        time::Duration::seconds_f64(self.secs(kind))
    }

    /// `{"default": s, "<kind>": s, ...}` for every kind in `known`.
    pub fn as_json(&self, known: &[OpKind]) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("default".to_owned(), self.default_secs.into());
        for kind in known {
            map.insert(kind.name().to_owned(), self.secs(kind).into());
        }
        serde_json::Value::Object(map)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpStatus {
    InProgress,
    Succeeded,
    Failed,
    Canceled,
}

impl OpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::InProgress => "InProgress",
            OpStatus::Succeeded => "Succeeded",
            OpStatus::Failed => "Failed",
            OpStatus::Canceled => "Canceled",
        }
    }

    pub fn is_terminal(self) -> bool {
        self != OpStatus::InProgress
    }
}

/// One long-running operation whose effect is an `E`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation<E> {
    pub id: String,
    pub kind: OpKind,
    /// Provider namespace whose URLs serve the status (`Microsoft.ContainerService`), or
    /// `None` for ARM's own `/subscriptions/{s}/operationresults/{id}`.
    pub namespace: Option<String>,
    pub location: Option<String>,
    pub api_version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub ended: Option<OffsetDateTime>,
    pub status: OpStatus,
    /// Boxed (like `fail_with`): rare, and every operation record carries the field.
    #[serde(default)]
    pub error: Option<Box<ErrorBody>>,
    pub effect: E,
    /// Polls of the status URL that must happen before it may finish (scripted operations).
    #[serde(default)]
    pub min_polls: u32,
    #[serde(default)]
    pub polls: u32,
    /// When set, the operation ends `Failed` (or `Canceled`, see `cancel`) with this error
    /// instead of applying its effect.
    #[serde(default)]
    pub fail_with: Option<Box<ErrorBody>>,
    /// With `fail_with`: end `Canceled` rather than `Failed`.
    #[serde(default)]
    pub cancel: bool,
}

impl<E> Operation<E> {
    /// The operation as its status resources show it: `name`, `status`, then
    /// `percentComplete` when given, `startTime`, `endTime` once ended and `error` when it
    /// has one (the `Azure-AsyncOperation` body, and the preview `OperationStatusResult`).
    pub fn status_fields(
        &self,
        percent_complete: Option<f64>,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut body = serde_json::Map::new();
        body.insert("name".into(), self.id.clone().into());
        body.insert("status".into(), self.status.as_str().into());
        if let Some(p) = percent_complete {
            body.insert("percentComplete".into(), serde_json::json!(p));
        }
        body.insert(
            "startTime".into(),
            crate::clock::rfc3339(self.started).into(),
        );
        if let Some(ended) = self.ended {
            body.insert("endTime".into(), crate::clock::rfc3339(ended).into());
        }
        if let Some(error) = &self.error {
            body.insert(
                "error".into(),
                serde_json::to_value(error).unwrap_or(serde_json::Value::Null),
            );
        }
        body
    }

    /// A new in-progress operation due at once. `Core::start_operation` applies durations,
    /// scripts and injected faults: call that, not this.
    pub fn new(
        id: String,
        kind: OpKind,
        api_version: &str,
        now: OffsetDateTime,
        effect: E,
    ) -> Self {
        Operation {
            id,
            kind,
            namespace: None,
            location: None,
            api_version: api_version.to_owned(),
            started: now,
            due: now,
            ended: None,
            status: OpStatus::InProgress,
            error: None,
            effect,
            min_polls: 0,
            polls: 0,
            fail_with: None,
            cancel: false,
        }
    }

    pub fn is_due(&self, now: OffsetDateTime) -> bool {
        self.status == OpStatus::InProgress && now >= self.due && self.polls >= self.min_polls
    }

    /// Ends the operation now as `Canceled` with `error` (an abort).
    pub fn cancel_now(&mut self, now: OffsetDateTime, error: ErrorBody) {
        self.status = OpStatus::Canceled;
        self.ended = Some(now);
        self.error = Some(Box::new(error));
    }
}

/// A failure a fault rule injects into the operation a request starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Injected {
    pub error: ErrorBody,
    pub canceled: bool,
}

/// How a tester scripts one operation kind: `polls` non-terminal polls first, then `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpScript {
    #[serde(default)]
    pub polls: u32,
    #[serde(default = "OpScript::default_result")]
    pub result: OpStatus,
    /// The error of a `Failed`/`Canceled` result.
    #[serde(default)]
    pub error: Option<ScriptError>,
}

/// The ARM error a script ends with, as the tester writes it: `code`, `message` and an
/// optional `target`; anything else is refused (a typo must not be silently dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl OpScript {
    fn default_result() -> OpStatus {
        OpStatus::Succeeded
    }

    /// Most polls a script may demand.
    pub const POLLS_MAX: u32 = 1000;

    pub fn validate(&self) -> Result<(), String> {
        if self.polls > Self::POLLS_MAX {
            return Err(format!("polls must be at most {}", Self::POLLS_MAX));
        }
        if self.result == OpStatus::InProgress {
            return Err("result must be Succeeded, Failed or Canceled".into());
        }
        if self
            .error
            .as_ref()
            .is_some_and(|e| e.code.trim().is_empty())
        {
            return Err("error.code must not be empty".into());
        }
        Ok(())
    }

    /// The error a non-successful script ends with.
    pub fn failure(&self) -> Option<ErrorBody> {
        match self.result {
            OpStatus::Succeeded | OpStatus::InProgress => None,
            OpStatus::Failed | OpStatus::Canceled => Some(
                self.error
                    .as_ref()
                    .map(|e| ErrorBody {
                        code: e.code.clone(),
                        message: e.message.clone(),
                        target: e.target.clone(),
                        details: Vec::new(),
                    })
                    .unwrap_or(ErrorBody {
                        code: if self.result == OpStatus::Canceled {
                            "OperationCanceled"
                        } else {
                            "InternalOperationError"
                        }
                        .to_owned(),
                        message: "The operation ended as scripted by aksim.".to_owned(),
                        target: None,
                        details: Vec::new(),
                    }),
            ),
        }
    }
}

/// How an operation ended, for its owner to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Apply the effect.
    Succeeded,
    /// Failed or canceled: undo what the start did.
    Failed,
}

/// A subscription's operations, with an index of the in-progress ones by due time so settling
/// never scans finished ones. Serialised as the plain map; the index is rebuilt on first use.
#[derive(Debug, Clone)]
pub struct Operations<E> {
    by_id: BTreeMap<String, Operation<E>>,
    pending: Option<BTreeSet<(OffsetDateTime, String)>>,
}

impl<E> Default for Operations<E> {
    fn default() -> Self {
        Operations {
            by_id: BTreeMap::new(),
            pending: None,
        }
    }
}

impl<E: Serialize> Serialize for Operations<E> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.by_id.serialize(s)
    }
}

impl<'de, E: Deserialize<'de>> Deserialize<'de> for Operations<E> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Operations {
            by_id: BTreeMap::deserialize(d)?,
            pending: None,
        })
    }
}

impl<E: Clone> Operations<E> {
    pub fn get(&self, id: &str) -> Option<&Operation<E>> {
        self.by_id.get(id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Operation<E>> {
        self.by_id.get_mut(id)
    }

    pub fn values(&self) -> impl Iterator<Item = &Operation<E>> {
        self.by_id.values()
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The in-progress operations by due time (built from the map when missing).
    fn pending(&mut self) -> &mut BTreeSet<(OffsetDateTime, String)> {
        let by_id = &self.by_id;
        self.pending.get_or_insert_with(|| {
            by_id
                .values()
                .filter(|op| op.status == OpStatus::InProgress)
                .map(|op| (op.due, op.id.clone()))
                .collect()
        })
    }

    /// Whether [`Operations::finish_next`] at `now` could finish anything: an in-progress
    /// operation is due (or the index still has to be built).
    pub fn needs_settle(&self, now: OffsetDateTime) -> bool {
        match &self.pending {
            None => true,
            Some(pending) => pending.first().is_some_and(|(due, _)| *due <= now),
        }
    }

    /// Records a new operation, dropping the oldest finished one when `max` are held.
    pub fn add(&mut self, op: Operation<E>, max: usize) {
        if self.by_id.len() >= max {
            let oldest = self
                .by_id
                .values()
                .filter(|o| o.status.is_terminal())
                .min_by_key(|o| o.started)
                .map(|o| o.id.clone());
            if let Some(oldest) = oldest {
                self.by_id.remove(&oldest);
            }
        }
        if op.status == OpStatus::InProgress {
            self.pending().insert((op.due, op.id.clone()));
        }
        self.by_id.insert(op.id.clone(), op);
    }

    /// Counts a poll of an operation's status URL (scripted operations finish after N polls).
    pub fn count_poll(&mut self, id: &str) -> bool {
        match self.by_id.get_mut(id) {
            Some(op) => {
                op.polls = op.polls.saturating_add(1);
                true
            }
            None => false,
        }
    }

    /// Finishes the earliest operation that is due at `now` (by time and by its scripted
    /// polls): marks it `Succeeded`, or `Failed`/`Canceled` with its scripted or injected
    /// error, and returns its effect and outcome for the owner to apply. Looks only at
    /// in-progress operations whose due time has come (O(due), not O(all)).
    pub fn finish_next(&mut self, now: OffsetDateTime) -> Option<(E, Outcome)> {
        let candidates: Vec<(OffsetDateTime, String)> = self
            .pending()
            .iter()
            .take_while(|(due, _)| *due <= now)
            .cloned()
            .collect();
        for (due, id) in candidates {
            match self.by_id.get_mut(&id) {
                Some(op) if op.status == OpStatus::InProgress && op.due == due => {
                    if !op.is_due(now) {
                        // Due by time but still waiting for scripted polls: keep it.
                        continue;
                    }
                    let outcome = match op.fail_with.take() {
                        Some(error) => {
                            op.status = if op.cancel {
                                OpStatus::Canceled
                            } else {
                                OpStatus::Failed
                            };
                            op.error = Some(error.clone());
                            op.fail_with = Some(error);
                            Outcome::Failed
                        }
                        None => {
                            op.status = OpStatus::Succeeded;
                            op.error = None;
                            Outcome::Succeeded
                        }
                    };
                    op.ended = Some(op.due.max(op.started).min(now));
                    let effect = op.effect.clone();
                    self.pending().remove(&(due, id));
                    return Some((effect, outcome));
                }
                // Finished elsewhere (abort), dropped, or re-timed: forget the entry.
                _ => {
                    self.pending().remove(&(due, id));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: OpKind = OpKind::named("clusterCreate");
    const DELETE: OpKind = OpKind::named("clusterDelete");

    #[test]
    fn durations_parse_defaults_and_kinds() {
        let known = [CREATE, DELETE];
        let d = Durations::parse(&["default=0".into(), "clustercreate=30".into()], &known).unwrap();
        assert_eq!(d.for_kind(&DELETE), time::Duration::ZERO);
        assert_eq!(d.for_kind(&CREATE), time::Duration::seconds(30));
        assert!(Durations::parse(&["nope=1".into()], &known).is_err());
        assert!(Durations::parse(&["default=-1".into()], &known).is_err());
        assert!(Durations::parse(&["default".into()], &known).is_err());
    }

    #[test]
    fn operations_finish_in_due_order_and_wait_for_scripted_polls() {
        let t0 = time::macros::datetime!(2026-01-01 0:00 UTC);
        let mut ops: Operations<&'static str> = Operations::default();
        let mut late = Operation::new("b".into(), CREATE, "v", t0, "late");
        late.due = t0 + time::Duration::seconds(5);
        let mut scripted = Operation::new("a".into(), CREATE, "v", t0, "scripted");
        scripted.min_polls = 1;
        ops.add(late, 10);
        ops.add(scripted, 10);
        assert!(ops.finish_next(t0).is_none(), "waits for its poll");
        assert!(ops.count_poll("a"));
        assert_eq!(ops.finish_next(t0), Some(("scripted", Outcome::Succeeded)));
        assert!(!ops.needs_settle(t0));
        let later = t0 + time::Duration::seconds(5);
        assert_eq!(ops.finish_next(later), Some(("late", Outcome::Succeeded)));
        assert_eq!(ops.get("b").unwrap().ended, Some(later));
        assert!(ops.finish_next(later).is_none());
    }
}
