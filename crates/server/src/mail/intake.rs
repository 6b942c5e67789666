//! Taking one incoming message into a tenant: a new message opens an incident, a reply
//! (key in the subject, or In-Reply-To/References naming a known message) becomes a public
//! comment. Whatever cannot be taken in is kept as a dead letter, never dropped.

use super::inbound::{self, InboundMail};
use super::outbound;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::incident::{IncidentDraft, Level, Source, Status};
use steward_domain::user::name_from_email;
use steward_store::customer::Contact;
use steward_store::incident::{Author, Incident, IncidentFields};
use steward_store::mail::{Direction, MailTarget, NewAttachment};
use steward_store::{Actor, Store, StoreError, now_micros};

/// The customer that contacts created for unknown senders belong to.
pub const UNKNOWN_SENDERS: &str = "Unknown senders";
const MAX_TITLE: usize = 300;
const MAX_TEXT: usize = 100_000;

/// What to do with mail from an address that is no contact of the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownSender {
    /// Create a contact under the customer "Unknown senders".
    #[default]
    Create,
    /// Refuse the message (it is kept as a dead letter).
    Reject,
}

#[derive(Debug, Clone, Default)]
pub struct Intake {
    /// The service new incidents are opened against.
    pub service_id: Option<i64>,
    pub unknown_sender: UnknownSender,
}

/// What became of a message.
#[derive(Debug, Clone)]
pub enum Received {
    Opened(Incident),
    Replied(Incident),
    /// The Message-ID was taken in before (a redelivery): nothing changed.
    AlreadyReceived(Incident),
}

impl Received {
    pub fn incident(&self) -> &Incident {
        match self {
            Received::Opened(i) | Received::Replied(i) | Received::AlreadyReceived(i) => i,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Refused and kept as a dead letter.
    #[error("{reason} (kept as dead letter {id})")]
    Dead { id: i64, reason: String },
    /// Refused, and even keeping it failed: the sender's mail system should try again later.
    #[error("{reason}; the message could not be kept either: {error}")]
    Lost { reason: String, error: StoreError },
}

async fn dead(store: &Store, tenant_id: Option<i64>, reason: String, raw: &[u8]) -> IntakeError {
    match store.save_dead_letter(tenant_id, &reason, raw).await {
        Ok(id) => IntakeError::Dead { id, reason },
        Err(error) => IntakeError::Lost { reason, error },
    }
}

/// Readable text for a store failure while taking a message in.
fn explain(e: &StoreError) -> String {
    match e {
        StoreError::Invalid(invalid) => invalid
            .errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Takes one raw message into the tenant `tenant_slug`.
pub async fn receive(
    store: &Store,
    tenant_slug: &str,
    raw: &[u8],
    opts: &Intake,
) -> Result<Received, IntakeError> {
    let tenant_id = match store.tenant_by_slug(tenant_slug).await {
        Ok(t) => t.id,
        Err(StoreError::NotFound) => {
            return Err(dead(
                store,
                None,
                format!("no tenant with slug `{tenant_slug}`"),
                raw,
            )
            .await);
        }
        Err(e) => return Err(dead(store, None, explain(&e), raw).await),
    };
    let mail = match inbound::parse(raw) {
        Ok(m) => m,
        Err(e) => return Err(dead(store, Some(tenant_id), e.to_string(), raw).await),
    };
    match take_in(store, tenant_id, &mail, raw, opts).await {
        Ok(done) => Ok(done),
        Err(Refused(reason)) => Err(dead(store, Some(tenant_id), reason, raw).await),
    }
}

/// Why a parsed message was refused.
struct Refused(String);

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused(explain(&e))
    }
}

async fn take_in(
    store: &Store,
    tenant_id: i64,
    mail: &InboundMail,
    raw: &[u8],
    opts: &Intake,
) -> Result<Received, Refused> {
    if let Some(id) = &mail.message_id
        && let Some(known) = store
            .record_by_message_id(tenant_id, std::slice::from_ref(id))
            .await?
        && known.record_type == "incident"
    {
        return Ok(Received::AlreadyReceived(
            store.incident(tenant_id, known.record_id).await?,
        ));
    }
    let contact = store.contact_by_email(tenant_id, &mail.from).await?;
    if contact.is_none() && opts.unknown_sender == UnknownSender::Reject {
        return Err(Refused(format!(
            "{} is not a contact of this organisation and unknown senders are rejected",
            mail.from
        )));
    }
    let author = match &mail.from_name {
        Some(name) => format!("{name} <{}>", mail.from),
        None => mail.from.clone(),
    };
    let actor = Actor {
        user_id: None,
        label: author.clone(),
    };
    if let Some(incident) = thread_of(store, tenant_id, mail).await? {
        let text = clip(&mail.text, MAX_TEXT);
        let body = if !text.is_empty() {
            text
        } else if mail.attachments.is_empty() {
            "(empty message)".to_owned()
        } else {
            format!(
                "(attachments only: {})",
                mail.attachments
                    .iter()
                    .map(|a| a.filename.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let reopen_window = store.settings(tenant_id).await?.reopen_window();
        let author = Author::Requester { reopen_window };
        store
            .add_incident_comment(tenant_id, incident.id, &body, true, author, &actor)
            .await?;
        keep(store, tenant_id, &incident, mail, raw, &actor).await?;
        outbound::notify_inbound_reply(store, tenant_id, &incident, &mail.from, &body).await;
        return Ok(Received::Replied(incident));
    }
    let contact = match contact {
        Some(c) => c,
        None => unknown_sender_contact(store, tenant_id, mail, &actor).await?,
    };
    let incident = open(store, tenant_id, mail, &contact, opts, &actor).await?;
    keep(store, tenant_id, &incident, mail, raw, &actor).await?;
    outbound::notify_opened(store, tenant_id, &incident, &[]).await;
    Ok(Received::Opened(incident))
}

/// The incident a reply belongs to: by the key in its subject, else by the messages it answers.
async fn thread_of(
    store: &Store,
    tenant_id: i64,
    mail: &InboundMail,
) -> Result<Option<Incident>, Refused> {
    if let Some((prefix, number)) = inbound::key_in_subject(&mail.subject)
        && prefix == "INC"
    {
        match store.incident_by_number(tenant_id, number).await {
            Ok(i) => return Ok(Some(i)),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let ids = mail.thread_ids();
    if ids.is_empty() {
        return Ok(None);
    }
    match store.record_by_message_id(tenant_id, &ids).await? {
        Some(t) if t.record_type == "incident" => {
            Ok(Some(store.incident(tenant_id, t.record_id).await?))
        }
        _ => Ok(None),
    }
}

/// Records the message in the thread map (with its raw text) and stores its attachments.
async fn keep(
    store: &Store,
    tenant_id: i64,
    incident: &Incident,
    mail: &InboundMail,
    raw: &[u8],
    actor: &Actor,
) -> Result<(), Refused> {
    let target = MailTarget {
        record_type: "incident".into(),
        record_id: incident.id,
    };
    store
        .record_mail_message(
            tenant_id,
            Direction::In,
            mail.message_id.as_deref(),
            &target,
            Some(raw),
        )
        .await?;
    for a in &mail.attachments {
        store
            .add_attachment(
                tenant_id,
                &target,
                NewAttachment {
                    filename: &a.filename,
                    content_type: &a.content_type,
                    bytes: &a.bytes,
                },
                actor,
            )
            .await?;
    }
    Ok(())
}

async fn unknown_sender_contact(
    store: &Store,
    tenant_id: i64,
    mail: &InboundMail,
    actor: &Actor,
) -> Result<Contact, Refused> {
    let customer_id = match store
        .customer_id_by_name(tenant_id, UNKNOWN_SENDERS)
        .await?
    {
        Some(id) => id,
        None => {
            let draft = CustomerDraft {
                name: UNKNOWN_SENDERS.into(),
                notes: "Created by mail-in for senders who were not contacts yet.".into(),
            }
            .validate()
            .map_err(StoreError::from)?;
            store.create_customer(tenant_id, &draft, actor).await?.id
        }
    };
    let draft = ContactDraft {
        name: clip(
            &mail
                .from_name
                .clone()
                .unwrap_or_else(|| name_from_email(&mail.from)),
            200,
        ),
        email: mail.from.clone(),
        phone: String::new(),
    }
    .validate()
    .map_err(StoreError::from)?;
    Ok(store
        .create_contact(tenant_id, customer_id, &draft, actor)
        .await?)
}

async fn open(
    store: &Store,
    tenant_id: i64,
    mail: &InboundMail,
    contact: &Contact,
    opts: &Intake,
    actor: &Actor,
) -> Result<Incident, Refused> {
    let title = if mail.subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        clip(mail.subject.trim(), MAX_TITLE)
    };
    let draft = IncidentDraft {
        title,
        description: clip(&mail.text, MAX_TEXT),
        impact: Level::Medium,
        urgency: Level::Medium,
        service_id: opts.service_id,
        customer_id: Some(contact.customer_id),
        requester_contact_id: Some(contact.id),
        assignee_team_id: None,
        assignee_id: None,
        source: Source::Email,
        resolution_code: None,
        resolution_notes: String::new(),
    }
    .validate()
    .map_err(StoreError::from)?;
    let fields = IncidentFields {
        priority: store
            .settings(tenant_id)
            .await?
            .priority_matrix
            .priority(draft.impact, draft.urgency),
        title: draft.title,
        description: draft.description,
        status: Status::New,
        pending_reason: None,
        impact: draft.impact,
        urgency: draft.urgency,
        service_id: draft.service_id,
        customer_id: draft.customer_id,
        requester_contact_id: draft.requester_contact_id,
        requester_user_id: None,
        assignee_team_id: None,
        assignee_id: None,
        source: Source::Email,
        resolution_code: None,
        resolution_notes: String::new(),
        opened_at: now_micros(),
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        category_id: None,
        custom: Default::default(),
    };
    Ok(store.create_incident(tenant_id, &fields, actor).await?)
}
