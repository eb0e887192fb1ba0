//! docs/control-api.md, sentence by sentence. `CLAIMS` names, for every claim of the page (a
//! prose sentence or a table row; code blocks aside), the test that checks it — here or in
//! another test file — and `every_claim_of_the_page_has_its_test` fails when a claim has none,
//! when a key matches no claim or several, or when the named test does not exist. A sentence
//! changed in the page must be matched again, so the page and the tests move together.

mod common;

use axum::http::{Method, StatusCode};
use common::{Sim, SUB};
use serde_json::{json, Value};

/// `(text found in exactly one claim, "file::test")`; `file` is under `sim/tests/`, or
/// `client-tests/…` for the real-client tests.
const CLAIMS: &[(&str, &str)] = &[
    ("Everything simulator-specific lives under", "control_api_doc::simulator_paths_live_under_sim_only"),
    ("a bad request is a 400 with", "control::every_bad_control_request_is_a_clear_400_that_changes_nothing"),
    ("No authentication is required.", "control_api_doc::control_calls_need_no_token_even_with_strict_auth"),
    ("Every call has an `aksim ctl` equivalent", "control_api_doc::every_call_in_the_tables_is_its_ctl_command"),
    ("`GET /_sim/health` | `health`", "control_api_doc::health_and_info_carry_what_the_table_says"),
    ("`GET /_sim/info` | `info`", "control_api_doc::health_and_info_carry_what_the_table_says"),
    ("`POST /_sim/reset` | `reset` |", "control_api_doc::reset_forgets_state_and_keeps_the_clock_and_settings"),
    ("`POST /_sim/reset/{subscriptionId}` | `reset", "control_api_doc::reset_of_one_subscription_answers_what_it_forgot"),
    ("`POST /_sim/seed`", "control_api_doc::a_seed_restarts_the_id_sequence"),
    ("every id and timestamp of a run is reproducible", "control_api_doc::seeded_frozen_runs_are_reproducible"),
    ("`GET /_sim/clock` |", "control_api_doc::the_clock_calls_do_what_the_table_says"),
    ("`POST /_sim/clock/advance`", "control_api_doc::the_clock_calls_do_what_the_table_says"),
    ("`POST /_sim/clock/freeze`", "control_api_doc::the_clock_calls_do_what_the_table_says"),
    ("`POST /_sim/clock/unfreeze`", "control_api_doc::the_clock_calls_do_what_the_table_says"),
    ("`POST /_sim/clock/scale`", "control_api_doc::scale_is_virtual_seconds_per_real_second"),
    ("One virtual clock drives", "control_api_doc::one_clock_drives_operations_registrations_tokens_and_namespaces"),
    ("The clock never moves backwards.", "control_api_doc::the_clock_never_moves_backwards"),
    ("`GET /_sim/operations/durations` |", "control::durations_put_replaces_the_table_and_patch_merges"),
    ("`PUT /_sim/operations/durations`", "control::durations_put_replaces_the_table_and_patch_merges"),
    ("`PATCH /_sim/operations/durations`", "control::durations_put_replaces_the_table_and_patch_merges"),
    ("`GET /_sim/operations/scripts` |", "control_api_doc::scripts_are_set_by_kind_listed_and_cleared"),
    ("`PUT /_sim/operations/scripts`", "control_api_doc::scripts_are_set_by_kind_listed_and_cleared"),
    ("`DELETE /_sim/operations/scripts`", "control_api_doc::scripts_are_set_by_kind_listed_and_cleared"),
    ("`GET /_sim/registration` |", "control_api_doc::the_registration_delay_applies_to_registrations_started_after"),
    ("`PUT /_sim/registration`", "control_api_doc::the_registration_delay_applies_to_registrations_started_after"),
    ("Kinds: `resourceGroupDelete`", "control::durations_put_replaces_the_table_and_patch_merges"),
    ("A duration is virtual seconds", "control_api_doc::a_duration_is_virtual_seconds_and_zero_is_done_at_the_first_look"),
    ("A script makes the next operations", "control_api_doc::a_script_decides_polls_and_the_end_state"),
    ("A script's `error` takes", "control_api_doc::a_script_error_takes_code_message_and_target_only"),
    ("`POST /_sim/faults` `{rule}`", "control_api_doc::faults_are_armed_listed_removed_and_cleared"),
    ("`GET /_sim/faults` |", "control::fault_error_429_with_throttling_headers"),
    ("`DELETE /_sim/faults/{id}`", "control::fault_error_429_with_throttling_headers"),
    ("`DELETE /_sim/faults` |", "control_api_doc::faults_are_armed_listed_removed_and_cleared"),
    ("Match: `method`, `path`", "control_api_doc::faults_match_method_path_glob_and_subscription"),
    ("When: `times`", "control_api_doc::fault_conditions_all_hold"),
    ("`error` | answer `status`", "control_api_doc::error_faults_answer_in_the_envelope_of_their_path"),
    ("`latency` | wait `ms`", "control::drop_and_latency_faults_over_a_socket"),
    ("`drop` | close the connection", "control::drop_and_latency_faults_over_a_socket"),
    ("`operationFailure` | run the request", "control_api_doc::operation_failure_faults_fail_or_cancel_the_operation"),
    ("A bounded ring", "control_api_doc::the_journal_is_a_bounded_ring_of_non_control_requests"),
    ("`GET /_sim/journal?method=PUT", "control_api_doc::journal_show_export_clear_and_config"),
    ("`GET /_sim/journal.jsonl", "control_api_doc::journal_show_export_clear_and_config"),
    ("`POST /_sim/journal/verify` `{", "ctl::ctl_drives_the_control_api"),
    ("`DELETE /_sim/journal` |", "control_api_doc::journal_show_export_clear_and_config"),
    ("`PUT /_sim/journal/config`", "control_api_doc::journal_show_export_clear_and_config"),
    ("What the clients send (measured)", "client-tests/tests/it/control_real::journal_records_the_request_ids_az_sends"),
    ("Filters: `method`", "control_api_doc::every_journal_filter_filters"),
    ("`verify` answers 200", "control_api_doc::verify_answers_200_or_417_for_count_at_least_and_at_most"),
    ("`GET /_sim/snapshot` |", "control::snapshot_round_trip_and_bad_files"),
    ("`GET /_sim/snapshot/{subscriptionId}` |", "control_api_doc::one_subscription_exports_and_imports_alone"),
    ("`PUT /_sim/snapshot` (", "control::snapshot_round_trip_and_bad_files"),
    ("`PUT /_sim/snapshot/{subscriptionId}` (", "control_api_doc::one_subscription_exports_and_imports_alone"),
    ("A snapshot is `{\"format\"", "control_api_doc::a_snapshot_is_plain_json_of_that_shape"),
    ("Import checks the whole file first", "control_api_doc::import_refuses_unknown_fields_at_every_level_and_changes_nothing"),
    ("A cluster's Kubernetes plane that was never used", "kube_lazy::a_cluster_plane_is_built_on_first_kube_use_only"),
    ("A plane with `lazy` that also holds", "control_api_doc::an_inconsistent_lazy_plane_is_refused_for_each_reason"),
    ("The clock moves forward to the snapshot's time", "control_api_doc::import_moves_the_clock_forward_never_back"),
    ("Import takes snapshots up to", "snapshot_size::a_snapshot_of_megabytes_imports_over_http1_http2_and_ctl"),
    ("The other control endpoints take bodies up to 4 MiB", "snapshot_size::past_the_limits_control_bodies_get_the_arm_413_naming_the_limit"),
    ("`--state-file PATH` loads", "binary::state_file_survives_a_restart"),
    ("`POST /_sim/sandboxes` `{preset}`", "control::sandboxes_start_with_their_preset"),
    ("A fresh subscription (or the", "control::sandboxes_start_with_their_preset"),
    ("Every well-formed GUID is a usable", "control_api_doc::every_guid_is_a_usable_isolated_subscription"),
    ("`azureDate` (optional, `YYYY-MM-DD`) gives the sandbox", "control::a_sandbox_carries_its_own_aks_catalogue"),
    ("`GET /_sim/azure-date/{subscriptionId}` |", "control::a_subscription_moves_to_another_day"),
    ("`PUT /_sim/azure-date/{subscriptionId}` `{", "control::a_subscription_moves_to_another_day"),
    ("A subscription can also change day at any time", "control::a_subscription_moves_to_another_day"),
    ("Its catalogue file, if it has one, stays", "control::a_subscription_moves_to_another_day"),
    ("`meshCatalog` (optional) gives the sandbox", "control::a_sandbox_carries_its_own_aks_catalogue"),
    ("Snapshots carry them", "control::a_sandbox_carries_its_own_aks_catalogue"),
    ("The scenario runner uses them", "scenario_cli::the_library_passes_against_a_default_server_and_leaves_its_settings_as_found"),
    ("The features a preset registers must exist on that day", "control::sandboxes_start_with_their_preset"),
    ("A day before or after what aksim's data describes", "control::a_sandbox_carries_its_own_aks_catalogue"),
    ("`aksim ctl` talks to `--url`", "ctl::ctl_finds_the_ca_in_the_tls_dir_and_says_what_is_wrong"),
    ("It prints the answer as JSON and exits 0", "control_api_doc::ctl_prints_json_and_exits_0_or_1"),
    ("nothing listens on the port |", "ctl::ctl_finds_the_ca_in_the_tls_dir_and_says_what_is_wrong"),
    ("the certificate is not from the CA", "ctl::ctl_finds_the_ca_in_the_tls_dir_and_says_what_is_wrong"),
    ("`http://` to aksim's HTTPS port |", "ctl::ctl_finds_the_ca_in_the_tls_dir_and_says_what_is_wrong"),
    ("`https://` to a plain-HTTP aksim", "ctl::ctl_finds_the_ca_in_the_tls_dir_and_says_what_is_wrong"),
    ("the server refused |", "ctl::ctl_finds_the_ca_in_the_tls_dir_and_says_what_is_wrong"),
    ("a snapshot file past the import limit", "control_api_doc::ctl_refuses_a_snapshot_file_past_the_limit_before_sending"),
    ("A plain-HTTP request to aksim's HTTPS port", "server_limits::plain_http_on_the_tls_port_gets_a_400_naming_https"),
];

/// Claims that state no behaviour, and why.
const NOT_BEHAVIOUR: &[(&str, &str)] = &[
    ("In the examples `A=", "the page's notation"),
    ("Actions:", "the heading of the table below it"),
];

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The page's claims: prose sentences and table rows (header rows aside), outside code blocks.
fn claims(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut in_code = false;
    let flush = |paragraph: &mut Vec<&str>, out: &mut Vec<String>| {
        if paragraph.is_empty() {
            return;
        }
        let text = paragraph.join(" ");
        paragraph.clear();
        out.extend(sentences(&text));
    };
    let mut header_next = false;
    for line in page.lines() {
        if line.starts_with("```") {
            flush(&mut paragraph, &mut out);
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
            header_next = true;
            continue;
        }
        if line.starts_with('|') {
            flush(&mut paragraph, &mut out);
            let is_rule = line.chars().all(|c| matches!(c, '|' | '-' | ' '));
            if !is_rule && !header_next {
                let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
                out.push(cells.join(" | "));
            }
            header_next = false;
            continue;
        }
        header_next = false;
        paragraph.push(line.trim());
    }
    flush(&mut paragraph, &mut out);
    out
}

/// Splits prose at `. `, `! `, `? ` followed by a capital, a backtick or `(`.
fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..chars.len() {
        let ends = matches!(chars[i], '.' | '!' | '?')
            && chars.get(i + 1) == Some(&' ')
            && chars
                .get(i + 2)
                .is_some_and(|c| c.is_uppercase() || *c == '`' || *c == '(');
        if ends {
            out.push(
                chars[start..=i]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_owned(),
            );
            start = i + 2;
        }
    }
    let rest: String = chars[start..].iter().collect();
    if !rest.trim().is_empty() {
        out.push(rest.trim().to_owned());
    }
    out
}

#[test]
fn every_claim_of_the_page_has_its_test() {
    let page = std::fs::read_to_string(repo().join("docs/control-api.md")).unwrap();
    let claims = claims(&page);
    let mut problems = Vec::new();
    for claim in &claims {
        let keys: Vec<&str> = CLAIMS
            .iter()
            .chain(NOT_BEHAVIOUR)
            .map(|(k, _)| *k)
            .filter(|k| claim.contains(k))
            .collect();
        if keys.len() != 1 {
            problems.push(format!(
                "{} keys match the claim: {claim}\n  {keys:?}",
                keys.len()
            ));
        }
    }
    for (key, test) in CLAIMS.iter().chain(NOT_BEHAVIOUR) {
        let n = claims.iter().filter(|c| c.contains(key)).count();
        if n != 1 {
            problems.push(format!("key {key:?} matches {n} claims"));
        }
        if NOT_BEHAVIOUR.iter().any(|(k, _)| k == key) {
            continue;
        }
        let (file, name) = test.split_once("::").expect("file::test");
        let path = if file.starts_with("client-tests/") {
            repo().join(format!("{file}.rs"))
        } else {
            repo().join(format!("sim/tests/{file}.rs"))
        };
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        if !source.contains(&format!("fn {name}(")) {
            problems.push(format!("{key:?}: no test `{name}` in {}", path.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/control-api.md and its tests disagree:\n{}",
        problems.join("\n")
    );
}

async fn control(sim: &Sim, method: Method, path: &str, body: Option<Value>) -> common::Reply {
    sim.call_with(method, path, body, &[]).await
}

fn rg(sub: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourcegroups/{name}?api-version=2024-11-01")
}

#[tokio::test]
async fn simulator_paths_live_under_sim_only() {
    let sim = Sim::new();
    // The control endpoints exist only under /_sim: the same words elsewhere are ARM paths.
    for path in ["/health", "/info", "/clock", "/faults", "/snapshot"] {
        let r = sim.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
        assert!(
            r.body.get("status").is_none() && r.body.get("value").is_none(),
            "{path}"
        );
    }
    // ARM answers carry nothing of the simulator (no aksim-specific header).
    let r = sim
        .put(&rg(SUB, "rg1"), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for (name, _) in &r.headers {
        assert!(
            !name.as_str().contains("aksim") && !name.as_str().contains("sim-"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn control_calls_need_no_token_even_with_strict_auth() {
    let mut config = aksim::Config::for_tests();
    config.auth = aksim::config::AuthMode::Strict;
    let sim = Sim::with_config(config);
    assert_eq!(
        sim.call_with(
            Method::GET,
            "/subscriptions?api-version=2022-12-01",
            None,
            &[]
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    for (method, path, body) in [
        (Method::GET, "/_sim/health", None),
        (Method::GET, "/_sim/info", None),
        (
            Method::POST,
            "/_sim/clock/advance",
            Some(json!({"seconds": 1})),
        ),
        (
            Method::POST,
            "/_sim/faults",
            Some(json!({"action": {"type": "drop"}, "path": "/nowhere"})),
        ),
    ] {
        let r = control(&sim, method, path, body).await;
        assert!(r.status.is_success(), "{path}: {}", r.body);
    }
}

/// `(method, path, body)` of a table's call cell: `` `PUT /_sim/x` `{"a": 1}` ``.
fn call_of(cell: &str) -> (String, String) {
    let inner = cell.trim_start_matches('`');
    let mut words = inner.split_whitespace();
    let method = words.next().unwrap_or("").to_owned();
    let path = words.next().unwrap_or("").trim_end_matches('`').to_owned();
    (method, path)
}

/// The words of a ctl cell: `` `snapshot export --subscription ID one.json` ``.
fn ctl_words(cell: &str) -> Vec<String> {
    let text = cell.trim_matches('`');
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in text.chars() {
        match (c, quote) {
            ('\'', None) => quote = Some('\''),
            ('\'', Some(_)) => quote = None,
            (' ', None) => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            (c, _) => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[derive(clap::Parser)]
struct Wrapper {
    #[command(flatten)]
    args: aksim::ctl::CtlArgs,
}

#[test]
fn every_call_in_the_tables_is_its_ctl_command() {
    let page = std::fs::read_to_string(repo().join("docs/control-api.md")).unwrap();
    let mut rows = 0;
    for line in page
        .lines()
        .filter(|l| l.starts_with("| `") && l.contains("/_sim"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let (method, path) = call_of(cells[0]);
        let mut argv = vec!["ctl".to_owned()];
        argv.extend(ctl_words(cells[1]).into_iter().map(|w| match w.as_str() {
            "ID" => SUB.to_owned(),
            "{…}" | "{rule}" | "{preset}" => "{}".to_owned(),
            _ => w,
        }));
        let file = std::env::temp_dir().join("aksim-doc-test-snapshot.json");
        std::fs::write(&file, "{}").unwrap();
        let argv: Vec<String> = argv
            .into_iter()
            .map(|w| {
                if w.ends_with(".json") {
                    file.display().to_string()
                } else {
                    w
                }
            })
            .collect();
        let parsed = <Wrapper as clap::Parser>::try_parse_from(&argv)
            .unwrap_or_else(|e| panic!("{line}\n{argv:?}: {e}"));
        let (ctl_method, ctl_path) = aksim::ctl::call_of(&parsed.args.command).unwrap();
        let want_path = path
            .replace("{subscriptionId}", SUB)
            .replace("{id}", SUB)
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(
            (ctl_method.as_str(), ctl_path.split('?').next().unwrap()),
            (method.as_str(), want_path.as_str()),
            "{line}"
        );
        rows += 1;
    }
    assert!(rows >= 30, "the tables list the calls: {rows}");
}

#[tokio::test]
async fn health_and_info_carry_what_the_table_says() {
    let sim = Sim::new();
    let health = control(&sim, Method::GET, "/_sim/health", None).await.body;
    for key in ["status", "version", "uptimeSeconds", "clock"] {
        assert!(health.get(key).is_some(), "health.{key}: {health}");
    }
    assert_eq!(health["status"], "ok");
    let info = control(&sim, Method::GET, "/_sim/info", None).await.body;
    for key in [
        "version",
        "tenantId",
        "defaultSubscriptionId",
        "auth",
        "providers",
        "locations",
        "operationDurations",
        "registration",
        "rules",
        "azureDate",
        "aksData",
        "aksCatalog",
        "notes",
        "limits",
    ] {
        assert!(info.get(key).is_some(), "info.{key}");
    }
    let provider = &info["providers"][0];
    assert!(
        provider["resourceTypes"][0]["apiVersions"].is_array(),
        "{provider}"
    );
    for key in ["delaySeconds", "features", "previewGates"] {
        assert!(
            info["registration"].get(key).is_some(),
            "registration.{key}"
        );
    }
    assert_eq!(info["azureDate"], info["aksData"]["newestDate"]);
    assert_eq!(info["aksCatalog"]["name"], info["azureDate"]);
    assert!(info["aksCatalog"]["file"].is_null());
    assert!(info["rules"][0]["since"].is_string());
    assert!(info["registration"]["previewGates"][0]["since"].is_string());
}

/// The first request id a fresh simulator with `config` hands out.
async fn first_request_id(sim: &Sim) -> String {
    let r = sim.get("/subscriptions?api-version=2022-12-01").await;
    r.header("x-ms-request-id").unwrap().to_owned()
}

#[tokio::test]
async fn reset_forgets_state_and_keeps_the_clock_and_settings() {
    let fresh = first_request_id(&Sim::new()).await;
    let sim = Sim::new();
    sim.put(&rg(SUB, "rg1"), json!({"location": "eastus"}))
        .await;
    control(
        &sim,
        Method::POST,
        "/_sim/sandboxes",
        Some(json!({"azureDate": "2023-12-01"})),
    )
    .await;
    control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"path": "/nowhere", "action": {"type": "drop"}})),
    )
    .await;
    control(
        &sim,
        Method::PUT,
        "/_sim/operations/scripts",
        Some(json!({"clusterCreate": {"polls": 2}})),
    )
    .await;
    control(
        &sim,
        Method::PUT,
        "/_sim/operations/durations",
        Some(json!({"default": 7})),
    )
    .await;
    control(
        &sim,
        Method::PUT,
        "/_sim/registration",
        Some(json!({"delaySeconds": 5})),
    )
    .await;
    control(&sim, Method::POST, "/_sim/clock/freeze", None).await;
    let clock = control(
        &sim,
        Method::POST,
        "/_sim/clock/advance",
        Some(json!({"seconds": 60})),
    )
    .await
    .body;

    let reset = control(&sim, Method::POST, "/_sim/reset", None).await;
    assert_eq!(reset.status, StatusCode::OK);
    // Every request draws from the sequence (control calls too): look before any other.
    assert_eq!(
        first_request_id(&sim).await,
        fresh,
        "the id sequence restarts from --seed"
    );
    assert!(
        sim.state.core.store.touched_ids().len() <= 1,
        "only what the probe touched"
    );
    control(&sim, Method::POST, "/_sim/reset", None).await;
    assert!(sim.state.core.store.touched_ids().is_empty());
    assert!(sim.state.core.sandboxes.all().is_empty());
    assert_eq!(
        control(&sim, Method::GET, "/_sim/faults", None).await.body["value"],
        json!([])
    );
    assert_eq!(
        control(&sim, Method::GET, "/_sim/operations/scripts", None)
            .await
            .body,
        json!({})
    );
    assert_eq!(
        control(&sim, Method::GET, "/_sim/journal", None).await.body["held"],
        0
    );
    assert_eq!(
        control(&sim, Method::GET, "/_sim/clock", None).await.body["now"],
        clock["now"]
    );
    assert_eq!(
        control(&sim, Method::GET, "/_sim/operations/durations", None)
            .await
            .body["default"],
        7.0
    );
    assert_eq!(
        control(&sim, Method::GET, "/_sim/registration", None)
            .await
            .body["delaySeconds"],
        5.0
    );
}

#[tokio::test]
async fn reset_of_one_subscription_answers_what_it_forgot() {
    let sim = Sim::new();
    let other = "00000000-0000-0000-0000-0000000000b2";
    sim.put(&rg(SUB, "rg1"), json!({"location": "eastus"}))
        .await;
    sim.put(&rg(other, "rg1"), json!({"location": "eastus"}))
        .await;
    let r = control(&sim, Method::POST, &format!("/_sim/reset/{SUB}"), None).await;
    assert_eq!(r.body, json!({"reset": SUB, "hadState": true}));
    let again = control(&sim, Method::POST, &format!("/_sim/reset/{SUB}"), None).await;
    assert_eq!(again.body["hadState"], false);
    assert_eq!(sim.get(&rg(SUB, "rg1")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(sim.get(&rg(other, "rg1")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_seed_restarts_the_id_sequence() {
    let sim = Sim::new();
    control(&sim, Method::POST, "/_sim/seed", Some(json!({"seed": 42}))).await;
    let a = first_request_id(&sim).await;
    let b = first_request_id(&sim).await;
    control(&sim, Method::POST, "/_sim/seed", Some(json!({"seed": 42}))).await;
    assert_eq!(first_request_id(&sim).await, a);
    assert_eq!(first_request_id(&sim).await, b);
    control(&sim, Method::POST, "/_sim/seed", Some(json!({"seed": 43}))).await;
    assert_ne!(first_request_id(&sim).await, a);
}

/// What a client sees of one run: statuses, bodies, ids and dates.
async fn a_run(sim: &Sim) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut record = |r: &common::Reply| {
        seen.push(json!({
            "status": r.status.as_u16(),
            "body": r.body,
            "requestId": r.header("x-ms-request-id"),
            "date": r.header("date"),
            "location": r.header("location"),
        }));
    };
    record(
        &sim.put(&rg(SUB, "rg1"), json!({"location": "eastus"}))
            .await,
    );
    let deleted = sim.delete(&rg(SUB, "rg1")).await;
    record(&deleted);
    let location = deleted
        .header("location")
        .unwrap()
        .trim_start_matches("http://sim.test")
        .to_owned();
    record(&sim.get(&location).await);
    sim.advance(10.0);
    record(&sim.get(&location).await);
    seen
}

#[tokio::test]
async fn seeded_frozen_runs_are_reproducible() {
    let config = || aksim::Config {
        seed: Some(42),
        clock_start: Some("2026-01-01T00:00:00Z".into()),
        clock_frozen: true,
        op_durations: Vec::new(),
        ..aksim::Config::for_tests()
    };
    let first = a_run(&Sim::with_config(config())).await;
    let second = a_run(&Sim::with_config(config())).await;
    assert_eq!(first, second);
    assert_eq!(first[0]["date"], "Thu, 01 Jan 2026 00:00:00 GMT");
}

fn now_of(clock: &Value) -> time::OffsetDateTime {
    aksim::clock::parse_rfc3339(clock["now"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn the_clock_calls_do_what_the_table_says() {
    let sim = Sim::new();
    let clock = control(&sim, Method::GET, "/_sim/clock", None).await.body;
    for key in ["now", "offsetSeconds", "frozen", "scale"] {
        assert!(clock.get(key).is_some(), "{key}");
    }
    let frozen = control(&sim, Method::POST, "/_sim/clock/freeze", None)
        .await
        .body;
    assert_eq!(frozen["frozen"], true);
    let still = control(&sim, Method::GET, "/_sim/clock", None).await.body;
    assert_eq!(still["now"], frozen["now"], "frozen time stands still");
    let max = aksim::limits::CLOCK_ADVANCE_MAX_SECS;
    for (seconds, status) in [
        (0.0, 200),
        (3600.0, 200),
        (max, 200),
        (max + 1.0, 400),
        (-1.0, 400),
    ] {
        let before = now_of(&control(&sim, Method::GET, "/_sim/clock", None).await.body);
        let r = control(
            &sim,
            Method::POST,
            "/_sim/clock/advance",
            Some(json!({"seconds": seconds})),
        )
        .await;
        assert_eq!(r.status.as_u16(), status, "{seconds}: {}", r.body);
        if status == 200 {
            assert_eq!(
                (now_of(&r.body) - before).whole_seconds(),
                seconds as i64,
                "a frozen clock moves by advance"
            );
        }
    }
    let running = control(&sim, Method::POST, "/_sim/clock/unfreeze", None)
        .await
        .body;
    assert_eq!(running["frozen"], false);
    control(
        &sim,
        Method::POST,
        "/_sim/clock/scale",
        Some(json!({"factor": 1000000})),
    )
    .await;
    let a = now_of(&control(&sim, Method::GET, "/_sim/clock", None).await.body);
    let b = now_of(&control(&sim, Method::GET, "/_sim/clock", None).await.body);
    assert!(b > a, "an unfrozen clock runs: {a} then {b}");
}

#[tokio::test]
async fn scale_is_virtual_seconds_per_real_second() {
    let sim = Sim::new();
    for (factor, status) in [
        (0.0, 400),
        (-1.0, 400),
        (1_000_000.0, 200),
        (1_000_001.0, 400),
        (1000.0, 200),
    ] {
        let r = control(
            &sim,
            Method::POST,
            "/_sim/clock/scale",
            Some(json!({"factor": factor})),
        )
        .await;
        assert_eq!(r.status.as_u16(), status, "{factor}");
    }
    assert_eq!(
        control(&sim, Method::GET, "/_sim/clock", None).await.body["scale"],
        1000.0
    );
    // Between two readings the virtual clock moves at most 1000 times the real time between
    // them (bracketed by the test's own readings), and it does move.
    let real = std::time::Instant::now();
    let a = sim.state.core.clock.now();
    let b = sim.state.core.clock.now();
    let real = real.elapsed();
    let virtual_ns = (b - a).whole_nanoseconds();
    assert!(virtual_ns > 0, "the scaled clock moves");
    assert!(
        virtual_ns <= 1000 * real.as_nanos() as i128 + 1000,
        "{virtual_ns} ns virtual in {real:?} real"
    );
}

#[tokio::test]
async fn one_clock_drives_operations_registrations_tokens_and_namespaces() {
    let config = aksim::Config {
        auth: aksim::config::AuthMode::Strict,
        clock_frozen: true,
        op_durations: vec!["default=10".into()],
        registration_seconds: 10.0,
        ..aksim::Config::for_tests()
    };
    let sim = Sim::with_config(config);
    let form = "grant_type=client_credentials&client_id=11111111-2222-3333-4444-555555555555&client_secret=x&scope=https%3A%2F%2Fmanagement.core.windows.net%2F.default";
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/adfs/oauth2/token")
        .header("host", "sim.test")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(form))
        .unwrap();
    let response = tower::ServiceExt::oneshot(aksim::app(sim.state.clone()), request)
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let token: Value = serde_json::from_slice(&bytes).unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let arm = |method: Method, path: String, body: Option<Value>| {
        let bearer = bearer.clone();
        let sim = &sim;
        async move {
            sim.call_with(method, &path, body, &[("authorization", &bearer)])
                .await
        }
    };
    // An operation ends when the clock passes its duration.
    arm(
        Method::PUT,
        rg(SUB, "rg1"),
        Some(json!({"location": "eastus"})),
    )
    .await;
    let deleted = arm(Method::DELETE, rg(SUB, "rg1"), None).await;
    let location = deleted
        .header("location")
        .unwrap()
        .trim_start_matches("http://sim.test")
        .to_owned();
    assert_eq!(
        arm(Method::GET, location.clone(), None).await.status,
        StatusCode::ACCEPTED
    );
    // A registration ends when the clock passes its delay.
    let provider = format!("/subscriptions/{SUB}/providers/Microsoft.ContainerService");
    let registering = arm(
        Method::POST,
        format!("{provider}/register?api-version=2024-11-01"),
        None,
    )
    .await;
    assert_eq!(registering.body["registrationState"], "Registering");
    // A namespace terminates on the same clock.
    sim.plane("1.33.2");
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "foo"}});
    assert_eq!(
        sim.kpost("/api/v1/namespaces", namespace).await.status,
        StatusCode::CREATED
    );
    sim.kube(Method::DELETE, "/api/v1/namespaces/foo", None)
        .await;
    assert_eq!(
        sim.kget("/api/v1/namespaces/foo").await.body["status"]["phase"],
        "Terminating"
    );

    control(
        &sim,
        Method::POST,
        "/_sim/clock/advance",
        Some(json!({"seconds": 10})),
    )
    .await;
    assert_eq!(
        arm(Method::GET, location, None).await.status,
        StatusCode::OK
    );
    let registered = arm(
        Method::GET,
        format!("{provider}?api-version=2024-11-01"),
        None,
    )
    .await;
    assert_eq!(registered.body["registrationState"], "Registered");
    assert_eq!(
        sim.kget("/api/v1/namespaces/foo").await.status,
        StatusCode::NOT_FOUND
    );
    // The token expires on it too.
    control(
        &sim,
        Method::POST,
        "/_sim/clock/advance",
        Some(json!({"seconds": 3600})),
    )
    .await;
    let expired = arm(
        Method::GET,
        format!("/subscriptions/{SUB}/resourcegroups?api-version=2024-11-01"),
        None,
    )
    .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.code(), "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn the_clock_never_moves_backwards() {
    let sim = Sim::new();
    control(&sim, Method::POST, "/_sim/clock/freeze", None).await;
    let snapshot = control(&sim, Method::GET, "/_sim/snapshot", None)
        .await
        .body;
    let now = control(
        &sim,
        Method::POST,
        "/_sim/clock/advance",
        Some(json!({"seconds": 100})),
    )
    .await
    .body["now"]
        .clone();
    let back = control(
        &sim,
        Method::POST,
        "/_sim/clock/advance",
        Some(json!({"seconds": -50})),
    )
    .await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST);
    // An older snapshot does not take the clock back.
    let imported = control(&sim, Method::PUT, "/_sim/snapshot", Some(snapshot)).await;
    assert_eq!(imported.status, StatusCode::OK);
    assert_eq!(
        control(&sim, Method::GET, "/_sim/clock", None).await.body["now"],
        now
    );
}

#[tokio::test]
async fn scripts_are_set_by_kind_listed_and_cleared() {
    let sim = Sim::new();
    let scripts = "/_sim/operations/scripts";
    control(
        &sim,
        Method::PUT,
        scripts,
        Some(json!({"resourceGroupDelete": {"polls": 2}})),
    )
    .await;
    let both = control(
        &sim,
        Method::PUT,
        scripts,
        Some(json!({"clusterCreate": {"polls": 3, "result": "Failed", "error": {"code": "QuotaExceeded", "message": "m"}}})),
    )
    .await
    .body;
    assert_eq!(
        both["resourceGroupDelete"]["polls"], 2,
        "the others keep theirs: {both}"
    );
    assert_eq!(both["clusterCreate"]["result"], "Failed");
    assert_eq!(control(&sim, Method::GET, scripts, None).await.body, both);
    let cleared = control(&sim, Method::DELETE, scripts, None).await;
    assert_eq!(cleared.body, json!({}));
    assert_eq!(
        control(&sim, Method::GET, scripts, None).await.body,
        json!({})
    );
}

#[tokio::test]
async fn the_registration_delay_applies_to_registrations_started_after() {
    let sim = Sim::new();
    control(&sim, Method::POST, "/_sim/clock/freeze", None).await;
    assert_eq!(
        control(&sim, Method::GET, "/_sim/registration", None)
            .await
            .body,
        json!({"delaySeconds": 0.0})
    );
    let provider = |ns: &str| format!("/subscriptions/{SUB}/providers/{ns}");
    let first = sim
        .post(&format!(
            "{}/register?api-version=2024-11-01",
            provider("Microsoft.ContainerService")
        ))
        .await;
    assert_eq!(first.body["registrationState"], "Registered");
    let set = control(
        &sim,
        Method::PUT,
        "/_sim/registration",
        Some(json!({"delaySeconds": 30})),
    )
    .await;
    assert_eq!(set.body, json!({"delaySeconds": 30.0}));
    let second = sim
        .post(&format!(
            "{}/register?api-version=2024-11-01",
            provider("Microsoft.Network")
        ))
        .await;
    assert_eq!(second.body["registrationState"], "Registering");
    let first_now = sim
        .get(&format!(
            "{}?api-version=2024-11-01",
            provider("Microsoft.ContainerService")
        ))
        .await;
    assert_eq!(
        first_now.body["registrationState"], "Registered",
        "started before: unchanged"
    );
    sim.advance(30.0);
    let second_now = sim
        .get(&format!(
            "{}?api-version=2024-11-01",
            provider("Microsoft.Network")
        ))
        .await;
    assert_eq!(second_now.body["registrationState"], "Registered");
    for bad in [json!({"delaySeconds": 86401}), json!({"delaySeconds": -1})] {
        let r = control(&sim, Method::PUT, "/_sim/registration", Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        control(
            &sim,
            Method::PUT,
            "/_sim/registration",
            Some(json!({"delaySeconds": 86400}))
        )
        .await
        .status,
        StatusCode::OK
    );
}

/// Deletes `rg1` (created first) and returns its Location path.
async fn delete_group(sim: &Sim, name: &str) -> String {
    sim.put(&rg(SUB, name), json!({"location": "eastus"})).await;
    let deleted = sim.delete(&rg(SUB, name)).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    deleted
        .header("location")
        .unwrap()
        .trim_start_matches("http://sim.test")
        .to_owned()
}

#[tokio::test]
async fn a_duration_is_virtual_seconds_and_zero_is_done_at_the_first_look() {
    let sim = Sim::new();
    control(&sim, Method::POST, "/_sim/clock/freeze", None).await;
    control(
        &sim,
        Method::PUT,
        "/_sim/operations/durations",
        Some(json!({"default": 0})),
    )
    .await;
    let location = delete_group(&sim, "rg0").await;
    assert_eq!(
        sim.get(&location).await.status,
        StatusCode::OK,
        "0: done at the first look"
    );
    control(
        &sim,
        Method::PUT,
        "/_sim/operations/durations",
        Some(json!({"resourceGroupDelete": 30})),
    )
    .await;
    let location = delete_group(&sim, "rg30").await;
    assert_eq!(sim.get(&location).await.status, StatusCode::ACCEPTED);
    sim.advance(29.0);
    assert_eq!(sim.get(&location).await.status, StatusCode::ACCEPTED);
    sim.advance(1.0);
    assert_eq!(
        sim.get(&location).await.status,
        StatusCode::OK,
        "30 virtual seconds"
    );
}

/// The operation status (`status` and `error`) of a cluster create, polled until it ends.
async fn cluster_operation(sim: &Sim, name: &str) -> (usize, Value) {
    let put = sim
        .put(
            &common::aks::cluster_url("rg1", name),
            common::aks::az_create_body(name, "rg1", None),
        )
        .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    let url = put
        .header("azure-asyncoperation")
        .unwrap()
        .trim_start_matches("http://sim.test")
        .to_owned();
    for polls in 1..20 {
        let r = sim.get(&url).await;
        if r.body["status"] != "InProgress" {
            return (polls, r.body);
        }
    }
    panic!("the operation never ended");
}

#[tokio::test]
async fn a_script_decides_polls_and_the_end_state() {
    let sim = common::aks::new_sim();
    common::aks::prepare(&sim, "rg1").await;
    let scripts = "/_sim/operations/scripts";
    for (i, (result, status)) in [
        ("Succeeded", "Succeeded"),
        ("Failed", "Failed"),
        ("Canceled", "Canceled"),
    ]
    .into_iter()
    .enumerate()
    {
        control(
            &sim,
            Method::PUT,
            scripts,
            Some(json!({"clusterCreate": {"polls": 2, "result": result, "error": {"code": "Boom", "message": "it broke"}}})),
        )
        .await;
        // The next operations of the kind, not only one.
        for n in 0..2 {
            let (polls, body) = cluster_operation(&sim, &format!("c{i}{n}")).await;
            assert_eq!(
                polls, 2,
                "the second poll is the first to show the end: {body}"
            );
            assert_eq!(body["status"], status, "{body}");
            if status != "Succeeded" {
                assert_eq!(body["error"]["code"], "Boom", "{body}");
            }
        }
    }
}

#[tokio::test]
async fn a_script_error_takes_code_message_and_target_only() {
    let sim = Sim::new();
    let put = |error: Value| {
        control(
            &sim,
            Method::PUT,
            "/_sim/operations/scripts",
            Some(json!({"clusterCreate": {"result": "Failed", "error": error}})),
        )
    };
    assert_eq!(
        put(json!({"code": "C", "message": "m", "target": "t"}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        put(json!({"code": "C", "message": "m"})).await.status,
        StatusCode::OK
    );
    for bad in [
        json!({"code": "", "message": "m"}),
        json!({"code": "C", "message": "m", "details": []}),
        json!({"message": "m"}),
    ] {
        let r = put(bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn faults_are_armed_listed_removed_and_cleared() {
    let sim = Sim::new();
    let mine = control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"id": "mine", "path": "/x", "action": {"type": "drop"}})),
    )
    .await;
    assert_eq!(mine.status, StatusCode::CREATED);
    assert_eq!(mine.body["id"], "mine");
    assert_eq!(mine.body["action"]["type"], "drop");
    let generated = control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"path": "/y", "action": {"type": "drop"}})),
    )
    .await;
    assert!(
        generated.body["id"].as_str().unwrap().starts_with("fault-"),
        "{}",
        generated.body
    );
    let cleared = control(&sim, Method::DELETE, "/_sim/faults", None).await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert_eq!(
        control(&sim, Method::GET, "/_sim/faults", None).await.body["value"],
        json!([])
    );
}

#[tokio::test]
async fn faults_match_method_path_glob_and_subscription() {
    let sim = Sim::new();
    let other = "00000000-0000-0000-0000-0000000000c3";
    control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"method": "PUT", "path": "/SUBSCRIPTIONS/*/RESOURCEGROUPS/rg-*", "subscription": SUB,
                    "action": {"type": "error", "status": 409}})),
    )
    .await;
    let hit = sim
        .put(&rg(SUB, "rg-1"), json!({"location": "eastus"}))
        .await;
    assert_eq!(
        hit.status,
        StatusCode::CONFLICT,
        "the glob matches in any case"
    );
    for (method, sub, name) in [
        (Method::GET, SUB, "rg-1"),
        (Method::PUT, other, "rg-1"),
        (Method::PUT, SUB, "x"),
    ] {
        let body = (method == Method::PUT).then(|| json!({"location": "eastus"}));
        let r = sim.call(method.clone(), &rg(sub, name), body).await;
        assert_ne!(r.status, StatusCode::CONFLICT, "{method} {sub} {name}");
    }
}

#[tokio::test]
async fn fault_conditions_all_hold() {
    let sim = Sim::new();
    let add = |rule: Value| control(&sim, Method::POST, "/_sim/faults", Some(rule));
    add(json!({"path": "*/resourcegroups/every", "every": 2, "times": 2, "action": {"type": "error", "status": 500}})).await;
    add(json!({"path": "*/resourcegroups/never", "probability": 0, "action": {"type": "error", "status": 500}})).await;
    add(json!({"path": "*/resourcegroups/always", "probability": 1, "every": 3, "action": {"type": "error", "status": 500}})).await;
    let mut fired = Vec::new();
    for name in ["every", "never", "always"] {
        let mut row = Vec::new();
        for _ in 0..6 {
            row.push(sim.get(&rg(SUB, name)).await.status == StatusCode::INTERNAL_SERVER_ERROR);
        }
        fired.push(row);
    }
    assert_eq!(
        fired[0],
        [false, true, false, true, false, false],
        "every 2nd, at most 2 times"
    );
    assert_eq!(fired[1], [false; 6], "probability 0");
    assert_eq!(
        fired[2],
        [false, false, true, false, false, true],
        "probability 1 and every 3rd"
    );
}

#[tokio::test]
async fn error_faults_answer_in_the_envelope_of_their_path() {
    let sim = Sim::new();
    let add = |rule: Value| control(&sim, Method::POST, "/_sim/faults", Some(rule));
    add(json!({"path": "*/resourcegroups/u", "action": {"type": "error", "status": 503}})).await;
    add(json!({"path": "*/resourcegroups/c", "action": {"type": "error", "status": 400, "code": "Mine", "message": "my words"}})).await;
    add(json!({"path": "/k8s/*", "action": {"type": "error", "status": 429}})).await;
    let unavailable = sim.get(&rg(SUB, "u")).await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unavailable.code(), "ServiceUnavailable");
    assert_eq!(unavailable.header("retry-after"), Some("1"));
    let custom = sim.get(&rg(SUB, "c")).await;
    assert_eq!(
        custom.body["error"],
        json!({"code": "Mine", "message": "my words"})
    );
    let kube = sim
        .get(&format!("/k8s/{SUB}/rg1/c1/api/v1/namespaces"))
        .await;
    assert_eq!(kube.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(kube.body["kind"], "Status");
    assert_eq!(kube.body["code"], 429);
}

#[tokio::test]
async fn operation_failure_faults_fail_or_cancel_the_operation() {
    let sim = common::aks::new_sim();
    common::aks::prepare(&sim, "rg1").await;
    control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"method": "PUT", "path": "*/managedClusters/failed", "action": {"type": "operationFailure", "code": "Broke", "message": "no"}})),
    )
    .await;
    control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"method": "PUT", "path": "*/managedClusters/canceled", "action": {"type": "operationFailure", "canceled": true, "code": "Stopped", "message": "no"}})),
    )
    .await;
    let (_, failed) = cluster_operation(&sim, "failed").await;
    assert_eq!(failed["status"], "Failed", "{failed}");
    assert_eq!(failed["error"]["code"], "Broke");
    let (_, canceled) = cluster_operation(&sim, "canceled").await;
    assert_eq!(canceled["status"], "Canceled", "{canceled}");
    assert_eq!(canceled["error"]["code"], "Stopped");
}

#[tokio::test]
async fn the_journal_is_a_bounded_ring_of_non_control_requests() {
    assert_eq!(aksim::Config::default().journal_size, 1000, "default 1000");
    let sim = Sim::with_config(aksim::Config {
        journal_size: 3,
        ..aksim::Config::for_tests()
    });
    for i in 0..5 {
        sim.get(&rg(SUB, &format!("missing{i}"))).await;
        control(&sim, Method::GET, "/_sim/health", None).await;
    }
    let journal = control(&sim, Method::GET, "/_sim/journal", None).await.body;
    assert_eq!(
        (journal["held"].clone(), journal["dropped"].clone()),
        (json!(3), json!(2)),
        "{journal}"
    );
    let paths: Vec<&str> = journal["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        paths
            .iter()
            .all(|p| p.ends_with("missing2") || p.ends_with("missing3") || p.ends_with("missing4")),
        "{paths:?}"
    );

    let sim = Sim::new();
    control(
        &sim,
        Method::POST,
        "/_sim/faults",
        Some(json!({"path": "*/resourcegroups/slow", "action": {"type": "latency", "ms": 30}})),
    )
    .await;
    let big = "x".repeat(5000);
    sim.call_with(
        Method::PUT,
        &rg(SUB, "slow"),
        Some(json!({"location": "eastus", "tags": {"k": big}})),
        &[
            ("authorization", "Bearer t"),
            ("user-agent", "doc-test/1"),
            ("x-ms-correlation-request-id", "corr-1"),
        ],
    )
    .await;
    let entry = control(&sim, Method::GET, "/_sim/journal", None).await.body["value"][0].clone();
    for key in [
        "time",
        "method",
        "path",
        "query",
        "status",
        "subscription",
        "requestId",
        "correlationId",
        "userAgent",
        "errorCode",
        "errorMessage",
        "fault",
        "requestBody",
        "durationMicros",
    ] {
        assert!(entry.get(key).is_some(), "{key}: {entry}");
    }
    assert_eq!(entry["userAgent"], "doc-test/1");
    assert_eq!(
        entry["requestBody"].as_str().unwrap().len(),
        4096,
        "the first 4 KiB"
    );
    assert!(entry["fault"].as_str().unwrap().starts_with("fault-"));
    assert!(
        entry["durationMicros"].as_u64().unwrap() >= 30_000,
        "a latency fault is in it: {entry}"
    );
    assert_eq!(entry["errorCode"], "InvalidTag", "{entry}");
}

#[tokio::test]
async fn journal_show_export_clear_and_config() {
    let sim = Sim::new();
    for name in ["a", "b"] {
        sim.get(&rg(SUB, name)).await;
    }
    let shown = control(&sim, Method::GET, "/_sim/journal?status=404&limit=20", None)
        .await
        .body;
    for key in ["value", "held", "dropped", "capacity"] {
        assert!(shown.get(key).is_some(), "{key}");
    }
    let lines = control(&sim, Method::GET, "/_sim/journal.jsonl?status=404", None).await;
    assert_eq!(lines.header("content-type"), Some("application/x-ndjson"));
    let text = String::from_utf8(lines.raw).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<Value>(l).is_ok()));
    assert_eq!(
        control(&sim, Method::DELETE, "/_sim/journal", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        control(&sim, Method::GET, "/_sim/journal", None).await.body["held"],
        0
    );
    let resized = control(
        &sim,
        Method::PUT,
        "/_sim/journal/config",
        Some(json!({"capacity": 5000})),
    )
    .await;
    assert_eq!(resized.body, json!({"capacity": 5000}));
    assert_eq!(
        control(&sim, Method::GET, "/_sim/journal", None).await.body["capacity"],
        5000
    );
    control(
        &sim,
        Method::PUT,
        "/_sim/journal/config",
        Some(json!({"capacity": 0})),
    )
    .await;
    sim.get(&rg(SUB, "c")).await;
    assert_eq!(
        control(&sim, Method::GET, "/_sim/journal", None).await.body["held"],
        0,
        "0 turns it off"
    );
    let too_big = control(
        &sim,
        Method::PUT,
        "/_sim/journal/config",
        Some(json!({"capacity": 1_000_001})),
    )
    .await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn every_journal_filter_filters() {
    let sim = Sim::new();
    let other = "00000000-0000-0000-0000-0000000000d4";
    sim.call_with(
        Method::PUT,
        &rg(SUB, "rg1"),
        Some(json!({"location": "eastus"})),
        &[
            ("authorization", "Bearer t"),
            ("x-ms-correlation-request-id", "c-1"),
        ],
    )
    .await;
    sim.get(&rg(SUB, "missing")).await;
    sim.get(&rg(other, "rg1")).await;
    let count = |query: &str| {
        let sim = &sim;
        let query = query.to_owned();
        async move {
            control(sim, Method::GET, &format!("/_sim/journal?{query}"), None)
                .await
                .body["value"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(count("method=PUT").await, 1);
    assert_eq!(count("path=*/resourcegroups/missing").await, 1);
    assert_eq!(count("status=404").await, 2);
    assert_eq!(count(&format!("subscription={other}")).await, 1);
    assert_eq!(count("correlationId=c-1").await, 1);
    assert_eq!(count("errorCode=ResourceGroupNotFound").await, 2);
    let first = control(&sim, Method::GET, "/_sim/journal", None).await.body["value"][0]["seq"]
        .as_u64()
        .unwrap();
    assert_eq!(
        count(&format!("since={first}")).await,
        2,
        "entries after that sequence number"
    );
    assert_eq!(count("limit=1").await, 1);
}

#[tokio::test]
async fn verify_answers_200_or_417_for_count_at_least_and_at_most() {
    let sim = Sim::new();
    sim.get(&rg(SUB, "a")).await;
    sim.get(&rg(SUB, "b")).await;
    for (expect, status) in [
        (json!({"method": "GET", "count": 2}), 200),
        (json!({"method": "GET", "count": 3}), 417),
        (json!({"method": "GET", "atLeast": 2}), 200),
        (json!({"method": "GET", "atLeast": 3}), 417),
        (json!({"method": "GET", "atMost": 2}), 200),
        (json!({"method": "GET", "atMost": 1}), 417),
    ] {
        let r = control(
            &sim,
            Method::POST,
            "/_sim/journal/verify",
            Some(expect.clone()),
        )
        .await;
        assert_eq!(r.status.as_u16(), status, "{expect}");
        assert_eq!(r.body["ok"], status == 200);
        assert_eq!(r.body["count"], 2);
    }
}

#[tokio::test]
async fn one_subscription_exports_and_imports_alone() {
    let sim = Sim::new();
    let other = "00000000-0000-0000-0000-0000000000e5";
    sim.put(&rg(SUB, "keep"), json!({"location": "eastus"}))
        .await;
    sim.put(&rg(other, "theirs"), json!({"location": "eastus"}))
        .await;
    let one = control(&sim, Method::GET, &format!("/_sim/snapshot/{SUB}"), None)
        .await
        .body;
    let subs = one["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["id"], SUB);
    sim.delete(&rg(SUB, "keep")).await;
    sim.put(&rg(SUB, "later"), json!({"location": "eastus"}))
        .await;
    sim.put(&rg(other, "also"), json!({"location": "eastus"}))
        .await;
    let r = control(
        &sim,
        Method::PUT,
        &format!("/_sim/snapshot/{SUB}"),
        Some(one.clone()),
    )
    .await;
    assert_eq!(r.body, json!({"imported": 1}));
    assert_eq!(sim.get(&rg(SUB, "keep")).await.status, StatusCode::OK);
    assert_eq!(
        sim.get(&rg(SUB, "later")).await.status,
        StatusCode::NOT_FOUND,
        "replaced"
    );
    assert_eq!(
        sim.get(&rg(other, "also")).await.status,
        StatusCode::OK,
        "the other is untouched"
    );
    let missing = control(
        &sim,
        Method::PUT,
        &format!("/_sim/snapshot/{other}"),
        Some(one),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_snapshot_is_plain_json_of_that_shape() {
    let sim = Sim::new();
    sim.put(&rg(SUB, "rg1"), json!({"location": "eastus"}))
        .await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let plain = control(&sim, Method::GET, "/_sim/snapshot", None).await;
    assert_eq!(
        keys(&plain.body),
        [
            "format",
            "version",
            "aksimVersion",
            "clock",
            "subscriptions"
        ]
    );
    assert_eq!(plain.body["format"], "aksim-snapshot");
    assert_eq!(plain.body["version"], 1);
    control(
        &sim,
        Method::POST,
        "/_sim/sandboxes",
        Some(json!({"azureDate": "2023-12-01"})),
    )
    .await;
    let with = control(&sim, Method::GET, "/_sim/snapshot", None)
        .await
        .body;
    assert_eq!(
        keys(&with),
        [
            "format",
            "version",
            "aksimVersion",
            "clock",
            "subscriptions",
            "azureDates"
        ]
    );
}

#[tokio::test]
async fn import_refuses_unknown_fields_at_every_level_and_changes_nothing() {
    let sim = common::aks::new_sim();
    common::aks::prepare(&sim, "rg1").await;
    sim.put(
        &common::aks::cluster_url("rg1", "c1"),
        common::aks::az_create_body("c1", "rg1", None),
    )
    .await;
    let snapshot = control(&sim, Method::GET, "/_sim/snapshot", None)
        .await
        .body;
    // The first key of a map, escaped for a JSON pointer.
    let first = |map: &Value| {
        let key = map
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .expect("an entry");
        key.replace('~', "~0").replace('/', "~1")
    };
    let sub = &snapshot["subscriptions"][0];
    let places = [
        String::new(),
        "/subscriptions/0".to_owned(),
        format!(
            "/subscriptions/0/resourceGroups/{}",
            first(&sub["resourceGroups"])
        ),
        format!("/subscriptions/0/providers/{}", first(&sub["providers"])),
        format!("/subscriptions/0/operations/{}", first(&sub["operations"])),
        format!(
            "/subscriptions/0/managedClusters/{}",
            first(&sub["managedClusters"])
        ),
    ];
    let before = control(&sim, Method::GET, "/_sim/snapshot", None)
        .await
        .body;
    for place in places {
        let mut bad = snapshot.clone();
        bad.pointer_mut(&place)
            .unwrap_or_else(|| panic!("{place} exists"))
            .as_object_mut()
            .unwrap()
            .insert("surprise".into(), json!(1));
        let r = control(&sim, Method::PUT, "/_sim/snapshot", Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{place}: {}", r.body);
        assert!(
            r.body.to_string().contains("surprise"),
            "{place}: {}",
            r.body
        );
    }
    let mut newer = snapshot.clone();
    newer["version"] = json!(2);
    let r = control(&sim, Method::PUT, "/_sim/snapshot", Some(newer)).await;
    assert!(
        r.body.to_string().contains("newer than this aksim"),
        "{}",
        r.body
    );
    assert_eq!(
        control(&sim, Method::GET, "/_sim/snapshot", None)
            .await
            .body["subscriptions"],
        before["subscriptions"],
        "nothing changed"
    );
}

#[tokio::test]
async fn an_inconsistent_lazy_plane_is_refused_for_each_reason() {
    let sim = common::aks::new_sim();
    common::aks::prepare(&sim, "rg1").await;
    common::aks::create(
        &sim,
        "rg1",
        "c1",
        Some(json!({"mode": "Istio", "istio": {}})),
    )
    .await;
    let snapshot = control(&sim, Method::GET, "/_sim/snapshot", None)
        .await
        .body;
    let plane = "/subscriptions/0/kubePlanes/rg1~1c1";
    assert!(
        snapshot.pointer(&format!("{plane}/lazy")).is_some(),
        "an unused plane is lazy"
    );
    let reconcile = snapshot
        .pointer(&format!("{plane}/lazy/reconciles/0"))
        .unwrap()
        .clone();
    let too_many: Vec<Value> = (0..=aksim::limits::KUBE_LAZY_RECONCILES_MAX)
        .map(|_| reconcile.clone())
        .collect();
    let edits = [
        (
            "objects",
            json!({"/namespaces//x": {"metadata": {"name": "x"}}}),
        ),
        (
            "events",
            json!([{"resourceVersion": 1, "eventType": "ADDED", "group": "", "resource": "namespaces", "namespace": "", "object": {"metadata": {"name": "x"}}}]),
        ),
        ("resourceVersion", json!(9)),
        ("lazy/reconciles", Value::Array(too_many)),
        ("mesh/enabled", json!(false)),
    ];
    for (field, value) in edits {
        let mut bad = snapshot.clone();
        *bad.pointer_mut(&format!("{plane}/{field}"))
            .unwrap_or_else(|| panic!("{field}")) = value;
        let r = control(&sim, Method::PUT, "/_sim/snapshot", Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.body);
        assert!(
            r.body.to_string().contains("plane 'rg1/c1'"),
            "{field}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn import_moves_the_clock_forward_never_back() {
    let at = |start: &str| {
        Sim::with_config(aksim::Config {
            clock_start: Some(start.into()),
            clock_frozen: true,
            ..aksim::Config::for_tests()
        })
    };
    let source = at("2026-06-01T00:00:00Z");
    let snapshot = control(&source, Method::GET, "/_sim/snapshot", None)
        .await
        .body;
    let behind = at("2026-01-01T00:00:00Z");
    control(
        &behind,
        Method::PUT,
        "/_sim/snapshot",
        Some(snapshot.clone()),
    )
    .await;
    let now = |sim: &Sim| sim.state.core.clock.now();
    assert_eq!(
        now(&behind),
        time::macros::datetime!(2026-06-01 00:00 UTC),
        "moved forward"
    );
    let ahead = at("2027-01-01T00:00:00Z");
    control(&ahead, Method::PUT, "/_sim/snapshot", Some(snapshot)).await;
    assert_eq!(
        now(&ahead),
        time::macros::datetime!(2027-01-01 00:00 UTC),
        "never back"
    );
}

#[tokio::test]
async fn every_guid_is_a_usable_isolated_subscription() {
    let sim = Sim::new();
    let a = uuid::Uuid::new_v4().to_string();
    let b = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        sim.put(&rg(&a, "rg1"), json!({"location": "eastus"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let listed = sim
        .get(&format!(
            "/subscriptions/{b}/resourcegroups?api-version=2024-11-01"
        ))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["value"], json!([]), "{}", listed.body);
    assert_eq!(sim.get(&rg(&b, "rg1")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctl_prints_json_and_exits_0_or_1() {
    let state = aksim::AppState::for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aksim::serve(listener, None, aksim::app(state), async {
        let _ = stopped.await;
    }));
    let run = |words: &'static [&'static str]| {
        let url = url.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_aksim"))
                .arg("ctl")
                .args(["--url", &url])
                .args(words)
                .output()
                .await
                .unwrap()
        }
    };
    let ok = run(&["health"]).await;
    assert_eq!(ok.status.code(), Some(0));
    let printed: Value = serde_json::from_slice(&ok.stdout).expect("JSON on stdout");
    assert_eq!(printed["status"], "ok");
    let refused = run(&["faults", "remove", "nope"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).starts_with("aksim ctl: HTTP 404"));
}

#[tokio::test]
async fn ctl_refuses_a_snapshot_file_past_the_limit_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.json");
    // A sparse file: its size is past the limit, its blocks are not written.
    std::fs::File::create(&file)
        .unwrap()
        .set_len(aksim::limits::SNAPSHOT_IMPORT_MAX_BYTES as u64 + 1)
        .unwrap();
    let parsed = <Wrapper as clap::Parser>::try_parse_from([
        "ctl",
        "--url",
        "http://127.0.0.1:9",
        "snapshot",
        "import",
        file.to_str().unwrap(),
    ])
    .unwrap();
    let err = aksim::ctl::run(parsed.args).await.unwrap_err();
    assert!(
        err.contains("aksim imports snapshots up to 268435456 bytes"),
        "refused before any connection: {err}"
    );
}
