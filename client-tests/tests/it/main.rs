//! Real clients against a live aksim over HTTPS: one test binary (built once), one server per
//! test on port 0, so everything runs in parallel.
//!
//! - `https_arm`: reqwest over real TLS (h2 and HTTP/1.1): the ARM error cases, id casings,
//!   `//` collapsing, the resource-group delete LRO.
//! - `identity`: cloud metadata, OpenID configuration, token endpoint, JWKS, `--auth strict`.
//! - `control`: the `/_sim` API.
//! - `az_cli`: the unmodified az CLI 2.91.0 in both log-in modes.
//! - `python_sdk`: the Azure Python SDK recipe from README.md.
//! - `kubectl_e2e`: `az aks get-credentials` writes the kubeconfig, the installed kubectl
//!   (1.27, 1.28, 1.31, 1.33 through the version dispatcher) uses it: the per-cluster Kubernetes API.
//! - `kubectl_workloads`: the documented canary upgrade as kubectl runs it (workload
//!   controllers, rollout restart and status, nodes, HPAs, auth can-i, logs, describe).
//! - `aks_az`: az 2.91's `az aks` / `az aks mesh` commands (issue 4), seed flow included.
//! - `aks_sdks`: managedClusters and the mesh through the Python and JavaScript SDKs.
//! - `aks_pools`: agent pools, upgrade profiles and stop/start through az and the Python SDK.
//! - `aks_surface`: the full cluster shape (az's common create flags shown back) and the
//!   surface around it, every answer checked against the Python SDK's spec-generated models;
//!   kubectl applies a `StaticGatewayConfiguration` on a Static Egress Gateway cluster.
//! - `aks_namespaces`: `az aks namespace`, `az aks identity-binding`, `az aks nodepool
//!   delete-machines`, `az aks oidc-issuer rotate-signing-keys`, answers against the SDK models.
//! - `trust`: what each client prints when it does not trust aksim's CA
//!   (docs/troubleshooting.md, checked row by row).
//! - `parity_record`: az through `aksim record`, the cassette replayed by `aksim parity`.
//!
//! The harness is in `support/`.

mod support;

mod aks_az;
mod aks_namespaces;
mod aks_pools;
mod aks_sdks;
mod aks_surface;
mod az_cli;
mod az_registration;
mod control;
mod control_real;
mod https_arm;
mod identity;
mod kubectl_e2e;
mod kubectl_workloads;
mod parity_record;
mod python_sdk;
mod sdk_registration;
mod trust;
