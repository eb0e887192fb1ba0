//! Managed namespaces and identity bindings (`core::clusters::namespaces`) as use cases:
//! PUT/PATCH/DELETE with the cluster's gates (a stopped cluster or one with a running
//! operation takes no write), the namespace's credential check, and
//! `rotateServiceAccountSigningKeys` (an update operation; the OIDC issuer must be enabled).

use serde_json::Value;

use super::surface::{cluster, cluster_mut};
use crate::core::clusters::namespaces;
use crate::core::clusters::pools::lifecycle::{check_idle, cluster_stopped};
use crate::core::clusters::surface::{self, ChildKind};
use crate::core::clusters::{ManagedCluster, ProvisioningState};
use crate::core::error::{Error, Result};
use crate::core::ops::{Injected, Operation};
use crate::core::subscription::Effect;
use crate::core::Core;

fn writable(c: &ManagedCluster) -> Result<()> {
    if c.stopped {
        return Err(cluster_stopped());
    }
    check_idle(c)
}

fn body_of(body: Result<Option<Value>>) -> Result<Value> {
    body?.ok_or_else(|| Error::invalid_request_content("The request content was empty."))
}

/// `OperationNotAllowed` for a rotation on a cluster without the OIDC issuer (aksim's text).
pub fn oidc_issuer_disabled() -> Error {
    Error::new(
        crate::core::error::ErrorKind::BadRequest,
        "OperationNotAllowed",
        "Service account signing keys can only be rotated on a cluster with the OIDC issuer \
         enabled (properties.oidcIssuerProfile.enabled).",
    )
}

impl Core {
    /// `PUT .../managedNamespaces/{n}` or `.../identityBindings/{b}`: `(created, answer)`.
    pub fn put_namespaced(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        kind: ChildKind,
        child: &str,
        body: Result<Option<Value>>,
    ) -> Result<(bool, Value)> {
        let tenant = self.store.tenant_id().to_owned();
        let ids = (self.ids.uuid_string(), self.ids.uuid_string());
        self.on_cluster(sub, rg, name, true, |s, key| {
            let raw = body_of(body)?;
            let c = cluster_mut(s, key)?;
            writable(c)?;
            let lower = child.to_ascii_lowercase();
            let previous = c.surface.children(kind).get(&lower).cloned();
            let stored = match kind {
                ChildKind::ManagedNamespaces => namespaces::read_namespace(c, child, raw)?,
                _ => {
                    let mut b = namespaces::read_binding(child, raw, &tenant, ids)?;
                    // A binding keeps the identity's ids for its life.
                    if let Some(old) = &previous {
                        let (o, n) = (
                            &old["properties"]["managedIdentity"],
                            &mut b["properties"]["managedIdentity"],
                        );
                        if o["resourceId"] == n["resourceId"] {
                            *n = o.clone();
                        }
                    }
                    b
                }
            };
            let answer = namespaces::render(c, kind, &stored);
            c.surface.children_mut(kind).insert(lower, stored);
            Ok((previous.is_none(), answer))
        })
    }

    /// `PATCH .../managedNamespaces/{n}`: its tags.
    pub fn patch_namespace(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        child: &str,
        body: Result<Option<Value>>,
    ) -> Result<Value> {
        let kind = ChildKind::ManagedNamespaces;
        self.on_cluster(sub, rg, name, true, |s, key| {
            let raw = body_of(body)?;
            let c = cluster_mut(s, key)?;
            writable(c)?;
            let lower = child.to_ascii_lowercase();
            let mut stored = surface::get_child(c, kind, child)?.1.clone();
            namespaces::patch_tags(&mut stored, raw)?;
            let answer = namespaces::render(c, kind, &stored);
            c.surface.children_mut(kind).insert(lower, stored);
            Ok(answer)
        })
    }

    /// `DELETE .../managedNamespaces/{n}` or `.../identityBindings/{b}`: `None` when there was
    /// none (204), else the delete's operation (202; the child is gone at once, the operation
    /// touches nothing when it ends).
    #[allow(clippy::too_many_arguments)] // the child's coordinates and the operation's cause
    pub fn delete_namespaced(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        kind: ChildKind,
        child: &str,
        api_version: &str,
        injected: Option<&Injected>,
    ) -> Result<Option<Operation<Effect>>> {
        let operation_id = self.ids.uuid_string();
        self.on_cluster(sub, rg, name, true, |s, key| {
            let c = cluster_mut(s, key)?;
            let lower = child.to_ascii_lowercase();
            if !c.surface.children(kind).contains_key(&lower) {
                return Ok(None);
            }
            writable(c)?;
            c.surface.children_mut(kind).remove(&lower);
            let op = self.start_cluster_update(s, key, operation_id, (api_version, injected))?;
            Ok(Some(op))
        })
    }

    /// `POST .../managedNamespaces/{n}/listCredential`: the namespace exists (the wire writes
    /// the kubeconfig from the cluster's user credential).
    pub fn require_namespace(&self, sub: &str, rg: &str, name: &str, child: &str) -> Result<()> {
        self.on_cluster(sub, rg, name, false, |s, key| {
            let c = cluster(s, key)?;
            surface::get_child(c, ChildKind::ManagedNamespaces, child).map(|_| ())
        })
    }

    /// `POST .../rotateServiceAccountSigningKeys`: the cluster is `Updating` until its
    /// operation ends.
    pub fn rotate_signing_keys(
        &self,
        sub: &str,
        rg: &str,
        name: &str,
        api_version: &str,
        injected: Option<&Injected>,
    ) -> Result<Operation<Effect>> {
        let operation_id = self.ids.uuid_string();
        self.on_cluster(sub, rg, name, true, |s, key| {
            let c = cluster_mut(s, key)?;
            writable(c)?;
            let enabled = c
                .properties
                .get("oidcIssuerProfile")
                .and_then(|o| o.get("enabled"))
                .and_then(Value::as_bool)
                == Some(true);
            if !enabled {
                return Err(oidc_issuer_disabled());
            }
            c.provisioning_state = ProvisioningState::Updating;
            c.operation_id = Some(operation_id.clone());
            c.touch();
            let op = self.start_cluster_update(s, key, operation_id, (api_version, injected))?;
            Ok(op)
        })
    }
}
