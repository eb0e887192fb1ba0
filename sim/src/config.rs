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
            istio_admission_era: None,
        }
    }
}

impl Config {
    /// In-process tests: no TLS files, seeded ids, operations done at the first poll.
    pub fn for_tests() -> Self {
        Config {
            addr: "127.0.0.1:0".parse().expect("static address"),
            http: true,
            seed: Some(1),
            op_durations: vec!["default=0".to_owned()],
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

    /// Checks the values clap cannot: GUID shapes and the op-duration list.
    pub fn validate(&self) -> Result<(), String> {
        for (what, value) in [
            ("--tenant", &self.tenant),
            ("--subscription", &self.subscription),
        ] {
            if uuid::Uuid::parse_str(value).is_err() {
                return Err(format!("{what} must be a GUID, got '{value}'"));
            }
        }
        if let Some(era) = &self.istio_admission_era {
            if crate::kube::admission::era_key(era).is_none() {
                return Err(format!(
                    "--istio-admission-era must be one of {}, got '{era}'",
                    crate::kube::admission::era_names().join(", ")
                ));
            }
        }
        crate::arm::lro::Durations::parse(&self.op_durations).map(|_| ())
    }
}
