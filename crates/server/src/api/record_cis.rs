//! The CIs an incident or problem is about: `/incidents/{key}/cis` and `/problems/{key}/cis`,
//! with the services those CIs (and everything that depends on them) help deliver.
//!
//! Reading needs the CMDB (`CmdbRead`) besides the record: requesters see their own incidents
//! but never CIs. Writing needs `RecordsWrite` and `CmdbRead`.

use super::cmdb::NamedOut;
use super::incidents::find;
use super::problems::find_problem;
use super::{ApiJson, ApiPath};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use steward_domain::access::Permission;
use utoipa::ToSchema;

/// Which kind of record, as `record_cis` and the journal name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    Incident,
    Problem,
}

impl RecordType {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Incident => "incident",
            RecordType::Problem => "problem",
        }
    }
}

/// A CI as a record's list names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedCiOut {
    pub id: i64,
    pub name: String,
    /// The class's name.
    pub class: String,
    /// `planned`, `in_use`, `maintenance` or `retired`.
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordCisOut {
    /// The CIs the record is about, by name.
    pub cis: Vec<LinkedCiOut>,
    /// Services that these CIs, or anything downstream of them (everything that depends on
    /// them), help deliver: what the record's CIs failing hits.
    pub services_hit: Vec<NamedOut>,
}

/// The CIs to name, replacing those named before; `[]` unlinks them all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordCisIn {
    pub ci_ids: Vec<i64>,
}

/// The record's id, found within what the caller may see (404 otherwise).
pub async fn record_id(
    state: &AppState,
    who: &Principal,
    kind: RecordType,
    key: &str,
) -> ApiResult<i64> {
    Ok(match kind {
        RecordType::Incident => find(state, who, key).await?.id,
        RecordType::Problem => find_problem(state, who, key).await?.id,
    })
}

/// The record's CIs and the services they hit; shared by API and UI.
pub async fn record_cis(
    state: &AppState,
    tenant_id: i64,
    kind: RecordType,
    id: i64,
) -> ApiResult<RecordCisOut> {
    let ids = state
        .store
        .cis_of_record(tenant_id, kind.as_str(), id)
        .await?;
    let labels = state.store.ci_labels(tenant_id, &ids).await?;
    let mut cis: Vec<LinkedCiOut> = ids
        .iter()
        .filter_map(|id| labels.get(id))
        .map(|l| LinkedCiOut {
            id: l.id,
            name: l.name.clone(),
            class: l.class.clone(),
            status: l.status.clone(),
        })
        .collect();
    cis.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let services_hit = state
        .store
        .services_hit(tenant_id, &ids)
        .await?
        .into_iter()
        .map(|n| NamedOut {
            id: n.id,
            name: n.name,
        })
        .collect();
    Ok(RecordCisOut { cis, services_hit })
}

/// Replaces the record's CIs, for a caller who may work records and read the CMDB; shared by
/// API and UI.
pub async fn set_cis(
    state: &AppState,
    who: &Principal,
    kind: RecordType,
    key: &str,
    ci_ids: &[i64],
) -> ApiResult<i64> {
    if !who.can(Permission::RecordsWrite) || !who.can(Permission::CmdbRead) {
        return Err(ApiError::forbidden());
    }
    let id = record_id(state, who, kind, key).await?;
    state
        .store
        .set_record_cis(who.tenant_id(), kind.as_str(), id, ci_ids, &who.actor())
        .await?;
    Ok(id)
}

async fn get(
    state: &AppState,
    who: &Principal,
    kind: RecordType,
    key: &str,
) -> ApiResult<Json<RecordCisOut>> {
    let id = record_id(state, who, kind, key).await?;
    Ok(Json(record_cis(state, who.tenant_id(), kind, id).await?))
}

async fn put(
    state: &AppState,
    who: &Principal,
    kind: RecordType,
    key: &str,
    body: RecordCisIn,
) -> ApiResult<Json<RecordCisOut>> {
    let id = set_cis(state, who, kind, key, &body.ci_ids).await?;
    Ok(Json(record_cis(state, who.tenant_id(), kind, id).await?))
}

#[utoipa::path(get, path = "/incidents/{key}/cis", tag = "cmdb",
    params(("key" = String, Path, description = "INC-42 or the numeric id")),
    description = "The CIs the incident is about and the services they hit (the services of those CIs and of everything downstream of them). Needs CMDB read access: requesters get 403 even on their own incidents.",
    responses((status = 200, body = RecordCisOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn incident_cis(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<RecordCisOut>> {
    get(&state, &who, RecordType::Incident, &key).await
}

#[utoipa::path(put, path = "/incidents/{key}/cis", tag = "cmdb", request_body = RecordCisIn,
    params(("key" = String, Path, description = "INC-42 or the numeric id")),
    description = "Replaces the CIs the incident is about (journaled). Needs records write and CMDB read access; an unknown CI is a 422.",
    responses((status = 200, body = RecordCisOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_incident_cis(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<RecordCisIn>,
) -> ApiResult<Json<RecordCisOut>> {
    put(&state, &who, RecordType::Incident, &key, body).await
}

#[utoipa::path(get, path = "/problems/{key}/cis", tag = "cmdb",
    params(("key" = String, Path, description = "PRB-7 or the numeric id")),
    description = "The CIs the problem is about and the services they hit (the services of those CIs and of everything downstream of them).",
    responses((status = 200, body = RecordCisOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn problem_cis(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<RecordCisOut>> {
    get(&state, &who, RecordType::Problem, &key).await
}

#[utoipa::path(put, path = "/problems/{key}/cis", tag = "cmdb", request_body = RecordCisIn,
    params(("key" = String, Path, description = "PRB-7 or the numeric id")),
    description = "Replaces the CIs the problem is about (journaled). Needs records write and CMDB read access; an unknown CI is a 422.",
    responses((status = 200, body = RecordCisOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_problem_cis(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<RecordCisIn>,
) -> ApiResult<Json<RecordCisOut>> {
    put(&state, &who, RecordType::Problem, &key, body).await
}
