//! Runs a script from `client-tests/python/` with a venv's interpreter against one
//! `SimHandle` (the Azure Python SDK tests use the `sdk` venv).
//!
//! The script gets `AKSIM_BASE_URL`, `AKSIM_SUBSCRIPTION`, `AKSIM_TENANT` and
//! `AKSIM_CLIENT_ID`, and trusts aksim through `REQUESTS_CA_BUNDLE` (the same concatenated
//! bundle az uses). It reports by exit code and by JSON on stdout.

use std::time::Duration;

use super::az::write_bundle;
use super::process::{self, ClientRun};
use super::sim::SimHandle;
use super::{CLIENT_ID, SUB, TENANT};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `python client-tests/python/<script> args…` in venv `venv_name`.
pub async fn run_script(
    sim: &SimHandle,
    venv_name: &str,
    script: &str,
    args: &[&str],
) -> ClientRun {
    run_script_without(sim, venv_name, script, args, &[]).await
}

/// [`run_script`] without the environment variables named in `unset`.
pub async fn run_script_without(
    sim: &SimHandle,
    venv_name: &str,
    script: &str,
    args: &[&str],
    unset: &[&str],
) -> ClientRun {
    let venv = super::venv::venv(venv_name).await;
    let home = tempfile::tempdir().expect("temp HOME");
    let bundle = write_bundle(sim, &venv, home.path());
    let path = super::venv::repo_root()
        .join("client-tests/python")
        .join(script);
    let mut command = tokio::process::Command::new(venv.join("bin/python"));
    command
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
        .env("AKSIM_CLIENT_ID", CLIENT_ID);
    for name in unset {
        command.env_remove(name);
    }
    process::run(command, SCRIPT_TIMEOUT).await
}
