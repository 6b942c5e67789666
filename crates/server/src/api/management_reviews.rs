//! Management reviews (ISO/IEC 20000-1 9.3): `/management-reviews`, the inputs Steward
//! compiles for each from its own records, the lifecycle (planned → held → closed, or
//! cancelled) and the actions each review decides, tracked to closure.
//!
//! Managers and admins keep the reviews; auditors read them.

use super::date_out;
use super::{ApiJson, ApiPath, ApiQuery, ListOf, opt_time, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::parse_date;
use steward_domain::sms::review::{
    ActionDraft, ReviewDraft, ReviewInputs, ReviewStatus, ReviewStep, ValidReview,
};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::sms::review::{ManagementReview, ReviewAction, ReviewFilter};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ManagementReviewOut)]
pub struct ReviewOut {
    pub id: i64,
    pub title: String,
    /// `YYYY-MM-DD`, as are the period's bounds.
    pub planned_on: String,
    pub period_from: String,
    pub period_to: String,
    pub chair_id: Option<i64>,
    /// One attendee per line.
    pub attendees: String,
    pub status: ReviewStatus,
    /// The steps it may take next.
    pub next: Vec<ReviewStep>,
    /// When the inputs were last compiled; `GET /management-reviews/{id}/inputs` has them.
    pub inputs_compiled_at: Option<String>,
    pub minutes: String,
    pub decisions: String,
    pub cancel_reason: String,
    pub held_at: Option<String>,
    pub closed_at: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: String,
    /// Send it back as `updated_at` in a PATCH; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<ManagementReview> for ReviewOut {
    fn from(r: ManagementReview) -> Self {
        ReviewOut {
            next: ReviewStep::open_from(r.status),
            inputs_compiled_at: r.inputs.as_ref().map(|i| time(i.compiled_at)),
            id: r.id,
            title: r.title,
            planned_on: date_out(r.planned_on),
            period_from: date_out(r.period_from),
            period_to: date_out(r.period_to),
            chair_id: r.chair_id,
            attendees: r.attendees,
            status: r.status,
            minutes: r.minutes,
            decisions: r.decisions,
            cancel_reason: r.cancel_reason,
            held_at: opt_time(r.held_at),
            closed_at: opt_time(r.closed_at),
            created_by: r.created_by,
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

/// A validated review from the text of a form or a request: dates as `YYYY-MM-DD`, each read
/// with its own field error; an empty period bound takes its default.
pub fn review_draft(
    title: String,
    planned_on: &str,
    period_from: &str,
    period_to: &str,
    chair_id: Option<i64>,
    attendees: String,
) -> Result<ValidReview, Invalid> {
    let mut errors = Invalid::new();
    let planned = parse_date(&mut errors, "planned_on", "Planned date", planned_on);
    let period_from = parse_date(&mut errors, "period_from", "Period start", period_from);
    let period_to = parse_date(&mut errors, "period_to", "Period end", period_to);
    let Some(planned_on) = planned else {
        if planned_on.trim().is_empty() {
            errors.add("planned_on", "Planned date is required");
        }
        if title.trim().is_empty() {
            errors.add("title", "Title is required");
        }
        return Err(errors);
    };
    let draft = ReviewDraft {
        title,
        planned_on,
        period_from,
        period_to,
        chair_id,
        attendees,
    };
    match draft.validate() {
        Ok(valid) => errors.into_result(valid),
        Err(mut more) => {
            more.errors.extend(errors.errors);
            Err(more)
        }
    }
}

/// A validated action from text fields.
pub fn action_draft(
    description: String,
    owner_id: Option<i64>,
    due_on: &str,
) -> Result<ActionDraft, Invalid> {
    let mut errors = Invalid::new();
    let due = parse_date(&mut errors, "due_on", "Due date", due_on);
    if due_on.trim().is_empty() {
        errors.add("due_on", "Due date is required");
    }
    let draft = ActionDraft {
        description,
        owner_id,
        due_on: due.unwrap_or_else(today_utc),
    };
    match draft.validate() {
        Ok(valid) => errors.into_result(valid),
        Err(mut more) => {
            more.errors.extend(errors.errors);
            Err(more)
        }
    }
}

/// A review to plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ManagementReviewIn)]
pub struct ReviewIn {
    pub title: String,
    /// `YYYY-MM-DD`.
    pub planned_on: String,
    /// The period reviewed; both default to the twelve months before the planned date.
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub chair_id: Option<i64>,
    /// One attendee per line.
    #[serde(default)]
    pub attendees: String,
}

/// The fields to change; absent fields stay, `null` clears the chair. The status moves only
/// by `/hold`, `/close` and `/cancel`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewPatch {
    /// The `updated_at` you read: if the review changed since, the edit is refused (409).
    pub updated_at: String,
    pub title: Option<String>,
    pub planned_on: Option<String>,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<i64>)]
    pub chair_id: Option<Option<i64>>,
    pub attendees: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReviewQuery {
    pub status: Option<ReviewStatus>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/management-reviews", tag = "management-reviews", params(ReviewQuery),
    description = "Management reviews, newest first.",
    responses((status = 200, body = ListOf<ReviewOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> ApiResult<Json<ListOf<ReviewOut>>> {
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .management_reviews(who.tenant_id(), &ReviewFilter { status: q.status }, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, ReviewOut::from)))
}

#[utoipa::path(post, path = "/management-reviews", tag = "management-reviews", request_body = ReviewIn,
    description = "Plans a management review.",
    responses((status = 201, body = ReviewOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<ReviewIn>,
) -> ApiResult<(StatusCode, Json<ReviewOut>)> {
    let draft = review_draft(
        body.title,
        &body.planned_on,
        body.period_from.as_deref().unwrap_or(""),
        body.period_to.as_deref().unwrap_or(""),
        body.chair_id,
        body.attendees,
    )?;
    let created = state
        .store
        .create_management_review(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/management-reviews/{id}", tag = "management-reviews", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ReviewOut>> {
    Ok(Json(
        state
            .store
            .management_review(who.tenant_id(), id)
            .await?
            .into(),
    ))
}

#[utoipa::path(patch, path = "/management-reviews/{id}", tag = "management-reviews", params(("id" = i64, Path)), request_body = ReviewPatch,
    description = "Edits a planned or held review (a held one keeps its period). `updated_at` is the one you read: an edit over someone else's is refused with 409.",
    responses((status = 200, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReviewPatch>,
) -> ApiResult<Json<ReviewOut>> {
    let current = state.store.management_review(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let draft = review_draft(
        body.title.unwrap_or(current.title),
        &body
            .planned_on
            .unwrap_or_else(|| date_out(current.planned_on)),
        &body
            .period_from
            .unwrap_or_else(|| date_out(current.period_from)),
        &body
            .period_to
            .unwrap_or_else(|| date_out(current.period_to)),
        body.chair_id.unwrap_or(current.chair_id),
        body.attendees.unwrap_or(current.attendees),
    )?;
    let saved = state
        .store
        .update_management_review(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(post, path = "/management-reviews/{id}/inputs", tag = "management-reviews", params(("id" = i64, Path)),
    description = "Compiles the review's inputs (9.3) from Steward's records for its period, replacing any compiled before. Refused with 409 once the review was held: its inputs are kept as the meeting saw them.",
    responses((status = 200, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn compile(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ReviewOut>> {
    let compiled = state
        .store
        .compile_review_inputs(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Json(compiled.into()))
}

#[utoipa::path(get, path = "/management-reviews/{id}/inputs", tag = "management-reviews", params(("id" = i64, Path)),
    description = "The compiled inputs: earlier reviews' actions, SLA attainment overall and per month, incidents, problems, changes, objectives, nonconformities, internal audits, risks, improvements, conformance readiness, and what Steward does not record yet. 404 when they were never compiled.",
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn inputs(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ReviewInputs>> {
    let review = state.store.management_review(who.tenant_id(), id).await?;
    let inputs = review.inputs.ok_or(steward_store::StoreError::NotFound)?;
    Ok(Json(inputs))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldIn {
    pub minutes: String,
    /// `YYYY-MM-DD`: the day the meeting was held, when written up afterwards (default today;
    /// never after today).
    #[serde(default)]
    pub held_on: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewCloseIn)]
pub struct CloseIn {
    pub decisions: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewCancelIn)]
pub struct CancelIn {
    pub reason: String,
}

async fn step(
    state: &AppState,
    who: &Can<perm::SmsWrite>,
    id: i64,
    step: ReviewStep,
    text: &str,
) -> ApiResult<Json<ReviewOut>> {
    let moved = state
        .store
        .step_management_review(who.tenant_id(), id, step, text, &who.actor())
        .await?;
    Ok(Json(moved.into()))
}

#[utoipa::path(post, path = "/management-reviews/{id}/hold", tag = "management-reviews", params(("id" = i64, Path)), request_body = HoldIn,
    description = "Records a planned review as held, with its minutes and, when written up afterwards, the day it was held; its inputs must have been compiled, and are frozen from now on.",
    responses((status = 200, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn hold(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<HoldIn>,
) -> ApiResult<Json<ReviewOut>> {
    let mut errors = Invalid::new();
    let held_on = parse_date(
        &mut errors,
        "held_on",
        "Held on",
        body.held_on.as_deref().unwrap_or(""),
    );
    errors.into_result(())?;
    let held = state
        .store
        .hold_management_review(who.tenant_id(), id, &body.minutes, held_on, &who.actor())
        .await?;
    Ok(Json(held.into()))
}

#[utoipa::path(post, path = "/management-reviews/{id}/close", tag = "management-reviews", params(("id" = i64, Path)), request_body = CloseIn,
    description = "Closes a held review with its decisions written down. Its actions stay open until done.",
    responses((status = 200, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CloseIn>,
) -> ApiResult<Json<ReviewOut>> {
    step(&state, &who, id, ReviewStep::Close, &body.decisions).await
}

#[utoipa::path(post, path = "/management-reviews/{id}/cancel", tag = "management-reviews", params(("id" = i64, Path)), request_body = CancelIn,
    description = "Cancels a planned review, with the reason.",
    responses((status = 200, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CancelIn>,
) -> ApiResult<Json<ReviewOut>> {
    step(&state, &who, id, ReviewStep::Cancel, &body.reason).await
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReviewActionOut)]
pub struct ActionOut {
    pub id: i64,
    pub review_id: i64,
    pub description: String,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    /// Open and past its due date.
    pub overdue: bool,
    pub done_at: Option<String>,
    pub done_on: Option<String>,
    pub done_by: Option<i64>,
    pub done_note: String,
    pub created_at: String,
}

impl From<ReviewAction> for ActionOut {
    fn from(a: ReviewAction) -> Self {
        ActionOut {
            overdue: a.overdue(today_utc()),
            id: a.id,
            review_id: a.review_id,
            description: a.description,
            owner_id: a.owner_id,
            due_on: date_out(a.due_on),
            done_at: opt_time(a.done_at),
            done_on: a.done_on.map(date_out),
            done_by: a.done_by,
            done_note: a.done_note,
            created_at: time(a.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewActionIn)]
pub struct ActionIn {
    pub description: String,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due_on: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReviewCompleteIn)]
pub struct CompleteIn {
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(get, path = "/management-reviews/{id}/actions", tag = "management-reviews", params(("id" = i64, Path)),
    description = "The actions the review decided, oldest first.",
    responses((status = 200, body = Vec<ActionOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn actions(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ActionOut>>> {
    let rows = state.store.review_actions(who.tenant_id(), id).await?;
    Ok(Json(rows.into_iter().map(ActionOut::from).collect()))
}

#[utoipa::path(post, path = "/management-reviews/{id}/actions", tag = "management-reviews", params(("id" = i64, Path)), request_body = ActionIn,
    description = "Adds an action to a review that is not cancelled.",
    responses((status = 201, body = ActionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ActionIn>,
) -> ApiResult<(StatusCode, Json<ActionOut>)> {
    let draft = action_draft(body.description, body.owner_id, &body.due_on)?;
    let added = state
        .store
        .add_review_action(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

#[utoipa::path(post, path = "/management-reviews/{id}/actions/{action_id}/complete", tag = "management-reviews",
    params(("id" = i64, Path), ("action_id" = i64, Path)), request_body = CompleteIn,
    description = "Marks an action done, with an optional note; allowed after the review is closed. Done twice is a 409.",
    responses((status = 200, body = ActionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn complete_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath((id, action_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<CompleteIn>,
) -> ApiResult<Json<ActionOut>> {
    let done = state
        .store
        .complete_review_action(who.tenant_id(), id, action_id, &body.note, &who.actor())
        .await?;
    Ok(Json(done.into()))
}
