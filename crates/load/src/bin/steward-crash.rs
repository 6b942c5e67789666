//! `steward-crash`: kills a writing server with SIGKILL and checks that no acknowledged write
//! was lost and the journal still verifies. See `--help` and `steward_load::crash`.

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use steward_load::crash::Harness;

/// Runs a write load against `steward serve`, kills it with SIGKILL at a random moment,
/// restarts it and checks that every acknowledged write is there and `steward audit verify`
/// passes; once per run, on the same database. Prints one JSON line per run.
#[derive(Debug, Parser)]
#[command(name = "steward-crash", version)]
struct Options {
    /// The database to write to: an empty one is best (sqlite:///tmp/crash.db or
    /// postgres://user@host/db). The runs add a tenant of their own to it.
    #[arg(long, env = "STEWARD_DATABASE_URL")]
    database_url: String,

    /// The `steward` binary to run. Default: the one next to this program.
    #[arg(long)]
    steward: Option<PathBuf>,

    /// How many kill-and-restart runs.
    #[arg(long, default_value_t = 5)]
    runs: u32,

    /// The long form: 20 runs (overrides --runs).
    #[arg(long)]
    long: bool,

    /// Concurrent writers during each run.
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
            eprintln!("steward-crash: {e:#}");
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
    let runs = if options.long { 20 } else { options.runs };
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
