//! Knowledge pages: list and search, read, write, move through the lifecycle.
//!
//! Requesters use the same pages and see only published public articles; anything else is a
//! page that does not exist for them.

use super::session::DoneQuery;
use super::{
    Chrome, FormState, HistoryRow, Opt, UiError, UiResult, history, next_link, options, when,
};
use crate::AppState;
use crate::api::knowledge::{
    ArticleCreate, ArticlePatch, change_article, find, readable, search, write_article,
};
use crate::auth::{Can, Principal, perm};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::knowledge::ArticleStatus;
use steward_store::PageRequest;
use steward_store::knowledge::{Article, ArticleFilter};
use steward_store::service::ServiceFilter;

/// The knowledge pages answer "not found" to anyone who may not read articles.
fn reader(who: &Principal) -> Result<(), UiError> {
    if readable(who) {
        Ok(())
    } else {
        Err(UiError::NotFound)
    }
}

/// A 422 becomes the field errors to show; a 409 becomes one message; anything else fails.
fn rejected(e: ApiError) -> Result<Invalid, UiError> {
    match e.refusal("status") {
        Some(invalid) => Ok(invalid),
        None => Err(e.into()),
    }
}

/// The tenant's live services, by id, for pickers and labels.
async fn services(state: &AppState, who: &Principal) -> Result<Vec<(i64, String)>, UiError> {
    let page = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    let found = state
        .store
        .services(
            who.tenant_id(),
            &ServiceFilter {
                sort: Some("name".into()),
                ..Default::default()
            },
            &page,
        )
        .await?;
    Ok(found.items.into_iter().map(|s| (s.id, s.name)).collect())
}

fn service_name(services: &[(i64, String)], id: Option<i64>) -> String {
    id.and_then(|id| services.iter().find(|(i, _)| *i == id))
        .map_or_else(|| "—".to_owned(), |(_, n)| n.clone())
}

pub struct Row {
    pub key: String,
    pub title: String,
    pub status: ArticleStatus,
    pub public: bool,
    pub version: i64,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    status: String,
    statuses: Vec<Opt>,
    next: Option<String>,
    can_write: bool,
    /// Requesters see published public articles only, so no status filter.
    internal: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    status: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<ListQuery>,
) -> UiResult {
    reader(&who)?;
    let filter = ArticleFilter {
        q: Some(q.q.clone()).filter(|t| !t.trim().is_empty()),
        status: ArticleStatus::parse(&q.status),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor,
    };
    let found = match search(&state, &who, filter, &page).await {
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            return Ok(Redirect::to("/knowledge").into_response());
        }
        other => other?,
    };
    let rows = found
        .items
        .into_iter()
        .map(|a| Row {
            key: a.key(),
            updated: when(a.updated_at),
            title: a.title,
            status: a.status,
            public: a.public,
            version: a.version,
        })
        .collect();
    let mut choices = vec![(String::new(), "Any status".to_owned())];
    choices.extend(
        ArticleStatus::ALL
            .iter()
            .map(|s| (s.to_string(), s.to_string())),
    );
    let chrome = Chrome::new(&state, &who, "/knowledge")
        .await
        .with_notice(q.done.as_deref());
    let next = next_link(
        "/knowledge",
        &[("q", &q.q), ("status", &q.status)],
        found.next_cursor,
    );
    Ok(ListPage {
        chrome,
        rows,
        statuses: options(choices, &q.status),
        q: q.q,
        status: q.status,
        next,
        can_write: who.can(Permission::RecordsWrite),
        internal: who.can(Permission::RecordsRead),
    }
    .into_response())
}

/// A status the article may move to, as a button.
pub struct Offer {
    pub status: &'static str,
    pub label: &'static str,
}

fn offer(from: ArticleStatus, to: ArticleStatus) -> Offer {
    let label = match (from, to) {
        (_, ArticleStatus::Review) => "Submit for review",
        (_, ArticleStatus::Draft) => "Send back to draft",
        (_, ArticleStatus::Published) => "Publish",
        (_, ArticleStatus::Retired) => "Retire",
    };
    Offer {
        status: to.as_str(),
        label,
    }
}

/// The body as paragraphs (blank lines separate them); askama escapes the text.
pub fn paragraphs(body: &str) -> Vec<String> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

pub struct VersionRow {
    pub version: i64,
    pub title: String,
    pub author: String,
    pub at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge_view.html")]
struct ViewPage {
    chrome: Chrome,
    key: String,
    article: Article,
    paragraphs: Vec<String>,
    service: String,
    created: String,
    updated: String,
    published: String,
    can_write: bool,
    terminal: bool,
    transitions: Vec<Offer>,
    form: FormState,
    versions: Option<Vec<VersionRow>>,
    history: Option<Vec<HistoryRow>>,
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    key: &str,
    form: FormState,
    done: Option<&str>,
    status: StatusCode,
) -> UiResult {
    reader(who)?;
    let article = find(state, who, key).await?;
    let internal = who.can(Permission::RecordsRead);
    let versions = if internal {
        let rows = state
            .store
            .article_versions(who.tenant_id(), article.id)
            .await?
            .into_iter()
            .rev()
            .map(|v| VersionRow {
                version: v.version,
                title: v.title,
                author: v.author,
                at: when(v.created_at),
            })
            .collect();
        Some(rows)
    } else {
        None
    };
    let service = service_name(&services(state, who).await?, article.service_id);
    let page = ViewPage {
        chrome: Chrome::new(state, who, "/knowledge")
            .await
            .with_notice(done),
        key: article.key(),
        paragraphs: paragraphs(&article.body),
        service,
        created: when(article.created_at),
        updated: when(article.updated_at),
        published: article.published_at.map_or_else(|| "—".into(), when),
        can_write: who.can(Permission::RecordsWrite),
        terminal: article.status.is_terminal(),
        transitions: article
            .status
            .next()
            .iter()
            .map(|to| offer(article.status, *to))
            .collect(),
        form,
        versions,
        history: history(state, who, "article", article.id).await,
        article,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Principal,
    Path(key): Path<String>,
    Query(q): Query<DoneQuery>,
) -> UiResult {
    render_view(
        &state,
        &who,
        &key,
        FormState::default(),
        q.done.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct StatusForm {
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<StatusForm>,
) -> UiResult {
    let Some(status) = ArticleStatus::parse(&form.status) else {
        return Err(UiError::NotFound);
    };
    let patch = ArticlePatch {
        status: Some(status),
        ..Default::default()
    };
    match change_article(&state, &who, &key, patch).await {
        Ok(a) => Ok(Redirect::to(&format!("/knowledge/{}?done=saved", a.key())).into_response()),
        Err(e) => {
            let status = e.status();
            let invalid = rejected(e)?;
            render_view(
                &state,
                &who,
                &key,
                FormState::default().rejected(invalid),
                None,
                status,
            )
            .await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "knowledge_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    public: bool,
    services: Vec<Opt>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ArticleForm {
    title: String,
    body: String,
    /// A checkbox: present (`on`) when ticked, absent otherwise.
    public: String,
    service_id: String,
}

impl ArticleForm {
    fn of(a: &Article) -> ArticleForm {
        ArticleForm {
            title: a.title.clone(),
            body: a.body.clone(),
            public: if a.public { "on".into() } else { String::new() },
            service_id: a.service_id.map(|i| i.to_string()).unwrap_or_default(),
        }
    }

    fn state(&self) -> FormState {
        FormState::with(&[
            ("title", &self.title),
            ("body", &self.body),
            ("public", &self.public),
            ("service_id", &self.service_id),
        ])
    }

    fn public(&self) -> bool {
        matches!(self.public.as_str(), "on" | "true" | "1")
    }

    fn service_id(&self) -> Result<Option<i64>, Invalid> {
        match self.service_id.trim() {
            "" => Ok(None),
            text => text
                .parse()
                .map(Some)
                .map_err(|_| Invalid::one("service_id", "Choose a service from the list")),
        }
    }
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    current: Option<&Article>,
    form: FormState,
    status: StatusCode,
) -> UiResult {
    let mut choices = vec![(String::new(), "— no service —".to_owned())];
    choices.extend(
        services(state, who)
            .await?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name)),
    );
    let (heading, action, submit, cancel) = match current {
        Some(a) => (
            format!("Edit {}", a.key()),
            format!("/knowledge/{}/edit", a.key()),
            "Save as new version",
            format!("/knowledge/{}", a.key()),
        ),
        None => (
            "New article".to_owned(),
            "/knowledge".to_owned(),
            "Create draft",
            "/knowledge".to_owned(),
        ),
    };
    let page = FormPage {
        chrome: Chrome::new(state, who, "/knowledge").await,
        heading,
        action,
        submit,
        cancel,
        public: matches!(form.value("public"), "on" | "true" | "1"),
        services: options(choices, form.value("service_id")),
        form,
    };
    Ok((status, page).into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::RecordsWrite>) -> UiResult {
    render_form(
        &state,
        &who,
        None,
        ArticleForm::default().state(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Form(form): Form<ArticleForm>,
) -> UiResult {
    let created = match form.service_id() {
        Ok(service_id) => {
            let body = ArticleCreate {
                title: form.title.clone(),
                body: form.body.clone(),
                public: form.public(),
                service_id,
            };
            write_article(&state, &who, body).await.map_err(rejected)
        }
        Err(invalid) => Err(Ok(invalid)),
    };
    match created {
        Ok(a) => Ok(Redirect::to(&format!("/knowledge/{}?done=created", a.key())).into_response()),
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
    let article = find(&state, &who, &key).await?;
    render_form(
        &state,
        &who,
        Some(&article),
        ArticleForm::of(&article).state(),
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    Path(key): Path<String>,
    Form(form): Form<ArticleForm>,
) -> UiResult {
    let current = find(&state, &who, &key).await?;
    let saved = match form.service_id() {
        Ok(service_id) => {
            let patch = ArticlePatch {
                title: Some(form.title.clone()),
                body: Some(form.body.clone()),
                public: Some(form.public()),
                service_id: Some(service_id),
                status: None,
            };
            change_article(&state, &who, &key, patch)
                .await
                .map_err(rejected)
        }
        Err(invalid) => Err(Ok(invalid)),
    };
    match saved {
        Ok(a) => Ok(Redirect::to(&format!("/knowledge/{}?done=saved", a.key())).into_response()),
        Err(Ok(invalid)) => {
            render_form(
                &state,
                &who,
                Some(&current),
                form.state().rejected(invalid),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_separate_paragraphs() {
        assert_eq!(
            paragraphs("First line\nsame paragraph\r\n\r\n\n  Second <b>  \n\n"),
            ["First line\nsame paragraph", "Second <b>"]
        );
        assert!(paragraphs(" \n\n ").is_empty());
    }
}
