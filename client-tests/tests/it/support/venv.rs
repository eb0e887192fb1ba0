//! Pinned Python venvs for the client tests, created on first use.
//!
//! `venv("az")` runs `client-tests/python/bootstrap-venv.sh az <target>/client-venvs/az` once
//! per test process; the script does the real work (venv + `pip install -r
//! client-tests/python/az-requirements.txt`), keeps a stamp of the pins so a changed pin
//! re-installs, and holds an exclusive `flock` while it installs, so concurrent test
//! processes never race (the waiting one polls the lock, bounded at 900 s — a wait for another
//! process's install, not a sleep in test logic). `.ci/run` calls the same script before the
//! tests, so CI finds the venvs ready.
//!
//! No network, no python3, no pip: the test fails and says what to run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

type Slot = Arc<OnceCell<Result<PathBuf, String>>>;

/// The repository root (the workspace holding `client-tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("client-tests sits in the workspace root")
        .to_path_buf()
}

/// The cargo target directory this test binary was built into (`<target>/<profile>/deps/it-…`),
/// so the venvs live beside the build and `CARGO_TARGET_DIR` is honoured.
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| repo_root().join("target"))
}

/// Where venv `name` lives.
pub fn venv_dir(name: &str) -> PathBuf {
    target_dir().join("client-venvs").join(name)
}

/// The ready venv `name` (`az` or `sdk`), created on first use. Panics with the fix when it
/// cannot be made.
pub async fn venv(name: &str) -> PathBuf {
    static SLOTS: Mutex<Option<HashMap<String, Slot>>> = Mutex::new(None);
    let slot: Slot = {
        let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        slots
            .get_or_insert_with(HashMap::new)
            .entry(name.to_owned())
            .or_default()
            .clone()
    };
    let result = slot.get_or_init(|| bootstrap(name.to_owned())).await;
    match result {
        Ok(path) => path.clone(),
        Err(message) => panic!("{message}"),
    }
}

async fn bootstrap(name: String) -> Result<PathBuf, String> {
    let script = repo_root().join("client-tests/python/bootstrap-venv.sh");
    let dir = venv_dir(&name);
    let fix = format!(
        "to fix it, run from the repository root (needs python3 with venv and pip, and the \
         package registry reachable):\n    bash client-tests/python/bootstrap-venv.sh {name} {dir}\n\
         which does: python3 -m venv {dir} && {dir}/bin/pip install -r \
         client-tests/python/{name}-requirements.txt",
        dir = dir.display()
    );
    let output = tokio::process::Command::new("bash")
        .arg(&script)
        .arg(&name)
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run bash {}: {e}; {fix}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "the Python venv '{name}' could not be created ({}).\n--- output ---\n{}{}\n--- \
             ---\n{fix}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        ));
    }
    if !dir.join("bin/python").exists() {
        return Err(format!(
            "bootstrap-venv.sh succeeded but {} has no bin/python; {fix}",
            dir.display()
        ));
    }
    Ok(dir)
}
