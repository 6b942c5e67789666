//! Tenants: each organisation's records, journal chain and users are kept apart by tenant id.

use crate::db::sql;
use crate::journal::{Change, snapshot};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::journal::{Action, GENESIS};
use steward_domain::tenant::NewTenant;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Tenant {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

impl Store {
    /// Creates a tenant with its own journal chain, whose first entry is the tenant's creation.
    pub async fn create_tenant(&self, new: &NewTenant, actor: &Actor) -> StoreResult<Tenant> {
        let mut tx = self.db.begin().await?;
        let tenant: Tenant = tx
            .fetch_one(
                sql("INSERT INTO tenants (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id, slug, name, created_at")
                    .bind(&new.slug)
                    .bind(&new.name)
                    .bind(now_micros()),
            )
            .await
            .map_err(|e| e.unique_as("name", "A tenant with this name already exists"))?;
        tx.execute(
            sql("INSERT INTO journal_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)")
                .bind(tenant.id)
                .bind(GENESIS),
        )
        .await?;
        self.journal(
            &mut tx,
            Change {
                tenant_id: tenant.id,
                actor,
                action: Action::Create,
                record_type: "tenant",
                record_id: tenant.id,
                before: None,
                after: snapshot(&tenant),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(tenant)
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> StoreResult<Tenant> {
        self.db
            .fetch_one(
                sql("SELECT id, slug, name, created_at FROM tenants WHERE slug = $1").bind(slug),
            )
            .await
    }

    pub async fn tenant(&self, id: i64) -> StoreResult<Tenant> {
        self.db
            .fetch_one(sql("SELECT id, slug, name, created_at FROM tenants WHERE id = $1").bind(id))
            .await
    }

    pub async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.db
            .fetch_all(sql(
                "SELECT id, slug, name, created_at FROM tenants ORDER BY id",
            ))
            .await
    }

    /// The tenant for `slug`, or a clear error naming the slug.
    pub async fn require_tenant(&self, slug: &str) -> StoreResult<Tenant> {
        self.tenant_by_slug(slug).await.map_err(|e| match e {
            StoreError::NotFound => StoreError::Config(format!("no tenant with slug `{slug}`")),
            other => other,
        })
    }
}
