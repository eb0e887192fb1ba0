//! Agent pools, upgrade profiles and stop/start through unmodified real clients (issue 16):
//! az 2.91's `az aks nodepool add/list/show/scale/update/upgrade/get-upgrades/stop/start/
//! operation-abort/delete` (a
//! Gateway pool with `--mode Gateway --gateway-prefix-size 31` among them), `az aks
//! get-upgrades`, `az aks stop/start`, each with a refusal where AKS has one; and the Python
//! SDK's `agent_pools` operations (`client-tests/python/sdk_agent_pools.py`), every raw response
//! checked against the SDK's spec-generated models (no key they do not declare).

use serde_json::Value;

use crate::support::az::{Az, Login};
use crate::support::process::ClientRun;
use crate::support::python;
use crate::support::sim::spawn_sim;

/// Asserts a server refusal az shows as `(CODE) text`, exit code 1, nothing on stdout.
#[track_caller]
fn assert_refused(run: &ClientRun, code: &str, text: &str) {
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains(&format!("({code}) {text}")),
        "expected ({code}) {text:?} in:\n{run}"
    );
    assert!(run.stdout.trim().is_empty(), "{run}");
}

fn patches(sim: &crate::support::sim::SimHandle, minor: &str) -> Vec<String> {
    let aks = sim.state.core.aks_for(crate::support::SUB);
    aks.minor(minor)
        .expect("minor in the catalogue")
        .patch_versions
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_nodepool_commands_get_upgrades_and_stop_start() {
    let sim = spawn_sim(|c| c.auto_register_providers = true).await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let p134 = patches(&sim, "1.34");
    let p135 = patches(&sim, "1.35");
    let (old, current) = (p134.last().unwrap().clone(), p135.last().unwrap().clone());

    let cluster = az
        .json(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--node-count",
            "1",
            "-k",
            "1.35",
            "--enable-static-egress-gateway",
        ])
        .await;
    assert_eq!(cluster["provisioningState"], "Succeeded", "{cluster:#}");

    // az aks nodepool add: a User pool one minor behind, and a Gateway pool.
    let user1 = az
        .json(&[
            "aks",
            "nodepool",
            "add",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
            "--node-count",
            "2",
            "--kubernetes-version",
            &old,
        ])
        .await;
    assert_eq!(user1["provisioningState"], "Succeeded", "{user1:#}");
    assert_eq!(user1["mode"], "User", "{user1:#}");
    assert_eq!(user1["count"], 2, "{user1:#}");
    assert_eq!(
        user1["currentOrchestratorVersion"],
        old.as_str(),
        "{user1:#}"
    );
    let gw = az
        .json(&[
            "aks",
            "nodepool",
            "add",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "gw",
            "--mode",
            "Gateway",
            "--gateway-prefix-size",
            "31",
            "--node-count",
            "2",
        ])
        .await;
    assert_eq!(gw["mode"], "Gateway", "{gw:#}");
    assert_eq!(gw["gatewayProfile"]["publicIpPrefixSize"], 31, "{gw:#}");
    // A Gateway pool larger than its /31 prefix: AKS refuses.
    let too_big = az
        .run(&[
            "aks",
            "nodepool",
            "add",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "gw2",
            "--mode",
            "Gateway",
            "--gateway-prefix-size",
            "31",
            "--node-count",
            "3",
        ])
        .await;
    assert_refused(
        &too_big,
        "InvalidParameter",
        "Gateway agent pool 'gw2' count 3 exceeds the 2 addresses of its /31 public IP prefix.",
    );

    // list and show.
    let list = az
        .json(&[
            "aks",
            "nodepool",
            "list",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
        ])
        .await;
    let names: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["nodepool1", "user1", "gw"], "{list:#}");
    let shown = az
        .json(&[
            "aks",
            "nodepool",
            "show",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
        ])
        .await;
    assert_eq!(shown["name"], "user1");
    assert_eq!(shown["osType"], "Linux");
    let missing = az
        .run(&[
            "aks",
            "nodepool",
            "show",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "nope",
        ])
        .await;
    assert_eq!(missing.code, 3, "{missing}");

    // scale and update (the autoscaler), with the count rule refusing a 1001-node pool.
    let scaled = az
        .json(&[
            "aks",
            "nodepool",
            "scale",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
            "--node-count",
            "3",
        ])
        .await;
    assert_eq!(scaled["count"], 3, "{scaled:#}");
    // The operation-status resource (AKS's preview API; aks-preview's `az aks operation
    // show-latest` reads it): the scale was the pool's latest operation, and it succeeded.
    let latest_url = sim.url(&format!(
        "/subscriptions/{}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/user1/operations/latest?api-version=2025-10-02-preview",
        crate::support::SUB
    ));
    let latest: Value = az
        .json(&["rest", "--method", "get", "--url", &latest_url])
        .await;
    assert_eq!(latest["status"], "Succeeded", "{latest:#}");
    assert_eq!(latest["percentComplete"], 100.0, "{latest:#}");
    assert!(
        latest["id"]
            .as_str()
            .is_some_and(|id| id.ends_with(&format!(
                "/agentPools/user1/operations/{}",
                latest["name"].as_str().unwrap_or("?")
            ))),
        "{latest:#}"
    );
    let too_many = az
        .run(&[
            "aks",
            "nodepool",
            "scale",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
            "--node-count",
            "1001",
        ])
        .await;
    assert_refused(
        &too_many,
        "InvalidParameter",
        "agentPoolProfile.count was 1001. It must be greater or equal to minCount:0 and less \
         than or equal to maxCount:1000.",
    );
    let updated = az
        .json(&[
            "aks",
            "nodepool",
            "update",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
            "--enable-cluster-autoscaler",
            "--min-count",
            "1",
            "--max-count",
            "5",
        ])
        .await;
    assert_eq!(updated["enableAutoScaling"], true, "{updated:#}");
    assert_eq!(updated["maxCount"], 5, "{updated:#}");

    // get-upgrades of the pool and of the cluster; upgrade the pool to the control plane.
    let pool_upgrades = az
        .json(&[
            "aks",
            "nodepool",
            "get-upgrades",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "--nodepool-name",
            "user1",
        ])
        .await;
    assert_eq!(
        pool_upgrades["kubernetesVersion"],
        old.as_str(),
        "{pool_upgrades:#}"
    );
    let targets: Vec<&str> = pool_upgrades["upgrades"]
        .as_array()
        .expect("upgrades")
        .iter()
        .map(|u| u["kubernetesVersion"].as_str().unwrap_or(""))
        .collect();
    assert!(targets.contains(&current.as_str()), "{pool_upgrades:#}");
    let cluster_upgrades = az
        .json(&["aks", "get-upgrades", "-g", "rg1", "-n", "c1"])
        .await;
    assert_eq!(
        cluster_upgrades["controlPlaneProfile"]["kubernetesVersion"],
        current.as_str(),
        "{cluster_upgrades:#}"
    );
    assert!(
        !cluster_upgrades["controlPlaneProfile"]["upgrades"]
            .as_array()
            .expect("upgrades")
            .is_empty(),
        "{cluster_upgrades:#}"
    );
    let upgraded = az
        .json(&[
            "aks",
            "nodepool",
            "upgrade",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
            "-k",
            &current,
            "--yes",
        ])
        .await;
    assert_eq!(
        upgraded["currentOrchestratorVersion"],
        current.as_str(),
        "{upgraded:#}"
    );
    az.ok(&[
        "aks",
        "nodepool",
        "upgrade",
        "-g",
        "rg1",
        "--cluster-name",
        "c1",
        "-n",
        "user1",
        "--node-image-only",
        "--yes",
    ])
    .await;
    let imaged = az
        .json(&[
            "aks",
            "nodepool",
            "show",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
        ])
        .await;
    assert_eq!(imaged["provisioningState"], "Succeeded", "{imaged:#}");
    assert!(
        imaged["nodeImageVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("AKSUbuntu")),
        "{imaged:#}"
    );

    // az aks upgrade: the control plane and every pool move to the next minor.
    let next = patches(&sim, "1.36").last().unwrap().clone();
    let all = az
        .json(&[
            "aks", "upgrade", "-g", "rg1", "-n", "c1", "-k", &next, "--yes",
        ])
        .await;
    assert_eq!(all["currentKubernetesVersion"], next.as_str(), "{all:#}");
    let versions: Vec<&str> = all["agentPoolProfiles"]
        .as_array()
        .expect("pools")
        .iter()
        .map(|p| p["currentOrchestratorVersion"].as_str().unwrap_or(""))
        .collect();
    assert!(versions.iter().all(|v| *v == next), "{all:#}");

    // az aks machine list: one machine per node.
    let machines = az
        .json(&[
            "aks",
            "machine",
            "list",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "--nodepool-name",
            "user1",
        ])
        .await;
    assert_eq!(machines.as_array().map(Vec::len), Some(3), "{machines:#}");

    // A pool's own stop and start (a PUT of its powerState), and an abort with nothing running.
    let pool_stopped = az
        .json(&[
            "aks",
            "nodepool",
            "stop",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
        ])
        .await;
    assert_eq!(
        pool_stopped["powerState"]["code"], "Stopped",
        "{pool_stopped:#}"
    );
    let pool_started = az
        .json(&[
            "aks",
            "nodepool",
            "start",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
        ])
        .await;
    assert_eq!(
        pool_started["powerState"]["code"], "Running",
        "{pool_started:#}"
    );
    let abort = az
        .run(&[
            "aks",
            "nodepool",
            "operation-abort",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user1",
        ])
        .await;
    assert_refused(
        &abort,
        "OperationNotAllowed",
        "There is no running operation to abort on agent pool 'user1'",
    );

    // stop: powerState Stopped, writes refused with AKS's text; start.
    az.ok(&["aks", "stop", "-g", "rg1", "-n", "c1"]).await;
    let power = az
        .ok(&[
            "aks",
            "show",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--query",
            "powerState.code",
            "-o",
            "tsv",
        ])
        .await;
    assert_eq!(power.stdout.trim(), "Stopped", "{power}");
    let while_stopped = az
        .run(&[
            "aks",
            "nodepool",
            "add",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "user2",
        ])
        .await;
    assert_refused(
        &while_stopped,
        "OperationNotAllowed",
        "Managed Cluster is in stopped state, no operations except for start are allowed.",
    );
    az.ok(&["aks", "start", "-g", "rg1", "-n", "c1"]).await;
    let power = az
        .ok(&[
            "aks",
            "show",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--query",
            "powerState.code",
            "-o",
            "tsv",
        ])
        .await;
    assert_eq!(power.stdout.trim(), "Running", "{power}");

    // delete: a User pool goes; the last System pool stays.
    az.ok(&[
        "aks",
        "nodepool",
        "delete",
        "-g",
        "rg1",
        "--cluster-name",
        "c1",
        "-n",
        "user1",
    ])
    .await;
    let last = az
        .run(&[
            "aks",
            "nodepool",
            "delete",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
            "-n",
            "nodepool1",
        ])
        .await;
    assert_refused(
        &last,
        "OperationNotAllowed",
        "There has to be at least one system agent pool.",
    );
    let left = az
        .json(&[
            "aks",
            "nodepool",
            "list",
            "-g",
            "rg1",
            "--cluster-name",
            "c1",
        ])
        .await;
    assert_eq!(left.as_array().map(Vec::len), Some(2), "{left:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_agent_pools() {
    let sim = spawn_sim(|c| c.auto_register_providers = true).await;
    let run = python::run_script(&sim, "sdk", "sdk_agent_pools.py", &[]).await;
    assert_eq!(run.code, 0, "{run}");
    let seen: Value = run.json();
    assert_eq!(seen["unknownKeys"], serde_json::json!([]), "{seen:#}");
    assert_eq!(seen["added"]["state"], "Succeeded", "{seen:#}");
    assert_eq!(seen["added"]["mode"], "User", "{seen:#}");
    assert_eq!(seen["scaled"], 3, "{seen:#}");
    assert_eq!(seen["listed"], serde_json::json!(["nodepool1", "user1"]));
    assert!(
        seen["poolUpgrades"]["latestNodeImageVersion"].is_string(),
        "{seen:#}"
    );
    assert_eq!(
        seen["clusterUpgrades"]["pools"],
        serde_json::json!(["nodepool1", "user1"])
    );
    assert_eq!(seen["imaged"], "Succeeded", "{seen:#}");
    assert_eq!(
        seen["availableDefaults"].as_array().map(Vec::len),
        Some(1),
        "{seen:#}"
    );
    assert_eq!(seen["badName"]["status"], 400, "{seen:#}");
    assert_eq!(seen["badName"]["code"], "InvalidParameter", "{seen:#}");
    assert_eq!(
        seen["lastSystem"]["code"], "OperationNotAllowed",
        "{seen:#}"
    );
    assert_eq!(seen["stoppedPower"], "Stopped", "{seen:#}");
    assert_eq!(
        seen["whileStopped"]["code"], "OperationNotAllowed",
        "{seen:#}"
    );
    assert_eq!(seen["startedPower"], "Running", "{seen:#}");
    assert_eq!(seen["afterDelete"], serde_json::json!(["nodepool1"]));
}
