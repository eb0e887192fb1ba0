//! Server-side apply and `metadata.managedFields`, as kube-apiserver keeps them: every write
//! through the API records which manager set which fields (`operation: Update`, the manager
//! from `?fieldManager=` or the User-Agent), and `PATCH` with `application/apply-patch+yaml`
//! merges the applied configuration (`operation: Apply`), refusing with a 409 listing the
//! conflicting managers when it would change a field another manager owns, unless
//! `?force=true` takes the field over. Field sets are `FieldsV1` (`f:<field>`, `k:{<keys>}`,
//! `v:<value>`, `.`); which lists are keyed by what comes from `data/k8s-patch-strategies.json`
//! (`+listType`, `+listMapKey`, `+structType=atomic`, `+mapType=atomic` of k8s.io/api).

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::catalog::ResourceType;
use super::error::Error;
use super::fields_v1::{decode, encode, path_string, Path, Set};
use super::smp::{self, ApplyMeta, Schema};
use super::{str_at, timestamp, Plane, WriteCtx};

/// Kube keeps at most 128 bytes of a manager's name.
const MANAGER_MAX: usize = 128;

/// The manager of a write (`?fieldManager=`, else the User-Agent's product); `NONE` for the
/// simulator's own writes, which record no managed fields. `Copy`, so a `WriteCtx` stays so.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FieldManager {
    bytes: [u8; MANAGER_MAX],
    len: u8,
}

impl FieldManager {
    pub const NONE: FieldManager = FieldManager {
        bytes: [0; MANAGER_MAX],
        len: 0,
    };

    /// `name` cut to 128 bytes (at a character boundary).
    pub fn new(name: &str) -> FieldManager {
        let mut end = name.len().min(MANAGER_MAX);
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0; MANAGER_MAX];
        bytes[..end].copy_from_slice(&name.as_bytes()[..end]);
        FieldManager {
            bytes,
            len: end as u8,
        }
    }

    /// kube-apiserver's default: the User-Agent up to its first `/`.
    pub fn from_user_agent(ua: &str) -> FieldManager {
        FieldManager::new(ua.split('/').next().unwrap_or(""))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    pub fn is_none(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Debug for FieldManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Go maps among the built-in kinds' fields: an `Update` that creates one owns it too (`.`).
const MAP_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "data",
    "binaryData",
    "stringData",
    "matchLabels",
    "limits",
    "requests",
];

/// A list-map key field's value as kube-apiserver sees it after defaulting (`protocol` of a
/// container, service or endpoint port is `TCP` when not given).
fn key_field<'a>(item: &'a Value, field: &str) -> Option<&'a Value> {
    match item.get(field) {
        Some(v) => Some(v),
        None if field == "protocol" => Some(tcp()),
        None => None,
    }
}

fn tcp() -> &'static Value {
    static TCP: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    TCP.get_or_init(|| Value::String("TCP".to_owned()))
}

fn item_key(item: &Value, keys: &[String]) -> Option<String> {
    item.as_object()?;
    if !keys.iter().any(|k| item.get(k.as_str()).is_some()) {
        return None;
    }
    let mut sorted: Vec<&String> = keys
        .iter()
        .filter(|k| key_field(item, k).is_some())
        .collect();
    sorted.sort();
    let mut key = Map::new();
    for k in sorted {
        key.insert(k.clone(), key_field(item, k)?.clone());
    }
    Some(format!("k:{}", Value::Object(key)))
}

/// The fields of `v` (at `path`): leaves (scalars, atomic values, set items) and the other
/// members (list-map items).
fn walk(
    v: &Value,
    schema: Schema,
    meta: ApplyMeta,
    path: &mut Path,
    leaves: &mut Set,
    nodes: &mut Set,
) {
    match v {
        Value::Object(m) if !meta.atomic && !m.is_empty() => {
            walk_fields(m, schema, path, leaves, nodes)
        }
        Value::Array(items) if meta.list_type == "map" => {
            for item in items {
                let Some(key) = item_key(item, meta.list_keys) else {
                    continue;
                };
                path.push(key);
                nodes.insert(path.clone());
                if let Value::Object(m) = item {
                    walk_fields(m, schema, path, leaves, nodes);
                }
                path.pop();
            }
        }
        Value::Array(items) if meta.list_type == "set" => {
            for item in items {
                path.push(format!("v:{item}"));
                leaves.insert(path.clone());
                path.pop();
            }
        }
        _ => {
            leaves.insert(path.clone());
        }
    }
}

fn walk_fields(
    m: &Map<String, Value>,
    schema: Schema,
    path: &mut Path,
    leaves: &mut Set,
    nodes: &mut Set,
) {
    for (k, child) in m {
        let (sub, meta) = schema.apply_field(k);
        path.push(format!("f:{k}"));
        walk(child, sub, meta, path, leaves, nodes);
        path.pop();
    }
}

/// The fields a manager can own in `object`: everything but `apiVersion`, `kind`, `status`
/// and the system's metadata.
fn object_set(object: &Value, schema: Schema) -> (Set, Set) {
    let (mut leaves, mut nodes) = (Set::new(), Set::new());
    let Some(m) = object.as_object() else {
        return (leaves, nodes);
    };
    let mut path = Vec::new();
    for (k, child) in m {
        match k.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                let (meta_schema, _) = schema.apply_field("metadata");
                path.push("f:metadata".to_owned());
                for f in ["labels", "annotations", "finalizers", "ownerReferences"] {
                    if let Some(v) = child.get(f) {
                        let (sub, meta) = meta_schema.apply_field(f);
                        path.push(format!("f:{f}"));
                        walk(v, sub, meta, &mut path, &mut leaves, &mut nodes);
                        path.pop();
                    }
                }
                path.pop();
            }
            _ => {
                let (sub, meta) = schema.apply_field(k);
                path.push(format!("f:{k}"));
                walk(child, sub, meta, &mut path, &mut leaves, &mut nodes);
                path.pop();
            }
        }
    }
    (leaves, nodes)
}

fn step<'a>(cur: &'a Value, e: &str) -> Option<&'a Value> {
    if let Some(f) = e.strip_prefix("f:") {
        return cur.get(f);
    }
    let items = cur.as_array()?;
    if let Some(k) = e.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        return items
            .iter()
            .find(|i| key.iter().all(|(kf, kv)| key_field(i, kf) == Some(kv)));
    }
    let v: Value = serde_json::from_str(e.strip_prefix("v:")?).ok()?;
    items.iter().find(|i| **i == v)
}

fn value_at<'a>(object: &'a Value, path: &Path) -> Option<&'a Value> {
    path.iter().try_fold(object, |cur, e| step(cur, e))
}

fn remove_at(object: &mut Value, path: &Path) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut cur = object;
    for e in parent_path {
        let next = if let Some(f) = e.strip_prefix("f:") {
            cur.get_mut(f)
        } else {
            let Some(i) = cur.as_array().and_then(|items| {
                let target = step(&Value::Array(items.clone()), e)?.clone();
                items.iter().position(|x| *x == target)
            }) else {
                return;
            };
            cur.get_mut(i)
        };
        let Some(next) = next else {
            return;
        };
        cur = next;
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.shift_remove(f);
        }
    } else if let Some(target) = step(cur, last).cloned() {
        if let Some(items) = cur.as_array_mut() {
            items.retain(|x| *x != target);
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Value,
    set: Set,
    /// Entries of subresources and fields aksim does not read, kept as they were.
    rest: Map<String, Value>,
}

fn read_entries(object: &Value) -> Vec<Entry> {
    let Some(list) = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let m = e.as_object()?;
            let mut set = Set::new();
            decode(
                m.get("fieldsV1").unwrap_or(&Value::Null),
                &mut Vec::new(),
                &mut set,
            );
            let mut rest = m.clone();
            for k in [
                "manager",
                "operation",
                "apiVersion",
                "time",
                "fieldsType",
                "fieldsV1",
            ] {
                rest.shift_remove(k);
            }
            Some(Entry {
                manager: str_at(e, "/manager").to_owned(),
                operation: str_at(e, "/operation").to_owned(),
                api_version: str_at(e, "/apiVersion").to_owned(),
                time: m.get("time").cloned().unwrap_or(Value::Null),
                set,
                rest,
            })
        })
        .collect()
}

fn write_entries(object: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.set.is_empty())
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".to_owned(), json!(e.manager));
            m.insert("operation".to_owned(), json!(e.operation));
            m.insert("apiVersion".to_owned(), json!(e.api_version));
            if !e.time.is_null() {
                m.insert("time".to_owned(), e.time.clone());
            }
            m.insert("fieldsType".to_owned(), json!("FieldsV1"));
            m.insert("fieldsV1".to_owned(), encode(&e.set));
            m.extend(e.rest.clone());
            Value::Object(m)
        })
        .collect();
    if list.is_empty() {
        if let Some(m) = object["metadata"].as_object_mut() {
            m.shift_remove("managedFields");
        }
    } else {
        object["metadata"]["managedFields"] = Value::Array(list);
    }
}

fn schema_of(api_version: &str, kind: &str) -> Schema {
    smp::schema_for(api_version, kind).unwrap_or_else(Schema::untyped)
}

/// Records an `Update` by `manager` that turned `old` (none: a create) into `new`: the manager
/// owns what it added or changed, and every other manager loses those fields.
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    api_version: &str,
    kind: &str,
    manager: FieldManager,
    now: OffsetDateTime,
) {
    if manager.is_none() {
        return;
    }
    let schema = schema_of(api_version, kind);
    let (new_leaves, new_nodes) = object_set(new, schema);
    let (old_leaves, old_nodes) = old.map(|o| object_set(o, schema)).unwrap_or_default();
    let mut changed = Set::new();
    for p in &new_leaves {
        if old.and_then(|o| value_at(o, p)) != value_at(new, p) {
            changed.insert(p.clone());
        }
    }
    for p in new_nodes.difference(&old_nodes) {
        changed.insert(p.clone());
    }
    // A map the write created is the manager's too.
    let created_maps: Vec<Path> = changed
        .iter()
        .flat_map(|p| (1..p.len()).map(move |i| p[..i].to_vec()))
        .filter(|q| {
            q.last()
                .and_then(|e| e.strip_prefix("f:"))
                .is_some_and(|f| MAP_FIELDS.contains(&f))
                && old.and_then(|o| value_at(o, q)).is_none()
        })
        .collect();
    changed.extend(created_maps);
    let removed: Set = old_leaves
        .difference(&new_leaves)
        .chain(old_nodes.difference(&new_nodes))
        .cloned()
        .collect();
    if changed.is_empty() && removed.is_empty() {
        return;
    }
    let mut entries = read_entries(new);
    let mine = |e: &Entry| {
        e.manager == manager.as_str() && e.operation == "Update" && e.api_version == api_version
    };
    for e in entries.iter_mut().filter(|e| !mine(e)) {
        e.set
            .retain(|p| !changed.contains(p) && !removed.contains(p));
    }
    match entries.iter_mut().find(|e| mine(e)) {
        Some(e) => {
            e.set.extend(changed);
            e.set.retain(|p| !removed.contains(p));
            e.time = json!(timestamp(now));
        }
        None => entries.push(Entry {
            manager: manager.as_str().to_owned(),
            operation: "Update".to_owned(),
            api_version: api_version.to_owned(),
            time: json!(timestamp(now)),
            set: changed,
            rest: Map::new(),
        }),
    }
    write_entries(new, &entries);
}

/// How kube names a manager in a conflict: `"kubectl"`, `"x" using apps/v1` for an updater.
fn manager_string(e: &Entry) -> String {
    if e.operation == "Update" {
        format!(
            "{} using {}",
            super::error::quote(&e.manager),
            e.api_version
        )
    } else {
        super::error::quote(&e.manager)
    }
}

fn conflict_error(entries: &[Entry], conflicts: &[(usize, Path)]) -> Error {
    let causes: Vec<(String, String)> = conflicts
        .iter()
        .map(|(i, p)| {
            (
                format!("conflict with {}", manager_string(&entries[*i])),
                path_string(p),
            )
        })
        .collect();
    let message = if let [(i, p)] = conflicts {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            manager_string(&entries[*i]),
            path_string(p)
        )
    } else {
        let mut managers: Vec<String> = conflicts
            .iter()
            .map(|(i, _)| manager_string(&entries[*i]))
            .collect();
        managers.sort();
        managers.dedup();
        let mut lines = Vec::new();
        for m in &managers {
            lines.push(format!("conflicts with {m}:"));
            for (i, p) in conflicts {
                if manager_string(&entries[*i]) == *m {
                    lines.push(format!("- {}", path_string(p)));
                }
            }
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    Error::apply_conflict(message, causes)
}

/// The fields of `live`'s `kubectl.kubernetes.io/last-applied-configuration` that still have
/// the live values (kube's `allowedConflictsFromLastApplied`); none without the annotation.
fn last_applied_fields(live: &Value, api_version: &str, schema: Schema) -> Set {
    let Some(text) = live
        .pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration")
        .and_then(Value::as_str)
    else {
        return Set::new();
    };
    let Ok(last) = serde_json::from_str::<Value>(text) else {
        return Set::new();
    };
    if last.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return Set::new();
    }
    let (leaves, nodes) = object_set(&last, schema);
    leaves
        .into_iter()
        .filter(|p| value_at(&last, p) == value_at(live, p))
        .chain(nodes.into_iter().filter(|p| value_at(live, p).is_some()))
        .collect()
}

/// kube's lastAppliedUpdater: a server-side apply by `kubectl` of an object that carries the
/// client-side annotation rewrites it to the applied configuration (Go's key order), so
/// client-side apply can take over again.
fn sync_last_applied(merged: &mut Value, applied: &Value, manager: FieldManager) {
    const KEY: &str = "kubectl.kubernetes.io/last-applied-configuration";
    if manager.as_str() != "kubectl"
        || merged
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(KEY))
            .is_none()
    {
        return;
    }
    let mut config = applied.clone();
    if let Some(a) = config
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.shift_remove(KEY);
        if a.is_empty() {
            if let Some(m) = config["metadata"].as_object_mut() {
                m.shift_remove("annotations");
            }
        }
    }
    merged["metadata"]["annotations"][KEY] = Value::String(sorted(&config).to_string());
}

/// `v` with every object's keys in order, as Go encodes a map.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Server-side apply's merge: objects field by field, list-maps by their keys, sets as sets,
/// everything else (atomic lists, atomic structs and maps, scalars) the applied value.
fn merge(live: &Value, applied: &Value, schema: Schema, meta: ApplyMeta) -> Value {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) if !meta.atomic => {
            let mut out = l.clone();
            for (k, v) in a {
                if k == "managedFields" || k == "resourceVersion" {
                    continue;
                }
                if v.is_null() {
                    out.shift_remove(k);
                    continue;
                }
                let (sub, m) = schema.apply_field(k);
                let merged = merge(l.get(k).unwrap_or(&Value::Null), v, sub, m);
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(a)) if meta.list_type == "map" => {
            let mut out = l.clone();
            for item in a {
                let key = item_key(item, meta.list_keys);
                let pos = key.as_ref().and_then(|k| {
                    out.iter()
                        .position(|x| item_key(x, meta.list_keys).as_ref() == Some(k))
                });
                match pos {
                    Some(i) => {
                        out[i] = merge(&out[i], item, schema, ApplyMeta::default());
                    }
                    None => out.push(item.clone()),
                }
            }
            Value::Array(out)
        }
        (Value::Array(l), Value::Array(a)) if meta.list_type == "set" => {
            let mut out = l.clone();
            out.extend(a.iter().filter(|x| !l.contains(x)).cloned());
            Value::Array(out)
        }
        _ => applied.clone(),
    }
}

impl Plane {
    /// Server-side apply of `applied` by `ctx.manager` (`PATCH` with
    /// `application/apply-patch+yaml`): creates the object when there is none. Returns the
    /// object and whether it was created.
    #[allow(clippy::too_many_arguments)] // the URL's four parts, the configuration, force, the context
    pub fn server_side_apply(
        &mut self,
        rt: &ResourceType,
        version: &str,
        namespace: &str,
        name: &str,
        applied: Value,
        force: bool,
        ctx: WriteCtx,
    ) -> Result<(Value, bool), Error> {
        self.materialise();
        if !applied.is_object() {
            return Err(Error::bad_request(
                "error decoding YAML: the applied configuration must be an object",
            ));
        }
        if applied
            .get("metadata")
            .is_some_and(|m| !m.is_object() && !m.is_null())
        {
            return Err(Error::bad_request("metadata must be a JSON object"));
        }
        let given = str_at(&applied, "/metadata/name");
        if !given.is_empty() && given != name {
            return Err(Error::bad_request(format!(
                "the name of the object ({given}) does not match the name on the URL ({name})"
            )));
        }
        let manager = ctx.manager;
        let api_version = rt.api_version(version);
        let schema = schema_of(&api_version, &rt.kind);
        let (leaves, nodes) = object_set(&applied, schema);
        let applied_set: Set = leaves.union(&nodes).cloned().collect();
        let inner = WriteCtx {
            manager: FieldManager::NONE,
            ..ctx
        };
        let entry = |set: Set, time: Value| Entry {
            manager: manager.as_str().to_owned(),
            operation: "Apply".to_owned(),
            api_version: api_version.clone(),
            time,
            set,
            rest: Map::new(),
        };
        let live = match self.get(rt, namespace, name) {
            Ok(live) => live,
            Err(Error::NotFound { .. }) => {
                let mut object = applied;
                if let Some(o) = object.as_object_mut() {
                    o.remove("status");
                }
                if !object.get("metadata").is_some_and(Value::is_object) {
                    object["metadata"] = json!({});
                }
                object["metadata"]["name"] = json!(name);
                let set = applied_set;
                write_entries(&mut object, &[entry(set, json!(timestamp(ctx.now)))]);
                let created = self.create(rt, version, namespace, object, inner)?;
                return Ok((created, true));
            }
            Err(e) => return Err(e),
        };
        let mut entries = read_entries(&live);
        let is_mine = |e: &Entry| e.manager == manager.as_str() && e.operation == "Apply";
        let mut all: Vec<(usize, Path)> = Vec::new();
        for (i, e) in entries.iter().enumerate().filter(|(_, e)| !is_mine(e)) {
            for p in e.set.intersection(&leaves) {
                if value_at(&live, p) != value_at(&applied, p) {
                    all.push((i, p.clone()));
                }
            }
        }
        // kube's lastAppliedManager: `kubectl` moving from client-side to server-side apply
        // takes, as if forced, the fields its last-applied annotation still describes.
        let mut conflicts = all.clone();
        let mut force = force;
        if !conflicts.is_empty() && !force && manager.as_str() == "kubectl" {
            let allowed = last_applied_fields(&live, &api_version, schema);
            conflicts.retain(|(_, p)| !allowed.contains(p));
            force = conflicts.is_empty();
        }
        if !conflicts.is_empty() && !force {
            return Err(conflict_error(&entries, &conflicts));
        }
        if force {
            for (i, p) in &all {
                entries[*i].set.remove(p);
            }
        }
        let mine = entries.iter().position(is_mine);
        let previous = mine.map(|i| entries[i].set.clone()).unwrap_or_default();
        let mut merged = merge(&live, &applied, schema, ApplyMeta::default());
        if let Some(o) = merged.as_object_mut() {
            o.insert(
                "status".to_owned(),
                live.get("status").cloned().unwrap_or(Value::Null),
            );
            if live.get("status").is_none() {
                o.shift_remove("status");
            }
        }
        // What this manager applied before and no longer does, and nobody else owns, goes.
        let others: Set = entries
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != mine)
            .flat_map(|(_, e)| e.set.iter().cloned())
            .collect();
        for p in previous.difference(&applied_set) {
            let owned_below = others.iter().any(|o| o.starts_with(p));
            if !owned_below {
                remove_at(&mut merged, p);
            }
        }
        let time = match mine {
            Some(i) if entries[i].set == applied_set => entries[i].time.clone(),
            _ => json!(timestamp(ctx.now)),
        };
        match mine {
            Some(i) => entries[i] = entry(applied_set, time),
            None => entries.push(entry(applied_set, time)),
        }
        write_entries(&mut merged, &entries);
        sync_last_applied(&mut merged, &applied, manager);
        let rv = str_at(&applied, "/metadata/resourceVersion");
        merged["metadata"]["resourceVersion"] = if rv.is_empty() {
            live["metadata"]["resourceVersion"].clone()
        } else {
            json!(rv)
        };
        let updated = self.replace(rt, version, namespace, name, merged, inner)?;
        Ok((updated, false))
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
