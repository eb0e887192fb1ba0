//! The Microsoft.ContainerService surface around a cluster that tools read (issue 16):
//! `maintenanceConfigurations` and `trustedAccessRoleBindings` CRUD (PUT 200/201, DELETE
//! 200/204), `runCommand` (202 + `Location` to its `commandResults`) and `commandResults`,
//! `rotateClusterCertificates` (202 + `Azure-AsyncOperation`/`Location`),
//! `privateEndpointConnections` / `privateLinkResources` (empty on a public cluster),
//! `snapshots` CRUD, `locations/{l}/trustedAccessRoles`, `locations/{l}/osOptions/default` and
//! the provider's `operations` list. The state is `core::clusters::surface` behind
//! `core::service`.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::arm::error::ArmResult;
use crate::arm::operation;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::clusters::surface::{self, ChildKind};
use crate::providers::routes::Params;
use crate::state::AppState;

fn coords(p: &Params) -> (&str, &str, &str) {
    (p.sub(), p.get("resourceGroupName"), p.get("resourceName"))
}

fn children(
    kind: ChildKind,
    child_param: &str,
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    let child = p.get(child_param);
    let core = &state.core;
    Ok(match req.method {
        Method::PUT => {
            let (created, body) = core.put_child(sub, rg, name, kind, child, req.take_json())?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            ArmResponse::json(status, &body)
        }
        Method::DELETE => {
            if core.delete_child(sub, rg, name, kind, child)? {
                ArmResponse::empty(StatusCode::OK)
            } else {
                ArmResponse::empty(StatusCode::NO_CONTENT)
            }
        }
        _ => ArmResponse::ok(&core.get_child(sub, rg, name, kind, child)?),
    })
}

/// `.../maintenanceConfigurations`: the list.
pub fn maintenance_list(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    Ok(ArmResponse::ok(&state.core.list_children(
        sub,
        rg,
        name,
        ChildKind::MaintenanceConfigurations,
    )?))
}

/// `.../maintenanceConfigurations/{configName}`: GET, PUT, DELETE.
pub fn maintenance(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    children(
        ChildKind::MaintenanceConfigurations,
        "configName",
        state,
        req,
        p,
    )
}

/// `.../trustedAccessRoleBindings`: the list.
pub fn role_bindings_list(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    Ok(ArmResponse::ok(&state.core.list_children(
        sub,
        rg,
        name,
        ChildKind::TrustedAccessRoleBindings,
    )?))
}

/// `.../trustedAccessRoleBindings/{bindingName}`: GET, PUT, DELETE.
pub fn role_binding(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    children(
        ChildKind::TrustedAccessRoleBindings,
        "bindingName",
        state,
        req,
        p,
    )
}

/// `POST .../runCommand`: 202 with `Location` naming the command's result.
pub fn run_command(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    let id = state.core.run_command(sub, rg, name, req.take_json())?;
    let location = format!(
        "{}/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}/commandResults/{id}?api-version={}",
        req.base_url,
        req.api_version().unwrap_or_default()
    );
    Ok(ArmResponse::empty(StatusCode::ACCEPTED)
        .with_header("location", &location)
        .with_header("retry-after", &operation::retry_after()))
}

/// `GET .../commandResults/{commandId}`: 200 with the (finished) result.
pub fn command_result(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    Ok(ArmResponse::ok(&state.core.command_result(
        sub,
        rg,
        name,
        p.get("commandId"),
    )?))
}

/// `POST .../rotateClusterCertificates`: 202, the cluster `Updating` until the operation ends.
pub fn rotate_certificates(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    let op = state.core.rotate_certificates(
        sub,
        rg,
        name,
        req.api_version().unwrap_or_default(),
        req.injected_failure.as_ref(),
    )?;
    Ok(operation::accepted(&op, &req.base_url, sub))
}

/// `.../privateEndpointConnections` and `.../privateLinkResources`: a public cluster has none.
pub fn empty_private_list(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    state.core.require_cluster(sub, rg, name)?;
    Ok(ArmResponse::ok(&json!({ "value": [] })))
}

/// `.../privateEndpointConnections/{name}`: none exists on a public cluster.
pub fn private_endpoint_connection(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    state.core.require_cluster(sub, rg, name)?;
    let connection = p.get("connectionName");
    Err(crate::core::error::Error::resource_not_found(
        &format!("Microsoft.ContainerService/managedClusters/{name}/privateEndpointConnections/{connection}"),
        rg,
    )
    .into())
}

/// `GET .../locations/{location}/trustedAccessRoles`.
pub fn trusted_access_roles(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    state.core.require_provider(p.sub())?;
    Ok(ArmResponse::ok(&surface::trusted_access_roles()))
}

/// `GET .../locations/{location}/osOptions/default`.
pub fn os_options(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    state.core.require_provider(p.sub())?;
    let location = state
        .core
        .resource_types
        .normalize_location(p.get("location"))
        .unwrap_or_else(|| p.get("location").to_ascii_lowercase());
    Ok(ArmResponse::ok(&surface::os_options(p.sub(), &location)))
}

/// `GET /providers/Microsoft.ContainerService/operations`.
pub fn operations(_: &AppState, _: &mut ArmRequest, _: &Params) -> ArmResult<ArmResponse> {
    Ok(ArmResponse::ok(&surface::operations()))
}

/// `GET .../snapshots` (subscription or resource-group scope).
pub fn list_snapshots(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let rg = Some(p.get("resourceGroupName")).filter(|g| !g.is_empty());
    Ok(ArmResponse::ok(&state.core.list_snapshots(p.sub(), rg)?))
}

/// `.../snapshots/{resourceName}`: GET, PUT, PATCH (tags), DELETE.
pub fn snapshot(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    let core = &state.core;
    Ok(match req.method {
        Method::PUT => {
            let (created, body) = core.put_snapshot(sub, rg, name, req.take_json())?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            ArmResponse::json(status, &body)
        }
        Method::PATCH => ArmResponse::ok(&core.patch_snapshot(sub, rg, name, req.take_json())?),
        Method::DELETE => {
            if core.delete_snapshot(sub, rg, name)? {
                ArmResponse::empty(StatusCode::OK)
            } else {
                ArmResponse::empty(StatusCode::NO_CONTENT)
            }
        }
        _ => ArmResponse::ok(&core.get_snapshot(sub, rg, name)?),
    })
}
