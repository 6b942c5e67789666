//! `steward-nodes`: two `steward serve` nodes on one PostgreSQL database; kills one mid-run
//! and checks that every SLA timer ran exactly once. See `--help` and `steward_load::nodes`.

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use steward_load::nodes::Harness;

/// Starts two `steward serve` nodes on one PostgreSQL database, opens incidents on both whose
/// SLA timers are due at once, kills one node with SIGKILL mid-run and checks, on the other,
/// that every timer was acted on exactly once and `steward audit verify` passes. Prints one
/// JSON line per run.
#[derive(Debug, Parser)]
#[command(name = "steward-nodes", version)]
struct Options {
    /// The PostgreSQL database both nodes share (postgres://user@host/db); an empty one is
    /// best. The runs add a tenant of their own to it.
    #[arg(long, env = "STEWARD_DATABASE_URL")]
    database_url: String,

    /// The `steward` binary to run. Default: the one next to this program.
    #[arg(long)]
    steward: Option<PathBuf>,

    /// How many runs (each starts both nodes again).
    #[arg(long, default_value_t = 1)]
    runs: u32,

    /// Concurrent writers, half on each node.
    #[arg(long, default_value_t = 8)]
    writers: usize,

    /// Picks the kill moments (repeatable) and names the tenant. Default: the current time.
    #[arg(long)]
    seed: Option<u64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    match run(&options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("steward-nodes: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(options: &Options) -> anyhow::Result<()> {
    let steward = match &options.steward {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this program has no folder")?
            .join("steward"),
    };
    let seed = options.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    });
    let runs = options.runs;
    let mut harness = Harness::prepare(&steward, &options.database_url, options.writers, seed)
        .await
        .context("preparing the database")?;
    for run in 1..=runs {
        let report = harness
            .run(run)
            .await
            .with_context(|| format!("run {run} of {runs} (seed {seed})"))?;
        println!("{}", report.to_json_line());
    }
    Ok(())
}
