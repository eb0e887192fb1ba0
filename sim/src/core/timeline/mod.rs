//! AKS as of a date: every behaviour that changed over time is data with its dates and sources
//! (`data/aks-timeline.json`), and the simulator answers as AKS did on one day, its
//! `--azure-date` (default: the newest day the data knows).
//!
//! [`timeline()`] is the parsed file (once per process). [`Timeline::dated`] resolves what was
//! in force on a day into a [`Dated`]: the AKS catalogue (Kubernetes versions, mesh revisions,
//! their compatibility, listing and upgrades, the default revision), the add-on's admission
//! policy and its defaults (native sidecars, the proxy redirection of new installs). Days that
//! resolve alike share one `Dated` (the data changes on a few hundred days; each is resolved
//! once and kept for the life of the process). Preview features and gates carry their periods
//! in their own catalogues (`registration`), filled from the same file; the PUT rules carry
//! theirs in the registry (`clusters::rules`).
//!
//! A period applies on day `d` when `since <= d < until` (`until` absent = still in force).

pub mod admission;
pub mod catalog;
pub mod changes;
pub mod raw;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use time::macros::format_description;
use time::Date;

use admission::AdmissionPolicy;
use catalog::AksCatalog;
use raw::{Raw, RawWhen};

/// A calendar day (UTC).
pub type Day = Date;

const EMBEDDED: &str = include_str!("../../../data/aks-timeline.json");

/// The day the old `--mesh-catalog 2023` / `--istio-admission-era 2023` meant: the seed flow's
/// AKS (asm-1-17 the default revision, asm-1-18 available, `AzureServiceMeshPreview` gating the
/// add-on, Kubernetes 1.27 the default).
pub const SEED_DAY: &str = "2023-12-01";
/// The day the old `--istio-admission-era 2024` meant (EnvoyFilter types allow-listed,
/// Telemetry from asm-1-22).
pub const ERA_2024_DAY: &str = "2024-09-01";

/// `YYYY-MM-DD`, nothing else.
pub fn parse_day(text: &str) -> Option<Day> {
    let text = text.trim();
    if text.len() != 10 {
        return None;
    }
    Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
}

/// `YYYY-MM-DD`.
pub fn day_string(day: Day) -> String {
    let (y, m, d) = (day.year(), u8::from(day.month()), day.day());
    format!("{y:04}-{m:02}-{d:02}")
}

fn day(text: &str) -> Day {
    parse_day(text).unwrap_or_else(|| panic!("data/aks-timeline.json: '{text}' is not a day"))
}

/// Whether `since <= d < until`.
pub fn in_force(since: &str, until: Option<&str>, d: Day) -> bool {
    day(since) <= d && until.is_none_or(|u| d < day(u))
}

/// The entry with the latest `since <= d` of a list sorted by `since`.
pub fn latest<T>(items: &[T], since: impl Fn(&T) -> &str, d: Day) -> Option<&T> {
    items.iter().rev().find(|i| day(since(i)) <= d)
}

/// The old catalogue and era names, and the day each now stands for.
pub fn alias_day(name: &str) -> Option<Day> {
    match name.trim() {
        "2023" => parse_day(SEED_DAY),
        "2024" => parse_day(ERA_2024_DAY),
        "current" => Some(timeline().newest_day()),
        _ => None,
    }
}

/// The dated data, parsed and checked.
pub struct Timeline {
    pub raw: Raw,
    first: Day,
    newest: Day,
    /// Every day the data mentions, sorted: behaviour can only change on one of these.
    changes: Vec<Day>,
    cache: Mutex<BTreeMap<Day, &'static Dated>>,
}

/// The embedded timeline (parsed on first use).
pub fn timeline() -> &'static Timeline {
    static TIMELINE: OnceLock<Timeline> = OnceLock::new();
    TIMELINE.get_or_init(|| Timeline::parse(EMBEDDED).expect("data/aks-timeline.json is valid"))
}

impl Timeline {
    /// Parses and checks the file: every day well formed, the first day and the newest one.
    pub fn parse(text: &str) -> Result<Timeline, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut changes = BTreeSet::new();
        collect_days(&value, &mut changes);
        let raw: Raw = serde_json::from_value(value).map_err(|e| e.to_string())?;
        let first = parse_day(&raw.first_date).ok_or("firstDate is not YYYY-MM-DD")?;
        let newest = parse_day(&raw.generated).ok_or("generated is not YYYY-MM-DD")?;
        check_days(&raw)?;
        Ok(Timeline {
            raw,
            first,
            newest,
            changes: changes.into_iter().collect(),
            cache: Mutex::new(BTreeMap::new()),
        })
    }

    /// The first day the data describes.
    pub fn first_day(&self) -> Day {
        self.first
    }

    /// The newest day the data describes: the default `--azure-date`.
    pub fn newest_day(&self) -> Day {
        self.newest
    }

    /// A day a user asked for (`--azure-date`, a sandbox's or a scenario's `azureDate`),
    /// checked: `what` names where it came from in the message.
    pub fn check_day(&self, text: &str, what: &str) -> Result<Day, String> {
        let d = parse_day(text).ok_or_else(|| {
            format!(
                "{what} '{text}' is not a date: give a day as YYYY-MM-DD, from {} to {}",
                day_string(self.first),
                day_string(self.newest)
            )
        })?;
        if d < self.first {
            return Err(format!(
                "{what} {text} is before the first day aksim's AKS data describes ({}); give a \
                 day from {} to {}",
                day_string(self.first),
                day_string(self.first),
                day_string(self.newest)
            ));
        }
        if d > self.newest {
            return Err(format!(
                "{what} {text} is after the newest day aksim's AKS data describes ({}); give a \
                 day from {} to {} (newer revisions: --mesh-catalog FILE)",
                day_string(self.newest),
                day_string(self.first),
                day_string(self.newest)
            ));
        }
        Ok(d)
    }

    /// The day behaviour on `d` is resolved at: the latest day of change up to `d`.
    pub fn epoch(&self, d: Day) -> Day {
        match self.changes.partition_point(|c| *c <= d) {
            0 => d,
            n => self.changes[n - 1],
        }
    }

    /// What was in force on `d` (resolved once per epoch, kept for the process's life).
    pub fn dated(&'static self, d: Day) -> &'static Dated {
        let epoch = self.epoch(d);
        let mut cache = self.cache.lock();
        if let Some(found) = cache.get(&epoch) {
            return found;
        }
        let dated: &'static Dated = Box::leak(Box::new(Dated::resolve(self, epoch)));
        cache.insert(epoch, dated);
        dated
    }
}

/// Every string of the form `YYYY-MM-DD` anywhere in the file.
fn collect_days(value: &serde_json::Value, out: &mut BTreeSet<Day>) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(d) = parse_day(s) {
                out.insert(d);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_days(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_days(v, out)),
        _ => {}
    }
}

/// Every `since`/`until` the resolver reads parses as a day (so resolving never panics).
fn check_days(raw: &Raw) -> Result<(), String> {
    let mut days: Vec<&str> = Vec::new();
    for m in &raw.kubernetes.minors {
        days.extend(m.preview.as_deref());
        days.extend(m.ga.as_deref());
        for p in &m.plans {
            days.push(&p.since);
            days.extend(p.until.as_deref());
        }
        for p in &m.patch_timeline {
            days.push(&p.since);
            days.extend(p.until.as_deref());
        }
    }
    days.extend(raw.kubernetes.default.iter().map(|d| d.since.as_str()));
    for r in &raw.mesh_revisions {
        days.push(&r.released);
        days.extend(r.deprecated.as_deref());
        days.extend(r.end_of_life.as_deref());
        days.extend(r.compatibility.iter().map(|c| c.since.as_str()));
        days.extend(r.upgrades.iter().map(|c| c.since.as_str()));
        for p in &r.listed_in_mesh_revision_profiles {
            days.push(&p.since);
            days.extend(p.until.as_deref());
        }
    }
    days.extend(
        raw.resolved_default_revision
            .iter()
            .map(|d| d.since.as_str()),
    );
    for f in &raw.features {
        for p in &f.registrable {
            days.push(&p.since);
            days.extend(p.until.as_deref());
        }
    }
    for g in &raw.preview_gates {
        days.push(&g.since);
        days.extend(g.until.as_deref());
    }
    let a = &raw.admission;
    for (since, until) in a
        .blocked_kinds
        .iter()
        .map(|x| (&x.since, &x.until))
        .chain(a.envoy_filter.iter().map(|x| (&x.since, &x.until)))
        .chain(a.telemetry.iter().map(|x| (&x.since, &x.until)))
        .chain(a.mesh_config_fields.iter().map(|x| (&x.since, &x.until)))
        .chain(
            a.ingress_service_annotations
                .iter()
                .map(|x| (&x.since, &x.until)),
        )
        .chain(raw.defaults.iter().map(|x| (&x.since, &x.until)))
        .chain(raw.rules.iter().map(|x| (&x.since, &x.until)))
    {
        days.push(since);
        days.extend(until.as_deref());
    }
    match days.into_iter().find(|d| parse_day(d).is_none()) {
        Some(bad) => Err(format!("'{bad}' is not a day (YYYY-MM-DD)")),
        None => Ok(()),
    }
}

/// A default that applies to revisions from `from` (to `to`) on Kubernetes `min_kubernetes`
/// or later, when a revision is installed (enabling) and/or upgraded to.
#[derive(Debug, Clone)]
pub struct RevisionCondition {
    pub min_kubernetes: Option<(u32, u32)>,
    pub from: (u32, u32),
    pub to: Option<(u32, u32)>,
    pub on_install: bool,
    pub on_upgrade: bool,
    /// The day the condition came into force, and its source.
    pub since: String,
    pub sources: Vec<String>,
}

impl RevisionCondition {
    fn from_raw(when: &RawWhen, since: &str, sources: &[String]) -> Option<RevisionCondition> {
        Some(RevisionCondition {
            min_kubernetes: when.min_kubernetes.as_deref().and_then(catalog::minor_of),
            from: catalog::revision_number(&when.from_revision)?,
            to: when
                .to_revision
                .as_deref()
                .and_then(catalog::revision_number),
            on_install: when.on.iter().any(|o| o == "install"),
            on_upgrade: when.on.iter().any(|o| o == "upgrade"),
            since: since.to_owned(),
            sources: sources.to_vec(),
        })
    }

    /// Whether it applies to `revision` on Kubernetes `minor` (`1.33` or `1.33.5`), `installed`
    /// by enabling the add-on (else reached by an upgrade).
    pub fn applies(&self, revision: &str, minor: &str, installed: bool) -> bool {
        let Some(r) = catalog::revision_number(revision) else {
            return false;
        };
        let k8s_ok = match (self.min_kubernetes, catalog::minor_of(minor)) {
            (None, _) => true,
            (Some(min), Some(m)) => m >= min,
            (Some(_), None) => false,
        };
        let when_ok = if installed {
            self.on_install
        } else {
            self.on_upgrade
        };
        k8s_ok && when_ok && r >= self.from && self.to.is_none_or(|to| r <= to)
    }
}

/// Everything in force on one day, resolved from the timeline.
#[derive(Debug)]
pub struct Dated {
    /// The day of change this was resolved at.
    pub epoch: Day,
    pub aks: Arc<AksCatalog>,
    pub admission: AdmissionPolicy,
    /// When the add-on runs `istio-proxy` as a native sidecar (any condition that applies).
    pub native_sidecars: Vec<RevisionCondition>,
    /// When a new install without `proxyRedirectionMechanism` gets `CNIChaining`.
    pub cni_default: Vec<RevisionCondition>,
    /// A create with `kubernetesVersion: ""` answers the full patch (2023) rather than the
    /// minor.
    pub default_version_echoes_patch: bool,
    /// What AKS fills into an agent pool that leaves these members unset
    /// (`agentPool defaults`; `core::clusters::pools::fill_defaults`).
    pub pool_defaults: serde_json::Map<String, serde_json::Value>,
    /// The node image of each OS (`Ubuntu`, `AzureLinux`, `Windows`) a new pool gets and a
    /// node image upgrade moves to (`node images`: per OS the newest entry since on or
    /// before the day; a day before every entry of an OS gets the earliest).
    pub node_images: BTreeMap<String, String>,
}

/// Per OS, the image of the newest `node images` entry since on or before `d` (the earliest
/// entry's when `d` precedes them all).
fn node_images(defaults: &[raw::RawDefault], d: Day) -> BTreeMap<String, String> {
    let mut entries: Vec<&raw::RawDefault> = defaults
        .iter()
        .filter(|x| x.what == "node images")
        .collect();
    entries.sort_by_key(|x| day(&x.since));
    let mut out = BTreeMap::new();
    for x in &entries {
        let Some(images) = x.value.as_object() else {
            continue;
        };
        for (os, image) in images {
            let Some(image) = image.as_str() else {
                continue;
            };
            if day(&x.since) <= d || !out.contains_key(os) {
                out.insert(os.clone(), image.to_owned());
            }
        }
    }
    out
}

impl Dated {
    fn resolve(t: &Timeline, d: Day) -> Dated {
        let defaults = |what: &str, value: serde_json::Value| -> Vec<RevisionCondition> {
            t.raw
                .defaults
                .iter()
                .filter(|x| x.what == what && x.value == value)
                .filter(|x| in_force(&x.since, x.until.as_deref(), d))
                .filter_map(|x| RevisionCondition::from_raw(x.when.as_ref()?, &x.since, &x.sources))
                .collect()
        };
        Dated {
            epoch: d,
            aks: Arc::new(catalog::from_timeline(&t.raw, d)),
            admission: AdmissionPolicy::resolve(&t.raw.admission, d),
            native_sidecars: defaults("nativeSidecar", serde_json::Value::Bool(true)),
            cni_default: defaults("proxyRedirectionMechanism", "CNIChaining".into()),
            default_version_echoes_patch: t.raw.defaults.iter().any(|x| {
                x.what == "kubernetesVersion echo"
                    && x.value == "patch"
                    && in_force(&x.since, x.until.as_deref(), d)
            }),
            pool_defaults: t
                .raw
                .defaults
                .iter()
                .filter(|x| x.what == "agentPool defaults")
                .filter(|x| in_force(&x.since, x.until.as_deref(), d))
                .filter_map(|x| x.value.as_object())
                .flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())))
                .collect(),
            node_images: node_images(&t.raw.defaults, d),
        }
    }

    /// Whether `revision` on Kubernetes `minor` runs native sidecars (`installed`: reached by
    /// enabling the add-on, else by an upgrade).
    pub fn native_sidecars(&self, revision: &str, minor: &str, installed: bool) -> bool {
        self.native_sidecars
            .iter()
            .any(|c| c.applies(revision, minor, installed))
    }

    /// Whether a new install of `revision` without a proxy redirection mechanism gets
    /// `CNIChaining`.
    pub fn cni_by_default(&self, revision: &str, minor: &str) -> bool {
        self.cni_default
            .iter()
            .any(|c| c.applies(revision, minor, true))
    }
}

/// What one subscription sees: the day, what was in force then, and the AKS catalogue (the
/// day's, or a catalogue file given with `--mesh-catalog` / a sandbox's `meshCatalog`).
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub day: Day,
    pub dated: &'static Dated,
    pub aks: Arc<AksCatalog>,
    /// Where `aks` came from when it is not the day's: a file path or `inline`.
    pub catalog_override: Option<String>,
}

impl Behaviour {
    /// The behaviour in force on `day` (checked by [`Timeline::check_day`] first).
    pub fn at(day: Day) -> Behaviour {
        let dated = timeline().dated(day);
        Behaviour {
            day,
            dated,
            aks: dated.aks.clone(),
            catalog_override: None,
        }
    }

    /// The same day with a catalogue of the user's.
    pub fn with_catalog(mut self, aks: AksCatalog, origin: &str) -> Behaviour {
        self.aks = Arc::new(aks);
        self.catalog_override = Some(origin.to_owned());
        self
    }

    pub fn day_string(&self) -> String {
        day_string(self.day)
    }

    /// `/_sim/info`'s view.
    pub fn as_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "azureDate": self.day_string(),
            "resolvedAt": day_string(self.dated.epoch),
        });
        if let Some(origin) = &self.catalog_override {
            v["meshCatalog"] = origin.clone().into();
        }
        v
    }
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The start-up flags that choose the behaviour: `--azure-date`, `--mesh-catalog` (a file, or
/// one of the old names `2023`/`current`) and the old `--istio-admission-era`. Returns the
/// behaviour and, for each old name used, a note saying what replaces it.
pub fn from_flags(
    azure_date: Option<&str>,
    mesh_catalog: Option<&str>,
    admission_era: Option<&str>,
) -> Result<(Behaviour, Vec<String>), String> {
    let t = timeline();
    let mut notes = Vec::new();
    let mut implied: Vec<(String, Day)> = Vec::new();
    let mut catalog_file = None;
    if let Some(name) = nonempty(mesh_catalog) {
        match alias_day(name) {
            Some(d) => {
                let flag = format!("--mesh-catalog {name}");
                notes.push(format!(
                    "{flag} is replaced by --azure-date {} (it dates every behaviour, not only \
                     the catalogue)",
                    day_string(d)
                ));
                implied.push((flag, d));
            }
            None => catalog_file = Some(name),
        }
    }
    if let Some(era) = nonempty(admission_era) {
        let d = alias_day(era).ok_or_else(|| {
            format!(
                "--istio-admission-era '{era}' is not one of 2023, 2024, current; the flag is \
                 replaced by --azure-date YYYY-MM-DD, which dates the admission policy with \
                 everything else (docs/aks-by-date.md)"
            )
        })?;
        let flag = format!("--istio-admission-era {era}");
        notes.push(format!(
            "{flag} is replaced by --azure-date {} (it dates every behaviour, not only \
             admission)",
            day_string(d)
        ));
        implied.push((flag, d));
    }
    let day = match nonempty(azure_date) {
        Some(text) => {
            let d = t.check_day(text, "--azure-date (AKSIM_AZURE_DATE)")?;
            if let Some((flag, other)) = implied.iter().find(|(_, o)| *o != d) {
                return Err(format!(
                    "--azure-date {text} and {flag} (= --azure-date {}) disagree; give only \
                     --azure-date",
                    day_string(*other)
                ));
            }
            d
        }
        None => match implied.as_slice() {
            [] => t.newest_day(),
            [(_, d)] => *d,
            [(a, da), (b, db), ..] if da != db => {
                return Err(format!(
                    "{a} (= --azure-date {}) and {b} (= --azure-date {}) disagree; give one \
                     --azure-date instead",
                    day_string(*da),
                    day_string(*db)
                ))
            }
            [(_, d), ..] => *d,
        },
    };
    let mut behaviour = Behaviour::at(day);
    if let Some(path) = catalog_file {
        behaviour = behaviour.with_catalog(AksCatalog::load_file(path)?, path);
    }
    Ok((behaviour, notes))
}

/// The behaviours of sandbox subscriptions with a day or catalogue of their own (subscription
/// id → behaviour). Other subscriptions see the server's.
#[derive(Default)]
pub struct SandboxBehaviours(parking_lot::RwLock<std::collections::HashMap<String, Behaviour>>);

impl SandboxBehaviours {
    pub fn get(&self, sub: &str) -> Option<Behaviour> {
        let map = self.0.read();
        if map.is_empty() {
            return None;
        }
        map.get(sub).cloned()
    }
    pub fn set(&self, sub: &str, behaviour: Behaviour) {
        self.0.write().insert(sub.to_owned(), behaviour);
    }
    pub fn remove(&self, sub: &str) -> bool {
        self.0.write().remove(sub).is_some()
    }
    pub fn clear(&self) {
        self.0.write().clear();
    }
    /// Every (subscription, behaviour), sorted by subscription.
    pub fn all(&self) -> BTreeMap<String, Behaviour> {
        self.0
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_timeline_parses_and_resolves_every_epoch() {
        let t = timeline();
        assert_eq!(day_string(t.first_day()), "2023-04-16");
        assert!(t.newest_day() > t.first_day());
        let mut d = t.first_day();
        while d <= t.newest_day() {
            let dated = t.dated(d);
            assert!(dated.epoch <= d);
            assert!(!dated.aks.kubernetes.versions.is_empty(), "{d}");
            d = d.next_day().unwrap();
        }
    }

    #[test]
    fn days_are_checked_with_messages_that_name_the_range() {
        let t = timeline();
        assert!(t.check_day("2024-02-30", "--azure-date").is_err());
        let e = t.check_day("yesterday", "--azure-date").unwrap_err();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
        let e = t.check_day("2020-01-01", "--azure-date").unwrap_err();
        assert!(
            e.contains("before the first day") && e.contains("2023-04-16"),
            "{e}"
        );
        let e = t.check_day("2099-01-01", "--azure-date").unwrap_err();
        assert!(e.contains("after the newest day"), "{e}");
        assert_eq!(
            t.check_day(SEED_DAY, "x").map(day_string).as_deref(),
            Ok(SEED_DAY)
        );
        assert_eq!(
            parse_day(" 2024-09-01 ").map(day_string).as_deref(),
            Some("2024-09-01")
        );
        assert!(parse_day("2024-9-1").is_none());
    }

    #[test]
    fn old_flags_become_dates_with_a_note_and_conflicts_are_refused() {
        let (b, notes) = from_flags(None, Some("2023"), None).unwrap();
        assert_eq!(b.day_string(), SEED_DAY);
        assert!(notes[0].contains("--azure-date 2023-12-01"), "{notes:?}");
        let (b, _) = from_flags(None, None, Some("2024")).unwrap();
        assert_eq!(b.day_string(), ERA_2024_DAY);
        let (b, notes) = from_flags(Some("2023-12-01"), Some("2023"), Some("2023")).unwrap();
        assert_eq!((b.day_string().as_str(), notes.len()), (SEED_DAY, 2));
        assert!(from_flags(Some("2025-01-01"), Some("2023"), None)
            .unwrap_err()
            .contains("disagree"));
        assert!(from_flags(None, Some("2023"), Some("2024"))
            .unwrap_err()
            .contains("disagree"));
        assert!(from_flags(None, None, Some("1999"))
            .unwrap_err()
            .contains("--azure-date"));
        let (b, notes) = from_flags(None, None, None).unwrap();
        assert_eq!((b.day, notes.len()), (timeline().newest_day(), 0));
        assert!(from_flags(None, Some("/nonexistent.json"), None).is_err());
    }

    #[test]
    fn the_seed_day_is_the_seed_flows_aks() {
        let b = Behaviour::at(parse_day(SEED_DAY).unwrap());
        assert_eq!(b.aks.kubernetes.default, "1.27");
        assert_eq!(
            b.aks
                .default_revision("1.27", "KubernetesOfficial")
                .as_deref(),
            Some("asm-1-17")
        );
        assert_eq!(b.aks.upgrade_targets("asm-1-17"), ["asm-1-18"]);
    }

    #[test]
    fn native_sidecars_and_the_cni_default_follow_their_dates() {
        let today = timeline().dated(timeline().newest_day());
        assert!(today.native_sidecars("asm-1-29", "1.33", true));
        assert!(today.native_sidecars("asm-1-29", "1.33.2", false));
        assert!(!today.native_sidecars("asm-1-29", "1.32", true));
        assert!(today.native_sidecars("asm-1-28", "1.34", true));
        assert!(!today.native_sidecars("asm-1-28", "1.34", false));
        assert!(!today.native_sidecars("asm-1-26", "1.34", true));
        assert!(today.cni_by_default("asm-1-30", "1.34"));
        assert!(!today.cni_by_default("asm-1-29", "1.34"));
        let before = timeline().dated(parse_day("2025-10-11").unwrap());
        assert!(!before.native_sidecars("asm-1-27", "1.33", true));
        assert!(!timeline()
            .dated(parse_day("2026-07-16").unwrap())
            .cni_by_default("asm-1-30", "1.34"));
    }

    #[test]
    fn node_images_follow_their_days_per_os() {
        let at = |d: &str| &timeline().dated(parse_day(d).unwrap()).node_images;
        let today = at("2026-12-07");
        assert_eq!(today["Ubuntu"], "AKSUbuntu-2204gen2containerd-202611.01.0");
        assert_eq!(today["AzureLinux"], "AKSAzureLinux-V3gen2-202611.01.0");
        assert!(today["Windows"].starts_with("AKSWindows-2022"));
        let recorded = at("2024-08-09");
        assert_eq!(
            recorded["Ubuntu"],
            "AKSUbuntu-2204gen2containerd-202407.22.0"
        );
        assert_eq!(recorded["AzureLinux"], "AKSAzureLinux-V2gen2-202407.22.0");
        // A day between entries keeps the newest before it; an OS with no entry yet gets its
        // earliest.
        assert_eq!(
            at("2024-01-15")["Ubuntu"],
            "AKSUbuntu-2204gen2containerd-202311.07.0"
        );
        assert_eq!(
            at("2024-01-15")["AzureLinux"],
            "AKSAzureLinux-V2gen2-202407.22.0"
        );
        assert_eq!(
            at("2023-04-16")["Ubuntu"],
            "AKSUbuntu-1804gen2containerd-2022.10.03"
        );
    }
}
