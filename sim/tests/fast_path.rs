//! The cluster-GET fast path (`sim/src/http/fast.rs`) answers exactly as the full path does.
//!
//! Every request below goes to two identical simulators: one as clients reach it (where the
//! fast path answers what it can), and one with an inert fault rule installed, which sends
//! every request through the full edge and provider router. The two answers must agree on
//! status, body and every header but the per-request ids and `Date`, and so must the journal
//! entries they leave. The requests cover what the fast path takes (plain cluster GETs in any
//! casing) and everything it must hand back: other spellings, queries, methods, tokens and
//! bodies, and states where the full path refuses, registers or renders.

mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{json, Value};
use tower::ServiceExt;

use common::{aks, Sim, SUB};

/// The state the cluster is in when the GET arrives.
#[derive(Debug, Clone, Copy)]
enum World {
    /// `c1` in `rg1`, created and settled, with the mesh.
    Ready,
    /// `c1` with an update still running (operations take 30 virtual seconds).
    Updating,
    /// `c1` deleted (the delete has finished).
    Deleted,
    /// Nothing created, and providers are not auto-registered.
    Empty,
    /// `c1` with an agent pool being added (operations take 30 virtual seconds).
    PoolCreating,
    /// `c1` stopped (`POST .../stop`, finished).
    Stopped,
}

const WORLDS: [World; 6] = [
    World::Ready,
    World::Updating,
    World::Deleted,
    World::Empty,
    World::PoolCreating,
    World::Stopped,
];

async fn build(world: World, forced_full_path: bool) -> Sim {
    let mut config = aksim::Config::for_tests();
    config.auto_register_providers = !matches!(world, World::Empty);
    if matches!(world, World::Updating | World::PoolCreating) {
        config.op_durations = vec!["default=30".to_owned()];
    }
    let sim = Sim::with_config(config);
    if !matches!(world, World::Empty) {
        aks::prepare(&sim, "rg1").await;
        aks::create(
            &sim,
            "rg1",
            "c1",
            Some(json!({"mode": "Istio", "istio": {}})),
        )
        .await;
    }
    match world {
        World::Updating => {
            let mut body = sim.get(&aks::cluster_url("rg1", "c1")).await.body;
            body["tags"] = json!({"env": "test"});
            let r = sim.put(&aks::cluster_url("rg1", "c1"), body).await;
            assert_eq!(r.status.as_u16(), 200, "{:?}", r.body);
        }
        World::Deleted => {
            let r = sim.delete(&aks::cluster_url("rg1", "c1")).await;
            assert_eq!(r.status.as_u16(), 202, "{:?}", r.body);
            aks::poll(&sim, &r).await;
        }
        World::PoolCreating => {
            let uri = format!(
                "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/user1?api-version={}",
                aks::API
            );
            let r = sim.put(&uri, json!({"properties": {"mode": "User"}})).await;
            assert_eq!(r.status.as_u16(), 201, "{:?}", r.body);
        }
        World::Stopped => {
            let uri = format!(
                "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/stop?api-version={}",
                aks::API
            );
            let r = sim.post(&uri).await;
            assert_eq!(r.status.as_u16(), 202, "{:?}", r.body);
            aks::poll(&sim, &r).await;
        }
        World::Ready | World::Empty => {}
    }
    if forced_full_path {
        // A rule that never matches: with any rule installed, every request takes the edge.
        let rule = json!({"method": "PATCH", "path": "/never/*", "action": {"type": "drop"}});
        let r = sim.call(Method::POST, "/_sim/faults", Some(rule)).await;
        assert!(r.status.is_success(), "{:?}", r.body);
    }
    sim
}

/// One request: method, path and query, extra headers, body.
struct Case {
    method: Method,
    uri: String,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    const V: &str = aks::API;
    let plain = |uri: String| Case {
        method: Method::GET,
        uri,
        headers: vec![("authorization", "Bearer test")],
        body: None,
    };
    let path = aks::cluster_path("rg1", "c1");
    let mut cases = vec![
        plain(format!("{path}?api-version={V}")),
        plain(format!("{}?api-version={V}", path.to_ascii_lowercase())),
        plain(format!(
            "{}?api-version={V}",
            path.to_ascii_uppercase()
                .replace(&SUB.to_ascii_uppercase(), SUB)
        )),
        plain(format!(
            "{}?API-VERSION={V}",
            path.replace("/c1", "/C1").replace("/rg1/", "/RG1/")
        )),
        plain(format!(
            "{}?api-version={V}",
            path.replace(SUB, &SUB.to_ascii_uppercase())
        )),
        plain(format!(
            "{}?api-version={V}",
            path.replace("/rg1/", "//rg1/")
        )),
        plain(format!("{path}/?api-version={V}")),
        plain(format!("{}?api-version={V}", path.replace("/c1", "/c%31"))),
        plain(format!("{}?api-version={V}", path.replace("/c1", "/c2"))),
        plain(format!(
            "{}?api-version={V}",
            path.replace("/rg1/", "/rg2/")
        )),
        plain(format!(
            "{}?api-version={V}",
            path.replace(SUB, "00000000-0000-0000-0000-00000000ffff")
        )),
        plain(format!(
            "{}?api-version={V}",
            path.replace(SUB, "not-a-guid")
        )),
        plain(format!("{path}?api-version=2001-01-01")),
        plain(format!("{path}?api-version=")),
        plain(path.clone()),
        plain(format!("{path}?api-version={V}&$expand=x")),
        plain(format!("{path}?api-version={V}&api-version=2001-01-01")),
        plain(format!("{path}?api-version={}", V.replace('-', "%2D"))),
        plain(format!("{path}/meshUpgradeProfiles?api-version={V}")),
    ];
    let uri = format!("{path}?api-version={V}");
    for headers in [
        vec![],
        vec![("authorization", "Basic dGVzdA==")],
        vec![("authorization", "Bearer ")],
        vec![
            ("authorization", "Bearer test"),
            ("x-ms-client-request-id", "client-1"),
            ("x-ms-correlation-request-id", "corr-1"),
            ("user-agent", "fast-path-test"),
        ],
    ] {
        cases.push(Case {
            method: Method::GET,
            uri: uri.clone(),
            headers,
            body: None,
        });
    }
    for method in [Method::HEAD, Method::POST, Method::OPTIONS] {
        cases.push(Case {
            method,
            uri: uri.clone(),
            headers: vec![("authorization", "Bearer test")],
            body: None,
        });
    }
    cases.push(Case {
        method: Method::GET,
        uri,
        headers: vec![
            ("authorization", "Bearer test"),
            ("content-type", "text/plain"),
        ],
        body: Some("not json"),
    });
    cases
}

/// Status, body, and the headers that do not change per request.
type Answer = (u16, Vec<u8>, Vec<(String, String)>);

async fn answer(sim: &Sim, case: &Case) -> Answer {
    let mut builder = Request::builder()
        .method(case.method.clone())
        .uri(&case.uri)
        .header("host", "sim.test");
    for (name, value) in &case.headers {
        builder = builder.header(*name, *value);
    }
    let body = case.body.map_or_else(Body::empty, Body::from);
    let response = aksim::app(sim.state.clone())
        .oneshot(builder.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let per_request = ["x-ms-request-id", "x-ms-routing-request-id", "date"];
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !per_request.contains(&name.as_str()))
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or("(binary)").to_owned();
            // A correlation id the server made up is the request id: per request too.
            let value = if name == "x-ms-correlation-request-id" && value != "corr-1" {
                "(generated)".to_owned()
            } else {
                value
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    headers.sort();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    (status, body, headers)
}

/// The last journal entry, without what differs per request.
async fn last_entry(sim: &Sim) -> Value {
    let r = sim.call(Method::GET, "/_sim/journal?limit=1", None).await;
    let mut entry = r.body["value"][0].clone();
    if let Some(fields) = entry.as_object_mut() {
        for field in ["seq", "time", "requestId", "durationMicros"] {
            fields.remove(field);
        }
        if fields.get("correlationId") != Some(&json!("corr-1")) {
            fields.remove("correlationId");
        }
    }
    entry
}

#[tokio::test]
async fn the_fast_path_answers_as_the_full_path_does() {
    let mut fast_answers = 0;
    for world in WORLDS {
        for case in cases() {
            let fast = build(world, false).await;
            let full = build(world, true).await;
            let got = answer(&fast, &case).await;
            let want = answer(&full, &case).await;
            let what = format!("{world:?} {} {} {:?}", case.method, case.uri, case.headers);
            assert_eq!(got.0, want.0, "status: {what}");
            assert_eq!(
                String::from_utf8_lossy(&got.1),
                String::from_utf8_lossy(&want.1),
                "body: {what}"
            );
            assert_eq!(got.2, want.2, "headers: {what}");
            assert_eq!(
                last_entry(&fast).await,
                last_entry(&full).await,
                "journal: {what}"
            );
            if got.0 == 200 && case.method == Method::GET {
                fast_answers += 1;
            }
        }
    }
    // The comparison is only worth something if the fast path answered some of these.
    assert!(
        fast_answers >= 8,
        "{fast_answers} cluster GETs answered 200"
    );
}

#[tokio::test]
async fn a_fast_answer_reads_back_the_latest_write() {
    let sim = build(World::Ready, false).await;
    let url = aks::cluster_url("rg1", "c1");
    let before = sim.get(&url).await;
    let mut body = before.body.clone();
    body["tags"] = json!({"round": "2"});
    aks::put_and_wait(&sim, "rg1", "c1", body).await.unwrap();
    let after = sim.get(&url).await;
    assert_eq!(after.body["tags"], json!({"round": "2"}));
    assert_ne!(after.body["eTag"], before.body["eTag"]);
}
