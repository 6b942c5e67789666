//! Major incidents (ISO/IEC 20000-1 8.6.1): declaring and standing down, the communications
//! log, and the post-incident review that closing a major incident needs.

use super::incidents::find;
use super::{ApiJson, ApiPath, opt_time, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::access::Permission;
use steward_domain::major::{Audience, ReviewDraft, UpdateDraft};
use steward_store::incident::Incident;
use steward_store::major::{Communication, Review};
use utoipa::ToSchema;

/// The major-incident state of an incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct MajorOut {
    /// `INC-n`.
    pub key: String,
    pub major: bool,
    /// The major-incident manager, while the incident is major.
    pub manager_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MajorDeclare {
    /// The user who manages the major incident: an active agent, manager or admin.
    pub manager_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommunicationOut {
    pub id: i64,
    pub author_id: Option<i64>,
    pub author: String,
    pub audience: Audience,
    pub body: String,
    pub created_at: String,
}

impl From<Communication> for CommunicationOut {
    fn from(c: Communication) -> Self {
        CommunicationOut {
            id: c.id,
            author_id: c.author_id,
            author: c.author,
            audience: c.audience,
            body: c.body,
            created_at: time(c.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunicationCreate {
    /// Defaults to `internal`.
    #[serde(default)]
    pub audience: Audience,
    pub body: String,
}

/// The post-incident review; blank until someone saves it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    pub summary: String,
    pub root_cause: String,
    pub went_well: String,
    pub improvements: String,
    pub actions: String,
    /// A completed review lets a major incident close.
    pub completed: bool,
    pub completed_at: Option<String>,
    /// Absent until the review is first saved.
    pub updated_at: Option<String>,
}

impl From<Option<Review>> for ReviewOut {
    fn from(r: Option<Review>) -> Self {
        match r {
            Some(r) => ReviewOut {
                summary: r.summary,
                root_cause: r.root_cause,
                went_well: r.went_well,
                improvements: r.improvements,
                actions: r.actions,
                completed: r.completed,
                completed_at: opt_time(r.completed_at),
                updated_at: Some(time(r.updated_at)),
            },
            None => ReviewOut {
                summary: String::new(),
                root_cause: String::new(),
                went_well: String::new(),
                improvements: String::new(),
                actions: String::new(),
                completed: false,
                completed_at: None,
                updated_at: None,
            },
        }
    }
}

/// The whole review, replacing what was there.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewPut {
    pub summary: String,
    pub root_cause: String,
    pub went_well: String,
    pub improvements: String,
    pub actions: String,
    /// Accepted only when summary, root cause and improvements are written down.
    pub completed: bool,
}

/// An incident that may still change, for the writes below.
async fn open_for_change(state: &AppState, who: &Principal, key: &str) -> ApiResult<Incident> {
    if !who.can(Permission::RecordsWrite) {
        return Err(ApiError::forbidden());
    }
    let incident = find(state, who, key).await?;
    if incident.status.is_terminal() {
        return Err(ApiError::frozen(&incident.key(), &incident.status));
    }
    Ok(incident)
}

/// Declares an incident major under a manager; shared by API and UI.
pub async fn declare(
    state: &AppState,
    who: &Principal,
    key: &str,
    manager_id: i64,
) -> ApiResult<MajorOut> {
    let incident = open_for_change(state, who, key).await?;
    let flag = state
        .store
        .declare_major(who.tenant_id(), incident.id, manager_id, &who.actor())
        .await?;
    Ok(MajorOut {
        key: incident.key(),
        major: flag.major,
        manager_id: flag.major_manager_id,
    })
}

/// Ends the major-incident procedure; shared by API and UI.
pub async fn stand_down(state: &AppState, who: &Principal, key: &str) -> ApiResult<MajorOut> {
    let incident = open_for_change(state, who, key).await?;
    let flag = state
        .store
        .stand_down(who.tenant_id(), incident.id, &who.actor())
        .await?;
    Ok(MajorOut {
        key: incident.key(),
        major: flag.major,
        manager_id: flag.major_manager_id,
    })
}

/// Adds an update to the communications log; shared by API and UI.
pub async fn post_update(
    state: &AppState,
    who: &Principal,
    key: &str,
    body: CommunicationCreate,
) -> ApiResult<Communication> {
    let incident = open_for_change(state, who, key).await?;
    let update = UpdateDraft {
        audience: body.audience,
        body: body.body,
    }
    .validate()?;
    Ok(state
        .store
        .add_communication(who.tenant_id(), incident.id, &update, &who.actor())
        .await?)
}

/// Saves the post-incident review; shared by API and UI.
pub async fn save_review(
    state: &AppState,
    who: &Principal,
    key: &str,
    body: ReviewPut,
) -> ApiResult<Review> {
    let incident = open_for_change(state, who, key).await?;
    let draft = ReviewDraft {
        summary: body.summary,
        root_cause: body.root_cause,
        went_well: body.went_well,
        improvements: body.improvements,
        actions: body.actions,
        completed: body.completed,
    }
    .validate()?;
    Ok(state
        .store
        .save_review(who.tenant_id(), incident.id, &draft, &who.actor())
        .await?)
}

#[utoipa::path(get, path = "/incidents/{key}/major", tag = "incidents", params(("key" = String, Path, description = "INC-42 or the numeric id")),
    responses((status = 200, body = MajorOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_major(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<MajorOut>> {
    let incident = find(&state, &who, &key).await?;
    let (major, manager_id) = state.store.is_major(who.tenant_id(), incident.id).await?;
    Ok(Json(MajorOut {
        key: incident.key(),
        major,
        manager_id,
    }))
}

#[utoipa::path(post, path = "/incidents/{key}/major", tag = "incidents", params(("key" = String, Path, description = "INC-42 or the numeric id")),
    request_body = MajorDeclare,
    responses((status = 200, body = MajorOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn declare_major(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<MajorDeclare>,
) -> ApiResult<Json<MajorOut>> {
    Ok(Json(declare(&state, &who, &key, body.manager_id).await?))
}

#[utoipa::path(delete, path = "/incidents/{key}/major", tag = "incidents", params(("key" = String, Path, description = "INC-42 or the numeric id")),
    responses((status = 200, body = MajorOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn stand_down_major(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<MajorOut>> {
    Ok(Json(stand_down(&state, &who, &key).await?))
}

#[utoipa::path(get, path = "/incidents/{key}/communications", tag = "incidents", params(("key" = String, Path)),
    responses((status = 200, body = Vec<CommunicationOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_communications(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<CommunicationOut>>> {
    let incident = find(&state, &who, &key).await?;
    let log = state
        .store
        .communications(who.tenant_id(), incident.id)
        .await?;
    Ok(Json(log.into_iter().map(CommunicationOut::from).collect()))
}

#[utoipa::path(post, path = "/incidents/{key}/communications", tag = "incidents", params(("key" = String, Path)),
    request_body = CommunicationCreate,
    responses((status = 201, body = CommunicationOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_communication(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<CommunicationCreate>,
) -> ApiResult<(StatusCode, Json<CommunicationOut>)> {
    let saved = post_update(&state, &who, &key, body).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/incidents/{key}/review", tag = "incidents", params(("key" = String, Path)),
    responses((status = 200, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_review(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ReviewOut>> {
    let incident = find(&state, &who, &key).await?;
    let review = state.store.review(who.tenant_id(), incident.id).await?;
    Ok(Json(review.into()))
}

#[utoipa::path(put, path = "/incidents/{key}/review", tag = "incidents", params(("key" = String, Path)),
    request_body = ReviewPut,
    responses((status = 200, body = ReviewOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_review(
    State(state): State<AppState>,
    who: Can<perm::RecordsWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ReviewPut>,
) -> ApiResult<Json<ReviewOut>> {
    let saved = save_review(&state, &who, &key, body).await?;
    Ok(Json(Some(saved).into()))
}
