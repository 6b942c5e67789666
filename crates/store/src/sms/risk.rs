//! The register of risks and opportunities (6.1) and every assessment of each
//! (`risk_reviews`): one when an entry is recorded, one at each change of its rating, and one
//! at each periodic review, so that "show me it was reviewed" has an answer.

use super::{NEWEST_FIRST, date_text, stored_date};
use crate::db::{Sql, Tx, sql};
use crate::journal::Record;
use crate::page::{CursorKey, Page, PageRequest, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::sms::risk::{Rating, RiskDraft, RiskKind, RiskStatus, Treatment};
use steward_domain::validation::required_text;

/// A risk or an opportunity as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    pub id: i64,
    pub kind: RiskKind,
    pub title: String,
    pub description: String,
    pub area: String,
    pub inherent: Rating,
    pub treatment: Treatment,
    pub treatment_plan: String,
    pub residual: Option<Rating>,
    pub owner_id: Option<i64>,
    pub review_date: Date,
    pub status: RiskStatus,
    pub closed_reason: String,
    /// When it was last assessed or reviewed.
    pub reviewed_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Risk {
    const KIND: &'static str = "risk";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Risk {
    pub fn draft(&self) -> RiskDraft {
        RiskDraft {
            kind: self.kind,
            title: self.title.clone(),
            description: self.description.clone(),
            area: self.area.clone(),
            inherent: self.inherent,
            treatment: self.treatment,
            treatment_plan: self.treatment_plan.clone(),
            residual: self.residual,
            owner_id: self.owner_id,
            review_date: self.review_date,
        }
    }

    /// Whether its review date has passed while it is open.
    pub fn review_overdue(&self, today: Date) -> bool {
        self.status == RiskStatus::Open && self.review_date < today
    }
}

/// A point on the grid as stored; the CHECK constraints keep it on the scale.
fn rating(id: i64, likelihood: i64, impact: i64) -> StoreResult<Rating> {
    let on_scale = |v: i64| u8::try_from(v).ok().filter(|v| (1..=5).contains(v));
    match (on_scale(likelihood), on_scale(impact)) {
        (Some(likelihood), Some(impact)) => Ok(Rating { likelihood, impact }),
        _ => Err(StoreError::Corrupt(format!(
            "risk {id} rating {likelihood}×{impact}"
        ))),
    }
}

fn optional_rating(id: i64, l: Option<i64>, i: Option<i64>) -> StoreResult<Option<Rating>> {
    match (l, i) {
        (Some(l), Some(i)) => rating(id, l, i).map(Some),
        _ => Ok(None),
    }
}

#[derive(sqlx::FromRow)]
struct RiskRow {
    id: i64,
    #[sqlx(try_from = "String")]
    kind: RiskKind,
    title: String,
    description: String,
    area: String,
    likelihood: i64,
    impact: i64,
    #[sqlx(try_from = "String")]
    treatment: Treatment,
    treatment_plan: String,
    residual_likelihood: Option<i64>,
    residual_impact: Option<i64>,
    owner_id: Option<i64>,
    review_date: String,
    #[sqlx(try_from = "String")]
    status: RiskStatus,
    closed_reason: String,
    reviewed_at: i64,
    created_at: i64,
    updated_at: i64,
}

impl RiskRow {
    fn into_risk(self) -> StoreResult<Risk> {
        let id = self.id;
        Ok(Risk {
            inherent: rating(id, self.likelihood, self.impact)?,
            residual: optional_rating(id, self.residual_likelihood, self.residual_impact)?,
            review_date: stored_date("risk", id, &self.review_date)?,
            id,
            kind: self.kind,
            title: self.title,
            description: self.description,
            area: self.area,
            treatment: self.treatment,
            treatment_plan: self.treatment_plan,
            owner_id: self.owner_id,
            status: self.status,
            closed_reason: self.closed_reason,
            reviewed_at: self.reviewed_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, kind, title, description, area, likelihood, impact, treatment, \
                       treatment_plan, residual_likelihood, residual_impact, owner_id, review_date, \
                       status, closed_reason, reviewed_at, created_at, updated_at";

/// One assessment of an entry: its ratings and next review date then, why, who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskReview {
    pub id: i64,
    pub inherent: Rating,
    pub residual: Option<Rating>,
    pub review_date: Date,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: i64,
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    id: i64,
    likelihood: i64,
    impact: i64,
    residual_likelihood: Option<i64>,
    residual_impact: Option<i64>,
    review_date: String,
    note: String,
    actor_id: Option<i64>,
    actor_label: String,
    at: i64,
}

impl ReviewRow {
    fn into_review(self) -> StoreResult<RiskReview> {
        let id = self.id;
        Ok(RiskReview {
            inherent: rating(id, self.likelihood, self.impact)?,
            residual: optional_rating(id, self.residual_likelihood, self.residual_impact)?,
            review_date: stored_date("risk review", id, &self.review_date)?,
            id,
            note: self.note,
            actor_id: self.actor_id,
            actor_label: self.actor_label,
            at: self.at,
        })
    }
}

/// Which entries a list shows.
#[derive(Debug, Clone, Default)]
pub struct RiskFilter {
    pub kind: Option<RiskKind>,
    pub status: Option<RiskStatus>,
    /// Only open entries whose review date is before this day.
    pub review_before: Option<Date>,
}

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM risks WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn read(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Risk> {
    tx.fetch_one::<RiskRow>(select_one(tenant_id, id))
        .await?
        .into_risk()
}

fn bind_draft(q: Sql, d: &RiskDraft) -> Sql {
    q.bind(d.kind.as_str())
        .bind(&d.title)
        .bind(&d.description)
        .bind(&d.area)
        .bind(i64::from(d.inherent.likelihood))
        .bind(i64::from(d.inherent.impact))
        .bind(d.treatment.as_str())
        .bind(&d.treatment_plan)
        .bind(d.residual.map(|r| i64::from(r.likelihood)))
        .bind(d.residual.map(|r| i64::from(r.impact)))
        .bind(d.owner_id)
        .bind(date_text(d.review_date))
}

/// Appends an assessment of `risk` as it now stands.
async fn record_review(
    tx: &mut Tx,
    tenant_id: i64,
    risk: &Risk,
    note: &str,
    actor: &Actor,
) -> StoreResult<()> {
    tx.execute(
        sql(
            "INSERT INTO risk_reviews (tenant_id, risk_id, likelihood, impact, residual_likelihood, \
             residual_impact, review_date, note, actor_id, actor_label, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(tenant_id)
        .bind(risk.id)
        .bind(i64::from(risk.inherent.likelihood))
        .bind(i64::from(risk.inherent.impact))
        .bind(risk.residual.map(|r| i64::from(r.likelihood)))
        .bind(risk.residual.map(|r| i64::from(r.impact)))
        .bind(date_text(risk.review_date))
        .bind(note)
        .bind(actor.user_id)
        .bind(&actor.label)
        .bind(risk.reviewed_at),
    )
    .await?;
    Ok(())
}

const MAX_NOTE: usize = 5_000;

impl Store {
    /// Records a risk or an opportunity from a validated draft, with its first assessment.
    pub async fn create_risk(
        &self,
        tenant_id: i64,
        draft: &RiskDraft,
        actor: &Actor,
    ) -> StoreResult<Risk> {
        self.check_owner(tenant_id, draft.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let write = sql(
            "INSERT INTO risks (tenant_id, kind, title, description, area, likelihood, impact, \
             treatment, treatment_plan, residual_likelihood, residual_impact, owner_id, review_date, \
             status, reviewed_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $15) \
             RETURNING id",
        )
        .bind(tenant_id);
        let write = bind_draft(write, draft)
            .bind(RiskStatus::Open.as_str())
            .bind(now_micros());
        let (id,): (i64,) = tx.fetch_one(write).await?;
        let created = read(&mut tx, tenant_id, id).await?;
        record_review(&mut tx, tenant_id, &created, "Recorded", actor).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces an open entry's fields if it has not changed since `seen_updated_at`. A new
    /// rating or review date counts as an assessment and is added to its reviews.
    pub async fn update_risk(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &RiskDraft,
        actor: &Actor,
    ) -> StoreResult<Risk> {
        self.check_owner(tenant_id, draft.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The entry was changed by someone else; reload it and try again".into(),
            ));
        }
        if before.status == RiskStatus::Closed {
            return Err(StoreError::Conflict(
                "The entry is closed and can no longer be edited".into(),
            ));
        }
        let reassessed = before.inherent != draft.inherent
            || before.residual != draft.residual
            || before.review_date != draft.review_date;
        let now = now_micros();
        let write = sql(
            "UPDATE risks SET kind = $1, title = $2, description = $3, area = $4, likelihood = $5, \
             impact = $6, treatment = $7, treatment_plan = $8, residual_likelihood = $9, \
             residual_impact = $10, owner_id = $11, review_date = $12, updated_at = $13, \
             reviewed_at = $14 WHERE tenant_id = $15 AND id = $16",
        );
        tx.execute(
            bind_draft(write, draft)
                .bind(next_updated_at(seen_updated_at))
                .bind(if reassessed { now } else { before.reviewed_at })
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        if reassessed {
            record_review(&mut tx, tenant_id, &after, "Reassessed", actor).await?;
        }
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Records a periodic review: the entry still stands as rated (or is rated anew in the
    /// same step by `update_risk`), with a note and the next review date.
    pub async fn review_risk(
        &self,
        tenant_id: i64,
        id: i64,
        next_review: Date,
        note: &str,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Risk> {
        let mut errors = Invalid::new();
        let note = required_text(&mut errors, "note", "The review's note", note, MAX_NOTE);
        if next_review <= today {
            errors.add("review_date", "The next review date must be after today");
        }
        errors.into_result(())?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.status == RiskStatus::Closed {
            return Err(StoreError::Conflict(
                "The entry is closed; there is nothing to review".into(),
            ));
        }
        tx.execute(
            sql(
                "UPDATE risks SET review_date = $1, reviewed_at = $2, updated_at = $3 \
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(date_text(next_review))
            .bind(now_micros())
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        record_review(&mut tx, tenant_id, &after, &note, actor).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Closes an open entry with the reason (treated for good, no longer relevant).
    pub async fn close_risk(
        &self,
        tenant_id: i64,
        id: i64,
        reason: &str,
        actor: &Actor,
    ) -> StoreResult<Risk> {
        let mut errors = Invalid::new();
        let reason = required_text(&mut errors, "reason", "The reason", reason, MAX_NOTE);
        errors.into_result(())?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.status == RiskStatus::Closed {
            return Err(StoreError::Conflict("The entry is already closed".into()));
        }
        tx.execute(
            sql(
                "UPDATE risks SET status = $1, closed_reason = $2, updated_at = $3 \
                 WHERE tenant_id = $4 AND id = $5",
            )
            .bind(RiskStatus::Closed.as_str())
            .bind(&reason)
            .bind(next_updated_at(before.updated_at))
            .bind(tenant_id)
            .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn risk(&self, tenant_id: i64, id: i64) -> StoreResult<Risk> {
        self.db
            .fetch_one::<RiskRow>(select_one(tenant_id, id))
            .await?
            .into_risk()
    }

    /// A page of entries, newest first.
    pub async fn risks(
        &self,
        tenant_id: i64,
        f: &RiskFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Risk>> {
        let mut q =
            sql(format!("SELECT {COLUMNS} FROM risks WHERE tenant_id = $1")).bind(tenant_id);
        if let Some(kind) = f.kind {
            q = q.push_bound(" AND kind = {}", kind.as_str());
        }
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(day) = f.review_before {
            q = q
                .push_bound(" AND status = {}", RiskStatus::Open.as_str())
                .push_bound(" AND review_date < {}", date_text(day));
        }
        let rows: Vec<RiskRow> = self.db.fetch_all(paginate(q, NEWEST_FIRST, page)?).await?;
        let items = rows
            .into_iter()
            .map(RiskRow::into_risk)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |r| (CursorKey::Int(r.id), r.id)))
    }

    /// The ratings of every open entry of `kind`, for the heat map.
    pub async fn open_risk_ratings(
        &self,
        tenant_id: i64,
        kind: RiskKind,
    ) -> StoreResult<Vec<Rating>> {
        let rows: Vec<(i64, i64, i64)> = self
            .db
            .fetch_all(
                sql("SELECT id, likelihood, impact FROM risks \
                     WHERE tenant_id = $1 AND kind = $2 AND status = $3")
                .bind(tenant_id)
                .bind(kind.as_str())
                .bind(RiskStatus::Open.as_str()),
            )
            .await?;
        rows.into_iter()
            .map(|(id, l, i)| rating(id, l, i))
            .collect()
    }

    /// Every assessment of an entry, oldest first.
    pub async fn risk_reviews(&self, tenant_id: i64, id: i64) -> StoreResult<Vec<RiskReview>> {
        self.risk(tenant_id, id).await?;
        let rows: Vec<ReviewRow> = self
            .db
            .fetch_all(
                sql(
                    "SELECT id, likelihood, impact, residual_likelihood, residual_impact, \
                     review_date, note, actor_id, actor_label, at FROM risk_reviews \
                     WHERE tenant_id = $1 AND risk_id = $2 ORDER BY id LIMIT 1000",
                )
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        rows.into_iter().map(ReviewRow::into_review).collect()
    }
}
