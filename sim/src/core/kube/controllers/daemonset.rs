//! DaemonSets: one pod `<ds>-<5 characters>` on every schedulable node whose labels match
//! the template's `nodeSelector` (by default the Linux nodes), `spec.nodeName` set; a
//! template change replaces the pods (label `controller-revision-hash`).

use serde_json::{json, Value};

use super::{generation_of, template_hash, PodIndex, Types};
use crate::core::kube::{str_at, Plane, WriteCtx};

/// Whether a node with `labels` fits the template's `nodeSelector` (the OS defaults to Linux).
fn fits(template: &Value, node_labels: &Value) -> bool {
    let selector = template
        .pointer("/spec/nodeSelector")
        .and_then(Value::as_object);
    let os_wanted = selector
        .and_then(|s| s.get("kubernetes.io/os"))
        .and_then(Value::as_str)
        .unwrap_or("linux");
    if node_labels.get("kubernetes.io/os").and_then(Value::as_str) != Some(os_wanted) {
        return false;
    }
    selector.is_none_or(|s| s.iter().all(|(k, v)| node_labels.get(k) == Some(v)))
}

impl Plane {
    pub(super) fn run_daemonsets(&mut self, t: &Types, ctx: WriteCtx, index: &mut PodIndex) {
        let nodes: Vec<(String, Value)> = self
            .objects_of(&crate::core::kube::nodes::nodes_type())
            .map(|(_, n)| {
                (
                    str_at(n, "/metadata/name").to_owned(),
                    n.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                )
            })
            .collect();
        for ds in self.all_of(&t.daemonsets) {
            let ns = str_at(&ds, "/metadata/namespace").to_owned();
            let name = str_at(&ds, "/metadata/name").to_owned();
            let uid = str_at(&ds, "/metadata/uid").to_owned();
            let template = ds.pointer("/spec/template").cloned().unwrap_or(json!({}));
            let hash = template_hash(&template);
            let eligible: Vec<&String> = nodes
                .iter()
                .filter(|(_, labels)| fits(&template, labels))
                .map(|(n, _)| n)
                .collect();
            let mut pods = index.remove(&uid).unwrap_or_default();
            // Pods of an old template, on a node that is gone, or a second one on a node.
            let mut keep = Vec::new();
            for p in pods.drain(..) {
                let stale = p.revision != hash
                    || !eligible.contains(&&p.node)
                    || keep.iter().any(|k: &super::PodInfo| k.node == p.node);
                if stale {
                    self.delete_pod(t, &ns, &p.name);
                } else {
                    keep.push(p);
                }
            }
            let generation = generation_of(&ds).to_string();
            for node in eligible.iter() {
                if keep.iter().any(|p| &&p.node == node) {
                    continue;
                }
                let labels = [
                    ("controller-revision-hash", hash.clone()),
                    ("pod-template-generation", generation.clone()),
                ];
                match self.create_pod(t, &ds, &format!("{name}-"), &labels, Some(node), ctx) {
                    Ok(p) => keep.push(p),
                    Err(_) => break,
                }
            }
            let ready = keep.iter().filter(|p| p.ready).count();
            let status = json!({
                "currentNumberScheduled": keep.len(),
                "desiredNumberScheduled": eligible.len(),
                "numberMisscheduled": 0,
                "numberReady": ready,
                "numberAvailable": ready,
                "updatedNumberScheduled": keep.iter().filter(|p| p.revision == hash).count(),
                "observedGeneration": generation_of(&ds)
            });
            index.insert(uid, keep);
            if let Ok(mut next) = self.get(&t.daemonsets, &ns, &name) {
                next["status"] = status;
                self.put(&t.daemonsets, next);
            }
        }
    }
}
