//! The CMDB (ISO/IEC 20000-1 8.2.6): `/ci-classes`, `/ci-relationship-types`, `/cis`,
//! `/ci-relationships`, and impact analysis at `/cis/{id}/impact`.
//!
//! Everyone who works records reads the CMDB; agents, managers and admins maintain CIs and
//! their relationships; admins define classes and relationship types, the CMDB's schema.

use super::{ApiJson, ApiPath, ApiQuery, ListOf, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::cmdb::impact::ImpactPath;
use steward_domain::cmdb::{
    CiClassDraft, CiDraft, CiStatus, Dependency, Direction, RelationshipTypeDraft,
};
use steward_domain::request::FormField;
use steward_store::PageRequest;
use steward_store::cmdb::impact::Named;
use steward_store::cmdb::{
    Ci, CiClass, CiFilter, CiRelationship, ImpactReport, ImpactRequest, RelationshipType,
};
use utoipa::{IntoParams, ToSchema};

/// Most CIs an impact answer lists; services, customers and records cover every CI reached.
pub const MAX_IMPACT_ITEMS: usize = 10_000;
const DEFAULT_IMPACT_ITEMS: usize = 1_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct CiClassOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The attribute schema: typed fields, required or optional.
    pub attributes: Vec<FormField>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CiClass> for CiClassOut {
    fn from(c: CiClass) -> Self {
        CiClassOut {
            id: c.id,
            name: c.name,
            description: c.description,
            attributes: c.attributes,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CiClassIn {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Typed attributes (`text`, `number`, `date`, `select` with `options`, `user`).
    #[serde(default)]
    pub attributes: Vec<FormField>,
}

impl From<CiClassIn> for CiClassDraft {
    fn from(c: CiClassIn) -> Self {
        CiClassDraft {
            name: c.name,
            description: c.description,
            attributes: c.attributes,
        }
    }
}

#[utoipa::path(get, path = "/ci-classes", tag = "cmdb",
    responses((status = 200, body = Vec<CiClassOut>), (status = 403, body = Problem)))]
pub async fn list_classes(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
) -> ApiResult<Json<Vec<CiClassOut>>> {
    let classes = state.store.ci_classes(who.tenant_id()).await?;
    Ok(Json(classes.into_iter().map(CiClassOut::from).collect()))
}

#[utoipa::path(post, path = "/ci-classes", tag = "cmdb", request_body = CiClassIn,
    responses((status = 201, body = CiClassOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_class(
    State(state): State<AppState>,
    who: Can<perm::CmdbSchema>,
    ApiJson(body): ApiJson<CiClassIn>,
) -> ApiResult<(StatusCode, Json<CiClassOut>)> {
    let draft = CiClassDraft::from(body).validate()?;
    let class = state
        .store
        .create_ci_class(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(class.into())))
}

#[utoipa::path(get, path = "/ci-classes/{id}", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 200, body = CiClassOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_class(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CiClassOut>> {
    Ok(Json(
        state.store.ci_class(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(put, path = "/ci-classes/{id}", tag = "cmdb", params(("id" = i64, Path)), request_body = CiClassIn,
    description = "Replaces the class's name, description and schema. CIs keep their values; one missing a newly required attribute shows in the health report.",
    responses((status = 200, body = CiClassOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_class(
    State(state): State<AppState>,
    who: Can<perm::CmdbSchema>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CiClassIn>,
) -> ApiResult<Json<CiClassOut>> {
    let draft = CiClassDraft::from(body).validate()?;
    let class = state
        .store
        .update_ci_class(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok(Json(class.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RelationshipTypeOut {
    /// Absent for the built-in types.
    pub id: Option<i64>,
    pub name: String,
    pub label: String,
    pub reverse_label: String,
    pub dependency: Dependency,
    pub builtin: bool,
}

impl From<RelationshipType> for RelationshipTypeOut {
    fn from(t: RelationshipType) -> Self {
        RelationshipTypeOut {
            builtin: t.id.is_none(),
            id: t.id,
            name: t.name,
            label: t.label,
            reverse_label: t.reverse_label,
            dependency: t.dependency,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipTypeIn {
    /// Machine name, lower-case with underscores: `replicates_to`.
    pub name: String,
    /// How it reads from the source: "replicates to".
    pub label: String,
    /// How it reads from the target: "is replicated from".
    pub reverse_label: String,
    /// Which way dependency (and so impact) flows along it.
    pub dependency: Dependency,
}

#[utoipa::path(get, path = "/ci-relationship-types", tag = "cmdb",
    responses((status = 200, body = Vec<RelationshipTypeOut>), (status = 403, body = Problem)))]
pub async fn list_types(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
) -> ApiResult<Json<Vec<RelationshipTypeOut>>> {
    let types = state.store.relationship_types(who.tenant_id()).await?;
    Ok(Json(
        types.into_iter().map(RelationshipTypeOut::from).collect(),
    ))
}

#[utoipa::path(post, path = "/ci-relationship-types", tag = "cmdb", request_body = RelationshipTypeIn,
    responses((status = 201, body = RelationshipTypeOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_type(
    State(state): State<AppState>,
    who: Can<perm::CmdbSchema>,
    ApiJson(body): ApiJson<RelationshipTypeIn>,
) -> ApiResult<(StatusCode, Json<RelationshipTypeOut>)> {
    let draft = RelationshipTypeDraft {
        name: body.name,
        label: body.label,
        reverse_label: body.reverse_label,
        dependency: body.dependency,
    }
    .validate()?;
    let created = state
        .store
        .create_relationship_type(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CiOut {
    pub id: i64,
    pub class_id: i64,
    /// The class's name.
    pub class: String,
    pub name: String,
    pub status: CiStatus,
    pub description: String,
    pub owner_id: Option<i64>,
    pub team_id: Option<i64>,
    pub external_id: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub service_ids: Vec<i64>,
    /// When someone last confirmed the CI matches reality.
    pub verified_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl CiOut {
    fn new(ci: Ci, class: &str) -> CiOut {
        CiOut {
            id: ci.id,
            class_id: ci.class_id,
            class: class.to_owned(),
            name: ci.name,
            status: ci.status,
            description: ci.description,
            owner_id: ci.owner_id,
            team_id: ci.team_id,
            external_id: ci.external_id,
            attributes: ci.attributes,
            service_ids: ci.service_ids,
            verified_at: ci.verified_at.map(time),
            created_at: time(ci.created_at),
            updated_at: time(ci.updated_at),
        }
    }
}

/// A CI as created or replaced.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CiIn {
    /// The class, by name.
    pub class: String,
    pub name: String,
    /// `planned`, `in_use`, `maintenance` or `retired`; a new CI starts `in_use` by default.
    pub status: Option<CiStatus>,
    #[serde(default)]
    pub description: String,
    pub owner_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Its id in a discovery tool or asset register.
    pub external_id: Option<String>,
    #[serde(default)]
    pub service_ids: Vec<i64>,
    /// Values for the class's attributes, by attribute name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
}

/// The class named in `body` and the draft checked against its schema; the UI's CI form
/// shares it.
pub(crate) async fn ci_draft(
    state: &AppState,
    who: &Principal,
    body: CiIn,
    current: Option<CiStatus>,
) -> ApiResult<(CiClass, CiDraft)> {
    let class = match state
        .store
        .ci_class_named(who.tenant_id(), &body.class)
        .await
    {
        Ok(class) => class,
        Err(steward_store::StoreError::NotFound) => {
            return Err(Invalid::one(
                "class",
                format!("There is no CI class `{}`", body.class.trim()),
            )
            .into());
        }
        Err(e) => return Err(e.into()),
    };
    let draft = CiDraft {
        name: body.name,
        class_id: class.id,
        status: body.status.or(current).unwrap_or(CiStatus::InUse),
        description: body.description,
        owner_id: body.owner_id,
        team_id: body.team_id,
        external_id: body.external_id,
        service_ids: body.service_ids,
        attributes: body.attributes,
    }
    .validate(&class.name, &class.attributes)?;
    Ok((class, draft))
}

/// Class names by id, to name each CI's class in a list.
async fn class_names(state: &AppState, tenant_id: i64) -> ApiResult<HashMap<i64, String>> {
    Ok(state
        .store
        .ci_classes(tenant_id)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

pub(crate) async fn ci_out(state: &AppState, tenant_id: i64, ci: Ci) -> ApiResult<CiOut> {
    let class = state.store.ci_class(tenant_id, ci.class_id).await?;
    Ok(CiOut::new(ci, &class.name))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CiQuery {
    /// Words in the name.
    pub q: Option<String>,
    pub class_id: Option<i64>,
    pub status: Option<CiStatus>,
    /// Only CIs that help deliver this service.
    pub service_id: Option<i64>,
    /// `name` (default), `created_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/cis", tag = "cmdb", params(CiQuery),
    responses((status = 200, body = ListOf<CiOut>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_cis(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiQuery(q): ApiQuery<CiQuery>,
) -> ApiResult<Json<ListOf<CiOut>>> {
    let filter = CiFilter {
        q: q.q,
        class_id: q.class_id,
        status: q.status,
        service_id: q.service_id,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state.store.cis(who.tenant_id(), &filter, &page).await?;
    let names = class_names(&state, who.tenant_id()).await?;
    Ok(Json(ListOf::from_page(found, |ci| {
        let class = names.get(&ci.class_id).cloned().unwrap_or_default();
        CiOut::new(ci, &class)
    })))
}

#[utoipa::path(post, path = "/cis", tag = "cmdb", request_body = CiIn,
    responses((status = 201, body = CiOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_ci(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    ApiJson(body): ApiJson<CiIn>,
) -> ApiResult<(StatusCode, Json<CiOut>)> {
    let (class, draft) = ci_draft(&state, &who, body, None).await?;
    let ci = state
        .store
        .create_ci(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(CiOut::new(ci, &class.name))))
}

#[utoipa::path(get, path = "/cis/{id}", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 200, body = CiOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_ci(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CiOut>> {
    let ci = state.store.ci(who.tenant_id(), id).await?;
    Ok(Json(ci_out(&state, who.tenant_id(), ci).await?))
}

#[utoipa::path(put, path = "/cis/{id}", tag = "cmdb", params(("id" = i64, Path)), request_body = CiIn,
    description = "Replaces the CI's fields. A change of status must be one the lifecycle allows (planned → in use or retired; in use ↔ maintenance; any → retired); anything else is a 409.",
    responses((status = 200, body = CiOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_ci(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CiIn>,
) -> ApiResult<Json<CiOut>> {
    let current = state.store.ci(who.tenant_id(), id).await?;
    let (class, draft) = ci_draft(&state, &who, body, Some(current.status)).await?;
    let ci = state
        .store
        .update_ci(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok(Json(CiOut::new(ci, &class.name)))
}

#[utoipa::path(post, path = "/cis/{id}/verify", tag = "cmdb", params(("id" = i64, Path)),
    description = "Records that the CI was checked against reality now (the health report's staleness).",
    responses((status = 200, body = CiOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn verify_ci(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CiOut>> {
    let ci = state
        .store
        .verify_ci(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Json(ci_out(&state, who.tenant_id(), ci).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CiRelationshipOut {
    pub id: i64,
    pub source: i64,
    pub target: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub dependency: Dependency,
    pub created_at: String,
}

impl From<CiRelationship> for CiRelationshipOut {
    fn from(r: CiRelationship) -> Self {
        CiRelationshipOut {
            id: r.id,
            source: r.source_id,
            target: r.target_id,
            kind: r.type_name,
            dependency: r.dependency,
            created_at: time(r.created_at),
        }
    }
}

/// `{source: X, target: A, type: depends_on}`: X depends on A.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CiRelationshipIn {
    pub source: i64,
    pub target: i64,
    /// A built-in type (`depends_on`, `runs_on`, `connects_to`, `contains`) or the tenant's own.
    #[serde(rename = "type")]
    pub kind: String,
}

#[utoipa::path(get, path = "/cis/{id}/relationships", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<CiRelationshipOut>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn relationships_of(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<CiRelationshipOut>>> {
    state.store.ci(who.tenant_id(), id).await?;
    let found = state.store.ci_relationships_of(who.tenant_id(), id).await?;
    Ok(Json(
        found.into_iter().map(CiRelationshipOut::from).collect(),
    ))
}

#[utoipa::path(post, path = "/ci-relationships", tag = "cmdb", request_body = CiRelationshipIn,
    responses((status = 201, body = CiRelationshipOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_relationship(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    ApiJson(body): ApiJson<CiRelationshipIn>,
) -> ApiResult<(StatusCode, Json<CiRelationshipOut>)> {
    let created = state
        .store
        .create_ci_relationship(
            who.tenant_id(),
            body.source,
            body.target,
            &body.kind,
            &who.actor(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/ci-relationships/{id}", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 200, body = CiRelationshipOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_relationship(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CiRelationshipOut>> {
    Ok(Json(
        state
            .store
            .ci_relationship(who.tenant_id(), id)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/ci-relationships/{id}", tag = "cmdb", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_relationship(
    State(state): State<AppState>,
    who: Can<perm::CmdbWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_ci_relationship(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DirectionIn {
    Downstream,
    Upstream,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImpactQuery {
    /// `downstream` (default): everything that depends on the CI, what breaks if it breaks;
    /// `upstream`: everything the CI depends on, what it needs to work.
    pub direction: Option<DirectionIn>,
    /// Relationships to follow at most; absent for no limit.
    pub depth: Option<u32>,
    /// CIs to list at most, nearest first (default 1000, at most 10000). Services, customers
    /// and records always cover every CI reached.
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactCiOut {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub status: String,
    /// Relationships between the analysed CI and this one on the shortest path.
    pub depth: u32,
    /// How it is reached: `ci_ids[0]` is the analysed CI.
    pub path: ImpactPath,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamedOut {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenRecordOut {
    /// `incident` or `problem`.
    pub record_type: String,
    pub key: String,
    pub title: String,
    pub status: String,
    /// The CI it is on.
    pub ci_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactOut {
    pub ci_id: i64,
    pub direction: DirectionIn,
    /// CIs reached, not counting the analysed one; `cis` lists the nearest `limit` of them.
    pub total: usize,
    /// Whether the depth limit hid CIs further out.
    pub cut_off: bool,
    pub cis: Vec<ImpactCiOut>,
    /// Services that any CI reached (or the analysed CI) helps deliver.
    pub services: Vec<NamedOut>,
    /// Customers those services are delivered to.
    pub customers: Vec<NamedOut>,
    /// Open incidents and problems on the CIs reached or the analysed CI.
    pub open_records: Vec<OpenRecordOut>,
}

fn named(list: Vec<Named>) -> Vec<NamedOut> {
    list.into_iter()
        .map(|n| NamedOut {
            id: n.id,
            name: n.name,
        })
        .collect()
}

fn impact_out(report: ImpactReport, direction: DirectionIn) -> ImpactOut {
    ImpactOut {
        ci_id: report.ci_id,
        direction,
        total: report.total,
        cut_off: report.cut_off,
        cis: report
            .items
            .into_iter()
            .map(|i| ImpactCiOut {
                id: i.id,
                name: i.name,
                class: i.class,
                status: i.status,
                depth: i.depth,
                path: i.path,
            })
            .collect(),
        services: named(report.services),
        customers: named(report.customers),
        open_records: report
            .open_records
            .into_iter()
            .map(|r| OpenRecordOut {
                record_type: r.record_type,
                key: r.key,
                title: r.title,
                status: r.status,
                ci_id: r.ci_id,
            })
            .collect(),
    }
}

/// The impact of a CI; shared by API and UI.
pub async fn impact(
    state: &AppState,
    who: &Principal,
    id: i64,
    q: &ImpactQuery,
) -> ApiResult<ImpactOut> {
    let limit = q.limit.unwrap_or(DEFAULT_IMPACT_ITEMS);
    if limit == 0 || limit > MAX_IMPACT_ITEMS {
        return Err(Invalid::one(
            "limit",
            format!("limit must be between 1 and {MAX_IMPACT_ITEMS}"),
        )
        .into());
    }
    let direction = q.direction.unwrap_or(DirectionIn::Downstream);
    let request = ImpactRequest {
        ci_id: id,
        direction: match direction {
            DirectionIn::Downstream => Direction::Downstream,
            DirectionIn::Upstream => Direction::Upstream,
        },
        depth: q.depth,
        limit,
    };
    let report = state.store.ci_impact(who.tenant_id(), request).await?;
    Ok(impact_out(report, direction))
}

#[utoipa::path(get, path = "/cis/{id}/impact", tag = "cmdb", params(("id" = i64, Path), ImpactQuery),
    description = "What a CI's failure reaches (downstream: everything that transitively depends on it) or what the CI needs (upstream), with the path to each CI, the services and customers hit and the open records on the way. Cycles are followed once.",
    responses((status = 200, body = ImpactOut), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get_impact(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ImpactQuery>,
) -> ApiResult<Json<ImpactOut>> {
    Ok(Json(impact(&state, &who, id, &q).await?))
}

/// Most findings of each kind a health report lists; the counts cover them all.
pub const MAX_FINDINGS: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
pub struct HealthQuery {
    /// A CI not verified for longer than this is stale (default 90).
    pub stale_after_days: Option<u32>,
}

/// A CI as a finding names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CiRef {
    pub id: i64,
    pub name: String,
    pub class: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaleOut {
    pub ci: CiRef,
    /// Absent if it was never verified.
    pub last_verified_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateOut {
    /// `serial` or `hostname`.
    pub key: String,
    /// The shared value, normalised.
    pub value: String,
    pub cis: Vec<CiRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MissingOut {
    pub ci: CiRef,
    /// Required attributes of its class it has no value for.
    pub attributes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthCounts {
    pub stale: usize,
    pub orphans: usize,
    pub duplicate_groups: usize,
    pub missing_attributes: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthOut {
    pub stale_after_days: u32,
    /// How many findings of each kind; the lists show the first 500 of each.
    pub counts: HealthCounts,
    pub stale: Vec<StaleOut>,
    /// CIs with no relationship and no service: nothing says why they matter.
    pub orphans: Vec<CiRef>,
    pub duplicates: Vec<DuplicateOut>,
    pub missing_attributes: Vec<MissingOut>,
}

/// The CMDB health report; shared by API and UI.
pub async fn health(state: &AppState, who: &Principal, q: &HealthQuery) -> ApiResult<HealthOut> {
    use steward_domain::cmdb::health::HealthPolicy;
    let policy = HealthPolicy {
        stale_after_days: q
            .stale_after_days
            .unwrap_or(HealthPolicy::default().stale_after_days),
    };
    let tenant = who.tenant_id();
    let report = state
        .store
        .cmdb_health(tenant, policy, steward_store::now_micros())
        .await?;
    let stale = &report.stale[..report.stale.len().min(MAX_FINDINGS)];
    let orphans = &report.orphans[..report.orphans.len().min(MAX_FINDINGS)];
    let duplicates = &report.duplicates[..report.duplicates.len().min(MAX_FINDINGS)];
    let missing = &report.missing_attributes[..report.missing_attributes.len().min(MAX_FINDINGS)];
    let mut ids: Vec<i64> = stale.iter().map(|s| s.ci_id).collect();
    ids.extend(orphans);
    ids.extend(duplicates.iter().flat_map(|d| d.ci_ids.iter().copied()));
    ids.extend(missing.iter().map(|m| m.ci_id));
    ids.sort_unstable();
    ids.dedup();
    let labels = state.store.ci_labels(tenant, &ids).await?;
    let ci = |id: i64| {
        let label = labels.get(&id);
        CiRef {
            id,
            name: label.map(|l| l.name.clone()).unwrap_or_default(),
            class: label.map(|l| l.class.clone()).unwrap_or_default(),
        }
    };
    Ok(HealthOut {
        stale_after_days: policy.stale_after_days,
        counts: HealthCounts {
            stale: report.stale.len(),
            orphans: report.orphans.len(),
            duplicate_groups: report.duplicates.len(),
            missing_attributes: report.missing_attributes.len(),
        },
        stale: stale
            .iter()
            .map(|s| StaleOut {
                ci: ci(s.ci_id),
                last_verified_at: s.last_verified_micros.map(time),
            })
            .collect(),
        orphans: orphans.iter().map(|&id| ci(id)).collect(),
        duplicates: duplicates
            .iter()
            .map(|d| DuplicateOut {
                key: d.key.as_str().to_owned(),
                value: d.value.clone(),
                cis: d.ci_ids.iter().map(|&id| ci(id)).collect(),
            })
            .collect(),
        missing_attributes: missing
            .iter()
            .map(|m| MissingOut {
                ci: ci(m.ci_id),
                attributes: m.attributes.clone(),
            })
            .collect(),
    })
}

#[utoipa::path(get, path = "/cmdb/health", tag = "cmdb", params(HealthQuery),
    description = "What makes the CMDB less trustworthy than it looks: stale CIs (not verified for N days), orphans (no relationship, no service), probable duplicates (same serial number or host name) and missing required attributes. Retired CIs are left out.",
    responses((status = 200, body = HealthOut), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn get_health(
    State(state): State<AppState>,
    who: Can<perm::CmdbRead>,
    ApiQuery(q): ApiQuery<HealthQuery>,
) -> ApiResult<Json<HealthOut>> {
    Ok(Json(health(&state, &who, &q).await?))
}
