//! The improvement register's pages: the list with its filters, the form that raises and
//! edits an opportunity, and the opportunity's page with the steps it may take (each decision
//! with its reason, closure with the benefit realised) and every step it took.

use super::people::People;
use super::register_form::{Field, Input, Posted, Register, chosen, form, joined, picked};
use super::{Chrome, FormState, Id, ListFrame, Opt, UiResult, filter_choices, options, when};
use crate::AppState;
use crate::api::date_out;
use crate::api::improvements::draft_from;
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
use steward_domain::sms::improvement::{
    ImprovementDraft, ImprovementSource, ImprovementStatus, ImprovementStep, Priority,
};
use steward_store::Actor;
use steward_store::sms::improvement::{Improvement, ImprovementFilter};
use steward_store::{PageRequest, StoreError};

pub const NAV_HREF: &str = "/improvements";

pub struct Row {
    pub id: i64,
    pub title: String,
    pub source: &'static str,
    pub priority: &'static str,
    pub priority_code: &'static str,
    pub status: &'static str,
    pub status_code: &'static str,
    pub owner: String,
    pub target_date: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/improvements_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    statuses: Vec<Opt>,
    priorities: Vec<Opt>,
    filtered: bool,
    next: Option<String>,
    can_write: bool,
    no_errors: FormState,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    priority: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::SmsRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = ImprovementFilter {
        status: ImprovementStatus::parse(q.status.trim()),
        priority: Priority::parse(q.priority.trim()),
        source: None,
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor.clone(),
    };
    let found = match state
        .store
        .improvements(who.tenant_id(), &filter, &page)
        .await
    {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to(NAV_HREF).into_response()),
        other => other?,
    };
    let people = People::of(&state, who.tenant_id()).await?;
    let rows = found
        .items
        .into_iter()
        .map(|i| Row {
            owner: people.name(i.owner_id),
            source: i.source.label(),
            priority: i.priority.label(),
            priority_code: i.priority.as_str(),
            status: i.status.label(),
            status_code: i.status.as_str(),
            target_date: i.target_date.map(date_out).unwrap_or_default(),
            id: i.id,
            title: i.title,
        })
        .collect();
    let params = [
        ("status", q.status.as_str()),
        ("priority", q.priority.as_str()),
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
        statuses: filter_choices(
            ImprovementStatus::ALL,
            "— any status —",
            ImprovementStatus::as_str,
            ImprovementStatus::label,
            &q.status,
        ),
        priorities: filter_choices(
            Priority::ALL,
            "— any priority —",
            Priority::as_str,
            Priority::label,
            &q.priority,
        ),
        filtered: frame.filtered,
        next: frame.next,
        can_write: who.can(Permission::SmsWrite),
        no_errors: FormState::default(),
    }
    .into_response())
}

const FIELDS: [&str; 9] = [
    "title",
    "description",
    "source",
    "source_ref",
    "evaluation_criteria",
    "expected_benefit",
    "priority",
    "owner_id",
    "target_date",
];

fn fields(form: &FormState, people: &People) -> Vec<Field> {
    let pick = |all: &[(&str, &str)], name: &str| {
        options(
            all.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())),
            form.value(name),
        )
    };
    let sources: Vec<(&str, &str)> = ImprovementSource::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let priorities: Vec<(&str, &str)> = Priority::ALL
        .iter()
        .map(|p| (p.as_str(), p.label()))
        .collect();
    vec![
        Field::new("title", "Title", Input::Text).required(),
        Field::new("description", "What could be better, and why", Input::Area),
        Field::new(
            "source",
            "Where it came from",
            Input::Select(pick(&sources, "source")),
        ),
        Field::new(
            "source_ref",
            "Number of the record it came from",
            Input::Number,
        )
        .hint("The nonconformity, review or audit finding number, if there is one."),
        Field::new("evaluation_criteria", "Evaluation criteria", Input::Area)
            .hint("How it is judged: cost, effort, risk, fit with the objectives."),
        Field::new("expected_benefit", "Expected benefit", Input::Area),
        Field::new(
            "priority",
            "Priority",
            Input::Select(pick(&priorities, "priority")),
        ),
        Field::new(
            "owner_id",
            "Owner",
            Input::Select(people.options("— nobody yet —", form.value("owner_id"))),
        ),
        Field::new("target_date", "Target date", Input::Date),
    ]
}

fn draft_of(p: &Posted) -> Result<ImprovementDraft, Invalid> {
    let mut errors = Invalid::new();
    let source = chosen(
        &mut errors,
        "source",
        p.get("source"),
        ImprovementSource::parse,
    );
    let priority = chosen(&mut errors, "priority", p.get("priority"), Priority::parse);
    let source_ref = picked(&mut errors, "source_ref", p.get("source_ref"));
    let owner_id = picked(&mut errors, "owner_id", p.get("owner_id"));
    let (Some(source), Some(priority)) = (source, priority) else {
        return Err(errors);
    };
    let draft = ImprovementDraft {
        title: p.get("title").to_owned(),
        description: p.get("description").to_owned(),
        source,
        source_ref,
        evaluation_criteria: p.get("evaluation_criteria").to_owned(),
        expected_benefit: p.get("expected_benefit").to_owned(),
        priority,
        owner_id,
        target_date: None,
    };
    joined(errors, draft_from(draft, p.get("target_date")))
}

fn values_of(i: &Improvement) -> Vec<(&'static str, String)> {
    vec![
        ("title", i.title.clone()),
        ("description", i.description.clone()),
        ("source", i.source.as_str().to_owned()),
        (
            "source_ref",
            i.source_ref.map(|r| r.to_string()).unwrap_or_default(),
        ),
        ("evaluation_criteria", i.evaluation_criteria.clone()),
        ("expected_benefit", i.expected_benefit.clone()),
        ("priority", i.priority.as_str().to_owned()),
        (
            "owner_id",
            i.owner_id.map(|o| o.to_string()).unwrap_or_default(),
        ),
        (
            "target_date",
            i.target_date.map(date_out).unwrap_or_default(),
        ),
    ]
}

/// The register as `register_form` drives its form.
pub struct Improvements;

impl Register for Improvements {
    type Record = Improvement;
    type Draft = ImprovementDraft;
    const HREF: &'static str = NAV_HREF;
    const FIELDS: &'static [&'static str] = &FIELDS;
    const NEW: (&'static str, &'static str, &'static str) = (
        "Raise an opportunity for improvement",
        "Anyone's idea counts: it is proposed now, and decided on with a reason.",
        "Raise",
    );

    fn id(i: &Improvement) -> i64 {
        i.id
    }

    fn updated_at(i: &Improvement) -> i64 {
        i.updated_at
    }

    fn editing(i: &Improvement) -> (String, &'static str) {
        (format!("Edit improvement {}", i.id), "")
    }

    fn values(i: &Improvement) -> Vec<(&'static str, String)> {
        values_of(i)
    }

    fn fields(form: &FormState, people: &People) -> Vec<Field> {
        fields(form, people)
    }

    async fn load(state: &AppState, tenant_id: i64, id: i64) -> Result<Improvement, StoreError> {
        state.store.improvement(tenant_id, id).await
    }

    fn draft(posted: &Posted) -> Result<ImprovementDraft, Invalid> {
        draft_of(posted)
    }

    async fn create(
        state: &AppState,
        tenant_id: i64,
        draft: &ImprovementDraft,
        actor: &Actor,
    ) -> Result<Improvement, StoreError> {
        state
            .store
            .create_improvement(tenant_id, draft, actor)
            .await
    }

    async fn update(
        state: &AppState,
        tenant_id: i64,
        id: i64,
        seen: i64,
        draft: &ImprovementDraft,
        actor: &Actor,
    ) -> Result<Improvement, StoreError> {
        state
            .store
            .update_improvement(tenant_id, id, seen, draft, actor)
            .await
    }

    async fn page(state: &AppState, who: &Principal, id: i64, done: Option<&str>) -> UiResult {
        view_page(state, who, id, done, FormState::default(), StatusCode::OK).await
    }
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::SmsWrite>) -> UiResult {
    let blank = FormState::with(&[("priority", "medium"), ("source", "staff")]);
    form::<Improvements>(&state, &who, None, blank, None, StatusCode::OK).await
}

pub struct StepLine {
    pub at: String,
    pub step: String,
    pub to: String,
    pub note: String,
    pub by: String,
}

pub struct StepChoice {
    pub value: &'static str,
    pub label: &'static str,
    /// What the note means for this step, as its field's label.
    pub note: &'static str,
}

fn step_choice(step: ImprovementStep) -> StepChoice {
    StepChoice {
        value: step.as_str(),
        label: step.label(),
        note: match step {
            ImprovementStep::Close => "The benefit realised (required)",
            s if s.is_decision() => "The reason for the decision (required)",
            _ => "Note",
        },
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sms/improvement_view.html")]
struct ViewPage {
    chrome: Chrome,
    i: Improvement,
    status: &'static str,
    status_code: &'static str,
    source: &'static str,
    source_link: Option<String>,
    priority: &'static str,
    owner: String,
    decided_by: String,
    decided_at: String,
    target_date: String,
    steps: Vec<StepLine>,
    choices: Vec<StepChoice>,
    can_write: bool,
    form: FormState,
}

/// Where the record an opportunity came from lives, when Steward holds it.
async fn source_link(state: &AppState, tenant_id: i64, i: &Improvement) -> Option<String> {
    let id = i.source_ref?;
    match i.source {
        ImprovementSource::Nonconformity => Some(format!("/nonconformities/{id}")),
        ImprovementSource::ManagementReview => Some(format!("/management-reviews/{id}")),
        ImprovementSource::Audit => super::audits::finding_link(state, tenant_id, id)
            .await
            .map(|(href, _)| href),
        ImprovementSource::Customer => super::complaints::complaint_link(state, tenant_id, id)
            .await
            .map(|(href, _)| href),
        _ => None,
    }
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
    let i = state.store.improvement(t, id).await?;
    let people = People::of(state, t).await?;
    let steps = state
        .store
        .improvement_steps(t, id)
        .await?
        .into_iter()
        .map(|s| StepLine {
            at: when(s.at),
            step: ImprovementStep::parse(&s.step)
                .map_or(s.step.clone(), |st| st.label().to_owned()),
            to: ImprovementStatus::parse(&s.to_status)
                .map_or(s.to_status.clone(), |st| st.label().to_owned()),
            note: s.note,
            by: s.actor_label,
        })
        .collect();
    let page = ViewPage {
        chrome: Chrome::new(state, who, super::sms::NAV_HREF)
            .await
            .with_notice(done),
        status: i.status.label(),
        status_code: i.status.as_str(),
        source: i.source.label(),
        source_link: source_link(state, t, &i).await,
        priority: i.priority.label(),
        owner: people.name(i.owner_id),
        decided_by: people.name(i.decided_by),
        decided_at: i.decided_at.map(when).unwrap_or_default(),
        target_date: i.target_date.map(date_out).unwrap_or_default(),
        steps,
        choices: ImprovementStep::open_from(i.status)
            .into_iter()
            .map(step_choice)
            .collect(),
        can_write: who.can(Permission::SmsWrite),
        form,
        i,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize)]
pub struct StepForm {
    step: String,
    #[serde(default)]
    note: String,
}

pub async fn step(
    State(state): State<AppState>,
    who: Can<perm::SmsWrite>,
    Id(id): Id<i64>,
    Form(f): Form<StepForm>,
) -> UiResult {
    let refusal = match ImprovementStep::parse(f.step.trim()) {
        None => Invalid::one("step", "Choose one of the listed steps"),
        Some(step) => {
            match state
                .store
                .step_improvement(who.tenant_id(), id, step, &f.note, &who.actor())
                .await
            {
                Ok(_) => {
                    return Ok(Redirect::to(&format!("{NAV_HREF}/{id}?done=saved")).into_response());
                }
                Err(StoreError::Invalid(invalid)) => invalid,
                Err(StoreError::Conflict(message)) => Invalid::one("step", message),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let form =
        FormState::with(&[("step", f.step.as_str()), ("note", f.note.as_str())]).rejected(refusal);
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
