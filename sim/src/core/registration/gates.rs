//! Preview gating: a preview-only request shape is refused unless its preview feature is in
//! effect. Rules are data (`data/preview-gates.json`, or a file given with `--preview-gates`);
//! each names a namespace, a resource type, api-version patterns and JSON conditions on the
//! body, and the feature the shape needs.
//!
//! A gate is in force on the days of its period: its own `since`/`until`; a built-in gate
//! without them takes the period `data/aks-timeline.json` gives its feature (`previewGates`);
//! otherwise every day.
//!
//! A feature is in effect as `Registrations::feature_in_effect` says. Without it the request gets
//! AKS's generic 400 `BadRequest` text (`../shared/reference/ARM-CONTRACT.md` §2.3).

use serde::Deserialize;

use time::OffsetDateTime;

use super::features::Period;
use super::Registrations;
use crate::core::error::{Error, Result};
use crate::core::resource_types::Catalog;
use crate::core::timeline::{self, Day};
use crate::limits;

const EMBEDDED: &str = include_str!("../../../data/preview-gates.json");

/// One condition on the request body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Dotted JSON path, property names compared ignoring case.
    pub path: String,
    /// The value required there (strings compared ignoring case); absent = "present, not null".
    #[serde(default)]
    pub equals: Option<serde_json::Value>,
}

/// One gate.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GateRule {
    /// `Namespace/FeatureName`.
    pub feature: String,
    pub namespace: String,
    pub resource_type: String,
    /// Exact api-versions or patterns with `*`.
    pub api_versions: Vec<String>,
    #[serde(default)]
    pub when: Vec<Condition>,
    /// A message of the rule's own (`{feature}` is replaced); default: AKS's generic text.
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The days the gate is in force (`since <= d < until`); absent: the timeline's period of
    /// the feature, or every day.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    /// Where the gate and its dates come from.
    #[serde(default)]
    pub source: Option<String>,
}

impl GateRule {
    /// Whether the gate is in force on `d`.
    pub fn in_force(&self, d: Day) -> bool {
        match &self.since {
            Some(since) => Period {
                since: since.clone(),
                until: self.until.clone(),
            }
            .contains(d),
            None => true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGates {
    #[serde(default, rename = "_comment")]
    _comment: Option<String>,
    rules: Vec<GateRule>,
}

/// Every gate rule in force.
#[derive(Debug, Clone, Default)]
pub struct GateSet {
    pub rules: Vec<GateRule>,
}

impl GateSet {
    /// The built-in rules, or those of `replacement` (file text).
    pub fn load(replacement: Option<&str>) -> Result<GateSet, String> {
        let text = replacement.unwrap_or(EMBEDDED);
        let raw: RawGates =
            serde_json::from_str(text).map_err(|e| format!("invalid preview gates: {e}"))?;
        if raw.rules.len() > limits::PREVIEW_GATES_MAX {
            return Err(format!(
                "the preview gates hold more than {} rules",
                limits::PREVIEW_GATES_MAX
            ));
        }
        for r in &raw.rules {
            let parts: Vec<&str> = r.feature.split('/').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                return Err(format!(
                    "preview gate feature '{}' must be Namespace/FeatureName",
                    r.feature
                ));
            }
            if r.api_versions.is_empty() {
                return Err(format!(
                    "preview gate for '{}' lists no apiVersions",
                    r.feature
                ));
            }
        }
        let mut rules = raw.rules;
        for r in &mut rules {
            for day in r.since.iter().chain(r.until.iter()) {
                if timeline::parse_day(day).is_none() {
                    return Err(format!(
                        "preview gate for '{}': '{day}' is not a day (YYYY-MM-DD)",
                        r.feature
                    ));
                }
            }
            if r.since.is_some() || replacement.is_some() {
                continue;
            }
            let dated = timeline::timeline()
                .raw
                .preview_gates
                .iter()
                .find(|g| g.feature.eq_ignore_ascii_case(&r.feature));
            if let Some(g) = dated {
                r.since = Some(g.since.clone());
                r.until = g.until.clone();
                if r.source.is_none() {
                    r.source = g.sources.first().cloned();
                }
            }
        }
        Ok(GateSet { rules })
    }

    /// The preview gates for one write: 400 `BadRequest` when a gated request shape is used
    /// without its feature in effect.
    #[allow(clippy::too_many_arguments)] // the write's coordinates, its body and the state
    pub fn check(
        &self,
        registrations: &Registrations,
        catalog: &Catalog,
        namespace: &str,
        resource_type: &str,
        api_version: &str,
        body: Option<&serde_json::Value>,
        now: OffsetDateTime,
        day: Day,
    ) -> Result<()> {
        for rule in self
            .matching(namespace, resource_type, api_version, body)
            .filter(|r| r.in_force(day))
        {
            if !registrations.feature_in_effect(catalog, &rule.feature, now) {
                return Err(match &rule.message {
                    Some(m) => Error::bad_request(m.replace("{feature}", &rule.feature)),
                    None => Error::preview_feature_not_enabled(&rule.feature),
                });
            }
        }
        Ok(())
    }

    /// The rules that apply to one write.
    pub fn matching<'a>(
        &'a self,
        namespace: &'a str,
        resource_type: &'a str,
        api_version: &'a str,
        body: Option<&'a serde_json::Value>,
    ) -> impl Iterator<Item = &'a GateRule> {
        self.rules.iter().filter(move |r| {
            r.namespace.eq_ignore_ascii_case(namespace)
                && r.resource_type.eq_ignore_ascii_case(resource_type)
                && r.api_versions.iter().any(|p| glob(p, api_version))
                && r.when.iter().all(|c| holds(c, body))
        })
    }
}

/// `*` matches any run of characters; everything else compares ignoring ASCII case.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let text = text.to_ascii_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

fn holds(condition: &Condition, body: Option<&serde_json::Value>) -> bool {
    let mut at = match body {
        Some(v) => v,
        None => return false,
    };
    for key in condition.path.split('.') {
        let next = at
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, v)| v);
        match next {
            Some(v) => at = v,
            None => return false,
        }
    }
    match &condition.equals {
        None => !at.is_null(),
        Some(serde_json::Value::String(want)) => at
            .as_str()
            .is_some_and(|got| got.eq_ignore_ascii_case(want)),
        Some(want) => at == want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_conditions() {
        assert!(glob("*-preview", "2024-01-02-PREVIEW"));
        assert!(!glob("*-preview", "2024-01-01"));
        assert!(glob("2023-0*-02-preview", "2023-05-02-preview"));
        assert!(glob("2023-08-01", "2023-08-01"));
        assert!(!glob("a*b*c", "ac"));
        let body = serde_json::json!({"properties":{"serviceMeshProfile":{"mode":"istio"}}});
        let c = Condition {
            path: "Properties.ServiceMeshProfile.mode".into(),
            equals: Some("Istio".into()),
        };
        assert!(holds(&c, Some(&body)));
        let present = Condition {
            path: "properties.serviceMeshProfile.istio".into(),
            equals: None,
        };
        assert!(!holds(&present, Some(&body)));
        assert!(!holds(&c, None));
        let gates = GateSet::load(None).unwrap();
        assert_eq!(gates.rules.len(), 4);
        // Every built-in gate takes its days from the timeline.
        assert!(gates
            .rules
            .iter()
            .all(|r| r.since.is_some() && r.source.is_some()));
        let day = |d: &str| timeline::parse_day(d).unwrap();
        let mesh = &gates.rules[0];
        assert!(mesh.in_force(day("2023-12-01")) && !mesh.in_force(day("2024-02-26")));
        assert!(GateSet::load(Some(
            r#"{"rules":[{"feature":"a/x","namespace":"a","resourceType":"b","apiVersions":["*"],"since":"someday"}]}"#
        ))
        .is_err());
        assert!(GateSet::load(Some(
            r#"{"rules":[{"feature":"x","namespace":"a","resourceType":"b","apiVersions":["*"]}]}"#
        ))
        .is_err());
    }
}
