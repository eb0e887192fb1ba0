//! `listClusterUserCredential`, `listClusterAdminCredential`, `listClusterMonitoringUserCredential`
//! (`../shared/reference/ARM-CONTRACT.md` §5.3): 200 `{"kubeconfigs":[{"name","value":<base64 kubeconfig YAML>}]}`.
//!
//! The kubeconfig points at the cluster's Kubernetes plane (`kubeapi::server_url`), trusts the
//! simulator's CA (omitted when serving plain HTTP), and authenticates with the plane's token.
//! The context is named after the cluster; the user is `clusterUser_<rg>_<name>` /
//! `clusterAdmin_<rg>_<name>` (az renames a context whose user starts with `clusterAdmin` to
//! `<name>-admin` when merging).

use base64::Engine;

use crate::arm::error::ArmResult;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::error::Error;
use crate::kubeapi::server_url;
use crate::providers::routes::Params;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Admin,
    MonitoringUser,
}

impl Kind {
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
    kubeconfig_in(context, server, ca_pem, user, token, None)
}

/// The kubeconfig YAML, its context set to `namespace` when given (a managed namespace's).
pub fn kubeconfig_in(
    context: &str,
    server: &str,
    ca_pem: Option<&str>,
    user: &str,
    token: &str,
    namespace: Option<&str>,
) -> String {
    let namespace = namespace
        .map(|n| format!("    namespace: {}\n", q(n)))
        .unwrap_or_default();
    let b64 = base64::engine::general_purpose::STANDARD;
    let ca = ca_pem
        .map(|pem| format!("    certificate-authority-data: {}\n", b64.encode(pem)))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n{ca}    server: {server}\n  name: {context}\n\
         contexts:\n- context:\n    cluster: {context}\n{namespace}    user: {user}\n  name: {context}\n\
         current-context: {context}\nkind: Config\npreferences: {{}}\nusers:\n- name: {user}\n\
         \x20 user:\n    token: {token}\n",
        server = q(server),
        context = q(context),
        user = q(user),
        token = q(token),
    )
}

/// `POST .../listClusterUserCredential` (`?format=azure|exec`, `?server-fqdn=`).
pub fn user(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    list(state, req, p, Kind::User)
}

/// `POST .../listClusterAdminCredential` (refused when local accounts are disabled).
pub fn admin(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    list(state, req, p, Kind::Admin)
}

/// `POST .../listClusterMonitoringUserCredential`.
pub fn monitoring_user(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    list(state, req, p, Kind::MonitoringUser)
}

fn list(state: &AppState, req: &ArmRequest, p: &Params, kind: Kind) -> ArmResult<ArmResponse> {
    list_in(state, req, p, kind, None)
}

/// The credential list of `kind`, scoped to `namespace` when given.
pub fn list_in(
    state: &AppState,
    req: &ArmRequest,
    p: &Params,
    kind: Kind,
    namespace: Option<&str>,
) -> ArmResult<ArmResponse> {
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
    let sub = p.sub();
    let credential = state.core.cluster_credential(
        sub,
        p.get("resourceGroupName"),
        p.get("resourceName"),
        kind == Kind::Admin,
    )?;
    let (cluster_name, group) = (&credential.cluster_name, &credential.resource_group);
    let server = server_url(&req.base_url, sub, group, cluster_name);
    let user = format!("{}_{group}_{cluster_name}", kind.name());
    let yaml = kubeconfig_in(
        cluster_name,
        &server,
        state.ca_pem.as_deref(),
        &user,
        &credential.token,
        namespace,
    );
    let value = base64::engine::general_purpose::STANDARD.encode(yaml);
    Ok(ArmResponse::ok(&serde_json::json!({
        "kubeconfigs": [{ "name": kind.name(), "value": value }]
    })))
}
