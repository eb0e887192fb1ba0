//! Concurrent model-based property test: proptest generates batches of cluster operations
//! (PUT, PATCH tags, GET; with no condition, a fresh or a stale `If-Match`, or a PUT's
//! `If-None-Match: *`) over four
//! clusters in two subscriptions; each batch runs at once (one tokio task per request on a
//! multi-threaded runtime, against the in-process router). Then checks that hold for ANY
//! interleaving:
//! - every request got one of its allowed answers (200, 409 `OperationNotAllowed`, 412
//!   `PreconditionFailed`); a stale `If-Match` or `If-None-Match: *` on an existing cluster is
//!   always 412; a 409 only happens when a PUT of the batch started an operation on that
//!   cluster, a 412 on a fresh ETag only when another write of the batch moved it;
//! - the server's serial order is reconstructed from the ETags: they are drawn, under the
//!   subscription lock, from the one seeded id generator, so their positions in its replayed
//!   stream order the accepted writes. Replaying the accepted writes in that order on a plain
//!   model: each `If-Match` equalled the model's ETag at that point (no lost update), no write
//!   was accepted while a PUT's operation ran (at most one per cluster while it runs), and the
//!   final GET equals the model (tags, ETag, provisioning state);
//! - ETags only move forward (never reused), reads only see states that existed, and a third
//!   subscription nobody writes to is unchanged (snapshot compared).
//!
//! Cases: 24 by default (a few seconds), `PROPTEST_CASES=N` for more.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::aks::{az_create_body, API};
use common::Sim;
use proptest::prelude::*;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};

/// The simulator's id seed (`Config::for_tests`).
const SEED: u64 = 1;
const SUBS: [&str; 2] = [
    "00000000-0000-0000-0000-00000000000a",
    "00000000-0000-0000-0000-00000000000b",
];
/// Nobody writes here: it must end as it started.
const QUIET_SUB: &str = "00000000-0000-0000-0000-00000000000c";
const CLUSTERS: [&str; 2] = ["c1", "c2"];
/// An ETag the server never issued before the batch (the first one of each cluster).
const STALE: usize = 0;

fn url(sub: &str, cluster: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/{cluster}?api-version={API}"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    None,
    /// The ETag read just before the batch.
    Fresh,
    /// The cluster's first ETag (long replaced).
    Stale,
    /// `If-None-Match: *` (create only).
    CreateOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Put,
    Patch,
    Get,
}

#[derive(Debug, Clone)]
struct Op {
    /// Index into `targets()`.
    target: usize,
    kind: Kind,
    cond: Cond,
}

fn op() -> impl Strategy<Value = Op> {
    let cond = prop_oneof![
        4 => Just(Cond::None),
        3 => Just(Cond::Fresh),
        1 => Just(Cond::Stale),
        1 => Just(Cond::CreateOnly),
    ];
    let kind = prop_oneof![3 => Just(Kind::Put), 3 => Just(Kind::Patch), 2 => Just(Kind::Get)];
    (0..SUBS.len() * CLUSTERS.len(), kind, cond).prop_map(|(target, kind, cond)| Op {
        target,
        kind,
        // AKS declares If-None-Match on PUT only (`../shared/reference/ARM-CONTRACT.md` §2.5); a PATCH ignores it.
        cond: match (kind, cond) {
            (Kind::Get, _) | (Kind::Patch, Cond::CreateOnly) => Cond::None,
            _ => cond,
        },
    })
}

#[derive(Debug, Clone)]
struct Batch {
    /// Virtual seconds an update operation takes: 0 (done at the next look) or long.
    update_secs: u32,
    ops: Vec<Op>,
}

fn batch() -> impl Strategy<Value = Batch> {
    (
        prop_oneof![Just(0u32), Just(600u32)],
        prop::collection::vec(op(), 4..28),
    )
        .prop_map(|(update_secs, ops)| Batch { update_secs, ops })
}

/// (subscription, cluster) of a target index.
fn target(i: usize) -> (&'static str, &'static str) {
    (SUBS[i / CLUSTERS.len()], CLUSTERS[i % CLUSTERS.len()])
}

/// The model of one cluster: what a GET must show.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    tags: Value,
    etag: String,
    updating: bool,
    /// Every ETag the cluster ever had, oldest first.
    history: Vec<String>,
}

/// What one request got.
#[derive(Debug)]
struct Outcome {
    op: Op,
    /// The unique tag value the write carried.
    mark: String,
    status: StatusCode,
    code: String,
    body: Value,
}

fn etag_of(body: &Value) -> String {
    body["eTag"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

/// Positions of UUIDs in the seeded generator's stream: `fill_bytes` takes whole 32-bit
/// words, so a UUID drawn at word `p` is words `p..p+4` (version and variant bits aside).
struct IdStream {
    words: Vec<u32>,
    index: HashMap<u32, Vec<usize>>,
}

impl IdStream {
    fn new(words: usize) -> Self {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(SEED);
        let words: Vec<u32> = (0..words).map(|_| rng.next_u32()).collect();
        let mut index: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, w) in words.iter().enumerate() {
            index.entry(*w).or_default().push(i);
        }
        IdStream { words, index }
    }

    fn position(&self, id: &str) -> Option<usize> {
        let uuid = uuid::Uuid::parse_str(id).ok()?;
        let b = uuid.as_bytes();
        let first = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        self.index.get(&first)?.iter().copied().find(|&p| {
            let mut bytes = [0u8; 16];
            for k in 0..4 {
                let Some(w) = self.words.get(p + k) else {
                    return false;
                };
                bytes[k * 4..k * 4 + 4].copy_from_slice(&w.to_le_bytes());
            }
            uuid::Builder::from_random_bytes(bytes).into_uuid() == uuid
        })
    }
}

async fn setup() -> (Arc<Sim>, Vec<Model>, Value) {
    let mut config = aksim::Config::for_tests();
    config.auto_register_providers = true;
    config.clock_frozen = true;
    let sim = Arc::new(Sim::with_config(config));
    let mut models = Vec::new();
    for sub in SUBS.iter().chain([&QUIET_SUB]) {
        let r = sim
            .put(
                &format!("/subscriptions/{sub}/resourcegroups/rg1?api-version=2024-11-01"),
                json!({"location": "eastus"}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        for cluster in CLUSTERS {
            let r = sim
                .put(&url(sub, cluster), az_create_body(cluster, "rg1", None))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            // AKS answers the eTag once the create finished (the durations here are zero).
            let first = etag_of(&sim.get(&url(sub, cluster)).await.body);
            // Move past the first ETag, so it is stale for the batches.
            let r = sim
                .patch(&url(sub, cluster), json!({"tags": {"w": "setup"}}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            if *sub != QUIET_SUB {
                models.push(Model {
                    tags: json!({"w": "setup"}),
                    etag: etag_of(&r.body),
                    updating: false,
                    history: vec![first, etag_of(&r.body)],
                });
            }
        }
    }
    let quiet = snapshot(&sim, QUIET_SUB).await;
    (sim, models, quiet)
}

async fn snapshot(sim: &Sim, sub: &str) -> Value {
    let r = sim
        .call_with(Method::GET, &format!("/_sim/snapshot/{sub}"), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    r.body["subscriptions"].clone()
}

/// Runs one batch concurrently; outcomes in the batch's order.
async fn run_batch(sim: &Arc<Sim>, models: &[Model], batch: &Batch, n: usize) -> Vec<Outcome> {
    let tasks: Vec<_> = batch
        .ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let sim = sim.clone();
            let op = op.clone();
            let model = &models[op.target];
            let etag = match op.cond {
                Cond::Fresh => Some(model.etag.clone()),
                Cond::Stale => Some(model.history[STALE].clone()),
                Cond::None | Cond::CreateOnly => None,
            };
            let mark = format!("b{n}-w{i}");
            tokio::spawn(async move {
                let (sub, cluster) = target(op.target);
                let mut headers = vec![("authorization", "Bearer t".to_owned())];
                if let Some(e) = etag {
                    headers.push(("if-match", e));
                }
                if op.cond == Cond::CreateOnly {
                    headers.push(("if-none-match", "*".to_owned()));
                }
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let tags = json!({"w": mark});
                let (method, body) = match op.kind {
                    Kind::Put => {
                        let mut body = az_create_body(cluster, "rg1", None);
                        body["tags"] = tags;
                        (Method::PUT, Some(body))
                    }
                    Kind::Patch => (Method::PATCH, Some(json!({ "tags": tags }))),
                    Kind::Get => (Method::GET, None),
                };
                let r = sim
                    .call_with(method, &url(sub, cluster), body, &headers)
                    .await;
                Outcome {
                    op,
                    mark,
                    status: r.status,
                    code: r.code().to_owned(),
                    body: r.body,
                }
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}

/// Checks one batch's outcomes and advances the models; `Err` names the broken invariant.
fn check_batch(
    batch: &Batch,
    outcomes: &[Outcome],
    models: &mut [Model],
    stream: &IdStream,
    finals: &[Value],
) -> Result<(), String> {
    let long = batch.update_secs > 0;
    for (t, model) in models.iter_mut().enumerate() {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.op.target == t).collect();
        let accepted: Vec<&Outcome> = mine
            .iter()
            .copied()
            .filter(|o| o.op.kind != Kind::Get && o.status == StatusCode::OK)
            .collect();
        let put_accepted = accepted.iter().any(|o| o.op.kind == Kind::Put);
        // Allowed answers, request by request.
        for o in &mine {
            let what = format!("{:?} {:?} ({})", o.op.kind, o.op.cond, o.mark);
            match (o.op.kind, o.status) {
                (Kind::Get, StatusCode::OK) => {}
                (Kind::Get, s) => return Err(format!("{what}: GET answered {s}")),
                (_, StatusCode::OK) if matches!(o.op.cond, Cond::Stale | Cond::CreateOnly) => {
                    return Err(format!("{what}: accepted despite its condition"))
                }
                (_, StatusCode::OK) => {}
                (_, StatusCode::PRECONDITION_FAILED) => {
                    if o.code != "PreconditionFailed" {
                        return Err(format!("{what}: 412 with code {}", o.code));
                    }
                    if o.op.cond == Cond::Fresh && accepted.is_empty() {
                        return Err(format!("{what}: 412 on a fresh ETag nobody moved"));
                    }
                    if o.op.cond == Cond::None {
                        return Err(format!("{what}: 412 without a condition"));
                    }
                }
                (_, StatusCode::CONFLICT) => {
                    if o.code != "OperationNotAllowed" {
                        return Err(format!("{what}: 409 with code {}", o.code));
                    }
                    if !(long && put_accepted) {
                        return Err(format!("{what}: 409 but no operation of the batch ran"));
                    }
                    if matches!(o.op.cond, Cond::Stale | Cond::CreateOnly) {
                        return Err(format!("{what}: 409, but the ETag check comes first (412)"));
                    }
                }
                (_, s) => return Err(format!("{what}: unexpected {s} {}", o.body)),
            }
        }
        // The server's order of the accepted writes, from where their ETags were drawn.
        let mut ordered = Vec::new();
        for o in &accepted {
            let etag = etag_of(&o.body);
            let pos = stream
                .position(&etag)
                .ok_or_else(|| format!("{}: ETag {etag} is not from the id stream", o.mark))?;
            ordered.push((pos, *o, etag));
        }
        ordered.sort_by_key(|(pos, ..)| *pos);
        let seen: BTreeSet<&String> = model.history.iter().collect();
        let before = model.etag.clone();
        let mut states = vec![model.etag.clone()];
        for (_, o, etag) in &ordered {
            if seen.contains(etag) || states.contains(etag) {
                return Err(format!("{}: ETag {etag} was issued before", o.mark));
            }
            if model.updating {
                return Err(format!(
                    "{}: accepted while an update operation ran",
                    o.mark
                ));
            }
            if o.op.cond == Cond::Fresh && model.etag != before {
                return Err(format!(
                    "{}: If-Match {before} accepted after the ETag moved on (lost update)",
                    o.mark
                ));
            }
            model.tags = json!({"w": o.mark});
            model.etag = etag.clone();
            model.updating = o.op.kind == Kind::Put && long;
            states.push(etag.clone());
        }
        // Reads saw states that existed.
        for o in mine.iter().filter(|o| o.op.kind == Kind::Get) {
            let etag = etag_of(&o.body);
            if !states.contains(&etag) {
                return Err(format!("a GET saw ETag {etag}, which no state had"));
            }
        }
        // The final state is the model's.
        let got = &finals[t];
        let state = got["properties"]["provisioningState"]
            .as_str()
            .unwrap_or("");
        let want = if model.updating {
            "Updating"
        } else {
            "Succeeded"
        };
        if got["tags"] != model.tags || etag_of(got) != model.etag || state != want {
            return Err(format!(
                "{:?}: final state {} / {} / {state}, model {} / {} / {want}",
                target(t),
                got["tags"],
                etag_of(got),
                model.tags,
                model.etag
            ));
        }
        model.history.extend(states.into_iter().skip(1));
    }
    Ok(())
}

async fn run_case(batches: Vec<Batch>) -> Result<(), String> {
    let (sim, mut models, quiet) = setup().await;
    static STREAM: std::sync::OnceLock<IdStream> = std::sync::OnceLock::new();
    // A case draws a few thousand words; 64 Ki is ample (a miss is reported, not ignored).
    let stream = STREAM.get_or_init(|| IdStream::new(1 << 16));
    for (n, batch) in batches.iter().enumerate() {
        sim.state
            .core
            .durations
            .write()
            .apply(
                &[format!("clusterUpdate={}", batch.update_secs)],
                &aksim::core::OP_KINDS,
            )
            .map_err(|e| format!("durations: {e}"))?;
        let outcomes = run_batch(&sim, &models, batch, n).await;
        let mut finals = Vec::new();
        for t in 0..models.len() {
            let (sub, cluster) = target(t);
            finals.push(sim.get(&url(sub, cluster)).await.body);
        }
        check_batch(batch, &outcomes, &mut models, stream, &finals)
            .map_err(|e| format!("batch {n}: {e}"))?;
        // Let every operation end before the next batch.
        sim.advance(f64::from(batch.update_secs) + 1.0);
        for m in models.iter_mut() {
            m.updating = false;
        }
    }
    let after = snapshot(&sim, QUIET_SUB).await;
    if after != quiet {
        return Err("the quiet subscription changed".into());
    }
    // Each subscription holds exactly its own clusters.
    for sub in SUBS {
        let list = sim
            .get(&format!(
                "/subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters?api-version={API}"
            ))
            .await;
        let names: BTreeMap<String, ()> = list.body["value"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["name"].as_str())
                    .map(|n| (n.to_owned(), ()))
                    .collect()
            })
            .unwrap_or_default();
        if names.keys().map(String::as_str).collect::<Vec<_>>() != CLUSTERS {
            return Err(format!("{sub} lists {:?}", names.keys()));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn concurrent_batches_keep_arm_semantics(batches in prop::collection::vec(batch(), 1..4)) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("runtime");
        if let Err(e) = runtime.block_on(run_case(batches)) {
            return Err(TestCaseError::fail(e));
        }
    }
}
