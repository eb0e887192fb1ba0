//! The Kubernetes wire of each cluster's plane: `/k8s/{subscription}/{resourceGroup}/{cluster}`,
//! discovery, Table output, protobuf bodies, watch streams and the `Status` errors.

pub mod http;
pub mod protobuf;
pub mod status;
pub mod table;
