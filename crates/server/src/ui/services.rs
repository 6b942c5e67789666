//! Service pages: list, view, create, edit, delete.

use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Id, Opt, UiResult, after_save, history, next_link, options, when,
};
use crate::AppState;
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
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_store::identity::UserFilter;
use steward_store::service::{Service, ServiceFilter};
use steward_store::{PageRequest, StoreError};

pub struct Row {
    pub id: i64,
    pub name: String,
    pub criticality: Criticality,
    pub status: ServiceStatus,
    pub owner: String,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "services_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    next: Option<String>,
    can_write: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    cursor: Option<String>,
    done: Option<String>,
}

/// Display names of the tenant's users, by id (for owner columns and pickers).
async fn people(state: &AppState, who: &Principal) -> Result<Vec<(i64, String)>, StoreError> {
    let page = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    let users = state
        .store
        .users(
            who.tenant_id(),
            &UserFilter {
                sort: Some("name".into()),
                ..Default::default()
            },
            &page,
        )
        .await?;
    Ok(users
        .items
        .into_iter()
        .map(|u| (u.id, format!("{} <{}>", u.name, u.email)))
        .collect())
}

fn name_of(people: &[(i64, String)], id: Option<i64>) -> String {
    id.and_then(|id| people.iter().find(|(i, _)| *i == id))
        .map_or_else(|| "—".to_owned(), |(_, n)| n.clone())
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::ServicesRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = ServiceFilter {
        q: Some(q.q.clone()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor,
    };
    let found = match state.store.services(who.tenant_id(), &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to("/services").into_response()),
        other => other?,
    };
    let people = if who.can(Permission::UsersRead) {
        people(&state, &who).await?
    } else {
        Vec::new()
    };
    let rows = found
        .items
        .into_iter()
        .map(|s| Row {
            owner: name_of(&people, s.owner_id),
            updated: when(s.updated_at),
            id: s.id,
            name: s.name,
            criticality: s.criticality,
            status: s.status,
        })
        .collect();
    let chrome = Chrome::new(&state, &who, "/services")
        .await
        .with_notice(q.done.as_deref());
    let next = next_link("/services", &[("q", &q.q)], found.next_cursor);
    Ok(ListPage {
        chrome,
        rows,
        q: q.q,
        next,
        can_write: who.can(Permission::ServicesWrite),
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "service_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    owners: Vec<Opt>,
    criticalities: Vec<Opt>,
    statuses: Vec<Opt>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ServiceForm {
    name: String,
    description: String,
    owner_id: String,
    criticality: String,
    status: String,
}

impl ServiceForm {
    fn of(s: &Service) -> ServiceForm {
        ServiceForm {
            name: s.name.clone(),
            description: s.description.clone(),
            owner_id: s.owner_id.map(|i| i.to_string()).unwrap_or_default(),
            criticality: s.criticality.to_string(),
            status: s.status.to_string(),
        }
    }

    fn state(&self) -> FormState {
        FormState::with(&[
            ("name", &self.name),
            ("description", &self.description),
            ("owner_id", &self.owner_id),
            ("criticality", &self.criticality),
            ("status", &self.status),
        ])
    }

    fn draft(&self) -> Result<ServiceDraft, Invalid> {
        let mut errors = Invalid::new();
        let owner_id = match self.owner_id.trim() {
            "" => None,
            text => text.parse().ok().or_else(|| {
                errors.add("owner_id", "Choose an owner from the list");
                None
            }),
        };
        let criticality = Criticality::parse(&self.criticality).unwrap_or_else(|| {
            errors.add("criticality", "Choose high, medium or low");
            Criticality::default()
        });
        let status = ServiceStatus::parse(&self.status).unwrap_or_else(|| {
            errors.add("status", "Choose pipeline, live or retired");
            ServiceStatus::default()
        });
        let draft = ServiceDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            owner_id,
            criticality,
            status,
        };
        match draft.validate() {
            Ok(draft) if errors.errors.is_empty() => Ok(draft),
            Ok(_) => Err(errors),
            Err(mut more) => {
                more.errors.extend(errors.errors);
                Err(more)
            }
        }
    }
}

struct FormTarget {
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    target: FormTarget,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let mut owner_choices = vec![(String::new(), "— nobody yet —".to_owned())];
    owner_choices.extend(
        people(state, who)
            .await?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name)),
    );
    let owners = options(owner_choices, form.value("owner_id"));
    let criticalities = options(
        Criticality::ALL
            .iter()
            .map(|c| (c.to_string(), c.to_string())),
        form.value("criticality"),
    );
    let statuses = options(
        ServiceStatus::ALL
            .iter()
            .map(|s| (s.to_string(), s.to_string())),
        form.value("status"),
    );
    let chrome = Chrome::new(state, who, "/services").await;
    let page = FormPage {
        chrome,
        heading: target.heading,
        action: target.action,
        submit: target.submit,
        cancel: target.cancel,
        form,
        owners,
        criticalities,
        statuses,
    };
    Ok((status, page).into_response())
}

fn new_target() -> FormTarget {
    FormTarget {
        heading: "New service".into(),
        action: "/services".into(),
        submit: "Create service",
        cancel: "/services".into(),
    }
}

fn edit_target(s: &Service) -> FormTarget {
    FormTarget {
        heading: format!("Edit {}", s.name),
        action: format!("/services/{}", s.id),
        submit: "Save",
        cancel: format!("/services/{}", s.id),
    }
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::ServicesWrite>) -> UiResult {
    let blank = ServiceForm {
        criticality: "medium".into(),
        status: "pipeline".into(),
        ..Default::default()
    };
    render_form(&state, &who, new_target(), blank.state(), StatusCode::OK).await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Form(form): Form<ServiceForm>,
) -> UiResult {
    let saved = async {
        let draft = form.draft()?;
        state
            .store
            .create_service(who.tenant_id(), &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |service| format!("/services/{}?done=created", service.id),
        |invalid| {
            render_form(
                &state,
                &who,
                new_target(),
                form.state().rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "service_view.html")]
struct ViewPage {
    chrome: Chrome,
    service: Service,
    owner: String,
    created: String,
    updated: String,
    can_write: bool,
    history: Option<Vec<HistoryRow>>,
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::ServicesRead>,
    Id(id): Id<i64>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    let service = state.store.service(who.tenant_id(), id).await?;
    let owner = match service.owner_id {
        Some(owner) => state
            .store
            .user(who.tenant_id(), owner)
            .await
            .map(|u| u.name)
            .unwrap_or_default(),
        None => "—".to_owned(),
    };
    let chrome = Chrome::new(&state, &who, "/services")
        .await
        .with_notice(q.done.as_deref());
    Ok(ViewPage {
        chrome,
        owner,
        created: when(service.created_at),
        updated: when(service.updated_at),
        can_write: who.can(Permission::ServicesWrite),
        history: history(&state, &who, "service", id).await,
        service,
    }
    .into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    let service = state.store.service(who.tenant_id(), id).await?;
    render_form(
        &state,
        &who,
        edit_target(&service),
        ServiceForm::of(&service).state(),
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Id(id): Id<i64>,
    Form(form): Form<ServiceForm>,
) -> UiResult {
    let current = state.store.service(who.tenant_id(), id).await?;
    let saved = async {
        let draft = form.draft()?;
        state
            .store
            .update_service(who.tenant_id(), id, &draft, &who.actor())
            .await
    }
    .await;
    after_save(
        saved,
        |_| format!("/services/{id}?done=saved"),
        |invalid| {
            render_form(
                &state,
                &who,
                edit_target(&current),
                form.state().rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        },
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Id(id): Id<i64>,
) -> UiResult {
    state
        .store
        .delete_service(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Redirect::to("/services?done=deleted").into_response())
}
