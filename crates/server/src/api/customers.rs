//! `/customers` and their `/contacts`.

use super::{ApiJson, ApiPath, ApiQuery, ListOf, time};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::relationship::{DEFAULT_REVIEW_FREQUENCY_MONTHS, RelationshipDraft};
use steward_store::PageRequest;
use steward_store::customer::{Contact, Customer, CustomerFilter};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    pub id: i64,
    pub name: String,
    pub notes: String,
    /// The user who owns the relationship with the customer (8.3.2-b).
    pub relationship_owner_id: Option<i64>,
    /// Months between service reviews with the customer, 1 to 24.
    pub review_frequency_months: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Customer> for CustomerOut {
    fn from(c: Customer) -> Self {
        CustomerOut {
            id: c.id,
            name: c.name,
            notes: c.notes,
            relationship_owner_id: c.relationship_owner_id,
            review_frequency_months: c.review_frequency_months,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerCreate {
    pub name: String,
    #[serde(default)]
    pub notes: String,
    /// An active user of the organisation.
    pub relationship_owner_id: Option<i64>,
    /// 1 to 24; 6 unless given.
    pub review_frequency_months: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub notes: Option<String>,
    /// An active user of the organisation; `null` clears it.
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<i64>)]
    pub relationship_owner_id: Option<Option<i64>>,
    /// 1 to 24.
    pub review_frequency_months: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CustomerQuery {
    /// Words in the name.
    pub q: Option<String>,
    /// `name` (default), `created_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Contact> for ContactOut {
    fn from(c: Contact) -> Self {
        ContactOut {
            id: c.id,
            customer_id: c.customer_id,
            name: c.name,
            email: c.email,
            phone: c.phone,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactCreate {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[utoipa::path(get, path = "/customers", tag = "customers", params(CustomerQuery),
    responses((status = 200, body = ListOf<CustomerOut>), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiQuery(q): ApiQuery<CustomerQuery>,
) -> ApiResult<Json<ListOf<CustomerOut>>> {
    let filter = CustomerFilter {
        q: q.q,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .customers(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, CustomerOut::from)))
}

#[utoipa::path(post, path = "/customers", tag = "customers", request_body = CustomerCreate,
    responses((status = 201, body = CustomerOut), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiJson(body): ApiJson<CustomerCreate>,
) -> ApiResult<(StatusCode, Json<CustomerOut>)> {
    let draft = CustomerDraft {
        name: body.name,
        notes: body.notes,
    }
    .validate()?;
    let relationship = RelationshipDraft {
        relationship_owner_id: body.relationship_owner_id,
        review_frequency_months: body
            .review_frequency_months
            .unwrap_or(DEFAULT_REVIEW_FREQUENCY_MONTHS),
    }
    .validate()?;
    let mut customer = state
        .store
        .create_customer(who.tenant_id(), &draft, &who.actor())
        .await?;
    if relationship.relationship_owner_id.is_some()
        || relationship.review_frequency_months != customer.review_frequency_months
    {
        customer = state
            .store
            .set_customer_relationship(who.tenant_id(), customer.id, &relationship, &who.actor())
            .await?;
    }
    Ok((StatusCode::CREATED, Json(customer.into())))
}

#[utoipa::path(get, path = "/customers/{id}", tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = CustomerOut), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustomerOut>> {
    Ok(Json(
        state.store.customer(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/customers/{id}", tag = "customers", params(("id" = i64, Path)), request_body = CustomerPatch,
    responses((status = 200, body = CustomerOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<CustomerPatch>,
) -> ApiResult<Json<CustomerOut>> {
    let current = state.store.customer(who.tenant_id(), id).await?;
    let relationship = RelationshipDraft {
        relationship_owner_id: patch
            .relationship_owner_id
            .unwrap_or(current.relationship_owner_id),
        review_frequency_months: patch
            .review_frequency_months
            .unwrap_or(current.review_frequency_months),
    }
    .validate()?;
    let draft = CustomerDraft {
        name: patch.name.unwrap_or(current.name.clone()),
        notes: patch.notes.unwrap_or(current.notes.clone()),
    }
    .validate()?;
    if relationship.relationship_owner_id != current.relationship_owner_id
        || relationship.review_frequency_months != current.review_frequency_months
    {
        state
            .store
            .set_customer_relationship(who.tenant_id(), id, &relationship, &who.actor())
            .await?;
    }
    Ok(Json(
        state
            .store
            .update_customer(who.tenant_id(), id, &draft, &who.actor())
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/customers/{id}", tag = "customers", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_customer(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/customers/{id}/contacts", tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ContactOut>), (status = 404, body = Problem)))]
pub async fn list_contacts(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ContactOut>>> {
    let contacts = state.store.contacts(who.tenant_id(), id).await?;
    Ok(Json(contacts.into_iter().map(ContactOut::from).collect()))
}

#[utoipa::path(post, path = "/customers/{id}/contacts", tag = "customers", params(("id" = i64, Path)), request_body = ContactCreate,
    responses((status = 201, body = ContactOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_contact(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ContactCreate>,
) -> ApiResult<(StatusCode, Json<ContactOut>)> {
    let draft = ContactDraft {
        name: body.name,
        email: body.email,
        phone: body.phone,
    }
    .validate()?;
    let contact = state
        .store
        .create_contact(who.tenant_id(), id, &draft, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(contact.into())))
}

#[utoipa::path(get, path = "/customers/{id}/contacts/{contact_id}", tag = "customers",
    params(("id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 200, body = ContactOut), (status = 404, body = Problem)))]
pub async fn get_contact(
    State(state): State<AppState>,
    who: Can<perm::CustomersRead>,
    ApiPath((id, contact_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Json<ContactOut>> {
    Ok(Json(
        state
            .store
            .contact(who.tenant_id(), id, contact_id)
            .await?
            .into(),
    ))
}

#[utoipa::path(patch, path = "/customers/{id}/contacts/{contact_id}", tag = "customers",
    params(("id" = i64, Path), ("contact_id" = i64, Path)), request_body = ContactPatch,
    responses((status = 200, body = ContactOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_contact(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath((id, contact_id)): ApiPath<(i64, i64)>,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> ApiResult<Json<ContactOut>> {
    let current = state.store.contact(who.tenant_id(), id, contact_id).await?;
    let draft = ContactDraft {
        name: patch.name.unwrap_or(current.name),
        email: patch.email.unwrap_or(current.email),
        phone: patch.phone.unwrap_or(current.phone),
    }
    .validate()?;
    Ok(Json(
        state
            .store
            .update_contact(who.tenant_id(), id, contact_id, &draft, &who.actor())
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/customers/{id}/contacts/{contact_id}", tag = "customers",
    params(("id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_contact(
    State(state): State<AppState>,
    who: Can<perm::CustomersWrite>,
    ApiPath((id, contact_id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_contact(who.tenant_id(), id, contact_id, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
