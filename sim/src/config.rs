//! Run-time configuration: command-line flags, each mirrored by an `AKSIM_*` environment
//! variable (flags win). `Config::for_tests()` is what in-process tests use.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Local, in-memory simulator of Azure Resource Manager for the AKS Istio service-mesh add-on.
#[derive(Debug, Parser)]
#[command(name = "aksim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the simulator (the default when no subcommand is given).
    Serve(Config),
    /// Scenario files: run them in-process or against a running aksim.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Control a running aksim (`/_sim`): clock, faults, journal, snapshots, sandboxes...
    Ctl(crate::ctl::CtlArgs),
    /// Replay recorded AKS traffic (vcrpy cassettes) and compare every answer (docs/parity.md).
    Parity(crate::parity::cli::ParityArgs),
    /// A recording proxy: forward to an upstream (ARM or an aksim), write a cassette.
    Record(crate::parity::cli::RecordArgs),
}

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Run scenario files (folders are searched for *.yaml, *.yml, *.json).
    Run(ScenarioRun),
    /// Check scenario files against the format without running them.
    Validate {
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// Print the JSON Schema of scenario files.
    Schema,
    /// Turn a recorded cassette into a scenario file (docs/parity.md).
    FromCassette {
        cassette: PathBuf,
        /// The scenario file to write.
        #[arg(long, short = 'o')]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ScenarioRun {
    /// Files or folders.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Run against this aksim (or ARM-compatible) base URL instead of in-process.
    #[arg(long, env = "AKSIM_SCENARIO_TARGET")]
    pub target: Option<String>,
    /// CA certificate (PEM) to trust for --target.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Bearer token for --target (default: any string, which aksim's `--auth any` accepts).
    #[arg(long, env = "AKSIM_SCENARIO_TOKEN")]
    pub token: Option<String>,
    /// Only scenarios whose name or path contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Scenarios run at once.
    #[arg(long, short = 'j', default_value_t = 4)]
    pub jobs: usize,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Print only failures and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Accept requests without a bearer token.
    Off,
    /// Require a bearer token, accept any value (default; what the az tests use).
    Any,
    /// Require a token issued by this aksim, unexpired on the virtual clock, for ARM's audience.
    Strict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on; `127.0.0.1:0` picks a free port.
    #[arg(long, env = "AKSIM_ADDR", default_value = "127.0.0.1:8443")]
    pub addr: SocketAddr,

    /// Where the generated CA (`ca.pem`), its key and the token-signing key live. Reused across
    /// restarts so a client trusts the CA once. Default: `$XDG_DATA_HOME/aksim/tls` or
    /// `~/.local/share/aksim/tls`.
    #[arg(long, env = "AKSIM_TLS_DIR")]
    pub tls_dir: Option<PathBuf>,

    /// Serve plain HTTP instead of HTTPS (azure-core and MSAL refuse this; kubectl and curl
    /// accept it).
    #[arg(long, env = "AKSIM_HTTP", default_value_t = false)]
    pub http: bool,

    /// Extra DNS names for the server certificate (127.0.0.1, ::1 and localhost are always in).
    #[arg(long = "hostname", env = "AKSIM_HOSTNAMES", value_delimiter = ',')]
    pub hostnames: Vec<String>,

    /// The default tenant GUID.
    #[arg(
        long,
        env = "AKSIM_TENANT",
        default_value = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    )]
    pub tenant: String,

    /// The default subscription GUID (listed by `GET /subscriptions` even when empty).
    #[arg(
        long,
        env = "AKSIM_SUBSCRIPTION",
        default_value = "00000000-0000-0000-0000-000000000001"
    )]
    pub subscription: String,

    /// How bearer tokens on ARM requests are checked.
    #[arg(long, env = "AKSIM_AUTH", value_enum, default_value = "any")]
    pub auth: AuthMode,

    /// Seed for ids, ETags and operation ids; the same seed replays the same values.
    #[arg(long, env = "AKSIM_SEED")]
    pub seed: Option<u64>,

    /// Log format on stderr.
    #[arg(long, env = "AKSIM_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Virtual seconds an operation kind takes, as KIND=SECONDS (repeatable, comma-separated in
    /// the env var). Kinds: default, resourceGroupDelete, clusterCreate, clusterUpdate,
    /// clusterDelete. 0 = done at the first poll.
    #[arg(long = "op-duration", env = "AKSIM_OP_DURATION", value_delimiter = ',')]
    pub op_durations: Vec<String>,

    /// Requests kept in the journal ring buffer (`/_sim/journal`); 0 turns it off.
    #[arg(long, env = "AKSIM_JOURNAL_SIZE", default_value_t = 1000)]
    pub journal_size: usize,

    /// Load state from this snapshot file at start (if it exists) and save it there on a clean
    /// shutdown.
    #[arg(long, env = "AKSIM_STATE_FILE")]
    pub state_file: Option<PathBuf>,

    /// Start the virtual clock at this RFC 3339 instant instead of now.
    #[arg(long, env = "AKSIM_CLOCK_START")]
    pub clock_start: Option<String>,

    /// Start with the virtual clock frozen (it moves only through `/_sim/clock/advance`).
    #[arg(long, env = "AKSIM_CLOCK_FROZEN", default_value_t = false)]
    pub clock_frozen: bool,

    /// Virtual seconds a feature or provider spends `Registering` / `Unregistering` before it
    /// is `Registered` / `Unregistered`. 0 = immediate.
    #[arg(long, env = "AKSIM_REGISTRATION_SECONDS", default_value_t = 3.0)]
    pub registration_seconds: f64,

    /// ARM's auto-registration: the first use of a RegistrationRequired provider registers it
    /// at once instead of answering 409 MissingSubscriptionRegistration.
    #[arg(long, env = "AKSIM_AUTO_REGISTER_PROVIDERS", default_value_t = false)]
    pub auto_register_providers: bool,

    /// A JSON file of preview features merged over the built-in catalogue
    /// (`data/features.json` shape; see docs/registration.md).
    #[arg(long, env = "AKSIM_FEATURE_CATALOG")]
    pub feature_catalog: Option<PathBuf>,

    /// A JSON file of preview gates that replaces the built-in list
    /// (`data/preview-gates.json` shape).
    #[arg(long, env = "AKSIM_PREVIEW_GATES")]
    pub preview_gates: Option<PathBuf>,

    /// Whether preview gates apply (`--preview-gating=false` or AKSIM_PREVIEW_GATING=false
    /// turns them off, as does `--no-preview-gating`).
    #[arg(long, env = "AKSIM_PREVIEW_GATING", default_value_t = true, action = clap::ArgAction::Set)]
    pub preview_gating: bool,

    /// Turns preview gating off.
    #[arg(long = "no-preview-gating", default_value_t = false)]
    pub no_preview_gating: bool,
    /// The AKS catalogue (Kubernetes versions and Istio add-on revisions): `current` (default,
    /// November 2026), `2023` (the seed flow's era: asm-1-17 default, asm-1-18 upgrade) or the
    /// path of a JSON file in the same format (see docs/service-mesh.md).
    #[arg(long, env = "AKSIM_MESH_CATALOG")]
    pub mesh_catalog: Option<String>,
    /// Era of the Istio add-on's blocked custom-resource list that every cluster's Kubernetes
    /// plane enforces: `2023`, `2024` or `current` (see `data/istio-admission.json`).
    #[arg(long, env = "AKSIM_ISTIO_ADMISSION_ERA")]
    pub istio_admission_era: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: "127.0.0.1:8443".parse().expect("static address"),
            tls_dir: None,
            http: false,
            hostnames: Vec::new(),
            tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned(),
            subscription: "00000000-0000-0000-0000-000000000001".to_owned(),
            auth: AuthMode::Any,
            seed: None,
            log_format: LogFormat::Text,
            op_durations: Vec::new(),
            journal_size: 1000,
            state_file: None,
            clock_start: None,
            clock_frozen: false,
            registration_seconds: 3.0,
            auto_register_providers: false,
            feature_catalog: None,
            preview_gates: None,
            preview_gating: true,
            no_preview_gating: false,
            mesh_catalog: None,
            istio_admission_era: None,
        }
    }
}

impl Config {
    /// In-process tests: no TLS files, seeded ids, operations done at the first poll,
    /// registrations immediate. Providers still start `NotRegistered`: tests register them
    /// (or set `auto_register_providers`).
    pub fn for_tests() -> Self {
        Config {
            addr: "127.0.0.1:0".parse().expect("static address"),
            http: true,
            seed: Some(1),
            op_durations: vec!["default=0".to_owned()],
            registration_seconds: 0.0,
            ..Config::default()
        }
    }

    pub fn tls_dir(&self) -> PathBuf {
        if let Some(dir) = &self.tls_dir {
            return dir.clone();
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("aksim").join("tls")
    }

    pub fn scheme(&self) -> &'static str {
        if self.http {
            "http"
        } else {
            "https"
        }
    }

    /// Checks the values clap cannot: GUID shapes, the op-duration list and the AKS catalogue.
    pub fn validate(&self) -> Result<(), String> {
        for (what, value) in [
            ("--tenant", &self.tenant),
            ("--subscription", &self.subscription),
        ] {
            if uuid::Uuid::parse_str(value).is_err() {
                return Err(format!("{what} must be a GUID, got '{value}'"));
            }
        }
        if !self.registration_seconds.is_finite()
            || self.registration_seconds < 0.0
            || self.registration_seconds > crate::limits::REGISTRATION_SECONDS_MAX
        {
            return Err(format!(
                "--registration-seconds must be from 0 to {}, got {}",
                crate::limits::REGISTRATION_SECONDS_MAX,
                self.registration_seconds
            ));
        }
        if let Some(era) = &self.istio_admission_era {
            if crate::kube::admission::era_key(era).is_none() {
                return Err(format!(
                    "--istio-admission-era must be one of {}, got '{era}'",
                    crate::kube::admission::era_names().join(", ")
                ));
            }
        }
        crate::arm::lro::Durations::parse(&self.op_durations)?;
        crate::providers::container_service::catalog::AksCatalog::load(self.mesh_catalog.as_deref())
            .map(|_| ())
    }

    /// Whether preview gates apply.
    pub fn preview_gating_on(&self) -> bool {
        self.preview_gating && !self.no_preview_gating
    }

    /// The registration delay as a duration.
    pub fn registration_delay(&self) -> time::Duration {
        time::Duration::seconds_f64(self.registration_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut all = vec!["aksim"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("valid flags").serve
    }

    #[test]
    fn registration_flags() {
        let c = parse(&[]);
        assert_eq!(c.registration_seconds, 3.0);
        assert!(!c.auto_register_providers);
        assert!(c.preview_gating_on());
        let c = parse(&[
            "--registration-seconds",
            "0",
            "--auto-register-providers",
            "--no-preview-gating",
            "--feature-catalog",
            "/tmp/f.json",
        ]);
        assert_eq!(c.registration_delay(), time::Duration::ZERO);
        assert!(c.auto_register_providers);
        assert!(!c.preview_gating_on());
        assert_eq!(c.feature_catalog, Some(PathBuf::from("/tmp/f.json")));
        assert!(!parse(&["--preview-gating=false"]).preview_gating_on());
        let mut bad = Config::for_tests();
        bad.registration_seconds = -1.0;
        assert!(bad.validate().is_err());
        bad.registration_seconds = f64::NAN;
        assert!(bad.validate().is_err());
    }
}
