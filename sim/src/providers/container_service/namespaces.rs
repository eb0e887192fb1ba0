//! `managedNamespaces` (GET/PUT 200|201/PATCH tags/DELETE 202|204, the list, `listCredential`
//! a kubeconfig scoped to the namespace), `identityBindings` (GET/PUT/DELETE, the list) and
//! `rotateServiceAccountSigningKeys` (202 + `Azure-AsyncOperation`/`Location`). The state is
//! `core::clusters::namespaces` behind `core::service`.

use axum::http::{Method, StatusCode};

use super::credentials::{self, Kind};
use crate::arm::error::ArmResult;
use crate::arm::operation;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::clusters::surface::ChildKind;
use crate::providers::routes::Params;
use crate::state::AppState;

fn coords(p: &Params) -> (&str, &str, &str) {
    (p.sub(), p.get("resourceGroupName"), p.get("resourceName"))
}

fn list(kind: ChildKind, state: &AppState, p: &Params) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    Ok(ArmResponse::ok(
        &state.core.list_children(sub, rg, name, kind)?,
    ))
}

fn one(
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
            let (created, body) =
                core.put_namespaced(sub, rg, name, kind, child, req.take_json())?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            ArmResponse::json(status, &body)
        }
        Method::PATCH => {
            ArmResponse::ok(&core.patch_namespace(sub, rg, name, child, req.take_json())?)
        }
        Method::DELETE => match core.delete_namespaced(
            sub,
            rg,
            name,
            kind,
            child,
            req.api_version().unwrap_or_default(),
            req.injected_failure.as_ref(),
        )? {
            Some(op) => operation::accepted(&op, &req.base_url, sub),
            None => ArmResponse::empty(StatusCode::NO_CONTENT),
        },
        _ => ArmResponse::ok(&core.get_child(sub, rg, name, kind, child)?),
    })
}

/// `.../managedNamespaces`: the list.
pub fn namespaces_list(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    list(ChildKind::ManagedNamespaces, state, p)
}

/// `.../managedNamespaces/{managedNamespaceName}`: GET, PUT, PATCH, DELETE.
pub fn namespace(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    one(
        ChildKind::ManagedNamespaces,
        "managedNamespaceName",
        state,
        req,
        p,
    )
}

/// `POST .../managedNamespaces/{n}/listCredential`: the cluster's user kubeconfig, its context
/// in the namespace.
pub fn namespace_credential(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    let child = p.get("managedNamespaceName");
    state.core.require_namespace(sub, rg, name, child)?;
    credentials::list_in(state, req, p, Kind::User, Some(child))
}

/// `.../identityBindings`: the list.
pub fn bindings_list(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    list(ChildKind::IdentityBindings, state, p)
}

/// `.../identityBindings/{identityBindingName}`: GET, PUT, DELETE.
pub fn binding(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    one(
        ChildKind::IdentityBindings,
        "identityBindingName",
        state,
        req,
        p,
    )
}

/// `POST .../rotateServiceAccountSigningKeys`: 202, the cluster `Updating` until it ends.
pub fn rotate_signing_keys(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let (sub, rg, name) = coords(p);
    req.expect_no_body()?;
    let op = state.core.rotate_signing_keys(
        sub,
        rg,
        name,
        req.api_version().unwrap_or_default(),
        req.injected_failure.as_ref(),
    )?;
    Ok(operation::accepted(&op, &req.base_url, sub))
}
