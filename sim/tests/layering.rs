//! The layers of `sim/src` stay true: every module sits in a layer of [`LAYERS`], imports only
//! from its own layer or below (`wire → core → leaves`), and modules of one layer never import
//! each other in a cycle. The imports are read from the source: every `crate::…` path (in `use`
//! lines, brace groups and qualified paths alike) and every `super::…` path.
//!
//! A new module must be given a layer here; an import that points up, or a cycle, fails with
//! the file and the path that does it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top. A unit is a top-level module, or `dir::file` for the modules of the
/// directories whose parts sit in different layers.
const LAYERS: &[(&str, &[&str])] = &[
    ("leaves", &["clock", "ids", "limits", "compact"]),
    (
        "core: vocabulary",
        &[
            "core::error",
            "core::ops",
            "core::preconditions",
            "core::resource_types",
            "core::timeline",
        ],
    ),
    (
        "core: domains",
        &["core::registration", "core::groups", "core::kube"],
    ),
    ("core: clusters", &["core::clusters"]),
    ("core: subscription", &["core::subscription"]),
    ("core: store", &["core::store"]),
    ("core: use cases", &["core", "core::service"]),
    (
        "wire: vocabulary",
        &[
            "arm::error",
            "arm::path",
            "arm::request",
            "arm::api_version",
            "arm::operation",
            "arm::paging",
            "arm",
            "tls",
            "config",
            "control::glob",
            "control::faults",
            "control::journal",
            "control::body",
            "identity::tokens",
            "kubeapi::status",
            "kubeapi::table",
            "kubeapi::protobuf",
            "kubeapi::probes",
        ],
    ),
    ("wire: state", &["state"]),
    (
        "wire: handlers",
        &[
            "providers",
            "providers::routes",
            "providers::resources",
            "providers::locations",
            "providers::registration",
            "providers::features",
            "providers::container_service",
            "kubeapi",
            "kubeapi::apply",
            "kubeapi::http",
            "identity",
            "control",
            "control::sandbox",
            "control::snapshot",
            "http::fast",
            "http::headers",
        ],
    ),
    (
        "wire: edge",
        &["http", "http::edge", "http::dispatch", "server"],
    ),
    (
        "tools",
        &["scenario", "ctl", "cli", "hostile", "testing", "parity"],
    ),
    ("crate root", &["crate"]),
];

/// The directories whose files are units of their own (their parts sit in different layers).
const SPLIT_DIRS: &[&str] = &[
    "core",
    "arm",
    "control",
    "identity",
    "kubeapi",
    "http",
    "providers",
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `core::clusters::lifecycle` for `src/core/clusters/lifecycle.rs`; `crate` for lib.rs.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src_dir()).expect("under src");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        return Vec::new();
    }
    parts
}

/// The layering unit a module path belongs to.
fn unit_of(path: &[String], modules: &BTreeSet<Vec<String>>) -> String {
    match path {
        [] => "crate".to_owned(),
        [top, sub, ..] if SPLIT_DIRS.contains(&top.as_str()) => {
            if modules.contains(&vec![top.clone(), sub.clone()]) {
                format!("{top}::{sub}")
            } else {
                top.clone()
            }
        }
        [top, ..] => top.clone(),
    }
}

/// The text of a file without its `#[cfg(test)]` module (unit tests may reach anywhere) and
/// without comments.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::…` and `super::…` path in `code`, brace groups expanded one level deep, as
/// module paths relative to the crate root (`module` is the file's own module).
fn imports(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent(module))] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            // `super::*` (inline test or helper modules) names no other module.
            for path in expand(rest).into_iter().filter(|p| !p.is_empty()) {
                let mut full = base.clone();
                full.extend(path);
                out.push(full);
            }
        }
    }
    out
}

fn parent(module: &[String]) -> Vec<String> {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// The paths at the start of `text`: `a::b::C` or `a::{b, c::d}` (segments before a
/// non-identifier).
fn expand(text: &str) -> Vec<Vec<String>> {
    let ident = |s: &str| -> usize {
        s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            return group[..end]
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty() && *item != "self")
                .map(|item| {
                    let mut path = segments.clone();
                    path.extend(item.split("::").map(|s| s[..ident(s)].to_owned()));
                    path
                })
                .collect();
        }
        let n = ident(rest);
        if n == 0 {
            break;
        }
        segments.push(rest[..n].to_owned());
        match rest[n..].strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    vec![segments]
}

#[test]
fn the_layers_hold() {
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, units))| units.iter().map(move |u| (*u, i)))
        .collect();
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    files.retain(|f| !f.ends_with("main.rs"));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(f)).collect();
    let mut problems = Vec::new();
    // unit → units it imports from (the same layer only), for the cycle check.
    let mut same_layer: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        let unit = unit_of(&module, &modules);
        let Some(&layer) = layer_of.get(unit.as_str()) else {
            problems.push(format!(
                "{}: module unit `{unit}` has no layer in tests/layering.rs",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable source");
        for path in imports(&code_of(&text), &module) {
            let mut target = unit_of(&path, &modules);
            if !modules.iter().any(|m| m.first() == path.first()) {
                // An item of the crate root (a re-export like `crate::app`): the top layer.
                target = "crate".to_owned();
            }
            if target == unit {
                continue;
            }
            let Some(&target_layer) = layer_of.get(target.as_str()) else {
                problems.push(format!(
                    "{}: imports `{}`, whose unit `{target}` has no layer",
                    file.display(),
                    path.join("::")
                ));
                continue;
            };
            if target_layer > layer {
                problems.push(format!(
                    "{}: `{}` ({}) imports `{}` from a higher layer ({})",
                    file.display(),
                    unit,
                    LAYERS[layer].0,
                    path.join("::"),
                    LAYERS[target_layer].0
                ));
            } else if target_layer == layer {
                same_layer.entry(unit.clone()).or_default().insert(target);
            }
        }
    }
    if let Some(cycle) = find_cycle(&same_layer) {
        problems.push(format!("an import cycle: {}", cycle.join(" → ")));
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// A cycle in `graph`, as the units along it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_reader_sees_every_kind_of_import() {
    let module = vec![
        "core".to_owned(),
        "clusters".to_owned(),
        "lifecycle".to_owned(),
    ];
    let code = "use crate::{clock, core::error::Error};\nuse super::body::{self, PutBody};\n\
                let x = crate::limits::MAX; // crate::http::ignored\n";
    let found: Vec<String> = imports(&code_of(code), &module)
        .iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        found,
        [
            "clock",
            "core::error::Error",
            "limits::MAX",
            "core::clusters::body::PutBody"
        ]
    );
}
