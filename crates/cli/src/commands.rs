//! What each subcommand does.

use crate::config::{DEFAULT_DATABASE, DEFAULT_LISTEN, FileConfig};
use crate::{Cli, Command};
use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use steward_domain::access::Role;
use steward_domain::tenant::new_tenant;
use steward_domain::user::{UserDraft, check_password, name_from_email};
use steward_server::{AppState, ServerConfig, auth};
use steward_store::{Actor, Store, StoreError};
use tokio::sync::watch;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "STEWARD_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
    /// Do not run the job runner in this process (for nodes that only serve requests).
    #[arg(long)]
    no_jobs: bool,
    /// How long a job this node claims stays its own; after that another node may run it
    /// (so a job held by a node that died is retried once its lease expires).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    job_lease: u64,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write (replaced if it exists, only once the backup is complete).
    #[arg(long, value_name = "FILE")]
    out: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `steward backup`.
    #[arg(value_name = "FILE")]
    file: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its slug, which other commands take as --tenant.
    Create {
        /// The organisation's name, e.g. "Acme IT".
        #[arg(long)]
        name: String,
    },
    /// List tenants.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user in a tenant.
    Create {
        /// The tenant's slug.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// admin, manager, agent, auditor (read-only, including the journal) or requester (self-service).
        #[arg(long)]
        role: String,
        /// Display name [default: made from the e-mail address]
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input (otherwise the user cannot sign in until one is set).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password, read from the first line of standard input.
    Password {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
    },
    /// List a tenant's users.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; the token is printed once, as the last line.
    Create {
        #[arg(long)]
        tenant: String,
        /// The user the token acts as.
        #[arg(long)]
        email: String,
        /// What the token is for [default: cli]
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List a tenant's tokens (never the secrets).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a token by its id (see `token list`).
    Revoke {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every tenant's journal hash chain; exit 1 naming the first broken entry.
    Verify,
    /// Draw a reproducible sample of the records that serve as evidence for a clause: the
    /// same seed, period and data always give the same records.
    Sample(crate::audit::SampleArgs),
}

struct Ctx {
    file: FileConfig,
    database: String,
}

impl Ctx {
    async fn store(&self) -> anyhow::Result<Store> {
        open(&self.database).await
    }
}

pub(crate) async fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url)
        .await
        .map_err(|e| anyhow!("{}: {e}", steward_store::redact_url(url)))
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Offline: needs neither configuration nor a database.
    if let Command::VerifyStatement(args) = cli.command {
        return crate::verify::run(args);
    }
    let file = FileConfig::load(&cli.config)?;
    let database = cli
        .database
        .clone()
        .or_else(|| file.database_url.clone())
        .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
    let ctx = Ctx { file, database };
    match cli.command {
        Command::Init => {
            ctx.store().await?;
            println!(
                "database ready: {}",
                steward_store::redact_url(&ctx.database)
            );
        }
        Command::Serve(args) => serve(&ctx, args, None).await?,
        Command::Demo(args) => {
            let url = if ctx.database == DEFAULT_DATABASE
                && std::env::var_os("STEWARD_DATABASE_URL").is_none()
            {
                "sqlite://./steward-data/demo.db".to_owned()
            } else {
                ctx.database.clone()
            };
            let store = open(&url).await?;
            let logins = crate::demo::seed(&store).await?;
            let ctx = Ctx {
                database: url,
                ..ctx
            };
            serve(&ctx, args, Some(logins)).await?;
        }
        Command::Tenant(cmd) => tenant(&ctx.store().await?, cmd).await?,
        Command::User(cmd) => user(&ctx.store().await?, cmd).await?,
        Command::Token(cmd) => token(&ctx.store().await?, cmd).await?,
        Command::Audit(AuditCommand::Verify) => return audit_verify(&ctx.store().await?).await,
        Command::EvidencePack(args) => return crate::evidence::run(&ctx.database, args).await,
        Command::Audit(AuditCommand::Sample(args)) => {
            crate::audit::sample_records(&ctx.store().await?, args).await?
        }
        Command::Bench(cmd) => crate::bench::run(&ctx.store().await?, cmd).await?,
        Command::Import(cmd) => return crate::transfer::import(&ctx.store().await?, cmd).await,
        Command::Export(cmd) => crate::transfer::export(&ctx.store().await?, cmd).await?,
        Command::MailIn(args) => return crate::mail::mail_in(&ctx.database, args).await,
        Command::Sla(cmd) => crate::sla::run(&ctx.store().await?, cmd).await?,
        Command::Backup(args) => backup(&ctx.store().await?, args).await?,
        Command::Restore(args) => restore(&ctx.store().await?, args).await?,
        Command::VerifyStatement(args) => return crate::verify::run(args),
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(ctx: &Ctx, args: ServeArgs, demo_logins: Option<String>) -> anyhow::Result<()> {
    let store = ctx.store().await?;
    let listen = args
        .listen
        .or_else(|| ctx.file.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let config: ServerConfig = ctx.file.server();
    let state = AppState::new(store.clone(), config);
    let (stop_tx, stop_rx) = watch::channel(false);
    let runner = (!args.no_jobs && ctx.file.jobs != Some(false)).then(|| {
        let worker = format!("{}-{}", hostname(), std::process::id());
        let lease = std::time::Duration::from_secs(args.job_lease);
        tokio::spawn(
            steward_server::jobs::Runner::new(store.clone(), worker)
                .lease(lease)
                .run(stop_rx.clone()),
        )
    });
    tokio::spawn(warm_graphs(store.clone()));
    let shutdown = shutdown_signal()?;
    // Whoever started us may stop reading stdout at any time: never let that stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on http://{addr}");
    if let Some(logins) = demo_logins {
        let _ = writeln!(out, "{logins}");
    }
    let _ = out.flush();
    tracing::info!(%addr, backend = store.backend().name(), "serving");
    steward_server::serve(listener, state, shutdown)
        .await
        .context("server failed")?;
    let _ = stop_tx.send(true);
    if let Some(runner) = runner {
        let _ = runner.await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Reads the CMDB graphs in the background while the node already serves.
async fn warm_graphs(store: steward_store::Store) {
    let started = std::time::Instant::now();
    match store.warm_graphs().await {
        Ok(tenants) => tracing::info!(
            tenants,
            ms = started.elapsed().as_millis() as u64,
            "CMDB graphs read"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "CMDB graphs not read ahead; the first question reads them")
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "node".into())
}

/// Registers SIGINT and SIGTERM handlers now (before the address is announced, so a signal
/// sent right after never meets the default handler) and resolves when either arrives;
/// in-flight requests then finish before the process exits.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Turns a store error into one readable line, with field messages for invalid input.
fn explain(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid(invalid) => anyhow!(
            invalid
                .errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow!(other),
    }
}

async fn tenant(store: &Store, cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create { name } => {
            let new = new_tenant(&name).map_err(|e| explain(e.into()))?;
            let tenant = store
                .create_tenant(&new, &Actor::cli())
                .await
                .map_err(explain)?;
            println!("created tenant {} ({})", tenant.name, tenant.id);
            println!("{}", tenant.slug);
        }
        TenantCommand::List => {
            for t in store.tenants().await? {
                println!("{}\t{}", t.slug, t.name);
            }
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    check_password("password", &password).map_err(|e| explain(e.into()))?;
    Ok(password)
}

async fn user(store: &Store, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Create {
            tenant,
            email,
            role,
            name,
            password_stdin,
        } => {
            let tenant = store.require_tenant(&tenant).await.map_err(explain)?;
            let role: Role = role.parse()?;
            let name = name.unwrap_or_else(|| name_from_email(email.trim()));
            let draft = UserDraft {
                email,
                name,
                role,
                active: true,
            }
            .validate()
            .map_err(|e| explain(e.into()))?;
            let hash = if password_stdin {
                Some(
                    auth::hash_password(read_password()?)
                        .await
                        .map_err(|_| anyhow!("hashing failed"))?,
                )
            } else {
                None
            };
            let user = store
                .create_user(tenant.id, &draft, hash.as_deref(), &Actor::cli())
                .await
                .map_err(explain)?;
            println!(
                "created {} ({}) in {} as {}",
                user.email, user.id, tenant.slug, user.role
            );
            if hash.is_none() {
                println!(
                    "no password set: run `steward user password --tenant {} --email {}` to let them sign in",
                    tenant.slug, user.email
                );
            }
        }
        UserCommand::Password { tenant, email } => {
            let tenant = store.require_tenant(&tenant).await.map_err(explain)?;
            let user = store
                .user_by_email(tenant.id, &email)
                .await
                .map_err(|_| anyhow!("no user {email} in {}", tenant.slug))?;
            let hash = auth::hash_password(read_password()?)
                .await
                .map_err(|_| anyhow!("hashing failed"))?;
            store
                .set_password(tenant.id, user.id, &hash, None, &Actor::cli())
                .await
                .map_err(explain)?;
            println!("password set for {}", user.email);
        }
        UserCommand::List { tenant } => {
            let tenant = store.require_tenant(&tenant).await.map_err(explain)?;
            let mut cursor = None;
            loop {
                let page = steward_store::PageRequest {
                    limit: Some(500),
                    cursor,
                };
                let found = store.users(tenant.id, &Default::default(), &page).await?;
                for u in found.items {
                    println!(
                        "{}\t{}\t{}\t{}",
                        u.id,
                        u.email,
                        u.role,
                        if u.active { "active" } else { "deactivated" }
                    );
                }
                match found.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
    }
    Ok(())
}

async fn token(store: &Store, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create {
            tenant,
            email,
            name,
        } => {
            let tenant = store.require_tenant(&tenant).await.map_err(explain)?;
            let user = store
                .user_by_email(tenant.id, &email)
                .await
                .map_err(|_| anyhow!("no user {email} in {}", tenant.slug))?;
            if !user.active {
                bail!("{email} is deactivated");
            }
            let label = name.trim();
            if label.is_empty() {
                bail!("--name must not be empty");
            }
            let (token, secret) = store
                .create_token(tenant.id, user.id, label, &Actor::cli())
                .await
                .map_err(explain)?;
            println!(
                "created token {} (id {}) for {}; it is shown only now:",
                token.name, token.id, user.email
            );
            println!("{secret}");
        }
        TokenCommand::List { tenant } => {
            let tenant = store.require_tenant(&tenant).await.map_err(explain)?;
            for t in store.tokens(tenant.id, None).await? {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}…\tuser {}\t{status}",
                    t.id, t.name, t.prefix, t.user_id
                );
            }
        }
        TokenCommand::Revoke { tenant, id } => {
            let tenant = store.require_tenant(&tenant).await.map_err(explain)?;
            store
                .revoke_token(tenant.id, id, &Actor::cli())
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => anyhow!("no token {id} in {}", tenant.slug),
                    other => explain(other),
                })?;
            println!("revoked token {id}");
        }
    }
    Ok(())
}

/// A spinner on stderr naming the table at work and counting rows.
fn rows_spinner(verb: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} {verb} {{msg}} · {{pos}} rows · {{per_sec}} · {{elapsed}}"
    )) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

async fn backup(store: &Store, args: BackupArgs) -> anyhow::Result<()> {
    let mut tmp = args.out.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let bar = rows_spinner("backing up");
    let done = store
        .backup(&mut out, |table, rows| {
            bar.set_message(table.to_owned());
            bar.set_position(rows);
        })
        .await;
    bar.finish_and_clear();
    let finished = done.map_err(anyhow::Error::from).and_then(|summary| {
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &args.out)?;
        Ok(summary)
    });
    let summary = match finished {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.context(format!("backup to {} failed", args.out.display())));
        }
    };
    println!(
        "backed up {} tables, {} rows, {} bytes to {}",
        summary.tables,
        summary.rows,
        summary.bytes,
        args.out.display()
    );
    Ok(())
}

async fn restore(store: &Store, args: RestoreArgs) -> anyhow::Result<()> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let bar = rows_spinner("restoring");
    let done = store
        .restore(std::io::BufReader::new(file), |table, rows| {
            bar.set_message(table.to_owned());
            bar.set_position(rows);
        })
        .await;
    bar.finish_and_clear();
    let summary = done.with_context(|| {
        format!(
            "nothing restored from {} (the database is unchanged)",
            args.file.display()
        )
    })?;
    println!(
        "restored {} tables, {} rows, {} bytes from {}",
        summary.tables,
        summary.rows,
        summary.bytes,
        args.file.display()
    );
    Ok(())
}

async fn audit_verify(store: &Store) -> anyhow::Result<ExitCode> {
    match store.verify_journal().await? {
        Ok(checked) => {
            println!("journal intact: {checked} entries checked");
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            eprintln!("journal broken: {broken}");
            Ok(ExitCode::FAILURE)
        }
    }
}
