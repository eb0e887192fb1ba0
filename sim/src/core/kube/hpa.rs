//! The add-on's HorizontalPodAutoscalers (`autoscaling/v2`): one per istiod and gateway
//! Deployment, same name, min 2, max 5, CPU 80 % (docs `istio-scale.md`, "Horizontal Pod
//! Autoscaling (HPA) customization"). Users may change `spec.minReplicas` (never below the
//! initial 2: "the add-on does not allow setting the minReplicas below the initial default of
//! 2") and `spec.maxReplicas` (not below `minReplicas`); the change survives reconciles. The
//! add-on's Deployments keep the replicas their HPA set, and the status the controllers wrote.

use serde_json::{json, Value};

use super::addon::Desired;
use super::catalog::ResourceType;

/// The add-on's HPA defaults.
pub const MIN_REPLICAS: i64 = 2;
pub const MAX_REPLICAS: i64 = 5;
pub const CPU_UTILIZATION: i64 = 80;

/// One HPA per Deployment among `objects`.
pub fn for_addon(objects: &[Desired]) -> Vec<Desired> {
    objects
        .iter()
        .filter(|d| d.group == "apps" && d.resource == "deployments")
        .map(|d| {
            let labels = d.object["metadata"]["labels"].clone();
            Desired {
                group: "autoscaling".to_owned(),
                resource: "horizontalpodautoscalers".to_owned(),
                namespace: d.namespace.clone(),
                name: d.name.clone(),
                object: json!({
                    "apiVersion": "autoscaling/v2",
                    "kind": "HorizontalPodAutoscaler",
                    "metadata": {"name": d.name, "namespace": d.namespace, "labels": labels},
                    "spec": {
                        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": d.name},
                        "minReplicas": MIN_REPLICAS,
                        "maxReplicas": MAX_REPLICAS,
                        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": CPU_UTILIZATION}}}]
                    }
                }),
            }
        })
        .collect()
}

fn is_hpa(rt: &ResourceType) -> bool {
    rt.group == "autoscaling" && rt.resource == "horizontalpodautoscalers"
}

fn without_bounds(object: &Value) -> Value {
    let mut o = object.clone();
    if let Some(spec) = o.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("minReplicas");
        spec.remove("maxReplicas");
    }
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("generation");
    }
    o
}

/// Whether an update of an add-on HPA changes only its bounds, within the documented limits.
pub fn customizable(rt: &ResourceType, old: &Value, new: &Value) -> bool {
    if !is_hpa(rt) || without_bounds(old) != without_bounds(new) {
        return false;
    }
    let min = new
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let max = new
        .pointer("/spec/maxReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    min >= MIN_REPLICAS && max >= min
}

/// The hint a refused HPA change gets.
pub fn refusal_hint(rt: &ResourceType) -> Option<&'static str> {
    is_hpa(rt).then_some(
        "; only spec.minReplicas (at least 2: the add-on does not allow setting the minReplicas \
         below the initial default of 2) and spec.maxReplicas (at least minReplicas) may be \
         changed",
    )
}

/// What a reconcile keeps of an existing add-on object: an HPA's bounds and status; a
/// Deployment's replicas, revision and status; a DaemonSet's status.
pub fn keep(rt: &ResourceType, existing: &Value, want: &mut Value) {
    let workload =
        rt.group == "apps" && matches!(rt.resource.as_str(), "deployments" | "daemonsets");
    if !is_hpa(rt) && !workload {
        return;
    }
    if let Some(status) = existing.get("status") {
        want["status"] = status.clone();
    }
    if is_hpa(rt) {
        for k in ["minReplicas", "maxReplicas"] {
            if let Some(v) = existing.pointer(&format!("/spec/{k}")) {
                want["spec"][k] = v.clone();
            }
        }
    }
    if rt.resource == "deployments" {
        if let Some(r) = existing.pointer("/spec/replicas") {
            want["spec"]["replicas"] = r.clone();
        }
        if let Some(rev) =
            existing.pointer("/metadata/annotations/deployment.kubernetes.io~1revision")
        {
            want["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = rev.clone();
        }
    }
}
