//! Nonconformities and corrective action (ISO/IEC 20000-1 10.1): `/nonconformities`, their
//! corrective actions, effectiveness checks and status history.
//!
//! Managers and admins handle them; auditors read them. A nonconformity from an audit finding
//! is raised by recording the finding on its audit, never here.

use super::date_out;
use super::{ApiJson, ApiPath, ApiQuery, ListOf, nullable, opt_time, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::{parse_date, required_date};
use steward_domain::sms::nonconformity::{
    ActionDraft, NcStatus, NonconformityDraft, RootCauseMethod, Severity, Source,
};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::nonconformity::{
    CorrectiveAction, EffectivenessCheck, NcStatusChange, Nonconformity, NonconformityFilter,
    NonconformityItem,
};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct NonconformityOut {
    pub id: i64,
    /// `NC-<n>`.
    pub reference: String,
    pub title: String,
    pub description: String,
    /// The clause of ISO/IEC 20000-1 it is against, if any.
    pub clause_id: Option<String>,
    pub severity: Severity,
    pub source: Source,
    /// The incident's or the audit finding's id.
    pub source_ref: Option<i64>,
    pub owner_id: Option<i64>,
    pub raised_by: Option<i64>,
    pub raised_by_label: String,
    pub raised_at: String,
    /// What was done at once to limit the effect.
    pub containment: String,
    pub root_cause: String,
    pub root_cause_method: Option<RootCauseMethod>,
    pub status: NcStatus,
    /// `YYYY-MM-DD`: when the effectiveness check is due, once every action is done.
    pub check_due: Option<String>,
    pub closed_at: Option<String>,
    /// Actions past their due date and not done (in lists; 0 on a single record).
    pub overdue_actions: i64,
    /// Send it back as `updated_at` in a PUT; an edit over someone else's is refused.
    pub updated_at: String,
}

impl NonconformityOut {
    fn with_overdue(nc: Nonconformity, overdue_actions: i64) -> Self {
        NonconformityOut {
            reference: nc.reference(),
            id: nc.id,
            title: nc.title,
            description: nc.description,
            clause_id: nc.clause_id,
            severity: nc.severity,
            source: nc.source,
            source_ref: nc.source_ref,
            owner_id: nc.owner_id,
            raised_by: nc.raised_by,
            raised_by_label: nc.raised_by_label,
            raised_at: time(nc.raised_at),
            containment: nc.containment,
            root_cause: nc.root_cause,
            root_cause_method: nc.root_cause_method,
            status: nc.status,
            check_due: nc.check_due.map(date_out),
            closed_at: opt_time(nc.closed_at),
            overdue_actions,
            updated_at: time(nc.updated_at),
        }
    }
}

impl From<Nonconformity> for NonconformityOut {
    fn from(nc: Nonconformity) -> Self {
        NonconformityOut::with_overdue(nc, 0)
    }
}

impl From<NonconformityItem> for NonconformityOut {
    fn from(i: NonconformityItem) -> Self {
        NonconformityOut::with_overdue(i.nonconformity, i.overdue_actions)
    }
}

/// A nonconformity to raise.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NonconformityIn {
    pub title: String,
    pub description: String,
    /// A clause of ISO/IEC 20000-1, such as `8.5.1.3`.
    pub clause_id: Option<String>,
    pub severity: Severity,
    /// `incident`, `complaint`, `management_review` or `other`: nonconformities from audit
    /// findings are raised by recording the finding on its audit.
    pub source: Source,
    /// For an incident: the incident's id (it must exist in the organisation).
    pub source_ref: Option<i64>,
    pub owner_id: Option<i64>,
}

/// Refuses an audit source outside the internal audit, which raises its own.
pub fn refuse_audit_source(source: Source) -> Result<(), Invalid> {
    if source == Source::Audit {
        return Err(Invalid::one(
            "source",
            "A nonconformity from an audit finding is raised by recording the finding on its audit",
        ));
    }
    Ok(())
}

/// The fields to change; absent fields stay, `null` clears the owner, method or check date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NonconformityUpdate {
    /// The `updated_at` you read: if the nonconformity changed since, the edit is refused (409).
    pub updated_at: String,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub owner_id: Option<Option<i64>>,
    pub containment: Option<String>,
    pub root_cause: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<RootCauseMethod>)]
    pub root_cause_method: Option<Option<RootCauseMethod>>,
    /// `YYYY-MM-DD`; kept only while the nonconformity awaits verification.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub check_due: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct NonconformityQuery {
    pub status: Option<NcStatus>,
    pub severity: Option<Severity>,
    pub source: Option<Source>,
    /// Only those with a corrective action past its due date.
    #[serde(default)]
    pub overdue: bool,
    /// Only those you own or hold an open action on.
    #[serde(default)]
    pub mine: bool,
    /// `number` (default), `raised_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/nonconformities", tag = "nonconformities", params(NonconformityQuery),
    responses((status = 200, body = ListOf<NonconformityOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<NonconformityQuery>,
) -> ApiResult<Json<ListOf<NonconformityOut>>> {
    let filter = NonconformityFilter {
        status: q.status,
        severity: q.severity,
        source: q.source,
        overdue: q.overdue,
        mine: q.mine.then_some(who.user.id),
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .nonconformities(who.tenant_id(), &filter, today_utc(), &page)
        .await?;
    Ok(Json(ListOf::from_page(found, NonconformityOut::from)))
}

#[utoipa::path(post, path = "/nonconformities", tag = "nonconformities", request_body = NonconformityIn,
    responses((status = 201, body = NonconformityOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<NonconformityIn>,
) -> ApiResult<(StatusCode, Json<NonconformityOut>)> {
    refuse_audit_source(body.source)?;
    let draft = NonconformityDraft {
        title: body.title,
        description: body.description,
        clause_id: body.clause_id,
        severity: body.severity,
        source: body.source,
        source_ref: body.source_ref,
        owner_id: body.owner_id,
    };
    let raised = state
        .store
        .raise_nonconformity(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(raised.into())))
}

#[utoipa::path(get, path = "/nonconformities/{id}", tag = "nonconformities", params(("id" = i64, Path)),
    responses((status = 200, body = NonconformityOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<NonconformityOut>> {
    Ok(Json(
        state.store.nonconformity(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(put, path = "/nonconformities/{id}", tag = "nonconformities", params(("id" = i64, Path)), request_body = NonconformityUpdate,
    description = "Records containment and root cause, or changes the title, description, owner or check date. Once containment, root cause and a corrective action are in, the nonconformity moves to actions planned. `updated_at` is the one you read: an edit over someone else's is refused with 409, as is any edit of a closed one.",
    responses((status = 200, body = NonconformityOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NonconformityUpdate>,
) -> ApiResult<Json<NonconformityOut>> {
    let current = state.store.nonconformity(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let mut edit = current.edit();
    let mut errors = Invalid::new();
    if let Some(title) = body.title {
        edit.title = title;
    }
    if let Some(description) = body.description {
        edit.description = description;
    }
    if let Some(owner) = body.owner_id {
        edit.owner_id = owner;
    }
    if let Some(containment) = body.containment {
        edit.containment = containment;
    }
    if let Some(root_cause) = body.root_cause {
        edit.root_cause = root_cause;
    }
    if let Some(method) = body.root_cause_method {
        edit.root_cause_method = method;
    }
    if let Some(due) = body.check_due {
        edit.check_due = due.and_then(|d| parse_date(&mut errors, "check_due", "Check date", &d));
    }
    errors.into_result(())?;
    let saved = state
        .store
        .update_nonconformity(who.tenant_id(), id, seen, &edit, today_utc(), &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NcActionOut)]
pub struct ActionOut {
    pub id: i64,
    pub nonconformity_id: i64,
    pub description: String,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// Not completed and past its due date.
    pub overdue: bool,
    pub completed_at: Option<String>,
    pub completed_on: Option<String>,
    pub completed_by: Option<i64>,
    pub completion_note: String,
}

impl From<CorrectiveAction> for ActionOut {
    fn from(a: CorrectiveAction) -> Self {
        ActionOut {
            overdue: a.is_overdue(today_utc()),
            id: a.id,
            nonconformity_id: a.nonconformity_id,
            description: a.description,
            owner_id: a.owner_id,
            due: date_out(a.due),
            completed_at: opt_time(a.completed_at),
            completed_on: a.completed_on.map(date_out),
            completed_by: a.completed_by,
            completion_note: a.completion_note,
        }
    }
}

/// A corrective action to plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NcActionIn)]
pub struct ActionIn {
    pub description: String,
    /// Who carries it out: a user of the organisation.
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`, today or later.
    pub due: String,
}

/// An action draft from typed fields (the form and the API share it).
pub fn action_draft(
    description: String,
    owner_id: Option<i64>,
    due: &str,
) -> Result<ActionDraft, Invalid> {
    let mut errors = Invalid::new();
    let due = required_date(&mut errors, "due", "Due date", due);
    let Some(due) = due else {
        if description.trim().is_empty() {
            errors.add("description", "Description is required");
        }
        if owner_id.is_none() {
            errors.add("owner_id", "Choose who carries out the action");
        }
        return Err(errors);
    };
    Ok(ActionDraft {
        description,
        owner_id,
        due,
    })
}

#[utoipa::path(get, path = "/nonconformities/{id}/actions", tag = "nonconformities", params(("id" = i64, Path)),
    description = "The nonconformity's corrective actions, oldest first.",
    responses((status = 200, body = Vec<ActionOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn actions(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ActionOut>>> {
    let rows = state.store.corrective_actions(who.tenant_id(), id).await?;
    Ok(Json(rows.into_iter().map(ActionOut::from).collect()))
}

#[utoipa::path(post, path = "/nonconformities/{id}/actions", tag = "nonconformities", params(("id" = i64, Path)), request_body = ActionIn,
    description = "Plans a corrective action. Refused (409) once the nonconformity is closed; one awaiting verification goes back to actions planned.",
    responses((status = 201, body = ActionOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ActionIn>,
) -> ApiResult<(StatusCode, Json<ActionOut>)> {
    let draft = action_draft(body.description, body.owner_id, &body.due)?;
    let action = state
        .store
        .add_corrective_action(who.tenant_id(), id, &draft, today_utc(), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(action.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NcCompleteIn)]
pub struct CompleteIn {
    /// What was done.
    pub note: String,
}

#[utoipa::path(post, path = "/nonconformities/{id}/actions/{action_id}/complete", tag = "nonconformities",
    params(("id" = i64, Path), ("action_id" = i64, Path)), request_body = CompleteIn,
    description = "Marks the action completed today. When it was the last open one, the nonconformity awaits its effectiveness check, due 30 days later unless changed.",
    responses((status = 200, body = ActionOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn complete_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath((id, action_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<CompleteIn>,
) -> ApiResult<Json<ActionOut>> {
    let done = state
        .store
        .complete_corrective_action(
            who.tenant_id(),
            id,
            action_id,
            &body.note,
            today_utc(),
            &who.actor(),
        )
        .await?;
    Ok(Json(done.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    pub id: i64,
    pub effective: bool,
    pub notes: String,
    pub checked_by: Option<i64>,
    pub checked_by_label: String,
    pub checked_at: String,
}

impl From<EffectivenessCheck> for CheckOut {
    fn from(c: EffectivenessCheck) -> Self {
        CheckOut {
            id: c.id,
            effective: c.effective,
            notes: c.notes,
            checked_by: c.checked_by,
            checked_by_label: c.checked_by_label,
            checked_at: time(c.checked_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// Whether the corrective actions removed the cause.
    pub effective: bool,
    /// The evidence looked at and what it showed.
    pub notes: String,
}

#[utoipa::path(get, path = "/nonconformities/{id}/verification", tag = "nonconformities", params(("id" = i64, Path)),
    description = "Every effectiveness check recorded, oldest first (an ineffective one stays).",
    responses((status = 200, body = Vec<CheckOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn checks(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<CheckOut>>> {
    let rows = state
        .store
        .effectiveness_checks(who.tenant_id(), id)
        .await?;
    Ok(Json(rows.into_iter().map(CheckOut::from).collect()))
}

#[utoipa::path(post, path = "/nonconformities/{id}/verification", tag = "nonconformities", params(("id" = i64, Path)), request_body = CheckIn,
    description = "Records the effectiveness check. Effective closes the nonconformity; not effective sends it back to actions planned, where a new action is required. Refused (409) before every action is done, and when you own the nonconformity: verification is independent.",
    responses((status = 201, body = CheckOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn verify(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CheckIn>,
) -> ApiResult<(StatusCode, Json<CheckOut>)> {
    let check = state
        .store
        .record_effectiveness_check(
            who.tenant_id(),
            id,
            body.effective,
            &body.notes,
            &who.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(check.into())))
}

/// One status a nonconformity had.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NcStatusChangeOut)]
pub struct StatusChangeOut {
    /// Absent when it was raised.
    pub from: Option<String>,
    pub to: String,
    pub note: String,
    pub by: String,
    pub at: String,
}

impl From<NcStatusChange> for StatusChangeOut {
    fn from(h: NcStatusChange) -> Self {
        StatusChangeOut {
            from: h.from_status,
            to: h.to_status,
            note: h.note,
            by: h.actor_label,
            at: time(h.at),
        }
    }
}

#[utoipa::path(get, path = "/nonconformities/{id}/history", tag = "nonconformities", params(("id" = i64, Path)),
    description = "Every status the nonconformity has had, oldest first.",
    responses((status = 200, body = Vec<StatusChangeOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<StatusChangeOut>>> {
    let rows = state
        .store
        .nonconformity_history(who.tenant_id(), id)
        .await?;
    Ok(Json(rows.into_iter().map(StatusChangeOut::from).collect()))
}
