//! `aksim ctl`: the control API from the command line. Each subcommand is one `/_sim` call;
//! the answer is printed as JSON. Anything else exits non-zero with a message that names the
//! fix (`explain.rs`): nothing listening, a certificate not trusted (and where the CA was looked
//! for), http against https and the other way round, or the server's refusal (status, ARM code
//! and message).

mod explain;

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Clone, clap::Args)]
pub struct CtlArgs {
    /// Base URL of the running aksim.
    #[arg(long, env = "AKSIM_URL", default_value = "https://127.0.0.1:8443")]
    pub url: String,
    /// CA certificate to trust (default: `ca.pem` in --tls-dir).
    #[arg(long, env = "AKSIM_CA")]
    pub ca: Option<PathBuf>,
    /// aksim's TLS directory, where its `ca.pem` is (default: as `aksim --tls-dir`,
    /// `$XDG_DATA_HOME/aksim/tls` or `~/.local/share/aksim/tls`).
    #[arg(long, env = "AKSIM_TLS_DIR")]
    pub tls_dir: Option<PathBuf>,
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
    /// Virtual seconds per operation kind: show, or set KIND=SECONDS... (replacing the table:
    /// kinds left out take `default`), or change only those named with --merge.
    Durations {
        set: Vec<String>,
        #[arg(long, requires = "set")]
        merge: bool,
    },
    /// How long feature/provider registrations take: show, or set with --delay SECONDS.
    Registration {
        #[arg(long)]
        delay: Option<f64>,
    },
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
    /// The day whose AKS a subscription sees: show, move it to DAY (YYYY-MM-DD), or back to
    /// the server's with --clear.
    AzureDate {
        #[arg(long)]
        subscription: String,
        #[arg(conflicts_with = "clear")]
        day: Option<String>,
        #[arg(long)]
        clear: bool,
    },
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
    /// Resize the ring (0 turns the journal off).
    Config {
        capacity: usize,
    },
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

/// A request body.
enum Payload {
    None,
    Json(serde_json::Value),
    /// A file's bytes, sent as they are (`snapshot import`: no re-encoding of a large file).
    Raw(Vec<u8>),
}

/// The method and path (with query) a command calls, e.g. `("PATCH",
/// "/_sim/operations/durations")` (docs/control-api.md lists them side by side).
pub fn call_of(command: &Ctl) -> Result<(String, String), String> {
    request_for(command).map(|(method, path, _)| (method.to_string(), path))
}

/// The `/_sim` call of a command.
fn request_for(command: &Ctl) -> Result<(reqwest::Method, String, Payload), String> {
    use reqwest::Method;
    let json = |v: serde_json::Value| Payload::Json(v);
    Ok(match command {
        Ctl::Health => (Method::GET, "/_sim/health".into(), Payload::None),
        Ctl::Info => (Method::GET, "/_sim/info".into(), Payload::None),
        Ctl::Reset { subscription: None } => (Method::POST, "/_sim/reset".into(), Payload::None),
        Ctl::Reset {
            subscription: Some(s),
        } => (Method::POST, format!("/_sim/reset/{s}"), Payload::None),
        Ctl::Seed { seed } => (
            Method::POST,
            "/_sim/seed".into(),
            json(serde_json::json!({ "seed": seed })),
        ),
        Ctl::Clock(clock) => clock_request(clock),
        Ctl::Durations { set, .. } if set.is_empty() => (
            Method::GET,
            "/_sim/operations/durations".into(),
            Payload::None,
        ),
        Ctl::Durations { set, merge } => {
            let mut map = serde_json::Map::new();
            for item in set {
                let (k, v) = item
                    .split_once('=')
                    .ok_or_else(|| format!("'{item}' is not KIND=SECONDS"))?;
                let secs: f64 = v.parse().map_err(|_| format!("'{v}' is not a number"))?;
                map.insert(k.to_owned(), secs.into());
            }
            let method = if *merge { Method::PATCH } else { Method::PUT };
            (
                method,
                "/_sim/operations/durations".into(),
                json(serde_json::Value::Object(map)),
            )
        }
        Ctl::Registration { delay: None } => {
            (Method::GET, "/_sim/registration".into(), Payload::None)
        }
        Ctl::Registration { delay: Some(d) } => (
            Method::PUT,
            "/_sim/registration".into(),
            json(serde_json::json!({ "delaySeconds": d })),
        ),
        Ctl::Scripts { clear: true, .. } => (
            Method::DELETE,
            "/_sim/operations/scripts".into(),
            Payload::None,
        ),
        Ctl::Scripts { set: Some(s), .. } => (
            Method::PUT,
            "/_sim/operations/scripts".into(),
            json(json_arg(s)?),
        ),
        Ctl::Scripts { .. } => (
            Method::GET,
            "/_sim/operations/scripts".into(),
            Payload::None,
        ),
        Ctl::Faults(FaultsCmd::List) => (Method::GET, "/_sim/faults".into(), Payload::None),
        Ctl::Faults(FaultsCmd::Add { rule }) => {
            (Method::POST, "/_sim/faults".into(), json(json_arg(rule)?))
        }
        Ctl::Faults(FaultsCmd::Remove { id }) => {
            (Method::DELETE, format!("/_sim/faults/{id}"), Payload::None)
        }
        Ctl::Faults(FaultsCmd::Clear) => (Method::DELETE, "/_sim/faults".into(), Payload::None),
        Ctl::Journal(journal) => journal_request(journal)?,
        Ctl::Snapshot(SnapshotCmd::Export { subscription, .. }) => match subscription {
            Some(s) => (Method::GET, format!("/_sim/snapshot/{s}"), Payload::None),
            None => (Method::GET, "/_sim/snapshot".into(), Payload::None),
        },
        Ctl::Snapshot(SnapshotCmd::Import { file, subscription }) => {
            let limit = crate::limits::SNAPSHOT_IMPORT_MAX_BYTES;
            let size = std::fs::metadata(file)
                .map_err(|e| format!("{}: {e}", file.display()))?
                .len();
            if size > limit as u64 {
                return Err(format!(
                    "{} is {size} bytes; aksim imports snapshots up to {limit} bytes \
                     (SNAPSHOT_IMPORT_MAX_BYTES, docs/limits.md)",
                    file.display()
                ));
            }
            let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let path = match subscription {
                Some(s) => format!("/_sim/snapshot/{s}"),
                None => "/_sim/snapshot".into(),
            };
            (Method::PUT, path, Payload::Raw(bytes))
        }
        Ctl::Sandbox { preset } => (
            Method::POST,
            "/_sim/sandboxes".into(),
            json(json_arg(preset)?),
        ),
        Ctl::AzureDate {
            subscription,
            day,
            clear,
        } => {
            let path = format!("/_sim/azure-date/{subscription}");
            match (day, clear) {
                (Some(day), _) => (
                    Method::PUT,
                    path,
                    json(serde_json::json!({ "azureDate": day })),
                ),
                (None, true) => (
                    Method::PUT,
                    path,
                    json(serde_json::json!({ "azureDate": null })),
                ),
                (None, false) => (Method::GET, path, Payload::None),
            }
        }
    })
}

fn clock_request(clock: &ClockCmd) -> (reqwest::Method, String, Payload) {
    use reqwest::Method;
    match clock {
        ClockCmd::Show => (Method::GET, "/_sim/clock".into(), Payload::None),
        ClockCmd::Advance { seconds } => (
            Method::POST,
            "/_sim/clock/advance".into(),
            Payload::Json(serde_json::json!({ "seconds": seconds })),
        ),
        ClockCmd::Freeze => (Method::POST, "/_sim/clock/freeze".into(), Payload::None),
        ClockCmd::Unfreeze => (Method::POST, "/_sim/clock/unfreeze".into(), Payload::None),
        ClockCmd::Scale { factor } => (
            Method::POST,
            "/_sim/clock/scale".into(),
            Payload::Json(serde_json::json!({ "factor": factor })),
        ),
    }
}

fn journal_request(journal: &JournalCmd) -> Result<(reqwest::Method, String, Payload), String> {
    use reqwest::Method;
    Ok(match journal {
        JournalCmd::Show { filters } => (
            Method::GET,
            format!("/_sim/journal{}", query(filters)?),
            Payload::None,
        ),
        JournalCmd::Export { filters } => (
            Method::GET,
            format!("/_sim/journal.jsonl{}", query(filters)?),
            Payload::None,
        ),
        JournalCmd::Verify { expectation } => (
            Method::POST,
            "/_sim/journal/verify".into(),
            Payload::Json(json_arg(expectation)?),
        ),
        JournalCmd::Clear => (Method::DELETE, "/_sim/journal".into(), Payload::None),
        JournalCmd::Config { capacity } => (
            Method::PUT,
            "/_sim/journal/config".into(),
            Payload::Json(serde_json::json!({ "capacity": capacity })),
        ),
    })
}

/// Where `ctl` looks for aksim's CA, in order: `--ca` / `AKSIM_CA`, then `ca.pem` in
/// `--tls-dir` / `AKSIM_TLS_DIR`, else in the default TLS directory.
pub fn ca_candidates(args: &CtlArgs) -> Vec<PathBuf> {
    if let Some(ca) = &args.ca {
        return vec![ca.clone()];
    }
    let dir = args
        .tls_dir
        .clone()
        .unwrap_or_else(|| crate::config::Config::default().tls_dir());
    vec![dir.join(crate::tls::CA_FILE)]
}

/// A client trusting aksim's CA (the first candidate that exists), and the places looked at.
fn client(args: &CtlArgs) -> Result<(reqwest::Client, Vec<PathBuf>), String> {
    let candidates = ca_candidates(args);
    let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60));
    if let Some(ca) = candidates.iter().find(|c| c.exists()) {
        let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(&pem)
                .map_err(|e| format!("{}: not a PEM certificate: {e}", ca.display()))?,
        );
    } else if args.ca.is_some() {
        let ca = &candidates[0];
        return Err(format!("--ca {}: no such file", ca.display()));
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    Ok((client, candidates))
}

/// Runs one `ctl` command; the text to print, or the error (naming the fix).
pub async fn run(args: CtlArgs) -> Result<String, String> {
    let (client, looked) = client(&args)?;
    let base = args.url.trim_end_matches('/').to_owned();
    let (method, path, payload) = request_for(&args.command)?;
    let url = format!("{base}{path}");
    let mut request = client.request(method, &url);
    match payload {
        Payload::None => {}
        Payload::Json(body) => request = request.json(&body),
        Payload::Raw(bytes) => {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes)
        }
    }
    let response = request
        .send()
        .await
        .map_err(|e| explain::transport(&e, &base, &looked))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| explain::transport(&e, &base, &looked))?;
    if !status.is_success() {
        return Err(explain::refusal(status, &text, &base));
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
