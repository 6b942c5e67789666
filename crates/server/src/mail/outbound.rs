//! Notifications to requesters, watchers and assignees: plain-text messages rendered from the
//! tenant's templates (`steward_domain::notify`), queueing in the outbox, and the `mail.send`
//! job that delivers them over SMTP.
//!
//! Every notification carries the record key in its subject (`[INC-4] Printer on fire`), its
//! own Message-ID (`<inc-4.9f2c…@steward>`) and In-Reply-To/References pointing at the
//! conversation, so that a reply finds its way back through `steward mail-in`.

use crate::jobs::Runner;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use steward_domain::notify::{Event, Vars};
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

/// The base of the links in notifications (`{{link}}`).
pub const PUBLIC_URL_ENV: &str = "STEWARD_PUBLIC_URL";
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The link to an incident in notifications: `STEWARD_PUBLIC_URL` + `/incidents/INC-4`.
pub fn incident_link(key: &str) -> String {
    record_link("incidents", key)
}

/// The link to a record's page in notifications: `STEWARD_PUBLIC_URL` + `/{collection}/{key}`.
pub fn record_link(collection: &str, key: &str) -> String {
    let base = std::env::var(PUBLIC_URL_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PUBLIC_URL.to_owned());
    format!("{}/{collection}/{key}", base.trim().trim_end_matches('/'))
}

/// The placeholders' values for a notification about `incident`.
async fn vars(store: &Store, tenant_id: i64, incident: &Incident, reply: &str) -> Vars {
    let assignee = match incident.assignee_id {
        Some(id) => store
            .user(tenant_id, id)
            .await
            .map(|u| u.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let key = incident.key();
    Vars {
        link: incident_link(&key),
        key,
        title: incident.title.clone(),
        status: incident.status.as_str().to_owned(),
        reply: reply.trim().to_owned(),
        assignee,
    }
}

/// The address notifications about an incident go to: its requester contact's e-mail, or for
/// incidents a requester opened in the portal, that user's.
async fn requester_address(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
) -> StoreResult<Option<String>> {
    if let Some(contact_id) = incident.requester_contact_id {
        match store.contact_by_id(tenant_id, contact_id).await {
            Ok(contact) if !contact.email.trim().is_empty() => return Ok(Some(contact.email)),
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    if let Some(user_id) = incident.requester_user_id {
        match store.user(tenant_id, user_id).await {
            Ok(user) if !user.email.trim().is_empty() => return Ok(Some(user.email)),
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// Queues one notification about `incident` to `to`, threaded after the last message received
/// for it. Returns the outbox id.
async fn queue_about(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    to: String,
    (subject, body): (String, String),
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
        subject,
        body,
        message_id: new_message_id(&key),
        in_reply_to: last_in.or_else(|| thread.last().cloned()),
        references: (!references.is_empty()).then_some(references),
    };
    store.queue_mail(tenant_id, &mail).await
}

/// Who hears about an event, besides the watchers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// The requester and every watcher.
    RequesterAndWatchers,
    /// Only the watchers (a requester's own reply by mail).
    Watchers,
}

/// Renders the tenant's template for `event` and queues it to the audience, each copy with its
/// own Message-ID, leaving out the addresses in `skip` and nobody twice (compared without
/// case). Returns the outbox ids.
async fn queue_event(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    event: Event,
    reply: &str,
    audience: Audience,
    skip: &[&str],
) -> StoreResult<Vec<i64>> {
    let mut to: Vec<String> = Vec::new();
    if audience == Audience::RequesterAndWatchers
        && let Some(requester) = requester_address(store, tenant_id, incident).await?
    {
        to.push(requester);
    }
    let target = MailTarget {
        record_type: "incident".into(),
        record_id: incident.id,
    };
    to.extend(
        store
            .watchers(tenant_id, &target)
            .await?
            .into_iter()
            .map(|w| w.email),
    );
    let mut sent: Vec<String> = Vec::new();
    let mut queued = Vec::new();
    if to.is_empty() {
        return Ok(queued);
    }
    let template = store
        .notification_template(tenant_id, event)
        .await?
        .template;
    let message = template.render(&vars(store, tenant_id, incident, reply).await);
    for address in to {
        let address = address.trim().to_owned();
        if skip.iter().any(|s| s.trim().eq_ignore_ascii_case(&address))
            || sent.iter().any(|s| s.eq_ignore_ascii_case(&address))
        {
            continue;
        }
        queued
            .push(queue_about(store, tenant_id, incident, address.clone(), message.clone()).await?);
        sent.push(address);
    }
    Ok(queued)
}

fn log_failure(incident: &Incident, event: Event, result: StoreResult<Vec<i64>>) {
    if let Err(e) = result {
        tracing::warn!(incident = %incident.key(), event = %event, error = %e, "could not queue the notifications");
    }
}

/// Queues the acknowledgement of a new incident to its requester (and any watchers), leaving
/// out `skip` (whoever opened it for somebody else). Failures are logged, never raised: the
/// incident is already saved.
pub async fn notify_opened(store: &Store, tenant_id: i64, incident: &Incident, skip: &[&str]) {
    let result = queue_event(
        store,
        tenant_id,
        incident,
        Event::Opened,
        "",
        Audience::RequesterAndWatchers,
        skip,
    )
    .await;
    log_failure(incident, Event::Opened, result);
}

/// Queues the notification of an agent's public reply to the requester and to every watcher
/// (but not to the author, nor twice to anybody); failures are logged, never raised, because
/// the reply itself is already saved.
pub async fn notify_reply(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    author: &str,
    text: &str,
) {
    let result = queue_event(
        store,
        tenant_id,
        incident,
        Event::Replied,
        text,
        Audience::RequesterAndWatchers,
        &[author],
    )
    .await;
    log_failure(incident, Event::Replied, result);
}

/// Queues a reply that came in by mail to the watchers, but not back to its sender.
pub async fn notify_inbound_reply(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    sender: &str,
    text: &str,
) {
    let result = queue_event(
        store,
        tenant_id,
        incident,
        Event::Replied,
        text,
        Audience::Watchers,
        &[sender],
    )
    .await;
    log_failure(incident, Event::Replied, result);
}

/// Queues the notice that `incident` was resolved to its requester and watchers, leaving out
/// `skip` (the agent who resolved it).
pub async fn notify_resolved(store: &Store, tenant_id: i64, incident: &Incident, skip: &[&str]) {
    let result = queue_event(
        store,
        tenant_id,
        incident,
        Event::Resolved,
        &incident.resolution_notes,
        Audience::RequesterAndWatchers,
        skip,
    )
    .await;
    log_failure(incident, Event::Resolved, result);
}

/// Queues the notice of an assignment to the new assignee's e-mail, unless the assignee is the
/// one who assigned it (`by`).
pub async fn notify_assigned(store: &Store, tenant_id: i64, incident: &Incident, by: Option<i64>) {
    let Some(assignee_id) = incident.assignee_id.filter(|id| Some(*id) != by) else {
        return;
    };
    let result = async {
        let user = match store.user(tenant_id, assignee_id).await {
            Ok(u) => u,
            Err(StoreError::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        if user.email.trim().is_empty() {
            return Ok(Vec::new());
        }
        let template = store
            .notification_template(tenant_id, Event::Assigned)
            .await?
            .template;
        let message = template.render(&vars(store, tenant_id, incident, "").await);
        queue_about(store, tenant_id, incident, user.email, message)
            .await
            .map(|id| vec![id])
    }
    .await;
    log_failure(incident, Event::Assigned, result);
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
}
