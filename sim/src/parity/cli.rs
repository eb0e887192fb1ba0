//! The `aksim parity` and `aksim record` subcommands: flags, and what runs them (the binary's
//! `main` only dispatches here).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::parity::{report, Options, Rules};

/// `aksim parity CASSETTE...`: replay recorded traffic and compare every answer.
#[derive(Debug, Clone, clap::Args)]
pub struct ParityArgs {
    /// Cassette files or folders (searched for *.yaml, *.yml).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Replay against this aksim (or ARM-compatible) base URL instead of a fresh in-process
    /// aksim per cassette. An aksim target gets a sandbox subscription per cassette (reset
    /// afterwards); its clock is frozen and moved during the run.
    #[arg(long, env = "AKSIM_PARITY_TARGET")]
    pub target: Option<String>,
    /// CA certificate(s) (PEM) to trust for --target.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Bearer token for --target (default: any string, which aksim's `--auth any` accepts).
    #[arg(long, env = "AKSIM_PARITY_TOKEN")]
    pub token: Option<String>,
    /// Normalisation rules replacing the built-in ones (`data/parity-normalise.json` shape).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Accepted differences (YAML): each entry names its deviation in docs/deviations.md.
    #[arg(long)]
    pub ignore: Option<PathBuf>,
    /// The deviations document the --ignore entries must name (default: docs/deviations.md
    /// when it exists).
    #[arg(long)]
    pub deviations: Option<PathBuf>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Compare with this baseline (equal exchanges per cassette): the exit status is then 1
    /// only when a cassette's count went down.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Write this run's counts as the new baseline.
    #[arg(long)]
    pub write_baseline: Option<PathBuf>,
    /// Print every difference of every exchange, not only each cassette's first.
    #[arg(long)]
    pub details: bool,
    /// Print the new differences grouped by category, endpoint and body path.
    #[arg(long)]
    pub summary: bool,
    /// Cassettes replayed at once (in-process).
    #[arg(long, short = 'j', default_value_t = 4)]
    pub jobs: usize,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Builds the options of `aksim parity`.
pub fn options(args: &ParityArgs) -> Result<Options, String> {
    let rules = match &args.rules {
        Some(path) => Rules::load(path)?,
        None => Rules::embedded(),
    };
    let deviations_path = args.deviations.clone().or_else(|| {
        let default = PathBuf::from("docs/deviations.md");
        default.exists().then_some(default)
    });
    let deviations = deviations_path
        .as_ref()
        .map(|p| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display())))
        .transpose()?;
    let ignore = args
        .ignore
        .as_ref()
        .map(|p| report::Ignore::load(p, deviations.as_deref()))
        .transpose()?;
    let target = match &args.target {
        Some(url) => crate::parity::target::remote(url, args.ca.as_deref(), args.token.clone())?,
        None => crate::parity::target::in_process(),
    };
    Ok(Options {
        paths: args.paths.clone(),
        target,
        rules: Arc::new(rules),
        ignore: ignore.map(Arc::new),
        jobs: args.jobs,
    })
}

/// Runs `aksim parity`: 0 when every exchange is equal (accepted differences aside) — or,
/// with `--baseline`, when no cassette fell below it; 1 otherwise; 2 when it could not run.
pub fn parity(args: ParityArgs) -> ExitCode {
    let options = match options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("aksim parity: {e}");
            return ExitCode::from(2);
        }
    };
    let baseline = match args
        .baseline
        .as_deref()
        .map(report::Baseline::load)
        .transpose()
    {
        Ok(b) => b,
        Err(e) => {
            eprintln!("aksim parity: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match runtime().and_then(|rt| rt.block_on(crate::parity::run(&options))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("aksim parity: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", report.render(args.details));
    if args.summary {
        print!("{}", report.render_summary());
    }
    let mut writes = Vec::new();
    if let Some(path) = &args.junit {
        writes.push((path, report.junit()));
    }
    if let Some(path) = &args.json {
        writes.push((path, format!("{:#}\n", report.json())));
    }
    if let Some(path) = &args.write_baseline {
        let text = serde_json::to_string_pretty(&report.baseline()).unwrap_or_default();
        writes.push((path, format!("{text}\n")));
    }
    for (path, text) in writes {
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("aksim parity: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.cassettes.is_empty() && report.invalid.is_empty() {
        eprintln!("aksim parity: no cassettes found");
        return ExitCode::from(2);
    }
    if let Some(baseline) = &baseline {
        let regressions = report.regressions(baseline);
        for r in &regressions {
            eprintln!("below the baseline: {r}");
        }
        return if regressions.is_empty() && report.invalid.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `aksim record --upstream URL --out DIR`: a recording proxy.
#[derive(Debug, Clone, clap::Args)]
pub struct RecordArgs {
    /// Where requests go: real ARM (`https://management.azure.com`) or another aksim.
    #[arg(long, env = "AKSIM_RECORD_UPSTREAM")]
    pub upstream: String,
    /// Folder the cassette is written to (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// The cassette's file name without `.yaml` (default: `recording-<UTC time>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Address the proxy listens on; `127.0.0.1:0` picks a free port.
    #[arg(long, default_value = "127.0.0.1:8444")]
    pub addr: std::net::SocketAddr,
    /// The TLS directory of aksim's local CA (the proxy serves HTTPS with a certificate from
    /// it, so clients that trust aksim trust the proxy). Default: aksim's.
    #[arg(long, env = "AKSIM_TLS_DIR")]
    pub tls_dir: Option<PathBuf>,
    /// Extra DNS names for the proxy's certificate.
    #[arg(long = "hostname", value_delimiter = ',')]
    pub hostnames: Vec<String>,
    /// Certificates (PEM) to trust for the upstream, in addition to the system bundle and
    /// aksim's CA in --tls-dir.
    #[arg(long)]
    pub upstream_ca: Option<PathBuf>,
    /// Write what went over the wire, secrets and subscription ids included (never share
    /// such a cassette).
    #[arg(long)]
    pub no_sanitise: bool,
}

/// The system CA bundle, where the machine keeps one.
fn system_bundle() -> Vec<u8> {
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ]
    .iter()
    .find_map(|p| std::fs::read(p).ok())
    .unwrap_or_default()
}

/// Runs `aksim record` until SIGINT/SIGTERM.
pub fn record(args: RecordArgs) -> ExitCode {
    match runtime().and_then(|rt| rt.block_on(run_record(args))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aksim record: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_record(args: RecordArgs) -> Result<(), String> {
    let config = crate::config::Config {
        tls_dir: args.tls_dir.clone(),
        ..crate::config::Config::default()
    };
    let tls_dir = config.tls_dir();
    let tls = crate::tls::load_or_create(&tls_dir, &args.hostnames)?;
    let mut upstream_ca = system_bundle();
    upstream_ca.extend_from_slice(tls.ca_pem.as_bytes());
    if let Some(path) = &args.upstream_ca {
        let extra = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        upstream_ca.push(b'\n');
        upstream_ca.extend_from_slice(&extra);
    }
    let name = args.name.clone().unwrap_or_else(|| {
        let now = time::OffsetDateTime::now_utc();
        format!(
            "recording-{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        )
    });
    let out = args.out.join(format!("{name}.yaml"));
    let sanitise = (!args.no_sanitise).then(|| Rules::embedded().sanitise);
    let recorder = crate::parity::record::Recorder::new(crate::parity::record::RecordOptions {
        upstream: args.upstream.clone(),
        upstream_ca,
        out,
        sanitise,
    })?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("aksim record listening on https://{addr}");
    println!("CA certificate: {}", tls.ca_path.display());
    println!(
        "forwarding to {}; writing {}",
        args.upstream,
        recorder.path().display()
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let shutdown = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            if let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
                return;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
    };
    crate::parity::record::serve(
        listener,
        Some(tls.server_config),
        recorder.clone(),
        shutdown,
    )
    .await;
    eprintln!(
        "aksim record: {} interactions in {}",
        recorder.count(),
        recorder.path().display()
    );
    Ok(())
}

/// `aksim scenario from-cassette CASSETTE -o FILE`.
pub fn from_cassette(cassette: &std::path::Path, out: &std::path::Path) -> ExitCode {
    let result = crate::parity::cassette::load(cassette)
        .and_then(|c| crate::parity::to_scenario::from_cassette(&c, &Rules::embedded()))
        .and_then(|s| {
            let text = yaml_serde::to_string(&s).map_err(|e| e.to_string())?;
            crate::scenario::model::parse(&text, false)
                .map_err(|e| format!("the converted scenario does not validate:{e}"))?;
            let header = format!(
                "# Converted from {} by `aksim scenario from-cassette` (docs/parity.md).\n",
                cassette.display()
            );
            std::fs::write(out, format!("{header}{text}"))
                .map_err(|e| format!("{}: {e}", out.display()))?;
            Ok(s.steps.len())
        });
    match result {
        Ok(steps) => {
            println!("{}: {steps} steps", out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aksim scenario from-cassette: {e}");
            ExitCode::FAILURE
        }
    }
}
