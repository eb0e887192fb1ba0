//! Reading a managedCluster PUT: type checks with ARM's `InvalidRequestContent` texts,
//! read-only input dropped, nulls dropped, the cluster, DNS-prefix and agent-pool name rules,
//! and the agent-pool defaults AKS fills in.

use serde_json::{Map, Value};

use super::mesh::MeshProfile;
use crate::core::error::{Error, Result};

/// `maxAgentPools` real AKS reports.
pub const MAX_AGENT_POOLS: u64 = 100;
/// Longest cluster name (spec pattern).
pub const CLUSTER_NAME_MAX_CHARS: usize = 63;

/// `properties` members the server owns; a client that sends them is ignored.
const READ_ONLY_PROPERTIES: &[&str] = &[
    "provisioningState",
    "powerState",
    "fqdn",
    "azurePortalFQDN",
    "privateFQDN",
    "currentKubernetesVersion",
    "maxAgentPools",
    "resourceUID",
    "status",
];
const READ_ONLY_POOL: &[&str] = &["currentOrchestratorVersion", "provisioningState", "eTag"];
const READ_ONLY_TOP: &[&str] = &["id", "name", "type", "systemData", "eTag", "etag"];

/// The spec's cluster name rule: `^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$`.
pub fn validate_name(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let inner = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
    let ok = !b.is_empty()
        && b.len() <= CLUSTER_NAME_MAX_CHARS
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(inner);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            format!(
                "The value '{name}' of parameter 'resourceName' is invalid. It must be 1-63 \
                 characters long, start and end with a letter or number, and contain only \
                 letters, numbers, underscores and hyphens."
            ),
            "resourceName",
        ))
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn type_error(path: &str, expected: &str, got: &Value) -> Error {
    Error::invalid_request_content(&format!(
        "Error converting value at path '{path}': expected {expected}, got {}",
        kind_of(got)
    ))
}

/// Drops `null` members recursively (responses omit nulls; a null means "not set").
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Type expectations of the members aksim reads (everything else is kept as sent).
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
    Obj,
    Arr,
}

fn expect(v: Option<&Value>, kind: Kind, path: &str) -> Result<()> {
    let Some(v) = v else { return Ok(()) };
    let ok = match kind {
        Kind::Str => v.is_string(),
        Kind::Bool => v.is_boolean(),
        Kind::Int => v.is_i64() || v.is_u64(),
        Kind::Obj => v.is_object(),
        Kind::Arr => v.is_array(),
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        Kind::Str => "a string",
        Kind::Bool => "a boolean",
        Kind::Int => "an integer",
        Kind::Obj => "an object",
        Kind::Arr => "an array",
    };
    Err(type_error(path, expected, v))
}

/// A PUT body, checked and split.
#[derive(Debug)]
pub struct PutBody {
    pub location: String,
    pub tags: Option<Map<String, Value>>,
    pub top: Map<String, Value>,
    pub properties: Map<String, Value>,
    /// `Some` when the request carried a `serviceMeshProfile`.
    pub mesh: Option<MeshProfile>,
    /// `kubernetesVersion` as sent; empty when absent or `""`.
    pub kubernetes_version: String,
    pub dns_prefix: Option<String>,
    pub fqdn_subdomain: Option<String>,
    pub node_resource_group: Option<String>,
    /// Whether `agentPoolProfiles` was present.
    pub has_pools: bool,
}

/// Reads a managedCluster PUT body. `location` is returned as sent (the caller normalises).
pub fn read_put(body: Value) -> Result<PutBody> {
    let mut body = body;
    strip_nulls(&mut body);
    let Value::Object(mut top) = body else {
        return Err(type_error("", "an object", &body));
    };
    for key in READ_ONLY_TOP {
        top.remove(*key);
    }
    let location = match top.remove("location") {
        None => return Err(Error::location_required()),
        Some(Value::String(s)) if s.trim().is_empty() => return Err(Error::location_required()),
        Some(Value::String(s)) => s,
        Some(other) => return Err(type_error("location", "a string", &other)),
    };
    let tags = match top.remove("tags") {
        None => None,
        Some(Value::Object(m)) => {
            for (k, v) in &m {
                expect(Some(v), Kind::Str, &format!("tags.{k}"))?;
            }
            Some(m)
        }
        Some(other) => return Err(type_error("tags", "an object", &other)),
    };
    for (key, kind) in [
        ("sku", Kind::Obj),
        ("identity", Kind::Obj),
        ("extendedLocation", Kind::Obj),
        ("kind", Kind::Str),
    ] {
        expect(top.get(key), kind, key)?;
    }
    if let Some(sku) = top.get("sku") {
        expect(sku.get("name"), Kind::Str, "sku.name")?;
        expect(sku.get("tier"), Kind::Str, "sku.tier")?;
    }
    if let Some(identity) = top.get_mut("identity").and_then(Value::as_object_mut) {
        expect(identity.get("type"), Kind::Str, "identity.type")?;
        identity.remove("principalId");
        identity.remove("tenantId");
    }
    let mut properties = match top.remove("properties") {
        None => Map::new(),
        Some(Value::Object(m)) => m,
        Some(other) => return Err(type_error("properties", "an object", &other)),
    };
    for key in READ_ONLY_PROPERTIES {
        properties.remove(*key);
    }
    for (key, kind) in [
        ("kubernetesVersion", Kind::Str),
        ("dnsPrefix", Kind::Str),
        ("fqdnSubdomain", Kind::Str),
        ("nodeResourceGroup", Kind::Str),
        ("enableRBAC", Kind::Bool),
        ("disableLocalAccounts", Kind::Bool),
        ("supportPlan", Kind::Str),
        ("addonProfiles", Kind::Obj),
        ("agentPoolProfiles", Kind::Arr),
        ("networkProfile", Kind::Obj),
        ("linuxProfile", Kind::Obj),
        ("windowsProfile", Kind::Obj),
        ("servicePrincipalProfile", Kind::Obj),
    ] {
        expect(properties.get(key), kind, &format!("properties.{key}"))?;
    }
    if let Some(Value::Object(addons)) = properties.get("addonProfiles") {
        for (name, addon) in addons {
            let path = format!("properties.addonProfiles.{name}");
            expect(Some(addon), Kind::Obj, &path)?;
            expect(addon.get("enabled"), Kind::Bool, &format!("{path}.enabled"))?;
            expect(addon.get("config"), Kind::Obj, &format!("{path}.config"))?;
        }
    }
    let has_pools = properties.contains_key("agentPoolProfiles");
    if let Some(Value::Array(pools)) = properties.get_mut("agentPoolProfiles") {
        for (i, pool) in pools.iter_mut().enumerate() {
            let path = format!("properties.agentPoolProfiles[{i}]");
            let Value::Object(p) = pool else {
                return Err(type_error(&path, "an object", pool));
            };
            for key in READ_ONLY_POOL {
                p.remove(*key);
            }
            for (key, kind) in [
                ("name", Kind::Str),
                ("count", Kind::Int),
                ("vmSize", Kind::Str),
                ("osType", Kind::Str),
                ("osSKU", Kind::Str),
                ("mode", Kind::Str),
                ("type", Kind::Str),
                ("orchestratorVersion", Kind::Str),
                ("maxPods", Kind::Int),
                ("osDiskSizeGB", Kind::Int),
            ] {
                expect(p.get(key), kind, &format!("{path}.{key}"))?;
            }
        }
    }
    let mesh = super::mesh::parse(properties.get("serviceMeshProfile"))?;
    properties.remove("serviceMeshProfile");
    let string = |key: &str| {
        properties
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(PutBody {
        location,
        tags,
        kubernetes_version: string("kubernetesVersion").unwrap_or_default(),
        dns_prefix: string("dnsPrefix").filter(|s| !s.is_empty()),
        fqdn_subdomain: string("fqdnSubdomain").filter(|s| !s.is_empty()),
        node_resource_group: string("nodeResourceGroup").filter(|s| !s.is_empty()),
        top,
        properties,
        mesh,
        has_pools,
    })
}

/// A cluster PUT's pools: at least one, names unique. Every other pool rule (names, counts,
/// modes, versions, Gateway pools) is `pools::rules`, run on the pools with their defaults.
pub fn validate_pools(properties: &Map<String, Value>, creating: bool) -> Result<()> {
    let pools = super::pools::profiles(properties);
    if pools.is_empty() {
        if creating || properties.contains_key("agentPoolProfiles") {
            return Err(Error::invalid_parameter(
                "A managed cluster needs at least one agent pool in \
                 properties.agentPoolProfiles, and at least one of them in mode 'System'.",
                "agentPoolProfiles",
            ));
        }
        return Ok(());
    }
    let mut names: Vec<&str> = Vec::new();
    for pool in pools {
        let name = super::pools::name_of(pool);
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return Err(Error::invalid_parameter(
                format!("Agent pool name '{name}' is used more than once."),
                "agentPoolProfiles.name",
            ));
        }
        names.push(name);
    }
    Ok(())
}

/// Fills the pool defaults AKS fills (what az sends empty included): `pools::fill_defaults`
/// for each pool of a cluster PUT.
pub fn fill_pool_defaults(
    properties: &mut Map<String, Value>,
    kubernetes_version: &str,
    dated: &Map<String, Value>,
    images: &std::collections::BTreeMap<String, String>,
) {
    let cluster = properties.clone();
    let Some(pools) = super::pools::profiles_mut(properties) else {
        return;
    };
    for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
        super::pools::fill_defaults(
            pool,
            kubernetes_version,
            super::pools::Origin::Cluster,
            dated,
            &cluster,
            images,
        );
    }
}

/// The dnsPrefix az would have generated: `<name[..10]>-<rg[..16]>-<sub[..6]>`.
pub fn default_dns_prefix(name: &str, resource_group: &str, subscription: &str) -> String {
    let clean = |s: &str, n: usize| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(n)
            .collect()
    };
    let mut name_part = clean(name, 10);
    if !name_part.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name_part = format!("a{name_part}").chars().take(10).collect();
    }
    format!(
        "{name_part}-{}-{}",
        clean(resource_group, 16),
        &subscription[..6.min(subscription.len())]
    )
}

/// dnsPrefix rule: 1-54 letters, digits and hyphens, starting and ending alphanumeric.
pub fn validate_dns_prefix(prefix: &str) -> Result<()> {
    let b = prefix.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 54
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            format!(
                "DNS prefix '{prefix}' is invalid. It must be 1-54 characters long, contain only \
                 letters, numbers and hyphens, and start and end with a letter or number."
            ),
            "dnsPrefix",
        ))
    }
}
