//! The CMDB health report: the facts `domain::cmdb::health` judges, gathered from one
//! snapshot.

use crate::db::sql;
use crate::{Store, StoreError, StoreResult};
use std::collections::HashMap;
use steward_domain::cmdb::CiStatus;
use steward_domain::cmdb::health::{CiFacts, HealthPolicy, HealthReport, report};

#[derive(sqlx::FromRow)]
struct FactRow {
    id: i64,
    class_id: i64,
    #[sqlx(try_from = "String")]
    status: CiStatus,
    verified_at: Option<i64>,
    attributes_json: String,
}

impl Store {
    /// Stale CIs, orphans, probable duplicates and missing required attributes across the
    /// tenant's CMDB, judged at `now_micros`.
    pub async fn cmdb_health(
        &self,
        tenant_id: i64,
        policy: HealthPolicy,
        now_micros: i64,
    ) -> StoreResult<HealthReport> {
        let mut tx = self.db.snapshot().await?;
        let rows: Vec<FactRow> = tx
            .fetch_all(
                sql("SELECT id, class_id, status, verified_at, attributes_json FROM cis WHERE tenant_id = $1")
                    .bind(tenant_id),
            )
            .await?;
        let relationships: Vec<(i64, i64)> = tx
            .fetch_all(
                sql("SELECT ci_id, COUNT(*) FROM (\
                       SELECT source_id AS ci_id FROM ci_relationships WHERE tenant_id = $1 \
                       UNION ALL SELECT target_id AS ci_id FROM ci_relationships WHERE tenant_id = $1\
                     ) ends GROUP BY ci_id")
                .bind(tenant_id),
            )
            .await?;
        let services: Vec<(i64, i64)> = tx
            .fetch_all(
                sql("SELECT ci_id, COUNT(*) FROM ci_services WHERE tenant_id = $1 GROUP BY ci_id")
                    .bind(tenant_id),
            )
            .await?;
        tx.commit().await?;
        let relationships: HashMap<i64, i64> = relationships.into_iter().collect();
        let services: HashMap<i64, i64> = services.into_iter().collect();
        let count = |map: &HashMap<i64, i64>, id| {
            u32::try_from(*map.get(&id).unwrap_or(&0)).unwrap_or(u32::MAX)
        };
        let facts = rows
            .into_iter()
            .map(|r| {
                let attributes = serde_json::from_str(&r.attributes_json)
                    .map_err(|e| StoreError::Corrupt(format!("ci {} attributes: {e}", r.id)))?;
                Ok(CiFacts {
                    id: r.id,
                    class_id: r.class_id,
                    status: r.status,
                    last_verified_micros: r.verified_at,
                    relationship_count: count(&relationships, r.id),
                    service_count: count(&services, r.id),
                    attributes,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let schemas = self
            .ci_classes(tenant_id)
            .await?
            .into_iter()
            .map(|c| (c.id, c.attributes))
            .collect();
        Ok(report(&facts, &schemas, policy, now_micros))
    }
}
