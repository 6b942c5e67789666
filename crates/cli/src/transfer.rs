//! `steward import` and `steward export`: moving incidents, service requests and problems in
//! from other tools and out again, as CSV, and CIs and their relationships in from discovery
//! tools and asset registers. The engine (row checks, writes, the export writer)
//! is `steward_server::transfer`, which the API's `POST /imports/{kind}` uses too; this is the
//! command line around it: arguments, reading the file, the dry run's and the import's
//! messages, and the progress bar.

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use steward_server::transfer::{
    CiKnown, Good, Incidents, Kind, Known, Plan, Problems, Requests, RowError, RowFailed, Written,
    check_cis, check_csv, check_relationships, export_csv, import_plans, import_rows,
};
use steward_store::{Actor, Store};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import incidents from CSV. Columns: external_id, title, description, status, impact,
    /// urgency, service (by name), category (path, e.g. "Hardware / Laptops"), source,
    /// opened_at, resolved_at, closed_at, resolution_code (times in RFC 3339). Every row is
    /// checked first; nothing is imported if any row is bad.
    Incidents(ImportArgs),
    /// Import service requests from CSV. Columns: external_id, item (catalogue item by name),
    /// title, status, requester (user e-mail), answers (JSON object), category, opened_at,
    /// fulfilled_at, closed_at. Answers are checked against the item's form, but required
    /// answers may be missing (old records). Nothing is imported if any row is bad.
    Requests(ImportArgs),
    /// Import problems from CSV. Columns: external_id, title, description, status, impact,
    /// urgency, service (by name), root_cause, workaround, category, opened_at (becomes the
    /// creation time), resolved_at, closed_at. Nothing is imported if any row is bad.
    Problems(ImportArgs),
    /// Import configuration items from CSV. Columns: external_id (required; a known one
    /// updates that CI), class (by name), name, status (planned, in_use, maintenance, retired;
    /// a change must be one the lifecycle allows), description, owner (user e-mail), team (by
    /// name), services (names separated by `;`), and attr.<name> per class attribute. On an
    /// update, columns the file lacks keep their values. Nothing is imported if any row is bad.
    Cis(ImportArgs),
    /// Import relationships between CIs from CSV. Columns: source and target (CI external
    /// ids), type (depends_on, runs_on, connects_to, contains or the tenant's own). A
    /// relationship that already exists is left alone. Nothing is imported if any row is bad.
    CiRelationships(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long)]
    tenant: String,
    /// The CSV file (with a header row); `-` reads standard input.
    #[arg(long, value_name = "PATH")]
    file: PathBuf,
    /// Check every row and report the bad ones without importing anything.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export every incident of a tenant as CSV (the import's columns plus key and priority).
    Incidents(ExportArgs),
    /// Export every service request of a tenant as CSV (the import's columns plus key).
    Requests(ExportArgs),
    /// Export every problem of a tenant as CSV (the import's columns plus key and priority).
    Problems(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    tenant: String,
    /// Where to write [default: standard output]
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

pub async fn import(store: &Store, cmd: ImportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ImportCommand::Incidents(args) => import_kind::<Incidents>(store, args).await,
        ImportCommand::Requests(args) => import_kind::<Requests>(store, args).await,
        ImportCommand::Problems(args) => import_kind::<Problems>(store, args).await,
        ImportCommand::Cis(args) => import_configuration(store, args, false).await,
        ImportCommand::CiRelationships(args) => import_configuration(store, args, true).await,
    }
}

pub async fn export(store: &Store, cmd: ExportCommand) -> anyhow::Result<()> {
    match cmd {
        ExportCommand::Incidents(args) => export_kind::<Incidents>(store, args).await,
        ExportCommand::Requests(args) => export_kind::<Requests>(store, args).await,
        ExportCommand::Problems(args) => export_kind::<Problems>(store, args).await,
    }
}

async fn import_kind<K: Kind>(store: &Store, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (tenant_id, data) = input(store, &args).await?;
    let known = Known::load(store, tenant_id).await?;
    let checked = check_csv::<K>(&data, &known, steward_store::now_micros());
    write_checked(checked, args.dry_run, async |good, on_row| {
        import_rows::<K>(store, tenant_id, good, &known, &actor(), on_row).await
    })
    .await
}

/// `import cis` (`relationships` false) and `import ci-relationships`.
async fn import_configuration(
    store: &Store,
    args: ImportArgs,
    relationships: bool,
) -> anyhow::Result<ExitCode> {
    let (tenant_id, data) = input(store, &args).await?;
    let known = CiKnown::load(store, tenant_id).await?;
    if relationships {
        let checked = check_relationships(&data, &known);
        write_plans(store, tenant_id, checked, args.dry_run).await
    } else {
        write_plans(store, tenant_id, check_cis(&data, &known), args.dry_run).await
    }
}

async fn write_plans<P: Plan>(
    store: &Store,
    tenant_id: i64,
    checked: Result<Vec<Good<P>>, Vec<RowError>>,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    write_checked(checked, dry_run, async |good, on_row| {
        import_plans(store, tenant_id, good, &actor(), on_row).await
    })
    .await
}

/// Reports a checked file's bad rows (nothing is written), or the dry run's count, or writes
/// the good rows with `write` under a progress bar and sums up what it did.
async fn write_checked<F>(
    checked: Result<Vec<Good<F>>, Vec<RowError>>,
    dry_run: bool,
    write: impl AsyncFnOnce(&[Good<F>], Box<dyn FnMut() + Send>) -> Result<Written, RowFailed>,
) -> anyhow::Result<ExitCode> {
    let good = match checked {
        Err(bad) => {
            for row in &bad {
                eprintln!("{row}");
            }
            eprintln!("{} bad row(s); nothing was imported", bad.len());
            return Ok(ExitCode::FAILURE);
        }
        Ok(good) if dry_run => {
            println!("{} row(s) valid; nothing imported (dry run)", good.len());
            return Ok(ExitCode::SUCCESS);
        }
        Ok(good) => good,
    };
    let bar = progress(good.len() as u64, "importing");
    let ticks = bar.clone();
    let written = write(&good, Box::new(move || ticks.inc(1)))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    bar.finish_and_clear();
    println!(
        "imported {} row(s): {} created, {} updated, {} unchanged",
        good.len(),
        written.created,
        written.updated,
        written.unchanged
    );
    Ok(ExitCode::SUCCESS)
}

/// An operator's tool: the journal names the import, not a user.
fn actor() -> Actor {
    Actor {
        user_id: None,
        label: "import".into(),
    }
}

/// The tenant's id and the file's bytes (`-` is standard input).
async fn input(store: &Store, args: &ImportArgs) -> anyhow::Result<(i64, Vec<u8>)> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut data = Vec::new();
    if args.file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut data)
            .context("cannot read standard input")?;
    } else {
        data = std::fs::read(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?;
    }
    Ok((tenant.id, data))
}

fn progress(len: u64, verb: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let template = format!("{verb} {{bar:40}} {{pos}}/{{len}} rows · {{per_sec}} · ETA {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

async fn export_kind<K: Kind>(store: &Store, args: ExportArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let writer: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let count = export_csv::<K>(store, tenant.id, writer).await?;
    if args.out.is_some() {
        println!("exported {count} {}(s)", K::NAME);
    }
    Ok(())
}
