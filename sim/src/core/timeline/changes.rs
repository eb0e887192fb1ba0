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

/// The page `docs/aks-by-date.md`: how dates work, today's AKS in brief, every change (the
/// timeline's and `extra`, the rules'), and the rules' table (`rules`: id, since, until,
/// aksim's text, source, description).
pub fn markdown(raw: &Raw, extra: &[Change], rules: &[[String; 6]]) -> String {
    let t = super::timeline();
    let today = t.dated(t.newest_day());
    let aks = &today.aks;
    let mut out = String::new();
    let newest = super::day_string(t.newest_day());
    let first = super::day_string(t.first_day());
    let _ = writeln!(out, "# AKS by date\n");
    let _ = writeln!(
        out,
        "<!-- Generated from sim/data/aks-timeline.json and the rule registry by \
         `AKSIM_BLESS=1 cargo test -p aksim --test aks_by_date`; do not edit by hand. -->\n"
    );
    let _ = writeln!(
        out,
        "aksim answers as AKS did on one day: `--azure-date YYYY-MM-DD` (`AKSIM_AZURE_DATE`), \
         `azureDate` in a sandbox (`POST /_sim/sandboxes`) or a scenario's settings, \
         `PUT /_sim/azure-date/{{subscriptionId}}` for one subscription, or the `azureDate` \
         scenario step. The data describes {first} (the add-on's first public preview) to \
         {newest}, the default; other days are refused with a message naming that range. \
         `/_sim/info` shows the day in force (`azureDate`) and the data's range (`aksData`).\n"
    );
    let _ = writeln!(
        out,
        "Every entry below comes from `sim/data/aks-timeline.json`, each with its source (AKS \
         release notes, the AKS docs' git history, recorded real traffic); \
         `sim/data/aks-timeline.md` holds the evidence and reasoning. `inferred` marks an entry \
         no source states outright. A period applies on days `since <= day < until`. What is \
         not dated (api-versions, the cluster shape, the Kubernetes API) answers the same on \
         every day: today's clients work against any day.\n"
    );
    let _ = writeln!(out, "## {newest} (the default)\n");
    let offered: Vec<String> = aks
        .kubernetes
        .versions
        .iter()
        .map(|v| {
            let mut plans = Vec::new();
            if v.official {
                plans.push("community");
            }
            if v.lts {
                plans.push("LTS");
            }
            if v.preview {
                plans.push("preview");
            }
            format!("{} ({})", v.version, plans.join(", "))
        })
        .collect();
    let _ = writeln!(
        out,
        "- Kubernetes: {}; default {}.",
        offered.join(", "),
        aks.kubernetes.default
    );
    let listed: Vec<&str> = aks
        .listed_revisions()
        .map(|r| r.revision.as_str())
        .collect();
    let deprecated: Vec<&str> = aks
        .mesh
        .revisions
        .iter()
        .filter(|r| r.deprecated)
        .map(|r| r.revision.as_str())
        .collect();
    let _ = writeln!(
        out,
        "- Mesh revisions listed: {}; default {}; deprecated (no new installs): {}.",
        listed.join(", "),
        aks.mesh.default_revision.as_deref().unwrap_or("none"),
        deprecated.join(", ")
    );
    let envoy = match &today.admission.envoy_filter {
        super::admission::EnvoyFilterPolicy::All => "every type".to_owned(),
        super::admission::EnvoyFilterPolicy::Blocked => "blocked".to_owned(),
        super::admission::EnvoyFilterPolicy::AllowedTypes(t) => t.join(", "),
    };
    let _ = writeln!(
        out,
        "- Admission: blocked kinds {}; EnvoyFilter: {envoy}; Telemetry from {}.",
        today.admission.blocked_kinds.join(", "),
        today
            .admission
            .telemetry_allowed_from
            .as_deref()
            .unwrap_or("—")
    );
    let _ = writeln!(
        out,
        "- Defaults: native sidecars for {}; Istio CNI for new installs of {} and later.\n",
        today
            .native_sidecars
            .iter()
            .map(|c| format!(
                "asm-{}-{}+ on Kubernetes {}+ ({})",
                c.from.0,
                c.from.1,
                c.min_kubernetes
                    .map(|(a, b)| format!("{a}.{b}"))
                    .unwrap_or_default(),
                if c.on_upgrade {
                    "installs and upgrades"
                } else {
                    "new installs"
                }
            ))
            .collect::<Vec<_>>()
            .join("; "),
        today
            .cni_default
            .iter()
            .map(|c| format!("asm-{}-{}", c.from.0, c.from.1))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(out, "## The rules of the registry and their days\n");
    let _ = writeln!(
        out,
        "Each rule runs only on its days. \"aksim's text\": no public source gives AKS's error \
         text, so aksim words it (docs/deviations.md).\n"
    );
    let _ = writeln!(out, "| rule | since | until | text | source |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for [id, since, until, aksim, source, _] in rules {
        let _ = writeln!(
            out,
            "| `{id}` | {since} | {} | {} | {} |",
            if until.is_empty() { "—" } else { until },
            if aksim == "true" { "aksim's" } else { "AKS's" },
            cell(source)
        );
    }
    let _ = writeln!(out, "\n## What changed when\n");
    let _ = writeln!(out, "| day | area | what changed | confidence | source |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    let mut all = changes(raw);
    all.extend(extra.iter().cloned());
    all.sort();
    all.dedup();
    for c in &all {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            c.day,
            c.area,
            cell(&c.what),
            if c.confidence.is_empty() {
                "—"
            } else {
                &c.confidence
            },
            cell(&c.source)
        );
    }
    out
}
