//! The Microsoft.ContainerService surface around a cluster that tools read (issue 16), as AKS
//! answers it: `maintenanceConfigurations` and `trustedAccessRoleBindings` (child resources kept
//! with the cluster, gone with it), `runCommand` results, `snapshots` (resource-group resources
//! made from an agent pool), and the read-only catalogues (`trustedAccessRoles`,
//! `osOptions/default`, the provider's `operations`). Shapes from the REST spec (api-version
//! 2026-08-01) and its examples.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{ManagedCluster, NS};
use crate::core::error::{Error, Result};

/// The kinds of child resource a cluster keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    MaintenanceConfigurations,
    TrustedAccessRoleBindings,
    ManagedNamespaces,
    IdentityBindings,
}

impl ChildKind {
    /// The path segment (and resource-type suffix).
    pub fn segment(self) -> &'static str {
        match self {
            ChildKind::MaintenanceConfigurations => "maintenanceConfigurations",
            ChildKind::TrustedAccessRoleBindings => "trustedAccessRoleBindings",
            ChildKind::ManagedNamespaces => "managedNamespaces",
            ChildKind::IdentityBindings => "identityBindings",
        }
    }
}

/// The names AKS takes for a maintenance configuration.
pub const MAINTENANCE_NAMES: &[&str] = &[
    "default",
    "aksManagedAutoUpgradeSchedule",
    "aksManagedNodeOSUpgradeSchedule",
];

/// A finished `runCommand`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandResult {
    pub command: String,
    pub started_at: String,
    pub finished_at: String,
}

/// What a cluster keeps beside its own body (not rendered in the cluster GET).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSurface {
    /// By lower-cased name: the stored resource body.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub maintenance_configurations: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trusted_access_role_bindings: BTreeMap<String, Value>,
    /// `managedNamespaces` and `identityBindings` (`core::clusters::namespaces`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub managed_namespaces: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity_bindings: BTreeMap<String, Value>,
    /// By lower-cased pool name: the indices of the machines `deleteMachines` removed
    /// (`core::clusters::pools::machines`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deleted_machines: BTreeMap<String, BTreeSet<u64>>,
    /// By command id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub command_results: BTreeMap<String, CommandResult>,
}

impl ClusterSurface {
    pub fn is_empty(&self) -> bool {
        self.maintenance_configurations.is_empty()
            && self.trusted_access_role_bindings.is_empty()
            && self.managed_namespaces.is_empty()
            && self.identity_bindings.is_empty()
            && self.command_results.is_empty()
            && self.deleted_machines.is_empty()
    }

    pub fn children(&self, kind: ChildKind) -> &BTreeMap<String, Value> {
        match kind {
            ChildKind::MaintenanceConfigurations => &self.maintenance_configurations,
            ChildKind::TrustedAccessRoleBindings => &self.trusted_access_role_bindings,
            ChildKind::ManagedNamespaces => &self.managed_namespaces,
            ChildKind::IdentityBindings => &self.identity_bindings,
        }
    }

    pub fn children_mut(&mut self, kind: ChildKind) -> &mut BTreeMap<String, Value> {
        match kind {
            ChildKind::MaintenanceConfigurations => &mut self.maintenance_configurations,
            ChildKind::TrustedAccessRoleBindings => &mut self.trusted_access_role_bindings,
            ChildKind::ManagedNamespaces => &mut self.managed_namespaces,
            ChildKind::IdentityBindings => &mut self.identity_bindings,
        }
    }
}

/// Most commands one cluster keeps results of (the oldest go first).
pub const COMMAND_RESULTS_MAX: usize = 100;

pub fn not_found_child(kind: ChildKind, cluster: &ManagedCluster, name: &str) -> Error {
    Error::resource_not_found(
        &format!(
            "{NS}/managedClusters/{}/{}/{name}",
            cluster.name,
            kind.segment()
        ),
        &cluster.resource_group,
    )
}

pub fn child_id(cluster: &ManagedCluster, kind: ChildKind, name: &str) -> String {
    format!("{}/{}/{name}", cluster.id(), kind.segment())
}

/// Checks a child PUT body and returns what is stored (properties as sent, nulls dropped).
pub fn read_child(kind: ChildKind, name: &str, body: Value) -> Result<Map<String, Value>> {
    let Value::Object(mut top) = body else {
        return Err(Error::invalid_request_content(
            "Error converting value at path '': expected an object",
        ));
    };
    let props = match top.remove("properties") {
        Some(Value::Object(p)) => p,
        None | Some(Value::Null) => Map::new(),
        Some(_) => {
            return Err(Error::invalid_request_content(
                "Error converting value at path 'properties': expected an object",
            ))
        }
    };
    match kind {
        ChildKind::MaintenanceConfigurations => {
            if !MAINTENANCE_NAMES
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name))
            {
                return Err(Error::invalid_parameter(
                    format!(
                        "Maintenance configuration name '{name}' is invalid. It must be one of \
                         'default', 'aksManagedAutoUpgradeSchedule' or \
                         'aksManagedNodeOSUpgradeSchedule'."
                    ),
                    "configName",
                ));
            }
            let scheduled = !name.eq_ignore_ascii_case("default");
            if scheduled && !props.contains_key("maintenanceWindow") {
                return Err(Error::invalid_parameter(
                    format!(
                        "Maintenance configuration '{name}' needs properties.maintenanceWindow."
                    ),
                    "properties.maintenanceWindow",
                ));
            }
            if !scheduled && props.contains_key("maintenanceWindow") {
                return Err(Error::invalid_parameter(
                    "The 'default' maintenance configuration takes timeInWeek and \
                     notAllowedTime, not maintenanceWindow.",
                    "properties.maintenanceWindow",
                ));
            }
        }
        ChildKind::ManagedNamespaces | ChildKind::IdentityBindings => {
            return Err(Error::invalid_request_content(
                "This child resource is written through core::clusters::namespaces.",
            ))
        }
        ChildKind::TrustedAccessRoleBindings => {
            let source = props.get("sourceResourceId").and_then(Value::as_str);
            let roles = props.get("roles").and_then(Value::as_array);
            if source.is_none_or(str::is_empty) || roles.is_none_or(Vec::is_empty) {
                return Err(Error::invalid_parameter(
                    "A trusted access role binding needs properties.sourceResourceId and at \
                     least one role in properties.roles.",
                    "properties",
                ));
            }
        }
    }
    Ok(props)
}

/// A child resource's answer.
pub fn render_child(cluster: &ManagedCluster, kind: ChildKind, name: &str, props: &Value) -> Value {
    let mut props = props.clone();
    if kind == ChildKind::TrustedAccessRoleBindings {
        if let Value::Object(p) = &mut props {
            p.insert("provisioningState".into(), "Succeeded".into());
        }
    }
    json!({
        "id": child_id(cluster, kind, name),
        "name": name,
        "type": format!("{NS}/managedClusters/{}", kind.segment()),
        "properties": props,
    })
}

/// A stored child's answer, whatever its kind.
pub fn render_body(cluster: &ManagedCluster, kind: ChildKind, body: &Value) -> Value {
    match kind {
        ChildKind::ManagedNamespaces | ChildKind::IdentityBindings => {
            super::namespaces::render(cluster, kind, body)
        }
        _ => render_child(cluster, kind, stored_name(body), &body["properties"]),
    }
}

/// A child by name (404 `NotFound` as AKS words a missing child).
pub fn get_child<'a>(
    cluster: &'a ManagedCluster,
    kind: ChildKind,
    name: &str,
) -> Result<(&'a String, &'a Value)> {
    cluster
        .surface
        .children(kind)
        .get_key_value(&name.to_ascii_lowercase())
        .ok_or_else(|| not_found_child(kind, cluster, name))
}

/// The stored name of a child (its casing as created) is kept in its body under `name`.
pub fn stored_name(body: &Value) -> &str {
    body.get("name").and_then(Value::as_str).unwrap_or("")
}

/// A `runCommand` result's answer.
pub fn render_command(id: &str, r: &CommandResult) -> Value {
    json!({
        "id": id,
        "properties": {
            "provisioningState": "Succeeded",
            "exitCode": 0,
            "startedAt": r.started_at,
            "finishedAt": r.finished_at,
            "logs": format!(
                "aksim simulated this command: the cluster has no nodes to run it on, so \
                 '{}' was not run. Its result is always exit code 0 with this text.\n",
                r.command
            ),
        }
    })
}

/// The roles a source resource type may be granted (`locations/{l}/trustedAccessRoles`).
pub fn trusted_access_roles() -> Value {
    let role = |source: &str, name: &str, verbs: &[&str]| {
        json!({
            "sourceResourceType": source,
            "name": name,
            "rules": [{
                "verbs": verbs,
                "apiGroups": [""],
                "resources": ["pods", "services", "configmaps", "secrets", "namespaces"],
                "resourceNames": [],
                "nonResourceURLs": []
            }]
        })
    };
    json!({"value": [
        role("Microsoft.MachineLearningServices/workspaces", "inference-v1", &["get", "list", "watch", "create", "update", "delete"]),
        role("Microsoft.MachineLearningServices/workspaces", "training-v1", &["get", "list", "watch", "create", "update", "delete"]),
        role("Microsoft.DataProtection/backupVaults", "backup-operator", &["get", "list", "watch"]),
        role("Microsoft.KubernetesConfiguration/extensions", "extension-manager", &["get", "list", "watch", "create", "update", "delete"]),
    ]})
}

/// `locations/{l}/osOptions/default`.
pub fn os_options(sub: &str, location: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{sub}/providers/{NS}/locations/{location}/osOptions/default"),
        "name": "default",
        "type": format!("{NS}/locations/osOptions"),
        "properties": {"osOptionPropertyList": [
            {"os-type": "Linux", "enable-fips-image": false},
            {"os-type": "Linux", "enable-fips-image": true},
            {"os-type": "Windows", "enable-fips-image": false},
            {"os-type": "Windows", "enable-fips-image": true}
        ]}
    })
}

/// The provider's operations list (`/providers/Microsoft.ContainerService/operations`).
pub fn operations() -> Value {
    let op = |name: &str, resource: &str, operation: &str, description: &str| {
        json!({
            "name": name,
            "origin": "user,system",
            "display": {
                "provider": "Microsoft Container Service",
                "resource": resource,
                "operation": operation,
                "description": description
            }
        })
    };
    let mc = "Managed Clusters";
    json!({"value": [
        op("Microsoft.ContainerService/managedClusters/read", mc, "Get Managed Cluster", "Get a managed cluster"),
        op("Microsoft.ContainerService/managedClusters/write", mc, "Create or Update Managed Cluster", "Creates a new managed cluster or updates an existing one"),
        op("Microsoft.ContainerService/managedClusters/delete", mc, "Delete Managed Cluster", "Deletes a managed cluster"),
        op("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", mc, "List clusterUser credential", "List the clusterUser credential of a managed cluster"),
        op("Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action", mc, "List clusterAdmin credential", "List the clusterAdmin credential of a managed cluster"),
        op("Microsoft.ContainerService/managedClusters/runCommand/action", mc, "Run command", "Run user issued command against managed kubernetes server."),
        op("Microsoft.ContainerService/managedClusters/commandResults/read", mc, "Get command result", "Retrieve result from previous issued command."),
        op("Microsoft.ContainerService/managedClusters/rotateClusterCertificates/action", mc, "Rotate cluster certificates", "Rotate certificates of a managed cluster"),
        op("Microsoft.ContainerService/managedClusters/maintenanceConfigurations/read", "Maintenance Configurations", "Get Maintenance Configuration", "Get a maintenance configuration"),
        op("Microsoft.ContainerService/managedClusters/maintenanceConfigurations/write", "Maintenance Configurations", "Create or Update Maintenance Configuration", "Creates a new maintenance configuration or updates an existing one"),
        op("Microsoft.ContainerService/managedClusters/maintenanceConfigurations/delete", "Maintenance Configurations", "Delete Maintenance Configuration", "Deletes a maintenance configuration"),
        op("Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/read", "Trusted Access Role Bindings", "Get Trusted Access Role Binding", "Get a trusted access role binding"),
        op("Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/write", "Trusted Access Role Bindings", "Create or Update Trusted Access Role Binding", "Create or update a trusted access role binding"),
        op("Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings/delete", "Trusted Access Role Bindings", "Delete Trusted Access Role Binding", "Delete a trusted access role binding"),
        op("Microsoft.ContainerService/snapshots/read", "Snapshots", "Get Snapshot", "Get a snapshot"),
        op("Microsoft.ContainerService/snapshots/write", "Snapshots", "Create or Update Snapshot", "Create or update a snapshot"),
        op("Microsoft.ContainerService/snapshots/delete", "Snapshots", "Delete Snapshot", "Delete a snapshot"),
        op("Microsoft.ContainerService/locations/operations/read", "Operations", "Get Operation", "Gets the status of an asynchronous operation"),
        op("Microsoft.ContainerService/operations/read", "Operations", "List Available Container Service Operations", "Lists operations available on Microsoft.ContainerService resource provider"),
    ]})
}

/// A node-pool snapshot made from an agent pool (`Microsoft.ContainerService/snapshots`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    #[serde(default)]
    pub tags: Option<Map<String, Value>>,
    /// `creationData.sourceResourceId` (the agent pool).
    pub source: String,
    /// What the snapshot copied from the pool.
    pub kubernetes_version: String,
    pub node_image_version: String,
    pub os_type: String,
    pub os_sku: String,
    pub vm_size: String,
    pub enable_fips: bool,
}

impl Snapshot {
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}/providers/{NS}/snapshots/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn render(&self) -> Value {
        let mut out = json!({
            "id": self.id(),
            "name": self.name,
            "type": format!("{NS}/Snapshots"),
            "location": self.location,
            "properties": {
                "creationData": {"sourceResourceId": self.source},
                "snapshotType": "NodePool",
                "kubernetesVersion": self.kubernetes_version,
                "nodeImageVersion": self.node_image_version,
                "osType": self.os_type,
                "osSku": self.os_sku,
                "vmSize": self.vm_size,
                "enableFIPS": self.enable_fips,
            }
        });
        if let (Some(tags), Value::Object(m)) = (&self.tags, &mut out) {
            m.insert("tags".into(), Value::Object(tags.clone()));
        }
        out
    }
}

/// The key of a snapshot among a subscription's: `"{rg}/{name}"`, lower-case.
pub fn snapshot_key(rg: &str, name: &str) -> String {
    super::cluster_key(rg, name)
}

/// Reads a snapshot PUT: the source agent pool's id → (cluster rg, cluster name, pool name).
pub fn snapshot_source(body: &Value) -> Result<(String, String, String, String)> {
    let source = body
        .pointer("/properties/creationData/sourceResourceId")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::invalid_parameter(
                "A snapshot needs properties.creationData.sourceResourceId (the agent pool to \
                 copy).",
                "properties.creationData.sourceResourceId",
            )
        })?;
    let parts: Vec<&str> = source.split('/').filter(|s| !s.is_empty()).collect();
    let at = |i: usize| parts.get(i).copied().unwrap_or("");
    let ok = parts.len() == 10
        && at(0).eq_ignore_ascii_case("subscriptions")
        && at(2).eq_ignore_ascii_case("resourcegroups")
        && at(4).eq_ignore_ascii_case("providers")
        && at(5).eq_ignore_ascii_case(NS)
        && at(6).eq_ignore_ascii_case("managedClusters")
        && at(8).eq_ignore_ascii_case("agentPools");
    if !ok {
        return Err(Error::invalid_parameter(
            format!(
                "The snapshot source '{source}' is not an agent pool id \
                 (/subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerService/\
                 managedClusters/…/agentPools/…)."
            ),
            "properties.creationData.sourceResourceId",
        ));
    }
    Ok((
        source.to_owned(),
        at(3).to_owned(),
        at(7).to_owned(),
        at(9).to_owned(),
    ))
}

/// The pool named `pool` in a rendered cluster's `agentPoolProfiles`.
pub fn pool_of<'a>(rendered: &'a Value, pool: &str) -> Option<&'a Map<String, Value>> {
    rendered
        .pointer("/properties/agentPoolProfiles")?
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .find(|p| {
            p.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(pool))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_names_and_windows_are_checked() {
        let ok = read_child(
            ChildKind::MaintenanceConfigurations,
            "default",
            json!({"properties": {"timeInWeek": [{"day": "Monday", "hourSlots": [1]}]}}),
        );
        assert!(ok.is_ok());
        let bad = read_child(
            ChildKind::MaintenanceConfigurations,
            "weekly",
            json!({"properties": {}}),
        )
        .unwrap_err();
        assert!(
            bad.body.message.contains("'weekly'"),
            "{}",
            bad.body.message
        );
        let missing = read_child(
            ChildKind::MaintenanceConfigurations,
            "aksManagedAutoUpgradeSchedule",
            json!({"properties": {}}),
        )
        .unwrap_err();
        assert!(missing.body.message.contains("maintenanceWindow"));
    }

    #[test]
    fn snapshot_sources_must_be_agent_pools() {
        let (_, rg, cluster, pool) = snapshot_source(&json!({"properties": {"creationData": {
            "sourceResourceId": "/subscriptions/s/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/nodepool1"
        }}}))
        .expect("a pool id");
        assert_eq!(
            (rg.as_str(), cluster.as_str(), pool.as_str()),
            ("rg1", "c1", "nodepool1")
        );
        assert!(snapshot_source(
            &json!({"properties": {"creationData": {"sourceResourceId": "/x"}}})
        )
        .is_err());
        assert!(snapshot_source(&json!({})).is_err());
    }
}
