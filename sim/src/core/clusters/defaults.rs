//! The cluster-level values AKS fills into a cluster it creates, by day (`data/cluster-shape.json`):
//! constant defaults written into the stored cluster at create (`kind`, `networkProfile`,
//! `storageProfile`, `securityProfile`, `oidcIssuerProfile`, `autoUpgradeProfile`, ...), kept by
//! an update that leaves them unset, and the [`Shape`] flags that change how the GET renders
//! (`resourceUID`, `eTag`, old spellings). Values decided per cluster (FQDN, resourceUID, the OIDC
//! issuer URL, the outbound IP) are derived from what the cluster stores (`render.rs`).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::timeline::{in_force, Day};

const EMBEDDED: &str = include_str!("../../../data/cluster-shape.json");

#[derive(Debug, Deserialize)]
struct Raw {
    fill: Vec<RawFill>,
    flags: Vec<RawFlag>,
}

#[derive(Debug, Deserialize)]
struct RawFill {
    path: String,
    value: Value,
    #[serde(default = "first_day")]
    since: String,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    when: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct RawFlag {
    flag: String,
    #[serde(default = "first_day")]
    since: String,
    #[serde(default)]
    until: Option<String>,
}

fn first_day() -> String {
    "2000-01-01".into()
}

fn raw() -> &'static Raw {
    static RAW: OnceLock<Raw> = OnceLock::new();
    RAW.get_or_init(|| {
        // Embedded and checked by this module's tests: a parse error is a build defect.
        serde_json::from_str(EMBEDDED).unwrap_or(Raw {
            fill: Vec::new(),
            flags: Vec::new(),
        })
    })
}

fn yes() -> bool {
    true
}

/// How a cluster's GET renders, decided at create from the day's AKS. The serde defaults are
/// today's AKS (a snapshot written before these flags existed reads as today's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    /// `properties.resourceUID` is answered.
    #[serde(default = "yes")]
    pub resource_uid: bool,
    /// The cluster's and its pools' `eTag`s are answered (once the first create finished).
    #[serde(default = "yes")]
    pub etag: bool,
    /// A provisioned cluster answers `loadBalancerSku: "Standard"`.
    #[serde(default)]
    pub load_balancer_sku_capitalised: bool,
    /// `sku.name` is answered `Basic` (AKS's old name of `Base`).
    #[serde(default)]
    pub sku_basic: bool,
    /// The cluster's first create has finished (AKS then answers the kubelet identity and the
    /// effective outbound IPs).
    #[serde(default)]
    pub provisioned: bool,
    /// A PUT's answer shows `nodeLabels: {}` on every pool without labels (GETs never do).
    #[serde(default = "yes")]
    pub put_answer_node_labels: bool,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape {
            resource_uid: true,
            etag: true,
            load_balancer_sku_capitalised: false,
            sku_basic: false,
            provisioned: false,
            put_answer_node_labels: true,
        }
    }
}

impl Shape {
    /// The flags in force on `day`.
    pub fn at(day: Day) -> Shape {
        let on = |name: &str| {
            raw()
                .flags
                .iter()
                .any(|f| f.flag == name && in_force(&f.since, f.until.as_deref(), day))
        };
        Shape {
            resource_uid: on("resourceUID"),
            etag: on("eTag"),
            load_balancer_sku_capitalised: on("loadBalancerSkuCapitalised"),
            sku_basic: on("skuBasic"),
            provisioned: false,
            put_answer_node_labels: on("putAnswerNodeLabels"),
        }
    }
}

/// The value at a dotted `path` of the request (`properties.x.y` or a top-level member).
fn lookup<'a>(
    top: &'a Map<String, Value>,
    props: &'a Map<String, Value>,
    path: &str,
) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut cur: &Value = if first == "properties" {
        let next = parts.next()?;
        props.get(next)?
    } else {
        top.get(first)?
    };
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

/// Fills `value` into `slot`: an absent slot takes it whole, objects member by member.
fn fill(slot: &mut Map<String, Value>, key: &str, value: &Value) {
    match (slot.get_mut(key), value) {
        (None, v) => {
            slot.insert(key.to_owned(), v.clone());
        }
        (Some(Value::Object(have)), Value::Object(want)) => {
            for (k, v) in want {
                fill(have, k, v);
            }
        }
        _ => {}
    }
}

fn slot_of<'a>(
    top: &'a mut Map<String, Value>,
    props: &'a mut Map<String, Value>,
    path: &'a str,
) -> Option<(&'a mut Map<String, Value>, &'a str)> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let (mut map, rest) = if parts.first() == Some(&"properties") {
        parts.remove(0);
        (props, parts)
    } else {
        (top, parts)
    };
    let (last, dirs) = rest.split_last()?;
    for d in dirs {
        map = map
            .entry((*d).to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()?;
    }
    Some((map, last))
}

/// Writes the day's create defaults into a new cluster's top-level members and properties.
pub fn fill_create(top: &mut Map<String, Value>, props: &mut Map<String, Value>, day: Day) {
    let request = (top.clone(), props.clone());
    for entry in &raw().fill {
        if !in_force(&entry.since, entry.until.as_deref(), day) {
            continue;
        }
        let matches = entry.when.iter().all(|(path, want)| {
            let have = lookup(&request.0, &request.1, path);
            match want {
                Value::Null => have.is_none(),
                w => have.is_some_and(|h| match (h.as_str(), w.as_str()) {
                    (Some(h), Some(w)) => h.eq_ignore_ascii_case(w),
                    _ => h == w,
                }),
            }
        });
        if !matches {
            continue;
        }
        if let Some((slot, key)) = slot_of(top, props, &entry.path) {
            fill(slot, key, &entry.value);
        }
    }
}

/// The paths `fill_create` may write: an update that leaves one unset keeps the stored value.
pub fn kept_paths() -> impl Iterator<Item = &'static str> {
    let mut seen: Vec<&'static str> = Vec::new();
    raw().fill.iter().filter_map(move |e| {
        let p = e.path.as_str();
        if seen.contains(&p) {
            None
        } else {
            seen.push(p);
            Some(p)
        }
    })
}

/// An update that leaves a server-filled member unset keeps the stored one (AKS does).
pub fn keep_on_update(
    top: &mut Map<String, Value>,
    props: &mut Map<String, Value>,
    old_top: &Map<String, Value>,
    old_props: &Map<String, Value>,
) {
    for path in kept_paths() {
        let Some(old) = lookup(old_top, old_props, path).cloned() else {
            continue;
        };
        if let Some((slot, key)) = slot_of(top, props, path) {
            fill(slot, key, &old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::timeline::parse_day;

    fn day(s: &str) -> Day {
        parse_day(s).expect("day")
    }

    #[test]
    fn data_parses_and_every_entry_names_a_source() {
        let v: Value = serde_json::from_str(EMBEDDED).expect("cluster-shape.json parses");
        for e in v["fill"]
            .as_array()
            .into_iter()
            .chain(v["flags"].as_array())
            .flatten()
        {
            assert!(
                e["sources"].as_array().is_some_and(|s| !s.is_empty()),
                "entry without sources: {e}"
            );
        }
        assert!(!raw().fill.is_empty());
    }

    #[test]
    fn today_fills_the_2026_shape() {
        let (mut top, mut props) = (Map::new(), Map::new());
        fill_create(&mut top, &mut props, day("2026-12-07"));
        assert_eq!(top["kind"], "Base");
        let np = &props["networkProfile"];
        assert_eq!(np["networkPlugin"], "azure");
        assert_eq!(np["networkPluginMode"], "overlay");
        assert_eq!(np["networkDataplane"], "azure");
        assert_eq!(np["networkPolicy"], "none");
        assert_eq!(np["podCidr"], "10.244.0.0/16");
        assert_eq!(
            np["loadBalancerProfile"]["backendPoolType"],
            "nodeIPConfiguration"
        );
        assert!(np.get("dockerBridgeCidr").is_none());
        assert_eq!(props["storageProfile"]["diskCSIDriver"]["enabled"], true);
        assert_eq!(props["oidcIssuerProfile"]["enabled"], true);
        assert_eq!(props["hostedSystemProfile"]["enabled"], false);
        assert_eq!(
            props["autoUpgradeProfile"]["nodeOSUpgradeChannel"],
            "NodeImage"
        );
        let s = Shape::at(day("2026-12-07"));
        assert!(s.resource_uid && s.etag && !s.sku_basic && !s.load_balancer_sku_capitalised);
    }

    #[test]
    fn older_days_fill_the_older_shape() {
        let (mut top, mut props) = (Map::new(), Map::new());
        fill_create(&mut top, &mut props, day("2022-10-25"));
        assert!(top.get("kind").is_none());
        let np = &props["networkProfile"];
        assert_eq!(np["networkPlugin"], "kubenet");
        assert!(np.get("networkPluginMode").is_none());
        assert_eq!(np["dockerBridgeCidr"], "172.17.0.1/16");
        assert!(props.get("workloadAutoScalerProfile").is_none());
        assert!(props.get("metricsProfile").is_none());
        assert_eq!(props["oidcIssuerProfile"]["enabled"], false);
        let s = Shape::at(day("2022-10-25"));
        assert!(!s.resource_uid && !s.etag && s.sku_basic && s.load_balancer_sku_capitalised);
    }

    #[test]
    fn the_request_wins_and_objects_fill_member_by_member() {
        let mut top = Map::new();
        let mut props: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "networkProfile": {"networkPlugin": "azure", "loadBalancerSku": "basic"},
            "oidcIssuerProfile": {"enabled": true}
        }))
        .expect("object");
        fill_create(&mut top, &mut props, day("2026-12-07"));
        let np = &props["networkProfile"];
        assert_eq!(np["networkPlugin"], "azure");
        assert!(
            np.get("networkPluginMode").is_none(),
            "azure without overlay stays so"
        );
        assert!(
            np.get("podCidr").is_none(),
            "pod subnet mode has no pod CIDR"
        );
        assert_eq!(np["networkDataplane"], "azure");
        assert_eq!(np["loadBalancerSku"], "basic");
        assert_eq!(props["oidcIssuerProfile"]["enabled"], true);
    }

    #[test]
    fn an_update_keeps_what_it_leaves_unset() {
        let (mut old_top, mut old_props) = (Map::new(), Map::new());
        fill_create(&mut old_top, &mut old_props, day("2026-12-07"));
        let (mut top, mut props) = (Map::new(), Map::new());
        props.insert(
            "oidcIssuerProfile".into(),
            serde_json::json!({"enabled": true}),
        );
        keep_on_update(&mut top, &mut props, &old_top, &old_props);
        assert_eq!(props["oidcIssuerProfile"]["enabled"], true);
        assert_eq!(props["storageProfile"], old_props["storageProfile"]);
        assert_eq!(top["kind"], "Base");
    }
}
