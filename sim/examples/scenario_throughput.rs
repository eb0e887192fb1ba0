//! Scenarios per second for the in-process runner: runs the scenario library (or the files
//! given) repeatedly until at least N scenarios ran, with `--jobs` in parallel, and prints the
//! rate and the average steps per scenario.
//!
//! Usage: `scenario_throughput [N] [PATH...]` (default 1000 and `scenarios/`).

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let target: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let mut paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if paths.is_empty() {
        paths.push(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios"
        )));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let files = aksim::scenario::model::discover(&paths).expect("scenario paths");
        let loaded: Vec<_> = files.iter().map(|f| aksim::scenario::load(f).expect("valid scenario")).collect();
        let target_kind = aksim::scenario::in_process_target();
        let started = std::time::Instant::now();
        let (mut runs, mut steps, mut failed) = (0usize, 0usize, 0usize);
        while runs < target {
            use futures_util::StreamExt;
            let batch: Vec<_> = futures_util::stream::iter(loaded.iter().map(|l| aksim::scenario::exec::run_one(l, &target_kind)))
                .buffer_unordered(4)
                .collect()
                .await;
            for outcome in batch {
                runs += 1;
                steps += outcome.steps_run;
                failed += usize::from(!outcome.passed());
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{runs} scenarios ({:.1} steps each, {failed} failed) in {secs:.2}s = {:.0} scenarios/s",
            steps as f64 / runs as f64,
            runs as f64 / secs
        );
    });
}
