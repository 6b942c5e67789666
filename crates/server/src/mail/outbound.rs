//! Notifications to requesters: plain-text bodies (pure), queueing in the outbox, and the
//! `mail.send` job that delivers them over SMTP.
//!
//! Every notification carries the record key in its subject (`[INC-4] Printer on fire`), its
//! own Message-ID (`<inc-4.9f2c…@steward>`) and In-Reply-To/References pointing at the
//! conversation, so that a reply finds its way back through `steward mail-in`.

use crate::jobs::Runner;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use steward_store::incident::Incident;
use steward_store::jobs::Job;
use steward_store::mail::{MailTarget, OutMail, SEND_KIND};
use steward_store::{Store, StoreError, StoreResult};

/// Where mail goes out: `smtp://host:port` (no TLS; credentials as `smtp://user:pass@host`).
pub const SMTP_URL_ENV: &str = "STEWARD_SMTP_URL";
/// The From address of notifications.
pub const MAIL_FROM_ENV: &str = "STEWARD_MAIL_FROM";
const DEFAULT_FROM: &str = "Steward <steward@localhost>";
/// How many Message-IDs a References header carries at most (the newest ones).
const MAX_REFERENCES: usize = 20;

/// `[INC-4] Printer on fire`: the key in brackets is what threads a reply back.
pub fn subject(key: &str, title: &str) -> String {
    let title: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("[{key}] {}", title.trim())
}

/// A fresh Message-ID for a notification about `key`, without angle brackets.
pub fn new_message_id(key: &str) -> String {
    format!(
        "{}.{:016x}@steward",
        key.to_ascii_lowercase(),
        rand::random::<u64>()
    )
}

/// The body of the acknowledgement sent when mail opens an incident.
pub fn opened_body(key: &str, title: &str, requester: Option<&str>) -> String {
    let greeting = match requester {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_owned(),
    };
    format!(
        "{greeting}\n\n\
         we have received your message and recorded it as {key}: {title}\n\n\
         The service desk will get back to you. To add anything, reply to this e-mail and keep\n\
         [{key}] in the subject.\n\n\
         -- \nSteward service desk\n"
    )
}

/// The body of a notification carrying an agent's public reply.
pub fn reply_body(key: &str, title: &str, author: &str, text: &str) -> String {
    format!(
        "{author} replied on {key} ({title}):\n\n{}\n\n\
         To answer, reply to this e-mail and keep [{key}] in the subject.\n\n\
         -- \nSteward service desk\n",
        text.trim()
    )
}

/// The address notifications about an incident go to: its requester contact's e-mail.
async fn requester_address(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
) -> StoreResult<Option<String>> {
    let Some(contact_id) = incident.requester_contact_id else {
        return Ok(None);
    };
    match store.contact_by_id(tenant_id, contact_id).await {
        Ok(contact) if !contact.email.trim().is_empty() => Ok(Some(contact.email)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Queues a notification about `incident` to its requester contact, threaded after the last
/// message received for it. Returns the outbox id, or `None` when there is nobody to write to.
pub async fn notify_requester(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    body: String,
) -> StoreResult<Option<i64>> {
    let Some(to) = requester_address(store, tenant_id, incident).await? else {
        return Ok(None);
    };
    queue_about(store, tenant_id, incident, to, body)
        .await
        .map(Some)
}

/// Queues one notification about `incident` to `to`, threaded after the last message received
/// for it. Returns the outbox id.
async fn queue_about(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    to: String,
    body: String,
) -> StoreResult<i64> {
    let target = MailTarget {
        record_type: "incident".into(),
        record_id: incident.id,
    };
    let (thread, last_in) = store.thread_of(tenant_id, &target).await?;
    let references = thread[thread.len().saturating_sub(MAX_REFERENCES)..].join(" ");
    let key = incident.key();
    let mail = OutMail {
        record_type: target.record_type,
        record_id: target.record_id,
        to_address: to,
        subject: subject(&key, &incident.title),
        body,
        message_id: new_message_id(&key),
        in_reply_to: last_in.or_else(|| thread.last().cloned()),
        references: (!references.is_empty()).then_some(references),
    };
    store.queue_mail(tenant_id, &mail).await
}

/// Queues a copy of a notification to each watcher of `incident`, each with its own
/// Message-ID, leaving out the addresses in `skip` (compared without case). Returns the
/// outbox ids.
pub async fn notify_watchers(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    body: &str,
    skip: &[&str],
) -> StoreResult<Vec<i64>> {
    let target = MailTarget {
        record_type: "incident".into(),
        record_id: incident.id,
    };
    let mut queued = Vec::new();
    for watcher in store.watchers(tenant_id, &target).await? {
        if skip.iter().any(|s| s.eq_ignore_ascii_case(&watcher.email)) {
            continue;
        }
        queued.push(queue_about(store, tenant_id, incident, watcher.email, body.to_owned()).await?);
    }
    Ok(queued)
}

/// Queues the notification of an agent's public reply to the requester and to every watcher
/// (but not to the author, nor twice to the requester); failures are logged, never raised,
/// because the reply itself is already saved.
pub async fn notify_reply(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    author: &str,
    text: &str,
) {
    let body = reply_body(&incident.key(), &incident.title, author, text);
    if let Err(e) = notify_requester(store, tenant_id, incident, body.clone()).await {
        tracing::warn!(incident = %incident.key(), error = %e, "could not queue the reply notification");
    }
    let requester = requester_address(store, tenant_id, incident)
        .await
        .ok()
        .flatten();
    let skip: Vec<&str> = std::iter::once(author)
        .chain(requester.as_deref())
        .collect();
    if let Err(e) = notify_watchers(store, tenant_id, incident, &body, &skip).await {
        tracing::warn!(incident = %incident.key(), error = %e, "could not queue the watchers' notifications");
    }
}

fn angle(id: &str) -> String {
    format!("<{id}>")
}

/// Builds the message for an outbox row.
pub fn build_message(
    row: &steward_store::mail::OutboxMessage,
    from: &str,
) -> Result<Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("{MAIL_FROM_ENV} `{from}` is not a mailbox: {e}"))?;
    let to: Mailbox = row
        .to_address
        .parse()
        .map_err(|e| format!("recipient `{}` is not a mailbox: {e}", row.to_address))?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(angle(&row.message_id)))
        .header(ContentType::TEXT_PLAIN);
    if let Some(parent) = &row.in_reply_to {
        builder = builder.in_reply_to(angle(parent));
    }
    if let Some(refs) = row.references.as_deref().filter(|r| !r.trim().is_empty()) {
        builder = builder.references(
            refs.split_whitespace()
                .map(angle)
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    builder
        .body(row.body.clone())
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// Delivers one outbox message. Errors are returned as text for the job's `last_error`; the
/// runner retries with backoff, and the outbox row turns `dead` with the job's last attempt.
pub async fn send(
    store: &Store,
    job: &Job,
    smtp_url: Option<&str>,
    from: &str,
) -> Result<(), String> {
    let payload: serde_json::Value =
        serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
    let id = payload
        .get("outbox_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or("the payload has no outbox_id")?;
    let row = store
        .outbox_message(id)
        .await
        .map_err(|e| format!("outbox {id}: {e}"))?;
    if row.state == "sent" {
        return Ok(());
    }
    let result = deliver(&row, smtp_url, from).await;
    let give_up = result.is_err() && job.attempts >= job.max_attempts;
    store
        .outbox_attempted(id, result.as_ref().err().map(String::as_str), give_up)
        .await
        .map_err(|e| format!("outbox {id}: {e}"))?;
    result
}

async fn deliver(
    row: &steward_store::mail::OutboxMessage,
    smtp_url: Option<&str>,
    from: &str,
) -> Result<(), String> {
    let url = smtp_url.ok_or_else(|| {
        format!("no SMTP server configured: set {SMTP_URL_ENV}, e.g. smtp://127.0.0.1:25; the message stays queued")
    })?;
    let message = build_message(row, from)?;
    let endpoint = SmtpEndpoint::parse(url)?;
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(endpoint.host)
        .port(endpoint.port)
        .timeout(Some(Duration::from_secs(30)));
    if let Some((user, password)) = endpoint.credentials {
        builder = builder.credentials(Credentials::new(user, password));
    }
    let transport = builder.build();
    transport
        .send(message)
        .await
        .map(drop)
        .map_err(|e| format!("SMTP delivery to {} failed: {e}", row.to_address))
}

/// Where to deliver: parsed from `smtp://[user:password@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpEndpoint {
    pub host: String,
    pub port: u16,
    pub credentials: Option<(String, String)>,
}

impl SmtpEndpoint {
    /// Plain SMTP only: this build has no TLS, so `smtps://` and `?tls=` are refused rather
    /// than silently sent in clear.
    pub fn parse(url: &str) -> Result<SmtpEndpoint, String> {
        let bad = |why: &str| format!("{SMTP_URL_ENV} `{}` {why}", steward_store::redact_url(url));
        let rest = url
            .trim()
            .strip_prefix("smtp://")
            .ok_or_else(|| bad("must look like smtp://host:port (TLS is not built in)"))?;
        if rest.contains('?') {
            return Err(bad("has options; TLS is not built in, use a local relay"));
        }
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad("has an invalid port"))?)
            }
            _ => (hostport, 25),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') {
            return Err(bad("has no host"));
        }
        let credentials = userinfo.map(|u| match u.split_once(':') {
            Some((user, password)) => (user.to_owned(), password.to_owned()),
            None => (u.to_owned(), String::new()),
        });
        Ok(SmtpEndpoint {
            host: host.to_owned(),
            port,
            credentials,
        })
    }
}

/// Registers the `mail.send` handler with the given SMTP server (`None`: jobs fail and retry
/// until one is configured). `Runner::new` calls it with `STEWARD_SMTP_URL`.
pub fn register(runner: &mut Runner, smtp_url: Option<String>, from: Option<String>) {
    let from = from.unwrap_or_else(|| DEFAULT_FROM.to_owned());
    runner.handle(SEND_KIND, move |store, job| {
        let smtp_url = smtp_url.clone();
        let from = from.clone();
        async move { send(&store, &job, smtp_url.as_deref(), &from).await }
    });
}

/// `register` with the settings from the environment.
pub fn register_from_env(runner: &mut Runner) {
    let var = |name| {
        std::env::var(name)
            .ok()
            .filter(|v: &String| !v.trim().is_empty())
    };
    register(runner, var(SMTP_URL_ENV), var(MAIL_FROM_ENV));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls() {
        assert_eq!(
            SmtpEndpoint::parse("smtp://127.0.0.1:2525"),
            Ok(SmtpEndpoint {
                host: "127.0.0.1".into(),
                port: 2525,
                credentials: None
            })
        );
        assert_eq!(
            SmtpEndpoint::parse("smtp://me:s3cret@relay.test/"),
            Ok(SmtpEndpoint {
                host: "relay.test".into(),
                port: 25,
                credentials: Some(("me".into(), "s3cret".into()))
            })
        );
        for bad in [
            "smtps://relay.test",
            "relay.test",
            "smtp://:25",
            "smtp://h:x",
            "smtp://h?tls=required",
        ] {
            assert!(SmtpEndpoint::parse(bad).is_err(), "{bad}");
        }
        let err = SmtpEndpoint::parse("smtps://me:s3cret@relay.test").expect_err("tls");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn subjects_carry_the_key() {
        assert_eq!(
            subject("INC-4", " Printer\non fire "),
            "[INC-4] Printer on fire"
        );
        assert_eq!(
            crate::mail::inbound::key_in_subject(&format!("Re: {}", subject("INC-4", "x"))),
            Some(("INC".into(), 4))
        );
    }

    #[test]
    fn message_ids_name_the_record_and_differ() {
        let a = new_message_id("INC-4");
        let b = new_message_id("INC-4");
        assert!(a.starts_with("inc-4.") && a.ends_with("@steward"), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn bodies_say_how_to_reply() {
        let opened = opened_body("INC-4", "Printer", Some("Hank"));
        assert!(opened.starts_with("Hello Hank,"));
        assert!(opened.contains("INC-4: Printer") && opened.contains("[INC-4]"));
        let reply = reply_body(
            "INC-4",
            "Printer",
            "sam@acme.test",
            "  Try turning it off.\n",
        );
        assert!(
            reply.starts_with("sam@acme.test replied on INC-4 (Printer):\n\nTry turning it off.\n")
        );
        assert!(reply.contains("[INC-4]"));
    }
}
