//! Runs a script from `client-tests/js/` with Node.js against one `SimHandle` (the Azure
//! JavaScript SDK tests).
//!
//! The npm packages are pinned in `client-tests/js/package.json` and `package-lock.json`;
//! `.ci/run` installs them with `npm ci`. When `node_modules` is missing the test fails with
//! that fix instead of skipping. The script gets `AKSIM_BASE_URL`, `AKSIM_SUBSCRIPTION`,
//! `AKSIM_TENANT` and `AKSIM_CLIENT_ID`, and trusts aksim's CA through `NODE_EXTRA_CA_CERTS`.
//! It reports by exit code and by JSON on stdout.

use std::time::Duration;

use super::process::{self, ClientRun};
use super::sim::SimHandle;
use super::{CLIENT_ID, SUB, TENANT};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `node client-tests/js/<script> args…`; panics with the fix when the npm packages are
/// not installed.
pub async fn run_script(sim: &SimHandle, script: &str, args: &[&str]) -> ClientRun {
    let dir = super::venv::repo_root().join("client-tests/js");
    assert!(
        dir.join("node_modules/@azure/arm-containerservice/package.json")
            .is_file(),
        "the JavaScript SDK is not installed in {}; to fix it, run from the repository root \
         (needs Node.js 20+ and npm, and the package registry reachable):\n    \
         cd client-tests/js && npm ci",
        dir.display()
    );
    let home = tempfile::tempdir().expect("temp HOME");
    let mut command = tokio::process::Command::new("node");
    command
        .arg(dir.join(script))
        .args(args)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("LANG", "C.UTF-8")
        .env("NODE_EXTRA_CA_CERTS", &sim.ca_path)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("AKSIM_BASE_URL", &sim.base_url)
        .env("AKSIM_SUBSCRIPTION", SUB)
        .env("AKSIM_TENANT", TENANT)
        .env("AKSIM_CLIENT_ID", CLIENT_ID);
    process::run(command, SCRIPT_TIMEOUT).await
}
