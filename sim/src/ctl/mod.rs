//! `aksim ctl`: the control API from the command line. Each subcommand is one `/_sim` call;
//! the answer is printed as JSON, and a refusal exits non-zero with the server's message.

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Clone, clap::Args)]
pub struct CtlArgs {
    /// Base URL of the running aksim.
    #[arg(long, env = "AKSIM_URL", default_value = "https://127.0.0.1:8443")]
    pub url: String,
    /// CA certificate to trust (default: `ca.pem` in the TLS directory, if present).
    #[arg(long, env = "AKSIM_CA")]
    pub ca: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Ctl,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Ctl {
    /// Health, version, uptime, clock.
    Health,
    /// Api-versions, catalogues, limits, durations.
    Info,
    /// Empty everything, or one subscription.
    Reset {
        #[arg(long)]
        subscription: Option<String>,
    },
    /// Restart the id sequence from a seed.
    Seed { seed: u64 },
    /// The virtual clock.
    #[command(subcommand)]
    Clock(ClockCmd),
    /// Virtual seconds per operation kind: show, or set KIND=SECONDS...
    Durations { set: Vec<String> },
    /// Operation scripts: show, set '{"clusterCreate":{"polls":3}}', or clear.
    Scripts {
        #[arg(long, conflicts_with = "clear")]
        set: Option<String>,
        #[arg(long)]
        clear: bool,
    },
    /// Fault rules.
    #[command(subcommand)]
    Faults(FaultsCmd),
    /// The request journal.
    #[command(subcommand)]
    Journal(JournalCmd),
    /// Snapshots of the state.
    #[command(subcommand)]
    Snapshot(SnapshotCmd),
    /// Create a sandbox subscription from a preset (JSON).
    Sandbox { preset: String },
}

#[derive(Debug, Clone, Subcommand)]
pub enum ClockCmd {
    Show,
    Advance { seconds: f64 },
    Freeze,
    Unfreeze,
    Scale { factor: f64 },
}

#[derive(Debug, Clone, Subcommand)]
pub enum FaultsCmd {
    List,
    /// Add a rule (JSON, as POST /_sim/faults takes it).
    Add {
        rule: String,
    },
    Remove {
        id: String,
    },
    Clear,
}

#[derive(Debug, Clone, Subcommand)]
pub enum JournalCmd {
    /// Query: filters as KEY=VALUE (method, path, status, subscription, correlationId,
    /// errorCode, since, limit).
    Show {
        filters: Vec<String>,
    },
    /// JSON lines.
    Export {
        filters: Vec<String>,
    },
    /// Did it happen? JSON as POST /_sim/journal/verify takes it; exit 1 when not.
    Verify {
        expectation: String,
    },
    Clear,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SnapshotCmd {
    /// Write the state (or one subscription) to FILE, or stdout.
    Export {
        file: Option<PathBuf>,
        #[arg(long)]
        subscription: Option<String>,
    },
    /// Load FILE (replacing everything, or only --subscription).
    Import {
        file: PathBuf,
        #[arg(long)]
        subscription: Option<String>,
    },
}

fn query(filters: &[String]) -> Result<String, String> {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for f in filters {
        let (k, v) = f
            .split_once('=')
            .ok_or_else(|| format!("filter '{f}' is not KEY=VALUE"))?;
        q.append_pair(k, v);
    }
    let q = q.finish();
    Ok(if q.is_empty() { q } else { format!("?{q}") })
}

fn json_arg(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))
}

/// Runs one `ctl` command; the text to print, or the error.
pub async fn run(args: CtlArgs) -> Result<String, String> {
    let ca = args.ca.clone().or_else(|| {
        let default = crate::Config::default().tls_dir().join(crate::tls::CA_FILE);
        default.exists().then_some(default)
    });
    let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
    if let Some(ca) = &ca {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", ca.display()))?,
        );
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let base = args.url.trim_end_matches('/').to_owned();
    use reqwest::Method;
    let (method, path, body): (Method, String, Option<serde_json::Value>) = match &args.command {
        Ctl::Health => (Method::GET, "/_sim/health".into(), None),
        Ctl::Info => (Method::GET, "/_sim/info".into(), None),
        Ctl::Reset { subscription: None } => (Method::POST, "/_sim/reset".into(), None),
        Ctl::Reset {
            subscription: Some(s),
        } => (Method::POST, format!("/_sim/reset/{s}"), None),
        Ctl::Seed { seed } => (
            Method::POST,
            "/_sim/seed".into(),
            Some(serde_json::json!({ "seed": seed })),
        ),
        Ctl::Clock(ClockCmd::Show) => (Method::GET, "/_sim/clock".into(), None),
        Ctl::Clock(ClockCmd::Advance { seconds }) => (
            Method::POST,
            "/_sim/clock/advance".into(),
            Some(serde_json::json!({ "seconds": seconds })),
        ),
        Ctl::Clock(ClockCmd::Freeze) => (Method::POST, "/_sim/clock/freeze".into(), None),
        Ctl::Clock(ClockCmd::Unfreeze) => (Method::POST, "/_sim/clock/unfreeze".into(), None),
        Ctl::Clock(ClockCmd::Scale { factor }) => (
            Method::POST,
            "/_sim/clock/scale".into(),
            Some(serde_json::json!({ "factor": factor })),
        ),
        Ctl::Durations { set } if set.is_empty() => {
            (Method::GET, "/_sim/operations/durations".into(), None)
        }
        Ctl::Durations { set } => {
            let mut map = serde_json::Map::new();
            for item in set {
                let (k, v) = item
                    .split_once('=')
                    .ok_or_else(|| format!("'{item}' is not KIND=SECONDS"))?;
                let secs: f64 = v.parse().map_err(|_| format!("'{v}' is not a number"))?;
                map.insert(k.to_owned(), secs.into());
            }
            (
                Method::PUT,
                "/_sim/operations/durations".into(),
                Some(serde_json::Value::Object(map)),
            )
        }
        Ctl::Scripts { clear: true, .. } => {
            (Method::DELETE, "/_sim/operations/scripts".into(), None)
        }
        Ctl::Scripts { set: Some(s), .. } => (
            Method::PUT,
            "/_sim/operations/scripts".into(),
            Some(json_arg(s)?),
        ),
        Ctl::Scripts { .. } => (Method::GET, "/_sim/operations/scripts".into(), None),
        Ctl::Faults(FaultsCmd::List) => (Method::GET, "/_sim/faults".into(), None),
        Ctl::Faults(FaultsCmd::Add { rule }) => {
            (Method::POST, "/_sim/faults".into(), Some(json_arg(rule)?))
        }
        Ctl::Faults(FaultsCmd::Remove { id }) => {
            (Method::DELETE, format!("/_sim/faults/{id}"), None)
        }
        Ctl::Faults(FaultsCmd::Clear) => (Method::DELETE, "/_sim/faults".into(), None),
        Ctl::Journal(JournalCmd::Show { filters }) => (
            Method::GET,
            format!("/_sim/journal{}", query(filters)?),
            None,
        ),
        Ctl::Journal(JournalCmd::Export { filters }) => (
            Method::GET,
            format!("/_sim/journal.jsonl{}", query(filters)?),
            None,
        ),
        Ctl::Journal(JournalCmd::Verify { expectation }) => (
            Method::POST,
            "/_sim/journal/verify".into(),
            Some(json_arg(expectation)?),
        ),
        Ctl::Journal(JournalCmd::Clear) => (Method::DELETE, "/_sim/journal".into(), None),
        Ctl::Snapshot(SnapshotCmd::Export { subscription, .. }) => match subscription {
            Some(s) => (Method::GET, format!("/_sim/snapshot/{s}"), None),
            None => (Method::GET, "/_sim/snapshot".into(), None),
        },
        Ctl::Snapshot(SnapshotCmd::Import { file, subscription }) => {
            let text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let value: serde_json::Value = serde_json::from_slice(&text)
                .map_err(|e| format!("{}: not valid JSON: {e}", file.display()))?;
            let path = match subscription {
                Some(s) => format!("/_sim/snapshot/{s}"),
                None => "/_sim/snapshot".into(),
            };
            (Method::PUT, path, Some(value))
        }
        Ctl::Sandbox { preset } => (
            Method::POST,
            "/_sim/sandboxes".into(),
            Some(json_arg(preset)?),
        ),
    };
    let mut request = client.request(method, format!("{base}{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("{base}{path}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {text}"));
    }
    if let Ctl::Snapshot(SnapshotCmd::Export {
        file: Some(file), ..
    }) = &args.command
    {
        std::fs::write(file, &text).map_err(|e| format!("{}: {e}", file.display()))?;
        return Ok(format!("wrote {}", file.display()));
    }
    Ok(match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => format!("{v:#}"),
        Err(_) => text,
    })
}
