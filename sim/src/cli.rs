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
