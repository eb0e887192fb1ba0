//! Scenario files and their runner: the language tool authors use to describe the Azure
//! behaviour their tool must survive (`docs/scenarios.md`).
//!
//! `model` is the file format and `validate` its checks, `matching` the expectations, `plan`
//! what a scenario needs of its target (skip reasons, settings applied and put back),
//! `session` one scenario's requests, `steps` one step, `exec` one scenario from start to
//! verdict, `report` the summary and JUnit XML; this module runs many.

pub mod exec;
pub mod matching;
pub mod model;
pub mod plan;
pub mod report;
mod session;
mod steps;
pub mod validate;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

pub use exec::{Outcome, Target, Verdict};
pub use model::{load, parse, Scenario};
pub use report::Report;

/// Options of `aksim scenario run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    /// Run only scenarios whose name or path contains this text (case-insensitive).
    pub filter: Option<String>,
    pub jobs: usize,
}

/// Loads every scenario under `options.paths` and runs them, `jobs` at a time. On a live
/// aksim, scenarios that change or move something every subscription sees
/// ([`plan::runs_alone`]) run one by one after the others, with nothing else in flight.
/// `progress` sees each outcome as it comes; the report lists them in file order.
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
    let live_aksim = matches!(target.probe().await, Some(Ok(p)) if p.sim);
    let (alone, together): (Vec<_>, Vec<_>) = loaded
        .iter()
        .enumerate()
        .partition(|(_, l)| live_aksim && plan::runs_alone(&l.scenario));
    let mut outcomes = Vec::with_capacity(loaded.len());
    let mut stream = futures_util::stream::iter(
        together
            .into_iter()
            .map(|(i, l)| async move { (i, exec::run_one(l, target).await) }),
    )
    .buffer_unordered(options.jobs.max(1));
    while let Some((i, outcome)) = stream.next().await {
        progress(&outcome);
        outcomes.push((i, outcome));
    }
    for (i, l) in alone {
        let outcome = exec::run_one(l, target).await;
        progress(&outcome);
        outcomes.push((i, outcome));
    }
    outcomes.sort_by_key(|(i, _)| *i);
    Ok(Report {
        outcomes: outcomes.into_iter().map(|(_, o)| o).collect(),
        invalid,
        duration: started.elapsed(),
    })
}

/// The in-process target `aksim scenario run` uses without `--target`: a simulator per
/// scenario with aksim's default flags (as `aksim` starts without any), changed only by the
/// scenario's `settings` — so a scenario behaves the same in-process and against an aksim
/// started with default flags.
pub fn in_process_target() -> Target {
    let config = crate::config::Config {
        addr: "127.0.0.1:0".parse().expect("static address"),
        http: true,
        ..crate::config::Config::default()
    };
    Target::InProcess(Box::new(config))
}

/// A client for `--target` that trusts `ca` (PEM) and nothing else (no system roots).
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
    Ok(Target::remote(base, client, token))
}
