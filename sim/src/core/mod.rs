//! The simulator's core: everything Azure and the clusters *are*, with no HTTP in it. The
//! store and its subscriptions, the operation engine, registration, resource groups, managed
//! clusters (model, rules, mesh, catalogue, lifecycle) and each cluster's Kubernetes plane.

pub mod clusters;
pub mod error;
pub mod groups;
pub mod kube;
pub mod ops;
pub mod preconditions;
pub mod registration;
pub mod resource_types;
pub mod store;
