//! `POST /incidents/bulk`: one change applied to many incidents, each on its own, with a result
//! per incident (a refusal for one never blocks or undoes the others).

use super::ApiJson;
use super::incidents::{IncidentPatch, change_incident};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use utoipa::ToSchema;

/// The most incidents one bulk call may change.
pub const MAX_BULK: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkChange {
    /// Incident keys (`INC-42`) or ids.
    pub keys: Vec<String>,
    /// The same fields as `PATCH /incidents/{key}`, applied to each incident.
    pub changes: IncidentPatch,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkItem {
    pub key: String,
    /// The HTTP status the change would have had on its own: 200, or the refusal's.
    pub status: u16,
    /// Why the change was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub changed: usize,
    pub refused: usize,
    pub results: Vec<BulkItem>,
}

/// Applies `changes` to each incident in turn; shared by API and UI.
pub async fn apply(
    state: &AppState,
    who: &Principal,
    keys: &[String],
    changes: &IncidentPatch,
) -> ApiResult<BulkResult> {
    if keys.is_empty() || keys.len() > MAX_BULK {
        return Err(
            Invalid::one("keys", format!("Name between 1 and {MAX_BULK} incidents")).into(),
        );
    }
    let mut results = Vec::with_capacity(keys.len());
    for key in keys {
        let item = match change_incident(state, who, key, changes.clone()).await {
            Ok(incident) => BulkItem {
                key: incident.key(),
                status: 200,
                detail: None,
            },
            Err(e) => BulkItem {
                key: key.clone(),
                status: e.status().as_u16(),
                detail: Some(e.detail().to_owned()),
            },
        };
        results.push(item);
    }
    let changed = results.iter().filter(|r| r.status == 200).count();
    Ok(BulkResult {
        changed,
        refused: results.len() - changed,
        results,
    })
}

#[utoipa::path(post, path = "/incidents/bulk", tag = "incidents", request_body = BulkChange,
    description = "Applies one change to many incidents. Each incident is changed on its own and gets its own result.",
    responses((status = 200, body = BulkResult), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn bulk(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiJson(body): ApiJson<BulkChange>,
) -> ApiResult<Json<BulkResult>> {
    Ok(Json(apply(&state, &who, &body.keys, &body.changes).await?))
}
