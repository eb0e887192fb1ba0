//! kube-apiserver's validation of the workload kinds (apps/v1 Deployment, ReplicaSet,
//! DaemonSet, StatefulSet; `ValidateDeploymentSpec` and friends): replicas not negative, a
//! selector that is there, not empty and matches the pod template's labels, a pod template
//! with containers that have names and images, `restartPolicy: Always`. The causes and their
//! texts are kube-apiserver's; the 422 names the group kind (`Deployment.apps "web" is
//! invalid: …`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::Cause;
use super::validate::{self, NameRule};

/// Whether `resource` (of group `apps`) is a workload kind validated here.
pub fn is_workload(group: &str, resource: &str) -> bool {
    group == "apps"
        && matches!(
            resource,
            "deployments" | "replicasets" | "daemonsets" | "statefulsets"
        )
}

/// Go's `%#v` of a `map[string]string` (keys sorted, as fmt prints maps).
fn go_map(labels: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{}:{}", super::error::quote(k), super::error::quote(v)))
        .collect();
    format!("map[string]string{{{}}}", parts.join(", "))
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a `metav1.LabelSelector` selects `labels` (matchLabels and matchExpressions).
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let match_labels = string_map(selector.get("matchLabels"));
    if match_labels.iter().any(|(k, v)| labels.get(k) != Some(v)) {
        return false;
    }
    let exprs = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    exprs.iter().all(|e| {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .map(|vs| vs.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let have = labels.get(key).map(String::as_str);
        match e.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    })
}

fn selector_is_empty(selector: &Value) -> bool {
    let n = |k: &str| {
        selector
            .get(k)
            .map(|v| match v {
                Value::Object(m) => m.len(),
                Value::Array(a) => a.len(),
                _ => 0,
            })
            .unwrap_or(0)
    };
    n("matchLabels") + n("matchExpressions") == 0
}

/// The pod spec of a template (`spec.template.spec`): containers with names and images.
fn pod_spec_causes(spec: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match containers {
        None => causes.push(Cause::required(&format!("{path}.containers"), "")),
        Some(cs) if cs.is_empty() => {
            causes.push(Cause::required(&format!("{path}.containers"), ""))
        }
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                let field = format!("{path}.containers[{i}]");
                let name = c.get("name").and_then(Value::as_str).unwrap_or("");
                if name.is_empty() {
                    causes.push(Cause::required(&format!("{field}.name"), ""));
                } else {
                    for e in validate::name_errors(name, NameRule::Label) {
                        causes.push(Cause::invalid(&format!("{field}.name"), name, &e));
                    }
                }
                if c.get("image")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
                {
                    causes.push(Cause::required(&format!("{field}.image"), ""));
                }
            }
        }
    }
    let restart = spec
        .and_then(|s| s.get("restartPolicy"))
        .and_then(Value::as_str)
        .unwrap_or("Always");
    if restart != "Always" {
        causes.push(Cause::unsupported(
            &format!("{path}.restartPolicy"),
            restart,
            &["Always"],
        ));
    }
}

/// kube-apiserver's field errors of a workload object's `spec`.
pub fn causes(resource: &str, object: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let spec = object.get("spec");
    if resource != "daemonsets" {
        if let Some(r) = spec.and_then(|s| s.get("replicas")) {
            match r.as_i64() {
                Some(n) if n < 0 => causes.push(Cause::invalid_raw(
                    "spec.replicas",
                    &n.to_string(),
                    "must be greater than or equal to 0",
                )),
                Some(_) => {}
                None if r.is_null() => {}
                None => causes.push(Cause::invalid_raw(
                    "spec.replicas",
                    &r.to_string(),
                    "must be an integer",
                )),
            }
        }
    }
    let kind = match resource {
        "deployments" => "deployment",
        "replicasets" => "replicaset",
        "daemonsets" => "daemonset",
        _ => "statefulset",
    };
    let selector = spec
        .and_then(|s| s.get("selector"))
        .filter(|s| !s.is_null());
    let template = spec
        .and_then(|s| s.get("template"))
        .filter(|t| !t.is_null());
    match selector {
        None => causes.push(Cause::required("spec.selector", "")),
        Some(sel) if selector_is_empty(sel) => causes.push(Cause::invalid_raw(
            "spec.selector",
            "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
            &format!("empty selector is invalid for {kind}"),
        )),
        Some(_) => {}
    }
    match template {
        None => causes.push(Cause::required("spec.template", "")),
        Some(t) => {
            let labels = string_map(t.pointer("/metadata/labels"));
            if let Some(sel) = selector.filter(|s| !selector_is_empty(s)) {
                if !selects(sel, &labels) {
                    causes.push(Cause::invalid_raw(
                        "spec.template.metadata.labels",
                        &go_map(&labels),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            pod_spec_causes(t.get("spec"), "spec.template.spec", &mut causes);
        }
    }
    causes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": spec})
    }

    #[test]
    fn kubes_texts() {
        let good = json!({"replicas": 1, "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x", "tier": "web"}},
                         "spec": {"containers": [{"name": "c", "image": "nginx"}]}}});
        assert!(causes("deployments", &deployment(good.clone())).is_empty());
        let mut bad = good.clone();
        bad["replicas"] = json!(-1);
        bad["selector"]["matchLabels"]["app"] = json!("y");
        let lines: Vec<String> = causes("deployments", &deployment(bad))
            .iter()
            .map(Cause::line)
            .collect();
        assert_eq!(
            lines,
            [
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\", \"tier\":\"web\"}: `selector` does not match template `labels`",
            ]
        );
        let mut none = good.clone();
        none["template"]["spec"] = json!({});
        let lines: Vec<String> = causes("deployments", &deployment(none))
            .iter()
            .map(Cause::line)
            .collect();
        assert_eq!(lines, ["spec.template.spec.containers: Required value"]);
        let mut expr = good;
        expr["selector"] =
            json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]});
        assert!(causes("deployments", &deployment(expr)).is_empty());
        assert!(is_workload("apps", "deployments") && !is_workload("", "pods"));
    }
}
