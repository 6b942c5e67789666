//! E-mail in and out: dead letters, the Message-ID map that threads replies to records, the
//! outbox of notifications (delivered by the `mail.send` job), and content-addressed
//! attachments.

use crate::db::{Tx, sql};
use crate::jobs::{NewJob, enqueue_in};
use crate::journal::Change;
use crate::{Actor, Store, StoreResult, now_micros};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use steward_domain::journal::Action;

/// The job kind that delivers one outbox message; its payload is `{"outbox_id": n}`.
pub const SEND_KIND: &str = "mail.send";

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// A message that could not be processed, kept whole.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadLetter {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub received_at: i64,
    pub reason: String,
    pub raw: Vec<u8>,
}

/// A record a message belongs to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailTarget {
    pub record_type: String,
    pub record_id: i64,
}

/// A notification to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMail {
    pub record_type: String,
    pub record_id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    /// Without angle brackets, like every Message-ID stored: `inc-4.x7f@steward`.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    /// Space-separated Message-IDs (without brackets), oldest first.
    pub references: Option<String>,
}

/// Where a queued mail stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Waiting to go out; the last attempt's error when one failed and it will be retried.
    Queued { last_error: Option<String> },
    /// Handed to the mail server at `at` (micros).
    Sent { at: i64 },
    /// Given up on after the last attempt failed.
    Failed { error: String },
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub tenant_id: i64,
    pub record_type: String,
    pub record_id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    #[sqlx(rename = "reference_ids")]
    pub references: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const OUTBOX_COLUMNS: &str = "id, tenant_id, record_type, record_id, to_address, subject, body, message_id, \
    in_reply_to, reference_ids, state, attempts, last_error, created_at, sent_at";

/// An attachment's metadata; its bytes are in `blobs`, keyed by `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub record_type: String,
    pub record_id: i64,
    pub sha256: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: i64,
}

const ATTACHMENT_COLUMNS: &str =
    "id, record_type, record_id, sha256, filename, content_type, size, created_at";

/// A file to attach.
#[derive(Debug, Clone, Copy)]
pub struct NewAttachment<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

impl Store {
    /// Keeps a message that could not be processed. `tenant_id` is `None` when even the tenant
    /// was unknown.
    pub async fn save_dead_letter(
        &self,
        tenant_id: Option<i64>,
        reason: &str,
        raw: &[u8],
    ) -> StoreResult<i64> {
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO dead_letters (tenant_id, received_at, reason, raw) VALUES ($1, $2, $3, $4) RETURNING id")
                    .bind(tenant_id)
                    .bind(now_micros())
                    .bind(reason.chars().take(2000).collect::<String>())
                    .bind(raw),
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Dead letters, newest first: of one tenant, or with `None` those without a tenant.
    pub async fn dead_letters(&self, tenant_id: Option<i64>) -> StoreResult<Vec<DeadLetter>> {
        let q = match tenant_id {
            Some(t) => sql("SELECT id, tenant_id, received_at, reason, raw FROM dead_letters WHERE tenant_id = $1 ORDER BY id DESC").bind(t),
            None => sql("SELECT id, tenant_id, received_at, reason, raw FROM dead_letters WHERE tenant_id IS NULL ORDER BY id DESC"),
        };
        self.db.fetch_all(q).await
    }

    /// Remembers that a message belongs to a record. Returns `false` if the Message-ID was
    /// already known in the tenant (a redelivery), in which case nothing changes.
    pub async fn record_mail_message(
        &self,
        tenant_id: i64,
        direction: Direction,
        message_id: Option<&str>,
        target: &MailTarget,
        raw: Option<&[u8]>,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                sql("INSERT INTO mail_messages (tenant_id, direction, message_id, record_type, record_id, raw, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, message_id) DO NOTHING")
                    .bind(tenant_id)
                    .bind(direction.as_str())
                    .bind(message_id.map(str::to_owned))
                    .bind(target.record_type.clone())
                    .bind(target.record_id)
                    .bind(raw.map(<[u8]>::to_vec))
                    .bind(now_micros()),
            )
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// The record the first known of `message_ids` belongs to (in either direction): how a
    /// reply's In-Reply-To and References find their incident.
    pub async fn record_by_message_id(
        &self,
        tenant_id: i64,
        message_ids: &[String],
    ) -> StoreResult<Option<MailTarget>> {
        let mut conn = self.db.read().await?;
        for id in message_ids {
            let found: Option<MailTarget> = conn
                .fetch_optional(
                    sql("SELECT record_type, record_id FROM mail_messages WHERE tenant_id = $1 AND message_id = $2")
                        .bind(tenant_id)
                        .bind(id),
                )
                .await?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// The Message-IDs of a record's conversation, oldest first (for References), and the
    /// last inbound one (for In-Reply-To).
    pub async fn thread_of(
        &self,
        tenant_id: i64,
        target: &MailTarget,
    ) -> StoreResult<(Vec<String>, Option<String>)> {
        let rows: Vec<(String, String)> = self
            .db
            .fetch_all(
                sql("SELECT direction, message_id FROM mail_messages \
                     WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 AND message_id IS NOT NULL ORDER BY id")
                    .bind(tenant_id)
                    .bind(target.record_type.clone())
                    .bind(target.record_id),
            )
            .await?;
        let last_in = rows
            .iter()
            .rev()
            .find(|(d, _)| d == "in")
            .map(|(_, id)| id.clone());
        Ok((rows.into_iter().map(|(_, id)| id).collect(), last_in))
    }

    /// Queues a notification: the outbox row, its Message-ID in the thread map, and the
    /// `mail.send` job that delivers it, in one transaction. Returns the outbox id.
    pub async fn queue_mail(&self, tenant_id: i64, m: &OutMail) -> StoreResult<i64> {
        let mut tx = self.db.begin().await?;
        let id = queue_mail_in(&mut tx, tenant_id, m).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Queues `m` unless a message with its Message-ID was queued before; returns whether this
    /// call queued it. Periodic mail (monthly service reports) names each message after what it
    /// reports on, so a job that runs twice, on one node or two, sends each message once: the
    /// thread map's unique Message-ID is claimed first, in the same transaction as the outbox row.
    pub async fn queue_mail_once(&self, tenant_id: i64, m: &OutMail) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let claimed: Option<(i64,)> = tx
            .fetch_optional(
                sql("INSERT INTO mail_messages (tenant_id, direction, message_id, record_type, record_id, raw, created_at) \
                     VALUES ($1, 'out', $2, $3, $4, NULL, $5) ON CONFLICT (tenant_id, message_id) DO NOTHING RETURNING id")
                    .bind(tenant_id)
                    .bind(m.message_id.clone())
                    .bind(m.record_type.clone())
                    .bind(m.record_id)
                    .bind(now_micros()),
            )
            .await?;
        if claimed.is_none() {
            return Ok(false);
        }
        queue_mail_in(&mut tx, tenant_id, m).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn outbox_message(&self, id: i64) -> StoreResult<OutboxMessage> {
        self.db
            .fetch_one(sql(format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1")).bind(id))
            .await
    }

    /// A tenant's outbox, newest first.
    pub async fn outbox(&self, tenant_id: i64) -> StoreResult<Vec<OutboxMessage>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tenant_id = $1 ORDER BY id DESC"
                ))
                .bind(tenant_id),
            )
            .await
    }

    /// How the latest mail queued for each record of `record_type` went, by record id.
    pub async fn mail_deliveries(
        &self,
        tenant_id: i64,
        record_type: &str,
    ) -> StoreResult<HashMap<i64, Delivery>> {
        let rows: Vec<(i64, String, Option<i64>, Option<String>)> = self
            .db
            .fetch_all(
                sql("SELECT record_id, state, sent_at, last_error FROM outbox \
                     WHERE tenant_id = $1 AND record_type = $2 ORDER BY id")
                .bind(tenant_id)
                .bind(record_type),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, state, sent_at, error)| {
                let delivery = match (state.as_str(), sent_at) {
                    ("sent", Some(at)) => Delivery::Sent { at },
                    ("dead", _) => Delivery::Failed {
                        error: error.unwrap_or_default(),
                    },
                    _ => Delivery::Queued { last_error: error },
                };
                (id, delivery)
            })
            .collect())
    }

    /// Records one delivery attempt: sent, failed (to be retried), or failed for good (`dead`).
    pub async fn outbox_attempted(
        &self,
        id: i64,
        error: Option<&str>,
        give_up: bool,
    ) -> StoreResult<()> {
        let now = now_micros();
        let q = match error {
            None => sql("UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = $1, last_error = NULL WHERE id = $2")
                .bind(now)
                .bind(id),
            Some(e) => sql("UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2 WHERE id = $3")
                .bind(if give_up { "dead" } else { "queued" })
                .bind(e.chars().take(2000).collect::<String>())
                .bind(id),
        };
        let mut tx = self.db.begin().await?;
        tx.execute(q).await?;
        tx.commit().await
    }

    /// Attaches a file to a record. The bytes are stored once per content (by SHA-256),
    /// however often they are attached; the attachment itself is journaled.
    pub async fn add_attachment(
        &self,
        tenant_id: i64,
        target: &MailTarget,
        file: NewAttachment<'_>,
        actor: &Actor,
    ) -> StoreResult<Attachment> {
        let sha256 = hex::encode(Sha256::digest(file.bytes));
        let size = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql(
                "INSERT INTO blobs (sha256, bytes) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(sha256.clone())
            .bind(file.bytes),
        )
        .await?;
        let attachment: Attachment = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO attachments (tenant_id, record_type, record_id, sha256, filename, content_type, size, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ATTACHMENT_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(target.record_type.clone())
                .bind(target.record_id)
                .bind(sha256)
                .bind(file.filename)
                .bind(file.content_type)
                .bind(size)
                .bind(now_micros()),
            )
            .await?;
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Create,
                record_type: "attachment",
                record_id: attachment.id,
                before: None,
                after: crate::journal::snapshot(&attachment),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(attachment)
    }

    /// A record's attachments, oldest first.
    pub async fn attachments(
        &self,
        tenant_id: i64,
        target: &MailTarget,
    ) -> StoreResult<Vec<Attachment>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 ORDER BY id"
                ))
                .bind(tenant_id)
                .bind(target.record_type.clone())
                .bind(target.record_id),
            )
            .await
    }

    /// One attachment of a record; `NotFound` unless it belongs to that record of the tenant.
    pub async fn attachment(
        &self,
        tenant_id: i64,
        target: &MailTarget,
        attachment_id: i64,
    ) -> StoreResult<Attachment> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments \
                     WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 AND id = $4"
                ))
                .bind(tenant_id)
                .bind(target.record_type.clone())
                .bind(target.record_id)
                .bind(attachment_id),
            )
            .await
    }

    /// The bytes of an attachment of the tenant.
    pub async fn attachment_bytes(
        &self,
        tenant_id: i64,
        attachment_id: i64,
    ) -> StoreResult<Vec<u8>> {
        let (bytes,): (Vec<u8>,) = self
            .db
            .fetch_one(
                sql("SELECT b.bytes FROM attachments a JOIN blobs b ON b.sha256 = a.sha256 WHERE a.tenant_id = $1 AND a.id = $2")
                    .bind(tenant_id)
                    .bind(attachment_id),
            )
            .await?;
        Ok(bytes)
    }

    /// How many distinct contents are stored (for tests and metrics).
    pub async fn count_blobs(&self) -> StoreResult<i64> {
        let (n,): (i64,) = self.db.fetch_one(sql("SELECT COUNT(*) FROM blobs")).await?;
        Ok(n)
    }

    /// The id of the tenant's live customer with exactly this name, if any.
    pub async fn customer_id_by_name(
        &self,
        tenant_id: i64,
        name: &str,
    ) -> StoreResult<Option<i64>> {
        let row: Option<(i64,)> = self
            .db
            .fetch_optional(
                sql("SELECT id FROM customers WHERE tenant_id = $1 AND name = $2 AND deleted_at IS NULL ORDER BY id LIMIT 1")
                    .bind(tenant_id)
                    .bind(name),
            )
            .await?;
        Ok(row.map(|r| r.0))
    }
}

/// Queues a notification inside `tx`: what [`Store::queue_mail`] does, for writes whose mail
/// must go out if, and only if, they commit.
pub(crate) async fn queue_mail_in(tx: &mut Tx, tenant_id: i64, m: &OutMail) -> StoreResult<i64> {
    let now = now_micros();
    let (id,): (i64,) = tx
            .fetch_one(
                sql("INSERT INTO outbox (tenant_id, record_type, record_id, to_address, subject, body, message_id, \
                     in_reply_to, reference_ids, state, attempts, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', 0, $10) RETURNING id")
                    .bind(tenant_id)
                    .bind(m.record_type.clone())
                    .bind(m.record_id)
                    .bind(m.to_address.clone())
                    .bind(m.subject.clone())
                    .bind(m.body.clone())
                    .bind(m.message_id.clone())
                    .bind(m.in_reply_to.clone())
                    .bind(m.references.clone())
                    .bind(now),
            )
            .await?;
    tx.execute(
            sql("INSERT INTO mail_messages (tenant_id, direction, message_id, record_type, record_id, raw, created_at) \
                 VALUES ($1, 'out', $2, $3, $4, NULL, $5) ON CONFLICT (tenant_id, message_id) DO NOTHING")
                .bind(tenant_id)
                .bind(m.message_id.clone())
                .bind(m.record_type.clone())
                .bind(m.record_id)
                .bind(now),
        )
        .await?;
    let mut job = NewJob::now(SEND_KIND, serde_json::json!({ "outbox_id": id }));
    job.tenant_id = Some(tenant_id);
    enqueue_in(tx, &job).await?;
    Ok(id)
}
