//! CI classes: a name and a typed attribute schema (`domain::cmdb::class`), stored as JSON.

use crate::db::{Sql, sql};
use crate::journal::Record;
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::cmdb::CiClassDraft;
use steward_domain::request::FormField;

/// A CI class as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiClass {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub attributes: Vec<FormField>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for CiClass {
    const KIND: &'static str = "ci_class";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
struct ClassRow {
    id: i64,
    name: String,
    description: String,
    attributes_json: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ClassRow> for CiClass {
    type Error = StoreError;
    fn try_from(r: ClassRow) -> StoreResult<Self> {
        let attributes = serde_json::from_str(&r.attributes_json)
            .map_err(|e| StoreError::Corrupt(format!("ci class {} attributes: {e}", r.id)))?;
        Ok(CiClass {
            id: r.id,
            name: r.name,
            description: r.description,
            attributes,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, name, description, attributes_json, created_at, updated_at";
const NAME_TAKEN: (&str, &str) = ("name", "A CI class with this name already exists");

fn attributes_json(draft: &CiClassDraft) -> StoreResult<String> {
    serde_json::to_string(&draft.attributes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn live(tenant_id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM ci_classes WHERE tenant_id = $1 AND deleted_at IS NULL"
    ))
    .bind(tenant_id)
}

impl Store {
    /// Creates a class from a validated draft.
    pub async fn create_ci_class(
        &self,
        tenant_id: i64,
        draft: &CiClassDraft,
        actor: &Actor,
    ) -> StoreResult<CiClass> {
        let write = sql(format!(
            "INSERT INTO ci_classes (tenant_id, name, description, attributes_json, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
        ))
        .bind(tenant_id)
        .bind(&draft.name)
        .bind(&draft.description)
        .bind(attributes_json(draft)?)
        .bind(now_micros());
        let mut tx = self.db.begin().await?;
        let class: CiClass = tx
            .fetch_one::<ClassRow>(write)
            .await
            .map_err(|e| e.unique_as(NAME_TAKEN.0, NAME_TAKEN.1))?
            .try_into()?;
        self.commit_created(tx, tenant_id, actor, class).await
    }

    /// Replaces a class's name, description and schema. CIs keep their values: one that lacks
    /// a newly required attribute shows up in the health report until someone fills it in.
    pub async fn update_ci_class(
        &self,
        tenant_id: i64,
        id: i64,
        draft: &CiClassDraft,
        actor: &Actor,
    ) -> StoreResult<CiClass> {
        let mut tx = self.db.begin().await?;
        let before: CiClass = tx
            .fetch_one::<ClassRow>(live(tenant_id).push_bound(" AND id = {}", id))
            .await?
            .try_into()?;
        let write = sql(format!(
            "UPDATE ci_classes SET name = $1, description = $2, attributes_json = $3, updated_at = $4 \
             WHERE tenant_id = $5 AND id = $6 RETURNING {COLUMNS}"
        ))
        .bind(&draft.name)
        .bind(&draft.description)
        .bind(attributes_json(draft)?)
        .bind(now_micros().max(before.updated_at + 1))
        .bind(tenant_id)
        .bind(id);
        let after: CiClass = tx
            .fetch_one::<ClassRow>(write)
            .await
            .map_err(|e| e.unique_as(NAME_TAKEN.0, NAME_TAKEN.1))?
            .try_into()?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    pub async fn ci_class(&self, tenant_id: i64, id: i64) -> StoreResult<CiClass> {
        self.db
            .fetch_one::<ClassRow>(live(tenant_id).push_bound(" AND id = {}", id))
            .await?
            .try_into()
    }

    /// The class called `name`, ignoring case.
    pub async fn ci_class_named(&self, tenant_id: i64, name: &str) -> StoreResult<CiClass> {
        let q = live(tenant_id).push_bound(" AND lower(name) = lower({})", name.trim());
        self.db.fetch_one::<ClassRow>(q).await?.try_into()
    }

    /// Every live class, by name. A tenant has tens of classes, not thousands.
    pub async fn ci_classes(&self, tenant_id: i64) -> StoreResult<Vec<CiClass>> {
        let rows: Vec<ClassRow> = self
            .db
            .fetch_all(live(tenant_id).push(" ORDER BY lower(name), id"))
            .await?;
        rows.into_iter().map(CiClass::try_from).collect()
    }
}
