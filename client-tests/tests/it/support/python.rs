//! Runs a script from `client-tests/python/` with a venv's interpreter against one
//! `SimHandle` (the Azure Python SDK tests use the `sdk` venv).
//!
//! The script gets `AKSIM_BASE_URL`, `AKSIM_SUBSCRIPTION`, `AKSIM_TENANT` and
//! `AKSIM_CLIENT_ID`, and trusts aksim through `REQUESTS_CA_BUNDLE` (the same concatenated
//! bundle az uses). It reports by exit code and by JSON on stdout.

use std::time::{Duration, Instant};

use super::az::{write_bundle, AzRun};
use super::sim::SimHandle;
use super::{CLIENT_ID, SUB, TENANT};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `python client-tests/python/<script> args…` in venv `venv_name`.
pub async fn run_script(sim: &SimHandle, venv_name: &str, script: &str, args: &[&str]) -> AzRun {
    let venv = super::venv::venv(venv_name).await;
    let home = tempfile::tempdir().expect("temp HOME");
    let bundle = write_bundle(sim, &venv, home.path());
    let path = super::venv::repo_root()
        .join("client-tests/python")
        .join(script);
    let started = Instant::now();
    let child = tokio::process::Command::new(venv.join("bin/python"))
        .arg(&path)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("LANG", "C.UTF-8")
        .env("REQUESTS_CA_BUNDLE", &bundle)
        .env("SSL_CERT_FILE", &bundle)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("AKSIM_BASE_URL", &sim.base_url)
        .env("AKSIM_SUBSCRIPTION", SUB)
        .env("AKSIM_TENANT", TENANT)
        .env("AKSIM_CLIENT_ID", CLIENT_ID)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the {venv_name} venv's python: {e}"));
    let output = match tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!("{script}: waiting failed: {e}"),
        Err(_) => panic!("{script} did not finish within {SCRIPT_TIMEOUT:?} (killed)"),
    };
    let mut all = vec![path.display().to_string()];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    AzRun {
        args: all,
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}
