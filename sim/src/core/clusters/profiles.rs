//! Catalogue views as ARM resources: `locations/{loc}/kubernetesVersions`,
//! `locations/{loc}/meshRevisionProfiles/istio` and a cluster's `meshUpgradeProfiles/istio`,
//! computed from the AKS catalogue and, for upgrades, the cluster
//! (`../shared/reference/ARM-CONTRACT.md` §5.5).
//!
//! Choices where Azure's behaviour is unknown (docs/deviations.md): a cluster without an Istio
//! mesh has no upgrade profile; during a canary upgrade asking for one is 400 `BadRequest` with
//! the troubleshooting guide's text.

use serde_json::{json, Value};

use super::{ManagedCluster, NS};
use crate::core::error::{Error, Result};
use crate::core::timeline::catalog::{AksCatalog, MeshRevision};

/// `{"values": [...]}` of `kubernetesVersions`.
pub fn kubernetes_versions(catalog: &AksCatalog) -> Value {
    let versions = &catalog.kubernetes.versions;
    let values: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let next_minor = versions.get(i + 1);
            let mut patches = serde_json::Map::new();
            for (j, patch) in v.patch_versions.iter().enumerate() {
                let mut upgrades: Vec<String> = v.patch_versions[j + 1..].to_vec();
                if let Some(n) = next_minor {
                    upgrades.extend(n.patch_versions.iter().cloned());
                }
                patches.insert(patch.clone(), json!({ "upgrades": upgrades }));
            }
            let mut plans = Vec::new();
            if v.official {
                plans.push("KubernetesOfficial");
            }
            if v.lts {
                plans.push("AKSLongTermSupport");
            }
            let mut item = json!({
                "version": v.version,
                "capabilities": { "supportPlan": plans },
                "patchVersions": patches,
            });
            if v.version == catalog.kubernetes.default {
                item["isDefault"] = true.into();
            }
            if v.preview {
                item["isPreview"] = true.into();
            }
            item
        })
        .collect();
    json!({ "values": values })
}

fn revision_json(catalog: &AksCatalog, r: &MeshRevision) -> Value {
    let mut item = json!({ "revision": r.revision });
    let upgrades = catalog.upgrade_targets(&r.revision);
    if !upgrades.is_empty() {
        item["upgrades"] = upgrades.into();
    }
    item["compatibleWith"] = serde_json::to_value(&r.compatible_with).unwrap_or_default();
    item
}

/// The `istio` mesh revision profile of `location` (as the client wrote it; `canonical` is its
/// canonical name): every listed revision, none in a region without the add-on.
pub fn mesh_revision_profile(
    catalog: &AksCatalog,
    subscription: &str,
    location: &str,
    canonical: &str,
) -> Value {
    let revisions: Vec<Value> = if catalog.region_supported(canonical) {
        catalog
            .listed_revisions()
            .map(|r| revision_json(catalog, r))
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "id": format!("/subscriptions/{subscription}/providers/{NS}/locations/{location}/meshRevisionProfiles/istio"),
        "name": "istio",
        "type": "Microsoft.ContainerService/locations/meshRevisionProfiles",
        "properties": { "meshRevisions": revisions },
    })
}

/// The `istio` mesh upgrade profile of a cluster: `None` when it has no Istio mesh, 400
/// during a canary upgrade.
pub fn mesh_upgrade_profile(
    catalog: &AksCatalog,
    cluster: &ManagedCluster,
) -> Result<Option<Value>> {
    let revisions = cluster
        .mesh
        .as_ref()
        .map(|m| m.revisions().to_vec())
        .unwrap_or_default();
    if revisions.len() > 1 {
        return Err(Error::bad_request(
            "Mesh upgrade is in progress. Please complete or roll back the current upgrade \
             before attempting to retrieve versioning and compatibility information",
        ));
    }
    let Some(current) = revisions.first() else {
        return Ok(None);
    };
    let minor = crate::core::timeline::catalog::minor_of(&cluster.kubernetes_version)
        .map(|(a, b)| format!("{a}.{b}"))
        .unwrap_or_default();
    let plan = cluster.support_plan();
    let upgrades: Vec<String> = catalog
        .upgrade_targets(current)
        .into_iter()
        .filter(|t| catalog.is_compatible(t, &minor, plan))
        .collect();
    let compatible: Value = catalog
        .revision(current)
        .map(|r| serde_json::to_value(&r.compatible_with).unwrap_or_default())
        .unwrap_or_else(|| json!([]));
    let mut properties = json!({ "revision": current });
    if !upgrades.is_empty() {
        properties["upgrades"] = upgrades.into();
    }
    properties["compatibleWith"] = compatible;
    Ok(Some(json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{NS}/managedClusters/{}/meshUpgradeProfiles/istio",
            cluster.subscription, cluster.resource_group, cluster.name
        ),
        "name": "istio",
        "type": "Microsoft.ContainerService/managedClusters/meshUpgradeProfiles",
        "properties": properties,
    })))
}
