//! The daily reminders to supplier owners: a contract ending within 60 days, a contract review
//! or a performance review due within 14 days or overdue. Each is claimed in
//! `supplier_reminders` by a unique index in the transaction that queues its mail, so however
//! many nodes or retries run the day, it goes out once per subject, date and recipient.

use crate::db::sql;
use crate::mail::{OutMail, queue_mail_in};
use crate::sms::date_text;
use crate::{Store, StoreResult, now_micros};
use jiff::civil::Date;
use steward_domain::supplier::evidence::{ReminderKind, reminders_due};

/// A reminder sent: why, about which supplier, the date it is about, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierReminder {
    pub kind: ReminderKind,
    pub supplier_id: i64,
    pub supplier: String,
    /// The contract (for contract reminders) or the supplier.
    pub subject_id: i64,
    pub due_on: Date,
    pub recipient_id: i64,
    /// Name and address.
    pub recipient: (String, String),
}

impl Store {
    /// Mails the day's supplier reminders to each active supplier's owner, once each; returns
    /// what went out. `render` gives the subject and body.
    pub async fn send_supplier_reminders(
        &self,
        tenant_id: i64,
        today: Date,
        render: impl Fn(&SupplierReminder) -> (String, String),
    ) -> StoreResult<Vec<SupplierReminder>> {
        let mut sent = Vec::new();
        for (head, facts) in self.supplier_facts_named(tenant_id).await? {
            let Some(owner_id) = head.owner_id else {
                continue;
            };
            let owner: Option<(String, String)> = self
                .db
                .fetch_optional(
                    sql(
                        "SELECT name, email FROM users WHERE tenant_id = $1 AND id = $2 \
                         AND active = $3",
                    )
                    .bind(tenant_id)
                    .bind(owner_id)
                    .bind(true),
                )
                .await?;
            let Some(owner) = owner else { continue };
            for due in reminders_due(head.id, &facts, today) {
                let reminder = SupplierReminder {
                    kind: due.kind,
                    supplier_id: head.id,
                    supplier: head.name.clone(),
                    subject_id: due.subject_id,
                    due_on: due.due_on,
                    recipient_id: owner_id,
                    recipient: owner.clone(),
                };
                let mut tx = self.db.begin().await?;
                let claimed: Option<(i64,)> = tx
                    .fetch_optional(
                        sql(
                            "INSERT INTO supplier_reminders (tenant_id, kind, subject_id, \
                             recipient_id, due_on, sent_at) VALUES ($1, $2, $3, $4, $5, $6) \
                             ON CONFLICT (tenant_id, kind, subject_id, recipient_id, due_on) \
                             DO NOTHING RETURNING id",
                        )
                        .bind(tenant_id)
                        .bind(due.kind.as_str())
                        .bind(due.subject_id)
                        .bind(owner_id)
                        .bind(date_text(due.due_on))
                        .bind(now_micros()),
                    )
                    .await?;
                let Some((reminder_id,)) = claimed else {
                    continue;
                };
                let (subject, body) = render(&reminder);
                let record_type = match due.kind {
                    ReminderKind::PerformanceReviewDue => "supplier",
                    _ => "supplier_contract",
                };
                let mail = OutMail {
                    record_type: record_type.into(),
                    record_id: due.subject_id,
                    to_address: owner.1.clone(),
                    subject,
                    body,
                    message_id: format!(
                        "supplier-reminder.{tenant_id}.{reminder_id}.{}@steward",
                        due.kind.as_str()
                    ),
                    in_reply_to: None,
                    references: None,
                };
                queue_mail_in(&mut tx, tenant_id, &mail).await?;
                tx.commit().await?;
                sent.push(reminder);
            }
        }
        Ok(sent)
    }
}
