//! Change management (ISO/IEC 20000-1 8.5.1): `/changes` and their transitions, risk,
//! approvals, conflicts and review; the forward schedule, the dashboard's figures and the
//! iCalendar feed; and the tenant's `/change-policy`, `/change-blackouts`, `/change-templates`
//! and approvers' `/change-delegations`.
//!
//! Admins, managers and agents raise and work changes; auditors read them. Deciding on a
//! change needs a seat on its board (the policy names the CAB and ECAB; the change manager
//! stage seats every admin and manager) and a role that may write: an auditor on a board
//! still never approves. The policy, blackouts and templates are the admin's.
//!
//! `GET /changes.ics` also takes the API token as `?token=`, because calendar clients cannot
//! send headers; `auth` takes it out of the URI before anything else sees the request.

use super::{
    ApiJson, ApiPath, ApiQuery, KeyRef, ListOf, nullable, opt_time, parse_opt_time, parse_time,
    time,
};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use steward_domain::Invalid;
use steward_domain::access::Role;
use steward_domain::change::ical::{Feed, FeedChange, render};
use steward_domain::change::metrics::ChangeMetrics;
use steward_domain::change::risk::Assessment;
use steward_domain::change::schedule::BlackoutScope;
use steward_domain::change::{
    ApprovalStage, ApprovalState, Blackout, Board, ChangeDraft, ChangePolicy, ChangeStatus,
    ChangeType, Conflict, Delegation, RiskLevel, Verdict, Window,
};
use steward_store::change::ChangeFilter;
use steward_store::change::{
    Approvals, Change, ChangeConflict, ChangeTemplate, ReviewInput, ReviewOutcome, ScheduleEntry,
    StoredDelegation, TemplateDraft,
};
use steward_store::{PageRequest, now_micros};
use utoipa::{IntoParams, ToSchema};

const DAY: i64 = 86_400_000_000;

/// A change as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub id: i64,
    /// `CHG-n`.
    pub key: String,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub status: ChangeStatus,
    /// The statuses it may move to next (guards aside).
    pub next: Vec<ChangeStatus>,
    pub title: String,
    pub reason: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    pub test_plan: String,
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    /// The risk questionnaire's outcome; absent until it is answered.
    pub risk: Option<RiskOut>,
    pub requester_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// The standard-change template it follows.
    pub template_id: Option<i64>,
    /// The post-implementation review.
    pub review: Option<ReviewOut>,
    /// Affected CIs, by id.
    pub cis: Vec<i64>,
    /// Affected services, by id.
    pub services: Vec<i64>,
    /// Linked incidents, by id.
    pub incidents: Vec<i64>,
    /// Linked problems, by id.
    pub problems: Vec<i64>,
    pub ended_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Whether the tenant's policy calls it a major change, which goes through service design
    /// and transition (8.5.2) and is scheduled only once its design record is accepted. Shown
    /// by `GET /changes/{key}`; lists leave it false.
    pub major: bool,
    /// Its service design record (`SDR-n`), if it has one. Shown by `GET /changes/{key}`.
    pub design_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiskOut {
    pub level: RiskLevel,
    pub score: i64,
    /// Answer ids by question id.
    pub answers: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    /// `successful`, `partially_successful` or `failed`.
    pub outcome: String,
    pub backed_out: bool,
    pub notes: String,
    pub reviewed_at: String,
    pub reviewed_by: Option<i64>,
}

impl From<Change> for ChangeOut {
    fn from(c: Change) -> Self {
        ChangeOut {
            id: c.id,
            key: c.key(),
            change_type: c.change_type,
            status: c.status,
            next: c.change_type.next(c.status).to_vec(),
            title: c.title,
            reason: c.reason,
            implementation_plan: c.implementation_plan,
            backout_plan: c.backout_plan,
            test_plan: c.test_plan,
            planned_start: c.window.map(|w| time(w.start)),
            planned_end: c.window.map(|w| time(w.end)),
            risk: c.risk.map(|r| RiskOut {
                level: r.level,
                score: r.score,
                answers: r.answers,
            }),
            requester_id: c.requester_id,
            assignee_id: c.assignee_id,
            template_id: c.template_id,
            review: c.review.map(|r| ReviewOut {
                outcome: r.outcome.as_str().to_owned(),
                backed_out: r.backed_out,
                notes: r.notes,
                reviewed_at: time(r.reviewed_at),
                reviewed_by: r.reviewed_by,
            }),
            cis: c.ci_ids,
            services: c.service_ids,
            incidents: c.incident_ids,
            problems: c.problem_ids,
            ended_at: opt_time(c.ended_at),
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
            major: false,
            design_key: None,
        }
    }
}

/// A new change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeIn {
    pub title: String,
    /// `standard` (follows a pre-approved template), `normal` or `emergency`.
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    /// Required for, and only for, a standard change; its plans fill in any left empty.
    pub template_id: Option<i64>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub implementation_plan: String,
    #[serde(default)]
    pub backout_plan: String,
    #[serde(default)]
    pub test_plan: String,
    /// RFC 3339; with `planned_end`, the planned window.
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    /// Affected CIs, by id.
    #[serde(default)]
    pub cis: Vec<i64>,
    #[serde(default)]
    pub services: Vec<i64>,
    #[serde(default)]
    pub incidents: Vec<i64>,
    #[serde(default)]
    pub problems: Vec<i64>,
    pub assignee_id: Option<i64>,
}

/// Changes to a change in draft or assessment; absent fields stay as they are, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePatch {
    pub title: Option<String>,
    /// Only while the change is a draft.
    #[serde(rename = "type")]
    pub change_type: Option<ChangeType>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub template_id: Option<Option<i64>>,
    pub reason: Option<String>,
    pub implementation_plan: Option<String>,
    pub backout_plan: Option<String>,
    pub test_plan: Option<String>,
    /// Both or neither; `null` for both clears the window.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub planned_start: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub planned_end: Option<Option<String>>,
    pub cis: Option<Vec<i64>>,
    pub services: Option<Vec<i64>>,
    pub incidents: Option<Vec<i64>>,
    pub problems: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    /// The `updated_at` you read: if the change was saved since, the edit is refused (409).
    pub updated_at: Option<String>,
}

/// A window from two optional RFC 3339 instants: both or neither.
fn window_of(start: Option<&str>, end: Option<&str>) -> ApiResult<Option<Window>> {
    match (start, end) {
        (None, None) => Ok(None),
        (Some(start), Some(end)) => Ok(Some(Window {
            start: parse_time("planned_start", start)?,
            end: parse_time("planned_end", end)?,
        })),
        _ => Err(Invalid::one(
            "window",
            "Give both planned_start and planned_end, or neither",
        )
        .into()),
    }
}

/// The change a path names, by key (`CHG-7`) or id; 404 for another tenant's.
async fn find(state: &AppState, who: &Principal, key: &str) -> ApiResult<Change> {
    let store = &state.store;
    Ok(match KeyRef::parse(key, "CHG")? {
        KeyRef::Number(n) => store.change_by_number(who.tenant_id(), n).await?,
        KeyRef::Id(id) => store.change(who.tenant_id(), id).await?,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ChangeQuery {
    pub status: Option<ChangeStatus>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub change_type: Option<ChangeType>,
    /// RFC 3339: only changes whose planned window ends after this.
    pub from: Option<String>,
    /// RFC 3339: only changes whose planned window starts before this.
    pub to: Option<String>,
    /// `number` (default), `planned_start` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/changes", tag = "changes", params(ChangeQuery),
    responses((status = 200, body = ListOf<ChangeOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiQuery(q): ApiQuery<ChangeQuery>,
) -> ApiResult<Json<ListOf<ChangeOut>>> {
    let filter = ChangeFilter {
        status: q.status,
        change_type: q.change_type,
        risk: None,
        from: parse_opt_time("from", q.from.as_deref())?,
        to: parse_opt_time("to", q.to.as_deref())?,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state.store.changes(who.tenant_id(), &filter, &page).await?;
    Ok(Json(ListOf::from_page(found, ChangeOut::from)))
}

#[utoipa::path(post, path = "/changes", tag = "changes", request_body = ChangeIn,
    description = "Raises a change as a draft; the caller is its requester, who may never approve it.",
    responses((status = 201, body = ChangeOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    ApiJson(body): ApiJson<ChangeIn>,
) -> ApiResult<(StatusCode, Json<ChangeOut>)> {
    let draft = ChangeDraft {
        title: body.title,
        change_type: body.change_type,
        template_id: body.template_id,
        reason: body.reason,
        implementation_plan: body.implementation_plan,
        backout_plan: body.backout_plan,
        test_plan: body.test_plan,
        window: window_of(body.planned_start.as_deref(), body.planned_end.as_deref())?,
        ci_ids: body.cis,
        service_ids: body.services,
        incident_ids: body.incidents,
        problem_ids: body.problems,
    }
    .validate()?;
    let change = state
        .store
        .create_change(who.tenant_id(), &draft, body.assignee_id, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(change.into())))
}

#[utoipa::path(get, path = "/changes/{key}", tag = "changes", params(("key" = String, Path, description = "`CHG-n` or the id")),
    responses((status = 200, body = ChangeOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ChangeOut>> {
    let change = find(&state, &who, &key).await?;
    let design = state.store.change_design(who.tenant_id(), &change).await?;
    let mut out = ChangeOut::from(change);
    out.major = design.major;
    out.design_key = design.design.map(|(_, key, _)| key);
    Ok(Json(out))
}

#[utoipa::path(patch, path = "/changes/{key}", tag = "changes", params(("key" = String, Path)), request_body = ChangePatch,
    description = "Edits a change in draft or assessment (409 otherwise: send it back to assessment first, so that approvals are for the plan as it is).",
    responses((status = 200, body = ChangeOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(patch): ApiJson<ChangePatch>,
) -> ApiResult<Json<ChangeOut>> {
    let current = find(&state, &who, &key).await?;
    let mut d = current.draft();
    let start = patch
        .planned_start
        .unwrap_or_else(|| d.window.map(|w| time(w.start)));
    let end = patch
        .planned_end
        .unwrap_or_else(|| d.window.map(|w| time(w.end)));
    d.window = window_of(start.as_deref(), end.as_deref())?;
    d.title = patch.title.unwrap_or(d.title);
    d.change_type = patch.change_type.unwrap_or(d.change_type);
    d.template_id = patch.template_id.unwrap_or(d.template_id);
    for (field, value) in [
        (&mut d.reason, patch.reason),
        (&mut d.implementation_plan, patch.implementation_plan),
        (&mut d.backout_plan, patch.backout_plan),
        (&mut d.test_plan, patch.test_plan),
    ] {
        if let Some(value) = value {
            *field = value;
        }
    }
    for (field, value) in [
        (&mut d.ci_ids, patch.cis),
        (&mut d.service_ids, patch.services),
        (&mut d.incident_ids, patch.incidents),
        (&mut d.problem_ids, patch.problems),
    ] {
        if let Some(value) = value {
            *field = value;
        }
    }
    let assignee = patch.assignee_id.unwrap_or(current.assignee_id);
    let expected = parse_opt_time("updated_at", patch.updated_at.as_deref())?;
    let change = state
        .store
        .update_change(
            who.tenant_id(),
            current.id,
            &d.validate()?,
            assignee,
            expected,
            &who.actor(),
        )
        .await?;
    Ok(Json(change.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    pub to: ChangeStatus,
}

#[utoipa::path(post, path = "/changes/{key}/transitions", tag = "changes", params(("key" = String, Path)), request_body = TransitionIn,
    description = "Moves the change on. A move the type's lifecycle does not allow, or whose guards fail (plans, risk, approval, window, blackout, review), is a 409 saying what is missing, and changes nothing. An approval never moves a change by itself: once approved, move it to `scheduled` (or an emergency to `implementing`).",
    responses((status = 200, body = ChangeOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<TransitionIn>,
) -> ApiResult<Json<ChangeOut>> {
    let change = find(&state, &who, &key).await?;
    let moved = state
        .store
        .transition_change(who.tenant_id(), change.id, body.to, &who.actor())
        .await?;
    Ok(Json(moved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskIn {
    /// An answer id for every question of the tenant's questionnaire, by question id.
    pub answers: BTreeMap<String, String>,
}

#[utoipa::path(put, path = "/changes/{key}/risk", tag = "changes", params(("key" = String, Path)), request_body = RiskIn,
    description = "Answers the tenant's risk questionnaire (see `/change-policy`) for a change in draft or assessment; the level chooses the approvers.",
    responses((status = 200, body = Assessment), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_risk(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<RiskIn>,
) -> ApiResult<Json<Assessment>> {
    let change = find(&state, &who, &key).await?;
    let (_, assessment) = state
        .store
        .assess_change_risk(who.tenant_id(), change.id, &body.answers, &who.actor())
        .await?;
    Ok(Json(assessment))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    pub id: i64,
    pub approver_id: i64,
    /// The board member whose seat the approver filled, as their delegate.
    pub on_behalf_of: Option<i64>,
    pub verdict: Verdict,
    pub comment: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalsOut {
    /// Who must authorise, by the policy, the change's type and its risk.
    pub stage: ApprovalStage,
    /// The seats and the quorum; absent for standard changes.
    pub board: Option<Board>,
    pub state: ApprovalState,
    /// The current round's decisions, oldest first.
    pub decisions: Vec<DecisionOut>,
}

impl From<Approvals> for ApprovalsOut {
    fn from(a: Approvals) -> Self {
        ApprovalsOut {
            stage: a.stage,
            board: a.board,
            state: a.state,
            decisions: a
                .decisions
                .into_iter()
                .map(|d| DecisionOut {
                    id: d.id,
                    approver_id: d.approver_id,
                    on_behalf_of: d.on_behalf_of,
                    verdict: d.verdict,
                    comment: d.comment,
                    at: time(d.at),
                })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/changes/{key}/approvals", tag = "changes", params(("key" = String, Path)),
    responses((status = 200, body = ApprovalsOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_approvals(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ApprovalsOut>> {
    let change = find(&state, &who, &key).await?;
    let approvals = state
        .store
        .change_approvals(who.tenant_id(), change.id)
        .await?;
    Ok(Json(approvals.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    pub verdict: Verdict,
    /// Required when rejecting.
    #[serde(default)]
    pub comment: String,
    /// Decide in this board member's seat, under their delegation to the caller.
    pub on_behalf_of: Option<i64>,
}

#[utoipa::path(post, path = "/changes/{key}/approvals", tag = "changes", params(("key" = String, Path)), request_body = DecisionIn,
    description = "Approves or rejects a change in authorisation, in the caller's seat on its board or, with `on_behalf_of`, in the seat of a member who delegated to the caller. The requester never decides; a seat decides once. Any rejection rejects the change at once; an approval that completes the quorum leaves it in authorisation, approved, to be scheduled.",
    responses((status = 200, body = ApprovalsOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> ApiResult<Json<ApprovalsOut>> {
    let change = find(&state, &who, &key).await?;
    let approvals = state
        .store
        .decide_change(
            who.tenant_id(),
            change.id,
            body.verdict,
            &body.comment,
            body.on_behalf_of,
            &who.actor(),
        )
        .await?;
    Ok(Json(approvals.into()))
}

/// One thing wrong with a change's window.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictOut {
    /// `blackout`, `same_ci` or `dependent_ci`.
    pub kind: String,
    /// What it means, in words.
    pub message: String,
    /// The other change (`CHG-n`), for collisions.
    pub change: Option<String>,
    pub change_title: Option<String>,
    /// Our CI involved.
    pub ci_id: Option<i64>,
    /// Their CI, one dependency away from ours, for `dependent_ci`.
    pub other_ci_id: Option<i64>,
    pub blackout_id: Option<i64>,
    pub blackout_name: Option<String>,
}

impl From<ChangeConflict> for ConflictOut {
    fn from(c: ChangeConflict) -> Self {
        let key = c
            .other
            .as_ref()
            .map(|o| steward_domain::change::key(o.number));
        let other = key.clone().unwrap_or_default();
        let mut out = ConflictOut {
            kind: String::new(),
            message: String::new(),
            change: key,
            change_title: c.other.map(|o| o.title),
            ci_id: None,
            other_ci_id: None,
            blackout_id: None,
            blackout_name: None,
        };
        match c.conflict {
            Conflict::Blackout {
                blackout_id, name, ..
            } => {
                out.kind = "blackout".into();
                out.message = format!("The window falls in the blackout “{name}”");
                out.blackout_id = Some(blackout_id);
                out.blackout_name = Some(name);
            }
            Conflict::SameCi { ci_id, .. } => {
                out.kind = "same_ci".into();
                out.message = format!("{other} changes CI {ci_id} at an overlapping time");
                out.ci_id = Some(ci_id);
            }
            Conflict::DependentCi { ours, theirs, .. } => {
                out.kind = "dependent_ci".into();
                out.message = format!(
                    "{other} changes CI {theirs}, one dependency away from CI {ours}, at an overlapping time"
                );
                out.ci_id = Some(ours);
                out.other_ci_id = Some(theirs);
            }
        }
        out
    }
}

#[utoipa::path(get, path = "/changes/{key}/conflicts", tag = "changes", params(("key" = String, Path)),
    description = "Blackouts the planned window falls in, then changes on the schedule (scheduled or implementing) whose windows overlap it on the same CIs, or on CIs one dependency relationship away. Empty without a window.",
    responses((status = 200, body = Vec<ConflictOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn conflicts(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<ConflictOut>>> {
    let change = find(&state, &who, &key).await?;
    let found = state
        .store
        .change_conflicts(who.tenant_id(), change.id)
        .await?;
    Ok(Json(found.into_iter().map(ConflictOut::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactOut {
    /// CIs that depend on the change's CIs, transitively: what breaks if they break.
    pub dependent_cis: usize,
    /// The services the change names, and those its CIs or their dependants help deliver.
    pub services: Vec<i64>,
}

#[utoipa::path(get, path = "/changes/{key}/impact", tag = "changes", params(("key" = String, Path)),
    description = "The change's impact from the CMDB: how many CIs depend on its CIs, and the services involved.",
    responses((status = 200, body = ImpactOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn impact(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ImpactOut>> {
    let change = find(&state, &who, &key).await?;
    let found = state
        .store
        .change_impact(who.tenant_id(), change.id)
        .await?;
    Ok(Json(ImpactOut {
        dependent_cis: found.dependent_cis,
        services: found.service_ids,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    /// `successful`, `partially_successful` or `failed`.
    pub outcome: String,
    /// Whether the back-out plan was carried out.
    #[serde(default)]
    pub backed_out: bool,
    #[serde(default)]
    pub notes: String,
}

#[utoipa::path(put, path = "/changes/{key}/review", tag = "changes", params(("key" = String, Path)), request_body = ReviewIn,
    description = "Records the post-implementation review of a change being implemented or in review. Normal and emergency changes need it before they close or fail.",
    responses((status = 200, body = ChangeOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_review(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewIn>,
) -> ApiResult<Json<ChangeOut>> {
    let outcome = ReviewOutcome::parse(body.outcome.trim()).ok_or_else(|| {
        Invalid::one(
            "outcome",
            "outcome must be successful, partially_successful or failed",
        )
    })?;
    let change = find(&state, &who, &key).await?;
    let review = ReviewInput {
        outcome,
        backed_out: body.backed_out,
        notes: body.notes,
    };
    let reviewed = state
        .store
        .review_change(who.tenant_id(), change.id, &review, &who.actor())
        .await?;
    Ok(Json(reviewed.into()))
}

/// A window given as `from` and `to` query parameters, each with a default.
#[derive(Debug, Deserialize, IntoParams)]
pub struct WindowQuery {
    /// RFC 3339.
    pub from: Option<String>,
    /// RFC 3339.
    pub to: Option<String>,
}

impl WindowQuery {
    /// The window asked for; `from` defaults to `now + before`, `to` to `now + after` (days).
    fn window(&self, before: i64, after: i64) -> ApiResult<Window> {
        let now = now_micros();
        let start = match &self.from {
            Some(t) => parse_time("from", t)?,
            None => now + before * DAY,
        };
        let end = match &self.to {
            Some(t) => parse_time("to", t)?,
            None => now + after * DAY,
        };
        Ok(Window::new(start, end)?)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleOut {
    pub key: String,
    pub title: String,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub status: ChangeStatus,
    pub risk: Option<RiskLevel>,
    pub planned_start: String,
    pub planned_end: String,
    pub cis: Vec<i64>,
}

impl From<ScheduleEntry> for ScheduleOut {
    fn from(e: ScheduleEntry) -> Self {
        ScheduleOut {
            key: steward_domain::change::key(e.number),
            title: e.title,
            change_type: e.change_type,
            status: e.status,
            risk: e.risk,
            planned_start: time(e.window.start),
            planned_end: time(e.window.end),
            cis: e.ci_ids,
        }
    }
}

#[utoipa::path(get, path = "/changes/schedule", tag = "changes", params(WindowQuery),
    description = "The forward schedule of change: changes scheduled or being implemented whose windows overlap `from`..`to` (default: now to 30 days ahead), by start.",
    responses((status = 200, body = Vec<ScheduleOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn schedule(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> ApiResult<Json<Vec<ScheduleOut>>> {
    let window = q.window(0, 30)?;
    let found = state
        .store
        .change_schedule(who.tenant_id(), &window)
        .await?;
    Ok(Json(found.into_iter().map(ScheduleOut::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsOut {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub metrics: ChangeMetrics,
}

#[utoipa::path(get, path = "/changes/metrics", tag = "changes", params(WindowQuery),
    description = "The change dashboard's figures over the changes that ended in `from`..`to` (default: the last 30 days): success rate (closed over closed plus failed) and emergency-change ratio, both absent when nothing was implemented.",
    responses((status = 200, body = MetricsOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn metrics(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> ApiResult<Json<MetricsOut>> {
    let period = q.window(-30, 0)?;
    let metrics = state.store.change_metrics(who.tenant_id(), &period).await?;
    Ok(Json(MetricsOut {
        from: time(period.start),
        to: time(period.end),
        metrics,
    }))
}

#[utoipa::path(get, path = "/changes.ics", tag = "changes",
    params(("token" = Option<String>, Query, description = "An API token, for calendar clients that cannot send `Authorization`; taken out of the request before it is handled or logged")),
    description = "The change calendar as iCalendar (RFC 5545): changes from authorisation on whose windows fall between 30 days ago and a year ahead, one event each (tentative until scheduled; cancelled ones marked so that clients remove them). Subscribe with `?token=<API token>`, or send the token as a bearer header.",
    responses((status = 200, description = "The calendar", content_type = "text/calendar", body = String), (status = 403, body = Problem)))]
pub async fn ics(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let now = now_micros();
    let window = Window {
        start: now - 30 * DAY,
        end: now + 365 * DAY,
    };
    let tenant = state.store.tenant(who.tenant_id()).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    let changes: Vec<FeedChange> = state
        .store
        .change_feed(who.tenant_id(), &window)
        .await?
        .into_iter()
        .map(|e| FeedChange {
            url: format!(
                "{scheme}://{host}/api/v1/changes/{}",
                steward_domain::change::key(e.number)
            ),
            number: e.number,
            title: e.title,
            change_type: e.change_type,
            status: e.status,
            risk: e.risk,
            window: e.window,
        })
        .collect();
    let feed = Feed {
        tenant: tenant.slug,
        host: host.split(':').next().unwrap_or_default().to_owned(),
        name: format!("{} changes", tenant.name),
        generated_at: now,
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        render(&feed, &changes),
    )
        .into_response())
}

#[utoipa::path(get, path = "/change-policy", tag = "changes",
    description = "What is under change control, what counts as a major change, the risk questionnaire and who authorises what (the defaults until an admin saves one).",
    responses((status = 200, body = ChangePolicy), (status = 403, body = Problem)))]
pub async fn get_policy(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
) -> ApiResult<Json<ChangePolicy>> {
    Ok(Json(state.store.change_policy(who.tenant_id()).await?))
}

#[utoipa::path(put, path = "/change-policy", tag = "changes", request_body = ChangePolicy,
    description = "Replaces the change policy. Every board member must be a user of the organisation; every normal and emergency change must have an approver from low risk up.",
    responses((status = 200, body = ChangePolicy), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_policy(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    ApiJson(policy): ApiJson<ChangePolicy>,
) -> ApiResult<Json<ChangePolicy>> {
    Ok(Json(
        state
            .store
            .save_change_policy(who.tenant_id(), &policy, &who.actor())
            .await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlackoutOut {
    pub id: i64,
    pub name: String,
    pub start: String,
    pub end: String,
    pub scope: BlackoutScope,
}

impl From<Blackout> for BlackoutOut {
    fn from(b: Blackout) -> Self {
        BlackoutOut {
            id: b.id,
            name: b.name,
            start: time(b.window.start),
            end: time(b.window.end),
            scope: b.scope,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlackoutIn {
    pub name: String,
    /// RFC 3339.
    pub start: String,
    /// RFC 3339.
    pub end: String,
    /// What it freezes: `{"kind": "all"}` (the default) or `{"kind": "only", "service_ids": [...], "ci_ids": [...]}`.
    pub scope: Option<BlackoutScope>,
}

#[utoipa::path(get, path = "/change-blackouts", tag = "changes", params(WindowQuery),
    description = "Blackout windows overlapping `from`..`to` (default: from now on).",
    responses((status = 200, body = Vec<BlackoutOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_blackouts(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> ApiResult<Json<Vec<BlackoutOut>>> {
    let window = q.window(0, 100 * 365)?;
    let found = state
        .store
        .blackouts(who.tenant_id(), Some(&window))
        .await?;
    Ok(Json(found.into_iter().map(BlackoutOut::from).collect()))
}

#[utoipa::path(post, path = "/change-blackouts", tag = "changes", request_body = BlackoutIn,
    description = "Adds a freeze: no change touching its scope may be scheduled or start in it, except emergencies.",
    responses((status = 201, body = BlackoutOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_blackout(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    ApiJson(body): ApiJson<BlackoutIn>,
) -> ApiResult<(StatusCode, Json<BlackoutOut>)> {
    let blackout = Blackout {
        id: 0,
        name: body.name,
        window: Window {
            start: parse_time("start", &body.start)?,
            end: parse_time("end", &body.end)?,
        },
        scope: body.scope.unwrap_or(BlackoutScope::All),
    };
    let created = state
        .store
        .create_blackout(who.tenant_id(), &blackout, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(delete, path = "/change-blackouts/{id}", tag = "changes", params(("id" = i64, Path)),
    responses((status = 204, description = "Lifted"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_blackout(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_blackout(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    pub test_plan: String,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ChangeTemplate> for TemplateOut {
    fn from(t: ChangeTemplate) -> Self {
        TemplateOut {
            id: t.id,
            name: t.name,
            description: t.description,
            implementation_plan: t.implementation_plan,
            backout_plan: t.backout_plan,
            test_plan: t.test_plan,
            active: t.active,
            created_at: time(t.created_at),
            updated_at: time(t.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub implementation_plan: String,
    pub backout_plan: String,
    #[serde(default)]
    pub test_plan: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TemplateQuery {
    /// Include retired templates.
    #[serde(default)]
    pub all: bool,
}

#[utoipa::path(get, path = "/change-templates", tag = "changes", params(TemplateQuery),
    description = "Standard-change templates: the pre-approved changes a standard change follows.",
    responses((status = 200, body = Vec<TemplateOut>), (status = 403, body = Problem)))]
pub async fn list_templates(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    ApiQuery(q): ApiQuery<TemplateQuery>,
) -> ApiResult<Json<Vec<TemplateOut>>> {
    let found = state.store.change_templates(who.tenant_id(), q.all).await?;
    Ok(Json(found.into_iter().map(TemplateOut::from).collect()))
}

#[utoipa::path(post, path = "/change-templates", tag = "changes", request_body = TemplateIn,
    responses((status = 201, body = TemplateOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_template(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    ApiJson(body): ApiJson<TemplateIn>,
) -> ApiResult<(StatusCode, Json<TemplateOut>)> {
    let draft = TemplateDraft {
        name: body.name,
        description: body.description,
        implementation_plan: body.implementation_plan,
        backout_plan: body.backout_plan,
        test_plan: body.test_plan,
        active: true,
    }
    .validate()?;
    let created = state
        .store
        .create_change_template(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The fields to change; those left out keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub implementation_plan: Option<String>,
    pub backout_plan: Option<String>,
    pub test_plan: Option<String>,
    /// `false` retires the template: no new standard change may follow it.
    pub active: Option<bool>,
}

#[utoipa::path(patch, path = "/change-templates/{id}", tag = "changes", params(("id" = i64, Path)),
    request_body = TemplatePatch,
    description = "Edits a standard-change template; `active: false` retires it (the changes that followed it keep it).",
    responses((status = 200, body = TemplateOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_template(
    State(state): State<AppState>,
    who: Can<perm::ChangePolicy>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TemplatePatch>,
) -> ApiResult<Json<TemplateOut>> {
    let current = state
        .store
        .change_templates(who.tenant_id(), true)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(ApiError::not_found)?;
    let draft = TemplateDraft {
        name: body.name.unwrap_or(current.name),
        description: body.description.unwrap_or(current.description),
        implementation_plan: body
            .implementation_plan
            .unwrap_or(current.implementation_plan),
        backout_plan: body.backout_plan.unwrap_or(current.backout_plan),
        test_plan: body.test_plan.unwrap_or(current.test_plan),
        active: body.active.unwrap_or(current.active),
    }
    .validate()?;
    let updated = state
        .store
        .update_change_template(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok(Json(updated.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationOut {
    pub id: i64,
    /// The board member who is away.
    pub from_user: i64,
    /// Who decides in their seat meanwhile.
    pub to_user: i64,
    pub from_time: String,
    pub until: String,
}

impl From<StoredDelegation> for DelegationOut {
    fn from(d: StoredDelegation) -> Self {
        DelegationOut {
            id: d.id,
            from_user: d.from_user,
            to_user: d.to_user,
            from_time: time(d.from_time),
            until: time(d.until),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationIn {
    /// The user who decides in the caller's seats.
    pub to: i64,
    /// RFC 3339; now if absent.
    pub from_time: Option<String>,
    /// RFC 3339.
    pub until: String,
}

#[utoipa::path(get, path = "/change-delegations", tag = "changes",
    description = "The delegations the caller gave or received, newest first.",
    responses((status = 200, body = Vec<DelegationOut>), (status = 403, body = Problem)))]
pub async fn list_delegations(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
) -> ApiResult<Json<Vec<DelegationOut>>> {
    let found = state
        .store
        .delegations_of(who.tenant_id(), who.user.id)
        .await?;
    Ok(Json(found.into_iter().map(DelegationOut::from).collect()))
}

#[utoipa::path(post, path = "/change-delegations", tag = "changes", request_body = DelegationIn,
    description = "While the caller is away, `to` decides in the caller's seats on change boards, on the caller's behalf (`on_behalf_of`).",
    responses((status = 201, body = DelegationOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_delegation(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    ApiJson(body): ApiJson<DelegationIn>,
) -> ApiResult<(StatusCode, Json<DelegationOut>)> {
    let delegation = Delegation {
        from: who.user.id,
        to: body.to,
        from_time: match &body.from_time {
            Some(t) => parse_time("from_time", t)?,
            None => now_micros(),
        },
        until: parse_time("until", &body.until)?,
    };
    let created = state
        .store
        .create_delegation(who.tenant_id(), &delegation, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(delete, path = "/change-delegations/{id}", tag = "changes", params(("id" = i64, Path)),
    description = "Ends a delegation now. Only its giver (or an admin) may; decisions already made under it stand.",
    responses((status = 200, body = DelegationOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn end_delegation(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DelegationOut>> {
    let current = state.store.delegation(who.tenant_id(), id).await?;
    if current.from_user != who.user.id && who.role() != Role::Admin {
        return Err(ApiError::not_found());
    }
    let ended = state
        .store
        .end_delegation(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Json(ended.into()))
}
