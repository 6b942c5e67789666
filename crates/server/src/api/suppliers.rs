//! Supplier management (ISO/IEC 20000-1 8.3.4): `/suppliers` with their owner, interfaces,
//! evaluation and supported services; contract versions with approval and review; performance
//! reviews that raise or link improvements; disputes with their lifecycle; and the SLA
//! engine's underpinning contracts linked to each supplier with their attainment.
//!
//! Agents, auditors, managers and admins read the register; managers and admins keep it.

use super::{ApiJson, ApiPath, ApiQuery, ListOf, date_out, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::asset::{parse_date, required_date};
use steward_domain::supplier::contract::{
    ContractDraft, ContractReviewDraft, ContractStatus, DEFAULT_REVIEW_MONTHS,
};
use steward_domain::supplier::dispute::{DisputeDraft, DisputeState, DisputeStep, StepInput};
use steward_domain::supplier::evidence::Flag;
use steward_domain::supplier::review::{PerformanceReviewDraft, Rating};
use steward_domain::supplier::{EvaluationResult, SupplierDraft, SupplierKind, SupplierStatus};
use steward_store::PageRequest;
use steward_store::asset::today_utc;
use steward_store::supplier::contract::{ContractReview, SupplierContract};
use steward_store::supplier::dispute::{DisputeStepRow, SupplierDispute};
use steward_store::supplier::review::SupplierReview;
use steward_store::supplier::{Supplier, SupplierFilter, UcAttainment};
use utoipa::{IntoParams, ToSchema};

/// A marker on a supplier: something its owner should act on.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierFlagOut {
    /// `no_current_contract`, `contract_ending`, `contract_review_due`,
    /// `performance_review_due` or `disputes_overdue`.
    pub flag: String,
    /// What it says, in words.
    pub text: String,
    /// Past due rather than coming up.
    pub overdue: bool,
}

fn flags_out(kind: SupplierKind, flags: &[Flag]) -> Vec<SupplierFlagOut> {
    flags
        .iter()
        .map(|f| SupplierFlagOut {
            flag: match f {
                Flag::NoCurrentContract => "no_current_contract",
                Flag::ContractEnding { .. } => "contract_ending",
                Flag::ContractReviewDue { .. } => "contract_review_due",
                Flag::PerformanceReviewDue { .. } => "performance_review_due",
                Flag::DisputesOverdue { .. } => "disputes_overdue",
            }
            .to_owned(),
            text: f.text(kind),
            overdue: f.overdue(),
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierOut {
    pub id: i64,
    pub name: String,
    pub kind: SupplierKind,
    pub supplies: String,
    pub owner_id: Option<i64>,
    pub contacts: String,
    pub escalation: String,
    pub status: SupplierStatus,
    pub service_ids: Vec<i64>,
    /// Linked SLA agreements of kind UC.
    pub uc_agreement_ids: Vec<i64>,
    pub evaluation_criteria: String,
    pub evaluation_result: Option<EvaluationResult>,
    /// `YYYY-MM-DD`.
    pub evaluated_on: Option<String>,
    pub evaluator_id: Option<i64>,
    /// What needs attention today.
    pub flags: Vec<SupplierFlagOut>,
    pub created_at: String,
    /// Send it back as `updated_at` in a PUT; an edit over someone else's is refused.
    pub updated_at: String,
}

impl SupplierOut {
    fn of(s: Supplier, flags: &[Flag]) -> SupplierOut {
        SupplierOut {
            flags: flags_out(s.kind, flags),
            id: s.id,
            name: s.name,
            kind: s.kind,
            supplies: s.supplies,
            owner_id: s.owner_id,
            contacts: s.contacts,
            escalation: s.escalation,
            status: s.status,
            service_ids: s.service_ids,
            uc_agreement_ids: s.uc_agreement_ids,
            evaluation_criteria: s.evaluation_criteria,
            evaluation_result: s.evaluation_result,
            evaluated_on: s.evaluated_on.map(date_out),
            evaluator_id: s.evaluator_id,
            created_at: time(s.created_at),
            updated_at: time(s.updated_at),
        }
    }
}

/// A supplier to put on the register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierDraftBody {
    pub name: String,
    pub kind: SupplierKind,
    /// What they supply.
    pub supplies: String,
    /// An active user who looks after the relationship.
    pub owner_id: Option<i64>,
    #[serde(default)]
    pub contacts: String,
    #[serde(default)]
    pub escalation: String,
    /// `active` unless given.
    pub status: Option<SupplierStatus>,
    #[serde(default)]
    pub service_ids: Vec<i64>,
    #[serde(default)]
    pub evaluation_criteria: String,
    pub evaluation_result: Option<EvaluationResult>,
    /// `YYYY-MM-DD`.
    pub evaluated_on: Option<String>,
    pub evaluator_id: Option<i64>,
}

impl SupplierDraftBody {
    fn draft(self) -> Result<SupplierDraft, Invalid> {
        let mut errors = Invalid::new();
        let evaluated_on = parse_date(
            &mut errors,
            "evaluated_on",
            "The evaluation date",
            self.evaluated_on.as_deref().unwrap_or(""),
        );
        let draft = SupplierDraft {
            name: self.name,
            kind: self.kind,
            supplies: self.supplies,
            owner_id: self.owner_id,
            contacts: self.contacts,
            escalation: self.escalation,
            status: self.status.unwrap_or(SupplierStatus::Active),
            service_ids: self.service_ids,
            evaluation_criteria: self.evaluation_criteria,
            evaluation_result: self.evaluation_result,
            evaluated_on,
            evaluator_id: self.evaluator_id,
        };
        merge(errors, draft.validate(today_utc()))
    }
}

/// Field errors found while reading, followed by the domain's.
pub fn merge<T>(errors: Invalid, checked: Result<T, Invalid>) -> Result<T, Invalid> {
    match checked {
        Ok(value) => errors.into_result(value),
        Err(mut more) => {
            more.errors.extend(errors.errors);
            Err(more)
        }
    }
}

/// A supplier's fields as they should now be.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierUpdateBody {
    /// The `updated_at` you read: if the supplier changed since, the edit is refused (409).
    pub updated_at: String,
    pub name: String,
    pub kind: SupplierKind,
    pub supplies: String,
    pub owner_id: Option<i64>,
    #[serde(default)]
    pub contacts: String,
    #[serde(default)]
    pub escalation: String,
    pub status: SupplierStatus,
    #[serde(default)]
    pub service_ids: Vec<i64>,
    #[serde(default)]
    pub evaluation_criteria: String,
    pub evaluation_result: Option<EvaluationResult>,
    pub evaluated_on: Option<String>,
    pub evaluator_id: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SupplierQuery {
    /// Words in the name or in what they supply.
    pub q: Option<String>,
    pub kind: Option<SupplierKind>,
    pub status: Option<SupplierStatus>,
    pub owner_id: Option<i64>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/suppliers", tag = "suppliers", params(SupplierQuery),
    description = "The supplier register by name, each supplier with the markers that need attention today.",
    responses((status = 200, body = ListOf<SupplierOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SuppliersRead>,
    ApiQuery(q): ApiQuery<SupplierQuery>,
) -> ApiResult<Json<ListOf<SupplierOut>>> {
    let filter = SupplierFilter {
        q: q.q,
        kind: q.kind,
        status: q.status,
        owner_id: q.owner_id,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .suppliers(who.tenant_id(), &filter, &page)
        .await?;
    let flags = state
        .store
        .supplier_flags(who.tenant_id(), today_utc())
        .await?;
    Ok(Json(ListOf::from_page(found, |s| {
        let f = flags.get(&s.id).cloned().unwrap_or_default();
        SupplierOut::of(s, &f)
    })))
}

#[utoipa::path(post, path = "/suppliers", tag = "suppliers", request_body = SupplierDraftBody,
    description = "Puts a supplier on the register. Names are unique; the owner and evaluator must be active users; an evaluation gives criteria, result, date and evaluator together.",
    responses((status = 201, body = SupplierOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiJson(body): ApiJson<SupplierDraftBody>,
) -> ApiResult<(StatusCode, Json<SupplierOut>)> {
    let draft = body.draft()?;
    let created = state
        .store
        .create_supplier(who.tenant_id(), &draft, &who.actor())
        .await?;
    let flags = flags_of(&state, who.tenant_id(), created.id).await?;
    Ok((StatusCode::CREATED, Json(SupplierOut::of(created, &flags))))
}

async fn flags_of(state: &AppState, tenant_id: i64, id: i64) -> ApiResult<Vec<Flag>> {
    let mut all: HashMap<i64, Vec<Flag>> =
        state.store.supplier_flags(tenant_id, today_utc()).await?;
    Ok(all.remove(&id).unwrap_or_default())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierContractOut {
    pub id: i64,
    pub supplier_id: i64,
    pub version: i64,
    pub reference: String,
    pub scope: String,
    pub requirements: String,
    pub obligations: String,
    pub responsibilities: String,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub review_months: i64,
    pub impact: String,
    pub status: ContractStatus,
    pub approved_by: Option<i64>,
    pub approved_on: Option<String>,
    /// The latest review's day.
    pub reviewed_on: Option<String>,
    /// When the next review is due.
    pub review_due: String,
    /// The latest approved version in effect today.
    pub current: bool,
    pub created_at: String,
}

impl SupplierContractOut {
    fn of(c: SupplierContract, current: Option<i64>) -> SupplierContractOut {
        SupplierContractOut {
            review_due: date_out(c.facts().review_due()),
            current: current == Some(c.id),
            id: c.id,
            supplier_id: c.supplier_id,
            version: c.version,
            reference: c.reference,
            scope: c.scope,
            requirements: c.requirements,
            obligations: c.obligations,
            responsibilities: c.responsibilities,
            starts_on: date_out(c.starts_on),
            ends_on: c.ends_on.map(date_out),
            review_months: c.review_months,
            impact: c.impact,
            status: c.status,
            approved_by: c.approved_by,
            approved_on: c.approved_on.map(date_out),
            reviewed_on: c.reviewed_on.map(date_out),
            created_at: time(c.created_at),
        }
    }
}

/// The current contract's id among `contracts` today.
pub fn current_id(contracts: &[SupplierContract]) -> Option<i64> {
    let facts: Vec<_> = contracts.iter().map(SupplierContract::facts).collect();
    steward_domain::supplier::contract::current(&facts, today_utc()).map(|c| c.id)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierContractReviewOut {
    pub id: i64,
    pub contract_id: i64,
    pub reviewed_on: String,
    pub still_fits: bool,
    pub notes: String,
    pub reviewed_by: Option<i64>,
}

impl From<ContractReview> for SupplierContractReviewOut {
    fn from(r: ContractReview) -> Self {
        SupplierContractReviewOut {
            id: r.id,
            contract_id: r.contract_id,
            reviewed_on: date_out(r.reviewed_on),
            still_fits: r.still_fits,
            notes: r.notes,
            reviewed_by: r.reviewed_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierReviewOut {
    pub id: i64,
    pub supplier_id: i64,
    pub held_on: String,
    pub period_from: String,
    pub period_to: String,
    pub rating: Rating,
    pub targets_missed: String,
    pub notes: String,
    /// The improvement raised or linked for what was missed.
    pub improvement_id: Option<i64>,
    pub reviewed_by: Option<i64>,
}

impl From<SupplierReview> for SupplierReviewOut {
    fn from(r: SupplierReview) -> Self {
        SupplierReviewOut {
            id: r.id,
            supplier_id: r.supplier_id,
            held_on: date_out(r.held_on),
            period_from: date_out(r.period_from),
            period_to: date_out(r.period_to),
            rating: r.rating,
            targets_missed: r.targets_missed,
            notes: r.notes,
            improvement_id: r.improvement_id,
            reviewed_by: r.reviewed_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierDisputeOut {
    pub id: i64,
    pub supplier_id: i64,
    pub raised_on: String,
    pub subject: String,
    pub details: String,
    pub state: DisputeState,
    /// The steps it may take next.
    pub next: Vec<DisputeStep>,
    pub escalated_to: String,
    pub escalation_reason: String,
    pub resolution: String,
    /// Open, unescalated, for more than 30 days.
    pub overdue: bool,
    pub raised_by: Option<i64>,
    pub updated_at: String,
}

impl From<SupplierDispute> for SupplierDisputeOut {
    fn from(d: SupplierDispute) -> Self {
        SupplierDisputeOut {
            next: DisputeStep::open_from(d.state),
            overdue: steward_domain::supplier::dispute::overdue(d.state, d.raised_on, today_utc()),
            id: d.id,
            supplier_id: d.supplier_id,
            raised_on: date_out(d.raised_on),
            subject: d.subject,
            details: d.details,
            state: d.state,
            escalated_to: d.escalated_to,
            escalation_reason: d.escalation_reason,
            resolution: d.resolution,
            raised_by: d.raised_by,
            updated_at: time(d.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierDisputeStepOut {
    pub dispute_id: i64,
    pub step: String,
    pub from_state: String,
    pub to_state: String,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub at: String,
}

impl From<DisputeStepRow> for SupplierDisputeStepOut {
    fn from(s: DisputeStepRow) -> Self {
        SupplierDisputeStepOut {
            dispute_id: s.dispute_id,
            step: s.step,
            from_state: s.from_state,
            to_state: s.to_state,
            note: s.note,
            actor_id: s.actor_id,
            actor_label: s.actor_label,
            at: time(s.at),
        }
    }
}

/// Attainment of a linked underpinning contract's clocks over the last twelve months.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierUcOut {
    pub agreement_id: i64,
    pub name: String,
    pub met: i64,
    pub total: i64,
    /// Absent while no clock was decided.
    pub percent: Option<f64>,
}

impl From<UcAttainment> for SupplierUcOut {
    fn from(u: UcAttainment) -> Self {
        SupplierUcOut {
            agreement_id: u.agreement_id,
            name: u.name,
            met: u.met,
            total: u.total,
            percent: u.percent,
        }
    }
}

/// A supplier with everything on record about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierDetailOut {
    pub supplier: SupplierOut,
    /// Versions, newest first.
    pub contracts: Vec<SupplierContractOut>,
    pub contract_reviews: Vec<SupplierContractReviewOut>,
    /// Performance reviews, latest first.
    pub reviews: Vec<SupplierReviewOut>,
    /// When the next performance review is due.
    pub next_review_due: Option<String>,
    pub disputes: Vec<SupplierDisputeOut>,
    pub dispute_steps: Vec<SupplierDisputeStepOut>,
    pub uc_attainment: Vec<SupplierUcOut>,
}

/// Twelve months up to now, in micros.
pub fn last_year() -> (i64, i64) {
    let now = jiff::Timestamp::now().as_microsecond();
    (now - 365 * 86_400_000_000, now)
}

#[utoipa::path(get, path = "/suppliers/{id}", tag = "suppliers", params(("id" = i64, Path)),
    description = "A supplier with its contract versions and their reviews, performance reviews, disputes with their history, and the attainment of its linked underpinning contracts over the last twelve months.",
    responses((status = 200, body = SupplierDetailOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::SuppliersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SupplierDetailOut>> {
    let t = who.tenant_id();
    let supplier = state.store.supplier(t, id).await?;
    let contracts = state.store.supplier_contracts(t, id).await?;
    let current = current_id(&contracts);
    let reviews = state.store.supplier_reviews(t, id).await?;
    let (from, to) = last_year();
    let ucs = state
        .store
        .supplier_uc_attainment(t, &supplier, from, to)
        .await?;
    let flags = flags_of(&state, t, id).await?;
    let next_review_due = next_review_due(&contracts, &reviews).map(date_out);
    Ok(Json(SupplierDetailOut {
        supplier: SupplierOut::of(supplier, &flags),
        contracts: contracts
            .into_iter()
            .map(|c| SupplierContractOut::of(c, current))
            .collect(),
        contract_reviews: state
            .store
            .supplier_contract_reviews(t, id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        reviews: reviews.into_iter().map(Into::into).collect(),
        next_review_due,
        disputes: state
            .store
            .supplier_disputes(t, id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        dispute_steps: state
            .store
            .supplier_dispute_steps(t, id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        uc_attainment: ucs.into_iter().map(Into::into).collect(),
    }))
}

/// When the next performance review is due, from the versions and the reviews on file.
pub fn next_review_due(contracts: &[SupplierContract], reviews: &[SupplierReview]) -> Option<Date> {
    let facts = steward_domain::supplier::evidence::SupplierFacts {
        kind: SupplierKind::External,
        status: SupplierStatus::Active,
        contracts: contracts.iter().map(SupplierContract::facts).collect(),
        last_review: reviews.iter().map(|r| r.held_on).max(),
        disputes: Vec::new(),
    };
    facts.performance_due(today_utc())
}

#[utoipa::path(put, path = "/suppliers/{id}", tag = "suppliers", params(("id" = i64, Path)), request_body = SupplierUpdateBody,
    description = "Replaces a supplier's fields; set `status` to `ended` to end the relationship (its history stays). `updated_at` is the one you read: an edit over someone else's is refused with 409.",
    responses((status = 200, body = SupplierOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SupplierUpdateBody>,
) -> ApiResult<Json<SupplierOut>> {
    state.store.supplier(who.tenant_id(), id).await?;
    let seen = parse_time("updated_at", &body.updated_at)?;
    let draft = SupplierDraftBody {
        name: body.name,
        kind: body.kind,
        supplies: body.supplies,
        owner_id: body.owner_id,
        contacts: body.contacts,
        escalation: body.escalation,
        status: Some(body.status),
        service_ids: body.service_ids,
        evaluation_criteria: body.evaluation_criteria,
        evaluation_result: body.evaluation_result,
        evaluated_on: body.evaluated_on,
        evaluator_id: body.evaluator_id,
    }
    .draft()?;
    let saved = state
        .store
        .update_supplier(who.tenant_id(), id, seen, &draft, &who.actor())
        .await?;
    let flags = flags_of(&state, who.tenant_id(), id).await?;
    Ok(Json(SupplierOut::of(saved, &flags)))
}

#[utoipa::path(get, path = "/suppliers/{id}/contracts", tag = "suppliers", params(("id" = i64, Path)),
    description = "A supplier's contract (or agreement) versions, newest first; `current` marks the latest approved version in effect today.",
    responses((status = 200, body = Vec<SupplierContractOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn contracts(
    State(state): State<AppState>,
    who: Can<perm::SuppliersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<SupplierContractOut>>> {
    state.store.supplier(who.tenant_id(), id).await?;
    let all = state.store.supplier_contracts(who.tenant_id(), id).await?;
    let current = current_id(&all);
    Ok(Json(
        all.into_iter()
            .map(|c| SupplierContractOut::of(c, current))
            .collect(),
    ))
}

/// A new contract version; it is a draft until approved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierContractBody {
    pub reference: String,
    pub scope: String,
    #[serde(default)]
    pub requirements: String,
    /// Service level targets and other obligations.
    #[serde(default)]
    pub obligations: String,
    #[serde(default)]
    pub responsibilities: String,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    /// `YYYY-MM-DD`, the last day in effect; open-ended when absent.
    pub ends_on: Option<String>,
    /// 12 unless given.
    pub review_months: Option<i64>,
    /// What the change does to the SMS and the services: required from the second version on.
    #[serde(default)]
    pub impact: String,
}

/// A contract version's fields as typed; the rest of its checks need the versions on file.
pub struct ContractFields {
    pub reference: String,
    pub scope: String,
    pub requirements: String,
    pub obligations: String,
    pub responsibilities: String,
    pub starts_on: String,
    pub ends_on: String,
    pub review_months: Option<i64>,
    pub impact: String,
}

impl ContractFields {
    pub fn draft(self) -> Result<ContractDraft, Invalid> {
        let mut errors = Invalid::new();
        let starts = required_date(&mut errors, "starts_on", "The start date", &self.starts_on);
        let ends_on = parse_date(&mut errors, "ends_on", "The end date", &self.ends_on);
        let Some(starts_on) = starts else {
            return Err(errors);
        };
        errors.into_result(ContractDraft {
            reference: self.reference,
            scope: self.scope,
            requirements: self.requirements,
            obligations: self.obligations,
            responsibilities: self.responsibilities,
            starts_on,
            ends_on,
            review_months: self.review_months.unwrap_or(DEFAULT_REVIEW_MONTHS),
            impact: self.impact,
        })
    }
}

#[utoipa::path(post, path = "/suppliers/{id}/contracts", tag = "suppliers", params(("id" = i64, Path)), request_body = SupplierContractBody,
    description = "Adds a draft version; from the second version on it needs an impact assessment.",
    responses((status = 201, body = SupplierContractOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_contract(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SupplierContractBody>,
) -> ApiResult<(StatusCode, Json<SupplierContractOut>)> {
    let draft = ContractFields {
        reference: b.reference,
        scope: b.scope,
        requirements: b.requirements,
        obligations: b.obligations,
        responsibilities: b.responsibilities,
        starts_on: b.starts_on,
        ends_on: b.ends_on.unwrap_or_default(),
        review_months: b.review_months,
        impact: b.impact,
    }
    .draft()?;
    let created = state
        .store
        .create_supplier_contract(who.tenant_id(), id, draft, &who.actor())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SupplierContractOut::of(created, None)),
    ))
}

/// The approval of a version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierContractApprovalBody {
    /// `YYYY-MM-DD`, on or before the version starts; today if absent.
    pub approved_on: Option<String>,
}

#[utoipa::path(post, path = "/suppliers/{id}/contracts/{contract_id}/approve", tag = "suppliers",
    params(("id" = i64, Path), ("contract_id" = i64, Path)), request_body = SupplierContractApprovalBody,
    description = "Approves a draft version. The approval is dated on or before the day the version starts, and scope, requirements, obligations and responsibilities must be written down. An approved version is refused with 409.",
    responses((status = 200, body = SupplierContractOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn approve_contract(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiPath((id, contract_id)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<SupplierContractApprovalBody>,
) -> ApiResult<Json<SupplierContractOut>> {
    let today = today_utc();
    let on = match b.approved_on.as_deref() {
        Some(text) => {
            steward_domain::asset::required_date_alone("approved_on", "The approval date", text)?
        }
        None => today,
    };
    let approved = state
        .store
        .approve_supplier_contract(who.tenant_id(), id, contract_id, on, today, &who.actor())
        .await?;
    let all = state.store.supplier_contracts(who.tenant_id(), id).await?;
    Ok(Json(SupplierContractOut::of(approved, current_id(&all))))
}

/// A review of a version against today's service requirements.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierContractReviewBody {
    /// `YYYY-MM-DD`; today if absent.
    pub reviewed_on: Option<String>,
    /// Whether the contract still fits the current service requirements.
    pub still_fits: bool,
    /// What was compared and, when it no longer fits, what is to change.
    pub notes: String,
}

#[utoipa::path(post, path = "/suppliers/{id}/contracts/{contract_id}/reviews", tag = "suppliers",
    params(("id" = i64, Path), ("contract_id" = i64, Path)), request_body = SupplierContractReviewBody,
    description = "Records a review of an approved version and sets its `reviewed_on`; a draft is refused with 409.",
    responses((status = 201, body = SupplierContractReviewOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn review_contract(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiPath((id, contract_id)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<SupplierContractReviewBody>,
) -> ApiResult<(StatusCode, Json<SupplierContractReviewOut>)> {
    let today = today_utc();
    let reviewed_on = match b.reviewed_on.as_deref() {
        Some(text) => {
            steward_domain::asset::required_date_alone("reviewed_on", "The review date", text)?
        }
        None => today,
    };
    let draft = ContractReviewDraft {
        reviewed_on,
        still_fits: b.still_fits,
        notes: b.notes,
    };
    let (_, review) = state
        .store
        .review_supplier_contract(who.tenant_id(), id, contract_id, draft, today, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(review.into())))
}

#[utoipa::path(get, path = "/suppliers/{id}/reviews", tag = "suppliers", params(("id" = i64, Path)),
    description = "A supplier's performance reviews, latest first.",
    responses((status = 200, body = Vec<SupplierReviewOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reviews(
    State(state): State<AppState>,
    who: Can<perm::SuppliersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<SupplierReviewOut>>> {
    state.store.supplier(who.tenant_id(), id).await?;
    let all = state.store.supplier_reviews(who.tenant_id(), id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// A performance review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierReviewBody {
    /// `YYYY-MM-DD`, not after today.
    pub held_on: String,
    pub period_from: String,
    pub period_to: String,
    pub rating: Rating,
    #[serde(default)]
    pub targets_missed: String,
    #[serde(default)]
    pub notes: String,
    /// An improvement of the register that addresses what was missed.
    pub improvement_id: Option<i64>,
    /// Raise a new improvement (source: supplier) with the review.
    #[serde(default)]
    pub raise_improvement: bool,
}

/// A performance review's fields as typed.
pub struct ReviewFields {
    pub held_on: String,
    pub period_from: String,
    pub period_to: String,
    pub rating: Rating,
    pub targets_missed: String,
    pub notes: String,
    pub improvement_id: Option<i64>,
    pub raise_improvement: bool,
}

impl ReviewFields {
    /// Reads the dates and checks the review as the store will.
    pub fn draft(self) -> Result<PerformanceReviewDraft, Invalid> {
        let mut errors = Invalid::new();
        let held = required_date(&mut errors, "held_on", "The review date", &self.held_on);
        let from = required_date(
            &mut errors,
            "period_from",
            "The period's start",
            &self.period_from,
        );
        let to = required_date(
            &mut errors,
            "period_to",
            "The period's end",
            &self.period_to,
        );
        let (Some(held_on), Some(period_from), Some(period_to)) = (held, from, to) else {
            return Err(errors);
        };
        let draft = PerformanceReviewDraft {
            held_on,
            period_from,
            period_to,
            rating: self.rating,
            targets_missed: self.targets_missed,
            notes: self.notes,
            improvement_id: self.improvement_id,
            raise_improvement: self.raise_improvement,
        };
        merge(errors, draft.validate(today_utc()))
    }
}

#[utoipa::path(post, path = "/suppliers/{id}/reviews", tag = "suppliers", params(("id" = i64, Path)), request_body = SupplierReviewBody,
    description = "Records a performance review. A rating other than `meets` needs the targets missed and an improvement: `raise_improvement` raises one (source supplier) in the same transaction, or `improvement_id` links one.",
    responses((status = 201, body = SupplierReviewOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_review(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SupplierReviewBody>,
) -> ApiResult<(StatusCode, Json<SupplierReviewOut>)> {
    let draft = ReviewFields {
        held_on: b.held_on,
        period_from: b.period_from,
        period_to: b.period_to,
        rating: b.rating,
        targets_missed: b.targets_missed,
        notes: b.notes,
        improvement_id: b.improvement_id,
        raise_improvement: b.raise_improvement,
    }
    .draft()?;
    let created = state
        .store
        .create_supplier_review(who.tenant_id(), id, draft, today_utc(), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/suppliers/{id}/disputes", tag = "suppliers", params(("id" = i64, Path)),
    description = "A supplier's disputes, latest raised first; `overdue` marks those open, unescalated, for more than 30 days.",
    responses((status = 200, body = Vec<SupplierDisputeOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn disputes(
    State(state): State<AppState>,
    who: Can<perm::SuppliersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<SupplierDisputeOut>>> {
    state.store.supplier(who.tenant_id(), id).await?;
    let all = state.store.supplier_disputes(who.tenant_id(), id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// A dispute to log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierDisputeBody {
    /// `YYYY-MM-DD`, not after today; today if absent.
    pub raised_on: Option<String>,
    pub subject: String,
    #[serde(default)]
    pub details: String,
}

#[utoipa::path(post, path = "/suppliers/{id}/disputes", tag = "suppliers", params(("id" = i64, Path)), request_body = SupplierDisputeBody,
    description = "Logs a dispute with the supplier; it starts open.",
    responses((status = 201, body = SupplierDisputeOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_dispute(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SupplierDisputeBody>,
) -> ApiResult<(StatusCode, Json<SupplierDisputeOut>)> {
    let today = today_utc();
    let raised_on = match b.raised_on.as_deref() {
        Some(text) => {
            steward_domain::asset::required_date_alone("raised_on", "The date raised", text)?
        }
        None => today,
    };
    let draft = DisputeDraft {
        raised_on,
        subject: b.subject,
        details: b.details,
    };
    let created = state
        .store
        .create_supplier_dispute(who.tenant_id(), id, draft, today, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// A step of a dispute's lifecycle.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierDisputeStepBody {
    pub step: DisputeStep,
    /// Escalation only: who it goes to.
    #[serde(default)]
    pub escalated_to: String,
    /// Why it is escalated, the resolution, or a closing note.
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/suppliers/{id}/disputes/{dispute_id}/steps", tag = "suppliers",
    params(("id" = i64, Path), ("dispute_id" = i64, Path)), request_body = SupplierDisputeStepBody,
    description = "Moves a dispute: open → escalated (who and why), open or escalated → resolved (the resolution), resolved → closed. A step the lifecycle does not allow is refused with 409.",
    responses((status = 200, body = SupplierDisputeOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn step_dispute(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiPath((id, dispute_id)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<SupplierDisputeStepBody>,
) -> ApiResult<Json<SupplierDisputeOut>> {
    let input = StepInput {
        escalated_to: b.escalated_to,
        note: b.note,
    };
    let moved = state
        .store
        .step_supplier_dispute(who.tenant_id(), id, dispute_id, b.step, input, &who.actor())
        .await?;
    Ok(Json(moved.into()))
}

#[utoipa::path(get, path = "/suppliers/{id}/ucs", tag = "suppliers", params(("id" = i64, Path)),
    description = "The underpinning contracts (SLA agreements of kind UC) linked to the supplier, each with the attainment of its clocks decided in the last twelve months.",
    responses((status = 200, body = Vec<SupplierUcOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn ucs(
    State(state): State<AppState>,
    who: Can<perm::SuppliersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<SupplierUcOut>>> {
    let supplier = state.store.supplier(who.tenant_id(), id).await?;
    let (from, to) = last_year();
    let rows = state
        .store
        .supplier_uc_attainment(who.tenant_id(), &supplier, from, to)
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The underpinning contracts the supplier is bound by.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierUcLinksBody {
    /// Ids of SLA agreements of kind UC; the list replaces the links.
    pub agreement_ids: Vec<i64>,
}

#[utoipa::path(put, path = "/suppliers/{id}/ucs", tag = "suppliers", params(("id" = i64, Path)), request_body = SupplierUcLinksBody,
    description = "Replaces the supplier's links to underpinning contracts; an agreement that is not a UC of the organisation is a 422.",
    responses((status = 200, body = Vec<SupplierUcOut>), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_ucs(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SupplierUcLinksBody>,
) -> ApiResult<Json<Vec<SupplierUcOut>>> {
    let saved = state
        .store
        .set_supplier_ucs(who.tenant_id(), id, &b.agreement_ids, &who.actor())
        .await?;
    let (from, to) = last_year();
    let rows = state
        .store
        .supplier_uc_attainment(who.tenant_id(), &saved, from, to)
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}
