//! The scenario runner: the whole `scenarios/` tree passes in-process; the runner fails
//! precisely against targets that answer wrongly (wiremock stands in for them); invalid files
//! name their file, line and reason; `--target` mode works against a live aksim and skips a
//! scenario with simulator-only steps against a target without `/_sim` (as a whole, with the
//! reason). The CLI's counts, JUnit file and exit status: `scenario_cli.rs`.

use std::path::PathBuf;
use std::time::Duration;

use aksim::scenario::{self, RunOptions, Target};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn tree() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_in_the_tree_passes_in_process() {
    let options = RunOptions {
        paths: vec![tree()],
        filter: None,
        jobs: 4,
    };
    let report = scenario::run(&options, &scenario::in_process_target(), |_| {})
        .await
        .unwrap();
    assert!(
        report.outcomes.len() >= 4,
        "the tree holds the scenario library"
    );
    assert!(report.ok(), "{}", report.render(false));
    assert_eq!(report.skipped(), 0, "{}", report.render(false));
    assert_eq!(report.passed(), report.outcomes.len());
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn remote(base: &str, timeout: Duration) -> Target {
    Target::remote(
        base,
        reqwest::Client::builder().timeout(timeout).build().unwrap(),
        Some("t".into()),
    )
}

async fn run_file(path: PathBuf, target: &Target) -> scenario::Report {
    let options = RunOptions {
        paths: vec![path],
        filter: None,
        jobs: 1,
    };
    scenario::run(&options, target, |_| {}).await.unwrap()
}

const CREATE_GROUP: &str = r#"
name: create a group
steps:
  - request: {method: PUT, path: "/subscriptions/{{subscription}}/resourcegroups/rg1", apiVersion: "2024-11-01", body: {location: eastus}}
    expect:
      status: 201
      headers: {x-ms-request-id: "{{any}}"}
      body: {name: rg1, properties: {provisioningState: Succeeded}}
"#;

/// The failure message of the only scenario in a report.
fn failure_of(report: &scenario::Report) -> String {
    assert!(!report.ok(), "the run must fail");
    report.outcomes[0]
        .failure()
        .map(|f| f.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_runner_fails_on_a_wrong_status() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-ms-request-id", "r").set_body_json(
            serde_json::json!({"name": "rg1", "properties": {"provisioningState": "Succeeded"}}),
        ))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let report = run_file(
        write(&dir, "s.yaml", CREATE_GROUP),
        &remote(&server.uri(), Duration::from_secs(5)),
    )
    .await;
    let message = failure_of(&report);
    assert!(
        message.contains("status: expected 201, got 200"),
        "{message}"
    );
    assert!(message.contains("at step 1"), "{message}");
}

#[tokio::test]
async fn the_runner_fails_on_a_wrong_body_and_a_missing_header() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-ms-request-id", "r").set_body_json(
            serde_json::json!({"name": "rg1", "properties": {"provisioningState": "Creating"}}),
        ))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let report = run_file(
        write(&dir, "s.yaml", CREATE_GROUP),
        &remote(&server.uri(), Duration::from_secs(5)),
    )
    .await;
    let message = failure_of(&report);
    assert!(
        message.contains(
            "body $.properties.provisioningState: expected \"Succeeded\", got \"Creating\""
        ),
        "{message}"
    );

    let bare = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            serde_json::json!({"name": "rg1", "properties": {"provisioningState": "Succeeded"}}),
        ))
        .mount(&bare)
        .await;
    let report = run_file(
        write(&dir, "s.yaml", CREATE_GROUP),
        &remote(&bare.uri(), Duration::from_secs(5)),
    )
    .await;
    let message = failure_of(&report);
    assert!(
        message.contains("header x-ms-request-id: expected {{any}}, got (absent)"),
        "{message}"
    );
}

#[tokio::test]
async fn the_runner_fails_on_a_slow_or_dropped_response() {
    let server = MockServer::start().await;
    Mock::given(path_regex(".*"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_millis(800)))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let report = run_file(
        write(&dir, "s.yaml", CREATE_GROUP),
        &remote(&server.uri(), Duration::from_millis(200)),
    )
    .await;
    // The runner first asks what the target is (`/_sim/info`): no answer in time is a
    // failure naming the request, never a guess.
    let message = failure_of(&report);
    assert!(
        message.contains("/_sim/info") && message.to_lowercase().contains("timed out"),
        "{message}"
    );

    // A server that accepts and hangs up without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    let report = run_file(
        write(&dir, "s.yaml", CREATE_GROUP),
        &remote(&format!("http://{addr}"), Duration::from_secs(5)),
    )
    .await;
    let message = failure_of(&report);
    assert!(
        message.contains(&format!("GET http://{addr}/_sim/info")),
        "{message}"
    );
}

#[tokio::test]
async fn a_scenario_with_simulator_only_steps_is_skipped_against_a_plain_target() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201).insert_header("x-ms-request-id", "r").set_body_json(
            serde_json::json!({"name": "rg1", "properties": {"provisioningState": "Succeeded"}}),
        ))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let report = run_file(
        write(
            &dir,
            "s.yaml",
            &format!("{CREATE_GROUP}  - advanceClock: 5\n"),
        ),
        &remote(&server.uri(), Duration::from_secs(5)),
    )
    .await;
    assert_eq!(
        (report.passed(), report.failed(), report.skipped()),
        (0, 0, 1),
        "{}",
        report.render(false)
    );
    assert_eq!(
        report.outcomes[0].skip_reason(),
        Some("needs aksim's control API (/_sim) for step 2 (advanceClock); the target has none")
    );
    assert_eq!(report.outcomes[0].steps_run, 0, "nothing of it ran");
    assert!(!report.ok(), "a run in which nothing ran is no success");
    assert!(report
        .junit()
        .contains("<skipped message=\"needs aksim's control API"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_mode_runs_the_library_against_a_live_aksim() {
    let state = aksim::AppState::for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(aksim::serve(listener, None, aksim::app(state), async {
        let _ = stopped.await;
    }));
    let options = RunOptions {
        paths: vec![tree().join("foundation")],
        filter: None,
        jobs: 1,
    };
    let target = remote(&format!("http://{addr}"), Duration::from_secs(10));
    let report = scenario::run(&options, &target, |_| {}).await.unwrap();
    assert!(report.ok(), "{}", report.render(false));
    assert_eq!(
        report.skipped(),
        0,
        "a live aksim runs simulator-only steps too"
    );
    let _ = stop.send(());
    server.await.unwrap();
}

#[test]
fn invalid_files_name_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "bad.yaml",
        "name: x\nsteps:\n  - request: {method: GET, path: /}\n    expekt: {status: 200}\n",
    );
    let err = scenario::load(&path).unwrap_err();
    assert!(err.starts_with(&format!("{}:4:", path.display())), "{err}");
    assert!(err.contains("unknown field `expekt`"), "{err}");
    let two = write(
        &dir,
        "two.yaml",
        "name: x\nsteps:\n  - {advanceClock: 1, waitForOperation: u}\n",
    );
    assert!(scenario::load(&two).unwrap_err().contains("exactly one of"));
    let empty = write(&dir, "empty.json", r#"{"name": "x", "steps": []}"#);
    assert!(scenario::load(&empty)
        .unwrap_err()
        .contains("at least one step"));
}

#[test]
fn a_setting_under_setup_names_its_new_place() {
    let err = scenario::parse(
        "name: x\nsetup:\n  operationDurations: {default: 0}\nsteps:\n  - advanceClock: 1\n",
        false,
    )
    .unwrap_err();
    assert!(
        err.contains("unknown field `operationDurations`")
            && err.contains("moved from `setup` to `settings`"),
        "{err}"
    );
    let err = scenario::parse(
        "name: x\nsettings:\n  operationDurations: {clusterCreat: 1}\nsteps:\n  - advanceClock: 1\n",
        false,
    )
    .unwrap_err();
    assert!(err.contains("unknown kind"), "{err}");
}

#[test]
fn the_published_schema_is_the_one_the_runner_enforces() {
    let published: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tree().join("../docs/scenario-schema.json")).unwrap(),
    )
    .unwrap();
    assert!(
        published == aksim::scenario::model::json_schema(),
        "docs/scenario-schema.json is stale; regenerate with: \
         cargo run -p aksim -- scenario schema > docs/scenario-schema.json"
    );
}
/// Every rule in the registry has a scenario tagged `rule:<id>` that runs on a day the rule is
/// in force, and every rule that came or went on a day (`since` after the add-on's first day,
/// or an `until`) one more on a day it was not: the behaviour before (or after) the change.
/// The scenario's day is its `settings.azureDate`, else the newest day of the data.
#[test]
fn every_rule_has_a_scenario_on_each_side_of_its_dates() {
    let t = aksim::core::timeline::timeline();
    let files = aksim::scenario::model::discover(&[tree()]).unwrap();
    let mut days: std::collections::BTreeMap<String, Vec<aksim::core::timeline::Day>> =
        Default::default();
    for file in files {
        let loaded = scenario::load(&file).unwrap();
        let mut scenario_days = vec![match &loaded.scenario.settings.azure_date {
            Some(d) => t.check_day(d, "azureDate").unwrap(),
            None => t.newest_day(),
        }];
        // An `azureDate` step moves the scenario to another day for the steps after it.
        for step in &loaded.scenario.steps {
            if let Some(d) = &step.azure_date {
                scenario_days.push(t.check_day(d, "azureDate").unwrap());
            }
        }
        for tag in &loaded.scenario.tags {
            if let Some(id) = tag.strip_prefix("rule:") {
                days.entry(id.to_owned())
                    .or_default()
                    .extend(scenario_days.iter().copied());
            }
        }
    }
    let first = aksim::core::timeline::parse_day(aksim::core::clusters::rules::ADDON_FIRST_DAY);
    let mut problems = Vec::new();
    for rule in aksim::core::clusters::rules::rules() {
        let seen = days.get(rule.id).cloned().unwrap_or_default();
        if !seen.iter().any(|d| rule.in_force(*d)) {
            problems.push(format!("{}: no scenario on a day it is in force", rule.id));
        }
        let dated = rule.until.is_some() || aksim::core::timeline::parse_day(rule.since) != first;
        if dated && !seen.iter().any(|d| !rule.in_force(*d)) {
            problems.push(format!(
                "{}: no scenario on a day it is not in force (since {}, until {:?})",
                rule.id, rule.since, rule.until
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
