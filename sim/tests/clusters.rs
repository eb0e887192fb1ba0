//! Router tests: the managedCluster lifecycle with AKS's exact status codes, headers and bodies
//! (`../shared/reference/ARM-CONTRACT.md` §2.4, §2.5, §5.1–5.3), gates, ETags, paging, credentials, bad input and the
//! spec examples in shared/arm-examples/containerservice.

mod common;

use axum::http::{Method, StatusCode};
use base64::Engine;
use common::aks::*;
use common::SUB;
use serde_json::{json, Value};

#[tokio::test]
async fn create_get_update_delete_lifecycle() {
    let sim = common::aks::new_sim();
    // Missing resource group → 404 ResourceGroupNotFound for GET and PUT.
    let r = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "ResourceGroupNotFound");
    let r = sim
        .put(&cluster_url("rg1", "c1"), az_create_body("c1", "rg1", None))
        .await;
    assert_eq!(r.code(), "ResourceGroupNotFound");
    prepare(&sim, "rg1").await;
    let r = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "ResourceNotFound");
    assert_eq!(
        r.body["error"]["message"],
        "The Resource 'Microsoft.ContainerService/managedClusters/c1' under resource group 'rg1' \
         was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    );

    // Create: 201, Creating, absolute Azure-AsyncOperation, no Location.
    let created = sim
        .put(&cluster_url("rg1", "c1"), az_create_body("c1", "rg1", None))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert!(created.header("location").is_none());
    let async_url = created.header("azure-asyncoperation").unwrap();
    assert!(async_url.starts_with(&format!(
        "http://sim.test/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus/operations/"
    )));
    assert!(async_url.ends_with(&format!("?api-version={API}")));
    let b = &created.body;
    assert_eq!(b["properties"]["provisioningState"], "Creating");
    assert_eq!(
        b["properties"]["agentPoolProfiles"][0]["provisioningState"],
        "Creating"
    );
    assert_eq!(b["type"], "Microsoft.ContainerService/ManagedClusters");
    assert_eq!(
        b["id"],
        format!("/subscriptions/{SUB}/resourcegroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1")
    );
    assert!(b["properties"].get("serviceMeshProfile").is_none());
    // Today's default minor (N-1 of the newest GA minor) at its newest patch.
    assert_eq!(b["properties"]["kubernetesVersion"], "1.36");
    assert_eq!(b["properties"]["currentKubernetesVersion"], "1.36.2");
    assert_eq!(
        b["properties"]["agentPoolProfiles"][0]["vmSize"],
        "Standard_D4d_v5"
    );
    assert_eq!(b["properties"]["nodeResourceGroup"], "MC_rg1_c1_eastus");
    assert_eq!(b["properties"]["maxAgentPools"], 100);
    let fqdn = b["properties"]["fqdn"].as_str().unwrap();
    assert!(fqdn.starts_with("c1-rg1-000000-") && fqdn.ends_with(".hcp.eastus.azmk8s.io"));
    assert_eq!(
        fqdn.len(),
        "c1-rg1-000000-".len() + 8 + ".hcp.eastus.azmk8s.io".len()
    );
    assert!(b["identity"]["principalId"].is_string());
    // AKS answers the eTags once the create finished (recorded 2026 traffic).
    assert!(b.get("eTag").is_none(), "{b}");
    assert_eq!(
        b["properties"]["networkProfile"]["networkPluginMode"], "overlay",
        "today's default network: Azure CNI Overlay"
    );
    assert_eq!(b["kind"], "Base");
    assert!(b["properties"].get("identityProfile").is_none());

    // The status URL: 200 InProgress/Succeeded with Retry-After: 1, never resourceLocation.
    let status = poll(&sim, &created).await;
    assert_eq!(status["status"], "Succeeded");
    assert!(status.get("endTime").is_some());
    assert!(status.get("resourceLocation").is_none());
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(got.body["properties"]["powerState"]["code"], "Running");
    assert!(got.body["eTag"].is_string());
    assert!(got.body["properties"]["identityProfile"]["kubeletidentity"]["clientId"].is_string());
    let issuer = got.body["properties"]["oidcIssuerProfile"]["issuerURL"]
        .as_str()
        .unwrap();
    assert!(
        issuer.starts_with("https://eastus.oic.prod-aks.azure.com/"),
        "{issuer}"
    );
    let outbound = &got.body["properties"]["networkProfile"]["loadBalancerProfile"]
        ["effectiveOutboundIPs"][0]["id"];
    assert!(
        outbound
            .as_str()
            .unwrap()
            .starts_with(&format!("/subscriptions/{SUB}/resourceGroups/MC_rg1_c1_eastus/providers/Microsoft.Network/publicIPAddresses/")),
        "{outbound}"
    );

    // Update: 200 Updating + Azure-AsyncOperation; eTags change; unknown fields survive.
    let etag = got.body["eTag"].clone();
    let pool_etag = got.body["properties"]["agentPoolProfiles"][0]["eTag"].clone();
    let mut body = without_read_only(got.body.clone());
    body["properties"]["someFutureField"] = json!({"x": 1});
    body["tags"] = json!({"env": "dev"});
    let updated = sim.put(&cluster_url("rg1", "c1"), body).await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["properties"]["provisioningState"], "Updating");
    assert!(updated.header("azure-asyncoperation").is_some());
    assert_ne!(updated.body["eTag"], etag);
    assert_ne!(
        updated.body["properties"]["agentPoolProfiles"][0]["eTag"],
        pool_etag
    );
    poll(&sim, &updated).await;
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(got.body["properties"]["someFutureField"]["x"], 1);
    assert_eq!(got.body["tags"]["env"], "dev");
    assert_eq!(
        got.body["properties"]["fqdn"], fqdn,
        "server values are kept"
    );

    // Generic resource listing of the group.
    let res = sim
        .get(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg1/resources?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(
        res.body["value"][0]["type"],
        "Microsoft.ContainerService/ManagedClusters"
    );
    assert_eq!(res.body["value"][0]["tags"]["env"], "dev");

    // Delete: 202 with both headers and an empty body; operationresults 204 when done.
    let deleted = sim.delete(&cluster_url("rg1", "c1")).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert!(deleted.raw.is_empty());
    assert!(deleted.header("azure-asyncoperation").is_some());
    let location = deleted.header("location").unwrap().to_owned();
    assert!(location.contains("/locations/eastus/operationresults/"));
    let path = location.strip_prefix("http://sim.test").unwrap();
    let done = sim.get(path).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT);
    assert_eq!(
        sim.get(&cluster_url("rg1", "c1")).await.code(),
        "ResourceNotFound"
    );
    let again = sim.delete(&cluster_url("rg1", "c1")).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    let planes = sim
        .state
        .core
        .store
        .with(SUB, sim.state.core.clock.now(), |s| s.clusters.planes.len());
    assert_eq!(planes, 0, "the plane goes with the cluster");
}

#[tokio::test]
async fn transitional_states_and_operation_not_allowed() {
    let sim = common::aks::new_sim();
    *sim.state.core.durations.write() =
        aksim::core::ops::Durations::parse(&["default=30".into()], &aksim::core::OP_KINDS).unwrap();
    prepare(&sim, "rg1").await;
    let created = sim
        .put(&cluster_url("rg1", "c1"), az_create_body("c1", "rg1", None))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Creating");
    let second = sim
        .put(&cluster_url("rg1", "c1"), az_create_body("c1", "rg1", None))
        .await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert_eq!(second.code(), "OperationNotAllowed");
    assert_eq!(
        second.body["error"]["message"],
        "Operation is not allowed: Another operation (Creating) is in progress, please wait for \
         it to finish before starting a new operation. See https://aka.ms/aks-pending-operation \
         for more details"
    );
    let patch = sim
        .patch(&cluster_url("rg1", "c1"), json!({"tags": {"a": "b"}}))
        .await;
    assert_eq!(patch.code(), "OperationNotAllowed");
    // operationresults answers 202 + Location + Retry-After while running.
    let url = created.header("azure-asyncoperation").unwrap();
    let results = url
        .replace("/operations/", "/operationresults/")
        .replace("http://sim.test", "");
    let running = sim.get(&results).await;
    assert_eq!(running.status, StatusCode::ACCEPTED);
    assert_eq!(running.header("retry-after"), Some("1"));
    assert!(running.header("location").is_some());
    let status = sim.get(&url.replace("http://sim.test", "")).await;
    assert_eq!(status.body["status"], "InProgress");
    assert!(status.body.get("endTime").is_none());
    sim.advance(31.0);
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Succeeded");
    // Deleting is transitional too, and a PUT during it is refused.
    let del = sim.delete(&cluster_url("rg1", "c1")).await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Deleting");
    let put = sim
        .put(&cluster_url("rg1", "c1"), az_create_body("c1", "rg1", None))
        .await;
    assert!(put.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("(Deleting)"));
    let del2 = sim.delete(&cluster_url("rg1", "c1")).await;
    assert_eq!(del2.status, StatusCode::ACCEPTED);
    assert_eq!(del2.header("location"), del.header("location"));
    sim.advance(31.0);
    assert_eq!(
        sim.get(&cluster_url("rg1", "c1")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn etags_if_match_and_if_none_match() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    let url = cluster_url("rg1", "c1");
    let body = az_create_body("c1", "rg1", None);
    let star = sim
        .call_with(
            Method::PUT,
            &url,
            Some(body.clone()),
            &[("authorization", "Bearer t"), ("if-match", "*")],
        )
        .await;
    assert_eq!(star.status, StatusCode::PRECONDITION_FAILED);
    let inm = sim
        .call_with(
            Method::PUT,
            &url,
            Some(body.clone()),
            &[("authorization", "Bearer t"), ("if-none-match", "*")],
        )
        .await;
    assert_eq!(inm.status, StatusCode::CREATED);
    poll(&sim, &inm).await;
    let inm2 = sim
        .call_with(
            Method::PUT,
            &url,
            Some(body.clone()),
            &[("authorization", "Bearer t"), ("if-none-match", "*")],
        )
        .await;
    assert_eq!(inm2.status, StatusCode::PRECONDITION_FAILED);
    let etag = sim.get(&url).await.body["eTag"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = sim
        .call_with(
            Method::PUT,
            &url,
            Some(body.clone()),
            &[("authorization", "Bearer t"), ("if-match", "\"nope\"")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::PRECONDITION_FAILED);
    let quoted = format!("\"{etag}\"");
    let right = sim
        .call_with(
            Method::PUT,
            &url,
            Some(body.clone()),
            &[("authorization", "Bearer t"), ("if-match", &quoted)],
        )
        .await;
    assert_eq!(right.status, StatusCode::OK);
    poll(&sim, &right).await;
    let stale = sim
        .call_with(
            Method::DELETE,
            &url,
            None,
            &[("authorization", "Bearer t"), ("if-match", &quoted)],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "eTag changed on the update"
    );
    let bad = sim
        .call_with(
            Method::PUT,
            &url,
            Some(body),
            &[("authorization", "Bearer t"), ("if-none-match", "abc")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lists_page_patch_tags_and_group_delete_cascades() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    prepare(&sim, "rg2").await;
    for name in ["a1", "a2", "a3"] {
        create(&sim, "rg1", name, None).await;
    }
    create(&sim, "rg2", "b1", None).await;
    let base = format!(
        "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters?api-version={API}"
    );
    let all = sim.get(&base).await;
    assert_eq!(all.body["value"].as_array().unwrap().len(), 3);
    let first = sim.get(&format!("{base}&$top=2")).await;
    assert_eq!(first.body["value"].as_array().unwrap().len(), 2);
    let next = first.body["nextLink"].as_str().unwrap();
    let second = sim.get(next.strip_prefix("http://sim.test").unwrap()).await;
    assert_eq!(second.body["value"].as_array().unwrap().len(), 1);
    assert!(second.body.get("nextLink").is_none());
    let sub_list = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/managedClusters?api-version={API}"
        ))
        .await;
    assert_eq!(sub_list.body["value"].as_array().unwrap().len(), 4);
    let missing_rg = sim.get(&base.replace("/rg1/", "/nope/")).await;
    assert_eq!(missing_rg.code(), "ResourceGroupNotFound");

    // PATCH tags: 200 synchronously, replaces tags, new eTag.
    let before = sim.get(&cluster_url("rg1", "a1")).await.body["eTag"].clone();
    let patched = sim
        .patch(&cluster_url("rg1", "a1"), json!({"tags": {"team": "mesh"}}))
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["tags"]["team"], "mesh");
    assert_ne!(patched.body["eTag"], before);
    let missing = sim
        .patch(&cluster_url("rg1", "zz"), json!({"tags": {}}))
        .await;
    assert_eq!(missing.code(), "ResourceNotFound");
    let bad = sim
        .patch(&cluster_url("rg1", "a1"), json!({"tags": {"n": 1}}))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Deleting the group removes its clusters (and planes), not the other group's.
    let del = sim
        .delete(&format!(
            "/subscriptions/{SUB}/resourcegroups/rg1?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    sim.get(
        del.header("location")
            .unwrap()
            .strip_prefix("http://sim.test")
            .unwrap(),
    )
    .await;
    let sub_list = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/managedClusters?api-version={API}"
        ))
        .await;
    assert_eq!(sub_list.body["value"].as_array().unwrap().len(), 1);
    let planes = sim
        .state
        .core
        .store
        .with(SUB, sim.state.core.clock.now(), |s| s.clusters.planes.len());
    assert_eq!(planes, 1);
}

fn decode_kubeconfig(reply: &common::Reply) -> String {
    let value = reply.body["kubeconfigs"][0]["value"].as_str().unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn credentials_point_at_the_plane() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    create(&sim, "rg1", "c1", None).await;
    let base = cluster_path("rg1", "c1");
    let user = sim
        .post(&format!(
            "{base}/listClusterUserCredential?api-version={API}"
        ))
        .await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.body["kubeconfigs"][0]["name"], "clusterUser");
    let yaml = decode_kubeconfig(&user);
    let server = aksim::kubeapi::server_url("http://sim.test", SUB, "rg1", "c1");
    assert!(yaml.contains(&format!("server: \"{server}\"")), "{yaml}");
    assert!(yaml.contains("user: \"clusterUser_rg1_c1\""));
    assert!(yaml.contains("current-context: \"c1\""));
    assert!(
        !yaml.contains("certificate-authority-data"),
        "plain HTTP: no CA"
    );
    let token = sim
        .state
        .core
        .store
        .with(SUB, sim.state.core.clock.now(), |s| {
            s.clusters.planes[&aksim::core::clusters::cluster_key("rg1", "c1")]
                .token
                .clone()
        });
    assert!(yaml.contains(&format!("token: \"{token}\"")));
    let admin = sim
        .post(&format!(
            "{base}/listClusterAdminCredential?api-version={API}"
        ))
        .await;
    assert_eq!(admin.body["kubeconfigs"][0]["name"], "clusterAdmin");
    assert!(decode_kubeconfig(&admin).contains("clusterAdmin_rg1_c1"));
    let mon = sim
        .post(&format!(
            "{base}/listClusterMonitoringUserCredential?api-version={API}"
        ))
        .await;
    assert_eq!(mon.status, StatusCode::OK);
    let fmt = sim
        .post(&format!(
            "{base}/listClusterAdminCredential?api-version={API}&format=exec"
        ))
        .await;
    assert_eq!(fmt.status, StatusCode::BAD_REQUEST);
    let missing = sim
        .post(&format!(
            "{}/listClusterUserCredential?api-version={API}",
            cluster_path("rg1", "nope")
        ))
        .await;
    assert_eq!(missing.code(), "ResourceNotFound");

    // disableLocalAccounts refuses admin credentials with AKS's text.
    az_update(&sim, "rg1", "c1", |b| {
        b["properties"]["disableLocalAccounts"] = json!(true)
    })
    .await
    .unwrap();
    let refused = sim
        .post(&format!(
            "{base}/listClusterAdminCredential?api-version={API}"
        ))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.code(), "BadRequest");
    assert_eq!(
        refused.body["error"]["message"],
        "Getting static credential is not allowed because this cluster is set to disable local \
         accounts."
    );
}

#[tokio::test]
async fn api_versions_and_kubernetes_versions() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    let no_version = sim.get(&cluster_path("rg1", "c1")).await;
    assert_eq!(no_version.code(), "MissingApiVersionParameter");
    let bad = sim
        .get(&format!(
            "{}?api-version=2019-01-01",
            cluster_path("rg1", "c1")
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "NoRegisteredProviderFound");
    let bad_put = sim
        .put(
            &format!("{}?api-version=2019-01-01", cluster_path("rg1", "c1")),
            az_create_body("c1", "rg1", None),
        )
        .await;
    assert!(bad_put.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("No registered resource provider found for location 'eastus' and API version '2019-01-01' for type 'Microsoft.ContainerService/managedClusters'."));
    let preview = sim
        .get(&format!(
            "{}?api-version=2026-07-02-preview",
            cluster_path("rg1", "c1")
        ))
        .await;
    assert_eq!(preview.code(), "ResourceNotFound");
    let versions = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions?api-version={API}"
        ))
        .await;
    assert_eq!(versions.status, StatusCode::OK);
    let values = versions.body["values"].as_array().unwrap();
    let default: Vec<&Value> = values.iter().filter(|v| v["isDefault"] == true).collect();
    assert_eq!(default.len(), 1);
    assert_eq!(default[0]["version"], "1.36");
    assert!(default[0]["patchVersions"]["1.36.1"]["upgrades"]
        .as_array()
        .unwrap()
        .contains(&json!("1.37.1")));
    // An LTS-only minor is offered with the AKSLongTermSupport plan only.
    let lts_only = values.iter().find(|v| v["version"] == "1.33").unwrap();
    assert_eq!(
        lts_only["capabilities"]["supportPlan"],
        json!(["AKSLongTermSupport"])
    );
    assert!(values[0]["capabilities"]["supportPlan"].is_array());
    let nowhere = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/mars/kubernetesVersions?api-version={API}"
        ))
        .await;
    assert_eq!(nowhere.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cluster_rules_names_versions_and_immutables() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    // Name rule.
    let bad_name = sim
        .put(
            &cluster_url("rg1", "-bad"),
            az_create_body("x", "rg1", None),
        )
        .await;
    assert_eq!(bad_name.code(), "InvalidParameter");
    // Location required / unknown.
    let mut body = az_create_body("c1", "rg1", None);
    body.as_object_mut().unwrap().remove("location");
    assert_eq!(
        sim.put(&cluster_url("rg1", "c1"), body).await.code(),
        "LocationRequired"
    );
    let mut body = az_create_body("c1", "rg1", None);
    body["location"] = json!("mars");
    assert_eq!(
        sim.put(&cluster_url("rg1", "c1"), body).await.code(),
        "LocationNotAvailableForResourceType"
    );
    // Unsupported Kubernetes version (rule cluster.kubernetesVersion.supported).
    let mut body = az_create_body("c1", "rg1", None);
    body["properties"]["kubernetesVersion"] = json!("1.20");
    let r = sim.put(&cluster_url("rg1", "c1"), body).await;
    assert_eq!(r.code(), "AgentPoolK8sVersionNotSupported");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Version 1.20 is not supported in this region."));
    // No agent pools / bad pool name.
    let mut body = az_create_body("c1", "rg1", None);
    body["properties"]["agentPoolProfiles"] = json!([]);
    assert_eq!(
        sim.put(&cluster_url("rg1", "c1"), body).await.code(),
        "InvalidParameter"
    );
    let mut body = az_create_body("c1", "rg1", None);
    body["properties"]["agentPoolProfiles"][0]["name"] = json!("Pool_1");
    assert_eq!(
        sim.put(&cluster_url("rg1", "c1"), body).await.code(),
        "InvalidParameter"
    );

    let mut body = az_create_body("c1", "rg1", None);
    body["properties"]["agentPoolProfiles"][0]["count"] = json!(5000);
    assert_eq!(
        sim.put(&cluster_url("rg1", "c1"), body).await.code(),
        "InvalidParameter"
    );
    // A minor past community support needs the long-term-support plan.
    let mut body = az_create_body("c1", "rg1", None);
    body["properties"]["kubernetesVersion"] = json!("1.33.3");
    let lts = sim.put(&cluster_url("rg1", "c1"), body).await;
    assert_eq!(lts.code(), "AgentPoolK8sVersionNotSupported");
    let mut body = az_create_body("c1", "rg1", None);
    body["properties"]["kubernetesVersion"] = json!("1.35.5");
    put_and_wait(&sim, "rg1", "c1", body).await.unwrap();
    // Immutable fields.
    for (field, value, id) in [
        ("dnsPrefix", json!("other"), "dnsPrefix"),
        ("nodeResourceGroup", json!("MC_other"), "nodeResourceGroup"),
        ("fqdnSubdomain", json!("sub"), "fqdnSubdomain"),
    ] {
        let r = az_update(&sim, "rg1", "c1", |b| b["properties"][field] = value)
            .await
            .unwrap_err();
        assert_eq!(r.code(), "PropertyChangeNotAllowed", "{field}");
        assert_eq!(
            r.body["error"]["message"],
            format!("Changing property '{id}' is not allowed.")
        );
    }
    let r = az_update(&sim, "rg1", "c1", |b| b["location"] = json!("westus2"))
        .await
        .unwrap_err();
    assert_eq!(
        r.body["error"]["message"],
        "Changing property 'location' is not allowed."
    );
    // Kubernetes upgrades one minor at a time; a downgrade is refused.
    let skip = az_update(&sim, "rg1", "c1", |b| {
        b["properties"]["kubernetesVersion"] = json!("1.37")
    })
    .await
    .unwrap_err();
    assert_eq!(skip.code(), "OperationNotAllowed");
    assert_eq!(
        skip.body["error"]["message"],
        "Upgrading Kubernetes version 1.35.5 to 1.37 is not allowed. Available upgrades: \
         [1.36.2 1.36.1]. Please see https://aka.ms/aks-supported-k8s-ver for version details."
    );
    let up = az_update(&sim, "rg1", "c1", |b| {
        b["properties"]["kubernetesVersion"] = json!("1.36")
    })
    .await
    .unwrap();
    assert_eq!(up["properties"]["currentKubernetesVersion"], "1.36.2");
    let plane_version = sim
        .state
        .core
        .store
        .with(SUB, sim.state.core.clock.now(), |s| {
            s.clusters.planes[&aksim::core::clusters::cluster_key("rg1", "c1")]
                .kubernetes_version
                .clone()
        });
    assert_eq!(plane_version, "1.36.2");
    let r = az_update(&sim, "rg1", "c1", |b| {
        b["properties"]["kubernetesVersion"] = json!("1.35")
    })
    .await
    .unwrap_err();
    assert_eq!(r.code(), "NotAllowedK8sVersionDowngrading");
}

/// One edit of a request body.
type Mutation = fn(&mut Value);

#[tokio::test]
async fn wrong_json_types_are_400_never_500() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    let cases: &[(&str, Mutation)] = &[
        ("body", |b| *b = json!([1])),
        ("location", |b| b["location"] = json!(5)),
        ("tags", |b| b["tags"] = json!("x")),
        ("tag value", |b| b["tags"] = json!({"a": 1})),
        ("sku", |b| b["sku"] = json!("Base")),
        ("identity", |b| b["identity"] = json!(true)),
        ("properties", |b| b["properties"] = json!([])),
        ("kubernetesVersion", |b| {
            b["properties"]["kubernetesVersion"] = json!(1.33)
        }),
        ("dnsPrefix", |b| b["properties"]["dnsPrefix"] = json!({})),
        ("enableRBAC", |b| {
            b["properties"]["enableRBAC"] = json!("yes")
        }),
        ("addonProfiles", |b| {
            b["properties"]["addonProfiles"] = json!([])
        }),
        ("addon enabled", |b| {
            b["properties"]["addonProfiles"] = json!({"x": {"enabled": "true"}})
        }),
        ("pools", |b| {
            b["properties"]["agentPoolProfiles"] = json!({})
        }),
        ("pool item", |b| {
            b["properties"]["agentPoolProfiles"] = json!(["p"])
        }),
        ("pool count", |b| {
            b["properties"]["agentPoolProfiles"][0]["count"] = json!("3")
        }),
        ("pool name", |b| {
            b["properties"]["agentPoolProfiles"][0]["name"] = json!(7)
        }),
    ];
    for (what, mutate) in cases {
        let mut body = az_create_body("c1", "rg1", None);
        mutate(&mut body);
        let r = sim.put(&cluster_url("rg1", "c1"), body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {:?}", r.body);
        assert!(!r.code().is_empty(), "{what}");
    }
    let raw = sim
        .call_with(
            Method::PUT,
            &cluster_url("rg1", "c1"),
            None,
            &[("authorization", "Bearer t")],
        )
        .await;
    assert_eq!(raw.status, StatusCode::BAD_REQUEST);
}

fn example(path: &str) -> Value {
    let full = format!(
        "{}/tests/fixtures/arm-examples/containerservice/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

#[tokio::test]
async fn spec_examples_replay() {
    let sim = common::aks::new_sim();
    prepare(&sim, "rg1").await;
    // ManagedClustersCreate_AzureServiceMesh: plug-in CA (the KV add-on is enabled in the body),
    // Internal ingress and an egress gateway. `location1`/`Basic` are example placeholders.
    let ex = example("2026-03-01/ManagedClustersCreate_AzureServiceMesh.json");
    let mut body = ex["parameters"]["parameters"].clone();
    body["location"] = json!("eastus");
    body["sku"]["name"] = json!("Base");
    // The example enables an egress gateway without the Static Egress Gateway the docs make a
    // hard dependency (`mesh.egress.staticEgressGateway`); a real request needs it.
    body["properties"]["networkProfile"]["staticEgressGatewayProfile"] = json!({"enabled": true});
    let created = put_and_wait(&sim, "rg1", "clustername1", body)
        .await
        .unwrap();
    let expected = &ex["responses"]["200"]["body"]["properties"]["serviceMeshProfile"];
    let got = mesh_of(&created);
    assert_eq!(got["mode"], expected["mode"]);
    assert_eq!(
        got["istio"]["certificateAuthority"],
        expected["istio"]["certificateAuthority"]
    );
    assert_eq!(
        got["istio"]["components"]["ingressGateways"],
        expected["istio"]["components"]["ingressGateways"]
    );
    let egress = &got["istio"]["components"]["egressGateways"][0];
    assert_eq!(egress["name"], "test-istio-egress");
    assert_eq!(egress["namespace"], "aks-istio-egress");
    assert_eq!(
        egress["gatewayConfigurationName"],
        "test-gateway-configuration"
    );
    assert_eq!(got["istio"]["revisions"], json!(["asm-1-29"]));
    assert!(created["properties"]["windowsProfile"]
        .get("adminPassword")
        .is_none());
    assert!(created["properties"]["servicePrincipalProfile"]
        .get("secret")
        .is_none());

    // ManagedClustersGet: every top-level and properties key of the example that a cluster
    // created without those options has.
    let get_ex = example("2026-08-01/ManagedClustersGet.json");
    let ex_body = &get_ex["responses"]["200"]["body"];
    for k in keys(ex_body) {
        assert!(created.get(&k).is_some(), "top-level key {k}");
    }
    for k in [
        "agentPoolProfiles",
        "azurePortalFQDN",
        "currentKubernetesVersion",
        "dnsPrefix",
        "enableRBAC",
        "fqdn",
        "kubernetesVersion",
        "maxAgentPools",
        "networkProfile",
        "nodeResourceGroup",
        "provisioningState",
        "servicePrincipalProfile",
    ] {
        assert!(ex_body["properties"].get(k).is_some(), "example has {k}");
        assert!(created["properties"].get(k).is_some(), "aksim has {k}");
    }
    for k in keys(&ex_body["properties"]["agentPoolProfiles"][0]) {
        if k == "availabilityZones" {
            continue;
        }
        assert!(
            created["properties"]["agentPoolProfiles"][0]
                .get(&k)
                .is_some(),
            "pool key {k}"
        );
    }

    // Credentials shapes.
    for (file, action) in [
        (
            "2026-04-01/ManagedClustersListClusterUserCredentials.json",
            "listClusterUserCredential",
        ),
        (
            "2026-08-01/ManagedClustersListClusterAdminCredentials.json",
            "listClusterAdminCredential",
        ),
    ] {
        let ex = example(file);
        let r = sim
            .post(&format!(
                "{}/{action}?api-version={API}",
                cluster_path("rg1", "clustername1")
            ))
            .await;
        assert_eq!(keys(&r.body), keys(&ex["responses"]["200"]["body"]));
        assert_eq!(
            keys(&r.body["kubeconfigs"][0]),
            keys(&ex["responses"]["200"]["body"]["kubeconfigs"][0])
        );
    }
    // ManagedClustersList / ListByResourceGroup: every key of the examples' items (the
    // optional diskEncryptionSetID and linuxProfile are in the create body above).
    for (file, url) in [
        (
            "2026-08-01/ManagedClustersList.json",
            format!("/subscriptions/{SUB}/providers/Microsoft.ContainerService/managedClusters?api-version={API}"),
        ),
        (
            "2026-07-01/ManagedClustersListByResourceGroup.json",
            format!("/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters?api-version={API}"),
        ),
    ] {
        let ex = example(file);
        let ex_item = &ex["responses"]["200"]["body"]["value"][0];
        let list = sim.get(&url).await;
        let item = &list.body["value"][0];
        for k in keys(ex_item) {
            assert!(item.get(&k).is_some(), "{file}: {k}");
        }
        for k in keys(&ex_item["properties"]) {
            assert!(item["properties"].get(&k).is_some(), "{file}: properties.{k}");
        }
    }
    // KubernetesVersions_List: the same keys per version.
    let kv_ex = example("2026-08-01/KubernetesVersions_List.json");
    let kv = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions?api-version={API}"
        ))
        .await;
    let allowed: std::collections::BTreeSet<String> = kv_ex["responses"]["200"]["body"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(keys)
        .collect();
    for v in kv.body["values"].as_array().unwrap() {
        for k in keys(v) {
            assert!(allowed.contains(&k), "kubernetesVersions key {k}");
        }
    }
    // UpdateTags, Delete status codes.
    let tags_ex = example("2026-06-01/ManagedClustersUpdateTags.json");
    let r = sim
        .patch(
            &cluster_url("rg1", "clustername1"),
            tags_ex["parameters"]["parameters"].clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["tags"], tags_ex["parameters"]["parameters"]["tags"]);
    let del_ex = example("2026-08-01/ManagedClustersDelete.json");
    assert!(del_ex["responses"].get("202").is_some());
    assert_eq!(
        sim.delete(&cluster_url("rg1", "clustername1")).await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn abort_and_writes_into_a_deleting_group() {
    let sim = common::aks::new_sim();
    *sim.state.core.durations.write() =
        aksim::core::ops::Durations::parse(&["default=30".into()], &aksim::core::OP_KINDS).unwrap();
    prepare(&sim, "rg1").await;
    let abort_url = format!("{}/abort?api-version={API}", cluster_path("rg1", "c1"));
    assert_eq!(sim.post(&abort_url).await.code(), "ResourceNotFound");
    let created = sim
        .put(&cluster_url("rg1", "c1"), az_create_body("c1", "rg1", None))
        .await;
    let aborted = sim.post(&abort_url).await;
    assert_eq!(aborted.status, StatusCode::NO_CONTENT);
    let status = sim
        .get(
            created
                .header("azure-asyncoperation")
                .unwrap()
                .strip_prefix("http://sim.test")
                .unwrap(),
        )
        .await;
    assert_eq!(status.body["status"], "Canceled");
    assert_eq!(status.body["error"]["code"], "OperationCanceled");
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(got.body["properties"]["provisioningState"], "Canceled");
    sim.advance(31.0);
    let got = sim.get(&cluster_url("rg1", "c1")).await;
    assert_eq!(
        got.body["properties"]["provisioningState"], "Canceled",
        "the canceled operation has no effect"
    );
    let again = sim.post(&abort_url).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "OperationNotAllowed");

    // A group being deleted takes no new cluster writes.
    let del = sim
        .delete(&format!(
            "/subscriptions/{SUB}/resourcegroups/rg1?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(del.status, StatusCode::ACCEPTED);
    let put = sim
        .put(&cluster_url("rg1", "c2"), az_create_body("c2", "rg1", None))
        .await;
    assert_eq!(put.status, StatusCode::CONFLICT);
    assert_eq!(put.code(), "ResourceGroupBeingDeleted");
    sim.advance(31.0);
    assert_eq!(
        sim.get(&cluster_url("rg1", "c1")).await.code(),
        "ResourceGroupNotFound"
    );
}
