//! The `aksim` command line: `serve` (the default; its flags are `config::Config`),
//! `scenario run|validate|schema` and `ctl`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

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
    /// Print only failures, skips and the summary (no progress, no table).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Fail the run when any scenario is skipped (for CI that wants every scenario run).
    #[arg(long)]
    pub fail_on_skip: bool,
}

/// The flags of `aksim` (serving) as a Markdown table — flag, environment variable, default,
/// what it does — from the same definitions clap parses; docs/user-guide.md carries it between
/// `<!-- flags:begin -->` and `<!-- flags:end -->` (a test keeps them equal).
pub fn flags_markdown() -> String {
    use clap::CommandFactory;
    let mut command = Cli::command();
    command.build();
    let mut out = String::from("| flag | env | default | what |\n|---|---|---|---|\n");
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values())
            && !matches!(arg.get_action(), clap::ArgAction::SetTrue);
        let flag = if takes_value {
            let name = arg
                .get_value_names()
                .and_then(|n| n.first())
                .map(|n| n.to_string())
                .unwrap_or_else(|| long.to_ascii_uppercase().replace('-', "_"));
            format!("`--{long} {name}`")
        } else {
            format!("`--{long}`")
        };
        let env = arg
            .get_env()
            .map(|e| format!("`{}`", e.to_string_lossy()))
            .unwrap_or_else(|| "—".to_owned());
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let default = match defaults.as_slice() {
            [] => "—".to_owned(),
            [one] if one == "false" => "off".to_owned(),
            values => format!("`{}`", values.join(",")),
        };
        let mut help = arg
            .get_long_help()
            .or_else(|| arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default()
            .replace('\n', " ")
            .replace('|', "\\|");
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| format!("`{}`", v.get_name()))
            .collect();
        if !values.is_empty() && values != ["`true`", "`false`"] {
            let values = values.join(", ");
            help = format!("{help} ({values})");
        }
        out.push_str(&format!(
            "| {flag} | {env} | {default} | {} |\n",
            help.trim()
        ));
    }
    out
}
