//! Scenario files and their runner: the language tool authors use to describe the Azure
//! behaviour their tool must survive (`docs/scenarios.md`).
//!
//! `model` is the file format, `matching` the expectations, `exec` runs one scenario
//! (in-process or against a `--target`), and this module runs many in parallel and reports
//! (progress, summary table, JUnit XML).

pub mod exec;
pub mod matching;
pub mod model;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

pub use exec::{Outcome, Target};
pub use model::{load, parse, Scenario};

/// Options of `aksim scenario run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    /// Run only scenarios whose name or path contains this text (case-insensitive).
    pub filter: Option<String>,
    pub jobs: usize,
}

/// The result of a whole run.
#[derive(Debug)]
pub struct Report {
    pub outcomes: Vec<Outcome>,
    /// Files that could not be read or parsed: (path, reason).
    pub invalid: Vec<String>,
    pub duration: Duration,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.failure.is_none()).count()
    }
    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.passed() + self.invalid.len()
    }
    pub fn skipped_steps(&self) -> usize {
        self.outcomes.iter().map(|o| o.skipped).sum()
    }
    pub fn ok(&self) -> bool {
        self.failed() == 0 && !self.outcomes.is_empty()
    }

    /// The summary table and every failure with its details.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let width = self
            .outcomes
            .iter()
            .map(|o| o.name.chars().count())
            .max()
            .unwrap_or(8)
            .clamp(8, 70);
        out.push_str(&format!(
            "{:<width$}  {:>5}  {:>7}  {:>8}  result\n",
            "scenario", "steps", "skipped", "ms"
        ));
        for o in &self.outcomes {
            let name: String = o.name.chars().take(width).collect();
            out.push_str(&format!(
                "{name:<width$}  {:>5}  {:>7}  {:>8.1}  {}\n",
                o.steps,
                o.skipped,
                o.duration.as_secs_f64() * 1000.0,
                if o.failure.is_none() { "ok" } else { "FAILED" }
            ));
        }
        for o in self.outcomes.iter().filter(|o| o.failure.is_some()) {
            out.push_str(&format!("\nFAILED {} ({})\n", o.name, o.path.display()));
            if let Some(f) = &o.failure {
                out.push_str(&f.to_string());
            }
        }
        for o in self.outcomes.iter().filter(|o| o.note.is_some()) {
            out.push_str(&format!(
                "\nSKIPPED {}: {}\n",
                o.name,
                o.note.as_deref().unwrap_or("")
            ));
        }
        for reason in &self.invalid {
            out.push_str(&format!("\nINVALID {reason}\n"));
        }
        out.push_str(&format!(
            "\nscenarios: {} passed, {} failed, {} steps skipped (simulator-only) in {:.2}s\n",
            self.passed(),
            self.failed(),
            self.skipped_steps(),
            self.duration.as_secs_f64()
        ));
        out
    }

    /// JUnit XML for CI systems.
    pub fn junit(&self) -> String {
        fn esc(s: &str) -> String {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<testsuite name=\"aksim-scenarios\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">\n",
            self.outcomes.len() + self.invalid.len(),
            self.failed(),
            self.duration.as_secs_f64()
        ));
        for o in &self.outcomes {
            out.push_str(&format!(
                "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                esc(&o.path.display().to_string()),
                esc(&o.name),
                o.duration.as_secs_f64()
            ));
            match &o.failure {
                None if o.skipped > 0 => out.push_str(&format!(
                    "><system-out>{} simulator-only steps skipped</system-out></testcase>\n",
                    o.skipped
                )),
                None => out.push_str("/>\n"),
                Some(f) => out.push_str(&format!(
                    "><failure message=\"{}\">{}</failure></testcase>\n",
                    esc(f.detail.lines().next().unwrap_or("failed")),
                    esc(&f.to_string())
                )),
            }
        }
        for reason in &self.invalid {
            out.push_str(&format!(
                "  <testcase classname=\"invalid\" name=\"{}\"><failure message=\"invalid scenario file\">{}</failure></testcase>\n",
                esc(reason.split(':').next().unwrap_or("file")),
                esc(reason)
            ));
        }
        out.push_str("</testsuite>\n");
        out
    }
}

/// Loads every scenario under `options.paths` and runs them, `jobs` at a time.
pub async fn run(
    options: &RunOptions,
    target: &Target,
    mut progress: impl FnMut(&Outcome),
) -> Result<Report, String> {
    let started = Instant::now();
    let files = model::discover(&options.paths)?;
    let mut loaded = Vec::new();
    let mut invalid = Vec::new();
    for file in files {
        match load(&file) {
            Ok(l) => loaded.push(l),
            Err(e) => invalid.push(e),
        }
    }
    if let Some(filter) = &options.filter {
        let f = filter.to_lowercase();
        loaded.retain(|l| {
            l.scenario.name.to_lowercase().contains(&f)
                || l.path.display().to_string().to_lowercase().contains(&f)
        });
    }
    let jobs = options.jobs.max(1);
    let mut stream =
        futures_util::stream::iter(loaded.iter().map(|l| exec::run_one(l, target))).buffered(jobs);
    let mut outcomes = Vec::with_capacity(loaded.len());
    while let Some(outcome) = stream.next().await {
        progress(&outcome);
        outcomes.push(outcome);
    }
    Ok(Report {
        outcomes,
        invalid,
        duration: started.elapsed(),
    })
}

/// The in-process target every test and `aksim scenario run` use by default: operations take
/// no virtual time unless a scenario says so.
pub fn in_process_target() -> Target {
    let mut config = crate::config::Config::for_tests();
    config.seed = None;
    Target::InProcess(Box::new(config))
}

/// A client for `--target` that trusts `ca` (PEM) in addition to nothing else.
pub fn remote_target(
    base: &str,
    ca: Option<&Path>,
    token: Option<String>,
) -> Result<Target, String> {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(60));
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let cert =
            reqwest::Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", ca.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    Ok(Target::Remote {
        base: base.trim_end_matches('/').to_owned(),
        client,
        token: token.unwrap_or_else(|| "aksim-scenario-runner".to_owned()),
    })
}
