//! Catalogue views on the wire: `locations/{loc}/kubernetesVersions`,
//! `locations/{loc}/meshRevisionProfiles` (list and `/{mode}`) and a cluster's
//! `meshUpgradeProfiles` (list and `/{mode}`); the documents are `core::clusters::profiles`.
//!
//! Choices where Azure's behaviour is unknown (docs/deviations.md): a mode other than `istio`
//! → 404 `NotFound`; meshUpgradeProfiles of a cluster without an Istio mesh → an empty list
//! (az then warns "No mesh upgrade profiles found") and 404 for `/istio`.

use axum::http::StatusCode;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::paging::page;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::clusters::{profiles, NS};
use crate::core::error::Error;
use crate::providers::routes::Params;
use crate::state::AppState;

/// Longest `mode` path segment (spec).
pub const MODE_MAX_CHARS: usize = 24;

fn check_location(state: &AppState, location: &str, resource_type: &str) -> ArmResult<String> {
    let catalog = state.core.resource_types;
    catalog.normalize_location(location).ok_or_else(|| {
        Error::location_not_available(
            location,
            &format!("{NS}/{resource_type}"),
            &catalog.locations,
        )
        .into()
    })
}

fn check_mode(mode: &str, what: &str) -> ArmResult<()> {
    let valid = !mode.is_empty()
        && mode.len() <= MODE_MAX_CHARS
        && mode
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if !valid {
        return Err(Error::invalid_parameter(
            format!("The value '{mode}' of parameter 'mode' is invalid."),
            "mode",
        )
        .into());
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

/// `GET locations/{loc}/kubernetesVersions`.
pub fn kubernetes_versions(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    check_location(state, p.get("location"), "locations/kubernetesVersions")?;
    Ok(ArmResponse::ok(&state.core.kubernetes_versions(p.sub())?))
}

fn revision_profile(
    state: &AppState,
    p: &Params,
    mode: Option<&str>,
) -> ArmResult<serde_json::Value> {
    let location = p.get("location");
    let canonical = check_location(state, location, "locations/meshRevisionProfiles")?;
    if let Some(mode) = mode {
        check_mode(mode, "Mesh revision profile")?;
    }
    Ok(state
        .core
        .mesh_revision_profile(p.sub(), location, &canonical)?)
}

/// `GET locations/{loc}/meshRevisionProfiles`: a list of one.
pub fn mesh_revision_profiles(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let profile = revision_profile(state, p, None)?;
    Ok(ArmResponse::ok(&page(req, vec![profile])?))
}

/// `GET locations/{loc}/meshRevisionProfiles/{mode}`.
pub fn mesh_revision_profile(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    Ok(ArmResponse::ok(&revision_profile(
        state,
        p,
        Some(p.get("mode")),
    )?))
}

/// The cluster's name (as stored) and its upgrade profile.
fn upgrade_profile(
    state: &AppState,
    p: &Params,
    mode: Option<&str>,
) -> ArmResult<(String, Option<serde_json::Value>)> {
    let info =
        state
            .core
            .cluster_info(p.sub(), p.get("resourceGroupName"), p.get("resourceName"))?;
    if let Some(mode) = mode {
        check_mode(mode, "Mesh upgrade profile")?;
    }
    let aks = state.core.aks_for(p.sub());
    let profile = profiles::mesh_upgrade_profile(&aks, &info.cluster)?;
    Ok((info.cluster.name, profile))
}

/// `GET .../meshUpgradeProfiles`: a list of one, empty without an Istio mesh.
pub fn mesh_upgrade_profiles(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let profiles = upgrade_profile(state, p, None)?.1.into_iter().collect();
    Ok(ArmResponse::ok(&page(req, profiles)?))
}

/// `GET .../meshUpgradeProfiles/{mode}`: 404 without an Istio mesh.
pub fn mesh_upgrade_profile(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    match upgrade_profile(state, p, Some(p.get("mode")))? {
        (_, Some(profile)) => Ok(ArmResponse::ok(&profile)),
        (cluster_name, None) => Err(ArmError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "Mesh upgrade profile 'istio' was not found: Azure Service Mesh is not enabled \
                 for managed cluster '{cluster_name}'."
            ),
        )),
    }
}
