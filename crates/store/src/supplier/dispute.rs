//! Disputes with a supplier (`supplier_disputes`) and every step each took
//! (`supplier_dispute_steps`, written in the step's transaction).

use super::step_error;
use crate::db::{Tx, sql};
use crate::journal::Record;
use crate::sms::{date_text, stored_date};
use crate::{Actor, Store, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::supplier::dispute::{DisputeDraft, DisputeState, DisputeStep, StepInput, step};

/// A dispute as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierDispute {
    pub id: i64,
    pub supplier_id: i64,
    pub raised_on: Date,
    pub subject: String,
    pub details: String,
    pub state: DisputeState,
    pub escalated_to: String,
    pub escalation_reason: String,
    pub resolution: String,
    pub raised_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for SupplierDispute {
    const KIND: &'static str = "supplier_dispute";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DisputeRow {
    id: i64,
    supplier_id: i64,
    raised_on: String,
    subject: String,
    details: String,
    #[sqlx(try_from = "String")]
    state: DisputeState,
    escalated_to: String,
    escalation_reason: String,
    resolution: String,
    raised_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl DisputeRow {
    pub(crate) fn into_dispute(self) -> StoreResult<SupplierDispute> {
        Ok(SupplierDispute {
            raised_on: stored_date("supplier dispute", self.id, &self.raised_on)?,
            id: self.id,
            supplier_id: self.supplier_id,
            subject: self.subject,
            details: self.details,
            state: self.state,
            escalated_to: self.escalated_to,
            escalation_reason: self.escalation_reason,
            resolution: self.resolution,
            raised_by: self.raised_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) const DISPUTE_COLUMNS: &str = "id, supplier_id, raised_on, subject, details, state, \
     escalated_to, escalation_reason, resolution, raised_by, created_at, updated_at";

/// One step a dispute took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DisputeStepRow {
    pub id: i64,
    pub dispute_id: i64,
    pub step: String,
    pub from_state: String,
    pub to_state: String,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: i64,
}

async fn read_dispute(
    tx: &mut Tx,
    tenant_id: i64,
    supplier_id: i64,
    id: i64,
) -> StoreResult<SupplierDispute> {
    tx.fetch_one::<DisputeRow>(
        sql(format!(
            "SELECT {DISPUTE_COLUMNS} FROM supplier_disputes \
             WHERE tenant_id = $1 AND supplier_id = $2 AND id = $3"
        ))
        .bind(tenant_id)
        .bind(supplier_id)
        .bind(id),
    )
    .await?
    .into_dispute()
}

impl Store {
    /// Logs a dispute with a supplier, validated against `today`; it starts open.
    pub async fn create_supplier_dispute(
        &self,
        tenant_id: i64,
        supplier_id: i64,
        draft: DisputeDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<SupplierDispute> {
        let d = draft.validate(today)?;
        let mut tx = self.db.begin().await?;
        super::read(&mut tx, tenant_id, supplier_id).await?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql(
                    "INSERT INTO supplier_disputes (tenant_id, supplier_id, raised_on, subject, \
                     details, state, raised_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                )
                .bind(tenant_id)
                .bind(supplier_id)
                .bind(date_text(d.raised_on))
                .bind(&d.subject)
                .bind(&d.details)
                .bind(DisputeState::Open.as_str())
                .bind(actor.user_id)
                .bind(now_micros()),
            )
            .await?;
        let created = read_dispute(&mut tx, tenant_id, supplier_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Takes a step of a dispute's lifecycle. A step the lifecycle refuses is a `Conflict`,
    /// missing fields are field errors; either way nothing changes.
    pub async fn step_supplier_dispute(
        &self,
        tenant_id: i64,
        supplier_id: i64,
        id: i64,
        to_take: DisputeStep,
        input: StepInput,
        actor: &Actor,
    ) -> StoreResult<SupplierDispute> {
        let mut tx = self.db.begin().await?;
        let before = read_dispute(&mut tx, tenant_id, supplier_id, id).await?;
        let done = step(before.state, to_take, input).map_err(step_error)?;
        let mut write = sql("UPDATE supplier_disputes SET state = $1, updated_at = $2")
            .bind(done.to.as_str())
            .bind(next_updated_at(before.updated_at));
        match to_take {
            DisputeStep::Escalate => {
                write = write
                    .push_bound(", escalated_to = {}", done.escalated_to.as_str())
                    .push_bound(", escalation_reason = {}", done.note.as_str());
            }
            DisputeStep::Resolve => {
                write = write.push_bound(", resolution = {}", done.note.as_str());
            }
            DisputeStep::Close => {}
        }
        tx.execute(
            write
                .push_bound(" WHERE tenant_id = {}", tenant_id)
                .push_bound(" AND id = {}", id),
        )
        .await?;
        let note = match to_take {
            DisputeStep::Escalate => format!("To {}: {}", done.escalated_to, done.note),
            _ => done.note.clone(),
        };
        tx.execute(
            sql(
                "INSERT INTO supplier_dispute_steps (tenant_id, dispute_id, step, from_state, \
                 to_state, note, actor_id, actor_label, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(to_take.as_str())
            .bind(before.state.as_str())
            .bind(done.to.as_str())
            .bind(note)
            .bind(actor.user_id)
            .bind(&actor.label)
            .bind(now_micros()),
        )
        .await?;
        let after = read_dispute(&mut tx, tenant_id, supplier_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn supplier_dispute(
        &self,
        tenant_id: i64,
        supplier_id: i64,
        id: i64,
    ) -> StoreResult<SupplierDispute> {
        self.db
            .fetch_one::<DisputeRow>(
                sql(format!(
                    "SELECT {DISPUTE_COLUMNS} FROM supplier_disputes \
                     WHERE tenant_id = $1 AND supplier_id = $2 AND id = $3"
                ))
                .bind(tenant_id)
                .bind(supplier_id)
                .bind(id),
            )
            .await?
            .into_dispute()
    }

    /// A supplier's disputes, latest raised first.
    pub async fn supplier_disputes(
        &self,
        tenant_id: i64,
        supplier_id: i64,
    ) -> StoreResult<Vec<SupplierDispute>> {
        let rows: Vec<DisputeRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {DISPUTE_COLUMNS} FROM supplier_disputes WHERE tenant_id = $1 \
                     AND supplier_id = $2 ORDER BY raised_on DESC, id DESC LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(supplier_id),
            )
            .await?;
        rows.into_iter().map(DisputeRow::into_dispute).collect()
    }

    /// Every step of a supplier's disputes, oldest first.
    pub async fn supplier_dispute_steps(
        &self,
        tenant_id: i64,
        supplier_id: i64,
    ) -> StoreResult<Vec<DisputeStepRow>> {
        self.db
            .fetch_all(
                sql(
                    "SELECT s.id, s.dispute_id, s.step, s.from_state, s.to_state, s.note, \
                     s.actor_id, s.actor_label, s.at FROM supplier_dispute_steps s \
                     JOIN supplier_disputes d ON d.id = s.dispute_id \
                     WHERE s.tenant_id = $1 AND d.supplier_id = $2 ORDER BY s.id LIMIT 5000",
                )
                .bind(tenant_id)
                .bind(supplier_id),
            )
            .await
    }
}
