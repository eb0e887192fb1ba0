//! A managed cluster as the store keeps it: the writable JSON the client sent (read-only input
//! removed, nulls dropped) plus the server-computed values. Rendering the ARM body lives in
//! `providers::container_service::model`; the store only holds data and applies effects.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub mod catalog;
pub mod mesh;
pub mod model;
pub mod rules;

use mesh::MeshProfile;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedCluster {
    pub subscription: String,
    /// Casing given at creation (ids and names echo it).
    pub resource_group: String,
    pub name: String,
    /// Canonical location (`eastus`).
    pub location: String,
    pub tags: Option<Map<String, Value>>,
    /// Writable top-level members other than location/tags/properties (`sku`, `identity`,
    /// `kind`, `extendedLocation`, unknown ones), as sent.
    pub top: Map<String, Value>,
    /// Writable `properties` as sent, minus `serviceMeshProfile` (kept typed in `mesh`);
    /// agent pools carry their filled-in defaults.
    pub properties: Map<String, Value>,
    /// `1.33` or `1.33.5`, as requested (or the default minor).
    pub kubernetes_version: String,
    /// Full patch version running.
    pub current_kubernetes_version: String,
    pub dns_prefix: String,
    /// The 8 hex digits in the FQDN.
    pub fqdn_hash: String,
    pub node_resource_group: String,
    pub resource_uid: String,
    pub principal_id: String,
    pub etag: String,
    /// Agent pool eTags by lower-cased pool name.
    pub pool_etags: BTreeMap<String, String>,
    /// `None`: never meshed (no `serviceMeshProfile` key in responses).
    pub mesh: Option<MeshProfile>,
    /// `Creating`, `Updating`, `Deleting`, `Succeeded`, `Failed`.
    pub provisioning_state: String,
    /// The operation whose completion settles `provisioning_state`.
    pub operation_id: Option<String>,
    /// The serialised GET body; rebuilt after every change.
    #[serde(skip)]
    pub cached: Option<Bytes>,
}

impl ManagedCluster {
    /// Gives the stored JSON back the spare capacity parsing and building left in it (maps
    /// and arrays grow by doubling): ten thousand clusters keep their JSON for a long time.
    pub fn compact(&mut self) {
        if let Some(tags) = self.tags.as_mut() {
            crate::compact::map(tags);
        }
        crate::compact::map(&mut self.top);
        crate::compact::map(&mut self.properties);
    }

    /// Whether a write operation is running (second writes get `OperationNotAllowed`).
    pub fn running_operation(&self) -> Option<&str> {
        match self.provisioning_state.as_str() {
            "Creating" | "Updating" | "Deleting" => Some(&self.provisioning_state),
            _ => None,
        }
    }
}
