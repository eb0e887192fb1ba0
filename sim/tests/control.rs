//! The `/_sim` control plane: clock, durations, scripts, faults, journal, snapshots, reset —
//! and bad input to each of them refused with a 400 that changes nothing.

mod common;

use axum::http::{Method, StatusCode};
use common::{Sim, SUB};
use serde_json::json;

fn rg(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourcegroups/{name}?api-version=2024-11-01")
}

async fn control(
    sim: &Sim,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> common::Reply {
    sim.call_with(method, path, body, &[]).await
}

#[tokio::test]
async fn clock_advance_freeze_scale() {
    let sim = Sim::new();
    let frozen = control(&sim, Method::POST, "/_sim/clock/freeze", None).await;
    assert_eq!(frozen.body["frozen"], true);
    let before = frozen.body["now"].as_str().unwrap().to_owned();
    let after = control(
        &sim,
        Method::POST,
        "/_sim/clock/advance",
        Some(json!({"seconds": 3600})),
    )
    .await;
    assert_eq!(after.status, StatusCode::OK);
    let t0 = aksim::clock::parse_rfc3339(&before).unwrap();
    let t1 = aksim::clock::parse_rfc3339(after.body["now"].as_str().unwrap()).unwrap();
    assert_eq!((t1 - t0).whole_seconds(), 3600);
    for bad in [
        json!({"seconds": -1}),
        json!({"secs": 1}),
        json!({"seconds": "x"}),
        json!([1]),
    ] {
        let r = control(&sim, Method::POST, "/_sim/clock/advance", Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.code(), "InvalidControlRequest");
    }
    let again = control(&sim, Method::GET, "/_sim/clock", None).await;
    assert_eq!(
        again.body["now"], after.body["now"],
        "a refused advance changes nothing"
    );
    let scaled = control(
        &sim,
        Method::POST,
        "/_sim/clock/scale",
        Some(json!({"factor": 60})),
    )
    .await;
    assert_eq!(scaled.body["scale"], 60.0);
    let bad = control(
        &sim,
        Method::POST,
        "/_sim/clock/scale",
        Some(json!({"factor": 0})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fault_error_429_with_throttling_headers() {
    let sim = Sim::new();
    let added = control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(
            json!({"method": "PUT", "path": "/subscriptions/*/resourcegroups/*", "times": 1,
                    "action": {"type": "error", "status": 429, "retryAfter": 2}}),
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let id = added.body["id"].as_str().unwrap().to_owned();
    let throttled = sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.code(), "SubscriptionRequestsThrottled");
    assert_eq!(throttled.header("retry-after"), Some("2"));
    assert_eq!(
        throttled.header("x-ms-ratelimit-remaining-subscription-writes"),
        Some("0")
    );
    let next = sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    assert_eq!(next.status, StatusCode::CREATED, "times: 1 fires once");
    let listed = control(&sim, Method::GET, "/_sim/faults", None).await;
    assert_eq!(listed.body["value"][0]["fired"], 1);
    assert_eq!(listed.body["value"][0]["matched"], 2);
    let removed = control(&sim, Method::DELETE, &format!("/_sim/faults/{id}"), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let missing = control(&sim, Method::DELETE, &format!("/_sim/faults/{id}"), None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for bad in [
        json!({"action": {"type": "error", "status": 200}}),
        json!({"action": {"type": "teleport"}}),
        json!({"path": "/x"}),
        json!({"probability": 1.5, "action": {"type": "drop"}}),
        json!({"unknown": true, "action": {"type": "drop"}}),
    ] {
        let r = control(&sim, Method::POST, "/_sim/faults", Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        control(&sim, Method::GET, "/_sim/faults", None).await.body["value"],
        json!([])
    );
}

#[tokio::test]
async fn operation_failure_fault_and_scripts() {
    let sim = Sim::new();
    sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"method": "DELETE", "action": {"type": "operationFailure", "code": "Boom", "message": "it broke"}})),
    )
    .await;
    let deleted = sim.delete(&rg("rg1")).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    let location = deleted
        .header("location")
        .unwrap()
        .trim_start_matches("http://sim.test")
        .to_owned();
    let result = sim.get(&location).await;
    assert_eq!(result.body["error"]["code"], "Boom");
    let group = sim.get(&rg("rg1")).await;
    assert_eq!(
        group.status,
        StatusCode::OK,
        "a failed delete leaves the group"
    );
    assert_eq!(group.body["properties"]["provisioningState"], "Succeeded");
    control(&sim, Method::DELETE, "/_sim/faults", None).await;

    // Scripts: three non-terminal polls, then success.
    let set = control(
        &sim,
        Method::PUT,
        "/_sim/operations/scripts",
        Some(json!({"resourceGroupDelete": {"polls": 3}})),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK);
    let deleted = sim.delete(&rg("rg1")).await;
    let location = deleted
        .header("location")
        .unwrap()
        .trim_start_matches("http://sim.test")
        .to_owned();
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(sim.get(&location).await.status.as_u16());
        }
        v
    };
    assert_eq!(statuses, vec![202, 202, 200, 200]);
    for bad in [
        json!({"nope": {"polls": 1}}),
        json!({"resourceGroupDelete": {"polls": 1, "result": "InProgress"}}),
        json!({"resourceGroupDelete": {"polls": 100000}}),
    ] {
        let r = control(&sim, Method::PUT, "/_sim/operations/scripts", Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn journal_records_queries_and_verifies() {
    let sim = Sim::new();
    sim.call_with(
        Method::PUT,
        &rg("rg1"),
        Some(json!({"location": "eastus"})),
        &[
            ("authorization", "Bearer t"),
            ("x-ms-correlation-request-id", "corr-42"),
        ],
    )
    .await;
    sim.get(&rg("missing")).await;
    let all = control(&sim, Method::GET, "/_sim/journal", None).await;
    let entries = all.body["value"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["correlationId"], "corr-42");
    assert_eq!(entries[0]["subscription"], SUB);
    assert_eq!(entries[0]["requestBody"], "{\"location\":\"eastus\"}");
    assert_eq!(entries[1]["errorCode"], "ResourceGroupNotFound");
    let refused = control(&sim, Method::GET, "/_sim/journal?status=404", None).await;
    assert_eq!(refused.body["value"].as_array().unwrap().len(), 1);
    let ok = control(
        &sim,
        Method::POST,
        "/_sim/journal/verify",
        Some(json!({"method": "PUT", "path": "/subscriptions/*/resourcegroups/rg1", "count": 1})),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["ok"], true);
    let no = control(
        &sim,
        Method::POST,
        "/_sim/journal/verify",
        Some(json!({"method": "DELETE", "atLeast": 1})),
    )
    .await;
    assert_eq!(no.status, StatusCode::EXPECTATION_FAILED);
    assert_eq!(no.body["count"], 0);
    let jsonl = control(&sim, Method::GET, "/_sim/journal.jsonl", None).await;
    assert_eq!(String::from_utf8(jsonl.raw).unwrap().lines().count(), 2);
    let bad = control(&sim, Method::GET, "/_sim/journal?colour=red", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = control(
        &sim,
        Method::POST,
        "/_sim/journal/verify",
        Some(json!({"method": "GET"})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn snapshot_round_trip_and_bad_files() {
    let sim = Sim::new();
    sim.put(
        &rg("rg1"),
        json!({"location": "eastus", "tags": {"k": "v"}}),
    )
    .await;
    let snap = control(&sim, Method::GET, "/_sim/snapshot", None).await;
    assert_eq!(snap.body["format"], "aksim-snapshot");
    assert_eq!(snap.body["version"], 1);

    let fresh = Sim::new();
    let imported = control(
        &fresh,
        Method::PUT,
        "/_sim/snapshot",
        Some(snap.body.clone()),
    )
    .await;
    assert_eq!(imported.status, StatusCode::OK);
    let group = fresh.get(&rg("rg1")).await;
    assert_eq!(group.body["tags"]["k"], "v");

    let mut future = snap.body.clone();
    future["version"] = json!(99);
    let mut bad_id = snap.body.clone();
    bad_id["subscriptions"][0]["id"] = json!("nope");
    let truncated = &snap.raw[..snap.raw.len() / 2];
    for bad in [future, bad_id, json!({"format": "other"}), json!([1, 2])] {
        let r = control(&fresh, Method::PUT, "/_sim/snapshot", Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    }
    let r = fresh
        .call_with(Method::PUT, "/_sim/snapshot", None, &[])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let req = axum::http::Request::builder()
        .method(Method::PUT)
        .uri("/_sim/snapshot")
        .body(axum::body::Body::from(truncated.to_vec()))
        .unwrap();
    let r = tower::ServiceExt::oneshot(aksim::app(fresh.state.clone()), req)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        fresh.get(&rg("rg1")).await.status,
        StatusCode::OK,
        "refused imports change nothing"
    );

    let reset = control(&fresh, Method::POST, "/_sim/reset", None).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(fresh.get(&rg("rg1")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn state_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let sim = Sim::new();
    sim.put(&rg("rg1"), json!({"location": "westus"})).await;
    aksim::control::snapshot::save_file(&sim.state, &path).unwrap();
    let fresh = Sim::new();
    assert_eq!(
        aksim::control::snapshot::load_file(&fresh.state, &path).unwrap(),
        Some(1)
    );
    assert_eq!(fresh.get(&rg("rg1")).await.body["location"], "westus");
    std::fs::write(&path, b"{\"format\":\"aksim-snapshot\",\"version\":1").unwrap();
    assert!(aksim::control::snapshot::load_file(&fresh.state, &path).is_err());
    assert_eq!(
        aksim::control::snapshot::load_file(&fresh.state, &dir.path().join("none")).unwrap(),
        None
    );
}

#[tokio::test]
async fn unknown_control_paths_and_info() {
    let sim = Sim::new();
    for path in ["/_sim/nothing", "/_sim/", "/_sim"] {
        let r = control(&sim, Method::GET, path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.body["error"]["code"], "NotFound", "{path}: {}", r.body);
    }
    let info = control(&sim, Method::GET, "/_sim/info", None).await;
    assert!(info.body["limits"]["requestBodyMaxBytes"].is_number());
    assert!(info.body["providers"].as_array().unwrap().len() >= 3);
}

/// Drop and latency faults need a real connection to be observed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_and_latency_faults_over_a_socket() {
    let state = aksim::AppState::for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(aksim::serve(
        listener,
        None,
        aksim::app(state.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let add = |body: serde_json::Value| {
        let client = client.clone();
        let url = format!("{base}/_sim/faults");
        async move { client.post(url).json(&body).send().await.unwrap().status() }
    };
    assert_eq!(
        add(json!({"path": "/subscriptions", "times": 1, "action": {"type": "drop"}})).await,
        201
    );
    let dropped = client
        .get(format!("{base}/subscriptions?api-version=2022-12-01"))
        .bearer_auth("t")
        .send()
        .await;
    assert!(
        dropped.is_err(),
        "the connection is closed without an answer"
    );
    let fine = client
        .get(format!("{base}/subscriptions?api-version=2022-12-01"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 200);

    assert_eq!(
        add(json!({"path": "/tenants", "action": {"type": "latency", "ms": 150}})).await,
        201
    );
    let started = std::time::Instant::now();
    let slow = client
        .get(format!("{base}/tenants?api-version=2022-12-01"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(slow.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn sandboxes_start_with_their_preset() {
    let sim = Sim::new();
    let created = control(
        &sim,
        Method::POST,
        "/_sim/sandboxes",
        Some(json!({
            "displayName": "ci job 7",
            "azureDate": "2023-12-01",
            "features": ["Microsoft.ContainerService/AzureServiceMeshPreview"],
            "resourceGroups": {"rg1": "East US"}
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["azureDate"], "2023-12-01");
    let id = created.body["subscriptionId"].as_str().unwrap().to_owned();
    let feature = sim
        .get(&format!(
            "/subscriptions/{id}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/AzureServiceMeshPreview?api-version=2021-07-01"
        ))
        .await;
    assert_eq!(feature.body["properties"]["state"], "Registered");
    let provider = sim
        .get(&format!(
            "/subscriptions/{id}/providers/Microsoft.ContainerService?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(provider.body["registrationState"], "Registered");
    let group = sim
        .get(&format!(
            "/subscriptions/{id}/resourcegroups/rg1?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(group.body["location"], "eastus");
    let sub = sim
        .get(&format!("/subscriptions/{id}?api-version=2022-12-01"))
        .await;
    assert_eq!(sub.body["displayName"], "ci job 7");

    for bad in [
        json!({"features": ["NoSlash"]}),
        json!({"features": ["Microsoft.ContainerService/NoSuchFeature"]}),
        // Retired by today (FeatureNotFound), so not in today's catalogue.
        json!({"features": ["Microsoft.ContainerService/AzureServiceMeshPreview"]}),
        json!({"providers": ["Microsoft.Nope"]}),
        json!({"resourceGroups": {"rg1": "mars"}}),
        json!({"subscriptionId": id}),
        json!({"colour": "red"}),
    ] {
        let r = control(&sim, Method::POST, "/_sim/sandboxes", Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        sim.state.core.store.touched_ids().len(),
        1,
        "refused presets create nothing"
    );
}

/// PUT replaces the durations table (kinds left out take the body's `default`, a `default`
/// left out is aksim's 2 s); PATCH changes only the kinds named.
#[tokio::test]
async fn durations_put_replaces_the_table_and_patch_merges() {
    let sim = Sim::new();
    let put = |body: serde_json::Value| {
        control(&sim, Method::PUT, "/_sim/operations/durations", Some(body))
    };
    let r = put(json!({"clusterCreate": 600})).await;
    assert_eq!(r.body["clusterCreate"], 600.0);
    assert_eq!(r.body["default"], 2.0, "a default left out is aksim's own");
    let r = put(json!({"default": 2})).await;
    assert_eq!(
        r.body,
        json!({"default": 2.0, "resourceGroupDelete": 2.0, "clusterCreate": 2.0, "clusterUpdate": 2.0, "clusterDelete": 2.0,
            "agentPoolCreate": 2.0, "agentPoolUpdate": 2.0, "agentPoolDelete": 2.0, "agentPoolUpgradeNodeImage": 2.0,
            "clusterStop": 2.0, "clusterStart": 2.0}),
        "kinds left out take the new default"
    );
    let r = control(
        &sim,
        Method::PATCH,
        "/_sim/operations/durations",
        Some(json!({"clusterDelete": 9})),
    )
    .await;
    assert_eq!(r.body["clusterDelete"], 9.0);
    assert_eq!(r.body["clusterCreate"], 2.0, "PATCH keeps the others");
    let r = control(
        &sim,
        Method::PATCH,
        "/_sim/operations/durations",
        Some(json!({"default": 0})),
    )
    .await;
    assert_eq!(r.body["clusterCreate"], 0.0);
    assert_eq!(
        r.body["clusterDelete"], 9.0,
        "a kind with its own duration keeps it"
    );
    let get = control(&sim, Method::GET, "/_sim/operations/durations", None).await;
    assert_eq!(get.body, r.body);
}

/// The revisions a subscription's `meshRevisionProfiles` lists in eastus.
async fn revisions_of(sim: &Sim, sub: &str) -> Vec<String> {
    let r = sim
        .get(&format!(
            "/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/eastus/meshRevisionProfiles?api-version=2026-06-01"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["value"][0]["properties"]["meshRevisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["revision"].as_str().unwrap().to_owned())
        .collect()
}

/// A sandbox with `azureDate` sees the AKS of its day and one with `meshCatalog` its own AKS
/// catalogue; other subscriptions keep the server's; snapshots carry them, resets drop them.
#[tokio::test]
async fn a_sandbox_carries_its_own_aks_catalogue() {
    let sim = Sim::new();
    let custom: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../scenarios/catalogs/custom-test.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut ids = Vec::new();
    for preset in [
        json!({"azureDate": "2023-12-01"}),
        json!({"meshCatalog": custom}),
    ] {
        let mut preset = preset;
        preset["providers"] = json!(["Microsoft.ContainerService"]);
        let created = control(&sim, Method::POST, "/_sim/sandboxes", Some(preset)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        ids.push(created.body["subscriptionId"].as_str().unwrap().to_owned());
    }
    control(
        &sim,
        Method::POST,
        "/_sim/sandboxes",
        Some(json!({"subscriptionId": SUB, "providers": ["Microsoft.ContainerService"]})),
    )
    .await;
    let server = revisions_of(&sim, SUB).await;
    assert!(server.contains(&"asm-1-29".to_owned()), "{server:?}");
    let era = revisions_of(&sim, &ids[0]).await;
    assert!(
        era.contains(&"asm-1-17".to_owned()) && !era.contains(&"asm-1-29".to_owned()),
        "{era:?}"
    );
    let versions = sim
        .get(&format!(
            "/subscriptions/{}/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions?api-version=2026-06-01",
            ids[1]
        ))
        .await;
    assert!(
        versions.body.to_string().contains("\"1.22\""),
        "custom-test lists 1.22: {}",
        versions.body
    );

    // A snapshot carries the days and catalogues; importing it brings them back.
    let snapshot = control(&sim, Method::GET, "/_sim/snapshot", None).await;
    assert_eq!(snapshot.body["azureDates"][&ids[0]], "2023-12-01");
    assert!(snapshot.body["catalogs"].get(&ids[0]).is_none());
    assert_eq!(snapshot.body["catalogs"][&ids[1]]["name"], "custom-test");
    assert!(snapshot.body["catalogs"].get(SUB).is_none());
    control(&sim, Method::POST, "/_sim/reset", None).await;
    assert!(
        sim.state.core.sandboxes.all().is_empty(),
        "reset drops them"
    );
    let imported = control(
        &sim,
        Method::PUT,
        "/_sim/snapshot",
        Some(snapshot.body.clone()),
    )
    .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(revisions_of(&sim, &ids[0]).await, era);

    // Forgetting the subscription forgets its catalogue.
    let reset = control(&sim, Method::POST, &format!("/_sim/reset/{}", ids[0]), None).await;
    assert_eq!(reset.body["hadState"], true);
    assert!(sim.state.core.sandboxes.get(&ids[0]).is_none());

    let mut orphan = snapshot.body.clone();
    orphan["catalogs"]["99999999-0000-0000-0000-000000000000"] =
        orphan["catalogs"][&ids[1]].clone();
    let r = control(&sim, Method::PUT, "/_sim/snapshot", Some(orphan)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let mut bad_day = snapshot.body.clone();
    bad_day["azureDates"][&ids[0]] = json!("1999-01-01");
    let r = control(&sim, Method::PUT, "/_sim/snapshot", Some(bad_day)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    for (field, bad) in [
        ("azureDate", json!("2019-01-01")),
        ("azureDate", json!("tomorrow")),
        ("meshCatalog", json!("1999")),
        ("meshCatalog", json!({"name": "x"})),
        ("meshCatalog", json!(5)),
    ] {
        let r = control(
            &sim,
            Method::POST,
            "/_sim/sandboxes",
            Some(json!({ field: bad })),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert!(r.body["error"]["message"].as_str().unwrap().contains(field));
    }
    for bad in [json!("1999"), json!({"name": "x"}), json!(5)] {
        let r = control(
            &sim,
            Method::POST,
            "/_sim/sandboxes",
            Some(json!({"meshCatalog": bad})),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert!(r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("meshCatalog"));
    }
}

/// Sends `body` as raw bytes (malformed JSON included) to a control endpoint.
async fn raw(sim: &Sim, method: Method, path: &str, body: &str) -> common::Reply {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "sim.test")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_owned()))
        .unwrap();
    let response = tower::ServiceExt::oneshot(aksim::app(sim.state.clone()), request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let raw = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(serde_json::Value::Null);
    common::Reply {
        status,
        headers,
        body,
        raw,
    }
}

/// Everything a control request could change, as JSON (the clock is frozen).
async fn observable(sim: &Sim) -> serde_json::Value {
    let mut snapshot = control(sim, Method::GET, "/_sim/snapshot", None).await.body;
    snapshot["aksimVersion"] = json!(null);
    // offsetSeconds is virtual minus real time: it drifts while the clock is frozen.
    let mut clock = control(sim, Method::GET, "/_sim/clock", None).await.body;
    clock["offsetSeconds"] = json!(null);
    json!({
        "snapshot": snapshot,
        "clock": clock,
        "durations": control(sim, Method::GET, "/_sim/operations/durations", None).await.body,
        "scripts": control(sim, Method::GET, "/_sim/operations/scripts", None).await.body,
        "faults": control(sim, Method::GET, "/_sim/faults", None).await.body,
        "registration": control(sim, Method::GET, "/_sim/registration", None).await.body,
        "journalCapacity": control(sim, Method::GET, "/_sim/info", None).await.body["journal"],
    })
}

#[tokio::test]
async fn every_bad_control_request_is_a_clear_400_that_changes_nothing() {
    let sim = Sim::new();
    control(&sim, Method::POST, "/_sim/clock/freeze", None).await;
    sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    let fault = control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"method": "DELETE", "path": "/nowhere", "action": {"type": "drop"}})),
    )
    .await;
    assert_eq!(fault.status, StatusCode::CREATED);
    let script = control(
        &sim,
        Method::PUT,
        "/_sim/operations/scripts",
        Some(json!({"clusterCreate": {"polls": 2}})),
    )
    .await;
    assert_eq!(script.status, StatusCode::OK);
    let snap = control(&sim, Method::GET, "/_sim/snapshot", None).await;
    let snap_text = String::from_utf8(snap.raw.clone()).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = snap.body.clone();
        f(&mut v);
        v.to_string()
    };
    let future = edit(&|v| v["version"] = json!(2));
    let version_zero = edit(&|v| v["version"] = json!(0));
    let unknown_top = edit(&|v| v["colour"] = json!("red"));
    let unknown_inner = edit(&|v| v["subscriptions"][0]["colour"] = json!("red"));
    let bad_clock = edit(&|v| v["clock"] = json!("yesterday"));
    let duplicate = edit(&|v| {
        let first = v["subscriptions"][0].clone();
        v["subscriptions"].as_array_mut().unwrap().push(first);
    });
    let truncated = snap_text[..snap_text.len() / 2].to_owned();
    let other_sub = format!("/_sim/snapshot/{}", "00000000-0000-0000-0000-0000000000ff");
    let before = observable(&sim).await;

    // (method, path, body, a fragment the message must contain)
    let cases: Vec<(Method, String, String, &str)> = vec![
        (Method::POST, "/_sim/faults".into(), "not json".into(), "invalid request body"),
        (Method::POST, "/_sim/faults".into(), "".into(), "missing field `action`"),
        (Method::POST, "/_sim/faults".into(), r#"{"action":{"type":"drop"},"colour":"red"}"#.into(), "unknown field `colour`"),
        (Method::POST, "/_sim/faults".into(), r#"{"action":{"type":"error","status":429,"colour":1}}"#.into(), "unknown field `colour`"),
        (Method::POST, "/_sim/faults".into(), r#"{"subscription":"sub1","action":{"type":"drop"}}"#.into(), "'sub1' is not a GUID"),
        (Method::POST, "/_sim/faults".into(), r#"{"every":0,"action":{"type":"drop"}}"#.into(), "every must be at least 1"),
        (Method::POST, "/_sim/faults".into(), r#"{"action":{"type":"latency","ms":999999999}}"#.into(), "exceeds the limit"),
        (Method::POST, "/_sim/faults".into(), r#"{"action":{"type":"operationFailure","code":" ","message":"m"}}"#.into(), "non-empty code"),
        (Method::POST, "/_sim/faults".into(), r#"{"action":{"type":"error","status":429,"retryAfter":-1}}"#.into(), "invalid value"),
        (Method::PUT, "/_sim/operations/scripts".into(), r#"{"clusterCreate":{"polls":1,"colour":1}}"#.into(), "unknown field `colour`"),
        (Method::PUT, "/_sim/operations/scripts".into(), r#"{"clusterCreate":{"polls":1,"result":"Failed","error":{"code":"","message":"m"}}}"#.into(), "error.code must not be empty"),
        (Method::PUT, "/_sim/operations/scripts".into(), r#"{"clusterCreate":{"polls":1,"result":"Failed","error":{"code":"X","message":"m","colour":1}}}"#.into(), "unknown field `colour`"),
        (Method::PUT, "/_sim/operations/durations".into(), r#"{"default":-5}"#.into(), "must be a number ≥ 0"),
        (Method::PUT, "/_sim/operations/durations".into(), r#"{"teleport":3}"#.into(), "unknown kind"),
        (Method::PUT, "/_sim/operations/durations".into(), r#"{"default":"slow"}"#.into(), "must be a number of seconds"),
        (Method::PUT, "/_sim/operations/durations".into(), "[]".into(), "must be a JSON object"),
        (Method::PUT, "/_sim/registration".into(), r#"{"delaySeconds":-1}"#.into(), "delaySeconds must be from 0"),
        (Method::PUT, "/_sim/registration".into(), r#"{"delay":1}"#.into(), "unknown field `delay`"),
        (Method::PUT, "/_sim/journal/config".into(), r#"{"capacity":"x"}"#.into(), "invalid type"),
        (Method::PUT, "/_sim/journal/config".into(), r#"{"size":3}"#.into(), "unknown field `size`"),
        (Method::POST, "/_sim/journal/verify".into(), r#"{"method":"GET","count":1,"colour":1}"#.into(), "unknown field 'colour'"),
        (Method::POST, "/_sim/clock/scale".into(), r#"{"factor":-1}"#.into(), "factor must be > 0"),
        (Method::POST, "/_sim/clock/advance".into(), r#"{"seconds":1,"colour":1}"#.into(), "unknown field `colour`"),
        (Method::POST, "/_sim/seed".into(), r#"{"seed":"x"}"#.into(), "invalid type"),
        (Method::POST, "/_sim/sandboxes".into(), r#"{"features":["Microsoft.ContainerService/NoSuchPreview"]}"#.into(), "is not in the catalogue"),
        (Method::POST, "/_sim/sandboxes".into(), r#"{"providers":["Microsoft.Nope"]}"#.into(), "'Microsoft.Nope' is unknown"),
        (Method::POST, "/_sim/sandboxes".into(), r#"{"resourceGroups":{"rg":"nowhere"}}"#.into(), "location 'nowhere' is unknown"),
        (Method::POST, "/_sim/sandboxes".into(), r#"{"subscriptionId":"nope"}"#.into(), "'nope' is not a GUID"),
        (Method::POST, "/_sim/sandboxes".into(), format!(r#"{{"subscriptionId":"{SUB}"}}"#), "already holds state"),
        (Method::POST, "/_sim/sandboxes".into(), r#"{"colour":"red"}"#.into(), "unknown field `colour`"),
        (Method::PUT, "/_sim/snapshot".into(), future, "newer than this aksim understands"),
        (Method::PUT, "/_sim/snapshot".into(), version_zero, "version 0 is not valid"),
        (Method::PUT, "/_sim/snapshot".into(), unknown_top, "unknown field `colour`"),
        (Method::PUT, "/_sim/snapshot".into(), unknown_inner, "unknown field `colour`"),
        (Method::PUT, "/_sim/snapshot".into(), bad_clock, "is not an RFC 3339 time"),
        (Method::PUT, "/_sim/snapshot".into(), duplicate, "appears twice"),
        (Method::PUT, "/_sim/snapshot".into(), truncated.clone(), "not valid JSON"),
        (Method::PUT, "/_sim/snapshot".into(), "".into(), "not valid JSON"),
        (Method::PUT, format!("/_sim/snapshot/{SUB}"), truncated, "not valid JSON"),
        (Method::PUT, other_sub, snap_text.clone(), "holds no subscription"),
        (Method::POST, "/_sim/reset/not-a-guid".into(), "".into(), "'not-a-guid' is malformed"),
        (Method::GET, "/_sim/journal?status=abc".into(), "".into(), ""),
        (Method::GET, "/_sim/journal?limit=-1".into(), "".into(), ""),
    ];
    for (method, path, body, fragment) in &cases {
        let r = raw(&sim, method.clone(), path, body).await;
        let message = r.body["error"]["message"].as_str().unwrap_or("");
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body}: {}",
            r.body
        );
        // A subscription id in a control path is checked like ARM checks it.
        let code = if path.starts_with("/_sim/reset/") {
            "InvalidSubscriptionId"
        } else {
            "InvalidControlRequest"
        };
        assert_eq!(r.code(), code, "{method} {path} {body}");
        assert!(
            message.contains(fragment),
            "{method} {path} {body}: {message}"
        );
    }
    let after = observable(&sim).await;
    for key in before.as_object().unwrap().keys() {
        assert_eq!(
            after[key], before[key],
            "refused requests change nothing: {key}"
        );
    }
}

/// `PUT /_sim/azure-date/{sub}` moves one subscription to another day and back; what it holds
/// stays (a cluster on a revision deprecated on the new day keeps it); bad days and bodies are
/// refused and change nothing.
#[tokio::test]
async fn a_subscription_moves_to_another_day() {
    let sim = Sim::new();
    let path = format!("/_sim/azure-date/{SUB}");
    let shown = control(&sim, Method::GET, &path, None).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.body["own"], false);
    let today = shown.body["azureDate"].clone();
    let moved = control(
        &sim,
        Method::PUT,
        &path,
        Some(json!({"azureDate": "2026-05-01"})),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.body["azureDate"], "2026-05-01");
    assert_eq!(moved.body["own"], true);
    // On 2026-05-01 asm-1-27 can still be installed.
    common::aks::prepare(&sim, "rg1").await;
    let body = common::aks::az_create_body(
        "c1",
        "rg1",
        Some(json!({"mode": "Istio", "istio": {"revisions": ["asm-1-27"]}})),
    );
    common::aks::put_and_wait(&sim, "rg1", "c1", body)
        .await
        .unwrap();
    // Back to today: the cluster keeps it, a new install of it is refused.
    let back = control(&sim, Method::PUT, &path, Some(json!({"azureDate": null}))).await;
    assert_eq!(back.body["azureDate"], today);
    assert_eq!(back.body["own"], false);
    let got = sim.get(&common::aks::cluster_url("rg1", "c1")).await;
    assert_eq!(
        got.body["properties"]["serviceMeshProfile"]["istio"]["revisions"],
        json!(["asm-1-27"])
    );
    let body = common::aks::az_create_body(
        "c2",
        "rg1",
        Some(json!({"mode": "Istio", "istio": {"revisions": ["asm-1-27"]}})),
    );
    assert!(common::aks::put_and_wait(&sim, "rg1", "c2", body)
        .await
        .is_err());
    for bad in [
        json!({"azureDate": "2001-01-01"}),
        json!({"azureDate": 5}),
        json!({"day": "2024-01-01"}),
    ] {
        let r = control(&sim, Method::PUT, &path, Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
    }
    let r = control(
        &sim,
        Method::PUT,
        "/_sim/azure-date/not-a-guid",
        Some(json!({"azureDate": null})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        control(&sim, Method::GET, &path, None).await.body["own"],
        false
    );

    // A sandbox's own catalogue stays when its day changes.
    let catalog = serde_json::to_value(&*sim.state.core.behaviour.aks).unwrap();
    let created = control(
        &sim,
        Method::POST,
        "/_sim/sandboxes",
        Some(json!({"meshCatalog": catalog})),
    )
    .await;
    let id = created.body["subscriptionId"].as_str().unwrap().to_owned();
    let moved = control(
        &sim,
        Method::PUT,
        &format!("/_sim/azure-date/{id}"),
        Some(json!({"azureDate": "2024-09-01"})),
    )
    .await;
    assert_eq!(moved.body["azureDate"], "2024-09-01");
    assert_eq!(moved.body["meshCatalog"], "inline");
}
