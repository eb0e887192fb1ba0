//! Small pieces of the plane's wire: the health endpoints' bodies and a delete's
//! propagation policy.

use serde_json::Value;

use super::status::Status;
use crate::core::kube::controllers::Propagation;

/// `/healthz`, `/livez`, `/readyz`: `ok`, or with `?verbose` each check and the verdict as
/// kube-apiserver lists them.
pub fn health_body(which: &str, verbose: bool) -> Vec<u8> {
    if !verbose {
        return b"ok".to_vec();
    }
    let mut checks = vec!["ping", "log", "etcd"];
    if which == "readyz" {
        checks.extend(["etcd-readiness", "informer-sync", "shutdown"]);
    }
    checks.extend([
        "poststarthook/start-apiserver-admission-initializer",
        "poststarthook/generic-apiserver-start-informers",
        "poststarthook/start-apiextensions-controllers",
        "poststarthook/crd-informer-synced",
    ]);
    let mut out: String = checks.iter().map(|c| format!("[+]{c} ok\n")).collect();
    out.push_str(&format!("{which} check passed\n"));
    out.into_bytes()
}

/// `propagationPolicy` of a delete, from the query or the `DeleteOptions` body.
pub fn propagation(query: Option<&str>, body: &[u8]) -> Result<Propagation, Status> {
    let from_body = serde_json::from_slice::<Value>(body).ok().and_then(|b| {
        b.get("propagationPolicy")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    match query.map(str::to_owned).or(from_body) {
        Some(p) => Ok(Propagation::parse(&p)?),
        None => Ok(Propagation::default()),
    }
}
