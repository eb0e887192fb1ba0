//! Subscriptions and resource groups.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::core::groups::{self, ResourceGroup};
use crate::core::ops::{Injected, OpStatus, Operation};
use crate::core::subscription::Effect;
use crate::core::Core;

impl Core {
    /// A subscription's display name (the subscription exists once asked about).
    pub fn subscription_name(&self, sub: &str) -> String {
        self.store.with(sub, self.now(), |s| s.display_name.clone())
    }

    /// Creates or updates a resource group; its JSON and whether it was created.
    pub fn put_group(&self, sub: &str, name: &str, put: groups::Put) -> Result<(Value, bool)> {
        self.store.with(sub, self.now(), |s| {
            let (group, created) = groups::put(&mut s.groups, name, put)?;
            if created {
                s.touched = true;
            }
            Ok((group.to_json(sub), created))
        })
    }

    /// A resource group's JSON, `None` when it does not exist.
    pub fn get_group(&self, sub: &str, name: &str) -> Option<Value> {
        let key = name.to_ascii_lowercase();
        self.store.with(sub, self.now(), |s| {
            s.groups.get(&key).map(|group| group.to_json(sub))
        })
    }

    pub fn patch_group(
        &self,
        sub: &str,
        name: &str,
        tags: Option<BTreeMap<String, String>>,
        managed_by: Option<String>,
    ) -> Result<Value> {
        self.store.with(sub, self.now(), |s| {
            Ok(groups::patch(&mut s.groups, name, tags, managed_by)?.to_json(sub))
        })
    }

    /// Starts a resource group's delete (or finds the one running); the operation.
    pub fn delete_group(
        &self,
        sub: &str,
        name: &str,
        api_version: &str,
        injected: Option<&Injected>,
    ) -> Result<Operation<Effect>> {
        self.store.with(sub, self.now(), |s| {
            let (effect, running) = groups::start_delete(&mut s.groups, name)?;
            let effect = Effect::Group(effect);
            if running {
                let op = s
                    .operations
                    .values()
                    .find(|op| op.status == OpStatus::InProgress && op.effect == effect)
                    .cloned();
                if let Some(op) = op {
                    return Ok(op);
                }
            }
            let id = self.ids.uuid_string();
            let op = self.start_operation(
                id,
                groups::DELETE,
                None,
                None,
                api_version,
                effect,
                injected,
            );
            s.add_operation(op.clone());
            Ok(op)
        })
    }

    /// The resource groups matching `keep`, as JSON.
    pub fn list_groups(&self, sub: &str, keep: impl Fn(&ResourceGroup) -> bool) -> Vec<Value> {
        self.store.with(sub, self.now(), |s| {
            s.groups
                .values()
                .filter(|g| keep(g))
                .map(|g| g.to_json(sub))
                .collect()
        })
    }

    /// Every resource in a group, in ARM's generic-resource shape.
    pub fn list_group_resources(&self, sub: &str, name: &str) -> Result<Vec<Value>> {
        let key = name.to_ascii_lowercase();
        self.store.with(sub, self.now(), |s| {
            if !s.groups.contains_key(&key) {
                return Err(Error::resource_group_not_found(name));
            }
            let prefix = format!("{key}/");
            Ok(s.clusters
                .clusters
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, c)| c.generic_resource())
                .collect())
        })
    }
}
