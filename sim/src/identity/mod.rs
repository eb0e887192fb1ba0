//! The fake Entra ID and cloud metadata (`../shared/reference/REAL-CLIENTS.md`, "auth design that worked").
//!
//! - `GET /metadata/endpoints` — the cloud document `az cloud register` (2022-09-01: one
//!   object) and `ARM_CLOUD_METADATA_URL` (2019-05-01: a list) read. Its login endpoint ends in
//!   `/adfs`, so MSAL skips instance discovery (which would go to the internet).
//! - OpenID configuration, token and JWKS endpoints for `/{tenant}/…` and `/adfs/…`.
//! - Tokens are ES256 JWTs signed with a key kept beside the CA; `iat`/`nbf`/`exp` come from
//!   the virtual clock, so advancing it expires tokens (`--auth strict` checks that).

pub mod tokens;

pub use tokens::{Claims, TokenIssuer};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::arm::error::ArmError;
use crate::arm::path::ArmPath;
use crate::clock::rfc3339;
use crate::config::AuthMode;
use crate::limits;
use crate::state::AppState;

/// Audiences ARM accepts (`../shared/reference/ARM-CONTRACT.md` §2.3, `InvalidAuthenticationTokenAudience`).
const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// The ARM bearer-token check, per `--auth`.
pub fn check_arm_auth(state: &AppState, headers: &HeaderMap) -> Result<(), ArmError> {
    if state.config.auth == AuthMode::Off {
        return Ok(());
    }
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(ArmError::auth_header_missing)?
        .to_str()
        .map_err(|_| ArmError::auth_header_invalid())?;
    // `to_str` let through visible ASCII, spaces and tabs only: ASCII trimming is the
    // whole of `trim` here.
    let value = value.trim_ascii();
    let space = value
        .bytes()
        .position(|b| b == b' ')
        .ok_or_else(ArmError::auth_header_invalid)?;
    let (scheme, token) = (&value[..space], value[space + 1..].trim_ascii());
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ArmError::auth_header_invalid());
    }
    if state.config.auth == AuthMode::Any {
        return Ok(());
    }
    let claims = state
        .tokens
        .verify(token)
        .map_err(|e| ArmError::invalid_token(&e))?;
    let now = state.core.clock.now();
    if now.unix_timestamp() >= claims.exp {
        let expiry = time::OffsetDateTime::from_unix_timestamp(claims.exp)
            .map(rfc3339)
            .unwrap_or_else(|_| claims.exp.to_string());
        return Err(ArmError::expired_token(&expiry, &rfc3339(now)));
    }
    if now.unix_timestamp() + 300 < claims.nbf {
        return Err(ArmError::invalid_token("the token is not valid yet (nbf)"));
    }
    if !ARM_AUDIENCES.contains(&claims.aud.as_str()) {
        return Err(ArmError::wrong_audience(&claims.aud));
    }
    Ok(())
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// The cloud metadata document for this aksim, as seen at `base` (`https://host:port`).
pub fn cloud_metadata(base: &str) -> serde_json::Value {
    serde_json::json!({
        "portal": format!("{base}/portal"),
        "authentication": {
            "loginEndpoint": format!("{base}/adfs"),
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "adfs",
            "identityProvider": "ADFS"
        },
        "media": format!("{base}/media"),
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": "aksim",
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net"
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": format!("{base}/"),
        "vmImageAliasDoc": format!("{base}/metadata/vmImageAliasDoc"),
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "gallery": format!("{base}/gallery"),
        "microsoftGraphResourceId": "https://graph.microsoft.com/"
    })
}

/// Routes the identity and metadata paths; `None` when the path is not one of them.
pub fn dispatch(
    state: &AppState,
    method: &axum::http::Method,
    path: &ArmPath,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
    base: &str,
) -> Option<Response> {
    use axum::http::Method;
    let get = method == Method::GET;
    let post = method == Method::POST;
    let n = path.len();
    // /metadata/endpoints
    if n == 2 && path.is(0, "metadata") && path.is(1, "endpoints") && get {
        let doc = cloud_metadata(base);
        let api = query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
            .map(|(_, v)| v.as_str())
            .unwrap_or("2022-09-01");
        let body = if api < "2022-09-01" {
            serde_json::json!([doc])
        } else {
            doc
        };
        return Some(json(StatusCode::OK, body));
    }
    // /common/discovery/instance (MSAL instance discovery, for completeness)
    if n == 3 && path.is(1, "discovery") && path.is(2, "instance") && get {
        let tenant = path.seg(0);
        let host = base.split("://").nth(1).unwrap_or(base);
        return Some(json(
            StatusCode::OK,
            serde_json::json!({
                "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]
            }),
        ));
    }
    let tenant = path.seg(0);
    // Every path below is a tenant and at most three more segments (ARM paths are longer).
    if tenant.is_empty() || n > 4 {
        return None;
    }
    let adfs = tenant.eq_ignore_ascii_case("adfs");
    let rest: Vec<String> = path
        .segments()
        .skip(1)
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match rest.as_slice() {
        ["v2.0", ".well-known", "openid-configuration"]
        | [".well-known", "openid-configuration"]
            if get =>
        {
            Some(json(
                StatusCode::OK,
                openid_configuration(base, tenant, adfs),
            ))
        }
        ["discovery", "v2.0", "keys"] | ["discovery", "keys"] if get => {
            Some(json(StatusCode::OK, state.tokens.jwks()))
        }
        ["oauth2", "v2.0", "token"] | ["oauth2", "token"] if post => {
            Some(token_endpoint(state, tenant, adfs, headers, body, base))
        }
        _ => None,
    }
}

fn openid_configuration(base: &str, tenant: &str, adfs: bool) -> serde_json::Value {
    let (token, authorize, device, issuer, jwks) = if adfs {
        (
            format!("{base}/adfs/oauth2/token"),
            format!("{base}/adfs/oauth2/authorize"),
            format!("{base}/adfs/oauth2/devicecode"),
            format!("{base}/adfs"),
            format!("{base}/adfs/discovery/keys"),
        )
    } else {
        (
            format!("{base}/{tenant}/oauth2/v2.0/token"),
            format!("{base}/{tenant}/oauth2/v2.0/authorize"),
            format!("{base}/{tenant}/oauth2/v2.0/devicecode"),
            format!("{base}/{tenant}/v2.0"),
            format!("{base}/{tenant}/discovery/v2.0/keys"),
        )
    };
    serde_json::json!({
        "token_endpoint": token,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": jwks,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": false,
        "authorization_endpoint": authorize,
        "device_authorization_endpoint": device,
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "appid"],
        "tenant_region_scope": "WW",
        "cloud_instance_name": "aksim"
    })
}

/// An Entra-style OAuth error.
fn oauth_error(error: &str, code: u32, description: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        serde_json::json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}")
        }),
    )
}

fn token_endpoint(
    state: &AppState,
    tenant: &str,
    adfs: bool,
    headers: &HeaderMap,
    body: &[u8],
    _base: &str,
) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let basic_client = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.split_once(':').map(|(id, _)| id.to_owned()));
    let Some(grant_type) = field("grant_type") else {
        return oauth_error(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    };
    let Some(client_id) = field("client_id")
        .map(str::to_owned)
        .or(basic_client.clone())
    else {
        return oauth_error(
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    if grant_type != "client_credentials" {
        return oauth_error(
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{grant_type}'. aksim issues tokens \
                 for the client credentials grant (service principals) only."
            ),
        );
    }
    if field("client_secret").is_none()
        && field("client_assertion").is_none()
        && basic_client.is_none()
    {
        return oauth_error(
            "invalid_request",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the \
             'client_credentials' grant type.",
        );
    }
    let scope = field("scope").unwrap_or("https://management.core.windows.net//.default");
    let resource = scope
        .split_whitespace()
        .find(|s| s.ends_with("/.default"))
        .map(|s| s.trim_end_matches(".default").to_owned())
        .unwrap_or_else(|| scope.to_owned());
    // ".../.default" after an audience ending in "/" leaves "…//": keep one slash.
    let aud = if resource.ends_with("//") {
        resource[..resource.len() - 1].to_owned()
    } else {
        resource
    };
    let tid = if adfs || uuid::Uuid::parse_str(tenant).is_err() {
        state.core.store.tenant_id().to_owned()
    } else {
        tenant.to_ascii_lowercase()
    };
    let oid = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, client_id.as_bytes()).to_string();
    let now = state.core.clock.now().unix_timestamp();
    let claims = Claims {
        aud,
        iss: format!("https://sts.windows.net/{tid}/"),
        iat: now,
        nbf: now,
        exp: now + limits::TOKEN_LIFETIME_SECS,
        appid: client_id,
        oid: oid.clone(),
        sub: oid,
        tid,
        idtyp: "app".into(),
        ver: "1.0".into(),
    };
    match state.tokens.issue(&claims) {
        Ok(token) => json(
            StatusCode::OK,
            serde_json::json!({
                "token_type": "Bearer",
                "expires_in": limits::TOKEN_LIFETIME_SECS,
                "ext_expires_in": limits::TOKEN_LIFETIME_SECS,
                "access_token": token
            }),
        ),
        Err(e) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"error": "server_error", "error_description": e}),
        ),
    }
}
