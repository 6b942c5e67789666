//! Incident categories: a tree per tenant. Every change is journaled; categories are retired,
//! never deleted, so incidents keep pointing at them.

use crate::db::{Sql, sql};
use crate::journal::{Record, RecordWrite};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::category::{self, Node};
use steward_domain::journal::Action;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub retired: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Category {
    const KIND: &'static str = "category";
    fn id(&self) -> i64 {
        self.id
    }
}

/// A category placed in its tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryInTree {
    #[serde(flatten)]
    pub category: Category,
    /// `Hardware › Laptops`.
    pub path: String,
    /// 0 for a top-level category.
    pub depth: usize,
}

/// What a change to a category may set; `None` leaves a part alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryChange {
    pub name: Option<String>,
    /// `Some(None)` moves the category to the top level.
    pub parent_id: Option<Option<i64>>,
    pub retired: Option<bool>,
}

const COLUMNS: &str = "id, parent_id, name, retired, created_at, updated_at";
const NAME_TAKEN: (&str, &str) = (
    "name",
    "A category with this name already exists at this level",
);

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM categories WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

fn nodes(all: &[Category]) -> Vec<Node> {
    all.iter()
        .map(|c| Node {
            id: c.id,
            parent_id: c.parent_id,
            name: c.name.clone(),
        })
        .collect()
}

impl Store {
    /// Every category of the tenant, retired ones included, by id.
    pub async fn categories(&self, tenant_id: i64) -> StoreResult<Vec<Category>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM categories WHERE tenant_id = $1 ORDER BY id"
                ))
                .bind(tenant_id),
            )
            .await
    }

    /// The tenant's categories in tree order, each with its path and depth.
    pub async fn category_tree(&self, tenant_id: i64) -> StoreResult<Vec<CategoryInTree>> {
        let all = self.categories(tenant_id).await?;
        let nodes = nodes(&all);
        Ok(category::tree_order(&nodes)
            .into_iter()
            .filter_map(|(node, depth)| {
                let c = all.iter().find(|c| c.id == node.id)?.clone();
                Some(CategoryInTree {
                    path: category::path(&nodes, c.id).unwrap_or_else(|| c.name.clone()),
                    category: c,
                    depth,
                })
            })
            .collect())
    }

    pub async fn category(&self, tenant_id: i64, id: i64) -> StoreResult<Category> {
        self.db.fetch_one(select_one(tenant_id, id)).await
    }

    /// Adds a `category_id` error unless the category a record points at is one of the
    /// tenant's. Retired ones pass: records keep them (the API refuses to choose one anew).
    pub(crate) async fn check_category_ref(
        &self,
        tenant_id: i64,
        category_id: Option<i64>,
        errors: &mut Invalid,
    ) -> StoreResult<()> {
        let Some(id) = category_id else {
            return Ok(());
        };
        match self.category(tenant_id, id).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => {
                errors.add(
                    "category_id",
                    format!("Category {id} does not exist in this organisation"),
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Checks that `parent_id` is a live category of the tenant.
    async fn check_parent(&self, tenant_id: i64, parent_id: Option<i64>) -> StoreResult<()> {
        let Some(parent) = parent_id else {
            return Ok(());
        };
        match self.category(tenant_id, parent).await {
            Ok(c) if !c.retired => Ok(()),
            Ok(_) => Err(Invalid::one("parent_id", "The parent category is retired").into()),
            Err(StoreError::NotFound) => Err(Invalid::one(
                "parent_id",
                format!("Category {parent} does not exist in this organisation"),
            )
            .into()),
            Err(e) => Err(e),
        }
    }

    pub async fn create_category(
        &self,
        tenant_id: i64,
        parent_id: Option<i64>,
        name: &str,
        actor: &Actor,
    ) -> StoreResult<Category> {
        let name = category::validate_name(name)?;
        self.check_parent(tenant_id, parent_id).await?;
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Create,
            actor,
            before: None,
            write: sql(format!(
                "INSERT INTO categories (tenant_id, parent_id, name, retired, created_at, updated_at) \
                 VALUES ($1, $2, $3, FALSE, $4, $4) RETURNING {COLUMNS}"
            ))
            .bind(tenant_id)
            .bind(parent_id)
            .bind(name)
            .bind(now_micros()),
            unique: Some(NAME_TAKEN),
        })
        .await
    }

    /// Renames, moves or retires (or restores) a category. A move under itself or one of its
    /// descendants is refused (field `parent_id`).
    pub async fn update_category(
        &self,
        tenant_id: i64,
        id: i64,
        change: &CategoryChange,
        actor: &Actor,
    ) -> StoreResult<Category> {
        let current = self.category(tenant_id, id).await?;
        let name = match &change.name {
            Some(n) => category::validate_name(n)?,
            None => current.name.clone(),
        };
        let parent_id = change.parent_id.unwrap_or(current.parent_id);
        if parent_id != current.parent_id {
            let all = self.categories(tenant_id).await?;
            if category::creates_cycle(&nodes(&all), id, parent_id) {
                return Err(Invalid::one(
                    "parent_id",
                    "A category cannot be moved under itself or one of its subcategories",
                )
                .into());
            }
            self.check_parent(tenant_id, parent_id).await?;
        }
        let retired = change.retired.unwrap_or(current.retired);
        self.write_record(RecordWrite {
            tenant_id,
            action: Action::Update,
            actor,
            before: Some(select_one(tenant_id, id)),
            write: sql(format!(
                "UPDATE categories SET name = $1, parent_id = $2, retired = $3, updated_at = $4 \
                 WHERE tenant_id = $5 AND id = $6 RETURNING {COLUMNS}"
            ))
            .bind(name)
            .bind(parent_id)
            .bind(retired)
            .bind(now_micros().max(current.updated_at + 1))
            .bind(tenant_id)
            .bind(id),
            unique: Some(NAME_TAKEN),
        })
        .await
    }
}
