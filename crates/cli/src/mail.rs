//! `steward mail-in`: one message on standard input becomes an incident or a reply.
//!
//! Meant to be run by the mail system for each message (for example from a Postfix pipe or
//! fetchmail's `mda`). Exit codes follow sysexits: 0 taken in, 1 refused (kept as a dead
//! letter), 75 (temporary failure: the mail system should retry) when even keeping it failed.

use clap::{Args, ValueEnum};
use std::io::Read;
use std::process::ExitCode;
use steward_server::mail::intake::{self, Intake, IntakeError, Received, UnknownSender};
use steward_store::Store;

/// Larger messages are refused (their first part is kept as a dead letter).
const MAX_MESSAGE_BYTES: u64 = 32 * 1024 * 1024;
/// EX_TEMPFAIL: the message was not kept; the mail system should try again later.
const TEMPORARY_FAILURE: u8 = 75;

#[derive(Debug, Args)]
pub struct MailInArgs {
    /// The tenant's slug.
    #[arg(long)]
    tenant: String,
    /// The service new incidents are opened against.
    #[arg(long, value_name = "ID")]
    service: Option<i64>,
    /// The kind of record a new message opens.
    #[arg(long, value_enum, default_value_t = Kind::Incident)]
    kind: Kind,
    /// Mail from an address that is no contact: `create` a contact under the customer
    /// "Unknown senders", or `reject` the message (it is kept as a dead letter).
    #[arg(long, value_enum, default_value_t = Unknown::Create)]
    unknown_sender: Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    Incident,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Unknown {
    Create,
    Reject,
}

fn read_stdin() -> std::io::Result<(Vec<u8>, bool)> {
    let mut raw = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_MESSAGE_BYTES + 1)
        .read_to_end(&mut raw)?;
    let too_large = raw.len() as u64 > MAX_MESSAGE_BYTES;
    raw.truncate(MAX_MESSAGE_BYTES as usize);
    Ok((raw, too_large))
}

/// Reads one message from standard input and takes it into the tenant.
pub async fn mail_in(database: &str, args: MailInArgs) -> anyhow::Result<ExitCode> {
    let Kind::Incident = args.kind;
    let (raw, too_large) = match read_stdin() {
        Ok(read) => read,
        Err(e) => {
            eprintln!("error: cannot read the message from standard input: {e}");
            return Ok(ExitCode::from(TEMPORARY_FAILURE));
        }
    };
    let store = match Store::open(database).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!(
                "error: {}: {e}; the message was not kept, let the mail system retry",
                steward_store::redact_url(database)
            );
            return Ok(ExitCode::from(TEMPORARY_FAILURE));
        }
    };
    let outcome = if too_large {
        let reason = format!(
            "the message is larger than {} MiB; only its beginning was kept",
            MAX_MESSAGE_BYTES / 1024 / 1024
        );
        let tenant_id = store.tenant_by_slug(&args.tenant).await.ok().map(|t| t.id);
        match store.save_dead_letter(tenant_id, &reason, &raw).await {
            Ok(id) => Err(IntakeError::Dead { id, reason }),
            Err(error) => Err(IntakeError::Lost { reason, error }),
        }
    } else {
        let opts = Intake {
            service_id: args.service,
            unknown_sender: match args.unknown_sender {
                Unknown::Create => UnknownSender::Create,
                Unknown::Reject => UnknownSender::Reject,
            },
        };
        intake::receive(&store, &args.tenant, &raw, &opts).await
    };
    store.close().await;
    match outcome {
        Ok(received) => {
            let key = received.incident().key();
            match &received {
                Received::Opened(_) => println!("opened {key}"),
                Received::Replied(_) => println!("added the reply to {key}"),
                Received::AlreadyReceived(_) => {
                    println!("already received: this message is part of {key}")
                }
            }
            println!("{key}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ IntakeError::Dead { .. }) => {
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            Ok(ExitCode::FAILURE)
        }
        Err(e @ IntakeError::Lost { .. }) => {
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            Ok(ExitCode::from(TEMPORARY_FAILURE))
        }
    }
}
