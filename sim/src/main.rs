//! The `aksim` binary: parse flags, start tracing, bind, serve until SIGINT/SIGTERM.

use aksim::cli::{Cli, Command, ScenarioCommand};
use aksim::config::LogFormat;
use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli.command {
        Some(Command::Serve(config)) => config,
        Some(Command::Scenario(command)) => return scenario_command(command),
        Some(Command::Ctl(args)) => return ctl_command(args),
        Some(Command::Parity(args)) => return aksim::parity::cli::parity(args),
        Some(Command::Record(args)) => return aksim::parity::cli::record(args),
        None => cli.serve,
    };
    let filter = EnvFilter::try_from_env("AKSIM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aksim: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aksim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(config: aksim::Config) -> Result<(), String> {
    let prepared = aksim::prepare(config)?;
    let state = prepared.state;
    if let Some(path) = &state.config.state_file {
        match aksim::control::snapshot::load_file(&state, path)? {
            Some(n) => tracing::info!(path = %path.display(), subscriptions = n, "state loaded"),
            None => tracing::info!(path = %path.display(), "no state file yet; starting empty"),
        }
    }
    let listener = tokio::net::TcpListener::bind(state.config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", state.config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = state.config.scheme();
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let base = format!("{scheme}://{host}:{}", addr.port());
    let shutdown = shutdown_signal()?;
    println!("aksim listening on {base}");
    println!(
        "AKS as of {} (--azure-date; docs/aks-by-date.md){}",
        state.core.behaviour.day_string(),
        state
            .core
            .behaviour
            .catalog_override
            .as_deref()
            .map(|f| format!(", Kubernetes versions and mesh revisions from {f}"))
            .unwrap_or_default()
    );
    for note in &state.core.settings.notes {
        eprintln!("aksim: note: {note}");
    }
    match &prepared.tls {
        Some(tls) => {
            println!("CA certificate: {}", tls.ca_path.display());
            println!(
                "Point clients at it: az cloud register -n aksim --endpoint-resource-manager {base}/ \
                 && az cloud set -n aksim && az login --service-principal -u <any-guid> -p <any> \
                 --tenant {tenant} (with REQUESTS_CA_BUNDLE = system bundle + the CA above); or, \
                 env only, ARM_CLOUD_METADATA_URL={base}/metadata/endpoints?api-version=2019-05-01 \
                 plus SSL_CERT_FILE. SDKs: base_url={base}, credential_scopes=[\"https://management.core.windows.net/.default\"], \
                 ClientSecretCredential(\"adfs\", ..., authority=\"{base}\"). kubectl: the kubeconfig \
                 from `az aks get-credentials` points back here. See README.md.",
                tenant = state.core.store.tenant_id()
            );
        }
        None => {
            println!("plain HTTP (--http): az and the Azure SDKs refuse bearer tokens over http")
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tracing::info!(%addr, "ready");
    let tls = prepared.tls.map(|t| t.server_config);
    aksim::serve(listener, tls, aksim::app(state.clone()), shutdown).await;
    if let Some(path) = &state.config.state_file {
        let n = aksim::control::snapshot::save_file(&state, path)?;
        tracing::info!(path = %path.display(), subscriptions = n, "state saved");
    }
    tracing::info!("stopped");
    Ok(())
}

/// Installs the SIGINT/SIGTERM handlers now (before the ready line is printed, so a signal
/// sent right after it is never lost) and returns the future that resolves on either.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt =
            signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
        let mut terminate =
            signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {},
                _ = terminate.recv() => {},
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

fn scenario_command(command: ScenarioCommand) -> std::process::ExitCode {
    match command {
        ScenarioCommand::FromCassette { cassette, out } => {
            aksim::parity::cli::from_cassette(&cassette, &out)
        }
        ScenarioCommand::Schema => {
            println!("{:#}", aksim::scenario::model::json_schema());
            std::process::ExitCode::SUCCESS
        }
        ScenarioCommand::Validate { paths } => scenario_validate(&paths),
        ScenarioCommand::Run(args) => scenario_run(&args),
    }
}

/// `aksim scenario validate`: every file parses and passes the checks.
fn scenario_validate(paths: &[std::path::PathBuf]) -> std::process::ExitCode {
    use std::process::ExitCode;
    let files = match aksim::scenario::model::discover(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("aksim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut bad = 0;
    for file in &files {
        if let Err(e) = aksim::scenario::load(file) {
            eprintln!("{e}");
            bad += 1;
        }
    }
    println!(
        "{} files, {} valid, {bad} invalid",
        files.len(),
        files.len() - bad
    );
    if bad == 0 && !files.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `aksim scenario run`: progress on stderr (unless -q), the report on stdout, the JUnit file,
/// and the exit status of the verdict.
fn scenario_run(args: &aksim::cli::ScenarioRun) -> std::process::ExitCode {
    use aksim::scenario::Verdict;
    use std::process::ExitCode;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aksim: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = match &args.target {
        Some(url) => {
            match aksim::scenario::remote_target(url, args.ca.as_deref(), args.token.clone()) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("aksim: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        None => aksim::scenario::in_process_target(),
    };
    let options = aksim::scenario::RunOptions {
        paths: args.paths.clone(),
        filter: args.filter.clone(),
        jobs: args.jobs,
    };
    let mut done = 0usize;
    let report = runtime.block_on(aksim::scenario::run(&options, &target, |o| {
        done += 1;
        if !args.quiet {
            let mark = match o.verdict {
                Verdict::Passed => "ok",
                Verdict::Failed(_) => "FAILED",
                Verdict::Skipped(_) => "skipped",
            };
            eprintln!("[{done}] {mark:>7}  {}", o.name);
        }
    }));
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("aksim: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.render(args.quiet));
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, report.junit()) {
            eprintln!("aksim: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    match report.verdict(args.fail_on_skip) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("aksim: the run failed: {why}");
            ExitCode::FAILURE
        }
    }
}

fn ctl_command(args: aksim::ctl::CtlArgs) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("aksim: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(aksim::ctl::run(args)) {
        Ok(text) => {
            println!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aksim ctl: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
