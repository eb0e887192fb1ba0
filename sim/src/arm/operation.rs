//! Long-running operations on the wire (`../shared/reference/ARM-CONTRACT.md` §2.4): the
//! `Azure-AsyncOperation` target answers 200 with `{name,status,startTime[,endTime][,error]}`;
//! the `Location` target answers 202 while running and 200/204 when done. `Retry-After` is
//! always ≥ 1 (azure-core treats 0 as "wait 30 s"). Status URLs carry the api-version of the
//! request that started the operation.

use axum::http::StatusCode;

use crate::arm::request::ArmResponse;
use crate::core::ops::{OpStatus, Operation};
use crate::limits;

/// The `Azure-AsyncOperation` status body.
pub fn status_body<E>(op: &Operation<E>) -> serde_json::Value {
    serde_json::Value::Object(op.status_fields(None))
}

/// Absolute `Azure-AsyncOperation` URL.
pub fn async_operation_url<E>(op: &Operation<E>, base: &str, subscription: &str) -> String {
    match (&op.namespace, &op.location) {
        (Some(ns), Some(loc)) => format!(
            "{base}/subscriptions/{subscription}/providers/{ns}/locations/{loc}/operations/{}?api-version={}",
            op.id, op.api_version
        ),
        _ => location_url(op, base, subscription),
    }
}

/// Absolute `Location` URL (202 while running).
pub fn location_url<E>(op: &Operation<E>, base: &str, subscription: &str) -> String {
    match (&op.namespace, &op.location) {
        (Some(ns), Some(loc)) => format!(
            "{base}/subscriptions/{subscription}/providers/{ns}/locations/{loc}/operationresults/{}?api-version={}",
            op.id, op.api_version
        ),
        _ => format!(
            "{base}/subscriptions/{subscription}/operationresults/{}?api-version={}",
            op.id, op.api_version
        ),
    }
}

/// `Retry-After`, in seconds.
pub fn retry_after() -> String {
    limits::RETRY_AFTER_SECS.to_string()
}

/// 202 with both status URLs (a provider's DELETE).
pub fn accepted<E>(op: &Operation<E>, base: &str, sub: &str) -> ArmResponse {
    ArmResponse::empty(StatusCode::ACCEPTED)
        .with_header("azure-asyncoperation", &async_operation_url(op, base, sub))
        .with_header("location", &location_url(op, base, sub))
        .with_header("retry-after", &retry_after())
}

/// 202 with `Location` only (ARM's own operations: a resource group's DELETE).
pub fn accepted_location<E>(op: &Operation<E>, base: &str, sub: &str) -> ArmResponse {
    ArmResponse::empty(StatusCode::ACCEPTED)
        .with_header("location", &location_url(op, base, sub))
        .with_header("retry-after", &retry_after())
}

/// The answer of an `operationresults` poll: 202 while running, `done` when it succeeded,
/// 200 with the error when it failed.
pub fn result<E>(op: &Operation<E>, base: &str, sub: &str, done: StatusCode) -> ArmResponse {
    match op.status {
        OpStatus::InProgress => ArmResponse::empty(StatusCode::ACCEPTED)
            .with_header("location", &location_url(op, base, sub))
            .with_header("retry-after", &retry_after()),
        OpStatus::Succeeded => ArmResponse::empty(done),
        OpStatus::Failed | OpStatus::Canceled => {
            let error = op
                .error
                .as_deref()
                .cloned()
                .unwrap_or_else(crate::core::operation_failed_error);
            ArmResponse::json(StatusCode::OK, &serde_json::json!({ "error": error }))
        }
    }
}
