//! `/knowledge`: articles that answer recurring questions (ISO/IEC 20000-1 7.6).
//!
//! Agents, managers and admins write; everyone who reads records reads every article;
//! requesters read only articles that are published and public (anything else is a 404).

use super::{ApiJson, ApiPath, ApiQuery, KeyRef, ListOf, nullable, opt_time, time};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::access::Permission;
use steward_domain::knowledge::{ArticleDraft, ArticleStatus};
use steward_store::knowledge::{Article, ArticleChange, ArticleFilter, ArticleVersion};
use steward_store::{PageRequest, now_micros};
use utoipa::{IntoParams, ToSchema};

/// Whether the caller may read the knowledge base at all.
pub fn readable(who: &Principal) -> bool {
    who.can(Permission::RecordsRead) || who.can(Permission::RecordsOwn)
}

/// Whether the caller reads only published public articles.
pub fn public_only(who: &Principal) -> ApiResult<bool> {
    if who.can(Permission::RecordsRead) {
        Ok(false)
    } else if who.can(Permission::RecordsOwn) {
        Ok(true)
    } else {
        Err(ApiError::forbidden())
    }
}

/// Finds an article by key (`KB-7`) or id, within what the caller may read.
pub async fn find(state: &AppState, who: &Principal, key: &str) -> ApiResult<Article> {
    let public_only = public_only(who)?;
    let article = match KeyRef::parse(key, "KB")? {
        KeyRef::Number(n) => state.store.article_by_number(who.tenant_id(), n).await?,
        KeyRef::Id(id) => state.store.article(who.tenant_id(), id).await?,
    };
    if public_only && !article.is_public_now() {
        return Err(ApiError::not_found());
    }
    Ok(article)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleOut {
    pub id: i64,
    /// `KB-n`, numbered per tenant.
    pub key: String,
    pub title: String,
    pub body: String,
    pub status: ArticleStatus,
    /// Requesters may read it once it is published.
    pub public: bool,
    pub service_id: Option<i64>,
    /// The current version; every change of title or body adds one.
    pub version: i64,
    pub author_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: Option<String>,
    /// Statuses the lifecycle allows next.
    pub allowed_transitions: Vec<ArticleStatus>,
}

impl From<Article> for ArticleOut {
    fn from(a: Article) -> Self {
        ArticleOut {
            key: a.key(),
            allowed_transitions: a.status.next().to_vec(),
            id: a.id,
            title: a.title,
            body: a.body,
            status: a.status,
            public: a.public,
            service_id: a.service_id,
            version: a.version,
            author_id: a.author_id,
            created_at: time(a.created_at),
            updated_at: time(a.updated_at),
            published_at: opt_time(a.published_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    pub version: i64,
    pub title: String,
    pub author_id: Option<i64>,
    pub author: String,
    pub created_at: String,
}

impl From<ArticleVersion> for VersionOut {
    fn from(v: ArticleVersion) -> Self {
        VersionOut {
            version: v.version,
            title: v.title,
            author_id: v.author_id,
            author: v.author,
            created_at: time(v.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleCreate {
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// Defaults to `false` (internal to the service desk).
    #[serde(default)]
    pub public: bool,
    pub service_id: Option<i64>,
}

/// Fields to change; `status` moves the article through its lifecycle. A new title or body
/// becomes the next version, also while the article is published.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticlePatch {
    pub title: Option<String>,
    pub body: Option<String>,
    pub public: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub service_id: Option<Option<i64>>,
    pub status: Option<ArticleStatus>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ArticleQuery {
    /// Full text over title and body; every word must match (stemmed).
    pub q: Option<String>,
    pub status: Option<ArticleStatus>,
    pub public: Option<bool>,
    pub service_id: Option<i64>,
    /// `updated_at` or `title`; a leading `-` sorts descending. Default `-updated_at`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Lists articles within what the caller may read; shared by API and UI.
pub async fn search(
    state: &AppState,
    who: &Principal,
    filter: ArticleFilter,
    page: &PageRequest,
) -> ApiResult<steward_store::Page<Article>> {
    let filter = if public_only(who)? {
        filter.for_requesters()
    } else {
        filter
    };
    Ok(state.store.articles(who.tenant_id(), &filter, page).await?)
}

#[utoipa::path(get, path = "/knowledge", tag = "knowledge", params(ArticleQuery),
    responses((status = 200, body = ListOf<ArticleOut>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<ArticleQuery>,
) -> ApiResult<Json<ListOf<ArticleOut>>> {
    let filter = ArticleFilter {
        q: q.q,
        status: q.status,
        public: q.public,
        service_id: q.service_id,
        sort: q.sort,
        requesters_only: false,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = search(&state, &who, filter, &page).await?;
    Ok(Json(ListOf::from_page(found, ArticleOut::from)))
}

/// Writes a new draft article; shared by API and UI.
pub async fn write_article(
    state: &AppState,
    who: &Principal,
    body: ArticleCreate,
) -> ApiResult<Article> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let draft = ArticleDraft {
        title: body.title,
        body: body.body,
        public: body.public,
        service_id: body.service_id,
    }
    .validate()?;
    Ok(state
        .store
        .create_article(who.tenant_id(), &draft, &who.actor())
        .await?)
}

#[utoipa::path(post, path = "/knowledge", tag = "knowledge", request_body = ArticleCreate,
    responses((status = 201, body = ArticleOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<ArticleCreate>,
) -> ApiResult<(StatusCode, Json<ArticleOut>)> {
    let article = write_article(&state, &who, body).await?;
    Ok((StatusCode::CREATED, Json(article.into())))
}

#[utoipa::path(get, path = "/knowledge/{key}", tag = "knowledge", params(("key" = String, Path, description = "KB-7 or the numeric id")),
    responses((status = 200, body = ArticleOut), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ArticleOut>> {
    Ok(Json(find(&state, &who, &key).await?.into()))
}

/// Applies a patch through the lifecycle's rules; shared by API and UI.
pub async fn change_article(
    state: &AppState,
    who: &Principal,
    key: &str,
    patch: ArticlePatch,
) -> ApiResult<Article> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let current = find(state, who, key).await?;
    if current.status.is_terminal() {
        return Err(ApiError::frozen(&current.key(), &current.status));
    }
    let draft = ArticleDraft {
        title: patch.title.unwrap_or_else(|| current.title.clone()),
        body: patch.body.unwrap_or_else(|| current.body.clone()),
        public: patch.public.unwrap_or(current.public),
        service_id: patch.service_id.unwrap_or(current.service_id),
    }
    .validate()?;
    let mut change = ArticleChange {
        draft,
        status: current.status,
        published_at: current.published_at,
    };
    if let Some(to) = patch.status.filter(|to| *to != current.status) {
        let t = current.status.transition(to).map_err(|refusal| {
            let allowed = refusal
                .allowed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>();
            ApiError::transition(
                format!(
                    "{} cannot go from {} to {to}; allowed: {}",
                    current.key(),
                    current.status,
                    allowed.join(", ")
                ),
                allowed.into_iter().map(str::to_owned).collect(),
            )
        })?;
        change.status = t.to;
        if t.set_published_at {
            change.published_at = Some(now_micros());
        }
    }
    Ok(state
        .store
        .update_article(
            who.tenant_id(),
            current.id,
            current.updated_at,
            &change,
            &who.actor(),
        )
        .await?)
}

#[utoipa::path(patch, path = "/knowledge/{key}", tag = "knowledge", params(("key" = String, Path, description = "KB-7 or the numeric id")),
    request_body = ArticlePatch,
    responses((status = 200, body = ArticleOut), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
    ApiJson(patch): ApiJson<ArticlePatch>,
) -> ApiResult<Json<ArticleOut>> {
    Ok(Json(
        change_article(&state, &who, &key, patch).await?.into(),
    ))
}

#[utoipa::path(get, path = "/knowledge/{key}/versions", tag = "knowledge", params(("key" = String, Path, description = "KB-7 or the numeric id")),
    responses((status = 200, body = Vec<VersionOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn versions(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<VersionOut>>> {
    let article = find(&state, &who, &key).await?;
    // Earlier versions may hold text that was never public: writers' history only.
    if !who.can(Permission::RecordsRead) {
        return Err(ApiError::forbidden());
    }
    let versions = state
        .store
        .article_versions(who.tenant_id(), article.id)
        .await?;
    Ok(Json(versions.into_iter().map(VersionOut::from).collect()))
}
