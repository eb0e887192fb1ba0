//! The per-cluster Kubernetes API end to end, through the chain a user follows: the unmodified
//! az CLI 2.91 creates the cluster and writes the kubeconfig (`az aks get-credentials --file`),
//! and the installed `kubectl` uses that file unchanged.
//!
//! `/usr/bin/kubectl` on this machine is a dispatcher that execs `kubectl.1.<minor>` picked from
//! the server's `/version`, so clusters of different Kubernetes versions exercise different
//! kubectl builds: in the 2023 catalogue (the seed's era, asm-1-17) the default 1.27 (user
//! credentials) and 1.28 (admin credentials); in today's AKS a 1.33 LTS cluster (asm-1-29) and one on the default 1.36.
//! Every test asserts that client and server minors match.
//!
//! Tests: the kubectl list per minor (`az_*_seed_flow`,
//! `az_user_kubeconfig_kubectl_1_33_current_catalogue`), two clusters side by side with user and
//! admin kubeconfigs, and the `az aks mesh` changes seen through kubectl (ingress gateway,
//! canary upgrade, disable).
//!
//! kubectl is required: when it is missing the tests fail and say how to install it
//! (`missing_kubectl_fails_with_install_advice`). The manifests are in
//! `client-tests/fixtures/kubectl/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::az::{Az, Login};
use crate::support::process::{self, ClientRun};
use crate::support::sim::{spawn_sim, SimHandle};
use crate::support::SUB;

/// How long one kubectl command may take before the test fails with its output.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(120);

/// The add-on's validating webhook, as kubectl prints its denials.
const WEBHOOK_DENIED: &str =
    "admission webhook \"azure-service-mesh-ccp-validating-webhook.azmk8s.io\" denied the request";

/// What a missing kubectl fails with.
const INSTALL_ADVICE: &str = "kubectl is not installed, and these tests need the real client. \
Install it (the google-cloud-cli `kubectl` component brings the version dispatcher and \
kubectl.1.27 to 1.33; or the Debian/Ubuntu package `kubectl` from the Kubernetes apt \
repository), or point KUBECTL at a kubectl binary.";

/// Where kubectl is: `$KUBECTL` (which must exist), else `fixed`, else the first `kubectl` on
/// `path_var`; `Err` carries the installation advice.
fn find_kubectl(
    env: Option<std::ffi::OsString>,
    fixed: &Path,
    path_var: Option<std::ffi::OsString>,
) -> Result<PathBuf, String> {
    if let Some(p) = env {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "KUBECTL={} does not exist. {INSTALL_ADVICE}",
                p.display()
            ))
        };
    }
    if fixed.is_file() {
        return Ok(fixed.to_path_buf());
    }
    path_var
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("kubectl"))
                .find(|c| c.is_file())
        })
        .ok_or_else(|| INSTALL_ADVICE.to_owned())
}

/// The kubectl these tests run; fails the test with installation advice when there is none
/// (never skips).
fn kubectl_path() -> PathBuf {
    find_kubectl(
        std::env::var_os("KUBECTL"),
        Path::new("/usr/bin/kubectl"),
        std::env::var_os("PATH"),
    )
    .unwrap_or_else(|advice| panic!("{advice}"))
}

/// Asserts that the dispatcher can run the kubectl build of `minor` (a `kubectl.1.<minor>` next
/// to the resolved binary), so a failure says "install that build" instead of a version
/// mismatch. A plain (non-dispatching) kubectl is accepted only if it is that minor itself.
pub(crate) async fn require_kubectl_minor(minor: &str) {
    let program = kubectl_path();
    let resolved = std::fs::canonicalize(&program).unwrap_or_else(|_| program.clone());
    let dir = resolved.parent().unwrap_or(Path::new("/"));
    let build = dir.join(format!("kubectl.1.{minor}"));
    if build.exists() {
        return;
    }
    let mut command = tokio::process::Command::new(&program);
    command.args(["version", "--client", "-o", "json"]);
    let run = process::run(command, KUBECTL_TIMEOUT).await;
    let client = run.json();
    assert_eq!(
        client["clientVersion"]["minor"]
            .as_str()
            .map(|m| m.trim_end_matches('+')),
        Some(minor),
        "kubectl 1.{minor} is needed: {} has no {} and is itself another version. Install the \
         google-cloud-cli `kubectl` component (dispatcher + kubectl.1.27..1.33).\n{run}",
        program.display(),
        build.display()
    );
}

/// The installed kubectl with one kubeconfig, a throw-away HOME (no `~/.kube/cache` shared
/// between tests) and an otherwise cleared environment.
pub(crate) struct Kubectl {
    program: PathBuf,
    pub(crate) kubeconfig: PathBuf,
    home: tempfile::TempDir,
}

impl Kubectl {
    pub(crate) fn new(kubeconfig: &Path) -> Kubectl {
        Kubectl {
            program: kubectl_path(),
            kubeconfig: kubeconfig.to_path_buf(),
            home: tempfile::tempdir().expect("temp HOME for kubectl"),
        }
    }

    /// Runs `kubectl args…` and returns whatever happened.
    pub(crate) async fn run(&self, args: &[&str]) -> ClientRun {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env("LANG", "C.UTF-8");
        let run = process::run(command, KUBECTL_TIMEOUT).await;
        eprintln!("{run}");
        run
    }

    /// Runs kubectl and asserts exit code 0.
    #[track_caller]
    pub(crate) fn ok<'a>(
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

    /// Runs kubectl and asserts a non-zero exit whose stderr contains `needle`.
    #[track_caller]
    pub(crate) fn fails_with<'a>(
        &'a self,
        args: &'a [&'a str],
        needle: &'a str,
    ) -> impl std::future::Future<Output = ClientRun> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let run = self.run(args).await;
            assert_ne!(run.code, 0, "at {caller}: must fail: {run}");
            assert!(
                run.stderr.contains(needle),
                "at {caller}: stderr lacks {needle:?}: {run}"
            );
            run
        }
    }
}

/// `client-tests/fixtures/kubectl/<name>`.
/// A copy of fixture `name` in `dir` whose object carries `istio.io/rev: <revision>` (before
/// 2025-03-16 the add-on's webhook validated only Istio resources with that label).
fn labelled_fixture(dir: &Path, name: &str, revision: &str) -> String {
    let text = std::fs::read_to_string(fixture(name)).expect("read the fixture");
    let labelled = text.replacen(
        "metadata:\n",
        &format!("metadata:\n  labels:\n    istio.io/rev: {revision}\n"),
        1,
    );
    assert_ne!(labelled, text, "{name} has a metadata block");
    let path = dir.join(name);
    std::fs::write(&path, labelled).expect("write the labelled copy");
    path.display().to_string()
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/kubectl")
        .join(name);
    assert!(path.is_file(), "missing fixture {}", path.display());
    path.display().to_string()
}

/// aksim in the seed's era (2023 catalogue: Kubernetes 1.25–1.28, default 1.27; asm-1-17
/// default, asm-1-18 upgrade), providers registered on first use, operations done at once.
pub(crate) async fn seed_era_sim() -> SimHandle {
    spawn_sim(|c| {
        c.azure_date = Some("2023-12-01".into());
        c.auto_register_providers = true;
        c.op_durations = vec!["default=0".into()];
    })
    .await
}

/// `az aks create --enable-asm --no-ssh-key [extra…]`; asserts the cluster runs the
/// catalogue's default `revision` and returns the cluster JSON.
pub(crate) async fn create_cluster(
    az: &Az,
    rg: &str,
    name: &str,
    extra: &[&str],
    revision: &str,
) -> Value {
    let mut args = vec![
        "aks",
        "create",
        "-g",
        rg,
        "-n",
        name,
        "--enable-asm",
        "--no-ssh-key",
    ];
    args.extend_from_slice(extra);
    let cluster = az.json(&args).await;
    assert_eq!(cluster["provisioningState"], "Succeeded", "{cluster:#}");
    assert_eq!(
        cluster["serviceMeshProfile"]["mode"], "Istio",
        "{cluster:#}"
    );
    assert_eq!(
        cluster["serviceMeshProfile"]["istio"]["revisions"],
        serde_json::json!([revision]),
        "the catalogue's default revision: {cluster:#}"
    );
    cluster
}

/// `az aks get-credentials [--admin] --file <dir>/kubeconfig`; asserts the file az wrote points
/// at the cluster's plane and returns its path.
pub(crate) async fn get_credentials(
    sim: &SimHandle,
    az: &Az,
    dir: &Path,
    rg: &str,
    name: &str,
    admin: bool,
) -> PathBuf {
    let file = dir.join(if admin {
        "kubeconfig-admin"
    } else {
        "kubeconfig"
    });
    let file_arg = file.display().to_string();
    let mut args = vec![
        "aks",
        "get-credentials",
        "-g",
        rg,
        "-n",
        name,
        "--file",
        &file_arg,
    ];
    if admin {
        args.push("--admin");
    }
    let run = az.ok(&args).await;
    assert!(
        run.stderr.contains("Merged") && run.stderr.contains(&file_arg),
        "az reports where it wrote the kubeconfig: {run}"
    );
    let text = std::fs::read_to_string(&file).expect("az wrote the kubeconfig");
    let server = format!("{}/k8s/{SUB}/{rg}/{name}", sim.base_url);
    assert!(text.contains(&server), "server {server} in:\n{text}");
    assert!(text.contains("certificate-authority-data:"), "{text}");
    let user = if admin { "clusterAdmin" } else { "clusterUser" };
    assert!(
        text.contains(&format!("{user}_{rg}_{name}")),
        "user {user}_{rg}_{name} in:\n{text}"
    );
    file
}

/// Asserts (through `kubectl version -o json`) that the dispatcher ran the kubectl of the
/// server's minor and that the server reports `minor`.
pub(crate) async fn assert_version(k: &Kubectl, minor: &str) {
    let run = k.ok(&["version", "-o", "json"]).await;
    let versions = run.json();
    assert_eq!(versions["serverVersion"]["major"], "1", "{run}");
    assert_eq!(versions["serverVersion"]["minor"], minor, "{run}");
    let git = versions["serverVersion"]["gitVersion"]
        .as_str()
        .unwrap_or("");
    assert!(git.starts_with(&format!("v1.{minor}.")), "{run}");
    assert_eq!(
        versions["clientVersion"]["minor"], minor,
        "the dispatcher picks the server's minor: {run}"
    );
}

/// The kubectl list, on a cluster created with the mesh on at `revision`: namespaces,
/// the seed's label line, label selection, YAML output, an allowed VirtualService and
/// EnvoyFilter, every kind the add-on blocks, sidecar injection (a native sidecar when
/// `native_sidecars`), namespace termination.
async fn seed_flow(sim: &SimHandle, k: &Kubectl, revision: &str, native_sidecars: bool) {
    let ns = k.ok(&["get", "ns"]).await.stdout;
    for expected in [
        "NAME",
        "STATUS",
        "AGE",
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "aks-istio-system",
        "Active",
    ] {
        assert!(ns.contains(expected), "{expected} in:\n{ns}");
    }

    // The seed's line, verbatim (with the cluster's revision).
    let label = format!("istio.io/rev={revision}");
    let labelled = k.ok(&["label", "namespace", "default", &label]).await;
    assert_eq!(
        labelled.stdout.trim(),
        "namespace/default labeled",
        "{labelled}"
    );
    let selected = k
        .ok(&["get", "ns", "-l", "istio.io/rev", "-o", "name"])
        .await;
    assert_eq!(selected.stdout.trim(), "namespace/default", "{selected}");
    let yaml = k.ok(&["get", "ns", "default", "-o", "yaml"]).await.stdout;
    assert!(yaml.contains("kind: Namespace"), "{yaml}");
    assert!(
        yaml.contains(&format!("istio.io/rev: {revision}")),
        "{yaml}"
    );
    assert!(
        yaml.contains("kubernetes.io/metadata.name: default"),
        "{yaml}"
    );

    // Allowed Istio resources.
    let vs = fixture("virtual-service.yaml");
    let created = k.ok(&["apply", "-f", &vs]).await;
    assert_eq!(
        created.stdout.trim(),
        "virtualservice.networking.istio.io/reviews created",
        "{created}"
    );
    let again = k.ok(&["apply", "-f", &vs]).await;
    assert!(
        again
            .stdout
            .contains("virtualservice.networking.istio.io/reviews unchanged")
            || again
                .stdout
                .contains("virtualservice.networking.istio.io/reviews configured"),
        "{again}"
    );
    let listed = k
        .ok(&["get", "virtualservices", "-n", "default", "-o", "name"])
        .await;
    assert_eq!(
        listed.stdout.trim(),
        "virtualservice.networking.istio.io/reviews",
        "{listed}"
    );
    // The short name and the CRD's printer columns, as `kubectl get vs` shows them on AKS.
    let table = k.ok(&["get", "vs", "-n", "default"]).await.stdout;
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows.first().map(Vec::as_slice),
        Some(&["NAME", "GATEWAYS", "HOSTS", "AGE"][..]),
        "{table}"
    );
    assert_eq!(
        rows.get(1).map(|r| &r[..2]),
        Some(&["reviews", "[\"reviews\"]"][..]),
        "{table}"
    );
    // What the add-on's webhook refuses on the cluster's day. In 2023 (the seed's asm-1-17) it
    // blocked EnvoyFilter too, and validated only resources labelled with a revision; today
    // every EnvoyFilter type passes and every Istio resource is validated.
    let seed_era = revision == "asm-1-17";
    let labelled_dir = tempfile::tempdir().expect("temp dir");
    let file = |name: &str| {
        if seed_era {
            labelled_fixture(labelled_dir.path(), name, revision)
        } else {
            fixture(name)
        }
    };
    let blocked = |kind: &str| {
        format!(
            "custom resource kind \"{kind}\" is not allowed by the Istio-based service mesh add-on"
        )
    };
    let mut refused = vec![
        ("proxy-config.yaml", blocked("ProxyConfig")),
        ("workload-entry.yaml", blocked("WorkloadEntry")),
        ("workload-group.yaml", blocked("WorkloadGroup")),
        ("istio-operator.yaml", blocked("IstioOperator")),
        ("wasm-plugin.yaml", blocked("WasmPlugin")),
    ];
    if seed_era {
        refused.push(("envoy-filter-lua.yaml", blocked("EnvoyFilter")));
        refused.push(("envoy-filter-wasm.yaml", blocked("EnvoyFilter")));
        // The same ProxyConfig without the label was not the webhook's business then.
        let unlabelled = k.ok(&["apply", "-f", &fixture("proxy-config.yaml")]).await;
        assert_eq!(
            unlabelled.stdout.trim(),
            "proxyconfig.networking.istio.io/per-namespace created",
            "{unlabelled}"
        );
        k.ok(&["delete", "-f", &fixture("proxy-config.yaml")]).await;
    } else {
        for (name, created) in [
            (
                "envoy-filter-lua.yaml",
                "envoyfilter.networking.istio.io/lua-header created",
            ),
            (
                "envoy-filter-wasm.yaml",
                "envoyfilter.networking.istio.io/wasm created",
            ),
        ] {
            let ran = k.ok(&["apply", "-f", &fixture(name)]).await;
            assert_eq!(ran.stdout.trim(), created, "{ran}");
        }
    }
    for (name, reason) in &refused {
        let path = file(name);
        let refused = k
            .fails_with(
                &["apply", "-f", &path],
                &format!("{WEBHOOK_DENIED}: {reason}"),
            )
            .await;
        assert!(
            refused.stderr.contains("Error from server") && refused.stderr.contains(&path),
            "kubectl names the file it could not create: {refused}"
        );
        assert_eq!(refused.stdout.trim(), "", "nothing was created: {refused}");
    }
    // Listing a blocked kind works (and is empty).
    let none = k.ok(&["get", "proxyconfigs", "-A", "-o", "name"]).await;
    assert_eq!(none.stdout.trim(), "", "{none}");

    // Sidecar injection into a new pod in the labelled namespace.
    let ran = k
        .ok(&[
            "run",
            "web",
            "--image=nginx",
            "-n",
            "default",
            "--labels=app=web",
        ])
        .await;
    assert_eq!(ran.stdout.trim(), "pod/web created", "{ran}");
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
    // Before native sidecars (the seed's 2023) the proxy is a container; on today's AKS
    // (Kubernetes >= 1.33 with asm-1-29+) it is a native sidecar, an init container.
    let inits = k
        .ok(&[
            "get",
            "pod",
            "web",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.initContainers[*].name} {.spec.initContainers[*].restartPolicy}",
        ])
        .await;
    if native_sidecars {
        assert_eq!(containers.stdout.trim(), "web", "{containers}");
        assert_eq!(
            inits.stdout.trim(),
            "istio-init istio-proxy Always",
            "{inits}"
        );
    } else {
        assert_eq!(containers.stdout.trim(), "web istio-proxy", "{containers}");
        assert_eq!(inits.stdout.trim(), "istio-init", "{inits}");
    }
    let pod_revision = k
        .ok(&[
            "get",
            "pod",
            "web",
            "-n",
            "default",
            "-o",
            "jsonpath={.metadata.labels.istio\\.io/rev}",
        ])
        .await;
    assert_eq!(pod_revision.stdout.trim(), revision, "{pod_revision}");
    let pods = k.ok(&["get", "pods", "-n", "default"]).await.stdout;
    assert!(
        pods.contains("web") && pods.contains("2/2") && pods.contains("Running"),
        "{pods}"
    );
    // A namespace without the label gets no sidecar.
    k.ok(&["create", "namespace", "plain"]).await;
    k.ok(&["run", "bare", "--image=nginx", "-n", "plain"]).await;
    let bare = k
        .ok(&[
            "get",
            "pod",
            "bare",
            "-n",
            "plain",
            "-o",
            "jsonpath={.spec.containers[*].name}",
        ])
        .await;
    assert_eq!(bare.stdout.trim(), "bare", "{bare}");

    // Namespace termination on the virtual clock.
    let deleted = k.ok(&["delete", "ns", "plain", "--wait=false"]).await;
    assert_eq!(
        deleted.stdout.trim(),
        "namespace \"plain\" deleted",
        "{deleted}"
    );
    let terminating = k.ok(&["get", "ns", "plain"]).await;
    assert!(terminating.stdout.contains("Terminating"), "{terminating}");
    let refused = k
        .run(&["run", "late", "--image=nginx", "-n", "plain"])
        .await;
    assert_ne!(
        refused.code, 0,
        "no new content in a terminating namespace: {refused}"
    );
    sim.advance(aksim::limits::KUBE_NAMESPACE_TERMINATION_SECS + 1.0);
    k.fails_with(&["get", "ns", "plain"], "namespaces \"plain\" not found")
        .await;
    // Its pod went with it: the server answers `pods "bare" not found` (router test
    // `reads_in_a_missing_namespace`), then kubectl looks the namespace up and reports that.
    k.fails_with(
        &["get", "pod", "bare", "-n", "plain"],
        "namespaces \"plain\" not found",
    )
    .await;
}

/// Cluster `c1` (Kubernetes 1.27, the 2023 default) through the user kubeconfig az writes:
/// kubectl 1.27 runs the whole issue list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_user_kubeconfig_kubectl_1_27_seed_flow() {
    require_kubectl_minor("27").await;
    let sim = seed_era_sim().await;
    let az = Az::logged_in(&sim, Login::CloudRegister).await;
    az.register_mesh_preview(&sim).await;
    az.json(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let cluster = create_cluster(&az, "rg1", "c1", &[], "asm-1-17").await;
    assert_eq!(cluster["currentKubernetesVersion"], "1.27.7", "{cluster:#}");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = get_credentials(&sim, &az, dir.path(), "rg1", "c1", false).await;

    let k = Kubectl::new(&kubeconfig);
    let context = k.ok(&["config", "current-context"]).await;
    assert_eq!(context.stdout.trim(), "c1", "{context}");
    assert_version(&k, "27").await;
    seed_flow(&sim, &k, "asm-1-17", false).await;
}

/// Cluster `c2` created with `--kubernetes-version 1.28` through the admin kubeconfig
/// (`--admin`: az renames the context `c2-admin`): kubectl 1.28 runs the same list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_admin_kubeconfig_kubectl_1_28_seed_flow() {
    require_kubectl_minor("28").await;
    let sim = seed_era_sim().await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    az.register_mesh_preview(&sim).await;
    az.json(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let cluster = create_cluster(
        &az,
        "rg1",
        "c2",
        &["--kubernetes-version", "1.28"],
        "asm-1-17",
    )
    .await;
    assert_eq!(cluster["currentKubernetesVersion"], "1.28.3", "{cluster:#}");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = get_credentials(&sim, &az, dir.path(), "rg1", "c2", true).await;

    let k = Kubectl::new(&kubeconfig);
    let context = k.ok(&["config", "current-context"]).await;
    assert_eq!(context.stdout.trim(), "c2-admin", "{context}");
    assert_version(&k, "28").await;
    seed_flow(&sim, &k, "asm-1-17", false).await;
}

/// Two clusters of different versions in one subscription, each kubeconfig selecting its own
/// kubectl build; user and admin kubeconfigs of one cluster see the same objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clusters_two_kubectl_minors_user_and_admin() {
    require_kubectl_minor("27").await;
    require_kubectl_minor("28").await;
    let sim = seed_era_sim().await;
    let az = Az::logged_in(&sim, Login::CloudRegister).await;
    az.register_mesh_preview(&sim).await;
    az.json(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    create_cluster(&az, "rg1", "c1", &[], "asm-1-17").await;
    create_cluster(
        &az,
        "rg1",
        "c2",
        &["--kubernetes-version", "1.28"],
        "asm-1-17",
    )
    .await;
    let dir1 = tempfile::tempdir().expect("temp dir");
    let dir2 = tempfile::tempdir().expect("temp dir");
    let user1 = Kubectl::new(&get_credentials(&sim, &az, dir1.path(), "rg1", "c1", false).await);
    let admin1 = Kubectl::new(&get_credentials(&sim, &az, dir1.path(), "rg1", "c1", true).await);
    let user2 = Kubectl::new(&get_credentials(&sim, &az, dir2.path(), "rg1", "c2", false).await);
    assert_version(&user1, "27").await;
    assert_version(&admin1, "27").await;
    assert_version(&user2, "28").await;

    let admin_context = admin1.ok(&["config", "current-context"]).await;
    assert_eq!(admin_context.stdout.trim(), "c1-admin", "{admin_context}");
    // One plane per cluster: a namespace made through c1's admin kubeconfig shows through c1's
    // user kubeconfig and not in c2.
    let made = admin1.ok(&["create", "namespace", "team-a"]).await;
    assert_eq!(made.stdout.trim(), "namespace/team-a created", "{made}");
    let seen = user1.ok(&["get", "ns", "team-a", "-o", "name"]).await;
    assert_eq!(seen.stdout.trim(), "namespace/team-a", "{seen}");
    user2
        .fails_with(&["get", "ns", "team-a"], "namespaces \"team-a\" not found")
        .await;
}

/// What `az aks mesh` changes, seen through kubectl: ingress gateway, canary upgrade, disable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mesh_changes_seen_through_kubectl() {
    require_kubectl_minor("27").await;
    let sim = seed_era_sim().await;
    let az = Az::logged_in(&sim, Login::CloudRegister).await;
    az.register_mesh_preview(&sim).await;
    az.json(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    create_cluster(&az, "rg1", "c1", &[], "asm-1-17").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let k = Kubectl::new(&get_credentials(&sim, &az, dir.path(), "rg1", "c1", false).await);
    assert_version(&k, "27").await;

    k.fails_with(
        &["get", "ns", "aks-istio-ingress"],
        "namespaces \"aks-istio-ingress\" not found",
    )
    .await;
    let cluster = az
        .json(&[
            "aks",
            "mesh",
            "enable-ingress-gateway",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--ingress-gateway-type",
            "external",
        ])
        .await;
    assert_eq!(
        cluster["serviceMeshProfile"]["istio"]["components"]["ingressGateways"][0]["mode"],
        "External",
        "{cluster:#}"
    );
    let svc = k
        .ok(&["get", "svc", "-n", "aks-istio-ingress"])
        .await
        .stdout;
    // The columns kubectl prints for a service, as on AKS.
    let header: Vec<&str> = svc
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ],
        "{svc}"
    );
    let row: Vec<&str> = svc
        .lines()
        .find(|l| l.starts_with("aks-istio-ingressgateway-external "))
        .unwrap_or_else(|| panic!("the external gateway service in:\n{svc}"))
        .split_whitespace()
        .collect();
    assert_eq!(row[1], "LoadBalancer", "{svc}");
    assert_eq!(row[3], "20.0.0.100", "{svc}");
    assert_eq!(row[4], "15021/TCP,80/TCP,443/TCP", "{svc}");
    let svc_type = k
        .ok(&[
            "get",
            "svc",
            "aks-istio-ingressgateway-external",
            "-n",
            "aks-istio-ingress",
            "-o",
            "jsonpath={.spec.type} {.spec.ports[*].port}",
        ])
        .await;
    assert_eq!(
        svc_type.stdout.trim(),
        "LoadBalancer 15021 80 443",
        "{svc_type}"
    );
    let gateways = k
        .ok(&["get", "deploy", "-n", "aks-istio-ingress", "-o", "name"])
        .await;
    assert_eq!(
        gateways.stdout.trim(),
        "deployment.apps/aks-istio-ingressgateway-external-asm-1-17",
        "{gateways}"
    );

    let cluster = az
        .json(&[
            "aks",
            "mesh",
            "upgrade",
            "start",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--revision",
            "asm-1-18",
        ])
        .await;
    assert_eq!(
        cluster["serviceMeshProfile"]["istio"]["revisions"],
        serde_json::json!(["asm-1-17", "asm-1-18"]),
        "{cluster:#}"
    );
    let deploy = k
        .ok(&["get", "deploy", "-n", "aks-istio-system", "-o", "name"])
        .await
        .stdout;
    for name in [
        "deployment.apps/istiod-asm-1-17",
        "deployment.apps/istiod-asm-1-18",
    ] {
        assert!(deploy.lines().any(|l| l == name), "{name} in:\n{deploy}");
    }
    let table = k
        .ok(&["get", "deploy", "-n", "aks-istio-system"])
        .await
        .stdout;
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        "{table}"
    );
    for revision in ["asm-1-17", "asm-1-18"] {
        let row = table
            .lines()
            .find(|l| l.starts_with(&format!("istiod-{revision} ")))
            .unwrap_or_else(|| panic!("istiod-{revision} in:\n{table}"));
        let ready = row.split_whitespace().nth(1).unwrap_or("");
        let (up, want) = ready.split_once('/').unwrap_or(("", "-"));
        assert_eq!(up, want, "all replicas ready: {table}");
    }
    let configmaps = k
        .ok(&["get", "configmaps", "-n", "aks-istio-system", "-o", "name"])
        .await
        .stdout;
    for name in [
        "configmap/istio-asm-1-17",
        "configmap/istio-asm-1-18",
        "configmap/istio-sidecar-injector-asm-1-17",
        "configmap/istio-sidecar-injector-asm-1-18",
    ] {
        assert!(
            configmaps.lines().any(|l| l == name),
            "{name} in:\n{configmaps}"
        );
    }
    let gateways = k
        .ok(&["get", "deploy", "-n", "aks-istio-ingress", "-o", "name"])
        .await
        .stdout;
    for name in [
        "deployment.apps/aks-istio-ingressgateway-external-asm-1-17",
        "deployment.apps/aks-istio-ingressgateway-external-asm-1-18",
    ] {
        assert!(
            gateways.lines().any(|l| l == name),
            "{name} in:\n{gateways}"
        );
    }
    // During the canary, the new revision's label injects too.
    k.ok(&["label", "namespace", "default", "istio.io/rev=asm-1-18"])
        .await;
    k.ok(&["run", "canary", "--image=nginx", "-n", "default"])
        .await;
    let injected = k
        .ok(&[
            "get",
            "pod",
            "canary",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.containers[*].name} {.metadata.labels.istio\\.io/rev}",
        ])
        .await;
    assert_eq!(
        injected.stdout.trim(),
        "canary istio-proxy asm-1-18",
        "{injected}"
    );
    k.ok(&["apply", "-f", &fixture("virtual-service.yaml")])
        .await;

    let disabled = az
        .json(&["aks", "mesh", "disable", "-g", "rg1", "-n", "c1", "--yes"])
        .await;
    assert_eq!(
        disabled["serviceMeshProfile"]["mode"], "Disabled",
        "{disabled:#}"
    );
    k.fails_with(
        &["get", "ns", "aks-istio-system"],
        "namespaces \"aks-istio-system\" not found",
    )
    .await;
    k.fails_with(
        &["get", "ns", "aks-istio-ingress"],
        "namespaces \"aks-istio-ingress\" not found",
    )
    .await;
    // The CRDs went with the add-on: the Istio kinds are no longer served. This kubectl still
    // has them in its discovery cache (`$HOME/.kube/cache`), so it posts and gets the API
    // server's bare 404; a kubectl with a fresh cache does not know the kind at all.
    k.fails_with(
        &["apply", "-f", &fixture("virtual-service.yaml")],
        "the server could not find the requested resource",
    )
    .await;
    let fresh = Kubectl::new(&k.kubeconfig);
    fresh
        .fails_with(
            &["apply", "-f", &fixture("virtual-service.yaml")],
            "no matches for kind \"VirtualService\" in version \"networking.istio.io/v1\"",
        )
        .await;
    let crds = fresh.ok(&["get", "crd", "-o", "name"]).await;
    assert_eq!(crds.stdout.trim(), "", "{crds}");
    // The user's own namespace and pod stay (the sidecar already injected stays too).
    let pod = k
        .ok(&["get", "pod", "canary", "-n", "default", "-o", "name"])
        .await;
    assert_eq!(pod.stdout.trim(), "pod/canary", "{pod}");
    // With the add-on off nothing injects.
    k.ok(&["run", "after", "--image=nginx", "-n", "default"])
        .await;
    let plain = k
        .ok(&[
            "get",
            "pod",
            "after",
            "-n",
            "default",
            "-o",
            "jsonpath={.spec.containers[*].name}",
        ])
        .await;
    assert_eq!(plain.stdout.trim(), "after", "{plain}");
}

/// Today's AKS in a second aksim: a 1.33 long-term-support cluster (1.33 is LTS-only today;
/// asm-1-29) gets kubectl 1.33 — which sends `create namespace` as protobuf — and runs the same
/// flow through az's kubeconfig; a cluster on today's default version (1.36, newer than any
/// kubectl the dispatcher has) beside it is reached by the dispatcher's default kubectl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_user_kubeconfig_kubectl_1_33_current_catalogue() {
    require_kubectl_minor("33").await;
    let sim = spawn_sim(|c| {
        c.auto_register_providers = true;
        c.op_durations = vec!["default=0".into()];
    })
    .await;
    let az = Az::logged_in(&sim, Login::CloudRegister).await;
    az.json(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let cluster = create_cluster(
        &az,
        "rg1",
        "c1",
        &[
            "--kubernetes-version",
            "1.33",
            "--tier",
            "premium",
            "--k8s-support-plan",
            "AKSLongTermSupport",
        ],
        // The default revision runs on 1.33 under long-term support.
        "asm-1-29",
    )
    .await;
    let version = cluster["currentKubernetesVersion"].as_str().unwrap_or("");
    assert!(version.starts_with("1.33."), "{cluster:#}");
    let newest = create_cluster(&az, "rg1", "newest", &[], "asm-1-29").await;
    let version = newest["currentKubernetesVersion"].as_str().unwrap_or("");
    assert!(version.starts_with("1.36."), "{newest:#}");
    let dir = tempfile::tempdir().expect("temp dir");
    let k = Kubectl::new(&get_credentials(&sim, &az, dir.path(), "rg1", "c1", false).await);
    assert_version(&k, "33").await;
    seed_flow(&sim, &k, "asm-1-29", true).await;

    let dir_new = tempfile::tempdir().expect("temp dir");
    let new =
        Kubectl::new(&get_credentials(&sim, &az, dir_new.path(), "rg1", "newest", false).await);
    let ns = new
        .ok(&["get", "ns", "aks-istio-system", "-o", "name"])
        .await;
    assert_eq!(ns.stdout.trim(), "namespace/aks-istio-system", "{ns}");

    // A stopped cluster's API server is down (aksim: 503 with a Status, docs/deviations.md);
    // it answers again once the start ends.
    az.ok(&["aks", "stop", "-g", "rg1", "-n", "newest"]).await;
    new.fails_with(&["get", "ns", "aks-istio-system", "-o", "name"], "stopped")
        .await;
    az.ok(&["aks", "start", "-g", "rg1", "-n", "newest"]).await;
    new.ok(&["get", "ns", "aks-istio-system", "-o", "name"])
        .await;
}

/// Without kubectl the tests fail (they never skip) and say how to install it.
#[test]
fn missing_kubectl_fails_with_install_advice() {
    let empty = tempfile::tempdir().expect("temp dir");
    let nowhere = empty.path().join("no-kubectl");
    let missing = find_kubectl(None, &nowhere, Some(empty.path().as_os_str().to_owned()))
        .expect_err("no kubectl anywhere");
    assert_eq!(missing, INSTALL_ADVICE);
    let wrong_env = find_kubectl(Some(nowhere.clone().into_os_string()), &nowhere, None)
        .expect_err("KUBECTL names a missing file");
    assert!(
        wrong_env.contains("does not exist") && wrong_env.ends_with(INSTALL_ADVICE),
        "{wrong_env}"
    );
    // One on PATH is found.
    let fake = empty.path().join("kubectl");
    std::fs::write(&fake, "").expect("write a stand-in");
    let found = find_kubectl(None, &nowhere, Some(empty.path().as_os_str().to_owned()));
    assert_eq!(found, Ok(fake));
}
