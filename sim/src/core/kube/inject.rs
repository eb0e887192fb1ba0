//! Sidecar injection, from one template (`data/istio-sidecar.json`): the mutating admission
//! step applied to new pods, and the `istio-sidecar-injector-<rev>` / `istio-<rev>` configmap
//! contents that `istioctl kube-inject -i aks-istio-system -r <rev>` reads.
//!
//! Injection rules of the add-on (docs `istio-deploy-addon.md`, `../shared/reference/ARM-CONTRACT.md` §6):
//! - a namespace carrying an `istio-injection` label is skipped (the add-on has no webhook for
//!   it, and that label wins over `istio.io/rev` in Istio's selectors);
//! - otherwise the namespace label `istio.io/rev=<installed revision>`, or (in a namespace
//!   without that label) the pod label `istio.io/rev=<installed revision>`, selects a revision;
//! - `sidecar.istio.io/inject: "false"` (pod label or annotation) opts out; `"true"` alone
//!   does not opt in;
//! - a revision that is not installed injects nothing; Windows pods are never injected.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::admission::ADDON_NAMESPACE;
use super::MeshView;

fn template() -> &'static Value {
    static T: OnceLock<Value> = OnceLock::new();
    T.get_or_init(|| {
        serde_json::from_str(include_str!("../../../data/istio-sidecar.json"))
            .expect("data/istio-sidecar.json is valid (checked by a unit test)")
    })
}

/// Istio patch version a revision's proxy runs (`asm-1-17` → `1.17.8`); unknown revisions get
/// `<major>.<minor>.0`.
pub fn proxy_version(rev: &str) -> String {
    if let Some(v) = template()
        .pointer(&format!("/proxyVersions/{rev}"))
        .and_then(Value::as_str)
    {
        return v.to_owned();
    }
    match super::admission::revision_number(rev) {
        Some((a, b)) => format!("{a}.{b}.0"),
        None => "1.0.0".to_owned(),
    }
}

/// The proxy image of a revision, e.g. `mcr.microsoft.com/oss/istio/proxyv2:1.17.8-distroless`.
pub fn proxy_image(rev: &str) -> String {
    let t = template();
    format!(
        "{}/proxyv2:{}{}",
        t["hub"].as_str().unwrap_or(""),
        proxy_version(rev),
        t["imageSuffix"].as_str().unwrap_or("")
    )
}

/// The istiod image of a revision.
pub fn pilot_image(rev: &str) -> String {
    let t = template();
    format!(
        "{}/pilot:{}{}",
        t["hub"].as_str().unwrap_or(""),
        proxy_version(rev),
        t["imageSuffix"].as_str().unwrap_or("")
    )
}

fn fill(v: &Value, rev: &str) -> Value {
    let text = v
        .to_string()
        .replace("{{REVISION}}", rev)
        .replace("{{IMAGE}}", &proxy_image(rev))
        .replace("{{PROXY_VERSION}}", &proxy_version(rev))
        .replace("{{NAMESPACE}}", ADDON_NAMESPACE);
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// What injection adds for `rev`: (init containers, containers, volumes).
pub fn sidecar_parts(rev: &str, cni: bool) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let t = template();
    let init = if cni {
        fill(&t["cniValidationContainer"], rev)
    } else {
        fill(&t["initContainer"], rev)
    };
    let proxy = fill(&t["proxyContainer"], rev);
    let volumes = fill(&t["volumes"], rev)
        .as_array()
        .cloned()
        .unwrap_or_default();
    (vec![init], vec![proxy], volumes)
}

/// The default MeshConfig YAML of a revision (configmap `istio-<rev>`, key `mesh`).
pub fn mesh_config_yaml(rev: &str) -> String {
    fill(&template()["meshConfig"], rev)
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// The data of configmap `istio-sidecar-injector-<rev>`: `config` (injection config YAML with
/// the rendered sidecar template) and `values` (JSON).
pub fn injector_configmap_data(rev: &str, cni: bool) -> Value {
    let (init, containers, volumes) = sidecar_parts(rev, cni);
    let sidecar = json!({
        "spec": {"initContainers": init, "containers": containers, "volumes": volumes}
    });
    let sidecar_yaml = yaml_serde::to_string(&sidecar).unwrap_or_default();
    let config = json!({
        "policy": "enabled",
        "alwaysInjectSelector": [],
        "neverInjectSelector": [],
        "injectedAnnotations": {},
        "defaultTemplates": ["sidecar"],
        "templates": {"sidecar": sidecar_yaml},
    });
    let values = json!({
        "global": {
            "hub": template()["hub"],
            "tag": format!("{}{}", proxy_version(rev), template()["imageSuffix"].as_str().unwrap_or("")),
            "istioNamespace": ADDON_NAMESPACE,
            "proxy": {"image": "proxyv2", "clusterDomain": "cluster.local"},
            "proxy_init": {"image": "proxyv2"}
        },
        "revision": rev,
        "istio_cni": {"enabled": cni, "chained": cni},
        "sidecarInjectorWebhook": {"enableNamespacesByDefault": false, "rewriteAppHTTPProbe": true}
    });
    json!({
        "config": yaml_serde::to_string(&config).unwrap_or_default(),
        "values": serde_json::to_string_pretty(&values).unwrap_or_default(),
    })
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// Which installed revision a new pod gets, if any.
pub fn revision_for(
    pod: &Value,
    namespace_labels: &BTreeMap<String, String>,
    mesh: &MeshView,
) -> Option<String> {
    if !mesh.enabled {
        return None;
    }
    if str_at(pod, "/spec/nodeSelector/kubernetes.io~1os") == Some("windows") {
        return None;
    }
    if str_at(pod, "/metadata/labels/sidecar.istio.io~1inject") == Some("false")
        || str_at(pod, "/metadata/annotations/sidecar.istio.io~1inject") == Some("false")
    {
        return None;
    }
    if namespace_labels.contains_key("istio-injection") {
        return None;
    }
    let rev = match namespace_labels.get("istio.io/rev") {
        Some(rev) => rev.clone(),
        None => str_at(pod, "/metadata/labels/istio.io~1rev")?.to_owned(),
    };
    mesh.revisions.contains(&rev).then_some(rev)
}

/// Injects the sidecar of `rev` as the add-on of `mesh` runs it: `istio-validation` under
/// `CNIChaining` (else `istio-init`), and `istio-proxy` as a native sidecar (an init container
/// with `restartPolicy: Always`) when `rev` runs native sidecars.
pub fn inject_for(pod: &mut Value, rev: &str, mesh: &MeshView) {
    let cni = mesh.proxy_redirection.as_deref() == Some("CNIChaining");
    inject_shaped(pod, rev, cni, mesh.native_sidecars.iter().any(|r| r == rev));
}

/// Injects the classic sidecar of `rev` into `pod` (in place).
pub fn inject(pod: &mut Value, rev: &str, cni: bool) {
    inject_shaped(pod, rev, cni, false);
}

fn inject_shaped(pod: &mut Value, rev: &str, cni: bool, native: bool) {
    let (mut init, mut containers, volumes) = sidecar_parts(rev, cni);
    if native {
        // Istio's native sidecar: the proxy goes after the init container, restarted always.
        for mut c in containers.drain(..) {
            c["restartPolicy"] = json!("Always");
            init.push(c);
        }
    }
    let name_of = |v: &Value| v["name"].as_str().unwrap_or("").to_owned();
    let status = json!({
        "initContainers": init.iter().map(name_of).collect::<Vec<_>>(),
        "containers": if containers.is_empty() { Value::Null } else { json!(containers.iter().map(name_of).collect::<Vec<_>>()) },
        "volumes": volumes.iter().map(name_of).collect::<Vec<_>>(),
        "imagePullSecrets": null,
        "revision": rev,
    });
    let first_app = pod
        .pointer("/spec/containers/0/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let labels = pod
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let canonical = labels
        .get("service.istio.io/canonical-name")
        .or_else(|| labels.get("app.kubernetes.io/name"))
        .or_else(|| labels.get("app"))
        .and_then(Value::as_str)
        .map_or(pod_name, str::to_owned);
    let canonical_rev = labels
        .get("service.istio.io/canonical-revision")
        .or_else(|| labels.get("app.kubernetes.io/version"))
        .or_else(|| labels.get("version"))
        .and_then(Value::as_str)
        .unwrap_or("latest")
        .to_owned();

    let spec = &mut pod["spec"];
    push_all(spec, "initContainers", init);
    if !containers.is_empty() {
        push_all(spec, "containers", containers);
    }
    push_all(spec, "volumes", volumes);
    let meta = &mut pod["metadata"];
    if !meta["labels"].is_object() {
        meta["labels"] = json!({});
    }
    let l = &mut meta["labels"];
    l["security.istio.io/tlsMode"] = json!("istio");
    l["service.istio.io/canonical-name"] = json!(canonical);
    l["service.istio.io/canonical-revision"] = json!(canonical_rev);
    l["istio.io/rev"] = json!(rev);
    if !meta["annotations"].is_object() {
        meta["annotations"] = json!({});
    }
    let a = &mut meta["annotations"];
    a["sidecar.istio.io/status"] = json!(status.to_string());
    a["istio.io/rev"] = json!(rev);
    a["kubectl.kubernetes.io/default-container"] = json!(first_app);
    a["kubectl.kubernetes.io/default-logs-container"] = json!(first_app);
    a["prometheus.io/path"] = json!("/stats/prometheus");
    a["prometheus.io/port"] = json!("15020");
    a["prometheus.io/scrape"] = json!("true");
}

fn push_all(spec: &mut Value, key: &str, items: Vec<Value>) {
    if !spec[key].is_array() {
        spec[key] = json!([]);
    }
    if let Some(list) = spec[key].as_array_mut() {
        list.extend(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_loads_and_fills() {
        let (init, containers, volumes) = sidecar_parts("asm-1-17", false);
        assert_eq!(init[0]["name"], "istio-init");
        assert_eq!(
            containers[0]["image"],
            "mcr.microsoft.com/oss/istio/proxyv2:1.17.8-distroless"
        );
        assert!(!volumes.is_empty());
        assert!(mesh_config_yaml("asm-1-17").contains("istiod-asm-1-17.aks-istio-system"));
        let data = injector_configmap_data("asm-1-17", true);
        assert!(data["config"]
            .as_str()
            .unwrap()
            .contains("istio-validation"));
    }
}
