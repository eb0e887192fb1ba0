//! Small pieces of the plane's wire: the health endpoints' bodies, a delete's propagation
//! policy, `continue` tokens, JSON answers and path segments.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};

use super::status::Status;
use crate::core::kube::catalog::ResourceType;
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

pub fn encode_continue(rv: u64, after: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"v": "meta.k8s.io/v1", "rv": rv, "start": after}).to_string())
}

pub fn decode_continue(token: &str) -> Result<String, Status> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|e| Status::bad_continue(&e.to_string()))?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| Status::bad_continue(&e.to_string()))?;
    v.get("start")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Status::bad_continue("no start key"))
}

pub fn json_response(code: StatusCode, value: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(value).unwrap_or_default(),
    )
        .into_response()
}

pub fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// An object as served at `version` (its `apiVersion` and `kind`).
pub fn present(rt: &ResourceType, version: &str, mut object: Value) -> Value {
    object["apiVersion"] = json!(rt.api_version(version));
    object["kind"] = json!(rt.kind);
    object
}
