//! `/journal`: the audit trail, for auditors and managers.

use super::{ApiQuery, ListOf, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward_store::PageRequest;
use steward_store::journal::{JournalEntry, JournalFilter};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalOut {
    pub id: i64,
    /// Position in the tenant's hash chain.
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    /// create, update or delete.
    pub action: String,
    pub record_type: String,
    pub record_id: i64,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<JournalEntry> for JournalOut {
    fn from(e: JournalEntry) -> Self {
        JournalOut {
            id: e.id,
            seq: e.seq,
            at: time(e.at_micros),
            actor_id: e.actor_id,
            actor: e.actor,
            action: e.action.as_str().to_owned(),
            record_type: e.record_type,
            record_id: e.record_id,
            before: e.before,
            after: e.after,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct JournalQuery {
    /// e.g. `service`, `customer`, `user`.
    pub record_type: Option<String>,
    pub record_id: Option<i64>,
    /// The user who made the change.
    pub actor_id: Option<i64>,
    /// RFC 3339; entries at or after.
    pub since: Option<String>,
    /// RFC 3339; entries before.
    pub until: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/journal", tag = "journal", params(JournalQuery),
    responses((status = 200, body = ListOf<JournalOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::JournalRead>,
    ApiQuery(q): ApiQuery<JournalQuery>,
) -> ApiResult<Json<ListOf<JournalOut>>> {
    let filter = JournalFilter {
        record_type: q.record_type,
        record_id: q.record_id,
        actor_id: q.actor_id,
        since_micros: q
            .since
            .as_deref()
            .map(|t| parse_time("since", t))
            .transpose()?,
        until_micros: q
            .until
            .as_deref()
            .map(|t| parse_time("until", t))
            .transpose()?,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .journal_entries(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, JournalOut::from)))
}
