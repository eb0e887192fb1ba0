//! The pytest plugin (`pytest-aksim/`), tested as Python users use it: pytest 8 with the
//! plugin installed from the repository (`pip install -e ./pytest-aksim`) and the pinned Azure
//! Python SDK, in the venv `target/client-venvs/pytest`; the pinned az CLI from the `az` venv.
//! The tests are `client-tests/python/test_pytest_plugin.py`; the plugin starts this build's
//! `aksim` binary (which is why this real-client test lives in the aksim package: only its
//! tests are given the freshly built binary).
//!
//! The venvs are made on first use by `client-tests/python/bootstrap-venv.sh` (a lock, a stamp
//! of the pins); without python3 or the package registry the test fails with that command.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `<target>/client-venvs/NAME`, made by the bootstrap script if needed; panics with the fix.
fn venv(name: &str) -> PathBuf {
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| repo().join("target"));
    let dir = target.join("client-venvs").join(name);
    let script = repo().join("client-tests/python/bootstrap-venv.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(name)
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "the Python venv '{name}' could not be created:\n{}{}\nto fix it, run from the \
         repository root (needs python3 with venv and pip, and the package registry \
         reachable):\n    bash client-tests/python/bootstrap-venv.sh {name} {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        dir.display()
    );
    dir
}

#[test]
fn the_pytest_plugin_starts_aksim_for_the_sdk_and_az() {
    let pytest_venv = venv("pytest");
    let az_venv = venv("az");
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(pytest_venv.join("bin/python"))
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--aksim-bin",
        ])
        .arg(env!("CARGO_BIN_EXE_aksim"))
        .arg(repo().join("client-tests/python/test_pytest_plugin.py"))
        .current_dir(work.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("LANG", "C.UTF-8")
        .env("AKSIM_TEST_AZ", az_venv.join("bin/az"))
        .env("AKSIM_LOG", "warn")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("pytest runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pytest failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("6 passed"), "{stdout}");
}
