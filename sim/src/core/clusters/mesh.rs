//! `serviceMeshProfile`: the typed form of the JSON (`../shared/reference/ARM-CONTRACT.md` §5.4), its parsing with
//! clear 400s for wrong JSON types, its normalisation after the rules pass, its response shape
//! and the [`MeshView`] the Kubernetes plane is reconciled with.
//!
//! Response shape: an Istio profile always carries `istio.components` (at least `{}`) and
//! `istio.revisions`; nulls and empty lists are omitted; a disabled profile is exactly
//! `{"mode":"Disabled"}`; a cluster that was never meshed has no profile at all.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::error::{Error, Result};
use crate::core::kube::MeshView;

/// Namespace of an egress gateway when the client names none (docs `istio-deploy-egress.md`).
pub const DEFAULT_EGRESS_NAMESPACE: &str = "aks-istio-egress";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshProfile {
    /// As sent (`Istio`, `Disabled`, anything else is refused by a rule); canonical once stored.
    pub mode: Option<String>,
    /// `None` when `istio` is absent or null.
    pub istio: Option<Istio>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Istio {
    pub ingress_gateways: Vec<IngressGateway>,
    pub egress_gateways: Vec<EgressGateway>,
    pub proxy_redirection_mechanism: Option<String>,
    pub plugin_ca: Option<PluginCa>,
    /// `None` when absent; `Some([])` when sent empty.
    pub revisions: Option<Vec<String>>,
    /// Not an ARM field: the revisions whose proxies run as native sidecars, resolved from
    /// the day's defaults when the mesh is written (`resolve_native_sidecars`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub native_sidecars: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngressGateway {
    pub mode: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressGateway {
    pub enabled: bool,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub gateway_configuration_name: Option<String>,
}

impl EgressGateway {
    pub fn namespace_or_default(&self) -> &str {
        self.namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(DEFAULT_EGRESS_NAMESPACE)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginCa {
    pub key_vault_id: Option<String>,
    pub cert_object_name: Option<String>,
    pub key_object_name: Option<String>,
    pub root_cert_object_name: Option<String>,
    pub cert_chain_object_name: Option<String>,
}

impl PluginCa {
    /// The wire names of the fields that are missing or empty, in schema order.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("keyVaultId", &self.key_vault_id),
            ("certObjectName", &self.cert_object_name),
            ("keyObjectName", &self.key_object_name),
            ("rootCertObjectName", &self.root_cert_object_name),
            ("certChainObjectName", &self.cert_chain_object_name),
        ]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_none_or(str::is_empty))
        .map(|(name, _)| name)
        .collect()
    }
}

// ---- parsing -------------------------------------------------------------------------------

const PATH: &str = "properties.serviceMeshProfile";

fn type_error(path: &str, expected: &str, got: &Value) -> Error {
    let kind = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Error::invalid_request_content(&format!(
        "Error converting value at path '{path}': expected {expected}, got {kind}"
    ))
}

fn object<'a>(v: &'a Value, path: &str) -> Result<Option<&'a Map<String, Value>>> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        other => Err(type_error(path, "an object", other)),
    }
}

fn opt_string(m: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(type_error(&format!("{path}.{key}"), "a string", other)),
    }
}

fn opt_bool(m: &Map<String, Value>, key: &str, path: &str) -> Result<Option<bool>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(type_error(&format!("{path}.{key}"), "a boolean", other)),
    }
}

fn opt_array<'a>(m: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a [Value]> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(type_error(&format!("{path}.{key}"), "an array", other)),
    }
}

/// Parses `properties.serviceMeshProfile`; `Ok(None)` when absent or null.
pub fn parse(value: Option<&Value>) -> Result<Option<MeshProfile>> {
    let Some(value) = value else { return Ok(None) };
    let Some(m) = object(value, PATH)? else {
        return Ok(None);
    };
    let mode = opt_string(m, "mode", PATH)?;
    let istio_path = format!("{PATH}.istio");
    let istio = match m.get("istio") {
        None => None,
        Some(v) => match object(v, &istio_path)? {
            None => None,
            Some(im) => Some(parse_istio(im, &istio_path)?),
        },
    };
    Ok(Some(MeshProfile { mode, istio }))
}

fn parse_istio(m: &Map<String, Value>, path: &str) -> Result<Istio> {
    let mut istio = Istio::default();
    if let Some(c) = m.get("components") {
        let cpath = format!("{path}.components");
        if let Some(cm) = object(c, &cpath)? {
            for (i, item) in opt_array(cm, "ingressGateways", &cpath)?.iter().enumerate() {
                let ipath = format!("{cpath}.ingressGateways[{i}]");
                let im =
                    object(item, &ipath)?.ok_or_else(|| type_error(&ipath, "an object", item))?;
                istio.ingress_gateways.push(IngressGateway {
                    mode: opt_string(im, "mode", &ipath)?.unwrap_or_default(),
                    // AKS answers a disabled gateway without `enabled`, so a GET → PUT round
                    // trip sends it back without one: absent means disabled.
                    enabled: opt_bool(im, "enabled", &ipath)?.unwrap_or(false),
                });
            }
            for (i, item) in opt_array(cm, "egressGateways", &cpath)?.iter().enumerate() {
                let epath = format!("{cpath}.egressGateways[{i}]");
                let em =
                    object(item, &epath)?.ok_or_else(|| type_error(&epath, "an object", item))?;
                istio.egress_gateways.push(EgressGateway {
                    enabled: opt_bool(em, "enabled", &epath)?.unwrap_or(false),
                    name: opt_string(em, "name", &epath)?,
                    namespace: opt_string(em, "namespace", &epath)?,
                    gateway_configuration_name: opt_string(em, "gatewayConfigurationName", &epath)?,
                });
            }
            istio.proxy_redirection_mechanism =
                opt_string(cm, "proxyRedirectionMechanism", &cpath)?;
        }
    }
    if let Some(ca) = m.get("certificateAuthority") {
        let capath = format!("{path}.certificateAuthority");
        if let Some(cam) = object(ca, &capath)? {
            if let Some(plugin) = cam.get("plugin") {
                let ppath = format!("{capath}.plugin");
                if let Some(pm) = object(plugin, &ppath)? {
                    istio.plugin_ca = Some(PluginCa {
                        key_vault_id: opt_string(pm, "keyVaultId", &ppath)?,
                        cert_object_name: opt_string(pm, "certObjectName", &ppath)?,
                        key_object_name: opt_string(pm, "keyObjectName", &ppath)?,
                        root_cert_object_name: opt_string(pm, "rootCertObjectName", &ppath)?,
                        cert_chain_object_name: opt_string(pm, "certChainObjectName", &ppath)?,
                    });
                }
            }
        }
    }
    match m.get("revisions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let mut revisions = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => revisions.push(s.clone()),
                    other => {
                        return Err(type_error(
                            &format!("{path}.revisions[{i}]"),
                            "a string",
                            other,
                        ))
                    }
                }
            }
            istio.revisions = Some(revisions);
        }
        Some(other) => return Err(type_error(&format!("{path}.revisions"), "an array", other)),
    }
    Ok(istio)
}

// ---- state ---------------------------------------------------------------------------------

impl MeshProfile {
    pub fn disabled() -> Self {
        MeshProfile {
            mode: Some("Disabled".into()),
            istio: None,
        }
    }

    pub fn is_istio(&self) -> bool {
        self.mode
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("istio"))
    }

    /// Installed revisions (empty unless Istio).
    pub fn revisions(&self) -> &[String] {
        match (&self.istio, self.is_istio()) {
            (Some(istio), true) => istio.revisions.as_deref().unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The stored form of an accepted request: canonical mode, default revision filled in,
    /// egress namespaces defaulted, revisions in ascending order. Disabled collapses.
    pub fn normalized(&self, default_revision: Option<&str>) -> MeshProfile {
        if !self.is_istio() {
            return MeshProfile::disabled();
        }
        let mut istio = self.istio.clone().unwrap_or_default();
        let mut revisions = istio.revisions.take().unwrap_or_default();
        if revisions.is_empty() {
            revisions.extend(default_revision.map(str::to_owned));
        }
        for r in &mut revisions {
            *r = r.to_ascii_lowercase();
        }
        revisions.sort_by_key(|r| crate::core::timeline::catalog::revision_number(r));
        istio.revisions = Some(revisions);
        for g in &mut istio.ingress_gateways {
            g.mode = canonical(&g.mode, &["External", "Internal"]);
        }
        for g in &mut istio.egress_gateways {
            g.namespace = Some(g.namespace_or_default().to_owned());
        }
        if let Some(m) = &istio.proxy_redirection_mechanism {
            istio.proxy_redirection_mechanism =
                Some(canonical(m, &["InitContainers", "CNIChaining"]));
        }
        MeshProfile {
            mode: Some("Istio".into()),
            istio: Some(istio),
        }
    }

    /// The response JSON.
    pub fn to_json(&self) -> Value {
        let Some(istio) = self.istio.as_ref().filter(|_| self.is_istio()) else {
            return serde_json::json!({ "mode": "Disabled" });
        };
        let mut components = Map::new();
        if !istio.ingress_gateways.is_empty() {
            components.insert(
                "ingressGateways".into(),
                istio
                    .ingress_gateways
                    .iter()
                    .map(|g| {
                        // AKS drops `enabled: false` (recorded az traffic, 2024-07, 2025-11).
                        if g.enabled {
                            serde_json::json!({ "mode": g.mode, "enabled": true })
                        } else {
                            serde_json::json!({ "mode": g.mode })
                        }
                    })
                    .collect(),
            );
        }
        if !istio.egress_gateways.is_empty() {
            components.insert(
                "egressGateways".into(),
                istio
                    .egress_gateways
                    .iter()
                    .map(|g| {
                        let mut e = Map::new();
                        if g.enabled {
                            e.insert("enabled".into(), true.into());
                        }
                        if let Some(n) = &g.name {
                            e.insert("name".into(), n.clone().into());
                        }
                        e.insert("namespace".into(), g.namespace_or_default().into());
                        if let Some(n) = &g.gateway_configuration_name {
                            e.insert("gatewayConfigurationName".into(), n.clone().into());
                        }
                        Value::Object(e)
                    })
                    .collect(),
            );
        }
        if let Some(m) = &istio.proxy_redirection_mechanism {
            components.insert("proxyRedirectionMechanism".into(), m.clone().into());
        }
        let mut out = Map::new();
        out.insert("components".into(), Value::Object(components));
        if let Some(p) = &istio.plugin_ca {
            let mut plugin = Map::new();
            for (k, v) in [
                ("keyVaultId", &p.key_vault_id),
                ("certObjectName", &p.cert_object_name),
                ("keyObjectName", &p.key_object_name),
                ("rootCertObjectName", &p.root_cert_object_name),
                ("certChainObjectName", &p.cert_chain_object_name),
            ] {
                if let Some(v) = v {
                    plugin.insert(k.into(), v.clone().into());
                }
            }
            out.insert(
                "certificateAuthority".into(),
                serde_json::json!({ "plugin": plugin }),
            );
        }
        out.insert(
            "revisions".into(),
            istio.revisions.clone().unwrap_or_default().into(),
        );
        serde_json::json!({ "mode": "Istio", "istio": out })
    }

    /// What the Kubernetes plane is reconciled with.
    pub fn view(&self) -> MeshView {
        let Some(istio) = self.istio.as_ref().filter(|_| self.is_istio()) else {
            return MeshView::default();
        };
        MeshView {
            enabled: true,
            revisions: istio.revisions.clone().unwrap_or_default(),
            ingress_gateways: istio
                .ingress_gateways
                .iter()
                .filter(|g| g.enabled)
                .map(|g| g.mode.clone())
                .collect(),
            egress_gateways: istio
                .egress_gateways
                .iter()
                .filter(|g| g.enabled)
                .map(|g| {
                    (
                        g.name.clone().unwrap_or_default(),
                        g.namespace_or_default().to_owned(),
                    )
                })
                .collect(),
            proxy_redirection: istio.proxy_redirection_mechanism.clone(),
            plugin_ca: istio.plugin_ca.is_some(),
            nodes: None,
            native_sidecars: istio.native_sidecars.clone(),
            // Not the mesh's: the cluster's network profile (set where the view is applied).
            static_egress_gateway: false,
        }
    }
}

/// Which of `mesh`'s revisions run native sidecars on Kubernetes `version` (issue 14: the day's
/// `nativeSidecar` defaults): a revision keeps what it had; a revision installed by enabling
/// the add-on, or reached by a mesh or cluster upgrade, gets what the day's defaults say.
pub fn resolve_native_sidecars(
    mesh: &mut MeshProfile,
    old: Option<&MeshProfile>,
    version: &str,
    dated: &crate::core::timeline::Dated,
) {
    let enabling = old.is_none_or(|o| !o.is_istio());
    let kept: Vec<String> = old
        .and_then(|o| o.istio.as_ref())
        .map(|i| i.native_sidecars.clone())
        .unwrap_or_default();
    let on = mesh.is_istio();
    let Some(istio) = mesh.istio.as_mut().filter(|_| on) else {
        return;
    };
    istio.native_sidecars = istio
        .revisions
        .iter()
        .flatten()
        .filter(|r| kept.contains(r) || dated.native_sidecars(r, version, enabling))
        .cloned()
        .collect();
}

/// The canonical spelling of an enum value compared ignoring case (unknown values unchanged).
pub fn canonical(value: &str, allowed: &[&str]) -> String {
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(value))
        .map_or_else(|| value.to_owned(), |a| (*a).to_owned())
}
