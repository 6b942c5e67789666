//! The admin's notifications page: the four templates, each with its own form.

use super::{Chrome, UiError, UiResult};
use crate::AppState;
use crate::api::notifications::save;
use crate::auth::{Can, Principal, perm};
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::notify::{Event, PLACEHOLDERS, Template};

struct Row {
    event: &'static str,
    label: &'static str,
    subject: String,
    body: String,
    customised: bool,
    errors: Vec<String>,
}

#[derive(askama::Template, WebTemplate)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    placeholders: String,
    templates: Vec<Row>,
}

/// The page, with what was typed and what was wrong for the event that failed to save.
async fn render(
    state: &AppState,
    who: &Principal,
    rejected: Option<(Event, Template, Vec<String>)>,
    done: Option<&str>,
) -> UiResult {
    let mut templates = Vec::new();
    for saved in state.store.notification_templates(who.tenant_id()).await? {
        let mut row = Row {
            event: saved.event.as_str(),
            label: saved.event.label(),
            subject: saved.template.subject,
            body: saved.template.body,
            customised: saved.updated_at.is_some(),
            errors: Vec::new(),
        };
        if let Some((event, typed, errors)) = &rejected
            && *event == saved.event
        {
            row.subject.clone_from(&typed.subject);
            row.body.clone_from(&typed.body);
            row.errors.clone_from(errors);
        }
        templates.push(row);
    }
    let page = NotificationsPage {
        chrome: Chrome::new(state, who, "/notifications")
            .await
            .with_notice(done),
        placeholders: PLACEHOLDERS
            .iter()
            .map(|p| format!("{{{{{p}}}}}"))
            .collect::<Vec<_>>()
            .join(", "),
        templates,
    };
    let status = if rejected.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, page).into_response())
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    axum::extract::Query(q): axum::extract::Query<Done>,
) -> UiResult {
    render(&state, &who, None, q.done.as_deref()).await
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    Path(event): Path<String>,
    Form(form): Form<TemplateForm>,
) -> UiResult {
    let event = Event::parse(&event).ok_or(UiError::NotFound)?;
    let typed = Template {
        subject: form.subject,
        body: form.body,
    };
    match save(&state, &who, event, typed.clone()).await {
        Ok(_) => Ok(Redirect::to("/notifications?done=saved").into_response()),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = e.field_errors().iter().map(|f| f.message.clone()).collect();
            render(&state, &who, Some((event, typed, errors)), None).await
        }
        Err(e) => Err(e.into()),
    }
}
