//! ARM over real HTTPS with reqwest: every error case of the foundation, both id casings, `//`
//! collapsing, the resource-group delete LRO shape, and h2 / HTTP/1.1 negotiation.

use reqwest::{Method, StatusCode, Version};
use serde_json::json;

use crate::support::sim::{client_trusting, send, spawn_sim};
use crate::support::SUB;

fn rg(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourcegroups/{name}?api-version=2024-11-01")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_cases_in_the_arm_envelope() {
    let sim = spawn_sim(|_| {}).await;
    let groups = format!("/subscriptions/{SUB}/resourcegroups/rg1");

    // (request, status, code), data-driven.
    struct Case {
        what: &'static str,
        method: Method,
        path: String,
        auth: Option<&'static str>,
        body: Option<(&'static str, Vec<u8>)>,
        status: u16,
        code: &'static str,
    }
    let big = vec![b' '; 4 * 1024 * 1024 + 1];
    let cases = vec![
        Case {
            what: "no api-version",
            method: Method::GET,
            path: groups.clone(),
            auth: Some("Bearer t"),
            body: None,
            status: 400,
            code: "MissingApiVersionParameter",
        },
        Case {
            what: "unknown api-version on an ARM-native type",
            method: Method::GET,
            path: format!("{groups}?api-version=1999-01-01"),
            auth: Some("Bearer t"),
            body: None,
            status: 400,
            code: "InvalidApiVersionParameter",
        },
        Case {
            what: "no Authorization header",
            method: Method::GET,
            path: rg("rg1"),
            auth: None,
            body: None,
            status: 401,
            code: "AuthenticationFailed",
        },
        Case {
            what: "Authorization that is not a bearer token",
            method: Method::GET,
            path: rg("rg1"),
            auth: Some("Basic dXNlcjpwYXNz"),
            body: None,
            status: 401,
            code: "AuthenticationFailedInvalidHeader",
        },
        Case {
            what: "malformed JSON",
            method: Method::PUT,
            path: rg("rg1"),
            auth: Some("Bearer t"),
            body: Some(("application/json", b"{\"location\": ".to_vec())),
            status: 400,
            code: "InvalidRequestContent",
        },
        Case {
            what: "body over 4 MiB",
            method: Method::PUT,
            path: rg("rg1"),
            auth: Some("Bearer t"),
            body: Some(("application/json", big)),
            status: 413,
            code: "RequestEntityTooLarge",
        },
        Case {
            what: "unknown route",
            method: Method::GET,
            path: "/no/such/thing?api-version=2024-11-01".to_owned(),
            auth: Some("Bearer t"),
            body: None,
            status: 404,
            code: "NotFound",
        },
        Case {
            what: "missing resource group",
            method: Method::GET,
            path: rg("missing"),
            auth: Some("Bearer t"),
            body: None,
            status: 404,
            code: "ResourceGroupNotFound",
        },
        Case {
            what: "malformed subscription id",
            method: Method::GET,
            path: "/subscriptions/not-a-guid/resourcegroups?api-version=2024-11-01".to_owned(),
            auth: Some("Bearer t"),
            body: None,
            status: 400,
            code: "InvalidSubscriptionId",
        },
    ];
    for case in cases {
        let mut request = sim.client.request(case.method, sim.url(&case.path));
        if let Some(auth) = case.auth {
            request = request.header("authorization", auth);
        }
        if let Some((content_type, body)) = case.body {
            request = request.header("content-type", content_type).body(body);
        }
        let reply = send(request).await;
        assert_eq!(
            reply.status.as_u16(),
            case.status,
            "{}: {reply:#?}",
            case.what
        );
        reply.assert_arm_error(case.status, case.code);
        if case.status == 401 {
            assert!(
                reply
                    .header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "{}: a 401 carries a Bearer challenge: {reply:#?}",
                case.what
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_body_is_refused_on_http1_too() {
    let sim = spawn_sim(|_| {}).await;
    let http1 = client_trusting(&sim.ca_pem, true);
    let reply = send(
        http1
            .put(sim.url(&rg("rg1")))
            .bearer_auth("t")
            .header("content-type", "application/json")
            .body(vec![b' '; 5 * 1024 * 1024]),
    )
    .await;
    assert_eq!(reply.version, Version::HTTP_11);
    reply.assert_arm_error(413, "RequestEntityTooLarge");
    // The server is still fine afterwards.
    assert_eq!(sim.get(&rg("rg1")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_id_casings_and_double_slashes() {
    let sim = spawn_sim(|_| {}).await;
    let created = sim.put(&rg("Rg1"), json!({"location": "eastus"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:#?}");
    let id = format!("/subscriptions/{SUB}/resourceGroups/Rg1");
    assert_eq!(created.body["id"], id.as_str());

    for path in [
        format!("/subscriptions/{SUB}/resourceGroups/rg1?api-version=2025-04-01"),
        format!("/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/RG1?api-version=2024-11-01"),
        format!("/subscriptions/{SUB}//resourcegroups//rg1?api-version=2024-11-01"),
        format!("//subscriptions/{SUB}/resourcegroups/rg1/?api-version=2024-11-01"),
        format!(
            "/subscriptions/{}/resourcegroups/rg1?API-VERSION=2024-11-01",
            SUB.to_uppercase()
        ),
    ] {
        let reply = sim.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply:#?}");
        assert_eq!(reply.body["id"], id.as_str(), "{path}");
        assert_eq!(reply.body["name"], "Rg1", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_group_delete_is_an_lro_with_absolute_urls() {
    let sim = spawn_sim(|c| c.op_durations = vec!["resourceGroupDelete=5".into()]).await;
    sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    let deleted = sim.delete(&rg("rg1")).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{deleted:#?}");
    assert!(deleted.text.is_empty());
    assert_eq!(deleted.header("retry-after"), Some("1"));
    let location = deleted.header("location").expect("Location").to_owned();
    let prefix = format!("{}/subscriptions/{SUB}/operationresults/", sim.base_url);
    assert!(
        location.starts_with(&prefix),
        "{location} starts with {prefix}"
    );
    assert!(location.contains("api-version=2024-11-01"), "{location}");

    let path = location.trim_start_matches(&sim.base_url);
    let running = sim.get(path).await;
    assert_eq!(running.status, StatusCode::ACCEPTED, "{running:#?}");
    assert_eq!(running.header("retry-after"), Some("1"));
    assert_eq!(running.header("location"), Some(location.as_str()));
    let shown = sim.get(&rg("rg1")).await;
    assert_eq!(shown.body["properties"]["provisioningState"], "Deleting");

    sim.advance(5.0);
    let done = sim.get(path).await;
    assert_eq!(done.status, StatusCode::OK, "{done:#?}");
    sim.get(&rg("rg1"))
        .await
        .assert_arm_error(404, "ResourceGroupNotFound");
    let head = sim.call(Method::HEAD, &rg("rg1"), None).await;
    assert_eq!(head.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_urls_follow_the_host_the_client_used() {
    let sim = spawn_sim(|_| {}).await;
    sim.put(&rg("rg1"), json!({"location": "eastus"})).await;
    // Same server, addressed as localhost (the certificate names it too).
    let port = sim.base_url.rsplit(':').next().expect("port");
    let url = format!("https://localhost:{port}{}", rg("rg1"));
    let reply = send(sim.client.delete(url).bearer_auth("t")).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{reply:#?}");
    let location = reply.header("location").expect("Location");
    assert!(
        location.starts_with(&format!("https://localhost:{port}/subscriptions/")),
        "{location}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alpn_negotiates_h2_and_http1_still_works() {
    let sim = spawn_sim(|_| {}).await;
    let h2 = sim.get("/subscriptions?api-version=2022-12-01").await;
    assert_eq!(h2.version, Version::HTTP_2);
    assert_eq!(h2.status, StatusCode::OK);
    assert_eq!(h2.body["value"][0]["subscriptionId"], SUB);

    let http1 = client_trusting(&sim.ca_pem, true);
    let reply = send(
        http1
            .get(sim.url("/subscriptions?api-version=2022-12-01"))
            .bearer_auth("t"),
    )
    .await;
    assert_eq!(reply.version, Version::HTTP_11);
    assert_eq!(reply.body, h2.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_certificate_is_issued_by_the_ca_only() {
    let sim = spawn_sim(|_| {}).await;
    // A client trusting a different CA refuses the handshake: aksim's CA really is the anchor.
    let other = spawn_sim(|_| {}).await;
    let stranger = client_trusting(&other.ca_pem, false);
    let err = stranger
        .get(sim.url("/_sim/health"))
        .send()
        .await
        .expect_err("a foreign CA must not validate aksim's certificate");
    assert!(err.is_connect(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_serves_its_ca_and_stops_cleanly() {
    let sim = spawn_sim(|_| {}).await;
    assert_eq!(sim.ca_path, sim.tls_dir().join("ca.pem"));
    let on_disk = std::fs::read_to_string(&sim.ca_path).expect("ca.pem exists");
    assert_eq!(on_disk, sim.ca_pem);
    let url = sim.url("/_sim/health");
    let client = sim.client.clone();
    assert_eq!(sim.get("/_sim/health").await.status, StatusCode::OK);
    sim.stop().await;
    let err = client
        .get(url)
        .send()
        .await
        .expect_err("nothing listens after stop");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}
