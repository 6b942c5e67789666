//! The improvement register (10.2): opportunities and every step each took, with the reason of
//! each decision and the benefit realised at closure (`improvement_steps`, written in the
//! transaction of the step).

use super::{NEWEST_FIRST, date_text, stored_optional_date};
use crate::db::{Sql, Tx, sql};
use crate::journal::{Change, Record};
use crate::page::{CursorKey, Page, PageRequest, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::journal::Action;
use steward_domain::sms::improvement::{
    ImprovementDraft, ImprovementSource, ImprovementStatus, ImprovementStep, Priority, step_note,
};

/// An opportunity as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Improvement {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub source: ImprovementSource,
    pub source_ref: Option<i64>,
    pub evaluation_criteria: String,
    pub expected_benefit: String,
    pub priority: Priority,
    pub owner_id: Option<i64>,
    pub target_date: Option<Date>,
    pub status: ImprovementStatus,
    /// The latest decision's reason, who took it and when.
    pub decision_reason: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    pub benefit_realised: String,
    pub raised_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Improvement {
    const KIND: &'static str = "improvement";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Improvement {
    pub fn draft(&self) -> ImprovementDraft {
        ImprovementDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            source: self.source,
            source_ref: self.source_ref,
            evaluation_criteria: self.evaluation_criteria.clone(),
            expected_benefit: self.expected_benefit.clone(),
            priority: self.priority,
            owner_id: self.owner_id,
            target_date: self.target_date,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ImprovementRow {
    id: i64,
    title: String,
    description: String,
    #[sqlx(try_from = "String")]
    source: ImprovementSource,
    source_ref: Option<i64>,
    evaluation_criteria: String,
    expected_benefit: String,
    #[sqlx(try_from = "String")]
    priority: Priority,
    owner_id: Option<i64>,
    target_date: Option<String>,
    #[sqlx(try_from = "String")]
    status: ImprovementStatus,
    decision_reason: String,
    decided_by: Option<i64>,
    decided_at: Option<i64>,
    benefit_realised: String,
    raised_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ImprovementRow {
    fn into_improvement(self) -> StoreResult<Improvement> {
        Ok(Improvement {
            target_date: stored_optional_date("improvement", self.id, self.target_date.as_deref())?,
            id: self.id,
            title: self.title,
            description: self.description,
            source: self.source,
            source_ref: self.source_ref,
            evaluation_criteria: self.evaluation_criteria,
            expected_benefit: self.expected_benefit,
            priority: self.priority,
            owner_id: self.owner_id,
            status: self.status,
            decision_reason: self.decision_reason,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            benefit_realised: self.benefit_realised,
            raised_by: self.raised_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, title, description, source, source_ref, evaluation_criteria, \
                       expected_benefit, priority, owner_id, target_date, status, decision_reason, \
                       decided_by, decided_at, benefit_realised, raised_by, created_at, updated_at";

/// One step an opportunity took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ImprovementStepRow {
    pub id: i64,
    pub step: String,
    pub from_status: String,
    pub to_status: String,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: i64,
}

/// Which opportunities a list shows.
#[derive(Debug, Clone, Default)]
pub struct ImprovementFilter {
    pub status: Option<ImprovementStatus>,
    pub priority: Option<Priority>,
    pub source: Option<ImprovementSource>,
}

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM improvements WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn read(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Improvement> {
    tx.fetch_one::<ImprovementRow>(select_one(tenant_id, id))
        .await?
        .into_improvement()
}

fn bind_draft(q: Sql, d: &ImprovementDraft) -> Sql {
    q.bind(&d.title)
        .bind(&d.description)
        .bind(d.source.as_str())
        .bind(d.source_ref)
        .bind(&d.evaluation_criteria)
        .bind(&d.expected_benefit)
        .bind(d.priority.as_str())
        .bind(d.owner_id)
        .bind(d.target_date.map(date_text))
}

impl Store {
    /// Raises an opportunity from a validated draft; it starts as proposed.
    pub async fn create_improvement(
        &self,
        tenant_id: i64,
        draft: &ImprovementDraft,
        actor: &Actor,
    ) -> StoreResult<Improvement> {
        self.check_owner(tenant_id, draft.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let created = self
            .create_improvement_in(&mut tx, tenant_id, draft, actor)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Raises an opportunity in `tx`, journaled there. The internal audit calls it in the
    /// transaction that records an opportunity-for-improvement finding, vouching for the owner.
    pub(crate) async fn create_improvement_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        draft: &ImprovementDraft,
        actor: &Actor,
    ) -> StoreResult<Improvement> {
        let write = sql(
            "INSERT INTO improvements (tenant_id, title, description, source, source_ref, \
             evaluation_criteria, expected_benefit, priority, owner_id, target_date, status, \
             raised_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        )
        .bind(tenant_id);
        let write = bind_draft(write, draft)
            .bind(ImprovementStatus::Proposed.as_str())
            .bind(actor.user_id)
            .bind(now_micros());
        let (id,): (i64,) = tx.fetch_one(write).await?;
        let created = read(tx, tenant_id, id).await?;
        self.journal(
            tx,
            Change::of(tenant_id, actor, Action::Create, None, Some(&created)),
        )
        .await?;
        Ok(created)
    }

    /// The opportunity an audit finding raised, if it raised one.
    pub async fn improvement_of_finding(
        &self,
        tenant_id: i64,
        finding_id: i64,
    ) -> StoreResult<Option<Improvement>> {
        let row: Option<ImprovementRow> = self
            .db
            .fetch_optional(
                sql(format!(
                    "SELECT {COLUMNS} FROM improvements WHERE tenant_id = $1 \
                     AND source = 'audit' AND source_ref = $2 ORDER BY id LIMIT 1"
                ))
                .bind(tenant_id)
                .bind(finding_id),
            )
            .await?;
        row.map(ImprovementRow::into_improvement).transpose()
    }

    /// Replaces an opportunity's fields if it has not changed since `seen_updated_at`. A
    /// closed or rejected one is kept as it was decided.
    pub async fn update_improvement(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &ImprovementDraft,
        actor: &Actor,
    ) -> StoreResult<Improvement> {
        self.check_owner(tenant_id, draft.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The improvement was changed by someone else; reload it and try again".into(),
            ));
        }
        if !before.status.is_open() {
            return Err(StoreError::Conflict(format!(
                "The improvement is {} and can no longer be edited",
                before.status.label().to_lowercase()
            )));
        }
        let write = sql(
            "UPDATE improvements SET title = $1, description = $2, source = $3, source_ref = $4, \
             evaluation_criteria = $5, expected_benefit = $6, priority = $7, owner_id = $8, \
             target_date = $9, updated_at = $10 WHERE tenant_id = $11 AND id = $12",
        );
        tx.execute(
            bind_draft(write, draft)
                .bind(next_updated_at(seen_updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Takes `step` with its note (the decision's reason, or the benefit realised when
    /// closing). A step the lifecycle refuses is a `Conflict` and changes nothing.
    pub async fn step_improvement(
        &self,
        tenant_id: i64,
        id: i64,
        step: ImprovementStep,
        note: &str,
        actor: &Actor,
    ) -> StoreResult<Improvement> {
        let note = step_note(step, note)?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        let to = step
            .apply(before.status)
            .map_err(|refused| StoreError::Conflict(capitalised(&refused.to_string())))?;
        let now = now_micros();
        let mut write = sql("UPDATE improvements SET status = $1, updated_at = $2")
            .bind(to.as_str())
            .bind(next_updated_at(before.updated_at));
        if step.is_decision() {
            write = write
                .push_bound(", decision_reason = {}", note.as_str())
                .push_bound(", decided_by = {}", actor.user_id)
                .push_bound(", decided_at = {}", now);
        }
        if step == ImprovementStep::Close {
            write = write.push_bound(", benefit_realised = {}", note.as_str());
        }
        tx.execute(
            write
                .push_bound(" WHERE tenant_id = {}", tenant_id)
                .push_bound(" AND id = {}", id),
        )
        .await?;
        tx.execute(
            sql(
                "INSERT INTO improvement_steps (tenant_id, improvement_id, step, from_status, \
                 to_status, note, actor_id, actor_label, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(step.as_str())
            .bind(before.status.as_str())
            .bind(to.as_str())
            .bind(&note)
            .bind(actor.user_id)
            .bind(&actor.label)
            .bind(now),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn improvement(&self, tenant_id: i64, id: i64) -> StoreResult<Improvement> {
        self.db
            .fetch_one::<ImprovementRow>(select_one(tenant_id, id))
            .await?
            .into_improvement()
    }

    /// A page of opportunities, newest first.
    pub async fn improvements(
        &self,
        tenant_id: i64,
        f: &ImprovementFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Improvement>> {
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM improvements WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(priority) = f.priority {
            q = q.push_bound(" AND priority = {}", priority.as_str());
        }
        if let Some(source) = f.source {
            q = q.push_bound(" AND source = {}", source.as_str());
        }
        let rows: Vec<ImprovementRow> = self.db.fetch_all(paginate(q, NEWEST_FIRST, page)?).await?;
        let items = rows
            .into_iter()
            .map(ImprovementRow::into_improvement)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |i| (CursorKey::Int(i.id), i.id)))
    }

    /// Every step an opportunity took, oldest first.
    pub async fn improvement_steps(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<Vec<ImprovementStepRow>> {
        self.improvement(tenant_id, id).await?;
        self.db
            .fetch_all(
                sql(
                    "SELECT id, step, from_status, to_status, note, actor_id, actor_label, at \
                     FROM improvement_steps WHERE tenant_id = $1 AND improvement_id = $2 \
                     ORDER BY id LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }
}

/// A domain refusal as a sentence.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
