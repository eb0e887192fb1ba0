//! `meta.k8s.io/v1` `Table` output, what `kubectl get` asks for with
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`: the columns kube-apiserver's own
//! printers give — Name/Status/Age for namespaces, Name/Ready/Status/Restarts/Age for pods,
//! Name/Type/Cluster-IP/External-IP/Port(s)/Age (+ Selector) for services,
//! Name/Ready/Up-to-date/Available/Age (+ Containers/Images/Selector) for deployments,
//! Name/Data/Age for configmaps, Name/Type/Data/Age for secrets, Name/Age for everything else.
//! Custom resources get Name + their CRD's `additionalPrinterColumns` (Name/Age when it has
//! none), as the apiextensions server does. Columns of priority 1 are what `kubectl get -o wide`
//! adds. Rows carry a
//! `PartialObjectMetadata` (or the whole object with `includeObject=Object`).

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::core::kube::catalog::{PrinterColumn, ResourceType, TableKind};

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',')
            .next()
            .is_some_and(|first| first.replace(' ', "").contains("as=Table"))
    })
}

/// kube's `duration.HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".to_owned();
    }
    let s = secs.max(0);
    let m = s / 60;
    let h = m / 60;
    let d = h / 24;
    let y = d / 365;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h % 24 == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else if h < 24 * 365 * 8 {
        if d % 365 == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{}d", d % 365)
        }
    } else {
        format!("{y}y")
    }
}

fn age(object: &Value, now: OffsetDateTime) -> String {
    let created = object
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|s| {
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        });
    match created {
        Some(c) => human_duration((now - c).whole_seconds()),
        None => "<unknown>".to_owned(),
    }
}

fn column(name: &str, ty: &str, format: &str, description: &str) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": description, "priority": 0})
}

/// A column `kubectl get` shows only with `-o wide`.
fn wide_column(name: &str, description: &str) -> Value {
    json!({"name": name, "type": "string", "format": "", "description": description, "priority": 1})
}

fn str_of<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn int_of(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn array_of<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `k=v,k2=v2` of a label map, sorted by key as Go's `labels.Set.String` does; `<none>` when
/// empty.
fn selector_string(map: Option<&Value>) -> String {
    let Some(map) = map.and_then(Value::as_object).filter(|m| !m.is_empty()) else {
        return "<none>".to_owned();
    };
    let mut pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// `<none>` for an empty list, else the items joined by commas.
fn joined_or_none(items: Vec<String>) -> String {
    if items.is_empty() {
        "<none>".to_owned()
    } else {
        items.join(",")
    }
}

/// kubectl's External-IP of a service (`getServiceExternalIP`).
fn service_external_ip(service: &Value) -> String {
    let external: Vec<String> = array_of(service, "/spec/externalIPs")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    match str_of(service, "/spec/type") {
        "LoadBalancer" => {
            let mut ips: Vec<String> = array_of(service, "/status/loadBalancer/ingress")
                .iter()
                .filter_map(|i| {
                    i.get("ip")
                        .or_else(|| i.get("hostname"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect();
            ips.extend(external);
            if ips.is_empty() {
                "<pending>".to_owned()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => str_of(service, "/spec/externalName").to_owned(),
        _ => joined_or_none(external),
    }
}

/// kubectl's Port(s) of a service: `80/TCP`, or `80:30080/TCP` with a node port.
fn service_ports(service: &Value) -> String {
    let ports = array_of(service, "/spec/ports")
        .iter()
        .map(|p| {
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(node) if node > 0 => format!("{port}:{node}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    joined_or_none(ports)
}

/// Names or images of a pod template's containers, joined by commas.
fn template_containers(object: &Value, field: &str) -> String {
    array_of(object, "/spec/template/spec/containers")
        .iter()
        .map(|c| {
            c.get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Entries of a configmap or secret (`data` + `binaryData`).
fn data_count(object: &Value) -> usize {
    ["data", "binaryData"]
        .iter()
        .filter_map(|k| object.get(*k).and_then(Value::as_object))
        .map(serde_json::Map::len)
        .sum()
}

/// The value at a simple JSONPath (`.spec.mtls.mode`), if any.
fn at_json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let pointer: String = path
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
        .collect();
    object.pointer(&pointer).filter(|v| !v.is_null())
}

/// A printer-column cell as the apiextensions server builds it: strings as JSONPath prints
/// them (lists and maps as JSON), `date` as a human duration, numbers and booleans as they are,
/// `null` when the field is absent.
fn printer_cell(column: &PrinterColumn, object: &Value, now: OffsetDateTime) -> Value {
    let Some(value) = at_json_path(object, &column.json_path) else {
        return Value::Null;
    };
    match column.type_name.as_str() {
        "date" => match value.as_str().and_then(|s| {
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        }) {
            Some(t) => json!(human_duration((now - t).whole_seconds())),
            None => json!("<invalid>"),
        },
        "string" => match value {
            Value::String(s) => json!(s),
            other => json!(other.to_string()),
        },
        _ => value.clone(),
    }
}

fn columns(rt: &ResourceType) -> Vec<Value> {
    if !rt.printer_columns.is_empty() {
        let mut out = vec![column(
            "Name",
            "string",
            "name",
            "Name must be unique within a namespace.",
        )];
        out.extend(rt.printer_columns.iter().map(|c| {
            json!({"name": c.name, "type": c.type_name, "format": "",
                   "description": c.description, "priority": c.priority})
        }));
        return out;
    }
    let kind = rt.table;
    let name = column(
        "Name",
        "string",
        "name",
        "Name must be unique within a namespace.",
    );
    let age = column("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.");
    match kind {
        TableKind::Namespace => vec![
            name,
            column("Status", "string", "", "The status of the namespace"),
            age,
        ],
        TableKind::Pod => vec![
            name,
            column("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic."),
            column("Status", "string", "", "The aggregate status of the containers in this pod."),
            column("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            age,
        ],
        TableKind::Service => vec![
            name,
            column("Type", "string", "", "type determines how the Service is exposed."),
            column("Cluster-IP", "string", "", "clusterIP is the IP address of the service and is usually assigned randomly."),
            column("External-IP", "string", "", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
            column("Port(s)", "string", "", "The list of ports that are exposed by this service."),
            age,
            wide_column("Selector", "Route service traffic to pods with label keys and values matching this selector."),
        ],
        TableKind::Deployment => vec![
            name,
            column("Ready", "string", "", "Number of the pod with ready state"),
            column("Up-to-date", "integer", "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
            column("Available", "integer", "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
            age,
            wide_column("Containers", "Names of each container in the template."),
            wide_column("Images", "Images referenced by each container in the template."),
            wide_column("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."),
        ],
        TableKind::ConfigMap => vec![
            name,
            column("Data", "integer", "", "Data contains the configuration data."),
            age,
        ],
        TableKind::Secret => vec![
            name,
            column("Type", "string", "", "Used to facilitate programmatic handling of secret data."),
            column("Data", "integer", "", "Data contains the secret data."),
            age,
        ],
        TableKind::Node => vec![
            name,
            column("Status", "string", "", "The status of the node"),
            column("Roles", "string", "", "The roles of the node"),
            age,
            column("Version", "string", "", "Kubelet Version reported by the node."),
            wide_column("Internal-IP", "List of internal IPs for the node."),
            wide_column("External-IP", "List of external IPs for the node."),
            wide_column("OS-Image", "OS image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
            wide_column("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
            wide_column("Container-Runtime", "Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
        ],
        TableKind::Generic => vec![name, age],
    }
}

fn cells(rt: &ResourceType, object: &Value, now: OffsetDateTime) -> Vec<Value> {
    let name = object
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(json!(""));
    if !rt.printer_columns.is_empty() {
        let mut out = vec![name];
        out.extend(
            rt.printer_columns
                .iter()
                .map(|c| printer_cell(c, object, now)),
        );
        return out;
    }
    match rt.table {
        TableKind::Namespace => vec![
            name,
            object
                .pointer("/status/phase")
                .cloned()
                .unwrap_or(json!("Active")),
            json!(age(object, now)),
        ],
        TableKind::Pod => {
            // kube's printer counts native sidecars (init containers with `restartPolicy:
            // Always`) among the containers; aksim's run and are ready at once.
            let sidecars: Vec<&str> = object
                .pointer("/spec/initContainers")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter(|c| c["restartPolicy"] == json!("Always"))
                        .map(|c| c["name"].as_str().unwrap_or(""))
                        .collect()
                })
                .unwrap_or_default();
            let total = object
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
                + sidecars.len();
            let sidecars_ready = match object
                .pointer("/status/initContainerStatuses")
                .and_then(Value::as_array)
            {
                None => sidecars.len(),
                Some(st) => st
                    .iter()
                    .filter(|c| {
                        sidecars.contains(&c["name"].as_str().unwrap_or(""))
                            && c["ready"] == json!(true)
                            && c["started"] == json!(true)
                    })
                    .count(),
            };
            let ready = object
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .map_or(0, |cs| {
                    cs.iter().filter(|c| c["ready"] == json!(true)).count()
                })
                + sidecars_ready;
            let status = if object.pointer("/metadata/deletionTimestamp").is_some() {
                json!("Terminating")
            } else {
                object
                    .pointer("/status/phase")
                    .cloned()
                    .unwrap_or(json!("Pending"))
            };
            vec![
                name,
                json!(format!("{ready}/{total}")),
                status,
                json!(0),
                json!(age(object, now)),
            ]
        }
        TableKind::Service => {
            let cluster_ip = match str_of(object, "/spec/clusterIP") {
                "" => "<none>",
                ip => ip,
            };
            vec![
                name,
                json!(str_of(object, "/spec/type")),
                json!(cluster_ip),
                json!(service_external_ip(object)),
                json!(service_ports(object)),
                json!(age(object, now)),
                json!(selector_string(object.pointer("/spec/selector"))),
            ]
        }
        TableKind::Deployment => {
            let desired = object
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            vec![
                name,
                json!(format!(
                    "{}/{desired}",
                    int_of(object, "/status/readyReplicas")
                )),
                json!(int_of(object, "/status/updatedReplicas")),
                json!(int_of(object, "/status/availableReplicas")),
                json!(age(object, now)),
                json!(template_containers(object, "name")),
                json!(template_containers(object, "image")),
                json!(selector_string(
                    object.pointer("/spec/selector/matchLabels")
                )),
            ]
        }
        TableKind::ConfigMap => vec![name, json!(data_count(object)), json!(age(object, now))],
        TableKind::Secret => vec![
            name,
            json!(match str_of(object, "/type") {
                "" => "Opaque",
                t => t,
            }),
            json!(data_count(object)),
            json!(age(object, now)),
        ],
        TableKind::Node => node_cells(name, object, now),
        TableKind::Generic => vec![name, json!(age(object, now))],
    }
}

/// kube's node printer: Ready/NotReady (+ SchedulingDisabled), the roles from
/// `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels, the kubelet version.
fn node_cells(name: Value, object: &Value, now: OffsetDateTime) -> Vec<Value> {
    let ready = array_of(object, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "Ready")
        .map(|c| c["status"] == "True");
    let mut status = match ready {
        Some(true) => "Ready".to_owned(),
        Some(false) => "NotReady".to_owned(),
        None => "Unknown".to_owned(),
    };
    if object.pointer("/spec/unschedulable") == Some(&json!(true)) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<String> = object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
                    Some(role) if !role.is_empty() => Some(role.to_owned()),
                    _ if k == "kubernetes.io/role" => v.as_str().map(str::to_owned),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles.dedup();
    let address = |t: &str| {
        array_of(object, "/status/addresses")
            .iter()
            .find(|a| a["type"] == t)
            .and_then(|a| a["address"].as_str())
            .unwrap_or("<none>")
            .to_owned()
    };
    let info = |k: &str| match str_of(object, &format!("/status/nodeInfo/{k}")) {
        "" => "<unknown>".to_owned(),
        v => v.to_owned(),
    };
    vec![
        name,
        json!(status),
        json!(joined_or_none(roles)),
        json!(age(object, now)),
        json!(str_of(object, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
}

fn row_object(object: &Value, include: &str) -> Value {
    match include {
        "None" => Value::Null,
        "Object" => object.clone(),
        _ => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
        }),
    }
}

/// A Table of `objects`.
pub fn table(
    rt: &ResourceType,
    objects: &[Value],
    list_meta: Value,
    include: &str,
    now: OffsetDateTime,
) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row = json!({"cells": cells(rt, o, now)});
            let obj = row_object(o, include);
            if !obj.is_null() {
                row["object"] = obj;
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": columns(rt),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3600 * 3 + 60), "3h1m");
        assert_eq!(human_duration(86400 * 3), "3d");
        assert!(wants_table(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        )));
        assert!(!wants_table(Some("application/json")));
    }

    #[test]
    fn printer_cells_read_like_the_apiextensions_server() {
        let col = |name: &str, ty: &str, path: &str| PrinterColumn {
            name: name.into(),
            type_name: ty.into(),
            json_path: path.into(),
            description: String::new(),
            priority: 0,
        };
        let now = OffsetDateTime::parse(
            "2026-11-27T08:00:30Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let vs = json!({"metadata": {"creationTimestamp": "2026-11-27T08:00:00Z"},
                        "spec": {"hosts": ["reviews", "ratings"], "mtls": {"mode": "STRICT"}}});
        assert_eq!(
            printer_cell(&col("Hosts", "string", ".spec.hosts"), &vs, now),
            json!("[\"reviews\",\"ratings\"]")
        );
        assert_eq!(
            printer_cell(&col("Mode", "string", ".spec.mtls.mode"), &vs, now),
            json!("STRICT")
        );
        assert_eq!(
            printer_cell(&col("Gateways", "string", ".spec.gateways"), &vs, now),
            Value::Null
        );
        assert_eq!(
            printer_cell(&col("Age", "date", ".metadata.creationTimestamp"), &vs, now),
            json!("30s")
        );
    }

    #[test]
    fn service_cells_read_like_kubectl() {
        let lb = json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.12",
            "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080}, {"port": 53, "protocol": "UDP"}],
            "selector": {"istio": "x", "app": "y"}},
            "status": {"loadBalancer": {"ingress": [{"ip": "20.0.0.100"}]}}});
        assert_eq!(service_external_ip(&lb), "20.0.0.100");
        assert_eq!(service_ports(&lb), "80:30080/TCP,53/UDP");
        assert_eq!(
            selector_string(lb.pointer("/spec/selector")),
            "app=y,istio=x"
        );
        let pending = json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}});
        assert_eq!(service_external_ip(&pending), "<pending>");
        let plain = json!({"spec": {"type": "ClusterIP"}});
        assert_eq!(service_external_ip(&plain), "<none>");
        assert_eq!(service_ports(&plain), "<none>");
        assert_eq!(selector_string(None), "<none>");
        let cm = json!({"data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(data_count(&cm), 3);
    }
}
