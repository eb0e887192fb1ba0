//! The parts of `data/aks-timeline.json` aksim reads, as written there. Everything else in the
//! file (notes, confidence, research provenance) is kept for people and the generated table.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Raw {
    pub first_date: String,
    /// The newest day the data was brought up to (the default `--azure-date`).
    pub generated: String,
    pub kubernetes: RawKubernetes,
    pub mesh_revisions: Vec<RawRevision>,
    #[serde(default)]
    pub mesh_api_eras: Vec<RawNote>,
    pub resolved_default_revision: Vec<RawDefaultRevision>,
    #[serde(default)]
    pub features: Vec<RawFeature>,
    #[serde(default)]
    pub preview_gates: Vec<RawGate>,
    pub admission: RawAdmission,
    #[serde(default)]
    pub defaults: Vec<RawDefault>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub recorded_answers: Vec<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawPeriod {
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawKubernetes {
    pub minors: Vec<RawMinor>,
    pub default: Vec<RawDefaultMinor>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawMinor {
    pub minor: String,
    #[serde(default)]
    pub preview: Option<String>,
    #[serde(default)]
    pub ga: Option<String>,
    #[serde(default)]
    pub deprecated: Option<String>,
    pub plans: Vec<RawPlan>,
    pub patch_timeline: Vec<RawPatch>,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawPlan {
    pub plan: String,
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawPatch {
    pub version: String,
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub source: String,
    /// `false`: offered, but a request for the minor alone does not get it (a regressed patch).
    #[serde(default = "yes", rename = "defaultEligible")]
    pub default_eligible: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct RawDefaultMinor {
    pub since: String,
    pub minor: String,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRevision {
    pub revision: String,
    pub released: String,
    #[serde(default)]
    pub deprecated: Option<String>,
    #[serde(default)]
    pub end_of_life: Option<String>,
    pub compatibility: Vec<RawCompatibility>,
    pub listed_in_mesh_revision_profiles: Vec<RawPeriod>,
    pub upgrades: Vec<RawUpgrades>,
    #[serde(default)]
    pub confidence: String,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawCompatibility {
    pub since: String,
    pub compatible_with: Vec<RawCompatibleWith>,
}

#[derive(Debug, Deserialize)]
pub struct RawCompatibleWith {
    pub name: String,
    #[serde(default)]
    pub versions: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawUpgrades {
    pub since: String,
    pub targets: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawDefaultRevision {
    pub since: String,
    pub revision: String,
}

/// A dated statement kept for the generated table only.
#[derive(Debug, Deserialize)]
pub struct RawNote {
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub confidence: String,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawFeature {
    pub namespace: String,
    pub name: String,
    pub registrable: Vec<RawPeriod>,
    #[serde(default)]
    pub confidence: String,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawGate {
    pub feature: String,
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub gates: String,
    #[serde(default)]
    pub confidence: String,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawAdmission {
    pub webhook: String,
    pub blocked_kinds: Vec<RawBlockedKinds>,
    pub envoy_filter: Vec<RawEnvoyFilter>,
    pub telemetry: Vec<RawTelemetry>,
    pub mesh_config_fields: Vec<RawMeshConfigField>,
    pub ingress_service_annotations: Vec<RawAnnotation>,
    #[serde(default)]
    pub ingress_service_other_customizations: Vec<RawCustomization>,
    #[serde(default)]
    pub validation_scope: Vec<RawScope>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawScope {
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    pub summary: String,
    /// Whether Istio resources without `istio.io/rev` are validated too.
    pub validates_unlabelled: bool,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawBlockedKinds {
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    pub kinds: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawEnvoyFilter {
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    /// `blocked`, `allowedTypes` or `all`.
    pub policy: String,
    #[serde(default)]
    pub allowed_types: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawTelemetry {
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub allowed_from_revision: Option<String>,
    /// Field path → `Supported` / `Allowed`; keys starting with `_` are notes.
    #[serde(default)]
    pub field_table: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawMeshConfigField {
    /// `mesh` (a MeshConfig field) or `defaultConfig` (a ProxyConfig field under it).
    pub section: String,
    pub field: String,
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawAnnotation {
    /// An annotation name; `{port}` stands for a service port number.
    pub pattern: String,
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawCustomization {
    /// `externalTrafficPolicy`, `terminationGracePeriodSeconds`, `hpaEdits`, `hpaCanaryCopy`.
    pub key: String,
    pub what: String,
    pub since: String,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct RawDefault {
    pub what: String,
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub value: Value,
    /// The structured condition of the defaults aksim applies.
    #[serde(default)]
    pub when: Option<RawWhen>,
    #[serde(default)]
    pub confidence: String,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawWhen {
    #[serde(default)]
    pub min_kubernetes: Option<String>,
    pub from_revision: String,
    #[serde(default)]
    pub to_revision: Option<String>,
    /// `install` and/or `upgrade`.
    pub on: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRule {
    pub id: String,
    pub since: String,
    #[serde(default)]
    pub until: Option<String>,
    pub summary: String,
    #[serde(default)]
    pub error_text: Option<String>,
    #[serde(default)]
    pub confidence: String,
    #[serde(default)]
    pub sources: Vec<String>,
}
