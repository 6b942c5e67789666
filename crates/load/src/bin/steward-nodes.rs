//! `steward-nodes`: two `steward serve` nodes on one PostgreSQL database; kills one mid-run
//! and checks that every SLA timer and notification job ran exactly once. See `--help` and `steward_load::nodes`.

use anyhow::Context;
use clap::Parser;
use std::process::ExitCode;
use steward_load::harness::{HarnessArgs, exit, run_each};
use steward_load::nodes::Harness;

/// Starts two `steward serve` nodes on one PostgreSQL database, opens incidents on both whose
/// SLA timers are due at once and whose requester is notified by mail, kills one node with
/// SIGKILL mid-run and checks, on the other, that every timer was acted on exactly once, every
/// notification reached the harness's mail sink without duplicates (but for the one the killed
/// node may have had in flight), and `steward audit verify` passes. Prints one JSON line per
/// run. Writers are split half on each node.
#[derive(Debug, Parser)]
#[command(name = "steward-nodes", version)]
struct Options {
    #[command(flatten)]
    harness: HarnessArgs,

    /// How many runs (each starts both nodes again).
    #[arg(long, default_value_t = 1)]
    runs: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    exit("steward-nodes", run(&Options::parse()).await)
}

async fn run(options: &Options) -> anyhow::Result<()> {
    let args = &options.harness;
    let seed = args.seed();
    let mut harness = Harness::prepare(&args.steward()?, &args.database_url, args.writers, seed)
        .await
        .context("preparing the database")?;
    run_each(options.runs, seed, async |run| {
        Ok(harness.run(run).await?.to_json_line())
    })
    .await
}
