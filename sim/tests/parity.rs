//! `aksim parity` (issue 17): the shared cassettes never fall below the committed baseline and
//! docs/parity.md states the baseline's figure; accepted differences name documented
//! deviations; a live aksim as `--target` replays like the in-process one and is left as it
//! was; the recording proxy's cassettes replay fully equal and convert to green scenarios;
//! malformed cassettes are refused with their file and line.

use std::path::PathBuf;
use std::sync::Arc;

use aksim::parity::{self, Baseline, Ignore, Options, Report};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cassettes() -> PathBuf {
    root().join("parity/cassettes")
}

fn accepted() -> Arc<Ignore> {
    let doc = std::fs::read_to_string(root().join("docs/deviations.md")).unwrap();
    Arc::new(Ignore::load(&root().join("parity/accepted.yaml"), Some(&doc)).unwrap())
}

async fn shared_report() -> Report {
    let mut options = Options::in_process(vec![cassettes()]);
    options.ignore = Some(accepted());
    parity::run(&options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_cassettes_do_not_fall_below_the_baseline() {
    let report = shared_report().await;
    assert!(report.invalid.is_empty(), "{:?}", report.invalid);
    assert_eq!(
        report.cassettes.len(),
        23,
        "the in-repo copy of shared/recordings"
    );
    let baseline = Baseline::load(&root().join("parity/baseline.json")).unwrap();
    let regressions = report.regressions(&baseline);
    assert!(
        regressions.is_empty(),
        "parity went down (a cassette that was equal no longer is):\n{}\n\n{}",
        regressions.join("\n"),
        report.render(false)
    );
    for c in &report.cassettes {
        assert!(c.error.is_none(), "{}: {:?}", c.name, c.error);
        let b = &baseline.cassettes[&c.name];
        assert_eq!(
            c.counted(),
            b.exchanges,
            "{}: the exchanges counted changed; refresh the baseline (docs/parity.md)",
            c.name
        );
    }
    // docs/parity.md states the baseline's figure.
    let equal: usize = baseline.cassettes.values().map(|c| c.equal).sum();
    let total: usize = baseline.cassettes.values().map(|c| c.exchanges).sum();
    let doc = std::fs::read_to_string(root().join("docs/parity.md")).unwrap();
    let figure = format!("**{equal} of {total} exchanges equal**");
    assert!(
        doc.contains(&figure),
        "docs/parity.md must state the baseline's figure: {figure}"
    );
}

#[test]
fn accepted_differences_name_documented_deviations() {
    let ignore = accepted();
    assert!(!ignore.accepted.is_empty());
    let doc = std::fs::read_to_string(root().join("docs/deviations.md")).unwrap();
    let text = "accepted:\n  - id: x\n    deviation: \"Nothing like this is documented\"\n    why: y\n    match: {path: status}\n";
    let e = Ignore::parse(text, Some(&doc)).unwrap_err();
    assert!(e.contains("not in docs/deviations.md"), "{e}");
}

/// A served aksim (plain HTTP) and the handle to stop it.
struct Served {
    base: String,
    state: aksim::AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn serve(config: aksim::Config) -> Served {
    let state =
        aksim::AppState::new(config, aksim::identity::TokenIssuer::ephemeral(), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(aksim::serve(
        listener,
        None,
        aksim::app(state.clone()),
        async {
            let _ = stopped.await;
        },
    ));
    Served {
        base,
        state,
        stop,
        task,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_aksim_target_replays_like_in_process_and_is_left_as_it_was() {
    let served = serve(aksim::Config::for_tests()).await;
    let before_durations = served
        .state
        .core
        .durations
        .read()
        .as_json(&aksim::core::OP_KINDS);
    let picked: Vec<PathBuf> = [
        "test_aks_create_again_should_fail.yaml",
        "test_aks_azure_service_mesh_get_upgrades.yaml",
        "test_aks_create_loadbalancer_then_update.yaml",
    ]
    .iter()
    .map(|n| cassettes().join("azure-cli-aks").join(n))
    .collect();
    let local = parity::run(&Options::in_process(picked.clone()))
        .await
        .unwrap();
    let mut remote = Options::in_process(picked);
    remote.target = parity::target::remote(&served.base, None, None).unwrap();
    let report = parity::run(&remote).await.unwrap();
    for (l, r) in local.cassettes.iter().zip(&report.cassettes) {
        assert_eq!(l.name, r.name);
        assert!(r.error.is_none(), "{}: {:?}", r.name, r.error);
        assert_eq!(
            (l.counted(), l.equal(), l.identical()),
            (r.counted(), r.equal(), r.identical()),
            "{}:\nin-process:\n{}\nremote:\n{}",
            l.name,
            local.render(true),
            report.render(true)
        );
    }
    // The recorded 504 and its retry (test_aks_create_loadbalancer_then_update #17, #18).
    let lb = &report.cassettes[2];
    assert_eq!(
        lb.exchanges[17].replayed,
        parity::replay::Replayed::InjectedFault
    );
    assert!(
        lb.exchanges[17].differences.is_empty(),
        "{:?}",
        lb.exchanges[17]
    );
    // Left as it was: durations, clock running, no fault rule, no sandbox subscription.
    assert_eq!(
        served
            .state
            .core
            .durations
            .read()
            .as_json(&aksim::core::OP_KINDS),
        before_durations
    );
    assert!(!served.state.core.clock.is_frozen());
    assert!(served.state.faults.list().is_empty());
    assert!(
        served.state.core.store.touched_ids().is_empty(),
        "{:?}",
        served.state.core.store.touched_ids()
    );
    let _ = served.stop.send(());
    served.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_recorded_through_the_proxy_replays_equal_and_runs_as_a_scenario() {
    // The upstream: a frozen clock and a create that takes 30 virtual seconds, so the
    // recording holds in-progress polls.
    let mut config = aksim::Config::for_tests();
    config.auto_register_providers = true;
    config.clock_frozen = true;
    config.op_durations = vec!["default=0".into(), "clusterCreate=30".into()];
    let upstream = serve(config).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("session.yaml");
    let recorder = parity::record::Recorder::new(parity::record::RecordOptions {
        upstream: upstream.base.clone(),
        upstream_ca: Vec::new(),
        out: out.clone(),
        sanitise: Some(parity::Rules::embedded().sanitise),
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(parity::record::serve(
        listener,
        None,
        recorder.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let sub = "6f1c0b9e-4b7c-4c4e-9a57-1e4f3c2b1a00";
    let cluster = format!("{proxy}/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1?api-version=2026-06-01");
    let send = |method: reqwest::Method, url: String, body: Option<Value>| {
        let mut r = client.request(method, url).bearer_auth("secret-token");
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            (status, headers, r.text().await.unwrap())
        }
    };
    let (status, ..) = send(
        reqwest::Method::PUT,
        format!("{proxy}/subscriptions/{sub}/resourcegroups/rg1?api-version=2024-11-01"),
        Some(serde_json::json!({"location": "eastus"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, ..) = send(reqwest::Method::GET, cluster.clone(), None).await;
    assert_eq!(status, 404);
    let body = serde_json::json!({"location": "eastus", "properties": {"dnsPrefix": "c1",
        "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "mode": "System"}],
        "servicePrincipalProfile": {"clientId": "x", "secret": "hunter2"},
        "serviceMeshProfile": {"mode": "Istio", "istio": {}}}});
    let (status, headers, text) = send(reqwest::Method::PUT, cluster.clone(), Some(body)).await;
    assert_eq!(status, 201, "{text}");
    let op = headers["azure-asyncoperation"].to_str().unwrap().to_owned();
    assert!(
        op.starts_with(&proxy),
        "operation URLs lead back through the proxy: {op}"
    );
    for _ in 0..2 {
        let (_, _, text) = send(reqwest::Method::GET, op.clone(), None).await;
        assert!(text.contains("InProgress"), "{text}");
        upstream
            .state
            .core
            .clock
            .advance(time::Duration::seconds(20));
    }
    let (_, _, text) = send(reqwest::Method::GET, op.clone(), None).await;
    assert!(text.contains("Succeeded"), "{text}");
    let (status, ..) = send(reqwest::Method::GET, cluster.clone(), None).await;
    assert_eq!(status, 200);
    let (status, ..) = send(reqwest::Method::DELETE, cluster.clone(), None).await;
    assert_eq!(status, 202);
    let _ = stop.send(());
    task.await.unwrap();
    assert_eq!(recorder.count(), 8);

    let text = std::fs::read_to_string(&out).unwrap();
    for secret in [sub, "hunter2", "secret-token", "127.0.0.1"] {
        assert!(
            !text.contains(secret),
            "the cassette holds '{secret}':\n{text}"
        );
    }
    let report = parity::run(&Options::in_process(vec![out.clone()]))
        .await
        .unwrap();
    let t = report.totals();
    assert_eq!(
        (t.exchanges, t.identical),
        (8, 8),
        "{}",
        report.render(true)
    );
    assert!(report.ok());

    let cassette = parity::cassette::load(&out).unwrap();
    let scenario =
        parity::to_scenario::from_cassette(&cassette, &parity::Rules::embedded()).unwrap();
    let yaml = yaml_serde::to_string(&scenario).unwrap();
    let path = dir.path().join("session.scenario.yaml");
    std::fs::write(&path, &yaml).unwrap();
    let loaded = aksim::scenario::load(&path).unwrap();
    let outcome =
        aksim::scenario::exec::run_one(&loaded, &aksim::scenario::in_process_target()).await;
    assert!(outcome.passed(), "{:?}\n{yaml}", outcome.verdict);
    let _ = upstream.stop.send(());
    upstream.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_cassettes_are_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(
        cassettes().join("azure-cli-aks/test_aks_azure_service_mesh_get_revisions.yaml"),
    )
    .unwrap();
    let cases = [
        (
            "not-yaml.yaml",
            "interactions: [\n  {request: \n".to_owned(),
            ":3:",
        ),
        (
            "wrong-status.yaml",
            good.replace("code: 200", "code: 20000"),
            ":59:",
        ),
        (
            "no-uri.yaml",
            good.replace("    uri: https", "    url: https"),
            ":3:",
        ),
        ("tabs.yaml", "interactions:\n\t- x\n".to_owned(), ":2:"),
        (
            "version.yaml",
            good.replace("version: 1", "version: 7"),
            "version 7",
        ),
        (
            "binary.yaml",
            "interactions: []\nversion: 1\n\u{0}\u{1}".to_owned(),
            ".yaml",
        ),
    ];
    let mut paths = Vec::new();
    for (name, text, _) in &cases {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        paths.push(p);
    }
    std::fs::write(
        dir.path().join("invalid-utf8.yml"),
        b"interactions:\n- \xff\xfe\n",
    )
    .unwrap();
    let report = parity::run(&Options::in_process(vec![dir.path().to_path_buf()]))
        .await
        .unwrap();
    assert!(report.cassettes.is_empty(), "{}", report.render(false));
    assert_eq!(
        report.invalid.len(),
        cases.len() + 1,
        "{:?}",
        report.invalid
    );
    for (name, _, place) in &cases {
        let line = report
            .invalid
            .iter()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} missing: {:?}", report.invalid));
        assert!(line.contains(place), "{name}: {line}");
    }
    assert!(report
        .invalid
        .iter()
        .any(|l| l.contains("invalid-utf8.yml:2: not UTF-8")));
    assert!(!report.ok());
    assert!(report.junit().contains("invalid cassette"));
}

#[test]
fn every_shared_cassette_converts_to_a_valid_scenario() {
    let files = parity::cassette::discover(&[cassettes()]).unwrap();
    assert_eq!(files.len(), 23);
    for file in files {
        let cassette = parity::cassette::load(&file).unwrap();
        let scenario = parity::to_scenario::from_cassette(&cassette, &parity::Rules::embedded())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let yaml = yaml_serde::to_string(&scenario).unwrap();
        aksim::scenario::parse(&yaml, false)
            .unwrap_or_else(|e| panic!("{}:{e}\n{yaml}", file.display()));
    }
}
