//! `/tokens`: API tokens. Everyone manages their own; admins see and revoke all.

use super::{ApiJson, ApiPath, opt_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_store::token::ApiToken;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The start of the secret, to tell tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<ApiToken> for TokenOut {
    fn from(t: ApiToken) -> Self {
        TokenOut {
            id: t.id,
            user_id: t.user_id,
            name: t.name,
            prefix: t.prefix,
            created_at: time(t.created_at),
            last_used_at: opt_time(t.last_used_at),
            revoked_at: opt_time(t.revoked_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    /// What the token is for, e.g. `monitoring`.
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    pub token: TokenOut,
    /// The bearer secret. Shown once; only its hash is stored.
    pub secret: String,
}

#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses((status = 200, body = Vec<TokenOut>), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::TokensOwn>,
) -> ApiResult<Json<Vec<TokenOut>>> {
    let only = if who.can(Permission::TokensAll) {
        None
    } else {
        Some(who.user.id)
    };
    let tokens = state.store.tokens(who.tenant_id(), only).await?;
    Ok(Json(tokens.into_iter().map(TokenOut::from).collect()))
}

#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = TokenCreate,
    responses((status = 201, body = TokenCreated), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::TokensOwn>,
    ApiJson(body): ApiJson<TokenCreate>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Invalid::one("name", "Label is required (at most 100 characters)").into());
    }
    let (token, secret) = state
        .store
        .create_token(who.tenant_id(), who.user.id, name, &who.actor())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            token: token.into(),
            secret,
        }),
    ))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    who: Can<perm::TokensOwn>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let token = state.store.token(who.tenant_id(), id).await?;
    if token.user_id != who.user.id && !who.can(Permission::TokensAll) {
        return Err(ApiError::not_found());
    }
    state
        .store
        .revoke_token(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
