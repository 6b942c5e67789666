//! Competence (ISO/IEC 20000-1 7.2): `/competence/requirements` (each role's profile),
//! `/competence/records` (each person's proof), `/competence/actions` (what closes a gap, its
//! completion and evaluation) and `/competence/gaps` (every current role holder against every
//! requirement of their roles, today).
//!
//! Managers and admins keep them; auditors read them.

use super::{ApiJson, ApiPath, ApiQuery, date_out, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::parse_date;
use steward_domain::asset::required_date_alone;
use steward_domain::sms::competence::{
    ActionDraft, ActionKind, ActionStatus, Basis, CompetenceStanding, GapCell, RecordDraft,
    RequirementDraft,
};
use steward_store::asset::today_utc;
use steward_store::sms::competence::{CompetenceAction, CompetenceRecord, CompetenceRequirement};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CompetenceRequirementOut)]
pub struct RequirementOut {
    pub id: i64,
    /// The role whose profile it belongs to.
    pub role_id: i64,
    pub name: String,
    pub description: String,
    pub created_at: String,
    /// Send it back as `updated_at` in a PUT; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<CompetenceRequirement> for RequirementOut {
    fn from(r: CompetenceRequirement) -> Self {
        RequirementOut {
            id: r.id,
            role_id: r.role_id,
            name: r.name,
            description: r.description,
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

/// A requirement of a role's competence profile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetenceRequirementIn)]
pub struct RequirementIn {
    pub role_id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A requirement's new fields, with the `updated_at` you read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetenceRequirementPut)]
pub struct RequirementPut {
    /// If the requirement changed since, the edit is refused (409).
    pub updated_at: String,
    pub role_id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

fn requirement_draft(
    role_id: i64,
    name: String,
    description: String,
) -> Result<RequirementDraft, Invalid> {
    RequirementDraft {
        role_id,
        name,
        description,
    }
    .validate()
}

#[utoipa::path(get, path = "/competence/requirements", tag = "competence",
    description = "Every role's competence requirements, by role.",
    responses((status = 200, body = Vec<RequirementOut>), (status = 403, body = Problem)))]
pub async fn list_requirements(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
) -> ApiResult<Json<Vec<RequirementOut>>> {
    let rows = state.store.competence_requirements(who.tenant_id()).await?;
    Ok(Json(rows.into_iter().map(RequirementOut::from).collect()))
}

#[utoipa::path(post, path = "/competence/requirements", tag = "competence", request_body = RequirementIn,
    description = "Adds a requirement to a role's competence profile.",
    responses((status = 201, body = RequirementOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_requirement(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<RequirementIn>,
) -> ApiResult<(StatusCode, Json<RequirementOut>)> {
    let draft = requirement_draft(body.role_id, body.name, body.description)?;
    let created = state
        .store
        .create_competence_requirement(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(put, path = "/competence/requirements/{id}", tag = "competence", params(("id" = i64, Path)), request_body = RequirementPut,
    description = "Replaces a requirement's fields; an edit over someone else's is refused with 409.",
    responses((status = 200, body = RequirementOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_requirement(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RequirementPut>,
) -> ApiResult<Json<RequirementOut>> {
    state
        .store
        .competence_requirement(who.tenant_id(), id)
        .await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let draft = requirement_draft(body.role_id, body.name, body.description)?;
    let saved = state
        .store
        .update_competence_requirement(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CompetenceRecordOut)]
pub struct RecordOut {
    pub id: i64,
    pub user_id: i64,
    pub requirement_id: i64,
    pub basis: Basis,
    pub title: String,
    pub provider: String,
    /// `YYYY-MM-DD`.
    pub achieved_on: String,
    /// The first day it no longer counts; absent when it does not lapse.
    pub expires_on: Option<String>,
    pub evidence: String,
    /// Meets its requirement today.
    pub valid_today: bool,
    pub recorded_by: Option<i64>,
    pub created_at: String,
    /// Send it back as `updated_at` in a PUT; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<CompetenceRecord> for RecordOut {
    fn from(r: CompetenceRecord) -> Self {
        RecordOut {
            valid_today: r.valid_on(today_utc()),
            id: r.id,
            user_id: r.user_id,
            requirement_id: r.requirement_id,
            basis: r.basis,
            title: r.title,
            provider: r.provider,
            achieved_on: date_out(r.achieved_on),
            expires_on: r.expires_on.map(date_out),
            evidence: r.evidence,
            recorded_by: r.recorded_by,
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

/// A person's proof of a requirement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetenceRecordIn)]
pub struct RecordIn {
    pub user_id: i64,
    pub requirement_id: i64,
    pub basis: Basis,
    /// The course, certificate, degree or experience.
    pub title: String,
    #[serde(default)]
    pub provider: String,
    /// `YYYY-MM-DD`, not in the future.
    pub achieved_on: String,
    /// `YYYY-MM-DD`, after `achieved_on`: the first day it no longer counts.
    pub expires_on: Option<String>,
    /// Where the proof is and who checked it.
    pub evidence: String,
}

/// A record's new fields, with the `updated_at` you read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetenceRecordPut)]
pub struct RecordPut {
    /// If the record changed since, the edit is refused (409).
    pub updated_at: String,
    pub user_id: i64,
    pub requirement_id: i64,
    pub basis: Basis,
    pub title: String,
    #[serde(default)]
    pub provider: String,
    pub achieved_on: String,
    pub expires_on: Option<String>,
    pub evidence: String,
}

/// The typed fields of a record, as the API and the pages receive them.
pub struct RecordFields<'a> {
    pub user_id: i64,
    pub requirement_id: i64,
    pub basis: Basis,
    pub title: String,
    pub provider: String,
    pub achieved_on: &'a str,
    pub expires_on: &'a str,
    pub evidence: String,
}

/// A validated record draft, every error (dates included) in one [`Invalid`].
pub fn record_draft(f: RecordFields<'_>) -> Result<RecordDraft, Invalid> {
    let mut errors = Invalid::new();
    let today = today_utc();
    let achieved_on = parse_date(&mut errors, "achieved_on", "Date achieved", f.achieved_on);
    if f.achieved_on.trim().is_empty() {
        errors.add("achieved_on", "Date achieved is required");
    }
    let expires_on = parse_date(&mut errors, "expires_on", "Expiry date", f.expires_on);
    let draft = RecordDraft {
        user_id: f.user_id,
        requirement_id: f.requirement_id,
        basis: f.basis,
        title: f.title,
        provider: f.provider,
        // Without a readable date the rest is checked against one that passes.
        achieved_on: achieved_on.unwrap_or(today),
        expires_on,
        evidence: f.evidence,
    };
    merged(errors, draft.validate(today))
}

/// `checked` with the errors found before it added in.
fn merged<T>(errors: Invalid, checked: Result<T, Invalid>) -> Result<T, Invalid> {
    match checked {
        Ok(value) => errors.into_result(value),
        Err(mut more) => {
            more.errors.extend(errors.errors);
            Err(more)
        }
    }
}

impl RecordIn {
    fn draft(self) -> Result<RecordDraft, Invalid> {
        record_draft(RecordFields {
            user_id: self.user_id,
            requirement_id: self.requirement_id,
            basis: self.basis,
            title: self.title,
            provider: self.provider,
            achieved_on: &self.achieved_on,
            expires_on: self.expires_on.as_deref().unwrap_or_default(),
            evidence: self.evidence,
        })
    }
}

impl RecordPut {
    fn draft(self) -> Result<RecordDraft, Invalid> {
        RecordIn {
            user_id: self.user_id,
            requirement_id: self.requirement_id,
            basis: self.basis,
            title: self.title,
            provider: self.provider,
            achieved_on: self.achieved_on,
            expires_on: self.expires_on,
            evidence: self.evidence,
        }
        .draft()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PersonQuery {
    /// Only this person's.
    pub user_id: Option<i64>,
}

#[utoipa::path(get, path = "/competence/records", tag = "competence", params(PersonQuery),
    description = "Competence records (education, training, qualification, experience), newest achievement first.",
    responses((status = 200, body = Vec<RecordOut>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list_records(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<PersonQuery>,
) -> ApiResult<Json<Vec<RecordOut>>> {
    let rows = state
        .store
        .competence_records(who.tenant_id(), q.user_id)
        .await?;
    Ok(Json(rows.into_iter().map(RecordOut::from).collect()))
}

#[utoipa::path(post, path = "/competence/records", tag = "competence", request_body = RecordIn,
    description = "Puts a person's proof of a requirement on file.",
    responses((status = 201, body = RecordOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_record(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<RecordIn>,
) -> ApiResult<(StatusCode, Json<RecordOut>)> {
    let draft = body.draft()?;
    let created = state
        .store
        .create_competence_record(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(put, path = "/competence/records/{id}", tag = "competence", params(("id" = i64, Path)), request_body = RecordPut,
    description = "Replaces a record's fields; an edit over someone else's is refused with 409.",
    responses((status = 200, body = RecordOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_record(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RecordPut>,
) -> ApiResult<Json<RecordOut>> {
    state.store.competence_record(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let draft = body.draft()?;
    let saved = state
        .store
        .update_competence_record(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CompetenceActionOut)]
pub struct ActionOut {
    pub id: i64,
    pub user_id: i64,
    pub requirement_id: i64,
    pub kind: ActionKind,
    pub description: String,
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    pub status: ActionStatus,
    /// Open and past its due date.
    pub overdue: bool,
    pub completed_on: Option<String>,
    /// Once evaluated: whether the gap closed.
    pub effective: Option<bool>,
    pub evaluation: String,
    pub evaluated_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CompetenceAction> for ActionOut {
    fn from(a: CompetenceAction) -> Self {
        ActionOut {
            overdue: a.overdue(today_utc()),
            status: a.stage.status(),
            completed_on: a.stage.completed_on().map(date_out),
            effective: a.stage.effective(),
            evaluation: a.stage.evaluation().to_owned(),
            id: a.id,
            user_id: a.user_id,
            requirement_id: a.requirement_id,
            kind: a.kind,
            description: a.description,
            owner_id: a.owner_id,
            due_date: date_out(a.due_date),
            evaluated_by: a.evaluated_by,
            created_at: time(a.created_at),
            updated_at: time(a.updated_at),
        }
    }
}

/// An action to fill a person's gap in a requirement.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetenceActionIn)]
pub struct ActionIn {
    pub user_id: i64,
    pub requirement_id: i64,
    pub kind: ActionKind,
    pub description: String,
    /// Who sees it through.
    pub owner_id: Option<i64>,
    /// `YYYY-MM-DD`, not in the past.
    pub due_date: String,
}

/// The typed fields of an action, as the API and the pages receive them.
pub fn action_draft(mut draft: ActionDraft, due_date: &str) -> Result<ActionDraft, Invalid> {
    let today = today_utc();
    let mut errors = Invalid::new();
    draft.due_date = match required_date_alone("due_date", "Due date", due_date) {
        Ok(date) => date,
        Err(e) => {
            errors.errors.extend(e.errors);
            today
        }
    };
    merged(errors, draft.validate(today))
}

#[utoipa::path(get, path = "/competence/actions", tag = "competence", params(PersonQuery),
    description = "Actions to close competence gaps, soonest due first.",
    responses((status = 200, body = Vec<ActionOut>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list_actions(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<PersonQuery>,
) -> ApiResult<Json<Vec<ActionOut>>> {
    let rows = state
        .store
        .competence_actions(who.tenant_id(), q.user_id)
        .await?;
    Ok(Json(rows.into_iter().map(ActionOut::from).collect()))
}

#[utoipa::path(post, path = "/competence/actions", tag = "competence", request_body = ActionIn,
    description = "Opens an action (training, mentoring, hiring) for a person's gap in a requirement.",
    responses((status = 201, body = ActionOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<ActionIn>,
) -> ApiResult<(StatusCode, Json<ActionOut>)> {
    let draft = action_draft(
        ActionDraft {
            user_id: body.user_id,
            requirement_id: body.requirement_id,
            kind: body.kind,
            description: body.description,
            owner_id: body.owner_id,
            due_date: today_utc(),
        },
        &body.due_date,
    )?;
    let created = state
        .store
        .create_competence_action(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetenceActionCompleteIn)]
pub struct CompleteIn {
    /// `YYYY-MM-DD`, not in the future; today when absent.
    pub completed_on: Option<String>,
}

/// The completion date typed, today when left empty.
pub fn completion_date(text: &str) -> Result<Date, Invalid> {
    if text.trim().is_empty() {
        return Ok(today_utc());
    }
    required_date_alone("completed_on", "Completion date", text)
}

#[utoipa::path(post, path = "/competence/actions/{id}/complete", tag = "competence", params(("id" = i64, Path)), request_body = CompleteIn,
    description = "Marks an open action done; it then waits for its evaluation.",
    responses((status = 200, body = ActionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn complete_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CompleteIn>,
) -> ApiResult<Json<ActionOut>> {
    let on = completion_date(body.completed_on.as_deref().unwrap_or_default())?;
    let done = state
        .store
        .complete_competence_action(who.tenant_id(), id, on, today_utc(), &who.actor())
        .await?;
    Ok(Json(done.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CompetenceActionEvaluateIn)]
pub struct EvaluateIn {
    /// Whether the gap really closed; if not, it stays open for a new action.
    pub effective: bool,
    /// What showed it (an exam passed, work observed…).
    pub evaluation: String,
}

#[utoipa::path(post, path = "/competence/actions/{id}/evaluate", tag = "competence", params(("id" = i64, Path)), request_body = EvaluateIn,
    description = "Records whether a completed action closed the gap, and why.",
    responses((status = 200, body = ActionOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn evaluate_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EvaluateIn>,
) -> ApiResult<Json<ActionOut>> {
    let judged = state
        .store
        .evaluate_competence_action(
            who.tenant_id(),
            id,
            body.effective,
            &body.evaluation,
            &who.actor(),
        )
        .await?;
    Ok(Json(judged.into()))
}

/// How a person stands against a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CompetenceGapStanding)]
pub enum StandingOut {
    /// A valid record, not expiring within 30 days.
    Competent,
    /// A valid record expiring within 30 days.
    Expiring,
    /// No valid record; an action is under way.
    GapActioned,
    /// No valid record and no action.
    Gap,
}

/// One cell of the competence matrix.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CompetenceGapOut)]
pub struct GapOut {
    pub user_id: i64,
    pub role_id: i64,
    pub requirement_id: i64,
    pub standing: StandingOut,
    /// The valid record's expiry, if it has one.
    pub expires_on: Option<String>,
    /// The action under way for a gap.
    pub action_id: Option<i64>,
    pub due_date: Option<String>,
    /// The action under way is open and past its due date.
    pub overdue: bool,
}

impl From<GapCell> for GapOut {
    fn from(c: GapCell) -> Self {
        let mut out = GapOut {
            user_id: c.user_id,
            role_id: c.role_id,
            requirement_id: c.requirement_id,
            standing: StandingOut::Gap,
            expires_on: None,
            action_id: None,
            due_date: None,
            overdue: false,
        };
        match c.standing {
            CompetenceStanding::Competent { expires_on } => {
                out.standing = StandingOut::Competent;
                out.expires_on = expires_on.map(date_out);
            }
            CompetenceStanding::Expiring { expires_on } => {
                out.standing = StandingOut::Expiring;
                out.expires_on = Some(date_out(expires_on));
            }
            CompetenceStanding::GapActioned {
                action_id,
                due_date,
                overdue,
            } => {
                out.standing = StandingOut::GapActioned;
                out.action_id = Some(action_id);
                out.due_date = Some(date_out(due_date));
                out.overdue = overdue;
            }
            CompetenceStanding::Gap => {}
        }
        out
    }
}

#[utoipa::path(get, path = "/competence/gaps", tag = "competence", params(PersonQuery),
    description = "Every current role holder against every requirement of their roles, today: competent, expiring within 30 days, a gap with an action under way, or a bare gap.",
    responses((status = 200, body = Vec<GapOut>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn gaps(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<PersonQuery>,
) -> ApiResult<Json<Vec<GapOut>>> {
    let cells = state
        .store
        .competence_gaps(who.tenant_id(), today_utc())
        .await?;
    Ok(Json(
        cells
            .into_iter()
            .filter(|c| q.user_id.is_none_or(|u| u == c.user_id))
            .map(GapOut::from)
            .collect(),
    ))
}
