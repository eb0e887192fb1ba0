//! Sandboxes: a subscription created with a preset, for parallel CI jobs that each want their
//! own isolated starting point (features and providers already registered, resource groups
//! in place) without the requests and waits to get there.
//!
//! `POST /_sim/sandboxes` with
//! `{"subscriptionId"?, "displayName"?, "features": [...], "providers": [...], "resourceGroups": {"rg1": "eastus"}, "azureDate"?, "meshCatalog"?}`
//! answers 201 with the subscription id. Everything is checked before anything is written.
//!
//! `azureDate` gives the sandbox the AKS of its own day and `meshCatalog` its own AKS
//! catalogue (a catalogue document inline; the old names `2023` and `current` stand for
//! days), so scenarios that need another date run on a shared server beside other users. They
//! live in `SandboxBehaviours`, which `Core::behaviour_for` consults; resets drop them,
//! snapshots carry them.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::core::groups::{GroupState, ResourceGroup};
use crate::core::registration::features::feature_key;
use crate::core::registration::Registration;
use crate::core::timeline::catalog::AksCatalog;
use crate::core::timeline::{alias_day, day_string, timeline, Behaviour, Day};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preset {
    #[serde(default)]
    pub subscription_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// `Namespace/Feature` names to have `Registered` (and in effect).
    #[serde(default)]
    pub features: Vec<String>,
    /// Provider namespaces to have `Registered`.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Resource groups: name → location.
    #[serde(default)]
    pub resource_groups: BTreeMap<String, String>,
    /// The sandbox's day (`YYYY-MM-DD`): the AKS it sees.
    #[serde(default)]
    pub azure_date: Option<String>,
    /// The sandbox's AKS catalogue: a catalogue document (the `--mesh-catalog` file format)
    /// inline, or one of the old names `2023` / `current` (= an `azureDate`).
    #[serde(default)]
    pub mesh_catalog: Option<serde_json::Value>,
}

/// A `meshCatalog` value: an inline catalogue document, or an old name standing for a day.
pub enum CatalogChoice {
    Day(Day),
    Document(AksCatalog),
}

pub fn catalog_from_json(value: &serde_json::Value) -> Result<CatalogChoice, String> {
    match value {
        serde_json::Value::String(name) => {
            alias_day(name).map(CatalogChoice::Day).ok_or_else(|| {
                format!(
                "meshCatalog '{name}' is not a catalogue: give a catalogue document inline, or \
                 a day with azureDate (YYYY-MM-DD)"
            )
            })
        }
        serde_json::Value::Object(_) => AksCatalog::parse(&value.to_string())
            .map(CatalogChoice::Document)
            .map_err(|e| format!("meshCatalog is not a valid AKS catalogue: {e}")),
        _ => Err("meshCatalog must be a catalogue document".into()),
    }
}

/// The behaviour a sandbox asks for with `azureDate` and `meshCatalog`; `None`: the server's.
pub fn behaviour(
    state: &AppState,
    azure_date: Option<&str>,
    mesh_catalog: Option<&serde_json::Value>,
) -> Result<Option<Behaviour>, String> {
    let day = azure_date
        .map(|d| timeline().check_day(d, "azureDate"))
        .transpose()?;
    let choice = mesh_catalog.map(catalog_from_json).transpose()?;
    let (day, document) = match choice {
        Some(CatalogChoice::Day(alias)) => {
            if let Some(d) = day.filter(|d| *d != alias) {
                return Err(format!(
                    "azureDate {} and meshCatalog {} (= azureDate {}) disagree; give only \
                     azureDate",
                    day_string(d),
                    mesh_catalog.map(|v| v.to_string()).unwrap_or_default(),
                    day_string(alias)
                ));
            }
            (Some(alias), None)
        }
        Some(CatalogChoice::Document(c)) => (day, Some(c)),
        None => (day, None),
    };
    if day.is_none() && document.is_none() {
        return Ok(None);
    }
    let mut b = Behaviour::at(day.unwrap_or(state.core.behaviour.day));
    if let Some(c) = document {
        b = b.with_catalog(c, "inline");
    }
    Ok(Some(b))
}

/// Creates the sandbox; returns its subscription id, or why the preset is refused.
pub fn create(state: &AppState, preset: Preset) -> Result<serde_json::Value, String> {
    let id = match &preset.subscription_id {
        Some(raw) => uuid::Uuid::parse_str(raw)
            .map_err(|_| format!("subscriptionId '{raw}' is not a GUID"))?
            .hyphenated()
            .to_string(),
        None => state.core.ids.uuid_string(),
    };
    if state.core.store.touched_ids().contains(&id) {
        return Err(format!(
            "subscription '{id}' already holds state; reset it first"
        ));
    }
    let sandbox = behaviour(
        state,
        preset.azure_date.as_deref(),
        preset.mesh_catalog.as_ref(),
    )?;
    let day = sandbox.as_ref().map_or(state.core.behaviour.day, |b| b.day);
    let mut features = Vec::new();
    for name in &preset.features {
        let (ns, feature) = name
            .split_once('/')
            .ok_or_else(|| format!("feature '{name}' must be Namespace/Name"))?;
        let spec = state.core.features.find(ns, feature, day).ok_or_else(|| {
            format!(
                "feature '{name}' is not in the catalogue on {} (docs/aks-by-date.md)",
                day_string(day)
            )
        })?;
        features.push(feature_key(&spec.namespace, &spec.name));
    }
    // A feature only takes effect once its provider is registered after it: include it.
    let mut providers: Vec<String> = Vec::new();
    for ns in preset.providers.iter().map(String::as_str).chain(
        preset
            .features
            .iter()
            .filter_map(|f| f.split_once('/').map(|(ns, _)| ns)),
    ) {
        let spec = state
            .core
            .resource_types
            .provider(ns)
            .ok_or_else(|| format!("provider namespace '{ns}' is unknown"))?;
        let key = spec.key.clone();
        if !providers.contains(&key) {
            providers.push(key);
        }
    }
    let mut groups = Vec::new();
    for (name, location) in &preset.resource_groups {
        crate::core::groups::validate_name(name).map_err(|e| e.body.message.clone())?;
        let location = state
            .core
            .resource_types
            .normalize_location(location)
            .ok_or_else(|| format!("location '{location}' is unknown"))?;
        groups.push(ResourceGroup {
            name: name.clone(),
            location,
            tags: None,
            managed_by: None,
            state: GroupState::Succeeded,
        });
    }
    let now = state.core.clock.now();
    let answer = sandbox.as_ref().map(Behaviour::as_json);
    if let Some(b) = sandbox {
        state.core.sandboxes.set(&id, b);
    }
    state.core.store.with(&id, now, |sub| {
        sub.touched = true;
        if let Some(name) = &preset.display_name {
            sub.display_name = name.clone();
        }
        let registrations = &mut sub.registrations;
        for key in features {
            let seq = registrations.next_seq();
            registrations
                .features
                .entry(key)
                .or_insert_with(Registration::default)
                .register_now(now, seq);
        }
        for key in providers {
            let seq = registrations.next_seq();
            registrations
                .providers
                .entry(key)
                .or_insert_with(Registration::default)
                .register_now(now, seq);
        }
        for group in groups {
            sub.groups.insert(group.name.to_ascii_lowercase(), group);
        }
    });
    let mut created = serde_json::json!({ "subscriptionId": id });
    if let Some(serde_json::Value::Object(fields)) = answer {
        for (k, v) in fields {
            created[k] = v;
        }
    }
    Ok(created)
}

/// `PUT /_sim/azure-date/{subscriptionId}` `{"azureDate": "YYYY-MM-DD" | null}`: moves one
/// subscription to the AKS of another day (its catalogue file, if any, is kept); `null` goes
/// back to the server's day. What a subscription already holds stays: a cluster installed with
/// a revision AKS later deprecated keeps it, as in Azure. Answers the subscription's day.
pub fn set_azure_date(
    state: &AppState,
    sub: &str,
    value: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let day = match value.get("azureDate") {
        Some(serde_json::Value::String(d)) => Some(timeline().check_day(d, "azureDate")?),
        Some(serde_json::Value::Null) => None,
        _ => {
            return Err(
                "the body must be {\"azureDate\": \"YYYY-MM-DD\"} or {\"azureDate\": null}".into(),
            )
        }
    };
    if let Some(extra) = value
        .as_object()
        .and_then(|m| m.keys().find(|k| *k != "azureDate"))
    {
        return Err(format!("unknown field `{extra}`, expected `azureDate`"));
    }
    let current = state.core.sandboxes.get(sub);
    let catalog = current
        .as_ref()
        .filter(|b| b.catalog_override.is_some())
        .map(|b| {
            (
                crate::core::timeline::catalog::AksCatalog::clone(&b.aks),
                b.catalog_override.clone().unwrap_or_default(),
            )
        });
    match (day, catalog) {
        (None, None) => {
            state.core.sandboxes.remove(sub);
        }
        (day, catalog) => {
            let mut b = Behaviour::at(day.unwrap_or(state.core.behaviour.day));
            if let Some((c, origin)) = catalog {
                b = b.with_catalog(c, &origin);
            }
            state.core.sandboxes.set(sub, b);
        }
    }
    Ok(azure_date_of(state, sub))
}

/// `GET /_sim/azure-date/{subscriptionId}`: the day (and catalogue) the subscription sees.
pub fn azure_date_of(state: &AppState, sub: &str) -> serde_json::Value {
    let b = state.core.behaviour_for(sub);
    let mut v = b.as_json();
    v["subscriptionId"] = sub.into();
    v["own"] = state.core.sandboxes.get(sub).is_some().into();
    v
}
