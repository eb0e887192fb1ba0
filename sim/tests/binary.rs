//! The real `aksim` binary, black-box: it prints its ready line with the port it bound, serves
//! HTTPS trusting `<tls dir>/ca.pem`, exits 0 on SIGTERM, and a restart on the same TLS
//! directory keeps the CA and the token-signing key (a token from the first run still verifies
//! under `--auth strict`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the binary may take to print its ready line or to exit after SIGTERM.
const WAIT: Duration = Duration::from_secs(30);

struct Running {
    /// `None` once `terminate` took it.
    child: Option<Child>,
    base_url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        // Only does something when a test failed half-way: do not leave the process behind.
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `aksim --addr 127.0.0.1:0 --tls-dir <dir> extra…` and waits for the ready line.
fn start(tls_dir: &Path, extra: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aksim"))
        .args(["--addr", "127.0.0.1:0", "--tls-dir"])
        .arg(tls_dir)
        .args(extra)
        .env("AKSIM_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the aksim binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    // Reads every line (so the pipe never fills) and sends the first one.
    std::thread::spawn(move || {
        let mut first = true;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if first {
                let _ = tx.send(line);
                first = false;
            }
        }
    });
    let line = rx
        .recv_timeout(WAIT)
        .expect("aksim prints its ready line within 30 s");
    let base_url = line
        .strip_prefix("aksim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();
    assert!(
        base_url.starts_with("https://127.0.0.1:") && !base_url.ends_with(":0"),
        "{base_url}"
    );
    Running {
        child: Some(child),
        base_url,
    }
}

/// Sends SIGTERM (through kill(1): no extra crate) and asserts exit code 0 within 30 s.
fn terminate(mut running: Running) {
    let mut child = running.child.take().expect("a running child");
    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -TERM {pid}");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let exit = rx
        .recv_timeout(WAIT)
        .expect("aksim exits within 30 s of SIGTERM")
        .expect("wait on aksim");
    assert_eq!(exit.code(), Some(0), "aksim exits 0 on SIGTERM: {exit:?}");
}

fn client(tls_dir: &Path) -> reqwest::Client {
    let pem = std::fs::read(tls_dir.join("ca.pem")).expect("ca.pem written at start");
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("a PEM certificate"))
        .timeout(WAIT)
        .build()
        .expect("reqwest client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_https_exits_cleanly_and_keeps_its_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tls_dir = dir.path().join("tls");
    let strict = ["--auth", "strict"];

    let first = start(&tls_dir, &strict);
    let https = client(&tls_dir);
    let health = https
        .get(format!("{}/_sim/health", first.base_url))
        .send()
        .await
        .expect("health over HTTPS");
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.expect("JSON health");
    assert_eq!(body["status"], "ok");
    let token: serde_json::Value = https
        .post(format!("{}/adfs/oauth2/token", first.base_url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "11111111-2222-3333-4444-555555555555"),
            ("client_secret", "s"),
            ("scope", "https://management.core.windows.net//.default"),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    let token = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let ca_before = std::fs::read_to_string(tls_dir.join("ca.pem")).expect("ca.pem");
    terminate(first);

    let second = start(&tls_dir, &strict);
    let ca_after = std::fs::read_to_string(tls_dir.join("ca.pem")).expect("ca.pem");
    assert_eq!(ca_before, ca_after, "a restart reuses the CA");
    // The same client (trusting the first run's CA) talks to the second run.
    let listed = https
        .get(format!(
            "{}/subscriptions?api-version=2022-12-01",
            second.base_url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("ARM over HTTPS");
    assert_eq!(
        listed.status(),
        200,
        "a token from the first run verifies: the signing key was kept"
    );
    terminate(second);
}

#[test]
fn bad_flags_fail_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_aksim"))
        .args(["--tenant", "not-a-guid", "--addr", "127.0.0.1:0", "--http"])
        .stdin(Stdio::null())
        .output()
        .expect("the aksim binary runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--tenant must be a GUID"), "{stderr}");
}

/// An unknown or malformed `--azure-date` (flag or environment) stops the start with a message
/// that names the days aksim knows; an old era flag starts with a note naming its replacement.
#[test]
fn bad_azure_dates_fail_at_start_and_old_flags_say_what_replaces_them() {
    for (args, env, wanted) in [
        (
            vec!["--azure-date", "2020-01-01"],
            None,
            "is before the first day",
        ),
        (
            vec!["--azure-date", "2099-01-01"],
            None,
            "is after the newest day",
        ),
        (
            vec!["--azure-date", "12/07/2026"],
            None,
            "give a day as YYYY-MM-DD",
        ),
        (vec![], Some("2023-02-30"), "AKSIM_AZURE_DATE"),
        (
            vec!["--mesh-catalog", "/nonexistent.json"],
            None,
            "is not a readable file",
        ),
        (
            vec!["--istio-admission-era", "1999"],
            None,
            "replaced by --azure-date",
        ),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_aksim"));
        command
            .args(["--addr", "127.0.0.1:0", "--http"])
            .args(&args)
            .env_remove("AKSIM_AZURE_DATE")
            .stdin(Stdio::null());
        if let Some(day) = env {
            command.env("AKSIM_AZURE_DATE", day);
        }
        let output = command.output().expect("the aksim binary runs");
        assert_eq!(output.status.code(), Some(1), "{args:?}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let wanted = if env.is_some() {
            "give a day as YYYY-MM-DD"
        } else {
            wanted
        };
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
        assert!(
            stderr.contains("2023-04-16") || !wanted.contains("day"),
            "{args:?}: {stderr}"
        );
    }
}

/// `--state-file PATH`: nothing there at the first start (it starts empty), the state is saved
/// on SIGTERM and loaded at the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_file_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tls_dir = dir.path().join("tls");
    let file = dir.path().join("state").join("aksim.json");
    let flags = ["--state-file", file.to_str().unwrap()];
    let group = "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/kept?api-version=2024-11-01";

    let first = start(&tls_dir, &flags);
    let https = client(&tls_dir);
    let created = https
        .put(format!("{}{group}", first.base_url))
        .bearer_auth("t")
        .json(&serde_json::json!({"location": "eastus"}))
        .send()
        .await
        .expect("PUT over HTTPS");
    assert_eq!(created.status(), 201);
    assert!(!file.exists(), "saved on a clean shutdown, not before");
    terminate(first);
    assert!(file.exists(), "saved on SIGTERM");

    let second = start(&tls_dir, &flags);
    let kept = https
        .get(format!("{}{group}", second.base_url))
        .bearer_auth("t")
        .send()
        .await
        .expect("GET over HTTPS");
    assert_eq!(kept.status(), 200, "loaded at start");
    terminate(second);
}
