//! The add-on's validating admission webhook (`azure-service-mesh-ccp-validating-webhook`):
//! the policy of the subscription's day (`timeline::admission::AdmissionPolicy`: blocked Istio
//! kinds, EnvoyFilter types, Telemetry revisions and fields, MeshConfig fields, whether
//! unlabelled resources are validated) and the denial texts (`data/istio-admission.json`).
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
use crate::core::timeline::admission::{AdmissionPolicy, EnvoyFilterPolicy};

/// The add-on's own namespace (the Istio root namespace).
pub const ADDON_NAMESPACE: &str = "aks-istio-system";
/// Name prefix of the user's shared MeshConfig configmaps.
pub const SHARED_CONFIGMAP_PREFIX: &str = "istio-shared-configmap-";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Messages {
    pub blocked_kind: String,
    pub envoy_filter_type: String,
    pub envoy_filter_no_type: String,
    pub telemetry_too_old: String,
    pub telemetry_field: String,
    pub mesh_config_field: String,
    pub mesh_config_proxy_field: String,
    pub mesh_config_missing: String,
    pub mesh_config_extra_key: String,
    pub mesh_config_yaml: String,
}

/// `data/istio-admission.json`: the denial texts.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Texts {
    #[serde(rename = "_comment")]
    pub _comment: String,
    pub messages: Messages,
}

/// The embedded texts (parsed once; the file is part of the binary).
pub fn texts() -> &'static Texts {
    static TEXTS: OnceLock<Texts> = OnceLock::new();
    TEXTS.get_or_init(|| {
        serde_json::from_str(include_str!("../../../data/istio-admission.json"))
            .expect("data/istio-admission.json is valid (checked by a unit test)")
    })
}

fn deny(policy: &AdmissionPolicy, reason: String) -> Error {
    Error::webhook_denied(&policy.webhook, &reason)
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
    policy: &AdmissionPolicy,
) -> Result<(), Error> {
    if !mesh.enabled || !rt.is_istio() {
        return Ok(());
    }
    let labelled = object
        .pointer("/metadata/labels/istio.io~1rev")
        .and_then(Value::as_str)
        .is_some_and(|r| !r.is_empty());
    if !labelled && !policy.validates_unlabelled {
        return Ok(());
    }
    let msgs = &texts().messages;
    let blocked = || deny(policy, msgs.blocked_kind.replace("{kind}", &rt.kind));
    if rt.kind == "EnvoyFilter" {
        return match &policy.envoy_filter {
            EnvoyFilterPolicy::Blocked => Err(blocked()),
            EnvoyFilterPolicy::All => Ok(()),
            EnvoyFilterPolicy::AllowedTypes(types) => check_envoy_filter(object, policy, types),
        };
    }
    if policy.blocked_kinds.contains(&rt.kind) {
        return Err(blocked());
    }
    if rt.kind == "Telemetry" {
        if let Some(from) = policy.telemetry_allowed_from.as_deref() {
            let floor = revision_number(from);
            let oldest = mesh
                .revisions
                .iter()
                .filter_map(|r| revision_number(r))
                .min();
            if let (Some(floor), Some(oldest)) = (floor, oldest) {
                if oldest < floor {
                    return Err(deny(
                        policy,
                        msgs.telemetry_too_old.replace("{revision}", from),
                    ));
                }
            }
        }
        check_telemetry_fields(object, policy)?;
    }
    Ok(())
}

/// Every field of a Telemetry's spec must be in the add-on's table (`accessLogging.match`,
/// `metrics.overrides`, `tracing.*`, ...): top-level keys (`selector`, `targetRef` are not in
/// it) and the keys of each list entry.
fn check_telemetry_fields(object: &Value, policy: &AdmissionPolicy) -> Result<(), Error> {
    let Some(spec) = object.get("spec").and_then(Value::as_object) else {
        return Ok(());
    };
    let refuse = |path: &str| {
        deny(
            policy,
            texts().messages.telemetry_field.replace("{field}", path),
        )
    };
    for (key, value) in spec {
        let entries: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        let mut any_field = false;
        for entry in entries {
            if let Some(fields) = entry.as_object() {
                for field in fields.keys() {
                    any_field = true;
                    let path = format!("{key}.{field}");
                    if !policy.telemetry_field_allowed(&path) {
                        return Err(refuse(&path));
                    }
                }
            }
        }
        if !any_field && !policy.telemetry_field_allowed(key) && !is_table_section(policy, key) {
            return Err(refuse(key));
        }
    }
    Ok(())
}

/// Whether `key` is a section of the Telemetry table (`accessLogging` for `accessLogging.match`).
fn is_table_section(policy: &AdmissionPolicy, key: &str) -> bool {
    policy
        .telemetry_fields
        .as_ref()
        .is_none_or(|t| t.iter().any(|f| f.split('.').next() == Some(key)))
}

/// Every `configPatches[].patch.value.typed_config["@type"]` (and `typedConfig`) must be on
/// the allow-list.
fn check_envoy_filter(
    object: &Value,
    policy: &AdmissionPolicy,
    allowed: &[String],
) -> Result<(), Error> {
    let msgs = &texts().messages;
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
                return Err(deny(policy, msgs.envoy_filter_no_type.clone()));
            }
            continue;
        };
        let ty = typed.get("@type").and_then(Value::as_str).unwrap_or("");
        if ty.is_empty() {
            return Err(deny(policy, msgs.envoy_filter_no_type.clone()));
        }
        if !allowed.iter().any(|t| t == ty) {
            return Err(deny(policy, msgs.envoy_filter_type.replace("{type}", ty)));
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
/// Before MeshConfig customisation existed (no fields in the day's policy) the configmap is
/// not the add-on's business and is not checked.
pub fn check_shared_configmap(
    name: &str,
    object: &Value,
    policy: &AdmissionPolicy,
) -> Result<(), Error> {
    if policy.mesh_config_fields.is_empty() {
        return Ok(());
    }
    let msgs = &texts().messages;
    let deny = |reason: String| deny(policy, reason);
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
        if !policy.mesh_config_fields.iter().any(|a| a == field) {
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
            if !policy.proxy_config_fields.iter().any(|a| a == field) {
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
        let t = texts();
        assert!(t.messages.blocked_kind.contains("{kind}"));
        assert!(t.messages.telemetry_field.contains("{field}"));
    }
}
