//! Router tests: Microsoft.Features (every api-version, the state machine, the catalogue,
//! subscriptionFeatureRegistrations), resource-provider registration (subscription and tenant
//! scope), `require_registered`, preview gating, and bad input leaving state unchanged.

mod common;

use aksim::config::Config;
use aksim::identity::TokenIssuer;
use aksim::AppState;
use axum::http::{Method, StatusCode};
use common::{Reply, Sim, SUB};
use serde_json::{json, Value};

const AUTH: (&str, &str) = ("authorization", "Bearer test");
const MESH: &str = "AzureServiceMeshPreview";
const CS: &str = "Microsoft.ContainerService";

/// The seed flow's day: `AzureServiceMeshPreview` exists and gates the add-on (it was
/// retired later; `features_and_gates_follow_the_azure_date` covers today).
const SEED_DAY: &str = "2023-12-01";

/// A simulator at the seed flow's day with its config changed by `f` and the clock frozen (it
/// moves only by `advance`).
fn sim_with(f: impl FnOnce(&mut Config)) -> Sim {
    let mut config = Config::for_tests();
    config.azure_date = Some(SEED_DAY.to_owned());
    f(&mut config);
    let state = AppState::new(config, TokenIssuer::ephemeral(), None).expect("valid config");
    state.core.clock.set_frozen(true);
    Sim { state }
}

/// Registrations take 3 virtual seconds.
fn slow() -> Sim {
    sim_with(|c| c.registration_seconds = 3.0)
}

fn feature_url(ns: &str, name: &str, action: &str, v: &str) -> String {
    format!("/subscriptions/{SUB}/providers/Microsoft.Features/providers/{ns}/features/{name}{action}?api-version={v}")
}

fn provider_url(ns: &str, action: &str, v: &str) -> String {
    format!("/subscriptions/{SUB}/providers/{ns}{action}?api-version={v}")
}

fn state_of(reply: &Reply) -> &str {
    reply.body["properties"]["state"].as_str().unwrap_or("")
}

async fn feature(sim: &Sim, name: &str, v: &str) -> String {
    let r = sim.get(&feature_url(CS, name, "", v)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    state_of(&r).to_owned()
}

async fn provider(sim: &Sim, ns: &str) -> String {
    let r = sim.get(&provider_url(ns, "", "2024-11-01")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["registrationState"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Sends a POST with an exactly given raw body.
async fn post_raw(sim: &Sim, uri: &str, body: &str, content_type: Option<&str>) -> Reply {
    raw(sim, Method::POST, uri, body, content_type).await
}

/// Sends a request with an exactly given raw body and optional Content-Type.
async fn raw(
    sim: &Sim,
    method: Method,
    uri: &str,
    body: &str,
    content_type: Option<&str>,
) -> Reply {
    use tower::ServiceExt;
    let mut b = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "sim.test")
        .header(AUTH.0, AUTH.1);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    let request = b.body(axum::body::Body::from(body.to_owned())).unwrap();
    let response = aksim::app(sim.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let raw = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
    }
}

#[tokio::test]
async fn feature_machine_at_every_api_version() {
    for v in ["2015-12-01", "2021-07-01", "2025-03-01"] {
        let sim = slow();
        assert_eq!(feature(&sim, MESH, v).await, "NotRegistered", "{v}");

        let r = sim.post(&feature_url(CS, MESH, "/register", v)).await;
        assert_eq!(r.status, StatusCode::OK, "{v}: {}", r.body);
        assert_eq!(
            r.body,
            json!({
                "properties": {"state": "Registering"},
                "id": format!("/subscriptions/{SUB}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/AzureServiceMeshPreview"),
                "type": "Microsoft.Features/providers/features",
                "name": "Microsoft.ContainerService/AzureServiceMeshPreview"
            }),
            "{v}"
        );
        assert_eq!(feature(&sim, MESH, v).await, "Registering");
        sim.advance(2.9);
        assert_eq!(feature(&sim, MESH, v).await, "Registering");
        sim.advance(0.1);
        assert_eq!(feature(&sim, MESH, v).await, "Registered");

        // Re-register of a Registered feature: a no-op 200.
        let again = sim.post(&feature_url(CS, MESH, "/register", v)).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(state_of(&again), "Registered");

        let un = sim.post(&feature_url(CS, MESH, "/unregister", v)).await;
        assert_eq!(un.status, StatusCode::OK);
        assert_eq!(state_of(&un), "Unregistering");
        sim.advance(3.0);
        assert_eq!(
            feature(&sim, MESH, v).await,
            "Unregistered",
            "not NotRegistered"
        );
        let un2 = sim.post(&feature_url(CS, MESH, "/unregister", v)).await;
        assert_eq!(state_of(&un2), "Unregistered");

        // Registering again from Unregistered is allowed.
        let re = sim.post(&feature_url(CS, MESH, "/register", v)).await;
        assert_eq!(state_of(&re), "Registering");

        // Lists: per namespace and for the subscription, with every known live feature.
        let list = sim
            .get(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.Features/providers/{CS}/features?api-version={v}"
            ))
            .await;
        assert_eq!(list.status, StatusCode::OK);
        let items = list.body["value"].as_array().unwrap();
        let mesh = items
            .iter()
            .find(|f| f["name"] == "Microsoft.ContainerService/AzureServiceMeshPreview")
            .unwrap();
        assert_eq!(mesh["properties"]["state"], "Registering");
        assert!(items.iter().any(|f| f["name"]
            == "Microsoft.ContainerService/ManagedNamespacePreview"
            && f["properties"]["state"] == "NotRegistered"));
        assert!(
            !items
                .iter()
                .any(|f| f["name"].as_str().unwrap().ends_with("/IstioCNIPreview")),
            "features that did not exist yet on the day are not listed"
        );
        assert!(
            !items
                .iter()
                .any(|f| f["name"].as_str().unwrap().ends_with("/StartStopPreview")),
            "retired features are not listed"
        );
        let all = sim
            .get(&format!(
                "/subscriptions/{SUB}/providers/Microsoft.Features/features?api-version={v}"
            ))
            .await;
        assert_eq!(all.status, StatusCode::OK);
        assert!(all.body["value"].as_array().unwrap().len() >= items.len());
    }
}

#[tokio::test]
async fn delay_zero_is_immediate_and_lists_page() {
    let sim = sim_with(|_| {});
    let r = sim
        .post(&feature_url(CS, MESH, "/register", "2021-07-01"))
        .await;
    assert_eq!(state_of(&r), "Registered");
    let un = sim
        .post(&feature_url(CS, MESH, "/unregister", "2021-07-01"))
        .await;
    assert_eq!(state_of(&un), "Unregistered");
    let p = sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    assert_eq!(p.body["registrationState"], "Registered");

    // nextLink paging on the feature list.
    let first = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Features/features?api-version=2021-07-01&$top=1"
        ))
        .await;
    assert_eq!(first.body["value"].as_array().unwrap().len(), 1);
    let next = first.body["nextLink"].as_str().unwrap();
    let path = next.trim_start_matches("http://sim.test");
    let second = sim.get(path).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(
        second.body["value"][0]["name"],
        first.body["value"][0]["name"]
    );
}

#[tokio::test]
async fn case_insensitive_names_answer_in_canonical_casing() {
    let sim = slow();
    let r = sim
        .post(&feature_url(
            "microsoft.CONTAINERSERVICE",
            "azureservicemeshPREVIEW",
            "/REGISTER",
            "2021-07-01",
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["name"],
        "Microsoft.ContainerService/AzureServiceMeshPreview"
    );
    assert!(r.body["id"]
        .as_str()
        .unwrap()
        .ends_with("/providers/Microsoft.ContainerService/features/AzureServiceMeshPreview"));
    assert_eq!(feature(&sim, MESH, "2021-07-01").await, "Registering");

    let p = sim
        .post(&provider_url(
            "microsoft.containerservice",
            "/Register",
            "2024-11-01",
        ))
        .await;
    assert_eq!(p.body["namespace"], CS);
    assert_eq!(
        p.body["id"],
        format!("/subscriptions/{SUB}/providers/Microsoft.ContainerService")
    );
}

#[tokio::test]
async fn unknown_and_retired_features_are_not_found() {
    let sim = sim_with(|_| {});
    for (name, action) in [
        ("NoSuchFeature", ""),
        ("NoSuchFeature", "/register"),
        ("NoSuchFeature", "/unregister"),
        ("StartStopPreview", "/register"),
        ("TrustedAccessPreview", ""),
        ("bad%20name!", "/register"),
    ] {
        let method = if action.is_empty() {
            Method::GET
        } else {
            Method::POST
        };
        let r = sim
            .call(method, &feature_url(CS, name, action, "2021-07-01"), None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}{action}");
        assert_eq!(r.code(), "FeatureNotFound");
        assert_eq!(
            r.body["error"]["message"],
            format!(
                "The feature '{}' could not be found.",
                name.replace("%20", " ")
            )
        );
    }
    // A feature of another namespace is not found either.
    let r = sim
        .post(&feature_url(
            "Microsoft.Network",
            MESH,
            "/register",
            "2021-07-01",
        ))
        .await;
    assert_eq!(r.code(), "FeatureNotFound");
}

/// A catalogue file merged over the built-in one.
fn with_catalog(text: &str) -> (Sim, tempfile::NamedTempFile) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    let path = file.path().to_path_buf();
    let sim = sim_with(|c| {
        c.registration_seconds = 3.0;
        c.feature_catalog = Some(path);
    });
    (sim, file)
}

#[tokio::test]
async fn catalogue_file_retires_and_adds_features() {
    let (sim, _file) = with_catalog(
        r#"{"features":[
            {"namespace":"Microsoft.ContainerService","name":"AzureServiceMeshPreview","retired":true},
            {"namespace":"Microsoft.ContainerService","name":"GatedThing","approvalType":"ApprovalRequired"},
            {"namespace":"Microsoft.Contoso","name":"Widgets"}
        ]}"#,
    );
    let r = sim
        .post(&feature_url(CS, MESH, "/register", "2021-07-01"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body["error"]["message"],
        "The feature 'AzureServiceMeshPreview' could not be found."
    );

    // Approval-required features go to Pending and stay there.
    let p = sim
        .post(&feature_url(CS, "gatedthing", "/register", "2021-07-01"))
        .await;
    assert_eq!(state_of(&p), "Pending");
    sim.advance(3600.0);
    assert_eq!(feature(&sim, "GatedThing", "2021-07-01").await, "Pending");
    let p2 = sim
        .post(&feature_url(CS, "GatedThing", "/register", "2021-07-01"))
        .await;
    assert_eq!(state_of(&p2), "Pending");
    let un = sim
        .post(&feature_url(CS, "GatedThing", "/unregister", "2021-07-01"))
        .await;
    assert_eq!(state_of(&un), "Unregistering");

    let w = sim
        .post(&feature_url(
            "Microsoft.Contoso",
            "WIDGETS",
            "/register",
            "2025-03-01",
        ))
        .await;
    assert_eq!(w.body["name"], "Microsoft.Contoso/Widgets");

    let info = sim.get("/_sim/info").await;
    assert_eq!(info.body["registration"]["delaySeconds"], 3.0);
    assert!(info.body["registration"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(
            |f| f["name"] == "Microsoft.ContainerService/AzureServiceMeshPreview"
                && f["retired"] == true
        ));
}

#[tokio::test]
async fn bad_catalogue_and_gate_files_refuse_to_start() {
    for (catalog, gates) in [
        (Some("{"), None),
        (
            Some(r#"{"features":[{"namespace":"A/B","name":"x"}]}"#),
            None,
        ),
        (
            None,
            Some(
                r#"{"rules":[{"feature":"NoSlash","namespace":"a","resourceType":"b","apiVersions":["*"]}]}"#,
            ),
        ),
        (None, Some(r#"{"rules":[],"extra":1}"#)),
    ] {
        let mut config = Config::for_tests();
        config.azure_date = Some(SEED_DAY.to_owned());
        let mut files = Vec::new();
        for (text, slot) in [(catalog, 0), (gates, 1)] {
            if let Some(text) = text {
                let f = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(f.path(), text).unwrap();
                if slot == 0 {
                    config.feature_catalog = Some(f.path().to_path_buf());
                } else {
                    config.preview_gates = Some(f.path().to_path_buf());
                }
                files.push(f);
            }
        }
        assert!(AppState::new(config, TokenIssuer::ephemeral(), None).is_err());
    }
    let mut missing = Config::for_tests();
    missing.azure_date = Some(SEED_DAY.to_owned());
    missing.feature_catalog = Some("/nonexistent/aksim-features.json".into());
    let err = AppState::new(missing, TokenIssuer::ephemeral(), None)
        .err()
        .unwrap();
    assert!(err.contains("cannot read"), "{err}");
}

fn sfr_url(ns: Option<&str>, name: Option<&str>, v: &str) -> String {
    let base = format!("/subscriptions/{SUB}/providers/Microsoft.Features");
    match (ns, name) {
        (Some(ns), Some(name)) => format!(
            "{base}/featureProviders/{ns}/subscriptionFeatureRegistrations/{name}?api-version={v}"
        ),
        (Some(ns), None) => {
            format!("{base}/featureProviders/{ns}/subscriptionFeatureRegistrations?api-version={v}")
        }
        _ => format!("{base}/subscriptionFeatureRegistrations?api-version={v}"),
    }
}

#[tokio::test]
async fn subscription_feature_registrations() {
    for v in ["2021-07-01", "2025-03-01"] {
        let sim = slow();
        let empty = sim.get(&sfr_url(None, None, v)).await;
        assert_eq!(empty.status, StatusCode::OK);
        assert_eq!(empty.body["value"], json!([]));

        let got = sim.get(&sfr_url(Some(CS), Some(MESH), v)).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.body["properties"]["state"], "NotRegistered");

        let put = sim
            .put(
                &sfr_url(Some(CS), Some("azureservicemeshpreview"), v),
                json!({"properties": {}}),
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
        assert_eq!(put.body["name"], MESH);
        assert_eq!(
            put.body["type"],
            "Microsoft.Features/featureProviders/subscriptionFeatureRegistrations"
        );
        assert_eq!(
            put.body["id"],
            format!("/subscriptions/{SUB}/providers/Microsoft.Features/featureProviders/Microsoft.ContainerService/subscriptionFeatureRegistrations/AzureServiceMeshPreview")
        );
        let props = &put.body["properties"];
        assert_eq!(props["state"], "Registering");
        assert_eq!(props["subscriptionId"], SUB);
        assert_eq!(props["featureName"], MESH);
        assert_eq!(props["providerNamespace"], CS);
        assert_eq!(props["approvalType"], "AutoApproval");
        assert!(props["tenantId"].is_string());

        // The same machine as the features API.
        assert_eq!(feature(&sim, MESH, "2021-07-01").await, "Registering");
        sim.advance(3.0);
        let got = sim.get(&sfr_url(Some(CS), Some(MESH), v)).await;
        assert_eq!(got.body["properties"]["state"], "Registered");
        assert!(got.body["properties"]["registrationDate"].is_string());

        // A PUT without a body is accepted too (the body is optional).
        let put2 = sim
            .call(Method::PUT, &sfr_url(Some(CS), Some(MESH), v), None)
            .await;
        assert_eq!(put2.status, StatusCode::OK);
        assert_eq!(put2.body["properties"]["state"], "Registered");

        let by_ns = sim.get(&sfr_url(Some(CS), None, v)).await;
        assert_eq!(by_ns.body["value"].as_array().unwrap().len(), 1);
        let all = sim.get(&sfr_url(None, None, v)).await;
        assert_eq!(all.body["value"][0]["name"], MESH);

        let del = sim.delete(&sfr_url(Some(CS), Some(MESH), v)).await;
        assert_eq!(del.status, StatusCode::OK);
        assert!(del.raw.is_empty());
        assert_eq!(feature(&sim, MESH, "2021-07-01").await, "Unregistering");
        sim.advance(3.0);
        assert_eq!(feature(&sim, MESH, "2021-07-01").await, "Unregistered");

        let missing = sim.get(&sfr_url(Some(CS), Some("Nope"), v)).await;
        assert_eq!(missing.code(), "FeatureNotFound");
        let old = sim.get(&sfr_url(Some(CS), Some(MESH), "2015-12-01")).await;
        assert_eq!(old.code(), "InvalidApiVersionParameter");
    }
}

#[tokio::test]
async fn provider_register_accepts_empty_json_body_and_no_body() {
    let sim = slow();
    assert_eq!(provider(&sim, CS).await, "NotRegistered");
    // az: Content-Type application/json with an empty body.
    let r = post_raw(
        &sim,
        &provider_url(CS, "/register", "2024-11-01"),
        "",
        Some("application/json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["registrationState"], "Registering");
    assert_eq!(r.body["registrationPolicy"], "RegistrationRequired");
    assert_eq!(r.body["namespace"], CS);
    // The provider GET answers 200 with registrationState while Registering.
    assert_eq!(provider(&sim, CS).await, "Registering");
    let policy_get = sim.get(&provider_url(CS, "", "2016-02-01")).await;
    assert_eq!(policy_get.status, StatusCode::OK);
    assert_eq!(policy_get.body["registrationState"], "Registering");
    sim.advance(3.0);
    assert_eq!(provider(&sim, CS).await, "Registered");

    // azure-mgmt-core's automatic registration: no body, no Content-Type, 2016-02-01.
    let kv = post_raw(
        &sim,
        &provider_url("Microsoft.KeyVault", "/register", "2016-02-01"),
        "",
        None,
    )
    .await;
    assert_eq!(kv.status, StatusCode::OK);
    assert_eq!(kv.body["registrationState"], "Registering");

    // The consent body.
    let consent = post_raw(
        &sim,
        &provider_url("Microsoft.Network", "/register", "2025-04-01"),
        r#"{"thirdPartyProviderConsent":{"consentToAuthorization":true}}"#,
        Some("application/json"),
    )
    .await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);

    // `{}` is fine too.
    let braces = post_raw(
        &sim,
        &provider_url("Microsoft.Storage", "/register", "2024-11-01"),
        "{}",
        Some("application/json; charset=utf-8"),
    )
    .await;
    assert_eq!(braces.status, StatusCode::OK);
}

#[tokio::test]
async fn provider_document_comes_from_the_catalogue() {
    let sim = sim_with(|_| {});
    let r = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers/{CS}?api-version=2025-04-01&$expand=resourceTypes/aliases"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let types = r.body["resourceTypes"].as_array().unwrap();
    let mc = types
        .iter()
        .find(|t| t["resourceType"] == "managedClusters")
        .unwrap();
    let versions: Vec<&str> = mc["apiVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    // Every advertised version passes the api-version check, and vice versa.
    for v in &versions {
        aksim::arm::api_version::check_provider(
            sim.state.core.resource_types,
            CS,
            "managedClusters",
            Some(v),
            || None,
        )
        .unwrap();
    }
    assert!(versions.contains(&"2026-08-01"));
    assert!(mc["locations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == "eastus"));
    for t in [
        "locations",
        "locations/operations",
        "locations/operationresults",
        "locations/kubernetesVersions",
        "locations/meshRevisionProfiles",
    ] {
        assert!(types.iter().any(|x| x["resourceType"] == t), "{t}");
    }
}

#[tokio::test]
async fn fresh_subscription_and_lists() {
    let sim = sim_with(|_| {});
    let list = sim
        .get(&format!(
            "/subscriptions/{SUB}/providers?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let value = list.body["value"].as_array().unwrap();
    let state = |ns: &str| {
        value
            .iter()
            .find(|p| p["namespace"] == ns)
            .map(|p| p["registrationState"].as_str().unwrap().to_owned())
            .unwrap()
    };
    for free in [
        "Microsoft.Resources",
        "Microsoft.Features",
        "Microsoft.Authorization",
    ] {
        assert_eq!(state(free), "Registered", "{free}");
    }
    for required in [CS, "Microsoft.KeyVault", "Microsoft.Network"] {
        assert_eq!(state(required), "NotRegistered", "{required}");
    }

    // Tenant scope: the provider documents without a subscription.
    let tenant = sim.get("/providers?api-version=2024-11-01").await;
    assert_eq!(tenant.status, StatusCode::OK);
    assert_eq!(tenant.body["value"].as_array().unwrap().len(), value.len());
    let one = sim
        .get("/providers/microsoft.containerservice?api-version=2016-02-01")
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["id"], "/providers/Microsoft.ContainerService");
    assert_eq!(one.body["namespace"], CS);
    assert!(one.body.get("registrationState").is_none());
    let unknown = sim
        .get("/providers/Microsoft.Nope?api-version=2024-11-01")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "InvalidResourceNamespace");
}

#[tokio::test]
async fn provider_unregister_and_the_clock() {
    let sim = slow();
    sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    sim.advance(3.0);
    let un = sim
        .post(&provider_url(CS, "/unregister", "2024-11-01"))
        .await;
    assert_eq!(un.status, StatusCode::OK);
    assert_eq!(un.body["registrationState"], "Unregistering");
    sim.advance(1.0);
    assert_eq!(provider(&sim, CS).await, "Unregistering");
    sim.advance(2.0);
    assert_eq!(provider(&sim, CS).await, "Unregistered");
    let re = sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    assert_eq!(re.body["registrationState"], "Registering");

    // RegistrationFree providers stay Registered.
    let free = sim
        .post(&provider_url(
            "Microsoft.Features",
            "/unregister",
            "2024-11-01",
        ))
        .await;
    assert_eq!(free.body["registrationState"], "Registered");
}

#[tokio::test]
async fn provider_with_resources_cannot_be_unregistered() {
    let sim = sim_with(|_| {});
    sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    let now = sim.state.core.clock.now();
    sim.state.core.store.with(SUB, now, |s| {
        s.clusters.planes.insert(
            aksim::core::clusters::cluster_key("rg", "c1"),
            aksim::core::kube::Plane::new("1.30.0", "t", now),
        );
    });
    let r = sim
        .post(&provider_url(CS, "/unregister", "2024-11-01"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "Conflict");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'Microsoft.ContainerService'"));
    assert_eq!(provider(&sim, CS).await, "Registered", "state unchanged");
}

/// The provider gate, as `core::service` runs it.
fn require_registered(
    state: &aksim::AppState,
    s: &mut aksim::core::store::Subscription,
    namespace: &str,
    now: time::OffsetDateTime,
) -> Result<(), aksim::core::error::Error> {
    state.core.require_registered(s, namespace, now)
}

#[tokio::test]
async fn require_registered_gives_409_or_auto_registers() {
    let sim = sim_with(|_| {});
    let now = sim.state.core.clock.now();
    let err = sim
        .state
        .core
        .store
        .with(SUB, now, |s| {
            require_registered(&sim.state, s, "microsoft.containerservice", now)
        })
        .unwrap_err();
    assert_eq!(err.kind, aksim::core::error::ErrorKind::Conflict);
    assert_eq!(err.code(), "MissingSubscriptionRegistration");
    assert_eq!(
        err.body.message.matches('\'').count(),
        2,
        "exactly one quoted token"
    );
    assert!(err.body.message.contains("'Microsoft.ContainerService'"));
    // RegistrationFree namespaces pass.
    sim.state
        .core
        .store
        .with(SUB, now, |s| {
            require_registered(&sim.state, s, "Microsoft.Resources", now)
        })
        .unwrap();
    // After a register (delay 0 in tests) it passes.
    sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    let now = sim.state.core.clock.now();
    sim.state
        .core
        .store
        .with(SUB, now, |s| require_registered(&sim.state, s, CS, now))
        .unwrap();

    // While Registering it still refuses.
    let slow = slow();
    slow.post(&provider_url(CS, "/register", "2024-11-01"))
        .await;
    let now = slow.state.core.clock.now();
    let err = slow
        .state
        .core
        .store
        .with(SUB, now, |s| require_registered(&slow.state, s, CS, now))
        .unwrap_err();
    assert_eq!(err.code(), "MissingSubscriptionRegistration");

    let auto = sim_with(|c| {
        c.auto_register_providers = true;
        c.registration_seconds = 3.0;
    });
    assert_eq!(provider(&auto, CS).await, "NotRegistered");
    let now = auto.state.core.clock.now();
    auto.state
        .core
        .store
        .with(SUB, now, |s| require_registered(&auto.state, s, CS, now))
        .unwrap();
    assert_eq!(
        provider(&auto, CS).await,
        "Registered",
        "registered instantly"
    );
}

/// The gate check for a managedClusters PUT body at `v`.
fn gate(sim: &Sim, v: &str, body: &Value) -> Result<(), aksim::core::error::Error> {
    let now = sim.state.core.clock.now();
    sim.state.core.store.with(SUB, now, |s| {
        sim.state
            .core
            .check_preview_gates(s, CS, "managedClusters", v, Some(body), now)
    })
}

fn mesh_body() -> Value {
    json!({"location": "eastus", "properties": {"serviceMeshProfile": {"mode": "Istio", "istio": {}}}})
}

fn cni_body() -> Value {
    json!({"properties": {"serviceMeshProfile": {"mode": "Istio", "istio": {
        "components": {"proxyRedirectionMechanism": "CNIChaining"}}}}})
}

const GATE_TEXT: &str = "Feature Microsoft.ContainerService/AzureServiceMeshPreview is not enabled. Please see https://aka.ms/aks/previews for how to enable features.";

#[tokio::test]
async fn preview_gating_follows_the_seed_order() {
    let sim = slow();
    // Not gated: no mesh in the body. (Until GA every api-version is gated.)
    assert!(gate(&sim, "2023-08-01", &mesh_body()).is_err());
    gate(&sim, "2023-04-02-preview", &json!({"properties": {}})).unwrap();
    gate(
        &sim,
        "2023-04-02-preview",
        &json!({"properties": {"serviceMeshProfile": {"mode": "Disabled"}}}),
    )
    .unwrap();

    let e = gate(&sim, "2023-04-02-preview", &mesh_body()).unwrap_err();
    assert_eq!(e.kind, aksim::core::error::ErrorKind::BadRequest);
    assert_eq!(e.code(), "BadRequest");
    assert_eq!(e.body.message, GATE_TEXT);

    // Provider registered first, then the feature: still gated.
    sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    sim.advance(3.0);
    sim.post(&feature_url(CS, MESH, "/register", "2021-07-01"))
        .await;
    assert!(
        gate(&sim, "2023-04-02-preview", &mesh_body()).is_err(),
        "Registering"
    );
    sim.advance(3.0);
    assert_eq!(feature(&sim, MESH, "2021-07-01").await, "Registered");
    let e = gate(&sim, "2023-02-02-preview", &mesh_body()).unwrap_err();
    assert_eq!(
        e.body.message, GATE_TEXT,
        "provider not re-registered afterwards"
    );

    // Provider re-registered after the feature became Registered: allowed.
    let re = sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    assert_eq!(re.body["registrationState"], "Registered");
    gate(&sim, "2023-02-02-preview", &mesh_body()).unwrap();
    gate(&sim, "2023-07-02-PREVIEW", &mesh_body()).unwrap();

    // While Istio CNI was a preview, it needed its own flag on the preview api-versions that
    // carry the field; stable ones were not gated (a recorded real PUT on 2026-02-01, made on
    // 2026-04-21, was accepted).
    let cni = sim_with(|c| c.azure_date = Some("2026-01-15".into()));
    let e = gate(&cni, "2025-10-02-preview", &cni_body()).unwrap_err();
    assert_eq!(
        e.body.message,
        "Feature Microsoft.ContainerService/IstioCNIPreview is not enabled. Please see https://aka.ms/aks/previews for how to enable features."
    );
    gate(&cni, "2026-01-01", &cni_body()).unwrap();
    gate(&cni, "2025-10-01", &cni_body()).unwrap();

    // Unregistering the feature closes the gate again.
    sim.post(&feature_url(CS, MESH, "/unregister", "2021-07-01"))
        .await;
    assert!(gate(&sim, "2023-04-02-preview", &mesh_body()).is_err());
}

#[tokio::test]
async fn seed_order_with_zero_delay_and_the_register_race() {
    // Delay 0: the provider register in the same instant but *before* the feature register
    // does not count.
    let sim = sim_with(|_| {});
    sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    sim.post(&feature_url(CS, MESH, "/register", "2021-07-01"))
        .await;
    assert!(gate(&sim, "2023-04-02-preview", &mesh_body()).is_err());
    sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    gate(&sim, "2023-04-02-preview", &mesh_body()).unwrap();

    // While the provider re-registration is still Registering, the feature is not in effect.
    let slow = slow();
    slow.post(&feature_url(CS, MESH, "/register", "2021-07-01"))
        .await;
    slow.advance(3.0);
    slow.post(&provider_url(CS, "/register", "2024-11-01"))
        .await;
    assert!(gate(&slow, "2023-04-02-preview", &mesh_body()).is_err());
    slow.advance(3.0);
    gate(&slow, "2023-04-02-preview", &mesh_body()).unwrap();
}

#[tokio::test]
async fn gating_can_be_switched_off() {
    for sim in [
        sim_with(|c| c.no_preview_gating = true),
        sim_with(|c| c.preview_gating = false),
    ] {
        gate(&sim, "2023-04-02-preview", &mesh_body()).unwrap();
        gate(&sim, "2024-01-02-preview", &cni_body()).unwrap();
        let info = sim.get("/_sim/info").await;
        assert_eq!(info.body["registration"]["previewGating"], false);
    }
}

#[tokio::test]
async fn gates_file_replaces_the_built_in_rules() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        r#"{"rules":[{"feature":"Microsoft.ContainerService/IstioCNIPreview","namespace":"Microsoft.ContainerService",
            "resourceType":"managedClusters","apiVersions":["2026-*"],
            "when":[{"path":"properties.serviceMeshProfile.istio"}],
            "message":"Custom: {feature} please."}]}"#,
    )
    .unwrap();
    let path = file.path().to_path_buf();
    let sim = sim_with(|c| c.preview_gates = Some(path));
    gate(&sim, "2023-04-02-preview", &mesh_body()).unwrap();
    let e = gate(&sim, "2026-08-01", &mesh_body()).unwrap_err();
    assert_eq!(
        e.body.message,
        "Custom: Microsoft.ContainerService/IstioCNIPreview please."
    );
}

/// One bad request: method, path, raw body, expected status and code.
struct Bad {
    method: Method,
    uri: String,
    body: Option<&'static str>,
    status: StatusCode,
    code: &'static str,
}

fn bad(
    method: Method,
    uri: String,
    body: Option<&'static str>,
    status: u16,
    code: &'static str,
) -> Bad {
    Bad {
        method,
        uri,
        body,
        status: StatusCode::from_u16(status).unwrap(),
        code,
    }
}

/// A snapshot of everything registration-related in the subscription.
fn snapshot(sim: &Sim) -> String {
    let now = sim.state.core.clock.now();
    sim.state.core.store.with(SUB, now, |s| {
        serde_json::to_string(&(&s.registrations.features, &s.registrations.providers)).unwrap()
    })
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_changes_nothing() {
    let sim = slow();
    // Some state to protect.
    sim.post(&feature_url(CS, MESH, "/register", "2021-07-01"))
        .await;
    sim.post(&provider_url(CS, "/register", "2024-11-01")).await;
    let fs = |rest: &str| format!("/subscriptions/{SUB}/providers/Microsoft.Features{rest}");
    let cases = vec![
        // Wrong verbs on actions and documents.
        bad(Method::GET, feature_url(CS, MESH, "/register", "2021-07-01"), None, 405, "MethodNotAllowed"),
        bad(Method::PUT, feature_url(CS, MESH, "/unregister", "2021-07-01"), Some("{}"), 405, "MethodNotAllowed"),
        bad(Method::DELETE, feature_url(CS, MESH, "", "2021-07-01"), None, 405, "MethodNotAllowed"),
        bad(Method::GET, provider_url(CS, "/register", "2024-11-01"), None, 405, "MethodNotAllowed"),
        bad(Method::DELETE, provider_url(CS, "", "2024-11-01"), None, 405, "MethodNotAllowed"),
        bad(Method::POST, format!("/subscriptions/{SUB}/providers?api-version=2024-11-01"), None, 405, "MethodNotAllowed"),
        bad(Method::POST, "/providers?api-version=2024-11-01".into(), None, 405, "MethodNotAllowed"),
        bad(Method::PATCH, sfr_url(Some(CS), Some(MESH), "2021-07-01"), Some("{}"), 405, "MethodNotAllowed"),
        // Bodies where none belong.
        bad(Method::POST, feature_url(CS, MESH, "/unregister", "2021-07-01"), Some("[1,2]"), 400, "InvalidRequestContent"),
        bad(Method::POST, feature_url(CS, "IstioCNIPreview", "/register", "2021-07-01"), Some("{\"a\":1}"), 400, "InvalidRequestContent"),
        bad(Method::POST, feature_url(CS, "IstioCNIPreview", "/register", "2021-07-01"), Some("not json"), 400, "InvalidRequestContent"),
        bad(Method::POST, provider_url(CS, "/unregister", "2024-11-01"), Some("[]"), 400, "InvalidRequestContent"),
        bad(Method::POST, provider_url("Microsoft.KeyVault", "/register", "2024-11-01"), Some("[]"), 400, "InvalidRequestContent"),
        bad(Method::POST, provider_url("Microsoft.KeyVault", "/register", "2024-11-01"), Some("{\"thirdPartyProviderConsent\":7}"), 400, "InvalidRequestContent"),
        bad(Method::PUT, sfr_url(Some(CS), Some("IstioCNIPreview"), "2025-03-01"), Some("[true]"), 400, "InvalidRequestContent"),
        bad(Method::DELETE, sfr_url(Some(CS), Some(MESH), "2025-03-01"), Some("[true]"), 400, "InvalidRequestContent"),
        // Wrong namespaces and names.
        bad(Method::POST, provider_url("Microsoft.Nope", "/register", "2024-11-01"), None, 404, "InvalidResourceNamespace"),
        bad(Method::POST, provider_url("Microsoft.Nope", "/unregister", "2024-11-01"), None, 404, "InvalidResourceNamespace"),
        bad(Method::GET, provider_url("not%20a%20namespace", "", "2024-11-01"), None, 404, "InvalidResourceNamespace"),
        bad(Method::GET, format!("/subscriptions/{SUB}/providers/Microsoft.Nope/things?api-version=2024-11-01"), None, 404, "InvalidResourceNamespace"),
        bad(Method::GET, fs("/gadgets?api-version=2021-07-01"), None, 404, "InvalidResourceType"),
        bad(Method::POST, feature_url("Microsoft.Nope", MESH, "/register", "2021-07-01"), None, 404, "FeatureNotFound"),
        bad(Method::POST, feature_url(CS, "Azure%20Service", "/register", "2021-07-01"), None, 404, "FeatureNotFound"),
        bad(Method::POST, format!("/subscriptions/not-a-guid/providers/{CS}/register?api-version=2024-11-01"), None, 400, "InvalidSubscriptionId"),
        // api-versions.
        bad(Method::POST, feature_url(CS, MESH, "/register", "2099-01-01"), None, 400, "InvalidApiVersionParameter"),
        bad(Method::POST, format!("/subscriptions/{SUB}/providers/Microsoft.Features/providers/{CS}/features/{MESH}/unregister"), None, 400, "MissingApiVersionParameter"),
        bad(Method::POST, provider_url(CS, "/unregister", "2099-01-01"), None, 400, "InvalidApiVersionParameter"),
        bad(Method::GET, "/providers?api-version=1999-01-01".into(), None, 400, "InvalidApiVersionParameter"),
        bad(Method::GET, sfr_url(None, None, "2015-12-01"), None, 400, "InvalidApiVersionParameter"),
        // Paging tokens.
        bad(Method::GET, fs("/features?api-version=2021-07-01&$skiptoken=abc"), None, 400, "BadRequest"),
    ];
    let before = snapshot(&sim);
    for case in cases {
        let reply = match case.body {
            Some(text) => {
                raw(
                    &sim,
                    case.method.clone(),
                    &case.uri,
                    text,
                    Some("application/json"),
                )
                .await
            }
            None => sim.call(case.method.clone(), &case.uri, None).await,
        };
        assert_eq!(
            reply.status, case.status,
            "{} {}: {}",
            case.method, case.uri, reply.body
        );
        assert_eq!(reply.code(), case.code, "{} {}", case.method, case.uri);
        assert!(!reply.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .is_empty());
        assert_eq!(
            snapshot(&sim),
            before,
            "{} {} changed state",
            case.method,
            case.uri
        );
    }
}

/// The preview flags follow the day: `AzureServiceMeshPreview` exists on the seed day and
/// gates the add-on on every api-version until GA (2024-02-26); today it answers
/// `FeatureNotFound` and the add-on needs no flag. Istio CNI needed `IstioCNIPreview` between
/// 2025-10-20 and its GA docs (2026-05-07).
#[tokio::test]
async fn features_and_gates_follow_the_azure_date() {
    let today = Sim::new();
    let r = today
        .post(&feature_url(CS, MESH, "/register", "2021-07-01"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "FeatureNotFound");
    let list = today
        .get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.Features/features?api-version=2021-07-01"
        ))
        .await;
    assert!(!list.body.to_string().contains(MESH), "not listed today");
    assert!(gate(&today, "2026-06-01", &mesh_body()).is_ok());
    assert!(gate(&today, "2026-07-02-preview", &cni_body()).is_ok());

    let seed = sim_with(|_| {});
    assert!(
        gate(&seed, "2026-06-01", &mesh_body()).is_err(),
        "every api-version"
    );
    let cni_era = sim_with(|c| c.azure_date = Some("2026-01-15".into()));
    let err = gate(&cni_era, "2026-01-02-preview", &cni_body()).unwrap_err();
    assert!(err.body.message.contains("IstioCNIPreview"), "{err}");
    let after_ga = sim_with(|c| c.azure_date = Some("2024-02-26".into()));
    assert!(gate(&after_ga, "2026-06-01", &mesh_body()).is_ok());
    let r = after_ga
        .post(&feature_url(CS, MESH, "/register", "2021-07-01"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "registrable until 2026-05-04");
}
