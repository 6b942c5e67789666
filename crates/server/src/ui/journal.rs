//! The journal page for auditors and managers.

use super::{Chrome, HistoryRow, UiResult, next_link};
use crate::AppState;
use crate::auth::{Can, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use steward_store::journal::JournalFilter;
use steward_store::{PageRequest, StoreError};

#[derive(Template, WebTemplate)]
#[template(path = "journal.html")]
struct JournalPage {
    chrome: Chrome,
    rows: Vec<HistoryRow>,
    record_type: String,
    record_id: String,
    next: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct JournalQuery {
    record_type: String,
    record_id: String,
    cursor: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    who: Can<perm::JournalRead>,
    Query(q): Query<JournalQuery>,
) -> UiResult {
    let filter = JournalFilter {
        record_type: Some(q.record_type.trim().to_owned()).filter(|t| !t.is_empty()),
        record_id: q.record_id.trim().parse().ok(),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(100),
        cursor: q.cursor,
    };
    let found = match state
        .store
        .journal_entries(who.tenant_id(), &filter, &page)
        .await
    {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to("/journal").into_response()),
        other => other?,
    };
    let next = next_link(
        "/journal",
        &[("record_type", &q.record_type), ("record_id", &q.record_id)],
        found.next_cursor,
    );
    let chrome = Chrome::new(&state, &who, "/journal").await;
    let rows = found.items.into_iter().map(HistoryRow::from).collect();
    Ok(JournalPage {
        chrome,
        rows,
        record_type: q.record_type,
        record_id: q.record_id,
        next,
    }
    .into_response())
}
