//! `squeezeflow`: the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use squeezeflow_model::report::Report;
use squeezeflow_model::{Network, NetworkConfig};

#[derive(Parser)]
#[command(
    name = "squeezeflow",
    version,
    about = "SqueezeNet-family networks as streaming int8 FPGA accelerators"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which network: a preset, a TOML file, or the built-in default.
#[derive(Args, Clone, Debug)]
struct NetworkArgs {
    /// A built-in preset: squeezenet1_0 or squeezenet1_1 (the default).
    #[arg(long, conflicts_with = "config")]
    preset: Option<String>,
    /// A network description in TOML (a preset plus overrides; see README).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override the input size (square).
    #[arg(long)]
    input_size: Option<usize>,
}

impl NetworkArgs {
    fn resolve(&self) -> Result<NetworkConfig> {
        let mut cfg = match (&self.preset, &self.config) {
            (_, Some(path)) => NetworkConfig::from_toml_file(path)?,
            (Some(p), None) => NetworkConfig::preset(p)?,
            (None, None) => NetworkConfig::squeezenet1_1(),
        };
        if let Some(n) = self.input_size {
            cfg.input_size = n;
        }
        Network::new(&cfg).context("checking the network")?;
        Ok(cfg)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Per-layer shapes, parameters, MACs and int8 bytes of a network.
    Info {
        #[command(flatten)]
        net: NetworkArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info { net, json } => {
            let cfg = net.resolve()?;
            let report = Report::new(&Network::new(&cfg)?);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_table());
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("squeezeflow: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
