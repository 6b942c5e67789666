//! What the fault harnesses (`steward-crash`, `steward-nodes`) share on the command line: the
//! database, the `steward` binary, writers and seed, and running their runs in turn.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// The options every harness takes.
#[derive(Debug, Args)]
pub struct HarnessArgs {
    /// The database to write to: an empty one is best (sqlite:///tmp/crash.db or
    /// postgres://user@host/db; steward-nodes needs PostgreSQL). The runs add a tenant of
    /// their own to it.
    #[arg(long, env = "STEWARD_DATABASE_URL")]
    pub database_url: String,

    /// The `steward` binary to run. Default: the one next to this program.
    #[arg(long)]
    pub steward: Option<PathBuf>,

    /// Concurrent writers during each run.
    #[arg(long, default_value_t = 8)]
    pub writers: usize,

    /// Picks the kill moments (repeatable) and names the tenant. Default: the current time.
    #[arg(long)]
    pub seed: Option<u64>,
}

impl HarnessArgs {
    /// The `steward` binary: as given, or the one next to this program.
    pub fn steward(&self) -> anyhow::Result<PathBuf> {
        match &self.steward {
            Some(path) => Ok(path.clone()),
            None => Ok(std::env::current_exe()?
                .parent()
                .context("this program has no folder")?
                .join("steward")),
        }
    }

    /// The seed: as given, or the current time in seconds.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs())
        })
    }
}

/// Runs `one` for runs 1 to `runs`, printing the JSON line each returns; stops at the first
/// failure, naming the run and the seed that repeats it.
pub async fn run_each(
    runs: u32,
    seed: u64,
    mut one: impl AsyncFnMut(u32) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    for run in 1..=runs {
        let line = one(run)
            .await
            .with_context(|| format!("run {run} of {runs} (seed {seed})"))?;
        println!("{line}");
    }
    Ok(())
}

/// The exit status of a harness: 0, or 1 with the failure on stderr.
pub fn exit(program: &str, outcome: anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e:#}");
            ExitCode::from(1)
        }
    }
}
