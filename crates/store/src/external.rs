//! Records imported from other tools keep that tool's id (`external_id`, unique per tenant and
//! kind), so that importing the same file again updates them instead of adding duplicates.

use crate::db::sql;
use crate::{Store, StoreResult};
use std::collections::HashMap;

/// The kinds of record an import creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Incident,
    Request,
    Problem,
}

impl Imported {
    fn table(self) -> &'static str {
        match self {
            Imported::Incident => "incidents",
            Imported::Request => "requests",
            Imported::Problem => "problems",
        }
    }
}

impl Store {
    /// The id and `updated_at` of the record imported under `external_id`, if there is one.
    pub(crate) async fn imported(
        &self,
        tenant_id: i64,
        kind: Imported,
        external_id: &str,
    ) -> StoreResult<Option<(i64, i64)>> {
        self.db
            .fetch_optional(
                sql(format!(
                    "SELECT id, updated_at FROM {} WHERE tenant_id = $1 AND external_id = $2",
                    kind.table()
                ))
                .bind(tenant_id)
                .bind(external_id),
            )
            .await
    }

    /// The external id of every imported record of a kind in a tenant, by record id (for
    /// exports: one query instead of one per record).
    pub async fn external_ids(
        &self,
        tenant_id: i64,
        kind: Imported,
    ) -> StoreResult<HashMap<i64, String>> {
        let rows: Vec<(i64, String)> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT id, external_id FROM {} WHERE tenant_id = $1 AND external_id IS NOT NULL",
                    kind.table()
                ))
                .bind(tenant_id),
            )
            .await?;
        Ok(rows.into_iter().collect())
    }
}
