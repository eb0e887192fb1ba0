//! The long-running-operation engine shared by every provider.
//!
//! An [`Operation`] records when it started and when it is due; nothing runs in the
//! background. Whoever takes a subscription's lock first calls `Subscription::settle`, which
//! finishes every due operation in due order and applies its [`Effect`] under that same lock. So
//! a client that saw `Succeeded` on the status URL always sees the finished resource on its
//! next GET.
//!
//! Wire shapes (ARM-CONTRACT §2.4): the `Azure-AsyncOperation` target answers 200 with
//! `{name,status,startTime[,endTime][,error]}`; the `Location` target answers 202 while running
//! and 200 when done. `Retry-After` is always ≥ 1 (azure-core treats 0 as "wait 30 s").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::arm::error::ErrorBody;
use crate::clock::rfc3339;

/// What kind of work an operation stands for; durations are configured per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OpKind {
    ResourceGroupDelete,
    ClusterCreate,
    ClusterUpdate,
    ClusterDelete,
}

impl OpKind {
    pub const ALL: [OpKind; 4] = [
        OpKind::ResourceGroupDelete,
        OpKind::ClusterCreate,
        OpKind::ClusterUpdate,
        OpKind::ClusterDelete,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OpKind::ResourceGroupDelete => "resourceGroupDelete",
            OpKind::ClusterCreate => "clusterCreate",
            OpKind::ClusterUpdate => "clusterUpdate",
            OpKind::ClusterDelete => "clusterDelete",
        }
    }

    fn from_name(name: &str) -> Option<OpKind> {
        OpKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
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
    /// enough that `az aks create` takes about as long as REAL-CLIENTS measured (2–3 s).
    fn default() -> Self {
        Durations {
            default_secs: 2.0,
            per_kind: BTreeMap::new(),
        }
    }
}

impl Durations {
    /// Parses `KIND=SECONDS` items (`default=0`, `clusterCreate=30`).
    pub fn parse(items: &[String]) -> Result<Durations, String> {
        let mut out = Durations::default();
        out.apply(items)?;
        Ok(out)
    }

    /// Changes the kinds named in `items`; the others keep their values. All-or-nothing.
    pub fn apply(&mut self, items: &[String]) -> Result<(), String> {
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
                let kind = OpKind::from_name(kind.trim()).ok_or_else(|| {
                    format!(
                        "op duration '{item}': unknown kind; known: default, {}",
                        OpKind::ALL.map(OpKind::name).join(", ")
                    )
                })?;
                out.per_kind.insert(kind, secs);
            }
        }
        *self = out;
        Ok(())
    }

    pub fn for_kind(&self, kind: OpKind) -> time::Duration {
        let secs = self
            .per_kind
            .get(&kind)
            .copied()
            .unwrap_or(self.default_secs);
        time::Duration::seconds_f64(secs)
    }

    pub fn as_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("default".to_owned(), self.default_secs.into());
        for kind in OpKind::ALL {
            let secs = self
                .per_kind
                .get(&kind)
                .copied()
                .unwrap_or(self.default_secs);
            map.insert(kind.name().to_owned(), secs.into());
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

/// What happens to the subscription's state when an operation finishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Effect {
    /// Remove a resource group and everything in it.
    DeleteResourceGroup { group_key: String },
    /// A managed cluster's create/update finished: `Succeeded`, and the Kubernetes plane is
    /// reconciled with the cluster's mesh. Ignored when a newer operation took over.
    ClusterProvisioned {
        cluster_key: String,
        operation_id: String,
    },
    /// A managed cluster's delete finished: the cluster and its plane are gone.
    ClusterDeleted {
        cluster_key: String,
        operation_id: String,
    },
}

/// One long-running operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation {
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
    pub effect: Effect,
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

impl OpKind {
    pub fn from_name_checked(name: &str) -> Option<OpKind> {
        Self::from_name(name)
    }
}

impl Operation {
    /// A new in-progress operation. Durations, scripts and injected faults are applied by
    /// `AppState::start_operation`; call that from handlers.
    pub fn new(
        id: String,
        kind: OpKind,
        api_version: &str,
        now: OffsetDateTime,
        effect: Effect,
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

    /// The `Azure-AsyncOperation` status body.
    pub fn status_body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("name".into(), self.id.clone().into());
        body.insert("status".into(), self.status.as_str().into());
        body.insert("startTime".into(), rfc3339(self.started).into());
        if let Some(ended) = self.ended {
            body.insert("endTime".into(), rfc3339(ended).into());
        }
        if let Some(error) = &self.error {
            body.insert(
                "error".into(),
                serde_json::to_value(error).unwrap_or(serde_json::Value::Null),
            );
        }
        serde_json::Value::Object(body)
    }

    /// Absolute `Azure-AsyncOperation` URL.
    pub fn async_operation_url(&self, base: &str, subscription: &str) -> String {
        match (&self.namespace, &self.location) {
            (Some(ns), Some(loc)) => format!(
                "{base}/subscriptions/{subscription}/providers/{ns}/locations/{loc}/operations/{}?api-version={}",
                self.id, self.api_version
            ),
            _ => self.location_url(base, subscription),
        }
    }

    /// Absolute `Location` URL (202 while running).
    pub fn location_url(&self, base: &str, subscription: &str) -> String {
        match (&self.namespace, &self.location) {
            (Some(ns), Some(loc)) => format!(
                "{base}/subscriptions/{subscription}/providers/{ns}/locations/{loc}/operationresults/{}?api-version={}",
                self.id, self.api_version
            ),
            _ => format!(
                "{base}/subscriptions/{subscription}/operationresults/{}?api-version={}",
                self.id, self.api_version
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_defaults_and_kinds() {
        let d = Durations::parse(&["default=0".into(), "clusterCreate=30".into()]).unwrap();
        assert_eq!(d.for_kind(OpKind::ClusterDelete), time::Duration::ZERO);
        assert_eq!(
            d.for_kind(OpKind::ClusterCreate),
            time::Duration::seconds(30)
        );
        assert!(Durations::parse(&["nope=1".into()]).is_err());
        assert!(Durations::parse(&["default=-1".into()]).is_err());
        assert!(Durations::parse(&["default".into()]).is_err());
    }
}
