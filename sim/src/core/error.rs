//! Refusals in ARM's vocabulary: the domain's one error type for everything ARM-facing
//! (registration, resource groups, managed clusters, operations). An [`Error`] carries an
//! [`ErrorKind`] (what HTTP status the wire gives it), ARM's `code` and `message`, and whether
//! ARM's own front door produced it (`gateway`; the wire adds `x-ms-failure-cause: gateway`).
//! Every well-known code is declared once here, with its text (sources:
//! `../shared/reference/ARM-CONTRACT.md` §2.3 and the recordings). The wire converts an `Error`
//! into its `Error` (`arm::error`), which adds the codes only the wire produces (api-version,
//! routing, authentication).

use serde::{Deserialize, Serialize};

use crate::limits;

/// The body of an ARM error (also kept inside failed operation records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub details: Vec<ErrorBody>,
}

/// What kind of refusal an [`Error`] is; the wire maps each to its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400
    BadRequest,
    /// 404
    NotFound,
    /// 409
    Conflict,
    /// 412
    PreconditionFailed,
    /// 500
    Internal,
}

/// A refusal, as the domain gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub body: Box<ErrorBody>,
    /// ARM's front door (not the resource provider) gives this refusal.
    pub gateway: bool,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} {}: {}",
            self.kind, self.body.code, self.body.message
        )
    }
}

impl std::error::Error for Error {}

/// Whether `c` may appear in a resource group name (letters, digits, `-_.()`).
pub fn is_resource_group_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')')
}

impl Error {
    pub fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        Error {
            kind,
            body: Box::new(ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                target: None,
                details: Vec::new(),
            }),
            gateway: false,
        }
    }

    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.body.target = Some(target.into());
        self
    }

    pub fn with_details(mut self, details: Vec<ErrorBody>) -> Self {
        self.body.details = details;
        self
    }

    fn at_gateway(mut self) -> Self {
        self.gateway = true;
        self
    }

    pub fn code(&self) -> &str {
        &self.body.code
    }

    pub fn invalid_request_content(detail: &str) -> Self {
        Self::new(
            ErrorKind::BadRequest,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{detail}'."),
        )
    }

    pub fn invalid_resource_namespace(namespace: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "InvalidResourceNamespace",
            format!("The resource namespace '{namespace}' is invalid."),
        )
        .at_gateway()
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, "BadRequest", message)
    }

    pub fn invalid_parameter(message: impl Into<String>, target: &str) -> Self {
        Self::new(ErrorKind::BadRequest, "InvalidParameter", message).with_target(target)
    }

    pub fn location_required() -> Self {
        Self::new(
            ErrorKind::BadRequest,
            "LocationRequired",
            "The location property is required for this definition.",
        )
    }

    /// A tracked resource PUT to a location the resource type is not offered in.
    pub fn location_not_available(
        location: &str,
        resource_type: &str,
        available: &[String],
    ) -> Self {
        Self::new(
            ErrorKind::BadRequest,
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{location}' is not available for resource type \
                 '{resource_type}'. List of available regions for the resource type is '{}'.",
                available.join(",")
            ),
        )
        .at_gateway()
    }

    pub fn invalid_resource_group_name(name: &str) -> Self {
        Self::new(
            ErrorKind::BadRequest,
            "InvalidResourceGroup",
            format!(
                "The provided resource group name '{name}' has these invalid characters: \
                 '{}'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'.",
                name.chars()
                    .filter(|c| !is_resource_group_char(*c))
                    .collect::<String>()
            ),
        )
        .at_gateway()
    }

    pub fn subscription_not_found(id: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "SubscriptionNotFound",
            format!("The subscription '{id}' could not be found."),
        )
        .at_gateway()
    }

    pub fn missing_subscription_registration(namespace: &str) -> Self {
        let message = format!(
            "The subscription is not registered to use namespace '{namespace}'. See \
             https://aka.ms/rps-not-found for how to register subscriptions."
        );
        let detail = ErrorBody {
            code: "MissingSubscriptionRegistration".to_owned(),
            message: message.clone(),
            target: Some(namespace.to_owned()),
            details: Vec::new(),
        };
        Self::new(
            ErrorKind::Conflict,
            "MissingSubscriptionRegistration",
            message,
        )
        .with_details(vec![detail])
        .at_gateway()
    }

    /// Microsoft.Features: an unknown or retired feature (HTTP 404 inferred, `../shared/reference/ARM-CONTRACT.md` §3).
    pub fn feature_not_found(feature: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "FeatureNotFound",
            format!("The feature '{feature}' could not be found."),
        )
    }

    /// AKS's generic preview gate (`../shared/reference/ARM-CONTRACT.md` §2.3): `feature` is `Namespace/Name`.
    pub fn preview_feature_not_enabled(feature: &str) -> Self {
        Self::bad_request(format!(
            "Feature {feature} is not enabled. Please see https://aka.ms/aks/previews for how to \
             enable features."
        ))
    }

    /// A provider unregister while resources of its types exist (code and text inferred;
    /// docs `resource-providers-and-types.md` state the rule only).
    pub fn provider_has_resources(namespace: &str, count: usize) -> Self {
        Self::conflict(
            "Conflict",
            format!(
                "The resource provider '{namespace}' cannot be unregistered because the \
                 subscription still contains {count} resource(s) of its types. Delete them first."
            ),
        )
    }

    pub fn resource_group_not_found(name: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "ResourceGroupNotFound",
            format!("Resource group '{name}' could not be found."),
        )
        .at_gateway()
    }

    /// `type_path` is e.g. `Microsoft.ContainerService/managedClusters/c1`.
    pub fn resource_not_found(type_path: &str, resource_group: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "ResourceNotFound",
            format!(
                "The Resource '{type_path}' under resource group '{resource_group}' was not found. \
                 For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
        .at_gateway()
    }

    pub fn operation_not_found(id: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            "NotFound",
            format!("Operation '{id}' was not found."),
        )
    }

    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::PreconditionFailed, "PreconditionFailed", message)
    }

    pub fn operation_not_allowed(running_state: &str) -> Self {
        Self::new(
            ErrorKind::Conflict,
            "OperationNotAllowed",
            format!(
                "Operation is not allowed: Another operation ({running_state}) is in progress, \
                 please wait for it to finish before starting a new operation. See \
                 https://aka.ms/aks-pending-operation for more details"
            ),
        )
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    /// A managed-cluster create past `MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX` (409).
    pub fn managed_cluster_quota_exceeded(name: &str) -> Self {
        Self::conflict(
            "QuotaExceeded",
            format!(
                "Creating the managed cluster '{name}' would exceed the quota of {} managed \
                 clusters per subscription.",
                limits::MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX
            ),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, "InternalServerError", message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_registration_quotes_exactly_one_token() {
        // azure-mgmt-core takes the namespace from the last pair of single quotes.
        let e = Error::missing_subscription_registration("Microsoft.ContainerService");
        assert_eq!(e.body.message.matches('\'').count(), 2);
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(
            e.body.details[0].target.as_deref(),
            Some("Microsoft.ContainerService")
        );
    }
}
