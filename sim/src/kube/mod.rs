//! The Kubernetes plane: one small API server per managed cluster, reachable at the server URL
//! of the kubeconfig that `listClusterUserCredential` returns (`{base}/k8s/{sub}/{rg}/{name}`).
//!
//! Coupling to ARM is one pure input: after every mesh change the cluster calls
//! [`Plane::reconcile_addon`] with a [`MeshView`], and the plane makes the add-on's objects
//! match it. The mesh code never pokes the plane's objects, and the plane never reads ARM
//! bodies. The mesh rules read back one fact: [`Plane::has_self_managed_istio`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The key of a cluster's plane in `Subscription::kube_planes`: `"{rg}/{cluster}"`, lower-case.
pub fn plane_key(resource_group: &str, cluster: &str) -> String {
    format!(
        "{}/{}",
        resource_group.to_ascii_lowercase(),
        cluster.to_ascii_lowercase()
    )
}

/// The API server URL a cluster's kubeconfig carries: `{base}/k8s/{sub}/{rg}/{cluster}`.
pub fn server_url(base: &str, subscription: &str, resource_group: &str, cluster: &str) -> String {
    format!(
        "{base}/k8s/{subscription}/{}/{}",
        resource_group.to_ascii_lowercase(),
        cluster.to_ascii_lowercase()
    )
}

/// What the add-on's in-cluster objects are derived from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeshView {
    /// `serviceMeshProfile.mode == Istio`.
    pub enabled: bool,
    /// Installed revisions, e.g. `["asm-1-26"]`, two during a canary upgrade.
    pub revisions: Vec<String>,
    /// Enabled ingress gateways: `"External"` / `"Internal"`.
    pub ingress_gateways: Vec<String>,
    /// Enabled egress gateways: (name, namespace).
    pub egress_gateways: Vec<(String, String)>,
    /// `CNIChaining` or `InitContainers`.
    pub proxy_redirection: Option<String>,
    /// Plug-in CA configured (the `cacerts` secret exists).
    pub plugin_ca: bool,
}

/// One cluster's Kubernetes objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plane {
    /// `major.minor.patch` reported by `/version`.
    pub kubernetes_version: String,
    /// Bearer token the kubeconfig carries.
    pub token: String,
    pub mesh: MeshView,
}

impl Plane {
    pub fn new(kubernetes_version: &str, token: &str, _now: OffsetDateTime) -> Self {
        Plane {
            kubernetes_version: kubernetes_version.to_owned(),
            token: token.to_owned(),
            mesh: MeshView::default(),
        }
    }

    /// Makes the add-on's namespaces and objects match `view`.
    pub fn reconcile_addon(&mut self, view: &MeshView, _now: OffsetDateTime) {
        self.mesh = view.clone();
    }

    /// Whether the user installed Istio themselves (Istio CRDs, istiod or its webhooks
    /// outside the add-on); enabling the add-on is then refused.
    pub fn has_self_managed_istio(&self) -> bool {
        false
    }
}
