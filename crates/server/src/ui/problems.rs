//! Problem management pages, known errors, and the links panel shared with incidents.

use super::list_filters::{FilterBar, ListFilters};
use super::requests::FieldView;
use super::{Chrome, FormState, Opt, UiError, UiResult, classify, next_link, options};
use crate::AppState;
use crate::api::problems::{
    LinkCreate, LinkOut, ProblemCreate, ProblemPatch, add_link, change_problem, find_problem,
    links_of, open_problem,
};
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::incident::Level;
use steward_domain::problem::{LinkKind, ProblemStatus, RecordKind};
use steward_store::PageRequest;
use steward_store::problem::{Problem, ProblemFilter};

/// One line of a record's links panel.
pub struct LinkRow {
    pub relation: &'static str,
    pub key: String,
    pub title: String,
    pub href: String,
}

/// How a link reads from the record being viewed.
fn relation(kind: LinkKind, outgoing: bool) -> &'static str {
    match (kind, outgoing) {
        (LinkKind::Related, _) => "related to",
        (LinkKind::ParentOf, true) => "parent of",
        (LinkKind::ParentOf, false) => "child of",
        (LinkKind::DuplicateOf, true) => "duplicate of",
        (LinkKind::DuplicateOf, false) => "duplicated by",
        (LinkKind::CausedBy, true) => "caused by",
        (LinkKind::CausedBy, false) => "causes",
    }
}

/// The rows of a record's links panel.
pub async fn link_rows(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
) -> Result<Vec<LinkRow>, UiError> {
    let links: Vec<LinkOut> = links_of(state, who, kind, key).await?;
    Ok(links
        .into_iter()
        .map(|l| {
            let outgoing = l.source.eq_ignore_ascii_case(key);
            let other = if outgoing { l.target } else { l.source };
            let href = match RecordKind::parse_key(&other) {
                Some((RecordKind::Problem, _)) => format!("/problems/{other}"),
                _ => format!("/incidents/{other}"),
            };
            LinkRow {
                relation: relation(l.kind, outgoing),
                key: other,
                title: l.title,
                href,
            }
        })
        .collect())
}

pub fn link_kinds(current: &str) -> Vec<Opt> {
    let choices = [
        ("related", "related to"),
        ("caused_by", "caused by (a problem)"),
        ("parent_of", "parent of"),
        ("duplicate_of", "duplicate of (merge into)"),
    ];
    options(
        choices
            .into_iter()
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
        current,
    )
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    pub kind: String,
    pub target: String,
}

/// Adds a link from the form on a record page; errors come back as field messages.
pub async fn link_from_form(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    key: &str,
    form: &LinkForm,
) -> Result<(), Result<FormState, UiError>> {
    let values = FormState::with(&[("kind", &form.kind), ("target", &form.target)]);
    let Some(link_kind) = LinkKind::parse(&form.kind) else {
        return Err(Ok(
            values.rejected(Invalid::one("kind", "Choose a link type"))
        ));
    };
    let body = LinkCreate {
        kind: link_kind,
        target: form.target.trim().to_owned(),
    };
    match add_link(state, who, kind, key, body).await {
        Ok(()) => Ok(()),
        Err(e) => {
            let Some(invalid) = e.refusal("target") else {
                return Err(Err(e.into()));
            };
            Err(Ok(values.rejected(invalid)))
        }
    }
}

pub struct Row {
    pub key: String,
    pub priority: String,
    pub title: String,
    pub service: String,
    pub status: &'static str,
    pub known_error: String,
}

pub struct CandidateRow {
    pub service_id: i64,
    pub service: String,
    pub incidents: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "problems_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    candidates: Vec<CandidateRow>,
    threshold: u32,
    window_days: u32,
    next: Option<String>,
    can_write: bool,
    filters: FilterBar,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    cursor: Option<String>,
    done: Option<String>,
}

/// The list's filters and the links it makes with them.
async fn filter_bar(
    state: &AppState,
    who: &Principal,
    filters: &ListFilters,
) -> Result<FilterBar, UiError> {
    let users = super::classify::user_names(state, who).await?;
    FilterBar::load(
        state,
        who.tenant_id(),
        "problem",
        "/problems",
        &[],
        filters,
        &users,
    )
    .await
}

async fn service_names(state: &AppState, who: &Principal) -> Result<Vec<(i64, String)>, UiError> {
    let all = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    Ok(state
        .store
        .services(who.tenant_id(), &Default::default(), &all)
        .await?
        .items
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect())
}

fn name_of(names: &[(i64, String)], id: Option<i64>) -> String {
    id.and_then(|id| names.iter().find(|(i, _)| *i == id))
        .map_or_else(|| "—".to_owned(), |(_, n)| n.clone())
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Query(q): Query<ListQuery>,
    RawQuery(raw): RawQuery,
) -> UiResult {
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor,
    };
    let filtering = ListFilters::parse(raw.as_deref().unwrap_or_default());
    let filter = ProblemFilter {
        category_id: filtering.category_id,
        custom: filtering.custom.clone(),
        ..Default::default()
    };
    let found = state.store.problems(who.tenant_id(), &filter, &page).await;
    let (found, refused) = match super::list_filters::or_refused(found) {
        Err(steward_store::StoreError::Invalid(_)) => {
            return Ok(Redirect::to("/problems").into_response());
        }
        other => other?,
    };
    let filters = filter_bar(&state, &who, &filtering).await?.refused(refused);
    let names = service_names(&state, &who).await?;
    let mut rows = Vec::with_capacity(found.items.len());
    for p in found.items {
        let ke = state.store.known_error_of(who.tenant_id(), p.id).await?;
        rows.push(Row {
            key: p.key(),
            priority: p.priority.to_string(),
            service: name_of(&names, p.service_id),
            title: p.title,
            status: p.status.as_str(),
            known_error: ke.map_or_else(|| "—".to_owned(), |k| k.key()),
        });
    }
    let settings = state.store.settings(who.tenant_id()).await?;
    let week_ago =
        steward_store::now_micros() - i64::from(settings.candidate_window_days) * 86_400_000_000;
    let candidates = state
        .store
        .problem_candidates(
            who.tenant_id(),
            i64::from(settings.candidate_threshold),
            week_ago,
        )
        .await?
        .into_iter()
        .map(|c| CandidateRow {
            service: name_of(&names, Some(c.service_id)),
            service_id: c.service_id,
            incidents: c.incidents,
        })
        .collect();
    let chrome = Chrome::new(&state, &who, "/problems")
        .await
        .with_notice(q.done.as_deref());
    let pairs = filtering.pairs();
    let next = next_link(
        "/problems",
        &pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        found.next_cursor,
    );
    Ok(ListPage {
        chrome,
        rows,
        candidates,
        threshold: settings.candidate_threshold,
        window_days: settings.candidate_window_days,
        next,
        can_write: who.can(Permission::RecordsWrite),
        filters,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "problem_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    /// Editing an existing problem (its incidents are linked from its page instead).
    editing: bool,
    form: FormState,
    impact: Vec<Opt>,
    urgency: Vec<Opt>,
    services: Vec<Opt>,
    categories: Vec<Opt>,
    custom_fields: Vec<FieldView>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ProblemForm {
    title: String,
    description: String,
    impact: String,
    urgency: String,
    service_id: String,
    /// Keys of the incidents this problem causes, separated by spaces or commas.
    incidents: String,
    category_id: String,
    /// Custom field values, posted as `custom.<name>`.
    #[serde(flatten)]
    extra: HashMap<String, String>,
}

impl ProblemForm {
    fn of(p: &Problem) -> ProblemForm {
        let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        ProblemForm {
            title: p.title.clone(),
            description: p.description.clone(),
            impact: p.impact.to_string(),
            urgency: p.urgency.to_string(),
            service_id: id(p.service_id),
            incidents: String::new(),
            category_id: id(p.category_id),
            extra: classify::custom_form_values(&p.custom.0),
        }
    }

    fn state(&self) -> FormState {
        let mut values: Vec<(&str, &str)> = vec![
            ("title", &self.title),
            ("description", &self.description),
            ("impact", &self.impact),
            ("urgency", &self.urgency),
            ("service_id", &self.service_id),
            ("incidents", &self.incidents),
            ("category_id", &self.category_id),
        ];
        values.extend(classify::custom_pairs(&self.extra));
        FormState::with(&values)
    }

    fn body(&self) -> Result<ProblemCreate, Invalid> {
        let mut errors = Invalid::new();
        let level = |text: &str, field: &str, errors: &mut Invalid| {
            Level::parse(text).unwrap_or_else(|| {
                errors.add(field, "Choose high, medium or low");
                Level::Medium
            })
        };
        let service_id = match self.service_id.trim() {
            "" => None,
            t => t.parse().ok().or_else(|| {
                errors.add("service_id", "Choose a service from the list");
                None
            }),
        };
        let category_id = match self.category_id.trim() {
            "" => None,
            t => t.parse().ok().or_else(|| {
                errors.add("category_id", "Choose a category from the list");
                None
            }),
        };
        let body = ProblemCreate {
            title: self.title.clone(),
            description: self.description.clone(),
            impact: level(&self.impact, "impact", &mut errors),
            urgency: level(&self.urgency, "urgency", &mut errors),
            service_id,
            assignee_id: None,
            incidents: self
                .incidents
                .split([',', ' '])
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect(),
            category_id,
            custom: classify::posted_custom(&self.extra),
        };
        errors.into_result(body)
    }

    /// The edit form's changes: what the form shows, nothing of the diagnosis or lifecycle.
    fn patch(&self) -> Result<ProblemPatch, Invalid> {
        let c = self.body()?;
        Ok(ProblemPatch {
            title: Some(c.title),
            description: Some(c.description),
            impact: Some(c.impact),
            urgency: Some(c.urgency),
            status: None,
            service_id: Some(c.service_id),
            assignee_id: None,
            root_cause: None,
            workaround: None,
            category_id: Some(c.category_id),
            custom: Some(c.custom),
        })
    }
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    editing: Option<&Problem>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let levels = || {
        Level::ALL
            .iter()
            .rev()
            .map(|l| (l.to_string(), l.to_string()))
    };
    let names = service_names(state, who).await?;
    let services = std::iter::once((String::new(), "— none —".to_owned()))
        .chain(names.into_iter().map(|(id, n)| (id.to_string(), n)));
    let users = classify::user_names(state, who).await?;
    let (heading, action, submit, cancel) = match editing {
        None => (
            "New problem".to_owned(),
            "/problems".to_owned(),
            "Create problem",
            "/problems".to_owned(),
        ),
        Some(p) => (
            format!("Edit {}", p.key()),
            format!("/problems/{}/edit", p.key()),
            "Save",
            format!("/problems/{}", p.key()),
        ),
    };
    let page = FormPage {
        chrome: Chrome::new(state, who, "/problems").await,
        heading,
        action,
        submit,
        cancel,
        editing: editing.is_some(),
        impact: options(levels(), form.value("impact")),
        urgency: options(levels(), form.value("urgency")),
        services: options(services, form.value("service_id")),
        categories: classify::category_choices(
            state,
            who.tenant_id(),
            editing.and_then(|p| p.category_id),
            form.value("category_id"),
        )
        .await?,
        custom_fields: classify::custom_inputs(state, who.tenant_id(), "problem", &users).await?,
        form,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    service_id: String,
    incidents: String,
}

pub async fn new_form(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Query(q): Query<NewQuery>,
) -> UiResult {
    let form = ProblemForm {
        impact: "medium".into(),
        urgency: "medium".into(),
        service_id: q.service_id,
        incidents: q.incidents,
        ..Default::default()
    };
    render_form(&state, &who, None, form.state(), StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Form(form): Form<ProblemForm>,
) -> UiResult {
    let result = match form.body() {
        Ok(body) => open_problem(&state, &who, body).await.map_err(|e| {
            if e.status() == StatusCode::UNPROCESSABLE_ENTITY {
                Ok(Invalid {
                    errors: e.field_errors().to_vec(),
                })
            } else {
                Err(UiError::from(e))
            }
        }),
        Err(invalid) => Err(Ok(invalid)),
    };
    match result {
        Ok(p) => Ok(Redirect::to(&format!("/problems/{}?done=created", p.key())).into_response()),
        Err(Ok(invalid)) => {
            render_form(
                &state,
                &who,
                None,
                form.state().rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => Err(e),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
) -> UiResult {
    let problem = find_problem(&state, &who, &key).await?;
    render_form(
        &state,
        &who,
        Some(&problem),
        ProblemForm::of(&problem).state(),
        StatusCode::OK,
    )
    .await
}

/// Saves the edit form; refusals (bad input, a closed problem) come back on the form.
pub async fn edit(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<ProblemForm>,
) -> UiResult {
    let problem = find_problem(&state, &who, &key).await?;
    let saved = match form.patch() {
        Ok(patch) => change_problem(&state, &who, &key, patch)
            .await
            .map_err(|e| match e.refusal("title") {
                Some(invalid) => Ok((invalid, e.status())),
                None => Err(UiError::from(e)),
            }),
        Err(invalid) => Err(Ok((invalid, StatusCode::UNPROCESSABLE_ENTITY))),
    };
    match saved {
        Ok(p) => Ok(Redirect::to(&format!("/problems/{}?done=saved", p.key())).into_response()),
        Err(Ok((invalid, status))) => {
            render_form(
                &state,
                &who,
                Some(&problem),
                form.state().rejected(invalid),
                status,
            )
            .await
        }
        Err(Err(e)) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "problem_view.html")]
struct ViewPage {
    chrome: Chrome,
    key: String,
    problem: Problem,
    terminal: bool,
    transitions: Vec<(&'static str, &'static str)>,
    form: FormState,
    service: String,
    known_error: String,
    /// The category's path, or a dash.
    category: String,
    /// Custom field values as (label, shown value).
    custom: Vec<(String, String)>,
    links: Vec<LinkRow>,
    link_action: String,
    link_kinds: Vec<Opt>,
    link_form: FormState,
    can_write: bool,
    /// The CIs the problem is about and the services they hit.
    cis: super::record_cis::CiPanel,
}

fn transition_label(to: ProblemStatus) -> &'static str {
    match to {
        ProblemStatus::Investigating => "Investigate",
        ProblemStatus::KnownError => "Record as known error",
        ProblemStatus::Resolved => "Resolve",
        ProblemStatus::Closed => "Close",
        ProblemStatus::Cancelled => "Cancel problem",
        ProblemStatus::New => "New",
    }
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    key: &str,
    form: Option<FormState>,
    link_form: FormState,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let forms = (form, link_form, FormState::default());
    render_page(state, who, key, forms, done, status).await
}

/// The problem page with the add-a-CI form as it came back refused.
pub(super) async fn render_with_cis(
    state: &AppState,
    who: &Principal,
    key: &str,
    cis: FormState,
) -> UiResult {
    let forms = (None, FormState::default(), cis);
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    render_page(state, who, key, forms, None, status).await
}

/// The problem page; `forms` are the diagnosis, link and add-a-CI forms.
async fn render_page(
    state: &AppState,
    who: &Principal,
    key: &str,
    (form, link_form, cis_form): (Option<FormState>, FormState, FormState),
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    let problem = find_problem(state, who, key).await?;
    let names = service_names(state, who).await?;
    let ke = state
        .store
        .known_error_of(who.tenant_id(), problem.id)
        .await?;
    let form = form.unwrap_or_else(|| {
        FormState::with(&[
            ("root_cause", &problem.root_cause),
            ("workaround", &problem.workaround),
        ])
    });
    let key = problem.key();
    let category = classify::category_path(state, who.tenant_id(), problem.category_id).await?;
    let users = classify::user_names(state, who).await?;
    let custom =
        classify::custom_rows(state, who.tenant_id(), "problem", &problem.custom.0, &users).await?;
    let kind = crate::api::record_cis::RecordType::Problem;
    let cis = super::record_cis::panel(state, who, kind, &key, problem.id, cis_form).await?;
    let page = ViewPage {
        cis,
        chrome: Chrome::new(state, who, "/problems").await.with_notice(done),
        category,
        custom,
        links: link_rows(state, who, RecordKind::Problem, &key).await?,
        link_action: format!("/problems/{key}/links"),
        link_kinds: link_kinds(link_form.value("kind")),
        link_form,
        terminal: problem.status.is_terminal(),
        transitions: problem
            .status
            .next()
            .iter()
            .map(|s| (s.as_str(), transition_label(*s)))
            .collect(),
        form,
        service: name_of(&names, problem.service_id),
        known_error: ke.map_or_else(|| "—".to_owned(), |k| format!("{}: {}", k.key(), k.title)),
        can_write: who.can(Permission::RecordsWrite),
        key,
        problem,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Path(key): Path<String>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    render_view(
        &state,
        &who,
        &key,
        None,
        FormState::default(),
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DiagnosisForm {
    root_cause: String,
    workaround: String,
    status: String,
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<DiagnosisForm>,
) -> UiResult {
    let patch = ProblemPatch {
        title: None,
        description: None,
        impact: None,
        urgency: None,
        status: ProblemStatus::parse(&form.status),
        service_id: None,
        assignee_id: None,
        root_cause: Some(form.root_cause.clone()),
        workaround: Some(form.workaround.clone()),
        category_id: None,
        custom: None,
    };
    match change_problem(&state, &who, &key, patch).await {
        Ok(p) => Ok(Redirect::to(&format!("/problems/{}?done=saved", p.key())).into_response()),
        Err(e) => {
            let Some(invalid) = e.refusal("status") else {
                return Err(e.into());
            };
            let values = FormState::with(&[
                ("root_cause", &form.root_cause),
                ("workaround", &form.workaround),
            ])
            .rejected(invalid);
            render_view(
                &state,
                &who,
                &key,
                Some(values),
                FormState::default(),
                None,
                e.status(),
            )
            .await
        }
    }
}

pub async fn link(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<LinkForm>,
) -> UiResult {
    match link_from_form(&state, &who, RecordKind::Problem, &key, &form).await {
        Ok(()) => Ok(Redirect::to(&format!("/problems/{key}?done=saved")).into_response()),
        Err(Ok(link_form)) => {
            render_view(
                &state,
                &who,
                &key,
                None,
                link_form,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => Err(e),
    }
}

pub struct KnownErrorRow {
    pub key: String,
    pub title: String,
    pub workaround: String,
    pub problem: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "known_errors.html")]
struct KnownErrorsPage {
    chrome: Chrome,
    q: String,
    rows: Vec<KnownErrorRow>,
    next: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct KnownErrorQuery {
    q: String,
    cursor: Option<String>,
}

/// Active known errors matching `q`, with their problem's key.
pub async fn known_error_rows(
    state: &AppState,
    who: &Principal,
    q: &str,
    page: &PageRequest,
) -> Result<(Vec<KnownErrorRow>, Option<String>), UiError> {
    let found = state
        .store
        .known_errors(
            who.tenant_id(),
            Some(q).filter(|t| !t.trim().is_empty()),
            true,
            page,
        )
        .await?;
    let mut rows = Vec::with_capacity(found.items.len());
    for k in found.items {
        let problem = state
            .store
            .problem(who.tenant_id(), k.problem_id)
            .await?
            .key();
        rows.push(KnownErrorRow {
            key: k.key(),
            title: k.title,
            workaround: k.workaround,
            problem,
        });
    }
    Ok((rows, found.next_cursor))
}

pub async fn known_errors(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Query(q): Query<KnownErrorQuery>,
) -> UiResult {
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor,
    };
    let (rows, cursor) = match known_error_rows(&state, &who, &q.q, &page).await {
        Err(UiError::NotFound) => return Ok(Redirect::to("/known-errors").into_response()),
        other => other?,
    };
    let chrome = Chrome::new(&state, &who, "/problems").await;
    let next = next_link("/known-errors", &[("q", &q.q)], cursor);
    Ok(KnownErrorsPage {
        chrome,
        q: q.q,
        rows,
        next,
    }
    .into_response())
}
