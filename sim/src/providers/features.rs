//! Microsoft.Features: preview-feature flags (AFEC). Resource types `features`,
//! `subscriptionFeatureRegistrations`, `featureProviders/subscriptionFeatureRegistrations`;
//! api-versions: the `features` and `featureRegistrations` sets of `data/resource-types.json`
//! (2015-12-01, 2021-07-01 (az), 2025-03-01, ...). `../shared/reference/ARM-CONTRACT.md` §3.
//!
//! Paths (after `/subscriptions/{s}/providers/Microsoft.Features`):
//! `GET /features`, `GET /providers/{ns}/features`, `GET /providers/{ns}/features/{f}`,
//! `POST /providers/{ns}/features/{f}/register|unregister`,
//! `PUT|GET|DELETE /featureProviders/{ns}/subscriptionFeatureRegistrations/{f}`,
//! `GET /featureProviders/{ns}/subscriptionFeatureRegistrations`,
//! `GET /subscriptionFeatureRegistrations`.
//!
//! Which features exist comes from the feature catalogue (`core::registration::features`:
//! `data/features.json`, merged with an optional user file); the state machine lives in
//! `core::registration`.

use axum::http::{Method, StatusCode};
use serde::Deserialize;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::paging::page;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::clock::rfc3339;
use crate::core::error::Error;
use crate::core::registration::features::FeatureSpec;
use crate::core::registration::{RegState, Registration};
use crate::providers::routes::Params;
use crate::state::AppState;

const NS: &str = "Microsoft.Features";

/// `FeatureResult`.
fn feature_json(sub_id: &str, spec: &FeatureSpec, state: RegState) -> serde_json::Value {
    serde_json::json!({
        "properties": { "state": state.as_str() },
        "id": format!(
            "/subscriptions/{sub_id}/providers/Microsoft.Features/providers/{}/features/{}",
            spec.namespace, spec.name
        ),
        "type": "Microsoft.Features/providers/features",
        "name": spec.full_name(),
    })
}

/// `SubscriptionFeatureRegistration`.
fn registration_json(
    tenant_id: &str,
    sub_id: &str,
    spec: &FeatureSpec,
    record: Option<&Registration>,
    now: time::OffsetDateTime,
) -> serde_json::Value {
    let reg_state = record.map_or(RegState::NotRegistered, |r| r.state(now));
    let mut props = serde_json::Map::new();
    props.insert("tenantId".into(), tenant_id.into());
    props.insert("subscriptionId".into(), sub_id.into());
    props.insert("featureName".into(), spec.name.clone().into());
    props.insert(
        "displayName".into(),
        spec.display_name
            .clone()
            .unwrap_or_else(|| spec.name.clone())
            .into(),
    );
    props.insert("providerNamespace".into(), spec.namespace.clone().into());
    props.insert("state".into(), reg_state.as_str().into());
    props.insert("authorizationProfile".into(), serde_json::json!({}));
    props.insert("metadata".into(), serde_json::json!({}));
    if let Some(at) = record.and_then(|r| r.registered_since(now)) {
        props.insert("registrationDate".into(), rfc3339(at).into());
    }
    if let Some(link) = &spec.documentation_link {
        props.insert("documentationLink".into(), link.clone().into());
    }
    props.insert("approvalType".into(), spec.approval_type.as_str().into());
    props.insert("shouldFeatureDisplayInPortal".into(), true.into());
    if let Some(d) = &spec.description {
        props.insert("description".into(), d.clone().into());
    }
    serde_json::json!({
        "id": format!(
            "/subscriptions/{sub_id}/providers/Microsoft.Features/featureProviders/{}/subscriptionFeatureRegistrations/{}",
            spec.namespace, spec.name
        ),
        "name": spec.name,
        "type": "Microsoft.Features/featureProviders/subscriptionFeatureRegistrations",
        "properties": props,
    })
}

/// A path under Microsoft.Features that names no type it has.
pub fn unknown_type(_: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let given = req.api_version().unwrap_or_default();
    Err(ArmError::invalid_resource_type(
        p.get("resourceType"),
        NS,
        given,
    ))
}

fn list_of(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: Option<&str>,
) -> ArmResult<ArmResponse> {
    let items = state
        .core
        .feature_states(sub, namespace)
        .into_iter()
        .map(|(spec, reg)| feature_json(sub, spec, reg))
        .collect();
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// `GET /features`.
pub fn list_all(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    list_of(state, req, p.sub(), None)
}

/// `GET /providers/{ns}/features`.
pub fn list(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    list_of(state, req, p.sub(), Some(p.get("namespace")))
}

/// `GET /providers/{ns}/features/{f}`.
pub fn get(state: &AppState, _: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let spec = state
        .core
        .feature(p.sub(), p.get("namespace"), p.get("featureName"))?;
    let reg = state.core.feature_state(p.sub(), spec);
    Ok(ArmResponse::ok(&feature_json(p.sub(), spec, reg)))
}

/// `POST /providers/{ns}/features/{f}/register`.
pub fn register(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    change(state, req, p, true)
}

/// `POST /providers/{ns}/features/{f}/unregister`.
pub fn unregister(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    change(state, req, p, false)
}

fn change(state: &AppState, req: &ArmRequest, p: &Params, on: bool) -> ArmResult<ArmResponse> {
    req.expect_no_body()?;
    let spec = state
        .core
        .feature(p.sub(), p.get("namespace"), p.get("featureName"))?;
    let (record, now) = state.core.change_feature(p.sub(), spec, on);
    Ok(ArmResponse::ok(&feature_json(
        p.sub(),
        spec,
        record.state(now),
    )))
}

fn registrations_of(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: Option<&str>,
) -> ArmResult<ArmResponse> {
    let tenant = state.core.store.tenant_id();
    let (records, now) = state.core.feature_records(sub, namespace);
    let items = records
        .into_iter()
        .map(|(spec, record)| registration_json(tenant, sub, spec, Some(&record), now))
        .collect();
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// `GET /subscriptionFeatureRegistrations`.
pub fn list_all_registrations(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    registrations_of(state, req, p.sub(), None)
}

/// `GET /featureProviders/{ns}/subscriptionFeatureRegistrations`.
pub fn list_registrations(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    registrations_of(state, req, p.sub(), Some(p.get("namespace")))
}

/// The optional PUT body: `{"properties":{...}}` (everything in it is read-only or ignored).
#[derive(Deserialize)]
struct RegistrationBody {
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `PUT|GET|DELETE /featureProviders/{ns}/subscriptionFeatureRegistrations/{f}`.
pub fn registration(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    if req.method == Method::PUT {
        if let Some(value) = req.take_json()? {
            let body: RegistrationBody = serde_json::from_value(value)
                .map_err(|e| Error::invalid_request_content(&e.to_string()))?;
            drop(body.properties);
        }
    } else {
        req.expect_no_body()?;
    }
    let (sub, core) = (p.sub(), &state.core);
    let spec = core.feature(p.sub(), p.get("namespace"), p.get("featureName"))?;
    let tenant = core.store.tenant_id();
    match req.method {
        Method::PUT => {
            let (record, now) = core.change_feature(sub, spec, true);
            Ok(ArmResponse::ok(&registration_json(
                tenant,
                sub,
                spec,
                Some(&record),
                now,
            )))
        }
        Method::DELETE => {
            core.forget_feature(sub, spec);
            Ok(ArmResponse::empty(StatusCode::OK))
        }
        _ => {
            let (record, now) = core.feature_record(sub, spec);
            Ok(ArmResponse::ok(&registration_json(
                tenant,
                sub,
                spec,
                record.as_ref(),
                now,
            )))
        }
    }
}
