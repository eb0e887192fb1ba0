//! The `/_sim` control plane seen through real clients: az retries an injected 429 honouring
//! `Retry-After`; an injected operation failure reaches the Python SDK's poller and az as the
//! ARM error; the journal records the request ids az sends; a snapshot of the seed flow
//! restores into a fresh aksim and az reads the same cluster back.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::az::{Az, Login};
use crate::support::journal;
use crate::support::python::run_script;
use crate::support::sim::{send, spawn_sim, SimHandle};
use crate::support::SUB;

const CS: &str = "Microsoft.ContainerService";

/// `PUT /_sim{path}` with a JSON body; asserts 200 and returns the reply body.
async fn control_put(sim: &SimHandle, path: &str, body: &str) -> Value {
    let reply = send(
        sim.client
            .put(sim.url(path))
            .header("content-type", "application/json")
            .body(body.to_owned()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {reply:#?}");
    reply.body
}

/// The values of request headers named `name` that az's `--debug` log shows, in order (the
/// request's headers; response headers az logs too, so a value az sent and got echoed back
/// appears twice).
fn debug_header_values(stderr: &str, name: &str) -> Vec<String> {
    let needle = format!("'{name}': '");
    let mut values: Vec<String> = stderr
        .lines()
        .filter_map(|line| {
            let rest = line.split(needle.as_str()).nth(1)?;
            Some(rest.split('\'').next()?.to_owned())
        })
        .collect();
    values.dedup();
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_retries_a_throttled_request_after_retry_after() {
    let sim = spawn_sim(|_| {}).await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let armed = sim
        .control(
            "/_sim/faults",
            r#"{"method":"GET","path":"*/resourcegroups/*","times":1,"action":{"type":"error","status":429,"retryAfter":1}}"#,
        )
        .await;
    assert_eq!(armed.status, StatusCode::CREATED, "{armed:#?}");
    let rule = armed.body["id"].as_str().expect("the rule's id").to_owned();
    let mark = journal::entries(&sim, "").await.len();

    let shown = az.json(&["group", "show", "-n", "rg1"]).await;
    assert_eq!(shown["name"], "rg1", "{shown:#}");

    let entries = journal::entries(&sim, "method=GET&path=*/resourcegroups/*").await;
    let summary = journal::summary(&entries);
    let after: Vec<&Value> = entries
        .iter()
        .filter(|e| e["seq"].as_u64().unwrap_or(0) as usize >= mark)
        .collect();
    assert_eq!(after.len(), 2, "one throttled try, one retry: {summary}");
    assert_eq!(after[0]["status"], 429, "{summary}");
    assert_eq!(after[0]["errorCode"], "SubscriptionRequestsThrottled");
    assert_eq!(after[0]["fault"], rule.as_str(), "{summary}");
    assert_eq!(after[1]["status"], 200, "{summary}");
    assert!(after[1].get("fault").is_none(), "{summary}");
    assert_eq!(
        after[0]["clientRequestId"], after[1]["clientRequestId"],
        "the retry policy resends the same request: {summary}"
    );
    // The virtual clock runs at real speed here, so the journal's times show az waited the
    // Retry-After second before retrying.
    let at = |e: &Value| {
        time::OffsetDateTime::parse(
            e["time"].as_str().unwrap_or(""),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or_else(|err| panic!("journal time: {err}: {e:#}"))
    };
    let waited = at(after[1]) - at(after[0]);
    assert!(
        waited >= time::Duration::seconds(1),
        "az honoured Retry-After: 1 (waited {waited}): {summary}"
    );
    let faults = sim.get("/_sim/faults").await;
    assert_eq!(faults.body["value"][0]["fired"], 1, "{faults:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_poller_raises_an_injected_operation_failure() {
    let sim = spawn_sim(|c| c.auto_register_providers = true).await;
    let armed = sim
        .control(
            "/_sim/faults",
            r#"{"method":"PUT","path":"*/managedClusters/c1","times":1,"action":{"type":"operationFailure","code":"QuotaExceeded","message":"Operation could not be completed as it results in exceeding approved standardDSv2Family Cores quota."}}"#,
        )
        .await;
    assert_eq!(armed.status, StatusCode::CREATED, "{armed:#?}");
    let run = run_script(&sim, "sdk", "sdk_lro_failure.py", &[]).await;
    assert_eq!(run.code, 0, "{run}");
    let seen = run.json();
    assert_eq!(seen["raised"], true, "{seen:#}");
    assert_eq!(seen["type"], "HttpResponseError", "{seen:#}");
    assert_eq!(seen["code"], "QuotaExceeded", "{seen:#}");
    assert_eq!(
        seen["errorMessage"],
        "Operation could not be completed as it results in exceeding approved standardDSv2Family Cores quota.",
        "{seen:#}"
    );
    assert!(
        seen["message"]
            .as_str()
            .is_some_and(|m| m.contains("(QuotaExceeded)")),
        "{seen:#}"
    );
    assert_eq!(seen["pollerStatus"], "Failed", "{seen:#}");
    assert_eq!(seen["clusterState"], "Failed", "{seen:#}");
    // The PUT itself was accepted (the fault acted on its operation) and the poller learnt the
    // failure from the operation status.
    let all = journal::entries(&sim, "").await;
    let summary = journal::summary(&all);
    let put = all
        .iter()
        .find(|e| {
            e["method"] == "PUT"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/managedClusters/c1"))
        })
        .unwrap_or_else(|| panic!("the create PUT: {summary}"));
    assert_eq!(put["status"], 201, "{summary}");
    assert!(put["fault"].is_string(), "{summary}");
    assert!(
        all.iter().any(|e| e["method"] == "GET"
            && e["path"]
                .as_str()
                .is_some_and(|p| p.contains("/operations/"))),
        "the poller read the operation status: {summary}"
    );
    eprintln!("{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_aks_create_prints_a_scripted_operation_failure() {
    let sim = spawn_sim(|c| {
        c.auto_register_providers = true;
        c.azure_date = Some("2023-12-01".into());
    })
    .await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    az.register_mesh_preview(&sim).await;
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    control_put(
        &sim,
        "/_sim/operations/scripts",
        r#"{"clusterCreate": {"polls": 2, "result": "Failed", "error": {"code": "VMExtensionProvisioningError", "message": "VM has reported a failure when processing extension 'vmssCSE'."}}}"#,
    )
    .await;
    let created = az
        .run(&[
            "aks",
            "create",
            "-g",
            "rg1",
            "-n",
            "c1",
            "--node-count",
            "1",
            "--no-ssh-key",
            "--enable-azure-service-mesh",
            "--revision",
            "asm-1-17",
        ])
        .await;
    assert_eq!(created.code, 1, "{created}");
    assert!(
        created.stderr.contains(
            "(VMExtensionProvisioningError) VM has reported a failure when processing extension 'vmssCSE'."
        ),
        "{created}"
    );
    let shown = az.json(&["aks", "show", "-g", "rg1", "-n", "c1"]).await;
    assert_eq!(shown["provisioningState"], "Failed", "{shown:#}");
    // The script asked for two polls of the operation status before the failure.
    let polls = journal::entries(&sim, "method=GET&path=*/operations/*").await;
    assert!(polls.len() >= 2, "{}", journal::summary(&polls));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_records_the_request_ids_az_sends() {
    // What az 2.91 sends (seen with --debug): one `x-ms-client-request-id` per command (a
    // uuid1 set in cli_ctx.data['headers'], shared by every request of that command), and no
    // `x-ms-correlation-request-id` — ARM then makes the correlation id itself (aksim: the
    // request id) and returns it, which az logs from the response headers.
    let sim = spawn_sim(|_| {}).await;
    let az = Az::logged_in(&sim, Login::EnvOnly).await;
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    let mut seen_ids = BTreeSet::new();
    for _ in 0..2 {
        let mark = journal::entries(&sim, "").await.len();
        let shown = az.ok(&["group", "show", "-n", "rg1", "--debug"]).await;
        assert_eq!(shown.json()["name"], "rg1", "{shown}");
        let sent = debug_header_values(&shown.stderr, "x-ms-client-request-id");
        assert!(!sent.is_empty(), "az logs its request headers: {shown}");
        let correlation = debug_header_values(&shown.stderr, "x-ms-correlation-request-id");
        let entries = journal::entries(&sim, "").await;
        let mine: Vec<&Value> = entries[mark..]
            .iter()
            .filter(|e| e["path"] == format!("/subscriptions/{SUB}/resourcegroups/rg1").as_str())
            .collect();
        assert_eq!(mine.len(), 1, "{}", journal::summary(&entries[mark..]));
        let id = mine[0]["clientRequestId"]
            .as_str()
            .expect("the journal keeps x-ms-client-request-id");
        assert!(
            sent.iter().all(|s| s == id),
            "the journal's clientRequestId {id} is what az sent ({sent:?})"
        );
        assert!(seen_ids.insert(id.to_owned()), "a new id per command");
        let journal_correlation = mine[0]["correlationId"].as_str().expect("correlationId");
        assert_eq!(
            correlation,
            vec![journal_correlation.to_owned()],
            "az received the correlation id the journal holds"
        );
        let by_correlation =
            journal::entries(&sim, &format!("correlationId={journal_correlation}")).await;
        assert_eq!(
            by_correlation.len(),
            1,
            "{}",
            journal::summary(&by_correlation)
        );
        assert_eq!(by_correlation[0]["seq"], mine[0]["seq"]);
    }

    // Every request of one multi-request command (a DELETE and its LRO polls) carries the
    // command's single client-request id.
    let mark = journal::entries(&sim, "").await.len();
    let deleted = az
        .ok(&["group", "delete", "-n", "rg1", "--yes", "--debug"])
        .await;
    let sent: BTreeSet<String> = debug_header_values(&deleted.stderr, "x-ms-client-request-id")
        .into_iter()
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let entries = journal::entries(&sim, "").await;
    let command: Vec<&Value> = entries[mark..].iter().collect();
    let summary = journal::summary(&entries[mark..]);
    assert!(
        command.len() >= 2,
        "the DELETE and at least one poll: {summary}"
    );
    assert_eq!(command[0]["method"], "DELETE", "{summary}");
    for entry in &command {
        assert_eq!(
            entry["clientRequestId"].as_str(),
            sent.first().map(String::as_str),
            "{summary}"
        );
    }

    // A correlation id the client does send is the one the journal records (az rest --headers).
    let url = sim.url(&format!(
        "/subscriptions/{SUB}/resourcegroups?api-version=2024-11-01"
    ));
    let supplied = "5a3c2f0e-1111-4222-8333-944455556666";
    let header = format!("x-ms-correlation-request-id={supplied}");
    az.ok(&[
        "rest",
        "--method",
        "get",
        "--url",
        &url,
        "--headers",
        &header,
    ])
    .await;
    let found = journal::entries(&sim, &format!("correlationId={supplied}")).await;
    assert_eq!(found.len(), 1, "{}", journal::summary(&found));
    assert_eq!(
        found[0]["path"],
        format!("/subscriptions/{SUB}/resourcegroups")
    );
    assert!(
        found[0]["userAgent"]
            .as_str()
            .is_some_and(|u| u.contains("AZURECLI/2.91.0")),
        "{:#}",
        found[0]
    );
}

/// The seed flow (seed-istio-addon.txt, 2023 era) with az against `sim`: preview feature and
/// provider registration, a resource group, a cluster with the Istio add-on at asm-1-17 and an
/// external ingress gateway. Returns `az aks show`.
async fn seed_flow(az: &Az) -> Value {
    az.ok(&[
        "feature",
        "register",
        "--namespace",
        CS,
        "--name",
        "AzureServiceMeshPreview",
    ])
    .await;
    az.ok(&["provider", "register", "-n", CS]).await;
    az.ok(&["group", "create", "-n", "rg1", "-l", "eastus"])
        .await;
    az.ok(&[
        "aks",
        "create",
        "-g",
        "rg1",
        "-n",
        "c1",
        "--node-count",
        "1",
        "--no-ssh-key",
        "--enable-azure-service-mesh",
        "--revision",
        "asm-1-17",
    ])
    .await;
    az.ok(&[
        "aks",
        "mesh",
        "enable-ingress-gateway",
        "-g",
        "rg1",
        "-n",
        "c1",
        "--ingress-gateway-type",
        "external",
    ])
    .await;
    az.json(&["aks", "show", "-g", "rg1", "-n", "c1"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_of_the_seed_flow_restores_into_a_fresh_aksim() {
    let config = |c: &mut aksim::Config| {
        c.registration_seconds = 0.0;
        c.azure_date = Some("2023-12-01".into());
    };
    let a = spawn_sim(config).await;
    let az_a = Az::logged_in(&a, Login::EnvOnly).await;
    let shown_a = seed_flow(&az_a).await;
    assert_eq!(shown_a["provisioningState"], "Succeeded", "{shown_a:#}");
    assert_eq!(
        shown_a["serviceMeshProfile"]["istio"]["revisions"],
        json!(["asm-1-17"]),
        "{shown_a:#}"
    );
    let snapshot = a.get("/_sim/snapshot").await;
    assert_eq!(snapshot.status, StatusCode::OK, "{snapshot:#?}");
    assert_eq!(snapshot.body["format"], "aksim-snapshot");

    // B: a different process-level seed, so equal ids can only come from the snapshot.
    let b = spawn_sim(|c| {
        config(c);
        c.seed = Some(99);
    })
    .await;
    let imported = send(
        b.client
            .put(b.url("/_sim/snapshot"))
            .header("content-type", "application/json")
            .body(snapshot.text.clone()),
    )
    .await;
    assert_eq!(imported.status, StatusCode::OK, "{imported:#?}");
    let az_b = Az::logged_in(&b, Login::EnvOnly).await;
    let shown_b = az_b.json(&["aks", "show", "-g", "rg1", "-n", "c1"]).await;
    assert_eq!(shown_b, shown_a, "the restored cluster reads the same");
    for args in [
        &[
            "feature",
            "show",
            "--namespace",
            CS,
            "--name",
            "AzureServiceMeshPreview",
        ][..],
        &["provider", "show", "-n", CS, "--query", "registrationState"][..],
        &["group", "show", "-n", "rg1"][..],
        &["aks", "mesh", "get-upgrades", "-g", "rg1", "-n", "c1"][..],
    ] {
        assert_eq!(
            az_b.json(args).await,
            az_a.json(args).await,
            "az {args:?} reads the same on both"
        );
    }
}
