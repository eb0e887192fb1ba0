//! `aksim ctl` against a live server: each subcommand reaches its `/_sim` endpoint, and a
//! refusal is an error with the server's message.

use aksim::ctl::CtlArgs;
use clap::Parser;

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    args: CtlArgs,
}

async fn ctl(url: &str, words: &[&str]) -> Result<String, String> {
    let mut argv = vec!["ctl", "--url", url];
    argv.extend_from_slice(words);
    let parsed = Wrapper::try_parse_from(argv).map_err(|e| e.to_string())?;
    aksim::ctl::run(parsed.args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_drives_the_control_api() {
    let state = aksim::AppState::for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(aksim::serve(
        listener,
        None,
        aksim::app(state.clone()),
        async {
            let _ = stopped.await;
        },
    ));

    assert!(ctl(&url, &["health"])
        .await
        .unwrap()
        .contains("\"status\": \"ok\""));
    ctl(&url, &["clock", "freeze"]).await.unwrap();
    let before = state.core.clock.now();
    ctl(&url, &["clock", "advance", "90"]).await.unwrap();
    assert_eq!((state.core.clock.now() - before).whole_seconds(), 90);
    ctl(&url, &["durations", "clusterCreate=7"]).await.unwrap();
    assert_eq!(
        state.core.durations.read().as_json(&aksim::core::OP_KINDS)["clusterCreate"],
        7.0
    );
    let added = ctl(
        &url,
        &["faults", "add", r#"{"id":"f1","action":{"type":"drop"}}"#],
    )
    .await
    .unwrap();
    assert!(added.contains("\"f1\""));
    assert!(ctl(&url, &["faults", "list"]).await.unwrap().contains("f1"));
    ctl(&url, &["faults", "remove", "f1"]).await.unwrap();
    let refused = ctl(&url, &["faults", "add", r#"{"action":{"type":"nope"}}"#])
        .await
        .unwrap_err();
    assert!(
        refused.contains("400") && refused.contains("InvalidControlRequest"),
        "{refused}"
    );
    let sandbox = ctl(&url, &["sandbox", r#"{"resourceGroups":{"rg1":"eastus"}}"#])
        .await
        .unwrap();
    assert!(sandbox.contains("subscriptionId"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snap.json");
    ctl(&url, &["snapshot", "export", file.to_str().unwrap()])
        .await
        .unwrap();
    ctl(&url, &["reset"]).await.unwrap();
    assert!(state.core.store.touched_ids().is_empty());
    ctl(&url, &["snapshot", "import", file.to_str().unwrap()])
        .await
        .unwrap();
    assert_eq!(state.core.store.touched_ids().len(), 1);
    let verify = ctl(
        &url,
        &["journal", "verify", r#"{"method":"GET","atLeast":1000}"#],
    )
    .await
    .unwrap_err();
    assert!(verify.contains("417"), "{verify}");
    assert!(ctl(&url, &["journal", "show", "limit=5"]).await.is_ok());
    assert!(ctl(&url, &["journal", "show", "nonsense"]).await.is_err());

    let _ = stop.send(());
    server.await.unwrap();
}

/// aksim over HTTPS (or plain HTTP) on a free port, in-process; the TLS directory with its CA.
struct Served {
    url: String,
    tls_dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve(https: bool) -> Served {
    let tls_dir = tempfile::tempdir().unwrap();
    let config = aksim::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls_dir: Some(tls_dir.path().to_path_buf()),
        http: !https,
        ..aksim::Config::default()
    };
    let prepared = aksim::prepare(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aksim::serve(
        listener,
        prepared.tls.map(|t| t.server_config),
        aksim::app(prepared.state),
        async {
            let _ = stopped.await;
        },
    ));
    let scheme = if https { "https" } else { "http" };
    Served {
        url: format!("{scheme}://127.0.0.1:{port}"),
        tls_dir,
        _stop: stop,
    }
}

/// `ctl` with `--tls-dir DIR` (as AKSIM_TLS_DIR gives it) and no `--ca`.
async fn ctl_in(url: &str, tls_dir: &std::path::Path, words: &[&str]) -> Result<String, String> {
    let mut argv = vec!["ctl", "--url", url, "--tls-dir", tls_dir.to_str().unwrap()];
    argv.extend_from_slice(words);
    let parsed = Wrapper::try_parse_from(argv).map_err(|e| e.to_string())?;
    aksim::ctl::run(parsed.args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_finds_the_ca_in_the_tls_dir_and_says_what_is_wrong() {
    let https = serve(true).await;
    let port = https.url.rsplit(':').next().unwrap().to_owned();
    // The CA is found through the TLS directory (AKSIM_TLS_DIR).
    let ok = ctl_in(&https.url, https.tls_dir.path(), &["health"]).await;
    assert!(ok.as_ref().is_ok_and(|t| t.contains("\"ok\"")), "{ok:?}");

    // Another TLS directory: the certificate is not trusted — say so, and where the CA is.
    let elsewhere = tempfile::tempdir().unwrap();
    let err = ctl_in(&https.url, elsewhere.path(), &["health"])
        .await
        .unwrap_err();
    assert!(err.contains("not trusted"), "{err}");
    assert!(
        err.contains("--ca") && err.contains("AKSIM_TLS_DIR"),
        "{err}"
    );
    assert!(
        err.contains(&elsewhere.path().join("ca.pem").display().to_string()),
        "it names where it looked: {err}"
    );

    // http:// to the HTTPS port.
    let err = ctl_in(
        &format!("http://127.0.0.1:{port}"),
        https.tls_dir.path(),
        &["health"],
    )
    .await
    .unwrap_err();
    assert!(
        err.contains(&format!("use --url https://127.0.0.1:{port}")),
        "{err}"
    );

    // https:// to a plain-HTTP aksim.
    let plain = serve(false).await;
    let plain_port = plain.url.rsplit(':').next().unwrap().to_owned();
    let err = ctl_in(
        &format!("https://127.0.0.1:{plain_port}"),
        https.tls_dir.path(),
        &["health"],
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("plain HTTP")
            && err.contains(&format!("use --url http://127.0.0.1:{plain_port}")),
        "{err}"
    );

    // Nothing listens.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = ctl_in(
        &format!("https://127.0.0.1:{closed}"),
        https.tls_dir.path(),
        &["health"],
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("connection refused") && err.contains("is aksim running"),
        "{err}"
    );

    // A refusal: the status, the ARM code and message.
    let err = ctl_in(
        &https.url,
        https.tls_dir.path(),
        &["faults", "remove", "nope"],
    )
    .await
    .unwrap_err();
    assert!(
        err.starts_with("HTTP 404")
            && err.contains("NotFound")
            && err.contains("no fault rule 'nope'"),
        "{err}"
    );
}

/// The real binary, as the container's HEALTHCHECK runs it: only AKSIM_URL and AKSIM_TLS_DIR
/// in the environment (HOME elsewhere), no `--ca`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reads_aksim_tls_dir() {
    let https = serve(true).await;
    let home = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_aksim"))
        .args(["ctl", "health"])
        .env_clear()
        .env("HOME", home.path())
        .env("AKSIM_URL", &https.url)
        .env("AKSIM_TLS_DIR", https.tls_dir.path())
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
