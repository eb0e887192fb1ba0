//! "What changed when": every dated entry of the timeline as one row (day, area, what, source),
//! for `docs/aks-by-date.md` (generated; `tests/aks_by_date.rs` keeps the page in sync).

use std::fmt::Write;

use super::raw::Raw;

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub area: &'static str,
    pub what: String,
    /// `verified`, `inferred`, or empty when the data does not say.
    pub confidence: String,
    pub source: String,
}

fn first(sources: &[String]) -> String {
    let mut s = sources.first().cloned().unwrap_or_default();
    if sources.len() > 1 {
        let _ = write!(s, " (+{} more)", sources.len() - 1);
    }
    s
}

fn short_confidence(c: &str) -> String {
    if c.starts_with("verified") {
        "verified".into()
    } else if c.starts_with("inferred") {
        "inferred".into()
    } else {
        c.split_whitespace().next().unwrap_or("").to_owned()
    }
}

/// Every change the timeline records, oldest first.
pub fn changes(raw: &Raw) -> Vec<Change> {
    let mut out = Vec::new();
    let mut add =
        |day: &str, area: &'static str, what: String, confidence: &str, source: String| {
            out.push(Change {
                day: day.to_owned(),
                area,
                what,
                confidence: short_confidence(confidence),
                source,
            })
        };
    for m in &raw.kubernetes.minors {
        let src = first(&m.sources);
        if let Some(p) = &m.preview {
            add(
                p,
                "Kubernetes",
                format!("{} offered as preview", m.minor),
                "",
                src.clone(),
            );
        }
        for plan in &m.plans {
            let name = if plan.plan == "KubernetesOfficial" {
                "community support (KubernetesOfficial)"
            } else {
                "long-term support (AKSLongTermSupport)"
            };
            add(
                &plan.since,
                "Kubernetes",
                format!("{} available with {name}", m.minor),
                "",
                src.clone(),
            );
            if let Some(until) = &plan.until {
                add(
                    until,
                    "Kubernetes",
                    format!("{} no longer available with {name}", m.minor),
                    "",
                    src.clone(),
                );
            }
        }
    }
    for d in &raw.kubernetes.default {
        add(
            &d.since,
            "Kubernetes",
            format!("default version {}", d.minor),
            "",
            first(&d.sources),
        );
    }
    for r in &raw.mesh_revisions {
        let src = first(&r.sources);
        let conf = r.confidence.as_str();
        add(
            &r.released,
            "mesh revisions",
            format!("{} released", r.revision),
            conf,
            src.clone(),
        );
        if let Some(dep) = &r.deprecated {
            add(
                dep,
                "mesh revisions",
                format!("{} deprecated (no new installs)", r.revision),
                conf,
                src.clone(),
            );
        }
        if let Some(eol) = &r.end_of_life {
            add(
                eol,
                "mesh revisions",
                format!("{} out of support", r.revision),
                conf,
                src.clone(),
            );
        }
        for c in &r.compatibility {
            let lists: Vec<String> = c
                .compatible_with
                .iter()
                .map(|w| format!("{} [{}]", w.name, w.versions.join(", ")))
                .collect();
            add(
                &c.since,
                "mesh revisions",
                format!("{} compatible with {}", r.revision, lists.join("; ")),
                conf,
                src.clone(),
            );
        }
        for u in &r.upgrades {
            let targets = if u.targets.is_empty() {
                "none".to_owned()
            } else {
                u.targets.join(", ")
            };
            add(
                &u.since,
                "mesh revisions",
                format!("{} upgrade targets: {targets}", r.revision),
                conf,
                src.clone(),
            );
        }
        for p in &r.listed_in_mesh_revision_profiles {
            add(
                &p.since,
                "mesh revisions",
                format!("{} listed by meshRevisionProfiles", r.revision),
                conf,
                src.clone(),
            );
            if let Some(until) = &p.until {
                add(
                    until,
                    "mesh revisions",
                    format!("{} no longer listed", r.revision),
                    conf,
                    src.clone(),
                );
            }
        }
    }
    for d in &raw.resolved_default_revision {
        add(
            &d.since,
            "mesh revisions",
            format!("default revision {}", d.revision),
            "",
            String::new(),
        );
    }
    for e in &raw.mesh_api_eras {
        add(
            &e.since,
            "mesh API",
            e.summary.clone(),
            &e.confidence,
            first(&e.sources),
        );
    }
    for f in &raw.features {
        for p in &f.registrable {
            let name = format!("{}/{}", f.namespace, f.name);
            add(
                &p.since,
                "preview features",
                format!("{name} registrable"),
                &f.confidence,
                first(&f.sources),
            );
            if let Some(until) = &p.until {
                add(
                    until,
                    "preview features",
                    format!("{name} retired (FeatureNotFound)"),
                    &f.confidence,
                    first(&f.sources),
                );
            }
        }
    }
    for g in &raw.preview_gates {
        add(
            &g.since,
            "preview gates",
            format!("{} gates: {}", g.feature, g.gates),
            &g.confidence,
            first(&g.sources),
        );
        if let Some(until) = &g.until {
            add(
                until,
                "preview gates",
                format!("{} no longer required", g.feature),
                &g.confidence,
                first(&g.sources),
            );
        }
    }
    let a = &raw.admission;
    for b in &a.blocked_kinds {
        add(
            &b.since,
            "admission",
            format!("blocked Istio kinds: {}", b.kinds.join(", ")),
            "",
            first(&b.sources),
        );
    }
    for e in &a.envoy_filter {
        let what = match e.policy.as_str() {
            "allowedTypes" => format!(
                "EnvoyFilter allowed for types {}",
                e.allowed_types.join(", ")
            ),
            "all" => "EnvoyFilter allowed for every filter type".to_owned(),
            _ => "EnvoyFilter blocked".to_owned(),
        };
        add(&e.since, "admission", what, "", first(&e.sources));
    }
    for t in &a.telemetry {
        let what = match (&t.allowed_from_revision, &t.field_table) {
            (Some(rev), Some(table)) => format!(
                "Telemetry allowed from {rev}, fields: {}",
                table
                    .keys()
                    .filter(|k| !k.starts_with('_'))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => "Telemetry blocked".to_owned(),
        };
        add(&t.since, "admission", what, "", first(&t.sources));
    }
    let mut grouped: std::collections::BTreeMap<(String, String), (Vec<String>, String)> =
        std::collections::BTreeMap::new();
    for f in &a.mesh_config_fields {
        let entry = grouped
            .entry((f.since.clone(), f.section.clone()))
            .or_insert_with(|| (Vec::new(), first(&f.sources)));
        entry.0.push(f.field.clone());
    }
    for ((since, section), (fields, src)) in grouped {
        let what = if section == "mesh" {
            format!("MeshConfig fields allowed: {}", fields.join(", "))
        } else {
            format!(
                "ProxyConfig (defaultConfig) fields allowed: {}",
                fields.join(", ")
            )
        };
        add(&since, "admission", what, "", src);
    }
    let mut annotations: std::collections::BTreeMap<String, (Vec<String>, String)> =
        std::collections::BTreeMap::new();
    for x in &a.ingress_service_annotations {
        let entry = annotations
            .entry(x.since.clone())
            .or_insert_with(|| (Vec::new(), first(&x.sources)));
        entry.0.push(format!("`{}`", x.pattern));
    }
    for (since, (names, src)) in annotations {
        add(
            &since,
            "admission",
            format!(
                "ingress gateway service annotations allowed: {}",
                names.join(", ")
            ),
            "",
            src,
        );
    }
    for c in &a.ingress_service_other_customizations {
        add(
            &c.since,
            "admission",
            format!("users may customise: {}", c.what),
            "",
            first(&c.sources),
        );
    }
    for s in &a.validation_scope {
        add(
            &s.since,
            "admission",
            s.summary.clone(),
            "",
            first(&s.sources),
        );
    }
    for d in &raw.defaults {
        add(
            &d.since,
            "defaults",
            format!("{} = {} when {}", d.what, d.value, d.condition),
            &d.confidence,
            first(&d.sources),
        );
    }
    out.sort();
    out.dedup();
    out
}

/// Escapes a table cell.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
