//! aksim: a local, in-memory simulator of the Azure Resource Manager endpoints behind the AKS
//! Istio-based service-mesh add-on.
//!
//! The crate is a library with a thin binary: [`app`] builds the [`App`] service (used in-process by
//! tests and the scenario runner), [`serve`] runs it on a listener. See ARCHITECTURE.md for the
//! code map and invariants.

pub mod arm;
pub mod clock;
pub mod compact;
pub mod config;
pub mod control;
pub mod ctl;
pub mod hostile;
pub mod http;
pub mod identity;
pub mod ids;
pub mod kube;
pub mod limits;
pub mod parity;
pub mod providers;
pub mod scenario;
pub mod server;
pub mod state;
pub mod store;
pub mod tls;

pub use config::Config;
pub use http::{app, App};
pub use server::{serve, serve_with, ServerLimits};
pub use state::AppState;

/// Everything `main` needs to run: the state and, unless `--http`, the TLS material.
pub struct Prepared {
    pub state: AppState,
    pub tls: Option<tls::TlsMaterial>,
}

/// Loads (or creates) the TLS directory's CA and token key and builds the state.
pub fn prepare(config: Config) -> Result<Prepared, String> {
    config.validate()?;
    let dir = config.tls_dir();
    let tokens = identity::TokenIssuer::load_or_create(&dir)?;
    let tls = if config.http {
        None
    } else {
        Some(tls::load_or_create(&dir, &config.hostnames)?)
    };
    let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
    let state = AppState::new(config, tokens, ca_pem)?;
    Ok(Prepared { state, tls })
}
