//! The machinery of ARM's one declarative route table (`providers::ROUTES`): a [`Route`] is a
//! path pattern, the api-version type it is checked against, the methods it serves and its
//! handler. [`dispatch`] finds the first route whose pattern matches, then runs ARM's gates in
//! ARM's order — the subscription id (`InvalidSubscriptionId`, `SubscriptionNotFound`), the
//! api-version (once, here: `MissingApiVersionParameter`, `InvalidApiVersionParameter` or
//! `NoRegisteredProviderFound`), the method (405) — and calls the handler with the pattern's
//! named segments.
//!
//! Patterns are written as ARM documents them: `/subscriptions/{subscriptionId}/...`.
//! Literal segments compare ignoring ASCII case (`resourcegroups` and `resourceGroups` both
//! occur on the wire); `{name}` takes one segment as the caller spelled it; a trailing `{*}`
//! takes zero or more. `{subscriptionId}` is parsed as a GUID and handed on lower-case.

use std::sync::OnceLock;

use axum::http::Method;

use crate::arm::api_version;
use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::error::Error;
use crate::state::AppState;

/// The api-version check a route runs.
#[derive(Debug, Clone, Copy)]
pub enum Api {
    /// No api-version check (the handler refuses on its own terms).
    None,
    /// An ARM-native type (`Microsoft.Resources`, `Microsoft.Features`):
    /// `InvalidApiVersionParameter` for an unknown version.
    Native(&'static str, &'static str),
    /// A resource-provider type: `NoRegisteredProviderFound`, naming the location.
    Provider(&'static str, &'static str, Location),
}

/// Where a provider type's location comes from (it is named in `NoRegisteredProviderFound`).
#[derive(Debug, Clone, Copy)]
pub enum Location {
    /// `global`.
    Global,
    /// The `{location}` segment.
    Segment,
    /// The `location` of a PUT's JSON body (when it names a known one).
    Body,
}

/// How a 405 names what the method is not allowed on.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// The request path.
    Path,
    /// A resource type (`Microsoft.Resources/resourceGroups`).
    Type(&'static str),
}

/// A route's handler: the state, the request (its body parsed at most once) and the named
/// segments.
pub type Handler = fn(&AppState, &mut ArmRequest, &Params) -> ArmResult<ArmResponse>;

/// One entry of the route table.
pub struct Route {
    pub pattern: &'static str,
    pub api: Api,
    /// Empty: every method reaches the handler.
    pub methods: &'static [Method],
    pub target: Target,
    pub handler: Handler,
}

/// The named segments a pattern matched.
#[derive(Debug, Default)]
pub struct Params {
    values: Vec<(&'static str, String)>,
}

impl Params {
    /// The segment matched by `{name}` (empty if the pattern has none).
    pub fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The lower-case subscription GUID.
    pub fn sub(&self) -> &str {
        self.get("subscriptionId")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(&'static str),
    Named(&'static str),
    Rest,
}

fn compile(pattern: &'static str) -> Vec<Segment> {
    pattern
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "{*}" => Segment::Rest,
            _ if s.starts_with('{') && s.ends_with('}') => Segment::Named(&s[1..s.len() - 1]),
            _ => Segment::Literal(s),
        })
        .collect()
}

/// The named segments of `pattern` in `path`'s segments, if it matches.
fn matches(pattern: &[Segment], path: &crate::arm::path::ArmPath) -> Option<Params> {
    let mut params = Params::default();
    let n = path.len();
    for (i, segment) in pattern.iter().enumerate() {
        match segment {
            Segment::Rest => return Some(params),
            _ if i >= n => return None,
            Segment::Literal(text) => {
                if !path.is(i, text) {
                    return None;
                }
            }
            Segment::Named(name) => params.values.push((name, path.seg(i).to_owned())),
        }
    }
    (pattern.len() == n).then_some(params)
}

/// Dispatches one ARM request (authenticated) through `routes`.
pub fn dispatch(
    state: &AppState,
    req: &mut ArmRequest,
    routes: &'static [Route],
) -> ArmResult<ArmResponse> {
    static COMPILED: OnceLock<Vec<Vec<Segment>>> = OnceLock::new();
    let compiled = COMPILED.get_or_init(|| routes.iter().map(|r| compile(r.pattern)).collect());
    let found = routes
        .iter()
        .zip(compiled)
        .find_map(|(route, pattern)| matches(pattern, &req.path).map(|p| (route, p)));
    let Some((route, mut params)) = found else {
        return Err(no_route(req));
    };
    if let Some(slot) = params
        .values
        .iter_mut()
        .find(|(name, _)| *name == "subscriptionId")
    {
        let sub = parse_subscription_id(&slot.1)?;
        // Past `SUBSCRIPTIONS_MAX`, a subscription aksim holds no state for does not exist.
        if !state.core.has_room_for(&sub) {
            return Err(Error::subscription_not_found(&sub).into());
        }
        slot.1 = sub;
    }
    check_api_version(state, req, route.api, &params)?;
    if !route.methods.is_empty() && !route.methods.contains(&req.method) {
        let target = match route.target {
            Target::Path => req.path.joined(),
            Target::Type(t) => t.to_owned(),
        };
        return Err(ArmError::method_not_allowed(req.method.as_str(), &target));
    }
    (route.handler)(state, req, &params)
}

fn check_api_version(
    state: &AppState,
    req: &ArmRequest,
    api: Api,
    params: &Params,
) -> ArmResult<()> {
    let catalog = state.core.resource_types;
    match api {
        Api::None => Ok(()),
        Api::Native(namespace, resource_type) => {
            api_version::check_native(catalog, namespace, resource_type, req.api_version())
        }
        Api::Provider(namespace, resource_type, location) => {
            // Named only in the refusal, so looked up only for one.
            let location = || match location {
                Location::Global => None,
                Location::Segment => Some(params.get("location").to_owned()),
                // ARM names the request's location; for a PUT it is the body's.
                Location::Body if req.method == Method::PUT => req
                    .json_ref()
                    .ok()
                    .flatten()
                    .and_then(|b| b.get("location")?.as_str())
                    .and_then(|l| catalog.normalize_location(l)),
                Location::Body => None,
            };
            api_version::check_provider(
                catalog,
                namespace,
                resource_type,
                req.api_version(),
                location,
            )
        }
    }
}

/// A subscription id from a path: a GUID, returned lower-case.
pub fn parse_subscription_id(raw: &str) -> ArmResult<String> {
    match uuid::Uuid::parse_str(raw) {
        Ok(id) if raw.len() == 36 => Ok(id
            .hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer())
            .to_owned()),
        _ => Err(ArmError::invalid_subscription_id(raw)),
    }
}

/// ARM's answer when no route matches.
pub fn no_route(req: &ArmRequest) -> ArmError {
    ArmError::no_route(req.method.as_str(), &req.path.joined())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arm::path::ArmPath;

    #[test]
    fn patterns_match_ignoring_literal_case_and_keep_names() {
        let pattern = compile("/subscriptions/{subscriptionId}/resourceGroups/{rg}/{*}");
        let path = ArmPath::parse("/subscriptions/S/resourcegroups/MyRG").unwrap();
        let p = matches(&pattern, &path).unwrap();
        assert_eq!(p.get("rg"), "MyRG");
        assert_eq!(p.sub(), "S");
        let deeper = ArmPath::parse("/subscriptions/S/resourceGroups/g/providers/x").unwrap();
        assert!(matches(&pattern, &deeper).is_some());
        let exact = compile("/subscriptions/{subscriptionId}");
        assert!(matches(&exact, &deeper).is_none());
        assert!(matches(&compile("/tenants"), &ArmPath::parse("/Tenants").unwrap()).is_some());
    }
}
