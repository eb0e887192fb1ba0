//! The real kubectl against a `kube::Server` (HTTPS on 127.0.0.1:0): a throw-away HOME and
//! kubeconfig per test, every run echoed to stderr. kubectl is required: when it is missing the
//! test fails and says how to install it.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use super::kube::Server;

/// Where kubectl is: `$KUBECTL`, `/usr/bin/kubectl`, or the first `kubectl` on `PATH`.
pub fn kubectl_path() -> PathBuf {
    if let Some(p) = std::env::var_os("KUBECTL") {
        return PathBuf::from(p);
    }
    let fixed = PathBuf::from("/usr/bin/kubectl");
    if fixed.exists() {
        return fixed;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("kubectl");
            if candidate.exists() {
                return candidate;
            }
        }
    }
    panic!(
        "kubectl is not installed, and these tests need the real client. Install it (for example \
         the Debian/Ubuntu package `kubectl` from the Kubernetes apt repository, or the \
         google-cloud-cli `kubectl` component, which brings the version dispatcher), or point \
         KUBECTL at a kubectl binary."
    );
}

pub struct Kubectl {
    kubeconfig: PathBuf,
    home: tempfile::TempDir,
    files: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    pub fn new(server: &Server) -> Kubectl {
        let home = tempfile::tempdir().unwrap();
        let kubeconfig = server.write_kubeconfig(home.path());
        Kubectl {
            kubeconfig,
            home,
            files: tempfile::tempdir().unwrap(),
        }
    }

    /// kubectl for the plane of rg1/c1 as ARM made it (its own token).
    pub fn for_cluster(server: &Server, token: &str) -> Kubectl {
        let home = tempfile::tempdir().unwrap();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: {}\n    certificate-authority: {}\ncontexts:\n- name: c1\n  context:\n    cluster: c1\n    user: u\ncurrent-context: c1\nusers:\n- name: u\n  user:\n    token: {token}\n",
            server.server_url(),
            server.ca_path().display()
        );
        let kubeconfig = home.path().join("kubeconfig");
        std::fs::write(&kubeconfig, text).unwrap();
        Kubectl {
            kubeconfig,
            home,
            files: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `text` to a file of this test and returns its path as a string.
    pub fn file(&self, name: &str, text: &str) -> String {
        let p = self.files.path().join(name);
        std::fs::write(&p, text).unwrap();
        path_str(&p).to_owned()
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        let out: Output = tokio::time::timeout(
            Duration::from_secs(120),
            tokio::process::Command::new(kubectl_path())
                .args(args)
                .env("KUBECONFIG", &self.kubeconfig)
                .env("HOME", self.home.path())
                .env_remove("KUBECTL_EXTERNAL_DIFF")
                .kill_on_drop(true)
                .output(),
        )
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} did not finish within 120 s"))
        .expect("kubectl runs");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        eprintln!(
            "$ kubectl {}\n[{}]\n{}{}",
            args.join(" "),
            run.code,
            run.stdout,
            run.stderr
        );
        run
    }

    /// Runs kubectl and asserts it succeeded; its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args).await;
        assert_eq!(
            r.code, 0,
            "kubectl {args:?} failed: {}{}",
            r.stdout, r.stderr
        );
        r.stdout
    }

    /// Runs kubectl and asserts it failed; its stderr.
    pub async fn fails(&self, args: &[&str]) -> String {
        let r = self.run(args).await;
        assert_ne!(r.code, 0, "kubectl {args:?} should fail: {}", r.stdout);
        r.stderr
    }

    /// `kubectl get ... -o json`, parsed.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-o", "json"]);
        let out = self.ok(&all).await;
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
