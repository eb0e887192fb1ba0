//! Small pieces of the plane's wire: the health endpoints' bodies, a delete's propagation
//! policy, `continue` tokens, JSON answers (lists written from the stored objects) and path
//! segments.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::sync::Arc;

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
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

/// A list's JSON (`{kind, apiVersion, metadata, items}`) written straight from the stored
/// objects: an object already stored as served at `version` is serialised where it lies;
/// only one stored under another `apiVersion` or `kind` is copied and presented.
pub fn list_json(
    rt: &ResourceType,
    version: &str,
    metadata: &Value,
    items: &[Arc<Value>],
) -> Vec<u8> {
    struct Items<'a> {
        rt: &'a ResourceType,
        version: &'a str,
        api_version: &'a str,
        items: &'a [Arc<Value>],
    }
    impl Serialize for Items<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(self.items.len()))?;
            for item in self.items {
                let as_served = item.get("apiVersion").and_then(Value::as_str)
                    == Some(self.api_version)
                    && item.get("kind").and_then(Value::as_str) == Some(self.rt.kind.as_str());
                if as_served {
                    seq.serialize_element(&**item)?;
                } else {
                    seq.serialize_element(&present(self.rt, self.version, Value::clone(item)))?;
                }
            }
            seq.end()
        }
    }
    #[derive(Serialize)]
    struct Body<'a> {
        kind: String,
        #[serde(rename = "apiVersion")]
        api_version: &'a str,
        metadata: &'a Value,
        items: Items<'a>,
    }
    let api_version = rt.api_version(version);
    serde_json::to_vec(&Body {
        kind: format!("{}List", rt.kind),
        api_version: &api_version,
        metadata,
        items: Items {
            rt,
            version,
            api_version: &api_version,
            items,
        },
    })
    .unwrap_or_default()
}
