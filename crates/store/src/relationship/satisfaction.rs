//! Customer satisfaction (8.3.2-f): surveys and the ratings requesters give their own
//! resolved incidents (one row per incident, changed in place when they change their mind).

use super::{check_exists, day_end, day_start};
use crate::db::{Sql, sql};
use crate::journal::{Change, Record};
use crate::page::{CursorKey, Page, PageRequest, finish, paginate};
use crate::sla::report::Month;
use crate::sms::{NEWEST_FIRST, date_text, stored_date};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::Serialize;
use steward_domain::journal::Action;
use steward_domain::relationship::satisfaction::{RatingDraft, SurveyDraft, can_rate};

/// A satisfaction survey as kept; the average in tenths (42 is 4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Survey {
    pub id: i64,
    pub customer_id: Option<i64>,
    pub service_id: Option<i64>,
    pub conducted_on: Date,
    pub sample_size: i64,
    pub responses: i64,
    pub average_tenths: Option<i64>,
    pub analysis: String,
    pub improvement_id: Option<i64>,
    pub recorded_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Survey {
    const KIND: &'static str = "satisfaction_survey";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Survey {
    /// The average score as people read it (`4.2`), or `—` without responses.
    pub fn average_text(&self) -> String {
        self.average_tenths.map_or_else(
            || "—".to_string(),
            steward_domain::relationship::satisfaction::tenths_text,
        )
    }

    /// Share of the people asked who answered, in whole percent.
    pub fn response_rate(&self) -> i64 {
        if self.sample_size > 0 {
            (self.responses * 100 + self.sample_size / 2) / self.sample_size
        } else {
            0
        }
    }
}

#[derive(sqlx::FromRow)]
struct SurveyRow {
    id: i64,
    customer_id: Option<i64>,
    service_id: Option<i64>,
    conducted_on: String,
    sample_size: i64,
    responses: i64,
    average_tenths: Option<i64>,
    analysis: String,
    improvement_id: Option<i64>,
    recorded_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl SurveyRow {
    fn into_survey(self) -> StoreResult<Survey> {
        Ok(Survey {
            conducted_on: stored_date("survey", self.id, &self.conducted_on)?,
            id: self.id,
            customer_id: self.customer_id,
            service_id: self.service_id,
            sample_size: self.sample_size,
            responses: self.responses,
            average_tenths: self.average_tenths,
            analysis: self.analysis,
            improvement_id: self.improvement_id,
            recorded_by: self.recorded_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const SURVEY_COLUMNS: &str = "id, customer_id, service_id, conducted_on, sample_size, responses, \
                              average_tenths, analysis, improvement_id, recorded_by, created_at, \
                              updated_at";

/// A requester's rating of their incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TicketRating {
    pub id: i64,
    pub incident_id: i64,
    pub score: i64,
    pub comment: String,
    pub rated_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for TicketRating {
    const KIND: &'static str = "ticket_rating";
    fn id(&self) -> i64 {
        self.id
    }
}

const RATING_COLUMNS: &str = "id, incident_id, score, comment, rated_by, created_at, updated_at";

/// Ticket ratings of one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatingMonth {
    /// `2026-01`.
    pub month: String,
    /// `Jan`.
    pub label: String,
    pub count: i64,
    /// Average score, `None` in a month without ratings.
    pub average: Option<f64>,
}

/// A rated incident, for the list of the lowest-rated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RatedTicket {
    pub incident_id: i64,
    pub number: i64,
    pub title: String,
    pub score: i64,
    pub comment: String,
    pub updated_at: i64,
}

impl RatedTicket {
    pub fn key(&self) -> String {
        format!("INC-{}", self.number)
    }
}

/// Count and average of ticket ratings over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RatingSummary {
    pub count: i64,
    pub average: Option<f64>,
}

/// An average rounded to two decimals.
fn rounded(sum: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| ((sum as f64 / count as f64) * 100.0).round() / 100.0)
}

fn survey_filter(q: Sql, customer_id: Option<i64>) -> Sql {
    match customer_id {
        Some(c) => q.push_bound(" AND customer_id = {}", c),
        None => q,
    }
}

impl Store {
    /// Records a satisfaction survey conducted on or before `today`.
    pub async fn record_survey(
        &self,
        tenant_id: i64,
        draft: &SurveyDraft,
        today: Date,
        actor: &Actor,
    ) -> StoreResult<Survey> {
        let d = draft.clone().validate(today)?;
        let mut tx = self.db.begin().await?;
        check_exists(
            &mut tx,
            tenant_id,
            "customers",
            "customer_id",
            "Customer",
            d.customer_id,
        )
        .await?;
        check_exists(
            &mut tx,
            tenant_id,
            "services",
            "service_id",
            "Service",
            d.service_id,
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
        let row: SurveyRow = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO satisfaction_surveys (tenant_id, customer_id, service_id, \
                     conducted_on, sample_size, responses, average_tenths, analysis, \
                     improvement_id, recorded_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                     RETURNING {SURVEY_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(d.customer_id)
                .bind(d.service_id)
                .bind(date_text(d.conducted_on))
                .bind(d.sample_size)
                .bind(d.responses)
                .bind(d.average_tenths)
                .bind(&d.analysis)
                .bind(d.improvement_id)
                .bind(actor.user_id)
                .bind(now_micros()),
            )
            .await?;
        let created = row.into_survey()?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    pub async fn survey(&self, tenant_id: i64, id: i64) -> StoreResult<Survey> {
        self.db
            .fetch_one::<SurveyRow>(
                sql(format!(
                    "SELECT {SURVEY_COLUMNS} FROM satisfaction_surveys WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?
            .into_survey()
    }

    /// A page of surveys, the last recorded first; of one customer when `customer_id` is set.
    pub async fn surveys(
        &self,
        tenant_id: i64,
        customer_id: Option<i64>,
        page: &PageRequest,
    ) -> StoreResult<Page<Survey>> {
        let q = survey_filter(
            sql(format!(
                "SELECT {SURVEY_COLUMNS} FROM satisfaction_surveys WHERE tenant_id = $1"
            ))
            .bind(tenant_id),
            customer_id,
        );
        let rows: Vec<SurveyRow> = self.db.fetch_all(paginate(q, NEWEST_FIRST, page)?).await?;
        let items = rows
            .into_iter()
            .map(SurveyRow::into_survey)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |s| (CursorKey::Int(s.id), s.id)))
    }

    /// Surveys conducted in `[from, to]`, oldest first: what the chart and the management
    /// review read.
    pub async fn surveys_between(
        &self,
        tenant_id: i64,
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<Survey>> {
        let rows: Vec<SurveyRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {SURVEY_COLUMNS} FROM satisfaction_surveys WHERE tenant_id = $1 \
                     AND conducted_on >= $2 AND conducted_on <= $3 ORDER BY conducted_on, id LIMIT 1000"
                ))
                .bind(tenant_id)
                .bind(date_text(from))
                .bind(date_text(to)),
            )
            .await?;
        rows.into_iter().map(SurveyRow::into_survey).collect()
    }

    /// Rates an incident for its requester `user_id` (1–5, with an optional comment). Only the
    /// incident's own requester rates it, and only once it is resolved or closed; rating again
    /// changes the rating.
    pub async fn rate_incident(
        &self,
        tenant_id: i64,
        incident_id: i64,
        user_id: i64,
        draft: &RatingDraft,
        actor: &Actor,
    ) -> StoreResult<TicketRating> {
        let d = draft.clone().validate()?;
        let incident = self.incident(tenant_id, incident_id).await?;
        if incident.requester_user_id != Some(user_id) {
            return Err(StoreError::NotFound);
        }
        if !can_rate(incident.status) {
            return Err(StoreError::Conflict(format!(
                "{} is {}; it can be rated once it is resolved",
                incident.key(),
                incident.status.as_str().replace('_', " ")
            )));
        }
        let mut tx = self.db.begin().await?;
        let before: Option<TicketRating> = tx
            .fetch_optional(
                sql(format!(
                    "SELECT {RATING_COLUMNS} FROM ticket_ratings WHERE tenant_id = $1 AND incident_id = $2"
                ))
                .bind(tenant_id)
                .bind(incident_id),
            )
            .await?;
        let after: TicketRating = match &before {
            Some(b) => {
                tx.fetch_one(
                    sql(format!(
                        "UPDATE ticket_ratings SET score = $1, comment = $2, rated_by = $3, \
                         updated_at = $4 WHERE tenant_id = $5 AND id = $6 RETURNING {RATING_COLUMNS}"
                    ))
                    .bind(d.score)
                    .bind(&d.comment)
                    .bind(user_id)
                    .bind(next_updated_at(b.updated_at))
                    .bind(tenant_id)
                    .bind(b.id),
                )
                .await?
            }
            None => {
                tx.fetch_one(
                    sql(format!(
                        "INSERT INTO ticket_ratings (tenant_id, incident_id, score, comment, rated_by, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {RATING_COLUMNS}"
                    ))
                    .bind(tenant_id)
                    .bind(incident_id)
                    .bind(d.score)
                    .bind(&d.comment)
                    .bind(user_id)
                    .bind(now_micros()),
                )
                .await?
            }
        };
        let action = if before.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, action, before.as_ref(), Some(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The rating of an incident, if its requester gave one.
    pub async fn incident_rating(
        &self,
        tenant_id: i64,
        incident_id: i64,
    ) -> StoreResult<Option<TicketRating>> {
        self.db
            .fetch_optional(
                sql(format!(
                    "SELECT {RATING_COLUMNS} FROM ticket_ratings WHERE tenant_id = $1 AND incident_id = $2"
                ))
                .bind(tenant_id)
                .bind(incident_id),
            )
            .await
    }

    /// Count and average of the ratings given (or last changed) in `[from, to]`.
    pub async fn rating_summary(
        &self,
        tenant_id: i64,
        from: Date,
        to: Date,
    ) -> StoreResult<RatingSummary> {
        self.rating_summary_between(tenant_id, day_start(from), day_end(to))
            .await
    }

    async fn rating_summary_between(
        &self,
        tenant_id: i64,
        from: i64,
        until: i64,
    ) -> StoreResult<RatingSummary> {
        let (count, sum): (i64, Option<i64>) = self
            .db
            .fetch_one(
                sql(
                    "SELECT COUNT(*), CAST(SUM(score) AS BIGINT) FROM ticket_ratings \
                     WHERE tenant_id = $1 AND updated_at >= $2 AND updated_at < $3",
                )
                .bind(tenant_id)
                .bind(from)
                .bind(until),
            )
            .await?;
        Ok(RatingSummary {
            count,
            average: rounded(sum.unwrap_or(0), count),
        })
    }

    /// Ticket ratings per month for the twelve months up to and including the month of `now`
    /// (micros), oldest first.
    pub async fn rating_months(&self, tenant_id: i64, now: i64) -> StoreResult<Vec<RatingMonth>> {
        let last = Month::containing(now);
        let mut months = Vec::with_capacity(12);
        for back in (0..12).rev() {
            let m = last.plus(-back);
            let s = self
                .rating_summary_between(tenant_id, m.start(), m.end())
                .await?;
            months.push(RatingMonth {
                month: m.to_string(),
                label: m.short_name().to_string(),
                count: s.count,
                average: s.average,
            });
        }
        Ok(months)
    }

    /// The lowest-rated incidents rated since `since` (micros), lowest first, at most `limit`.
    pub async fn lowest_rated(
        &self,
        tenant_id: i64,
        since: i64,
        limit: i64,
    ) -> StoreResult<Vec<RatedTicket>> {
        self.db
            .fetch_all(
                sql(
                    "SELECT r.incident_id, i.number, i.title, r.score, r.comment, r.updated_at \
                     FROM ticket_ratings r JOIN incidents i ON i.id = r.incident_id \
                     WHERE r.tenant_id = $1 AND r.updated_at >= $2 \
                     ORDER BY r.score, r.updated_at DESC, r.id DESC LIMIT $3",
                )
                .bind(tenant_id)
                .bind(since)
                .bind(limit),
            )
            .await
    }
}
