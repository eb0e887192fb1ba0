//! Agent pools, stop/start and upgrade profiles on the wire (`core::clusters::pools`,
//! `power`, `upgrades` behind `core::service`): `agentPools` list (paged) and
//! GET/PUT (201 create / 200 update with `Azure-AsyncOperation`)/DELETE (202 with both status
//! URLs, 204 when absent), `upgradeNodeImageVersion` (202 with the pool and both URLs),
//! `abort` (204), the cluster's `stop` and `start` (202 with both URLs, as recorded), the
//! `upgradeProfiles/default` of the cluster and of each pool, `availableAgentPoolVersions` and a
//! pool's `machines`.

use axum::http::{Method, StatusCode};

use crate::arm::error::ArmResult;
use crate::arm::operation;
use crate::arm::paging::page;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::service::PoolWrite;
use crate::providers::routes::Params;
use crate::state::AppState;

fn coordinates(p: &Params) -> (&str, &str, &str) {
    (
        p.get("resourceGroupName"),
        p.get("resourceName"),
        p.get("agentPoolName"),
    )
}

/// `GET .../managedClusters/{c}/agentPools`, paged.
pub fn list(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (rg, cluster, _) = coordinates(p);
    let pools = state.core.list_agent_pools(p.sub(), rg, cluster)?;
    Ok(ArmResponse::ok(&page(req, pools)?))
}

/// `.../agentPools/{p}`: GET, PUT (create or update), DELETE.
pub fn pool(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let sub = p.sub();
    let (rg, cluster, pool) = coordinates(p);
    if req.method == Method::GET {
        return Ok(ArmResponse::ok(
            &state.core.get_agent_pool(sub, rg, cluster, pool)?,
        ));
    }
    let body = match req.method {
        Method::PUT => req.take_json(),
        _ => Ok(None),
    };
    let write = PoolWrite {
        sub,
        rg,
        cluster,
        pool,
        body,
        preconditions: req.preconditions(),
        api_version: req.api_version().unwrap_or_default(),
        injected: req.injected_failure.as_ref(),
    };
    if req.method == Method::PUT {
        let (created, body, op) = state.core.put_agent_pool(write)?;
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Ok(ArmResponse::json(status, &body).with_header(
            "azure-asyncoperation",
            &operation::async_operation_url(&op, &req.base_url, sub),
        ));
    }
    Ok(match state.core.delete_agent_pool(write)? {
        Some(op) => operation::accepted(&op, &req.base_url, sub),
        None => ArmResponse::empty(StatusCode::NO_CONTENT),
    })
}

/// `POST .../agentPools/{p}/upgradeNodeImageVersion`: 202 with the pool and both status URLs.
pub fn upgrade_node_image(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    req.expect_no_body()?;
    let (rg, cluster, pool) = coordinates(p);
    let write = PoolWrite {
        sub: p.sub(),
        rg,
        cluster,
        pool,
        body: Ok(None),
        preconditions: req.preconditions(),
        api_version: req.api_version().unwrap_or_default(),
        injected: req.injected_failure.as_ref(),
    };
    let (body, op) = state.core.upgrade_node_image(write)?;
    let accepted = operation::accepted(&op, &req.base_url, p.sub());
    let mut response = ArmResponse::json(StatusCode::ACCEPTED, &body);
    response.headers = accepted.headers;
    Ok(response)
}

/// `POST .../agentPools/{p}/deleteMachines`: 202 with `Location` (and
/// `Azure-AsyncOperation`); the pool `Scaling` until it ends.
pub fn delete_machines(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (rg, cluster, pool) = coordinates(p);
    let write = PoolWrite {
        sub: p.sub(),
        rg,
        cluster,
        pool,
        body: req.take_json(),
        preconditions: req.preconditions(),
        api_version: req.api_version().unwrap_or_default(),
        injected: req.injected_failure.as_ref(),
    };
    let op = state.core.delete_machines(write)?;
    Ok(operation::accepted(&op, &req.base_url, p.sub()))
}

/// `POST .../agentPools/{p}/abort`: 204; the pool's running operation ends `Canceled`.
pub fn abort(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    req.expect_no_body()?;
    let (rg, cluster, pool) = coordinates(p);
    state.core.abort_agent_pool(p.sub(), rg, cluster, pool)?;
    Ok(ArmResponse::empty(StatusCode::NO_CONTENT))
}

fn power(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
    running: bool,
) -> ArmResult<ArmResponse> {
    req.expect_no_body()?;
    let (rg, cluster, _) = coordinates(p);
    let op = state.core.change_cluster_power(
        p.sub(),
        rg,
        cluster,
        running,
        req.api_version().unwrap_or_default(),
        req.injected_failure.as_ref(),
    )?;
    Ok(operation::accepted(&op, &req.base_url, p.sub()))
}

/// `POST .../stop`: 202 with both status URLs.
pub fn stop(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    power(state, req, p, false)
}

/// `POST .../start`: 202 with both status URLs.
pub fn start(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    power(state, req, p, true)
}

/// `GET .../managedClusters/{c}/upgradeProfiles/default`.
pub fn cluster_upgrade_profile(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (rg, cluster, _) = coordinates(p);
    Ok(ArmResponse::ok(&state.core.cluster_upgrade_profile(
        p.sub(),
        rg,
        cluster,
    )?))
}

/// `GET .../agentPools/{p}/machines`, paged.
pub fn machines(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (rg, cluster, pool) = coordinates(p);
    let list = state.core.list_machines(p.sub(), rg, cluster, pool)?;
    Ok(ArmResponse::ok(&page(req, list)?))
}

/// `GET .../agentPools/{p}/machines/{m}`.
pub fn machine(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (rg, cluster, pool) = coordinates(p);
    Ok(ArmResponse::ok(&state.core.get_machine(
        p.sub(),
        rg,
        (cluster, pool, p.get("machineName")),
    )?))
}

/// `GET .../managedClusters/{c}/availableAgentPoolVersions`.
pub fn available_versions(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (rg, cluster, _) = coordinates(p);
    Ok(ArmResponse::ok(&state.core.available_agent_pool_versions(
        p.sub(),
        rg,
        cluster,
    )?))
}

/// `GET .../agentPools/{p}/upgradeProfiles/default`.
pub fn pool_upgrade_profile(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (rg, cluster, pool) = coordinates(p);
    Ok(ArmResponse::ok(&state.core.pool_upgrade_profile(
        p.sub(),
        rg,
        cluster,
        pool,
    )?))
}
