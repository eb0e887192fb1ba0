//! What `aksim parity` tells: the readable report (a table per cassette, then each differing
//! cassette's first difference in full), JSON, JUnit XML; the `--ignore` file of accepted
//! differences (`accepted`); the baseline of equal exchanges per cassette that the regression
//! test holds the figure to.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::parity::compare::Kind;
use crate::parity::replay::{CassetteResult, Replayed};

pub use crate::parity::accepted::{Accepted, Ignore, Matcher};

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
            "{:<width$}  {:<10}  {:>9}  {:>5}  {:>9}  {:>9}  result\n",
            "cassette", "date", "exchanges", "equal", "identical", "differing"
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
                "{name:<width$}  {:<10}  {:>9}  {:>5}  {:>9}  {:>9}  {result}\n",
                c.date.as_deref().unwrap_or("-"),
                c.counted(),
                c.equal(),
                c.identical(),
                c.counted() - c.equal(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parity::compare::Difference;
    use crate::parity::replay::ExchangeResult;

    fn exchange(index: usize, diffs: Vec<Difference>, replayed: Replayed) -> ExchangeResult {
        ExchangeResult {
            index,
            line: Some(2 + index * 40),
            method: "GET".into(),
            path: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1?api-version=1".into(),
            command: Some("aks show".into()),
            recorded_status: 200,
            actual_status: Some(200),
            replayed,
            differences: diffs,
            error: None,
        }
    }

    fn difference(path: &str, category: &str) -> Difference {
        Difference {
            kind: Kind::Value,
            path: path.into(),
            recorded: Some("\"a\"".into()),
            actual: Some("\"b\"".into()),
            category: category.into(),
            note: None,
            accepted: None,
        }
    }

    fn report() -> Report {
        let cassette = CassetteResult {
            name: "c.yaml".into(),
            path: "dir/c.yaml".into(),
            date: Some("2024-07-03".into()),
            azure_date: "pending".into(),
            notes: vec!["setup: a note".into()],
            exchanges: vec![
                exchange(0, vec![], Replayed::Compared),
                exchange(
                    1,
                    vec![difference("properties.x", "different value")],
                    Replayed::Compared,
                ),
                exchange(2, vec![difference("sku.name", "dated")], Replayed::Compared),
                exchange(3, vec![difference("status", "x")], Replayed::InjectedFault),
                exchange(4, vec![], Replayed::Collapsed),
            ],
            error: None,
            duration: Duration::from_millis(3),
        };
        Report {
            cassettes: vec![cassette],
            invalid: vec!["bad.yaml:3:1: reason".into()],
            duration: Duration::from_millis(5),
        }
    }

    #[test]
    fn reports_count_show_and_group() {
        let mut r = report();
        let t = r.totals();
        assert_eq!((t.exchanges, t.equal, t.identical), (3, 1, 1));
        assert_eq!((t.collapsed, t.injected, t.new_differences), (1, 1, 2));
        let text = r.render(false);
        assert!(
            text.contains("c.yaml    2024-07-03          3      1          1          2  DIFFERS"),
            "{text}"
        );
        assert!(text.contains("exchange #1 (dir/c.yaml:42) GET"), "{text}");
        assert!(
            text.contains("properties.x differs [different value]"),
            "{text}"
        );
        assert!(
            text.contains("differing exchanges (new differences): #1 (1), #2 (1)"),
            "{text}"
        );
        assert!(text.contains("INVALID bad.yaml:3:1: reason"), "{text}");
        assert!(text.contains("1/3 exchanges equal (33.3 %)"), "{text}");
        let junit = r.junit();
        assert!(junit.contains("tests=\"2\" failures=\"2\""), "{junit}");
        assert!(junit.contains("first difference: exchange #1"), "{junit}");
        let json = r.json();
        assert_eq!(json["totals"]["equal"], 1);
        assert_eq!(json["summary"][0]["category"], "dated");
        assert_eq!(
            json["cassettes"][0]["exchanges"][1]["differences"][0]["path"],
            "properties.x"
        );
        assert!(!r.ok());
        // The baseline holds the counts; fewer equal exchanges later is a regression.
        let baseline = r.baseline();
        assert!(r.regressions(&baseline).is_empty());
        r.cassettes[0].exchanges[0]
            .differences
            .push(difference("name", "different value"));
        let down = r.regressions(&baseline);
        assert_eq!(down.len(), 1);
        assert!(
            down[0].contains("c.yaml: 0 equal exchanges, the baseline has 1"),
            "{down:?}"
        );
        assert_eq!(endpoint_pattern("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/np"),
                   "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}/agentPools/{}");
        assert_eq!(star_indices("a[3].b[10][\"x.y\"]"), "a[*].b[*][\"x.y\"]");
    }

    #[test]
    fn accepted_differences_count_as_equal() {
        let mut r = report();
        let ignore = Ignore::parse(
            "accepted:\n  - id: sku\n    deviation: d\n    why: w\n    match: {path: sku.*, kind: value, cassette: 'c.*', request: '*/managedClusters/*', recorded: '\"a\"'}\n",
            None,
        )
        .unwrap();
        ignore.apply(&mut r.cassettes[0]);
        let t = r.totals();
        assert_eq!((t.equal, t.identical, t.accepted_differences), (2, 1, 1));
        assert_eq!(
            r.cassettes[0].exchanges[2].differences[0]
                .accepted
                .as_deref(),
            Some("sku")
        );
    }
}
