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

use crate::arm::error::ArmResult;
use crate::arm::operation;
use crate::arm::paging::page;
use crate::arm::request::{ArmRequest, ArmResponse};
use crate::core::error::Error;
use crate::core::groups;
use crate::providers::routes::Params;
use crate::state::AppState;

fn subscription_json(state: &AppState, id: &str, display_name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("/subscriptions/{id}"),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": id,
        "tenantId": state.core.store.tenant_id(),
        "displayName": display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off"
        }
    })
}

/// `GET /subscriptions`: the default subscription and every one with state.
pub fn list_subscriptions(
    state: &AppState,
    _: &mut ArmRequest,
    _: &Params,
) -> ArmResult<ArmResponse> {
    let core = &state.core;
    let mut ids = core.store.touched_ids();
    let default = core.settings.default_subscription.clone();
    if !ids.contains(&default) {
        ids.insert(0, default);
    }
    let value: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| subscription_json(state, id, &core.subscription_name(id)))
        .collect();
    Ok(ArmResponse::ok(&serde_json::json!({
        "value": value,
        "count": { "type": "Total", "value": value.len() }
    })))
}

pub fn get_subscription(
    state: &AppState,
    _: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let name = state.core.subscription_name(p.sub());
    Ok(ArmResponse::ok(&subscription_json(state, p.sub(), &name)))
}

pub fn list_tenants(state: &AppState, _: &mut ArmRequest, _: &Params) -> ArmResult<ArmResponse> {
    let tid = state.core.store.tenant_id();
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

/// `/subscriptions/{s}/resourcegroups/{name}`: PUT, GET, HEAD, PATCH, DELETE.
pub fn group(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let (sub, name) = (p.sub(), p.get("resourceGroupName"));
    let core = &state.core;
    groups::validate_name(name)?;
    match req.method {
        Method::PUT => {
            let body: GroupBody = req.json()?;
            let location = body
                .location
                .filter(|l| !l.trim().is_empty())
                .ok_or_else(Error::location_required)?;
            let location = core
                .resource_types
                .normalize_location(&location)
                .ok_or_else(|| {
                    groups::location_not_available(&location, &core.resource_types.locations)
                })?;
            groups::validate_tags(&body.tags)?;
            let put = groups::Put {
                location,
                tags: body.tags,
                managed_by: body.managed_by,
            };
            let (json, created) = core.put_group(sub, name, put)?;
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(ArmResponse::json(status, &json))
        }
        Method::HEAD => Ok(ArmResponse::empty(match core.get_group(sub, name) {
            Some(_) => StatusCode::NO_CONTENT,
            None => StatusCode::NOT_FOUND,
        })),
        Method::PATCH => {
            let patch: GroupPatch = req.json()?;
            groups::validate_tags(&patch.tags)?;
            let json = core.patch_group(sub, name, patch.tags, patch.managed_by)?;
            Ok(ArmResponse::ok(&json))
        }
        Method::DELETE => {
            let api_version = req.api_version().unwrap_or_default();
            let op = core.delete_group(sub, name, api_version, req.injected_failure.as_ref())?;
            Ok(operation::accepted_location(&op, &req.base_url, sub))
        }
        _ => match core.get_group(sub, name) {
            Some(json) => Ok(ArmResponse::ok(&json)),
            None => Err(Error::resource_group_not_found(name).into()),
        },
    }
}

pub fn list_groups(state: &AppState, req: &mut ArmRequest, p: &Params) -> ArmResult<ArmResponse> {
    let filter = match req
        .query("$filter")
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        Some(raw) => Some(
            TagFilter::parse(raw)
                .ok_or_else(|| crate::arm::error::ArmError::invalid_filter(raw))?,
        ),
        None => None,
    };
    let items = state.core.list_groups(p.sub(), |g| {
        filter.as_ref().is_none_or(|f| f.matches(g.tags.as_ref()))
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
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let items = state
        .core
        .list_group_resources(p.sub(), p.get("resourceGroupName"))?;
    Ok(ArmResponse::ok(&page(req, items)?))
}

/// ARM's own `operationresults/{id}`: 202 while running, 200 when done.
pub fn operation_result(
    state: &AppState,
    req: &mut ArmRequest,
    p: &Params,
) -> ArmResult<ArmResponse> {
    let op = state
        .core
        .poll_operation(p.sub(), p.get("operationId"), None)?;
    Ok(operation::result(
        &op,
        &req.base_url,
        p.sub(),
        StatusCode::OK,
    ))
}
