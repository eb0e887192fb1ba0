//! The cluster shape and the Microsoft.ContainerService surface around it (issue 16) through
//! the unmodified az CLI 2.91 and the Python SDK's spec-generated models:
//!
//! - `az aks create` with the common flags (`--node-count`, Azure CNI Overlay, OIDC issuer,
//!   workload identity, the Key Vault secrets provider add-on, the Static Egress Gateway,
//!   `--tier standard`) and every value back in `az aks show`;
//! - every answer checked against the `azure-mgmt-containerservice` models: no member the
//!   spec does not know (`client-tests/python/sdk_model_keys.py`);
//! - the documented `kubectl apply` of a `StaticGatewayConfiguration` on a cluster created with
//!   `--enable-static-egress-gateway` (az's kubeconfig, the installed kubectl).

use std::path::Path;

use serde_json::{json, Value};

use crate::support::az::{Az, Login};
use crate::support::process;
use crate::support::sim::{spawn_sim, SimHandle};
use crate::support::{python, SUB};

/// A sim with providers registered on first use and operations done at the first poll; az
/// logged in with resource group `rg1` in eastus.
async fn sim_with_group() -> (SimHandle, Az) {
    let sim = spawn_sim(|c| c.auto_register_providers = true).await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    let group = az
        .json(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    assert_eq!(group["name"], "rg1", "{group:#}");
    (sim, az)
}

/// Runs the SDK model check over `docs` (`[{"model", "body", "list"?}]`) and asserts no
/// unknown member.
pub async fn assert_sdk_knows(sim: &SimHandle, docs: Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("docs.json");
    std::fs::write(&file, docs.to_string()).expect("write docs");
    let run = python::run_script(sim, "sdk", "sdk_model_keys.py", &[path_str(&file)]).await;
    assert_eq!(run.code, 0, "{run}");
    let seen = run.json();
    let want = docs.as_array().map_or(0, |d| d.len()) as u64;
    assert!(
        seen["checked"].as_u64().unwrap_or(0) >= want,
        "nothing checked: {seen:#}"
    );
    assert_eq!(
        seen["unknown"],
        json!([]),
        "members the SDK models do not know"
    );
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temp path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_create_with_the_common_flags_shows_every_value() {
    let (sim, az) = sim_with_group().await;
    let created = az
        .json(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--node-count",
            "2",
            "--network-plugin",
            "azure",
            "--network-plugin-mode",
            "overlay",
            "--enable-oidc-issuer",
            "--enable-workload-identity",
            "--enable-addons",
            "azure-keyvault-secrets-provider",
            "--enable-static-egress-gateway",
            "--tier",
            "standard",
        ])
        .await;
    assert_eq!(created["provisioningState"], "Succeeded", "{created:#}");
    let shown = az.json(&["aks", "show", "-g", "rg1", "-n", "c1"]).await;
    assert_eq!(shown["agentPoolProfiles"][0]["count"], 2, "{shown:#}");
    let net = &shown["networkProfile"];
    assert_eq!(net["networkPlugin"], "azure", "{net:#}");
    assert_eq!(net["networkPluginMode"], "overlay", "{net:#}");
    assert_eq!(net["networkDataplane"], "azure", "{net:#}");
    assert_eq!(net["podCidr"], "10.244.0.0/16", "{net:#}");
    assert_eq!(
        net["staticEgressGatewayProfile"]["enabled"], true,
        "{net:#}"
    );
    assert_eq!(shown["oidcIssuerProfile"]["enabled"], true, "{shown:#}");
    let issuer = shown["oidcIssuerProfile"]["issuerUrl"]
        .as_str()
        .unwrap_or("");
    assert!(
        issuer.starts_with("https://eastus.oic.prod-aks.azure.com/"),
        "{shown:#}"
    );
    assert_eq!(
        shown["securityProfile"]["workloadIdentity"]["enabled"], true,
        "{shown:#}"
    );
    let kv = &shown["addonProfiles"]["azureKeyvaultSecretsProvider"];
    assert_eq!(kv["enabled"], true, "{shown:#}");
    assert!(
        kv["identity"]["resourceId"]
            .as_str()
            .is_some_and(|id| id.ends_with("/azurekeyvaultsecretsprovider-c1")),
        "{shown:#}"
    );
    assert_eq!(shown["sku"]["tier"], "Standard", "{shown:#}");
    assert_eq!(shown["kind"], "Base", "{shown:#}");
    assert_eq!(shown["nodeResourceGroup"], "MC_rg1_c1_eastus", "{shown:#}");
    assert_eq!(
        shown["storageProfile"]["diskCsiDriver"]["enabled"], true,
        "{shown:#}"
    );

    // The raw answer: every member is one the spec-generated models know.
    let url = format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/\
         managedClusters/c1?api-version=2026-08-01"
    );
    let raw = sim.get(&url).await;
    assert_eq!(raw.status, 200, "{raw:#?}");
    assert_sdk_knows(&sim, json!([{"model": "ManagedCluster", "body": raw.body}])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_surface_around_a_cluster_matches_the_sdk_models() {
    let (sim, az) = sim_with_group().await;
    az.ok(&["aks", "create", "-g", "rg1", "-n", "c1"]).await;

    // az's own commands for maintenance windows and run command.
    let added = az
        .json(&[
            "aks",
            "maintenanceconfiguration",
            "add",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "default",
            "--weekday",
            "Monday",
            "--start-hour",
            "1",
        ])
        .await;
    assert_eq!(added["name"], "default", "{added:#}");
    let listed = az
        .json(&[
            "aks",
            "maintenanceconfiguration",
            "list",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
        ])
        .await;
    assert_eq!(listed[0]["timeInWeek"][0]["day"], "Monday", "{listed:#}");
    let invoked = az
        .run(&[
            "aks",
            "command",
            "invoke",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--command",
            "kubectl get ns",
        ])
        .await;
    assert_eq!(invoked.code, 0, "{invoked}");
    assert!(invoked.stdout.contains("simulated"), "{invoked}");

    // The raw answers, each against its model.
    let cluster = format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1"
    );
    let api = "api-version=2026-08-01";
    let get = |path: String| {
        let sim = &sim;
        async move {
            let r = sim.get(&path).await;
            assert_eq!(r.status, 200, "{path}: {r:#?}");
            r.body
        }
    };
    let binding = sim
        .put(
            &format!("{cluster}/trustedAccessRoleBindings/b1?{api}"),
            json!({"properties": {
                "sourceResourceId": format!("/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/w"),
                "roles": ["Microsoft.MachineLearningServices/workspaces/inference-v1"]
            }}),
        )
        .await;
    assert_eq!(binding.status, 201, "{binding:#?}");
    let snapshot = sim
        .put(
            &format!(
                "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/snapshots/s1?{api}"
            ),
            json!({"location": "eastus", "properties": {"creationData": {
                "sourceResourceId": format!("{cluster}/agentPools/nodepool1")
            }}}),
        )
        .await;
    assert_eq!(snapshot.status, 201, "{snapshot:#?}");
    let docs = json!([
        {"model": "MaintenanceConfiguration", "list": true,
         "body": get(format!("{cluster}/maintenanceConfigurations?{api}")).await},
        {"model": "TrustedAccessRoleBinding", "body": binding.body},
        {"model": "Snapshot", "body": snapshot.body},
        {"model": "PrivateEndpointConnection", "list": true,
         "body": get(format!("{cluster}/privateEndpointConnections?{api}")).await},
        {"model": "TrustedAccessRole", "list": true,
         "body": get(format!("/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus/trustedAccessRoles?{api}")).await},
        {"model": "OperationValue", "list": true,
         "body": get(format!("/providers/Microsoft.ContainerService/operations?{api}")).await},
        {"model": "ManagedCluster", "body": get(format!("{cluster}?{api}")).await},
    ]);
    assert_sdk_knows(&sim, docs).await;
}

/// The Static Egress Gateway's documented manifest (namespace `default`).
const STATIC_GATEWAY: &str = "apiVersion: egressgateway.kubernetes.azure.com/v1alpha1
kind: StaticGatewayConfiguration
metadata:
  name: my-static-egress-gateway
  namespace: default
spec:
  gatewayNodepoolName: gatewaypool
  excludeCidrs:
  - 10.0.0.0/8
  - 172.16.0.0/12
  - 169.254.169.254/32
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_applies_a_static_gateway_configuration() {
    let (_sim, az) = sim_with_group().await;
    az.ok(&[
        "aks",
        "create",
        "-g",
        "rg1",
        "-n",
        "c1",
        "--enable-static-egress-gateway",
    ])
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    az.ok(&[
        "aks",
        "get-credentials",
        "-g",
        "rg1",
        "-n",
        "c1",
        "--file",
        path_str(&kubeconfig),
    ])
    .await;
    let manifest = dir.path().join("sgc.yaml");
    std::fs::write(&manifest, STATIC_GATEWAY).expect("write the manifest");
    let kubectl = std::env::var_os("KUBECTL").unwrap_or_else(|| "kubectl".into());
    let run = |args: Vec<String>| {
        let mut command = tokio::process::Command::new(&kubectl);
        command
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("KUBECONFIG", &kubeconfig)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        process::run(command, std::time::Duration::from_secs(120))
    };
    let applied = run(vec![
        "apply".into(),
        "-f".into(),
        path_str(&manifest).into(),
    ])
    .await;
    assert_eq!(applied.code, 0, "{applied}");
    assert!(
        applied
            .stdout
            .contains("staticgatewayconfiguration.egressgateway.kubernetes.azure.com/my-static-egress-gateway created"),
        "{applied}"
    );
    let got = run(vec![
        "get".into(),
        "staticgatewayconfigurations".into(),
        "-n".into(),
        "default".into(),
        "-o".into(),
        "json".into(),
    ])
    .await;
    assert_eq!(got.code, 0, "{got}");
    assert_eq!(
        got.json()["items"][0]["spec"]["gatewayNodepoolName"],
        "gatewaypool",
        "{got}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_rotate_certs_trusted_access_and_snapshots() {
    let (_sim, az) = sim_with_group().await;
    az.ok(&["aks", "create", "-g", "rg1", "-n", "c1"]).await;
    az.ok(&["aks", "rotate-certs", "-g", "rg1", "-n", "c1", "--yes"])
        .await;
    let shown = az.json(&["aks", "show", "-g", "rg1", "-n", "c1"]).await;
    assert_eq!(shown["provisioningState"], "Succeeded", "{shown:#}");

    let roles = az
        .json(&["aks", "trustedaccess", "role", "list", "-l", "eastus"])
        .await;
    assert!(roles[0]["sourceResourceType"].is_string(), "{roles:#}");
    let source = format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/w1"
    );
    let binding = az
        .json(&[
            "aks",
            "trustedaccess",
            "rolebinding",
            "create",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "b1",
            "--source-resource-id",
            &source,
            "--roles",
            "Microsoft.MachineLearningServices/workspaces/inference-v1",
        ])
        .await;
    assert_eq!(binding["name"], "b1", "{binding:#}");
    let bindings = az
        .json(&[
            "aks",
            "trustedaccess",
            "rolebinding",
            "list",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
        ])
        .await;
    assert_eq!(bindings[0]["sourceResourceId"], source, "{bindings:#}");

    let pool_id = format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/nodepool1"
    );
    let snapshot = az
        .json(&[
            "aks",
            "nodepool",
            "snapshot",
            "create",
            "-g",
            "rg1",
            "-n",
            "snap1",
            "--nodepool-id",
            &pool_id,
        ])
        .await;
    assert_eq!(snapshot["snapshotType"], "NodePool", "{snapshot:#}");
    let listed = az
        .json(&["aks", "nodepool", "snapshot", "list", "-g", "rg1"])
        .await;
    assert_eq!(listed[0]["name"], "snap1", "{listed:#}");
    az.ok(&[
        "aks", "nodepool", "snapshot", "delete", "-g", "rg1", "-n", "snap1", "--yes",
    ])
    .await;
}
