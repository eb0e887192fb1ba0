//! `AppState`: the one cheap-to-clone handle the wire's handlers get — the domain's [`Core`]
//! plus what only the wire has (flags, the token issuer, the journal, fault rules, the CA).
//! No globals.

use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::control::faults::Faults;
use crate::control::journal::Journal;
use crate::core::{Core, CoreConfig};
use crate::identity::tokens::TokenIssuer;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

pub struct Inner {
    pub core: Core,
    pub config: Config,
    pub tokens: TokenIssuer,
    pub journal: Journal,
    pub faults: Faults,
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
        let core = Core::new(core_config(&config)?)?;
        Ok(AppState {
            inner: Arc::new(Inner {
                core,
                journal: Journal::new(config.journal_size),
                faults: Faults::default(),
                tokens,
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

    /// Empties all state (subscriptions, journal, faults, scripts) and restarts the id
    /// sequence. The clock and the configured durations are kept.
    pub fn reset(&self) {
        self.core.reset();
        self.journal.clear();
        self.faults.clear();
    }
}

/// What the core is started with, from the flags (catalogue files read here).
fn core_config(config: &Config) -> Result<CoreConfig, String> {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    Ok(CoreConfig {
        tenant: config.tenant.clone(),
        subscription: config.subscription.clone(),
        seed: config.seed,
        op_durations: config.op_durations.clone(),
        registration_seconds: config.registration_seconds,
        auto_register_providers: config.auto_register_providers,
        preview_gating: config.preview_gating_on(),
        feature_catalog: config.feature_catalog.as_deref().map(read).transpose()?,
        preview_gates: config.preview_gates.as_deref().map(read).transpose()?,
        azure_date: config.azure_date.clone(),
        mesh_catalog: config.mesh_catalog.clone(),
        istio_admission_era: config.istio_admission_era.clone(),
        clock_start: config.clock_start.clone(),
        clock_frozen: config.clock_frozen,
    })
}
