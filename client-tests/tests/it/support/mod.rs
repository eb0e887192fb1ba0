//! The real-client harness, shared by every client test (az, Python SDK, and later the JS
//! SDK, kubectl and kube-rs):
//!
//! - [`sim::spawn_sim`] runs aksim in-process on `127.0.0.1:0` over HTTPS with a fresh TLS
//!   directory and hands back a [`sim::SimHandle`]: the base URL, the CA file, the state (for
//!   the virtual clock) and a `reqwest::Client` that trusts the CA. Each test gets its own
//!   server, so tests run in parallel.
//! - [`venv::venv`] creates a pinned Python venv on first use (`client-tests/python/`).
//! - [`az::Az`] runs the real, unmodified `az` from that venv against a `SimHandle`, with a
//!   throw-away config dir, and returns exit code, stdout and stderr.
//! - [`python::run_script`] runs a script of `client-tests/python/` in a venv the same way;
//!   [`process::run`] is the bounded process runner both use (and kubectl or node will).
//! - [`node::run_script`] runs a script of `client-tests/js/` with Node.js (the JS SDK).
//!
//! Tests using it must run on a multi-threaded runtime
//! (`#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`): the server keeps serving
//! while a test awaits a client process.

pub mod az;
pub mod journal;
pub mod node;
pub mod process;
pub mod python;
pub mod sim;
pub mod venv;

/// The subscription aksim lists by default (`--subscription`).
pub const SUB: &str = "00000000-0000-0000-0000-000000000001";
/// The tenant aksim reports by default (`--tenant`).
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// The service principal the clients log in as (any GUID works; aksim accepts any secret).
pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
