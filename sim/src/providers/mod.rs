//! ARM routing: turns a parsed path into a handler call. Segment names compare ignoring
//! ASCII case (`resourcegroups` and `resourceGroups` both occur on the wire); names keep the
//! caller's casing. Each provider module exports the dispatch functions for the paths under its
//! namespace (`container_service`: one for subscription-scoped and one for group-scoped paths).
//!
//! Gates run in ARM's order (ARM-CONTRACT §0.3): api-version → subscription → provider
//! registration → resource group → resource.

pub mod container_service;
pub mod features;
pub mod locations;
pub mod registration;
pub mod resources;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::error::Error;
use crate::state::AppState;

/// Handles one ARM request (authentication already checked).
pub fn dispatch(state: &AppState, req: &ArmRequest) -> ArmResult<ArmResponse> {
    let p = &req.path;
    if p.is(0, "subscriptions") {
        if p.len() == 1 {
            return resources::list_subscriptions(state, req);
        }
        let sub = resources::parse_subscription_id(p.seg(1))?;
        // Past `SUBSCRIPTIONS_MAX`, a subscription aksim holds no state for does not exist.
        if !state.store.has_room_for(&sub) {
            return Err(Error::subscription_not_found(&sub).into());
        }
        return dispatch_subscription(state, req, &sub);
    }
    if p.is(0, "tenants") && p.len() == 1 {
        return resources::list_tenants(state, req);
    }
    if p.is(0, "providers") {
        match p.len() {
            1 => return registration::list_tenant(state, req),
            2 => return registration::get_tenant(state, req, p.seg(1)),
            _ => {}
        }
    }
    Err(no_route(req))
}

fn dispatch_subscription(state: &AppState, req: &ArmRequest, sub: &str) -> ArmResult<ArmResponse> {
    let p = &req.path;
    match p.len() {
        2 => return resources::get_subscription(state, req, sub),
        3 if p.is(2, "resourcegroups") => return resources::list_groups(state, req, sub),
        3 if p.is(2, "locations") => return locations::list_locations(state, req, sub),
        4 if p.is(2, "resourcegroups") => return resources::group(state, req, sub, p.seg(3)),
        4 if p.is(2, "operationresults") => {
            return resources::operation_result(state, req, sub, p.seg(3))
        }
        5 if p.is(2, "resourcegroups") && p.is(4, "resources") => {
            return resources::list_group_resources(state, req, sub, p.seg(3))
        }
        3 if p.is(2, "providers") => return registration::list(state, req, sub),
        4 if p.is(2, "providers") => return registration::get(state, req, sub, p.seg(3)),
        5 if p.is(2, "providers") && p.is(4, "register") => {
            return registration::change(state, req, sub, p.seg(3), true)
        }
        5 if p.is(2, "providers") && p.is(4, "unregister") => {
            return registration::change(state, req, sub, p.seg(3), false)
        }
        n if n >= 5 && p.is(2, "providers") => return dispatch_namespace(state, req, sub),
        n if n >= 7 && p.is(2, "resourcegroups") && p.is(4, "providers") => {
            return dispatch_group_namespace(state, req, sub)
        }
        _ => {}
    }
    Err(no_route(req))
}

/// `/subscriptions/{s}/resourcegroups/{rg}/providers/{namespace}/{type}/...`.
fn dispatch_group_namespace(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
) -> ArmResult<ArmResponse> {
    let p = &req.path;
    let namespace = p.seg(5);
    if namespace.eq_ignore_ascii_case(container_service::NS) {
        return container_service::dispatch_group_scope(state, req, sub, p.seg(3));
    }
    Err(unknown_type(state, req, namespace, p.seg(6)))
}

/// `/subscriptions/{s}/providers/{namespace}/{type}...`: one arm per provider module.
fn dispatch_namespace(state: &AppState, req: &ArmRequest, sub: &str) -> ArmResult<ArmResponse> {
    let p = &req.path;
    let namespace = p.seg(3);
    match namespace.to_ascii_lowercase().as_str() {
        "microsoft.features" => features::dispatch(state, req, sub),
        "microsoft.containerservice" => {
            container_service::dispatch_subscription_scope(state, req, sub)
        }
        _ => Err(unknown_type(state, req, namespace, p.seg(4))),
    }
}

/// ARM's answer for a provider path nobody serves: `InvalidResourceNamespace` for a namespace
/// ARM does not know, `InvalidResourceType` for a type the namespace does not have.
pub fn unknown_type(
    state: &AppState,
    req: &ArmRequest,
    namespace: &str,
    resource_type: &str,
) -> ArmError {
    if state.catalog.provider(namespace).is_none() {
        return Error::invalid_resource_namespace(namespace).into();
    }
    ArmError::invalid_resource_type(
        resource_type,
        state.catalog.canonical_namespace(namespace),
        req.api_version().unwrap_or_default(),
    )
}

/// ARM's answer when no route matches.
pub fn no_route(req: &ArmRequest) -> ArmError {
    ArmError::no_route(req.method.as_str(), &req.path.joined())
}
