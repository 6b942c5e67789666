//! `/incidents/{key}/watchers`: addresses that receive an incident's public replies besides its
//! requester.

use super::attachments::target;
use super::incidents::find;
use super::{ApiJson, ApiPath, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_store::watchers::Watcher;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WatcherOut {
    pub id: i64,
    pub email: String,
    /// Set when the address belongs to a user of the organisation.
    pub user_id: Option<i64>,
    pub created_at: String,
}

impl From<Watcher> for WatcherOut {
    fn from(w: Watcher) -> Self {
        WatcherOut {
            id: w.id,
            email: w.email,
            user_id: w.user_id,
            created_at: time(w.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatcherCreate {
    pub email: String,
}

/// Adds a watcher to an incident that is still open to change; shared by API and UI.
pub async fn add_watcher(
    state: &AppState,
    who: &Principal,
    key: &str,
    email: &str,
) -> ApiResult<Watcher> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let incident = find(state, who, key).await?;
    if incident.status.is_terminal() {
        return Err(ApiError::frozen(&incident.key(), &incident.status));
    }
    let mut errors = Invalid::new();
    let email = steward_domain::validation::email(&mut errors, "email", "Email", email);
    errors.into_result(())?;
    Ok(state
        .store
        .add_watcher(who.tenant_id(), &target(&incident), &email, &who.actor())
        .await?)
}

/// Removes one watcher of an incident; shared by API and UI.
pub async fn remove_watcher(
    state: &AppState,
    who: &Principal,
    key: &str,
    id: i64,
) -> ApiResult<Watcher> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let incident = find(state, who, key).await?;
    Ok(state
        .store
        .remove_watcher(who.tenant_id(), &target(&incident), id, &who.actor())
        .await?)
}

#[utoipa::path(get, path = "/incidents/{key}/watchers", tag = "incidents",
    params(("key" = String, Path, description = "INC-42 or the numeric id")),
    responses((status = 200, body = Vec<WatcherOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<WatcherOut>>> {
    let incident = find(&state, &who, &key).await?;
    let found = state
        .store
        .watchers(who.tenant_id(), &target(&incident))
        .await?;
    Ok(Json(found.into_iter().map(WatcherOut::from).collect()))
}

#[utoipa::path(post, path = "/incidents/{key}/watchers", tag = "incidents",
    params(("key" = String, Path, description = "INC-42 or the numeric id")), request_body = WatcherCreate,
    responses((status = 201, body = WatcherOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<WatcherCreate>,
) -> ApiResult<(StatusCode, Json<WatcherOut>)> {
    let saved = add_watcher(&state, &who, &key, &body.email).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(delete, path = "/incidents/{key}/watchers/{id}", tag = "incidents",
    params(("key" = String, Path, description = "INC-42 or the numeric id"), ("id" = i64, Path, description = "The watcher's id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath((key, id)): ApiPath<(String, i64)>,
) -> ApiResult<StatusCode> {
    remove_watcher(&state, &who, &key, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
