//! Issue 17: the recording proxy and the parity checker with the real az CLI 2.91. az talks to
//! `aksim record` (in-process, HTTPS from the upstream's CA), whose upstream is an aksim; the
//! cassette it writes must replay 100 % equal on a fresh in-process aksim (`aksim parity`'s
//! library function), carry no secret, and convert to a scenario that validates and runs green.

use std::sync::Arc;

use aksim::parity;
use tokio::sync::oneshot;

use crate::support::az::{Az, Login};
use crate::support::sim::{spawn_sim, SimHandle};

/// `aksim record` in-process in front of `sim`, with a certificate from the sim's CA.
struct Proxy {
    base_url: String,
    recorder: Arc<parity::record::Recorder>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn start(sim: &SimHandle, out: &std::path::Path) -> Proxy {
        let tls = aksim::tls::load_or_create(sim.tls_dir(), &[]).expect("TLS material");
        let recorder = parity::record::Recorder::new(parity::record::RecordOptions {
            upstream: sim.base_url.clone(),
            upstream_ca: sim.ca_pem.as_bytes().to_vec(),
            out: out.to_path_buf(),
            sanitise: Some(parity::Rules::embedded().sanitise),
        })
        .expect("the recorder starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(parity::record::serve(
            listener,
            Some(tls.server_config),
            recorder.clone(),
            async {
                let _ = rx.await;
            },
        ));
        Proxy {
            base_url: format!("https://127.0.0.1:{port}"),
            recorder,
            stop: Some(tx),
            task: Some(task),
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the proxy ends cleanly");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_recorded_through_the_proxy_replays_fully_equal() {
    // The delete takes two (real-time) virtual seconds, so az sees it in progress first.
    let sim = spawn_sim(|c| {
        c.auto_register_providers = true;
        c.op_durations = vec!["default=0".into(), "clusterDelete=2".into()];
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let cassette_path = dir.path().join("az-session.yaml");
    let proxy = Proxy::start(&sim, &cassette_path).await;

    let az = Az::logged_in_at(&sim, &proxy.base_url, Login::EnvOnly).await;
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let revisions = az
        .json(&["aks", "mesh", "get-revisions", "-l", "eastus"])
        .await;
    assert!(revisions["meshRevisions"].is_array(), "{revisions:#}");
    let created = az
        .json(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--enable-azure-service-mesh",
        ])
        .await;
    assert_eq!(created["provisioningState"], "Succeeded", "{created:#}");
    az.ok(&["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "c1"])
        .await;
    az.ok(&["aks", "show", "-g", "rg1", "-n", "c1"]).await;
    // Refusals are traffic too: a cluster that does not exist (the server's 404), enabling
    // the mesh twice (az's own check, after reading the cluster).
    let missing = az.run(&["aks", "show", "-g", "rg1", "-n", "nope"]).await;
    assert_eq!(missing.code, 3, "{missing}");
    let again = az
        .run(&["aks", "mesh", "enable", "-g", "rg1", "-n", "c1"])
        .await;
    assert_ne!(again.code, 0, "{again}");
    az.ok(&["aks", "mesh", "disable", "-g", "rg1", "-n", "c1", "--yes"])
        .await;
    az.ok(&["aks", "delete", "-g", "rg1", "-n", "c1", "--yes"])
        .await;
    let recorded = proxy.recorder.count();
    proxy.stop().await;

    // The cassette: ARM exchanges only, nothing secret, the recorded origin and subscription.
    let text = std::fs::read_to_string(&cassette_path).expect("the cassette was written");
    assert!(
        recorded >= 10,
        "only {recorded} exchanges recorded:\n{text}"
    );
    let lower = text.to_ascii_lowercase();
    for secret in [
        "\n      authorization:",
        "bearer ",
        "eyj",
        "any-secret",
        "127.0.0.1",
    ] {
        assert!(
            !lower.contains(secret),
            "the cassette holds '{secret}':\n{text}"
        );
    }
    assert!(!text.contains(crate::support::SUB), "{text}");
    let cassette = parity::cassette::load(&cassette_path).expect("the cassette parses");
    assert_eq!(cassette.interactions.len(), recorded);
    assert!(cassette
        .interactions
        .iter()
        .all(|i| i.request.uri.starts_with("https://management.azure.com/")));
    let in_progress = cassette
        .interactions
        .iter()
        .filter(|i| i.response.body.string.contains("\"InProgress\""))
        .count();
    assert!(
        in_progress >= 1,
        "az never saw the delete in progress:\n{text}"
    );

    // Replayed on a fresh in-process aksim: every exchange equal.
    let report = parity::run(&parity::Options::in_process(vec![cassette_path.clone()]))
        .await
        .expect("the replay runs");
    let totals = report.totals();
    assert!(
        report.ok() && totals.equal == totals.exchanges && totals.exchanges == recorded,
        "{}",
        report.render(true)
    );
    assert_eq!(
        totals.identical,
        totals.exchanges,
        "{}",
        report.render(true)
    );

    // And as a scenario file: it validates and runs green in-process.
    let scenario = parity::to_scenario::from_cassette(&cassette, &parity::Rules::embedded())
        .expect("the cassette converts");
    let yaml = as_json(&scenario);
    let scenario_path = dir.path().join("az-session.scenario.json");
    std::fs::write(&scenario_path, yaml).expect("write the scenario");
    let loaded = aksim::scenario::load(&scenario_path).expect("the scenario validates");
    let outcome =
        aksim::scenario::exec::run_one(&loaded, &aksim::scenario::in_process_target()).await;
    assert!(outcome.passed(), "{:?}", outcome.verdict);
    assert_eq!(outcome.steps_run, loaded.scenario.steps.len());
}

/// The scenario as JSON text (the client-test crate does not depend on a YAML library; the
/// runner reads `*.scenario.json` the same way).
fn as_json(s: &aksim::scenario::Scenario) -> String {
    serde_json::to_string_pretty(s).expect("a scenario serialises")
}
