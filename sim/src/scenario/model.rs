//! The scenario file format (YAML or JSON). `docs/scenario-schema.json` describes the same
//! shape for editors; these types are what the runner enforces (unknown keys are errors, with
//! the file, line and reason).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Steps one scenario may have.
pub const STEPS_MAX: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Settings::is_empty")]
    pub settings: Settings,
    #[serde(default, skip_serializing_if = "Setup::is_empty")]
    pub setup: Setup,
    pub steps: Vec<Step>,
}

/// What the simulator must be set to for the scenario. In-process the simulator is built with
/// these; against a live aksim the runner applies them through `/_sim` before the setup and
/// puts the previous values back afterwards (reading them again to check). A setting the
/// target cannot take makes the scenario *skipped*, with the reason — never passed.
///
/// Per subscription (run beside other scenarios): `azureDate`, `meshCatalog` (a sandbox
/// subscription).
/// Server-wide (on a live aksim the scenario runs alone): `operationDurations`,
/// `registrationSeconds`, `freezeClock`. Fixed when aksim starts (a target that differs skips
/// the scenario): `auth`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// The day whose AKS the scenario runs against (`YYYY-MM-DD`, docs/aks-by-date.md). On a
    /// live aksim the scenario's subscription is a sandbox with this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_date: Option<String>,
    /// An AKS catalogue file (a path relative to the scenario file) replacing the day's. The
    /// old names `2023` and `current` still work and stand for an `azureDate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh_catalog: Option<String>,
    /// Virtual seconds per operation kind (`{"default": 0, "clusterCreate": 30}`); kinds left
    /// out take `default`, and `default` left out is aksim's own (2 s).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operation_durations: BTreeMap<String, f64>,
    /// Virtual seconds a feature or provider registration takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_seconds: Option<f64>,
    /// Freeze the virtual clock (it then moves only by `advanceClock` and the runner's polls).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub freeze_clock: bool,
    /// How ARM bearer tokens are checked (`off`, `any`, `strict`): aksim's `--auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<crate::config::AuthMode>,
}

impl Settings {
    pub fn is_empty(&self) -> bool {
        *self == Settings::default()
    }

    /// Whether applying these to a live aksim changes something every subscription sees.
    pub fn server_wide(&self) -> bool {
        !self.operation_durations.is_empty()
            || self.registration_seconds.is_some()
            || self.freeze_clock
    }

    /// The settings given, by their file names (for skip reasons).
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.azure_date.is_some() {
            names.push("settings.azureDate");
        }
        if self.mesh_catalog.is_some() {
            names.push("settings.meshCatalog");
        }
        if !self.operation_durations.is_empty() {
            names.push("settings.operationDurations");
        }
        if self.registration_seconds.is_some() {
            names.push("settings.registrationSeconds");
        }
        if self.freeze_clock {
            names.push("settings.freezeClock");
        }
        if self.auth.is_some() {
            names.push("settings.auth");
        }
        names
    }
}

/// What the subscription looks like before the first step.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Setup {
    /// A fixed subscription GUID; by default each run gets a fresh one (`{{subscription}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// Providers to register first (`Microsoft.ContainerService`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub register_providers: Vec<String>,
    /// Features to register first (`Microsoft.ContainerService/AzureServiceMeshPreview`),
    /// followed by a provider re-registration so they take effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub register_features: Vec<String>,
    /// Resource groups to create (`name` → `location`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_groups: BTreeMap<String, String>,
    /// Extra variables for `{{name}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
}

impl Setup {
    pub fn is_empty(&self) -> bool {
        self.subscription.is_none()
            && self.register_providers.is_empty()
            && self.register_features.is_empty()
            && self.resource_groups.is_empty()
            && self.vars.is_empty()
    }
}

/// One step: exactly one action (`request`, `advanceClock`, `waitForOperation`, `fault`,
/// `operationScripts`, `azureDate`, `kube`, `createCluster`) plus optional expectations and
/// captures.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// A request to a cluster's Kubernetes API (`cluster: rg/name`, path relative to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube: Option<KubeRequest>,
    /// Seconds to move the virtual clock (simulator-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance_clock: Option<f64>,
    /// An operation URL (usually a captured `Azure-AsyncOperation`): poll until terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_operation: Option<String>,
    /// A fault rule to arm (simulator-only), as `POST /_sim/faults` takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Value>,
    /// Operation scripts to set (simulator-only), as `PUT /_sim/operations/scripts` takes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_scripts: Option<Value>,
    /// Moves the scenario's subscription to the AKS of this day, `YYYY-MM-DD`
    /// (simulator-only; `PUT /_sim/azure-date/{subscription}`): what it holds stays, what it
    /// asks next is answered as on that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_date: Option<String>,
    /// The common case in one step: create (or replace) a managed cluster the way
    /// `az aks create` does, wait for its operation, and read it back; expectations apply to
    /// the final GET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_cluster: Option<CreateCluster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Values to keep for later steps: `name: header:azure-asyncoperation` or
    /// `name: body:$.properties.x`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Request {
    pub method: String,
    /// Path (and optional query) relative to the ARM base URL.
    pub path: String,
    /// Added as `?api-version=` unless the path has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCluster {
    pub resource_group: String,
    pub name: String,
    /// Default `eastus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Default: the catalogue's default version (`""`, as az sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// Enable the Istio add-on (`--enable-asm`).
    #[serde(default)]
    pub mesh: bool,
    /// With `mesh`: the revision (`--revision`); default: the catalogue's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Extra `properties` merged into the body (e.g. `addonProfiles`, `disableLocalAccounts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
    /// Default: the newest api-version az 2.91 sends (`2026-06-01`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubeRequest {
    /// `resourceGroup/clusterName`; credentials come from `listClusterUserCredential`.
    pub cluster: String,
    pub method: String,
    /// A Kubernetes API path (`/api/v1/namespaces`).
    pub path: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Header values (placeholders allowed); `{{absent}}` asserts a header is missing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON subset the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// JSON paths and the values (or placeholders) found there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub json: BTreeMap<String, Value>,
    /// ARM error code (and, optionally, exact message) of an error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorExpect>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorExpect {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_contains: Option<String>,
}

/// A scenario and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub scenario: Scenario,
}

/// The JSON Schema of scenario files (published as `docs/scenario-schema.json`).
pub fn json_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Scenario)).unwrap_or_default();
    if let Some(map) = schema.as_object_mut() {
        map.insert(
            "$id".into(),
            "https://aksim.dev/scenario-schema.json".into(),
        );
        map.insert(
            "description".into(),
            "An aksim scenario file (YAML or JSON). See docs/scenarios.md.".into(),
        );
    }
    schema
}

/// Reads one scenario file; the error names the file, the line and the reason.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let scenario = parse(
        &text,
        path.extension().and_then(|e| e.to_str()) == Some("json"),
    )
    .map_err(|e| format!("{}:{e}", path.display()))?;
    Ok(Loaded {
        path: path.to_owned(),
        scenario,
    })
}

/// Parses scenario text; errors read `LINE:COLUMN: reason` (or `: reason`).
pub fn parse(text: &str, json: bool) -> Result<Scenario, String> {
    let scenario: Scenario = if json {
        serde_json::from_str(text)
            .map_err(|e| format!("{}:{}: {}", e.line(), e.column(), moved_hint(&e)))?
    } else {
        yaml_serde::from_str(text).map_err(|e| match e.location() {
            Some(loc) => format!("{}:{}: {}", loc.line(), loc.column(), moved_hint(&e)),
            None => format!(" {}", moved_hint(&e)),
        })?
    };
    super::validate::validate(&scenario)?;
    Ok(scenario)
}

/// Setup keys that became `settings` (they configure the simulator, not the subscription).
const MOVED_TO_SETTINGS: [&str; 4] = [
    "operationDurations",
    "registrationSeconds",
    "freezeClock",
    "meshCatalog",
];

/// A parse error, with a pointer to `settings` when it names a key that moved there.
fn moved_hint(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    match MOVED_TO_SETTINGS
        .iter()
        .find(|key| text.contains(&format!("unknown field `{key}`")))
    {
        Some(key) => {
            format!("{text} (`{key}` moved from `setup` to `settings`: see docs/scenarios.md)")
        }
        None => text,
    }
}

/// Whether a file in a scenario folder is a scenario: `*.yaml`, `*.yml` or `*.scenario.json`
/// (other JSON files, such as catalogues, live beside them).
pub fn is_scenario_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".scenario.json")
}

/// Every scenario file under the given folders (and the files given), sorted.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if is_scenario_file(&path) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    out.sort();
    Ok(out)
}
