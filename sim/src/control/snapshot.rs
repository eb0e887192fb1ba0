//! Snapshots: the whole state (or one subscription) as versioned, diffable JSON, and back.
//!
//! Import is all-or-nothing: the file is parsed and checked completely before anything in the
//! running state changes, so a bad file (truncated, from a newer aksim, wrong format, duplicate
//! or malformed subscription ids) is refused with a clear message and the state is untouched.
//! The clock is moved forward to the snapshot's time if it is behind (never backwards), so
//! running operations keep their meaning.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::clock::{parse_rfc3339, rfc3339};
use crate::core::store::Subscription;
use crate::core::timeline::catalog::AksCatalog;
use crate::core::timeline::{timeline, Behaviour};
use crate::state::AppState;

pub const FORMAT: &str = "aksim-snapshot";
/// Bumped whenever the shape of `Subscription` changes incompatibly.
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    pub aksim_version: String,
    /// Virtual time when the snapshot was taken.
    pub clock: String,
    pub subscriptions: Vec<Subscription>,
    /// The AKS catalogues of sandbox subscriptions (`POST /_sim/sandboxes` with
    /// `meshCatalog`), by subscription id; absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub catalogs: BTreeMap<String, AksCatalog>,
    /// The days of sandbox subscriptions (`azureDate`), by subscription id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub azure_dates: BTreeMap<String, String>,
}

/// Takes a snapshot of every subscription with state, or of the ones in `only`.
pub fn export(state: &AppState, only: Option<&str>) -> Snapshot {
    let now = state.core.clock.now();
    let ids: Vec<String> = match only {
        Some(id) => vec![id.to_owned()],
        None => state.core.store.touched_ids(),
    };
    let subscriptions = ids
        .iter()
        .map(|id| state.core.store.with(id, now, |s| s.clone()))
        .collect();
    let sandboxes: Vec<(String, Behaviour)> = ids
        .iter()
        .filter_map(|id| Some((id.clone(), state.core.sandboxes.get(id)?)))
        .collect();
    let catalogs = sandboxes
        .iter()
        .filter(|(_, b)| b.catalog_override.is_some())
        .map(|(id, b)| (id.clone(), AksCatalog::clone(&b.aks)))
        .collect();
    let azure_dates = sandboxes
        .iter()
        .map(|(id, b)| (id.clone(), b.day_string()))
        .collect();
    Snapshot {
        format: FORMAT.to_owned(),
        version: VERSION,
        aksim_version: env!("CARGO_PKG_VERSION").to_owned(),
        clock: rfc3339(now),
        subscriptions,
        catalogs,
        azure_dates,
    }
}

/// The two fields read before the rest, so a file from the future says so rather than
/// failing on a field it does not know.
#[derive(Deserialize)]
struct Envelope {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

/// Parses and checks a snapshot document without touching any state. The bytes are read
/// twice (the envelope, then the typed document), never into an intermediate JSON tree: a
/// snapshot of hundreds of megabytes takes about its own size once parsed.
pub fn parse(bytes: &[u8]) -> Result<Snapshot, String> {
    let envelope: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| format!("the snapshot is not valid JSON: {e}"))?;
    if envelope.format.as_ref().and_then(|v| v.as_str()) != Some(FORMAT) {
        return Err(format!(
            "not an aksim snapshot: \"format\" must be \"{FORMAT}\""
        ));
    }
    let version = envelope
        .version
        .as_ref()
        .and_then(|v| v.as_u64())
        .ok_or("\"version\" is missing")?;
    if version > u64::from(VERSION) {
        return Err(format!(
            "the snapshot has version {version}, newer than this aksim understands ({VERSION}); \
             upgrade aksim"
        ));
    }
    if version < 1 {
        return Err(format!("snapshot version {version} is not valid"));
    }
    let snapshot: Snapshot =
        serde_json::from_slice(bytes).map_err(|e| format!("the snapshot is malformed: {e}"))?;
    if parse_rfc3339(&snapshot.clock).is_none() {
        return Err(format!(
            "\"clock\" '{}' is not an RFC 3339 time",
            snapshot.clock
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for sub in &snapshot.subscriptions {
        let canonical = uuid::Uuid::parse_str(&sub.id)
            .map(|u| u.hyphenated().to_string())
            .map_err(|_| format!("subscription id '{}' is not a GUID", sub.id))?;
        if canonical != sub.id {
            return Err(format!(
                "subscription id '{}' must be a lower-case GUID",
                sub.id
            ));
        }
        if !seen.insert(sub.id.clone()) {
            return Err(format!("subscription '{}' appears twice", sub.id));
        }
        for (key, plane) in &sub.clusters.planes {
            plane
                .check()
                .map_err(|e| format!("subscription '{}', plane '{key}': {e}", sub.id))?;
        }
    }
    for (id, catalog) in &snapshot.catalogs {
        if !seen.contains(id) {
            return Err(format!(
                "\"catalogs\" names subscription '{id}', which the snapshot does not hold"
            ));
        }
        let text = serde_json::to_string(catalog).map_err(|e| e.to_string())?;
        AksCatalog::parse(&text).map_err(|e| format!("the catalogue of '{id}': {e}"))?;
    }
    for (id, day) in &snapshot.azure_dates {
        if !seen.contains(id) {
            return Err(format!(
                "\"azureDates\" names subscription '{id}', which the snapshot does not hold"
            ));
        }
        timeline().check_day(day, &format!("the azureDate of '{id}'"))?;
    }
    Ok(snapshot)
}

/// Installs a checked snapshot: `replace_all` drops every other subscription first.
pub fn import(state: &AppState, snapshot: Snapshot, replace_all: bool) -> usize {
    if let Some(at) = parse_rfc3339(&snapshot.clock) {
        state.core.clock.catch_up_to(at);
    }
    if replace_all {
        state.core.store.clear();
        state.core.sandboxes.clear();
    }
    let count = snapshot.subscriptions.len();
    let mut catalogs = snapshot.catalogs;
    let days = snapshot.azure_dates;
    for sub in snapshot.subscriptions {
        state.core.sandboxes.remove(&sub.id);
        let day = days
            .get(&sub.id)
            .and_then(|d| timeline().check_day(d, "azureDate").ok());
        let catalog = catalogs.remove(&sub.id);
        if day.is_some() || catalog.is_some() {
            let mut b = Behaviour::at(day.unwrap_or(state.core.behaviour.day));
            if let Some(c) = catalog {
                b = b.with_catalog(c, "snapshot");
            }
            state.core.sandboxes.set(&sub.id, b);
        }
        state.core.store.replace(sub);
    }
    count
}

/// Loads `path` at start if it exists.
pub fn load_file(state: &AppState, path: &Path) -> Result<Option<usize>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let snapshot = parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(import(state, snapshot, true)))
}

/// Writes the state to `path` atomically (temp file + rename).
pub fn save_file(state: &AppState, path: &Path) -> Result<usize, String> {
    let snapshot = export(state, None);
    let count = snapshot.subscriptions.len();
    let text = serde_json::to_vec_pretty(&snapshot).map_err(|e| e.to_string())?;
    let tmp = path.with_extension("tmp");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(count)
}
