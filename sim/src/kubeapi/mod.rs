//! The Kubernetes wire of each cluster's plane: `/k8s/{subscription}/{resourceGroup}/{cluster}`,
//! discovery, Table output, protobuf bodies, watch streams and the `Status` errors.

pub mod apply;
pub mod http;
pub mod probes;
pub mod protobuf;
pub mod status;
pub mod table;

/// The API server URL a cluster's kubeconfig carries: `{base}/k8s/{sub}/{rg}/{cluster}`.
pub fn server_url(base: &str, subscription: &str, resource_group: &str, cluster: &str) -> String {
    format!(
        "{base}/k8s/{subscription}/{}/{}",
        resource_group.to_ascii_lowercase(),
        cluster.to_ascii_lowercase()
    )
}
