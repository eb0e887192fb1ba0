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
