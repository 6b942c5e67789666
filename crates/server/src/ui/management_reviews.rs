//! Management review pages (9.3): the list, the form that plans and edits a review, and the
//! review's page with its compiled inputs as readable sections (SLA attainment as a bar per
//! month), the lifecycle's forms (hold with minutes, close with decisions, cancel with a
//! reason) and the actions it decided, with add and complete forms and overdue flags.

use super::people::People;
use super::register_form::{Field, Input, Posted, Register, form, joined, picked};
use super::{Chrome, FormState, Id, ListFrame, Opt, UiResult, filter_choices, refusal, when};
use crate::AppState;
use crate::api::date_out;
use crate::api::management_reviews::{action_draft, review_draft};
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
use steward_domain::sms::review::{ReviewInputs, ReviewStatus, ReviewStep, ValidReview};
use steward_store::Actor;
use steward_store::asset::today_utc;
use steward_store::sms::review::{ManagementReview, ReviewFilter};
use steward_store::{PageRequest, StoreError};

pub const NAV_HREF: &str = "/management-reviews";

pub struct Row {
    pub id: i64,
    pub title: String,
    pub planned_on: String,
    pub period: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub chair: String,
    pub compiled: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/reviews_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = ReviewFilter {
        status: ReviewStatus::parse(q.status.trim()),
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state
        .store
        .management_reviews(who.tenant_id(), &filter, &page)
        .await
    {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let people = People::of(&state, who.tenant_id()).await?;
    let rows = found
        .items
        .into_iter()
        .map(|r| Row {
            chair: people.name(r.chair_id),
            planned_on: date_out(r.planned_on),
            period: format!("{} – {}", date_out(r.period_from), date_out(r.period_to)),
            status: r.status.label(),
            status_code: r.status.as_str(),
            compiled: r.inputs.is_some(),
            id: r.id,
            title: r.title,
        })
        .collect();
    let params = [("status", q.status.as_str())];
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
        statuses: filter_choices(
            ReviewStatus::ALL,
            "— any status —",
            ReviewStatus::as_str,
            ReviewStatus::label,
            &q.status,
        ),
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::SmsWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

const FIELDS: [&str; 6] = [
    "title",
    "planned_on",
    "period_from",
    "period_to",
    "chair_id",
    "attendees",
];

fn fields(form: &FormState, people: &People) -> Vec<Field> {
    vec![
        Field::new("title", "Title", Input::Text).required(),
        Field::new("planned_on", "Planned date", Input::Date).required(),
        Field::new("period_from", "Period reviewed: from", Input::Date)
            .hint("Leave both empty for the twelve months before the planned date."),
        Field::new("period_to", "Period reviewed: to", Input::Date),
        Field::new(
            "chair_id",
            "Chair",
            Input::Select(people.options("— nobody yet —", form.value("chair_id"))),
        )
        .hint("Someone of top management."),
        Field::new("attendees", "Attendees", Input::Area).hint("One per line."),
    ]
}

fn draft_of(p: &Posted) -> Result<ValidReview, Invalid> {
    let mut errors = Invalid::new();
    let chair_id = picked(&mut errors, "chair_id", p.get("chair_id"));
    joined(
        errors,
        review_draft(
            p.get("title").to_owned(),
            p.get("planned_on"),
            p.get("period_from"),
            p.get("period_to"),
            chair_id,
            p.get("attendees").to_owned(),
        ),
    )
}

fn values_of(r: &ManagementReview) -> Vec<(&'static str, String)> {
    vec![
        ("title", r.title.clone()),
        ("planned_on", date_out(r.planned_on)),
        ("period_from", date_out(r.period_from)),
        ("period_to", date_out(r.period_to)),
        (
            "chair_id",
            r.chair_id.map(|o| o.to_string()).unwrap_or_default(),
        ),
        ("attendees", r.attendees.clone()),
    ]
}

/// The register as `register_form` drives its form.
pub struct Reviews;

impl Register for Reviews {
    type Record = ManagementReview;
    type Draft = ValidReview;
    const HREF: &'static str = NAV_HREF;
    const FIELDS: &'static [&'static str] = &FIELDS;
    const NEW: (&'static str, &'static str, &'static str) = (
        "Plan a management review",
        "Steward compiles the review's inputs from its records for the period when you ask; holding the review freezes them.",
        "Plan",
    );

    fn id(r: &ManagementReview) -> i64 {
        r.id
    }

    fn updated_at(r: &ManagementReview) -> i64 {
        r.updated_at
    }

    fn editing(r: &ManagementReview) -> (String, &'static str) {
        (format!("Edit review MR-{}", r.id), "")
    }

    fn values(r: &ManagementReview) -> Vec<(&'static str, String)> {
        values_of(r)
    }

    fn fields(form: &FormState, people: &People) -> Vec<Field> {
        fields(form, people)
    }

    async fn load(
        state: &AppState,
        tenant_id: i64,
        id: i64,
    ) -> Result<ManagementReview, StoreError> {
        state.store.management_review(tenant_id, id).await
    }

    fn draft(posted: &Posted) -> Result<ValidReview, Invalid> {
        draft_of(posted)
    }

    async fn create(
        state: &AppState,
        tenant_id: i64,
        draft: &ValidReview,
        actor: &Actor,
    ) -> Result<ManagementReview, StoreError> {
        state
            .store
            .create_management_review(tenant_id, draft, actor)
            .await
    }

    async fn update(
        state: &AppState,
        tenant_id: i64,
        id: i64,
        seen: i64,
        draft: &ValidReview,
        actor: &Actor,
    ) -> Result<ManagementReview, StoreError> {
        state
            .store
            .update_management_review(tenant_id, id, seen, draft, actor)
            .await
    }

    async fn page(state: &AppState, who: &Principal, id: i64, done: Option<&str>) -> UiResult {
        let blank = FormState::default;
        view_page(state, who, id, done, blank(), blank(), StatusCode::OK).await
    }
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::SmsWrite>) -> UiResult {
    form::<Reviews>(
        &state,
        &who,
        None,
        FormState::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// One month's bar of SLA attainment, on a 0–100 % scale 150 units high.
pub struct Bar {
    pub month: String,
    pub x: i64,
    pub y: i64,
    pub height: i64,
    pub label: String,
    pub good: bool,
}

/// Months at or above this attainment are drawn as met when no SLA-attainment objective
/// sets the target.
const GOOD_ATTAINMENT: f64 = 95.0;

/// The attainment the bars are held against: the objective's target, or the usual 95 %.
fn sla_target(inputs: &ReviewInputs) -> f64 {
    inputs.sla.target.unwrap_or(GOOD_ATTAINMENT)
}

/// Where a percentage sits on the chart's 150-unit scale.
fn chart_y(percent: f64) -> i64 {
    155 - (percent.clamp(0.0, 100.0) * 1.5).round() as i64
}

fn bars(inputs: &ReviewInputs) -> Vec<Bar> {
    let target = sla_target(inputs);
    inputs
        .sla
        .months
        .iter()
        .zip(0i64..)
        .map(|(m, i)| {
            let percent = m.percent.unwrap_or(0.0);
            let y = chart_y(percent);
            Bar {
                month: m.month.clone(),
                x: i * 36 + 4,
                y,
                height: 155 - y,
                label: m
                    .percent
                    .map_or_else(|| "—".to_owned(), |p| format!("{p:.1} %")),
                good: percent >= target,
            }
        })
        .collect()
}

pub struct ActionLine {
    pub id: i64,
    pub description: String,
    pub owner: String,
    pub due_on: String,
    pub overdue: bool,
    pub done: Option<String>,
    pub note: String,
}

pub struct StepChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub field: &'static str,
    pub text_label: &'static str,
}

fn step_choice(step: ReviewStep) -> StepChoice {
    let (field, text_label) = match step {
        ReviewStep::Hold => ("minutes", "Minutes of the meeting (required)"),
        ReviewStep::Close => (
            "decisions",
            "Decisions on improvement and changes (required)",
        ),
        ReviewStep::Cancel => ("reason", "Why it is cancelled (required)"),
    };
    StepChoice {
        value: step.as_str(),
        label: step.label(),
        field,
        text_label,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/review_view.html")]
struct ViewPage {
    chrome: Chrome,
    r: ManagementReview,
    status: &'static str,
    status_code: &'static str,
    chair: String,
    planned_on: String,
    period: String,
    held_at: String,
    closed_at: String,
    inputs: Option<ReviewInputs>,
    compiled_at: String,
    bars: Vec<Bar>,
    /// Where the target line is drawn, and what it is.
    target_y: i64,
    target_label: String,
    chart_width: i64,
    actions: Vec<ActionLine>,
    choices: Vec<StepChoice>,
    owners: Vec<Opt>,
    can_write: bool,
    step_form: FormState,
    action_form: FormState,
}

async fn view_page(
    state: &AppState,
    who: &Principal,
    id: i64,
    done: Option<&str>,
    step_form: FormState,
    action_form: FormState,
    status: StatusCode,
) -> UiResult {
    let t = who.tenant_id();
    let r = state.store.management_review(t, id).await?;
    let people = People::of(state, t).await?;
    let today = today_utc();
    let actions = state
        .store
        .review_actions(t, id)
        .await?
        .into_iter()
        .map(|a| ActionLine {
            overdue: a.overdue(today),
            owner: people.name(a.owner_id),
            due_on: date_out(a.due_on),
            done: a.done_on.map(date_out),
            note: a.done_note,
            id: a.id,
            description: a.description,
        })
        .collect();
    let inputs = r.inputs.clone();
    let bars = inputs.as_ref().map(bars).unwrap_or_default();
    let target = inputs.as_ref().map_or(GOOD_ATTAINMENT, sla_target);
    let page = ViewPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF)
            .await
            .with_notice(done),
        status: r.status.label(),
        status_code: r.status.as_str(),
        chair: people.name(r.chair_id),
        planned_on: date_out(r.planned_on),
        period: format!("{} – {}", date_out(r.period_from), date_out(r.period_to)),
        held_at: r.held_at.map(when).unwrap_or_default(),
        closed_at: r.closed_at.map(when).unwrap_or_default(),
        compiled_at: inputs
            .as_ref()
            .map(|i| when(i.compiled_at))
            .unwrap_or_default(),
        chart_width: (bars.len() as i64 * 36).max(36) + 8,
        target_y: chart_y(target),
        target_label: match inputs.as_ref().and_then(|i| i.sla.target) {
            Some(t) => format!("{t:.1} %, the SLA attainment objective's target"),
            None => format!("{GOOD_ATTAINMENT:.0} % (no SLA attainment objective is set)"),
        },
        bars,
        inputs,
        actions,
        choices: ReviewStep::open_from(r.status)
            .into_iter()
            .map(step_choice)
            .collect(),
        owners: people.options("— nobody yet —", action_form.value("owner_id")),
        can_write: who.can(Permission::SmsWrite),
        step_form,
        action_form,
        r,
    };
    Ok((status, page).into_response())
}

fn back_to(id: i64) -> UiResult {
    Ok(Redirect::to(&format!("{NAV_HREF}/{id}?done=saved")).into_response())
}

/// A refusal from the store as field errors of `field`'s form.
pub async fn compile(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    match state
        .store
        .compile_review_inputs(who.tenant_id(), id, &who.actor())
        .await
    {
        Ok(_) => back_to(id),
        Err(e) => {
            let form = FormState::default().rejected(refusal(e, "inputs")?);
            let empty = FormState::default();
            view_page(&state, &who, id, None, form, empty, StatusCode::CONFLICT).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StepForm {
    step: String,
    #[serde(default)]
    text: String,
    /// Holding only: the day of the meeting, when written up afterwards.
    #[serde(default)]
    held_on: String,
}

async fn take_step(
    state: &AppState,
    who: &Principal,
    id: i64,
    step: ReviewStep,
    f: &StepForm,
) -> Result<ManagementReview, StoreError> {
    let (t, actor) = (who.tenant_id(), who.actor());
    if step != ReviewStep::Hold {
        return state
            .store
            .step_management_review(t, id, step, &f.text, &actor)
            .await;
    }
    let mut errors = Invalid::new();
    let held_on = parse_date(&mut errors, "held_on", "Held on", &f.held_on);
    errors.into_result(())?;
    state
        .store
        .hold_management_review(t, id, &f.text, held_on, &actor)
        .await
}

pub async fn step(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<StepForm>,
) -> UiResult {
    let invalid = match ReviewStep::parse(f.step.trim()) {
        None => Invalid::one("step", "Choose one of the listed steps"),
        Some(step) => match take_step(&state, &who, id, step, &f).await {
            Ok(_) => return back_to(id),
            Err(e) => refusal(e, "step")?,
        },
    };
    let form = FormState::with(&[
        ("step", f.step.as_str()),
        ("text", f.text.as_str()),
        ("held_on", f.held_on.as_str()),
    ])
    .rejected(invalid);
    let empty = FormState::default();
    view_page(
        &state,
        &who,
        id,
        None,
        form,
        empty,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_on: String,
}

pub async fn add_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<ActionForm>,
) -> UiResult {
    let mut errors = Invalid::new();
    let owner_id = picked(&mut errors, "owner_id", &f.owner_id);
    let result = match joined(
        errors,
        action_draft(f.description.clone(), owner_id, &f.due_on),
    ) {
        Err(invalid) => Err(StoreError::Invalid(invalid)),
        Ok(draft) => {
            state
                .store
                .add_review_action(who.tenant_id(), id, &draft, &who.actor())
                .await
        }
    };
    let invalid = match result {
        Ok(_) => return back_to(id),
        Err(e) => refusal(e, "description")?,
    };
    let form = FormState::with(&[
        ("description", f.description.as_str()),
        ("owner_id", f.owner_id.as_str()),
        ("due_on", f.due_on.as_str()),
    ])
    .rejected(invalid);
    let empty = FormState::default();
    view_page(
        &state,
        &who,
        id,
        None,
        empty,
        form,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct CompleteForm {
    #[serde(default)]
    note: String,
}

pub async fn complete_action(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id((id, action_id)): Id<(i64, i64)>,
    Form(f): Form<CompleteForm>,
) -> UiResult {
    match state
        .store
        .complete_review_action(who.tenant_id(), id, action_id, &f.note, &who.actor())
        .await
    {
        Ok(_) => back_to(id),
        Err(e) => {
            let form = FormState::default().rejected(refusal(e, "action")?);
            let empty = FormState::default();
            view_page(
                &state,
                &who,
                id,
                None,
                empty,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
