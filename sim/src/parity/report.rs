//! What `aksim parity` tells: the readable report (a table per cassette, then each differing
//! cassette's first difference in full), JSON, JUnit XML; the `--ignore` file of accepted
//! differences (each names a deviation of docs/deviations.md and why); the baseline of equal
//! exchanges per cassette that the regression test holds the figure to.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::control::glob;
use crate::parity::compare::Kind;
use crate::parity::replay::{CassetteResult, Replayed};

/// The result of a whole run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub cassettes: Vec<CassetteResult>,
    /// Files that could not be read or parsed (`file:line:column: reason`).
    pub invalid: Vec<String>,
    #[serde(skip)]
    pub duration: Duration,
}

/// Totals over a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub cassettes: usize,
    /// Exchanges counted in the figure (compared; not collapsed polls, not injected faults).
    pub exchanges: usize,
    /// Counted exchanges with no difference except accepted ones.
    pub equal: usize,
    /// Counted exchanges with no difference at all.
    pub identical: usize,
    pub collapsed: usize,
    pub injected: usize,
    pub new_differences: usize,
    pub accepted_differences: usize,
}

impl Totals {
    pub fn percent(&self) -> f64 {
        if self.exchanges == 0 {
            return 0.0;
        }
        self.equal as f64 * 100.0 / self.exchanges as f64
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Report {
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            cassettes: self.cassettes.len(),
            ..Totals::default()
        };
        for c in &self.cassettes {
            t.exchanges += c.counted();
            t.equal += c.equal();
            t.identical += c.identical();
            t.new_differences += c.new_differences() + usize::from(c.error.is_some());
            for e in &c.exchanges {
                match e.replayed {
                    Replayed::Collapsed => t.collapsed += 1,
                    Replayed::InjectedFault => t.injected += 1,
                    _ => {}
                }
                if e.counted() {
                    t.accepted_differences += e
                        .differences
                        .iter()
                        .filter(|d| d.accepted.is_some())
                        .count();
                }
            }
        }
        t
    }

    /// Whether every exchange of every cassette is equal (accepted differences aside).
    pub fn ok(&self) -> bool {
        self.invalid.is_empty() && !self.cassettes.is_empty() && self.totals().new_differences == 0
    }

    /// New differences counted by category (then kind), over every cassette.
    pub fn categories(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in &self.cassettes {
            for e in c.exchanges.iter().filter(|e| e.counted()) {
                for d in e.differences.iter().filter(|d| d.accepted.is_none()) {
                    *out.entry(d.category.clone()).or_insert(0) += 1;
                }
            }
        }
        out
    }

    /// New differences grouped by category, kind, endpoint and body path (indices as `[*]`),
    /// most frequent first, each with one exchange that shows it.
    pub fn aggregate(&self) -> Vec<Aggregate> {
        let mut groups: BTreeMap<(String, Kind, String, String, String), Aggregate> =
            BTreeMap::new();
        for c in &self.cassettes {
            for e in c.exchanges.iter().filter(|e| e.counted()) {
                let endpoint = endpoint_pattern(e.path.split('?').next().unwrap_or(""));
                for d in e.differences.iter().filter(|d| d.accepted.is_none()) {
                    let path = star_indices(&d.path);
                    let key = (
                        d.category.clone(),
                        d.kind,
                        e.method.clone(),
                        endpoint.clone(),
                        path.clone(),
                    );
                    let entry = groups.entry(key).or_insert_with(|| Aggregate {
                        category: d.category.clone(),
                        kind: d.kind,
                        method: e.method.clone(),
                        endpoint: endpoint.clone(),
                        path,
                        count: 0,
                        cassettes: Vec::new(),
                        example: format!("{} #{}", c.name, e.index),
                        recorded: d.recorded.clone(),
                        actual: d.actual.clone(),
                    });
                    entry.count += 1;
                    if !entry.cassettes.contains(&c.name) {
                        entry.cassettes.push(c.name.clone());
                    }
                }
            }
        }
        let mut out: Vec<Aggregate> = groups.into_values().collect();
        out.sort_by(|a, b| {
            (
                a.category.as_str(),
                std::cmp::Reverse(a.count),
                a.endpoint.as_str(),
                a.path.as_str(),
            )
                .cmp(&(
                    b.category.as_str(),
                    std::cmp::Reverse(b.count),
                    b.endpoint.as_str(),
                    b.path.as_str(),
                ))
        });
        out
    }

    /// [`Report::aggregate`] as a readable table.
    pub fn render_summary(&self) -> String {
        let mut out = String::from(
            "
new differences by category, endpoint and path:
",
        );
        let mut category = String::new();
        for a in self.aggregate() {
            if a.category != category {
                category = a.category.clone();
                out.push_str(&format!(
                    "
[{category}]
"
                ));
            }
            out.push_str(&format!(
                "  {:>4}× {} {} {} ({:?}; {} cassettes; e.g. {})
",
                a.count,
                a.method,
                a.endpoint,
                a.path,
                a.kind,
                a.cassettes.len(),
                a.example
            ));
            if let Some(r) = &a.recorded {
                out.push_str(&format!(
                    "        recorded: {r}
"
                ));
            }
            if let Some(x) = &a.actual {
                out.push_str(&format!(
                    "        aksim:    {x}
"
                ));
            }
        }
        out
    }

    /// The table, the totals, and each differing cassette's first difference in full
    /// (`details`: every difference of every exchange).
    pub fn render(&self, details: bool) -> String {
        let mut out = String::new();
        let width = self
            .cassettes
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(8)
            .clamp(8, 64);
        out.push_str(&format!(
            "{:<width$}  {:<10}  {:>9}  {:>5}  {:>9}  result\n",
            "cassette", "date", "exchanges", "equal", "identical"
        ));
        for c in &self.cassettes {
            let name: String = c.name.chars().take(width).collect();
            let result = if c.error.is_some() {
                "ERROR"
            } else if c.new_differences() == 0 {
                "equal"
            } else {
                "DIFFERS"
            };
            out.push_str(&format!(
                "{name:<width$}  {:<10}  {:>9}  {:>5}  {:>9}  {result}\n",
                c.date.as_deref().unwrap_or("-"),
                c.counted(),
                c.equal(),
                c.identical(),
            ));
        }
        for c in &self.cassettes {
            if let Some(e) = &c.error {
                out.push_str(&format!("\nERROR {} ({}): {e}\n", c.name, c.path));
                continue;
            }
            let differing: Vec<_> = c
                .exchanges
                .iter()
                .filter(|e| e.counted() && !e.equal())
                .collect();
            if differing.is_empty() && !details {
                continue;
            }
            out.push_str(&format!(
                "\n{} {} (recorded {}; AKS date: {})\n",
                if differing.is_empty() {
                    "EQUAL"
                } else {
                    "DIFFERS"
                },
                c.name,
                c.date.as_deref().unwrap_or("unknown"),
                c.azure_date
            ));
            for note in &c.notes {
                out.push_str(&format!("  note: {note}\n"));
            }
            let shown: Vec<_> = if details {
                c.exchanges
                    .iter()
                    .filter(|e| !e.differences.is_empty() || e.error.is_some())
                    .collect()
            } else {
                c.first_difference().into_iter().collect()
            };
            for e in shown {
                let at = match e.line {
                    Some(line) => format!("{}:{line}", c.path),
                    None => c.path.clone(),
                };
                out.push_str(&format!(
                    "  exchange #{} ({at}) {} {}{}\n",
                    e.index,
                    e.method,
                    e.path,
                    e.command
                        .as_deref()
                        .map(|c| format!(" [az {c}]"))
                        .unwrap_or_default()
                ));
                if let Some(err) = &e.error {
                    out.push_str(&format!("    error: {err}\n"));
                }
                for d in &e.differences {
                    out.push_str(&format!("    {d}\n"));
                }
            }
            if !details && differing.len() > 1 {
                let list: Vec<String> = differing
                    .iter()
                    .map(|e| {
                        let n = e
                            .differences
                            .iter()
                            .filter(|d| d.accepted.is_none())
                            .count();
                        format!("#{} ({n})", e.index)
                    })
                    .collect();
                out.push_str(&format!(
                    "  differing exchanges (new differences): {}\n",
                    list.join(", ")
                ));
            }
        }
        for reason in &self.invalid {
            out.push_str(&format!("\nINVALID {reason}\n"));
        }
        let t = self.totals();
        let cats = self.categories();
        if !cats.is_empty() {
            out.push_str("\nnew differences by category:");
            for (cat, n) in &cats {
                out.push_str(&format!(" {cat} {n};"));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "\nparity: {}/{} exchanges equal ({:.1} %), {} identical, {} accepted differences, {} new differences; {} collapsed polls and {} injected faults not counted; {} cassettes in {:.2}s\n",
            t.equal,
            t.exchanges,
            t.percent(),
            t.identical,
            t.accepted_differences,
            t.new_differences,
            t.collapsed,
            t.injected,
            t.cassettes,
            self.duration.as_secs_f64()
        ));
        out
    }

    /// The JSON report: totals, categories and every exchange.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "totals": self.totals(),
            "percentEqual": (self.totals().percent() * 10.0).round() / 10.0,
            "categories": self.categories(),
            "summary": self.aggregate(),
            "cassettes": self.cassettes.iter().map(|c| {
                let mut v = serde_json::to_value(c).unwrap_or_default();
                v["counted"] = c.counted().into();
                v["equal"] = c.equal().into();
                v["identical"] = c.identical().into();
                v
            }).collect::<Vec<_>>(),
            "invalid": self.invalid,
            "seconds": self.duration.as_secs_f64(),
        })
    }

    /// JUnit XML: one test case per cassette, failed when it has a new difference.
    pub fn junit(&self) -> String {
        let failures = self
            .cassettes
            .iter()
            .filter(|c| c.error.is_some() || c.new_differences() > 0)
            .count()
            + self.invalid.len();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuite name=\"aksim-parity\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">\n",
            self.cassettes.len() + self.invalid.len(),
            self.duration.as_secs_f64()
        ));
        for c in &self.cassettes {
            out.push_str(&format!(
                "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                esc(&c.path),
                esc(&c.name),
                c.duration.as_secs_f64()
            ));
            let summary = format!("{}/{} exchanges equal", c.equal(), c.counted());
            if let Some(e) = &c.error {
                out.push_str(&format!(
                    "><failure message=\"{}\">{}</failure></testcase>\n",
                    esc(e),
                    esc(e)
                ));
            } else if let Some(first) = c.first_difference() {
                let mut text = format!(
                    "{summary}\nfirst difference: exchange #{} {} {}\n",
                    first.index, first.method, first.path
                );
                for d in first.differences.iter().filter(|d| d.accepted.is_none()) {
                    text.push_str(&format!("  {d}\n"));
                }
                if let Some(err) = &first.error {
                    text.push_str(&format!("  error: {err}\n"));
                }
                out.push_str(&format!(
                    "><failure message=\"{}\">{}</failure></testcase>\n",
                    esc(&summary),
                    esc(&text)
                ));
            } else {
                out.push_str(&format!(
                    "><system-out>{}</system-out></testcase>\n",
                    esc(&summary)
                ));
            }
        }
        for reason in &self.invalid {
            out.push_str(&format!(
                "  <testcase classname=\"invalid\" name=\"{}\"><failure message=\"invalid cassette\">{}</failure></testcase>\n",
                esc(reason.split(':').next().unwrap_or("file")),
                esc(reason)
            ));
        }
        out.push_str("</testsuite>\n");
        out
    }

    /// The baseline of this run: equal exchanges per cassette.
    pub fn baseline(&self) -> Baseline {
        Baseline {
            about: "Equal exchanges per cassette of `aksim parity parity/cassettes --ignore parity/accepted.yaml`; \
                    sim/tests/parity.rs fails when a cassette's count goes down. Refresh: see docs/parity.md."
                .into(),
            cassettes: self
                .cassettes
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        BaselineEntry {
                            exchanges: c.counted(),
                            equal: c.equal(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// Cassettes whose equal count went below the baseline's, as readable lines.
    pub fn regressions(&self, baseline: &Baseline) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.cassettes {
            if let Some(b) = baseline.cassettes.get(&c.name) {
                if c.equal() < b.equal || c.error.is_some() {
                    out.push(format!(
                        "{}: {} equal exchanges, the baseline has {}{}",
                        c.name,
                        c.equal(),
                        b.equal,
                        c.first_difference()
                            .map(|e| format!(" (first difference at exchange #{})", e.index))
                            .unwrap_or_default()
                    ));
                }
            }
        }
        for name in baseline.cassettes.keys() {
            if !self.cassettes.iter().any(|c| &c.name == name) {
                out.push(format!("{name}: in the baseline but not replayed"));
            }
        }
        out
    }
}

/// A group of like differences (see [`Report::aggregate`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregate {
    pub category: String,
    pub kind: Kind,
    pub method: String,
    /// The request path with names and ids as `{}`.
    pub endpoint: String,
    pub path: String,
    pub count: usize,
    pub cassettes: Vec<String>,
    /// `cassette #exchange` of the first occurrence.
    pub example: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

/// `/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}`:
/// the segments after a collection name are names or ids.
pub fn endpoint_pattern(path: &str) -> String {
    const COLLECTIONS: [&str; 12] = [
        "subscriptions",
        "resourcegroups",
        "managedclusters",
        "agentpools",
        "locations",
        "operations",
        "operationresults",
        "tenants",
        "features",
        "deployments",
        "maintenanceconfigurations",
        "snapshots",
    ];
    let mut out = String::new();
    let mut name_next = false;
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        if name_next {
            out.push_str("{}");
            name_next = false;
        } else {
            out.push_str(seg);
            name_next = COLLECTIONS.contains(&seg.to_ascii_lowercase().as_str());
        }
    }
    out
}

/// `a[3].b[0]` → `a[*].b[*]`.
fn star_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' if in_index => {
                in_index = false;
                out.push_str("*]");
            }
            c if in_index && c.is_ascii_digit() => {}
            c => {
                if in_index {
                    // A quoted key, not an index: keep it.
                    in_index = false;
                }
                out.push(c);
            }
        }
    }
    out
}

/// `parity/baseline.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(default)]
    pub about: String,
    pub cassettes: BTreeMap<String, BaselineEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub exchanges: usize,
    pub equal: usize,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))
    }
}

/// The `--ignore` file: differences accepted because aksim deviates from Azure on purpose.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub accepted: Vec<Accepted>,
}

/// One accepted difference.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Accepted {
    pub id: String,
    /// Text of the docs/deviations.md entry that explains it.
    pub deviation: String,
    pub why: String,
    #[serde(rename = "match")]
    pub matcher: Matcher,
}

/// Which differences an entry accepts; every field given must match (globs: `*` = any run of
/// characters, ignoring case).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Matcher {
    /// The difference's path: `status`, `header:location`, `$` or a body path.
    pub path: String,
    #[serde(default)]
    pub kind: Option<Kind>,
    #[serde(default)]
    pub method: Option<String>,
    /// The recorded request path (no query).
    #[serde(default)]
    pub request: Option<String>,
    /// The cassette's file name.
    #[serde(default)]
    pub cassette: Option<String>,
    #[serde(default)]
    pub recorded: Option<String>,
    #[serde(default)]
    pub actual: Option<String>,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "missingEndpoint" => Kind::MissingEndpoint,
            "status" => Kind::Status,
            "missingField" => Kind::MissingField,
            "extraField" => Kind::ExtraField,
            "value" => Kind::Value,
            "header" => Kind::Header,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown kind '{other}' (missingEndpoint, status, missingField, extraField, value, header)"
                )))
            }
        })
    }
}

impl Ignore {
    /// Reads the file (YAML or JSON); with `deviations` (the text of docs/deviations.md),
    /// every entry's `deviation` must appear in it.
    pub fn load(path: &Path, deviations: Option<&str>) -> Result<Ignore, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ignore::parse(&text, deviations).map_err(|e| format!("{}:{e}", path.display()))
    }

    pub fn parse(text: &str, deviations: Option<&str>) -> Result<Ignore, String> {
        let ignore: Ignore = yaml_serde::from_str(text).map_err(|e| match e.location() {
            Some(loc) => format!("{}:{}: {e}", loc.line(), loc.column()),
            None => format!(" {e}"),
        })?;
        let doc = deviations.map(|d| d.replace("**", "").replace('`', ""));
        let mut ids = Vec::new();
        for a in &ignore.accepted {
            if a.id.trim().is_empty() || ids.contains(&a.id) {
                return Err(format!(
                    " entry ids must be unique and non-empty ('{}')",
                    a.id
                ));
            }
            ids.push(a.id.clone());
            if a.why.trim().is_empty() || a.deviation.trim().is_empty() {
                return Err(format!(
                    " entry '{}' must say why and name its deviation in docs/deviations.md",
                    a.id
                ));
            }
            if a.matcher.path.trim().is_empty() {
                return Err(format!(" entry '{}' needs match.path", a.id));
            }
            if let Some(doc) = &doc {
                let wanted = a.deviation.replace("**", "").replace('`', "");
                if !doc.contains(wanted.trim()) {
                    return Err(format!(
                        " entry '{}': its deviation \"{}\" is not in docs/deviations.md",
                        a.id, a.deviation
                    ));
                }
            }
        }
        Ok(ignore)
    }

    /// Marks the differences the entries accept.
    pub fn apply(&self, result: &mut CassetteResult) {
        for e in &mut result.exchanges {
            let request = e.path.split('?').next().unwrap_or("").to_owned();
            for d in &mut e.differences {
                let found = self.accepted.iter().find(|a| {
                    let m = &a.matcher;
                    let opt = |pattern: &Option<String>, text: &str| {
                        pattern.as_deref().is_none_or(|p| glob::matches(p, text))
                    };
                    glob::matches(&m.path, &d.path)
                        && m.kind.is_none_or(|k| k == d.kind)
                        && m.method
                            .as_deref()
                            .is_none_or(|x| x.eq_ignore_ascii_case(&e.method))
                        && opt(&m.request, &request)
                        && opt(&m.cassette, &result.name)
                        && opt(&m.recorded, d.recorded.as_deref().unwrap_or(""))
                        && opt(&m.actual, d.actual.as_deref().unwrap_or(""))
                });
                d.accepted = found.map(|a| a.id.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_entries_need_a_documented_reason() {
        let ok = "accepted:\n  - id: a\n    deviation: \"Operation ids are UUIDs\"\n    why: x\n    match: {path: 'header:*', kind: header}\n";
        assert!(Ignore::parse(ok, Some("- **Operation ids are UUIDs** (…)")).is_ok());
        assert!(Ignore::parse(ok, Some("nothing"))
            .unwrap_err()
            .contains("not in docs/deviations.md"));
        let no_why = ok.replace("why: x", "why: ' '");
        assert!(Ignore::parse(&no_why, None).unwrap_err().contains("why"));
        let bad_kind = ok.replace("kind: header", "kind: nope");
        assert!(Ignore::parse(&bad_kind, None)
            .unwrap_err()
            .contains("unknown kind"));
        let twice =
            format!("{ok}  - id: a\n    deviation: d\n    why: y\n    match: {{path: x}}\n");
        assert!(Ignore::parse(&twice, None).unwrap_err().contains("unique"));
    }
}
