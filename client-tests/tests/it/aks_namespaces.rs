//! Managed namespaces, identity bindings, `az aks nodepool delete-machines` and
//! `az aks oidc-issuer rotate-signing-keys` (issue 16) through the unmodified az CLI 2.91, each
//! command once, one refusal, and the raw answers against the Python SDK's spec-generated
//! models (no unknown member).

use serde_json::{json, Value};

use crate::aks_surface::assert_sdk_knows;
use crate::support::az::{Az, Login};
use crate::support::sim::spawn_sim;
use crate::support::SUB;

const IDENTITY: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_namespaces_identity_bindings_machines_and_signing_keys() {
    let sim = spawn_sim(|c| c.auto_register_providers = true).await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    az.ok(&[
        "aks",
        "create",
        "-g",
        "rg1",
        "-n",
        "c1",
        "--node-count",
        "3",
        "--enable-oidc-issuer",
    ])
    .await;
    let c = ["-g", "rg1", "--cluster-name", "c1"];
    let with = |extra: &[&'static str], head: &[&'static str]| -> Vec<&str> {
        let mut v: Vec<&str> = head.to_vec();
        v.extend_from_slice(&c);
        v.extend_from_slice(extra);
        v
    };

    // az aks namespace add/show/list/update/get-credentials/delete.
    let added = az
        .json(&with(
            &[
                "-n",
                "team-a",
                "--cpu-request",
                "500m",
                "--cpu-limit",
                "1000m",
                "--memory-request",
                "512Mi",
                "--memory-limit",
                "1Gi",
                "--labels",
                "team=a",
                "--tags",
                "env=dev",
            ],
            &["aks", "namespace", "add"],
        ))
        .await;
    assert_eq!(added["name"], "team-a", "{added:#}");
    assert_eq!(
        added["properties"]["provisioningState"], "Succeeded",
        "{added:#}"
    );
    assert_eq!(added["properties"]["labels"]["team"], "a", "{added:#}");
    let shown = az
        .json(&with(&["-n", "team-a"], &["aks", "namespace", "show"]))
        .await;
    assert_eq!(shown["tags"]["env"], "dev", "{shown:#}");
    let listed = az.json(&with(&[], &["aks", "namespace", "list"])).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed:#}");
    let updated = az
        .json(&with(
            &["-n", "team-a", "--tags", "env=prod"],
            &["aks", "namespace", "update"],
        ))
        .await;
    assert_eq!(updated["tags"]["env"], "prod", "{updated:#}");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("kubeconfig");
    let file_s = file.to_str().expect("utf-8 path");
    let mut get_credentials = with(
        &["-n", "team-a", "--file"],
        &["aks", "namespace", "get-credentials"],
    );
    get_credentials.push(file_s);
    az.ok(&get_credentials).await;
    let kubeconfig = std::fs::read_to_string(&file).expect("kubeconfig written");
    assert!(kubeconfig.contains("team-a"), "{kubeconfig}");

    // The refusal: a name Kubernetes keeps.
    let refused = az
        .run(&with(
            &[
                "-n",
                "kube-system",
                "--cpu-request",
                "500m",
                "--cpu-limit",
                "1000m",
                "--memory-request",
                "512Mi",
                "--memory-limit",
                "1Gi",
            ],
            &["aks", "namespace", "add"],
        ))
        .await;
    assert_ne!(refused.code, 0, "{refused}");
    assert!(
        refused.stderr.contains("InvalidParameter") || refused.stderr.contains("reserved"),
        "{refused}"
    );

    // az aks identity-binding create/show/list/delete.
    let binding = az
        .json(&with(
            &["-n", "b1", "--managed-identity-resource-id", IDENTITY],
            &["aks", "identity-binding", "create"],
        ))
        .await;
    assert_eq!(binding["name"], "b1", "{binding:#}");
    let shown_b = az
        .json(&with(&["-n", "b1"], &["aks", "identity-binding", "show"]))
        .await;
    assert_eq!(
        shown_b["properties"]["managedIdentity"]["resourceId"], IDENTITY,
        "{shown_b:#}"
    );
    let listed_b = az
        .json(&with(&[], &["aks", "identity-binding", "list"]))
        .await;
    assert_eq!(listed_b.as_array().map(Vec::len), Some(1), "{listed_b:#}");

    // The raw answers against the SDK models.
    let cluster = format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1"
    );
    let api = "api-version=2026-08-01";
    let mut docs: Vec<Value> = Vec::new();
    for (model, tail, list) in [
        ("ManagedNamespace", "/managedNamespaces/team-a", false),
        ("ManagedNamespace", "/managedNamespaces", true),
        ("IdentityBinding", "/identityBindings/b1", false),
        ("IdentityBinding", "/identityBindings", true),
    ] {
        let r = sim.get(&format!("{cluster}{tail}?{api}")).await;
        assert_eq!(r.status, 200, "{tail}: {r:#?}");
        docs.push(json!({"model": model, "body": r.body, "list": list}));
    }
    assert_sdk_knows(&sim, Value::Array(docs)).await;

    az.ok(&with(
        &["-n", "b1", "--yes"],
        &["aks", "identity-binding", "delete"],
    ))
    .await;
    az.ok(&with(&["-n", "team-a"], &["aks", "namespace", "delete"]))
        .await;
    let after = az.json(&with(&[], &["aks", "namespace", "list"])).await;
    assert_eq!(after, json!([]), "{after:#}");

    // az aks nodepool delete-machines: one machine of three.
    let machines = az
        .json(&with(
            &["--nodepool-name", "nodepool1"],
            &["aks", "machine", "list"],
        ))
        .await;
    let first = machines[0]["name"].as_str().expect("a machine").to_owned();
    let first_static: &'static str = Box::leak(first.clone().into_boxed_str());
    az.ok(&with(
        &[
            "--nodepool-name",
            "nodepool1",
            "--machine-names",
            first_static,
        ],
        &["aks", "nodepool", "delete-machines"],
    ))
    .await;
    let left = az
        .json(&with(
            &["--nodepool-name", "nodepool1"],
            &["aks", "machine", "list"],
        ))
        .await;
    assert_eq!(left.as_array().map(Vec::len), Some(2), "{left:#}");
    assert!(
        left.as_array()
            .is_some_and(|l| l.iter().all(|m| m["name"] != first.as_str())),
        "{left:#}"
    );

    // az aks oidc-issuer rotate-signing-keys.
    az.ok(&[
        "aks",
        "oidc-issuer",
        "rotate-signing-keys",
        "-g",
        "rg1",
        "-n",
        "c1",
        "--yes",
    ])
    .await;
    let cluster_now = az.json(&["aks", "show", "-g", "rg1", "-n", "c1"]).await;
    assert_eq!(
        cluster_now["provisioningState"], "Succeeded",
        "{cluster_now:#}"
    );
}
