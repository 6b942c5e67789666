//! The improvement register (ISO/IEC 20000-1 10.2): `/improvements`, the steps each takes
//! (decisions with their reasons, closure with the benefit realised) and its history.
//!
//! Managers and admins keep the register; auditors read it.

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
use steward_domain::sms::improvement::{
    ImprovementDraft, ImprovementSource, ImprovementStatus, ImprovementStep, Priority,
};
use steward_store::PageRequest;
use steward_store::sms::improvement::{Improvement, ImprovementFilter, ImprovementStepRow};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ImprovementOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub source: ImprovementSource,
    /// The record it came from (a nonconformity's, review's or audit finding's id).
    pub source_ref: Option<i64>,
    pub evaluation_criteria: String,
    pub expected_benefit: String,
    pub priority: Priority,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub target_date: Option<String>,
    pub status: ImprovementStatus,
    /// The steps it may take next.
    pub next: Vec<ImprovementStep>,
    pub decision_reason: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<String>,
    pub benefit_realised: String,
    pub raised_by: Option<i64>,
    pub created_at: String,
    /// Send it back as `updated_at` in a PATCH; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<Improvement> for ImprovementOut {
    fn from(i: Improvement) -> Self {
        ImprovementOut {
            next: ImprovementStep::open_from(i.status),
            id: i.id,
            title: i.title,
            description: i.description,
            source: i.source,
            source_ref: i.source_ref,
            evaluation_criteria: i.evaluation_criteria,
            expected_benefit: i.expected_benefit,
            priority: i.priority,
            owner_id: i.owner_id,
            target_date: i.target_date.map(date_out),
            status: i.status,
            decision_reason: i.decision_reason,
            decided_by: i.decided_by,
            decided_at: opt_time(i.decided_at),
            benefit_realised: i.benefit_realised,
            raised_by: i.raised_by,
            created_at: time(i.created_at),
            updated_at: time(i.updated_at),
        }
    }
}

/// An opportunity to raise.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImprovementIn {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub source: ImprovementSource,
    pub source_ref: Option<i64>,
    /// How it is judged: cost, effort, risk, fit with the objectives.
    #[serde(default)]
    pub evaluation_criteria: String,
    #[serde(default)]
    pub expected_benefit: String,
    /// `medium` unless given.
    pub priority: Option<Priority>,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub target_date: Option<String>,
}

/// A validated draft; the target date read with its own field error.
pub fn draft_from(mut draft: ImprovementDraft, target: &str) -> Result<ImprovementDraft, Invalid> {
    let mut errors = Invalid::new();
    draft.target_date = parse_date(&mut errors, "target_date", "Target date", target);
    match draft.validate() {
        Ok(draft) => errors.into_result(draft),
        Err(mut more) => {
            more.errors.extend(errors.errors);
            Err(more)
        }
    }
}

impl ImprovementIn {
    fn draft(self) -> Result<ImprovementDraft, Invalid> {
        draft_from(
            ImprovementDraft {
                title: self.title,
                description: self.description,
                source: self.source,
                source_ref: self.source_ref,
                evaluation_criteria: self.evaluation_criteria,
                expected_benefit: self.expected_benefit,
                priority: self.priority.unwrap_or(Priority::Medium),
                owner_id: self.owner_id,
                target_date: None,
            },
            self.target_date.as_deref().unwrap_or(""),
        )
    }
}

/// The fields to change; absent fields stay, `null` clears the optional ones. The status
/// moves only by `/improvements/{id}/steps`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImprovementPatch {
    /// The `updated_at` you read: if the opportunity changed since, the edit is refused (409).
    pub updated_at: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub source: Option<ImprovementSource>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<i64>)]
    pub source_ref: Option<Option<i64>>,
    pub evaluation_criteria: Option<String>,
    pub expected_benefit: Option<String>,
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<i64>)]
    pub owner_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<String>)]
    pub target_date: Option<Option<String>>,
}

impl ImprovementPatch {
    fn apply(self, current: &Improvement) -> Result<ImprovementDraft, Invalid> {
        let old = current.draft();
        let target = match self.target_date {
            Some(given) => given.unwrap_or_default(),
            None => old.target_date.map(date_out).unwrap_or_default(),
        };
        draft_from(
            ImprovementDraft {
                title: self.title.unwrap_or(old.title),
                description: self.description.unwrap_or(old.description),
                source: self.source.unwrap_or(old.source),
                source_ref: self.source_ref.unwrap_or(old.source_ref),
                evaluation_criteria: self.evaluation_criteria.unwrap_or(old.evaluation_criteria),
                expected_benefit: self.expected_benefit.unwrap_or(old.expected_benefit),
                priority: self.priority.unwrap_or(old.priority),
                owner_id: self.owner_id.unwrap_or(old.owner_id),
                target_date: None,
            },
            &target,
        )
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImprovementQuery {
    pub status: Option<ImprovementStatus>,
    pub priority: Option<Priority>,
    pub source: Option<ImprovementSource>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/improvements", tag = "improvements", params(ImprovementQuery),
    description = "The improvement register, newest first.",
    responses((status = 200, body = ListOf<ImprovementOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<ImprovementQuery>,
) -> ApiResult<Json<ListOf<ImprovementOut>>> {
    let filter = ImprovementFilter {
        status: q.status,
        priority: q.priority,
        source: q.source,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .improvements(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, ImprovementOut::from)))
}

#[utoipa::path(post, path = "/improvements", tag = "improvements", request_body = ImprovementIn,
    description = "Raises an opportunity for improvement; it starts as proposed, waiting for a decision.",
    responses((status = 201, body = ImprovementOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<ImprovementIn>,
) -> ApiResult<(StatusCode, Json<ImprovementOut>)> {
    let draft = body.draft()?;
    let created = state
        .store
        .create_improvement(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/improvements/{id}", tag = "improvements", params(("id" = i64, Path)),
    responses((status = 200, body = ImprovementOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ImprovementOut>> {
    Ok(Json(
        state.store.improvement(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/improvements/{id}", tag = "improvements", params(("id" = i64, Path)), request_body = ImprovementPatch,
    description = "Edits an open opportunity. `updated_at` is the one you read: an edit over someone else's is refused with 409, and so is an edit of a rejected or closed one.",
    responses((status = 200, body = ImprovementOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ImprovementPatch>,
) -> ApiResult<Json<ImprovementOut>> {
    let current = state.store.improvement(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let draft = body.apply(&current)?;
    let saved = state
        .store
        .update_improvement(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepIn {
    pub step: ImprovementStep,
    /// The decision's reason (approve, defer, reject), the benefit realised (close), or a
    /// note (the other steps).
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/improvements/{id}/steps", tag = "improvements", params(("id" = i64, Path)), request_body = StepIn,
    description = "Moves an opportunity on: proposed → approved, deferred or rejected (each with its reason); deferred → proposed again, approved or rejected; approved → in progress → implemented → closed (with the benefit realised). A step its status does not allow is a 409 and changes nothing.",
    responses((status = 200, body = ImprovementOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn step(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StepIn>,
) -> ApiResult<Json<ImprovementOut>> {
    let moved = state
        .store
        .step_improvement(who.tenant_id(), id, body.step, &body.note, &who.actor())
        .await?;
    Ok(Json(moved.into()))
}

/// One step an opportunity took.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepOut {
    pub step: String,
    pub from: String,
    pub to: String,
    pub note: String,
    pub by: String,
    pub at: String,
}

impl From<ImprovementStepRow> for StepOut {
    fn from(s: ImprovementStepRow) -> Self {
        StepOut {
            step: s.step,
            from: s.from_status,
            to: s.to_status,
            note: s.note,
            by: s.actor_label,
            at: time(s.at),
        }
    }
}

#[utoipa::path(get, path = "/improvements/{id}/steps", tag = "improvements", params(("id" = i64, Path)),
    description = "Every step the opportunity took, oldest first.",
    responses((status = 200, body = Vec<StepOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn steps(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<StepOut>>> {
    let rows = state.store.improvement_steps(who.tenant_id(), id).await?;
    Ok(Json(rows.into_iter().map(StepOut::from).collect()))
}
