//! Release and deployment management (ISO/IEC 20000-1 8.5.3): `/releases`, their lifecycle,
//! the changes they group, the known errors accepted into them, acceptance criteria with
//! sign-off, and deployments per environment whose success updates the CIs they touched.
//!
//! Admins, managers and agents plan and work releases; auditors read them. Changes and known
//! errors are named by id, as a change names its incidents and problems. A lifecycle move the
//! table does not have is a 409; a guard that fails (criteria not all signed off as accepted,
//! no successful deployment) is a 422 naming the field to fix, as is a production deployment
//! of a release that is neither accepted nor an emergency release.

use super::{ApiJson, ApiPath, ApiQuery, KeyRef, ListOf, nullable, opt_time, parse_opt_time, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use steward_domain::cmdb::CiStatus;
use steward_domain::release::{
    CriterionDraft, DeploymentDraft, DeploymentOutcome, OutcomeDraft, ReleaseDraft, ReleaseKind,
    ReleaseStatus, SignOff, Verdict,
};
use steward_store::PageRequest;
use steward_store::release::{CiUpdate, Criterion, Deployment, Release, ReleaseFilter};
use utoipa::{IntoParams, ToSchema};

/// A release as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseOut {
    pub id: i64,
    /// `REL-n`.
    pub key: String,
    pub kind: ReleaseKind,
    pub status: ReleaseStatus,
    /// The statuses it may move to next (guards aside).
    pub next: Vec<ReleaseStatus>,
    pub title: String,
    pub description: String,
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    pub manager_id: Option<i64>,
    /// The changes it groups, by id.
    pub changes: Vec<i64>,
    /// The known errors accepted into it, by id.
    pub known_errors: Vec<i64>,
    pub criteria: Vec<CriterionOut>,
    pub deployments: Vec<DeploymentOut>,
    pub ended_at: Option<String>,
    pub created_at: String,
    /// Send it back as `updated_at` in a PATCH to refuse the edit if someone changed the
    /// release since.
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionOut {
    pub id: i64,
    pub text: String,
    /// Absent until someone signs the criterion off.
    pub verdict: Option<Verdict>,
    pub signed_by: Option<i64>,
    pub signed_at: Option<String>,
    pub comment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentOut {
    pub id: i64,
    pub environment: String,
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub outcome: DeploymentOutcome,
    pub verification_notes: String,
    pub rollback_notes: String,
    pub created_by: Option<i64>,
    /// What its success changed on the CIs it touched.
    pub ci_updates: Vec<CiUpdateOut>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CiUpdateOut {
    pub ci_id: i64,
    /// The CI's new lifecycle status; absent: unchanged.
    pub status: Option<CiStatus>,
    /// Attribute values merged over the CI's (`null` removes one), checked against its class;
    /// absent: unchanged.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Map<String, Value>>,
}

impl From<Criterion> for CriterionOut {
    fn from(c: Criterion) -> Self {
        CriterionOut {
            id: c.id,
            text: c.text,
            verdict: c.verdict,
            signed_by: c.signed_by,
            signed_at: opt_time(c.signed_at),
            comment: c.comment,
        }
    }
}

impl From<Deployment> for DeploymentOut {
    fn from(d: Deployment) -> Self {
        DeploymentOut {
            id: d.id,
            environment: d.environment,
            planned_start: opt_time(d.planned_start),
            planned_end: opt_time(d.planned_end),
            started_at: time(d.started_at),
            ended_at: opt_time(d.ended_at),
            outcome: d.outcome,
            verification_notes: d.verification_notes,
            rollback_notes: d.rollback_notes,
            created_by: d.created_by,
            ci_updates: d
                .ci_updates
                .into_iter()
                .map(|u| CiUpdateOut {
                    ci_id: u.ci_id,
                    status: u.status,
                    attributes: u.attributes,
                })
                .collect(),
        }
    }
}

impl From<Release> for ReleaseOut {
    fn from(r: Release) -> Self {
        ReleaseOut {
            id: r.id,
            key: r.key(),
            kind: r.kind,
            status: r.status,
            next: r.kind.next(r.status).to_vec(),
            title: r.title,
            description: r.description,
            planned_start: opt_time(r.planned_start),
            planned_end: opt_time(r.planned_end),
            manager_id: r.manager_id,
            changes: r.change_ids,
            known_errors: r.known_error_ids,
            criteria: r.criteria.into_iter().map(CriterionOut::from).collect(),
            deployments: r.deployments.into_iter().map(DeploymentOut::from).collect(),
            ended_at: opt_time(r.ended_at),
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        }
    }
}

/// A new release.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseIn {
    pub title: String,
    /// `major`, `minor` or `emergency`.
    pub kind: ReleaseKind,
    #[serde(default)]
    pub description: String,
    /// RFC 3339; with `planned_end` (not before it), or neither.
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
    /// The release manager, a user id.
    pub manager_id: Option<i64>,
}

/// Changes to a release; absent fields stay as they are, `null` clears.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleasePatch {
    pub title: Option<String>,
    /// Only while the release is planned.
    pub kind: Option<ReleaseKind>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub planned_start: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub planned_end: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub manager_id: Option<Option<i64>>,
    /// The `updated_at` you read: if the release changed since, the edit is refused (409).
    pub updated_at: Option<String>,
}

/// The release a path names, by key (`REL-7`) or id; 404 for another tenant's.
pub(crate) async fn find(state: &AppState, who: &Principal, key: &str) -> ApiResult<Release> {
    let store = &state.store;
    Ok(match KeyRef::parse(key, "REL")? {
        KeyRef::Number(n) => store.release_by_number(who.tenant_id(), n).await?,
        KeyRef::Id(id) => store.release(who.tenant_id(), id).await?,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReleaseQuery {
    pub status: Option<ReleaseStatus>,
    pub kind: Option<ReleaseKind>,
    /// `number` (default) or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/releases", tag = "releases", params(ReleaseQuery),
    responses((status = 200, body = ListOf<ReleaseOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::ReleasesRead>,
    ApiQuery(q): ApiQuery<ReleaseQuery>,
) -> ApiResult<Json<ListOf<ReleaseOut>>> {
    let filter = ReleaseFilter {
        status: q.status,
        kind: q.kind,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .releases(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, ReleaseOut::from)))
}

#[utoipa::path(post, path = "/releases", tag = "releases", request_body = ReleaseIn,
    description = "Plans a release (`REL-n`).",
    responses((status = 201, body = ReleaseOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiJson(body): ApiJson<ReleaseIn>,
) -> ApiResult<(StatusCode, Json<ReleaseOut>)> {
    let draft = ReleaseDraft {
        title: body.title,
        kind: body.kind,
        description: body.description,
        planned_start: parse_opt_time("planned_start", body.planned_start.as_deref())?,
        planned_end: parse_opt_time("planned_end", body.planned_end.as_deref())?,
        manager_id: body.manager_id,
    }
    .validate()?;
    let release = state
        .store
        .create_release(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(release.into())))
}

#[utoipa::path(get, path = "/releases/{key}", tag = "releases", params(("key" = String, Path, description = "`REL-n` or the id")),
    responses((status = 200, body = ReleaseOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::ReleasesRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ReleaseOut>> {
    Ok(Json(find(&state, &who, &key).await?.into()))
}

#[utoipa::path(patch, path = "/releases/{key}", tag = "releases", params(("key" = String, Path)), request_body = ReleasePatch,
    description = "Edits a release that has not ended. With `updated_at` (as last read), an edit over someone else's is refused with 409.",
    responses((status = 200, body = ReleaseOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(patch): ApiJson<ReleasePatch>,
) -> ApiResult<Json<ReleaseOut>> {
    let current = find(&state, &who, &key).await?;
    let expected = parse_opt_time("updated_at", patch.updated_at.as_deref())?;
    let mut d = current.draft();
    d.title = patch.title.unwrap_or(d.title);
    d.kind = patch.kind.unwrap_or(d.kind);
    d.description = patch.description.unwrap_or(d.description);
    if let Some(start) = patch.planned_start {
        d.planned_start = parse_opt_time("planned_start", start.as_deref())?;
    }
    if let Some(end) = patch.planned_end {
        d.planned_end = parse_opt_time("planned_end", end.as_deref())?;
    }
    d.manager_id = patch.manager_id.unwrap_or(d.manager_id);
    let release = state
        .store
        .update_release(
            who.tenant_id(),
            current.id,
            &d.validate()?,
            expected,
            &who.actor(),
        )
        .await?;
    Ok(Json(release.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    pub to: ReleaseStatus,
}

#[utoipa::path(post, path = "/releases/{key}/transitions", tag = "releases", params(("key" = String, Path)), request_body = TransitionIn,
    description = "Moves the release on: planned → built → in_test → accepted → deploying → deployed → closed, in_test back to built when tests fail, an emergency release from built straight to deploying, and cancelled before deployment. A move the lifecycle lacks is a 409; `accepted` with any criterion not signed off as accepted (or none at all), or `deployed` without a successful deployment, is a 422.",
    responses((status = 200, body = ReleaseOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn transition(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<TransitionIn>,
) -> ApiResult<Json<ReleaseOut>> {
    let release = find(&state, &who, &key).await?;
    let moved = state
        .store
        .transition_release(who.tenant_id(), release.id, body.to, &who.actor())
        .await?;
    Ok(Json(moved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesIn {
    /// Change ids; replaces the list.
    pub changes: Vec<i64>,
}

#[utoipa::path(put, path = "/releases/{key}/changes", tag = "releases", params(("key" = String, Path)), request_body = ChangesIn,
    description = "Replaces the changes the release groups, by id; each must be this organisation's.",
    responses((status = 200, body = ReleaseOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_changes(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ChangesIn>,
) -> ApiResult<Json<ReleaseOut>> {
    let release = find(&state, &who, &key).await?;
    let saved = state
        .store
        .set_release_changes(who.tenant_id(), release.id, &body.changes, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnownErrorsIn {
    /// Known error ids; replaces the list.
    pub known_errors: Vec<i64>,
}

#[utoipa::path(put, path = "/releases/{key}/known-errors", tag = "releases", params(("key" = String, Path)), request_body = KnownErrorsIn,
    description = "Replaces the known errors accepted into the release (shipped with it, listed in its notes), by id.",
    responses((status = 200, body = ReleaseOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_known_errors(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<KnownErrorsIn>,
) -> ApiResult<Json<ReleaseOut>> {
    let release = find(&state, &who, &key).await?;
    let saved = state
        .store
        .set_release_known_errors(
            who.tenant_id(),
            release.id,
            &body.known_errors,
            &who.actor(),
        )
        .await?;
    Ok(Json(saved.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionIn {
    pub text: String,
}

#[utoipa::path(post, path = "/releases/{key}/criteria", tag = "releases", params(("key" = String, Path)), request_body = CriterionIn,
    description = "Adds an acceptance criterion; only before the release is accepted (409 after).",
    responses((status = 201, body = ReleaseOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_criterion(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<CriterionIn>,
) -> ApiResult<(StatusCode, Json<ReleaseOut>)> {
    let release = find(&state, &who, &key).await?;
    let draft = CriterionDraft { text: body.text }.validate()?;
    let saved = state
        .store
        .add_release_criterion(who.tenant_id(), release.id, &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffIn {
    /// `accepted` or `refused`.
    pub verdict: Verdict,
    /// Required with a refusal.
    #[serde(default)]
    pub comment: String,
}

#[utoipa::path(post, path = "/releases/{key}/criteria/{id}/sign-off", tag = "releases",
    params(("key" = String, Path), ("id" = i64, Path, description = "The criterion's id")), request_body = SignOffIn,
    description = "Signs the criterion off as the caller, now; signing again replaces the earlier sign-off (the journal keeps it) until the release is accepted.",
    responses((status = 200, body = ReleaseOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn sign_off(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiPath((key, id)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<SignOffIn>,
) -> ApiResult<Json<ReleaseOut>> {
    let release = find(&state, &who, &key).await?;
    let sign_off = SignOff {
        verdict: body.verdict,
        comment: body.comment,
    }
    .validate()?;
    let saved = state
        .store
        .sign_off_release_criterion(who.tenant_id(), release.id, id, &sign_off, &who.actor())
        .await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(get, path = "/releases/{key}/deployments", tag = "releases", params(("key" = String, Path)),
    responses((status = 200, body = Vec<DeploymentOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_deployments(
    State(state): State<AppState>,
    who: Can<perm::ReleasesRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<DeploymentOut>>> {
    let release = find(&state, &who, &key).await?;
    Ok(Json(
        release
            .deployments
            .into_iter()
            .map(DeploymentOut::from)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentIn {
    /// test, staging, production...
    pub environment: String,
    pub planned_start: Option<String>,
    pub planned_end: Option<String>,
}

#[utoipa::path(post, path = "/releases/{key}/deployments", tag = "releases", params(("key" = String, Path)), request_body = DeploymentIn,
    description = "Starts a deployment (in progress from now). `production` (any case) takes only an accepted release or an emergency one: otherwise 422.",
    responses((status = 201, body = DeploymentOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_deployment(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<DeploymentIn>,
) -> ApiResult<(StatusCode, Json<DeploymentOut>)> {
    let release = find(&state, &who, &key).await?;
    let draft = DeploymentDraft {
        environment: body.environment,
        planned_start: parse_opt_time("planned_start", body.planned_start.as_deref())?,
        planned_end: parse_opt_time("planned_end", body.planned_end.as_deref())?,
    }
    .validate()?;
    let (saved, id) = state
        .store
        .add_release_deployment(who.tenant_id(), release.id, &draft, &who.actor())
        .await?;
    let deployment = saved
        .deployments
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(crate::error::ApiError::not_found)?;
    Ok((StatusCode::CREATED, Json(deployment.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIn {
    /// `succeeded`, `failed` or `rolled_back`.
    pub outcome: DeploymentOutcome,
    #[serde(default)]
    pub verification_notes: String,
    /// Required when rolled back.
    #[serde(default)]
    pub rollback_notes: String,
    /// Only with `succeeded`: what the deployment changed on each CI it touched.
    #[serde(default)]
    pub ci_updates: Vec<CiUpdateOut>,
}

#[utoipa::path(post, path = "/releases/{key}/deployments/{id}/outcome", tag = "releases",
    params(("key" = String, Path), ("id" = i64, Path, description = "The deployment's id")), request_body = OutcomeIn,
    description = "Ends a deployment in progress. A successful one applies its `ci_updates` through the CMDB (the CI lifecycle and the class's attribute schema apply; each CI's journal records it) in the same transaction; any update that does not hold refuses the whole outcome with 422. A deployment that already ended is a 409.",
    responses((status = 200, body = ReleaseOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn record_outcome(
    State(state): State<AppState>,
    who: Can<perm::ReleasesWrite>,
    ApiPath((key, id)): ApiPath<(String, i64)>,
    ApiJson(body): ApiJson<OutcomeIn>,
) -> ApiResult<Json<ReleaseOut>> {
    let release = find(&state, &who, &key).await?;
    let outcome = OutcomeDraft {
        outcome: body.outcome,
        verification_notes: body.verification_notes,
        rollback_notes: body.rollback_notes,
    }
    .validate()?;
    let updates: Vec<CiUpdate> = body
        .ci_updates
        .into_iter()
        .map(|u| CiUpdate {
            ci_id: u.ci_id,
            status: u.status,
            attributes: u.attributes,
        })
        .collect();
    let saved = state
        .store
        .record_deployment_outcome(
            who.tenant_id(),
            release.id,
            id,
            &outcome,
            &updates,
            &who.actor(),
        )
        .await?;
    Ok(Json(saved.into()))
}
