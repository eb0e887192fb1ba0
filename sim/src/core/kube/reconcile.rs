//! The add-on's side of a plane: reconciling the add-on's objects with a `MeshView` (lazily
//! on a plane nobody has looked at yet), and the one fact the mesh rules read back — whether
//! the user installed an Istio of their own.

use std::collections::BTreeSet;

use serde_json::Value;
use time::OffsetDateTime;

use super::catalog::ResourceType;
use super::{addon, object_key, str_at, LazyReconcile, MeshView, Plane};
use crate::limits;

impl Plane {
    /// Makes the add-on's namespaces and objects match `view`; watchers see every change.
    /// A lazy plane records the call instead (nothing to do when the view is unchanged: a
    /// reconcile against the view it already matches changes nothing).
    pub fn reconcile_addon(&mut self, view: &MeshView, now: OffsetDateTime) {
        if let Some(lazy) = self.lazy.as_mut() {
            if *view == self.mesh {
                return;
            }
            if lazy.reconciles.len() < limits::KUBE_LAZY_RECONCILES_MAX {
                // Usually the only one: no room for three more (a `Vec` starts at four).
                lazy.reconciles.reserve_exact(1);
                lazy.reconciles.push(LazyReconcile {
                    view: view.clone(),
                    at: now,
                });
                self.mesh = view.clone();
                return;
            }
            self.materialise();
        }
        self.apply_addon(view, now);
    }

    pub(super) fn apply_addon(&mut self, view: &MeshView, now: OffsetDateTime) {
        self.mesh = view.clone();
        let desired = addon::addon_objects(view);
        let keys: BTreeSet<String> = desired
            .iter()
            .map(|d| object_key(&d.group, &d.resource, &d.namespace, &d.name))
            .collect();
        // Removals first: objects the add-on no longer wants (namespaces take their content).
        let stale: Vec<String> = self.addon_keys.difference(&keys).cloned().collect();
        let types = self.resource_types();
        for key in &stale {
            let mut parts = key.splitn(4, '/');
            let (g, r, ns, name) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            if g.is_empty() && r == "namespaces" {
                self.purge_namespace(name);
            } else if let Some(rt) = types.iter().find(|t| t.group == g && t.resource == r) {
                self.remove(rt, ns, name);
            }
        }
        // Custom resources whose CRD went away go with it.
        let served = self.resource_types();
        let orphans: Vec<(ResourceType, String, String)> = types
            .iter()
            .filter(|t| {
                !served
                    .iter()
                    .any(|s| s.group == t.group && s.resource == t.resource)
            })
            .flat_map(|t| {
                self.objects_of(t)
                    .map(|(_, o)| {
                        (
                            t.clone(),
                            str_at(o, "/metadata/namespace").to_owned(),
                            str_at(o, "/metadata/name").to_owned(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for (rt, ns, name) in orphans {
            self.remove(&rt, &ns, &name);
        }
        // The served types change only when a CRD is written, and the CRD type itself is a
        // built-in: look them up again only before the first other object after CRDs.
        let mut types = self.resource_types();
        let mut stale = false;
        for d in desired {
            let is_crd =
                d.group == "apiextensions.k8s.io" && d.resource == "customresourcedefinitions";
            if stale && !is_crd {
                types = self.resource_types();
                stale = false;
            }
            stale |= is_crd;
            let Some(rt) = types
                .iter()
                .find(|t| t.group == d.group && t.resource == d.resource)
            else {
                continue;
            };
            let key = object_key(&d.group, &d.resource, &d.namespace, &d.name);
            if rt.resource == "namespaces" {
                self.terminating.remove(&d.name);
            }
            match self.objects.get(&key).map(|o| Value::clone(o)) {
                None => {
                    let object = self.with_system_fields(rt, d.object, now);
                    self.store(rt, &d.namespace, &d.name, object, "ADDED");
                }
                Some(existing) => {
                    let mut want = self.with_system_fields(rt, d.object, now);
                    for field in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
                        match existing["metadata"].get(field) {
                            Some(v) => want["metadata"][field] = v.clone(),
                            None => {
                                if let Some(m) = want["metadata"].as_object_mut() {
                                    m.remove(field);
                                }
                            }
                        }
                    }
                    if let Some(ip) = existing.pointer("/spec/clusterIP") {
                        want["spec"]["clusterIP"] = ip.clone();
                    }
                    addon::keep_customizations(rt, &d.namespace, &existing, &mut want);
                    if want != existing {
                        self.store(rt, &d.namespace, &d.name, want, "MODIFIED");
                    }
                }
            }
        }
        self.addon_keys = keys;
        self.apply_nodes(view.nodes.as_ref(), now);
        self.after_write(super::WriteCtx::new(now));
    }

    /// Whether the user installed Istio themselves (Istio CRDs, istiod or its webhooks
    /// outside the add-on); enabling the add-on is then refused. A revision tag's webhook
    /// (`istio-revision-tag-<tag>`, the add-on's documented upgrade flow) is not one.
    pub fn has_self_managed_istio(&self) -> bool {
        let user = |key: &String| !self.addon_keys.contains(key);
        let crds = self
            .objects
            .iter()
            .filter(|(k, _)| k.starts_with("apiextensions.k8s.io/customresourcedefinitions/"))
            .any(|(k, o)| user(k) && str_at(o, "/spec/group").ends_with("istio.io"));
        let webhooks = self
            .objects
            .iter()
            .filter(|(k, _)| {
                k.starts_with("admissionregistration.k8s.io/mutatingwebhookconfigurations/")
                    || k.starts_with(
                        "admissionregistration.k8s.io/validatingwebhookconfigurations/",
                    )
            })
            .any(|(k, o)| {
                let name = str_at(o, "/metadata/name");
                user(k)
                    && (name.starts_with("istio-sidecar-injector")
                        || name.starts_with("istio-validator")
                        || name == "istiod-default-validator")
            });
        let istiod = self
            .objects
            .iter()
            .filter(|(k, _)| k.starts_with("apps/deployments/istio-system/"))
            .any(|(k, o)| {
                let name = str_at(o, "/metadata/name");
                user(k) && (name == "istiod" || name.starts_with("istiod-"))
            });
        crds || webhooks || istiod
    }
}
