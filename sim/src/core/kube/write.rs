//! Writes to a plane, as kube-apiserver takes them: create (POST), replace (PUT), patch and
//! delete, each through the same steps — the body checked against the URL, the object
//! validated, system fields filled in or kept, the add-on's mutating (sidecar injection) and
//! validating admission, then stored with a new resourceVersion and one watch event.

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::catalog::{self, ResourceType};
use super::error::{Cause, Error, GroupResource};
use super::{
    addon, admission, apply, inject, object_key, patch, str_at, timestamp, validate,
    validate_workload, Plane, WriteCtx, PROTECTED_NAMESPACES,
};
use crate::limits;

impl Plane {
    fn check_type_meta(rt: &ResourceType, version: &str, object: &Value) -> Result<(), Error> {
        let want_api = rt.api_version(version);
        if let Some(api) = object.get("apiVersion") {
            let api = api.as_str().unwrap_or("");
            let same_group = if rt.group.is_empty() {
                !api.contains('/')
            } else {
                api.split('/').next() == Some(rt.group.as_str())
            };
            if !same_group || !(rt.versions.iter().any(|v| rt.api_version(v) == api)) {
                return Err(Error::bad_request(format!(
                    "the API version in the data ({api}) does not match the expected API version ({want_api})"
                )));
            }
        }
        if let Some(kind) = object.get("kind") {
            let kind = kind.as_str().unwrap_or("");
            if kind != rt.kind {
                return Err(Error::bad_request(format!(
                    "the kind in the data ({kind}) does not match the expected kind ({}) of {}",
                    rt.kind,
                    rt.group_resource().qualified()
                )));
            }
        }
        Ok(())
    }

    /// Checks the body of a create/update against the URL and fills in what the URL implies.
    fn normalize_body(
        rt: &ResourceType,
        version: &str,
        namespace: &str,
        object: &mut Value,
    ) -> Result<(), Error> {
        if !object.is_object() {
            return Err(Error::bad_request(format!(
                "the body of the request must be a JSON object of kind {}",
                rt.kind
            )));
        }
        Self::check_type_meta(rt, version, object)?;
        match object.get("metadata") {
            None | Some(Value::Null) => object["metadata"] = json!({}),
            Some(Value::Object(_)) => {}
            Some(_) => return Err(Error::bad_request("metadata must be a JSON object")),
        }
        if let Some(n) = object["metadata"].get("name") {
            if !n.is_string() {
                return Err(Error::bad_request("metadata.name must be a string"));
            }
        }
        if rt.namespaced {
            let given = str_at(object, "/metadata/namespace");
            if !given.is_empty() && given != namespace {
                return Err(Error::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            object["metadata"]["namespace"] = json!(namespace);
        } else if let Some(m) = object["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        object["apiVersion"] = json!(rt.api_version(version));
        object["kind"] = json!(rt.kind);
        Ok(())
    }

    fn validate(rt: &ResourceType, object: &Value) -> Result<(), Error> {
        let name = str_at(object, "/metadata/name");
        let mut causes = validate::metadata_causes(&object["metadata"], rt.name_rule);
        match rt.resource.as_str() {
            "pods" => {
                let containers = object.pointer("/spec/containers").and_then(Value::as_array);
                match containers {
                    None => causes.push(Cause::required("spec.containers", "")),
                    Some(cs) if cs.is_empty() => {
                        causes.push(Cause::required("spec.containers", ""))
                    }
                    Some(cs) => {
                        for (i, c) in cs.iter().enumerate() {
                            let cname = str_at(c, "/name");
                            if cname.is_empty() {
                                causes.push(Cause::required(
                                    &format!("spec.containers[{i}].name"),
                                    "",
                                ));
                            } else {
                                for e in validate::name_errors(cname, validate::NameRule::Label) {
                                    causes.push(Cause::invalid(
                                        &format!("spec.containers[{i}].name"),
                                        cname,
                                        &e,
                                    ));
                                }
                            }
                            if str_at(c, "/image").is_empty() {
                                causes.push(Cause::required(
                                    &format!("spec.containers[{i}].image"),
                                    "",
                                ));
                            }
                        }
                    }
                }
            }
            "customresourcedefinitions" => {
                let group = str_at(object, "/spec/group");
                let plural = str_at(object, "/spec/names/plural");
                if group.is_empty() {
                    causes.push(Cause::required("spec.group", ""));
                }
                if plural.is_empty() {
                    causes.push(Cause::required("spec.names.plural", ""));
                }
                if str_at(object, "/spec/names/kind").is_empty() {
                    causes.push(Cause::required("spec.names.kind", ""));
                }
                if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
                    causes.push(Cause::invalid(
                        "metadata.name",
                        name,
                        "must be spec.names.plural+\".\"+spec.group",
                    ));
                }
                if catalog::from_crd(object).is_none() && causes.is_empty() {
                    causes.push(Cause::required(
                        "spec.versions",
                        "must have exactly one version marked as storage version",
                    ));
                }
            }
            r if validate_workload::is_workload(&rt.group, r) => {
                causes.extend(validate_workload::causes(r, object));
            }
            _ => {}
        }
        if causes.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(&rt.kind, &rt.group, name, causes))
        }
    }

    /// Content that belongs to the system: filled in on create, kept on update.
    pub(super) fn with_system_fields(
        &self,
        rt: &ResourceType,
        mut object: Value,
        now: OffsetDateTime,
    ) -> Value {
        let name = str_at(&object, "/metadata/name").to_owned();
        object["metadata"]["uid"] = json!(self.uid(&name));
        object["metadata"]["creationTimestamp"] = json!(timestamp(now));
        if let Some(m) = object["metadata"].as_object_mut() {
            m.remove("deletionTimestamp");
            m.remove("resourceVersion");
        }
        match rt.resource.as_str() {
            "namespaces" => namespace_fields(&mut object, &name),
            "pods" => self.pod_fields(&mut object, now),
            "deployments" | "daemonsets" => workload_status(rt, &mut object),
            "services" => self.service_fields(&mut object),
            _ => {
                // Every object of a non-core group (CRDs, webhooks, custom resources) has one.
                if !rt.group.is_empty() {
                    object["metadata"]["generation"] = json!(1);
                }
            }
        }
        object
    }

    fn check_namespace_open(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<(), Error> {
        let Some(ns) = self.namespace_object(namespace) else {
            return Err(Error::not_found(
                &GroupResource::new("", "namespaces"),
                namespace,
            ));
        };
        if ns.pointer("/metadata/deletionTimestamp").is_some() {
            return Err(Error::namespace_terminating(
                &rt.group_resource(),
                name,
                namespace,
            ));
        }
        Ok(())
    }

    /// Refuses writes to the add-on's own objects.
    pub(super) fn check_not_addon(
        &self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<(), Error> {
        if !self
            .addon_keys
            .contains(&object_key(&rt.group, &rt.resource, namespace, name))
        {
            return Ok(());
        }
        let hint = if rt.resource == "configmaps" && name.starts_with("istio-asm-") {
            format!(
                "; put mesh settings in {}{} instead",
                admission::SHARED_CONFIGMAP_PREFIX,
                name.trim_start_matches("istio-")
            )
        } else if addon::is_ingress_service(rt, namespace) {
            " except the annotations (and, since 2025-03-16, spec.externalTrafficPolicy) the \
             add-on lets users customise (docs/kubernetes.md)"
                .to_owned()
        } else if let Some(hint) = super::hpa::refusal_hint(rt) {
            hint.to_owned()
        } else {
            String::new()
        };
        Err(Error::forbidden(
            &rt.group_resource(),
            name,
            &format!("this object is managed by the Istio-based service mesh add-on and cannot be modified{hint}"),
        ))
    }

    /// The validating webhooks (add-on enabled only) plus the user-visible ownership rule.
    fn admit(
        &self,
        rt: &ResourceType,
        namespace: &str,
        object: &Value,
        ctx: WriteCtx,
    ) -> Result<(), Error> {
        if !self.mesh.enabled {
            return Ok(());
        }
        admission::check_istio_object(rt, object, &self.mesh, ctx.admission)?;
        let name = str_at(object, "/metadata/name");
        if rt.group.is_empty()
            && rt.resource == "configmaps"
            && admission::is_shared_configmap(namespace, name)
        {
            admission::check_shared_configmap(name, object, ctx.admission)?;
        }
        Ok(())
    }

    fn generate_name(&self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let hash = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("{}/{}/{prefix}", self.uid_seed, self.resource_version).as_bytes(),
        );
        let suffix: String = hash
            .as_bytes()
            .iter()
            .take(5)
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        format!("{prefix}{suffix}")
    }

    /// Creates an object (POST to a collection).
    pub fn create(
        &mut self,
        rt: &ResourceType,
        version: &str,
        namespace: &str,
        mut object: Value,
        ctx: WriteCtx,
    ) -> Result<Value, Error> {
        self.materialise();
        Self::normalize_body(rt, version, namespace, &mut object)?;
        // `status` belongs to the server (no status subresource writes).
        if let Some(o) = object.as_object_mut() {
            o.remove("status");
        }
        if str_at(&object, "/metadata/name").is_empty() {
            let prefix = str_at(&object, "/metadata/generateName").to_owned();
            if !prefix.is_empty() {
                object["metadata"]["name"] = json!(self.generate_name(&prefix));
            }
        }
        Self::validate(rt, &object)?;
        let name = str_at(&object, "/metadata/name").to_owned();
        if rt.namespaced {
            self.check_namespace_open(rt, namespace, &name)?;
        }
        let key = object_key(&rt.group, &rt.resource, namespace, &name);
        if self.objects.contains_key(&key) {
            return Err(Error::already_exists(&rt.group_resource(), &name));
        }
        // Mutating admission: sidecar injection.
        if rt.group.is_empty() && rt.resource == "pods" {
            let ns_labels = self
                .namespace_object(namespace)
                .map(validate::labels_of)
                .unwrap_or_default();
            if let Some(rev) = self.injection_revision(&object, &ns_labels) {
                inject::inject_for(&mut object, &rev, &self.mesh);
            }
        }
        self.admit(rt, namespace, &object, ctx)?;
        if rt.group.is_empty() && rt.resource == "pods" && self.pods_full() {
            return Err(Error::too_many("pods", limits::KUBE_PODS_PER_PLANE_MAX));
        }
        if self.objects.len() >= limits::KUBE_OBJECTS_PER_PLANE_MAX {
            return Err(Error::too_many(
                "objects",
                limits::KUBE_OBJECTS_PER_PLANE_MAX,
            ));
        }
        let mut object = self.with_system_fields(rt, object, ctx.now);
        if !ctx.manager.is_none() {
            if let Some(m) = object["metadata"].as_object_mut() {
                m.remove("managedFields");
            }
        }
        let api_version = rt.api_version(version);
        apply::track_update(
            None,
            &mut object,
            &api_version,
            &rt.kind,
            ctx.manager,
            ctx.now,
        );
        if ctx.dry_run {
            return Ok(object);
        }
        let stored = self.store(rt, namespace, &name, object, "ADDED");
        self.after_write(ctx);
        Ok(stored)
    }

    /// Replaces an object (PUT, and the second half of PATCH).
    pub fn replace(
        &mut self,
        rt: &ResourceType,
        version: &str,
        namespace: &str,
        name: &str,
        mut object: Value,
        ctx: WriteCtx,
    ) -> Result<Value, Error> {
        self.materialise();
        let old = self.get(rt, namespace, name)?;
        Self::normalize_body(rt, version, namespace, &mut object)?;
        let given = str_at(&object, "/metadata/name").to_owned();
        if given.is_empty() {
            object["metadata"]["name"] = json!(name);
        } else if given != name {
            return Err(Error::bad_request(format!(
                "the name of the object ({given}) does not match the name on the URL ({name})"
            )));
        }
        if let Some(rv) = object.pointer("/metadata/resourceVersion") {
            let rv = rv.as_str().unwrap_or("");
            if !rv.is_empty() && rv != str_at(&old, "/metadata/resourceVersion") {
                return Err(Error::conflict(&rt.group_resource(), name));
            }
        }
        Self::validate(rt, &object)?;
        // System-owned content survives any update.
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
        ] {
            match old["metadata"].get(field) {
                Some(v) => object["metadata"][field] = v.clone(),
                None => {
                    if let Some(m) = object["metadata"].as_object_mut() {
                        m.remove(field);
                    }
                }
            }
        }
        match old.get("status") {
            Some(s) => object["status"] = s.clone(),
            None => {
                if let Some(o) = object.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        if rt.resource == "namespaces" && rt.group.is_empty() {
            object["spec"] = old["spec"].clone();
            if !object["metadata"]["labels"].is_object() {
                object["metadata"]["labels"] = json!({});
            }
            object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
        if rt.resource == "pods" && rt.group.is_empty() {
            // Pod specs are immutable here (kube allows a few image fields; aksim keeps all).
            object["spec"] = old["spec"].clone();
        }
        if old.get("spec") != object.get("spec") {
            if let Some(g) = old.pointer("/metadata/generation").and_then(Value::as_i64) {
                object["metadata"]["generation"] = json!(g + 1);
            }
        }
        object["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        if object.pointer("/metadata/managedFields").is_none() {
            if let Some(m) = old.pointer("/metadata/managedFields") {
                object["metadata"]["managedFields"] = m.clone();
            }
        }
        if object == old {
            return Ok(old);
        }
        let api_version = rt.api_version(version);
        apply::track_update(
            Some(&old),
            &mut object,
            &api_version,
            &rt.kind,
            ctx.manager,
            ctx.now,
        );
        if !addon::customizable_change(rt, namespace, &old, &object, ctx.admission) {
            self.check_not_addon(rt, namespace, name)?;
        }
        self.admit(rt, namespace, &object, ctx)?;
        if ctx.dry_run {
            return Ok(object);
        }
        let stored = self.store(rt, namespace, name, object, "MODIFIED");
        self.after_write(ctx);
        Ok(stored)
    }

    /// Patches an object.
    #[allow(clippy::too_many_arguments)] // the URL's four parts, the patch and the context
    pub fn patch(
        &mut self,
        rt: &ResourceType,
        version: &str,
        namespace: &str,
        name: &str,
        kind: patch::PatchType,
        body: &Value,
        ctx: WriteCtx,
    ) -> Result<Value, Error> {
        self.materialise();
        let mut old = self.get(rt, namespace, name)?;
        old["apiVersion"] = json!(rt.api_version(version));
        let patched = patch::apply(kind, &old, body)?;
        if !patched.is_object() {
            return Err(Error::bad_request("the patch removed the whole object"));
        }
        self.replace(rt, version, namespace, name, patched, ctx)
    }

    /// Deletes an object. Namespaces go through `Terminating` for `termination_delay_secs`.
    pub fn delete(
        &mut self,
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        ctx: WriteCtx,
    ) -> Result<Value, Error> {
        self.materialise();
        let old = self.get(rt, namespace, name)?;
        self.check_not_addon(rt, namespace, name)?;
        if rt.group.is_empty() && rt.resource == "namespaces" {
            if PROTECTED_NAMESPACES.contains(&name) {
                return Err(Error::forbidden(
                    &rt.group_resource(),
                    name,
                    "this namespace may not be deleted",
                ));
            }
            if old.pointer("/metadata/deletionTimestamp").is_some() || ctx.dry_run {
                return Ok(old);
            }
            let mut ns = old;
            ns["metadata"]["deletionTimestamp"] = json!(timestamp(ctx.now));
            ns["status"] = json!({
                "phase": "Terminating",
                "conditions": [{"type": "NamespaceContentRemaining", "status": "False", "reason": "ContentRemoved", "lastTransitionTime": timestamp(ctx.now)}]
            });
            let stored = self.store(rt, "", name, ns, "MODIFIED");
            let due = ctx.now + time::Duration::seconds_f64(self.termination_delay_secs.max(0.0));
            self.terminating.insert(
                name.to_owned(),
                (due.unix_timestamp_nanos() / 1_000_000) as i64,
            );
            self.settle(ctx.now);
            return Ok(stored);
        }
        if ctx.dry_run {
            return Ok(old);
        }
        let removed = self.remove(rt, namespace, name).unwrap_or(old);
        self.after_write(ctx);
        Ok(removed)
    }
    /// A pod's defaults and a running status (every container ready).
    fn pod_fields(&self, object: &mut Value, now: OffsetDateTime) {
        let (node, host_ip, ip) = self.schedule(object);
        let spec = &mut object["spec"];
        for (k, v) in [
            ("restartPolicy", json!("Always")),
            ("dnsPolicy", json!("ClusterFirst")),
            ("schedulerName", json!("default-scheduler")),
            ("serviceAccountName", json!("default")),
            ("terminationGracePeriodSeconds", json!(30)),
            ("nodeName", json!(node)),
        ] {
            if spec.get(k).is_none() {
                spec[k] = v;
            }
        }
        let statuses: Vec<Value> = spec["containers"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .map(|c| super::controllers::container_status(c, now))
                    .collect()
            })
            .unwrap_or_default();
        object["status"] = json!({
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": timestamp(now)},
                {"type": "Ready", "status": "True", "lastTransitionTime": timestamp(now)},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": timestamp(now)},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": timestamp(now)}
            ],
            "containerStatuses": statuses,
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": timestamp(now),
            "qosClass": "BestEffort"
        });
    }

    /// A service's type, cluster IP and status.
    fn service_fields(&self, object: &mut Value) {
        if object.pointer("/spec/type").is_none() {
            object["spec"]["type"] = json!("ClusterIP");
        }
        if object.pointer("/spec/clusterIP").is_none() {
            object["spec"]["clusterIP"] = json!(format!(
                "10.0.{}.{}",
                (self.resource_version / 250) % 250,
                self.resource_version % 250 + 10
            ));
        }
        if object.get("status").is_none() {
            object["status"] = json!({"loadBalancer": {}});
        }
    }
}

/// A namespace's finalizer, phase and name label.
fn namespace_fields(object: &mut Value, name: &str) {
    object["spec"] = json!({"finalizers": ["kubernetes"]});
    object["status"] = json!({"phase": "Active"});
    if !object["metadata"]["labels"].is_object() {
        object["metadata"]["labels"] = json!({});
    }
    object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
}

/// A deployment's or daemonset's generation; its status is the controllers' (empty until
/// they run).
fn workload_status(_rt: &ResourceType, object: &mut Value) {
    object["metadata"]["generation"] = json!(1);
    if object.get("status").is_none() {
        object["status"] = json!({});
    }
}
