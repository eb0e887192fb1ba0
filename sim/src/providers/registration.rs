//! Resource-provider registration (Microsoft.Resources `providers`): register, unregister,
//! get and list at subscription scope, get and list at tenant scope (the state machine and the
//! gate every resource-provider request passes are `core::registration`). api-versions: the
//! `arm` set of `data/resource-types.json` (includes 2016-02-01, which azure-mgmt-core's
//! automatic registration sends — `../shared/reference/ARM-CONTRACT.md` §4.3).
//!
//! Provider documents (`resourceTypes`, `apiVersions`, `locations`, `registrationPolicy`) are
//! generated from `core::resource_types`, the same catalogue the api-version check reads.
//! RegistrationFree providers are always `Registered`; RegistrationRequired ones start
//! `NotRegistered` in a fresh subscription and move on the virtual clock.

use crate::arm::error::ArmResult;
use crate::arm::paging::page;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::error::Error;
use crate::core::registration::RegState;
use crate::core::resource_types::ProviderSpec;
use crate::providers::routes::Params;
use crate::state::AppState;

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

/// `GET /subscriptions/{s}/providers` (`$expand` tolerated).
pub fn list(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let sub = p.sub();
    let items = state
        .core
        .provider_states(sub)
        .into_iter()
        .map(|(spec, reg)| provider_json(spec, Some((sub, reg))))
        .collect();
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// `GET /subscriptions/{s}/providers/{ns}` (`$expand` tolerated).
pub fn get(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let spec = state.core.provider(p.get("namespace"))?;
    let reg = state.core.provider_state(p.sub(), spec);
    Ok(ArmResponse::ok(&provider_json(spec, Some((p.sub(), reg)))))
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

/// `POST /subscriptions/{s}/providers/{ns}/register`.
pub fn register(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    check_register_body(req)?;
    change(state, p, true)
}

/// `POST /subscriptions/{s}/providers/{ns}/unregister`.
pub fn unregister(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    req.expect_no_body()?;
    change(state, p, false)
}

fn change(state: &AppState, p: &Params, on: bool) -> ArmResult<ArmResponse> {
    let spec = state.core.provider(p.get("namespace"))?;
    let reg = state.core.change_provider(p.sub(), spec, on)?;
    Ok(ArmResponse::ok(&provider_json(spec, Some((p.sub(), reg)))))
}

/// `GET /providers` (tenant scope).
pub fn list_tenant(state: &AppState, req: &mut ArmRequest, _: &Params) -> ArmResult<ArmResponse> {
    let items = state
        .core
        .resource_types
        .providers
        .iter()
        .map(|spec| provider_json(spec, None))
        .collect();
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// `GET /providers/{ns}` (tenant scope).
pub fn get_tenant(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let spec = state.core.provider(p.get("namespace"))?;
    Ok(ArmResponse::ok(&provider_json(spec, None)))
}
