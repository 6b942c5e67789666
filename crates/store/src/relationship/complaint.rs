//! Complaints (8.3.2-g/h/i): each with its status history (`complaint_history`, written in the
//! transaction of every step), its escalations, the nonconformity or improvement it raised, and
//! the reminders mailed to its owner once it runs past its target date.

use super::{check_active_user, check_exists};
use crate::db::{Sql, Tx, sql};
use crate::journal::Record;
use crate::mail::{OutMail, queue_mail_in};
use crate::page::{CursorKey, Page, PageRequest, finish, paginate};
use crate::sms::improvement::capitalised;
use crate::sms::{NEWEST_FIRST, date_text, stored_date, stored_optional_date};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::Serialize;
use steward_domain::relationship::complaint::{
    Channel, ComplaintDraft, ComplaintStatus, ComplaintStep, EscalationDraft, StepError, StepInput,
    ValidComplaint, overdue, transition,
};

/// A complaint as kept (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Complaint {
    pub id: i64,
    pub customer_id: i64,
    pub service_id: Option<i64>,
    pub complainant: String,
    pub received_on: Date,
    pub channel: Channel,
    pub summary: String,
    pub details: String,
    pub owner_id: i64,
    pub target_date: Date,
    pub status: ComplaintStatus,
    pub findings: String,
    pub action_taken: String,
    pub outcome: String,
    pub closed_on: Option<Date>,
    pub customer_informed: bool,
    pub nonconformity_id: Option<i64>,
    pub improvement_id: Option<i64>,
    pub raised_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Complaint {
    const KIND: &'static str = "complaint";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Complaint {
    /// `CMP-<id>`.
    pub fn key(&self) -> String {
        format!("CMP-{}", self.id)
    }

    /// Open and past its target date on `today`.
    pub fn overdue(&self, today: Date) -> bool {
        overdue(self.status, self.target_date, today)
    }

    /// The editable fields, as a draft to edit.
    pub fn draft(&self) -> ComplaintDraft {
        ComplaintDraft {
            customer_id: Some(self.customer_id),
            service_id: self.service_id,
            complainant: self.complainant.clone(),
            received_on: self.received_on,
            channel: self.channel,
            summary: self.summary.clone(),
            details: self.details.clone(),
            owner_id: Some(self.owner_id),
            target_date: Some(self.target_date),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ComplaintRow {
    id: i64,
    customer_id: i64,
    service_id: Option<i64>,
    complainant: String,
    received_on: String,
    #[sqlx(try_from = "String")]
    channel: Channel,
    summary: String,
    details: String,
    owner_id: i64,
    target_date: String,
    #[sqlx(try_from = "String")]
    status: ComplaintStatus,
    findings: String,
    action_taken: String,
    outcome: String,
    closed_on: Option<String>,
    customer_informed: bool,
    nonconformity_id: Option<i64>,
    improvement_id: Option<i64>,
    raised_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ComplaintRow {
    fn into_complaint(self) -> StoreResult<Complaint> {
        Ok(Complaint {
            received_on: stored_date("complaint", self.id, &self.received_on)?,
            target_date: stored_date("complaint", self.id, &self.target_date)?,
            closed_on: stored_optional_date("complaint", self.id, self.closed_on.as_deref())?,
            id: self.id,
            customer_id: self.customer_id,
            service_id: self.service_id,
            complainant: self.complainant,
            channel: self.channel,
            summary: self.summary,
            details: self.details,
            owner_id: self.owner_id,
            status: self.status,
            findings: self.findings,
            action_taken: self.action_taken,
            outcome: self.outcome,
            customer_informed: self.customer_informed,
            nonconformity_id: self.nonconformity_id,
            improvement_id: self.improvement_id,
            raised_by: self.raised_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, customer_id, service_id, complainant, received_on, channel, summary, \
                       details, owner_id, target_date, status, findings, action_taken, outcome, \
                       closed_on, customer_informed, nonconformity_id, improvement_id, raised_by, \
                       created_at, updated_at";

/// One line of a complaint's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ComplaintHistoryRow {
    pub id: i64,
    pub step: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: i64,
}

/// An escalation of a complaint past its target date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub id: i64,
    pub complaint_id: i64,
    pub escalated_on: Date,
    pub escalated_to: String,
    pub reason: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: i64,
}

impl Record for Escalation {
    const KIND: &'static str = "complaint_escalation";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
struct EscalationRow {
    id: i64,
    complaint_id: i64,
    escalated_on: String,
    escalated_to: String,
    reason: String,
    actor_id: Option<i64>,
    actor_label: String,
    at: i64,
}

impl EscalationRow {
    fn into_escalation(self) -> StoreResult<Escalation> {
        Ok(Escalation {
            escalated_on: stored_date("escalation", self.id, &self.escalated_on)?,
            id: self.id,
            complaint_id: self.complaint_id,
            escalated_to: self.escalated_to,
            reason: self.reason,
            actor_id: self.actor_id,
            actor_label: self.actor_label,
            at: self.at,
        })
    }
}

const ESCALATION_COLUMNS: &str =
    "id, complaint_id, escalated_on, escalated_to, reason, actor_id, actor_label, at";

/// Which complaints a list shows.
#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    /// Only those not closed.
    pub open_only: bool,
    pub customer_id: Option<i64>,
    /// Only open ones past their target date on this day.
    pub overdue_on: Option<Date>,
}

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM complaints WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn read(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Complaint> {
    tx.fetch_one::<ComplaintRow>(select_one(tenant_id, id))
        .await?
        .into_complaint()
}

fn bind_valid(q: Sql, v: &ValidComplaint) -> Sql {
    q.bind(v.customer_id)
        .bind(v.service_id)
        .bind(&v.complainant)
        .bind(date_text(v.received_on))
        .bind(v.channel.as_str())
        .bind(&v.summary)
        .bind(&v.details)
        .bind(v.owner_id)
        .bind(date_text(v.target_date))
}

#[allow(clippy::too_many_arguments)]
async fn record_history(
    tx: &mut Tx,
    tenant_id: i64,
    complaint_id: i64,
    step: &str,
    from: Option<ComplaintStatus>,
    to: ComplaintStatus,
    note: &str,
    actor: &Actor,
) -> StoreResult<()> {
    tx.execute(
        sql(
            "INSERT INTO complaint_history (tenant_id, complaint_id, step, from_status, to_status, \
             note, actor_id, actor_label, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant_id)
        .bind(complaint_id)
        .bind(step)
        .bind(from.map(|s| s.as_str().to_string()))
        .bind(to.as_str())
        .bind(note)
        .bind(actor.user_id)
        .bind(&actor.label)
        .bind(now_micros()),
    )
    .await
    .map(drop)
}

impl Store {
    async fn check_complaint_refs(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        v: &ValidComplaint,
    ) -> StoreResult<()> {
        check_exists(
            tx,
            tenant_id,
            "customers",
            "customer_id",
            "Customer",
            Some(v.customer_id),
        )
        .await?;
        check_exists(
            tx,
            tenant_id,
            "services",
            "service_id",
            "Service",
            v.service_id,
        )
        .await?;
        check_active_user(tx, tenant_id, "owner_id", "The owner", Some(v.owner_id)).await
    }

    /// Records a complaint received on or before `today`; it starts as received.
    pub async fn create_complaint(
        &self,
        tenant_id: i64,
        draft: &ComplaintDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Complaint> {
        let v = draft.clone().validate(today)?;
        let mut tx = self.db.begin().await?;
        self.check_complaint_refs(&mut tx, tenant_id, &v).await?;
        let write = sql(
            "INSERT INTO complaints (tenant_id, customer_id, service_id, complainant, received_on, \
             channel, summary, details, owner_id, target_date, status, raised_by, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             RETURNING id",
        )
        .bind(tenant_id);
        let (id,): (i64,) = tx
            .fetch_one(
                bind_valid(write, &v)
                    .bind(ComplaintStatus::Received.as_str())
                    .bind(actor.user_id)
                    .bind(now_micros()),
            )
            .await?;
        record_history(
            &mut tx,
            tenant_id,
            id,
            "receive",
            None,
            ComplaintStatus::Received,
            "Recorded",
            actor,
        )
        .await?;
        let created = read(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    pub async fn complaint(&self, tenant_id: i64, id: i64) -> StoreResult<Complaint> {
        self.db
            .fetch_one::<ComplaintRow>(select_one(tenant_id, id))
            .await?
            .into_complaint()
    }

    /// Replaces an open complaint's fields; `seen_updated_at`, when given, must match (someone
    /// else's change in between is a conflict). A closed complaint is kept as it was closed.
    pub async fn update_complaint(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: Option<i64>,
        draft: &ComplaintDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Complaint> {
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        // A complaint received before today keeps its date checked against today.
        let v = draft.clone().validate(today)?;
        if seen_updated_at.is_some_and(|seen| seen != before.updated_at) {
            return Err(StoreError::Conflict(
                "The complaint was changed by someone else; reload it and try again".into(),
            ));
        }
        if !before.status.is_open() {
            return Err(StoreError::Conflict(
                "The complaint is closed and can no longer be edited".into(),
            ));
        }
        self.check_complaint_refs(&mut tx, tenant_id, &v).await?;
        let write = sql(
            "UPDATE complaints SET customer_id = $1, service_id = $2, complainant = $3, \
             received_on = $4, channel = $5, summary = $6, details = $7, owner_id = $8, \
             target_date = $9, updated_at = $10 WHERE tenant_id = $11 AND id = $12",
        );
        tx.execute(
            bind_valid(write, &v)
                .bind(next_updated_at(before.updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Takes `step` with what it carries. Out of order is a `Conflict`; missing findings,
    /// action, outcome or the complainant informed are field errors. Nothing changes then.
    pub async fn transition_complaint(
        &self,
        tenant_id: i64,
        id: i64,
        step: ComplaintStep,
        input: StepInput,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Complaint> {
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        let (to, clean) = transition(before.status, step, input, before.received_on, today)
            .map_err(|e| match e {
                StepError::Refused(r) => StoreError::Conflict(capitalised(&r.to_string())),
                StepError::Invalid(i) => StoreError::Invalid(i),
            })?;
        let mut write = sql("UPDATE complaints SET status = $1, updated_at = $2")
            .bind(to.as_str())
            .bind(next_updated_at(before.updated_at));
        match step {
            ComplaintStep::Investigate => {}
            ComplaintStep::Action => {
                write = write
                    .push_bound(", findings = {}", clean.findings.as_str())
                    .push_bound(", action_taken = {}", clean.action_taken.as_str());
            }
            ComplaintStep::Close => {
                write = write
                    .push_bound(", closed_on = {}", clean.closed_on.map(date_text))
                    .push_bound(", customer_informed = {}", clean.customer_informed)
                    .push_bound(", outcome = {}", clean.outcome.as_str());
            }
        }
        tx.execute(
            write
                .push_bound(" WHERE tenant_id = {}", tenant_id)
                .push_bound(" AND id = {}", id),
        )
        .await?;
        let note = if clean.note.is_empty() {
            step.label().to_string()
        } else {
            clean.note.clone()
        };
        record_history(
            &mut tx,
            tenant_id,
            id,
            step.as_str(),
            Some(before.status),
            to,
            &note,
            actor,
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Escalates an open complaint past its target date to a named person, with the reason.
    pub async fn escalate_complaint(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &EscalationDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Escalation> {
        let mut tx = self.db.begin().await?;
        let complaint = read(&mut tx, tenant_id, id).await?;
        let d = draft
            .clone()
            .validate(complaint.status, complaint.target_date, today)?;
        let row: EscalationRow = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO complaint_escalations (tenant_id, complaint_id, escalated_on, \
                     escalated_to, reason, actor_id, actor_label, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ESCALATION_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(id)
                .bind(date_text(today))
                .bind(&d.escalated_to)
                .bind(&d.reason)
                .bind(actor.user_id)
                .bind(&actor.label)
                .bind(now_micros()),
            )
            .await?;
        let created = row.into_escalation()?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// A complaint's escalations, oldest first.
    pub async fn complaint_escalations(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<Vec<Escalation>> {
        let rows: Vec<EscalationRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {ESCALATION_COLUMNS} FROM complaint_escalations WHERE tenant_id = $1 \
                     AND complaint_id = $2 ORDER BY id LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        rows.into_iter()
            .map(EscalationRow::into_escalation)
            .collect()
    }

    /// A complaint's status history, oldest first.
    pub async fn complaint_history(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<Vec<ComplaintHistoryRow>> {
        self.db
            .fetch_all(
                sql(
                    "SELECT id, step, from_status, to_status, note, actor_id, actor_label, at \
                     FROM complaint_history WHERE tenant_id = $1 AND complaint_id = $2 \
                     ORDER BY id LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }

    /// A page of complaints, newest first.
    pub async fn complaints(
        &self,
        tenant_id: i64,
        f: &ComplaintFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Complaint>> {
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM complaints WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if f.open_only || f.overdue_on.is_some() {
            q = q.push_bound(" AND status <> {}", ComplaintStatus::Closed.as_str());
        }
        if let Some(c) = f.customer_id {
            q = q.push_bound(" AND customer_id = {}", c);
        }
        if let Some(day) = f.overdue_on {
            q = q.push_bound(" AND target_date < {}", date_text(day));
        }
        let rows: Vec<ComplaintRow> = self.db.fetch_all(paginate(q, NEWEST_FIRST, page)?).await?;
        let items = rows
            .into_iter()
            .map(ComplaintRow::into_complaint)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |c| (CursorKey::Int(c.id), c.id)))
    }

    /// Complaints received in `[from, to]`, oldest first: what the management review reads.
    pub async fn complaints_received(
        &self,
        tenant_id: i64,
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<Complaint>> {
        let rows: Vec<ComplaintRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM complaints WHERE tenant_id = $1 AND received_on >= $2 \
                     AND received_on <= $3 ORDER BY received_on, id LIMIT 10000"
                ))
                .bind(tenant_id)
                .bind(date_text(from))
                .bind(date_text(to)),
            )
            .await?;
        rows.into_iter().map(ComplaintRow::into_complaint).collect()
    }

    /// Ids of the tenant's complaints that were escalated at least once.
    pub async fn escalated_complaint_ids(&self, tenant_id: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = self
            .db
            .fetch_all(
                sql("SELECT DISTINCT complaint_id FROM complaint_escalations WHERE tenant_id = $1")
                    .bind(tenant_id),
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Raises a nonconformity (source: complaint) from a complaint, in the transaction that
    /// links the complaint to it. A complaint raises one at most.
    pub async fn raise_nonconformity_from_complaint(
        &self,
        tenant_id: i64,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<Complaint> {
        use steward_domain::sms::nonconformity::{NonconformityDraft, Severity, Source};
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.nonconformity_id.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} has already raised a nonconformity",
                before.key()
            )));
        }
        let draft = NonconformityDraft {
            title: format!("Complaint {}: {}", before.key(), before.summary)
                .chars()
                .take(200)
                .collect(),
            description: complaint_origin(&before),
            clause_id: Some("8.3.2".into()),
            severity: Severity::Minor,
            // A complaint's nonconformity carries no reference (the register takes none for
            // this source): the complaint keeps the link, `complaint_of_nonconformity` reads it.
            source: Source::Complaint,
            source_ref: None,
            owner_id: Some(before.owner_id),
        };
        let nc = self
            .raise_nonconformity_in(&mut tx, tenant_id, &draft, actor)
            .await?;
        self.link_complaint(tx, tenant_id, before, "nonconformity_id", nc, actor)
            .await
    }

    /// Proposes an improvement (source: customer, `source_ref` the complaint) from a
    /// complaint, in the transaction that links the complaint to it.
    pub async fn propose_improvement_from_complaint(
        &self,
        tenant_id: i64,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<Complaint> {
        use steward_domain::sms::improvement::{
            ImprovementDraft, ImprovementSource, MAX_TEXT, Priority,
        };
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.improvement_id.is_some() {
            return Err(StoreError::Conflict(format!(
                "{} has already proposed an improvement",
                before.key()
            )));
        }
        let draft = ImprovementDraft {
            title: format!("From complaint {}: {}", before.key(), before.summary)
                .chars()
                .take(200)
                .collect(),
            description: complaint_origin(&before).chars().take(MAX_TEXT).collect(),
            source: ImprovementSource::Customer,
            source_ref: Some(id),
            evaluation_criteria: String::new(),
            expected_benefit: String::new(),
            priority: Priority::Medium,
            owner_id: Some(before.owner_id),
            target_date: None,
        }
        .validate()?;
        let improvement = self
            .create_improvement_in(&mut tx, tenant_id, &draft, actor)
            .await?;
        self.link_complaint(
            tx,
            tenant_id,
            before,
            "improvement_id",
            improvement.id,
            actor,
        )
        .await
    }

    async fn link_complaint(
        &self,
        mut tx: Tx,
        tenant_id: i64,
        before: Complaint,
        column: &'static str,
        target: i64,
        actor: &Actor,
    ) -> StoreResult<Complaint> {
        tx.execute(
            sql(format!(
                "UPDATE complaints SET {column} = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4"
            ))
            .bind(target)
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(before.id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, before.id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// The complaint that raised nonconformity `nc_id`, if one did.
    pub async fn complaint_of_nonconformity(
        &self,
        tenant_id: i64,
        nc_id: i64,
    ) -> StoreResult<Option<Complaint>> {
        self.complaint_linked(tenant_id, "nonconformity_id", nc_id)
            .await
    }

    /// The complaint that proposed improvement `improvement_id`, if one did.
    pub async fn complaint_of_improvement(
        &self,
        tenant_id: i64,
        improvement_id: i64,
    ) -> StoreResult<Option<Complaint>> {
        self.complaint_linked(tenant_id, "improvement_id", improvement_id)
            .await
    }

    async fn complaint_linked(
        &self,
        tenant_id: i64,
        column: &'static str,
        id: i64,
    ) -> StoreResult<Option<Complaint>> {
        let row: Option<ComplaintRow> = self
            .db
            .fetch_optional(
                sql(format!(
                    "SELECT {COLUMNS} FROM complaints WHERE tenant_id = $1 AND {column} = $2 \
                     ORDER BY id LIMIT 1"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        row.map(ComplaintRow::into_complaint).transpose()
    }

    /// Mails the owner of each open complaint past its target date on `today`, once per
    /// complaint, owner and target date. Returns the complaints reminded about.
    pub async fn send_complaint_reminders(
        &self,
        tenant_id: i64,
        today: Date,
        render: impl Fn(&Complaint, &str) -> (String, String),
    ) -> StoreResult<Vec<Complaint>> {
        let rows: Vec<ComplaintRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM complaints WHERE tenant_id = $1 AND status <> $2 \
                     AND target_date < $3 ORDER BY id LIMIT 10000"
                ))
                .bind(tenant_id)
                .bind(ComplaintStatus::Closed.as_str())
                .bind(date_text(today)),
            )
            .await?;
        let mut sent = Vec::new();
        for row in rows {
            let c = row.into_complaint()?;
            let recipient: Option<(String, String)> = self
                .db
                .fetch_optional(
                    sql("SELECT name, email FROM users WHERE tenant_id = $1 AND id = $2 AND active = $3")
                        .bind(tenant_id)
                        .bind(c.owner_id)
                        .bind(true),
                )
                .await?;
            let Some((name, email)) = recipient else {
                continue;
            };
            let mut tx = self.db.begin().await?;
            let claimed: Option<(i64,)> = tx
                .fetch_optional(
                    sql(
                        "INSERT INTO complaint_reminders (tenant_id, complaint_id, recipient_id, \
                         due_on, sent_at) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (tenant_id, complaint_id, recipient_id, due_on) DO NOTHING \
                         RETURNING id",
                    )
                    .bind(tenant_id)
                    .bind(c.id)
                    .bind(c.owner_id)
                    .bind(date_text(c.target_date))
                    .bind(now_micros()),
                )
                .await?;
            let Some((reminder_id,)) = claimed else {
                continue;
            };
            let (subject, body) = render(&c, &name);
            let mail = OutMail {
                record_type: Complaint::KIND.into(),
                record_id: c.id,
                to_address: email,
                subject,
                body,
                message_id: format!("complaint-reminder.{tenant_id}.{reminder_id}@steward"),
                in_reply_to: None,
                references: None,
            };
            queue_mail_in(&mut tx, tenant_id, &mail).await?;
            tx.commit().await?;
            sent.push(c);
        }
        Ok(sent)
    }
}

/// Where a record raised by a complaint came from, in its description.
fn complaint_origin(c: &Complaint) -> String {
    let mut text = format!(
        "Raised from complaint {} by {} received on {}.\n\n{}",
        c.key(),
        c.complainant,
        c.received_on,
        c.summary
    );
    if !c.details.is_empty() {
        text.push_str("\n\n");
        text.push_str(&c.details);
    }
    text.chars().take(5_000).collect()
}
