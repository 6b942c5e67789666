//! Internal audit (ISO/IEC 20000-1 clause 9.2): `/audit-programmes` with their coverage of the
//! clauses, `/audits` with their lifecycle, checklists and findings.
//!
//! Managers and admins run the programme; auditors read it. A major or minor nonconformity
//! finding raises a nonconformity (`/nonconformities/{id}`) in the same transaction.

use super::date_out;
use super::{ApiJson, ApiPath, ApiQuery, ListOf, PageParams, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::asset::{parse_date, required_date};
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::sms::audit::{
    AuditDraft, AuditStatus, ChecklistResult, FindingDraft, FindingKind, ProgrammeDraft, cycle_end,
};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::audit::{
    Audit, AuditFilter, ChecklistEntry, ChecklistRow, Finding, Programme, coverage_of,
};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeOut {
    pub id: i64,
    pub name: String,
    /// `YYYY-MM-DD`: the first day of the three-year cycle.
    pub cycle_start: String,
    /// The last day of the cycle: three years on, less a day.
    pub cycle_end: String,
    pub owner_id: Option<i64>,
    pub notes: String,
    pub created_at: String,
    /// Send it back as `updated_at` in a PUT; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<Programme> for ProgrammeOut {
    fn from(p: Programme) -> Self {
        ProgrammeOut {
            id: p.id,
            name: p.name,
            cycle_start: date_out(p.cycle_start),
            cycle_end: date_out(p.cycle_end),
            owner_id: p.owner_id,
            notes: p.notes,
            created_at: time(p.created_at),
            updated_at: time(p.updated_at),
        }
    }
}

/// An audit programme to record or (with `updated_at`) to replace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeIn {
    pub name: String,
    /// `YYYY-MM-DD`: the first day of the certification cycle.
    pub cycle_start: String,
    pub owner_id: Option<i64>,
    #[serde(default)]
    pub notes: String,
    /// For a PUT: the `updated_at` you read (409 if it changed since). Ignored on POST.
    pub updated_at: Option<String>,
}

/// A programme draft from typed fields (the form and the API share it).
pub fn programme_draft(
    name: String,
    cycle_start: &str,
    owner_id: Option<i64>,
    notes: String,
) -> Result<ProgrammeDraft, Invalid> {
    let mut errors = Invalid::new();
    let start = required_date(&mut errors, "cycle_start", "Cycle start", cycle_start);
    let Some(cycle_start) = start else {
        return Err(errors);
    };
    let draft = ProgrammeDraft {
        name,
        cycle_start,
        owner_id,
        notes,
    };
    draft.validate()
}

#[utoipa::path(get, path = "/audit-programmes", tag = "internal-audit", params(PageParams),
    description = "Audit programmes, the latest cycle first.",
    responses((status = 200, body = ListOf<ProgrammeOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_programmes(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<ListOf<ProgrammeOut>>> {
    let found = state.store.programmes(who.tenant_id(), &q.page()).await?;
    Ok(Json(ListOf::from_page(found, ProgrammeOut::from)))
}

#[utoipa::path(post, path = "/audit-programmes", tag = "internal-audit", request_body = ProgrammeIn,
    responses((status = 201, body = ProgrammeOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_programme(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<ProgrammeIn>,
) -> ApiResult<(StatusCode, Json<ProgrammeOut>)> {
    let draft = programme_draft(body.name, &body.cycle_start, body.owner_id, body.notes)?;
    let p = state
        .store
        .create_programme(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

#[utoipa::path(get, path = "/audit-programmes/{id}", tag = "internal-audit", params(("id" = i64, Path)),
    responses((status = 200, body = ProgrammeOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_programme(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ProgrammeOut>> {
    Ok(Json(
        state.store.programme(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(put, path = "/audit-programmes/{id}", tag = "internal-audit", params(("id" = i64, Path)), request_body = ProgrammeIn,
    description = "Replaces a programme's fields. `updated_at` is required: an edit over someone else's is refused with 409. A new cycle must still hold every audit planned in it.",
    responses((status = 200, body = ProgrammeOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_programme(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ProgrammeIn>,
) -> ApiResult<Json<ProgrammeOut>> {
    state.store.programme(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", body.updated_at.as_deref().unwrap_or(""))?;
    let draft = programme_draft(body.name, &body.cycle_start, body.owner_id, body.notes)?;
    let p = state
        .store
        .update_programme(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(p.into()))
}

/// One clause's row of the coverage matrix.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClauseCoverageOut {
    pub clause_id: String,
    pub title: String,
    /// How many audits name the clause in years 1, 2 and 3 of the cycle.
    pub years: Vec<u32>,
    pub covered: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageOut {
    pub programme_id: i64,
    pub cycle_start: String,
    pub cycle_end: String,
    /// Every clause of the catalogue, in the standard's order.
    pub clauses: Vec<ClauseCoverageOut>,
    /// The clauses no audit of the cycle (cancelled ones left out) names.
    pub uncovered: Vec<String>,
}

#[utoipa::path(get, path = "/audit-programmes/{id}/coverage", tag = "internal-audit", params(("id" = i64, Path)),
    description = "Which clauses of ISO/IEC 20000-1 the programme's audits cover in which year of its cycle, and which none covers.",
    responses((status = 200, body = CoverageOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn coverage(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CoverageOut>> {
    let t = who.tenant_id();
    let programme = state.store.programme(t, id).await?;
    let audits = state.store.programme_audits(t, id).await?;
    let cov = coverage_of(&programme, &audits);
    Ok(Json(CoverageOut {
        programme_id: programme.id,
        cycle_start: date_out(programme.cycle_start),
        cycle_end: date_out(programme.cycle_end),
        clauses: cov
            .clauses
            .into_iter()
            .map(|c| ClauseCoverageOut {
                covered: c.covered(),
                years: c.years.to_vec(),
                clause_id: c.clause_id,
                title: c.title,
            })
            .collect(),
        uncovered: cov.uncovered,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    pub id: i64,
    /// How people know it: `AUD-<id>`.
    pub key: String,
    pub programme_id: i64,
    pub title: String,
    /// Clause ids of the catalogue.
    pub scope: Vec<String>,
    pub criteria: String,
    pub planned_start: String,
    pub planned_end: String,
    pub lead_auditor_id: i64,
    pub auditor_ids: Vec<i64>,
    pub auditee_ids: Vec<i64>,
    pub status: AuditStatus,
    /// The statuses it may move to next.
    pub next: Vec<AuditStatus>,
    pub actual_start: Option<String>,
    pub actual_end: Option<String>,
    /// Summary and conclusion, given when reported.
    pub summary: String,
    pub cancel_reason: String,
    pub created_at: String,
    /// Send it back as `updated_at` in a PUT; an edit over someone else's is refused.
    pub updated_at: String,
}

impl From<Audit> for AuditOut {
    fn from(a: Audit) -> Self {
        AuditOut {
            key: format!("AUD-{}", a.id),
            next: a.status.next().to_vec(),
            id: a.id,
            programme_id: a.programme_id,
            title: a.title,
            scope: a.scope,
            criteria: a.criteria,
            planned_start: date_out(a.planned_start),
            planned_end: date_out(a.planned_end),
            lead_auditor_id: a.lead_auditor_id,
            auditor_ids: a.auditor_ids,
            auditee_ids: a.auditee_ids,
            status: a.status,
            actual_start: a.actual_start.map(date_out),
            actual_end: a.actual_end.map(date_out),
            summary: a.summary,
            cancel_reason: a.cancel_reason,
            created_at: time(a.created_at),
            updated_at: time(a.updated_at),
        }
    }
}

/// An audit's plan: to plan one (POST, with `programme_id`) or replace it (PUT, with
/// `updated_at`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditIn {
    /// The programme it belongs to (POST only; an audit does not move between programmes).
    pub programme_id: Option<i64>,
    pub title: String,
    /// Clause ids of the catalogue (`8.6.1`, `9.2`…); headings such as `8.5` are not clauses.
    pub scope: Vec<String>,
    /// What the audit measures against; "ISO/IEC 20000-1:2018 and the SMS's own documented
    /// information" unless given.
    #[serde(default)]
    pub criteria: String,
    /// `YYYY-MM-DD`, within the programme's cycle.
    pub planned_start: String,
    pub planned_end: String,
    pub lead_auditor_id: i64,
    #[serde(default)]
    pub auditor_ids: Vec<i64>,
    /// The owners of the processes audited; none of them may audit it.
    pub auditee_ids: Vec<i64>,
    /// For a PUT: the `updated_at` you read.
    pub updated_at: Option<String>,
}

/// The plan's typed fields (the form and the API share them).
pub struct PlanFields {
    pub title: String,
    pub scope: Vec<String>,
    pub criteria: String,
    pub planned_start: String,
    pub planned_end: String,
    pub lead_auditor_id: Option<i64>,
    pub auditor_ids: Vec<i64>,
    pub auditee_ids: Vec<i64>,
}

/// An unvalidated plan from typed fields: the dates read, the lead required. The store
/// validates it against the programme's cycle.
pub fn plan_draft(f: PlanFields) -> Result<AuditDraft, Invalid> {
    let mut errors = Invalid::new();
    let start = required_date(
        &mut errors,
        "planned_start",
        "Planned start",
        &f.planned_start,
    );
    let end = required_date(&mut errors, "planned_end", "Planned end", &f.planned_end);
    if f.lead_auditor_id.is_none() {
        errors.add("lead_auditor_id", "Choose the lead auditor");
    }
    let (Some(planned_start), Some(planned_end), Some(lead_auditor_id)) =
        (start, end, f.lead_auditor_id)
    else {
        return Err(errors);
    };
    Ok(AuditDraft {
        title: f.title,
        scope: f.scope,
        criteria: f.criteria,
        planned_start,
        planned_end,
        lead_auditor_id,
        auditor_ids: f.auditor_ids,
        auditee_ids: f.auditee_ids,
    })
}

impl AuditIn {
    fn draft(self) -> Result<AuditDraft, Invalid> {
        plan_draft(PlanFields {
            title: self.title,
            scope: self.scope,
            criteria: self.criteria,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            lead_auditor_id: Some(self.lead_auditor_id),
            auditor_ids: self.auditor_ids,
            auditee_ids: self.auditee_ids,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    pub programme_id: Option<i64>,
    pub status: Option<AuditStatus>,
    /// `planned_start` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/audits", tag = "internal-audit", params(AuditQuery),
    responses((status = 200, body = ListOf<AuditOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<ListOf<AuditOut>>> {
    let filter = AuditFilter {
        programme_id: q.programme_id,
        status: q.status,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state.store.audits(who.tenant_id(), &filter, &page).await?;
    Ok(Json(ListOf::from_page(found, AuditOut::from)))
}

#[utoipa::path(post, path = "/audits", tag = "internal-audit", request_body = AuditIn,
    description = "Plans an audit in a programme and makes its checklist from the clause catalogue: one row per requirement of the scoped clauses. An auditor who is also an auditee is refused by name (9.2 independence).",
    responses((status = 201, body = AuditOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiJson(body): ApiJson<AuditIn>,
) -> ApiResult<(StatusCode, Json<AuditOut>)> {
    let Some(programme_id) = body.programme_id else {
        return Err(Invalid::one("programme_id", "Name the audit programme").into());
    };
    let draft = body.draft()?;
    let audit = state
        .store
        .plan_audit(who.tenant_id(), programme_id, &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(audit.into())))
}

#[utoipa::path(get, path = "/audits/{id}", tag = "internal-audit", params(("id" = i64, Path)),
    responses((status = 200, body = AuditOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AuditOut>> {
    Ok(Json(state.store.audit(who.tenant_id(), id).await?.into()))
}

#[utoipa::path(put, path = "/audits/{id}", tag = "internal-audit", params(("id" = i64, Path)), request_body = AuditIn,
    description = "Replaces an audit's plan while it is planned or in progress; the scope (and so the checklist) only while planned. `updated_at` is required: an edit over someone else's is refused with 409.",
    responses((status = 200, body = AuditOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AuditIn>,
) -> ApiResult<Json<AuditOut>> {
    let current = state.store.audit(who.tenant_id(), id).await?;
    if body.programme_id.is_some_and(|p| p != current.programme_id) {
        return Err(Invalid::one(
            "programme_id",
            "An audit stays in the programme it was planned in",
        )
        .into());
    }
    let seen = parse_time("updated_at", body.updated_at.as_deref().unwrap_or(""))?;
    let draft = body.draft()?;
    let saved = state
        .store
        .update_audit(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

/// Refuses a move the lifecycle does not allow with 409, naming the moves it does allow.
async fn check_move(state: &AppState, tenant_id: i64, id: i64, to: AuditStatus) -> ApiResult<()> {
    let current = state.store.audit(tenant_id, id).await?;
    current.status.transition(to).map(drop).map_err(|refusal| {
        let allowed = current
            .status
            .next()
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        ApiError::transition(refusal.to_string(), allowed)
    })
}

/// An optional date of a move: today (UTC) unless given.
fn day_or_today(
    field: &str,
    label: &str,
    text: Option<&str>,
) -> Result<jiff::civil::Date, Invalid> {
    let mut errors = Invalid::new();
    let day = parse_date(&mut errors, field, label, text.unwrap_or(""));
    errors.into_result(day.unwrap_or_else(today_utc))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartIn {
    /// `YYYY-MM-DD`; today (UTC) unless given.
    pub actual_start: Option<String>,
}

#[utoipa::path(post, path = "/audits/{id}/start", tag = "internal-audit", params(("id" = i64, Path)), request_body = StartIn,
    description = "Starts a planned audit: its checklist and findings can then be recorded.",
    responses((status = 200, body = AuditOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn start(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StartIn>,
) -> ApiResult<Json<AuditOut>> {
    check_move(&state, who.tenant_id(), id, AuditStatus::InProgress).await?;
    let on = day_or_today("actual_start", "Actual start", body.actual_start.as_deref())?;
    let a = state
        .store
        .start_audit(who.tenant_id(), id, on, &who.actor())
        .await?;
    Ok(Json(a.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    /// Summary and conclusion of the audit.
    pub summary: String,
    /// `YYYY-MM-DD`; today (UTC) unless given.
    pub actual_end: Option<String>,
}

#[utoipa::path(post, path = "/audits/{id}/report", tag = "internal-audit", params(("id" = i64, Path)), request_body = ReportIn,
    description = "Reports an audit in progress. Refused (422) while any checklist row is still not audited, or without a summary.",
    responses((status = 200, body = AuditOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn report(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReportIn>,
) -> ApiResult<Json<AuditOut>> {
    check_move(&state, who.tenant_id(), id, AuditStatus::Reported).await?;
    let on = day_or_today("actual_end", "Actual end", body.actual_end.as_deref())?;
    let a = state
        .store
        .report_audit(who.tenant_id(), id, &body.summary, on, &who.actor())
        .await?;
    Ok(Json(a.into()))
}

#[utoipa::path(post, path = "/audits/{id}/close", tag = "internal-audit", params(("id" = i64, Path)),
    description = "Closes a reported audit once its follow-up is done.",
    responses((status = 200, body = AuditOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn close(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AuditOut>> {
    check_move(&state, who.tenant_id(), id, AuditStatus::Closed).await?;
    let a = state
        .store
        .close_audit(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Json(a.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AuditCancelIn)]
pub struct CancelIn {
    pub reason: String,
}

#[utoipa::path(post, path = "/audits/{id}/cancel", tag = "internal-audit", params(("id" = i64, Path)), request_body = CancelIn,
    description = "Cancels a planned audit; a cancelled audit covers no clause.",
    responses((status = 200, body = AuditOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CancelIn>,
) -> ApiResult<Json<AuditOut>> {
    check_move(&state, who.tenant_id(), id, AuditStatus::Cancelled).await?;
    let a = state
        .store
        .cancel_audit(who.tenant_id(), id, &body.reason, &who.actor())
        .await?;
    Ok(Json(a.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistRowOut {
    pub requirement_id: String,
    pub clause_id: String,
    /// The catalogue's paraphrase of the requirement.
    pub requirement: String,
    pub result: ChecklistResult,
    pub notes: String,
    /// The evidence the auditor saw.
    pub evidence: String,
    /// Where a reproducible sample of the clause's records is drawn (the UI page).
    pub clause_page: String,
    pub updated_at: String,
}

impl From<ChecklistRow> for ChecklistRowOut {
    fn from(r: ChecklistRow) -> Self {
        ChecklistRowOut {
            clause_page: format!("/conformance/{}", r.clause_id),
            requirement_id: r.requirement_id,
            clause_id: r.clause_id,
            requirement: r.text,
            result: r.result,
            notes: r.notes,
            evidence: r.evidence,
            updated_at: time(r.updated_at),
        }
    }
}

#[utoipa::path(get, path = "/audits/{id}/checklist", tag = "internal-audit", params(("id" = i64, Path)),
    description = "The audit's checklist: one row per requirement of the scoped clauses, in the standard's order.",
    responses((status = 200, body = Vec<ChecklistRowOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn checklist(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ChecklistRowOut>>> {
    let rows = state.store.audit_checklist(who.tenant_id(), id).await?;
    Ok(Json(rows.into_iter().map(ChecklistRowOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistIn {
    pub result: ChecklistResult,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub evidence: String,
}

#[utoipa::path(put, path = "/audits/{id}/checklist/{requirement_id}", tag = "internal-audit",
    params(("id" = i64, Path), ("requirement_id" = String, Path, description = "A requirement of the checklist, such as `9.2-f`")),
    request_body = ChecklistIn,
    description = "Records one checklist row's result while the audit is in progress (409 otherwise).",
    responses((status = 200, body = ChecklistRowOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_result(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath((id, requirement_id)): ApiPath<(i64, String)>,
    ApiJson(body): ApiJson<ChecklistIn>,
) -> ApiResult<Json<ChecklistRowOut>> {
    let entry = ChecklistEntry {
        result: body.result,
        notes: body.notes,
        evidence: body.evidence,
    };
    let row = state
        .store
        .record_checklist_result(who.tenant_id(), id, &requirement_id, &entry, &who.actor())
        .await?;
    Ok(Json(row.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingOut {
    pub id: i64,
    pub audit_id: i64,
    pub kind: FindingKind,
    pub clause_id: String,
    pub requirement_id: Option<String>,
    pub statement: String,
    pub evidence: String,
    /// The nonconformity a major or minor nonconformity raised.
    pub nonconformity_id: Option<i64>,
    /// Its page in the UI.
    pub nonconformity_page: Option<String>,
    pub recorded_by: String,
    pub created_at: String,
}

impl From<Finding> for FindingOut {
    fn from(f: Finding) -> Self {
        FindingOut {
            nonconformity_page: f.nonconformity_id.map(|n| format!("/nonconformities/{n}")),
            id: f.id,
            audit_id: f.audit_id,
            kind: f.kind,
            clause_id: f.clause_id,
            requirement_id: f.requirement_id,
            statement: f.statement,
            evidence: f.evidence,
            nonconformity_id: f.nonconformity_id,
            recorded_by: f.recorded_by_label,
            created_at: time(f.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingIn {
    pub kind: FindingKind,
    /// A requirement id (`9.2-f`) or a clause id (`9.2`) within the audit's scope.
    pub reference: String,
    pub statement: String,
    /// Required for a nonconformity.
    #[serde(default)]
    pub evidence: String,
}

#[utoipa::path(get, path = "/audits/{id}/findings", tag = "internal-audit", params(("id" = i64, Path), PageParams),
    responses((status = 200, body = ListOf<FindingOut>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn findings(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<ListOf<FindingOut>>> {
    let found = state
        .store
        .audit_findings(who.tenant_id(), id, &q.page())
        .await?;
    Ok(Json(ListOf::from_page(found, FindingOut::from)))
}

#[utoipa::path(post, path = "/audits/{id}/findings", tag = "internal-audit", params(("id" = i64, Path)), request_body = FindingIn,
    description = "Records a finding while the audit is in progress (409 otherwise). A major or minor nonconformity raises a nonconformity in the same transaction; the finding keeps its id.",
    responses((status = 201, body = FindingOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_finding(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<FindingIn>,
) -> ApiResult<(StatusCode, Json<FindingOut>)> {
    let draft = FindingDraft {
        kind: body.kind,
        reference: body.reference,
        statement: body.statement,
        evidence: body.evidence,
    };
    let f = state
        .store
        .record_finding(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

/// The end of the cycle a start would give, for forms that show it before saving.
pub fn cycle_end_text(start: jiff::civil::Date) -> String {
    date_out(cycle_end(start))
}

/// Whether the catalogue has this clause (the UI's scope checkboxes post clause ids).
pub fn is_clause(id: &str) -> bool {
    catalogue().clause(id).is_some()
}
