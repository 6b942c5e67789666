//! Complaint pages (8.3.2-g/h/i): the list with its filters (open or all, customer) marking the
//! overdue, the form that records and edits a complaint, and the complaint's page with its next
//! step (each asking for what it needs), escalation once past the target date, the
//! nonconformity or improvement raised from it, its status history and escalations.

use super::people::People;
use super::register_form::{Field, FormPage, Input, Posted, chosen, joined};
use super::{
    Chrome, FormState, Id, ListFrame, Opt, UiResult, customer_names, options, options_after_blank,
    service_names, when,
};
use crate::AppState;
use crate::api::complaints::draft_with_dates;
use crate::api::date_out;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::asset::parse_date;
use steward_domain::relationship::complaint::{
    Channel, ComplaintDraft, ComplaintStatus, ComplaintStep, EscalationDraft, StepInput,
};
use steward_store::asset::today_utc;
use steward_store::relationship::complaint::{Complaint, ComplaintFilter};
use steward_store::{PageRequest, StoreError};

pub const NAV_HREF: &str = "/complaints";

pub struct Row {
    pub id: i64,
    pub key: String,
    pub summary: String,
    pub customer: String,
    pub received_on: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub owner: String,
    pub target_date: String,
    pub overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "complaints/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    states: Vec<Opt>,
    customers: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    /// `open` (default) or `all`.
    state: String,
    customer: String,
    cursor: Option<String>,
    done: Option<String>,
}

fn name_of(list: &[(i64, String)], id: i64) -> String {
    list.iter()
        .find(|(i, _)| *i == id)
        .map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = ComplaintFilter {
        open_only: q.state.trim() != "all",
        customer_id: q.customer.trim().parse().ok(),
        overdue_on: None,
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state
        .store
        .complaints(who.tenant_id(), &filter, &page)
        .await
    {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let people = People::of(&state, who.tenant_id()).await?;
    let customers = customer_names(&state, &who).await?;
    let today = today_utc();
    let rows = found
        .items
        .into_iter()
        .map(|c| Row {
            key: c.key(),
            overdue: c.overdue(today),
            customer: name_of(&customers, c.customer_id),
            received_on: date_out(c.received_on),
            status: c.status.label(),
            status_code: c.status.as_str(),
            owner: people.name(Some(c.owner_id)),
            target_date: date_out(c.target_date),
            id: c.id,
            summary: c.summary,
        })
        .collect();
    let params = [
        ("state", q.state.as_str()),
        ("customer", q.customer.as_str()),
    ];
    let frame = ListFrame::new(
        &state,
        &who,
        NAV_HREF,
        &params,
        found.next_cursor,
        q.done.as_deref(),
    )
    .await;
    Ok(ListPage {
        chrome: frame.chrome,
        rows,
        states: options(
            [
                ("open".to_owned(), "Open".to_owned()),
                ("all".to_owned(), "All".to_owned()),
            ],
            if q.state.trim() == "all" {
                "all"
            } else {
                "open"
            },
        ),
        customers: options_after_blank(
            "— any customer —",
            customers.iter().map(|(id, n)| (id.to_string(), n.clone())),
            q.customer.trim(),
        ),
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::CustomersWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

const FIELDS: [&str; 9] = [
    "customer_id",
    "service_id",
    "complainant",
    "received_on",
    "channel",
    "summary",
    "details",
    "owner_id",
    "target_date",
];

async fn fields(
    state: &AppState,
    who: &Principal,
    form: &FormState,
) -> Result<Vec<Field>, super::UiError> {
    let people = People::of(state, who.tenant_id()).await?;
    let customers = customer_names(state, who).await?;
    let services = service_names(state, who).await?;
    let ids = |list: &[(i64, String)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(i, n)| (i.to_string(), n.clone()))
            .collect()
    };
    let channels = Channel::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.label().to_owned()));
    Ok(vec![
        Field::new(
            "customer_id",
            "Customer",
            Input::Select(options_after_blank(
                "— choose —",
                ids(&customers),
                form.value("customer_id"),
            )),
        )
        .required(),
        Field::new(
            "service_id",
            "Service",
            Input::Select(options_after_blank(
                "— none in particular —",
                ids(&services),
                form.value("service_id"),
            )),
        ),
        Field::new("complainant", "Complainant", Input::Text)
            .required()
            .hint("The contact who complained, or whoever it was."),
        Field::new("received_on", "Received on", Input::Date).required(),
        Field::new(
            "channel",
            "Received by",
            Input::Select(options(channels, form.value("channel"))),
        ),
        Field::new("summary", "Summary", Input::Text).required(),
        Field::new("details", "Details", Input::Area),
        Field::new(
            "owner_id",
            "Owner",
            Input::Select(people.options("— choose —", form.value("owner_id"))),
        )
        .required(),
        Field::new("target_date", "Target date", Input::Date)
            .hint("Ten days after receipt unless you set another."),
    ])
}

/// An optional id from a select; anything but a positive number is a field error.
fn id_field(errors: &mut Invalid, field: &str, text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let id = text.parse().ok().filter(|id: &i64| *id > 0);
    if id.is_none() {
        errors.add(field, "Choose one from the list");
    }
    id
}

fn draft_of(p: &Posted) -> Result<ComplaintDraft, Invalid> {
    let mut errors = Invalid::new();
    let channel = chosen(&mut errors, "channel", p.get("channel"), Channel::parse);
    let draft = ComplaintDraft {
        customer_id: id_field(&mut errors, "customer_id", p.get("customer_id")),
        service_id: id_field(&mut errors, "service_id", p.get("service_id")),
        complainant: p.get("complainant").to_owned(),
        received_on: today_utc(),
        channel: channel.unwrap_or(Channel::Other),
        summary: p.get("summary").to_owned(),
        details: p.get("details").to_owned(),
        owner_id: id_field(&mut errors, "owner_id", p.get("owner_id")),
        target_date: None,
    };
    let draft = joined(
        errors,
        draft_with_dates(draft, p.get("received_on"), p.get("target_date")),
    )?;
    // What the store checks again: here so that every field's error shows at once.
    draft.clone().validate(today_utc()).map(|_| draft)
}

fn values_of(c: &Complaint) -> Vec<(&'static str, String)> {
    vec![
        ("customer_id", c.customer_id.to_string()),
        (
            "service_id",
            c.service_id.map(|s| s.to_string()).unwrap_or_default(),
        ),
        ("complainant", c.complainant.clone()),
        ("received_on", date_out(c.received_on)),
        ("channel", c.channel.as_str().to_owned()),
        ("summary", c.summary.clone()),
        ("details", c.details.clone()),
        ("owner_id", c.owner_id.to_string()),
        ("target_date", date_out(c.target_date)),
    ]
}

async fn form_page(
    state: &AppState,
    who: &Principal,
    editing: Option<&Complaint>,
    form: FormState,
    seen: Option<i64>,
    status: StatusCode,
) -> UiResult {
    let (heading, intro, submit, action) = match editing {
        None => (
            "Record a complaint".to_owned(),
            "Take it down as the complainant said it; it is then investigated, actioned and closed with the outcome told to them.",
            "Record",
            NAV_HREF.to_owned(),
        ),
        Some(c) => (
            format!("Edit {}", c.key()),
            "",
            "Save",
            format!("{NAV_HREF}/{}", c.id),
        ),
    };
    let page = FormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        fields: fields(state, who, &form).await?,
        heading,
        intro,
        cancel: action.clone(),
        action,
        submit,
        form,
        seen,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    customer_id: String,
}

pub async fn new_form(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Query(q): Query<NewQuery>,
) -> UiResult {
    let today = date_out(today_utc());
    let me = who.user.id.to_string();
    let blank = FormState::with(&[
        ("channel", "email"),
        ("received_on", today.as_str()),
        ("owner_id", me.as_str()),
        ("customer_id", q.customer_id.trim()),
    ]);
    form_page(&state, &who, None, blank, None, StatusCode::OK).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let c = state.store.complaint(who.tenant_id(), id).await?;
    let posted = Posted::of(values_of(&c), Some(c.updated_at));
    form_page(
        &state,
        &who,
        Some(&c),
        posted.state(),
        posted.seen,
        StatusCode::OK,
    )
    .await
}

async fn save(
    state: &AppState,
    who: &Principal,
    current: Option<&Complaint>,
    posted: &Posted,
) -> Result<i64, StoreError> {
    let draft = draft_of(posted)?;
    let (t, actor, today) = (who.tenant_id(), who.actor(), today_utc());
    let saved = match current {
        None => {
            state
                .store
                .create_complaint(t, &draft, today, &actor)
                .await?
        }
        Some(c) => {
            let seen = posted.seen.or(Some(c.updated_at));
            state
                .store
                .update_complaint(t, c.id, seen, &draft, today, &actor)
                .await?
        }
    };
    Ok(saved.id)
}

async fn save_form(
    state: &AppState,
    who: &Principal,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> UiResult {
    let current = match id {
        Some(id) => Some(state.store.complaint(who.tenant_id(), id).await?),
        None => None,
    };
    let posted = Posted::parse(pairs, &FIELDS);
    let refusal = match save(state, who, current.as_ref(), &posted).await {
        Ok(id) => return Ok(super::saved_page(NAV_HREF, id, current.is_some())),
        Err(e) => super::refusal(e, "form")?,
    };
    form_page(
        state,
        who,
        current.as_ref(),
        posted.state().rejected(refusal),
        posted.seen,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    save_form(&state, &who, None, pairs).await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    save_form(&state, &who, Some(id), pairs).await
}

pub struct HistoryLine {
    pub at: String,
    pub step: String,
    pub to: String,
    pub note: String,
    pub by: String,
}

pub struct EscalationLine {
    pub on: String,
    pub to: String,
    pub reason: String,
    pub by: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "complaints/view.html")]
struct ViewPage {
    chrome: Chrome,
    c: Complaint,
    key: String,
    status: &'static str,
    status_code: &'static str,
    channel: &'static str,
    customer: String,
    service: String,
    owner: String,
    received_on: String,
    target_date: String,
    closed_on: String,
    overdue: bool,
    next: Option<(&'static str, &'static str)>,
    today: String,
    history: Vec<HistoryLine>,
    escalations: Vec<EscalationLine>,
    nonconformity: Option<String>,
    can_write: bool,
    form: FormState,
}

async fn view_page(
    state: &AppState,
    who: &Principal,
    id: i64,
    done: Option<&str>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let c = state.store.complaint(t, id).await?;
    let people = People::of(state, t).await?;
    let customer = state
        .store
        .customer(t, c.customer_id)
        .await
        .map_or_else(|_| format!("#{}", c.customer_id), |x| x.name);
    let service = match c.service_id {
        Some(s) => state
            .store
            .service(t, s)
            .await
            .map_or_else(|_| format!("#{s}"), |x| x.name),
        None => "—".to_owned(),
    };
    let history = state
        .store
        .complaint_history(t, id)
        .await?
        .into_iter()
        .map(|h| HistoryLine {
            at: when(h.at),
            step: ComplaintStep::parse(&h.step)
                .map_or_else(|| "Recorded".to_owned(), |s| s.label().to_owned()),
            to: ComplaintStatus::parse(&h.to_status)
                .map_or(h.to_status.clone(), |s| s.label().to_owned()),
            note: h.note,
            by: h.actor_label,
        })
        .collect();
    let escalations = state
        .store
        .complaint_escalations(t, id)
        .await?
        .into_iter()
        .map(|e| EscalationLine {
            on: date_out(e.escalated_on),
            to: e.escalated_to,
            reason: e.reason,
            by: e.actor_label,
        })
        .collect();
    let nonconformity = match c.nonconformity_id {
        Some(nc) => Some(
            state
                .store
                .nonconformity(t, nc)
                .await
                .map_or_else(|_| format!("#{nc}"), |n| format!("NC-{}", n.number)),
        ),
        None => None,
    };
    let today = today_utc();
    let page = ViewPage {
        chrome: Chrome::new(state, who, NAV_HREF).await.with_notice(done),
        key: c.key(),
        status: c.status.label(),
        status_code: c.status.as_str(),
        channel: c.channel.label(),
        customer,
        service,
        owner: people.name(Some(c.owner_id)),
        received_on: date_out(c.received_on),
        target_date: date_out(c.target_date),
        closed_on: c.closed_on.map(date_out).unwrap_or_default(),
        overdue: c.overdue(today),
        next: ComplaintStep::next_from(c.status).map(|s| (s.as_str(), s.label())),
        today: date_out(today),
        history,
        escalations,
        nonconformity,
        can_write: who.can(Permission::CustomersWrite),
        form,
        c,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    Id(id): Id<i64>,
    Query(q): Query<super::session::DoneQuery>,
) -> UiResult {
    view_page(
        &state,
        &who,
        id,
        q.done.as_deref(),
        FormState::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TransitionForm {
    step: String,
    findings: String,
    action_taken: String,
    closed_on: String,
    customer_informed: String,
    outcome: String,
    note: String,
}

pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
    Form(f): Form<TransitionForm>,
) -> UiResult {
    let mut errors = Invalid::new();
    let closed_on = parse_date(&mut errors, "closed_on", "Closing date", &f.closed_on);
    let refusal = match (
        ComplaintStep::parse(f.step.trim()),
        errors.errors.is_empty(),
    ) {
        (None, _) => Invalid::one("step", "Choose the step offered"),
        (Some(_), false) => errors,
        (Some(step), true) => {
            let input = StepInput {
                findings: f.findings.clone(),
                action_taken: f.action_taken.clone(),
                closed_on,
                customer_informed: matches!(f.customer_informed.as_str(), "on" | "true" | "yes"),
                outcome: f.outcome.clone(),
                note: f.note.clone(),
            };
            match state
                .store
                .transition_complaint(who.tenant_id(), id, step, input, today_utc(), &who.actor())
                .await
            {
                Ok(_) => {
                    return Ok(Redirect::to(&format!("{NAV_HREF}/{id}?done=saved")).into_response());
                }
                Err(e) => super::refusal(e, "step")?,
            }
        }
    };
    let form = FormState::with(&[
        ("step", f.step.as_str()),
        ("findings", f.findings.as_str()),
        ("action_taken", f.action_taken.as_str()),
        ("closed_on", f.closed_on.as_str()),
        ("customer_informed", f.customer_informed.as_str()),
        ("outcome", f.outcome.as_str()),
        ("note", f.note.as_str()),
    ])
    .rejected(refusal);
    view_page(
        &state,
        &who,
        id,
        None,
        form,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct EscalateForm {
    escalated_to: String,
    reason: String,
}

pub async fn escalate(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
    Form(f): Form<EscalateForm>,
) -> UiResult {
    let draft = EscalationDraft {
        escalated_to: f.escalated_to.clone(),
        reason: f.reason.clone(),
    };
    let refusal = match state
        .store
        .escalate_complaint(who.tenant_id(), id, &draft, today_utc(), &who.actor())
        .await
    {
        Ok(_) => return Ok(Redirect::to(&format!("{NAV_HREF}/{id}?done=saved")).into_response()),
        Err(e) => super::refusal(e, "escalated_to")?,
    };
    let form = FormState::with(&[
        ("escalated_to", f.escalated_to.as_str()),
        ("reason", f.reason.as_str()),
    ])
    .rejected(refusal);
    view_page(
        &state,
        &who,
        id,
        None,
        form,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// Raises a nonconformity from the complaint and goes to it.
pub async fn raise_nonconformity(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    match state
        .store
        .raise_nonconformity_from_complaint(who.tenant_id(), id, &who.actor())
        .await
    {
        Ok(c) => Ok(Redirect::to(&format!(
            "/nonconformities/{}",
            c.nonconformity_id.unwrap_or_default()
        ))
        .into_response()),
        Err(e) => {
            let refusal = super::refusal(e, "link")?;
            view_page(
                &state,
                &who,
                id,
                None,
                FormState::default().rejected(refusal),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

/// Proposes an improvement from the complaint and goes to it.
pub async fn propose_improvement(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    match state
        .store
        .propose_improvement_from_complaint(who.tenant_id(), id, &who.actor())
        .await
    {
        Ok(c) => Ok(Redirect::to(&format!(
            "/improvements/{}",
            c.improvement_id.unwrap_or_default()
        ))
        .into_response()),
        Err(e) => {
            let refusal = super::refusal(e, "link")?;
            view_page(
                &state,
                &who,
                id,
                None,
                FormState::default().rejected(refusal),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

/// Where a nonconformity or improvement raised from complaint `id` points back to.
pub async fn complaint_link(state: &AppState, tenant_id: i64, id: i64) -> Option<(String, String)> {
    let c = state.store.complaint(tenant_id, id).await.ok()?;
    Some((
        format!("{NAV_HREF}/{id}"),
        format!("Complaint {}: {}", c.key(), c.summary),
    ))
}

/// The complaint that raised nonconformity `nc_id`, as `(href, label)`.
pub async fn raised_nonconformity_link(
    state: &AppState,
    tenant_id: i64,
    nc_id: i64,
) -> Option<(String, String)> {
    let c = state
        .store
        .complaint_of_nonconformity(tenant_id, nc_id)
        .await
        .ok()??;
    Some((
        format!("{NAV_HREF}/{}", c.id),
        format!("Complaint {}: {}", c.key(), c.summary),
    ))
}
