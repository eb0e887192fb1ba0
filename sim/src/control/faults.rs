//! Fault injection: rules matched on method, path glob and subscription; actions are an HTTP
//! error in the right envelope (429 carries `Retry-After` and `x-ms-ratelimit-remaining-*`),
//! added latency, a dropped connection, or an operation that ends `Failed`. A rule fires the
//! first N times (`times`), every Nth match (`every`), or with a probability drawn from the
//! seeded generator (`probability`), or any combination (all must agree).

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::arm::error::ErrorBody;
use crate::control::glob;

/// Most rules held at once.
pub const FAULT_RULES_MAX: usize = 256;
/// Longest latency a rule may add, in milliseconds.
pub const FAULT_LATENCY_MAX_MS: u64 = 120_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum FaultAction {
    /// Answer with this error instead of running the request.
    #[serde(rename_all = "camelCase")]
    Error {
        status: u16,
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
        /// Seconds for `Retry-After` (429 and 503 get 1 by default).
        #[serde(default)]
        retry_after: Option<u32>,
    },
    /// Delay the answer (real time: this is what a client's timeout sees).
    Latency { ms: u64 },
    /// Close the connection without answering.
    Drop,
    /// Run the request, but the long-running operation it starts ends `Failed` with this
    /// error (or `Canceled` when `canceled` is true).
    #[serde(rename_all = "camelCase")]
    OperationFailure {
        code: String,
        message: String,
        #[serde(default)]
        canceled: bool,
    },
}

/// A rule as clients send it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default, skip_serializing)]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Glob over the request path, case-insensitive (`*/managedClusters/*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    pub action: FaultAction,
    /// Fire only on the first N matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Fire on every Nth match (1 = every match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Fire with this probability (0–1), drawn from the seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    pub id: String,
    #[serde(flatten)]
    pub spec: FaultSpec,
    pub matched: u64,
    pub fired: u64,
}

/// What a fired rule asks the edge to do.
#[derive(Debug, Clone)]
pub struct Fired {
    pub rule_id: String,
    pub action: FaultAction,
}

impl FaultSpec {
    /// Checks the rule makes sense; the message is shown to the tester.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p) {
                return Err("probability must be between 0 and 1".into());
            }
        }
        if self.every == Some(0) {
            return Err("every must be at least 1".into());
        }
        if let Some(sub) = &self.subscription {
            if uuid::Uuid::parse_str(sub).is_err() {
                return Err(format!("subscription '{sub}' is not a GUID"));
            }
        }
        match &self.action {
            FaultAction::Error { status, .. } if !(400..=599).contains(status) => {
                Err(format!("error status {status} must be 400-599"))
            }
            FaultAction::Latency { ms } if *ms > FAULT_LATENCY_MAX_MS => Err(format!(
                "latency {ms} ms exceeds the limit of {FAULT_LATENCY_MAX_MS} ms"
            )),
            FaultAction::OperationFailure { code, .. } if code.trim().is_empty() => {
                Err("operationFailure needs a non-empty code".into())
            }
            _ => Ok(()),
        }
    }
}

impl FaultAction {
    /// The ARM error body for an `Error` action (defaults per status).
    pub fn error_body(
        status: u16,
        code: Option<&str>,
        message: Option<&str>,
        sub: Option<&str>,
    ) -> ErrorBody {
        let (default_code, default_message) = match status {
            429 => (
                "SubscriptionRequestsThrottled",
                format!(
                    "Number of requests for subscription '{}' exceeded the limit. Please try again \
                     after some time. (aksim fault injection)",
                    sub.unwrap_or("unknown")
                ),
            ),
            409 => (
                "Conflict",
                "The request conflicts with the current state. (aksim fault injection)".into(),
            ),
            500 => (
                "InternalServerError",
                "Encountered internal server error. (aksim fault injection)".into(),
            ),
            503 => (
                "ServiceUnavailable",
                "The service is temporarily unavailable. (aksim fault injection)".into(),
            ),
            _ => (
                "InjectedFault",
                format!("aksim fault injection answered {status}."),
            ),
        };
        ErrorBody {
            code: code.unwrap_or(default_code).to_owned(),
            message: message.map(str::to_owned).unwrap_or(default_message),
            target: None,
            details: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    pub fn add(&self, spec: FaultSpec, generated_id: String) -> Result<FaultRule, String> {
        spec.validate()?;
        let mut rules = self.rules.lock();
        if rules.len() >= FAULT_RULES_MAX {
            return Err(format!("at most {FAULT_RULES_MAX} fault rules"));
        }
        let id = spec
            .id
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or(generated_id);
        if rules.iter().any(|r| r.id == id) {
            return Err(format!("a fault rule with id '{id}' exists"));
        }
        let rule = FaultRule {
            id,
            spec,
            matched: 0,
            fired: 0,
        };
        rules.push(rule.clone());
        Ok(rule)
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().clone()
    }

    pub fn remove(&self, id: &str) -> bool {
        let mut rules = self.rules.lock();
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    pub fn clear(&self) {
        self.rules.lock().clear();
    }

    pub fn is_empty(&self) -> bool {
        self.rules.lock().is_empty()
    }

    /// The first rule that fires for this request, counting matches on the way. `draw` gives
    /// a uniform number in [0, 1) from the seeded generator.
    pub fn evaluate(
        &self,
        method: &str,
        path: &str,
        subscription: Option<&str>,
        mut draw: impl FnMut() -> f64,
    ) -> Option<Fired> {
        let mut rules = self.rules.lock();
        for rule in rules.iter_mut() {
            let spec = &rule.spec;
            let hit = spec
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && spec.path.as_deref().is_none_or(|p| glob::matches(p, path))
                && spec
                    .subscription
                    .as_deref()
                    .is_none_or(|s| subscription.is_some_and(|x| x.eq_ignore_ascii_case(s)));
            if !hit {
                continue;
            }
            rule.matched += 1;
            let within_times = spec.times.is_none_or(|n| rule.fired < n);
            let on_beat = spec.every.is_none_or(|n| rule.matched % n == 0);
            let lucky = spec.probability.is_none_or(|p| draw() < p);
            if within_times && on_beat && lucky {
                rule.fired += 1;
                return Some(Fired {
                    rule_id: rule.id.clone(),
                    action: spec.action.clone(),
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> FaultSpec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn times_every_and_probability() {
        let f = Faults::default();
        f.add(
            spec(serde_json::json!({"path": "/a*", "times": 2, "action": {"type": "drop"}})),
            "r1".into(),
        )
        .unwrap();
        let fired: Vec<bool> = (0..4)
            .map(|_| f.evaluate("GET", "/abc", None, || 0.0).is_some())
            .collect();
        assert_eq!(fired, vec![true, true, false, false]);

        let g = Faults::default();
        g.add(
            spec(serde_json::json!({"every": 3, "action": {"type": "latency", "ms": 1}})),
            "r".into(),
        )
        .unwrap();
        let fired: Vec<bool> = (0..6)
            .map(|_| g.evaluate("PUT", "/x", None, || 0.0).is_some())
            .collect();
        assert_eq!(fired, vec![false, false, true, false, false, true]);

        let h = Faults::default();
        h.add(
            spec(serde_json::json!({"probability": 0.5, "action": {"type": "drop"}})),
            "p".into(),
        )
        .unwrap();
        assert!(h.evaluate("GET", "/", None, || 0.4).is_some());
        assert!(h.evaluate("GET", "/", None, || 0.6).is_none());
    }

    #[test]
    fn bad_rules_are_refused() {
        let f = Faults::default();
        for bad in [
            serde_json::json!({"probability": 2, "action": {"type": "drop"}}),
            serde_json::json!({"every": 0, "action": {"type": "drop"}}),
            serde_json::json!({"action": {"type": "error", "status": 200}}),
            serde_json::json!({"subscription": "x", "action": {"type": "drop"}}),
        ] {
            assert!(f.add(spec(bad), "x".into()).is_err());
        }
        assert!(serde_json::from_value::<FaultSpec>(
            serde_json::json!({"action": {"type": "nope"}})
        )
        .is_err());
        assert!(serde_json::from_value::<FaultSpec>(
            serde_json::json!({"bogus": 1, "action": {"type": "drop"}})
        )
        .is_err());
    }
}
