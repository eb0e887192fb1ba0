//! `authorization.k8s.io/v1` self reviews (`kubectl auth can-i`, helm and operators ask
//! them before they act): the kubeconfig's credential is AKS's cluster user (local accounts,
//! bound to `cluster-admin`), so every request is allowed. Reviews are answered, never
//! stored.

use serde_json::{json, Value};

use super::catalog::ResourceType;
use super::error::{Cause, Error};
use super::str_at;

/// Why a request is allowed, as kube-apiserver's RBAC authorizer says it for the
/// `system:masters` group AKS's cluster-user credential carries.
pub const ALLOWED_REASON: &str = "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of \
ClusterRole \"cluster-admin\" to Group \"system:masters\"";

/// The answer to a `SelfSubjectAccessReview` or `SelfSubjectRulesReview` create.
pub fn answer(rt: &ResourceType, version: &str, body: &Value) -> Result<Value, Error> {
    if !body.is_object() {
        return Err(Error::bad_request(format!(
            "the body of the request must be a JSON object of kind {}",
            rt.kind
        )));
    }
    let spec = body.get("spec").cloned().unwrap_or(json!({}));
    let status = match rt.resource.as_str() {
        "selfsubjectaccessreviews" => {
            let res = spec.get("resourceAttributes").filter(|v| v.is_object());
            let non = spec.get("nonResourceAttributes").filter(|v| v.is_object());
            if res.is_some() == non.is_some() {
                return Err(Error::invalid(
                    &rt.kind,
                    &rt.group,
                    "",
                    vec![Cause::invalid(
                        "spec.resourceAttributes",
                        &serde_json::to_string(&spec).unwrap_or_default(),
                        "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    )],
                ));
            }
            json!({"allowed": true, "reason": ALLOWED_REASON})
        }
        _ => {
            let ns = str_at(&spec, "/namespace");
            if ns.is_empty() {
                return Err(Error::invalid(
                    &rt.kind,
                    &rt.group,
                    "",
                    vec![Cause::required("spec.namespace", "")],
                ));
            }
            json!({
                "resourceRules": [
                    {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
                    {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}
                ],
                "nonResourceRules": [
                    {"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]},
                    {"verbs": ["*"], "nonResourceURLs": ["*"]}
                ],
                "incomplete": false
            })
        }
    };
    let mut metadata = body.get("metadata").cloned().unwrap_or(json!({}));
    if !metadata.is_object() {
        metadata = json!({});
    }
    metadata["creationTimestamp"] = Value::Null;
    Ok(json!({
        "kind": rt.kind,
        "apiVersion": rt.api_version(version),
        "metadata": metadata,
        "spec": spec,
        "status": status
    }))
}
