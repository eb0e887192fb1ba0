//! `AppState`: the one cheap-to-clone handle every handler gets (config, clock, ids, store,
//! token issuer, TLS material). No globals.

use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;

use crate::arm::catalog::Catalog;
use crate::arm::lro::Durations;
use crate::clock::Clock;
use crate::config::Config;
use crate::identity::TokenIssuer;
use crate::ids::Ids;
use crate::providers::container_service::catalog::AksCatalog;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub config: Config,
    pub clock: Clock,
    pub ids: Ids,
    pub store: Store,
    pub tokens: TokenIssuer,
    pub catalog: &'static Catalog,
    pub durations: RwLock<Durations>,
    /// Kubernetes versions and mesh revisions (`--mesh-catalog`).
    pub aks_catalog: AksCatalog,
    /// The CA certificate (PEM) clients must trust; `None` when serving plain HTTP in tests.
    pub ca_pem: Option<String>,
    pub started: Instant,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    /// Builds the state. `tokens` comes from the TLS directory (or is ephemeral in tests).
    pub fn new(
        config: Config,
        tokens: TokenIssuer,
        ca_pem: Option<String>,
    ) -> Result<Self, String> {
        config.validate()?;
        let durations = Durations::parse(&config.op_durations)?;
        let aks_catalog = AksCatalog::load(config.mesh_catalog.as_deref())?;
        let store = Store::new(&config.tenant.to_ascii_lowercase());
        Ok(AppState {
            inner: Arc::new(Inner {
                ids: Ids::new(config.seed),
                clock: Clock::new(),
                store,
                tokens,
                catalog: Catalog::embedded(),
                durations: RwLock::new(durations),
                aks_catalog,
                ca_pem,
                started: Instant::now(),
                config,
            }),
        })
    }

    /// State for in-process tests: plain HTTP, seeded, operations done at the first poll.
    pub fn for_tests() -> Self {
        Self::new(Config::for_tests(), TokenIssuer::ephemeral(), None)
            .expect("test config is valid")
    }

    pub fn default_subscription(&self) -> String {
        self.config.subscription.to_ascii_lowercase()
    }

    /// Empties all state and restarts the id sequence.
    pub fn reset(&self) {
        self.store.clear();
        self.ids.reseed(None);
    }
}
