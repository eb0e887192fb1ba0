//! Resource groups: the container every resource-provider resource lives in. Create or
//! update (a location never changes), patch (tags, `managedBy`), and delete: a long-running
//! operation whose end removes the group and, through `core::subscription`, everything in it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::error::{is_resource_group_char, Error, ErrorKind, Result};
use crate::core::ops::{OpKind, Outcome};
use crate::limits;

/// The operation kind of a group's delete.
pub const DELETE: OpKind = OpKind::named("resourceGroupDelete");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupState {
    Succeeded,
    Deleting,
}

impl GroupState {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Succeeded => "Succeeded",
            GroupState::Deleting => "Deleting",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceGroup {
    /// The name as the caller first spelled it.
    pub name: String,
    /// Canonical location (`eastus`).
    pub location: String,
    pub tags: Option<BTreeMap<String, String>>,
    pub managed_by: Option<String>,
    pub state: GroupState,
}

/// What a group's operation does when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Effect {
    /// Remove a resource group and everything in it.
    DeleteResourceGroup { group_key: String },
}

/// Applies a finished operation's effect; returns the key of a group that is gone (its
/// contents go with it).
pub fn apply(
    groups: &mut BTreeMap<String, ResourceGroup>,
    effect: &Effect,
    outcome: Outcome,
) -> Option<String> {
    let Effect::DeleteResourceGroup { group_key } = effect;
    match outcome {
        Outcome::Succeeded => {
            groups.remove(group_key);
            Some(group_key.clone())
        }
        Outcome::Failed => {
            if let Some(group) = groups.get_mut(group_key) {
                group.state = GroupState::Succeeded;
            }
            None
        }
    }
}

impl ResourceGroup {
    pub fn to_json(&self, subscription: &str) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert(
            "id".into(),
            format!("/subscriptions/{subscription}/resourceGroups/{}", self.name).into(),
        );
        body.insert("name".into(), self.name.clone().into());
        body.insert("type".into(), "Microsoft.Resources/resourceGroups".into());
        body.insert("location".into(), self.location.clone().into());
        if let Some(managed_by) = &self.managed_by {
            body.insert("managedBy".into(), managed_by.clone().into());
        }
        if let Some(tags) = &self.tags {
            body.insert(
                "tags".into(),
                serde_json::to_value(tags).unwrap_or_default(),
            );
        }
        body.insert(
            "properties".into(),
            serde_json::json!({ "provisioningState": self.state.as_str() }),
        );
        serde_json::Value::Object(body)
    }
}

/// ARM's resource-group name rule: 1–90 of letters, digits, `-_.()`, not ending in `.`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 90
        && name.chars().all(is_resource_group_char)
        && !name.ends_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_resource_group_name(name))
    }
}

/// ARM's tag rules: at most 50 tags, names 1–512 characters, values at most 256.
pub fn validate_tags(tags: &Option<BTreeMap<String, String>>) -> Result<()> {
    let Some(tags) = tags else { return Ok(()) };
    if tags.len() > 50 {
        return Err(Error::bad_request(
            "The number of tags exceeds the maximum of 50 tags per resource.",
        )
        .with_target("tags"));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 512 || v.chars().count() > 256 {
            return Err(Error::new(
                ErrorKind::BadRequest,
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

/// ARM's answer to a write into a resource group whose delete is running.
pub fn being_deleted(name: &str) -> Error {
    Error::conflict(
        "ResourceGroupBeingDeleted",
        format!(
            "The resource group '{name}' is in deprovisioning state and cannot perform this \
             operation."
        ),
    )
}

/// A location a resource group cannot be created in.
pub fn location_not_available(location: &str, available: &[String]) -> Error {
    Error::new(
        ErrorKind::BadRequest,
        "LocationNotAvailableForResourceGroup",
        format!(
            "The provided location '{location}' is not available for resource group. List of \
             available regions is '{}'.",
            available.join(",")
        ),
    )
}

/// What a create-or-update asks for.
pub struct Put {
    /// Canonical location.
    pub location: String,
    pub tags: Option<BTreeMap<String, String>>,
    pub managed_by: Option<String>,
}

/// Creates or updates the group `name`; `true` when created.
pub fn put(
    groups: &mut BTreeMap<String, ResourceGroup>,
    name: &str,
    put: Put,
) -> Result<(ResourceGroup, bool)> {
    let key = name.to_ascii_lowercase();
    if let Some(existing) = groups.get_mut(&key) {
        if existing.state == GroupState::Deleting {
            return Err(being_deleted(&existing.name));
        }
        if existing.location != put.location {
            return Err(Error::new(
                ErrorKind::Conflict,
                "InvalidResourceGroupLocation",
                format!(
                    "Invalid resource group location '{}'. The Resource group already exists in \
                     location '{}'.",
                    put.location, existing.location
                ),
            ));
        }
        existing.tags = put.tags;
        existing.managed_by = put.managed_by;
        return Ok((existing.clone(), false));
    }
    if groups.len() >= limits::RESOURCE_GROUPS_PER_SUBSCRIPTION_MAX {
        return Err(Error::conflict(
            "ResourceGroupQuotaExceeded",
            format!(
                "Creating the resource group '{name}' would exceed the quota of {} resource \
                 groups per subscription.",
                limits::RESOURCE_GROUPS_PER_SUBSCRIPTION_MAX
            ),
        ));
    }
    let group = ResourceGroup {
        name: name.to_owned(),
        location: put.location,
        tags: put.tags,
        managed_by: put.managed_by,
        state: GroupState::Succeeded,
    };
    groups.insert(key, group.clone());
    Ok((group, true))
}

/// Patches tags and `managedBy` (each only when given).
pub fn patch(
    groups: &mut BTreeMap<String, ResourceGroup>,
    name: &str,
    tags: Option<BTreeMap<String, String>>,
    managed_by: Option<String>,
) -> Result<ResourceGroup> {
    let group = groups
        .get_mut(&name.to_ascii_lowercase())
        .ok_or_else(|| Error::resource_group_not_found(name))?;
    if group.state == GroupState::Deleting {
        return Err(being_deleted(&group.name));
    }
    if tags.is_some() {
        group.tags = tags;
    }
    if managed_by.is_some() {
        group.managed_by = managed_by;
    }
    Ok(group.clone())
}

/// Marks the group `Deleting` and gives the effect its delete operation applies, and whether a
/// delete was already running (then that operation answers).
pub fn start_delete(
    groups: &mut BTreeMap<String, ResourceGroup>,
    name: &str,
) -> Result<(Effect, bool)> {
    let key = name.to_ascii_lowercase();
    let group = groups
        .get_mut(&key)
        .ok_or_else(|| Error::resource_group_not_found(name))?;
    let running = group.state == GroupState::Deleting;
    group.state = GroupState::Deleting;
    Ok((Effect::DeleteResourceGroup { group_key: key }, running))
}
