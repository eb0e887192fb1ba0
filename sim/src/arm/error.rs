//! ARM's error envelope on the wire: `{"error":{"code","message"[,"target"][,"details"]}}`
//! with its HTTP status. The domain's refusals (`core::error::Error`) convert into it; the codes
//! only the wire produces (api-version, routing, authentication, overload, deadline) are
//! declared here, once each, with their status and text (sources:
//! `../shared/reference/ARM-CONTRACT.md` §2.3). Handlers never build error JSON by hand.

pub use crate::core::error::ErrorBody;
use crate::core::error::{Error, ErrorKind};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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

    // ---- concurrency ---------------------------------------------------------------------

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

    /// The JSON envelope as bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "error": &*self.body }))
            .unwrap_or_else(|_| b"{\"error\":{\"code\":\"InternalServerError\"}}".to_vec())
    }
}

/// Characters ARM allows in resource group names.
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

impl From<Error> for ArmError {
    fn from(e: Error) -> Self {
        let status = match e.kind {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ArmError {
            status,
            body: e.body,
            gateway: e.gateway,
            www_authenticate: None,
        }
    }
}
