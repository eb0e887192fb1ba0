//! Microsoft.Features: preview-feature flags (AFEC). Resource types `features`,
//! `subscriptionFeatureRegistrations`, `featureProviders/subscriptionFeatureRegistrations`;
//! api-versions: the `features` and `featureRegistrations` sets of `data/resource-types.json`
//! (2015-12-01, 2021-07-01 (az), 2025-03-01, ...). ARM-CONTRACT §3.
//!
//! Paths (after `/subscriptions/{s}/providers/Microsoft.Features`):
//! `GET /features`, `GET /providers/{ns}/features`, `GET /providers/{ns}/features/{f}`,
//! `POST /providers/{ns}/features/{f}/register|unregister`,
//! `PUT|GET|DELETE /featureProviders/{ns}/subscriptionFeatureRegistrations/{f}`,
//! `GET /featureProviders/{ns}/subscriptionFeatureRegistrations`,
//! `GET /subscriptionFeatureRegistrations`.
//!
//! Which features exist comes from the [`FeatureCatalog`] (`data/features.json`, merged with
//! an optional user file); the state machine lives in `store::registrations`.

use axum::http::{Method, StatusCode};
use serde::Deserialize;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::clock::rfc3339;
use crate::core::error::Error;
use crate::core::store::{RegState, Registration, Subscription};
use crate::limits;
use crate::providers::resources::{only, page};
use crate::state::AppState;

const NS: &str = "Microsoft.Features";
const EMBEDDED: &str = include_str!("../../data/features.json");

/// Whether registering a feature needs someone's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum ApprovalType {
    #[default]
    AutoApproval,
    ApprovalRequired,
}

impl ApprovalType {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalType::AutoApproval => "AutoApproval",
            ApprovalType::ApprovalRequired => "ApprovalRequired",
        }
    }
}

/// One known feature.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureSpec {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub documentation_link: Option<String>,
    #[serde(default)]
    pub approval_type: ApprovalType,
    /// Answers `FeatureNotFound`, as Azure does once a preview flag is removed.
    #[serde(default)]
    pub retired: bool,
}

impl FeatureSpec {
    /// The store key: lower-case `namespace/name`.
    pub fn key(&self) -> String {
        feature_key(&self.namespace, &self.name)
    }

    /// `Namespace/Name` in canonical casing.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The store key of a feature.
pub fn feature_key(namespace: &str, name: &str) -> String {
    format!(
        "{}/{}",
        namespace.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default, rename = "_comment")]
    _comment: Option<String>,
    features: Vec<FeatureSpec>,
}

/// Every feature aksim knows, in catalogue order.
#[derive(Debug, Clone, Default)]
pub struct FeatureCatalog {
    pub features: Vec<FeatureSpec>,
}

impl FeatureCatalog {
    /// The built-in catalogue merged with `overlay` (file text), entry by entry.
    pub fn load(overlay: Option<&str>) -> Result<FeatureCatalog, String> {
        let mut catalog = Self::parse(EMBEDDED).map_err(|e| format!("data/features.json: {e}"))?;
        if let Some(text) = overlay {
            let extra = Self::parse(text)?;
            for spec in extra.features {
                let key = spec.key();
                match catalog.features.iter_mut().find(|f| f.key() == key) {
                    Some(existing) => *existing = spec,
                    None => catalog.features.push(spec),
                }
            }
        }
        if catalog.features.len() > limits::FEATURE_CATALOG_ENTRIES_MAX {
            return Err(format!(
                "the feature catalogue holds more than {} entries",
                limits::FEATURE_CATALOG_ENTRIES_MAX
            ));
        }
        Ok(catalog)
    }

    fn parse(text: &str) -> Result<FeatureCatalog, String> {
        let raw: RawCatalog =
            serde_json::from_str(text).map_err(|e| format!("invalid feature catalogue: {e}"))?;
        for f in &raw.features {
            let bad =
                |s: &str| s.is_empty() || s.contains('/') || s.chars().any(char::is_whitespace);
            if bad(&f.namespace) || bad(&f.name) {
                return Err(format!(
                    "invalid feature catalogue entry '{}/{}': namespace and name must be \
                     non-empty, without '/' or spaces",
                    f.namespace, f.name
                ));
            }
        }
        Ok(FeatureCatalog {
            features: raw.features,
        })
    }

    /// A live (not retired) feature, names compared ignoring case.
    pub fn find(&self, namespace: &str, name: &str) -> Option<&FeatureSpec> {
        let key = feature_key(namespace, name);
        self.features.iter().find(|f| !f.retired && f.key() == key)
    }

    /// Live features, optionally of one namespace.
    pub fn live<'a>(&'a self, namespace: Option<&'a str>) -> impl Iterator<Item = &'a FeatureSpec> {
        self.features.iter().filter(move |f| {
            !f.retired && namespace.is_none_or(|ns| f.namespace.eq_ignore_ascii_case(ns))
        })
    }
}

/// A feature's state at `now` in `sub`.
pub fn feature_state(
    sub: &Subscription,
    spec: &FeatureSpec,
    now: time::OffsetDateTime,
) -> RegState {
    sub.features
        .get(&spec.key())
        .map_or(RegState::NotRegistered, |r| r.state(now))
}

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
    state: &AppState,
    sub_id: &str,
    spec: &FeatureSpec,
    record: Option<&Registration>,
    now: time::OffsetDateTime,
) -> serde_json::Value {
    let reg_state = record.map_or(RegState::NotRegistered, |r| r.state(now));
    let mut props = serde_json::Map::new();
    props.insert("tenantId".into(), state.store.tenant_id().into());
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

/// Routes `/subscriptions/{s}/providers/Microsoft.Features/...` (segment 3 is the namespace).
pub fn dispatch(state: &AppState, req: &ArmRequest, sub: &str) -> ArmResult<ArmResponse> {
    let p = &req.path;
    match p.len() {
        5 if p.is(4, "features") => list(state, req, sub, None),
        5 if p.is(4, "subscriptionFeatureRegistrations") => {
            list_registrations(state, req, sub, None)
        }
        7 if p.is(4, "providers") && p.is(6, "features") => list(state, req, sub, Some(p.seg(5))),
        8 if p.is(4, "providers") && p.is(6, "features") => {
            get_feature(state, req, sub, p.seg(5), p.seg(7))
        }
        9 if p.is(4, "providers") && p.is(6, "features") && p.is(8, "register") => {
            change(state, req, sub, p.seg(5), p.seg(7), true)
        }
        9 if p.is(4, "providers") && p.is(6, "features") && p.is(8, "unregister") => {
            change(state, req, sub, p.seg(5), p.seg(7), false)
        }
        7 if p.is(4, "featureProviders") && p.is(6, "subscriptionFeatureRegistrations") => {
            list_registrations(state, req, sub, Some(p.seg(5)))
        }
        8 if p.is(4, "featureProviders") && p.is(6, "subscriptionFeatureRegistrations") => {
            registration(state, req, sub, p.seg(5), p.seg(7))
        }
        _ => {
            let given = req.api_version().unwrap_or_default();
            Err(ArmError::invalid_resource_type(p.seg(4), NS, given))
        }
    }
}

fn check_version(state: &AppState, req: &ArmRequest, resource_type: &str) -> ArmResult<()> {
    crate::arm::api_version::check_native(state.catalog, NS, resource_type, req.api_version())
}

fn list(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: Option<&str>,
) -> ArmResult<ArmResponse> {
    check_version(state, req, "features")?;
    only(req, &[Method::GET])?;
    let now = state.clock.now();
    let items = state.store.with(sub, now, |s| {
        state
            .features
            .live(namespace)
            .map(|spec| feature_json(sub, spec, feature_state(s, spec, now)))
            .collect()
    });
    Ok(ArmResponse::ok(&page(req, items)?))
}

fn get_feature(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: &str,
    name: &str,
) -> ArmResult<ArmResponse> {
    check_version(state, req, "features")?;
    only(req, &[Method::GET])?;
    let spec = state
        .features
        .find(namespace, name)
        .ok_or_else(|| Error::feature_not_found(name))?;
    let now = state.clock.now();
    let reg = state.store.with(sub, now, |s| feature_state(s, spec, now));
    Ok(ArmResponse::ok(&feature_json(sub, spec, reg)))
}

/// Applies a register (`on`) or unregister request to a known feature; returns its record.
fn apply(
    state: &AppState,
    s: &mut Subscription,
    spec: &FeatureSpec,
    on: bool,
    now: time::OffsetDateTime,
) -> Registration {
    let delay = state.registration_delay();
    let seq = s.next_registration_seq();
    s.touched = true;
    let record = s.features.entry(spec.key()).or_default();
    if on {
        record.register(
            now,
            delay,
            spec.approval_type == ApprovalType::ApprovalRequired,
            seq,
        );
    } else {
        record.unregister(now, delay, seq);
    }
    record.clone()
}

fn change(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: &str,
    name: &str,
    on: bool,
) -> ArmResult<ArmResponse> {
    check_version(state, req, "features")?;
    only(req, &[Method::POST])?;
    req.expect_no_body()?;
    let spec = state
        .features
        .find(namespace, name)
        .ok_or_else(|| Error::feature_not_found(name))?;
    let now = state.clock.now();
    let record = state
        .store
        .with(sub, now, |s| apply(state, s, spec, on, now));
    Ok(ArmResponse::ok(&feature_json(sub, spec, record.state(now))))
}

fn list_registrations(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: Option<&str>,
) -> ArmResult<ArmResponse> {
    let resource_type = if namespace.is_some() {
        "featureProviders/subscriptionFeatureRegistrations"
    } else {
        "subscriptionFeatureRegistrations"
    };
    check_version(state, req, resource_type)?;
    only(req, &[Method::GET])?;
    let now = state.clock.now();
    let items = state.store.with(sub, now, |s| {
        state
            .features
            .live(namespace)
            .filter_map(|spec| {
                let record = s.features.get(&spec.key())?;
                Some(registration_json(state, sub, spec, Some(record), now))
            })
            .collect()
    });
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// The optional PUT body: `{"properties":{...}}` (everything in it is read-only or ignored).
#[derive(Deserialize)]
struct RegistrationBody {
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
}

fn registration(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    namespace: &str,
    name: &str,
) -> ArmResult<ArmResponse> {
    check_version(
        state,
        req,
        "featureProviders/subscriptionFeatureRegistrations",
    )?;
    only(req, &[Method::GET, Method::PUT, Method::DELETE])?;
    if req.method == Method::PUT {
        if let Some(value) = req.json_value()? {
            let body: RegistrationBody = serde_json::from_value(value)
                .map_err(|e| Error::invalid_request_content(&e.to_string()))?;
            drop(body.properties);
        }
    } else {
        req.expect_no_body()?;
    }
    let spec = state
        .features
        .find(namespace, name)
        .ok_or_else(|| Error::feature_not_found(name))?;
    let now = state.clock.now();
    state.store.with(sub, now, |s| match req.method {
        Method::PUT => {
            let record = apply(state, s, spec, true, now);
            Ok(ArmResponse::ok(&registration_json(
                state,
                sub,
                spec,
                Some(&record),
                now,
            )))
        }
        Method::DELETE => {
            if s.features.contains_key(&spec.key()) {
                apply(state, s, spec, false, now);
            }
            Ok(ArmResponse::empty(StatusCode::OK))
        }
        _ => Ok(ArmResponse::ok(&registration_json(
            state,
            sub,
            spec,
            s.features.get(&spec.key()),
            now,
        ))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_parses_and_overlays_merge() {
        let c = FeatureCatalog::load(None).unwrap();
        assert!(c
            .find("microsoft.containerservice", "azureservicemeshpreview")
            .is_some());
        assert!(c
            .find("Microsoft.ContainerService", "IstioCNIPreview")
            .is_some());
        assert!(c
            .find("Microsoft.ContainerService", "StartStopPreview")
            .is_none());
        let overlay = r#"{"features":[
            {"namespace":"Microsoft.ContainerService","name":"AzureServiceMeshPreview","retired":true},
            {"namespace":"Microsoft.Contoso","name":"Gadget","approvalType":"ApprovalRequired"}]}"#;
        let c = FeatureCatalog::load(Some(overlay)).unwrap();
        assert!(c
            .find("Microsoft.ContainerService", "AzureServiceMeshPreview")
            .is_none());
        assert_eq!(
            c.find("microsoft.contoso", "gadget").unwrap().approval_type,
            ApprovalType::ApprovalRequired
        );
        assert!(
            FeatureCatalog::load(Some(r#"{"features":[{"namespace":"a b","name":"x"}]}"#)).is_err()
        );
        assert!(FeatureCatalog::load(Some("[]")).is_err());
    }
}
