//! The major-incident panel of the incident page: declare or stand down, the communications
//! log, and the post-incident review that closing needs.

use super::incidents::{ViewExtras, render_view};
use super::{FormState, Opt, UiError, UiResult, options, when};
use crate::AppState;
use crate::api::major::{
    CommunicationCreate, ReviewPut, declare, post_update, save_review, stand_down,
};
use crate::auth::{Can, Principal, perm};
use crate::error::ApiError;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::major::Audience;
use steward_store::PageRequest;
use steward_store::identity::UserFilter;
use steward_store::incident::Incident;

/// One line of the communications log.
pub struct UpdateRow {
    pub at: String,
    pub who: String,
    pub audience: &'static str,
    pub body: String,
}

/// What the panel shows.
pub struct MajorPanel {
    pub major: bool,
    pub manager: String,
    pub managers: Vec<Opt>,
    pub declare_form: FormState,
    pub updates: Vec<UpdateRow>,
    pub audiences: Vec<Opt>,
    pub update_form: FormState,
    /// A review was saved at some point.
    pub reviewed: bool,
    pub review_form: FormState,
    pub review_completed: bool,
}

/// Forms of the panel that came back with errors.
#[derive(Default)]
pub struct MajorForms {
    pub declare: FormState,
    pub update: FormState,
    pub review: Option<FormState>,
}

fn audience_label(a: Audience) -> &'static str {
    match a {
        Audience::Internal => "internal",
        Audience::Customers => "customers",
        Audience::Executives => "executives",
    }
}

/// Builds the panel for `incident`.
pub async fn panel(
    state: &AppState,
    who: &Principal,
    incident: &Incident,
    forms: MajorForms,
) -> Result<MajorPanel, UiError> {
    let t = who.tenant_id();
    let (major, manager_id) = state.store.is_major(t, incident.id).await?;
    let people = if who.can(Permission::UsersRead) {
        let filter = UserFilter {
            active: Some(true),
            sort: Some("name".into()),
            ..Default::default()
        };
        let all = PageRequest {
            limit: Some(500),
            cursor: None,
        };
        state
            .store
            .users(t, &filter, &all)
            .await?
            .items
            .into_iter()
            .filter(|u| u.role.can(Permission::RecordsWrite))
            .map(|u| (u.id, u.name))
            .collect()
    } else {
        Vec::new()
    };
    let manager = match manager_id {
        Some(id) => match people.iter().find(|(i, _)| *i == id) {
            Some((_, name)) => name.clone(),
            None => state
                .store
                .user(t, id)
                .await
                .map(|u| u.name)
                .unwrap_or_default(),
        },
        None => "—".into(),
    };
    let chosen = match forms.declare.value("manager_id") {
        "" => manager_id.unwrap_or(who.user.id).to_string(),
        typed => typed.to_owned(),
    };
    let managers = options(
        people
            .iter()
            .map(|(id, name)| (id.to_string(), name.clone())),
        &chosen,
    );
    let updates = state
        .store
        .communications(t, incident.id)
        .await?
        .into_iter()
        .rev()
        .map(|c| UpdateRow {
            at: when(c.created_at),
            who: c.author,
            audience: audience_label(c.audience),
            body: c.body,
        })
        .collect();
    let audiences = options(
        Audience::ALL
            .iter()
            .map(|a| (a.as_str().to_owned(), audience_label(*a).to_owned())),
        forms.update.value("audience"),
    );
    let saved = state.store.review(t, incident.id).await?;
    let reviewed = saved.is_some();
    let review_form = match forms.review {
        Some(typed) => typed,
        None => {
            let r = saved.unwrap_or_else(|| steward_store::major::Review {
                id: 0,
                incident_id: incident.id,
                summary: String::new(),
                root_cause: String::new(),
                went_well: String::new(),
                improvements: String::new(),
                actions: String::new(),
                completed: false,
                completed_at: None,
                updated_at: 0,
            });
            FormState::with(&[
                ("summary", &r.summary),
                ("root_cause", &r.root_cause),
                ("went_well", &r.went_well),
                ("improvements", &r.improvements),
                ("actions", &r.actions),
                ("completed", if r.completed { "true" } else { "" }),
            ])
        }
    };
    Ok(MajorPanel {
        major,
        manager,
        managers,
        declare_form: forms.declare,
        updates,
        audiences,
        update_form: forms.update,
        reviewed,
        review_completed: review_form.value("completed") == "true",
        review_form,
    })
}

/// The incident page again with a panel form's errors, or an error page for anything else.
async fn again(
    state: &AppState,
    who: &Principal,
    key: &str,
    e: ApiError,
    field: &str,
    forms: impl FnOnce(Invalid) -> MajorForms,
) -> UiResult {
    let status = e.status();
    let invalid = match status {
        StatusCode::UNPROCESSABLE_ENTITY => Invalid {
            errors: e.field_errors().to_vec(),
        },
        StatusCode::CONFLICT => Invalid::one(field, e.detail()),
        _ => return Err(e.into()),
    };
    let extras = ViewExtras {
        major: forms(invalid),
        ..Default::default()
    };
    render_view(state, who, key, extras, None, status).await
}

fn saved(key: &str) -> UiResult {
    Ok(Redirect::to(&format!("/incidents/{key}?done=saved")).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DeclareForm {
    manager_id: String,
}

pub async fn declare_major(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<DeclareForm>,
) -> UiResult {
    let typed = FormState::with(&[("manager_id", &form.manager_id)]);
    let result = match form.manager_id.trim().parse() {
        Ok(id) => declare(&state, &who, &key, id).await,
        Err(_) => Err(Invalid::one("manager_id", "Choose the major incident manager").into()),
    };
    match result {
        Ok(_) => saved(&key),
        Err(e) => {
            again(&state, &who, &key, e, "manager_id", |invalid| MajorForms {
                declare: typed.rejected(invalid),
                ..Default::default()
            })
            .await
        }
    }
}

pub async fn stand_down_major(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
) -> UiResult {
    match stand_down(&state, &who, &key).await {
        Ok(_) => saved(&key),
        Err(e) => {
            again(&state, &who, &key, e, "manager_id", |invalid| MajorForms {
                declare: FormState::default().rejected(invalid),
                ..Default::default()
            })
            .await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct UpdateForm {
    audience: String,
    update: String,
}

pub async fn add_update(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<UpdateForm>,
) -> UiResult {
    let typed = FormState::with(&[("audience", &form.audience), ("update", &form.update)]);
    let result = match Audience::parse(&form.audience) {
        Some(audience) => {
            let body = CommunicationCreate {
                audience,
                body: form.update.clone(),
            };
            post_update(&state, &who, &key, body).await
        }
        None => Err(Invalid::one("audience", "Choose who the update is for").into()),
    };
    match result {
        Ok(_) => saved(&key),
        Err(e) => {
            again(&state, &who, &key, e, "update", |mut invalid| {
                // The API names the text `body`; the form calls it `update`.
                for error in &mut invalid.errors {
                    if error.field == "body" {
                        error.field = "update".into();
                    }
                }
                MajorForms {
                    update: typed.rejected(invalid),
                    ..Default::default()
                }
            })
            .await
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReviewForm {
    summary: String,
    root_cause: String,
    went_well: String,
    improvements: String,
    actions: String,
    completed: String,
}

pub async fn review(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<ReviewForm>,
) -> UiResult {
    let completed = form.completed == "true";
    let typed = FormState::with(&[
        ("summary", &form.summary),
        ("root_cause", &form.root_cause),
        ("went_well", &form.went_well),
        ("improvements", &form.improvements),
        ("actions", &form.actions),
        ("completed", if completed { "true" } else { "" }),
    ]);
    let body = ReviewPut {
        summary: form.summary,
        root_cause: form.root_cause,
        went_well: form.went_well,
        improvements: form.improvements,
        actions: form.actions,
        completed,
    };
    match save_review(&state, &who, &key, body).await {
        Ok(_) => saved(&key),
        Err(e) => {
            again(&state, &who, &key, e, "summary", |invalid| MajorForms {
                review: Some(typed.rejected(invalid)),
                ..Default::default()
            })
            .await
        }
    }
}
