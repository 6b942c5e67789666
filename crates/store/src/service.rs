//! Services: name, description, owner, criticality and lifecycle status.

use crate::db::{Tx, sql};
use crate::identity::like_pattern;
use crate::journal::{Change as Entry, Record, RecordWrite};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::journal::Action;
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Service {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub owner_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub criticality: Criticality,
    #[sqlx(try_from = "String")]
    pub status: ServiceStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Service {
    const KIND: &'static str = "service";
    fn id(&self) -> i64 {
        self.id
    }
}

const COLUMNS: &str =
    "id, name, description, owner_id, criticality, status, created_at, updated_at";

#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub q: Option<String>,
    pub status: Option<ServiceStatus>,
    pub criticality: Option<Criticality>,
    pub owner_id: Option<i64>,
    pub sort: Option<String>,
}

impl Store {
    /// Owners must be users of the same tenant.
    pub(crate) async fn check_owner(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
    ) -> StoreResult<()> {
        match owner_id {
            Some(id) => match self.user(tenant_id, id).await {
                Ok(_) => Ok(()),
                Err(StoreError::NotFound) => Err(Invalid::one(
                    "owner_id",
                    "Owner must be a user of this organisation",
                )
                .into()),
                Err(e) => Err(e),
            },
            None => Ok(()),
        }
    }

    pub async fn create_service(
        &self,
        tenant_id: i64,
        d: &ServiceDraft,
        actor: &Actor,
    ) -> StoreResult<Service> {
        self.check_owner(tenant_id, d.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let created = self.create_service_in(&mut tx, tenant_id, d, actor).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// `create_service` inside `tx`, journaled there; the caller has checked the owner.
    pub(crate) async fn create_service_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        d: &ServiceDraft,
        actor: &Actor,
    ) -> StoreResult<Service> {
        let created: Service = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO services (tenant_id, name, description, owner_id, criticality, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(&d.name)
                .bind(&d.description)
                .bind(d.owner_id)
                .bind(d.criticality.as_str())
                .bind(d.status.as_str())
                .bind(now_micros()),
            )
            .await?;
        self.journal(
            tx,
            Entry::of(tenant_id, actor, Action::Create, None, Some(&created)),
        )
        .await?;
        Ok(created)
    }

    pub async fn service(&self, tenant_id: i64, id: i64) -> StoreResult<Service> {
        self.db.fetch_one(select_one(tenant_id, id)).await
    }

    pub async fn update_service(
        &self,
        tenant_id: i64,
        id: i64,
        d: &ServiceDraft,
        actor: &Actor,
    ) -> StoreResult<Service> {
        self.check_owner(tenant_id, d.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let updated = self
            .update_service_in(&mut tx, tenant_id, id, d, actor)
            .await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// `update_service` inside `tx`, journaled there; the caller has checked the owner.
    pub(crate) async fn update_service_in(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        id: i64,
        d: &ServiceDraft,
        actor: &Actor,
    ) -> StoreResult<Service> {
        let before: Service = tx.fetch_one(select_one(tenant_id, id)).await?;
        let after: Service = tx
            .fetch_one(
                sql(format!(
                    "UPDATE services SET name = $1, description = $2, owner_id = $3, criticality = $4, status = $5, updated_at = $6 \
                     WHERE tenant_id = $7 AND id = $8 AND deleted_at IS NULL RETURNING {COLUMNS}"
                ))
                .bind(&d.name)
                .bind(&d.description)
                .bind(d.owner_id)
                .bind(d.criticality.as_str())
                .bind(d.status.as_str())
                .bind(now_micros())
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        self.journal(
            tx,
            Entry::of(
                tenant_id,
                actor,
                Action::Update,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        Ok(after)
    }

    /// Removes a service from use. The row stays (records refer to it) and the journal keeps it.
    pub async fn delete_service(&self, tenant_id: i64, id: i64, actor: &Actor) -> StoreResult<()> {
        self.write_record::<Service>(RecordWrite {
            tenant_id,
            action: Action::Delete,
            actor,
            before: Some(select_one(tenant_id, id)),
            write: sql(format!(
                "UPDATE services SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING {COLUMNS}"
            ))
            .bind(now_micros())
            .bind(tenant_id)
            .bind(id),
            unique: None,
        })
        .await
        .map(drop)
    }

    pub async fn services(
        &self,
        tenant_id: i64,
        f: &ServiceFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Service>> {
        let sort = Sort::parse(f.sort.as_deref(), &["name", "created_at", "updated_at"])
            .ok_or_else(|| {
                Invalid::one(
                    "sort",
                    "sort must be name, created_at or updated_at, optionally with a leading -",
                )
            })?;
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM services WHERE tenant_id = $1 AND deleted_at IS NULL"
        ))
        .bind(tenant_id);
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = q.push_bound(" AND lower(name) LIKE {}", like_pattern(text.trim()));
        }
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        if let Some(criticality) = f.criticality {
            q = q.push_bound(" AND criticality = {}", criticality.as_str());
        }
        if let Some(owner) = f.owner_id {
            q = q.push_bound(" AND owner_id = {}", owner);
        }
        let rows: Vec<Service> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(rows, page, |s| match sort.column {
            "created_at" => (CursorKey::Int(s.created_at), s.id),
            "updated_at" => (CursorKey::Int(s.updated_at), s.id),
            _ => (CursorKey::Text(s.name.clone()), s.id),
        }))
    }
}

impl Store {
    /// Live services per status, for dashboards.
    pub async fn service_counts_by_status(
        &self,
        tenant_id: i64,
    ) -> StoreResult<Vec<(String, i64)>> {
        self.db
            .fetch_all(
                sql("SELECT status, COUNT(*) FROM services WHERE tenant_id = $1 AND deleted_at IS NULL GROUP BY status ORDER BY status")
                    .bind(tenant_id),
            )
            .await
    }
}

fn select_one(tenant_id: i64, id: i64) -> crate::db::Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM services WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
    ))
    .bind(tenant_id)
    .bind(id)
}

/// The customers a service is delivered to, as the journal shows a change of them.
#[derive(Serialize)]
struct ServiceCustomers {
    service_id: i64,
    customer_ids: Vec<i64>,
}

impl Record for ServiceCustomers {
    const KIND: &'static str = "service_customers";
    fn id(&self) -> i64 {
        self.service_id
    }
}

impl Store {
    /// The customers a service is delivered to, by id.
    pub async fn service_customers(
        &self,
        tenant_id: i64,
        service_id: i64,
    ) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = self
            .db
            .fetch_all(
                sql("SELECT customer_id FROM service_customers WHERE tenant_id = $1 AND service_id = $2 \
                     ORDER BY customer_id")
                .bind(tenant_id)
                .bind(service_id),
            )
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Replaces the customers a service is delivered to; impact analysis names them when the
    /// service is hit.
    pub async fn set_service_customers(
        &self,
        tenant_id: i64,
        service_id: i64,
        customer_ids: &[i64],
        actor: &Actor,
    ) -> StoreResult<Vec<i64>> {
        self.service(tenant_id, service_id).await?;
        let mut ids = customer_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        for id in &ids {
            self.customer(tenant_id, *id).await.map_err(|e| match e {
                StoreError::NotFound => {
                    Invalid::one("customer_ids", format!("There is no customer {id}")).into()
                }
                other => other,
            })?;
        }
        let before = ServiceCustomers {
            service_id,
            customer_ids: self.service_customers(tenant_id, service_id).await?,
        };
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("DELETE FROM service_customers WHERE tenant_id = $1 AND service_id = $2")
                .bind(tenant_id)
                .bind(service_id),
        )
        .await?;
        for id in &ids {
            tx.execute(
                sql("INSERT INTO service_customers (tenant_id, service_id, customer_id) VALUES ($1, $2, $3)")
                    .bind(tenant_id)
                    .bind(service_id)
                    .bind(*id),
            )
            .await?;
        }
        let after = ServiceCustomers {
            service_id,
            customer_ids: ids,
        };
        self.journal(
            &mut tx,
            crate::journal::Change::of(
                tenant_id,
                actor,
                Action::Update,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(after.customer_ids)
    }
}
