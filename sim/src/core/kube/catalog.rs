//! What resource types a plane serves, and the documents that describe them: legacy discovery
//! (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`), `/version`, and the OpenAPI
//! documents kubectl needs before `apply` (`/openapi/v2` empty protobuf, `/openapi/v3` with a
//! `fieldValidation` parameter on every patch operation).
//!
//! Built-in types are a fixed table; every other type comes from a stored
//! `CustomResourceDefinition` (the add-on's Istio CRDs, or a user's), so the Istio groups are
//! advertised exactly while their CRDs exist.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::validate::NameRule;

/// Which Table columns `kubectl get` shows for a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    Namespace,
    Pod,
    /// Name/Type/Cluster-IP/External-IP/Port(s)/Age.
    Service,
    /// Name/Ready/Up-to-date/Available/Age.
    Deployment,
    /// Name/Data/Age.
    ConfigMap,
    /// Name/Type/Data/Age.
    Secret,
    /// Name/Status/Roles/Age/Version (+ Internal-IP … Container-Runtime).
    Node,
    Generic,
}

/// One of a CRD's `additionalPrinterColumns` (what `kubectl get` shows for its objects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_name: String,
    /// A simple JSONPath (`.spec.hosts`).
    pub json_path: String,
    pub description: String,
    pub priority: i64,
}

/// One served resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// `""` for the core group.
    pub group: String,
    /// Served versions, preferred first.
    pub versions: Vec<String>,
    pub resource: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub name_rule: NameRule,
    pub table: TableKind,
    /// A CRD's printer columns (of its preferred version); empty = Name/Age.
    pub printer_columns: Vec<PrinterColumn>,
}

impl ResourceType {
    pub fn group_resource(&self) -> super::error::GroupResource {
        super::error::GroupResource::new(&self.group, &self.resource)
    }

    /// `v1` or `group/version`.
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_owned()
        } else {
            format!("{}/{version}", self.group)
        }
    }

    pub fn preferred_version(&self) -> &str {
        self.versions.first().map_or("v1", String::as_str)
    }

    /// Whether the type belongs to an Istio API group (`*.istio.io`).
    pub fn is_istio(&self) -> bool {
        self.group == "istio.io" || self.group.ends_with(".istio.io")
    }

    /// The fields a `fieldSelector` may name.
    pub fn selectable_fields(&self) -> &'static [&'static str] {
        match self.table {
            TableKind::Pod => &[
                "metadata.name",
                "metadata.namespace",
                "status.phase",
                "spec.nodeName",
            ],
            TableKind::Namespace => &["metadata.name", "status.phase"],
            TableKind::Node => &["metadata.name"],
            TableKind::Service
            | TableKind::Deployment
            | TableKind::ConfigMap
            | TableKind::Secret
            | TableKind::Generic => &["metadata.name", "metadata.namespace"],
        }
    }
}

const VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

#[allow(clippy::too_many_arguments)]
fn builtin(
    group: &str,
    resource: &str,
    singular: &str,
    kind: &str,
    namespaced: bool,
    short: &[&str],
    name_rule: NameRule,
    table: TableKind,
) -> ResourceType {
    ResourceType {
        group: group.to_owned(),
        versions: vec!["v1".to_owned()],
        resource: resource.to_owned(),
        singular: singular.to_owned(),
        kind: kind.to_owned(),
        namespaced,
        short_names: short.iter().map(|s| (*s).to_owned()).collect(),
        categories: if matches!(
            resource,
            "pods"
                | "services"
                | "deployments"
                | "daemonsets"
                | "replicasets"
                | "statefulsets"
                | "jobs"
                | "horizontalpodautoscalers"
        ) {
            vec!["all".to_owned()]
        } else {
            Vec::new()
        },
        name_rule,
        table,
        printer_columns: Vec::new(),
    }
}

/// The type of `types` served at `group/version/resource`.
pub fn find_type(
    types: &[ResourceType],
    group: &str,
    version: &str,
    resource: &str,
) -> Option<ResourceType> {
    types
        .iter()
        .find(|t| {
            t.group == group && t.resource == resource && t.versions.iter().any(|v| v == version)
        })
        .cloned()
}

/// The built-in types every plane serves.
pub fn builtins() -> Vec<ResourceType> {
    use NameRule::{Dns1035, Label, Subdomain};
    use TableKind::{ConfigMap, Deployment, Generic, Namespace, Node, Pod, Secret, Service};
    let mut out = vec![
        builtin(
            "",
            "namespaces",
            "namespace",
            "Namespace",
            false,
            &["ns"],
            Label,
            Namespace,
        ),
        builtin("", "pods", "pod", "Pod", true, &["po"], Subdomain, Pod),
        builtin("", "nodes", "node", "Node", false, &["no"], Subdomain, Node),
        builtin(
            "",
            "configmaps",
            "configmap",
            "ConfigMap",
            true,
            &["cm"],
            Subdomain,
            ConfigMap,
        ),
        builtin(
            "",
            "secrets",
            "secret",
            "Secret",
            true,
            &[],
            Subdomain,
            Secret,
        ),
        builtin(
            "",
            "services",
            "service",
            "Service",
            true,
            &["svc"],
            Dns1035,
            Service,
        ),
        builtin(
            "",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            true,
            &["sa"],
            Subdomain,
            Generic,
        ),
        builtin(
            "",
            "events",
            "event",
            "Event",
            true,
            &["ev"],
            Subdomain,
            Generic,
        ),
        builtin(
            "",
            "resourcequotas",
            "resourcequota",
            "ResourceQuota",
            true,
            &["quota"],
            Subdomain,
            Generic,
        ),
        builtin(
            "",
            "limitranges",
            "limitrange",
            "LimitRange",
            true,
            &["limits"],
            Subdomain,
            Generic,
        ),
        builtin(
            "apps",
            "replicasets",
            "replicaset",
            "ReplicaSet",
            true,
            &["rs"],
            Subdomain,
            Generic,
        ),
        builtin(
            "apps",
            "deployments",
            "deployment",
            "Deployment",
            true,
            &["deploy"],
            Subdomain,
            Deployment,
        ),
        builtin(
            "apps",
            "daemonsets",
            "daemonset",
            "DaemonSet",
            true,
            &["ds"],
            Subdomain,
            Generic,
        ),
        builtin(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "customresourcedefinition",
            "CustomResourceDefinition",
            false,
            &["crd", "crds"],
            Subdomain,
            Generic,
        ),
        builtin(
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
            "mutatingwebhookconfiguration",
            "MutatingWebhookConfiguration",
            false,
            &[],
            Subdomain,
            Generic,
        ),
        builtin(
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
            "validatingwebhookconfiguration",
            "ValidatingWebhookConfiguration",
            false,
            &[],
            Subdomain,
            Generic,
        ),
        builtin(
            "apps",
            "statefulsets",
            "statefulset",
            "StatefulSet",
            true,
            &["sts"],
            Subdomain,
            Generic,
        ),
        builtin("batch", "jobs", "job", "Job", true, &[], Subdomain, Generic),
        ResourceType {
            versions: vec!["v2".to_owned()],
            ..builtin(
                "autoscaling",
                "horizontalpodautoscalers",
                "horizontalpodautoscaler",
                "HorizontalPodAutoscaler",
                true,
                &["hpa"],
                Subdomain,
                Generic,
            )
        },
        builtin(
            "authorization.k8s.io",
            "selfsubjectaccessreviews",
            "selfsubjectaccessreview",
            "SelfSubjectAccessReview",
            false,
            &[],
            Subdomain,
            Generic,
        ),
        builtin(
            "authorization.k8s.io",
            "selfsubjectrulesreviews",
            "selfsubjectrulesreview",
            "SelfSubjectRulesReview",
            false,
            &[],
            Subdomain,
            Generic,
        ),
    ];
    out.shrink_to_fit();
    out
}

/// Whether a type only takes `create` (the authorization reviews).
pub fn is_review(rt: &ResourceType) -> bool {
    rt.group == "authorization.k8s.io"
}

/// The subresources discovery lists for a type: (name, group, version, kind, verbs).
fn subresources(
    t: &ResourceType,
) -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
)> {
    const GPU: &[&str] = &["get", "patch", "update"];
    let mut out = Vec::new();
    if t.group == "apps"
        && matches!(
            t.resource.as_str(),
            "deployments" | "replicasets" | "statefulsets"
        )
    {
        out.push(("scale", "autoscaling", "v1", "Scale", GPU));
    }
    if !is_review(t)
        && (t.group.is_empty()
            || t.group == "apps"
            || t.group == "batch"
            || t.group == "autoscaling")
    {
        out.push(("status", "", "", "", GPU));
    }
    if t.group.is_empty() && t.resource == "pods" {
        out.push(("log", "", "", "Pod", &["get"]));
    }
    out
}

/// The type a stored CRD defines, if its spec is complete.
pub fn from_crd(crd: &Value) -> Option<ResourceType> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let list = |v: &Value, k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let resource = s(names, "plural")?;
    let kind = s(names, "kind")?;
    let versions: Vec<String> = spec
        .get("versions")?
        .as_array()?
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        .filter_map(|v| s(v, "name"))
        .collect();
    if versions.is_empty() {
        return None;
    }
    let printer_columns = spec
        .get("versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(versions[0].as_str()))
        })
        .and_then(|v| v.get("additionalPrinterColumns"))
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .filter_map(|c| {
                    Some(PrinterColumn {
                        name: s(c, "name")?,
                        type_name: s(c, "type").unwrap_or_else(|| "string".to_owned()),
                        json_path: s(c, "jsonPath")?,
                        description: s(c, "description").unwrap_or_default(),
                        priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(ResourceType {
        group: s(spec, "group")?,
        versions,
        singular: s(names, "singular").unwrap_or_else(|| kind.to_ascii_lowercase()),
        resource,
        kind,
        namespaced: s(spec, "scope").as_deref() != Some("Cluster"),
        short_names: list(names, "shortNames"),
        categories: list(names, "categories"),
        name_rule: NameRule::Subdomain,
        table: TableKind::Generic,
        printer_columns,
    })
}

/// `/version` for a `major.minor.patch` string.
pub fn version_doc(kubernetes_version: &str) -> Value {
    let mut parts = kubernetes_version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or("1").to_owned();
    let minor = parts.next().unwrap_or("0").to_owned();
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": format!("v{}", kubernetes_version.trim_start_matches('v')),
        "gitCommit": "aksim",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`.
pub fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:443"}]
    })
}

/// Groups (other than core) with their versions, preferred first, in first-seen order.
fn groups(types: &[ResourceType]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for rt in types.iter().filter(|t| !t.group.is_empty()) {
        let entry = match out.iter_mut().find(|(g, _)| *g == rt.group) {
            Some(e) => e,
            None => {
                out.push((rt.group.clone(), Vec::new()));
                out.last_mut().expect("just pushed")
            }
        };
        for v in &rt.versions {
            if !entry.1.contains(v) {
                entry.1.push(v.clone());
            }
        }
    }
    for (_, versions) in &mut out {
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
    }
    out
}

/// kube-apiserver's version order: GA > beta > alpha, higher numbers first.
fn version_priority(v: &str) -> (u8, u32, u32) {
    let rest = v.trim_start_matches('v');
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        (3, major, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, major, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, major, n.parse().unwrap_or(0))
    } else {
        (0, major, 0)
    }
}

fn group_doc(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({
        "name": name,
        "versions": vs,
        "preferredVersion": vs.first().cloned().unwrap_or(Value::Null),
    })
}

/// `/apis`.
pub fn api_group_list(types: &[ResourceType]) -> Value {
    let groups: Vec<Value> = groups(types)
        .iter()
        .map(|(g, vs)| group_doc(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`.
pub fn api_group(types: &[ResourceType], group: &str) -> Option<Value> {
    let (g, vs) = groups(types).into_iter().find(|(g, _)| g == group)?;
    let mut doc = group_doc(&g, &vs);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// `/api/v1` or `/apis/<group>/<version>`; `None` when nothing is served there.
pub fn resource_list(types: &[ResourceType], group: &str, version: &str) -> Option<Value> {
    let resources: Vec<Value> = types
        .iter()
        .filter(|t| t.group == group && t.versions.iter().any(|v| v == version))
        .flat_map(|t| {
            let verbs: &[&str] = if is_review(t) { &["create"] } else { VERBS };
            let mut r = json!({
                "name": t.resource,
                "singularName": t.singular,
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": verbs,
            });
            if !t.short_names.is_empty() {
                r["shortNames"] = json!(t.short_names);
            }
            if !t.categories.is_empty() {
                r["categories"] = json!(t.categories);
            }
            let mut all = vec![r];
            for (sub, g, v, kind, verbs) in subresources(t) {
                let mut s = json!({
                    "name": format!("{}/{sub}", t.resource),
                    "singularName": "",
                    "namespaced": t.namespaced,
                    "kind": if kind.is_empty() { t.kind.as_str() } else { kind },
                    "verbs": verbs,
                });
                if !g.is_empty() {
                    s["group"] = json!(g);
                    s["version"] = json!(v);
                }
                all.push(s);
            }
            all
        })
        .collect();
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

/// Every served `(group, version)`, core first.
pub fn group_versions(types: &[ResourceType]) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), "v1".to_owned())];
    for (g, vs) in groups(types) {
        for v in vs {
            out.push((g.clone(), v));
        }
    }
    out
}

/// A stable short hash of a document (the `hash` query kubectl caches OpenAPI documents by).
fn doc_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `/openapi/v3`: one entry per group-version.
pub fn openapi_v3_root(types: &[ResourceType]) -> Value {
    let mut paths = BTreeMap::new();
    for (g, v) in group_versions(types) {
        let key = if g.is_empty() {
            format!("api/{v}")
        } else {
            format!("apis/{g}/{v}")
        };
        let doc = openapi_v3_group_version(types, &g, &v);
        let hash = doc_hash(&doc.to_string());
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`: the paths with their
/// operations; every patch carries `x-kubernetes-group-version-kind` and `fieldValidation`.
pub fn openapi_v3_group_version(types: &[ResourceType], group: &str, version: &str) -> Value {
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let field_validation = json!({
        "name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true},
        "description": "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict"
    });
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for t in types
        .iter()
        .filter(|t| t.group == group && t.versions.iter().any(|v| v == version))
    {
        let gvk = json!({"group": group, "version": version, "kind": t.kind});
        let path = if t.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", t.resource)
        } else {
            format!("{prefix}/{}/{{name}}", t.resource)
        };
        let schema_name = format!(
            "{}.{version}.{}",
            if group.is_empty() {
                "io.k8s.api.core"
            } else {
                group
            },
            t.kind
        );
        let op = |verb: &str| {
            json!({
                "operationId": format!("{verb}{}", t.kind),
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": [field_validation],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema_name}")}}}}}
            })
        };
        paths.insert(
            path,
            json!({"get": op("get"), "put": op("put"), "patch": op("patch"), "delete": op("delete")}),
        );
        schemas.insert(
            schema_name,
            json!({
                "type": "object",
                "x-kubernetes-group-version-kind": [gvk],
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                }
            }),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1"},
        "paths": paths,
        "components": {"schemas": schemas}
    })
}

/// The content type of the (empty) `/openapi/v2` answer kubectl 1.27/1.28 accepts.
pub const OPENAPI_V2_CONTENT_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_order() {
        let mut vs = vec!["v1alpha3", "v1", "v1beta1"];
        vs.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(vs, vec!["v1", "v1beta1", "v1alpha3"]);
    }
}
