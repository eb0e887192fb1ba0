//! The GET shape of a managed cluster: what the client sent with the server-computed values
//! overlaid (ids, FQDNs, versions, states, eTags, defaults AKS fills in), so a GET → mutate →
//! PUT round trip keeps every field. The body is rendered once per change and cached.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::body::MAX_AGENT_POOLS;
use super::{ManagedCluster, RESOURCE_TYPE};

fn merge_defaults(target: &mut Map<String, Value>, key: &str, defaults: Value) {
    let entry = target
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if let (Value::Object(have), Value::Object(defaults)) = (entry, defaults) {
        for (k, v) in defaults {
            have.entry(k).or_insert(v);
        }
    }
}

impl ManagedCluster {
    /// The GET body bytes (cached).
    pub fn body_bytes(&mut self, tenant_id: &str) -> Bytes {
        if let Some(b) = &self.cached {
            return b.clone();
        }
        let mut body = serde_json::to_vec(&self.render(tenant_id)).unwrap_or_default();
        // The writer grows by doubling; a cached body lives as long as the cluster.
        body.shrink_to_fit();
        let bytes = Bytes::from(body);
        self.cached = Some(bytes.clone());
        bytes
    }

    /// The ARM GET shape.
    pub fn render(&self, tenant_id: &str) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), self.id().into());
        out.insert("location".into(), self.location.clone().into());
        out.insert("name".into(), self.name.clone().into());
        if let Some(tags) = &self.tags {
            out.insert("tags".into(), Value::Object(tags.clone()));
        }
        out.insert("type".into(), RESOURCE_TYPE.into());
        out.insert("eTag".into(), self.etag.clone().into());
        for (k, v) in &self.top {
            out.insert(k.clone(), v.clone());
        }
        out.entry("sku")
            .or_insert_with(|| serde_json::json!({"name": "Base", "tier": "Free"}));
        let identity = out
            .entry("identity")
            .or_insert_with(|| serde_json::json!({"type": "SystemAssigned"}));
        if let Value::Object(identity) = identity {
            let system = identity
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.to_ascii_lowercase().contains("systemassigned"));
            if system {
                identity.insert("principalId".into(), self.principal_id.clone().into());
                identity.insert("tenantId".into(), tenant_id.into());
            }
        }
        out.insert("properties".into(), Value::Object(self.render_properties()));
        Value::Object(out)
    }

    fn render_properties(&self) -> Map<String, Value> {
        let mut p = self.properties.clone();
        let fqdn = self.fqdn();
        p.insert(
            "provisioningState".into(),
            self.provisioning_state.as_str().into(),
        );
        let power = if self.stopped { "Stopped" } else { "Running" };
        p.insert("powerState".into(), serde_json::json!({ "code": power }));
        p.insert("maxAgentPools".into(), MAX_AGENT_POOLS.into());
        p.insert(
            "kubernetesVersion".into(),
            self.kubernetes_version.clone().into(),
        );
        p.insert(
            "currentKubernetesVersion".into(),
            self.current_kubernetes_version.clone().into(),
        );
        p.insert("dnsPrefix".into(), self.dns_prefix.clone().into());
        p.insert(
            "azurePortalFQDN".into(),
            fqdn.replacen(".hcp.", ".portal.hcp.", 1).into(),
        );
        p.insert("fqdn".into(), fqdn.into());
        p.insert(
            "nodeResourceGroup".into(),
            self.node_resource_group.clone().into(),
        );
        p.insert("resourceUID".into(), self.resource_uid.clone().into());
        p.entry("enableRBAC").or_insert(true.into());
        p.entry("supportPlan")
            .or_insert("KubernetesOfficial".into());
        p.entry("disableLocalAccounts").or_insert(false.into());
        merge_defaults(
            &mut p,
            "servicePrincipalProfile",
            serde_json::json!({"clientId": "msi"}),
        );
        if let Some(Value::Object(sp)) = p.get_mut("servicePrincipalProfile") {
            sp.remove("secret");
        }
        if let Some(Value::Object(wp)) = p.get_mut("windowsProfile") {
            wp.remove("adminPassword");
        }
        merge_defaults(
            &mut p,
            "networkProfile",
            serde_json::json!({
                "networkPlugin": "azure",
                "networkPluginMode": "overlay",
                "podCidr": "10.244.0.0/16",
                "serviceCidr": "10.0.0.0/16",
                "dnsServiceIP": "10.0.0.10",
                "outboundType": "loadBalancer",
                "loadBalancerSku": "standard",
                "podCidrs": ["10.244.0.0/16"],
                "serviceCidrs": ["10.0.0.0/16"],
                "ipFamilies": ["IPv4"]
            }),
        );
        let kubelet_id = format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}-agentpool",
            self.subscription, self.node_resource_group, self.name
        );
        merge_defaults(
            &mut p,
            "identityProfile",
            serde_json::json!({"kubeletidentity": {
                "resourceId": kubelet_id,
                "clientId": self.resource_uid,
                "objectId": self.principal_id,
            }}),
        );
        if p.contains_key("agentPoolProfiles") {
            p.insert("agentPoolProfiles".into(), self.render_profiles());
        }
        if let Some(mesh) = &self.mesh {
            p.insert("serviceMeshProfile".into(), mesh.to_json());
        }
        p
    }

    /// The generic-resource shape `GET .../resources` lists.
    pub fn generic_resource(&self) -> Value {
        let mut out = serde_json::json!({
            "id": self.id(),
            "name": self.name,
            "type": RESOURCE_TYPE,
            "location": self.location,
        });
        if let (Some(tags), Value::Object(m)) = (&self.tags, &mut out) {
            m.insert("tags".into(), Value::Object(tags.clone()));
        }
        out
    }
}
