//! The simulator's run-time configuration: `aksim serve`'s flags, each mirrored by an
//! `AKSIM_*` environment variable (flags win). `Config::for_tests()` is what in-process tests
//! use. The command line around it (subcommands) is `cli`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::ValueEnum;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
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
    /// clusterDelete, agentPoolCreate, agentPoolUpdate, agentPoolDelete,
    /// agentPoolUpgradeNodeImage, clusterStop, clusterStart. 0 = done at the first poll.
    /// Without it every kind takes 2 s.
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
    /// The day whose AKS aksim answers as (YYYY-MM-DD): Kubernetes versions, mesh revisions,
    /// preview features and gates, the add-on's rules, admission and defaults as they were
    /// then (docs/aks-by-date.md). Default: the newest day aksim's data knows.
    #[arg(long, env = "AKSIM_AZURE_DATE")]
    pub azure_date: Option<String>,
    /// A JSON file of Kubernetes versions and Istio add-on revisions that replaces the
    /// catalogue of the --azure-date (format: docs/service-mesh.md). The old names `2023` and
    /// `current` still work and stand for --azure-date 2023-12-01 and today.
    #[arg(long, env = "AKSIM_MESH_CATALOG")]
    pub mesh_catalog: Option<String>,
    /// Replaced by --azure-date (`2023` = 2023-12-01, `2024` = 2024-09-01, `current` = today),
    /// which dates the admission policy together with everything else.
    #[arg(long, env = "AKSIM_ISTIO_ADMISSION_ERA", hide = true)]
    pub istio_admission_era: Option<String>,
}

impl AuthMode {
    /// The flag's value: `off`, `any`, `strict`.
    pub fn name(self) -> &'static str {
        match self {
            AuthMode::Off => "off",
            AuthMode::Any => "any",
            AuthMode::Strict => "strict",
        }
    }
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
            azure_date: None,
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

    /// Checks the values clap cannot: GUID shapes and ranges (the catalogues and the
    /// op-duration list are checked where they are loaded, once: `core::Core::new`).
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
        Ok(())
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
        <crate::cli::Cli as clap::Parser>::try_parse_from(all)
            .expect("valid flags")
            .serve
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
