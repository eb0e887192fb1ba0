//! The fuzz targets' checks on stable (`aksim::hostile`, the same functions `fuzz/` drives with
//! libFuzzer): every committed seed passes, every input the fuzzers ever broke stays fixed
//! (one line per finding), and proptest feeds byte-level and JSON-level mutations of the
//! seeds through the checks for a bounded number of cases, so `cargo test` keeps guarding
//! what the fuzzers explored.

use std::path::PathBuf;

use aksim::hostile;
use proptest::prelude::*;
use serde_json::{json, Value};

type Check = fn(&[u8]) -> Result<(), String>;

/// The fuzz targets: seed folder (fuzz/seeds/<name>) and check.
const TARGETS: [(&str, Check); 5] = [
    ("arm_path", hostile::check_path),
    ("arm_body", hostile::check_arm_body),
    ("kube_body", hostile::check_kube_body),
    ("scenario", hostile::check_scenario),
    ("cassette", hostile::check_cassette),
];

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no seeds", dir.display());
    files
        .iter()
        .map(|f| std::fs::read(f).expect("seed"))
        .collect()
}

fn check(target: &str) -> Check {
    TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, c)| *c)
        .expect("known target")
}

#[test]
fn every_seed_passes() {
    for (target, check) in TARGETS {
        for (i, seed) in seeds(target).iter().enumerate() {
            if let Err(finding) = check(seed) {
                panic!("{target} seed {i}: {finding}");
            }
        }
    }
}

/// Every finding of the fuzz targets, as (target, what it was, input). Each is described,
/// with its fix, in docs/performance.md ("Fuzzing").
fn findings() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        (
            "arm_path",
            "POST /_sim/faults/{id} (a control path, a method it does not take): axum's 405 \
             with an empty body; now the 405 MethodNotAllowed envelope",
            b"/_sim/faults/{id}iesk".to_vec(),
        ),
        (
            "arm_path",
            "the check's own bug: `/k8s?…` (the kube prefix, then a query) got its Kubernetes \
             Status, but the check chose the envelope from the path with its query",
            b"0/k8s?00000000-0000-0000-0000-0000000000\x831/rg1/c1/api/v1/namespaces/ns1/c~ofigmaps/cm1".to_vec(),
        ),
        (
            "arm_path",
            "a path over the 8 KiB limit with a multi-byte character at byte 64 panicked (the \
             error message cut the path inside the character)",
            format!("0/ab{}", "é".repeat(aksim::limits::PATH_MAX_CHARS)).into_bytes(),
        ),
        (
            "arm_path",
            "`/_sim/` (the control prefix with an empty rest; here with a `#` fragment after \
             it): the nested control router never saw it and axum answered an empty 404; now \
             the control API's NotFound envelope",
            b"0/_sim/#journal/config/k8000-\xdb000000000001/ata.name%3Dx&watch=fals\x8fe".to_vec(),
        ),
        (
            "scenario",
            "20,000 nested `{{prefix:` placeholders in a request path: quadratic rescans for \
             seconds, then a stack overflow (now refused past 8 levels)",
            format!(
                "0name: x\nsteps:\n  - request: {{method: GET, path: '{}{}'}}\n",
                "{{prefix:".repeat(20_000),
                "}}".repeat(20_000)
            )
            .into_bytes(),
        ),
    ]
}

#[test]
fn fuzz_findings_stay_fixed() {
    for (target, what, input) in findings() {
        if let Err(finding) = check(target)(&input) {
            panic!("{target} ({what}): {finding}");
        }
    }
}

/// One byte-level edit, as libFuzzer makes them.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let interesting = prop::sample::select(vec![
        b"\"".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"[".to_vec(),
        b"\\u0000".to_vec(),
        b"\xff\xfe".to_vec(),
        "é💥".as_bytes().to_vec(),
        b"%".to_vec(),
        b"%2F".to_vec(),
        b"..".to_vec(),
        b"{{".to_vec(),
        b"1e999".to_vec(),
        b"-1".to_vec(),
        b"null".to_vec(),
        b"18446744073709551616".to_vec(),
        b"\n- ".to_vec(),
        b": &a *a".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![interesting, prop::collection::vec(any::<u8>(), 1..8)]
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Edit::Remove(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ]
}

/// Applies edits after the selector byte (which stays, so the endpoint is the seed's).
fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for e in edits {
        let body = out.len().saturating_sub(1);
        let at = |i: usize| 1 + if body == 0 { 0 } else { i % (body + 1) };
        match e {
            Edit::Flip(i, b) if body > 0 => {
                let i = 1 + i % body;
                out[i] ^= b | 1;
            }
            Edit::Flip(..) => {}
            Edit::Insert(i, bytes) => {
                let i = at(*i).min(out.len());
                out.splice(i..i, bytes.iter().copied());
            }
            Edit::Remove(i, n) => {
                let i = at(*i).min(out.len());
                let end = (i + n).min(out.len());
                out.drain(i..end);
            }
            Edit::Truncate(i) => {
                let i = at(*i).min(out.len());
                out.truncate(i);
            }
            Edit::Duplicate(i, n) => {
                let i = at(*i).min(out.len());
                let end = (i + n).min(out.len());
                let copy = out[i..end].to_vec();
                out.splice(end..end, copy);
            }
        }
    }
    out
}

/// A JSON value a client might put where another was expected.
fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(u64::MAX)),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("x".repeat(5000))),
        Just(json!("asm-1-27")),
        Just(json!("Istio")),
        Just(json!("/subscriptions/x/resourceGroups/rg")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z$]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the `n`-th node (pre-order) of `v` with `with`.
fn replace_nth(v: &mut Value, n: &mut usize, with: &Value) -> bool {
    if *n == 0 {
        *v = with.clone();
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| replace_nth(x, n, with)),
        Value::Object(o) => o.values_mut().any(|x| replace_nth(x, n, with)),
        _ => false,
    }
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// JSON-level mutation of a JSON seed: some nodes replaced by hostile values.
fn mutate_json(seed: &[u8], changes: &[(usize, Value)]) -> Option<Vec<u8>> {
    let (selector, body) = seed.split_first()?;
    let mut v: Value = serde_json::from_slice(body).ok()?;
    for (at, with) in changes {
        let mut n = at % count(&v);
        replace_nth(&mut v, &mut n, with);
    }
    let mut out = vec![*selector];
    out.extend(serde_json::to_vec(&v).ok()?);
    Some(out)
}

/// `cases` unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// Byte-level mutations of every target's seeds.
    #[test]
    fn byte_mutations_keep_the_invariants(
        target in 0usize..TARGETS.len(),
        pick in any::<usize>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let (name, check) = TARGETS[target];
        let seeds = seeds(name);
        let input = apply(&seeds[pick % seeds.len()], &edits);
        if let Err(finding) = check(&input) {
            return Err(TestCaseError::fail(format!(
                "{name}: {finding}\ninput: {:?}", String::from_utf8_lossy(&input)
            )));
        }
    }

    /// JSON-level mutations of the ARM and Kubernetes body seeds: any node may become any
    /// value (wrong types, huge numbers, long strings, nested garbage).
    #[test]
    fn json_mutations_keep_the_invariants(
        kube in any::<bool>(),
        pick in any::<usize>(),
        changes in prop::collection::vec((any::<usize>(), hostile_value()), 1..4),
    ) {
        let name = if kube { "kube_body" } else { "arm_body" };
        let seeds = seeds(name);
        let seed = &seeds[pick % seeds.len()];
        let Some(input) = mutate_json(seed, &changes) else {
            return Ok(()); // the YAML and protobuf seeds
        };
        if let Err(finding) = check(name)(&input) {
            return Err(TestCaseError::fail(format!(
                "{name}: {finding}\ninput: {}", String::from_utf8_lossy(&input)
            )));
        }
    }
}
