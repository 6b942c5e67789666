//! `/teams` and their membership.

use super::{ApiJson, ApiPath, ApiQuery, ListOf, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::team::TeamDraft;
use steward_store::PageRequest;
use steward_store::team::Team;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// User ids of the members.
    pub members: Vec<i64>,
    pub created_at: String,
    pub updated_at: String,
}

fn out(t: Team, members: Vec<i64>) -> TeamOut {
    TeamOut {
        id: t.id,
        name: t.name,
        description: t.description,
        members,
        created_at: time(t.created_at),
        updated_at: time(t.updated_at),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamCreate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// User ids; each must be a user of this organisation.
    #[serde(default)]
    pub members: Vec<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Replaces the membership when present.
    pub members: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TeamQuery {
    /// `name` (default) or `created_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/teams", tag = "teams", params(TeamQuery),
    responses((status = 200, body = ListOf<TeamOut>), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::TeamsRead>,
    ApiQuery(q): ApiQuery<TeamQuery>,
) -> ApiResult<Json<ListOf<TeamOut>>> {
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .teams(who.tenant_id(), q.sort.as_deref(), &page)
        .await?;
    let mut items = Vec::with_capacity(found.items.len());
    for team in found.items {
        let members = state.store.team_members(who.tenant_id(), team.id).await?;
        items.push(out(team, members));
    }
    Ok(Json(ListOf {
        items,
        next_cursor: found.next_cursor,
    }))
}

#[utoipa::path(post, path = "/teams", tag = "teams", request_body = TeamCreate,
    responses((status = 201, body = TeamOut), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::TeamsWrite>,
    ApiJson(body): ApiJson<TeamCreate>,
) -> ApiResult<(StatusCode, Json<TeamOut>)> {
    let draft = TeamDraft {
        name: body.name,
        description: body.description,
    }
    .validate()?;
    let team = state
        .store
        .create_team(who.tenant_id(), &draft, &who.actor())
        .await?;
    let members = state
        .store
        .set_team_members(who.tenant_id(), team.id, &body.members, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(out(team, members))))
}

#[utoipa::path(get, path = "/teams/{id}", tag = "teams", params(("id" = i64, Path)),
    responses((status = 200, body = TeamOut), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::TeamsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TeamOut>> {
    let team = state.store.team(who.tenant_id(), id).await?;
    let members = state.store.team_members(who.tenant_id(), id).await?;
    Ok(Json(out(team, members)))
}

#[utoipa::path(patch, path = "/teams/{id}", tag = "teams", params(("id" = i64, Path)), request_body = TeamPatch,
    responses((status = 200, body = TeamOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::TeamsWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<TeamPatch>,
) -> ApiResult<Json<TeamOut>> {
    let current = state.store.team(who.tenant_id(), id).await?;
    let mut team = current.clone();
    if patch.name.is_some() || patch.description.is_some() {
        let draft = TeamDraft {
            name: patch.name.unwrap_or(current.name),
            description: patch.description.unwrap_or(current.description),
        }
        .validate()?;
        team = state
            .store
            .update_team(who.tenant_id(), id, &draft, &who.actor())
            .await?;
    }
    let members = match patch.members {
        Some(members) => {
            state
                .store
                .set_team_members(who.tenant_id(), id, &members, &who.actor())
                .await?
        }
        None => state.store.team_members(who.tenant_id(), id).await?,
    };
    Ok(Json(out(team, members)))
}

#[utoipa::path(delete, path = "/teams/{id}", tag = "teams", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Can<perm::TeamsWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_team(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
