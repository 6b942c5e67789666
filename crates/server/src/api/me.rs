//! `/me`: the signed-in user, and changing one's own password.

use super::ApiJson;
use super::users::UserOut;
use crate::AppState;
use crate::auth::{Principal, hash_password, verify_password};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use steward_domain::Invalid;
use steward_domain::user::check_password;
use utoipa::ToSchema;

#[utoipa::path(get, path = "/me", tag = "me", responses((status = 200, body = UserOut), (status = 401, body = Problem)))]
pub async fn get_me(who: Principal) -> Json<UserOut> {
    Json(who.user.into())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

/// Changes the caller's password after checking the current one; other sessions end.
pub async fn change_own_password(
    state: &AppState,
    who: &Principal,
    current: String,
    new: String,
) -> ApiResult<()> {
    let stored = state
        .store
        .password_hash(who.tenant_id(), who.user.id)
        .await?;
    if !verify_password(current, stored).await {
        return Err(Invalid::one("current_password", "Current password is not correct").into());
    }
    check_password("new_password", &new)?;
    let hash = hash_password(new).await?;
    let keep = who.session.as_ref().map(|s| s.id_hash.as_str());
    state
        .store
        .set_password(who.tenant_id(), who.user.id, &hash, keep, &who.actor())
        .await?;
    Ok(())
}

#[utoipa::path(post, path = "/me/password", tag = "me", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = Problem), (status = 401, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    who: Principal,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    change_own_password(&state, &who, body.current_password, body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
