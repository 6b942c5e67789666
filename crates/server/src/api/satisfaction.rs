//! Customer satisfaction and service reviews (ISO/IEC 20000-1 8.3.2-d/e/f):
//! `/satisfaction/surveys`, `/customers/{id}/reviews`, and a requester's rating of their own
//! resolved incident at `/incidents/{key}/rating`.
//!
//! Agents and managers record surveys and reviews (CustomersWrite); auditors read them
//! (CustomersRead). Requesters rate their own incidents (RecordsOwn).

use super::{ApiJson, ApiPath, ApiQuery, ListOf, date_out, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::asset::parse_date;
use steward_domain::relationship::review::CustomerReviewDraft;
use steward_domain::relationship::satisfaction::{RatingDraft, SurveyDraft, can_rate};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::relationship::review::CustomerReview;
use steward_store::relationship::satisfaction::{Survey, TicketRating};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyOut {
    pub id: i64,
    /// The customer surveyed; absent for a survey of all customers.
    pub customer_id: Option<i64>,
    pub service_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub conducted_on: String,
    pub sample_size: i64,
    pub responses: i64,
    /// On a 1–5 scale, one decimal; absent without responses.
    pub average_score: Option<f64>,
    pub analysis: String,
    pub improvement_id: Option<i64>,
    pub created_at: String,
}

impl From<Survey> for SurveyOut {
    fn from(s: Survey) -> Self {
        SurveyOut {
            id: s.id,
            customer_id: s.customer_id,
            service_id: s.service_id,
            conducted_on: date_out(s.conducted_on),
            sample_size: s.sample_size,
            responses: s.responses,
            average_score: s.average_tenths.map(|t| t as f64 / 10.0),
            analysis: s.analysis,
            improvement_id: s.improvement_id,
            created_at: time(s.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyIn {
    /// Absent: a survey of all customers.
    pub customer_id: Option<i64>,
    pub service_id: Option<i64>,
    /// `YYYY-MM-DD`, not after today.
    pub conducted_on: String,
    /// How many people were asked.
    pub sample_size: i64,
    /// How many answered; at most the sample size.
    pub responses: i64,
    /// 1.0 to 5.0, kept to one decimal; required when there were responses.
    pub average_score: Option<f64>,
    pub analysis: String,
    pub improvement_id: Option<i64>,
}

/// A date that must be given, read with its own field error.
fn required_date(field: &str, label: &str, text: &str) -> Result<jiff::civil::Date, Invalid> {
    let mut errors = Invalid::new();
    match parse_date(&mut errors, field, label, text) {
        Some(d) => Ok(d),
        None if errors.errors.is_empty() => {
            Err(Invalid::one(field, format!("{label} is required")))
        }
        None => Err(errors),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SurveyQuery {
    pub customer_id: Option<i64>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/satisfaction/surveys", tag = "satisfaction", params(SurveyQuery),
    description = "Satisfaction surveys, the last recorded first.",
    responses((status = 200, body = ListOf<SurveyOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_surveys(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiQuery(q): ApiQuery<SurveyQuery>,
) -> ApiResult<Json<ListOf<SurveyOut>>> {
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .surveys(who.tenant_id(), q.customer_id, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, SurveyOut::from)))
}

#[utoipa::path(post, path = "/satisfaction/surveys", tag = "satisfaction", request_body = SurveyIn,
    description = "Records a satisfaction survey: its sample, responses, average score and analysis.",
    responses((status = 201, body = SurveyOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_survey(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiJson(body): ApiJson<SurveyIn>,
) -> ApiResult<(StatusCode, Json<SurveyOut>)> {
    let draft = SurveyDraft {
        conducted_on: required_date("conducted_on", "Survey date", &body.conducted_on)?,
        customer_id: body.customer_id,
        service_id: body.service_id,
        sample_size: body.sample_size,
        responses: body.responses,
        average_score: body.average_score,
        analysis: body.analysis,
        improvement_id: body.improvement_id,
    };
    let created = state
        .store
        .record_survey(who.tenant_id(), &draft, today_utc(), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/satisfaction/surveys/{id}", tag = "satisfaction", params(("id" = i64, Path)),
    responses((status = 200, body = SurveyOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_survey(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SurveyOut>> {
    Ok(Json(state.store.survey(who.tenant_id(), id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerReviewOut {
    pub id: i64,
    pub customer_id: i64,
    /// `YYYY-MM-DD`.
    pub held_on: String,
    /// The start of the period looked back on (`YYYY-MM-DD`); it ends on `held_on`.
    pub period_from: String,
    pub attendees: String,
    pub performance: String,
    pub outcomes: String,
    pub requirement_changes: String,
    pub change_id: Option<i64>,
    pub improvement_id: Option<i64>,
    pub recorded_by: String,
    pub created_at: String,
}

impl From<CustomerReview> for CustomerReviewOut {
    fn from(r: CustomerReview) -> Self {
        CustomerReviewOut {
            id: r.id,
            customer_id: r.customer_id,
            held_on: date_out(r.held_on),
            period_from: date_out(r.period_from),
            attendees: r.attendees,
            performance: r.performance,
            outcomes: r.outcomes,
            requirement_changes: r.requirement_changes,
            change_id: r.change_id,
            improvement_id: r.improvement_id,
            recorded_by: r.recorded_by_label,
            created_at: time(r.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerReviewIn {
    /// `YYYY-MM-DD`, not after today.
    pub held_on: String,
    pub attendees: String,
    /// What was discussed about the services' performance and trends.
    pub performance: String,
    pub outcomes: String,
    /// Changes to the service requirements identified.
    #[serde(default)]
    pub requirement_changes: String,
    /// The change raised for them, if any.
    pub change_id: Option<i64>,
    /// The improvement raised from the review, if any.
    pub improvement_id: Option<i64>,
}

#[utoipa::path(get, path = "/customers/{id}/reviews", tag = "customers", params(("id" = i64, Path)),
    description = "The service reviews held with the customer, the latest first.",
    responses((status = 200, body = Vec<CustomerReviewOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_reviews(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<CustomerReviewOut>>> {
    let rows = state.store.customer_reviews(who.tenant_id(), id).await?;
    Ok(Json(
        rows.into_iter().map(CustomerReviewOut::from).collect(),
    ))
}

#[utoipa::path(post, path = "/customers/{id}/reviews", tag = "customers", params(("id" = i64, Path)), request_body = CustomerReviewIn,
    description = "Records a service review held with the customer; its period is the customer's review frequency before the day it was held.",
    responses((status = 201, body = CustomerReviewOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_review(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CustomerReviewIn>,
) -> ApiResult<(StatusCode, Json<CustomerReviewOut>)> {
    let draft = CustomerReviewDraft {
        held_on: required_date("held_on", "Review date", &body.held_on)?,
        attendees: body.attendees,
        performance: body.performance,
        outcomes: body.outcomes,
        requirement_changes: body.requirement_changes,
        change_id: body.change_id,
        improvement_id: body.improvement_id,
    };
    let created = state
        .store
        .record_customer_review(who.tenant_id(), id, &draft, today_utc(), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketRatingOut {
    pub incident_id: i64,
    /// 1 to 5.
    pub score: i64,
    pub comment: String,
    pub rated_at: String,
}

impl From<TicketRating> for TicketRatingOut {
    fn from(r: TicketRating) -> Self {
        TicketRatingOut {
            incident_id: r.incident_id,
            score: r.score,
            comment: r.comment,
            rated_at: time(r.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRatingIn {
    /// 1 (poor) to 5 (excellent).
    pub score: i64,
    #[serde(default)]
    pub comment: String,
}

/// An incident's rating and whether its requester may rate it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentRatingOut {
    /// Resolved or closed: its requester may rate it.
    pub can_rate: bool,
    /// The requester's rating, if they gave one.
    pub rating: Option<TicketRatingOut>,
}

#[utoipa::path(get, path = "/incidents/{key}/rating", tag = "incidents", params(("key" = String, Path, description = "INC-42 or the numeric id")),
    description = "The requester's rating of the incident, if any, and whether it may be rated now. Requesters see their own incidents' only.",
    responses((status = 200, body = IncidentRatingOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_rating(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<IncidentRatingOut>> {
    let incident = super::incidents::find(&state, &who, &key).await?;
    let rating = state
        .store
        .incident_rating(who.tenant_id(), incident.id)
        .await?;
    Ok(Json(IncidentRatingOut {
        can_rate: can_rate(incident.status),
        rating: rating.map(TicketRatingOut::from),
    }))
}

#[utoipa::path(post, path = "/incidents/{key}/rating", tag = "incidents", params(("key" = String, Path, description = "INC-42 or the numeric id")), request_body = TicketRatingIn,
    description = "The requester rates their own resolved or closed incident (1–5, with an optional comment). Rating again changes the rating. Only the incident's requester rates it: anyone else is refused (403, or 404 where they may not see it); an incident not yet resolved is a 409.",
    responses((status = 200, body = TicketRatingOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn rate(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<TicketRatingIn>,
) -> ApiResult<Json<TicketRatingOut>> {
    if !who.can(Permission::RecordsOwn) {
        return Err(ApiError::forbidden());
    }
    let incident = super::incidents::find(&state, &who, &key).await?;
    if incident.requester_user_id != Some(who.user.id) {
        // Seen by staff, but only its requester rates it.
        return Err(ApiError::forbidden());
    }
    let draft = RatingDraft {
        score: body.score,
        comment: body.comment,
    };
    let rating = state
        .store
        .rate_incident(
            who.tenant_id(),
            incident.id,
            who.user.id,
            &draft,
            &who.actor(),
        )
        .await?;
    Ok(Json(rating.into()))
}
