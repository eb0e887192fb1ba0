//! `aksim scenario` as a user runs it: the real binary serves with its default flags, the
//! real binary runs the scenarios against it (`--target`), and the test reads what the user
//! reads — the summary, the JUnit file, the exit status — and the server's settings before and
//! after. A testing tool must never report what it did not run: every scenario ends passed,
//! failed or skipped (with the reason), each is counted once, and the server is left as found.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const WAIT: Duration = Duration::from_secs(30);

fn library() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// The real binary serving with its default flags (and `extra`), on a free port.
struct Server {
    child: Child,
    url: String,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let tls = dir.path().join("tls");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aksim"))
        .args(["--addr", "127.0.0.1:0", "--tls-dir"])
        .arg(&tls)
        .args(extra)
        .env("AKSIM_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the aksim binary starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = tx.send(first);
        }
        for _ in lines {}
    });
    let line = rx.recv_timeout(WAIT).expect("the ready line");
    let url = line
        .strip_prefix("aksim listening on ")
        .expect("ready line")
        .to_owned();
    Server {
        child,
        url,
        ca: tls.join("ca.pem"),
        _dir: dir,
    }
}

/// What a user sees of one `aksim scenario …` command.
struct Cli {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn aksim(args: &[&str]) -> Cli {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aksim"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("the aksim binary runs");
    Cli {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl std::fmt::Display for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The summary line's three counts.
fn counts(cli: &Cli) -> (usize, usize, usize) {
    let line = cli
        .stdout
        .lines()
        .find(|l| l.starts_with("scenarios: "))
        .unwrap_or_else(|| panic!("no summary line:\n{cli}"));
    let number = |word: &str| -> usize {
        let before = line
            .split(&format!(" {word}"))
            .next()
            .unwrap_or_else(|| panic!("'{word}' missing in {line}"));
        before
            .rsplit([' ', ','])
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count before '{word}' in {line}"))
    };
    (number("passed"), number("failed"), number("skipped"))
}

fn client(ca: &Path) -> reqwest::Client {
    let pem = std::fs::read(ca).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .timeout(WAIT)
        .build()
        .unwrap()
}

/// Every server-wide setting a scenario may touch, as the control API reports it.
async fn settings(server: &Server) -> Value {
    let http = client(&server.ca);
    let mut out = serde_json::Map::new();
    for path in [
        "/_sim/operations/durations",
        "/_sim/operations/scripts",
        "/_sim/registration",
        "/_sim/faults",
    ] {
        let body: Value = http
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        out.insert(path.to_owned(), body);
    }
    let clock: Value = http
        .get(format!("{}/_sim/clock", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    out.insert("frozen".into(), clock["frozen"].clone());
    out.insert("scale".into(), clock["scale"].clone());
    let info: Value = http
        .get(format!("{}/_sim/info", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    out.insert("auth".into(), info["auth"].clone());
    out.insert("aksCatalog".into(), info["aksCatalog"].clone());
    Value::Object(out)
}

fn scenario_files(dir: &Path) -> usize {
    aksim::scenario::model::discover(&[dir.to_path_buf()])
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_passes_against_a_default_server_and_leaves_its_settings_as_found() {
    let server = start(&[]);
    let before = settings(&server).await;
    let out = tempfile::tempdir().unwrap();
    let junit = out.path().join("f.xml");
    let lib = library();
    let cli = aksim(&[
        "scenario",
        "run",
        lib.to_str().unwrap(),
        "--target",
        &server.url,
        "--ca",
        server.ca.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ])
    .await;
    let total = scenario_files(&lib);
    assert_eq!(counts(&cli), (total, 0, 0), "{cli}");
    assert_eq!(cli.code, 0, "{cli}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(&format!(
            "tests=\"{total}\" failures=\"0\" errors=\"0\" skipped=\"0\""
        )),
        "{xml}"
    );
    assert!(!xml.contains("<skipped"), "{xml}");
    let after = settings(&server).await;
    assert_eq!(
        before, after,
        "the run must leave the server's settings as it found them"
    );
}

const NEEDS_CLOCK: &str = "name: needs the clock
steps:
  - request: {method: PUT, path: \"/subscriptions/{{subscription}}/resourcegroups/rg1\", apiVersion: \"2024-11-01\", body: {location: eastus}}
    expect: {status: 201}
  - advanceClock: 5
";

const PLAIN: &str = "name: plain request
steps:
  - request: {method: PUT, path: \"/subscriptions/{{subscription}}/resourcegroups/rg1\", apiVersion: \"2024-11-01\", body: {location: eastus}}
    expect: {status: 201}
";

/// A target that is not aksim: it answers group PUTs and nothing under /_sim.
async fn not_aksim() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"name": "rg1"})))
        .mount(&server)
        .await;
    Mock::given(path("/_sim/health"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_scenario_is_counted_once_as_skipped_with_its_reason() {
    let target = not_aksim().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-needs-clock.yaml"), NEEDS_CLOCK).unwrap();
    std::fs::write(dir.path().join("b-plain.yaml"), PLAIN).unwrap();
    let junit = dir.path().join("f.xml");
    let base = [
        "scenario",
        "run",
        dir.path().to_str().unwrap(),
        "--target",
        &target.uri(),
        "--junit",
        junit.to_str().unwrap(),
    ];
    let cli = aksim(&base).await;
    assert_eq!(counts(&cli), (1, 0, 1), "{cli}");
    assert_eq!(cli.code, 0, "skips alone do not fail a run: {cli}");
    assert!(
        cli.stdout
            .contains("SKIPPED needs the clock: needs aksim's control API (/_sim)"),
        "{cli}"
    );
    assert!(cli.stdout.contains("advanceClock"), "{cli}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"1\""),
        "{xml}"
    );
    assert!(
        xml.contains("<skipped message=\"needs aksim's control API (/_sim)"),
        "{xml}"
    );

    let mut strict = base.to_vec();
    strict.push("--fail-on-skip");
    let cli = aksim(&strict).await;
    assert_eq!(counts(&cli), (1, 0, 1), "{cli}");
    assert_eq!(cli.code, 1, "--fail-on-skip fails a run with a skip: {cli}");
    assert!(cli.stderr.contains("--fail-on-skip"), "{cli}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_run_reports_the_steps_it_ran() {
    let server = start(&[]);
    let lib = library();
    let cli = aksim(&[
        "scenario",
        "run",
        lib.to_str().unwrap(),
        "--filter",
        "seed",
        "--target",
        &server.url,
        "--ca",
        server.ca.to_str().unwrap(),
    ])
    .await;
    assert_eq!(counts(&cli), (1, 0, 0), "{cli}");
    let row = cli
        .stdout
        .lines()
        .find(|l| l.starts_with("The seed flow"))
        .unwrap_or_else(|| panic!("{cli}"));
    assert!(row.contains(" 22/22 "), "every step ran: {row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setting_the_target_cannot_take_skips_with_the_fix() {
    let server = start(&[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("strict.yaml"),
        "name: needs strict auth
settings: {auth: strict}
steps:
  - request: {method: GET, path: \"/subscriptions/{{subscription}}/resourcegroups\", apiVersion: \"2024-11-01\", headers: {Authorization: Bearer not-a-token}}
    expect: {status: 401, error: {code: InvalidAuthenticationToken}}
",
    )
    .unwrap();
    let remote = aksim(&[
        "scenario",
        "run",
        dir.path().to_str().unwrap(),
        "--target",
        &server.url,
        "--ca",
        server.ca.to_str().unwrap(),
    ])
    .await;
    assert_eq!(counts(&remote), (0, 0, 1), "{remote}");
    assert!(
        remote.stdout.contains("--auth strict"),
        "the reason names the flag: {remote}"
    );
    // In-process the runner builds the simulator with the setting: it runs and passes.
    let local = aksim(&["scenario", "run", dir.path().to_str().unwrap()]).await;
    assert_eq!(counts(&local), (1, 0, 0), "{local}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_put_back_even_when_the_scenario_fails() {
    let server = start(&[]);
    let before = settings(&server).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fails.yaml"),
        "name: changes everything, then fails
settings:
  operationDurations: {default: 0, clusterCreate: 7}
  registrationSeconds: 0
  freezeClock: true
setup:
  resourceGroups: {rg1: eastus}
steps:
  - operationScripts: {resourceGroupDelete: {polls: 2}}
  - fault: {method: GET, path: \"*/resourcegroups/nope\", action: {type: error, status: 500}}
  - request: {method: GET, path: \"/subscriptions/{{subscription}}/resourcegroups/rg1\", apiVersion: \"2024-11-01\"}
    expect: {status: 418}
",
    )
    .unwrap();
    let cli = aksim(&[
        "scenario",
        "run",
        dir.path().to_str().unwrap(),
        "--target",
        &server.url,
        "--ca",
        server.ca.to_str().unwrap(),
    ])
    .await;
    assert_eq!(counts(&cli), (0, 1, 0), "{cli}");
    assert_eq!(cli.code, 1, "{cli}");
    assert_eq!(before, settings(&server).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_prints_only_failures_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.yaml"), PLAIN).unwrap();
    let cli = aksim(&["scenario", "run", "-q", dir.path().to_str().unwrap()]).await;
    assert_eq!(cli.code, 0, "{cli}");
    assert_eq!(counts(&cli), (1, 0, 0), "{cli}");
    assert!(
        !cli.stdout.contains("plain request") && cli.stderr.is_empty(),
        "-q prints neither progress nor the table: {cli}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_refuses_an_unknown_placeholder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("typo.yaml"),
        "name: typo
steps:
  - request: {method: PUT, path: \"/subscriptions/{{subscripton}}/resourcegroups/rg1\", apiVersion: \"2024-11-01\", body: {location: eastus}}
    capture: {later: \"header:location\"}
  - request: {method: GET, path: \"{{later}}\"}
    expect: {body: {id: \"{{prefix:{{base}}}}\", name: \"{{anything}}\"}}
",
    )
    .unwrap();
    let cli = aksim(&["scenario", "validate", dir.path().to_str().unwrap()]).await;
    assert_eq!(cli.code, 1, "{cli}");
    assert!(
        cli.stderr.contains("typo.yaml: step 1")
            && cli.stderr.contains("unknown variable '{{subscripton}}'"),
        "{cli}"
    );
    std::fs::write(
        dir.path().join("typo.yaml"),
        "name: typo
steps:
  - request: {method: GET, path: \"/x/{{later}}\"}
  - request: {method: PUT, path: \"/subscriptions/{{subscription}}/resourcegroups/rg1\", apiVersion: \"2024-11-01\", body: {location: eastus}}
    capture: {later: \"header:location\"}
",
    )
    .unwrap();
    let cli = aksim(&["scenario", "validate", dir.path().to_str().unwrap()]).await;
    assert_eq!(cli.code, 1, "a capture is known only after its step: {cli}");
    assert!(cli.stderr.contains("unknown variable '{{later}}'"), "{cli}");
    let lib = library();
    let cli = aksim(&["scenario", "validate", lib.to_str().unwrap()]).await;
    assert_eq!(cli.code, 0, "the library is valid: {cli}");
}
