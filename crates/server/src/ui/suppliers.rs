//! The supplier register's pages (ISO/IEC 20000-1 8.3.4): `/suppliers`, a list with filters and
//! the markers that need attention, and `/suppliers/{id}`, one page with everything about a
//! supplier: its details and evaluation, contract versions (approve, review, add), the linked
//! underpinning contracts with their attainment, performance reviews and disputes. Each form
//! is read into the same domain draft the API uses; a refusal shows the page again with the
//! message beside the form and what was typed kept.

use super::people::People;
use super::{
    Chrome, FormState, Id, Opt, UiResult, next_link, options, options_after_blank, refusal,
    saved_page, service_names, ticked_options,
};
use crate::AppState;
use crate::api::suppliers::{ContractFields, ReviewFields, current_id, last_year, next_review_due};
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::asset::{parse_date, required_date_alone};
use steward_domain::sla::AgreementKind;
use steward_domain::supplier::contract::{ContractReviewDraft, ContractStatus};
use steward_domain::supplier::dispute::{DisputeDraft, DisputeStep, StepInput, overdue};
use steward_domain::supplier::evidence::Flag;
use steward_domain::supplier::review::Rating;
use steward_domain::supplier::{EvaluationResult, SupplierDraft, SupplierKind, SupplierStatus};
use steward_store::asset::today_utc;
use steward_store::supplier::{Supplier, SupplierFilter};
use steward_store::{PageRequest, StoreError};

pub const HREF: &str = "/suppliers";

/// A marker as the pages show it.
pub struct FlagView {
    pub text: String,
    pub overdue: bool,
}

fn flag_views(kind: SupplierKind, flags: &[Flag]) -> Vec<FlagView> {
    flags
        .iter()
        .map(|f| FlagView {
            text: f.text(kind),
            overdue: f.overdue(),
        })
        .collect()
}

fn status_class(status: SupplierStatus) -> &'static str {
    match status {
        SupplierStatus::Active => "status-active",
        SupplierStatus::Ended => "status-retired",
    }
}

pub struct Row {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub supplies: String,
    pub owner: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub flags: Vec<FlagView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "suppliers/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub rows: Vec<Row>,
    pub can_write: bool,
    pub q: String,
    pub kinds: Vec<Opt>,
    pub statuses: Vec<Opt>,
    pub owners: Vec<Opt>,
    pub filtered: bool,
    pub next: Option<String>,
    pub blank: FormState,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub owner_id: String,
    pub cursor: Option<String>,
    pub done: Option<String>,
}

fn kind_choices() -> Vec<(String, String)> {
    SupplierKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), k.label().to_owned()))
        .collect()
}

fn status_choices() -> Vec<(String, String)> {
    SupplierStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SuppliersRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let people = People::of(&state, t).await?;
    let filter = SupplierFilter {
        q: Some(q.q.clone()).filter(|w| !w.trim().is_empty()),
        kind: SupplierKind::parse(&q.kind),
        status: SupplierStatus::parse(&q.status),
        owner_id: q.owner_id.parse().ok(),
    };
    let mut page = PageRequest {
        limit: None,
        cursor: q.cursor.clone(),
    };
    let found = match state.store.suppliers(t, &filter, &page).await {
        Err(StoreError::Invalid(_)) => {
            page.cursor = None;
            state.store.suppliers(t, &filter, &page).await?
        }
        other => other?,
    };
    let flags = state.store.supplier_flags(t, today_utc()).await?;
    let rows = found
        .items
        .into_iter()
        .map(|s| Row {
            flags: flag_views(s.kind, flags.get(&s.id).map_or(&[][..], Vec::as_slice)),
            owner: people.name(s.owner_id),
            kind: s.kind.label(),
            status: s.status.label(),
            status_class: status_class(s.status),
            id: s.id,
            name: s.name,
            supplies: s.supplies,
        })
        .collect();
    let filters = [
        ("q", q.q.as_str()),
        ("kind", q.kind.as_str()),
        ("status", q.status.as_str()),
        ("owner_id", q.owner_id.as_str()),
    ];
    Ok(ListPage {
        chrome: Chrome::new(&state, &who, HREF)
            .await
            .with_notice(q.done.as_deref()),
        rows,
        can_write: who.can(Permission::SuppliersWrite),
        filtered: filters.iter().any(|(_, v)| !v.trim().is_empty()),
        next: next_link(HREF, &filters, found.next_cursor),
        kinds: options_after_blank("Any kind", kind_choices(), &q.kind),
        statuses: options_after_blank("Any status", status_choices(), &q.status),
        owners: people.options("Anyone", &q.owner_id),
        blank: FormState::default(),
        q: q.q,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "suppliers/form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub heading: String,
    pub action: String,
    pub cancel: String,
    pub form: FormState,
    pub seen: Option<i64>,
    pub kinds: Vec<Opt>,
    pub statuses: Vec<Opt>,
    pub owners: Vec<Opt>,
    pub evaluators: Vec<Opt>,
    pub results: Vec<Opt>,
    pub services: Vec<Opt>,
}

/// The supplier form's fields as posted, kept as text (services comma-separated).
fn kept(pairs: &[(String, String)]) -> (HashMap<String, String>, Vec<String>, Option<i64>) {
    let mut fields = HashMap::new();
    let mut services = Vec::new();
    let mut seen = None;
    for (k, v) in pairs {
        match k.as_str() {
            "service_ids" => services.push(v.clone()),
            "updated_at" => seen = v.trim().parse().ok(),
            "_csrf" => {}
            _ => {
                fields.insert(k.clone(), v.clone());
            }
        }
    }
    (fields, services, seen)
}

/// Reads the supplier form into the draft the API would check, with the same checks.
fn supplier_draft(
    fields: &HashMap<String, String>,
    services: &[String],
) -> Result<SupplierDraft, Invalid> {
    let get = |k: &str| fields.get(k).map_or("", String::as_str);
    let mut errors = Invalid::new();
    let kind = SupplierKind::parse(get("kind"));
    if kind.is_none() {
        errors.add("kind", "Choose the kind of supplier");
    }
    let status = SupplierStatus::parse(get("status")).unwrap_or(SupplierStatus::Active);
    let person = |errors: &mut Invalid, field: &str| {
        let text = get(field).trim();
        if text.is_empty() {
            return None;
        }
        let id = text.parse().ok().filter(|id: &i64| *id > 0);
        if id.is_none() {
            errors.add(field, "Choose someone from the list");
        }
        id
    };
    let owner_id = person(&mut errors, "owner_id");
    let evaluator_id = person(&mut errors, "evaluator_id");
    let evaluation_result = match get("evaluation_result") {
        "" => None,
        text => {
            let r = EvaluationResult::parse(text);
            if r.is_none() {
                errors.add("evaluation_result", "Choose approved or rejected");
            }
            r
        }
    };
    let evaluated_on = parse_date(
        &mut errors,
        "evaluated_on",
        "The evaluation date",
        get("evaluated_on"),
    );
    let mut service_ids = Vec::new();
    for s in services.iter().filter(|s| !s.trim().is_empty()) {
        match s.trim().parse::<i64>() {
            Ok(id) => service_ids.push(id),
            Err(_) => errors.add("service_ids", "Choose services from the list"),
        }
    }
    let Some(kind) = kind else {
        return Err(errors);
    };
    let draft = SupplierDraft {
        name: get("name").to_owned(),
        kind,
        supplies: get("supplies").to_owned(),
        owner_id,
        contacts: get("contacts").to_owned(),
        escalation: get("escalation").to_owned(),
        status,
        service_ids,
        evaluation_criteria: get("evaluation_criteria").to_owned(),
        evaluation_result,
        evaluated_on,
        evaluator_id,
    };
    crate::api::suppliers::merge(errors, draft.validate(today_utc()))
}

async fn form_page(
    state: &AppState,
    who: &Principal,
    editing: Option<&Supplier>,
    form: FormState,
    seen: Option<i64>,
    status: StatusCode,
) -> UiResult {
    let people = People::of(state, who.tenant_id()).await?;
    let services = service_names(state, who).await?;
    let (heading, action) = match editing {
        None => ("New supplier".to_owned(), HREF.to_owned()),
        Some(s) => (format!("Edit {}", s.name), format!("{HREF}/{}", s.id)),
    };
    let result_choices = EvaluationResult::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), r.label().to_owned()));
    Ok((
        status,
        FormPage {
            chrome: Chrome::new(state, who, HREF).await,
            kinds: options(kind_choices(), form.value("kind")),
            statuses: options(status_choices(), form.value("status")),
            owners: people.options("Choose the owner", form.value("owner_id")),
            evaluators: people.options("Not evaluated yet", form.value("evaluator_id")),
            results: options_after_blank(
                "Not evaluated yet",
                result_choices,
                form.value("evaluation_result"),
            ),
            services: ticked_options(&services, form.value("service_ids")),
            cancel: action.clone(),
            heading,
            action,
            form,
            seen,
        },
    )
        .into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::SuppliersWrite>) -> UiResult {
    let form = FormState::with(&[("kind", "external"), ("status", "active")]);
    form_page(&state, &who, None, form, None, StatusCode::OK).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let s = state.store.supplier(who.tenant_id(), id).await?;
    let date = |d: Option<jiff::civil::Date>| d.map(crate::api::date_out).unwrap_or_default();
    let id_text = |i: Option<i64>| i.map(|i| i.to_string()).unwrap_or_default();
    let mut fields = HashMap::new();
    for (k, v) in [
        ("name", s.name.clone()),
        ("kind", s.kind.as_str().to_owned()),
        ("supplies", s.supplies.clone()),
        ("owner_id", id_text(s.owner_id)),
        ("contacts", s.contacts.clone()),
        ("escalation", s.escalation.clone()),
        ("status", s.status.as_str().to_owned()),
        ("evaluation_criteria", s.evaluation_criteria.clone()),
        (
            "evaluation_result",
            s.evaluation_result
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
        ),
        ("evaluated_on", date(s.evaluated_on)),
        ("evaluator_id", id_text(s.evaluator_id)),
    ] {
        fields.insert(k.to_owned(), v);
    }
    let services: Vec<String> = s.service_ids.iter().map(i64::to_string).collect();
    let form = FormState::with_services(&fields, &services);
    form_page(
        &state,
        &who,
        Some(&s),
        form,
        Some(s.updated_at),
        StatusCode::OK,
    )
    .await
}

async fn save(
    state: &AppState,
    who: &Principal,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> UiResult {
    let current = match id {
        Some(id) => Some(state.store.supplier(who.tenant_id(), id).await?),
        None => None,
    };
    let (fields, services, seen) = kept(&pairs);
    let saved = match supplier_draft(&fields, &services) {
        Err(invalid) => Err(StoreError::Invalid(invalid)),
        Ok(draft) => match &current {
            None => {
                state
                    .store
                    .create_supplier(who.tenant_id(), &draft, &who.actor())
                    .await
            }
            Some(s) => {
                state
                    .store
                    .update_supplier(
                        who.tenant_id(),
                        s.id,
                        seen.unwrap_or(s.updated_at),
                        &draft,
                        &who.actor(),
                    )
                    .await
            }
        },
    };
    let refused = match saved {
        Ok(s) => return Ok(saved_page(HREF, s.id, current.is_some())),
        Err(e) => refusal(e, "form")?,
    };
    let form = FormState::with_services(&fields, &services).rejected(refused);
    form_page(
        state,
        who,
        current.as_ref(),
        form,
        seen,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    save(&state, &who, None, pairs).await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id(id): Id<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    save(&state, &who, Some(id), pairs).await
}

pub struct ContractView {
    pub id: i64,
    pub version: i64,
    pub reference: String,
    pub scope: String,
    pub requirements: String,
    pub obligations: String,
    pub responsibilities: String,
    pub starts_on: String,
    pub ends_on: String,
    pub review_months: i64,
    pub impact: String,
    pub draft: bool,
    pub status: &'static str,
    pub approved: String,
    pub reviewed_on: String,
    pub review_due: String,
    pub review_overdue: bool,
    pub current: bool,
}

pub struct ContractReviewView {
    pub version: i64,
    pub reviewed_on: String,
    pub still_fits: bool,
    pub notes: String,
    pub by: String,
}

pub struct ReviewView {
    pub held_on: String,
    pub period: String,
    pub rating: &'static str,
    pub rating_class: &'static str,
    pub targets_missed: String,
    pub notes: String,
    pub improvement_id: Option<i64>,
    pub by: String,
}

pub struct DisputeView {
    pub id: i64,
    pub raised_on: String,
    pub subject: String,
    pub details: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub escalated_to: String,
    pub escalation_reason: String,
    pub resolution: String,
    pub overdue: bool,
    pub steps: Vec<(String, String)>,
    pub history: Vec<String>,
}

pub struct UcView {
    pub agreement_id: i64,
    pub name: String,
    pub met: i64,
    pub total: i64,
    pub percent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "suppliers/view.html")]
pub struct ViewPage {
    pub chrome: Chrome,
    pub s: Supplier,
    pub kind: &'static str,
    pub terms: &'static str,
    pub status: &'static str,
    pub status_class: &'static str,
    pub owner: String,
    pub evaluator: String,
    pub evaluation_result: &'static str,
    pub evaluated_on: String,
    pub services: String,
    pub flags: Vec<FlagView>,
    pub can_write: bool,
    pub today: String,
    pub contracts: Vec<ContractView>,
    pub contract_reviews: Vec<ContractReviewView>,
    pub reviews: Vec<ReviewView>,
    pub next_review_due: String,
    pub disputes: Vec<DisputeView>,
    pub ucs: Vec<UcView>,
    pub uc_choices: Vec<Opt>,
    pub ratings: Vec<Opt>,
    /// The form that was refused, by its name (`contract`, `review`, `dispute`, `ucs`,
    /// `approve-<id>`, `creview-<id>`, `step-<id>`), with what was typed.
    pub refused: Option<(String, FormState)>,
    pub blank: FormState,
}

impl ViewPage {
    /// The state of the form named `name`: as refused, or blank.
    pub fn form(&self, name: &str) -> &FormState {
        match &self.refused {
            Some((which, form)) if which == name => form,
            _ => &self.blank,
        }
    }

    /// The state of the per-row form `name-id`.
    pub fn row_form(&self, name: &str, id: &i64) -> &FormState {
        self.form(&format!("{name}-{id}"))
    }
}

fn rating_class(r: Rating) -> &'static str {
    match r {
        Rating::Meets => "status-active",
        Rating::PartlyMeets => "expiry-soon",
        Rating::Fails => "expiry-past",
    }
}

/// The supplier's page, with the refused form (if any) shown again.
async fn page(
    state: &AppState,
    who: &Principal,
    id: i64,
    done: Option<&str>,
    refused: Option<(String, FormState)>,
) -> UiResult {
    let t = who.tenant_id();
    let s = state.store.supplier(t, id).await?;
    let people = People::of(state, t).await?;
    let today = today_utc();
    let contracts = state.store.supplier_contracts(t, id).await?;
    let current = current_id(&contracts);
    let reviews = state.store.supplier_reviews(t, id).await?;
    let next_due = next_review_due(&contracts, &reviews);
    let versions: HashMap<i64, i64> = contracts.iter().map(|c| (c.id, c.version)).collect();
    let contract_reviews = state
        .store
        .supplier_contract_reviews(t, id)
        .await?
        .into_iter()
        .map(|r| ContractReviewView {
            version: versions.get(&r.contract_id).copied().unwrap_or_default(),
            reviewed_on: crate::api::date_out(r.reviewed_on),
            still_fits: r.still_fits,
            notes: r.notes,
            by: people.name(r.reviewed_by),
        })
        .collect();
    let date = |d: Option<jiff::civil::Date>| d.map(crate::api::date_out).unwrap_or_default();
    let contract_views = contracts
        .into_iter()
        .map(|c| {
            let due = c.facts().review_due();
            ContractView {
                current: current == Some(c.id),
                draft: c.status == ContractStatus::Draft,
                status: c.status.label(),
                approved: match (c.approved_on, c.approved_by) {
                    (Some(on), by) => {
                        format!("{} by {}", crate::api::date_out(on), people.name(by))
                    }
                    _ => String::new(),
                },
                reviewed_on: date(c.reviewed_on),
                review_due: crate::api::date_out(due),
                review_overdue: c.status == ContractStatus::Approved && due < today,
                starts_on: crate::api::date_out(c.starts_on),
                ends_on: date(c.ends_on),
                id: c.id,
                version: c.version,
                reference: c.reference,
                scope: c.scope,
                requirements: c.requirements,
                obligations: c.obligations,
                responsibilities: c.responsibilities,
                review_months: c.review_months,
                impact: c.impact,
            }
        })
        .collect();
    let review_views = reviews
        .into_iter()
        .map(|r| ReviewView {
            held_on: crate::api::date_out(r.held_on),
            period: format!(
                "{} to {}",
                crate::api::date_out(r.period_from),
                crate::api::date_out(r.period_to)
            ),
            rating: r.rating.label(),
            rating_class: rating_class(r.rating),
            targets_missed: r.targets_missed,
            notes: r.notes,
            improvement_id: r.improvement_id,
            by: people.name(r.reviewed_by),
        })
        .collect();
    let mut history: HashMap<i64, Vec<String>> = HashMap::new();
    for step in state.store.supplier_dispute_steps(t, id).await? {
        history.entry(step.dispute_id).or_default().push(format!(
            "{}: {} → {} by {}{}",
            super::when(step.at),
            step.from_state,
            step.to_state,
            step.actor_label,
            if step.note.is_empty() {
                String::new()
            } else {
                format!(" — {}", step.note)
            }
        ));
    }
    let disputes = state
        .store
        .supplier_disputes(t, id)
        .await?
        .into_iter()
        .map(|d| DisputeView {
            overdue: overdue(d.state, d.raised_on, today),
            steps: DisputeStep::open_from(d.state)
                .into_iter()
                .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
                .collect(),
            history: history.remove(&d.id).unwrap_or_default(),
            state: d.state.label(),
            state_class: if d.state.unsettled() {
                "expiry-soon"
            } else {
                "status-active"
            },
            raised_on: crate::api::date_out(d.raised_on),
            id: d.id,
            subject: d.subject,
            details: d.details,
            escalated_to: d.escalated_to,
            escalation_reason: d.escalation_reason,
            resolution: d.resolution,
        })
        .collect();
    let (from, to) = last_year();
    let ucs = state
        .store
        .supplier_uc_attainment(t, &s, from, to)
        .await?
        .into_iter()
        .map(|u| UcView {
            agreement_id: u.agreement_id,
            name: u.name,
            met: u.met,
            total: u.total,
            percent: u.percent.map_or("—".to_owned(), |p| format!("{p:.1} %")),
        })
        .collect();
    let uc_choices = state
        .store
        .agreements(t)
        .await?
        .into_iter()
        .filter(|a| a.draft.kind == AgreementKind::Uc)
        .map(|a| Opt {
            selected: s.uc_agreement_ids.contains(&a.id),
            value: a.id.to_string(),
            label: if a.draft.supplier.is_empty() {
                a.draft.name
            } else {
                format!("{} ({})", a.draft.name, a.draft.supplier)
            },
        })
        .collect();
    let flags = state.store.supplier_flags(t, today).await?;
    let service_list = service_names(state, who).await?;
    let services = s
        .service_ids
        .iter()
        .map(|id| {
            service_list
                .iter()
                .find(|(sid, _)| sid == id)
                .map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
        })
        .collect::<Vec<_>>();
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ViewPage {
        chrome: Chrome::new(state, who, HREF).await.with_notice(done),
        kind: s.kind.label(),
        terms: s.kind.terms_word(),
        status: s.status.label(),
        status_class: status_class(s.status),
        owner: people.name(s.owner_id),
        evaluator: people.name(s.evaluator_id),
        evaluation_result: s.evaluation_result.map_or("", EvaluationResult::label),
        evaluated_on: date(s.evaluated_on),
        services: if services.is_empty() {
            "—".to_owned()
        } else {
            services.join(", ")
        },
        flags: flag_views(s.kind, flags.get(&id).map_or(&[][..], Vec::as_slice)),
        can_write: who.can(Permission::SuppliersWrite),
        today: crate::api::date_out(today),
        contracts: contract_views,
        contract_reviews,
        reviews: review_views,
        next_review_due: date(next_due),
        disputes,
        ucs,
        uc_choices,
        ratings: options(
            Rating::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), r.label().to_owned())),
            refused
                .as_ref()
                .filter(|(w, _)| w == "review")
                .map_or("meets", |(_, f)| f.value("rating")),
        ),
        refused,
        blank: FormState::with(&[]),
        s,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::SuppliersRead>,
    Id(id): Id<i64>,
    Query(q): Query<super::session::DoneQuery>,
) -> UiResult {
    page(&state, &who, id, q.done.as_deref(), None).await
}

/// The end of a sub-form's save: back to the supplier's page with a notice, or the page again
/// with the refusal beside the form named `name` and what was typed.
async fn finish_sub(
    state: &AppState,
    who: &Principal,
    id: i64,
    name: String,
    pairs: &[(String, String)],
    outcome: Result<(), StoreError>,
) -> UiResult {
    let refused = match outcome {
        Ok(()) => {
            return Ok(Redirect::to(&format!("{HREF}/{id}?done=saved")).into_response());
        }
        Err(e) => refusal(e, "form")?,
    };
    let values: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let form = FormState::with(&values).rejected(refused);
    page(state, who, id, None, Some((name, form))).await
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

pub async fn add_contract(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id(id): Id<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    let f = |n| field(&pairs, n).to_owned();
    let mut errors = Invalid::new();
    let months = match field(&pairs, "review_months").trim() {
        "" => None,
        text => {
            let n = text.parse::<i64>().ok();
            if n.is_none() {
                errors.add(
                    "review_months",
                    "The review interval must be a whole number of months",
                );
            }
            n
        }
    };
    let outcome = async {
        let draft = ContractFields {
            reference: f("reference"),
            scope: f("scope"),
            requirements: f("requirements"),
            obligations: f("obligations"),
            responsibilities: f("responsibilities"),
            starts_on: f("starts_on"),
            ends_on: f("ends_on"),
            review_months: months,
            impact: f("impact"),
        }
        .draft();
        let draft = crate::api::suppliers::merge(errors, draft)?;
        state
            .store
            .create_supplier_contract(who.tenant_id(), id, draft, &who.actor())
            .await
            .map(|_| ())
    }
    .await;
    finish_sub(&state, &who, id, "contract".into(), &pairs, outcome).await
}

pub async fn approve_contract(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id((id, contract_id)): Id<(i64, i64)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    let today = today_utc();
    let outcome = async {
        let on = required_date_alone(
            "approved_on",
            "The approval date",
            field(&pairs, "approved_on"),
        )?;
        state
            .store
            .approve_supplier_contract(who.tenant_id(), id, contract_id, on, today, &who.actor())
            .await
            .map(|_| ())
    }
    .await;
    let name = format!("approve-{contract_id}");
    finish_sub(&state, &who, id, name, &pairs, outcome).await
}

pub async fn review_contract(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id((id, contract_id)): Id<(i64, i64)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    let today = today_utc();
    let outcome = async {
        let on = required_date_alone(
            "reviewed_on",
            "The review date",
            field(&pairs, "reviewed_on"),
        )?;
        let draft = ContractReviewDraft {
            reviewed_on: on,
            still_fits: field(&pairs, "still_fits") != "no",
            notes: field(&pairs, "notes").to_owned(),
        };
        state
            .store
            .review_supplier_contract(who.tenant_id(), id, contract_id, draft, today, &who.actor())
            .await
            .map(|_| ())
    }
    .await;
    let name = format!("creview-{contract_id}");
    finish_sub(&state, &who, id, name, &pairs, outcome).await
}

pub async fn add_review(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id(id): Id<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    let outcome = async {
        let mut errors = Invalid::new();
        let rating = Rating::parse(field(&pairs, "rating"));
        if rating.is_none() {
            errors.add("rating", "Choose a rating");
        }
        let improvement_id = match field(&pairs, "improvement_id").trim() {
            "" => None,
            text => {
                let n = text
                    .trim_start_matches('#')
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0);
                if n.is_none() {
                    errors.add("improvement", "Give the improvement's number, such as 12");
                }
                n
            }
        };
        let Some(rating) = rating else {
            return Err(errors.into());
        };
        let draft = ReviewFields {
            held_on: field(&pairs, "held_on").to_owned(),
            period_from: field(&pairs, "period_from").to_owned(),
            period_to: field(&pairs, "period_to").to_owned(),
            rating,
            targets_missed: field(&pairs, "targets_missed").to_owned(),
            notes: field(&pairs, "notes").to_owned(),
            improvement_id,
            raise_improvement: field(&pairs, "raise_improvement") == "yes",
        }
        .draft();
        let draft = crate::api::suppliers::merge(errors, draft)?;
        state
            .store
            .create_supplier_review(who.tenant_id(), id, draft, today_utc(), &who.actor())
            .await
            .map(|_| ())
    }
    .await;
    finish_sub(&state, &who, id, "review".into(), &pairs, outcome).await
}

pub async fn add_dispute(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id(id): Id<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    let today = today_utc();
    let outcome = async {
        let raised_on =
            required_date_alone("raised_on", "The date raised", field(&pairs, "raised_on"))?;
        let draft = DisputeDraft {
            raised_on,
            subject: field(&pairs, "subject").to_owned(),
            details: field(&pairs, "details").to_owned(),
        };
        state
            .store
            .create_supplier_dispute(who.tenant_id(), id, draft, today, &who.actor())
            .await
            .map(|_| ())
    }
    .await;
    finish_sub(&state, &who, id, "dispute".into(), &pairs, outcome).await
}

pub async fn step_dispute(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id((id, dispute_id)): Id<(i64, i64)>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    let outcome = async {
        let Some(step) = DisputeStep::parse(field(&pairs, "step")) else {
            return Err(Invalid::one("step", "Choose escalate, resolve or close").into());
        };
        let input = StepInput {
            escalated_to: field(&pairs, "escalated_to").to_owned(),
            note: field(&pairs, "note").to_owned(),
        };
        state
            .store
            .step_supplier_dispute(who.tenant_id(), id, dispute_id, step, input, &who.actor())
            .await
            .map(|_| ())
    }
    .await;
    let name = format!("step-{dispute_id}");
    finish_sub(&state, &who, id, name, &pairs, outcome).await
}

pub async fn set_ucs(
    State(state): State<AppState>,
    who: Can<perm::SuppliersWrite>,
    Id(id): Id<i64>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> UiResult {
    let outcome = async {
        let mut ids = Vec::new();
        for (k, v) in &pairs {
            if k == "agreement_ids" && !v.trim().is_empty() {
                match v.trim().parse::<i64>() {
                    Ok(n) => ids.push(n),
                    Err(_) => {
                        return Err(Invalid::one(
                            "agreement_ids",
                            "Choose agreements from the list",
                        )
                        .into());
                    }
                }
            }
        }
        state
            .store
            .set_supplier_ucs(who.tenant_id(), id, &ids, &who.actor())
            .await
            .map(|_| ())
    }
    .await;
    finish_sub(&state, &who, id, "ucs".into(), &pairs, outcome).await
}
