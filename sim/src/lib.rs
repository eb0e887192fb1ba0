//! aksim: a local, in-memory simulator of the Azure Resource Manager endpoints behind the AKS
//! Istio-based service-mesh add-on.
//!
//! The crate is a library with a thin binary: [`app`] builds the [`App`] service (used in-process by
//! tests and the scenario runner), [`serve`] runs it on a listener, and [`TestServer`] runs it
//! inside your own tests (HTTPS on a free port, stopped when dropped). See ARCHITECTURE.md for
//! the code map and invariants.

pub mod arm;
pub mod cli;
pub mod clock;
pub mod compact;
pub mod config;
pub mod control;
pub mod core;
pub mod ctl;
pub mod hostile;
pub mod http;
pub mod identity;
pub mod ids;
pub mod kubeapi;
pub mod limits;
pub mod parity;
pub mod providers;
pub mod scenario;
pub mod server;
pub mod state;
pub mod testing;
pub mod tls;

pub use config::Config;
pub use http::{app, App};
pub use server::{prepare, serve, serve_with, Prepared, ServerLimits};
pub use state::AppState;
pub use testing::{TestServer, TestServerBuilder};
