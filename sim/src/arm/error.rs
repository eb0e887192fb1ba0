//! ARM's error envelope: `{"error":{"code","message"[,"target"][,"details"]}}`.
//!
//! Every well-known code is declared once here, with its HTTP status and message text
//! (sources in `shared/reference/ARM-CONTRACT.md` §2.3). Handlers call these constructors and
//! never build error JSON by hand.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The body of an ARM error (also used inside failed operation records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub details: Vec<ErrorBody>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    pub status: StatusCode,
    pub body: Box<ErrorBody>,
    /// ARM marks errors that its own front door produced (not the resource provider).
    pub gateway: bool,
    /// Sent as `WWW-Authenticate` on 401s.
    pub www_authenticate: Option<&'static str>,
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.body.code,
            self.body.message
        )
    }
}

impl std::error::Error for ArmError {}

impl ArmError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ArmError {
            status,
            body: Box::new(ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                target: None,
                details: Vec::new(),
            }),
            gateway: false,
            www_authenticate: None,
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

    // ---- request shape -------------------------------------------------------------------

    pub fn missing_api_version() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
        .at_gateway()
    }

    /// ARM-native endpoints (resource groups, providers, subscriptions, features).
    pub fn invalid_api_version(given: &str, supported: &[&str]) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{given}' is invalid. The supported versions are '{}'.",
                supported.join(",")
            ),
        )
        .at_gateway()
    }

    /// Resource-provider types (managedClusters, meshRevisionProfiles, ...).
    pub fn no_registered_provider(
        location: &str,
        given: &str,
        resource_type: &str,
        supported: &[&str],
        locations: &[&str],
    ) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "NoRegisteredProviderFound",
            format!(
                "No registered resource provider found for location '{location}' and API version \
                 '{given}' for type '{resource_type}'. The supported api-versions are '{}'. The \
                 supported locations are '{}'.",
                supported.join(", "),
                locations.join(", ")
            ),
        )
        .at_gateway()
    }

    pub fn invalid_request_content(detail: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{detail}'."),
        )
    }

    pub fn request_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("The request content size exceeds the maximum allowed size of {limit} bytes."),
        )
        .at_gateway()
    }

    /// A `$filter` the endpoint does not understand (resource-group lists take only tag
    /// filters; azure-sdk-for-go #2480).
    pub fn invalid_filter(filter: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidFilterInQueryString",
            format!("Invalid $filter '{filter}' specified in the query string."),
        )
    }

    pub fn invalid_request_uri(path: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequestUri",
            format!("The request URI '{path}' is not valid."),
        )
        .at_gateway()
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "The content media type '{content_type}' is not supported. Only 'application/json' \
                 is supported."
            ),
        )
    }

    /// No route matches the path at all.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The requested resource '{method} {path}' does not exist in aksim."),
        )
        .at_gateway()
    }

    pub fn method_not_allowed(method: &str, resource_type: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!(
                "The requested method '{method}' is not supported for the resource type \
                 '{resource_type}'."
            ),
        )
        .at_gateway()
    }

    pub fn invalid_resource_namespace(namespace: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceNamespace",
            format!("The resource namespace '{namespace}' is invalid."),
        )
        .at_gateway()
    }

    pub fn invalid_resource_type(resource_type: &str, namespace: &str, api_version: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The resource type '{resource_type}' could not be found in the namespace \
                 '{namespace}' for api version '{api_version}'."
            ),
        )
        .at_gateway()
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn invalid_parameter(message: impl Into<String>, target: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameter", message).with_target(target)
    }

    pub fn location_required() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
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
            StatusCode::BAD_REQUEST,
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
            StatusCode::BAD_REQUEST,
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

    pub fn invalid_subscription_id(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidSubscriptionId",
            format!("The provided subscription identifier '{id}' is malformed or invalid."),
        )
        .at_gateway()
    }

    // ---- authentication ------------------------------------------------------------------

    pub fn auth_header_missing() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        )
        .at_gateway();
        e.www_authenticate = Some(
            r#"Bearer error="invalid_token", error_description="The authentication failed because of missing 'Authorization' header.""#,
        );
        e
    }

    pub fn auth_header_invalid() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailedInvalidHeader",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        )
        .at_gateway();
        e.www_authenticate = Some(
            r#"Bearer error="invalid_token", error_description="The authentication failed because of the 'Authorization' header is provided in an invalid format.""#,
        );
        e
    }

    pub fn invalid_token(reason: &str) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            format!("The received access token is not valid: {reason}."),
        )
        .at_gateway();
        e.www_authenticate = Some(
            r#"Bearer error="invalid_token", error_description="The access token is invalid.""#,
        );
        e
    }

    pub fn expired_token(expiry: &str, now: &str) -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{expiry}' is earlier than current UTC time \
                 '{now}'."
            ),
        )
        .at_gateway();
        e.www_authenticate = Some(
            r#"Bearer error="invalid_token", error_description="The access token has expired.""#,
        );
        e
    }

    pub fn wrong_audience(aud: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It \
                 should exactly match with one of the allowed audiences \
                 'https://management.core.windows.net/','https://management.core.windows.net',\
                 'https://management.azure.com/','https://management.azure.com'."
            ),
        )
        .at_gateway()
    }

    // ---- existence gates -------------------------------------------------------------------

    pub fn subscription_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
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
            StatusCode::CONFLICT,
            "MissingSubscriptionRegistration",
            message,
        )
        .with_details(vec![detail])
        .at_gateway()
    }

    /// Microsoft.Features: an unknown or retired feature (HTTP 404 inferred, ARM-CONTRACT §3).
    pub fn feature_not_found(feature: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "FeatureNotFound",
            format!("The feature '{feature}' could not be found."),
        )
    }

    /// AKS's generic preview gate (ARM-CONTRACT §2.3): `feature` is `Namespace/Name`.
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
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            format!("Resource group '{name}' could not be found."),
        )
        .at_gateway()
    }

    /// `type_path` is e.g. `Microsoft.ContainerService/managedClusters/c1`.
    pub fn resource_not_found(type_path: &str, resource_group: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
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
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("Operation '{id}' was not found."),
        )
    }

    // ---- concurrency ---------------------------------------------------------------------

    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            message,
        )
    }

    pub fn operation_not_allowed(running_state: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "OperationNotAllowed",
            format!(
                "Operation is not allowed: Another operation ({running_state}) is in progress, \
                 please wait for it to finish before starting a new operation. See \
                 https://aka.ms/aks-pending-operation for more details"
            ),
        )
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// A managed-cluster create past `MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX` (409).
    pub fn managed_cluster_quota_exceeded(name: &str) -> Self {
        Self::conflict(
            "QuotaExceeded",
            format!(
                "Creating the managed cluster '{name}' would exceed the quota of {} managed \
                 clusters per subscription.",
                crate::limits::MANAGED_CLUSTERS_PER_SUBSCRIPTION_MAX
            ),
        )
    }

    /// The server's connection limit is reached (answered with `Retry-After`, then closed).
    pub fn service_unavailable_overloaded() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The server is currently unable to handle the request due to a temporary overloading. \
             Please retry the request after the time specified in the Retry-After header.",
        )
        .at_gateway()
    }

    /// The request did not complete within the server's deadline (`namespace` is the
    /// resource provider the path names, as ARM's gateway says).
    pub fn gateway_timeout(namespace: &str) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "GatewayTimeout",
            format!(
                "The gateway did not receive a response from '{namespace}' within the specified \
                 time period."
            ),
        )
        .at_gateway()
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            message,
        )
    }

    /// The JSON envelope as bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "error": &*self.body }))
            .unwrap_or_else(|_| b"{\"error\":{\"code\":\"InternalServerError\"}}".to_vec())
    }
}

/// Characters ARM allows in resource group names.
pub fn is_resource_group_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')')
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.to_json()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if self.gateway {
            headers.insert("x-ms-failure-cause", HeaderValue::from_static("gateway"));
        }
        if let Some(challenge) = self.www_authenticate {
            if let Ok(value) = HeaderValue::from_str(challenge) {
                headers.insert(axum::http::header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

pub type ArmResult<T> = Result<T, ArmError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_registration_quotes_exactly_one_token() {
        // azure-mgmt-core takes the namespace from the last pair of single quotes.
        let e = ArmError::missing_subscription_registration("Microsoft.ContainerService");
        assert_eq!(e.body.message.matches('\'').count(), 2);
        assert_eq!(e.status, StatusCode::CONFLICT);
        let json: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(
            json["error"]["details"][0]["target"],
            "Microsoft.ContainerService"
        );
    }
}
