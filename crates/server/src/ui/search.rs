//! The search page behind the search box in the top bar.

use super::{Chrome, UiResult};
use crate::AppState;
use crate::api::search::{Hit, search};
use crate::auth::Principal;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    hits: Vec<Hit>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
}

/// Shows every hit; a key that names exactly one record goes straight to it.
pub async fn page(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<SearchQuery>,
) -> UiResult {
    let hits = search(&state, &who, &q.q, 20).await?;
    if let Some(first) = hits
        .first()
        .filter(|h| h.key.eq_ignore_ascii_case(q.q.trim()) && h.key.contains('-'))
    {
        return Ok(Redirect::to(&first.href).into_response());
    }
    let chrome = Chrome::new(&state, &who, "/search").await;
    Ok(SearchPage {
        chrome,
        q: q.q,
        hits,
    }
    .into_response())
}
