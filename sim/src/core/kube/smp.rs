//! Strategic merge patch as kube-apiserver applies it (k8s.io/apimachinery
//! `pkg/util/strategicpatch`, `StrategicMergeMapPatch` with `MergeParallelList` and
//! `IgnoreUnmatchedNulls`): maps merge key by key, lists are replaced unless the field's
//! patch strategy is `merge` — then lists of objects merge by the field's merge key and lists
//! of scalars are united — and the directives `$patch: replace|delete` (in maps and list
//! elements), `$deleteFromPrimitiveList/<f>`, `$setElementOrder/<f>` and `$retainKeys` do what
//! they do there. Which field merges how is data: `data/k8s-patch-strategies.json`, read from
//! the `patchStrategy`/`patchMergeKey` tags of k8s.io/api (the OpenAPI's
//! `x-kubernetes-patch-strategy`/`x-kubernetes-patch-merge-key`).
//!
//! Custom resources have no such tags, and kube-apiserver refuses a strategic merge patch for
//! them (`schema_for` gives `None`).

use serde_json::{Map, Value};

pub use super::patch_meta::{schema_for, ApplyMeta, Schema};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Why a strategic merge patch could not be applied: kube-apiserver's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmpError(pub String);

type R<T> = Result<T, SmpError>;

fn err<T>(s: impl Into<String>) -> R<T> {
    Err(SmpError(s.into()))
}

const BAD_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const BAD_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const BAD_SET_ORDER: &str = "invalid patch format of setElementOrder list";

/// Go's `%v` of a decoded JSON value (`map[a:1 b:x]`, `[a b]`), for error texts.
fn go_fmt(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_fmt).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_fmt(&m[k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

fn no_merge_key(m: &Value, key: &str) -> SmpError {
    SmpError(format!(
        "map: {} does not contain declared merge key: {key}",
        go_fmt(m)
    ))
}

/// Go's reflect type of a decoded value: ints and floats differ (kube decodes with
/// `PreserveInts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    String,
    List,
    Map,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.is_i64() || n.is_u64() => Kind::Int,
        Value::Number(_) => Kind::Float,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::List,
        Value::Object(_) => Kind::Map,
    }
}

/// Applies a strategic merge patch to `original` (both JSON objects).
pub fn apply(original: &Value, patch: &Value, schema: Schema) -> R<Value> {
    let (Value::Object(o), Value::Object(p)) = (original, patch) else {
        return err("invalid JSON document");
    };
    Ok(Value::Object(merge_map(o.clone(), p.clone(), schema)?))
}

fn handle_directive_in_map(
    directive: &Value,
    mut patch: Map<String, Value>,
) -> R<Map<String, Value>> {
    match directive.as_str() {
        Some("replace") => {
            patch.remove(DIRECTIVE);
            // kube decodes the result into the typed object, which drops any directive left.
            Ok(strip_directives(patch))
        }
        Some("delete") => Ok(Map::new()),
        _ => err(format!(
            "unknown patch type: {} in map: {}",
            go_fmt(directive),
            go_fmt(&Value::Object(patch))
        )),
    }
}

fn strip_directives(mut m: Map<String, Value>) -> Map<String, Value> {
    m.retain(|k, _| !k.starts_with('$'));
    for v in m.values_mut() {
        strip_value(v);
    }
    m
}

fn strip_value(v: &mut Value) {
    match v {
        Value::Object(m) => *m = strip_directives(std::mem::take(m)),
        Value::Array(a) => a.iter_mut().for_each(strip_value),
        _ => {}
    }
}

/// kube's `removeDirectives`: a map holding `$patch` goes away; other `$` keys are dropped by
/// the typed decode that follows in kube-apiserver.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            let mut out = Map::new();
            for (k, v) in m {
                if k.starts_with('$') {
                    continue;
                }
                if let Some(v) = remove_directives(v) {
                    out.insert(k, v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(a) => Some(Value::Array(
            a.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(discard_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

fn extract_key<'a>(s: &'a str, prefix: &str) -> R<&'a str> {
    match s.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest),
        _ if prefix == DELETE_FROM_PRIMITIVE_LIST => err(BAD_PRIMITIVE_LIST),
        _ if prefix == SET_ELEMENT_ORDER => err(BAD_SET_ORDER),
        _ => err(format!("fail to find unknown prefix {prefix:?} in {s}\n")),
    }
}

fn apply_retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> R<()> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(list) = retain else {
        return err(BAD_RETAIN_KEYS);
    };
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !list.iter().any(|x| x.as_str() == Some(k)) {
            return err(BAD_RETAIN_KEYS);
        }
    }
    original.retain(|k, _| list.iter().any(|x| x.as_str() == Some(k)));
    Ok(())
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    schema: Schema,
) -> R<Map<String, Value>> {
    if let Some(d) = patch.get(DIRECTIVE).cloned() {
        return handle_directive_in_map(&d, patch);
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_set_element_order(&mut original, &mut patch, schema)?;
    for (k, patch_v) in patch {
        let mut key = k.as_str();
        let mut delete_list = false;
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            key = extract_key(key, DELETE_FROM_PRIMITIVE_LIST)?;
            delete_list = true;
        } else if key.starts_with('$') {
            continue;
        }
        if patch_v.is_null() {
            original.shift_remove(key);
            continue;
        }
        let Some(slot) = original.get_mut(key) else {
            if !delete_list {
                let mut v = patch_v;
                discard_nulls(&mut v);
                if let Some(v) = remove_directives(v) {
                    original.insert(key.to_owned(), v);
                }
            }
            continue;
        };
        if kind(slot) != kind(&patch_v) {
            if !delete_list {
                let mut v = patch_v;
                discard_nulls(&mut v);
                match remove_directives(v) {
                    Some(v) => *slot = v,
                    None => {
                        original.shift_remove(key);
                    }
                }
            }
            continue;
        }
        let orig_v = std::mem::take(slot);
        let merged = match (orig_v, patch_v) {
            (Value::Object(o), Value::Object(p)) => {
                let (sub, meta) = schema.lookup(key);
                if meta.strategy == "replace" {
                    Some(Value::Object(strip_directives(p)))
                } else {
                    Some(Value::Object(merge_map(o, p, sub)?))
                }
            }
            (Value::Array(o), Value::Array(p)) => {
                let (sub, meta) = schema.lookup(key);
                if meta.strategy == "merge" || delete_list {
                    Some(Value::Array(merge_slice(o, p, sub, meta.key, delete_list)?))
                } else {
                    remove_directives(Value::Array(p))
                }
            }
            (_, p) => remove_directives(p),
        };
        match merged {
            Some(v) => {
                original.insert(key.to_owned(), v);
            }
            None => {
                original.shift_remove(key);
            }
        }
    }
    Ok(original)
}

/// kube's `mergePatchIntoOriginal`: each `$setElementOrder/<f>` with its list `<f>`.
fn merge_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    schema: Schema,
) -> R<()> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for k in keys {
        let order = patch.remove(&k).unwrap_or(Value::Null);
        let Value::Array(order) = order else {
            return err(format!(
                "expected a []interface {{}}, but received a {}",
                go_type(&order)
            ));
        };
        let field = extract_key(&k, SET_ELEMENT_ORDER)?.to_owned();
        let original_list = match original.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => {
                return err(format!(
                    "expected a []interface {{}}, but received a {}",
                    go_type(other)
                ))
            }
        };
        let patch_list = match patch.remove(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a),
            Some(other) => {
                return err(format!(
                    "expected a []interface {{}}, but received a {}",
                    go_type(&other)
                ))
            }
        };
        let (sub, meta) = schema.lookup(&field);
        validate_with_set_order(patch_list.as_deref().unwrap_or(&[]), &order, meta.key)?;
        let orig_slice = original_list.clone().unwrap_or_default();
        let patch_slice = patch_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list) {
            (Some(o), None) => o,
            (None, Some(p)) => match remove_directives(Value::Array(p)) {
                Some(Value::Array(a)) => a,
                _ => continue,
            },
            (Some(o), Some(p)) => {
                if meta.strategy == "merge" {
                    merge_slice(o, p, sub, meta.key, false)?
                } else {
                    p
                }
            }
            (None, None) => continue,
        };
        let (patch_items, server_only) = partition(merged, &order, meta.key)?;
        let element = slice_element_kind(&[&orig_slice, &patch_slice])?;
        let both = normalize_element_order(
            patch_items,
            server_only,
            &order,
            &orig_slice,
            meta.key,
            element,
        )?;
        original.insert(field, Value::Array(both));
    }
    Ok(())
}

fn go_type(v: &Value) -> &'static str {
    match kind(v) {
        Kind::Null => "<nil>",
        Kind::Bool => "bool",
        Kind::Int => "int64",
        Kind::Float => "float64",
        Kind::String => "string",
        Kind::List => "[]interface {}",
        Kind::Map => "map[string]interface {}",
    }
}

fn merge_key_equal(left: &Value, right: &Value, key: &str) -> R<bool> {
    if key.is_empty() {
        return Ok(left == right);
    }
    let (Some(l), Some(r)) = (left.as_object(), right.as_object()) else {
        return err(format!(
            "expected a map[string]interface {{}}, but received a {}",
            go_type(if left.is_object() { right } else { left })
        ));
    };
    let lv = l.get(key).ok_or_else(|| no_merge_key(left, key))?;
    let rv = r.get(key).ok_or_else(|| no_merge_key(right, key))?;
    Ok(lv == rv)
}

fn validate_with_set_order(patch: &[Value], order: &[Value], key: &str) -> R<()> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = if key.is_empty() {
        patch.iter().collect()
    } else {
        patch
            .iter()
            .filter(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"))
            .collect()
    };
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if non_delete[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        if merge_key_equal(non_delete[pi], &order[oi], key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return err(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            go_fmt(&Value::Array(patch.to_vec())),
            go_fmt(&Value::Array(order.to_vec()))
        ));
    }
    Ok(())
}

/// The kind shared by every element of the lists (kube's `sliceElementType`).
fn slice_element_kind(lists: &[&[Value]]) -> R<Kind> {
    let mut prev: Option<Kind> = None;
    for list in lists {
        for v in *list {
            let k = kind(v);
            match prev {
                None => {
                    if k == Kind::List {
                        return err("lists of lists are not supported");
                    }
                    prev = Some(k);
                }
                Some(p) if p != k => {
                    let all: Vec<String> = lists
                        .iter()
                        .map(|l| go_fmt(&Value::Array(l.to_vec())))
                        .collect();
                    return err(format!(
                        "list element types are not identical: [{}]",
                        all.join(" ")
                    ));
                }
                _ => {}
            }
        }
    }
    prev.ok_or_else(|| SmpError("no elements in any of the given slices".to_owned()))
}

fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: Schema,
    key: &str,
    delete_list: bool,
) -> R<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let element = slice_element_kind(&[&original, &patch])?;
    let (original, patch, merged) = if element != Kind::Map {
        if delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        (original, patch, dedup_scalars(both))
    } else {
        if key.is_empty() {
            return err(format!(
                "cannot merge lists without merge key for {}",
                schema.name
            ));
        }
        // kube goes on with the original and patch as the special elements left them.
        let (original, rest) = merge_special_elements(original, &patch, key)?;
        let merged = merge_without_special(original.clone(), rest.clone(), key, schema)?;
        (original, rest, merged)
    };
    let (patch_items, server_only) = partition(merged, &patch, key)?;
    normalize_element_order(patch_items, server_only, &patch, &original, key, element)
}

/// kube's `deduplicateScalars` (swap-remove; the order is set afterwards).
fn dedup_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut length = s.len() as isize - 1;
    let mut i = 0isize;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if s[i as usize] == s[j as usize] {
                s[j as usize] = s[length as usize].clone();
                s.truncate(length as usize);
                length -= 1;
                j -= 1;
            }
            j += 1;
        }
        i += 1;
    }
    s
}

/// `$patch: delete` / `replace` elements; returns the new original and the patch without them.
fn merge_special_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    key: &str,
) -> R<(Vec<Value>, Vec<Value>)> {
    let mut rest = Vec::new();
    let mut replace = false;
    for v in patch {
        match v.get(DIRECTIVE) {
            None => rest.push(v.clone()),
            Some(d) => match d.as_str() {
                Some("delete") => {
                    let Some(kv) = v.get(key) else {
                        return Err(no_merge_key(v, key));
                    };
                    original.retain(|o| o.get(key) != Some(kv));
                }
                Some("replace") => replace = true,
                Some("merge") => return err("merging lists cannot yet be specified in the patch"),
                _ => {
                    return err(format!(
                        "unknown patch type: {} in map: {}",
                        go_fmt(d),
                        go_fmt(v)
                    ))
                }
            },
        }
    }
    if replace {
        return Ok((rest, Vec::new()));
    }
    Ok((original, rest))
}

fn merge_without_special(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    schema: Schema,
) -> R<Vec<Value>> {
    for v in patch {
        let Value::Object(pm) = v else {
            return err(format!(
                "expected a map[string]interface {{}}, but received a {}",
                go_type(&v)
            ));
        };
        let Some(kv) = pm.get(key).cloned() else {
            return Err(no_merge_key(&Value::Object(pm), key));
        };
        let mut found = None;
        for (i, o) in original.iter().enumerate() {
            let Some(om) = o.as_object() else {
                return err(format!("value for key {i} is not a map"));
            };
            if om.get(key) == Some(&kv) {
                found = Some(i);
                break;
            }
        }
        match found {
            Some(i) => {
                let om = match std::mem::take(&mut original[i]) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                original[i] = Value::Object(merge_map(om, pm, schema)?);
            }
            None => original.push(Value::Object(pm)),
        }
    }
    Ok(original)
}

/// Splits `merged` into the items present in `by` (by merge key, or whole for scalars) and
/// the server's own.
fn partition(merged: Vec<Value>, by: &[Value], key: &str) -> R<(Vec<Value>, Vec<Value>)> {
    let mut in_patch = Vec::new();
    let mut server_only = Vec::new();
    for v in merged {
        let present = if key.is_empty() {
            by.contains(&v)
        } else {
            let Some(kv) = v.as_object().map(|m| m.get(key)) else {
                return err(format!(
                    "expected a map[string]interface {{}}, but received a {}",
                    go_type(&v)
                ));
            };
            let Some(kv) = kv else {
                return Err(no_merge_key(&v, key));
            };
            by.iter().any(|b| b.get(key) == Some(kv))
        };
        if present {
            in_patch.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((in_patch, server_only))
}

fn value_of<'a>(v: &'a Value, key: &str, element: Kind) -> Option<&'a Value> {
    if element == Kind::Map {
        v.get(key)
    } else {
        Some(v)
    }
}

fn index(list: &[Value], item: &Value, key: &str, element: Kind) -> Option<usize> {
    let want = value_of(item, key, element);
    list.iter().position(|v| value_of(v, key, element) == want)
}

fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    key: &str,
    element: Kind,
) -> R<Vec<Value>> {
    let (mut keep, deleted) = if element == Kind::Map {
        for v in to_sort.iter().chain(order.iter()) {
            if !v.is_object() {
                return err(format!(
                    "expected a map[string]interface {{}}, but received a {}",
                    go_type(v)
                ));
            }
            if v.get(key).is_none() {
                return Err(no_merge_key(v, key));
            }
        }
        to_sort
            .into_iter()
            .partition(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"))
    } else {
        (to_sort, Vec::new())
    };
    keep.sort_by_key(|v| index(order, v, key, element).unwrap_or(usize::MAX));
    keep.extend(deleted);
    Ok(keep)
}

fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: &str,
    element: Kind,
) -> R<Vec<Value>> {
    let patch = normalize_slice_order(patch, patch_order, key, element)?;
    let server_only = normalize_slice_order(server_only, server_order, key, element)?;
    // kube's mergeSortedSlice: server-only items go in front of a patch item only when both
    // are in the live list and the server item came first there.
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(patch.len() + server_only.len());
    while i < server_only.len() || j < patch.len() {
        if i >= server_only.len() {
            out.push(patch[j].clone());
            j += 1;
        } else if j >= patch.len() {
            out.push(server_only[i].clone());
            i += 1;
        } else {
            let li = index(server_order, &server_only[i], key, element);
            let ri = index(server_order, &patch[j], key, element);
            match (li, ri) {
                (Some(l), Some(r)) if l < r => {
                    out.push(server_only[i].clone());
                    i += 1;
                }
                _ => {
                    out.push(patch[j].clone());
                    j += 1;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "smp_tests.rs"]
mod tests;
