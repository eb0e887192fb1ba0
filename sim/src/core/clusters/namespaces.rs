//! Managed namespaces (`managedClusters/{c}/managedNamespaces/{n}`) and identity bindings
//! (`managedClusters/{c}/identityBindings/{b}`): child resources a cluster keeps in its
//! `ClusterSurface` (gone with the cluster, part of snapshots). What is read from a PUT and how
//! the GET answers, with the shapes of the REST spec (api-version 2026-08-01; the Python SDK's
//! models are generated from it).

use serde_json::{json, Map, Value};

use super::surface::{child_id, stored_name, ChildKind};
use super::{ManagedCluster, NS};
use crate::core::error::{Error, Result};

/// The longest namespace name (a Kubernetes DNS-1123 label).
pub const NAMESPACE_NAME_MAX: usize = 63;

/// The namespaces Kubernetes and AKS keep for themselves.
pub const RESERVED_NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "gatekeeper-system",
    "aks-istio-system",
];

fn dns_label(name: &str, max: usize) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A managed namespace's name: a DNS-1123 label, not one Kubernetes or AKS keeps.
pub fn validate_namespace_name(name: &str) -> Result<()> {
    if !dns_label(name, NAMESPACE_NAME_MAX) {
        return Err(Error::invalid_parameter(
            format!(
                "The managed namespace name '{name}' is invalid. It must consist of lower case \
                 alphanumeric characters or '-', start and end with an alphanumeric character, \
                 and be at most {NAMESPACE_NAME_MAX} characters long."
            ),
            "managedNamespaceName",
        ));
    }
    if RESERVED_NAMESPACES.contains(&name) {
        return Err(Error::invalid_parameter(
            format!("The namespace '{name}' is reserved and cannot be a managed namespace."),
            "managedNamespaceName",
        ));
    }
    Ok(())
}

fn object(body: Value) -> Result<Map<String, Value>> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(Error::invalid_request_content(
            "Error converting value at path '': expected an object",
        )),
    }
}

fn properties(top: &mut Map<String, Value>) -> Result<Map<String, Value>> {
    match top.remove("properties") {
        Some(Value::Object(p)) => Ok(p),
        None | Some(Value::Null) => Ok(Map::new()),
        Some(_) => Err(Error::invalid_request_content(
            "Error converting value at path 'properties': expected an object",
        )),
    }
}

fn string_map(props: &Map<String, Value>, key: &str) -> Result<()> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(()),
        Some(_) => Err(Error::invalid_request_content(&format!(
            "Error converting value at path 'properties.{key}': expected a map of strings"
        ))),
    }
}

/// The stored body of a managed namespace PUT: `{name, location, tags, properties}` with
/// AKS's defaults filled in (`adoptionPolicy: Never`, `deletePolicy: Keep`, the default
/// network policy `AllowSameNamespace` in / `AllowAll` out).
pub fn read_namespace(cluster: &ManagedCluster, name: &str, body: Value) -> Result<Value> {
    validate_namespace_name(name)?;
    let mut top = object(body)?;
    let mut props = properties(&mut top)?;
    string_map(&props, "labels")?;
    string_map(&props, "annotations")?;
    props.retain(|k, v| {
        !v.is_null()
            && [
                "labels",
                "annotations",
                "defaultResourceQuota",
                "defaultNetworkPolicy",
                "adoptionPolicy",
                "deletePolicy",
            ]
            .contains(&k.as_str())
    });
    for (key, allowed) in [
        ("adoptionPolicy", &["Never", "IfIdentical", "Always"][..]),
        ("deletePolicy", &["Keep", "Delete"][..]),
    ] {
        if let Some(v) = props.get(key) {
            if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                return Err(Error::invalid_parameter(
                    format!(
                        "The value {v} of properties.{key} is invalid. Allowed values are {}.",
                        allowed.join(", ")
                    ),
                    &format!("properties.{key}"),
                ));
            }
        }
    }
    props
        .entry("adoptionPolicy")
        .or_insert_with(|| "Never".into());
    props.entry("deletePolicy").or_insert_with(|| "Keep".into());
    props
        .entry("defaultNetworkPolicy")
        .or_insert_with(|| json!({"ingress": "AllowSameNamespace", "egress": "AllowAll"}));
    let location = top
        .get("location")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| cluster.location.clone());
    let mut stored = json!({"name": name, "location": location, "properties": props});
    if let Some(tags @ Value::Object(_)) = top.remove("tags") {
        stored["tags"] = tags;
    }
    Ok(stored)
}

/// `PATCH` of a managed namespace: only `tags` change.
pub fn patch_tags(stored: &mut Value, body: Value) -> Result<()> {
    let top = object(body)?;
    match top.get("tags") {
        Some(Value::Object(_)) => stored["tags"] = top["tags"].clone(),
        Some(Value::Null) | None => {}
        Some(_) => {
            return Err(Error::invalid_request_content(
                "Error converting value at path 'tags': expected an object",
            ))
        }
    }
    Ok(())
}

/// The managed identity's resource id an identity binding needs:
/// `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{n}`.
pub fn is_identity_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() == 9
        && parts[0].is_empty()
        && parts[1].eq_ignore_ascii_case("subscriptions")
        && !parts[2].is_empty()
        && parts[3].eq_ignore_ascii_case("resourceGroups")
        && !parts[4].is_empty()
        && parts[5].eq_ignore_ascii_case("providers")
        && parts[6].eq_ignore_ascii_case("Microsoft.ManagedIdentity")
        && parts[7].eq_ignore_ascii_case("userAssignedIdentities")
        && !parts[8].is_empty()
}

/// The stored body of an identity binding PUT. `ids`: the identity's object and client ids
/// (drawn by the caller, kept for the binding's life).
pub fn read_binding(
    name: &str,
    body: Value,
    tenant_id: &str,
    ids: (String, String),
) -> Result<Value> {
    if !dns_label(name, NAMESPACE_NAME_MAX) {
        return Err(Error::invalid_parameter(
            format!(
                "The identity binding name '{name}' is invalid. It must consist of lower case \
                 alphanumeric characters or '-', start and end with an alphanumeric character, \
                 and be at most {NAMESPACE_NAME_MAX} characters long."
            ),
            "identityBindingName",
        ));
    }
    let mut top = object(body)?;
    let props = properties(&mut top)?;
    let resource_id = props
        .get("managedIdentity")
        .and_then(|m| m.get("resourceId"))
        .and_then(Value::as_str)
        .filter(|id| is_identity_id(id))
        .ok_or_else(|| {
            Error::invalid_parameter(
                "An identity binding needs properties.managedIdentity.resourceId, the resource \
                 id of a user-assigned managed identity (/subscriptions/{subscriptionId}/\
                 resourceGroups/{resourceGroupName}/providers/Microsoft.ManagedIdentity/\
                 userAssignedIdentities/{name}).",
                "properties.managedIdentity.resourceId",
            )
        })?;
    let (object_id, client_id) = ids;
    Ok(json!({
        "name": name,
        "properties": {
            "managedIdentity": {
                "resourceId": resource_id,
                "objectId": object_id,
                "clientId": client_id,
                "tenantId": tenant_id,
            }
        }
    }))
}

/// A managed namespace's or identity binding's answer.
pub fn render(cluster: &ManagedCluster, kind: ChildKind, body: &Value) -> Value {
    let name = stored_name(body);
    let mut props = body["properties"].clone();
    if let Value::Object(p) = &mut props {
        p.insert("provisioningState".into(), "Succeeded".into());
        if kind == ChildKind::IdentityBindings {
            let tenant = p
                .get("managedIdentity")
                .and_then(|m| m.get("tenantId"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            p.insert(
                "oidcIssuer".into(),
                json!({"oidcIssuerUrl": cluster.oidc_issuer_url(&tenant)}),
            );
        }
    }
    let mut answer = json!({
        "id": child_id(cluster, kind, name),
        "name": name,
        "type": format!("{NS}/managedClusters/{}", kind.segment()),
        "properties": props,
    });
    if kind == ChildKind::ManagedNamespaces {
        answer["location"] = body["location"].clone();
        if let Some(tags) = body.get("tags") {
            answer["tags"] = tags.clone();
        }
    }
    answer
}
