//! StatefulSets: pods `<sts>-0` … `<sts>-<replicas-1>` (labels
//! `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`,
//! `controller-revision-hash: <sts>-<hash>`); scaling down removes the highest ordinals, a
//! template change replaces every pod.

use serde_json::json;

use super::{generation_of, replicas_of, template_hash, PodIndex, Types};
use crate::core::kube::{str_at, Plane, WriteCtx};

impl Plane {
    pub(super) fn run_statefulsets(&mut self, t: &Types, ctx: WriteCtx, index: &mut PodIndex) {
        for sts in self.all_of(&t.statefulsets) {
            let ns = str_at(&sts, "/metadata/namespace").to_owned();
            let name = str_at(&sts, "/metadata/name").to_owned();
            let uid = str_at(&sts, "/metadata/uid").to_owned();
            let template = sts.pointer("/spec/template").cloned().unwrap_or(json!({}));
            let revision = format!("{name}-{}", template_hash(&template));
            let want = replicas_of(&sts);
            let mut keep = Vec::new();
            for p in index.remove(&uid).unwrap_or_default() {
                let ordinal = p
                    .name
                    .strip_prefix(&format!("{name}-"))
                    .and_then(|o| o.parse::<usize>().ok());
                if p.revision != revision || ordinal.is_none_or(|o| o >= want) {
                    self.delete_pod(t, &ns, &p.name);
                } else {
                    keep.push(p);
                }
            }
            for i in 0..want {
                let pod = format!("{name}-{i}");
                if keep.iter().any(|p| p.name == pod) {
                    continue;
                }
                let labels = [
                    ("controller-revision-hash", revision.clone()),
                    ("statefulset.kubernetes.io/pod-name", pod.clone()),
                    ("apps.kubernetes.io/pod-index", i.to_string()),
                ];
                match self.create_pod(t, &sts, &pod, &labels, None, ctx) {
                    Ok(p) => keep.push(p),
                    Err(_) => break,
                }
            }
            let ready = keep.iter().filter(|p| p.ready).count();
            let status = json!({
                "observedGeneration": generation_of(&sts),
                "replicas": keep.len(),
                "readyReplicas": ready,
                "currentReplicas": keep.len(),
                "updatedReplicas": keep.len(),
                "availableReplicas": ready,
                "currentRevision": revision,
                "updateRevision": revision,
                "collisionCount": 0
            });
            index.insert(uid, keep);
            if let Ok(mut next) = self.get(&t.statefulsets, &ns, &name) {
                next["status"] = status;
                self.put(&t.statefulsets, next);
            }
        }
    }
}
