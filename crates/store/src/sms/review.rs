//! Management reviews (9.3): the review, the inputs Steward compiles for it from its own
//! records (kept as JSON, frozen once the review is held), and the actions it decided,
//! tracked to closure. Every write is journaled in its transaction.

use super::improvement::capitalised;
use super::{NEWEST_FIRST, date_text, stored_date};
use crate::asset::today_utc;
use crate::conformance::Period;
use crate::db::{Sql, Tx, sql};
use crate::journal::Record;
use crate::page::{CursorKey, Page, PageRequest, finish, paginate};
use crate::sla::report::{Group, ReportQuery};
use crate::sms::objective::{ObjectiveFilter, month_of};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::sms::improvement::ImprovementStatus;
use steward_domain::sms::objective::{Kpi, ObjectiveStatus, Standing};
use steward_domain::sms::review::{
    ActionDraft, AuditInputs, ChangeInputs, ConformanceInputs, ContextDocument, ContextInputs,
    EarlierActions, ImprovementInputs, IncidentInputs, MonthAttainment, NonconformityInputs,
    ObjectiveInput, OpenAction, ProblemInputs, RealisedImprovement, ReviewInputs, ReviewStatus,
    ReviewStep, RiskInputs, SlaInputs, Tally, ValidReview, action_overdue, check_held_on,
    not_recorded_inputs, step_text,
};
use steward_domain::sms::risk::{Level, Rating};

/// A review as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagementReview {
    pub id: i64,
    pub title: String,
    pub planned_on: Date,
    pub period_from: Date,
    pub period_to: Date,
    pub chair_id: Option<i64>,
    pub attendees: String,
    pub status: ReviewStatus,
    /// The compiled inputs; frozen once the review is held.
    pub inputs: Option<ReviewInputs>,
    pub minutes: String,
    pub decisions: String,
    pub cancel_reason: String,
    pub held_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for ManagementReview {
    const KIND: &'static str = "management_review";
    fn id(&self) -> i64 {
        self.id
    }
}

impl ManagementReview {
    pub fn draft(&self) -> steward_domain::sms::review::ReviewDraft {
        steward_domain::sms::review::ReviewDraft {
            title: self.title.clone(),
            planned_on: self.planned_on,
            period_from: Some(self.period_from),
            period_to: Some(self.period_to),
            chair_id: self.chair_id,
            attendees: self.attendees.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ManagementReviewRow {
    id: i64,
    title: String,
    planned_on: String,
    period_from: String,
    period_to: String,
    chair_id: Option<i64>,
    attendees: String,
    #[sqlx(try_from = "String")]
    status: ReviewStatus,
    inputs: Option<String>,
    minutes: String,
    decisions: String,
    cancel_reason: String,
    held_at: Option<i64>,
    closed_at: Option<i64>,
    created_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl ManagementReviewRow {
    fn into_review(self) -> StoreResult<ManagementReview> {
        let what = "management review";
        let inputs = match self.inputs.as_deref() {
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|e| StoreError::Corrupt(format!("{what} {} inputs: {e}", self.id)))?,
            ),
            None => None,
        };
        Ok(ManagementReview {
            planned_on: stored_date(what, self.id, &self.planned_on)?,
            period_from: stored_date(what, self.id, &self.period_from)?,
            period_to: stored_date(what, self.id, &self.period_to)?,
            inputs,
            id: self.id,
            title: self.title,
            chair_id: self.chair_id,
            attendees: self.attendees,
            status: self.status,
            minutes: self.minutes,
            decisions: self.decisions,
            cancel_reason: self.cancel_reason,
            held_at: self.held_at,
            closed_at: self.closed_at,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, title, planned_on, period_from, period_to, chair_id, attendees, status, \
                       inputs, minutes, decisions, cancel_reason, held_at, closed_at, created_by, \
                       created_at, updated_at";

/// An action a review decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewAction {
    pub id: i64,
    pub review_id: i64,
    pub description: String,
    pub owner_id: Option<i64>,
    pub due_on: Date,
    pub done_at: Option<i64>,
    pub done_on: Option<Date>,
    pub done_by: Option<i64>,
    pub done_note: String,
    pub created_at: i64,
}

impl Record for ReviewAction {
    const KIND: &'static str = "review_action";
    fn id(&self) -> i64 {
        self.id
    }
}

impl ReviewAction {
    pub fn overdue(&self, today: Date) -> bool {
        action_overdue(self.due_on, self.done_at.is_some(), today)
    }
}

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: i64,
    review_id: i64,
    description: String,
    owner_id: Option<i64>,
    due_on: String,
    done_at: Option<i64>,
    done_on: Option<String>,
    done_by: Option<i64>,
    done_note: String,
    created_at: i64,
}

impl ActionRow {
    fn into_action(self) -> StoreResult<ReviewAction> {
        let what = "review action";
        Ok(ReviewAction {
            due_on: stored_date(what, self.id, &self.due_on)?,
            done_on: super::stored_optional_date(what, self.id, self.done_on.as_deref())?,
            id: self.id,
            review_id: self.review_id,
            description: self.description,
            owner_id: self.owner_id,
            done_at: self.done_at,
            done_by: self.done_by,
            done_note: self.done_note,
            created_at: self.created_at,
        })
    }
}

const ACTION_COLUMNS: &str = "id, review_id, description, owner_id, due_on, done_at, done_on, \
                              done_by, done_note, created_at";

/// Which reviews a list shows.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    pub status: Option<ReviewStatus>,
}

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM management_reviews WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn read(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<ManagementReview> {
    tx.fetch_one::<ManagementReviewRow>(select_one(tenant_id, id))
        .await?
        .into_review()
}

async fn read_action(
    tx: &mut Tx,
    tenant_id: i64,
    review_id: i64,
    id: i64,
) -> StoreResult<ReviewAction> {
    tx.fetch_one::<ActionRow>(
        sql(format!(
            "SELECT {ACTION_COLUMNS} FROM review_actions \
             WHERE tenant_id = $1 AND review_id = $2 AND id = $3"
        ))
        .bind(tenant_id)
        .bind(review_id)
        .bind(id),
    )
    .await?
    .into_action()
}

fn conflict(text: String) -> StoreError {
    StoreError::Conflict(text)
}

/// A count from a `SELECT COUNT(*) …` statement.
async fn count(store: &Store, q: Sql) -> StoreResult<i64> {
    let (n,): (i64,) = store.db.fetch_one(q).await?;
    Ok(n)
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    steward_domain::sms::objective::percent(part, whole).map(|p| (p * 10.0).round() / 10.0)
}

impl Store {
    /// Plans a review from a validated draft.
    pub async fn create_management_review(
        &self,
        tenant_id: i64,
        draft: &ValidReview,
        actor: &Actor,
    ) -> StoreResult<ManagementReview> {
        self.check_owner(tenant_id, draft.chair_id).await?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql(
                    "INSERT INTO management_reviews (tenant_id, title, planned_on, period_from, \
                     period_to, chair_id, attendees, status, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                )
                .bind(tenant_id)
                .bind(&draft.title)
                .bind(date_text(draft.planned_on))
                .bind(date_text(draft.period_from))
                .bind(date_text(draft.period_to))
                .bind(draft.chair_id)
                .bind(&draft.attendees)
                .bind(ReviewStatus::Planned.as_str())
                .bind(actor.user_id)
                .bind(now_micros()),
            )
            .await?;
        let created = read(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces a review's fields if it has not changed since `seen_updated_at`. A held
    /// review keeps its period: its inputs were compiled for it.
    pub async fn update_management_review(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &ValidReview,
        actor: &Actor,
    ) -> StoreResult<ManagementReview> {
        self.check_owner(tenant_id, draft.chair_id).await?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(conflict(
                "The review was changed by someone else; reload it and try again".into(),
            ));
        }
        if !before.status.editable() {
            return Err(conflict(format!(
                "The review is {} and can no longer be edited",
                before.status.label().to_lowercase()
            )));
        }
        let period_changed =
            before.period_from != draft.period_from || before.period_to != draft.period_to;
        if before.status == ReviewStatus::Held && period_changed {
            return Err(conflict(
                "The review was held on inputs compiled for its period; the period can no \
                 longer change"
                    .into(),
            ));
        }
        tx.execute(
            sql(
                "UPDATE management_reviews SET title = $1, planned_on = $2, period_from = $3, \
                 period_to = $4, chair_id = $5, attendees = $6, updated_at = $7 \
                 WHERE tenant_id = $8 AND id = $9",
            )
            .bind(&draft.title)
            .bind(date_text(draft.planned_on))
            .bind(date_text(draft.period_from))
            .bind(date_text(draft.period_to))
            .bind(draft.chair_id)
            .bind(&draft.attendees)
            .bind(next_updated_at(seen_updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Compiles the review's inputs from live records for its period and keeps them; refused
    /// once the review was held (its inputs are frozen).
    pub async fn compile_review_inputs(
        &self,
        tenant_id: i64,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<ManagementReview> {
        let review = self.management_review(tenant_id, id).await?;
        if !review.status.inputs_open() {
            return Err(conflict(format!(
                "The review is {}: its inputs are kept as they were when it was held",
                review.status.label().to_lowercase()
            )));
        }
        let inputs = self.review_inputs(tenant_id, &review).await?;
        let text = serde_json::to_string(&inputs)
            .map_err(|e| StoreError::Corrupt(format!("review inputs: {e}")))?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.updated_at != review.updated_at || !before.status.inputs_open() {
            return Err(conflict(
                "The review changed while its inputs were compiled; try again".into(),
            ));
        }
        tx.execute(
            sql(
                "UPDATE management_reviews SET inputs = $1, inputs_compiled_at = $2, \
                 updated_at = $3 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(&text)
            .bind(inputs.compiled_at)
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Takes `step` with its text: the minutes when holding, the decisions when closing, the
    /// reason when cancelling. A step the lifecycle refuses is a `Conflict`.
    pub async fn step_management_review(
        &self,
        tenant_id: i64,
        id: i64,
        step: ReviewStep,
        text: &str,
        actor: &Actor,
    ) -> StoreResult<ManagementReview> {
        self.step_review_at(tenant_id, id, step, text, now_micros(), actor)
            .await
    }

    /// Records a review as held with its minutes, on `held_on` when the meeting is written up
    /// afterwards (its time is then noon UTC that day), or now.
    pub async fn hold_management_review(
        &self,
        tenant_id: i64,
        id: i64,
        minutes: &str,
        held_on: Option<Date>,
        actor: &Actor,
    ) -> StoreResult<ManagementReview> {
        let today = today_utc();
        let at = match held_on.map(|day| check_held_on(day, today)).transpose()? {
            Some(day) if day < today => noon_micros(day)?,
            _ => now_micros(),
        };
        self.step_review_at(tenant_id, id, ReviewStep::Hold, minutes, at, actor)
            .await
    }

    async fn step_review_at(
        &self,
        tenant_id: i64,
        id: i64,
        step: ReviewStep,
        text: &str,
        now: i64,
        actor: &Actor,
    ) -> StoreResult<ManagementReview> {
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        let to = step
            .apply(before.status)
            .map_err(|refused| conflict(capitalised(&refused.to_string())))?;
        let text = step_text(step, text, before.inputs.is_some())?;
        let column = match step {
            ReviewStep::Hold => "minutes = {}, held_at = ",
            ReviewStep::Close => "decisions = {}, closed_at = ",
            ReviewStep::Cancel => "cancel_reason = {}, closed_at = ",
        };
        let write = sql("UPDATE management_reviews SET status = $1, updated_at = $2, ")
            .bind(to.as_str())
            .bind(next_updated_at(before.updated_at))
            .push_bound(column, text.as_str())
            .push_bound("{}", now)
            .push_bound(" WHERE tenant_id = {}", tenant_id)
            .push_bound(" AND id = {}", id);
        tx.execute(write).await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn management_review(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<ManagementReview> {
        self.db
            .fetch_one::<ManagementReviewRow>(select_one(tenant_id, id))
            .await?
            .into_review()
    }

    /// A page of reviews, newest first.
    pub async fn management_reviews(
        &self,
        tenant_id: i64,
        f: &ReviewFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<ManagementReview>> {
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM management_reviews WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        let rows: Vec<ManagementReviewRow> =
            self.db.fetch_all(paginate(q, NEWEST_FIRST, page)?).await?;
        let items = rows
            .into_iter()
            .map(ManagementReviewRow::into_review)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |r| (CursorKey::Int(r.id), r.id)))
    }

    /// Adds an action to a review that is not cancelled.
    pub async fn add_review_action(
        &self,
        tenant_id: i64,
        review_id: i64,
        draft: &ActionDraft,
        actor: &Actor,
    ) -> StoreResult<ReviewAction> {
        self.check_owner(tenant_id, draft.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let review = read(&mut tx, tenant_id, review_id).await?;
        if review.status == ReviewStatus::Cancelled {
            return Err(conflict(
                "The review was cancelled; it decides no actions".into(),
            ));
        }
        let (id,): (i64,) = tx
            .fetch_one(
                sql(
                    "INSERT INTO review_actions (tenant_id, review_id, description, owner_id, \
                     due_on, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(tenant_id)
                .bind(review_id)
                .bind(&draft.description)
                .bind(draft.owner_id)
                .bind(date_text(draft.due_on))
                .bind(now_micros()),
            )
            .await?;
        let created = read_action(&mut tx, tenant_id, review_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Marks an action done with its note, whatever the review's status: actions are tracked
    /// to closure after the review is closed.
    pub async fn complete_review_action(
        &self,
        tenant_id: i64,
        review_id: i64,
        action_id: i64,
        note: &str,
        actor: &Actor,
    ) -> StoreResult<ReviewAction> {
        let mut errors = steward_domain::validation::Invalid::new();
        let note = steward_domain::validation::optional_text(
            &mut errors,
            "note",
            "Note",
            note.trim(),
            steward_domain::sms::review::MAX_TEXT,
        );
        errors.into_result(())?;
        let mut tx = self.db.begin().await?;
        let before = read_action(&mut tx, tenant_id, review_id, action_id).await?;
        if before.done_at.is_some() {
            return Err(conflict("The action is already done".into()));
        }
        tx.execute(
            sql(
                "UPDATE review_actions SET done_at = $1, done_on = $2, done_by = $3, \
                 done_note = $4 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(now_micros())
            .bind(date_text(today_utc()))
            .bind(actor.user_id)
            .bind(&note)
            .bind(tenant_id)
            .bind(action_id),
        )
        .await?;
        let after = read_action(&mut tx, tenant_id, review_id, action_id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// A review's actions, oldest first.
    pub async fn review_actions(
        &self,
        tenant_id: i64,
        review_id: i64,
    ) -> StoreResult<Vec<ReviewAction>> {
        self.management_review(tenant_id, review_id).await?;
        let rows: Vec<ActionRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {ACTION_COLUMNS} FROM review_actions \
                     WHERE tenant_id = $1 AND review_id = $2 ORDER BY id LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(review_id),
            )
            .await?;
        rows.into_iter().map(ActionRow::into_action).collect()
    }

    /// What the review's meeting looks at, compiled now from the records of its period.
    pub async fn review_inputs(
        &self,
        tenant_id: i64,
        review: &ManagementReview,
    ) -> StoreResult<ReviewInputs> {
        let period = Period::days(review.period_from, review.period_to).ok_or_else(|| {
            StoreError::Corrupt(format!("management review {} period", review.id))
        })?;
        let today = today_utc();
        Ok(ReviewInputs {
            compiled_at: now_micros(),
            period_from: review.period_from,
            period_to: review.period_to,
            earlier_actions: self.earlier_actions(tenant_id, review, today).await?,
            context: self.context_inputs(tenant_id, period).await?,
            sla: self.sla_inputs(tenant_id, period).await?,
            incidents: self.incident_inputs(tenant_id, period).await?,
            problems: self.problem_inputs(tenant_id, period).await?,
            changes: self.change_inputs(tenant_id, period).await?,
            objectives: self.objective_inputs(tenant_id, review).await?,
            nonconformities: self.nonconformity_inputs(tenant_id, period, today).await?,
            audits: self.audit_inputs(tenant_id, review).await?,
            risks: self.risk_inputs(tenant_id, today).await?,
            improvements: self.improvement_inputs(tenant_id, period).await?,
            conformance: self.conformance_inputs(tenant_id, period).await?,
            suppliers: self
                .supplier_inputs(tenant_id, review.period_from, review.period_to, period)
                .await?,
            complaints: self
                .complaint_inputs(tenant_id, review.period_from, review.period_to, today)
                .await?,
            satisfaction: self
                .satisfaction_inputs(tenant_id, review.period_from, review.period_to)
                .await?,
            not_recorded: not_recorded_inputs(),
        })
    }

    /// Actions of the reviews planned before this one.
    async fn earlier_actions(
        &self,
        tenant_id: i64,
        review: &ManagementReview,
        today: Date,
    ) -> StoreResult<EarlierActions> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            review_id: i64,
            review_title: String,
            description: String,
            due_on: String,
            done: bool,
        }
        let rows: Vec<Row> = self
            .db
            .fetch_all(
                sql(
                    "SELECT a.id, a.review_id, v.title AS review_title, a.description, a.due_on, \
                     (a.done_at IS NOT NULL) AS done FROM review_actions a \
                     JOIN management_reviews v ON v.id = a.review_id \
                     WHERE a.tenant_id = $1 AND a.review_id <> $2 AND v.planned_on <= $3 \
                     ORDER BY a.due_on, a.id LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(review.id)
                .bind(date_text(review.planned_on)),
            )
            .await?;
        let mut out = EarlierActions::default();
        for row in rows {
            if row.done {
                out.done += 1;
                continue;
            }
            let due_on = stored_date("review action", row.id, &row.due_on)?;
            let overdue = action_overdue(due_on, false, today);
            out.open += 1;
            out.overdue += i64::from(overdue);
            out.open_actions.push(OpenAction {
                id: row.id,
                review_id: row.review_id,
                review_title: row.review_title,
                description: row.description,
                due_on,
                overdue,
            });
        }
        Ok(out)
    }

    async fn context_inputs(&self, tenant_id: i64, p: Period) -> StoreResult<ContextInputs> {
        #[derive(sqlx::FromRow)]
        struct Row {
            document_id: i64,
            reference: String,
            title: String,
            number: i64,
            change_summary: String,
            approved_at: i64,
        }
        let rows: Vec<Row> = self
            .db
            .fetch_all(
                sql(
                    "SELECT d.id AS document_id, d.reference, d.title, v.number, \
                     v.change_summary, v.approved_at FROM document_versions v \
                     JOIN documents d ON d.id = v.document_id \
                     WHERE v.tenant_id = $1 AND v.approved_at >= $2 AND v.approved_at < $3 \
                     AND d.kind IN ('scope', 'policy', 'plan', 'communication_plan') \
                     ORDER BY v.approved_at, v.id LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(p.from)
                .bind(p.to),
            )
            .await?;
        let documents = rows
            .into_iter()
            .map(|r| {
                let approved_on = jiff::Timestamp::from_microsecond(r.approved_at)
                    .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
                    .map_err(|e| StoreError::Corrupt(format!("approval time: {e}")))?;
                Ok(ContextDocument {
                    document_id: r.document_id,
                    reference: r.reference,
                    title: r.title,
                    version: r.number,
                    change_summary: r.change_summary,
                    approved_on,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let recorded = |kind: &str| {
            sql(
                "SELECT COUNT(*) FROM risks WHERE tenant_id = $1 AND kind = $2 \
                 AND created_at >= $3 AND created_at < $4",
            )
            .bind(tenant_id)
            .bind(kind.to_owned())
            .bind(p.from)
            .bind(p.to)
        };
        Ok(ContextInputs {
            documents,
            risks_recorded: count(self, recorded("risk")).await?,
            opportunities_recorded: count(self, recorded("opportunity")).await?,
        })
    }

    async fn sla_inputs(&self, tenant_id: i64, period: Period) -> StoreResult<SlaInputs> {
        let rows = self
            .attainment(
                tenant_id,
                &ReportQuery::new(period.from, period.to, Group::Month),
            )
            .await?;
        let mut out = SlaInputs::default();
        for row in rows {
            out.met += row.met;
            out.total += row.total;
            out.months.push(MonthAttainment {
                month: row.group.label.clone(),
                met: row.met,
                total: row.total,
                percent: percent(row.met, row.total),
            });
        }
        out.percent = percent(out.met, out.total);
        let target: Option<(i64,)> = self
            .db
            .fetch_optional(
                sql("SELECT target_milli FROM objectives WHERE tenant_id = $1 \
                     AND kpi = 'sla_attainment' AND status = 'active' ORDER BY id LIMIT 1")
                .bind(tenant_id),
            )
            .await?;
        out.target = target.map(|(milli,)| milli as f64 / 1000.0);
        Ok(out)
    }

    async fn incident_inputs(&self, tenant_id: i64, p: Period) -> StoreResult<IncidentInputs> {
        let q = |condition: &str| {
            sql(format!(
                "SELECT COUNT(*) FROM incidents WHERE tenant_id = $1 AND {condition}"
            ))
            .bind(tenant_id)
            .bind(p.from)
            .bind(p.to)
        };
        Ok(IncidentInputs {
            raised: count(self, q("opened_at >= $2 AND opened_at < $3")).await?,
            resolved: count(self, q("resolved_at >= $2 AND resolved_at < $3")).await?,
            major: count(
                self,
                q("major = TRUE AND opened_at >= $2 AND opened_at < $3"),
            )
            .await?,
        })
    }

    async fn problem_inputs(&self, tenant_id: i64, p: Period) -> StoreResult<ProblemInputs> {
        let q = |column: &str| {
            sql(format!(
                "SELECT COUNT(*) FROM problems WHERE tenant_id = $1 AND {column} >= $2 \
                 AND {column} < $3"
            ))
            .bind(tenant_id)
            .bind(p.from)
            .bind(p.to)
        };
        Ok(ProblemInputs {
            raised: count(self, q("created_at")).await?,
            resolved: count(self, q("resolved_at")).await?,
        })
    }

    /// Changes that ended closed or failed; a closed one is a success unless its review said
    /// it failed.
    async fn change_inputs(&self, tenant_id: i64, p: Period) -> StoreResult<ChangeInputs> {
        let q = |condition: &str| {
            sql(format!(
                "SELECT COUNT(*) FROM changes WHERE tenant_id = $1 AND ended_at >= $2 \
                 AND ended_at < $3 AND {condition}"
            ))
            .bind(tenant_id)
            .bind(p.from)
            .bind(p.to)
        };
        let finished = count(self, q("status IN ('closed', 'failed')")).await?;
        let successful = count(
            self,
            q("status = 'closed' AND (review_outcome IS NULL OR review_outcome <> 'failed')"),
        )
        .await?;
        Ok(ChangeInputs {
            finished,
            successful,
            success_percent: percent(successful, finished),
        })
    }

    async fn objective_inputs(
        &self,
        tenant_id: i64,
        review: &ManagementReview,
    ) -> StoreResult<Vec<ObjectiveInput>> {
        let page = self
            .objectives(
                tenant_id,
                &ObjectiveFilter {
                    status: Some(ObjectiveStatus::Active),
                },
                &PageRequest {
                    limit: Some(200),
                    cursor: None,
                },
            )
            .await?;
        let (Some(first), Some(last)) = (month_of(review.period_from), month_of(review.period_to))
        else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for objective in page.items {
            let readings = self.readings(tenant_id, &objective, first, last).await?;
            let standing = Standing::of(&readings, objective.direction, objective.target);
            let latest = readings.iter().rev().find_map(|r| r.value);
            out.push(ObjectiveInput {
                id: objective.id,
                title: objective.title.clone(),
                target: format!(
                    "{} {} {}",
                    objective.direction.label().to_lowercase(),
                    objective.target,
                    objective.unit
                )
                .trim()
                .to_string(),
                latest,
                standing: standing.label().to_string(),
                on_target: match standing {
                    Standing::OnTarget => Some(true),
                    Standing::OffTarget => Some(false),
                    Standing::Unmeasured => None,
                },
                manual: objective.kpi == Kpi::Manual,
                readings: readings
                    .iter()
                    .filter_map(|r| r.value.map(|v| (r.month.strftime("%Y-%m").to_string(), v)))
                    .collect(),
            });
        }
        Ok(out)
    }

    async fn nonconformity_inputs(
        &self,
        tenant_id: i64,
        p: Period,
        today: Date,
    ) -> StoreResult<NonconformityInputs> {
        let q = |condition: &str| {
            sql(format!(
                "SELECT COUNT(*) FROM nonconformities WHERE tenant_id = $1 AND {condition}"
            ))
            .bind(tenant_id)
            .bind(p.from)
            .bind(p.to)
        };
        let overdue_actions = count(
            self,
            sql(
                "SELECT COUNT(*) FROM corrective_actions WHERE tenant_id = $1 \
                 AND completed_at IS NULL AND due < $2",
            )
            .bind(tenant_id)
            .bind(date_text(today)),
        )
        .await?;
        Ok(NonconformityInputs {
            raised: count(self, q("raised_at >= $2 AND raised_at < $3")).await?,
            closed: count(self, q("closed_at >= $2 AND closed_at < $3")).await?,
            open: count(
                self,
                q("status <> 'closed' AND raised_at < $3 AND $2 <= $3"),
            )
            .await?,
            overdue_actions,
        })
    }

    async fn audit_inputs(
        &self,
        tenant_id: i64,
        review: &ManagementReview,
    ) -> StoreResult<AuditInputs> {
        let held = "FROM audits a WHERE a.tenant_id = $1 AND a.status IN ('reported', 'closed') \
                    AND a.actual_end >= $2 AND a.actual_end <= $3";
        let bind = |q: Sql| {
            q.bind(tenant_id)
                .bind(date_text(review.period_from))
                .bind(date_text(review.period_to))
        };
        let reported = count(self, bind(sql(format!("SELECT COUNT(*) {held}")))).await?;
        let rows: Vec<(String, i64)> = self
            .db
            .fetch_all(bind(sql(format!(
                "SELECT f.kind, COUNT(*) FROM audit_findings f WHERE f.audit_id IN \
                 (SELECT a.id {held}) GROUP BY f.kind ORDER BY f.kind"
            ))))
            .await?;
        let findings = rows
            .into_iter()
            .map(|(kind, count)| Tally {
                label: finding_label(&kind).to_string(),
                key: kind,
                count,
            })
            .collect();
        Ok(AuditInputs { reported, findings })
    }

    async fn risk_inputs(&self, tenant_id: i64, today: Date) -> StoreResult<RiskInputs> {
        let rows: Vec<(i64, i64, String)> = self
            .db
            .fetch_all(
                sql("SELECT likelihood, impact, review_date FROM risks \
                     WHERE tenant_id = $1 AND status = 'open' AND kind = 'risk'")
                .bind(tenant_id),
            )
            .await?;
        let levels = [Level::VeryHigh, Level::High, Level::Medium, Level::Low];
        let mut counts = [0i64; 4];
        let mut reviews_overdue = 0;
        let today_text = date_text(today);
        for (likelihood, impact, review_date) in rows {
            let rating = Rating {
                likelihood: u8::try_from(likelihood).unwrap_or(u8::MAX),
                impact: u8::try_from(impact).unwrap_or(u8::MAX),
            };
            if let Some(i) = levels.iter().position(|l| *l == rating.level()) {
                counts[i] += 1;
            }
            reviews_overdue += i64::from(review_date < today_text);
        }
        Ok(RiskInputs {
            open_by_level: levels
                .iter()
                .zip(counts)
                .map(|(level, count)| Tally {
                    key: level.as_str().to_string(),
                    label: level.label().to_string(),
                    count,
                })
                .collect(),
            reviews_overdue,
        })
    }

    async fn improvement_inputs(
        &self,
        tenant_id: i64,
        p: Period,
    ) -> StoreResult<ImprovementInputs> {
        let rows: Vec<(String, i64)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT status, COUNT(*) FROM improvements WHERE tenant_id = $1 \
                     GROUP BY status",
                )
                .bind(tenant_id),
            )
            .await?;
        let by_status = ImprovementStatus::ALL
            .iter()
            .map(|status| Tally {
                key: status.as_str().to_string(),
                label: status.label().to_string(),
                count: rows
                    .iter()
                    .find(|(s, _)| s == status.as_str())
                    .map_or(0, |(_, n)| *n),
            })
            .collect();
        let closed: Vec<(i64, String, String)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT m.id, m.title, m.benefit_realised FROM improvements m \
                     WHERE m.tenant_id = $1 AND m.status = 'closed' AND EXISTS \
                     (SELECT 1 FROM improvement_steps s WHERE s.improvement_id = m.id \
                     AND s.to_status = 'closed' AND s.at >= $2 AND s.at < $3) \
                     ORDER BY m.id LIMIT 200",
                )
                .bind(tenant_id)
                .bind(p.from)
                .bind(p.to),
            )
            .await?;
        Ok(ImprovementInputs {
            by_status,
            closed_with_benefit: closed
                .into_iter()
                .map(|(id, title, benefit)| RealisedImprovement { id, title, benefit })
                .collect(),
        })
    }

    async fn conformance_inputs(
        &self,
        tenant_id: i64,
        period: Period,
    ) -> StoreResult<ConformanceInputs> {
        let clauses = self.readiness(tenant_id, period).await?;
        let mut out = ConformanceInputs::default();
        for clause in clauses {
            out.met += clause.counts.met as i64;
            out.gap += clause.counts.gap as i64;
            out.open += clause.counts.open as i64;
        }
        Ok(out)
    }
}

fn finding_label(kind: &str) -> &str {
    match kind {
        "major_nonconformity" => "Major nonconformity",
        "minor_nonconformity" => "Minor nonconformity",
        "observation" => "Observation",
        "opportunity_for_improvement" => "Opportunity for improvement",
        other => other,
    }
}

/// Noon UTC of `day`: the time given to a meeting known only by its date.
fn noon_micros(day: Date) -> StoreResult<i64> {
    day.at(12, 0, 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_microsecond())
        .map_err(|e| StoreError::Corrupt(format!("date {day}: {e}")))
}
