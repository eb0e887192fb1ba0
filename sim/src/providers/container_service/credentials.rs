//! `listClusterUserCredential`, `listClusterAdminCredential`, `listClusterMonitoringUserCredential`
//! (ARM-CONTRACT §5.3): 200 `{"kubeconfigs":[{"name","value":<base64 kubeconfig YAML>}]}`.
//!
//! The kubeconfig points at the cluster's Kubernetes plane (`kube::server_url`), trusts the
//! simulator's CA (omitted when serving plain HTTP), and authenticates with the plane's token.
//! The context is named after the cluster; the user is `clusterUser_<rg>_<name>` /
//! `clusterAdmin_<rg>_<name>` (az renames a context whose user starts with `clusterAdmin` to
//! `<name>-admin` when merging).

use axum::http::Method;
use base64::Engine;

use super::{cluster_not_found, gate_group, NS};
use crate::arm::error::ArmResult;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::error::Error;
use crate::core::kube::{plane_key, server_url, Plane};
use crate::providers::resources::only;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Admin,
    MonitoringUser,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::User, Kind::Admin, Kind::MonitoringUser];

    pub fn action(self) -> &'static str {
        match self {
            Kind::User => "listClusterUserCredential",
            Kind::Admin => "listClusterAdminCredential",
            Kind::MonitoringUser => "listClusterMonitoringUserCredential",
        }
    }

    /// `kubeconfigs[].name` and the user-name prefix.
    fn name(self) -> &'static str {
        match self {
            Kind::User => "clusterUser",
            Kind::Admin => "clusterAdmin",
            Kind::MonitoringUser => "clusterMonitoringUser",
        }
    }
}

/// A YAML scalar: JSON strings are valid YAML and need no further escaping.
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The kubeconfig YAML (fixed shape, written by hand).
pub fn kubeconfig(
    context: &str,
    server: &str,
    ca_pem: Option<&str>,
    user: &str,
    token: &str,
) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let ca = ca_pem
        .map(|pem| format!("    certificate-authority-data: {}\n", b64.encode(pem)))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n{ca}    server: {server}\n  name: {context}\n\
         contexts:\n- context:\n    cluster: {context}\n    user: {user}\n  name: {context}\n\
         current-context: {context}\nkind: Config\npreferences: {{}}\nusers:\n- name: {user}\n\
         \x20 user:\n    token: {token}\n",
        server = q(server),
        context = q(context),
        user = q(user),
        token = q(token),
    )
}

pub fn list(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: &str,
    name: &str,
    kind: Kind,
) -> ArmResult<ArmResponse> {
    crate::arm::api_version::check_provider(
        state.catalog,
        NS,
        "managedClusters",
        req.api_version(),
        None,
    )?;
    only(req, &[Method::POST])?;
    req.expect_no_body()?;
    if let Some(format) = req.query("format") {
        if kind != Kind::User {
            return Err(Error::bad_request(
                "The format parameter can only be specified when requesting clusterUser \
                 credential.",
            )
            .into());
        }
        if !["azure", "exec", "exec-legacy"]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(format))
        {
            return Err(Error::invalid_parameter(
                format!("The value '{format}' of parameter 'format' is invalid. Allowed values are 'azure' and 'exec'."),
                "format",
            ).into());
        }
    }
    let now = state.clock.now();
    let key = plane_key(rg, name);
    let fallback_token = state.ids.hex(32);
    let (cluster_name, group, token) = state.store.with(sub, now, |s| -> ArmResult<_> {
        gate_group(state, s, rg, now)?;
        let cluster = s
            .managed_clusters
            .get(&key)
            .ok_or_else(|| cluster_not_found(name, rg))?;
        if kind == Kind::Admin && cluster.disable_local_accounts() {
            return Err(Error::bad_request(
                "Getting static credential is not allowed because this cluster is set to disable \
                 local accounts.",
            )
            .into());
        }
        let (cluster_name, group, version) = (
            cluster.name.clone(),
            cluster.resource_group.clone(),
            cluster.current_kubernetes_version.clone(),
        );
        let plane = s
            .kube_planes
            .entry(key.clone())
            .or_insert_with(|| Plane::lazy(&version, &fallback_token, now));
        Ok((cluster_name, group, plane.token.clone()))
    })?;
    let server = server_url(&req.base_url, sub, &group, &cluster_name);
    let user = format!("{}_{group}_{cluster_name}", kind.name());
    let yaml = kubeconfig(
        &cluster_name,
        &server,
        state.ca_pem.as_deref(),
        &user,
        &token,
    );
    let value = base64::engine::general_purpose::STANDARD.encode(yaml);
    Ok(ArmResponse::ok(&serde_json::json!({
        "kubeconfigs": [{ "name": kind.name(), "value": value }]
    })))
}
