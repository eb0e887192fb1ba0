//! The `scale` subresource (`autoscaling/v1` `Scale`) of Deployments, ReplicaSets and
//! StatefulSets: what `kubectl scale` reads and writes.

use serde_json::{json, Value};

use super::replicas_of;
use crate::core::kube::catalog::ResourceType;
use crate::core::kube::error::Error;
use crate::core::kube::{str_at, Plane, WriteCtx};

/// Whether `rt` has a `scale` subresource.
pub fn has_scale(rt: &ResourceType) -> bool {
    rt.group == "apps"
        && matches!(
            rt.resource.as_str(),
            "deployments" | "replicasets" | "statefulsets"
        )
}

/// The `Scale` of `object`.
pub fn scale_of(object: &Value) -> Value {
    let selector = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            let mut pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            pairs.sort();
            pairs.join(",")
        })
        .unwrap_or_default();
    let meta = &object["metadata"];
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]
        },
        "spec": {"replicas": replicas_of(object)},
        "status": {
            "replicas": object.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": selector
        }
    })
}

impl Plane {
    /// `GET …/scale`.
    pub fn get_scale(&self, rt: &ResourceType, ns: &str, name: &str) -> Result<Value, Error> {
        if !has_scale(rt) {
            return Err(Error::not_found(&rt.group_resource(), name));
        }
        self.get(rt, ns, name).map(|o| scale_of(&o))
    }

    /// `PUT …/scale` (and a patched Scale): sets `spec.replicas`.
    pub fn set_scale(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        scale: &Value,
        ctx: WriteCtx,
    ) -> Result<Value, Error> {
        self.materialise();
        let object = self.get(rt, ns, name)?;
        if !has_scale(rt) {
            return Err(Error::not_found(&rt.group_resource(), name));
        }
        let replicas = match scale.pointer("/spec/replicas") {
            None => 0,
            Some(r) => r
                .as_i64()
                .ok_or_else(|| Error::bad_request("Scale.spec.replicas must be an integer"))?,
        };
        if replicas < 0 {
            return Err(Error::invalid(
                "Scale",
                "autoscaling",
                name,
                vec![crate::core::kube::error::Cause::invalid(
                    "spec.replicas",
                    &replicas.to_string(),
                    "must be greater than or equal to 0",
                )],
            ));
        }
        if let Some(rv) = scale
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .filter(|rv| !rv.is_empty())
        {
            if rv != str_at(&object, "/metadata/resourceVersion") {
                return Err(Error::conflict(&rt.group_resource(), name));
            }
        }
        let mut next = object;
        next["spec"]["replicas"] = json!(replicas);
        let version = rt.preferred_version().to_owned();
        let stored = self.replace(rt, &version, ns, name, next, ctx)?;
        let current = self.get(rt, ns, name).unwrap_or(stored);
        Ok(scale_of(&current))
    }
}
