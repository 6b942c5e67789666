//! `GET /search`: one box that finds records of every kind by key or by words, ranked: an exact
//! key first, then incidents, knowledge, known errors, services and customers.

use super::ApiQuery;
use super::incidents::{Scope, scope};
use crate::AppState;
use crate::auth::Principal;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward_domain::access::Permission;
use steward_store::PageRequest;
use steward_store::incident::IncidentFilter;
use steward_store::knowledge::ArticleFilter;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hit {
    /// incident, request, problem, known_error, article, service or customer.
    pub kind: &'static str,
    /// The record's key (`INC-42`) or, for services and customers, its id.
    pub key: String,
    pub title: String,
    /// Where a person reads it.
    pub href: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub hits: Vec<Hit>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// A key such as `INC-42`, or words.
    pub q: String,
    /// Hits per kind, 1 to 50 (default 10).
    pub limit: Option<u32>,
}

/// A record named by its key, if the text is one and the caller may see it.
async fn by_key(state: &AppState, who: &Principal, text: &str) -> Option<Hit> {
    let (prefix, _) = text.split_once('-')?;
    let hit = |kind, key: String, title: String, href: String| {
        Some(Hit {
            kind,
            key,
            title,
            href,
        })
    };
    match prefix.to_ascii_uppercase().as_str() {
        "INC" => {
            let i = super::incidents::find(state, who, text).await.ok()?;
            let href = crate::ui::record_href(who, &i.key());
            hit("incident", i.key(), i.title, href)
        }
        "REQ" => {
            let r = super::requests::find_request(state, who, text).await.ok()?;
            hit(
                "request",
                r.key(),
                r.title.clone(),
                format!("/requests/{}", r.key()),
            )
        }
        "PRB" => {
            let p = super::problems::find_problem(state, who, text).await.ok()?;
            hit(
                "problem",
                p.key(),
                p.title.clone(),
                format!("/problems/{}", p.key()),
            )
        }
        "KB" => {
            let a = super::knowledge::find(state, who, text).await.ok()?;
            hit(
                "article",
                a.key(),
                a.title.clone(),
                format!("/knowledge/{}", a.key()),
            )
        }
        _ => None,
    }
}

/// Everything the caller may see that matches `text`; shared by API and UI.
pub async fn search(
    state: &AppState,
    who: &Principal,
    text: &str,
    per_kind: u32,
) -> ApiResult<Vec<Hit>> {
    let text = text.trim();
    let mut hits = Vec::new();
    if text.is_empty() {
        return Ok(hits);
    }
    if let Some(hit) = by_key(state, who, text).await {
        hits.push(hit);
    }
    let page = PageRequest {
        limit: Some(per_kind),
        cursor: None,
    };
    let t = who.tenant_id();
    if let Ok(scope) = scope(who) {
        let requester_user_id = match scope {
            Scope::All => None,
            Scope::Own(user) => Some(user),
        };
        let filter = IncidentFilter {
            q: Some(text.to_owned()),
            requester_user_id,
            sort: Some("-updated_at".into()),
            ..Default::default()
        };
        for i in state.store.incidents(t, &filter, &page).await?.items {
            hits.push(Hit {
                kind: "incident",
                href: crate::ui::record_href(who, &i.key()),
                key: i.key(),
                title: i.title,
            });
        }
    }
    if super::knowledge::readable(who) {
        let mut filter = ArticleFilter {
            q: Some(text.to_owned()),
            ..Default::default()
        };
        if super::knowledge::public_only(who)? {
            filter = filter.for_requesters();
        }
        for a in state.store.articles(t, &filter, &page).await?.items {
            hits.push(Hit {
                kind: "article",
                href: format!("/knowledge/{}", a.key()),
                key: a.key(),
                title: a.title,
            });
        }
    }
    if who.can(Permission::RecordsRead) {
        for k in state
            .store
            .known_errors(t, Some(text), true, &page)
            .await?
            .items
        {
            let problem = state.store.problem(t, k.problem_id).await?.key();
            hits.push(Hit {
                kind: "known_error",
                key: k.key(),
                title: k.title,
                href: format!("/problems/{problem}"),
            });
        }
    }
    if who.can(Permission::ServicesRead) {
        let filter = steward_store::service::ServiceFilter {
            q: Some(text.to_owned()),
            ..Default::default()
        };
        for s in state.store.services(t, &filter, &page).await?.items {
            hits.push(Hit {
                kind: "service",
                key: s.id.to_string(),
                title: s.name,
                href: format!("/services/{}", s.id),
            });
        }
    }
    if who.can(Permission::CustomersRead) {
        let filter = steward_store::customer::CustomerFilter {
            q: Some(text.to_owned()),
            sort: None,
        };
        for c in state.store.customers(t, &filter, &page).await?.items {
            hits.push(Hit {
                kind: "customer",
                key: c.id.to_string(),
                title: c.name,
                href: format!("/customers/{}", c.id),
            });
        }
    }
    let mut seen = std::collections::HashSet::new();
    hits.retain(|h| seen.insert((h.kind, h.key.clone())));
    Ok(hits)
}

#[utoipa::path(get, path = "/search", tag = "search", params(SearchQuery),
    responses((status = 200, body = SearchResult), (status = 401, body = Problem)))]
pub async fn search_all(
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResult>> {
    let per_kind = q.limit.unwrap_or(10).clamp(1, 50);
    Ok(Json(SearchResult {
        hits: search(&state, &who, &q.q, per_kind).await?,
    }))
}
