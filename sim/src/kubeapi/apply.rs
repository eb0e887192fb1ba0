//! Server-side apply on the wire: `PATCH` with `application/apply-patch+yaml` (a YAML or JSON
//! body), the `PatchOptions` checks kube-apiserver makes of the query (`fieldManager` required
//! for apply, `force` only for apply), and the manager of every other write.

use axum::http::StatusCode;
use serde_json::Value;

use super::status::Status;
use crate::core::kube::apply::FieldManager;
use crate::core::kube::catalog::ResourceType;
use crate::core::kube::error::{Cause, Error};
use crate::core::kube::{Plane, WriteCtx};

/// Whether a `Content-Type` is server-side apply's.
pub fn is_apply(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or("").trim() == "application/apply-patch+yaml"
}

/// `?fieldManager=`, else kube-apiserver's default from the User-Agent.
pub fn manager(field_manager: Option<&str>, user_agent: Option<&str>) -> FieldManager {
    match field_manager {
        Some(m) if !m.is_empty() => FieldManager::new(m),
        _ => FieldManager::from_user_agent(user_agent.unwrap_or("")),
    }
}

/// `PatchOptions.meta.k8s.io "" is invalid: …` (kube-apiserver's check of the query).
fn patch_options_invalid(cause: Cause) -> Status {
    Status::from(Error::invalid(
        "PatchOptions",
        "meta.k8s.io",
        "",
        vec![cause],
    ))
}

/// A patch that is not an apply may not say `force`.
pub fn check_patch_options(force: Option<&str>) -> Result<(), Status> {
    match force {
        Some(_) => Err(patch_options_invalid(Cause::forbidden(
            "force",
            "may not be specified for non-apply patch",
        ))),
        None => Ok(()),
    }
}

/// Applies `body` by `field_manager` (201 when it creates the object).
pub fn server_side_apply(
    plane: &mut Plane,
    (rt, version, namespace, name): (&ResourceType, &str, &str, &str),
    body: &[u8],
    field_manager: Option<&str>,
    force: bool,
    ctx: WriteCtx,
) -> Result<(StatusCode, Value), Status> {
    if field_manager.unwrap_or("").is_empty() {
        return Err(patch_options_invalid(Cause::required(
            "fieldManager",
            "is required for apply patch",
        )));
    }
    let applied: Value = yaml_serde::from_slice(body)
        .map_err(|e| Status::bad_request(format!("error decoding YAML: {e}")))?;
    let (object, created) =
        plane.server_side_apply(rt, version, namespace, name, applied, force, ctx)?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, object))
}
