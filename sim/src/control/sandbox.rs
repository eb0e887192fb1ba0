//! Sandboxes: a subscription created with a preset, for parallel CI jobs that each want their
//! own isolated starting point (features and providers already registered, resource groups
//! in place) without the requests and waits to get there.
//!
//! `POST /_sim/sandboxes` with
//! `{"subscriptionId"?, "displayName"?, "features": [...], "providers": [...], "resourceGroups": {"rg1": "eastus"}, "meshCatalog"?}`
//! answers 201 with the subscription id. Everything is checked before anything is written.
//!
//! `meshCatalog` gives the sandbox its own AKS catalogue (an embedded name, or a catalogue
//! document inline), so scenarios that need another era run on a server started with the
//! default catalogue, beside other users. The catalogues live in [`SandboxCatalogs`], which
//! `Core::aks_for` consults; resets drop them, snapshots carry them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::core::clusters::catalog::{AksCatalog, EMBEDDED_NAMES};
use crate::core::groups::{GroupState, ResourceGroup};
use crate::core::registration::features::feature_key;
use crate::core::registration::Registration;
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
    /// The sandbox's AKS catalogue: an embedded name (`current`, `2023`) or a catalogue
    /// document (the `--mesh-catalog` file format) inline.
    #[serde(default)]
    pub mesh_catalog: Option<serde_json::Value>,
}

/// A `meshCatalog` value: an embedded name or an inline catalogue document.
pub fn catalog_from_json(value: &serde_json::Value) -> Result<AksCatalog, String> {
    match value {
        serde_json::Value::String(name) => AksCatalog::embedded(name).ok_or_else(|| {
            format!(
                "meshCatalog '{name}' is not an embedded catalogue ({}); give a catalogue \
                 document inline instead",
                EMBEDDED_NAMES.join(", ")
            )
        }),
        serde_json::Value::Object(_) => AksCatalog::parse(&value.to_string())
            .map_err(|e| format!("meshCatalog is not a valid AKS catalogue: {e}")),
        _ => Err("meshCatalog must be a catalogue name or a catalogue document".into()),
    }
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
    let mut features = Vec::new();
    for name in &preset.features {
        let (ns, feature) = name
            .split_once('/')
            .ok_or_else(|| format!("feature '{name}' must be Namespace/Name"))?;
        let spec = state
            .core
            .features
            .find(ns, feature)
            .filter(|f| !f.retired)
            .ok_or_else(|| format!("feature '{name}' is not in the catalogue"))?;
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
    let catalog = preset
        .mesh_catalog
        .as_ref()
        .map(catalog_from_json)
        .transpose()?;
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
    let catalog_name = catalog.as_ref().map(|c| c.name.clone());
    if let Some(catalog) = catalog {
        state.core.sandbox_catalogs.set(&id, Arc::new(catalog));
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
    if let Some(name) = catalog_name {
        created["meshCatalog"] = name.into();
    }
    Ok(created)
}
