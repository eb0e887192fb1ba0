//! The real kubectl against a real HTTPS aksim (in-process server on 127.0.0.1:0).
//!
//! `/usr/bin/kubectl` on this machine is a dispatcher that runs `kubectl.1.<minor>` (1.27–1.33) chosen by
//! the server's `/version`, so each test creates a plane reporting a different minor. kubectl
//! is required: when it is missing the tests fail and say how to install it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use common::kube::{enabled, Server};

/// Where kubectl is: `$KUBECTL`, `/usr/bin/kubectl`, or the first `kubectl` on `PATH`.
fn kubectl_path() -> PathBuf {
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

struct Kubectl {
    kubeconfig: PathBuf,
    home: tempfile::TempDir,
    files: tempfile::TempDir,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Kubectl {
    fn new(server: &Server) -> Kubectl {
        let home = tempfile::tempdir().unwrap();
        let kubeconfig = server.write_kubeconfig(home.path());
        Kubectl {
            kubeconfig,
            home,
            files: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.files.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    async fn run(&self, args: &[&str]) -> Run {
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

    async fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args).await;
        assert_eq!(
            r.code, 0,
            "kubectl {args:?} failed: {}{}",
            r.stdout, r.stderr
        );
        r.stdout
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

const VIRTUAL_SERVICE: &str = "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
";

const PROXY_CONFIG: &str = "apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata:
  name: pc
  namespace: default
spec:
  concurrency: 0
";

const WASM_FILTER: &str = "apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: wasm
  namespace: default
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    patch:
      operation: INSERT_BEFORE
      value:
        name: wasm
        typed_config:
          '@type': type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
";

const POD: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: app
    image: nginx
";

/// The seed's flow and more, against a plane reporting `version`.
async fn scenario(version: &str) {
    let kubectl_bin = kubectl_path();
    assert!(kubectl_bin.exists(), "kubectl at {kubectl_bin:?}");
    let server = Server::start().await;
    server.plane(version);
    server.reconcile(&enabled(&["asm-1-17"]));
    let k = Kubectl::new(&server);

    let ns = k.ok(&["get", "ns"]).await;
    assert!(
        ns.contains("NAME") && ns.contains("STATUS") && ns.contains("AGE"),
        "{ns}"
    );
    assert!(ns.contains("default") && ns.contains("Active") && ns.contains("aks-istio-system"));

    // The dispatcher ran the kubectl of the server's minor.
    let version_out = k.ok(&["version", "-o", "json"]).await;
    let versions: serde_json::Value = serde_json::from_str(&version_out).unwrap();
    let minor = version.split('.').nth(1).unwrap();
    assert_eq!(versions["serverVersion"]["minor"], minor);
    assert_eq!(versions["clientVersion"]["minor"], minor, "{version_out}");

    let labelled = k
        .ok(&["label", "namespace", "default", "istio.io/rev=asm-1-17"])
        .await;
    assert!(labelled.contains("namespace/default labeled"), "{labelled}");
    let selected = k.ok(&["get", "ns", "-l", "istio.io/rev"]).await;
    assert!(
        selected.contains("default") && !selected.contains("kube-system"),
        "{selected}"
    );
    let yaml = k.ok(&["get", "ns", "default", "-o", "yaml"]).await;
    assert!(yaml.contains("istio.io/rev: asm-1-17"), "{yaml}");
    assert!(yaml.contains("kind: Namespace"));

    let vs = k.file("vs.yaml", VIRTUAL_SERVICE);
    let applied = k.ok(&["apply", "-f", path_str(&vs)]).await;
    assert!(
        applied.contains("virtualservice.networking.istio.io/reviews created"),
        "{applied}"
    );
    let again = k.ok(&["apply", "-f", path_str(&vs)]).await;
    assert!(
        again.contains("unchanged") || again.contains("configured"),
        "{again}"
    );
    let listed = k.ok(&["get", "virtualservices", "-n", "default"]).await;
    assert!(listed.contains("reviews"), "{listed}");

    // Today every EnvoyFilter type passes the add-on's webhook (release 2025-10-12).
    let wasm = k.file("wasm.yaml", WASM_FILTER);
    let applied = k.ok(&["apply", "-f", path_str(&wasm)]).await;
    assert!(
        applied.contains("envoyfilter.networking.istio.io/wasm created"),
        "{applied}"
    );
    for (name, text, reason) in [(
        "pc.yaml",
        PROXY_CONFIG,
        "custom resource kind \"ProxyConfig\" is not allowed by the Istio-based service mesh add-on",
    )] {
        let f = k.file(name, text);
        let refused = k.run(&["apply", "-f", path_str(&f)]).await;
        assert_ne!(refused.code, 0, "{name} must be refused");
        assert!(
            refused.stderr.contains(&format!(
                "admission webhook \"azure-service-mesh-ccp-validating-webhook.azmk8s.io\" denied the request: {reason}"
            )),
            "{}",
            refused.stderr
        );
    }

    let pod = k.file("pod.yaml", POD);
    let created = k
        .ok(&["apply", "-f", path_str(&pod), "-n", "default"])
        .await;
    assert!(created.contains("pod/web created"), "{created}");
    let containers = k
        .ok(&[
            "get",
            "pod",
            "web",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.containers[*].name}",
        ])
        .await;
    assert_eq!(containers.trim(), "app istio-proxy");
    let pods = k.ok(&["get", "pods", "-n", "default"]).await;
    assert!(
        pods.contains("READY") && pods.contains("2/2") && pods.contains("Running"),
        "{pods}"
    );

    // Shared MeshConfig (kubectl 1.33 sends `create configmap` as protobuf).
    let cm = k
        .ok(&[
            "create",
            "configmap",
            "istio-shared-configmap-asm-1-17",
            "-n",
            "aks-istio-system",
            "--from-literal=mesh=accessLogFile: /dev/stdout",
        ])
        .await;
    assert!(
        cm.contains("configmap/istio-shared-configmap-asm-1-17 created"),
        "{cm}"
    );
    let bad_cm = k
        .run(&[
            "create",
            "configmap",
            "istio-shared-configmap-asm-1-18",
            "-n",
            "aks-istio-system",
            "--from-literal=mesh=configSources: []",
        ])
        .await;
    assert_ne!(bad_cm.code, 0);
    assert!(
        bad_cm
            .stderr
            .contains("denied the request: MeshConfig field \"configSources\" is not allowed"),
        "{}",
        bad_cm.stderr
    );
    let edit_default = k
        .run(&[
            "label",
            "configmap",
            "istio-asm-1-17",
            "-n",
            "aks-istio-system",
            "a=b",
        ])
        .await;
    assert_ne!(edit_default.code, 0);
    assert!(edit_default
        .stderr
        .contains("managed by the Istio-based service mesh add-on"));

    let described = k.ok(&["describe", "ns", "default"]).await;
    assert!(described.contains("istio.io/rev=asm-1-17"), "{described}");
    let all = k.ok(&["get", "all", "-n", "aks-istio-system"]).await;
    assert!(all.contains("deployment.apps/istiod-asm-1-17"), "{all}");

    let forbidden = k.run(&["delete", "ns", "kube-system"]).await;
    assert_ne!(forbidden.code, 0);
    assert!(
        forbidden
            .stderr
            .contains("this namespace may not be deleted"),
        "{}",
        forbidden.stderr
    );

    k.ok(&["create", "namespace", "foo"]).await;
    let deleted = k.ok(&["delete", "ns", "foo", "--wait=false"]).await;
    assert!(deleted.contains("namespace \"foo\" deleted"), "{deleted}");
    let terminating = k.ok(&["get", "ns", "foo"]).await;
    assert!(terminating.contains("Terminating"), "{terminating}");
    server.state.core.clock.advance(time::Duration::seconds(10));
    let gone = k.run(&["get", "ns", "foo"]).await;
    assert_ne!(gone.code, 0);
    assert!(
        gone.stderr.contains("namespaces \"foo\" not found"),
        "{}",
        gone.stderr
    );

    // `kubectl delete` (which waits for the namespace to be gone) with no termination delay.
    server.with_plane(|p| p.termination_delay_secs = 0.0);
    k.ok(&["create", "namespace", "bar"]).await;
    let waiting = k.run(&["delete", "ns", "bar"]).await;
    assert_eq!(waiting.code, 0, "{}", waiting.stderr);
    assert!(k.run(&["get", "ns", "bar"]).await.code != 0);
}

/// `kubectl get ns --watch` sees a namespace the add-on creates.
async fn watch_scenario(version: &str) {
    use tokio::io::AsyncBufReadExt;
    let server = Server::start().await;
    server.plane(version);
    let k = Kubectl::new(&server);
    let mut child = tokio::process::Command::new(kubectl_path())
        .args(["get", "ns", "--watch", "--output-watch-events"])
        .env("KUBECONFIG", &k.kubeconfig)
        .env("HOME", k.home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl runs");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        let mut reconciled = false;
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("watch: {line}");
            seen.push(line.clone());
            if line.contains("kube-system") && !reconciled {
                reconciled = true;
                server.reconcile(&enabled(&["asm-1-26"]));
            }
            if line.contains("ADDED") && line.contains("aks-istio-system") {
                return true;
            }
        }
        false
    })
    .await;
    let _ = child.kill().await;
    assert_eq!(found, Ok(true), "kubectl --watch output: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_watch_sees_the_addon_namespace() {
    watch_scenario("1.33.2").await;
}

/// kubectl 1.28 validates `apply` through `/openapi/v2` (the empty protobuf document).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_28_against_the_plane() {
    scenario("1.28.9").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_29_against_the_plane() {
    scenario("1.29.14").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_1_33_against_the_plane() {
    scenario("1.33.2").await;
}
