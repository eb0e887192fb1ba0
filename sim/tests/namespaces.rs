//! Managed namespaces, identity bindings and `rotateServiceAccountSigningKeys` (issue 16): as
//! AKS answers them, kept with the cluster (gone with it), refused on a stopped cluster, with
//! bad input leaving state unchanged.

mod common;

use axum::http::StatusCode;
use base64::Engine;
use common::aks::*;
use serde_json::json;

fn child_url(rg: &str, name: &str, tail: &str) -> String {
    format!("{}{tail}?api-version={API}", cluster_path(rg, name))
}

async fn sim_with_cluster() -> common::Sim {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;
    sim
}

const IDENTITY: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1";

#[tokio::test]
async fn managed_namespaces_crud_and_credential() {
    let sim = sim_with_cluster().await;
    let list_url = child_url("rg1", "c1", "/managedNamespaces");
    assert_eq!(sim.get(&list_url).await.body, json!({"value": []}));
    let url = child_url("rg1", "c1", "/managedNamespaces/team-a");
    let missing = sim.get(&url).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let body = json!({
        "location": "eastus",
        "tags": {"env": "dev"},
        "properties": {"labels": {"team": "a"}, "annotations": {"owner": "me"},
                       "defaultResourceQuota": {"cpuRequest": "1"}}
    });
    let created = sim.put(&url, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["type"],
        "Microsoft.ContainerService/managedClusters/managedNamespaces"
    );
    assert_eq!(created.body["name"], "team-a");
    assert_eq!(created.body["tags"], json!({"env": "dev"}));
    let props = &created.body["properties"];
    assert_eq!(props["provisioningState"], "Succeeded");
    assert_eq!(props["labels"], json!({"team": "a"}));
    assert_eq!(props["adoptionPolicy"], "Never");
    assert_eq!(props["deletePolicy"], "Keep");
    assert_eq!(
        props["defaultNetworkPolicy"]["ingress"],
        "AllowSameNamespace"
    );
    assert_eq!(sim.put(&url, body.clone()).await.status, StatusCode::OK);

    let patched = sim.patch(&url, json!({"tags": {"env": "prod"}})).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["tags"], json!({"env": "prod"}));
    assert_eq!(patched.body["properties"]["labels"], json!({"team": "a"}));
    assert_eq!(sim.get(&url).await.body, patched.body);
    assert_eq!(
        sim.get(&list_url).await.body["value"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let cred = sim
        .post(&child_url(
            "rg1",
            "c1",
            "/managedNamespaces/team-a/listCredential",
        ))
        .await;
    assert_eq!(cred.status, StatusCode::OK, "{}", cred.body);
    let value = cred.body["kubeconfigs"][0]["value"].as_str().unwrap_or("");
    let yaml = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    assert!(yaml.contains("namespace: \"team-a\""), "{yaml}");
    let no_cred = sim
        .post(&child_url(
            "rg1",
            "c1",
            "/managedNamespaces/other/listCredential",
        ))
        .await;
    assert_eq!(no_cred.status, StatusCode::NOT_FOUND);

    // Bad names leave the list as it was.
    for bad in ["Team", "kube-system", "-a"] {
        let r = sim
            .put(
                &child_url("rg1", "c1", &format!("/managedNamespaces/{bad}")),
                body.clone(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.code(), "InvalidParameter", "{bad}");
    }
    assert_eq!(
        sim.get(&list_url).await.body["value"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let deleted = sim.delete(&url).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert_eq!(poll(&sim, &deleted).await["status"], "Succeeded");
    assert_eq!(sim.delete(&url).await.status, StatusCode::NO_CONTENT);
    assert_eq!(sim.get(&list_url).await.body, json!({"value": []}));
}

#[tokio::test]
async fn identity_bindings_need_a_managed_identity() {
    let sim = sim_with_cluster().await;
    let url = child_url("rg1", "c1", "/identityBindings/b1");
    let bad = sim
        .put(
            &url,
            json!({"properties": {"managedIdentity": {"resourceId": "nope"}}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "InvalidParameter");
    let body = json!({"properties": {"managedIdentity": {"resourceId": IDENTITY}}});
    let created = sim.put(&url, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let mi = &created.body["properties"]["managedIdentity"];
    assert_eq!(mi["resourceId"], IDENTITY);
    assert!(mi["clientId"].as_str().is_some_and(|s| s.len() == 36));
    assert!(created.body["properties"]["oidcIssuer"]["oidcIssuerUrl"]
        .as_str()
        .is_some_and(|u| u.starts_with("https://")));
    // Updating keeps the identity's ids.
    let again = sim.put(&url, body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, created.body);
    let list = sim.get(&child_url("rg1", "c1", "/identityBindings")).await;
    assert_eq!(list.body["value"][0], created.body);
    assert_eq!(sim.delete(&url).await.status, StatusCode::ACCEPTED);
    assert_eq!(sim.get(&url).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn children_go_with_the_cluster_and_a_stopped_cluster_refuses_writes() {
    let sim = sim_with_cluster().await;
    let ns = child_url("rg1", "c1", "/managedNamespaces/team-a");
    let created = sim
        .put(&ns, json!({"location": "eastus", "properties": {}}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let stop = sim.post(&child_url("rg1", "c1", "/stop")).await;
    assert_eq!(stop.status, StatusCode::ACCEPTED);
    poll(&sim, &stop).await;
    for (url, body) in [
        (ns.clone(), json!({"location": "eastus", "properties": {}})),
        (
            child_url("rg1", "c1", "/identityBindings/b1"),
            json!({"properties": {"managedIdentity": {"resourceId": IDENTITY}}}),
        ),
    ] {
        let r = sim.put(&url, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.code(), "OperationNotAllowed");
    }
    let rotate = sim
        .post(&child_url("rg1", "c1", "/rotateServiceAccountSigningKeys"))
        .await;
    assert_eq!(rotate.code(), "OperationNotAllowed");
    assert_eq!(sim.delete(&ns).await.code(), "OperationNotAllowed");
    assert_eq!(sim.get(&ns).await.body, created.body);

    let gone = sim.delete(&cluster_url("rg1", "c1")).await;
    poll(&sim, &gone).await;
    create(&sim, "rg1", "c1", None).await;
    assert_eq!(sim.get(&ns).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rotate_signing_keys_needs_the_oidc_issuer() {
    let sim = sim_with_cluster().await;
    let mut body = az_create_body("c2", "rg1", None);
    body["properties"]["oidcIssuerProfile"] = json!({"enabled": false});
    put_and_wait(&sim, "rg1", "c2", body)
        .await
        .expect("created");
    let refused = sim
        .post(&child_url("rg1", "c2", "/rotateServiceAccountSigningKeys"))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.code(), "OperationNotAllowed");

    let mut body = az_create_body("c3", "rg1", None);
    body["properties"]["oidcIssuerProfile"] = json!({"enabled": true});
    put_and_wait(&sim, "rg1", "c3", body)
        .await
        .expect("created");
    let url3 = child_url("rg1", "c3", "/rotateServiceAccountSigningKeys");
    let r = sim.post(&url3).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(r.header("azure-asyncoperation").is_some());
    assert_eq!(poll(&sim, &r).await["status"], "Succeeded");
    let after = sim.get(&cluster_url("rg1", "c3")).await;
    assert_eq!(after.body["properties"]["provisioningState"], "Succeeded");
}
