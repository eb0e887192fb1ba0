//! Resource groups: the container every RP resource lives in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
