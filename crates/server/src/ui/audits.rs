//! Internal audit's pages (ISO/IEC 20000-1 9.2): the programmes and audits, a programme as a
//! calendar of its three-year cycle with its coverage matrix and the clauses no audit covers,
//! the forms that record a programme and plan an audit (the scope as clause checkboxes grouped
//! by top-level clause), and the audit page with its status actions, its checklist with a
//! result form on every row, and its findings.
//!
//! The forms read text into the same drafts the API uses (`api::audits`), so a page refuses
//! what the API refuses, with the same messages beside the fields, and keeps what was typed.

use super::people::People;
use super::register_form::{self, Field, Input, Posted, Register, joined, picked};
use super::session::DoneQuery;
use super::{Chrome, FormState, HistoryRow, Id, Opt, PICKER, UiResult, history, options, when};
use crate::AppState;
use crate::api::audits::{PlanFields, plan_draft, programme_draft};
use crate::api::date_out;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use jiff::civil::Date;
use serde::Deserialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::sms::audit::{
    AuditStatus, ChecklistResult, DEFAULT_CRITERIA, FindingDraft, FindingKind, ProgrammeDraft,
};
use steward_store::Actor;
use steward_store::asset::today_utc;
use steward_store::audit::{Audit, AuditFilter, ChecklistEntry, Finding, Programme, coverage_of};
use steward_store::{PageRequest, StoreError};

/// Where the navigation points; every internal audit page marks the management system.
pub const NAV_HREF: &str = "/sms";
/// The register's own front page.
pub const HOME: &str = "/audits";

/// An audit in a list or on the calendar.
pub struct AuditLine {
    pub id: i64,
    pub title: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub dates: String,
    pub scope: String,
}

impl From<&Audit> for AuditLine {
    fn from(a: &Audit) -> Self {
        AuditLine {
            id: a.id,
            title: a.title.clone(),
            status: a.status.label(),
            status_code: a.status.as_str(),
            dates: if a.planned_start == a.planned_end {
                date_out(a.planned_start)
            } else {
                format!("{} to {}", a.planned_start, a.planned_end)
            },
            scope: a.scope.join(", "),
        }
    }
}

pub struct ProgrammeLine {
    pub id: i64,
    pub name: String,
    pub cycle: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "audits/index.html")]
struct IndexPage {
    chrome: Chrome,
    programmes: Vec<ProgrammeLine>,
    audits: Vec<AuditLine>,
    statuses: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct IndexQuery {
    status: String,
    cursor: Option<String>,
    done: Option<String>,
}

/// `GET /audits`: the programmes, and every audit by planned start with a status filter.
pub async fn index(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Query(q): Query<IndexQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let today = today_utc();
    let programmes = state
        .store
        .programmes(t, &PICKER)
        .await?
        .items
        .into_iter()
        .map(|p| ProgrammeLine {
            current: p.cycle_start <= today && today <= p.cycle_end,
            cycle: format!("{} to {}", p.cycle_start, p.cycle_end),
            id: p.id,
            name: p.name,
        })
        .collect();
    let filter = AuditFilter {
        status: AuditStatus::parse(q.status.trim()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.audits(t, &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(HOME).into_response()),
        other => other?,
    };
    let params = [("status", q.status.as_str())];
    Ok(IndexPage {
        chrome: Chrome::new(&state, &who, NAV_HREF)
            .await
            .with_notice(q.done.as_deref()),
        programmes,
        audits: found.items.iter().map(AuditLine::from).collect(),
        statuses: super::filter_choices(
            AuditStatus::ALL,
            "— any status —",
            AuditStatus::as_str,
            AuditStatus::label,
            &q.status,
        ),
        filtered: !q.status.trim().is_empty(),
        next: super::next_link(HOME, &params, found.next_cursor),
        can_write: who.can(Permission::SmsWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

/// The programme edited through the registers' shared form.
pub struct Programmes;

const PROGRAMME_FIELDS: [&str; 4] = ["name", "cycle_start", "owner_id", "notes"];

impl Register for Programmes {
    type Record = Programme;
    type Draft = ProgrammeDraft;
    const HREF: &'static str = "/audit-programmes";
    const FIELDS: &'static [&'static str] = &PROGRAMME_FIELDS;
    const NEW: (&'static str, &'static str, &'static str) = (
        "New audit programme",
        "The plan of internal audits over a three-year certification cycle.",
        "Create programme",
    );

    fn id(p: &Programme) -> i64 {
        p.id
    }

    fn updated_at(p: &Programme) -> i64 {
        p.updated_at
    }

    fn editing(p: &Programme) -> (String, &'static str) {
        (
            format!("Edit {}", p.name),
            "A new cycle start must still hold every audit planned in the programme.",
        )
    }

    fn values(p: &Programme) -> Vec<(&'static str, String)> {
        vec![
            ("name", p.name.clone()),
            ("cycle_start", date_out(p.cycle_start)),
            (
                "owner_id",
                p.owner_id.map(|o| o.to_string()).unwrap_or_default(),
            ),
            ("notes", p.notes.clone()),
        ]
    }

    fn fields(form: &FormState, people: &People) -> Vec<Field> {
        vec![
            Field::new("name", "Name", Input::Text).required(),
            Field::new("cycle_start", "Cycle start", Input::Date)
                .required()
                .hint("The programme covers three years from this day (a certification cycle)."),
            Field::new(
                "owner_id",
                "Owner",
                Input::Select(people.options("— no one yet —", form.value("owner_id"))),
            ),
            Field::new(
                "notes",
                "Notes (methods, frequency, areas audited more often)",
                Input::Area,
            ),
        ]
    }

    async fn load(state: &AppState, tenant_id: i64, id: i64) -> Result<Programme, StoreError> {
        state.store.programme(tenant_id, id).await
    }

    fn draft(posted: &Posted) -> Result<ProgrammeDraft, Invalid> {
        let mut errors = Invalid::new();
        let owner = picked(&mut errors, "owner_id", posted.get("owner_id"));
        joined(
            errors,
            programme_draft(
                posted.get("name").to_owned(),
                posted.get("cycle_start"),
                owner,
                posted.get("notes").to_owned(),
            ),
        )
    }

    async fn create(
        state: &AppState,
        tenant_id: i64,
        draft: &ProgrammeDraft,
        actor: &Actor,
    ) -> Result<Programme, StoreError> {
        state.store.create_programme(tenant_id, draft, actor).await
    }

    async fn update(
        state: &AppState,
        tenant_id: i64,
        id: i64,
        seen: i64,
        draft: &ProgrammeDraft,
        actor: &Actor,
    ) -> Result<Programme, StoreError> {
        state
            .store
            .update_programme(tenant_id, id, seen, draft, actor)
            .await
    }

    async fn page(state: &AppState, who: &Principal, id: i64, done: Option<&str>) -> UiResult {
        programme_page(state, who, id, done).await
    }
}

/// `GET /audit-programmes`: programmes are listed with the audits.
pub async fn programmes(_who: Can<perm::SmsRead>) -> Redirect {
    Redirect::to(HOME)
}

/// `GET /audit-programmes/new`: the blank form, its cycle starting today.
pub async fn new_programme(State(state): State<AppState>, who: Can<perm::SmsWrite>) -> UiResult {
    let blank = FormState::with(&[("cycle_start", &date_out(today_utc()))]);
    register_form::form::<Programmes>(&state, &who, None, blank, None, StatusCode::OK).await
}

/// One month of the calendar and the audits planned to start in it.
pub struct CalMonth {
    pub label: String,
    pub today: bool,
    pub audits: Vec<AuditLine>,
}

/// One year of the cycle: twelve months from the month the year starts in.
pub struct CalYear {
    pub label: String,
    pub months: Vec<CalMonth>,
}

/// The cycle as three rows of twelve months, each audit in the month of its planned start.
fn calendar(p: &Programme, audits: &[Audit], today: Date) -> Vec<CalYear> {
    let first = p.cycle_start.first_of_month();
    let month_of = |d: Date| (d.year(), d.month());
    (0..3i64)
        .map(|year| {
            let year_start = p
                .cycle_start
                .checked_add(jiff::Span::new().years(year))
                .unwrap_or(p.cycle_start);
            let months = (0..12i64)
                .map(|m| {
                    let month = first
                        .checked_add(jiff::Span::new().months(year * 12 + m))
                        .unwrap_or(first);
                    CalMonth {
                        label: month.strftime("%b %Y").to_string(),
                        today: month_of(today) == month_of(month),
                        audits: audits
                            .iter()
                            .filter(|a| month_of(a.planned_start) == month_of(month))
                            .map(AuditLine::from)
                            .collect(),
                    }
                })
                .collect();
            CalYear {
                label: format!("Year {} (from {year_start})", year + 1),
                months,
            }
        })
        .collect()
}

/// One clause's row of the coverage matrix.
pub struct CoverageRow {
    pub clause_id: String,
    pub title: String,
    pub years: Vec<u32>,
    pub covered: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "audits/programme.html")]
struct ProgrammePage {
    chrome: Chrome,
    p: Programme,
    owner: String,
    years: Vec<CalYear>,
    rows: Vec<CoverageRow>,
    uncovered: Vec<CoverageRow>,
    audits: Vec<AuditLine>,
    today: String,
    can_write: bool,
    history: Option<Vec<HistoryRow>>,
}

/// `GET /audit-programmes/{id}`: the calendar, the coverage matrix and the uncovered clauses.
async fn programme_page(
    state: &AppState,
    who: &Principal,
    id: i64,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let p = state.store.programme(t, id).await?;
    let audits = state.store.programme_audits(t, id).await?;
    let cov = coverage_of(&p, &audits);
    let rows: Vec<CoverageRow> = cov
        .clauses
        .into_iter()
        .map(|c| CoverageRow {
            covered: c.covered(),
            years: c.years.to_vec(),
            clause_id: c.clause_id,
            title: c.title,
        })
        .collect();
    let uncovered = rows
        .iter()
        .filter(|r| !r.covered)
        .map(|r| CoverageRow {
            clause_id: r.clause_id.clone(),
            title: r.title.clone(),
            years: r.years.clone(),
            covered: false,
        })
        .collect();
    let people = People::of(state, who.tenant_id()).await?;
    let today = today_utc();
    let page = ProgrammePage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        owner: p
            .owner_id
            .map_or_else(|| "—".to_owned(), |o| people.name(Some(o))),
        years: calendar(&p, &audits, today),
        rows,
        uncovered,
        audits: audits.iter().map(AuditLine::from).collect(),
        today: date_out(today),
        can_write: who.can(Permission::SmsWrite),
        history: history(state, who, "audit_programme", id).await,
        p,
    };
    Ok(page.into_response())
}

/// A top-level clause and its clauses, as the scope checkboxes show them.
pub struct ScopeGroup {
    pub heading: String,
    pub clauses: Vec<Opt>,
}

fn scope_groups(chosen: &[String]) -> Vec<ScopeGroup> {
    let cat = catalogue();
    cat.headings
        .iter()
        .filter(|h| h.parent.is_none())
        .map(|h| ScopeGroup {
            heading: format!("{} {}", h.id, h.title),
            clauses: cat
                .clauses
                .iter()
                .filter(|c| c.top() == h.id)
                .map(|c| Opt {
                    selected: chosen.contains(&c.id),
                    value: c.id.clone(),
                    label: format!("{} {}", c.id, c.title),
                })
                .collect(),
        })
        .filter(|g| !g.clauses.is_empty())
        .collect()
}

/// What the plan form posts, as typed.
#[derive(Debug, Default)]
struct PlanForm {
    fields: HashMap<String, String>,
    scope: Vec<String>,
    auditors: Vec<String>,
    auditees: Vec<String>,
}

const PLAN_FIELDS: [&str; 5] = [
    "title",
    "criteria",
    "planned_start",
    "planned_end",
    "lead_auditor_id",
];

impl PlanForm {
    fn posted(pairs: Vec<(String, String)>) -> PlanForm {
        let mut form = PlanForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "scope" => form.scope.push(v),
                "auditor_ids" => form.auditors.push(v),
                "auditee_ids" => form.auditees.push(v),
                name if PLAN_FIELDS.contains(&name) => {
                    form.fields.insert(k, v);
                }
                _ => {}
            }
        }
        form
    }

    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    fn state(&self) -> FormState {
        let mut values: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let auditors = self.auditors.join(",");
        let auditees = self.auditees.join(",");
        values.push(("auditor_ids", &auditors));
        values.push(("auditee_ids", &auditees));
        FormState::with(&values)
    }

    /// The typed people as ids; one that is not a number is a field error.
    fn ids(errors: &mut Invalid, field: &str, typed: &[String]) -> Vec<i64> {
        let mut ids = Vec::new();
        for t in typed.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            match t.parse() {
                Ok(id) => ids.push(id),
                Err(_) => errors.add(field, format!("{t} is not a person")),
            }
        }
        ids
    }

    fn draft(&self) -> Result<steward_domain::sms::audit::AuditDraft, Invalid> {
        let mut errors = Invalid::new();
        let auditor_ids = PlanForm::ids(&mut errors, "auditor_ids", &self.auditors);
        let auditee_ids = PlanForm::ids(&mut errors, "auditee_ids", &self.auditees);
        let draft = plan_draft(PlanFields {
            title: self.get("title").to_owned(),
            scope: self.scope.clone(),
            criteria: self.get("criteria").to_owned(),
            planned_start: self.get("planned_start").to_owned(),
            planned_end: self.get("planned_end").to_owned(),
            lead_auditor_id: self.get("lead_auditor_id").trim().parse().ok(),
            auditor_ids,
            auditee_ids,
        });
        match draft {
            Ok(d) if errors.errors.is_empty() => Ok(d),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.errors.extend(more.errors);
                Err(errors)
            }
        }
    }
}

/// Where the plan form posts: a new audit in the programme, or an edit of audit `editing`.
struct PlanTarget {
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    seen: Option<i64>,
    /// The checklist is made from the scope, so the scope is fixed once the audit starts.
    scope_fixed: bool,
}

impl PlanTarget {
    fn new_in(p: &Programme) -> PlanTarget {
        PlanTarget {
            heading: format!("Plan an audit in {}", p.name),
            action: format!("/audit-programmes/{}/audits", p.id),
            submit: "Plan audit",
            cancel: format!("/audit-programmes/{}", p.id),
            seen: None,
            scope_fixed: false,
        }
    }

    fn editing(a: &Audit, seen: Option<i64>) -> PlanTarget {
        PlanTarget {
            heading: format!("Edit AUD-{} {}", a.id, a.title),
            action: format!("/audits/{}", a.id),
            submit: "Save",
            cancel: format!("/audits/{}", a.id),
            seen,
            scope_fixed: a.status != AuditStatus::Planned,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "audits/plan_form.html")]
struct PlanPage {
    chrome: Chrome,
    p: Programme,
    target: PlanTarget,
    form: FormState,
    groups: Vec<ScopeGroup>,
    leads: Vec<Opt>,
    auditors: Vec<Opt>,
    auditees: Vec<Opt>,
}

async fn render_plan(
    state: &AppState,
    who: &Principal,
    p: Programme,
    target: PlanTarget,
    form: &PlanForm,
    invalid: Option<Invalid>,
    status: StatusCode,
) -> UiResult {
    let people = People::of(state, who.tenant_id()).await?;
    let mut typed = form.state();
    if let Some(invalid) = invalid {
        typed = typed.rejected(invalid);
    }
    let page = PlanPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        groups: scope_groups(&form.scope),
        leads: super::options_after_blank(
            "— choose —",
            people
                .all()
                .iter()
                .map(|(id, n)| (id.to_string(), n.clone())),
            typed.value("lead_auditor_id"),
        ),
        auditors: super::ticked_options(people.all(), typed.value("auditor_ids")),
        auditees: super::ticked_options(people.all(), typed.value("auditee_ids")),
        form: typed,
        p,
        target,
    };
    Ok((status, page).into_response())
}

/// `GET /audit-programmes/{id}/audits/new`: the plan form, dated a month on.
pub async fn new_audit(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let p = state.store.programme(who.tenant_id(), id).await?;
    let mut form = PlanForm::default();
    let start = today_utc()
        .checked_add(jiff::Span::new().days(30))
        .unwrap_or_else(|_| today_utc())
        .clamp(p.cycle_start, p.cycle_end);
    form.fields.insert("planned_start".into(), date_out(start));
    form.fields.insert("planned_end".into(), date_out(start));
    form.fields
        .insert("criteria".into(), DEFAULT_CRITERIA.into());
    let target = PlanTarget::new_in(&p);
    render_plan(&state, &who, p, target, &form, None, StatusCode::OK).await
}

/// `POST /audit-programmes/{id}/audits`: the audit page on success, the form with its errors
/// (independence among them) otherwise.
pub async fn create_audit(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let p = state.store.programme(who.tenant_id(), id).await?;
    let form = PlanForm::posted(pairs);
    let saved = match form.draft() {
        Ok(draft) => {
            state
                .store
                .plan_audit(who.tenant_id(), id, &draft, &who.actor())
                .await
        }
        Err(invalid) => Err(invalid.into()),
    };
    match saved {
        Ok(a) => Ok(Redirect::to(&format!("/audits/{}?done=created", a.id)).into_response()),
        Err(StoreError::Invalid(invalid)) => {
            let target = PlanTarget::new_in(&p);
            render_plan(
                &state,
                &who,
                p,
                target,
                &form,
                Some(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// An audit's plan as the form starts it.
fn plan_of(a: &Audit) -> PlanForm {
    let mut form = PlanForm {
        scope: a.scope.clone(),
        auditors: a.auditor_ids.iter().map(i64::to_string).collect(),
        auditees: a.auditee_ids.iter().map(i64::to_string).collect(),
        ..PlanForm::default()
    };
    for (k, v) in [
        ("title", a.title.clone()),
        ("criteria", a.criteria.clone()),
        ("planned_start", date_out(a.planned_start)),
        ("planned_end", date_out(a.planned_end)),
        ("lead_auditor_id", a.lead_auditor_id.to_string()),
    ] {
        form.fields.insert(k.to_owned(), v);
    }
    form
}

/// `GET /audits/{id}/edit`: the plan form over the audit as planned.
pub async fn edit_audit(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let a = state.store.audit(who.tenant_id(), id).await?;
    let p = state
        .store
        .programme(who.tenant_id(), a.programme_id)
        .await?;
    let target = PlanTarget::editing(&a, Some(a.updated_at));
    render_plan(&state, &who, p, target, &plan_of(&a), None, StatusCode::OK).await
}

/// `POST /audits/{id}`: the audit page on success; the form with its errors (an edit over
/// someone else's among them) otherwise. Once the audit has started its scope stays as it
/// was, whatever was posted.
pub async fn update_audit(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let t = who.tenant_id();
    let a = state.store.audit(t, id).await?;
    let seen = pairs
        .iter()
        .find(|(k, _)| k == "updated_at")
        .and_then(|(_, v)| v.trim().parse().ok());
    let mut form = PlanForm::posted(pairs);
    let target = PlanTarget::editing(&a, seen);
    if target.scope_fixed {
        form.scope = a.scope.clone();
    }
    let saved = match form.draft() {
        Ok(draft) => {
            let seen = seen.unwrap_or(a.updated_at);
            state
                .store
                .update_audit(t, id, seen, &draft, &who.actor())
                .await
        }
        Err(invalid) => Err(invalid.into()),
    };
    let refusal = match saved {
        Ok(a) => return Ok(super::saved_page(HOME, a.id, true)),
        Err(e) => super::refusal(e, "form")?,
    };
    let p = state.store.programme(t, a.programme_id).await?;
    render_plan(
        &state,
        &who,
        p,
        target,
        &form,
        Some(refusal),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// One checklist row as the audit page shows it.
pub struct ChecklistLine {
    pub requirement_id: String,
    pub clause_id: String,
    pub text: String,
    pub result: &'static str,
    pub result_code: &'static str,
    pub results: Vec<Opt>,
    pub notes: String,
    pub evidence: String,
}

/// One finding as the audit page shows it.
pub struct FindingLine {
    pub kind: &'static str,
    pub kind_code: &'static str,
    pub reference: String,
    pub statement: String,
    pub evidence: String,
    /// `(href, label)` of the nonconformity or improvement it raised.
    pub raised: Option<(String, String)>,
    pub by: String,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audits/view.html")]
struct ViewPage {
    chrome: Chrome,
    a: Audit,
    key: String,
    status: &'static str,
    programme: String,
    lead: String,
    auditors: String,
    auditees: String,
    rows: Vec<ChecklistLine>,
    open_rows: usize,
    findings: Vec<FindingLine>,
    more_findings: Option<String>,
    kinds: Vec<Opt>,
    references: Vec<Opt>,
    can_write: bool,
    recording: bool,
    /// The form that was refused (`status`, `checklist` or `finding`) with its errors.
    refused: &'static str,
    form: FormState,
    history: Option<Vec<HistoryRow>>,
}

/// What the audit page shows a refused form with.
struct Refused {
    which: &'static str,
    form: FormState,
}

impl Refused {
    fn none() -> Refused {
        Refused {
            which: "",
            form: FormState::default(),
        }
    }
}

/// Where a record raised by audit finding `id` points back to: the audit's findings, named.
pub async fn finding_link(state: &AppState, tenant_id: i64, id: i64) -> Option<(String, String)> {
    let f = state.store.audit_finding(tenant_id, id).await.ok()?;
    Some((
        format!("/audits/{}#findings", f.audit_id),
        format!("Finding #{id} of audit AUD-{}", f.audit_id),
    ))
}

/// What a finding raised: its nonconformity, or for an opportunity for improvement the
/// improvement it proposed, as `(href, label)`.
async fn raised_by(state: &AppState, tenant_id: i64, f: &Finding) -> Option<(String, String)> {
    if let Some(nc) = f.nonconformity_id {
        return Some((
            format!("/nonconformities/{nc}"),
            nonconformity_label(state, tenant_id, nc).await,
        ));
    }
    if f.kind != FindingKind::OpportunityForImprovement {
        return None;
    }
    let improvement = state
        .store
        .improvement_of_finding(tenant_id, f.id)
        .await
        .ok()??;
    Some((
        format!("/improvements/{}", improvement.id),
        format!("IMP-{}", improvement.id),
    ))
}

/// `NC-<number>` of a nonconformity, or its id when it cannot be read.
async fn nonconformity_label(state: &AppState, tenant_id: i64, id: i64) -> String {
    match state.store.nonconformity(tenant_id, id).await {
        Ok(nc) => format!("NC-{}", nc.number),
        Err(_) => format!("nonconformity {id}"),
    }
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    id: i64,
    refused: Refused,
    status: StatusCode,
    done: Option<&str>,
) -> UiResult {
    let t = who.tenant_id();
    let a = state.store.audit(t, id).await?;
    let programme = state.store.programme(t, a.programme_id).await?;
    let people = People::of(state, who.tenant_id()).await?;
    let checklist = state.store.audit_checklist(t, id).await?;
    let open_rows = checklist.iter().filter(|r| r.result.is_open()).count();
    let rows = checklist
        .into_iter()
        .map(|r| ChecklistLine {
            results: options(
                ChecklistResult::ALL
                    .iter()
                    .map(|c| (c.as_str().to_owned(), c.label().to_owned())),
                r.result.as_str(),
            ),
            result: r.result.label(),
            result_code: r.result.as_str(),
            requirement_id: r.requirement_id,
            clause_id: r.clause_id,
            text: r.text,
            notes: r.notes,
            evidence: r.evidence,
        })
        .collect();
    let found = state
        .store
        .audit_findings(t, id, &PageRequest::default())
        .await?;
    let mut findings = Vec::with_capacity(found.items.len());
    for f in found.items {
        let raised = raised_by(state, t, &f).await;
        findings.push(FindingLine {
            raised,
            kind: f.kind.label(),
            kind_code: f.kind.as_str(),
            reference: f.requirement_id.unwrap_or(f.clause_id),
            statement: f.statement,
            evidence: f.evidence,
            by: f.recorded_by_label,
            at: when(f.created_at),
        });
    }
    let form = refused.form;
    let kinds = options(
        FindingKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), k.label().to_owned())),
        form.value("kind"),
    );
    let cat = catalogue();
    let references = super::options_after_blank(
        "— choose —",
        a.scope.iter().flat_map(|clause| {
            let c = cat.clause(clause);
            let title = c.map_or_else(String::new, |c| c.title.clone());
            std::iter::once((
                clause.clone(),
                format!("{clause} {title} (the whole clause)"),
            ))
            .chain(c.into_iter().flat_map(|c| {
                c.requirements.iter().map(|r| {
                    let text: String = r.text.chars().take(80).collect();
                    (r.id.clone(), format!("{}: {text}", r.id))
                })
            }))
        }),
        form.value("reference"),
    );
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        key: format!("AUD-{}", a.id),
        status: a.status.label(),
        programme: programme.name,
        lead: people.name(Some(a.lead_auditor_id)),
        auditors: people.names(&a.auditor_ids),
        auditees: people.names(&a.auditee_ids),
        rows,
        open_rows,
        findings,
        more_findings: found
            .next_cursor
            .map(|c| format!("/api/v1/audits/{id}/findings?cursor={c}")),
        kinds,
        references,
        can_write: who.can(Permission::SmsWrite),
        recording: a.status.recording(),
        refused: refused.which,
        form,
        history: history(state, who, "audit", id).await,
        a,
    };
    Ok((status, page).into_response())
}

/// `GET /audits/{id}`.
pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_view(
        &state,
        &who,
        id,
        Refused::none(),
        StatusCode::OK,
        q.done.as_deref(),
    )
    .await
}

/// Back to the audit page after a write, or the page again with the refusal beside the form
/// `which` (a lifecycle refusal shows on the form that asked for it).
async fn after(
    state: &AppState,
    who: &Principal,
    id: i64,
    which: &'static str,
    typed: FormState,
    saved: Result<(), StoreError>,
    anchor: &str,
) -> UiResult {
    let refusal = match saved {
        Ok(()) => {
            return Ok(Redirect::to(&format!("/audits/{id}?done=saved#{anchor}")).into_response());
        }
        Err(StoreError::Invalid(invalid)) => invalid,
        Err(StoreError::Conflict(message)) => Invalid::one(which, message),
        Err(e) => return Err(e.into()),
    };
    let refused = Refused {
        which,
        form: typed.rejected(refusal),
    };
    render_view(
        state,
        who,
        id,
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    summary: String,
    reason: String,
}

/// `POST /audits/{id}/start`.
pub async fn start(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let saved = state
        .store
        .start_audit(who.tenant_id(), id, today_utc(), &who.actor())
        .await
        .map(drop);
    after(
        &state,
        &who,
        id,
        "status",
        FormState::default(),
        saved,
        "checklist",
    )
    .await
}

/// `POST /audits/{id}/report`: needs every checklist row audited and the summary.
pub async fn report(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<StatusForm>,
) -> UiResult {
    let typed = FormState::with(&[("summary", &f.summary)]);
    let saved = state
        .store
        .report_audit(who.tenant_id(), id, &f.summary, today_utc(), &who.actor())
        .await
        .map(drop);
    after(&state, &who, id, "status", typed, saved, "status").await
}

/// `POST /audits/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let saved = state
        .store
        .close_audit(who.tenant_id(), id, &who.actor())
        .await
        .map(drop);
    after(
        &state,
        &who,
        id,
        "status",
        FormState::default(),
        saved,
        "status",
    )
    .await
}

/// `POST /audits/{id}/cancel`: needs a reason.
pub async fn cancel(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<StatusForm>,
) -> UiResult {
    let typed = FormState::with(&[("reason", &f.reason)]);
    let saved = state
        .store
        .cancel_audit(who.tenant_id(), id, &f.reason, &who.actor())
        .await
        .map(drop);
    after(&state, &who, id, "status", typed, saved, "status").await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResultForm {
    result: String,
    notes: String,
    evidence: String,
}

/// `POST /audits/{id}/checklist/{requirement_id}`: one row's result.
pub async fn record_result(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id((id, requirement_id)): Id<(i64, String)>,
    Form(f): Form<ResultForm>,
) -> UiResult {
    let typed = FormState::with(&[("requirement_id", &requirement_id)]);
    let saved = match ChecklistResult::parse(f.result.trim()) {
        None => Err(Invalid::one("checklist", "Choose a result").into()),
        Some(result) => {
            let entry = ChecklistEntry {
                result,
                notes: f.notes,
                evidence: f.evidence,
            };
            state
                .store
                .record_checklist_result(who.tenant_id(), id, &requirement_id, &entry, &who.actor())
                .await
                .map(drop)
        }
    };
    // A result for a requirement the checklist does not have names no page.
    if matches!(saved, Err(StoreError::NotFound)) {
        return Err(super::UiError::NotFound);
    }
    let saved = saved.map_err(|e| match e {
        StoreError::Invalid(invalid) => StoreError::Invalid(Invalid {
            errors: invalid
                .errors
                .into_iter()
                .map(|mut e| {
                    e.message = format!("{requirement_id}: {}", e.message);
                    e.field = "checklist".into();
                    e
                })
                .collect(),
        }),
        other => other,
    });
    let anchor = format!("row-{requirement_id}");
    after(&state, &who, id, "checklist", typed, saved, &anchor).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct FindingForm {
    kind: String,
    reference: String,
    statement: String,
    evidence: String,
}

/// `POST /audits/{id}/findings`: a nonconformity finding raises a nonconformity.
pub async fn record_finding(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<FindingForm>,
) -> UiResult {
    let typed = FormState::with(&[
        ("kind", &f.kind),
        ("reference", &f.reference),
        ("statement", &f.statement),
        ("evidence", &f.evidence),
    ]);
    let saved = match FindingKind::parse(f.kind.trim()) {
        None => Err(Invalid::one("kind", "Choose the kind of finding").into()),
        Some(kind) => {
            let draft = FindingDraft {
                kind,
                reference: f.reference,
                statement: f.statement,
                evidence: f.evidence,
            };
            state
                .store
                .record_finding(who.tenant_id(), id, &draft, &who.actor())
                .await
                .map(drop)
        }
    };
    after(&state, &who, id, "finding", typed, saved, "findings").await
}
