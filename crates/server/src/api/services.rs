//! `/services`: the service catalogue.

use super::{ApiJson, ApiPath, ApiQuery, ListOf, nullable, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_store::PageRequest;
use steward_store::service::{Service, ServiceFilter};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub criticality: Criticality,
    pub status: ServiceStatus,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Service> for ServiceOut {
    fn from(s: Service) -> Self {
        ServiceOut {
            id: s.id,
            name: s.name,
            description: s.description,
            owner_id: s.owner_id,
            criticality: s.criticality,
            status: s.status,
            created_at: time(s.created_at),
            updated_at: time(s.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCreate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A user of this organisation.
    pub owner_id: Option<i64>,
    /// Defaults to `medium`.
    #[serde(default)]
    pub criticality: Criticality,
    /// Defaults to `pipeline`.
    #[serde(default)]
    pub status: ServiceStatus,
}

/// Fields to change; absent fields stay as they are, `owner_id: null` clears the owner.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub owner_id: Option<Option<i64>>,
    pub criticality: Option<Criticality>,
    pub status: Option<ServiceStatus>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ServiceQuery {
    /// Words in the name.
    pub q: Option<String>,
    pub status: Option<ServiceStatus>,
    pub criticality: Option<Criticality>,
    pub owner_id: Option<i64>,
    /// `name` (default), `created_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/services", tag = "services", params(ServiceQuery),
    responses((status = 200, body = ListOf<ServiceOut>), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::ServicesRead>,
    ApiQuery(q): ApiQuery<ServiceQuery>,
) -> ApiResult<Json<ListOf<ServiceOut>>> {
    let filter = ServiceFilter {
        q: q.q,
        status: q.status,
        criticality: q.criticality,
        owner_id: q.owner_id,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .services(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, ServiceOut::from)))
}

#[utoipa::path(post, path = "/services", tag = "services", request_body = ServiceCreate,
    responses((status = 201, body = ServiceOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiJson(body): ApiJson<ServiceCreate>,
) -> ApiResult<(StatusCode, Json<ServiceOut>)> {
    let draft = ServiceDraft {
        name: body.name,
        description: body.description,
        owner_id: body.owner_id,
        criticality: body.criticality,
        status: body.status,
    }
    .validate()?;
    let service = state
        .store
        .create_service(who.tenant_id(), &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(service.into())))
}

#[utoipa::path(get, path = "/services/{id}", tag = "services", params(("id" = i64, Path)),
    responses((status = 200, body = ServiceOut), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::ServicesRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ServiceOut>> {
    Ok(Json(state.store.service(who.tenant_id(), id).await?.into()))
}

#[utoipa::path(patch, path = "/services/{id}", tag = "services", params(("id" = i64, Path)), request_body = ServicePatch,
    responses((status = 200, body = ServiceOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ServicePatch>,
) -> ApiResult<Json<ServiceOut>> {
    let current = state.store.service(who.tenant_id(), id).await?;
    let draft = ServiceDraft {
        name: patch.name.unwrap_or(current.name),
        description: patch.description.unwrap_or(current.description),
        owner_id: patch.owner_id.unwrap_or(current.owner_id),
        criticality: patch.criticality.unwrap_or(current.criticality),
        status: patch.status.unwrap_or(current.status),
    }
    .validate()?;
    Ok(Json(
        state
            .store
            .update_service(who.tenant_id(), id, &draft, &who.actor())
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/services/{id}", tag = "services", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_service(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customers a service is delivered to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceCustomersBody {
    pub customer_ids: Vec<i64>,
}

#[utoipa::path(get, path = "/services/{id}/customers", tag = "services", params(("id" = i64, Path)),
    responses((status = 200, body = ServiceCustomersBody), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_customers(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ServiceCustomersBody>> {
    state.store.service(who.tenant_id(), id).await?;
    let customer_ids = state.store.service_customers(who.tenant_id(), id).await?;
    Ok(Json(ServiceCustomersBody { customer_ids }))
}

#[utoipa::path(put, path = "/services/{id}/customers", tag = "services", params(("id" = i64, Path)),
    request_body = ServiceCustomersBody,
    description = "Replaces the customers the service is delivered to; impact analysis names them when the service is hit.",
    responses((status = 200, body = ServiceCustomersBody), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_customers(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ServiceCustomersBody>,
) -> ApiResult<Json<ServiceCustomersBody>> {
    let customer_ids = state
        .store
        .set_service_customers(who.tenant_id(), id, &body.customer_ids, &who.actor())
        .await?;
    Ok(Json(ServiceCustomersBody { customer_ids }))
}
