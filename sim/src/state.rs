//! `AppState`: the one cheap-to-clone handle every handler gets (config, clock, ids, store,
//! token issuer, TLS material). No globals.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::RwLock;

use crate::arm::catalog::Catalog;
use crate::arm::lro::{Durations, Effect, OpKind, OpScript, Operation};
use crate::arm::request::ArmRequest;
use crate::clock::Clock;
use crate::config::Config;
use crate::control::faults::Faults;
use crate::control::journal::Journal;
use crate::control::sandbox::SandboxCatalogs;
use crate::identity::TokenIssuer;
use crate::ids::Ids;
use crate::providers::container_service::catalog::AksCatalog;
use crate::providers::features::FeatureCatalog;
use crate::providers::gating::GateSet;
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
    /// Virtual seconds a registration takes (`--registration-seconds`, `/_sim/registration`).
    pub registration_seconds: RwLock<f64>,
    /// Scripted outcomes per operation kind (`/_sim/operations/scripts`).
    pub scripts: RwLock<BTreeMap<OpKind, OpScript>>,
    pub journal: Journal,
    pub faults: Faults,
    /// Known preview features (built-in catalogue merged with `--feature-catalog`).
    pub features: FeatureCatalog,
    /// Preview gates (built-in, or `--preview-gates`).
    pub preview_gates: GateSet,
    /// Kubernetes versions and mesh revisions (`--mesh-catalog`).
    pub aks_catalog: Arc<AksCatalog>,
    /// Sandbox subscriptions' own AKS catalogues (`POST /_sim/sandboxes` with `meshCatalog`).
    pub sandbox_catalogs: SandboxCatalogs,
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
        let clock = match &config.clock_start {
            Some(start) => Clock::starting_at(
                crate::clock::parse_rfc3339(start)
                    .ok_or_else(|| format!("--clock-start '{start}' is not an RFC 3339 time"))?,
                config.clock_frozen,
            ),
            None => {
                let clock = Clock::new();
                clock.set_frozen(config.clock_frozen);
                clock
            }
        };
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let feature_file = config.feature_catalog.as_deref().map(read).transpose()?;
        let features = FeatureCatalog::load(feature_file.as_deref())?;
        let gates_file = config.preview_gates.as_deref().map(read).transpose()?;
        let preview_gates = GateSet::load(gates_file.as_deref())?;
        Ok(AppState {
            inner: Arc::new(Inner {
                ids: Ids::new(config.seed),
                clock,
                scripts: RwLock::new(BTreeMap::new()),
                journal: Journal::new(config.journal_size),
                faults: Faults::default(),
                store,
                tokens,
                catalog: Catalog::embedded(),
                durations: RwLock::new(durations),
                registration_seconds: RwLock::new(config.registration_seconds),
                features,
                preview_gates,
                aks_catalog: Arc::new(aks_catalog),
                sandbox_catalogs: SandboxCatalogs::default(),
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

    /// The AKS catalogue subscription `sub` sees: its sandbox's, else the server's.
    pub fn aks_catalog_for(&self, sub: &str) -> Arc<AksCatalog> {
        self.sandbox_catalogs
            .get(sub)
            .unwrap_or_else(|| self.aks_catalog.clone())
    }

    /// How long a feature or provider registration takes now.
    pub fn registration_delay(&self) -> time::Duration {
        time::Duration::seconds_f64(*self.registration_seconds.read())
    }

    /// Empties all state (subscriptions, journal, faults, scripts) and restarts the id
    /// sequence. The clock and the configured durations are kept.
    pub fn reset(&self) {
        self.store.clear();
        self.sandbox_catalogs.clear();
        self.journal.clear();
        self.faults.clear();
        self.scripts.write().clear();
        self.ids.reseed(None);
    }

    /// A new operation for `req`: due after the kind's duration, shaped by any script for the
    /// kind and by an `operationFailure` fault that matched the request.
    pub fn start_operation(
        &self,
        req: &ArmRequest,
        kind: OpKind,
        namespace: Option<&str>,
        location: Option<&str>,
        effect: Effect,
    ) -> Operation {
        let id = self.ids.uuid_string();
        self.start_operation_with_id(req, kind, namespace, location, effect, id)
    }

    /// [`AppState::start_operation`] with an id chosen by the caller (whose effect names it).
    pub fn start_operation_with_id(
        &self,
        req: &ArmRequest,
        kind: OpKind,
        namespace: Option<&str>,
        location: Option<&str>,
        effect: Effect,
        id: String,
    ) -> Operation {
        let now = self.clock.now();
        let api_version = req.api_version().unwrap_or_default();
        let mut op = Operation::new(id, kind, api_version, now, effect);
        op.namespace = namespace.map(str::to_owned);
        op.location = location.map(str::to_owned);
        op.due = now + self.durations.read().for_kind(kind);
        if let Some(script) = self.scripts.read().get(&kind) {
            op.min_polls = script.polls;
            op.fail_with = script.failure().map(Box::new);
            op.cancel = script.result == crate::arm::lro::OpStatus::Canceled;
        }
        tracing::Span::current().record("operation_id", op.id.as_str());
        if let Some(injected) = &req.injected_failure {
            op.fail_with = Some(Box::new(injected.error.clone()));
            op.cancel = injected.canceled;
        }
        op
    }
}
