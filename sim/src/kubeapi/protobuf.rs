//! A minimal reader of Kubernetes' protobuf request bodies (`application/vnd.kubernetes.protobuf`),
//! enough for what kubectl ≥1.33 sends that way: `kubectl create namespace` and
//! `kubectl create configmap`. The envelope is `k8s\0` + `runtime.Unknown{typeMeta, raw}`; the
//! object is decoded into the JSON the rest of the plane works with (ObjectMeta name,
//! generateName, namespace, labels, annotations; ConfigMap data). Other kinds are refused
//! with 415 by the caller. Answers are always JSON, which client-go accepts.

use serde_json::{json, Map, Value};

const MAGIC: &[u8] = b"k8s\0";

/// One decoded field: number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or("truncated varint")?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(out);
        }
    }
    Err("varint too long".to_owned())
}

fn fields(buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, String> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let (number, wire) = (key >> 3, key & 7);
        let field = match wire {
            0 => Field::Varint(varint(buf, &mut pos)?),
            1 => {
                pos += 8;
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|e| e.to_string())?;
                let end = pos
                    .checked_add(len)
                    .filter(|e| *e <= buf.len())
                    .ok_or("truncated field")?;
                let b = &buf[pos..end];
                pos = end;
                Field::Bytes(b)
            }
            5 => {
                pos += 4;
                Field::Fixed
            }
            other => return Err(format!("unsupported wire type {other}")),
        };
        if pos > buf.len() {
            return Err("truncated field".to_owned());
        }
        out.push((number, field));
    }
    Ok(out)
}

fn string(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|e| e.to_string())
}

fn map_entry(b: &[u8]) -> Result<(String, Value), String> {
    let mut k = String::new();
    let mut v = Value::String(String::new());
    for (n, f) in fields(b)? {
        if let Field::Bytes(b) = f {
            match n {
                1 => k = string(b)?,
                2 => v = Value::String(string(b)?),
                _ => {}
            }
        }
    }
    Ok((k, v))
}

fn object_meta(b: &[u8]) -> Result<Value, String> {
    let mut meta = Map::new();
    let mut labels = Map::new();
    let mut annotations = Map::new();
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Bytes(b)) => {
                meta.insert("name".into(), json!(string(b)?));
            }
            (2, Field::Bytes(b)) => {
                meta.insert("generateName".into(), json!(string(b)?));
            }
            (3, Field::Bytes(b)) => {
                meta.insert("namespace".into(), json!(string(b)?));
            }
            (6, Field::Bytes(b)) => {
                meta.insert("resourceVersion".into(), json!(string(b)?));
            }
            (11, Field::Bytes(b)) => {
                let (k, v) = map_entry(b)?;
                labels.insert(k, v);
            }
            (12, Field::Bytes(b)) => {
                let (k, v) = map_entry(b)?;
                annotations.insert(k, v);
            }
            _ => {}
        }
    }
    if !labels.is_empty() {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), Value::Object(annotations));
    }
    Ok(Value::Object(meta))
}

/// Decodes a protobuf body into JSON, for the kinds listed in the module header.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("the body does not start with the Kubernetes protobuf magic number")?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    for (n, f) in fields(rest)? {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (n, f) in fields(tm)? {
                    match (n, f) {
                        (1, Field::Bytes(b)) => api_version = string(b)?,
                        (2, Field::Bytes(b)) => kind = string(b)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let mut object = json!({"apiVersion": api_version, "kind": kind});
    let mut data = Map::new();
    for (n, f) in fields(raw)? {
        match (n, f, kind.as_str()) {
            (1, Field::Bytes(b), _) => object["metadata"] = object_meta(b)?,
            (2, Field::Bytes(b), "ConfigMap") => {
                let (k, v) = map_entry(b)?;
                data.insert(k, v);
            }
            (4, Field::Varint(v), "ConfigMap") => object["immutable"] = json!(v != 0),
            (2 | 3, _, "Namespace") => {}
            (_, _, "Namespace" | "ConfigMap") => {}
            _ => {
                return Err(format!(
                    "aksim reads protobuf bodies only for Namespace and ConfigMap, not {kind}"
                ))
            }
        }
    }
    if !data.is_empty() {
        object["data"] = Value::Object(data);
    }
    if !matches!(kind.as_str(), "Namespace" | "ConfigMap") {
        return Err(format!(
            "aksim reads protobuf bodies only for Namespace and ConfigMap, not {kind}"
        ));
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![((n << 3) | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_a_namespace() {
        let label = [field(1, b"team"), field(2, b"a")].concat();
        let meta = [field(1, b"foo"), field(11, &label)].concat();
        let type_meta = [field(1, b"v1"), field(2, b"Namespace")].concat();
        let raw = field(1, &meta);
        let body = [MAGIC.to_vec(), field(1, &type_meta), field(2, &raw)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(v["kind"], "Namespace");
        assert_eq!(v["metadata"]["name"], "foo");
        assert_eq!(v["metadata"]["labels"]["team"], "a");
        assert!(decode(b"nope").is_err());
    }
}
