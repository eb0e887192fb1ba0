//! The operation-status resource of a cluster and of its pools (`OperationStatusResult_Get`,
//! `_GetByAgentPool`, `_List`): AKS serves it in its preview api-versions from
//! 2024-01-02-preview on (docs: manage-abort-operations); aks-preview's
//! `az aks operation show` / `show-latest` read it (`latest` names the newest operation).

use axum::http::StatusCode;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::paging::page;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::providers::routes::Params;
use crate::state::AppState;

/// The first api-version that serves the resource.
const FIRST: &str = "2024-01-02-preview";

/// Preview api-versions from [`FIRST`] on serve it; others (every stable one) do not.
fn check_version(req: &ArmRequest) -> ArmResult<()> {
    let given = req.api_version().unwrap_or_default();
    let served = given
        .strip_suffix("-preview")
        .is_some_and(|day| day >= FIRST.trim_end_matches("-preview"));
    if served {
        return Ok(());
    }
    Err(ArmError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!(
            "The operation status resource is served by the preview api-versions from {FIRST} \
             on; api-version '{given}' does not serve it."
        ),
    ))
}

/// `GET .../managedClusters/{c}/operations/{operationId}`.
pub fn cluster(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    check_version(req)?;
    Ok(ArmResponse::ok(&state.core.cluster_operation_status(
        p.sub(),
        p.get("resourceGroupName"),
        (p.get("resourceName"), None),
        p.get("operationId"),
    )?))
}

/// `GET .../managedClusters/{c}/agentPools/{p}/operations/{operationId}`.
pub fn pool(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    check_version(req)?;
    Ok(ArmResponse::ok(&state.core.cluster_operation_status(
        p.sub(),
        p.get("resourceGroupName"),
        (p.get("resourceName"), Some(p.get("agentPoolName"))),
        p.get("operationId"),
    )?))
}

/// `GET .../managedClusters/{c}/operations`: newest first.
pub fn list(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    check_version(req)?;
    let all = state.core.cluster_operation_statuses(
        p.sub(),
        p.get("resourceGroupName"),
        p.get("resourceName"),
    )?;
    Ok(ArmResponse::ok(&page(req, all)?))
}
