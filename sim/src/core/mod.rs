//! The simulator's core: everything Azure and the clusters *are*, with no HTTP in it.
//!
//! [`Core`] holds the virtual clock, the id generator, the [`store::Store`] of subscriptions,
//! the catalogues (loaded once, at start) and the run-time settings. Its methods
//! ([`service`]) are the use cases the wire calls: each takes the subscription's lock once,
//! runs ARM's gates in ARM's order (provider registration → resource group → resource), asks
//! the owning domain module to act and returns a domain value or a domain [`error::Error`].
//!
//! Layers, bottom up (a module imports only from its own layer or below; `tests/layering.rs`
//! checks it): `error`, `ops`, `preconditions`, `resource_types` → `registration`, `groups`,
//! `kube` → `clusters` → `subscription` → `store` → `Core` and `service`. Nothing here knows
//! axum, hyper, `http` types or the wire's `AppState`.

pub mod clusters;
pub mod error;
pub mod groups;
pub mod kube;
pub mod ops;
pub mod preconditions;
pub mod registration;
pub mod resource_types;
pub mod service;
pub mod store;
pub mod subscription;
pub mod timeline;

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::ids::Ids;
use error::ErrorBody;
use ops::{Durations, Injected, OpKind, OpScript, Operation};
use registration::features::FeatureCatalog;
use registration::gates::GateSet;
use store::Store;
use subscription::Effect;
use timeline::catalog::AksCatalog;
use timeline::{Behaviour, SandboxBehaviours};

/// What the core is started with (the wire builds it from its flags and files).
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// The tenant GUID every subscription belongs to.
    pub tenant: String,
    /// The subscription listed even when empty.
    pub subscription: String,
    /// Seed of the id generator (`None`: per-thread random ids).
    pub seed: Option<u64>,
    /// `KIND=SECONDS` items.
    pub op_durations: Vec<String>,
    pub registration_seconds: f64,
    pub auto_register_providers: bool,
    pub preview_gating: bool,
    /// The text of a feature catalogue merged over the built-in one.
    pub feature_catalog: Option<String>,
    /// The text of a preview-gate list replacing the built-in one.
    pub preview_gates: Option<String>,
    /// `YYYY-MM-DD`: the day whose AKS the simulator answers as (default: the newest day of
    /// the data).
    pub azure_date: Option<String>,
    /// A catalogue file replacing the day's (the old names `2023`, `current` stand for days).
    pub mesh_catalog: Option<String>,
    /// The old admission era name (`2023`, `2024`, `current`), now a day.
    pub istio_admission_era: Option<String>,
    /// RFC 3339 start of the virtual clock.
    pub clock_start: Option<String>,
    pub clock_frozen: bool,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned(),
            subscription: "00000000-0000-0000-0000-000000000001".to_owned(),
            seed: None,
            op_durations: Vec::new(),
            registration_seconds: 3.0,
            auto_register_providers: false,
            preview_gating: true,
            feature_catalog: None,
            preview_gates: None,
            azure_date: None,
            mesh_catalog: None,
            istio_admission_era: None,
            clock_start: None,
            clock_frozen: false,
        }
    }
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lower-case GUID.
    pub tenant: String,
    /// Lower-case GUID.
    pub default_subscription: String,
    /// ARM's auto-registration of RegistrationRequired providers on first use.
    pub auto_register_providers: bool,
    pub preview_gating: bool,
    /// What replaces each old flag the start used (printed at start, shown by `/_sim/info`).
    pub notes: Vec<String>,
}

/// The domain's state and catalogues: one per simulator (and per in-process scenario).
pub struct Core {
    pub clock: Clock,
    pub ids: Ids,
    pub store: Store,
    /// Provider namespaces, resource types, api-versions and locations.
    pub resource_types: &'static resource_types::Catalog,
    /// Known preview features.
    pub features: FeatureCatalog,
    /// Preview gates.
    pub gates: GateSet,
    /// The AKS of the `--azure-date` (and `--mesh-catalog` file).
    pub behaviour: Behaviour,
    /// Sandbox subscriptions' own days or catalogues (`POST /_sim/sandboxes` with `azureDate`
    /// or `meshCatalog`).
    pub sandboxes: SandboxBehaviours,
    pub durations: RwLock<Durations>,
    /// Scripted outcomes per operation kind.
    pub scripts: RwLock<BTreeMap<OpKind, OpScript>>,
    /// Virtual seconds a registration takes.
    pub registration_seconds: RwLock<f64>,
    pub settings: Settings,
}

/// Every operation kind, declared by the modules that own them.
pub static OP_KINDS: [OpKind; 10] = [
    groups::DELETE,
    clusters::CREATE,
    clusters::UPDATE,
    clusters::DELETE,
    clusters::pools::CREATE,
    clusters::pools::UPDATE,
    clusters::pools::DELETE,
    clusters::pools::UPGRADE_NODE_IMAGE,
    clusters::power::STOP,
    clusters::power::START,
];

impl Core {
    /// Builds the core; every catalogue is loaded and checked here, once.
    pub fn new(config: CoreConfig) -> Result<Core, String> {
        let durations = Durations::parse(&config.op_durations, &OP_KINDS)?;
        let (behaviour, notes) = timeline::from_flags(
            config.azure_date.as_deref(),
            config.mesh_catalog.as_deref(),
            config.istio_admission_era.as_deref(),
        )?;
        let features = FeatureCatalog::load(config.feature_catalog.as_deref())?;
        let gates = GateSet::load(config.preview_gates.as_deref())?;
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
        let tenant = config.tenant.to_ascii_lowercase();
        Ok(Core {
            clock,
            ids: Ids::new(config.seed),
            store: Store::new(&tenant),
            resource_types: resource_types::Catalog::embedded(),
            features,
            gates,
            behaviour,
            sandboxes: SandboxBehaviours::default(),
            durations: RwLock::new(durations),
            scripts: RwLock::new(BTreeMap::new()),
            registration_seconds: RwLock::new(config.registration_seconds),
            settings: Settings {
                tenant,
                default_subscription: config.subscription.to_ascii_lowercase(),
                auto_register_providers: config.auto_register_providers,
                preview_gating: config.preview_gating,
                notes,
            },
        })
    }

    /// The behaviour subscription `sub` sees: its sandbox's, else the server's.
    pub fn behaviour_for(&self, sub: &str) -> Behaviour {
        self.sandboxes
            .get(sub)
            .unwrap_or_else(|| self.behaviour.clone())
    }

    /// The AKS catalogue subscription `sub` sees.
    pub fn aks_for(&self, sub: &str) -> Arc<AksCatalog> {
        match self.sandboxes.get(sub) {
            Some(b) => b.aks,
            None => self.behaviour.aks.clone(),
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// How long a feature or provider registration takes now.
    pub fn registration_delay(&self) -> time::Duration {
        time::Duration::seconds_f64(*self.registration_seconds.read())
    }

    /// Empties every subscription, the sandbox catalogues and the scripts and restarts the id
    /// sequence; the clock and the configured durations are kept.
    pub fn reset(&self) {
        self.store.clear();
        self.sandboxes.clear();
        self.scripts.write().clear();
        self.ids.reseed(None);
    }

    /// A new operation: due after its kind's duration, shaped by any script for the kind and
    /// by an injected failure. Every operation is made here, so durations, scripts and
    /// injected failures apply to all of them alike.
    #[allow(clippy::too_many_arguments)] // what an operation is, where it is served, its cause
    pub fn start_operation(
        &self,
        id: String,
        kind: OpKind,
        namespace: Option<&str>,
        location: Option<&str>,
        api_version: &str,
        effect: Effect,
        injected: Option<&Injected>,
    ) -> Operation<Effect> {
        let now = self.clock.now();
        let due = now + self.durations.read().for_kind(&kind);
        let mut op = Operation::new(id, kind, api_version, now, effect);
        op.namespace = namespace.map(str::to_owned);
        op.location = location.map(str::to_owned);
        op.due = due;
        if let Some(script) = self.scripts.read().get(&op.kind) {
            op.min_polls = script.polls;
            op.fail_with = script.failure().map(Box::new);
            op.cancel = script.result == ops::OpStatus::Canceled;
        }
        if let Some(injected) = injected {
            op.fail_with = Some(Box::new(injected.error.clone()));
            op.cancel = injected.canceled;
        }
        tracing::Span::current().record("operation_id", op.id.as_str());
        op
    }
}

/// The error a failed operation reports when it recorded none.
pub fn operation_failed_error() -> ErrorBody {
    *error::Error::internal("operation failed").body
}
