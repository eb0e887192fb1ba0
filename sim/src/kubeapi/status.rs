//! `Status`: the one error type of the Kubernetes plane, shaped exactly as kube-apiserver
//! shapes it (`kind: Status`, `status: Failure`, `message`, `reason`, `details`, `code`).
//!
//! Each well-known reason has one constructor here with kube-apiserver's message template;
//! handlers never build error JSON by hand. The plane's domain errors (`core::kube::Error`)
//! convert into it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::core::kube::error::Error;
pub use crate::core::kube::error::{quote, Cause, GroupResource};

/// A Kubernetes `Status` failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub code: StatusCode,
    /// Empty for admission-webhook denials (kube-apiserver leaves it out).
    pub reason: &'static str,
    pub message: String,
    pub details: Value,
}

fn details(name: &str, gr: &GroupResource) -> Value {
    let mut d = json!({});
    if !name.is_empty() {
        d["name"] = json!(name);
    }
    if !gr.group.is_empty() {
        d["group"] = json!(gr.group);
    }
    d["kind"] = json!(gr.resource);
    d
}

impl Status {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Status {
            code,
            reason,
            message: message.into(),
            details: Value::Null,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn not_found(gr: &GroupResource, name: &str) -> Self {
        Status::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{} {} not found", gr.qualified(), quote(name)),
        )
        .with_details(details(name, gr))
    }

    /// `kubectl logs`: aksim runs no containers.
    pub fn logs_unavailable(pod: &str) -> Self {
        Status::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "logs are not available in aksim: pod {} runs no containers (aksim simulates \
                 the Kubernetes API only)",
                quote(pod)
            ),
        )
    }

    /// A path that names no resource this server serves.
    pub fn no_route() -> Self {
        Status::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn already_exists(gr: &GroupResource, name: &str) -> Self {
        Status::new(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{} {} already exists", gr.qualified(), quote(name)),
        )
        .with_details(details(name, gr))
    }

    /// A write that carried a stale `metadata.resourceVersion`.
    pub fn conflict(gr: &GroupResource, name: &str) -> Self {
        Status::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {}: the object has been modified; please \
                 apply your changes to the latest version and try again",
                gr.qualified(),
                quote(name)
            ),
        )
        .with_details(details(name, gr))
    }

    /// `<resource> "<name>" is invalid: <causes>` (422).
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let joined = match causes.as_slice() {
            [one] => one.line(),
            many => format!(
                "[{}]",
                many.iter().map(Cause::line).collect::<Vec<_>>().join(", ")
            ),
        };
        let mut d = json!({"name": name, "kind": kind});
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        d["causes"] = Value::Array(
            causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect(),
        );
        Status::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            // kube-apiserver names the group kind: `Deployment.apps "web" is invalid`.
            if group.is_empty() {
                format!("{kind} {} is invalid: {joined}", quote(name))
            } else {
                format!("{kind}.{group} {} is invalid: {joined}", quote(name))
            },
        )
        .with_details(d)
    }

    /// `<resource> "<name>" is forbidden: <why>` (403).
    pub fn forbidden(gr: &GroupResource, name: &str, why: &str) -> Self {
        Status::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("{} {} is forbidden: {why}", gr.qualified(), quote(name)),
        )
        .with_details(details(name, gr))
    }

    /// Creating content in a namespace that is being deleted.
    pub fn namespace_terminating(gr: &GroupResource, name: &str, namespace: &str) -> Self {
        let mut s = Status::forbidden(
            gr,
            name,
            &format!(
                "unable to create new content in namespace {namespace} because it is being \
                 terminated"
            ),
        );
        s.details["causes"] = json!([{
            "reason": "NamespaceTerminating",
            "message": format!("namespace {namespace} is being terminated"),
            "field": "metadata.namespace"
        }]);
        s
    }

    /// The denial of a validating admission webhook, wrapped as kube-apiserver does
    /// (`ToStatusErr`): empty reason, code 400 when the webhook gave none.
    pub fn webhook_denied(webhook: &str, reason: &str) -> Self {
        Status::new(
            StatusCode::BAD_REQUEST,
            "",
            format!(
                "admission webhook {} denied the request: {reason}",
                quote(webhook)
            ),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Status::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn unauthorized() -> Self {
        Status::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    pub fn method_not_allowed() -> Self {
        Status::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    /// A patch (or body) media type this server does not decode.
    pub fn unsupported_patch_type(content_type: &str, accepted: &[&str]) -> Self {
        let s = Status::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types \
                 include: {}",
                accepted.join(", ")
            ),
        );
        // kube-apiserver names the accepted types only; aksim logs what it got.
        tracing::debug!(content_type, "unsupported request media type");
        s
    }

    pub fn request_too_large(limit: usize) -> Self {
        Status::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("the request body is larger than the {limit}-byte limit"),
        )
    }

    /// A watch resumed from a `resourceVersion` older than the retained history (410).
    pub fn gone(rv: u64) -> Self {
        Status::new(
            StatusCode::GONE,
            "Expired",
            format!("too old resource version: {rv}"),
        )
    }

    /// A `continue` token that does not decode.
    pub fn bad_continue(detail: &str) -> Self {
        Status::bad_request(format!("continue key is not valid: {detail}"))
    }

    /// A quota aksim enforces (objects per plane).
    pub fn too_many(what: &str, limit: usize) -> Self {
        Status::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("exceeded quota: aksim holds at most {limit} {what} per cluster"),
        )
    }

    /// kube-apiserver's answer when its in-flight limit is reached (429, retry after 1 s).
    pub fn too_many_requests() -> Self {
        Status::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests, please try again later.",
        )
        .with_details(json!({ "retryAfterSeconds": 1 }))
    }

    /// A stopped AKS cluster's API server does not answer (real clients see the connection
    /// refused); one port serves every cluster here, so aksim answers 503 with this Status
    /// (docs/deviations.md).
    pub fn cluster_stopped() -> Self {
        Status::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the managed cluster is stopped: its API server is not running (start it with az \
             aks start)",
        )
    }

    /// kube-apiserver's answer when a (non-watch) request outlives the request timeout.
    pub fn timeout() -> Self {
        Status::new(
            StatusCode::GATEWAY_TIMEOUT,
            "Timeout",
            "Timeout: request did not complete within requested timeout - context deadline exceeded",
        )
        .with_details(json!({}))
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        });
        if !self.details.is_null() {
            body["details"] = self.details.clone();
        }
        body["code"] = json!(self.code.as_u16());
        body
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound { resource, name } => Status::not_found(&resource, &name),
            Error::AlreadyExists { resource, name } => Status::already_exists(&resource, &name),
            Error::Conflict { resource, name } => Status::conflict(&resource, &name),
            Error::Invalid {
                kind,
                group,
                name,
                causes,
            } => Status::invalid(&kind, &group, &name, causes),
            Error::Forbidden {
                resource,
                name,
                why,
            } => Status::forbidden(&resource, &name, &why),
            Error::NamespaceTerminating {
                resource,
                name,
                namespace,
            } => Status::namespace_terminating(&resource, &name, &namespace),
            Error::WebhookDenied { webhook, reason } => Status::webhook_denied(&webhook, &reason),
            Error::BadRequest(message) => Status::bad_request(message),
            Error::ApplyConflict { message, causes } => {
                Status::new(StatusCode::CONFLICT, "Conflict", message).with_details(
                    json!({"causes": causes
                .iter()
                .map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": m, "field": f}))
                .collect::<Vec<_>>()}),
                )
            }
            Error::Unprocessable => Status::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                "the server rejected our request due to an error in our request",
            ),
            Error::Gone(rv) => Status::gone(rv),
            Error::TooMany { what, limit } => Status::too_many(what, limit),
        }
    }
}

impl IntoResponse for Status {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        (
            self.code,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
