//! Runs a script from `client-tests/js/` with Node.js against one `SimHandle` (the Azure
//! JavaScript SDK tests).
//!
//! The npm packages are pinned in `client-tests/js/package.json` and `package-lock.json`. The
//! first script of a test process installs them with `client-tests/js/bootstrap-npm.sh`
//! (`npm ci` under a file lock, with a stamp of the lock file, as `bootstrap-venv.sh` does for
//! the Python venvs); `.ci/run` runs the same script before the tests. Only when that cannot
//! work (no Node.js, the package registry unreachable) does the test fail, with the output and
//! the command that fixes it. The script gets `AKSIM_BASE_URL`, `AKSIM_SUBSCRIPTION`,
//! `AKSIM_TENANT` and `AKSIM_CLIENT_ID`, and trusts aksim's CA through `NODE_EXTRA_CA_CERTS`.
//! It reports by exit code and by JSON on stdout.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::OnceCell;

use super::process::{self, ClientRun};
use super::sim::SimHandle;
use super::{CLIENT_ID, SUB, TENANT};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `node client-tests/js/<script> args…`, installing the pinned npm packages first if
/// needed; panics with the fix when they cannot be installed.
pub async fn run_script(sim: &SimHandle, script: &str, args: &[&str]) -> ClientRun {
    run_script_without(sim, script, args, &[]).await
}

/// [`run_script`] without the environment variables named in `unset`.
pub async fn run_script_without(
    sim: &SimHandle,
    script: &str,
    args: &[&str],
    unset: &[&str],
) -> ClientRun {
    let dir = installed().await;
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
    for name in unset {
        command.env_remove(name);
    }
    process::run(command, SCRIPT_TIMEOUT).await
}

/// `client-tests/js` with its pinned packages installed: `bootstrap-npm.sh` runs once per test
/// process (the script itself serialises processes with a lock and is a no-op when the stamp
/// matches). Panics with the output and the fix when it fails.
async fn installed() -> PathBuf {
    static INSTALL: OnceCell<Result<PathBuf, String>> = OnceCell::const_new();
    match INSTALL.get_or_init(install).await {
        Ok(dir) => dir.clone(),
        Err(message) => panic!("{message}"),
    }
}

async fn install() -> Result<PathBuf, String> {
    let dir = super::venv::repo_root().join("client-tests/js");
    let script = dir.join("bootstrap-npm.sh");
    let fix = "to fix it, run from the repository root (needs Node.js 20+ with npm, and the \
               package registry reachable):\n    bash client-tests/js/bootstrap-npm.sh\n\
               which does: cd client-tests/js && npm ci";
    let output = tokio::process::Command::new("bash")
        .arg(&script)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run bash {}: {e}; {fix}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "the JavaScript SDK could not be installed in {} ({}).\n--- output ---\n{}{}\n--- \
             ---\n{fix}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ));
    }
    if !dir
        .join("node_modules/@azure/arm-containerservice/package.json")
        .is_file()
    {
        return Err(format!(
            "bootstrap-npm.sh succeeded but {} has no @azure/arm-containerservice; {fix}",
            dir.join("node_modules").display()
        ));
    }
    Ok(dir)
}
