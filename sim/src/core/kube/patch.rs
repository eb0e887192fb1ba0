//! The patch types the plane accepts: JSON merge patch (RFC 7386), strategic merge patch
//! (`smp.rs`: by the fields' patch strategies and merge keys, built-in kinds only), and JSON
//! patch (RFC 6902, the `json-patch` crate kube-rs uses).

use serde_json::Value;

use super::error::Error;
use super::smp;

/// The media types a PATCH may carry, as kube-apiserver lists them in its 415 message.
pub const ACCEPTED: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// What a custom resource accepts (no strategic merge patch).
pub const ACCEPTED_CUSTOM: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    StrategicMerge,
}

impl PatchType {
    /// From a `Content-Type` header (parameters ignored); `None` for anything else.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::StrategicMerge),
            _ => None,
        }
    }
}

/// Applies `patch` to `target` (an object carrying its `apiVersion` and `kind`). A malformed
/// patch is a 400; a JSON patch whose operations fail is kube-apiserver's bare 422; a strategic
/// merge patch of a custom resource is refused (`Error::bad_request` with kube's text; the wire
/// answers 415 before it gets here).
pub fn apply(kind: PatchType, target: &Value, patch: &Value) -> Result<Value, Error> {
    match kind {
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(Error::bad_request("a merge patch must be a JSON object"));
            }
            Ok(merge(target, patch))
        }
        PatchType::StrategicMerge => {
            if !patch.is_object() {
                return Err(Error::bad_request("invalid JSON document"));
            }
            let api = target
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let k = target.get("kind").and_then(Value::as_str).unwrap_or("");
            let schema = smp::schema_for(api, k).ok_or_else(|| {
                Error::bad_request("strategic merge patch format is not supported")
            })?;
            smp::apply(target, patch, schema).map_err(|e| Error::bad_request(e.0))
        }
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| Error::bad_request(format!("error decoding patch: {e}")))?;
            let mut doc = target.clone();
            json_patch::patch(&mut doc, &ops).map_err(|_| Error::unprocessable())?;
            Ok(doc)
        }
    }
}

/// JSON merge patch (RFC 7386).
fn merge(target: &Value, patch: &Value) -> Value {
    let Value::Object(p) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => serde_json::Map::new(),
    };
    for (k, v) in p {
        if v.is_null() {
            out.shift_remove(k);
        } else {
            let merged = merge(out.get(k).unwrap_or(&Value::Null), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_and_json_patch() {
        let t = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
        let m = apply(
            PatchType::Merge,
            &t,
            &json!({"metadata": {"labels": {"a": null, "c": "3"}}}),
        )
        .unwrap();
        assert_eq!(m, json!({"metadata": {"labels": {"b": "2", "c": "3"}}}));
        let j = apply(
            PatchType::Json,
            &t,
            &json!([{"op": "add", "path": "/metadata/labels/x~1y", "value": "z"},
                    {"op": "remove", "path": "/metadata/labels/a"}]),
        )
        .unwrap();
        assert_eq!(j, json!({"metadata": {"labels": {"b": "2", "x/y": "z"}}}));
        // A failing operation is kube-apiserver's bare 422; a malformed patch a 400.
        assert_eq!(
            apply(
                PatchType::Json,
                &t,
                &json!([{"op": "remove", "path": "/nope/x"}])
            ),
            Err(Error::unprocessable())
        );
        assert!(matches!(
            apply(PatchType::Json, &t, &json!([{"op": "frob", "path": "/a"}])),
            Err(Error::BadRequest(_))
        ));
        // Custom resources take no strategic merge patch.
        let cr = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService"});
        assert!(apply(PatchType::StrategicMerge, &cr, &json!({"spec": {}})).is_err());
    }
}
