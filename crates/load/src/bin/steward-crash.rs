//! `steward-crash`: kills a writing server with SIGKILL and checks that no acknowledged write
//! was lost and the journal still verifies. See `--help` and `steward_load::crash`.

use anyhow::Context;
use clap::Parser;
use std::process::ExitCode;
use steward_load::crash::Harness;
use steward_load::harness::{HarnessArgs, exit, run_each};

/// Runs a write load against `steward serve`, kills it with SIGKILL at a random moment,
/// restarts it and checks that every acknowledged write is there and `steward audit verify`
/// passes; once per run, on the same database. Prints one JSON line per run.
#[derive(Debug, Parser)]
#[command(name = "steward-crash", version)]
struct Options {
    #[command(flatten)]
    harness: HarnessArgs,

    /// How many kill-and-restart runs.
    #[arg(long, default_value_t = 5)]
    runs: u32,

    /// The long form: 20 runs (overrides --runs).
    #[arg(long)]
    long: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    exit("steward-crash", run(&Options::parse()).await)
}

async fn run(options: &Options) -> anyhow::Result<()> {
    let args = &options.harness;
    let seed = args.seed();
    let mut harness = Harness::prepare(&args.steward()?, &args.database_url, args.writers, seed)
        .await
        .context("preparing the database")?;
    let runs = if options.long { 20 } else { options.runs };
    run_each(runs, seed, async |run| {
        Ok(harness.run(run).await?.to_json_line())
    })
    .await
}
