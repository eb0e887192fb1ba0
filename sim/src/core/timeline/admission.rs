//! The Istio add-on's admission policy on one day: which Istio kinds are blocked, which
//! EnvoyFilters pass, from which revision Telemetry is allowed and which of its fields, which
//! MeshConfig fields the shared configmap may set, which annotations the ingress gateway
//! services accept, and whether resources without `istio.io/rev` are validated.

use super::raw::RawAdmission;
use super::{in_force, Day};

/// What EnvoyFilters pass the add-on's webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvoyFilterPolicy {
    /// The kind is blocked.
    Blocked,
    /// Only these `typed_config` types.
    AllowedTypes(Vec<String>),
    /// Every filter type.
    All,
}

#[derive(Debug, Clone)]
pub struct AdmissionPolicy {
    pub webhook: String,
    pub blocked_kinds: Vec<String>,
    pub envoy_filter: EnvoyFilterPolicy,
    /// `None`: Telemetry is blocked (a blocked kind) or allowed on every revision.
    pub telemetry_allowed_from: Option<String>,
    /// Telemetry fields the add-on supports (`accessLogging.match`, `tracing.*`, ...); `None`:
    /// no table (nothing checked).
    pub telemetry_fields: Option<Vec<String>>,
    /// Top-level MeshConfig fields the shared configmap may set; empty before MeshConfig
    /// customisation existed (the configmap is then not validated).
    pub mesh_config_fields: Vec<String>,
    /// ProxyConfig fields under `defaultConfig`.
    pub proxy_config_fields: Vec<String>,
    /// Annotation names (with `{port}` for a port number) users may set on the ingress
    /// gateway services; empty: the services may not be customised.
    pub ingress_annotations: Vec<String>,
    /// Whether users may set `spec.externalTrafficPolicy` on the ingress gateway services.
    pub ingress_external_traffic_policy: bool,
    /// Whether Istio resources without the `istio.io/rev` label are validated too.
    pub validates_unlabelled: bool,
}

impl AdmissionPolicy {
    pub fn resolve(a: &RawAdmission, d: Day) -> AdmissionPolicy {
        let blocked_kinds = a
            .blocked_kinds
            .iter()
            .find(|x| in_force(&x.since, x.until.as_deref(), d))
            .map(|x| x.kinds.clone())
            .unwrap_or_default();
        let envoy_filter = a
            .envoy_filter
            .iter()
            .find(|x| in_force(&x.since, x.until.as_deref(), d))
            .map(|x| match x.policy.as_str() {
                "allowedTypes" => EnvoyFilterPolicy::AllowedTypes(x.allowed_types.clone()),
                "all" => EnvoyFilterPolicy::All,
                _ => EnvoyFilterPolicy::Blocked,
            })
            .unwrap_or(EnvoyFilterPolicy::Blocked);
        let telemetry = a
            .telemetry
            .iter()
            .find(|x| in_force(&x.since, x.until.as_deref(), d));
        let fields = |section: &str| -> Vec<String> {
            a.mesh_config_fields
                .iter()
                .filter(|f| f.section == section && in_force(&f.since, f.until.as_deref(), d))
                .map(|f| f.field.clone())
                .collect()
        };
        AdmissionPolicy {
            webhook: a.webhook.clone(),
            blocked_kinds,
            envoy_filter,
            telemetry_allowed_from: telemetry.and_then(|t| t.allowed_from_revision.clone()),
            telemetry_fields: telemetry.and_then(|t| t.field_table.as_ref()).map(|table| {
                table
                    .keys()
                    .filter(|k| !k.starts_with('_'))
                    .cloned()
                    .collect()
            }),
            mesh_config_fields: fields("mesh"),
            proxy_config_fields: fields("defaultConfig"),
            ingress_annotations: a
                .ingress_service_annotations
                .iter()
                .filter(|x| in_force(&x.since, x.until.as_deref(), d))
                .map(|x| x.pattern.clone())
                .collect(),
            ingress_external_traffic_policy: a
                .ingress_service_other_customizations
                .iter()
                .any(|x| x.key == "externalTrafficPolicy" && in_force(&x.since, None, d)),
            validates_unlabelled: a
                .validation_scope
                .iter()
                .any(|x| in_force(&x.since, x.until.as_deref(), d) && x.validates_unlabelled),
        }
    }

    /// Whether `name` is an annotation users may set on an ingress gateway service.
    pub fn ingress_annotation_allowed(&self, name: &str) -> bool {
        self.ingress_annotations
            .iter()
            .any(|pattern| annotation_matches(pattern, name))
    }

    /// Whether the Telemetry field `path` (`metrics.overrides`, `tracing.randomSamplingPercentage`)
    /// is in the table; `true` when there is no table.
    pub fn telemetry_field_allowed(&self, path: &str) -> bool {
        let Some(table) = &self.telemetry_fields else {
            return true;
        };
        table.iter().any(|entry| match entry.strip_suffix(".*") {
            Some(prefix) => path == prefix || path.starts_with(&format!("{prefix}.")),
            None => path == entry || path.starts_with(&format!("{entry}.")),
        })
    }
}

/// `service.beta.kubernetes.io/port_{port}_no_lb_rule` matches `..._port_443_no_lb_rule`.
fn annotation_matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once("{port}") {
        None => pattern == name,
        Some((before, after)) => name
            .strip_prefix(before)
            .and_then(|rest| rest.strip_suffix(after))
            .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse_day, timeline};
    use super::*;

    fn at(d: &str) -> AdmissionPolicy {
        AdmissionPolicy::resolve(&timeline().raw.admission, parse_day(d).unwrap())
    }

    #[test]
    fn each_era_resolves_to_its_policy() {
        let seed = at("2023-12-01");
        assert!(seed.blocked_kinds.iter().any(|k| k == "EnvoyFilter"));
        assert!(seed.blocked_kinds.iter().any(|k| k == "Telemetry"));
        assert_eq!(seed.envoy_filter, EnvoyFilterPolicy::Blocked);
        assert!(seed.mesh_config_fields.is_empty());
        assert!(seed.ingress_annotations.is_empty());
        let y2024 = at("2024-09-01");
        assert!(
            matches!(y2024.envoy_filter, EnvoyFilterPolicy::AllowedTypes(ref t) if t.len() == 3)
        );
        assert_eq!(y2024.telemetry_allowed_from.as_deref(), Some("asm-1-22"));
        let today = at("2026-12-07");
        assert_eq!(today.envoy_filter, EnvoyFilterPolicy::All);
        assert!(today.mesh_config_fields.iter().any(|f| f == "tcpKeepalive"));
        assert!(today
            .proxy_config_fields
            .iter()
            .any(|f| f == "gatewayTopology"));
        assert!(today
            .proxy_config_fields
            .iter()
            .any(|f| f == "proxyHeaders"));
        assert!(today.ingress_annotation_allowed("external-dns.alpha.kubernetes.io/hostname"));
        assert!(today.ingress_annotation_allowed(
            "service.beta.kubernetes.io/port_443_health-probe_request-path"
        ));
        assert!(!today.ingress_annotation_allowed("service.beta.kubernetes.io/port_x_no_lb_rule"));
        assert!(!at("2025-02-24")
            .ingress_annotation_allowed("external-dns.alpha.kubernetes.io/hostname"));
        assert!(today.telemetry_field_allowed("accessLogging.providers"));
        assert!(today.telemetry_field_allowed("tracing.randomSamplingPercentage"));
        assert!(!today.telemetry_field_allowed("metrics.reportingInterval"));
        assert!(today.validates_unlabelled);
        assert!(!y2024.validates_unlabelled);
    }
}
