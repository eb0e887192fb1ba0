//! The result of a run and how it is shown: the summary table, each failure with its details,
//! each skip with its reason, and JUnit XML. Every scenario is counted exactly once — passed,
//! failed or skipped — and invalid files apart.

use std::time::Duration;

use super::exec::{Outcome, Verdict};

/// The result of a whole run.
#[derive(Debug)]
pub struct Report {
    /// In file order.
    pub outcomes: Vec<Outcome>,
    /// Files that could not be read or parsed: `path: reason`.
    pub invalid: Vec<String>,
    pub duration: Duration,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.count(|o| o.passed())
    }
    pub fn failed(&self) -> usize {
        self.count(|o| o.failure().is_some())
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| o.skip_reason().is_some())
    }
    fn count(&self, which: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| which(o)).count()
    }

    /// Whether the run succeeded, and if not why: a failure or an invalid file fails it, so
    /// does a run in which nothing ran, and with `fail_on_skip` any skipped scenario.
    pub fn verdict(&self, fail_on_skip: bool) -> Result<(), String> {
        if self.failed() > 0 || !self.invalid.is_empty() {
            return Err(format!(
                "{} failed, {} invalid",
                self.failed(),
                self.invalid.len()
            ));
        }
        if self.passed() == 0 {
            return Err(if self.skipped() > 0 {
                format!("no scenario ran: all {} were skipped", self.skipped())
            } else {
                "no scenarios matched".to_owned()
            });
        }
        if fail_on_skip && self.skipped() > 0 {
            return Err(format!(
                "{} skipped, and --fail-on-skip wants every scenario run",
                self.skipped()
            ));
        }
        Ok(())
    }

    /// [`Report::verdict`] without `--fail-on-skip`.
    pub fn ok(&self) -> bool {
        self.verdict(false).is_ok()
    }

    /// The summary table (unless `quiet`), every failure with its details, every skip with
    /// its reason, and the closing count.
    pub fn render(&self, quiet: bool) -> String {
        let mut out = String::new();
        if !quiet {
            out.push_str(&self.table());
        }
        for o in &self.outcomes {
            if let Some(f) = o.failure() {
                out.push_str(&format!("\nFAILED {} ({})\n{f}", o.name, o.path.display()));
            }
        }
        for o in &self.outcomes {
            if let Some(reason) = o.skip_reason() {
                out.push_str(&format!("\nSKIPPED {}: {reason}\n", o.name));
            }
        }
        for reason in &self.invalid {
            out.push_str(&format!("\nINVALID {reason}\n"));
        }
        let invalid = if self.invalid.is_empty() {
            String::new()
        } else {
            format!(", {} invalid", self.invalid.len())
        };
        out.push_str(&format!(
            "\nscenarios: {} passed, {} failed, {} skipped{invalid} in {:.2}s\n",
            self.passed(),
            self.failed(),
            self.skipped(),
            self.duration.as_secs_f64()
        ));
        out
    }

    fn table(&self) -> String {
        let width = self
            .outcomes
            .iter()
            .map(|o| o.name.chars().count())
            .max()
            .unwrap_or(8)
            .clamp(8, 70);
        let mut out = format!(
            "{:<width$}  {:>9}  {:>8}  result\n",
            "scenario", "steps", "ms"
        );
        for o in &self.outcomes {
            let name: String = o.name.chars().take(width).collect();
            let steps = format!("{}/{}", o.steps_run, o.steps_total);
            let result = match o.verdict {
                Verdict::Passed => "ok",
                Verdict::Failed(_) => "FAILED",
                Verdict::Skipped(_) => "skipped",
            };
            out.push_str(&format!(
                "{name:<width$}  {steps:>9}  {:>8.1}  {result}\n",
                o.duration.as_secs_f64() * 1000.0
            ));
        }
        out
    }

    /// JUnit XML for CI systems: a failed scenario is a `<failure>`, a skipped one a
    /// `<skipped message=…>`, an invalid file an `<error>`.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuite name=\"aksim-scenarios\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
            self.outcomes.len() + self.invalid.len(),
            self.failed(),
            self.invalid.len(),
            self.skipped(),
            self.duration.as_secs_f64()
        ));
        for o in &self.outcomes {
            out.push_str(&format!(
                "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                esc(&o.path.display().to_string()),
                esc(&o.name),
                o.duration.as_secs_f64()
            ));
            match &o.verdict {
                Verdict::Passed => out.push_str("/>\n"),
                Verdict::Failed(f) => out.push_str(&format!(
                    "><failure message=\"{}\">{}</failure></testcase>\n",
                    esc(f.detail.lines().next().unwrap_or("failed")),
                    esc(&f.to_string())
                )),
                Verdict::Skipped(reason) => out.push_str(&format!(
                    "><skipped message=\"{}\"/></testcase>\n",
                    esc(reason)
                )),
            }
        }
        for reason in &self.invalid {
            out.push_str(&format!(
                "  <testcase classname=\"invalid\" name=\"{}\"><error message=\"invalid scenario file\">{}</error></testcase>\n",
                esc(reason.split(':').next().unwrap_or("file")),
                esc(reason)
            ));
        }
        out.push_str("</testsuite>\n");
        out
    }
}

/// XML-escapes text for an attribute or element (control characters other than tab and
/// newline cannot appear in XML 1.0 at all: they become `?`).
fn esc(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\t' | '\n' | '\r' => c.to_string(),
            c if (c as u32) < 0x20 => "?".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
