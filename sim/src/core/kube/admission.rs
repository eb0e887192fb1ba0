//! The add-on's validating admission webhook (`azure-service-mesh-ccp-validating-webhook`),
//! driven by `data/istio-admission.json`: blocked Istio kinds per era, the EnvoyFilter type
//! allow-list, and the shared MeshConfig rules for `istio-shared-configmap-asm-X-Y`.
//!
//! Every denial is a [`Error::webhook_denied`]: HTTP 400, empty reason, message
//! `admission webhook "<name>" denied the request: <reason>` (`../shared/reference/ARM-CONTRACT.md` §6). The webhook
//! only exists while the add-on is enabled; callers check that.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use super::catalog::ResourceType;
use super::error::Error;
use super::MeshView;

/// The add-on's own namespace (the Istio root namespace).
pub const ADDON_NAMESPACE: &str = "aks-istio-system";
/// Name prefix of the user's shared MeshConfig configmaps.
pub const SHARED_CONFIGMAP_PREFIX: &str = "istio-shared-configmap-";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Era {
    pub blocked_kinds: Vec<String>,
    /// `blocked` or `allowedTypes`.
    pub envoy_filter: String,
    /// Telemetry is refused while an installed revision is older than this.
    pub telemetry_allowed_from: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Messages {
    pub blocked_kind: String,
    pub envoy_filter_type: String,
    pub envoy_filter_no_type: String,
    pub telemetry_too_old: String,
    pub mesh_config_field: String,
    pub mesh_config_proxy_field: String,
    pub mesh_config_missing: String,
    pub mesh_config_extra_key: String,
    pub mesh_config_yaml: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshConfigRules {
    pub allowed: Vec<String>,
    pub default_config_allowed: Vec<String>,
}

/// `data/istio-admission.json`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rules {
    pub webhook: String,
    pub default_era: String,
    pub eras: std::collections::BTreeMap<String, Era>,
    pub envoy_filter_allowed_types: Vec<String>,
    pub messages: Messages,
    pub mesh_config: MeshConfigRules,
}

/// The embedded rules (parsed once; the file is part of the binary).
pub fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        serde_json::from_str(include_str!("../../../data/istio-admission.json"))
            .expect("data/istio-admission.json is valid (checked by a unit test)")
    })
}

/// The era names the data file defines.
pub fn era_names() -> Vec<&'static str> {
    rules().eras.keys().map(String::as_str).collect()
}

/// The data file's own spelling of an era name (so it can live in a `Copy` context).
pub fn era_key(name: &str) -> Option<&'static str> {
    rules()
        .eras
        .keys()
        .find(|k| k.as_str() == name)
        .map(String::as_str)
}

/// The era named `name`, or the default one when `None` or unknown.
pub fn era(name: Option<&str>) -> &'static Era {
    let r = rules();
    name.and_then(|n| r.eras.get(n))
        .or_else(|| r.eras.get(&r.default_era))
        .expect("the default era exists (checked by a unit test)")
}

fn deny(reason: String) -> Error {
    Error::webhook_denied(&rules().webhook, &reason)
}

/// `asm-1-22` → `(1, 22)`.
pub fn revision_number(rev: &str) -> Option<(u32, u32)> {
    let rest = rev.strip_prefix("asm-")?;
    let (a, b) = rest.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Validates an Istio custom resource on create/update while the add-on is enabled.
pub fn check_istio_object(
    rt: &ResourceType,
    object: &Value,
    mesh: &MeshView,
    era_name: Option<&str>,
) -> Result<(), Error> {
    if !mesh.enabled || !rt.is_istio() {
        return Ok(());
    }
    let era = era(era_name);
    let msgs = &rules().messages;
    if rt.kind == "EnvoyFilter" {
        if era.envoy_filter == "blocked" {
            return Err(deny(msgs.blocked_kind.replace("{kind}", &rt.kind)));
        }
        return check_envoy_filter(object);
    }
    if rt.kind == "Telemetry" {
        if let Some(from) = era.telemetry_allowed_from.as_deref() {
            let floor = revision_number(from);
            let oldest = mesh
                .revisions
                .iter()
                .filter_map(|r| revision_number(r))
                .min();
            if let (Some(floor), Some(oldest)) = (floor, oldest) {
                if oldest < floor {
                    return Err(deny(msgs.telemetry_too_old.replace("{revision}", from)));
                }
            }
        }
    }
    if era.blocked_kinds.contains(&rt.kind) {
        return Err(deny(msgs.blocked_kind.replace("{kind}", &rt.kind)));
    }
    Ok(())
}

/// Every `configPatches[].patch.value.typed_config["@type"]` (and `typedConfig`) must be on
/// the allow-list.
fn check_envoy_filter(object: &Value) -> Result<(), Error> {
    let r = rules();
    let patches = object
        .pointer("/spec/configPatches")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for p in &patches {
        let value = p.pointer("/patch/value");
        let typed = value.and_then(|v| v.get("typed_config").or_else(|| v.get("typedConfig")));
        let Some(typed) = typed else {
            // Patches without a filter config (e.g. removing a filter) carry no type.
            if value.and_then(|v| v.get("name")).is_some() {
                return Err(deny(r.messages.envoy_filter_no_type.clone()));
            }
            continue;
        };
        let ty = typed.get("@type").and_then(Value::as_str).unwrap_or("");
        if ty.is_empty() {
            return Err(deny(r.messages.envoy_filter_no_type.clone()));
        }
        if !r.envoy_filter_allowed_types.iter().any(|t| t == ty) {
            return Err(deny(r.messages.envoy_filter_type.replace("{type}", ty)));
        }
    }
    Ok(())
}

/// Whether `name` is a shared MeshConfig configmap name (`istio-shared-configmap-asm-X-Y`).
pub fn is_shared_configmap(namespace: &str, name: &str) -> bool {
    namespace == ADDON_NAMESPACE
        && name
            .strip_prefix(SHARED_CONFIGMAP_PREFIX)
            .is_some_and(|rev| revision_number(rev).is_some())
}

/// Validates a shared MeshConfig configmap: only the key `mesh`, YAML mapping, allowed fields.
pub fn check_shared_configmap(name: &str, object: &Value) -> Result<(), Error> {
    let r = rules();
    let msgs = &r.messages;
    let data = object.get("data").and_then(Value::as_object);
    let Some(mesh) = data.and_then(|d| d.get("mesh")).and_then(Value::as_str) else {
        return Err(deny(msgs.mesh_config_missing.replace("{name}", name)));
    };
    if let Some(extra) = data.and_then(|d| d.keys().find(|k| *k != "mesh")) {
        return Err(deny(
            msgs.mesh_config_extra_key
                .replace("{name}", name)
                .replace("{key}", extra),
        ));
    }
    let parsed: Value = if mesh.trim().is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        yaml_serde::from_str(mesh).map_err(|e| {
            deny(
                msgs.mesh_config_yaml
                    .replace("{name}", name)
                    .replace("{error}", &e.to_string()),
            )
        })?
    };
    let Some(fields) = parsed.as_object() else {
        return Err(deny(
            msgs.mesh_config_yaml
                .replace("{name}", name)
                .replace("{error}", "not a mapping"),
        ));
    };
    for field in fields.keys() {
        if !r.mesh_config.allowed.iter().any(|a| a == field) {
            return Err(deny(
                msgs.mesh_config_field
                    .replace("{field}", field)
                    .replace("{name}", name),
            ));
        }
    }
    if let Some(dc) = fields.get("defaultConfig") {
        let Some(dc) = dc.as_object() else {
            return Err(deny(
                msgs.mesh_config_yaml
                    .replace("{name}", name)
                    .replace("{error}", "defaultConfig is not a mapping"),
            ));
        };
        for field in dc.keys() {
            if !r
                .mesh_config
                .default_config_allowed
                .iter()
                .any(|a| a == field)
            {
                return Err(deny(
                    msgs.mesh_config_proxy_field
                        .replace("{field}", field)
                        .replace("{name}", name),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_is_consistent() {
        let r = rules();
        assert!(r.eras.contains_key(&r.default_era));
        for name in ["2023", "2024", "current"] {
            assert!(r.eras.contains_key(name), "era {name}");
        }
        assert_eq!(era(Some("nope")).blocked_kinds, era(None).blocked_kinds);
    }
}
