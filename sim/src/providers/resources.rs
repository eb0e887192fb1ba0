//! Microsoft.Resources: subscriptions, tenants, resource groups and ARM's own
//! `operationresults`. api-versions: the `arm` and `subscriptions` sets of
//! `data/resource-types.json`.
//!
//! Resource groups: PUT (201 created / 200 updated), GET, HEAD (204/404), PATCH (tags,
//! managedBy), DELETE (202 + `Location`, a long-running operation that cascades to everything
//! in the group), list (paged; `$filter` on one tag name and value, as `az group list --tag`
//! sends).

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use serde::Deserialize;

use crate::arm::error::{ArmError, ArmResult};
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::error::{is_resource_group_char, Error};
use crate::core::groups::{GroupState, ResourceGroup};
use crate::core::ops::{Effect, OpKind, OpStatus, Operation};
use crate::limits;
use crate::state::AppState;

const NS: &str = "Microsoft.Resources";

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

fn subscription_json(state: &AppState, id: &str, display_name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("/subscriptions/{id}"),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": id,
        "tenantId": state.store.tenant_id(),
        "displayName": display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

pub fn list_subscriptions(state: &AppState, req: &ArmRequest) -> ArmResult<ArmResponse> {
    crate::arm::api_version::check_native(state.catalog, NS, "subscriptions", req.api_version())?;
    only(req, &[Method::GET])?;
    let mut ids = state.store.touched_ids();
    let default = state.default_subscription();
    if !ids.contains(&default) {
        ids.insert(0, default);
    }
    let now = state.clock.now();
    let value: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| {
            let name = state.store.with(id, now, |s| s.display_name.clone());
            subscription_json(state, id, &name)
        })
        .collect();
    Ok(ArmResponse::ok(&serde_json::json!({
        "value": value,
        "count": { "type": "Total", "value": value.len() }
    })))
}

pub fn get_subscription(state: &AppState, req: &ArmRequest, sub: &str) -> ArmResult<ArmResponse> {
    crate::arm::api_version::check_native(state.catalog, NS, "subscriptions", req.api_version())?;
    only(req, &[Method::GET])?;
    let name = state
        .store
        .with(sub, state.clock.now(), |s| s.display_name.clone());
    Ok(ArmResponse::ok(&subscription_json(state, sub, &name)))
}

pub fn list_tenants(state: &AppState, req: &ArmRequest) -> ArmResult<ArmResponse> {
    crate::arm::api_version::check_native(state.catalog, NS, "tenants", req.api_version())?;
    only(req, &[Method::GET])?;
    let tid = state.store.tenant_id();
    Ok(ArmResponse::ok(&serde_json::json!({
        "value": [{
            "id": format!("/tenants/{tid}"),
            "tenantId": tid,
            "countryCode": "US",
            "displayName": "aksim",
            "domains": ["aksim.onmicrosoft.com"],
            "tenantCategory": "Home",
            "defaultDomain": "aksim.onmicrosoft.com",
            "tenantType": "AAD"
        }]
    })))
}

/// Refuses methods a route does not serve.
pub fn only(req: &ArmRequest, methods: &[Method]) -> ArmResult<()> {
    if methods.contains(&req.method) {
        Ok(())
    } else {
        Err(ArmError::method_not_allowed(
            req.method.as_str(),
            &req.path.joined(),
        ))
    }
}

/// ARM's resource-group name rule: 1–90 of letters, digits, `-_.()`, not ending in `.`.
pub fn validate_group_name(name: &str) -> ArmResult<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 90
        && name.chars().all(is_resource_group_char)
        && !name.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_resource_group_name(name).into())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupBody {
    location: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    managed_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupPatch {
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    managed_by: Option<String>,
}

fn validate_tags(tags: &Option<BTreeMap<String, String>>) -> ArmResult<()> {
    let Some(tags) = tags else { return Ok(()) };
    if tags.len() > 50 {
        return Err(Error::bad_request(
            "The number of tags exceeds the maximum of 50 tags per resource.",
        )
        .with_target("tags")
        .into());
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 512 || v.chars().count() > 256 {
            return Err(ArmError::new(
                StatusCode::BAD_REQUEST,
                "InvalidTag",
                format!(
                    "The tag name '{k}' or its value is invalid: names are 1-512 characters, \
                     values at most 256."
                ),
            ));
        }
    }
    Ok(())
}

pub fn group(state: &AppState, req: &ArmRequest, sub: &str, name: &str) -> ArmResult<ArmResponse> {
    crate::arm::api_version::check_native(state.catalog, NS, "resourceGroups", req.api_version())?;
    validate_group_name(name)?;
    let key = name.to_ascii_lowercase();
    let now = state.clock.now();
    match req.method {
        Method::PUT => {
            let body: GroupBody = req.json()?;
            let location = body
                .location
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(Error::location_required)?;
            let location = state.catalog.normalize_location(&location).ok_or_else(|| {
                ArmError::new(
                    StatusCode::BAD_REQUEST,
                    "LocationNotAvailableForResourceGroup",
                    format!(
                        "The provided location '{location}' is not available for resource group. \
                         List of available regions is '{}'.",
                        state.catalog.locations.join(",")
                    ),
                )
            })?;
            validate_tags(&body.tags)?;
            state.store.with(sub, now, |s| {
                if let Some(existing) = s.resource_groups.get_mut(&key) {
                    if existing.state == GroupState::Deleting {
                        return Err(being_deleted(&existing.name));
                    }
                    if existing.location != location {
                        return Err(ArmError::new(
                            StatusCode::CONFLICT,
                            "InvalidResourceGroupLocation",
                            format!(
                                "Invalid resource group location '{location}'. The Resource group \
                                 already exists in location '{}'.",
                                existing.location
                            ),
                        ));
                    }
                    existing.tags = body.tags;
                    existing.managed_by = body.managed_by;
                    return Ok(ArmResponse::ok(&existing.to_json(sub)));
                }
                if s.resource_groups.len() >= limits::RESOURCE_GROUPS_PER_SUBSCRIPTION_MAX {
                    return Err(Error::conflict(
                        "ResourceGroupQuotaExceeded",
                        format!(
                            "Creating the resource group '{name}' would exceed the quota of {} \
                             resource groups per subscription.",
                            limits::RESOURCE_GROUPS_PER_SUBSCRIPTION_MAX
                        ),
                    )
                    .into());
                }
                let group = ResourceGroup {
                    name: name.to_owned(),
                    location,
                    tags: body.tags,
                    managed_by: body.managed_by,
                    state: GroupState::Succeeded,
                };
                let json = group.to_json(sub);
                s.resource_groups.insert(key.clone(), group);
                s.touched = true;
                Ok(ArmResponse::json(StatusCode::CREATED, &json))
            })
        }
        Method::GET | Method::HEAD => {
            let head = req.method == Method::HEAD;
            state
                .store
                .with(sub, now, |s| match s.resource_groups.get(&key) {
                    Some(_) if head => Ok(ArmResponse::empty(StatusCode::NO_CONTENT)),
                    Some(group) => Ok(ArmResponse::ok(&group.to_json(sub))),
                    None if head => Ok(ArmResponse::empty(StatusCode::NOT_FOUND)),
                    None => Err(Error::resource_group_not_found(name).into()),
                })
        }
        Method::PATCH => {
            let patch: GroupPatch = req.json()?;
            validate_tags(&patch.tags)?;
            state.store.with(sub, now, |s| {
                let group = s
                    .resource_groups
                    .get_mut(&key)
                    .ok_or_else(|| Error::resource_group_not_found(name))?;
                if group.state == GroupState::Deleting {
                    return Err(being_deleted(&group.name));
                }
                if patch.tags.is_some() {
                    group.tags = patch.tags;
                }
                if patch.managed_by.is_some() {
                    group.managed_by = patch.managed_by;
                }
                Ok(ArmResponse::ok(&group.to_json(sub)))
            })
        }
        Method::DELETE => state.store.with(sub, now, |s| {
            let group = s
                .resource_groups
                .get_mut(&key)
                .ok_or_else(|| Error::resource_group_not_found(name))?;
            let effect = Effect::DeleteResourceGroup {
                group_key: key.clone(),
            };
            // A second DELETE while one runs points at the running operation.
            if group.state == GroupState::Deleting {
                let running = s
                    .operations
                    .values()
                    .find(|op| op.status == OpStatus::InProgress && op.effect == effect)
                    .cloned();
                if let Some(op) = running {
                    return Ok(accepted(&op, &req.base_url, sub));
                }
            }
            group.state = GroupState::Deleting;
            let op = state.start_operation(req, OpKind::ResourceGroupDelete, None, None, effect);
            let response = accepted(&op, &req.base_url, sub);
            s.add_operation(op);
            Ok(response)
        }),
        _ => Err(ArmError::method_not_allowed(
            req.method.as_str(),
            "Microsoft.Resources/resourceGroups",
        )),
    }
}

/// ARM's answer to a write into a resource group whose delete is running.
pub fn being_deleted(name: &str) -> ArmError {
    Error::conflict(
        "ResourceGroupBeingDeleted",
        format!(
            "The resource group '{name}' is in deprovisioning state and cannot perform this \
             operation."
        ),
    )
    .into()
}

fn accepted(op: &Operation, base: &str, sub: &str) -> ArmResponse {
    ArmResponse::empty(StatusCode::ACCEPTED)
        .with_header("location", &op.location_url(base, sub))
        .with_header("retry-after", &limits::RETRY_AFTER_SECS.to_string())
}

pub fn list_groups(state: &AppState, req: &ArmRequest, sub: &str) -> ArmResult<ArmResponse> {
    crate::arm::api_version::check_native(state.catalog, NS, "resourceGroups", req.api_version())?;
    only(req, &[Method::GET])?;
    let filter = match req
        .query("$filter")
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        Some(raw) => Some(TagFilter::parse(raw).ok_or_else(|| ArmError::invalid_filter(raw))?),
        None => None,
    };
    let items: Vec<serde_json::Value> = state.store.with(sub, state.clock.now(), |s| {
        s.resource_groups
            .values()
            .filter(|g| filter.as_ref().is_none_or(|f| f.matches(g.tags.as_ref())))
            .map(|g| g.to_json(sub))
            .collect()
    });
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// The one `$filter` ARM takes on resource-group lists: `tagName eq 'N'` optionally followed
/// by `and tagValue eq 'V'` (keywords in any case; `''` escapes a quote, as in OData). Tag
/// names match ignoring case, values exactly (ARM's tag rules). `az group list --tag N=V`
/// sends this.
#[derive(Debug, PartialEq, Eq)]
struct TagFilter {
    name: String,
    value: Option<String>,
}

impl TagFilter {
    fn parse(raw: &str) -> Option<TagFilter> {
        let (name, rest) = Self::clause(raw, "tagname")?;
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Some(TagFilter { name, value: None });
        }
        let rest = Self::keyword(rest, "and")?;
        let (value, rest) = Self::clause(rest, "tagvalue")?;
        rest.trim().is_empty().then_some(TagFilter {
            name,
            value: Some(value),
        })
    }

    /// `<field> eq '<literal>'`, returning the literal and what follows.
    fn clause<'a>(input: &'a str, field: &str) -> Option<(String, &'a str)> {
        let rest = Self::keyword(input.trim_start(), field)?;
        let rest = Self::keyword(rest.trim_start(), "eq")?;
        let mut chars = rest.trim_start().char_indices().peekable();
        let start = rest.len() - rest.trim_start().len();
        if chars.next().map(|(_, c)| c) != Some('\'') {
            return None;
        }
        let mut literal = String::new();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().map(|(_, c)| *c) == Some('\'') {
                    chars.next();
                    literal.push('\'');
                    continue;
                }
                return Some((literal, &rest[start + i + 1..]));
            }
            literal.push(c);
        }
        None
    }

    /// `word` (any case) followed by whitespace or the end.
    fn keyword<'a>(input: &'a str, word: &str) -> Option<&'a str> {
        let head = input.get(..word.len())?;
        let rest = &input[word.len()..];
        (head.eq_ignore_ascii_case(word)
            && (rest.is_empty() || rest.starts_with(char::is_whitespace)))
        .then_some(rest)
    }

    fn matches(&self, tags: Option<&BTreeMap<String, String>>) -> bool {
        tags.into_iter().flatten().any(|(k, v)| {
            k.eq_ignore_ascii_case(&self.name) && self.value.as_ref().is_none_or(|want| v == want)
        })
    }
}

pub fn list_group_resources(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    name: &str,
) -> ArmResult<ArmResponse> {
    crate::arm::api_version::check_native(state.catalog, NS, "resources", req.api_version())?;
    only(req, &[Method::GET])?;
    let key = name.to_ascii_lowercase();
    let items = state
        .store
        .with(sub, state.clock.now(), |s| -> ArmResult<_> {
            if !s.resource_groups.contains_key(&key) {
                return Err(Error::resource_group_not_found(name).into());
            }
            let prefix = format!("{key}/");
            Ok(s.managed_clusters
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, c)| c.generic_resource())
                .collect::<Vec<_>>())
        })?;
    Ok(ArmResponse::ok(&page(req, items)?))
}

pub fn operation_result(
    state: &AppState,
    req: &ArmRequest,
    sub: &str,
    id: &str,
) -> ArmResult<ArmResponse> {
    crate::arm::api_version::check_native(
        state.catalog,
        NS,
        "operationresults",
        req.api_version(),
    )?;
    only(req, &[Method::GET])?;
    let op = state
        .store
        .with(sub, state.clock.now(), |s| {
            s.poll_operation(id, state.clock.now())
        })
        .filter(|op| op.namespace.is_none())
        .ok_or_else(|| Error::operation_not_found(id))?;
    Ok(match op.status {
        OpStatus::InProgress => accepted(&op, &req.base_url, sub),
        OpStatus::Succeeded => ArmResponse::empty(StatusCode::OK),
        OpStatus::Failed | OpStatus::Canceled => {
            let error = op
                .error
                .unwrap_or_else(|| Error::internal("operation failed").body);
            ArmResponse::json(StatusCode::OK, &serde_json::json!({ "error": error }))
        }
    })
}

/// One page of a list, with an absolute `nextLink` when more remain (`$skiptoken` is the
/// offset; `$top` caps the page).
pub fn page(req: &ArmRequest, items: Vec<serde_json::Value>) -> ArmResult<serde_json::Value> {
    let total = items.len();
    page_of(req, total, |skip, top| {
        items.into_iter().skip(skip).take(top).collect()
    })
}

/// [`page`] for lists whose items are costly to build: of `total` items, `render(skip, top)`
/// builds only the page's.
pub fn page_of(
    req: &ArmRequest,
    total: usize,
    render: impl FnOnce(usize, usize) -> Vec<serde_json::Value>,
) -> ArmResult<serde_json::Value> {
    let skip: usize = match req.query("$skiptoken") {
        Some(t) => t.parse().map_err(|_| {
            Error::bad_request(format!("The continuation token '{t}' is not valid."))
        })?,
        None => 0,
    };
    let top: usize =
        match req.query("$top") {
            Some(t) => t.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Error::bad_request(format!("The value '{t}' of $top is not valid."))
            })?,
            None => limits::ARM_LIST_PAGE_SIZE,
        }
        .min(limits::ARM_LIST_PAGE_SIZE);
    let value = render(skip, top);
    let mut body = serde_json::Map::new();
    body.insert("value".into(), serde_json::Value::Array(value));
    if skip + top < total {
        let mut query: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
            .cloned()
            .collect();
        query.push(("$skiptoken".into(), (skip + top).to_string()));
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        body.insert(
            "nextLink".into(),
            format!("{}{}?{qs}", req.base_url, req.path.joined()).into(),
        );
    }
    Ok(serde_json::Value::Object(body))
}
