//! `Az`: the real, unmodified az CLI (pinned in `client-tests/python/az-requirements.txt`)
//! pointed at one `SimHandle`.
//!
//! Each `Az` has its own throw-away `AZURE_CONFIG_DIR` and `HOME`, telemetry off, no colour,
//! stdin closed, and trusts the system CA bundle plus aksim's CA through a concatenated bundle
//! in `REQUESTS_CA_BUNDLE` (requests: ARM and MSAL) and `SSL_CERT_FILE` (urllib: the
//! `ARM_CLOUD_METADATA_URL` fetch). The environment is otherwise cleared, so a developer's own
//! `AZURE_*` settings or proxy cannot leak in. Warnings stay on: tests assert on them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::process::{self, ClientRun};
use super::sim::SimHandle;
use super::{CLIENT_ID, TENANT};

/// How long one az command may take before the test fails with its output.
const AZ_TIMEOUT: Duration = Duration::from_secs(120);

/// How az learns about aksim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// `az cloud register --endpoint-resource-manager` + `az cloud set` (adfs-style metadata).
    CloudRegister,
    /// Environment only: `ARM_CLOUD_METADATA_URL` (the 2019-05-01 list format).
    EnvOnly,
}

pub struct Az {
    program: PathBuf,
    base_url: String,
    env: Vec<(String, String)>,
    _config_dir: tempfile::TempDir,
    _home: tempfile::TempDir,
}

/// The system CA bundle, if the machine has one in a well-known place.
fn system_bundle() -> Option<PathBuf> {
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// certifi's bundle inside the venv (the fallback when the system has none).
fn certifi_bundle(venv: &Path) -> Option<PathBuf> {
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    lib.filter_map(Result::ok)
        .map(|e| e.path().join("site-packages/certifi/cacert.pem"))
        .find(|p| p.is_file())
}

/// Writes `<dir>/ca-bundle.pem` = system (or certifi) bundle + aksim's CA.
pub fn write_bundle(sim: &SimHandle, venv: &Path, dir: &Path) -> PathBuf {
    let mut bundle = system_bundle()
        .or_else(|| certifi_bundle(venv))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    if !bundle.is_empty() && !bundle.ends_with('\n') {
        bundle.push('\n');
    }
    bundle.push_str(&sim.ca_pem);
    let path = dir.join("ca-bundle.pem");
    std::fs::write(&path, bundle).expect("write the CA bundle");
    path
}

impl Az {
    /// An az that knows nothing yet (no cloud registered, not logged in). `EnvOnly` sets
    /// `ARM_CLOUD_METADATA_URL` for every command.
    pub async fn new(sim: &SimHandle, login: Login) -> Az {
        Az::new_at(sim, &sim.base_url, login).await
    }

    /// `new`, with az pointed at `base_url` (a proxy in front of `sim`, serving a certificate
    /// from the same CA) instead of the sim itself.
    pub async fn new_at(sim: &SimHandle, base_url: &str, login: Login) -> Az {
        let venv = super::venv::venv("az").await;
        let program = venv.join("bin/az");
        let config_dir = tempfile::tempdir().expect("temp AZURE_CONFIG_DIR");
        let home = tempfile::tempdir().expect("temp HOME");
        let bundle = write_bundle(sim, &venv, home.path());
        let bundle = bundle.display().to_string();
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), home.path().display().to_string()),
            (
                "AZURE_CONFIG_DIR".into(),
                config_dir.path().display().to_string(),
            ),
            ("AZURE_CORE_COLLECT_TELEMETRY".into(), "false".into()),
            ("AZURE_CORE_NO_COLOR".into(), "1".into()),
            ("AZURE_CORE_OUTPUT".into(), "json".into()),
            ("REQUESTS_CA_BUNDLE".into(), bundle.clone()),
            ("SSL_CERT_FILE".into(), bundle),
            ("NO_PROXY".into(), "127.0.0.1,localhost".into()),
            ("no_proxy".into(), "127.0.0.1,localhost".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
        ];
        if login == Login::EnvOnly {
            env.push((
                "ARM_CLOUD_METADATA_URL".into(),
                format!("{base_url}/metadata/endpoints?api-version=2019-05-01"),
            ));
        }
        Az {
            program,
            base_url: base_url.to_owned(),
            env,
            _config_dir: config_dir,
            _home: home,
        }
    }

    /// `new` + the log-in sequence of `login`; every step must exit 0.
    pub async fn logged_in(sim: &SimHandle, login: Login) -> Az {
        Az::logged_in_at(sim, &sim.base_url, login).await
    }

    /// `logged_in` through `base_url` (see [`Az::new_at`]).
    pub async fn logged_in_at(sim: &SimHandle, base_url: &str, login: Login) -> Az {
        let az = Az::new_at(sim, base_url, login).await;
        if login == Login::CloudRegister {
            let arm = format!("{}/", az.base_url);
            az.ok(&[
                "cloud",
                "register",
                "-n",
                "aksim",
                "--endpoint-resource-manager",
                &arm,
            ])
            .await;
            let set = az.ok(&["cloud", "set", "-n", "aksim"]).await;
            assert!(
                set.stderr
                    .contains("WARNING: Switched active cloud to 'aksim'."),
                "{set}"
            );
        }
        let accounts = az
            .ok(&[
                "login",
                "--service-principal",
                "-u",
                CLIENT_ID,
                "-p",
                "any-secret",
                "--tenant",
                TENANT,
            ])
            .await
            .json();
        assert_eq!(accounts.as_array().map(Vec::len), Some(1), "{accounts:#}");
        assert_eq!(accounts[0]["cloudName"], "aksim", "{accounts:#}");
        az
    }

    /// Removes an environment variable from every later command (to show what az does
    /// without it).
    pub fn unset(&mut self, name: &str) {
        self.env.retain(|(k, _)| k != name);
    }

    /// Runs `az args…` and returns whatever happened; a hang past 120 s fails the test.
    /// The seed flow's first commands, needed while the add-on was a preview (until
    /// 2024-02-26): `az feature register` `AzureServiceMeshPreview`, then `az provider register`
    /// so it takes effect; the virtual clock is moved past each registration.
    pub async fn register_mesh_preview(&self, sim: &SimHandle) {
        self.ok(&[
            "feature",
            "register",
            "--namespace",
            "Microsoft.ContainerService",
            "--name",
            "AzureServiceMeshPreview",
        ])
        .await;
        sim.advance(600.0);
        self.ok(&["provider", "register", "-n", "Microsoft.ContainerService"])
            .await;
        sim.advance(600.0);
    }

    pub async fn run(&self, args: &[&str]) -> ClientRun {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        process::run(command, AZ_TIMEOUT).await
    }

    /// Runs az and asserts exit code 0.
    #[track_caller]
    pub fn ok<'a>(
        &'a self,
        args: &'a [&'a str],
    ) -> impl std::future::Future<Output = ClientRun> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let run = self.run(args).await;
            assert_eq!(run.code, 0, "at {caller}: {run}");
            run
        }
    }

    /// Runs az, asserts exit code 0 and returns stdout as JSON.
    #[track_caller]
    pub fn json<'a>(
        &'a self,
        args: &'a [&'a str],
    ) -> impl std::future::Future<Output = Value> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let run = self.run(args).await;
            assert_eq!(run.code, 0, "at {caller}: {run}");
            run.json()
        }
    }
}
