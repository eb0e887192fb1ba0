//! Parity you can measure: replay recorded real AKS traffic (vcrpy cassettes, the format the
//! Azure CLI's tests record against real Azure) against aksim and compare every answer, and
//! record new traffic through a proxy. docs/parity.md is the user guide and the figure.
//!
//! - `cassette`: the file format (read, write, errors with file and line).
//! - `plan`: the setup, clock and operation timing a cassette needs, derived from it.
//! - `target`: where it replays (fresh in-process aksim or `--target`), the date hook.
//! - `replay`: one cassette, exchange by exchange, polls matched by operation.
//! - `compare` + `rules`: one exchange against its recording, under the normalisation rules
//!   (`data/parity-normalise.json`).
//! - `report`: text, JSON, JUnit, the baseline; `accepted`: the `--ignore` file.
//! - `record`: the recording proxy (`aksim record`); `to_scenario`: cassette → scenario file.
//! - `cli`: the `aksim parity` and `aksim record` subcommands.

pub mod accepted;
pub mod cassette;
pub mod cli;
pub mod compare;
pub mod plan;
pub mod record;
pub mod replay;
pub mod report;
pub mod rules;
pub mod target;
pub mod to_scenario;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;

pub use cassette::Cassette;
pub use replay::{replay, CassetteResult};
pub use report::{Baseline, Ignore, Report};
pub use rules::Rules;
pub use target::Target;

/// What to replay and how.
#[derive(Clone)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub target: Target,
    pub rules: Arc<Rules>,
    pub ignore: Option<Arc<Ignore>>,
    /// Cassettes replayed at once (in-process only: a remote target's clock is shared).
    pub jobs: usize,
}

impl Options {
    /// In-process, the built-in rules, no ignore file.
    pub fn in_process(paths: Vec<PathBuf>) -> Options {
        Options {
            paths,
            target: target::in_process(),
            rules: Arc::new(Rules::embedded()),
            ignore: None,
            jobs: 4,
        }
    }
}

/// Replays every cassette under `options.paths`.
pub async fn run(options: &Options) -> Result<Report, String> {
    let started = Instant::now();
    let files = cassette::discover(&options.paths)?;
    let mut loaded = Vec::new();
    let mut invalid = Vec::new();
    for file in files {
        match cassette::load(&file) {
            Ok(c) => loaded.push(c),
            Err(e) => invalid.push(e),
        }
    }
    let jobs = match options.target {
        Target::InProcess(_) => options.jobs.max(1),
        Target::Remote { .. } => 1,
    };
    let mut stream = futures_util::stream::iter(loaded.into_iter().map(|c| {
        let target = options.target.clone();
        let rules = options.rules.clone();
        let ignore = options.ignore.clone();
        tokio::spawn(async move {
            let mut result = replay(&c, &target, &rules).await;
            if let Some(ignore) = &ignore {
                ignore.apply(&mut result);
            }
            result
        })
    }))
    .buffered(jobs);
    let mut cassettes = Vec::new();
    while let Some(joined) = stream.next().await {
        match joined {
            Ok(result) => cassettes.push(result),
            Err(e) => invalid.push(format!("a replay task failed: {e}")),
        }
    }
    Ok(Report {
        cassettes,
        invalid,
        duration: started.elapsed(),
    })
}

/// An error with its causes (`error sending request: …: connection refused`).
pub fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let error: &dyn std::error::Error = error;
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
