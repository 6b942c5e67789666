//! `/views`: saved list views, per user or shared (shared ones are managed by managers and admins).

use super::{ApiJson, ApiPath, ApiQuery, time};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_store::views::SavedView;
use utoipa::{IntoParams, ToSchema};

/// The lists views can be saved for.
pub const KINDS: [&str; 1] = ["incidents"];

#[derive(Debug, Serialize, ToSchema)]
pub struct ViewOut {
    pub id: i64,
    pub kind: String,
    pub name: String,
    /// The list's query string, to append to the list's URL.
    pub query: String,
    pub shared: bool,
    pub created_at: String,
}

impl From<SavedView> for ViewOut {
    fn from(v: SavedView) -> Self {
        ViewOut {
            shared: v.owner_id.is_none(),
            id: v.id,
            kind: v.kind,
            name: v.name,
            query: v.query,
            created_at: time(v.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewCreate {
    /// `incidents`.
    pub kind: String,
    pub name: String,
    /// e.g. `queue=open&q=printer`.
    #[serde(default)]
    pub query: String,
    /// Share with everyone in the organisation (managers and admins).
    #[serde(default)]
    pub shared: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ViewQuery {
    /// `incidents` (default).
    pub kind: Option<String>,
}

/// Managers and admins look after the views everyone shares.
pub fn may_share(who: &Principal) -> bool {
    who.can(Permission::ServicesWrite)
}

/// Saves a view for the caller (or shared); shared by API and UI.
pub async fn save(state: &AppState, who: &Principal, body: ViewCreate) -> ApiResult<SavedView> {
    if !who.can(Permission::RecordsRead) {
        return Err(ApiError::forbidden());
    }
    if !KINDS.contains(&body.kind.as_str()) {
        return Err(Invalid::one("kind", "Views can be saved for: incidents").into());
    }
    if body.shared && !may_share(who) {
        return Err(Invalid::one("shared", "Only managers and admins share views").into());
    }
    let owner = (!body.shared).then_some(who.user.id);
    Ok(state
        .store
        .save_view(
            who.tenant_id(),
            owner,
            &body.kind,
            &body.name,
            &body.query,
            &who.actor(),
        )
        .await?)
}

#[utoipa::path(get, path = "/views", tag = "views", params(ViewQuery),
    responses((status = 200, body = Vec<ViewOut>), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<ViewQuery>,
) -> ApiResult<Json<Vec<ViewOut>>> {
    let kind = q.kind.unwrap_or_else(|| "incidents".into());
    let views = state
        .store
        .views(who.tenant_id(), who.user.id, &kind)
        .await?;
    Ok(Json(views.into_iter().map(ViewOut::from).collect()))
}

#[utoipa::path(post, path = "/views", tag = "views", request_body = ViewCreate,
    responses((status = 201, body = ViewOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<ViewCreate>,
) -> ApiResult<(StatusCode, Json<ViewOut>)> {
    let view = save(&state, &who, body).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

#[utoipa::path(delete, path = "/views/{id}", tag = "views", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_view(
            who.tenant_id(),
            id,
            who.user.id,
            may_share(&who),
            &who.actor(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
