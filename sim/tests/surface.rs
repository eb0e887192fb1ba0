//! The Microsoft.ContainerService surface around a cluster that tools read (issue 16):
//! maintenance configurations, run command, certificate rotation, private endpoint lists,
//! snapshots, trusted access, OS options, the operations list and the canary regions — each as
//! AKS answers it, with its refusals leaving state unchanged.

mod common;

use axum::http::{Method, StatusCode};
use common::aks::*;
use common::SUB;
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

#[tokio::test]
async fn maintenance_configurations_crud() {
    let sim = sim_with_cluster().await;
    let list = sim
        .get(&child_url("rg1", "c1", "/maintenanceConfigurations"))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body, json!({"value": []}));
    let missing = sim
        .get(&child_url(
            "rg1",
            "c1",
            "/maintenanceConfigurations/default",
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "ResourceNotFound");

    let body = json!({"properties": {"timeInWeek": [{"day": "Monday", "hourSlots": [1, 2]}]}});
    let url = child_url("rg1", "c1", "/maintenanceConfigurations/default");
    let created = sim.put(&url, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["id"],
        format!(
            "{}/maintenanceConfigurations/default",
            cluster_path("rg1", "c1").replace("resourceGroups", "resourcegroups")
        )
    );
    assert_eq!(
        created.body["type"],
        "Microsoft.ContainerService/managedClusters/maintenanceConfigurations"
    );
    assert_eq!(created.body["properties"], body["properties"]);
    let again = sim.put(&url, body.clone()).await;
    assert_eq!(again.status, StatusCode::OK);

    let window = json!({"properties": {"maintenanceWindow": {
        "schedule": {"weekly": {"intervalWeeks": 1, "dayOfWeek": "Sunday"}},
        "durationHours": 4, "startTime": "00:00", "utcOffset": "+00:00"
    }}});
    let auto = child_url(
        "rg1",
        "c1",
        "/maintenanceConfigurations/aksManagedAutoUpgradeSchedule",
    );
    assert_eq!(sim.put(&auto, window).await.status, StatusCode::CREATED);
    let list = sim
        .get(&child_url("rg1", "c1", "/maintenanceConfigurations"))
        .await;
    assert_eq!(list.body["value"].as_array().map(Vec::len), Some(2));

    // Refusals leave the list as it was.
    let bad_name = sim
        .put(
            &child_url("rg1", "c1", "/maintenanceConfigurations/weekly"),
            body.clone(),
        )
        .await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_name.code(), "InvalidParameter");
    let no_window = sim.put(&auto, json!({"properties": {}})).await;
    assert_eq!(no_window.status, StatusCode::BAD_REQUEST);
    let not_object = sim.put(&url, json!([1])).await;
    assert_eq!(not_object.code(), "InvalidRequestContent");
    let list = sim
        .get(&child_url("rg1", "c1", "/maintenanceConfigurations"))
        .await;
    assert_eq!(list.body["value"].as_array().map(Vec::len), Some(2));

    assert_eq!(sim.delete(&url).await.status, StatusCode::OK);
    assert_eq!(sim.delete(&url).await.status, StatusCode::NO_CONTENT);
    // The cluster's own body does not carry them, and they go with it.
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    assert!(!got.body.to_string().contains("maintenance"));
    let missing_cluster = sim
        .get(&child_url("rg1", "nope", "/maintenanceConfigurations"))
        .await;
    assert_eq!(missing_cluster.code(), "ResourceNotFound");
}

#[tokio::test]
async fn run_command_answers_a_clear_simulated_result() {
    let sim = sim_with_cluster().await;
    let url = child_url("rg1", "c1", "/runCommand");
    let r = sim
        .call(
            Method::POST,
            &url,
            Some(json!({"command": "kubectl get pods -A"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let location = r.header("location").expect("Location").to_owned();
    assert!(location.contains("/commandResults/"), "{location}");
    let path = location.strip_prefix("http://sim.test").expect("our host");
    let result = sim.get(path).await;
    assert_eq!(result.status, StatusCode::OK, "{}", result.body);
    let p = &result.body["properties"];
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["exitCode"], 0);
    let logs = p["logs"].as_str().unwrap_or("");
    assert!(
        logs.contains("simulated") && logs.contains("kubectl get pods -A"),
        "{logs}"
    );
    let empty = sim.call(Method::POST, &url, Some(json!({}))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let unknown = sim
        .get(&child_url("rg1", "c1", "/commandResults/0123"))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rotate_certificates_is_an_update_operation() {
    let sim = sim_with_cluster().await;
    let set = sim
        .call(
            Method::PUT,
            "/_sim/operations/durations",
            Some(json!({"clusterUpdate": 10})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let url = child_url("rg1", "c1", "/rotateClusterCertificates");
    let r = sim.post(&url).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert!(r.header("location").is_some());
    let during = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(during.body["properties"]["provisioningState"], "Updating");
    let second = sim.post(&url).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.code(), "OperationNotAllowed");
    let status = poll(&sim, &r).await;
    assert_eq!(status["status"], "Succeeded");
    let after = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(after.body["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test]
async fn private_lists_are_empty_on_a_public_cluster() {
    let sim = sim_with_cluster().await;
    for tail in ["/privateEndpointConnections", "/privateLinkResources"] {
        let r = sim.get(&child_url("rg1", "c1", tail)).await;
        assert_eq!(r.status, StatusCode::OK, "{tail}");
        assert_eq!(r.body, json!({"value": []}), "{tail}");
        let r = sim.get(&child_url("rg1", "other", tail)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{tail}");
    }
    let one = sim
        .get(&child_url("rg1", "c1", "/privateEndpointConnections/pe1"))
        .await;
    assert_eq!(one.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn trusted_access_roles_and_bindings() {
    let sim = sim_with_cluster().await;
    let roles = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus/trustedAccessRoles?api-version={API}"
        ))
        .await;
    assert_eq!(roles.status, StatusCode::OK);
    assert!(roles.body["value"][0]["sourceResourceType"].is_string());
    let url = child_url("rg1", "c1", "/trustedAccessRoleBindings/b1");
    let binding = json!({"properties": {
        "sourceResourceId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w",
        "roles": ["Microsoft.MachineLearningServices/workspaces/inference-v1"]
    }});
    let r = sim.put(&url, binding).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    let bad = sim.put(&url, json!({"properties": {"roles": []}})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let list = sim
        .get(&child_url("rg1", "c1", "/trustedAccessRoleBindings"))
        .await;
    assert_eq!(list.body["value"][0]["name"], "b1");
    assert_eq!(sim.delete(&url).await.status, StatusCode::OK);
}

#[tokio::test]
async fn snapshots_copy_an_agent_pool() {
    let sim = sim_with_cluster().await;
    let url = format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/snapshots/s1?api-version={API}"
    );
    let source = format!("{}/agentPools/nodepool1", cluster_path("rg1", "c1"));
    let r = sim
        .put(
            &url,
            json!({"location": "eastus", "properties": {"creationData": {"sourceResourceId": source}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = &r.body["properties"];
    assert_eq!(p["snapshotType"], "NodePool");
    assert_eq!(p["osType"], "Linux");
    assert!(p["kubernetesVersion"].is_string() && p["nodeImageVersion"].is_string());
    let missing_pool = sim
        .put(
            &url.replace("/s1?", "/s2?"),
            json!({"location": "eastus", "properties": {"creationData": {"sourceResourceId": source.replace("nodepool1", "nope")}}}),
        )
        .await;
    assert_eq!(missing_pool.status, StatusCode::NOT_FOUND);
    let tagged = sim.patch(&url, json!({"tags": {"a": "b"}})).await;
    assert_eq!(tagged.body["tags"]["a"], "b");
    let sub_list = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/snapshots?api-version={API}"
        ))
        .await;
    assert_eq!(sub_list.body["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(sim.delete(&url).await.status, StatusCode::OK);
    assert_eq!(sim.get(&url).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn catalogues_operations_and_canary_regions() {
    let sim = sim_with_cluster().await;
    let os = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus2euap/osOptions/default?api-version={API}"
        ))
        .await;
    assert_eq!(os.status, StatusCode::OK, "{}", os.body);
    assert_eq!(os.body["name"], "default");
    let ops = sim
        .get(&format!(
            "/providers/Microsoft.ContainerService/operations?api-version={API}"
        ))
        .await;
    assert_eq!(ops.status, StatusCode::OK, "{}", ops.body);
    let names: Vec<&str> = ops.body["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(names.contains(&"Microsoft.ContainerService/managedClusters/read"));
    // A cluster in a canary region.
    let mut body = az_create_body("c2", "rg1", None);
    body["location"] = json!("centraluseuap");
    let created = put_and_wait(&sim, "rg1", "c2", body)
        .await
        .expect("created");
    assert_eq!(created["location"], "centraluseuap");
    let locations = sim
        .get(&format!(
            "/subscriptions/{SUB}/locations?api-version=2022-12-01"
        ))
        .await;
    assert!(locations.body.to_string().contains("eastus2euap"));
}

/// The Static Egress Gateway's CRD is served while the cluster has it enabled, so the
/// documented `kubectl apply` of a `StaticGatewayConfiguration` works; off again, it is gone.
#[tokio::test]
async fn static_gateway_configurations_follow_the_static_egress_gateway() {
    let sim = new_sim();
    prepare(&sim, "rg1").await;
    let mut body = az_create_body("c1", "rg1", None);
    body["properties"]["networkProfile"]["staticEgressGatewayProfile"] = json!({"enabled": true});
    put_and_wait(&sim, "rg1", "c1", body)
        .await
        .expect("created");
    let token = sim.with_plane(|p| p.token.clone());
    let auth = format!("Bearer {token}");
    let path = "/apis/egressgateway.kubernetes.azure.com/v1alpha1/namespaces/default/staticgatewayconfigurations";
    let sgc = json!({
        "apiVersion": "egressgateway.kubernetes.azure.com/v1alpha1",
        "kind": "StaticGatewayConfiguration",
        "metadata": {"name": "my-static-egress-gateway", "namespace": "default"},
        "spec": {"gatewayNodepoolName": "gatewaypool", "excludeCidrs": ["10.0.0.0/8"]}
    });
    let bytes = serde_json::to_vec(&sgc).expect("json");
    let created = sim
        .kube_raw(
            Method::POST,
            path,
            Some("application/json"),
            Some(bytes.clone()),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let listed = sim
        .kube_raw(Method::GET, path, None, None, &[("authorization", &auth)])
        .await;
    assert_eq!(
        listed.body["items"][0]["spec"]["gatewayNodepoolName"],
        "gatewaypool"
    );
    let crd = sim
        .kube_raw(
            Method::GET,
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/staticgatewayconfigurations.egressgateway.kubernetes.azure.com",
            None,
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(crd.status, StatusCode::OK, "{}", crd.body);

    // Disabled: the type is no longer served.
    az_update(&sim, "rg1", "c1", |b| {
        b["properties"]["networkProfile"]["staticEgressGatewayProfile"] = json!({"enabled": false});
    })
    .await
    .expect("updated");
    let gone = sim
        .kube_raw(
            Method::POST,
            path,
            Some("application/json"),
            Some(bytes),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.body);
}
