//! Service reviews held with customers (8.3.2-d/e), and the SLA attainment of the customer's
//! services over the period a review looks back on.

use super::{check_exists, day_end, day_start};
use crate::db::sql;
use crate::journal::Record;
use crate::sla::report::{AttainmentRow, Group, ReportQuery};
use crate::sms::{date_text, stored_date};
use crate::{Actor, Store, StoreResult, now_micros};
use jiff::civil::Date;
use serde::Serialize;
use steward_domain::relationship::review::{CustomerReviewDraft, review_period};

/// A service review as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerReview {
    pub id: i64,
    pub customer_id: i64,
    pub held_on: Date,
    /// The start of the period the review looked back on; it ends on `held_on`.
    pub period_from: Date,
    pub attendees: String,
    pub performance: String,
    pub outcomes: String,
    pub requirement_changes: String,
    pub change_id: Option<i64>,
    pub improvement_id: Option<i64>,
    pub recorded_by: Option<i64>,
    pub recorded_by_label: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for CustomerReview {
    const KIND: &'static str = "customer_review";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    id: i64,
    customer_id: i64,
    held_on: String,
    period_from: String,
    attendees: String,
    performance: String,
    outcomes: String,
    requirement_changes: String,
    change_id: Option<i64>,
    improvement_id: Option<i64>,
    recorded_by: Option<i64>,
    recorded_by_label: String,
    created_at: i64,
    updated_at: i64,
}

impl ReviewRow {
    fn into_review(self) -> StoreResult<CustomerReview> {
        Ok(CustomerReview {
            held_on: stored_date("customer review", self.id, &self.held_on)?,
            period_from: stored_date("customer review", self.id, &self.period_from)?,
            id: self.id,
            customer_id: self.customer_id,
            attendees: self.attendees,
            performance: self.performance,
            outcomes: self.outcomes,
            requirement_changes: self.requirement_changes,
            change_id: self.change_id,
            improvement_id: self.improvement_id,
            recorded_by: self.recorded_by,
            recorded_by_label: self.recorded_by_label,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, customer_id, held_on, period_from, attendees, performance, outcomes, \
                       requirement_changes, change_id, improvement_id, recorded_by, \
                       recorded_by_label, created_at, updated_at";

impl Store {
    /// Records a service review held with a customer on or before `today`. Its period is the
    /// customer's review frequency before the day it was held.
    pub async fn record_customer_review(
        &self,
        tenant_id: i64,
        customer_id: i64,
        draft: &CustomerReviewDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<CustomerReview> {
        // Another organisation's customer is not found, whatever was typed.
        let customer = self.customer(tenant_id, customer_id).await?;
        let d = draft.clone().validate(today)?;
        let mut tx = self.db.begin().await?;
        check_exists(
            &mut tx,
            tenant_id,
            "changes",
            "change_id",
            "Change",
            d.change_id,
        )
        .await?;
        check_exists(
            &mut tx,
            tenant_id,
            "improvements",
            "improvement_id",
            "Improvement",
            d.improvement_id,
        )
        .await?;
        let (from, _) = review_period(d.held_on, customer.review_frequency_months);
        let now = now_micros();
        let row: ReviewRow = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO customer_reviews (tenant_id, customer_id, held_on, period_from, \
                     attendees, performance, outcomes, requirement_changes, change_id, \
                     improvement_id, recorded_by, recorded_by_label, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
                     RETURNING {COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(customer_id)
                .bind(date_text(d.held_on))
                .bind(date_text(from))
                .bind(&d.attendees)
                .bind(&d.performance)
                .bind(&d.outcomes)
                .bind(&d.requirement_changes)
                .bind(d.change_id)
                .bind(d.improvement_id)
                .bind(actor.user_id)
                .bind(&actor.label)
                .bind(now),
            )
            .await?;
        let created = row.into_review()?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// A customer's service reviews, the latest first.
    pub async fn customer_reviews(
        &self,
        tenant_id: i64,
        customer_id: i64,
    ) -> StoreResult<Vec<CustomerReview>> {
        self.customer(tenant_id, customer_id).await?;
        let rows: Vec<ReviewRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM customer_reviews WHERE tenant_id = $1 \
                     AND customer_id = $2 ORDER BY held_on DESC, id DESC LIMIT 500"
                ))
                .bind(tenant_id)
                .bind(customer_id),
            )
            .await?;
        rows.into_iter().map(ReviewRow::into_review).collect()
    }

    /// One service review of a customer.
    pub async fn customer_review(
        &self,
        tenant_id: i64,
        customer_id: i64,
        id: i64,
    ) -> StoreResult<CustomerReview> {
        self.db
            .fetch_one::<ReviewRow>(
                sql(format!(
                    "SELECT {COLUMNS} FROM customer_reviews WHERE tenant_id = $1 \
                     AND customer_id = $2 AND id = $3"
                ))
                .bind(tenant_id)
                .bind(customer_id)
                .bind(id),
            )
            .await?
            .into_review()
    }

    /// SLA attainment of a customer's records per service over `[from, to]` (whole days,
    /// UTC), from the SLA report: what a service review discusses.
    pub async fn customer_attainment(
        &self,
        tenant_id: i64,
        customer_id: i64,
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<AttainmentRow>> {
        let mut q = ReportQuery::new(day_start(from), day_end(to), Group::Service);
        q.customer_id = Some(customer_id);
        self.attainment(tenant_id, &q).await
    }
}
