//! The certificate register: what `steward_domain::certificate` decided, kept.
//!
//! Certificates with their status and the reason for it; every status they have had
//! (`certificate_status_history`, written in the transaction of the change); the reminders
//! already sent (`certificate_reminders`), which make the daily job send each reminder once
//! however many nodes run it; and the public lookup by number across tenants, which leaves out
//! confidential certificates. Every write is journaled in its transaction.

use crate::db::{Sql, Tx, sql};
use crate::journal::Record;
use crate::mail::{OutMail, queue_mail_in};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::certificate::{
    CertificateDraft, CertificateStatus, ReminderKind, expires_now, reminders_due,
};

/// A certificate as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub id: i64,
    pub number: String,
    pub standard: String,
    pub scope: String,
    pub organisation: String,
    pub sites: String,
    pub certification_body: String,
    pub accreditation_body: String,
    pub accreditation_number: String,
    pub original_date: Date,
    pub issue_date: Date,
    pub expiry_date: Date,
    pub next_surveillance: Option<Date>,
    pub confidential: bool,
    pub status: CertificateStatus,
    /// Why it has its current status.
    pub status_reason: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Certificate {
    const KIND: &'static str = "certificate";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Certificate {
    /// Its fields as a draft, to edit and validate again for `update_certificate`.
    pub fn draft(&self) -> CertificateDraft {
        CertificateDraft {
            number: self.number.clone(),
            standard: self.standard.clone(),
            scope: self.scope.clone(),
            organisation: self.organisation.clone(),
            sites: self.sites.clone(),
            certification_body: self.certification_body.clone(),
            accreditation_body: self.accreditation_body.clone(),
            accreditation_number: self.accreditation_number.clone(),
            original_date: self.original_date,
            issue_date: self.issue_date,
            expiry_date: self.expiry_date,
            next_surveillance: self.next_surveillance,
            confidential: self.confidential,
        }
    }
}

#[derive(sqlx::FromRow)]
struct CertificateRow {
    id: i64,
    number: String,
    standard: String,
    scope: String,
    organisation: String,
    sites: String,
    certification_body: String,
    accreditation_body: String,
    accreditation_number: String,
    original_date: String,
    issue_date: String,
    expiry_date: String,
    next_surveillance: Option<String>,
    confidential: bool,
    #[sqlx(try_from = "String")]
    status: CertificateStatus,
    status_reason: String,
    created_at: i64,
    updated_at: i64,
}

fn stored_date(id: i64, text: &str) -> StoreResult<Date> {
    Date::strptime("%Y-%m-%d", text)
        .map_err(|e| StoreError::Corrupt(format!("certificate {id} date `{text}`: {e}")))
}

fn date_text(date: Date) -> String {
    date.strftime("%Y-%m-%d").to_string()
}

impl CertificateRow {
    fn into_certificate(self) -> StoreResult<Certificate> {
        let id = self.id;
        Ok(Certificate {
            id,
            original_date: stored_date(id, &self.original_date)?,
            issue_date: stored_date(id, &self.issue_date)?,
            expiry_date: stored_date(id, &self.expiry_date)?,
            next_surveillance: self
                .next_surveillance
                .as_deref()
                .map(|t| stored_date(id, t))
                .transpose()?,
            number: self.number,
            standard: self.standard,
            scope: self.scope,
            organisation: self.organisation,
            sites: self.sites,
            certification_body: self.certification_body,
            accreditation_body: self.accreditation_body,
            accreditation_number: self.accreditation_number,
            confidential: self.confidential,
            status: self.status,
            status_reason: self.status_reason,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn into_all(rows: Vec<CertificateRow>) -> StoreResult<Vec<Certificate>> {
    rows.into_iter()
        .map(CertificateRow::into_certificate)
        .collect()
}

const COLUMNS: &str = "id, number, standard, scope, organisation, sites, certification_body, \
                       accreditation_body, accreditation_number, original_date, issue_date, \
                       expiry_date, next_surveillance, confidential, status, status_reason, \
                       created_at, updated_at";
const NUMBER_TAKEN: (&str, &str) = (
    "number",
    "Another certificate in this organisation has this number",
);

/// One status a certificate had: from (none when it was recorded), to, why, who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StatusChange {
    pub id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: i64,
}

/// Which certificates a list shows.
#[derive(Debug, Clone, Default)]
pub struct CertificateFilter {
    pub status: Option<CertificateStatus>,
    /// `expiry_date` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

/// A certificate the public register shows, with the slug of the tenant that holds it.
#[derive(Debug, Clone)]
pub struct PublicCertificate {
    pub tenant_id: i64,
    pub tenant: String,
    pub certificate: Certificate,
}

/// One reminder to send: a certificate whose expiry or surveillance audit is near.
#[derive(Debug, Clone)]
pub struct CertificateReminder {
    pub certificate: Certificate,
    pub kind: ReminderKind,
    pub due_on: Date,
    /// Whole days from the day the job ran.
    pub days_left: i64,
    /// Name and e-mail address of each recipient.
    pub recipients: Vec<(String, String)>,
}

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM certificates WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn read_certificate(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Certificate> {
    let row: CertificateRow = tx.fetch_one(select_one(tenant_id, id)).await?;
    row.into_certificate()
}

/// Binds a draft's fields in the order the certificate writes list them: number, standard,
/// scope, organisation, sites, certification_body, accreditation_body, accreditation_number,
/// original_date, issue_date, expiry_date, next_surveillance, confidential.
fn bind_draft(q: Sql, d: &CertificateDraft) -> Sql {
    q.bind(&d.number)
        .bind(&d.standard)
        .bind(&d.scope)
        .bind(&d.organisation)
        .bind(&d.sites)
        .bind(&d.certification_body)
        .bind(&d.accreditation_body)
        .bind(&d.accreditation_number)
        .bind(date_text(d.original_date))
        .bind(date_text(d.issue_date))
        .bind(date_text(d.expiry_date))
        .bind(d.next_surveillance.map(date_text))
        .bind(d.confidential)
}

/// Appends a row to a certificate's status history, in `tx`.
async fn record_status(
    tx: &mut Tx,
    tenant_id: i64,
    certificate_id: i64,
    from: Option<CertificateStatus>,
    to: CertificateStatus,
    reason: &str,
    actor: &Actor,
) -> StoreResult<()> {
    tx.execute(
        sql("INSERT INTO certificate_status_history \
             (tenant_id, certificate_id, from_status, to_status, reason, actor_id, actor_label, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(tenant_id)
        .bind(certificate_id)
        .bind(from.map(|s| s.as_str().to_owned()))
        .bind(to.as_str())
        .bind(reason)
        .bind(actor.user_id)
        .bind(&actor.label)
        .bind(now_micros()),
    )
    .await
    .map(drop)
}

/// The reason a status change needs: trimmed, present, not too long.
fn checked_reason(reason: &str) -> StoreResult<String> {
    let mut errors = steward_domain::Invalid::new();
    let reason = steward_domain::validation::required_text(
        &mut errors,
        "reason",
        "Reason",
        reason,
        steward_domain::certificate::MAX_REASON,
    );
    Ok(errors.into_result(reason)?)
}

impl Store {
    /// Records a certificate from a validated draft in `status` (usually valid; an older one
    /// may be recorded as it stands). `reason` goes into its first history row.
    pub async fn create_certificate(
        &self,
        tenant_id: i64,
        draft: &CertificateDraft,
        status: CertificateStatus,
        reason: &str,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Certificate> {
        if status == CertificateStatus::Valid && draft.expiry_date < today {
            return Err(steward_domain::Invalid::one(
                "expiry_date",
                "A valid certificate cannot have an expiry date in the past",
            )
            .into());
        }
        let reason = checked_reason(reason)?;
        let mut tx = self.db.begin().await?;
        let write = sql(
            "INSERT INTO certificates (tenant_id, status, status_reason, number, standard, scope, organisation, \
             sites, certification_body, accreditation_body, accreditation_number, original_date, issue_date, \
             expiry_date, next_surveillance, confidential, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) \
             RETURNING id",
        )
        .bind(tenant_id)
        .bind(status.as_str())
        .bind(&reason);
        let write = bind_draft(write, draft).bind(now_micros());
        let (id,): (i64,) = tx
            .fetch_one(write)
            .await
            .map_err(|e| e.unique_as(NUMBER_TAKEN.0, NUMBER_TAKEN.1))?;
        record_status(&mut tx, tenant_id, id, None, status, &reason, actor).await?;
        let created = read_certificate(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a certificate's fields with a validated draft if it has not changed since
    /// `seen_updated_at` (`Conflict` otherwise). The status moves only by
    /// `change_certificate_status`.
    pub async fn update_certificate(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &CertificateDraft,
        actor: &Actor,
    ) -> StoreResult<Certificate> {
        let mut tx = self.db.begin().await?;
        let before = read_certificate(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The certificate was changed by someone else; reload it and try again".into(),
            ));
        }
        let write = sql(
            "UPDATE certificates SET number = $1, standard = $2, scope = $3, organisation = $4, sites = $5, \
             certification_body = $6, accreditation_body = $7, accreditation_number = $8, original_date = $9, \
             issue_date = $10, expiry_date = $11, next_surveillance = $12, confidential = $13, updated_at = $14 \
             WHERE tenant_id = $15 AND id = $16 AND updated_at = $17",
        );
        tx.execute(
            bind_draft(write, draft)
                .bind(next_updated_at(seen_updated_at))
                .bind(tenant_id)
                .bind(id)
                .bind(seen_updated_at),
        )
        .await
        .map_err(|e| e.unique_as(NUMBER_TAKEN.0, NUMBER_TAKEN.1))?;
        let after = read_certificate(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Moves a certificate to `to` for `reason`, as of `today`; a move the domain refuses is a
    /// `Conflict` with its message and changes nothing. The history row and the journal entry
    /// are written in the same transaction.
    pub async fn change_certificate_status(
        &self,
        tenant_id: i64,
        id: i64,
        to: CertificateStatus,
        reason: &str,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Certificate> {
        let reason = checked_reason(reason)?;
        let mut tx = self.db.begin().await?;
        let before = read_certificate(&mut tx, tenant_id, id).await?;
        before
            .status
            .transition(to, before.expiry_date, today)
            .map_err(|refusal| StoreError::Conflict(refusal.to_string()))?;
        self.move_in(&mut tx, tenant_id, &before, to, &reason, actor)
            .await?;
        let after = read_certificate(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    async fn move_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        before: &Certificate,
        to: CertificateStatus,
        reason: &str,
        actor: &Actor,
    ) -> StoreResult<()> {
        tx.execute(
            sql(
                "UPDATE certificates SET status = $1, status_reason = $2, updated_at = $3 \
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(to.as_str())
            .bind(reason)
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(before.id),
        )
        .await?;
        record_status(
            tx,
            tenant_id,
            before.id,
            Some(before.status),
            to,
            reason,
            actor,
        )
        .await
    }

    pub async fn certificate(&self, tenant_id: i64, id: i64) -> StoreResult<Certificate> {
        let row: CertificateRow = self.db.fetch_one(select_one(tenant_id, id)).await?;
        row.into_certificate()
    }

    /// A page of certificates, soonest expiry first unless asked otherwise.
    pub async fn certificates(
        &self,
        tenant_id: i64,
        f: &CertificateFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Certificate>> {
        let sort = Sort::parse_or_invalid(f.sort.as_deref(), &["expiry_date", "updated_at"])?;
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM certificates WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        let rows: Vec<CertificateRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(into_all(rows)?, page, |c| match sort.column {
            "updated_at" => (CursorKey::Int(c.updated_at), c.id),
            _ => (CursorKey::Text(date_text(c.expiry_date)), c.id),
        }))
    }

    /// A certificate's status history, oldest first.
    pub async fn certificate_history(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<Vec<StatusChange>> {
        // Another tenant's certificate is not found.
        self.certificate(tenant_id, id).await?;
        self.db
            .fetch_all(
                sql(
                    "SELECT id, from_status, to_status, reason, actor_id, actor_label, at \
                     FROM certificate_status_history WHERE tenant_id = $1 AND certificate_id = $2 \
                     ORDER BY id LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }

    /// The certificates the public register shows under `number` (ignoring case), in every
    /// tenant: numbers are unique per certification body, not across Steward. Confidential
    /// certificates are left out.
    pub async fn public_certificates(&self, number: &str) -> StoreResult<Vec<PublicCertificate>> {
        #[derive(sqlx::FromRow)]
        struct Found {
            tenant_id: i64,
            slug: String,
            #[sqlx(flatten)]
            row: CertificateRow,
        }
        let found: Vec<Found> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT c.tenant_id, t.slug, {} FROM certificates c JOIN tenants t ON t.id = c.tenant_id \
                     WHERE lower(c.number) = lower($1) AND c.confidential = $2 ORDER BY t.slug, c.id LIMIT 20",
                    COLUMNS
                        .split(", ")
                        .map(|c| format!("c.{}", c.trim()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .bind(number.trim())
                .bind(false),
            )
            .await?;
        found
            .into_iter()
            .map(|f| {
                Ok(PublicCertificate {
                    tenant_id: f.tenant_id,
                    tenant: f.slug,
                    certificate: f.row.into_certificate()?,
                })
            })
            .collect()
    }

    /// Moves the tenant's valid certificates whose expiry date is before `today` to expired,
    /// each with a history row and a journal entry by the system. Returns those it moved; a
    /// certificate another node moved first is skipped.
    pub async fn expire_certificates(
        &self,
        tenant_id: i64,
        today: Date,
    ) -> StoreResult<Vec<Certificate>> {
        let due: Vec<(i64,)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT id FROM certificates WHERE tenant_id = $1 AND status = 'valid' \
                     AND expiry_date < $2 ORDER BY id LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(date_text(today)),
            )
            .await?;
        let actor = Actor::system();
        let mut moved = Vec::new();
        for (id,) in due {
            let mut tx = self.db.begin().await?;
            let before = read_certificate(&mut tx, tenant_id, id).await?;
            if !expires_now(before.status, before.expiry_date, today) {
                continue;
            }
            let reason = format!("Expired on {} without recertification", before.expiry_date);
            self.move_in(
                &mut tx,
                tenant_id,
                &before,
                CertificateStatus::Expired,
                &reason,
                &actor,
            )
            .await?;
            let after = read_certificate(&mut tx, tenant_id, id).await?;
            moved.push(
                self.commit_update(tx, tenant_id, &actor, &before, after)
                    .await?,
            );
        }
        Ok(moved)
    }

    /// The tenant's active managers, who hear of certificate reminders.
    async fn certificate_recipients(&self, tenant_id: i64) -> StoreResult<Vec<(String, String)>> {
        self.db
            .fetch_all(
                sql("SELECT name, email FROM users WHERE tenant_id = $1 AND role = 'manager' AND active = $2 ORDER BY id")
                    .bind(tenant_id)
                    .bind(true),
            )
            .await
    }

    /// Sends the expiry and surveillance reminders due on `today`: one per certificate, kind and
    /// date, ever. Each is claimed in `certificate_reminders` in the same transaction as its
    /// mails, so a second run (on this node or another) finds it taken and sends nothing.
    /// `render` words the mail (subject, body) for one recipient.
    pub async fn send_certificate_reminders(
        &self,
        tenant_id: i64,
        today: Date,
        render: impl Fn(&CertificateReminder, &str) -> (String, String),
    ) -> StoreResult<Vec<CertificateReminder>> {
        let held: Vec<CertificateRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM certificates WHERE tenant_id = $1 \
                     AND status IN ('valid', 'suspended') ORDER BY id LIMIT 1000"
                ))
                .bind(tenant_id),
            )
            .await?;
        let mut sent = Vec::new();
        for certificate in into_all(held)? {
            let due = reminders_due(
                certificate.status,
                certificate.expiry_date,
                certificate.next_surveillance,
                today,
            );
            for (kind, due_on) in due {
                if let Some(reminder) = self
                    .send_one_reminder(tenant_id, &certificate, kind, due_on, today, &render)
                    .await?
                {
                    sent.push(reminder);
                }
            }
        }
        Ok(sent)
    }

    async fn send_one_reminder(
        &self,
        tenant_id: i64,
        certificate: &Certificate,
        kind: ReminderKind,
        due_on: Date,
        today: Date,
        render: &impl Fn(&CertificateReminder, &str) -> (String, String),
    ) -> StoreResult<Option<CertificateReminder>> {
        let recipients = self.certificate_recipients(tenant_id).await?;
        let mut tx = self.db.begin().await?;
        let claimed: Option<(i64,)> = tx
            .fetch_optional(
                sql("INSERT INTO certificate_reminders (tenant_id, certificate_id, kind, due_on, recipients, sent_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant_id, certificate_id, kind, due_on) DO NOTHING RETURNING id")
                .bind(tenant_id)
                .bind(certificate.id)
                .bind(kind.as_str())
                .bind(date_text(due_on))
                .bind(i64::try_from(recipients.len()).unwrap_or(i64::MAX))
                .bind(now_micros()),
            )
            .await?;
        let Some((reminder_id,)) = claimed else {
            return Ok(None);
        };
        let reminder = CertificateReminder {
            days_left: steward_domain::asset::days_until(today, due_on),
            certificate: certificate.clone(),
            kind,
            due_on,
            recipients,
        };
        for (n, (name, email)) in reminder.recipients.iter().enumerate() {
            let (subject, body) = render(&reminder, name);
            let mail = OutMail {
                record_type: Certificate::KIND.into(),
                record_id: certificate.id,
                to_address: email.clone(),
                subject,
                body,
                message_id: format!(
                    "certificate-reminder.{tenant_id}.{reminder_id}.{n}.{}@steward",
                    kind.as_str()
                ),
                in_reply_to: None,
                references: None,
            };
            queue_mail_in(&mut tx, tenant_id, &mail).await?;
        }
        tx.commit().await?;
        Ok(Some(reminder))
    }
}
