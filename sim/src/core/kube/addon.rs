//! The add-on's in-cluster objects as a pure function of the [`MeshView`]
//! ([`addon_objects`]); `Plane::reconcile_addon` diffs the store against it.
//!
//! Enabled: the Istio CRDs, namespace `aks-istio-system` (per revision: deployment
//! `istiod-<rev>`, configmaps `istio-<rev>` and `istio-sidecar-injector-<rev>`, the injector
//! and validator webhook configurations; secret `cacerts` with a plug-in CA; CNI daemonset with
//! `CNIChaining`), `aks-istio-ingress` with the LoadBalancer services and per-revision gateway
//! deployments, and each egress gateway's namespace with its ClusterIP service and deployments.
//! Disabled: nothing.

use crate::core::timeline::admission::AdmissionPolicy;
use serde_json::{json, Value};

use super::admission::ADDON_NAMESPACE;
use super::inject;
use super::MeshView;

/// The ingress gateways' namespace.
pub const INGRESS_NAMESPACE: &str = "aks-istio-ingress";
/// The default egress gateways' namespace.
pub const EGRESS_NAMESPACE: &str = "aks-istio-egress";
/// The CNI daemonset of `CNIChaining`.
pub const CNI_DAEMONSET: &str = "azure-service-mesh-istio-cni-addon-node";
/// Label every add-on object carries.
pub const MANAGED_BY_LABEL: (&str, &str) = ("app.kubernetes.io/managed-by", "aks-istio-addon");

/// One object the add-on wants to exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub group: String,
    pub resource: String,
    pub namespace: String,
    pub name: String,
    /// `apiVersion`, `kind`, `metadata` (name, namespace, labels, annotations) and content.
    pub object: Value,
}

/// One Istio CRD: (group, kind, plural, short names, served versions, storage first).
pub type CrdSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// The Istio CRDs the add-on installs.
pub const ISTIO_CRDS: &[CrdSpec] = &[
    (
        "networking.istio.io",
        "VirtualService",
        "virtualservices",
        &["vs"],
        &["v1", "v1beta1", "v1alpha3"],
    ),
    (
        "networking.istio.io",
        "DestinationRule",
        "destinationrules",
        &["dr"],
        &["v1", "v1beta1", "v1alpha3"],
    ),
    (
        "networking.istio.io",
        "Gateway",
        "gateways",
        &["gw"],
        &["v1", "v1beta1", "v1alpha3"],
    ),
    (
        "networking.istio.io",
        "ServiceEntry",
        "serviceentries",
        &["se"],
        &["v1", "v1beta1", "v1alpha3"],
    ),
    (
        "networking.istio.io",
        "Sidecar",
        "sidecars",
        &[],
        &["v1", "v1beta1", "v1alpha3"],
    ),
    (
        "networking.istio.io",
        "WorkloadEntry",
        "workloadentries",
        &["we"],
        &["v1", "v1beta1", "v1alpha3"],
    ),
    (
        "networking.istio.io",
        "WorkloadGroup",
        "workloadgroups",
        &["wg"],
        &["v1", "v1beta1", "v1alpha3"],
    ),
    (
        "networking.istio.io",
        "EnvoyFilter",
        "envoyfilters",
        &[],
        &["v1alpha3"],
    ),
    (
        "networking.istio.io",
        "ProxyConfig",
        "proxyconfigs",
        &[],
        &["v1beta1"],
    ),
    (
        "security.istio.io",
        "PeerAuthentication",
        "peerauthentications",
        &["pa"],
        &["v1", "v1beta1"],
    ),
    (
        "security.istio.io",
        "AuthorizationPolicy",
        "authorizationpolicies",
        &["ap"],
        &["v1", "v1beta1"],
    ),
    (
        "security.istio.io",
        "RequestAuthentication",
        "requestauthentications",
        &["ra"],
        &["v1", "v1beta1"],
    ),
    (
        "telemetry.istio.io",
        "Telemetry",
        "telemetries",
        &["telemetry"],
        &["v1", "v1alpha1"],
    ),
    (
        "extensions.istio.io",
        "WasmPlugin",
        "wasmplugins",
        &[],
        &["v1alpha1"],
    ),
    (
        "install.istio.io",
        "IstioOperator",
        "istiooperators",
        &["iop", "io"],
        &["v1alpha1"],
    ),
];

fn managed_labels(extra: &[(&str, &str)]) -> Value {
    let mut l = json!({ MANAGED_BY_LABEL.0: MANAGED_BY_LABEL.1 });
    for (k, v) in extra {
        l[*k] = json!(v);
    }
    l
}

#[allow(clippy::too_many_arguments)]
fn desired(
    group: &str,
    version: &str,
    resource: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    labels: Value,
    body: Value,
) -> Desired {
    let api_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let mut metadata = json!({"name": name, "labels": labels});
    if !namespace.is_empty() {
        metadata["namespace"] = json!(namespace);
    }
    let mut object = json!({"apiVersion": api_version, "kind": kind, "metadata": metadata});
    if let (Value::Object(o), Value::Object(b)) = (&mut object, body) {
        o.extend(b);
    }
    Desired {
        group: group.to_owned(),
        resource: resource.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        object,
    }
}

fn namespace(name: &str) -> Desired {
    desired(
        "",
        "v1",
        "namespaces",
        "Namespace",
        "",
        name,
        managed_labels(&[("kubernetes.io/metadata.name", name)]),
        json!({}),
    )
}

fn deployment(
    namespace: &str,
    name: &str,
    app: &str,
    rev: &str,
    image: &str,
    extra: &[(&str, &str)],
) -> Desired {
    let mut pairs = vec![("app", app), ("istio.io/rev", rev)];
    pairs.extend_from_slice(extra);
    let labels = managed_labels(&pairs);
    let mut selector = json!({"app": app, "istio.io/rev": rev});
    for (k, v) in extra {
        selector[*k] = json!(v);
    }
    // The add-on's own pods are never injected.
    let mut template_labels = selector.clone();
    template_labels["sidecar.istio.io/inject"] = json!("false");
    desired(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        namespace,
        name,
        labels,
        json!({
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": template_labels},
                    "spec": {"containers": [{"name": "discovery", "image": image}]}
                }
            },
            "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2, "observedGeneration": 1}
        }),
    )
}

/// The `additionalPrinterColumns` of Istio's CRDs (`crd-all.gen.yaml`), what `kubectl get`
/// shows for their objects; kinds without any get Name/Age.
fn printer_columns(kind: &str) -> Value {
    let age = json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
        "description": "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC. Populated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"});
    let col = |name: &str, path: &str, description: &str| json!({"name": name, "type": "string", "jsonPath": path, "description": description});
    match kind {
        "VirtualService" => json!([
            col("Gateways", ".spec.gateways", "The names of gateways and sidecars that should apply these routes"),
            col("Hosts", ".spec.hosts", "The destination hosts to which traffic is being sent"),
            age
        ]),
        "DestinationRule" => json!([
            col("Host", ".spec.host", "The name of a service from the service registry"),
            age
        ]),
        "ServiceEntry" => json!([
            col("Hosts", ".spec.hosts", "The hosts associated with the ServiceEntry"),
            col("Location", ".spec.location", "Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)"),
            col("Resolution", ".spec.resolution", "Service resolution mode for the hosts (NONE, STATIC, or DNS)"),
            age
        ]),
        "WorkloadEntry" => json!([
            age,
            col("Address", ".spec.address", "Address associated with the network endpoint.")
        ]),
        "PeerAuthentication" => json!([
            col("Mode", ".spec.mtls.mode", "Defines the mTLS mode used for peer authentication."),
            age
        ]),
        "AuthorizationPolicy" => json!([
            col("Action", ".spec.action", "The operation to take."),
            age
        ]),
        _ => Value::Null,
    }
}

fn crd(group: &str, kind: &str, plural: &str, short: &[&str], versions: &[&str]) -> Desired {
    let columns = printer_columns(kind);
    let vs: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut version = json!({
                "name": v, "served": true, "storage": i == 0,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            });
            if !columns.is_null() {
                version["additionalPrinterColumns"] = columns.clone();
            }
            version
        })
        .collect();
    let singular = kind.to_ascii_lowercase();
    desired(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        "",
        &format!("{plural}.{group}"),
        managed_labels(&[("app", "istio-crds")]),
        json!({
            "spec": {
                "group": group,
                "names": {"kind": kind, "listKind": format!("{kind}List"), "plural": plural, "singular": singular, "shortNames": short, "categories": ["istio-io"]},
                "scope": "Namespaced",
                "versions": vs
            },
            "status": {"conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}], "acceptedNames": {"kind": kind, "plural": plural}}
        }),
    )
}

/// The Static Egress Gateway's `StaticGatewayConfiguration` CRD
/// (`egressgateway.kubernetes.azure.com/v1alpha1`, from kube-egress-gateway), served while
/// `networkProfile.staticEgressGatewayProfile.enabled`, so its documented `kubectl apply` works.
fn static_gateway_crd() -> Desired {
    let (group, kind, plural) = (
        "egressgateway.kubernetes.azure.com",
        "StaticGatewayConfiguration",
        "staticgatewayconfigurations",
    );
    desired(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        "",
        &format!("{plural}.{group}"),
        managed_labels(&[("app", "kube-egress-gateway")]),
        json!({
            "spec": {
                "group": group,
                "names": {"kind": kind, "listKind": format!("{kind}List"), "plural": plural, "singular": kind.to_ascii_lowercase()},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1alpha1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                    "subresources": {"status": {}}
                }]
            },
            "status": {"conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}], "acceptedNames": {"kind": kind, "plural": plural}}
        }),
    )
}

/// Every object the add-on keeps in the cluster for `view` (empty when disabled).
pub fn addon_objects(view: &MeshView) -> Vec<Desired> {
    let mut out = Vec::new();
    if view.static_egress_gateway {
        out.push(static_gateway_crd());
    }
    if !view.enabled {
        return out;
    }
    let cni = view.proxy_redirection.as_deref() == Some("CNIChaining");
    for (group, kind, plural, short, versions) in ISTIO_CRDS {
        out.push(crd(group, kind, plural, short, versions));
    }
    out.push(namespace(ADDON_NAMESPACE));
    for rev in &view.revisions {
        out.push(deployment(
            ADDON_NAMESPACE,
            &format!("istiod-{rev}"),
            "istiod",
            rev,
            &inject::pilot_image(rev),
            &[],
        ));
        if view.native_sidecars.contains(rev) {
            // istiod injects native sidecars (docs istio-native-sidecar.md).
            if let Some(d) = out.last_mut() {
                d.object["spec"]["template"]["spec"]["containers"][0]["env"] =
                    json!([{"name": "ENABLE_NATIVE_SIDECARS", "value": "true"}]);
            }
        }
        out.push(desired(
            "",
            "v1",
            "configmaps",
            "ConfigMap",
            ADDON_NAMESPACE,
            &format!("istio-{rev}"),
            managed_labels(&[("istio.io/rev", rev)]),
            json!({"data": {"mesh": inject::mesh_config_yaml(rev), "meshNetworks": "networks: {}"}}),
        ));
        out.push(desired(
            "",
            "v1",
            "configmaps",
            "ConfigMap",
            ADDON_NAMESPACE,
            &format!("istio-sidecar-injector-{rev}"),
            managed_labels(&[("istio.io/rev", rev)]),
            json!({"data": inject::injector_configmap_data(rev, cni)}),
        ));
        let svc = format!("istiod-{rev}");
        out.push(desired(
            "admissionregistration.k8s.io",
            "v1",
            "mutatingwebhookconfigurations",
            "MutatingWebhookConfiguration",
            "",
            &format!("istio-sidecar-injector-{rev}-{ADDON_NAMESPACE}"),
            managed_labels(&[("istio.io/rev", rev)]),
            json!({"webhooks": [{
                "name": "rev.namespace.sidecar-injector.istio.io",
                "clientConfig": {"service": {"name": svc, "namespace": ADDON_NAMESPACE, "path": "/inject", "port": 443}},
                "namespaceSelector": {"matchExpressions": [{"key": "istio.io/rev", "operator": "In", "values": [rev]}, {"key": "istio-injection", "operator": "DoesNotExist"}]},
                "objectSelector": {"matchExpressions": [{"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]},
                "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Fail"
            }]}),
        ));
        out.push(desired(
            "admissionregistration.k8s.io",
            "v1",
            "validatingwebhookconfigurations",
            "ValidatingWebhookConfiguration",
            "",
            &format!("istio-validator-{rev}-{ADDON_NAMESPACE}"),
            managed_labels(&[("istio.io/rev", rev)]),
            json!({"webhooks": [{
                "name": "rev.validation.istio.io",
                "clientConfig": {"service": {"name": svc, "namespace": ADDON_NAMESPACE, "path": "/validate", "port": 443}},
                "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Ignore"
            }]}),
        ));
    }
    if view.plugin_ca {
        out.push(desired(
            "",
            "v1",
            "secrets",
            "Secret",
            ADDON_NAMESPACE,
            "cacerts",
            managed_labels(&[]),
            json!({"type": "Opaque", "data": {"ca-cert.pem": "", "ca-key.pem": "", "cert-chain.pem": "", "root-cert.pem": ""}}),
        ));
    }
    if cni {
        let rev = view.revisions.first().map_or("", String::as_str);
        out.push(desired(
            "apps",
            "v1",
            "daemonsets",
            "DaemonSet",
            ADDON_NAMESPACE,
            CNI_DAEMONSET,
            managed_labels(&[("k8s-app", "istio-cni-node")]),
            json!({
                "spec": {
                    "selector": {"matchLabels": {"k8s-app": "istio-cni-node"}},
                    "template": {"metadata": {"labels": {"k8s-app": "istio-cni-node"}},
                                 "spec": {"containers": [{"name": "install-cni", "image": inject::proxy_image(rev).replace("proxyv2", "install-cni")}]}}
                },
                "status": {"desiredNumberScheduled": 3, "numberReady": 3, "numberAvailable": 3}
            }),
        ));
    }
    if !view.ingress_gateways.is_empty() {
        out.push(namespace(INGRESS_NAMESPACE));
    }
    for mode in &view.ingress_gateways {
        let mode = mode.to_ascii_lowercase();
        let svc_name = format!("aks-istio-ingressgateway-{mode}");
        let mut annotations = json!({});
        if mode == "internal" {
            annotations["service.beta.kubernetes.io/azure-load-balancer-internal"] = json!("true");
        }
        let mut svc = desired(
            "",
            "v1",
            "services",
            "Service",
            INGRESS_NAMESPACE,
            &svc_name,
            managed_labels(&[("app", &svc_name), ("istio", &svc_name)]),
            json!({
                "spec": {
                    "type": "LoadBalancer",
                    "selector": {"app": svc_name, "istio": svc_name},
                    "ports": [
                        {"name": "status-port", "port": 15021, "protocol": "TCP", "targetPort": 15021},
                        {"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 80},
                        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}
                    ],
                    "externalTrafficPolicy": "Cluster"
                },
                "status": {"loadBalancer": {"ingress": [{"ip": if mode == "internal" { "10.224.0.100" } else { "20.0.0.100" }}]}}
            }),
        );
        svc.object["metadata"]["annotations"] = annotations;
        out.push(svc);
        for rev in &view.revisions {
            out.push(deployment(
                INGRESS_NAMESPACE,
                &format!("{svc_name}-{rev}"),
                &svc_name,
                rev,
                &inject::proxy_image(rev),
                &[("istio", &svc_name)],
            ));
        }
    }
    let mut egress_namespaces: Vec<&str> = Vec::new();
    for (name, ns) in &view.egress_gateways {
        let ns = if ns.is_empty() {
            EGRESS_NAMESPACE
        } else {
            ns.as_str()
        };
        // The add-on owns its default egress namespace only; a namespace the user names is
        // theirs (it is never created or deleted by the add-on).
        if ns == EGRESS_NAMESPACE && !egress_namespaces.contains(&ns) {
            egress_namespaces.push(ns);
            out.push(namespace(ns));
        }
        out.push(desired(
            "",
            "v1",
            "services",
            "Service",
            ns,
            name,
            managed_labels(&[("app", name), ("istio", name)]),
            json!({
                "spec": {
                    "type": "ClusterIP",
                    "selector": {"app": name, "istio": name},
                    "ports": [
                        {"name": "status-port", "port": 15021, "protocol": "TCP", "targetPort": 15021},
                        {"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 80},
                        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}
                    ]
                }
            }),
        ));
        for rev in &view.revisions {
            out.push(deployment(
                ns,
                &format!("{name}-{rev}"),
                name,
                rev,
                &inject::proxy_image(rev),
                &[("istio", name)],
            ));
        }
    }
    let hpas = super::hpa::for_addon(&out);
    out.extend(hpas);
    out
}

/// Whether `rt`/`namespace` is one of the add-on's ingress gateway services.
pub fn is_ingress_service(rt: &super::catalog::ResourceType, namespace: &str) -> bool {
    rt.group.is_empty() && rt.resource == "services" && namespace == INGRESS_NAMESPACE
}

/// `object` without what users may customise on an ingress service on the policy's day (the
/// annotations it lists, and `spec.externalTrafficPolicy` once that is allowed).
fn without_customizations(object: &Value, policy: &AdmissionPolicy) -> Value {
    let mut o = object.clone();
    if policy.ingress_external_traffic_policy {
        if let Some(spec) = o.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("externalTrafficPolicy");
        }
    }
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(Value::Object(a)) = meta.get_mut("annotations") {
            a.retain(|k, _| !policy.ingress_annotation_allowed(k));
            if a.is_empty() {
                meta.remove("annotations");
            }
        } else if meta.get("annotations").is_some_and(Value::is_null) {
            meta.remove("annotations");
        }
    }
    o
}

/// Whether an update of an add-on ingress service only touches what users may customise
/// on the policy's day.
pub fn customizable_change(
    rt: &super::catalog::ResourceType,
    namespace: &str,
    old: &Value,
    new: &Value,
    policy: &AdmissionPolicy,
) -> bool {
    super::hpa::customizable(rt, old, new)
        || (is_ingress_service(rt, namespace)
            && without_customizations(old, policy) == without_customizations(new, policy))
}

/// Carries a user's customisations of an ingress service (accepted when they were written)
/// across a reconcile: `spec.externalTrafficPolicy` and the annotations the add-on does not
/// set itself.
pub fn keep_customizations(
    rt: &super::catalog::ResourceType,
    namespace: &str,
    existing: &Value,
    want: &mut Value,
) {
    super::hpa::keep(rt, existing, want);
    if !is_ingress_service(rt, namespace) {
        return;
    }
    if let Some(etp) = existing.pointer("/spec/externalTrafficPolicy") {
        want["spec"]["externalTrafficPolicy"] = etp.clone();
    }
    if let Some(a) = existing
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, v) in a {
            if !want["metadata"]["annotations"].is_object() {
                want["metadata"]["annotations"] = json!({});
            }
            if want["metadata"]["annotations"].get(k).is_none() {
                want["metadata"]["annotations"][k] = v.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_has_two_control_planes() {
        let view = MeshView {
            enabled: true,
            revisions: vec!["asm-1-17".into(), "asm-1-18".into()],
            ingress_gateways: vec!["External".into()],
            egress_gateways: vec![("egw".into(), String::new())],
            proxy_redirection: Some("CNIChaining".into()),
            plugin_ca: true,
            nodes: None,
            native_sidecars: vec![],
            static_egress_gateway: false,
        };
        let objs = addon_objects(&view);
        let names: Vec<&str> = objs.iter().map(|d| d.name.as_str()).collect();
        for want in [
            "istiod-asm-1-17",
            "istiod-asm-1-18",
            "aks-istio-ingressgateway-external-asm-1-18",
            "egw-asm-1-17",
            "aks-istio-egress",
            "cacerts",
            CNI_DAEMONSET,
        ] {
            assert!(names.contains(&want), "{want}");
        }
        assert!(addon_objects(&MeshView::default()).is_empty());
    }
}
