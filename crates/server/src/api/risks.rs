//! Risks and opportunities (ISO/IEC 20000-1 6.1): `/risks`, their reviews, closure, and the
//! heat map of the open ones.
//!
//! Managers and admins keep the register; auditors read it.

use super::date_out;
use super::{ApiJson, ApiPath, ApiQuery, ListOf, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::{parse_date, required_date_alone};
use steward_domain::sms::risk::{
    Level, Rating, RiskDraft, RiskKind, RiskStatus, Treatment, heat_map,
};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::sms::risk::{Risk, RiskFilter, RiskReview};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RiskEntryOut)]
pub struct RiskOut {
    pub id: i64,
    pub kind: RiskKind,
    pub title: String,
    pub description: String,
    pub area: String,
    /// Before treatment.
    pub inherent: Rating,
    pub score: u8,
    pub level: Level,
    pub treatment: Treatment,
    pub treatment_plan: String,
    /// Expected once the treatment works.
    pub residual: Option<Rating>,
    pub residual_level: Option<Level>,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub review_date: String,
    /// Open and past its review date.
    pub review_overdue: bool,
    pub status: RiskStatus,
    pub closed_reason: String,
    pub reviewed_at: String,
    pub created_at: String,
    /// Send it back as `updated_at` in a PATCH; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<Risk> for RiskOut {
    fn from(r: Risk) -> Self {
        RiskOut {
            review_overdue: r.review_overdue(today_utc()),
            score: r.inherent.score(),
            level: r.inherent.level(),
            residual_level: r.residual.map(Rating::level),
            id: r.id,
            kind: r.kind,
            title: r.title,
            description: r.description,
            area: r.area,
            inherent: r.inherent,
            treatment: r.treatment,
            treatment_plan: r.treatment_plan,
            residual: r.residual,
            owner_id: r.owner_id,
            review_date: date_out(r.review_date),
            status: r.status,
            closed_reason: r.closed_reason,
            reviewed_at: time(r.reviewed_at),
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

/// A risk or opportunity to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RiskEntryIn)]
pub struct RiskIn {
    pub kind: RiskKind,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// What it concerns: a service, the SMS, a supplier, information security…
    #[serde(default)]
    pub area: String,
    /// 1 (rare) to 5 (almost certain).
    pub likelihood: u8,
    /// 1 (negligible) to 5 (severe).
    pub impact: u8,
    pub treatment: Treatment,
    /// Required unless the treatment is `accept`.
    #[serde(default)]
    pub treatment_plan: String,
    pub residual_likelihood: Option<u8>,
    pub residual_impact: Option<u8>,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`, not in the past.
    pub review_date: String,
}

/// A residual rating needs both halves; one alone is a field error.
pub fn residual_of(
    errors: &mut Invalid,
    likelihood: Option<u8>,
    impact: Option<u8>,
) -> Option<Rating> {
    match (likelihood, impact) {
        (Some(likelihood), Some(impact)) => Some(Rating { likelihood, impact }),
        (None, None) => None,
        _ => {
            errors.add(
                "residual_likelihood",
                "Give both the residual likelihood and impact, or neither",
            );
            None
        }
    }
}

/// A validated draft from the typed fields, every error in one [`Invalid`].
pub fn draft_from(
    mut draft: RiskDraft,
    residual: (Option<u8>, Option<u8>),
    review_date: &str,
) -> Result<RiskDraft, Invalid> {
    let mut errors = Invalid::new();
    draft.residual = residual_of(&mut errors, residual.0, residual.1);
    let today = today_utc();
    // Without a readable date the rest is checked against one that passes, so that every
    // other error shows beside the date's own.
    draft.review_date = match parse_date(&mut errors, "review_date", "Review date", review_date) {
        Some(date) => date,
        None => {
            if review_date.trim().is_empty() {
                errors.add("review_date", "Review date is required");
            }
            today
        }
    };
    match draft.validate(today) {
        Ok(draft) => errors.into_result(draft),
        Err(mut more) => {
            more.errors.extend(errors.errors);
            Err(more)
        }
    }
}

impl RiskIn {
    fn draft(self) -> Result<RiskDraft, Invalid> {
        draft_from(
            RiskDraft {
                kind: self.kind,
                title: self.title,
                description: self.description,
                area: self.area,
                inherent: Rating {
                    likelihood: self.likelihood,
                    impact: self.impact,
                },
                treatment: self.treatment,
                treatment_plan: self.treatment_plan,
                residual: None,
                owner_id: self.owner_id,
                review_date: today_utc(),
            },
            (self.residual_likelihood, self.residual_impact),
            &self.review_date,
        )
    }
}

/// The fields to change; absent fields stay, `null` clears the optional ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskPatch {
    /// The `updated_at` you read: if the entry changed since, the edit is refused (409).
    pub updated_at: String,
    pub kind: Option<RiskKind>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub area: Option<String>,
    pub likelihood: Option<u8>,
    pub impact: Option<u8>,
    pub treatment: Option<Treatment>,
    pub treatment_plan: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<u8>)]
    pub residual_likelihood: Option<Option<u8>>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<u8>)]
    pub residual_impact: Option<Option<u8>>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<i64>)]
    pub owner_id: Option<Option<i64>>,
    pub review_date: Option<String>,
}

impl RiskPatch {
    fn apply(self, current: &Risk) -> Result<RiskDraft, Invalid> {
        let old = current.draft();
        let residual = (
            self.residual_likelihood
                .unwrap_or(old.residual.map(|r| r.likelihood)),
            self.residual_impact
                .unwrap_or(old.residual.map(|r| r.impact)),
        );
        let review = self
            .review_date
            .unwrap_or_else(|| date_out(old.review_date));
        draft_from(
            RiskDraft {
                kind: self.kind.unwrap_or(old.kind),
                title: self.title.unwrap_or(old.title),
                description: self.description.unwrap_or(old.description),
                area: self.area.unwrap_or(old.area),
                inherent: Rating {
                    likelihood: self.likelihood.unwrap_or(old.inherent.likelihood),
                    impact: self.impact.unwrap_or(old.inherent.impact),
                },
                treatment: self.treatment.unwrap_or(old.treatment),
                treatment_plan: self.treatment_plan.unwrap_or(old.treatment_plan),
                residual: None,
                owner_id: self.owner_id.unwrap_or(old.owner_id),
                review_date: old.review_date,
            },
            residual,
            &review,
        )
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RiskQuery {
    pub kind: Option<RiskKind>,
    pub status: Option<RiskStatus>,
    /// `true`: only open entries past their review date.
    #[serde(default)]
    pub overdue: bool,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/risks", tag = "risks", params(RiskQuery),
    description = "The register of risks and opportunities, newest first.",
    responses((status = 200, body = ListOf<RiskOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<RiskQuery>,
) -> ApiResult<Json<ListOf<RiskOut>>> {
    let filter = RiskFilter {
        kind: q.kind,
        status: q.status,
        review_before: q.overdue.then(today_utc),
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state.store.risks(who.tenant_id(), &filter, &page).await?;
    Ok(Json(ListOf::from_page(found, RiskOut::from)))
}

#[utoipa::path(post, path = "/risks", tag = "risks", request_body = RiskIn,
    description = "Records a risk or an opportunity with its first assessment.",
    responses((status = 201, body = RiskOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<RiskIn>,
) -> ApiResult<(StatusCode, Json<RiskOut>)> {
    let draft = body.draft()?;
    let created = state
        .store
        .create_risk(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/risks/{id}", tag = "risks", params(("id" = i64, Path)),
    responses((status = 200, body = RiskOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RiskOut>> {
    Ok(Json(state.store.risk(who.tenant_id(), id).await?.into()))
}

#[utoipa::path(patch, path = "/risks/{id}", tag = "risks", params(("id" = i64, Path)), request_body = RiskPatch,
    description = "Edits an open entry; a new rating or review date is kept as an assessment in its reviews. `updated_at` is the one you read: an edit over someone else's is refused with 409.",
    responses((status = 200, body = RiskOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RiskPatch>,
) -> ApiResult<Json<RiskOut>> {
    let current = state.store.risk(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let draft = body.apply(&current)?;
    let saved = state
        .store
        .update_risk(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RiskReviewIn)]
pub struct ReviewIn {
    /// What the review found.
    pub note: String,
    /// The next review, `YYYY-MM-DD`, after today.
    pub review_date: String,
}

#[utoipa::path(post, path = "/risks/{id}/reviews", tag = "risks", params(("id" = i64, Path)), request_body = ReviewIn,
    description = "Records a periodic review of an open entry: what was found and the next review date.",
    responses((status = 200, body = RiskOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn review(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReviewIn>,
) -> ApiResult<Json<RiskOut>> {
    let next = required_date_alone("review_date", "Next review date", &body.review_date)?;
    let reviewed = state
        .store
        .review_risk(
            who.tenant_id(),
            id,
            next,
            &body.note,
            today_utc(),
            &who.actor(),
        )
        .await?;
    Ok(Json(reviewed.into()))
}

/// One assessment of an entry.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RiskReviewOut)]
pub struct ReviewOut {
    pub inherent: Rating,
    pub level: Level,
    pub residual: Option<Rating>,
    pub review_date: String,
    pub note: String,
    pub by: String,
    pub at: String,
}

impl From<RiskReview> for ReviewOut {
    fn from(r: RiskReview) -> Self {
        ReviewOut {
            level: r.inherent.level(),
            inherent: r.inherent,
            residual: r.residual,
            review_date: date_out(r.review_date),
            note: r.note,
            by: r.actor_label,
            at: time(r.at),
        }
    }
}

#[utoipa::path(get, path = "/risks/{id}/reviews", tag = "risks", params(("id" = i64, Path)),
    description = "Every assessment of the entry, oldest first: when recorded, at each new rating, at each review.",
    responses((status = 200, body = Vec<ReviewOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reviews(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ReviewOut>>> {
    let rows = state.store.risk_reviews(who.tenant_id(), id).await?;
    Ok(Json(rows.into_iter().map(ReviewOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RiskCloseIn)]
pub struct CloseIn {
    /// Why it no longer needs managing.
    pub reason: String,
}

#[utoipa::path(post, path = "/risks/{id}/close", tag = "risks", params(("id" = i64, Path)), request_body = CloseIn,
    description = "Closes an open entry with the reason; it stays in the register for the record.",
    responses((status = 200, body = RiskOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CloseIn>,
) -> ApiResult<Json<RiskOut>> {
    let closed = state
        .store
        .close_risk(who.tenant_id(), id, &body.reason, &who.actor())
        .await?;
    Ok(Json(closed.into()))
}

/// How many open entries sit in each cell of the five-by-five grid.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeatMapOut {
    /// `cells[likelihood - 1][impact - 1]`.
    pub risks: Vec<Vec<u32>>,
    pub opportunities: Vec<Vec<u32>>,
}

#[utoipa::path(get, path = "/risks/heat-map", tag = "risks",
    description = "Open risks and opportunities counted per likelihood and impact.",
    responses((status = 200, body = HeatMapOut), (status = 403, body = Problem)))]
pub async fn heat(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
) -> ApiResult<Json<HeatMapOut>> {
    let grid = |cells: [[u32; 5]; 5]| cells.iter().map(|row| row.to_vec()).collect();
    let risks = state
        .store
        .open_risk_ratings(who.tenant_id(), RiskKind::Risk)
        .await?;
    let opportunities = state
        .store
        .open_risk_ratings(who.tenant_id(), RiskKind::Opportunity)
        .await?;
    Ok(Json(HeatMapOut {
        risks: grid(heat_map(risks)),
        opportunities: grid(heat_map(opportunities)),
    }))
}
