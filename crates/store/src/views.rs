//! Saved list views: the filters of a list under a name, for one user or the whole tenant.

use crate::db::sql;
use crate::journal::{Change, Record};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::Invalid;
use steward_domain::journal::Action;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SavedView {
    pub id: i64,
    /// `None` for a view shared with everyone in the tenant.
    pub owner_id: Option<i64>,
    /// Which list it belongs to, e.g. `incidents`.
    pub kind: String,
    pub name: String,
    /// The list's query string, e.g. `queue=open&q=printer&sort=-opened_at`.
    pub query: String,
    pub created_at: i64,
}

impl Record for SavedView {
    const KIND: &'static str = "saved_view";
    fn id(&self) -> i64 {
        self.id
    }
}

const COLUMNS: &str = "id, owner_id, kind, name, query, created_at";

impl Store {
    pub async fn save_view(
        &self,
        tenant_id: i64,
        owner_id: Option<i64>,
        kind: &str,
        name: &str,
        query: &str,
        actor: &Actor,
    ) -> StoreResult<SavedView> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Invalid::one("name", "Name the view (at most 100 characters)").into());
        }
        if query.len() > 2000 {
            return Err(Invalid::one("query", "The view's filters are too long").into());
        }
        let mut tx = self.db.begin().await?;
        let view: SavedView = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO saved_views (tenant_id, owner_id, kind, name, query, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(owner_id)
                .bind(kind)
                .bind(name)
                .bind(query)
                .bind(now_micros()),
            )
            .await?;
        self.commit_created(tx, tenant_id, actor, view).await
    }

    /// The views a user sees for a list: the shared ones and their own, by name.
    pub async fn views(
        &self,
        tenant_id: i64,
        user_id: i64,
        kind: &str,
    ) -> StoreResult<Vec<SavedView>> {
        self.db
            .fetch_all(
                sql(format!(
                    "SELECT {COLUMNS} FROM saved_views WHERE tenant_id = $1 AND kind = $2 AND (owner_id IS NULL OR owner_id = $3) ORDER BY name, id"
                ))
                .bind(tenant_id)
                .bind(kind)
                .bind(user_id),
            )
            .await
    }

    /// Deletes a view: its owner may, and so may `may_manage_shared` callers for shared views.
    pub async fn delete_view(
        &self,
        tenant_id: i64,
        id: i64,
        user_id: i64,
        may_manage_shared: bool,
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let view: SavedView = tx
            .fetch_one(
                sql(format!(
                    "SELECT {COLUMNS} FROM saved_views WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        let allowed = match view.owner_id {
            Some(owner) => owner == user_id,
            None => may_manage_shared,
        };
        if !allowed {
            return Err(StoreError::NotFound);
        }
        tx.execute(sql("DELETE FROM saved_views WHERE id = $1").bind(id))
            .await?;
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Delete, Some(&view), None),
        )
        .await?;
        tx.commit().await
    }
}
