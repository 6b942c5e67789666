//! `/settings`: the tenant's process settings. Everyone signed in may read them (they explain
//! priorities and windows); only admins change them.

use super::ApiJson;
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward_domain::incident::{Priority, PriorityMatrix};
use steward_domain::settings::TenantSettings;
use utoipa::ToSchema;

/// The settings as the API shows and takes them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// Rows by impact (low, medium, high), columns by urgency (low, medium, high), each `P1`–`P5`.
    pub priority_matrix: [[Priority; 3]; 3],
    /// Days after resolution in which an incident may be reopened (0–365).
    pub reopen_window_days: u32,
    /// Incidents on one service that make a problem candidate (2–1000)...
    pub candidate_threshold: u32,
    /// ...within this many days (1–365).
    pub candidate_window_days: u32,
}

impl From<TenantSettings> for SettingsBody {
    fn from(s: TenantSettings) -> Self {
        SettingsBody {
            priority_matrix: s.priority_matrix.cells,
            reopen_window_days: s.reopen_window_days,
            candidate_threshold: s.candidate_threshold,
            candidate_window_days: s.candidate_window_days,
        }
    }
}

impl From<SettingsBody> for TenantSettings {
    fn from(b: SettingsBody) -> Self {
        TenantSettings {
            priority_matrix: PriorityMatrix {
                cells: b.priority_matrix,
            },
            reopen_window_days: b.reopen_window_days,
            candidate_threshold: b.candidate_threshold,
            candidate_window_days: b.candidate_window_days,
        }
    }
}

#[utoipa::path(get, path = "/settings", tag = "settings", responses((status = 200, body = SettingsBody), (status = 401, body = Problem)))]
pub async fn get(State(state): State<AppState>, who: Principal) -> ApiResult<Json<SettingsBody>> {
    Ok(Json(state.store.settings(who.tenant_id()).await?.into()))
}

/// Validates and stores new settings; shared by API and UI.
pub async fn replace(
    state: &AppState,
    who: &Principal,
    settings: TenantSettings,
) -> ApiResult<TenantSettings> {
    let settings = settings.validate()?;
    state
        .store
        .save_settings(who.tenant_id(), &settings, &who.actor())
        .await?;
    Ok(settings)
}

#[utoipa::path(put, path = "/settings", tag = "settings", request_body = SettingsBody,
    responses((status = 200, body = SettingsBody), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn put(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    ApiJson(body): ApiJson<SettingsBody>,
) -> ApiResult<Json<SettingsBody>> {
    Ok(Json(replace(&state, &who, body.into()).await?.into()))
}
