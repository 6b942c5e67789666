//! `/users`: people who sign in. Users are deactivated, never deleted: the journal names them.

use super::{ApiJson, ApiPath, ApiQuery, ListOf, time};
use crate::AppState;
use crate::auth::{Can, hash_password, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::access::Role;
use steward_domain::user::{UserDraft, check_password, name_from_email};
use steward_store::PageRequest;
use steward_store::identity::{User, UserFilter};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[schema(value_type = String, example = "agent")]
    pub role: Role,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            active: u.active,
            created_at: time(u.created_at),
            updated_at: time(u.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    pub email: String,
    /// Defaults to a name made from the e-mail address.
    pub name: Option<String>,
    /// admin, manager, agent, auditor or requester.
    #[schema(value_type = String, example = "agent")]
    pub role: Role,
    /// At least 10 characters. Without one, the user cannot sign in until an admin sets it.
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Sets a new password (admin reset).
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UserQuery {
    /// Words in the e-mail address or name.
    pub q: Option<String>,
    #[param(value_type = Option<String>)]
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// `email` (default), `name` or `created_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/users", tag = "users", params(UserQuery),
    responses((status = 200, body = ListOf<UserOut>), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::UsersRead>,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> ApiResult<Json<ListOf<UserOut>>> {
    let filter = UserFilter {
        role: q.role,
        active: q.active,
        q: q.q,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state.store.users(who.tenant_id(), &filter, &page).await?;
    Ok(Json(ListOf::from_page(found, UserOut::from)))
}

async fn optional_hash(password: Option<String>) -> ApiResult<Option<String>> {
    match password {
        Some(p) => {
            check_password("password", &p)?;
            Ok(Some(hash_password(p).await?))
        }
        None => Ok(None),
    }
}

#[utoipa::path(post, path = "/users", tag = "users", request_body = UserCreate,
    responses((status = 201, body = UserOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    ApiJson(body): ApiJson<UserCreate>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let name = body
        .name
        .unwrap_or_else(|| name_from_email(body.email.trim()));
    let draft = UserDraft {
        email: body.email,
        name,
        role: body.role,
        active: true,
    }
    .validate()?;
    let hash = optional_hash(body.password).await?;
    let user = state
        .store
        .create_user(who.tenant_id(), &draft, hash.as_deref(), &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = UserOut), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::UsersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<UserOut>> {
    Ok(Json(state.store.user(who.tenant_id(), id).await?.into()))
}

/// Admins may not demote or deactivate themselves: that is how organisations lock themselves out.
fn guard_self(who_id: i64, target: i64, draft: &UserDraft) -> Result<(), Invalid> {
    if who_id == target && (!draft.active || draft.role != Role::Admin) {
        Err(Invalid::one(
            "role",
            "You cannot remove your own admin role or deactivate yourself; ask another admin",
        ))
    } else {
        Ok(())
    }
}

#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = UserOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> ApiResult<Json<UserOut>> {
    let current = state.store.user(who.tenant_id(), id).await?;
    let draft = UserDraft {
        email: patch.email.unwrap_or(current.email),
        name: patch.name.unwrap_or(current.name),
        role: patch.role.unwrap_or(current.role),
        active: patch.active.unwrap_or(current.active),
    }
    .validate()?;
    guard_self(who.user.id, id, &draft)?;
    let hash = optional_hash(patch.password).await?;
    let user = state
        .store
        .update_user(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    if let Some(hash) = hash {
        state
            .store
            .set_password(who.tenant_id(), id, &hash, None, &who.actor())
            .await?;
    }
    Ok(Json(user.into()))
}

#[utoipa::path(delete, path = "/users/{id}", tag = "users", params(("id" = i64, Path)),
    description = "Deactivates the user: they can no longer sign in and their tokens stop working.",
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let current = state.store.user(who.tenant_id(), id).await?;
    if !current.active {
        return Err(ApiError::not_found());
    }
    let draft = UserDraft {
        email: current.email,
        name: current.name,
        role: current.role,
        active: false,
    };
    guard_self(who.user.id, id, &draft)?;
    state
        .store
        .update_user(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
