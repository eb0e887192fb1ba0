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

/// A GUID derived from a value the cluster stores (`seed`) and what it names (`salt`): decided at
/// create like AKS's, stable across reads and snapshots, and drawing nothing from the id stream.
pub fn derived_guid(seed: &str, salt: &str) -> String {
    let fnv = |basis: u64| {
        let mut h = basis;
        for b in seed.bytes().chain([0]).chain(salt.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let (a, b) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x84222325_cbf29ce4));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

impl ManagedCluster {
    /// A PUT's answer: the GET body, and since 2023-12-08 `nodeLabels: {}` on each pool that
    /// has none, where AKS puts it (`Shape::put_answer_node_labels`; the recorded PUTs show it,
    /// the GETs after them do not).
    pub fn put_answer(&mut self, tenant_id: &str) -> Bytes {
        let body = self.body_bytes(tenant_id);
        if !self.shape.put_answer_node_labels {
            return body;
        }
        let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
            return body;
        };
        let Some(pools) = value
            .pointer_mut("/properties/agentPoolProfiles")
            .and_then(Value::as_array_mut)
        else {
            return body;
        };
        for pool in pools.iter_mut() {
            let Value::Object(p) = pool else { continue };
            if p.contains_key("nodeLabels") {
                continue;
            }
            let mut out = Map::with_capacity(p.len() + 1);
            for (k, v) in std::mem::take(p) {
                if k == "mode" && !out.contains_key("nodeLabels") {
                    out.insert("nodeLabels".to_owned(), Value::Object(Map::new()));
                }
                out.insert(k, v);
            }
            out.entry("nodeLabels")
                .or_insert_with(|| Value::Object(Map::new()));
            *p = out;
        }
        Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
    }

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
        if self.shows_etags() {
            out.insert("eTag".into(), self.etag.clone().into());
        }
        for (k, v) in &self.top {
            out.insert(k.clone(), v.clone());
        }
        let sku = out
            .entry("sku")
            .or_insert_with(|| serde_json::json!({"name": "Base", "tier": "Free"}));
        if self.shape.sku_basic {
            if let Some(name) = sku.get_mut("name").filter(|n| *n == "Base") {
                *name = "Basic".into();
            }
        }
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
        out.insert(
            "properties".into(),
            Value::Object(self.render_properties(tenant_id)),
        );
        Value::Object(out)
    }

    fn render_properties(&self, tenant_id: &str) -> Map<String, Value> {
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
        if self.shape.resource_uid {
            p.insert("resourceUID".into(), self.resource_uid.clone().into());
        }
        p.entry("enableRBAC").or_insert(true.into());
        p.entry("disableLocalAccounts").or_insert(false.into());
        // An empty `addonProfiles` (az sends one) is not answered.
        if p.get("addonProfiles")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
        {
            p.remove("addonProfiles");
        }
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
        self.render_network(&mut p);
        if let Some(Value::Object(oidc)) = p.get_mut("oidcIssuerProfile") {
            if oidc.get("enabled").and_then(Value::as_bool) == Some(true) {
                oidc.insert("issuerURL".into(), self.oidc_issuer_url(tenant_id).into());
            } else {
                oidc.remove("issuerURL");
            }
        }
        let kubelet_id = format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}-agentpool",
            self.subscription, self.node_resource_group, self.name
        );
        // AKS answers the kubelet identity once the cluster's first create has finished.
        if self.shape.provisioned {
            merge_defaults(
                &mut p,
                "identityProfile",
                serde_json::json!({"kubeletidentity": {
                    "resourceId": kubelet_id,
                    "clientId": derived_guid(&self.resource_uid, "kubelet-client"),
                    "objectId": derived_guid(&self.resource_uid, "kubelet-object"),
                }}),
            );
        }
        if self.shape.provisioned {
            self.render_addon_identities(&mut p);
        }
        if p.contains_key("agentPoolProfiles") {
            p.insert("agentPoolProfiles".into(), self.render_profiles());
        }
        if let Some(mesh) = &self.mesh {
            p.insert("serviceMeshProfile".into(), mesh.to_json());
        }
        p
    }

    /// What the network profile answers beyond what is stored: the outbound IP AKS made and,
    /// on the days it did, the capitalised load-balancer SKU of a provisioned cluster.
    fn render_network(&self, p: &mut Map<String, Value>) {
        if !self.shape.provisioned {
            return;
        }
        let Some(Value::Object(np)) = p.get_mut("networkProfile") else {
            return;
        };
        if self.shape.load_balancer_sku_capitalised {
            if let Some(sku) = np.get_mut("loadBalancerSku").filter(|s| *s == "standard") {
                *sku = "Standard".into();
            }
        }
        let managed = np
            .get("loadBalancerProfile")
            .and_then(|l| l.get("managedOutboundIPs"))
            .and_then(|m| m.get("count"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if let Some(Value::Object(lb)) = np.get_mut("loadBalancerProfile") {
            if managed > 0 && !lb.contains_key("effectiveOutboundIPs") {
                let ips: Vec<Value> = (0..managed.min(16))
                    .map(|i| {
                        serde_json::json!({"id": format!(
                            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/publicIPAddresses/{}",
                            self.subscription,
                            self.node_resource_group,
                            derived_guid(&self.resource_uid, &format!("outbound-ip-{i}"))
                        )})
                    })
                    .collect();
                lb.insert("effectiveOutboundIPs".into(), ips.into());
            }
        }
    }

    /// The managed identity AKS makes for an enabled add-on that needs one
    /// (`{prefix}-{cluster}` in the node resource group), answered once provisioned.
    fn render_addon_identities(&self, p: &mut Map<String, Value>) {
        const WITH_IDENTITY: &[(&str, &str)] = &[
            (
                "azureKeyvaultSecretsProvider",
                "azurekeyvaultsecretsprovider",
            ),
            ("omsagent", "omsagent"),
            ("azurepolicy", "azurepolicy"),
            ("ingressApplicationGateway", "ingressapplicationgateway"),
            ("aciConnectorLinux", "aciconnectorlinux"),
        ];
        let Some(Value::Object(addons)) = p.get_mut("addonProfiles") else {
            return;
        };
        for (name, addon) in addons.iter_mut() {
            let Some(prefix) = WITH_IDENTITY
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, p)| *p)
            else {
                continue;
            };
            let Value::Object(addon) = addon else {
                continue;
            };
            if addon.get("enabled").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let identity = format!("{prefix}-{}", self.name.to_ascii_lowercase());
            addon.entry("identity").or_insert_with(|| {
                serde_json::json!({
                    "resourceId": format!(
                        "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{identity}",
                        self.subscription, self.node_resource_group
                    ),
                    "clientId": derived_guid(&self.resource_uid, &format!("{identity}-client")),
                    "objectId": derived_guid(&self.resource_uid, &format!("{identity}-object")),
                })
            });
        }
    }

    /// Whether the eTags are answered: on the days AKS has them, once the first create finished.
    pub(crate) fn shows_etags(&self) -> bool {
        self.shape.etag && self.shape.provisioned
    }

    /// The cluster's OIDC issuer URL (`https://{location}.oic.prod-aks.azure.com/{tenant}/{guid}/`).
    pub fn oidc_issuer_url(&self, tenant_id: &str) -> String {
        format!(
            "https://{}.oic.prod-aks.azure.com/{tenant_id}/{}/",
            self.location,
            derived_guid(&self.resource_uid, "oidc-issuer")
        )
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
