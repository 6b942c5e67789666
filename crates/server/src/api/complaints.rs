//! Complaints (ISO/IEC 20000-1 8.3.2-g/h/i): `/complaints`, their lifecycle (received →
//! investigating → actioned → closed), escalations, status history, and the nonconformity or
//! improvement raised from one.
//!
//! Agents and managers handle complaints (CustomersWrite); auditors read them (CustomersRead).

use super::{ApiJson, ApiPath, ApiQuery, ListOf, date_out, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::parse_date;
use steward_domain::relationship::complaint::{
    Channel, ComplaintDraft, ComplaintStatus, ComplaintStep, EscalationDraft, StepInput,
};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::relationship::complaint::{
    Complaint, ComplaintFilter, ComplaintHistoryRow, Escalation,
};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintOut {
    pub id: i64,
    /// `CMP-<id>`.
    pub key: String,
    pub customer_id: i64,
    pub service_id: Option<i64>,
    pub complainant: String,
    /// `YYYY-MM-DD`.
    pub received_on: String,
    pub channel: Channel,
    pub summary: String,
    pub details: String,
    pub owner_id: i64,
    /// `YYYY-MM-DD`.
    pub target_date: String,
    pub status: ComplaintStatus,
    /// The step it may take next, if any.
    pub next: Option<ComplaintStep>,
    /// Open and past its target date today.
    pub overdue: bool,
    pub findings: String,
    pub action_taken: String,
    pub outcome: String,
    pub closed_on: Option<String>,
    pub customer_informed: bool,
    pub nonconformity_id: Option<i64>,
    pub improvement_id: Option<i64>,
    pub created_at: String,
    /// Send it back as `updated_at` in a PATCH; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<Complaint> for ComplaintOut {
    fn from(c: Complaint) -> Self {
        ComplaintOut {
            key: c.key(),
            next: ComplaintStep::next_from(c.status),
            overdue: c.overdue(today_utc()),
            id: c.id,
            customer_id: c.customer_id,
            service_id: c.service_id,
            complainant: c.complainant,
            received_on: date_out(c.received_on),
            channel: c.channel,
            summary: c.summary,
            details: c.details,
            owner_id: c.owner_id,
            target_date: date_out(c.target_date),
            status: c.status,
            findings: c.findings,
            action_taken: c.action_taken,
            outcome: c.outcome,
            closed_on: c.closed_on.map(date_out),
            customer_informed: c.customer_informed,
            nonconformity_id: c.nonconformity_id,
            improvement_id: c.improvement_id,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

/// A complaint to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintIn {
    pub customer_id: i64,
    pub service_id: Option<i64>,
    /// A contact's name or whoever complained.
    pub complainant: String,
    /// `YYYY-MM-DD`, not after today.
    pub received_on: String,
    pub channel: Channel,
    pub summary: String,
    #[serde(default)]
    pub details: String,
    /// An active user of the organisation.
    pub owner_id: i64,
    /// `YYYY-MM-DD`; ten days after receipt unless given.
    pub target_date: Option<String>,
}

/// A validated-to-parse draft: dates read with their own field errors.
pub fn draft_with_dates(
    mut draft: ComplaintDraft,
    received_on: &str,
    target_date: &str,
) -> Result<ComplaintDraft, Invalid> {
    let mut errors = Invalid::new();
    match parse_date(&mut errors, "received_on", "Date received", received_on) {
        Some(d) => draft.received_on = d,
        None if errors.errors.is_empty() => errors.add("received_on", "Date received is required"),
        None => {}
    }
    draft.target_date = parse_date(&mut errors, "target_date", "Target date", target_date);
    errors.into_result(draft)
}

impl ComplaintIn {
    fn draft(self) -> Result<ComplaintDraft, Invalid> {
        draft_with_dates(
            ComplaintDraft {
                customer_id: Some(self.customer_id),
                service_id: self.service_id,
                complainant: self.complainant,
                received_on: today_utc(),
                channel: self.channel,
                summary: self.summary,
                details: self.details,
                owner_id: Some(self.owner_id),
                target_date: None,
            },
            &self.received_on,
            self.target_date.as_deref().unwrap_or(""),
        )
    }
}

/// The fields to change; absent fields stay. The status moves only by
/// `/complaints/{id}/transitions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintPatch {
    /// The `updated_at` you read: if the complaint changed since, the edit is refused (409).
    pub updated_at: Option<String>,
    pub customer_id: Option<i64>,
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<i64>)]
    pub service_id: Option<Option<i64>>,
    pub complainant: Option<String>,
    pub received_on: Option<String>,
    pub channel: Option<Channel>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub owner_id: Option<i64>,
    pub target_date: Option<String>,
}

impl ComplaintPatch {
    fn apply(self, current: &Complaint) -> Result<ComplaintDraft, Invalid> {
        let old = current.draft();
        draft_with_dates(
            ComplaintDraft {
                customer_id: self.customer_id.or(old.customer_id),
                service_id: self.service_id.unwrap_or(old.service_id),
                complainant: self.complainant.unwrap_or(old.complainant),
                received_on: old.received_on,
                channel: self.channel.unwrap_or(old.channel),
                summary: self.summary.unwrap_or(old.summary),
                details: self.details.unwrap_or(old.details),
                owner_id: self.owner_id.or(old.owner_id),
                target_date: None,
            },
            &self
                .received_on
                .unwrap_or_else(|| date_out(current.received_on)),
            &self
                .target_date
                .unwrap_or_else(|| date_out(current.target_date)),
        )
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ComplaintQuery {
    /// `true`: only complaints not closed.
    pub open: Option<bool>,
    /// `true`: only open complaints past their target date.
    pub overdue: Option<bool>,
    pub customer_id: Option<i64>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/complaints", tag = "complaints", params(ComplaintQuery),
    description = "Complaints, newest first.",
    responses((status = 200, body = ListOf<ComplaintOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiQuery(q): ApiQuery<ComplaintQuery>,
) -> ApiResult<Json<ListOf<ComplaintOut>>> {
    let filter = ComplaintFilter {
        open_only: q.open.unwrap_or(false),
        customer_id: q.customer_id,
        overdue_on: q.overdue.unwrap_or(false).then(today_utc),
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .complaints(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, ComplaintOut::from)))
}

#[utoipa::path(post, path = "/complaints", tag = "complaints", request_body = ComplaintIn,
    description = "Records a complaint; it starts as received, with a target date ten days after receipt unless given.",
    responses((status = 201, body = ComplaintOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiJson(body): ApiJson<ComplaintIn>,
) -> ApiResult<(StatusCode, Json<ComplaintOut>)> {
    let draft = body.draft()?;
    let created = state
        .store
        .create_complaint(who.tenant_id(), &draft, today_utc(), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/complaints/{id}", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 200, body = ComplaintOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ComplaintOut>> {
    Ok(Json(
        state.store.complaint(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/complaints/{id}", tag = "complaints", params(("id" = i64, Path)), request_body = ComplaintPatch,
    description = "Edits an open complaint. With `updated_at`, an edit over someone else's is refused with 409; so is an edit of a closed one.",
    responses((status = 200, body = ComplaintOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ComplaintPatch>,
) -> ApiResult<Json<ComplaintOut>> {
    let current = state.store.complaint(who.tenant_id(), id).await?;
    let seen = body
        .updated_at
        .as_deref()
        .map(|t| parse_time("updated_at", t))
        .transpose()?;
    let draft = body.apply(&current)?;
    let saved = state
        .store
        .update_complaint(who.tenant_id(), id, seen, &draft, today_utc(), &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

/// A step of a complaint's lifecycle with what it carries.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintTransitionIn {
    pub step: ComplaintStep,
    /// `action`: what the investigation found.
    #[serde(default)]
    pub findings: String,
    /// `action`: what was done.
    #[serde(default)]
    pub action_taken: String,
    /// `close`: `YYYY-MM-DD`, not after today.
    pub closed_on: Option<String>,
    /// `close`: must be true; the complainant was told the outcome.
    #[serde(default)]
    pub customer_informed: bool,
    /// `close`: the outcome as told to the complainant.
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub note: String,
}

impl ComplaintTransitionIn {
    pub fn input(self) -> Result<(ComplaintStep, StepInput), Invalid> {
        let mut errors = Invalid::new();
        let closed_on = parse_date(
            &mut errors,
            "closed_on",
            "Closing date",
            self.closed_on.as_deref().unwrap_or(""),
        );
        errors.into_result((
            self.step,
            StepInput {
                findings: self.findings,
                action_taken: self.action_taken,
                closed_on,
                customer_informed: self.customer_informed,
                outcome: self.outcome,
                note: self.note,
            },
        ))
    }
}

#[utoipa::path(post, path = "/complaints/{id}/transitions", tag = "complaints", params(("id" = i64, Path)), request_body = ComplaintTransitionIn,
    description = "Moves a complaint on: received → investigating (`investigate`) → actioned (`action`, with the findings and the action taken) → closed (`close`, with the closing date, the outcome and `customer_informed: true`). A step out of order is a 409; a step without what it needs is a 422. Nothing changes then.",
    responses((status = 200, body = ComplaintOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ComplaintTransitionIn>,
) -> ApiResult<Json<ComplaintOut>> {
    let (step, input) = body.input()?;
    let moved = state
        .store
        .transition_complaint(who.tenant_id(), id, step, input, today_utc(), &who.actor())
        .await?;
    Ok(Json(moved.into()))
}

/// One line of a complaint's status history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintHistoryOut {
    pub step: String,
    pub from: Option<String>,
    pub to: String,
    pub note: String,
    pub by: String,
    pub at: String,
}

impl From<ComplaintHistoryRow> for ComplaintHistoryOut {
    fn from(h: ComplaintHistoryRow) -> Self {
        ComplaintHistoryOut {
            step: h.step,
            from: h.from_status,
            to: h.to_status,
            note: h.note,
            by: h.actor_label,
            at: time(h.at),
        }
    }
}

#[utoipa::path(get, path = "/complaints/{id}/history", tag = "complaints", params(("id" = i64, Path)),
    description = "The complaint's status history, oldest first.",
    responses((status = 200, body = Vec<ComplaintHistoryOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn history(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ComplaintHistoryOut>>> {
    state.store.complaint(who.tenant_id(), id).await?;
    let rows = state.store.complaint_history(who.tenant_id(), id).await?;
    Ok(Json(
        rows.into_iter().map(ComplaintHistoryOut::from).collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintEscalationOut {
    pub id: i64,
    pub complaint_id: i64,
    /// `YYYY-MM-DD`.
    pub escalated_on: String,
    pub escalated_to: String,
    pub reason: String,
    pub by: String,
    pub at: String,
}

impl From<Escalation> for ComplaintEscalationOut {
    fn from(e: Escalation) -> Self {
        ComplaintEscalationOut {
            id: e.id,
            complaint_id: e.complaint_id,
            escalated_on: date_out(e.escalated_on),
            escalated_to: e.escalated_to,
            reason: e.reason,
            by: e.actor_label,
            at: time(e.at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintEscalationIn {
    /// The person it goes to, by name.
    pub escalated_to: String,
    pub reason: String,
}

#[utoipa::path(get, path = "/complaints/{id}/escalations", tag = "complaints", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ComplaintEscalationOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn escalations(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ComplaintEscalationOut>>> {
    state.store.complaint(who.tenant_id(), id).await?;
    let rows = state
        .store
        .complaint_escalations(who.tenant_id(), id)
        .await?;
    Ok(Json(
        rows.into_iter().map(ComplaintEscalationOut::from).collect(),
    ))
}

#[utoipa::path(post, path = "/complaints/{id}/escalations", tag = "complaints", params(("id" = i64, Path)), request_body = ComplaintEscalationIn,
    description = "Escalates an open complaint past its target date to a named person, with the reason. Before the target date, or once closed, it is a 422.",
    responses((status = 201, body = ComplaintEscalationOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn escalate(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ComplaintEscalationIn>,
) -> ApiResult<(StatusCode, Json<ComplaintEscalationOut>)> {
    let draft = EscalationDraft {
        escalated_to: body.escalated_to,
        reason: body.reason,
    };
    let created = state
        .store
        .escalate_complaint(who.tenant_id(), id, &draft, today_utc(), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(post, path = "/complaints/{id}/nonconformity", tag = "complaints", params(("id" = i64, Path)),
    description = "Raises a nonconformity (source: complaint) from the complaint, linked both ways. A complaint raises one at most: a second is a 409.",
    responses((status = 200, body = ComplaintOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn raise_nonconformity(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ComplaintOut>> {
    let linked = state
        .store
        .raise_nonconformity_from_complaint(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Json(linked.into()))
}

#[utoipa::path(post, path = "/complaints/{id}/improvement", tag = "complaints", params(("id" = i64, Path)),
    description = "Proposes an improvement (source: customer) from the complaint, linked both ways. A complaint proposes one at most: a second is a 409.",
    responses((status = 200, body = ComplaintOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn propose_improvement(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ComplaintOut>> {
    let linked = state
        .store
        .propose_improvement_from_complaint(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Json(linked.into()))
}
