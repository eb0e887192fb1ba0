//! AKS by date, checked against its evidence and its documentation:
//! - every recorded real `meshRevisionProfiles` / `meshUpgradeProfiles` answer the timeline
//!   embeds (`recordedAnswers`, from the Azure CLI's own test recordings of 2024-02-27 to
//!   2026-04-21) is what aksim answers on the recording's day;
//! - docs/aks-by-date.md is generated from the data and the rule registry
//!   (`AKSIM_BLESS=1 cargo test -p aksim --test aks_by_date` rewrites it);
//! - the dates behave: the default day is the data's newest, a day resolves like the last day
//!   of change before it, and today's AKS is what the sources say.

mod common;

use aksim::core::timeline::{self, changes, Behaviour};
use common::aks::{az_create_body, prepare, put_and_wait, sim_at};
use common::SUB;
use serde_json::{json, Value};

fn page_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/aks-by-date.md")
}

#[test]
fn the_page_is_generated_from_the_data_and_the_registry() {
    let t = timeline::timeline();
    let (rules, rule_changes) = aksim::core::clusters::rules::by_date();
    let wanted = changes::markdown(&t.raw, &rule_changes, &rules);
    if std::env::var_os("AKSIM_BLESS").is_some() {
        std::fs::write(page_path(), &wanted).expect("write docs/aks-by-date.md");
    }
    let have = std::fs::read_to_string(page_path()).unwrap_or_default();
    assert!(
        have == wanted,
        "docs/aks-by-date.md is stale; rewrite it with \
         `AKSIM_BLESS=1 cargo test -p aksim --test aks_by_date`"
    );
    // Every rule appears with its days, every dated rule as a change.
    for [id, since, ..] in &rules {
        assert!(have.contains(&format!("| `{id}` | {since} |")), "{id}");
    }
}

/// The path and api-version of a recorded request, with the subscription made ours.
fn recorded_request(answer: &Value) -> (String, String) {
    let request = answer["request"].as_str().unwrap();
    let (_, rest) = request.split_once(' ').unwrap();
    let (path, query) = rest.split_once('?').unwrap();
    let api = query
        .trim_start_matches("api-version=")
        .split([' ', '&'])
        .next()
        .unwrap()
        .to_owned();
    // Api-versions the test suite rewrote later are newer than the recording; the shape of
    // these answers is the same on every api-version that has them.
    let api = if query.contains("rewritten") {
        "2026-06-01".to_owned()
    } else {
        api
    };
    // eastus2euap (a canary region ordinary subscriptions cannot use) answers like westus2.
    (
        path.replace("{s}", SUB).replace("eastus2euap", "westus2"),
        api,
    )
}

#[tokio::test]
async fn recorded_mesh_answers_are_reproduced_on_their_days() {
    let t = timeline::timeline();
    let mut checked = 0;
    for answer in &t.raw.recorded_answers {
        let request = answer["request"].as_str().unwrap_or("");
        let day = answer["date"].as_str().unwrap();
        let what = format!("{} #{} ({day})", answer["cassette"], answer["interaction"]);
        if request.contains("meshRevisionProfiles") {
            let (path, api) = recorded_request(answer);
            let sim = sim_at(day);
            prepare(&sim, "rg1").await;
            let got = sim.get(&format!("{path}?api-version={api}")).await;
            assert_eq!(got.status.as_u16(), 200, "{what}: {}", got.body);
            assert_eq!(
                got.body["value"][0]["properties"]["meshRevisions"],
                answer["body"]["value"][0]["properties"]["meshRevisions"],
                "{what}"
            );
            checked += 1;
        } else if request.contains("meshUpgradeProfiles") {
            // The recorded cluster: today's default version then, the recorded revision.
            let (_, api) = recorded_request(answer);
            let recorded = &answer["body"]["value"][0]["properties"];
            let revision = recorded["revision"].as_str().unwrap();
            let sim = sim_at(day);
            prepare(&sim, "rg1").await;
            let body = az_create_body(
                "c1",
                "rg1",
                Some(json!({"mode": "Istio", "istio": {"revisions": [revision]}})),
            );
            put_and_wait(&sim, "rg1", "c1", body)
                .await
                .unwrap_or_else(|r| panic!("{what}: {:?}", r.body));
            let got = sim
                .get(&format!(
                    "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/meshUpgradeProfiles?api-version={api}"
                ))
                .await;
            assert_eq!(got.status.as_u16(), 200, "{what}: {}", got.body);
            assert_eq!(got.body["value"][0]["properties"], *recorded, "{what}");
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} recorded mesh answers checked"
    );
}

#[test]
fn today_is_the_default_and_days_resolve_like_their_last_change() {
    let t = timeline::timeline();
    let config = aksim::Config::for_tests();
    let state =
        aksim::AppState::new(config, aksim::identity::TokenIssuer::ephemeral(), None).unwrap();
    assert_eq!(state.core.behaviour.day, t.newest_day());
    // Any day answers like the last day of change before it (the cache is keyed by that).
    let mut d = t.first_day();
    while d <= t.newest_day() {
        let epoch = t.epoch(d);
        let a = serde_json::to_value(&*Behaviour::at(d).aks).unwrap();
        let b = serde_json::to_value(&*Behaviour::at(epoch).aks).unwrap();
        assert_eq!(a["kubernetes"], b["kubernetes"], "{d}");
        assert_eq!(a["mesh"], b["mesh"], "{d}");
        d = d.checked_add(time::Duration::days(7)).unwrap();
    }
}

/// Today's AKS, as the sources give it (shared/reference/fidelity-2026-12-07.md).
#[test]
fn today_matches_the_sources() {
    let today = Behaviour::at(timeline::timeline().newest_day());
    let aks = &today.aks;
    assert_eq!(aks.kubernetes.default, "1.36");
    let minor = |v: &str| aks.minor(v).cloned();
    assert!(minor("1.36").is_some_and(|m| m.official && m.lts));
    assert!(
        minor("1.33").is_some_and(|m| !m.official && m.lts),
        "LTS-only"
    );
    assert!(minor("1.30").is_none(), "deprecated");
    assert!(aks.revision("asm-1-27").unwrap().deprecated);
    for r in ["asm-1-29", "asm-1-30"] {
        assert!(aks.is_compatible(r, "1.36", "KubernetesOfficial"), "{r}");
    }
    assert_eq!(
        aks.default_revision("1.36", "KubernetesOfficial")
            .as_deref(),
        Some("asm-1-29")
    );
    let admission = &today.dated.admission;
    assert_eq!(
        admission.envoy_filter,
        timeline::admission::EnvoyFilterPolicy::All
    );
    assert!(admission
        .mesh_config_fields
        .iter()
        .any(|f| f == "tcpKeepalive"));
    assert!(!admission
        .mesh_config_fields
        .iter()
        .any(|f| f == "tcpKeepAlive"));
    for field in ["gatewayTopology", "proxyHeaders"] {
        assert!(admission.proxy_config_fields.iter().any(|f| f == field));
    }
    assert!(admission.ingress_annotation_allowed("external-dns.alpha.kubernetes.io/hostname"));
    assert!(today.dated.native_sidecars("asm-1-29", "1.33", true));
    assert!(today.dated.cni_by_default("asm-1-30", "1.36"));
}
