//! Catalogue views: `locations/{loc}/kubernetesVersions`, `locations/{loc}/meshRevisionProfiles`
//! (list and `/istio`) and a cluster's `meshUpgradeProfiles` (list and `/istio`), all computed
//! from the AKS catalogue (`catalog.rs`) and, for upgrades, the cluster (ARM-CONTRACT §5.5).
//!
//! Choices where Azure's behaviour is unknown (docs/deviations.md): a mode other than `istio`
//! → 404 `NotFound`; meshUpgradeProfiles of a cluster without an Istio mesh → an empty list
//! (az then warns "No mesh upgrade profiles found") and 404 for `/istio`; during a canary
//! upgrade both → 400 `BadRequest` with the troubleshooting guide's text.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::catalog::{minor_of, AksCatalog, MeshRevision};
use super::{cluster_not_found, gate_group, NS};
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::kube::plane_key;
use crate::providers::registration;
use crate::providers::resources::{only, page};
use crate::state::AppState;

/// Longest `mode` path segment (spec).
pub const MODE_MAX_CHARS: usize = 24;

fn check_location(state: &AppState, location: &str, resource_type: &str) -> ArmResult<String> {
    state.catalog.normalize_location(location).ok_or_else(|| {
        ArmError::location_not_available(
            location,
            &format!("{NS}/{resource_type}"),
            &state.catalog.locations,
        )
    })
}

fn check_mode(mode: &str, what: &str) -> ArmResult<()> {
    let valid = !mode.is_empty()
        && mode.len() <= MODE_MAX_CHARS
        && mode
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if !valid {
        return Err(ArmError::invalid_parameter(
            format!("The value '{mode}' of parameter 'mode' is invalid."),
            "mode",
        ));
    }
    if !mode.eq_ignore_ascii_case("istio") {
        return Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{what} for mode '{mode}' was not found. The only supported mode is 'istio'."),
        ));
    }
    Ok(())
}

pub fn kubernetes_versions(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    location: &str,
) -> ArmResult<ArmResponse> {
    state.catalog.check_provider(
        NS,
        "locations/kubernetesVersions",
        req.api_version(),
        Some(location),
    )?;
    only(req, &[Method::GET])?;
    check_location(state, location, "locations/kubernetesVersions")?;
    let now = state.clock.now();
    state.store.with(sub, now, |s| {
        registration::require_registered(state, s, NS, now)
    })?;
    let catalog = &state.aks_catalog_for(sub);
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
            let mut plans = vec!["KubernetesOfficial"];
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
    Ok(ArmResponse::ok(&json!({ "values": values })))
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

pub fn mesh_revision_profiles(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    location: &str,
    mode: Option<&str>,
) -> ArmResult<ArmResponse> {
    state.catalog.check_provider(
        NS,
        "locations/meshRevisionProfiles",
        req.api_version(),
        Some(location),
    )?;
    only(req, &[Method::GET])?;
    let canonical = check_location(state, location, "locations/meshRevisionProfiles")?;
    if let Some(mode) = mode {
        check_mode(mode, "Mesh revision profile")?;
    }
    let now = state.clock.now();
    state.store.with(sub, now, |s| {
        registration::require_registered(state, s, NS, now)
    })?;
    let catalog = &state.aks_catalog_for(sub);
    let revisions: Vec<Value> = if catalog.region_supported(&canonical) {
        catalog
            .listed_revisions()
            .map(|r| revision_json(catalog, r))
            .collect()
    } else {
        Vec::new()
    };
    let profile = json!({
        "id": format!("/subscriptions/{sub}/providers/{NS}/locations/{location}/meshRevisionProfiles/istio"),
        "name": "istio",
        "type": "Microsoft.ContainerService/locations/meshRevisionProfiles",
        "properties": { "meshRevisions": revisions },
    });
    if mode.is_some() {
        return Ok(ArmResponse::ok(&profile));
    }
    Ok(ArmResponse::ok(&page(req, vec![profile])?))
}

pub fn mesh_upgrade_profiles(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    rg: &str,
    name: &str,
    mode: Option<&str>,
) -> ArmResult<ArmResponse> {
    state.catalog.check_provider(
        NS,
        "managedClusters/meshUpgradeProfiles",
        req.api_version(),
        None,
    )?;
    only(req, &[Method::GET])?;
    let now = state.clock.now();
    let key = plane_key(rg, name);
    let (cluster_name, group, revisions, minor, plan) = state.store.with(sub, now, |s| {
        gate_group(state, s, rg, now)?;
        let c = s
            .managed_clusters
            .get(&key)
            .ok_or_else(|| cluster_not_found(name, rg))?;
        let minor = minor_of(&c.kubernetes_version)
            .map(|(a, b)| format!("{a}.{b}"))
            .unwrap_or_default();
        Ok::<_, ArmError>((
            c.name.clone(),
            c.resource_group.clone(),
            c.mesh
                .as_ref()
                .map(|m| m.revisions().to_vec())
                .unwrap_or_default(),
            minor,
            c.support_plan().to_owned(),
        ))
    })?;
    if let Some(mode) = mode {
        check_mode(mode, "Mesh upgrade profile")?;
    }
    if revisions.len() > 1 {
        return Err(ArmError::bad_request(
            "Mesh upgrade is in progress. Please complete or roll back the current upgrade \
             before attempting to retrieve versioning and compatibility information",
        ));
    }
    let catalog = &state.aks_catalog_for(sub);
    let Some(current) = revisions.first() else {
        if mode.is_some() {
            return Err(ArmError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!(
                    "Mesh upgrade profile 'istio' was not found: Azure Service Mesh is not \
                     enabled for managed cluster '{cluster_name}'."
                ),
            ));
        }
        return Ok(ArmResponse::ok(&page(req, Vec::new())?));
    };
    let upgrades: Vec<String> = catalog
        .upgrade_targets(current)
        .into_iter()
        .filter(|t| catalog.is_compatible(t, &minor, &plan))
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
    let profile = json!({
        "id": format!("/subscriptions/{sub}/resourceGroups/{group}/providers/{NS}/managedClusters/{cluster_name}/meshUpgradeProfiles/istio"),
        "name": "istio",
        "type": "Microsoft.ContainerService/managedClusters/meshUpgradeProfiles",
        "properties": properties,
    });
    if mode.is_some() {
        return Ok(ArmResponse::ok(&profile));
    }
    Ok(ArmResponse::ok(&page(req, vec![profile])?))
}
