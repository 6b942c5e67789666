//! `/notification-templates`: the wording of the e-mails requesters, watchers and assignees
//! receive, per event. Admins only.

use super::{ApiJson, ApiPath, opt_time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward_domain::notify::{Event, PLACEHOLDERS, Template};
use steward_store::notify::NotificationTemplate;
use utoipa::ToSchema;

/// One event's template as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    /// `opened`, `replied`, `resolved` or `assigned`.
    pub event: String,
    pub subject: String,
    pub body: String,
    /// Placeholders the subject and body may use, e.g. `{{key}}`.
    pub placeholders: Vec<String>,
    /// When the tenant last saved it; absent while it is the default wording.
    pub updated_at: Option<String>,
}

impl From<NotificationTemplate> for TemplateOut {
    fn from(t: NotificationTemplate) -> Self {
        TemplateOut {
            event: t.event.as_str().to_owned(),
            subject: t.template.subject,
            body: t.template.body,
            placeholders: PLACEHOLDERS
                .iter()
                .map(|p| format!("{{{{{p}}}}}"))
                .collect(),
            updated_at: opt_time(t.updated_at),
        }
    }
}

/// A template to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    pub subject: String,
    pub body: String,
}

/// Validates and stores a template; shared by API and UI.
pub async fn save(
    state: &AppState,
    who: &Principal,
    event: Event,
    template: Template,
) -> ApiResult<NotificationTemplate> {
    let template = template.validate()?;
    Ok(state
        .store
        .save_notification_template(who.tenant_id(), event, &template, &who.actor())
        .await?)
}

#[utoipa::path(get, path = "/notification-templates", tag = "settings",
    responses((status = 200, body = [TemplateOut]), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
) -> ApiResult<Json<Vec<TemplateOut>>> {
    let all = state.store.notification_templates(who.tenant_id()).await?;
    Ok(Json(all.into_iter().map(TemplateOut::from).collect()))
}

#[utoipa::path(put, path = "/notification-templates/{event}", tag = "settings",
    params(("event" = String, Path, description = "opened, replied, resolved or assigned")),
    request_body = TemplateIn,
    responses((status = 200, body = TemplateOut), (status = 404, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    ApiPath(event): ApiPath<String>,
    ApiJson(body): ApiJson<TemplateIn>,
) -> ApiResult<Json<TemplateOut>> {
    let event = Event::parse(&event).ok_or_else(ApiError::not_found)?;
    let template = Template {
        subject: body.subject,
        body: body.body,
    };
    Ok(Json(save(&state, &who, event, template).await?.into()))
}
