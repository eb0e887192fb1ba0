//! The patch types the plane accepts: JSON merge patch (RFC 7386), strategic merge patch (as
//! a merge patch that also understands the `$patch: delete|replace` directive and drops other
//! `$` keys), and JSON patch (RFC 6902). Server-side apply (`application/apply-patch+yaml`) is
//! not served: 415.

use serde_json::Value;

/// The media types a PATCH may carry, as kube-apiserver lists them in its 415 message.
pub const ACCEPTED: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
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

/// Applies `patch` to `target`. Errors are the message of a 400 (JSON patch) or 422.
pub fn apply(kind: PatchType, target: &Value, patch: &Value) -> Result<Value, String> {
    match kind {
        PatchType::Merge => {
            if !patch.is_object() {
                return Err("a merge patch must be a JSON object".to_owned());
            }
            Ok(merge(target, patch, false))
        }
        PatchType::StrategicMerge => {
            if !patch.is_object() {
                return Err("a strategic merge patch must be a JSON object".to_owned());
            }
            Ok(merge(target, patch, true))
        }
        PatchType::Json => json_patch(target, patch),
    }
}

fn merge(target: &Value, patch: &Value, strategic: bool) -> Value {
    let Value::Object(p) = patch else {
        return patch.clone();
    };
    if strategic {
        match p.get("$patch").and_then(Value::as_str) {
            Some("delete") => return Value::Null,
            Some("replace") => {
                let mut clean = p.clone();
                clean.retain(|k, _| !k.starts_with('$'));
                return Value::Object(clean);
            }
            _ => {}
        }
    }
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => serde_json::Map::new(),
    };
    for (k, v) in p {
        if strategic && k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = merge(out.get(k).unwrap_or(&Value::Null), v, strategic);
            if strategic && merged.is_null() {
                out.remove(k);
            } else {
                out.insert(k.clone(), merged);
            }
        }
    }
    Value::Object(out)
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<(String, String), String> {
    if path.is_empty() {
        return Err("the root of the document cannot be patched".to_owned());
    }
    if !path.starts_with('/') {
        return Err(format!("invalid JSON pointer {path:?}"));
    }
    let (parent, last) = path.rsplit_once('/').unwrap_or(("", path));
    Ok((parent.to_owned(), unescape(last)))
}

fn remove_at(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, last) = split_pointer(path)?;
    let container = doc
        .pointer_mut(&parent)
        .ok_or_else(|| format!("doc is missing path: {path:?}"))?;
    match container {
        Value::Object(m) => m
            .remove(&last)
            .ok_or_else(|| format!("unable to remove nonexistent key: {last}: missing value")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if i >= a.len() {
                return Err(format!("unable to remove index {i}: out of bounds"));
            }
            Ok(a.remove(i))
        }
        _ => Err(format!("doc is missing path: {path:?}")),
    }
}

fn add_at(doc: &mut Value, path: &str, value: Value, replace: bool) -> Result<(), String> {
    let (parent, last) = split_pointer(path)?;
    let container = doc
        .pointer_mut(&parent)
        .ok_or_else(|| format!("doc is missing path: {path:?}: missing value"))?;
    match container {
        Value::Object(m) => {
            if replace && !m.contains_key(&last) {
                return Err(format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                ));
            }
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" && !replace {
                a.push(value);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid array index {last:?}"))?;
            if replace {
                let slot = a
                    .get_mut(i)
                    .ok_or_else(|| format!("unable to replace index {i}: out of bounds"))?;
                *slot = value;
            } else {
                if i > a.len() {
                    return Err(format!("unable to insert index {i}: out of bounds"));
                }
                a.insert(i, value);
            }
            Ok(())
        }
        _ => Err(format!("doc is missing path: {path:?}: missing value")),
    }
}

fn json_patch(target: &Value, patch: &Value) -> Result<Value, String> {
    let ops = patch
        .as_array()
        .ok_or("a JSON patch must be an array of operations")?;
    let mut doc = target.clone();
    for op in ops {
        let name = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("an operation has no \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("an operation has no \"path\"")?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| format!("{name} operation has no \"value\""))
        };
        let from = || {
            op.get("from")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{name} operation has no \"from\""))
        };
        match name {
            "add" => add_at(&mut doc, path, value()?, false)?,
            "replace" => add_at(&mut doc, path, value()?, true)?,
            "remove" => {
                remove_at(&mut doc, path)?;
            }
            "move" => {
                let v = remove_at(&mut doc, from()?)?;
                add_at(&mut doc, path, v, false)?;
            }
            "copy" => {
                let v = doc
                    .pointer(from()?)
                    .cloned()
                    .ok_or_else(|| format!("copy from a missing path: {path}"))?;
                add_at(&mut doc, path, v, false)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value()?) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(doc)
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
        assert!(apply(
            PatchType::Json,
            &t,
            &json!([{"op": "remove", "path": "/nope/x"}])
        )
        .is_err());
    }
}
