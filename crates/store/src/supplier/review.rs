//! Performance reviews of a supplier (`supplier_reviews`). A review rated below "meets" raises
//! its improvement (source: supplier, `source_ref` the review) in the review's own transaction,
//! or points to one already in the register.

use crate::db::{Tx, sql};
use crate::journal::Record;
use crate::sms::{date_text, stored_date};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::sms::improvement::{
    ImprovementDraft, ImprovementSource, MAX_TEXT, MAX_TITLE, Priority,
};
use steward_domain::supplier::review::{PerformanceReviewDraft, Rating};

/// A performance review as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierReview {
    pub id: i64,
    pub supplier_id: i64,
    pub held_on: Date,
    pub period_from: Date,
    pub period_to: Date,
    pub rating: Rating,
    pub targets_missed: String,
    pub notes: String,
    /// The improvement raised or linked for what was missed.
    pub improvement_id: Option<i64>,
    pub reviewed_by: Option<i64>,
    pub created_at: i64,
}

impl Record for SupplierReview {
    const KIND: &'static str = "supplier_review";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ReviewRow {
    id: i64,
    supplier_id: i64,
    held_on: String,
    period_from: String,
    period_to: String,
    #[sqlx(try_from = "String")]
    rating: Rating,
    targets_missed: String,
    notes: String,
    improvement_id: Option<i64>,
    reviewed_by: Option<i64>,
    created_at: i64,
}

impl ReviewRow {
    pub(crate) fn into_review(self) -> StoreResult<SupplierReview> {
        let (id, what) = (self.id, "supplier review");
        Ok(SupplierReview {
            held_on: stored_date(what, id, &self.held_on)?,
            period_from: stored_date(what, id, &self.period_from)?,
            period_to: stored_date(what, id, &self.period_to)?,
            id,
            supplier_id: self.supplier_id,
            rating: self.rating,
            targets_missed: self.targets_missed,
            notes: self.notes,
            improvement_id: self.improvement_id,
            reviewed_by: self.reviewed_by,
            created_at: self.created_at,
        })
    }
}

pub(crate) const REVIEW_COLUMNS: &str = "id, supplier_id, held_on, period_from, period_to, \
     rating, targets_missed, notes, improvement_id, reviewed_by, created_at";

async fn read_review(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<SupplierReview> {
    tx.fetch_one::<ReviewRow>(
        sql(format!(
            "SELECT {REVIEW_COLUMNS} FROM supplier_reviews WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id)
        .bind(id),
    )
    .await?
    .into_review()
}

impl Store {
    /// Records a performance review of a supplier, validated against `today`. When it asks
    /// for one, an improvement owned by the supplier's owner is raised in the same transaction
    /// and the review points to it; a linked improvement must be in the tenant's register.
    pub async fn create_supplier_review(
        &self,
        tenant_id: i64,
        supplier_id: i64,
        draft: PerformanceReviewDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<SupplierReview> {
        let d = draft.validate(today)?;
        if let Some(improvement_id) = d.improvement_id {
            match self.improvement(tenant_id, improvement_id).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(Invalid::one(
                        "improvement",
                        format!(
                            "Improvement {improvement_id} is not in this organisation's register"
                        ),
                    )
                    .into());
                }
                Err(e) => return Err(e),
            }
        }
        let mut tx = self.db.begin().await?;
        let supplier = super::read(&mut tx, tenant_id, supplier_id).await?;
        let (id,): (i64,) = tx
            .fetch_one(
                sql(
                    "INSERT INTO supplier_reviews (tenant_id, supplier_id, held_on, period_from, \
                     period_to, rating, targets_missed, notes, improvement_id, reviewed_by, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     RETURNING id",
                )
                .bind(tenant_id)
                .bind(supplier_id)
                .bind(date_text(d.held_on))
                .bind(date_text(d.period_from))
                .bind(date_text(d.period_to))
                .bind(d.rating.as_str())
                .bind(&d.targets_missed)
                .bind(&d.notes)
                .bind(d.improvement_id)
                .bind(actor.user_id)
                .bind(now_micros()),
            )
            .await?;
        if d.raise_improvement {
            let improvement = ImprovementDraft {
                title: format!("Supplier {}: {}", supplier.name, d.targets_missed)
                    .chars()
                    .take(MAX_TITLE)
                    .collect(),
                description: format!(
                    "Raised by the performance review of {} held on {} for {} to {}, rated \
                     \"{}\".\n\nTargets missed: {}\n\n{}",
                    supplier.name,
                    d.held_on,
                    d.period_from,
                    d.period_to,
                    d.rating.label().to_lowercase(),
                    d.targets_missed,
                    d.notes
                )
                .chars()
                .take(MAX_TEXT)
                .collect(),
                source: ImprovementSource::Supplier,
                source_ref: Some(id),
                evaluation_criteria: String::new(),
                expected_benefit: String::new(),
                priority: if d.rating == Rating::Fails {
                    Priority::High
                } else {
                    Priority::Medium
                },
                owner_id: supplier.owner_id,
                target_date: None,
            }
            .validate()?;
            let raised = self
                .create_improvement_in(&mut tx, tenant_id, &improvement, actor)
                .await?;
            tx.execute(
                sql(
                    "UPDATE supplier_reviews SET improvement_id = $1 WHERE tenant_id = $2 \
                     AND id = $3",
                )
                .bind(raised.id)
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        }
        let created = read_review(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// A supplier's performance reviews, latest first.
    pub async fn supplier_reviews(
        &self,
        tenant_id: i64,
        supplier_id: i64,
    ) -> StoreResult<Vec<SupplierReview>> {
        let rows: Vec<ReviewRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {REVIEW_COLUMNS} FROM supplier_reviews WHERE tenant_id = $1 \
                     AND supplier_id = $2 ORDER BY held_on DESC, id DESC LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(supplier_id),
            )
            .await?;
        rows.into_iter().map(ReviewRow::into_review).collect()
    }
}
