//! Customers (organisations served) and their contacts.

use crate::db::sql;
use crate::identity::like_pattern;
use crate::journal::{Record, RecordWrite};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::journal::Action;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub notes: String,
    /// The user who owns the relationship with the customer (8.3.2-b).
    pub relationship_owner_id: Option<i64>,
    /// Months between service reviews with the customer (8.3.2-d), 1 to 24.
    pub review_frequency_months: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Customer {
    const KIND: &'static str = "customer";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Contact {
    const KIND: &'static str = "contact";
    fn id(&self) -> i64 {
        self.id
    }
}

pub(crate) const COLUMNS: &str =
    "id, name, notes, relationship_owner_id, review_frequency_months, created_at, updated_at";
const CONTACT_COLUMNS: &str = "id, customer_id, name, email, phone, created_at, updated_at";

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub q: Option<String>,
    pub sort: Option<String>,
}

impl Store {
    pub async fn count_customers(&self, tenant_id: i64) -> StoreResult<i64> {
        let row: (i64,) = self
            .db
            .fetch_one(
                sql("SELECT COUNT(*) FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL")
                    .bind(tenant_id),
            )
            .await?;
        Ok(row.0)
    }
}

pub(crate) fn select_one(tenant_id: i64, id: i64) -> crate::db::Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
    ))
    .bind(tenant_id)
    .bind(id)
}

fn select_contact(tenant_id: i64, customer_id: i64, id: i64) -> crate::db::Sql {
    sql(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND customer_id = $2 AND id = $3 AND deleted_at IS NULL"
    ))
    .bind(tenant_id)
    .bind(customer_id)
    .bind(id)
}

impl Store {
    pub async fn create_customer(
        &self,
        tenant_id: i64,
        d: &CustomerDraft,
        actor: &Actor,
    ) -> StoreResult<Customer> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Create,
            actor,
            before: None,
            write: sql(format!(
                "INSERT INTO customers (tenant_id, name, notes, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING {COLUMNS}"
            ))
            .bind(tenant_id)
            .bind(&d.name)
            .bind(&d.notes)
            .bind(now_micros()),
            unique: None,
        })
        .await
    }

    pub async fn customer(&self, tenant_id: i64, id: i64) -> StoreResult<Customer> {
        self.db.fetch_one(select_one(tenant_id, id)).await
    }

    pub async fn update_customer(
        &self,
        tenant_id: i64,
        id: i64,
        d: &CustomerDraft,
        actor: &Actor,
    ) -> StoreResult<Customer> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Update,
            actor,
            before: Some(select_one(tenant_id, id)),
            write: sql(format!(
                "UPDATE customers SET name = $1, notes = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5 AND deleted_at IS NULL RETURNING {COLUMNS}"
            ))
            .bind(&d.name)
            .bind(&d.notes)
            .bind(now_micros())
            .bind(tenant_id)
            .bind(id),
            unique: None,
        })
        .await
    }

    pub async fn delete_customer(&self, tenant_id: i64, id: i64, actor: &Actor) -> StoreResult<()> {
        self.write_record::<Customer>(RecordWrite {
            tenant_id,
            action: Action::Delete,
            actor,
            before: Some(select_one(tenant_id, id)),
            write: sql(format!(
                "UPDATE customers SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING {COLUMNS}"
            ))
            .bind(now_micros())
            .bind(tenant_id)
            .bind(id),
            unique: None,
        })
        .await
        .map(drop)
    }

    pub async fn customers(
        &self,
        tenant_id: i64,
        f: &CustomerFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        let sort = Sort::parse(f.sort.as_deref(), &["name", "created_at", "updated_at"])
            .ok_or_else(|| {
                Invalid::one(
                    "sort",
                    "sort must be name, created_at or updated_at, optionally with a leading -",
                )
            })?;
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL"
        ))
        .bind(tenant_id);
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = q.push_bound(" AND lower(name) LIKE {}", like_pattern(text.trim()));
        }
        let rows: Vec<Customer> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(rows, page, |c| match sort.column {
            "created_at" => (CursorKey::Int(c.created_at), c.id),
            "updated_at" => (CursorKey::Int(c.updated_at), c.id),
            _ => (CursorKey::Text(c.name.clone()), c.id),
        }))
    }

    pub async fn contacts(&self, tenant_id: i64, customer_id: i64) -> StoreResult<Vec<Contact>> {
        self.customer(tenant_id, customer_id).await?;
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND customer_id = $2 AND deleted_at IS NULL ORDER BY name, id"
                ))
                .bind(tenant_id)
                .bind(customer_id),
            )
            .await
    }

    pub async fn contact(&self, tenant_id: i64, customer_id: i64, id: i64) -> StoreResult<Contact> {
        self.db
            .fetch_one(select_contact(tenant_id, customer_id, id))
            .await
    }

    pub async fn create_contact(
        &self,
        tenant_id: i64,
        customer_id: i64,
        d: &ContactDraft,
        actor: &Actor,
    ) -> StoreResult<Contact> {
        self.customer(tenant_id, customer_id).await?;
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Create,
            actor,
            before: None,
            write: sql(format!(
                "INSERT INTO contacts (tenant_id, customer_id, name, email, phone, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {CONTACT_COLUMNS}"
            ))
            .bind(tenant_id)
            .bind(customer_id)
            .bind(&d.name)
            .bind(&d.email)
            .bind(&d.phone)
            .bind(now_micros()),
            unique: None,
        })
        .await
    }

    pub async fn update_contact(
        &self,
        tenant_id: i64,
        customer_id: i64,
        id: i64,
        d: &ContactDraft,
        actor: &Actor,
    ) -> StoreResult<Contact> {
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Update,
            actor,
            before: Some(select_contact(tenant_id, customer_id, id)),
            write: sql(format!(
                "UPDATE contacts SET name = $1, email = $2, phone = $3, updated_at = $4 \
                 WHERE tenant_id = $5 AND customer_id = $6 AND id = $7 AND deleted_at IS NULL RETURNING {CONTACT_COLUMNS}"
            ))
            .bind(&d.name)
            .bind(&d.email)
            .bind(&d.phone)
            .bind(now_micros())
            .bind(tenant_id)
            .bind(customer_id)
            .bind(id),
            unique: None,
        })
        .await
    }

    pub async fn delete_contact(
        &self,
        tenant_id: i64,
        customer_id: i64,
        id: i64,
        actor: &Actor,
    ) -> StoreResult<()> {
        self.write_record::<Contact>(RecordWrite {
            tenant_id,
            action: Action::Delete,
            actor,
            before: Some(select_contact(tenant_id, customer_id, id)),
            write: sql(format!(
                "UPDATE contacts SET deleted_at = $1 WHERE tenant_id = $2 AND customer_id = $3 AND id = $4 AND deleted_at IS NULL RETURNING {CONTACT_COLUMNS}"
            ))
            .bind(now_micros())
            .bind(tenant_id)
            .bind(customer_id)
            .bind(id),
            unique: None,
        })
        .await
        .map(drop)
    }
}

impl Store {
    /// The tenant's live contact with this e-mail address (case-insensitive); the oldest if
    /// several customers share one. Mail-in uses it to find the requester.
    pub async fn contact_by_email(
        &self,
        tenant_id: i64,
        email: &str,
    ) -> StoreResult<Option<Contact>> {
        self.db
            .fetch_optional(
                sql(format!(
                    "SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND lower(email) = lower($2) \
                     AND deleted_at IS NULL ORDER BY id LIMIT 1"
                ))
                .bind(tenant_id)
                .bind(email.trim()),
            )
            .await
    }

    /// A live contact of the tenant by id alone, whatever its customer: where notifications
    /// to a record's requester go.
    pub async fn contact_by_id(&self, tenant_id: i64, id: i64) -> StoreResult<Contact> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {CONTACT_COLUMNS} FROM contacts WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }
}
