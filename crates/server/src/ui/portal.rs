//! The self-service portal: requesters report problems and follow their own records in plain words.

use super::incidents::TimelineItem;
use super::{Chrome, FormState, Opt, UiError, UiResult, next_link, options, when};
use crate::AppState;
use crate::api::incidents::{IncidentCreate, find, open_incident};
use crate::auth::{Can, Principal, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::incident::{PendingReason, Status};
use steward_domain::service::ServiceStatus;
use steward_store::PageRequest;
use steward_store::incident::{Incident, IncidentFilter};
use steward_store::request::RequestFilter;
use steward_store::service::ServiceFilter;

/// A status as a requester reads it.
pub fn plain_status(i: &Incident) -> &'static str {
    match (i.status, i.pending()) {
        (Status::New, _) => "Received: we will look at it soon",
        (Status::InProgress, _) => "Being worked on",
        (Status::Pending, Some(PendingReason::AwaitingCustomer)) => "Waiting for your reply",
        (Status::Pending, _) => "Waiting for a supplier",
        (Status::Resolved, _) => "Resolved: reply if it is not fixed",
        (Status::Closed, _) => "Closed",
        (Status::Cancelled, _) => "Cancelled",
    }
}

pub struct Row {
    pub key: String,
    pub href: String,
    pub title: String,
    pub status: &'static str,
    pub updated: String,
    updated_micros: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal.html")]
struct PortalPage {
    chrome: Chrome,
    q: String,
    rows: Vec<Row>,
    next: Option<String>,
    form: FormState,
    services: Vec<Opt>,
    /// Orderable items: id, name, category, description.
    catalogue: Vec<(i64, String, String, String)>,
    /// Public articles matching the search: key and title.
    articles: Vec<(String, String)>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PortalQuery {
    q: String,
    cursor: Option<String>,
    done: Option<String>,
}

async fn render_home(
    state: &AppState,
    who: &Principal,
    q: PortalQuery,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let filter = IncidentFilter {
        q: Some(q.q.clone()).filter(|t| !t.trim().is_empty()),
        requester_user_id: Some(who.user.id),
        sort: Some("-updated_at".into()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(25),
        cursor: q.cursor.clone(),
    };
    let found = match state.store.incidents(who.tenant_id(), &filter, &page).await {
        Err(steward_store::StoreError::Invalid(_)) => {
            return Ok(Redirect::to("/portal").into_response());
        }
        other => other?,
    };
    let mut rows: Vec<Row> = found
        .items
        .iter()
        .map(|i| Row {
            key: i.key(),
            href: format!("/portal/{}", i.key()),
            title: i.title.clone(),
            status: plain_status(i),
            updated: when(i.updated_at),
            updated_micros: i.updated_at,
        })
        .collect();
    if q.q.trim().is_empty() && q.cursor.is_none() {
        // Catalogue orders sit beside reported problems, newest first.
        let mine = RequestFilter {
            requester_user_id: Some(who.user.id),
            ..Default::default()
        };
        let orders = state
            .store
            .requests(
                who.tenant_id(),
                &mine,
                &PageRequest {
                    limit: Some(25),
                    cursor: None,
                },
            )
            .await?;
        rows.extend(orders.items.iter().map(|r| Row {
            key: r.key(),
            href: format!("/portal/requests/{}", r.key()),
            title: r.title.clone(),
            status: super::requests::status_label(r.status),
            updated: when(r.updated_at),
            updated_micros: r.updated_at,
        }));
        rows.sort_by_key(|r| std::cmp::Reverse(r.updated_micros));
    }
    let catalogue = state
        .store
        .items(who.tenant_id(), true)
        .await?
        .into_iter()
        .map(|i| (i.id, i.name, i.category, i.description))
        .collect();
    let live = ServiceFilter {
        status: Some(ServiceStatus::Live),
        ..Default::default()
    };
    let services = state
        .store
        .services(
            who.tenant_id(),
            &live,
            &PageRequest {
                limit: Some(500),
                cursor: None,
            },
        )
        .await?;
    let choices = std::iter::once((String::new(), "I am not sure".to_owned())).chain(
        services
            .items
            .into_iter()
            .map(|s| (s.id.to_string(), s.name)),
    );
    let articles = if q.q.trim().is_empty() {
        Vec::new()
    } else {
        let filter = steward_store::knowledge::ArticleFilter {
            q: Some(q.q.clone()),
            ..Default::default()
        }
        .for_requesters();
        let found = state
            .store
            .articles(
                who.tenant_id(),
                &filter,
                &PageRequest {
                    limit: Some(5),
                    cursor: None,
                },
            )
            .await?;
        found
            .items
            .into_iter()
            .map(|a| (a.key(), a.title))
            .collect()
    };
    let page = PortalPage {
        articles,
        chrome: Chrome::new(state, who, "/portal")
            .await
            .with_notice(q.done.as_deref()),
        next: next_link("/portal", &[("q", &q.q)], found.next_cursor),
        q: q.q,
        rows,
        catalogue,
        services: options(choices, form.value("service_id")),
        form,
    };
    Ok((status, page).into_response())
}

pub async fn home(
    State(state): State<AppState>,
    who: Can<perm::RecordsOwn>,
    Query(q): Query<PortalQuery>,
) -> UiResult {
    render_home(&state, &who, q, FormState::default(), StatusCode::OK).await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReportForm {
    title: String,
    description: String,
    service_id: String,
}

pub async fn report(
    State(state): State<AppState>,
    who: Can<perm::RecordsOwn>,
    Form(form): Form<ReportForm>,
) -> UiResult {
    let values = FormState::with(&[
        ("title", &form.title),
        ("description", &form.description),
        ("service_id", &form.service_id),
    ]);
    let service_id = match form.service_id.trim() {
        "" => None,
        t => match t.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                let invalid = Invalid::one("service_id", "Choose a service from the list");
                return render_home(
                    &state,
                    &who,
                    PortalQuery::default(),
                    values.rejected(invalid),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
    };
    let body = IncidentCreate {
        title: form.title.clone(),
        description: form.description.clone(),
        impact: Default::default(),
        urgency: Default::default(),
        service_id,
        customer_id: None,
        requester_contact_id: None,
        assignee_team_id: None,
        assignee_id: None,
        source: Some(steward_domain::incident::Source::Portal),
        opened_at: None,
        category_id: None,
        custom: Default::default(),
        cis: Vec::new(),
    };
    match open_incident(&state, &who, body).await {
        Ok(i) => Ok(Redirect::to(&format!("/portal/{}?done=created", i.key())).into_response()),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let invalid = Invalid {
                errors: e.field_errors().to_vec(),
            };
            render_home(
                &state,
                &who,
                PortalQuery::default(),
                values.rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_record.html")]
struct RecordPage {
    chrome: Chrome,
    key: String,
    title: String,
    description: String,
    status: &'static str,
    open: bool,
    messages: Vec<TimelineItem>,
    reply_form: FormState,
    /// What sending a reply will do, when it does more than add a message.
    reply_hint: Option<(&'static str, &'static str)>,
    /// The rating form, once the incident is resolved or closed (8.3.2-f).
    rating: super::satisfaction::PortalRating,
}

/// Tells the requester what their reply will do to the incident (`after_requester_reply`): the
/// explanation above the form and the button's words.
fn reply_hint(
    incident: &Incident,
    reopen_window: std::time::Duration,
) -> Option<(&'static str, &'static str)> {
    let resumes = incident
        .after_requester_reply(steward_store::now_micros(), reopen_window)
        .is_some();
    match (incident.status, resumes) {
        (Status::Resolved, true) => Some((
            "Not fixed after all? Tell us what is still wrong and we will reopen it.",
            "Reply and reopen",
        )),
        (Status::Resolved, false) => Some((
            "This was resolved a while ago, so a reply will not reopen it. If the problem is back, report it again.",
            "Send reply",
        )),
        (Status::Pending, true) => Some(("We are waiting for your answer.", "Send answer")),
        _ => None,
    }
}

pub async fn render_record(
    state: &AppState,
    who: &Principal,
    key: &str,
    reply_form: FormState,
    status: StatusCode,
) -> UiResult {
    render_record_rated(state, who, key, reply_form, FormState::default(), status).await
}

/// The requester's record page, with what they typed in the rating form kept.
pub async fn render_record_rated(
    state: &AppState,
    who: &Principal,
    key: &str,
    reply_form: FormState,
    rating_form: FormState,
    status: StatusCode,
) -> UiResult {
    // The portal shows a requester's own records only, whatever else the viewer may see.
    let incident = find(state, who, key).await?;
    if incident.requester_user_id != Some(who.user.id) {
        return Err(UiError::NotFound);
    }
    let messages = state
        .store
        .incident_comments(who.tenant_id(), incident.id, true)
        .await?
        .into_iter()
        .map(|c| TimelineItem {
            at_micros: c.created_at,
            at: when(c.created_at),
            who: c.author,
            kind: "reply",
            label: "reply",
            text: c.body,
        })
        .collect();
    let settings = state.store.settings(who.tenant_id()).await?;
    let reply_hint = reply_hint(&incident, settings.reopen_window());
    let rating = Box::pin(super::satisfaction::PortalRating::of(
        state,
        who,
        &incident,
        rating_form,
    ))
    .await?;
    let page = RecordPage {
        rating,
        chrome: Chrome::new(state, who, "/portal").await,
        reply_hint,
        key: incident.key(),
        status: plain_status(&incident),
        open: !incident.status.is_terminal(),
        title: incident.title,
        description: incident.description,
        messages,
        reply_form,
    };
    Ok((status, page).into_response())
}

pub async fn record(
    State(state): State<AppState>,
    who: Can<perm::RecordsOwn>,
    Path(key): Path<String>,
) -> UiResult {
    render_record(&state, &who, &key, FormState::default(), StatusCode::OK).await
}
