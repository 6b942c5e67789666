//! `steward`: the one binary. Serves the web UI and API, and administers the database.

mod audit;
mod bench;
mod commands;
mod config;
mod demo;
mod evidence;
mod mail;
mod sla;
mod transfer;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Steward: IT service management for ISO/IEC 20000-1, with an audit trail you can prove.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Database to use: sqlite://PATH or postgres://USER@HOST/DB
    /// [default: sqlite://./steward-data/steward.db]
    #[arg(long, global = true, env = "STEWARD_DATABASE_URL", value_name = "URL")]
    database: Option<String>,

    /// Configuration file (TOML); settings there yield to flags and STEWARD_* variables.
    #[arg(
        long,
        global = true,
        env = "STEWARD_CONFIG",
        value_name = "PATH",
        default_value = "steward.toml"
    )]
    config: std::path::PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database, or bring its schema up to date (safe to run again).
    Init,
    /// Run the web server: UI, REST API, health and metrics, and the job runner.
    Serve(commands::ServeArgs),
    /// Fill a demo database with a realistic organisation and serve it: the quickest way to look around.
    Demo(commands::ServeArgs),
    /// Manage tenants (separate organisations in one installation).
    #[command(subcommand)]
    Tenant(commands::TenantCommand),
    /// Manage users.
    #[command(subcommand)]
    User(commands::UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(commands::TokenCommand),
    /// Check the audit journal, or sample a clause's evidence for an audit.
    #[command(subcommand)]
    Audit(commands::AuditCommand),
    /// Write the signed evidence pack for an auditor (every clause's status, evidence and
    /// samples, with a manifest of SHA-256 hashes signed with the organisation's key), or check
    /// one offline with `evidence-pack verify DIR`.
    EvidencePack(evidence::EvidencePackArgs),
    /// Generate benchmark data and time the service desk's queries (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Import records from CSV, e.g. when moving from another tool (with a progress bar).
    #[command(subcommand)]
    Import(transfer::ImportCommand),
    /// Export records as CSV.
    #[command(subcommand)]
    Export(transfer::ExportCommand),
    /// Back up the whole database to one file, online: the server keeps serving, and the file
    /// is one consistent snapshot.
    ///
    /// The backup is taken inside one read-only snapshot (REPEATABLE READ on PostgreSQL, a read
    /// transaction on SQLite's WAL), so it is consistent even while the server writes, and
    /// there is no need to stop it. The file is portable JSON lines: it restores into SQLite or
    /// PostgreSQL alike with `steward restore`. It is written to FILE.tmp and renamed to FILE
    /// once complete.
    Backup(commands::BackupArgs),
    /// Restore a backup into an empty database of either backend (a new one, or one just
    /// created with `steward init`).
    ///
    /// The target is the database named by --database / STEWARD_DATABASE_URL; it may use the
    /// other backend than the one backed up (SQLite to PostgreSQL and back). It must hold no
    /// data: a restore never merges. The backup must come from the same Steward schema
    /// version. Everything is loaded in one transaction, so a damaged or truncated file leaves
    /// the database empty. Search entries are rebuilt; check the result with `steward audit
    /// verify`.
    Restore(commands::RestoreArgs),
    /// Service level management: recompute clocks after an agreement or calendar changed.
    #[command(subcommand)]
    Sla(sla::SlaCommand),
    /// Take one e-mail from standard input: a new message opens an incident, a reply adds to it.
    MailIn(mail::MailInArgs),
    /// Check a signed statement from a certificate's public verification page offline,
    /// against the published keys: says valid, or invalid and why (wrong key, altered).
    VerifyStatement(verify::VerifyStatementArgs),
}

fn main() -> ExitCode {
    // A panic is a bug, but the person at the terminal still gets one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("steward: internal error: {info}");
    }));
    let cli = Cli::parse();
    // Logs go to stderr so that stdout stays for results; STEWARD_LOG picks the level.
    let filter = tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}
