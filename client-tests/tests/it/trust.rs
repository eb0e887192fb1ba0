//! docs/troubleshooting.md, checked against the real clients: each README recipe minus the
//! one variable that makes the client trust aksim's CA, run with the pinned client, prints
//! what the page's table says (every backticked text of the row's "what it prints" cell, `…`
//! standing for anything).

use crate::support::az::{Az, Login};
use crate::support::sim::spawn_sim;
use crate::support::{node, python, CLIENT_ID, TENANT};

/// The texts the page says a client prints, from the row whose first cell starts with `row`.
fn documented(row: &str) -> Vec<String> {
    let page =
        std::fs::read_to_string(crate::support::venv::repo_root().join("docs/troubleshooting.md"))
            .expect("docs/troubleshooting.md");
    let line = page
        .lines()
        .find(|l| l.starts_with(&format!("| {row}")))
        .unwrap_or_else(|| panic!("no row '{row}' in docs/troubleshooting.md"));
    let cell = line.split(" | ").nth(2).expect("a 'what it prints' cell");
    let texts: Vec<String> = cell
        .split('`')
        .skip(1)
        .step_by(2)
        .flat_map(|t| t.split('…').map(str::to_owned).collect::<Vec<_>>())
        .filter(|t| !t.trim().is_empty())
        .collect();
    assert!(
        !texts.is_empty(),
        "the row quotes what the client prints: {line}"
    );
    texts
}

#[track_caller]
fn assert_prints(row: &str, output: &str) {
    for text in documented(row) {
        assert!(
            output.contains(&text),
            "docs/troubleshooting.md says the client prints\n  {text}\nit printed:\n{output}"
        );
    }
}

fn login_args() -> [&'static str; 8] {
    [
        "login",
        "--service-principal",
        "-u",
        CLIENT_ID,
        "-p",
        "any-secret",
        "--tenant",
        TENANT,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_env_only_without_ssl_cert_file() {
    let sim = spawn_sim(|_| {}).await;
    let mut az = Az::new(&sim, Login::EnvOnly).await;
    az.unset("SSL_CERT_FILE");
    let run = az.run(&login_args()).await;
    assert_ne!(run.code, 0, "{run}");
    assert_prints("az, environment only", &run.stderr);
    assert!(run.stderr.lines().count() > 40, "a long traceback: {run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_without_requests_ca_bundle() {
    let sim = spawn_sim(|_| {}).await;
    let mut az = Az::new(&sim, Login::EnvOnly).await;
    az.unset("REQUESTS_CA_BUNDLE");
    let run = az.run(&login_args()).await;
    assert_ne!(run.code, 0, "{run}");
    assert_prints("az, either set-up", &run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_without_requests_ca_bundle() {
    let sim = spawn_sim(|_| {}).await;
    let run = python::run_script_without(
        &sim,
        "sdk",
        "sdk_resource_groups.py",
        &[],
        &["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"],
    )
    .await;
    assert_ne!(run.code, 0, "{run}");
    assert_prints("Azure Python SDK", &run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_sdk_without_node_extra_ca_certs() {
    let sim = spawn_sim(|c| c.auto_register_providers = true).await;
    for (mode, row) in [
        (
            "secret",
            "Azure JavaScript SDK with `ClientSecretCredential`",
        ),
        ("static", "Azure JavaScript SDK with a token of its own"),
    ] {
        let run =
            node::run_script_without(&sim, "aks_mesh.mjs", &[mode], &["NODE_EXTRA_CA_CERTS"]).await;
        assert_ne!(run.code, 0, "{run}");
        assert_prints(row, &format!("{}{}", run.stdout, run.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_without_cacert_and_http_to_the_https_port() {
    let sim = spawn_sim(|_| {}).await;
    let curl = |url: String| async move {
        let mut command = tokio::process::Command::new("curl");
        command.args(["--silent", "--show-error", "--include", &url]);
        crate::support::process::run(command, std::time::Duration::from_secs(30)).await
    };
    let untrusted = curl(sim.url("/_sim/health")).await;
    assert_eq!(untrusted.code, 60, "{untrusted}");
    assert_prints("curl", &untrusted.stderr);
    let plain = curl(sim.url("/_sim/health").replacen("https://", "http://", 1)).await;
    assert_prints("any client, `http://`", &plain.stdout);
    assert!(
        plain
            .stdout
            .contains(&format!("use {}", sim.url("/_sim/health"))),
        "{plain}"
    );
}
