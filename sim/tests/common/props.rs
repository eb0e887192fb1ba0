//! The model-based property runner shared by the property tests: a sequence of actions becomes
//! a scenario (each step's expectation predicted by a reference model), the scenario runs
//! in-process, and a failing sequence is shrunk by proptest and written out as a scenario file.
#![allow(dead_code)]

use std::fmt::Debug;
use std::path::PathBuf;

use aksim::scenario::exec;
use aksim::scenario::model::{Loaded, Scenario, Step};
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestCaseError, TestError, TestRunner};

/// Cases per property: 48 by default, `PROPTEST_CASES=N` for more.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

/// Runs one generated scenario; the failure text if aksim and the model disagree.
pub fn check(rt: &tokio::runtime::Runtime, scenario: Scenario) -> Result<(), String> {
    let loaded = Loaded {
        path: PathBuf::from("(generated)"),
        scenario,
    };
    let outcome = rt.block_on(exec::run_one(
        &loaded,
        &aksim::scenario::in_process_target(),
    ));
    match outcome.verdict {
        aksim::scenario::Verdict::Passed => Ok(()),
        aksim::scenario::Verdict::Failed(f) => Err(f.to_string()),
        aksim::scenario::Verdict::Skipped(why) => Err(format!("skipped in-process: {why}")),
    }
}

/// Writes a minimal failing scenario; returns its path (`AKSIM_PROPTEST_OUT` or
/// `target/aksim-proptest/`).
pub fn write_reproducer(mut scenario: Scenario, actions: usize, why: &str) -> PathBuf {
    let dir = std::env::var_os("AKSIM_PROPTEST_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/aksim-proptest")
        });
    std::fs::create_dir_all(&dir).expect("reproducer folder");
    scenario.name = format!("proptest reproducer: {} ({actions} actions)", scenario.name);
    scenario.description = format!("Shrunk by proptest. The failure was:\n{why}");
    let text = yaml_serde::to_string(&scenario).expect("scenario serialises");
    let slug: String = scenario
        .tags
        .first()
        .map(|t| t.chars().filter(|c| c.is_ascii_alphanumeric()).collect())
        .unwrap_or_default();
    let path = dir.join(format!(
        "reproducer-{slug}-{}-{actions}.yaml",
        std::process::id()
    ));
    std::fs::write(&path, text).expect("write reproducer");
    path
}

/// Runs the property over sequences of `action` (1 to `max_len` long) turned into scenarios by
/// `to_scenario` (after `prefix` steps). On failure writes the shrunk reproducer and returns
/// its path and the failure.
pub fn run_property<A: Clone + Debug>(
    cases: u32,
    max_len: usize,
    action: impl Strategy<Value = A>,
    prefix: &[Step],
    to_scenario: impl Fn(&[Step], &[A]) -> Scenario,
) -> Result<(), (PathBuf, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut runner = TestRunner::new(PropConfig {
        cases,
        failure_persistence: None,
        ..PropConfig::default()
    });
    let result = runner.run(&prop::collection::vec(action, 1..max_len), |actions| {
        check(&rt, to_scenario(prefix, &actions)).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, minimal)) => Err((
            write_reproducer(to_scenario(prefix, &minimal), minimal.len(), why.message()),
            why.message().to_owned(),
        )),
        Err(TestError::Abort(why)) => Err((PathBuf::new(), why.message().to_owned())),
    }
}
