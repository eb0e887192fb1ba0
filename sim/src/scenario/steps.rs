//! One step of a scenario: its action (a request, a Kubernetes request, `createCluster`, a
//! wait, a clock move, a fault, operation scripts), then its expectations and captures.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

use super::matching::{resolve, subset, substitute, substitute_json};
use super::model::{Expect, KubeRequest, Request, Step};
use super::session::{Reply, Session};

/// api-version of the runner's own ARM calls (setup, credentials).
pub(crate) const AKS_API: &str = "2026-06-01";

/// Runs one step: its action, then its expectations and captures. (Simulator-only steps on a
/// target without `/_sim` never get here: the scenario is skipped as a whole before it starts,
/// `plan::skip_reason`.)
pub(crate) async fn run_step(run: &mut Session, step: &Step) -> Result<(), String> {
    let vars = run.vars.clone();
    let reply = if let Some(secs) = step.advance_clock {
        run.advance(secs).await?;
        None
    } else if let Some(fault) = &step.fault {
        Some(arm_fault(run, fault, &vars).await?)
    } else if let Some(scripts) = &step.operation_scripts {
        let body = substitute_json(scripts, &vars)?;
        Some(
            run.sim_call("PUT", "/_sim/operations/scripts", Some(&body))
                .await?,
        )
    } else if let Some(day) = &step.azure_date {
        let path = format!("/_sim/azure-date/{}", run.subscription);
        let body = serde_json::json!({ "azureDate": substitute(day, &vars)? });
        Some(run.sim_call("PUT", &path, Some(&body)).await?)
    } else if let Some(url) = &step.wait_for_operation {
        let url = substitute(url, &vars)?;
        Some(run.poll(&url, operation_ended).await?)
    } else if let Some(create) = &step.create_cluster {
        Some(create_cluster(run, create, &vars).await?)
    } else if let Some(request) = &step.request {
        Some(arm_request(run, request, &vars).await?)
    } else if let Some(kube) = &step.kube {
        Some(kube_request(run, kube, &vars).await?)
    } else {
        return Err("a step needs an action".into());
    };
    if let Some(reply) = &reply {
        check(step.expect.as_ref(), reply, &vars)?;
        for (name, source) in &step.capture {
            let value = capture(reply, source)?;
            run.vars.insert(name.clone(), value);
        }
    } else if step.expect.is_some() || !step.capture.is_empty() {
        return Err("this step has no response to check or capture".into());
    }
    Ok(())
}

/// Arms a fault rule, scoped to this scenario's subscription so parallel scenarios against
/// one server never see each other's faults; the runner removes it when the scenario ends.
async fn arm_fault(
    run: &mut Session,
    fault: &Value,
    vars: &BTreeMap<String, String>,
) -> Result<Reply, String> {
    let mut body = substitute_json(fault, vars)?;
    if let Some(map) = body.as_object_mut() {
        map.entry("subscription")
            .or_insert_with(|| Value::String(run.subscription.clone()));
    }
    let reply = run.sim_call("POST", "/_sim/faults", Some(&body)).await?;
    if let Some(id) = reply
        .json()
        .and_then(|j| j["id"].as_str().map(str::to_owned))
    {
        run.armed_faults.push(id);
    }
    Ok(reply)
}

/// Whether an operation status answer is final (a terminal `status`, or no longer a 202).
fn operation_ended(r: &Reply) -> bool {
    if r.status == 202 {
        return false;
    }
    match r
        .json()
        .and_then(|j| j.get("status").and_then(Value::as_str).map(str::to_owned))
    {
        Some(status) => {
            ["succeeded", "failed", "canceled"].contains(&status.to_ascii_lowercase().as_str())
        }
        None => r.status < 300 || r.status >= 400,
    }
}

/// The headers of a step, variables substituted.
fn headers_of(
    headers: &BTreeMap<String, String>,
    vars: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    headers
        .iter()
        .map(|(k, v)| Ok((k.clone(), substitute(v, vars)?)))
        .collect()
}

async fn arm_request(
    run: &mut Session,
    request: &Request,
    vars: &BTreeMap<String, String>,
) -> Result<Reply, String> {
    let path = with_api_version(
        &substitute(&request.path, vars)?,
        request.api_version.as_deref(),
    );
    let headers = headers_of(&request.headers, vars)?;
    let body = request
        .body
        .as_ref()
        .map(|b| substitute_json(b, vars))
        .transpose()?;
    run.send(&request.method, &path, &headers, body.as_ref(), None)
        .await
}

/// A request to a cluster's Kubernetes API with the credentials of `listClusterUserCredential`
/// (fetched again once when the cluster was re-created since).
async fn kube_request(
    run: &mut Session,
    kube: &KubeRequest,
    vars: &BTreeMap<String, String>,
) -> Result<Reply, String> {
    let cluster = substitute(&kube.cluster, vars)?;
    let path = substitute(&kube.path, vars)?;
    let headers = headers_of(&kube.headers, vars)?;
    let body = kube
        .body
        .as_ref()
        .map(|b| substitute_json(b, vars))
        .transpose()?;
    let mut attempt = 0;
    loop {
        let (server, token) = kube_credentials(run, &cluster).await?;
        let bearer = format!("Bearer {token}");
        let reply = run
            .send(
                &kube.method,
                &format!("{server}{path}"),
                &headers,
                body.as_ref(),
                Some(&bearer),
            )
            .await?;
        attempt += 1;
        if reply.status != 401 || attempt > 1 {
            return Ok(reply);
        }
        run.kube_credentials.remove(&cluster);
    }
}

/// `createCluster`: PUT the body `az aks create` sends, wait for the operation, GET.
async fn create_cluster(
    run: &mut Session,
    create: &crate::scenario::model::CreateCluster,
    vars: &BTreeMap<String, String>,
) -> Result<Reply, String> {
    let rg = substitute(&create.resource_group, vars)?;
    let name = substitute(&create.name, vars)?;
    let api = create.api_version.as_deref().unwrap_or(AKS_API);
    let mut properties = serde_json::json!({
        "kubernetesVersion": create.kubernetes_version.clone().unwrap_or_default(),
        "dnsPrefix": format!("{name}-{rg}"),
        "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "vmSize": "", "osType": "Linux",
                               "mode": "System", "type": "VirtualMachineScaleSets"}],
    });
    if create.mesh {
        let istio = match &create.revision {
            Some(r) => serde_json::json!({ "revisions": [substitute(r, vars)?] }),
            None => serde_json::json!({}),
        };
        properties["serviceMeshProfile"] = serde_json::json!({ "mode": "Istio", "istio": istio });
    }
    if let Some(Value::Object(extra)) = create
        .properties
        .as_ref()
        .map(|p| substitute_json(p, vars))
        .transpose()?
    {
        for (k, v) in extra {
            properties[k] = v;
        }
    }
    let body = serde_json::json!({
        "location": create.location.clone().unwrap_or_else(|| "eastus".to_owned()),
        "identity": {"type": "SystemAssigned"},
        "properties": properties,
    });
    let path = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}?api-version={api}",
        run.subscription
    );
    let put = run
        .send("PUT", &path, &BTreeMap::new(), Some(&body), None)
        .await?;
    if put.status >= 300 {
        return Err(format!(
            "createCluster {rg}/{name}: the PUT was refused: {}",
            put.summary()
        ));
    }
    let op = put
        .header("azure-asyncoperation")
        .ok_or("createCluster: no Azure-AsyncOperation header")?
        .to_owned();
    let done = run
        .poll(&op, |r| {
            r.json()
                .and_then(|j| j["status"].as_str().map(str::to_owned))
                .is_some_and(|s| {
                    ["succeeded", "failed", "canceled"].contains(&s.to_ascii_lowercase().as_str())
                })
        })
        .await?;
    if done.json().map(|j| j["status"].clone()) != Some(Value::String("Succeeded".into())) {
        return Err(format!(
            "createCluster {rg}/{name}: the operation ended {}",
            done.summary()
        ));
    }
    run.send("GET", &path, &BTreeMap::new(), None, None).await
}

async fn kube_credentials(run: &mut Session, cluster: &str) -> Result<(String, String), String> {
    if let Some(found) = run.kube_credentials.get(cluster) {
        return Ok(found.clone());
    }
    let (rg, name) = cluster
        .split_once('/')
        .ok_or_else(|| format!("kube.cluster '{cluster}' must be resourceGroup/name"))?;
    let url = format!(
        "/subscriptions/{}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}/listClusterUserCredential?api-version={AKS_API}",
        run.subscription
    );
    let reply = run.send("POST", &url, &BTreeMap::new(), None, None).await?;
    let json = reply
        .json()
        .filter(|_| reply.status == 200)
        .ok_or_else(|| format!("credentials for {cluster}: {}", reply.summary()))?;
    let encoded = json["kubeconfigs"][0]["value"]
        .as_str()
        .ok_or("credentials carry no kubeconfig")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("kubeconfig is not base64: {e}"))?;
    let config: Value =
        yaml_serde::from_slice(&decoded).map_err(|e| format!("kubeconfig is not YAML: {e}"))?;
    let server = config["clusters"][0]["cluster"]["server"]
        .as_str()
        .ok_or("kubeconfig has no server")?
        .to_owned();
    let token = config["users"][0]["user"]["token"]
        .as_str()
        .ok_or("kubeconfig has no token")?
        .to_owned();
    run.kube_credentials
        .insert(cluster.to_owned(), (server.clone(), token.clone()));
    Ok((server, token))
}

fn capture(reply: &Reply, source: &str) -> Result<String, String> {
    if let Some(name) = source.strip_prefix("header:") {
        return reply
            .header(name.trim())
            .map(str::to_owned)
            .ok_or_else(|| format!("capture: no header '{name}'"));
    }
    if let Some(path) = source.strip_prefix("body:") {
        let json = reply.json().ok_or("capture: the body is not JSON")?;
        return match resolve(&json, path)? {
            Some(Value::String(s)) => Ok(s),
            Some(v) => Ok(v.to_string()),
            None => Err(format!("capture: nothing at {path}")),
        };
    }
    if source == "status" {
        return Ok(reply.status.to_string());
    }
    Err(format!(
        "capture source '{source}' must be header:NAME, body:$.path or status"
    ))
}

fn check(
    expect: Option<&Expect>,
    reply: &Reply,
    vars: &BTreeMap<String, String>,
) -> Result<(), String> {
    let Some(expect) = expect else {
        if reply.status >= 500 {
            return Err(format!("unexpected server error: {}", reply.summary()));
        }
        return Ok(());
    };
    if let Some(status) = expect.status {
        if status != reply.status {
            return Err(format!(
                "status: expected {status}, got {}\nbody: {}",
                reply.status,
                reply.summary()
            ));
        }
    } else if reply.status >= 500 {
        return Err(format!("unexpected server error: {}", reply.summary()));
    }
    for (name, value) in &expect.headers {
        let value = substitute(value, vars)?;
        let actual = reply.header(name).map(|v| Value::String(v.to_owned()));
        subset(
            &Value::String(value),
            actual.as_ref(),
            &format!("header {name}"),
        )
        .map_err(|m| m.to_string())?;
    }
    let json = reply.json();
    if let Some(body) = &expect.body {
        let body = substitute_json(body, vars)?;
        subset(&body, json.as_ref(), "$").map_err(|m| format!("body {m}"))?;
    }
    for (path, value) in &expect.json {
        let value = substitute_json(value, vars)?;
        let root = json.as_ref().ok_or("the body is not JSON")?;
        let actual = resolve(root, path)?;
        subset(&value, actual.as_ref(), path).map_err(|m| m.to_string())?;
    }
    if let Some(error) = &expect.error {
        let root = json
            .as_ref()
            .ok_or_else(|| format!("expected error {}, but the body is not JSON", error.code))?;
        // ARM envelope, operation status error, or Kubernetes Status.
        let (code, message) = if root.get("kind").and_then(Value::as_str) == Some("Status") {
            (root["reason"].as_str(), root["message"].as_str())
        } else {
            (
                root["error"]["code"].as_str(),
                root["error"]["message"].as_str(),
            )
        };
        if code != Some(error.code.as_str()) {
            return Err(format!(
                "error code: expected {}, got {}\nbody: {}",
                error.code,
                code.unwrap_or("(none)"),
                reply.summary()
            ));
        }
        if let Some(m) = &error.message {
            let m = substitute(m, vars)?;
            if message != Some(m.as_str()) {
                return Err(format!(
                    "error message:\n  expected: {m}\n  actual:   {}",
                    message.unwrap_or("(none)")
                ));
            }
        }
        if let Some(part) = &error.message_contains {
            if !message.is_some_and(|msg| msg.contains(part.as_str())) {
                return Err(format!(
                    "error message should contain '{part}', got: {}",
                    message.unwrap_or("(none)")
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn with_api_version(path: &str, api_version: Option<&str>) -> String {
    match api_version {
        Some(v) if !path.contains("api-version=") => {
            let sep = if path.contains('?') { '&' } else { '?' };
            format!("{path}{sep}api-version={v}")
        }
        _ => path.to_owned(),
    }
}
