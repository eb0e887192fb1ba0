//! Jobs: `completions` pods `<job>-<5 characters>` (labels `batch.kubernetes.io/job-name`,
//! `batch.kubernetes.io/controller-uid` and their old spellings) that have already
//! succeeded; the Job is `Complete` at once.

use serde_json::{json, Value};

use super::{condition, PodIndex, Types};
use crate::core::kube::{str_at, timestamp, Plane, WriteCtx};

impl Plane {
    pub(super) fn run_jobs(&mut self, t: &Types, ctx: WriteCtx, index: &mut PodIndex) {
        for job in self.all_of(&t.jobs) {
            let ns = str_at(&job, "/metadata/namespace").to_owned();
            let name = str_at(&job, "/metadata/name").to_owned();
            let uid = str_at(&job, "/metadata/uid").to_owned();
            let completions = job
                .pointer("/spec/completions")
                .and_then(Value::as_u64)
                .unwrap_or(1) as usize;
            if job.pointer("/spec/suspend") == Some(&json!(true)) {
                continue;
            }
            let mut pods = index.remove(&uid).unwrap_or_default();
            let labels = [
                ("batch.kubernetes.io/controller-uid", uid.clone()),
                ("batch.kubernetes.io/job-name", name.clone()),
                ("controller-uid", uid.clone()),
                ("job-name", name.clone()),
            ];
            while pods.len() < completions {
                match self.create_pod(t, &job, &format!("{name}-"), &labels, None, ctx) {
                    Ok(mut p) => {
                        self.complete_pod(t, &ns, &p.name, ctx);
                        p.succeeded = true;
                        pods.push(p);
                    }
                    Err(_) => break,
                }
            }
            let succeeded = pods.iter().filter(|p| p.succeeded).count();
            let prev = job.pointer("/status/conditions");
            let started = job
                .pointer("/status/startTime")
                .cloned()
                .unwrap_or(json!(timestamp(ctx.now)));
            let mut status = json!({
                "startTime": started,
                "succeeded": succeeded,
                "ready": 0,
                "terminating": 0,
                "uncountedTerminatedPods": {}
            });
            if succeeded >= completions {
                status["completionTime"] = job
                    .pointer("/status/completionTime")
                    .cloned()
                    .unwrap_or(json!(timestamp(ctx.now)));
                status["conditions"] = json!([
                    condition(
                        prev,
                        "SuccessCriteriaMet",
                        "True",
                        "CompletionsReached",
                        "Reached expected number of succeeded pods",
                        ctx.now,
                        false
                    ),
                    condition(
                        prev,
                        "Complete",
                        "True",
                        "CompletionsReached",
                        "Reached expected number of succeeded pods",
                        ctx.now,
                        false
                    ),
                ]);
                for c in status["conditions"].as_array_mut().into_iter().flatten() {
                    c["lastProbeTime"] = c["lastTransitionTime"].clone();
                }
            } else {
                status["active"] = json!(completions - succeeded);
            }
            index.insert(uid.clone(), pods);
            if let Ok(mut next) = self.get(&t.jobs, &ns, &name) {
                if next.pointer("/spec/selector").is_none() {
                    next["spec"]["selector"] =
                        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
                }
                next["status"] = status;
                self.put(&t.jobs, next);
            }
        }
    }

    /// A job's pod ran to completion: `Succeeded`, its containers terminated with 0.
    fn complete_pod(&mut self, t: &Types, ns: &str, name: &str, ctx: WriteCtx) {
        let Ok(mut pod) = self.get(&t.pods, ns, name) else {
            return;
        };
        let at = timestamp(ctx.now);
        pod["status"]["phase"] = json!("Succeeded");
        for c in pod["status"]["containerStatuses"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            c["ready"] = json!(false);
            c["started"] = json!(false);
            c["state"] = json!({"terminated": {"exitCode": 0, "reason": "Completed",
                "startedAt": at, "finishedAt": at, "containerID": c["containerID"].clone()}});
        }
        for c in pod["status"]["conditions"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                c["status"] = json!("False");
                c["reason"] = json!("PodCompleted");
            }
        }
        self.put(&t.pods, pod);
    }
}
