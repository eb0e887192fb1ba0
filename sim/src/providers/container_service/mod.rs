//! Microsoft.ContainerService on the wire: managedClusters and the Istio service-mesh add-on.
//!
//! Resource types (api-versions from `data/resource-types.json`, set `aks`): `managedClusters`
//! (PUT/GET/PATCH tags/DELETE, lists, `listCluster{User,Admin,MonitoringUser}Credential`,
//! `abort`), `managedClusters/meshUpgradeProfiles`, `locations/kubernetesVersions`,
//! `locations/meshRevisionProfiles`, and the operation-status targets `locations/operations`
//! and `locations/operationresults` (set `aksOperations`); `surface` the resources around a
//! cluster that tools read (maintenance configurations, run command, certificate rotation,
//! private endpoint lists, snapshots, trusted access, OS options, the operations list).
//!
//! The cluster itself — its gates, rules, lifecycle and operations — is `core::clusters`
//! behind `core::service`; this adapter parses, calls and renders: PUT create 201 / update 200
//! with `Azure-AsyncOperation`, DELETE 202 with `Azure-AsyncOperation` and `Location` (204
//! when absent), abort 204 (`../shared/reference/ARM-CONTRACT.md` §2.4).

pub mod agent_pools;
pub mod credentials;
pub mod namespaces;
pub mod op_status;
pub mod profiles;
pub mod surface;

use axum::http::{Method, StatusCode};

use crate::arm::error::ArmResult;
use crate::arm::operation;
use crate::arm::paging::page_of;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::service::ClusterWrite;
use crate::providers::routes::Params;
use crate::state::AppState;

/// `GET .../managedClusters` (subscription or resource-group scope), paged.
pub fn list_clusters(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let rg = Some(p.get("resourceGroupName")).filter(|g| !g.is_empty());
    let body = state
        .core
        .list_clusters(p.sub(), rg, |total, render| page_of(req, total, render))??;
    Ok(ArmResponse::ok(&body))
}

/// `.../managedClusters/{name}`: GET, PUT (create or update), PATCH (tags), DELETE.
pub fn cluster(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = (p.sub(), p.get("resourceGroupName"), p.get("resourceName"));
    if req.method == Method::GET {
        let bytes = state.core.get_cluster(sub, rg, name)?;
        return Ok(ArmResponse::raw_json(StatusCode::OK, bytes));
    }
    let body = match req.method {
        Method::PUT | Method::PATCH => req.take_json(),
        _ => Ok(None),
    };
    let write = ClusterWrite {
        sub,
        rg,
        name,
        body,
        preconditions: req.preconditions(),
        api_version: req.api_version().unwrap_or_default(),
        injected: req.injected_failure.as_ref(),
    };
    match req.method {
        Method::PUT => {
            let (created, bytes, op) = state.core.put_cluster(write)?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(ArmResponse::raw_json(status, bytes).with_header(
                "azure-asyncoperation",
                &operation::async_operation_url(&op, &req.base_url, sub),
            ))
        }
        Method::PATCH => Ok(ArmResponse::raw_json(
            StatusCode::OK,
            state.core.patch_cluster(write)?,
        )),
        _ => Ok(match state.core.delete_cluster(write)? {
            Some(op) => operation::accepted(&op, &req.base_url, sub),
            None => ArmResponse::empty(StatusCode::NO_CONTENT),
        }),
    }
}

/// `POST .../abort` (AbortLatestOperation): 204; the running create/update ends `Canceled`.
pub fn abort(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    req.expect_no_body()?;
    state
        .core
        .abort_cluster(p.sub(), p.get("resourceGroupName"), p.get("resourceName"))?;
    Ok(ArmResponse::empty(StatusCode::NO_CONTENT))
}

/// `locations/{loc}/operations/{id}`: 200 with the status body.
pub fn operation_status(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let op = state.core.poll_operation(
        p.sub(),
        p.get("operationId"),
        Some(crate::core::clusters::NS),
    )?;
    Ok(ArmResponse::ok(&operation::status_body(&op))
        .with_header("retry-after", &operation::retry_after()))
}

/// `locations/{loc}/operationresults/{id}`: 202 while running, 204 when done.
pub fn operation_result(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let op = state.core.poll_operation(
        p.sub(),
        p.get("operationId"),
        Some(crate::core::clusters::NS),
    )?;
    Ok(operation::result(
        &op,
        &req.base_url,
        p.sub(),
        StatusCode::NO_CONTENT,
    ))
}
