//! Resource-provider registration (Microsoft.Resources `providers`): register, unregister,
//! get and list at subscription scope, get and list at tenant scope, and the
//! [`require_registered`] gate every resource-provider handler calls. api-versions: the `arm`
//! set of `data/resource-types.json` (includes 2016-02-01, which azure-mgmt-core's automatic
//! registration sends — ARM-CONTRACT §4.3).
//!
//! Provider documents (`resourceTypes`, `apiVersions`, `locations`, `registrationPolicy`) are
//! generated from `state.catalog`, the same catalogue the api-version check reads.
//! RegistrationFree providers are always `Registered`; RegistrationRequired ones start
//! `NotRegistered` in a fresh subscription and move on the virtual clock.

use axum::http::Method;

use crate::arm::error::ArmResult;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::error::Error;
use crate::core::resource_types::ProviderSpec;
use crate::core::store::{RegState, Subscription};
use crate::providers::resources::{only, page};
use crate::state::AppState;

const NS: &str = "Microsoft.Resources";

fn is_free(spec: &ProviderSpec) -> bool {
    spec.registration_policy
        .eq_ignore_ascii_case("RegistrationFree")
}

/// A provider's registration state in `sub` at `now`.
pub fn provider_state(
    sub: &Subscription,
    spec: &ProviderSpec,
    now: time::OffsetDateTime,
) -> RegState {
    if is_free(spec) {
        return RegState::Registered;
    }
    sub.providers
        .get(spec.key.as_str())
        .map_or(RegState::NotRegistered, |r| r.state(now))
}

/// Whether `namespace` is Registered in `sub` at `now` ([`require_registered`] would pass
/// without writing).
pub fn is_registered(
    state: &crate::state::AppState,
    sub: &crate::core::store::Subscription,
    namespace: &str,
    now: time::OffsetDateTime,
) -> bool {
    state
        .catalog
        .provider(namespace)
        .is_some_and(|spec| provider_state(sub, spec, now) == RegState::Registered)
}

/// 409 MissingSubscriptionRegistration unless `namespace` is Registered (or auto-registration is on, which registers it now).
pub fn require_registered(
    state: &crate::state::AppState,
    sub: &mut crate::core::store::Subscription,
    namespace: &str,
    now: time::OffsetDateTime,
) -> crate::arm::ArmResult<()> {
    let spec = state
        .catalog
        .provider(namespace)
        .ok_or_else(|| Error::invalid_resource_namespace(namespace))?;
    if provider_state(sub, spec, now) == RegState::Registered {
        return Ok(());
    }
    if state.config.auto_register_providers {
        let seq = sub.next_registration_seq();
        sub.touched = true;
        sub.providers
            .entry(spec.key.clone())
            .or_default()
            .register_now(now, seq);
        return Ok(());
    }
    Err(Error::missing_subscription_registration(&spec.namespace).into())
}

/// The `Provider` document; `sub` is `None` at tenant scope (no registration state there).
fn provider_json(spec: &ProviderSpec, sub: Option<(&str, RegState)>) -> serde_json::Value {
    let types: Vec<serde_json::Value> = spec
        .resource_types
        .iter()
        .map(|t| {
            serde_json::json!({
                "resourceType": t.resource_type,
                "locations": t.locations,
                "apiVersions": t.api_versions,
            })
        })
        .collect();
    let mut body = serde_json::Map::new();
    match sub {
        Some((sub_id, reg)) => {
            body.insert(
                "id".into(),
                format!("/subscriptions/{sub_id}/providers/{}", spec.namespace).into(),
            );
            body.insert("namespace".into(), spec.namespace.clone().into());
            body.insert("registrationState".into(), reg.as_str().into());
        }
        None => {
            body.insert("id".into(), format!("/providers/{}", spec.namespace).into());
            body.insert("namespace".into(), spec.namespace.clone().into());
        }
    }
    body.insert(
        "registrationPolicy".into(),
        spec.registration_policy.clone().into(),
    );
    body.insert("resourceTypes".into(), types.into());
    serde_json::Value::Object(body)
}

fn find(state: &AppState, namespace: &str) -> ArmResult<&'static ProviderSpec> {
    state
        .catalog
        .provider(namespace)
        .ok_or_else(|| Error::invalid_resource_namespace(namespace).into())
}

fn check_version(state: &AppState, req: &ArmRequest) -> ArmResult<()> {
    crate::arm::api_version::check_native(state.catalog, NS, "providers", req.api_version())
}

/// `GET /subscriptions/{s}/providers` (`$expand` tolerated).
pub fn list(state: &AppState, req: &ArmRequest, sub: &str) -> ArmResult<ArmResponse> {
    check_version(state, req)?;
    only(req, &[Method::GET])?;
    let now = state.clock.now();
    let items = state.store.with(sub, now, |s| {
        state
            .catalog
            .providers
            .iter()
            .map(|spec| provider_json(spec, Some((sub, provider_state(s, spec, now)))))
            .collect()
    });
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// `GET /subscriptions/{s}/providers/{ns}` (`$expand` tolerated).
pub fn get(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: &str,
) -> ArmResult<ArmResponse> {
    check_version(state, req)?;
    only(req, &[Method::GET])?;
    let spec = find(state, namespace)?;
    let now = state.clock.now();
    let reg = state.store.with(sub, now, |s| provider_state(s, spec, now));
    Ok(ArmResponse::ok(&provider_json(spec, Some((sub, reg)))))
}

/// Checks the optional register body: nothing, `{}`, or
/// `{"thirdPartyProviderConsent":{"consentToAuthorization":bool}}`.
fn check_register_body(req: &ArmRequest) -> ArmResult<()> {
    let Some(value) = req.json_value()? else {
        return Ok(());
    };
    let serde_json::Value::Object(map) = value else {
        return Err(Error::invalid_request_content(
            "The request body must be a JSON object (ProviderRegistrationRequest).",
        )
        .into());
    };
    if let Some(consent) = map
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("thirdPartyProviderConsent"))
        .map(|(_, v)| v)
    {
        let ok = match consent {
            serde_json::Value::Null => true,
            serde_json::Value::Object(c) => c.iter().all(|(k, v)| {
                !k.eq_ignore_ascii_case("consentToAuthorization") || v.is_boolean() || v.is_null()
            }),
            _ => false,
        };
        if !ok {
            return Err(Error::invalid_request_content(
                "thirdPartyProviderConsent must be an object with a boolean \
                 consentToAuthorization.",
            )
            .into());
        }
    }
    Ok(())
}

/// `POST /subscriptions/{s}/providers/{ns}/register|unregister`.
pub fn change(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: &str,
    on: bool,
) -> ArmResult<ArmResponse> {
    check_version(state, req)?;
    only(req, &[Method::POST])?;
    if on {
        check_register_body(req)?;
    } else {
        req.expect_no_body()?;
    }
    let spec = find(state, namespace)?;
    let now = state.clock.now();
    let delay = state.registration_delay();
    let reg = state.store.with(sub, now, |s| -> ArmResult<_> {
        if is_free(spec) {
            return Ok(RegState::Registered);
        }
        if !on {
            let count = s.resources_in_namespace(&spec.namespace);
            if count > 0 {
                return Err(Error::provider_has_resources(&spec.namespace, count).into());
            }
        }
        let seq = s.next_registration_seq();
        s.touched = true;
        let record = s.providers.entry(spec.key.clone()).or_default();
        if on {
            record.register(now, delay, false, seq);
        } else {
            record.unregister(now, delay, seq);
        }
        Ok(record.state(now))
    })?;
    Ok(ArmResponse::ok(&provider_json(spec, Some((sub, reg)))))
}

/// `GET /providers` (tenant scope).
pub fn list_tenant(state: &AppState, req: &ArmRequest) -> ArmResult<ArmResponse> {
    check_version(state, req)?;
    only(req, &[Method::GET])?;
    let items = state
        .catalog
        .providers
        .iter()
        .map(|spec| provider_json(spec, None))
        .collect();
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// `GET /providers/{ns}` (tenant scope).
pub fn get_tenant(state: &AppState, req: &ArmRequest, namespace: &str) -> ArmResult<ArmResponse> {
    check_version(state, req)?;
    only(req, &[Method::GET])?;
    let spec = find(state, namespace)?;
    Ok(ArmResponse::ok(&provider_json(spec, None)))
}
