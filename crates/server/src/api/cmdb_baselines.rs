//! CMDB baselines: `/ci-baselines` (take and list), one baseline with its CIs, the diff of two,
//! and `/cis/{id}/as-of`, a CI as it was at a past moment (read back from the journal).
//!
//! Whoever reads the CMDB reads baselines; whoever maintains CIs takes them.

use super::cmdb::{CiOut, ci_out};
use super::{ApiJson, ApiPath, ApiQuery, ListOf, PageParams, parse_time, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::cmdb::baseline::{BaselineDiff, BaselineDraft, CiSnapshot};
use steward_store::cmdb::BaselineHeader;
use steward_store::now_micros;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct BaselineOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The service whose CIs (and everything they depend on) it records; absent for the whole
    /// CMDB.
    pub service_id: Option<i64>,
    pub taken_at: String,
    /// Who took it.
    pub taken_by: String,
    /// How many CIs it records (retired CIs are never recorded).
    pub ci_count: i64,
}

impl From<BaselineHeader> for BaselineOut {
    fn from(b: BaselineHeader) -> Self {
        BaselineOut {
            id: b.id,
            name: b.name,
            description: b.description,
            service_id: b.service_id,
            taken_at: time(b.taken_at),
            taken_by: b.taken_by,
            ci_count: b.ci_count,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineIn {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Record this service's CIs and everything they depend on; absent for the whole CMDB.
    pub service_id: Option<i64>,
}

#[utoipa::path(get, path = "/ci-baselines", tag = "cmdb", params(PageParams),
    description = "The tenant's baselines, newest first.",
    responses((status = 200, body = ListOf<BaselineOut>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<ListOf<BaselineOut>>> {
    let found = state.store.baselines(who.tenant_id(), &q.page()).await?;
    Ok(Json(ListOf::from_page(found, BaselineOut::from)))
}

#[utoipa::path(post, path = "/ci-baselines", tag = "cmdb", request_body = BaselineIn,
    description = "Records the CIs that are not retired as they are now: a service's CIs and everything upstream of them, or the whole CMDB.",
    responses((status = 201, body = BaselineOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    ApiJson(body): ApiJson<BaselineIn>,
) -> ApiResult<(StatusCode, Json<BaselineOut>)> {
    let draft = BaselineDraft {
        name: body.name,
        description: body.description,
        service_id: body.service_id,
    }
    .validate()?;
    let taken = state
        .store
        .take_baseline(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(taken.into())))
}

/// A baseline and a page of its CIs, by CI id.
#[derive(Debug, Serialize, ToSchema)]
pub struct BaselineItemsOut {
    pub baseline: BaselineOut,
    pub items: Vec<CiSnapshot>,
    /// Pass as `cursor` for the next page of CIs; absent on the last page.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/ci-baselines/{id}", tag = "cmdb", params(("id" = i64, Path), PageParams),
    description = "The baseline's header (with `ci_count`) and a page of the CIs it records, each with its services and outgoing relationships.",
    responses((status = 200, body = BaselineItemsOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<BaselineItemsOut>> {
    let t = who.tenant_id();
    let header = state.store.baseline(t, id).await?;
    let page = state.store.baseline_page(t, id, &q.page()).await?;
    Ok(Json(BaselineItemsOut {
        baseline: header.into(),
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

/// What changed from one baseline to another.
#[derive(Debug, Serialize, ToSchema)]
pub struct BaselineDiffOut {
    pub before: BaselineOut,
    pub after: BaselineOut,
    /// CIs only `after` records, CIs only `before` records (retired or out of scope since),
    /// and CIs in both that differ, field by field (`attributes.<name>` for each attribute).
    #[serde(flatten)]
    pub diff: BaselineDiff,
}

#[utoipa::path(get, path = "/ci-baselines/{id}/diff/{other_id}", tag = "cmdb",
    params(("id" = i64, Path, description = "The earlier baseline"), ("other_id" = i64, Path, description = "The later baseline")),
    responses((status = 200, body = BaselineDiffOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn diff(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath((id, other_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<BaselineDiffOut>> {
    let t = who.tenant_id();
    let before = state.store.baseline(t, id).await?;
    let after = state.store.baseline(t, other_id).await?;
    let diff = state.store.diff_baselines(t, id, other_id).await?;
    Ok(Json(BaselineDiffOut {
        before: before.into(),
        after: after.into(),
        diff,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AsOfQuery {
    /// An RFC 3339 instant such as `2026-01-31T09:00:00Z`; now if absent.
    pub at: Option<String>,
}

/// The instant `at` names, or now.
pub(crate) fn as_of_instant(at: Option<&str>) -> Result<i64, ApiError> {
    match at.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => parse_time("at", text),
        None => Ok(now_micros()),
    }
}

#[utoipa::path(get, path = "/cis/{id}/as-of", tag = "cmdb", params(("id" = i64, Path), AsOfQuery),
    description = "The CI as it was at `at`, from the audit journal: the state its last change at or before then left it in. 404 if it did not exist yet.",
    responses((status = 200, body = CiOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn ci_as_of(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> ApiResult<Json<CiOut>> {
    let at = as_of_instant(q.at.as_deref())?;
    let ci = state
        .store
        .ci_as_of(who.tenant_id(), id, at)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(ci_out(&state, who.tenant_id(), ci).await?))
}
