//! The form that raises a change (`/changes/new`), with the tenant's risk questionnaire, and
//! the same form editing one (`/changes/{key}/edit`) while the store lets it be edited (draft
//! or assessment).
//!
//! The form posts what the API's `POST /changes` and `PUT /changes/{key}/risk` take, through
//! the same `ChangeDraft::validate` and the same store calls, so it refuses what the API
//! refuses. Answers to the questionnaire are posted as `risk.<question id>`; when any is given
//! they are scored before the change is raised, so a change is never half-raised because of a
//! missing answer. A standard change with a window goes straight to scheduled, as its
//! lifecycle allows.
//!
//! The edit form carries the change's `updated_at`: when someone else saved it meanwhile, the
//! form comes back with the input kept and says so, and saving again replaces their edit.

use super::changes::{NAV_HREF, find, typed_instant};
use super::cmdb::{ci_from_text, ci_suggestions};
use super::{Chrome, FormState, Names, Opt, UiError, UiResult, options, options_after_blank};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::change::risk::Answers;
use steward_domain::change::{ChangeDraft, ChangeStatus, ChangeType, Window};
use steward_domain::problem::RecordKind;
use steward_store::StoreError;
use steward_store::change::Change;

/// Prefix of the questionnaire's inputs.
const RISK: &str = "risk.";
/// How many empty CI inputs the form offers beyond those filled in.
const SPARE_CIS: usize = 3;

/// What the change form posts.
#[derive(Debug, Default)]
struct ChangeForm {
    fields: HashMap<String, String>,
    cis: Vec<String>,
    service_ids: Vec<String>,
}

const FIELDS: [&str; 13] = [
    "title",
    "type",
    "template_id",
    "reason",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "planned_start",
    "planned_end",
    "incidents",
    "problems",
    "assignee_id",
    "updated_at",
];

impl ChangeForm {
    fn posted(pairs: Vec<(String, String)>) -> ChangeForm {
        let mut form = ChangeForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "ci" => form.cis.push(v),
                "service_ids" => form.service_ids.push(v),
                _ if FIELDS.contains(&k.as_str()) || k.starts_with(RISK) => {
                    form.fields.insert(k, v);
                }
                _ => {}
            }
        }
        form
    }

    /// The form as a change fills it in, for editing.
    async fn of(state: &AppState, who: &Principal, c: &Change) -> Result<ChangeForm, UiError> {
        let t = who.tenant_id();
        let mut cis = Vec::new();
        for id in &c.ci_ids {
            let name = match state.store.ci(t, *id).await {
                Ok(ci) => ci.name,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            cis.push(format!("{name} #{id}"));
        }
        let mut incidents = Vec::new();
        for id in &c.incident_ids {
            match state.store.incident(t, *id).await {
                Ok(i) => incidents.push(i.key()),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut problems = Vec::new();
        for id in &c.problem_ids {
            match state.store.problem(t, *id).await {
                Ok(p) => problems.push(p.key()),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let local = |micros: i64| {
            jiff::Timestamp::from_microsecond(micros)
                .map(|t| t.strftime("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default()
        };
        let id_text = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
        let fields = [
            ("title", c.title.clone()),
            ("type", c.change_type.as_str().to_owned()),
            ("template_id", id_text(c.template_id)),
            ("reason", c.reason.clone()),
            ("implementation_plan", c.implementation_plan.clone()),
            ("backout_plan", c.backout_plan.clone()),
            ("test_plan", c.test_plan.clone()),
            (
                "planned_start",
                c.window.map(|w| local(w.start)).unwrap_or_default(),
            ),
            (
                "planned_end",
                c.window.map(|w| local(w.end)).unwrap_or_default(),
            ),
            ("incidents", incidents.join(", ")),
            ("problems", problems.join(", ")),
            ("assignee_id", id_text(c.assignee_id)),
            ("updated_at", c.updated_at.to_string()),
        ];
        Ok(ChangeForm {
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            cis,
            service_ids: c.service_ids.iter().map(i64::to_string).collect(),
        })
    }

    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    fn state(&self) -> FormState {
        FormState::with_services(&self.fields, &self.service_ids)
    }

    /// The answers given, by question id.
    fn answers(&self) -> Answers {
        self.fields
            .iter()
            .filter_map(|(k, v)| {
                let id = k.strip_prefix(RISK)?;
                Some((id.to_owned(), v.trim().to_owned())).filter(|(_, v)| !v.is_empty())
            })
            .collect()
    }
}

/// One answer of a question, as a radio button.
pub struct AnswerView {
    pub id: String,
    pub label: String,
    pub checked: bool,
}

/// One question of the risk questionnaire.
pub struct QuestionView {
    /// The input's name: `risk.<id>`.
    pub name: String,
    pub text: String,
    pub answers: Vec<AnswerView>,
}

/// The questionnaire as radio groups, with what `form` holds checked.
pub fn questions(
    questionnaire: &steward_domain::change::Questionnaire,
    chosen: impl Fn(&str) -> String,
) -> Vec<QuestionView> {
    questionnaire
        .questions
        .iter()
        .map(|q| {
            let name = format!("{RISK}{}", q.id);
            let current = chosen(&name);
            QuestionView {
                answers: q
                    .options
                    .iter()
                    .map(|o| AnswerView {
                        checked: o.id == current,
                        id: o.id.clone(),
                        label: o.label.clone(),
                    })
                    .collect(),
                text: q.text.clone(),
                name,
            }
        })
        .collect()
}

/// The questionnaire's errors (`answers.<id>`) under the form's names (`risk.<id>`).
pub fn risk_errors(invalid: Invalid) -> Invalid {
    let mut errors = Invalid::new();
    for e in invalid.errors {
        let field = match e.field.strip_prefix("answers.") {
            Some(id) => format!("{RISK}{id}"),
            None => e.field,
        };
        errors.add(&field, e.message);
    }
    errors
}

#[derive(Template, WebTemplate)]
#[template(path = "change_form.html")]
struct FormPage {
    chrome: Chrome,
    form: FormState,
    types: Vec<Opt>,
    templates: Vec<Opt>,
    assignees: Vec<Opt>,
    services: Vec<Opt>,
    cis: Vec<String>,
    candidates: Vec<String>,
    questions: Vec<QuestionView>,
    /// The key of the change being edited; `None` when raising one.
    editing: Option<String>,
}

async fn render(
    state: &AppState,
    who: &Principal,
    form: &ChangeForm,
    errors: Invalid,
    status: StatusCode,
    editing: Option<String>,
) -> UiResult {
    let t = who.tenant_id();
    let names = Names::load(state, who).await?;
    let state_values = form.state().rejected(errors);
    let templates = state.store.change_templates(t, false).await?;
    let policy = state.store.change_policy(t).await?;
    let selected: Vec<&str> = form.service_ids.iter().map(String::as_str).collect();
    let services = names
        .services
        .iter()
        .map(|(id, name)| Opt {
            value: id.to_string(),
            label: name.clone(),
            selected: selected.contains(&id.to_string().as_str()),
        })
        .collect();
    let mut cis: Vec<String> = form
        .cis
        .iter()
        .filter(|c| !c.trim().is_empty())
        .cloned()
        .collect();
    cis.extend(std::iter::repeat_n(String::new(), SPARE_CIS));
    let page = FormPage {
        chrome: Chrome::new(state, who, NAV_HREF).await,
        types: options(
            [
                ("normal", "Normal: assessed and authorised"),
                ("standard", "Standard: follows a pre-approved template"),
                ("emergency", "Emergency: authorised by the ECAB at once"),
            ]
            .map(|(v, l)| (v.to_owned(), l.to_owned())),
            state_values.value("type"),
        ),
        templates: options_after_blank(
            "— none (not a standard change) —",
            templates
                .into_iter()
                .map(|tpl| (tpl.id.to_string(), tpl.name)),
            state_values.value("template_id"),
        ),
        assignees: options(
            Names::choices(&names.users, "— nobody yet —"),
            state_values.value("assignee_id"),
        ),
        services,
        cis,
        candidates: ci_suggestions(state, t, &[]).await?,
        // An edited change's risk is assessed on its page, where the answers are kept.
        questions: if editing.is_some() {
            Vec::new()
        } else {
            questions(&policy.questionnaire, |name| {
                state_values.value(name).to_owned()
            })
        },
        form: state_values,
        editing,
    };
    Ok((status, page).into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::ChangesWrite>) -> UiResult {
    let mut blank = ChangeForm::default();
    blank.fields.insert("type".into(), "normal".into());
    render(&state, &who, &blank, Invalid::new(), StatusCode::OK, None).await
}

/// `INC-12, PRB-3` into incident or problem ids; unknown keys are errors under `field`.
async fn record_ids(
    state: &AppState,
    who: &Principal,
    kind: RecordKind,
    field: &str,
    text: &str,
    errors: &mut Invalid,
) -> Result<Vec<i64>, UiError> {
    let mut ids = Vec::new();
    for key in text.split([',', ' ', '\n']).map(str::trim) {
        if key.is_empty() {
            continue;
        }
        let number = match RecordKind::parse_key(key) {
            Some((k, n)) if k == kind => n,
            _ => {
                errors.add(field, format!("“{key}” is not a {}-n key", kind.prefix()));
                continue;
            }
        };
        let found = match kind {
            RecordKind::Incident => state
                .store
                .incident_by_number(who.tenant_id(), number)
                .await
                .map(|i| i.id),
            RecordKind::Problem => state
                .store
                .problem_by_number(who.tenant_id(), number)
                .await
                .map(|p| p.id),
        };
        match found {
            Ok(id) => ids.push(id),
            Err(StoreError::NotFound) => errors.add(field, format!("There is no {key}")),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ids)
}

/// The form's fields as a validated draft, or every error at once.
async fn draft(
    state: &AppState,
    who: &Principal,
    form: &ChangeForm,
) -> Result<Result<ChangeDraft, Invalid>, UiError> {
    let mut errors = Invalid::new();
    let change_type = ChangeType::parse(form.get("type").trim()).unwrap_or_else(|| {
        errors.add("type", "Choose a type from the list");
        ChangeType::Normal
    });
    let mut id = |field: &str, text: &str| match text.trim() {
        "" => None,
        t => t.parse().ok().or_else(|| {
            errors.add(field, "Choose from the list");
            None
        }),
    };
    let template_id = id("template_id", form.get("template_id"));
    let mut instant = |field: &str| {
        typed_instant(form.get(field)).unwrap_or_else(|()| {
            errors.add(field, "Give a date and time such as 2031-03-01 22:00 (UTC)");
            None
        })
    };
    let (start, end) = (instant("planned_start"), instant("planned_end"));
    let window = match (start, end) {
        (Some(start), Some(end)) => Some(Window { start, end }),
        (None, None) => None,
        (None, Some(_)) if form.get("planned_start").trim().is_empty() => {
            errors.add("planned_start", "Give the start too, or neither");
            None
        }
        (Some(_), None) if form.get("planned_end").trim().is_empty() => {
            errors.add("planned_end", "Give the end too, or neither");
            None
        }
        _ => None,
    };
    let mut ci_ids = Vec::new();
    for text in form.cis.iter().filter(|c| !c.trim().is_empty()) {
        match ci_from_text(state, who.tenant_id(), "cis", text).await {
            Ok(id) => ci_ids.push(id),
            Err(StoreError::Invalid(invalid)) => errors.errors.extend(invalid.errors),
            Err(e) => return Err(e.into()),
        }
    }
    let service_ids = form
        .service_ids
        .iter()
        .filter_map(|s| {
            s.trim().parse().ok().or_else(|| {
                errors.add("service_ids", "Choose services from the list");
                None
            })
        })
        .collect();
    let incident_ids = record_ids(
        state,
        who,
        RecordKind::Incident,
        "incidents",
        form.get("incidents"),
        &mut errors,
    )
    .await?;
    let problem_ids = record_ids(
        state,
        who,
        RecordKind::Problem,
        "problems",
        form.get("problems"),
        &mut errors,
    )
    .await?;
    let draft = ChangeDraft {
        title: form.get("title").to_owned(),
        change_type,
        template_id,
        reason: form.get("reason").to_owned(),
        implementation_plan: form.get("implementation_plan").to_owned(),
        backout_plan: form.get("backout_plan").to_owned(),
        test_plan: form.get("test_plan").to_owned(),
        window,
        ci_ids,
        service_ids,
        incident_ids,
        problem_ids,
    };
    match draft.validate() {
        Ok(d) if errors.errors.is_empty() => Ok(Ok(d)),
        Ok(_) => Ok(Err(errors)),
        Err(invalid) => {
            errors.errors.extend(invalid.errors);
            Ok(Err(on_form(errors)))
        }
    }
}

/// The assignee chosen, if any; anything but an id from the list is a field error.
fn assignee(form: &ChangeForm, errors: &mut Invalid) -> Option<i64> {
    match form.get("assignee_id").trim() {
        "" => None,
        text => text.parse().ok().or_else(|| {
            errors.add("assignee_id", "Choose from the list");
            None
        }),
    }
}

/// The draft's field names as the form's.
fn on_form(invalid: Invalid) -> Invalid {
    let mut errors = Invalid::new();
    for e in invalid.errors {
        let field = match e.field.as_str() {
            "window" => "planned_end",
            "ci_ids" => "cis",
            "incident_ids" => "incidents",
            "problem_ids" => "problems",
            "change_type" => "type",
            other => other,
        };
        errors.add(field, e.message);
    }
    errors
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let form = ChangeForm::posted(pairs);
    let t = who.tenant_id();
    let mut errors = Invalid::new();
    let answers = form.answers();
    if !answers.is_empty() {
        let policy = state.store.change_policy(t).await?;
        if let Err(invalid) = policy.questionnaire.assess(&answers) {
            errors.errors.extend(risk_errors(invalid).errors);
        }
    }
    let assignee = assignee(&form, &mut errors);
    let draft = match draft(&state, &who, &form).await? {
        Ok(d) if errors.errors.is_empty() => d,
        refused => {
            if let Err(invalid) = refused {
                errors.errors.splice(0..0, invalid.errors);
            }
            return render(
                &state,
                &who,
                &form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await;
        }
    };
    let created: Change = match state
        .store
        .create_change(t, &draft, assignee, &who.actor())
        .await
    {
        Ok(c) => c,
        Err(StoreError::Invalid(invalid)) => {
            return render(
                &state,
                &who,
                &form,
                on_form(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    if !answers.is_empty() {
        state
            .store
            .assess_change_risk(t, created.id, &answers, &who.actor())
            .await?;
    }
    let mut done = "created";
    if created.change_type == ChangeType::Standard && created.window.is_some() {
        // A standard change's template is its approval: it goes on the schedule at once,
        // unless a guard (a blackout) says not yet; then it stays a draft and its page says why.
        done = match state
            .store
            .transition_change(t, created.id, ChangeStatus::Scheduled, &who.actor())
            .await
        {
            Ok(_) => "scheduled",
            Err(StoreError::Conflict(_)) => "not_scheduled",
            Err(e) => return Err(e.into()),
        };
    }
    Ok(Redirect::to(&format!("/changes/{}?done={done}", created.key())).into_response())
}

fn saved_meanwhile(key: &str) -> String {
    format!(
        "Someone else saved {key} after you opened this form (see its page and history). \
         Your input is kept below: saving it again replaces their edit."
    )
}

/// The change a path names, if the store lets it be edited; otherwise its page says why.
async fn editable(state: &AppState, who: &Principal, key: &str) -> Result<Change, UiResult> {
    let c = find(state, who, key).await.map_err(Err)?;
    if matches!(c.status, ChangeStatus::Draft | ChangeStatus::Assessment) {
        return Ok(c);
    }
    let shown = super::change_view::Shown {
        error: Some(format!(
            "{} is {}: only a draft or a change in assessment can be edited",
            c.key(),
            super::changes::status_label(c.status)
        )),
        ..Default::default()
    };
    Err(super::change_view::render(state, who, &c.key(), shown, StatusCode::CONFLICT).await)
}

/// `GET /changes/{key}/edit`: the form, filled in from the change.
pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    Path(key): Path<String>,
) -> UiResult {
    let c = match editable(&state, &who, &key).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let form = ChangeForm::of(&state, &who, &c).await?;
    render(
        &state,
        &who,
        &form,
        Invalid::new(),
        StatusCode::OK,
        Some(c.key()),
    )
    .await
}

/// `POST /changes/{key}/edit`: saves the edit through `update_change`, or shows the form again
/// with the input kept and every error at once.
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ChangesWrite>,
    Path(key): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let mut form = ChangeForm::posted(pairs);
    let current = match editable(&state, &who, &key).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let key = current.key();
    let mut errors = Invalid::new();
    let seen: Option<i64> = form.get("updated_at").trim().parse().ok();
    if seen != Some(current.updated_at) {
        errors.add("updated_at", saved_meanwhile(&key));
        // Saving again is a deliberate choice to overwrite what is there now.
        form.fields
            .insert("updated_at".into(), current.updated_at.to_string());
    }
    let assignee = assignee(&form, &mut errors);
    let refused = match draft(&state, &who, &form).await? {
        Ok(d) if errors.errors.is_empty() => {
            match state
                .store
                .update_change(
                    who.tenant_id(),
                    current.id,
                    &d,
                    assignee,
                    Some(current.updated_at),
                    &who.actor(),
                )
                .await
            {
                Ok(saved) => {
                    return Ok(
                        Redirect::to(&format!("/changes/{}?done=saved", saved.key()))
                            .into_response(),
                    );
                }
                Err(StoreError::Invalid(invalid)) => on_form(invalid),
                Err(StoreError::Conflict(message)) => {
                    // Saved by someone else between the check above and the write, or a
                    // refusal of the edit itself (a type change past draft).
                    let now = state.store.change(who.tenant_id(), current.id).await?;
                    if now.updated_at == current.updated_at {
                        Invalid::one("type", message)
                    } else {
                        form.fields
                            .insert("updated_at".into(), now.updated_at.to_string());
                        Invalid::one("updated_at", saved_meanwhile(&key))
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(_) => errors,
        Err(invalid) => {
            errors.errors.extend(invalid.errors);
            errors
        }
    };
    render(
        &state,
        &who,
        &form,
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(key),
    )
    .await
}
