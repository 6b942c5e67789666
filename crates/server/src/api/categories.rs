//! `/categories`: the tenant's category tree (incidents, requests and problems use it), and
//! `/custom-fields/{kind}`: the custom fields admins define for a kind of record. Everyone
//! signed in may read both (forms need them); managers and admins change categories, admins
//! change custom fields.

use super::{ApiJson, ApiPath, nullable, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::request::{FormField, validate_custom_fields};
use steward_store::StoreError;
use steward_store::category::{CategoryChange, CategoryInTree};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryOut {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    /// From the root, e.g. `Hardware › Laptops`.
    pub path: String,
    /// 0 for a top-level category.
    pub depth: usize,
    /// Retired categories stay on old incidents but cannot be chosen.
    pub retired: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CategoryInTree> for CategoryOut {
    fn from(t: CategoryInTree) -> Self {
        CategoryOut {
            id: t.category.id,
            parent_id: t.category.parent_id,
            name: t.category.name,
            path: t.path,
            depth: t.depth,
            retired: t.category.retired,
            created_at: time(t.category.created_at),
            updated_at: time(t.category.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryCreate {
    pub name: String,
    /// Absent for a top-level category.
    pub parent_id: Option<i64>,
}

/// Rename, move (`parent_id`, null for top level) or retire (`retired`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<i64>>,
    pub retired: Option<bool>,
}

/// The tenant's categories in tree order.
pub async fn tree(state: &AppState, tenant_id: i64) -> ApiResult<Vec<CategoryOut>> {
    Ok(state
        .store
        .category_tree(tenant_id)
        .await?
        .into_iter()
        .map(CategoryOut::from)
        .collect())
}

async fn one(state: &AppState, tenant_id: i64, id: i64) -> ApiResult<CategoryOut> {
    tree(state, tenant_id)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(ApiError::not_found)
}

/// Checks that an incident may be put in `category_id`: a live category of the tenant.
pub async fn check_live(state: &AppState, tenant_id: i64, category_id: i64) -> ApiResult<()> {
    match state.store.category(tenant_id, category_id).await {
        Ok(c) if !c.retired => Ok(()),
        Ok(c) => {
            Err(Invalid::one("category_id", format!("Category `{}` is retired", c.name)).into())
        }
        Err(StoreError::NotFound) => Err(Invalid::one(
            "category_id",
            format!("Category {category_id} does not exist in this organisation"),
        )
        .into()),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/categories", tag = "categories",
    responses((status = 200, body = Vec<CategoryOut>), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<CategoryOut>>> {
    Ok(Json(tree(&state, who.tenant_id()).await?))
}

/// Creates a category; shared by API and UI.
pub async fn add(
    state: &AppState,
    who: &Principal,
    body: CategoryCreate,
) -> ApiResult<CategoryOut> {
    let created = state
        .store
        .create_category(who.tenant_id(), body.parent_id, &body.name, &who.actor())
        .await?;
    one(state, who.tenant_id(), created.id).await
}

#[utoipa::path(post, path = "/categories", tag = "categories", request_body = CategoryCreate,
    responses((status = 201, body = CategoryOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiJson(body): ApiJson<CategoryCreate>,
) -> ApiResult<(StatusCode, Json<CategoryOut>)> {
    Ok((StatusCode::CREATED, Json(add(&state, &who, body).await?)))
}

#[utoipa::path(patch, path = "/categories/{id}", tag = "categories", params(("id" = i64, Path)),
    request_body = CategoryPatch,
    responses((status = 200, body = CategoryOut), (status = 404, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CategoryPatch>,
) -> ApiResult<Json<CategoryOut>> {
    let change = CategoryChange {
        name: body.name,
        parent_id: body.parent_id,
        retired: body.retired,
    };
    state
        .store
        .update_category(who.tenant_id(), id, &change, &who.actor())
        .await?;
    Ok(Json(one(&state, who.tenant_id(), id).await?))
}

#[utoipa::path(get, path = "/custom-fields/{kind}", tag = "categories",
    params(("kind" = String, Path, description = "The kind of record: `incident`, `request` or `problem`")),
    responses((status = 200, body = Vec<FormField>), (status = 404, body = Problem)))]
pub async fn get_custom_fields(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(kind): ApiPath<String>,
) -> ApiResult<Json<Vec<FormField>>> {
    Ok(Json(
        state.store.custom_fields(who.tenant_id(), &kind).await?,
    ))
}

/// Validates and stores the whole list of custom fields of a kind; shared by API and UI.
pub async fn replace_custom_fields(
    state: &AppState,
    who: &Principal,
    kind: &str,
    fields: Vec<FormField>,
) -> ApiResult<Vec<FormField>> {
    let fields = validate_custom_fields(fields)?;
    Ok(state
        .store
        .replace_custom_fields(who.tenant_id(), kind, &fields, &who.actor())
        .await?)
}

#[utoipa::path(put, path = "/custom-fields/{kind}", tag = "categories",
    params(("kind" = String, Path, description = "The kind of record: `incident`, `request` or `problem`")),
    request_body = Vec<FormField>,
    responses((status = 200, body = Vec<FormField>), (status = 404, body = Problem), (status = 422, body = Problem), (status = 403, body = Problem)))]
pub async fn put_custom_fields(
    State(state): State<AppState>,
    who: Can<perm::UsersWrite>,
    ApiPath(kind): ApiPath<String>,
    ApiJson(fields): ApiJson<Vec<FormField>>,
) -> ApiResult<Json<Vec<FormField>>> {
    Ok(Json(
        replace_custom_fields(&state, &who, &kind, fields).await?,
    ))
}
