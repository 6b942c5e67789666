//! Clocks for incidents loaded in bulk (`Store::load_incidents`, which writes rows without
//! running the per-write clock engine): data generators and benchmarks call this afterwards.
//!
//! Each incident is derived exactly as a single create would derive it (its own timestamps
//! unfolded into history, `domain::sla::derive`, read now), so the rows equal those a live
//! write produces. Unlike a live write it queues no warning or breach jobs: bulk-loaded
//! incidents are history, and notices about them would be noise.

use super::clocks::{decided_at, read};
use super::history::{self, Snapshot};
use crate::db::sql;
use crate::{Store, StoreError, StoreResult, now_micros};
use steward_domain::sla::{self, RecordKind};

/// Columns per clock row in the multi-row INSERT.
const COLUMNS: usize = 19;
/// Rows per statement: 19 values each stays below both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 500;

#[derive(sqlx::FromRow)]
struct IncidentRow {
    id: i64,
    number: i64,
    status: String,
    pending_reason: Option<String>,
    priority: String,
    service_id: Option<i64>,
    customer_id: Option<i64>,
    assignee_team_id: Option<i64>,
    assignee_id: Option<i64>,
    first_response_at: Option<i64>,
    opened_at: i64,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
}

/// How far `Store::generate_clocks` got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generated {
    /// Incidents looked at (those that had clocks already are skipped).
    pub incidents: usize,
    pub clocks: usize,
    /// Pass as `after_id` to continue; `None` when no incident is left.
    pub last_id: Option<i64>,
}

impl Store {
    /// Derives and writes the clocks of up to `limit` incidents of the tenant with ids above
    /// `after_id` that have none, in one transaction.
    pub async fn generate_clocks(
        &self,
        tenant_id: i64,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Generated> {
        let mut tx = self.db.begin().await?;
        let agreements = self.load_agreements(Some(&mut tx), tenant_id).await?;
        let rows: Vec<IncidentRow> = tx
            .fetch_all(
                sql("SELECT i.id, i.number, i.status, i.pending_reason, i.priority, i.service_id, i.customer_id, \
                     i.assignee_team_id, i.assignee_id, i.first_response_at, i.opened_at, i.resolved_at, i.closed_at \
                     FROM incidents i WHERE i.tenant_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $3")
                    .bind(tenant_id)
                    .bind(after_id)
                    .bind(i64::from(limit)),
            )
            .await?;
        let last_id = rows.last().map(|r| r.id);
        let (Some(first), Some(last)) = (rows.first().map(|r| r.id), last_id) else {
            return Ok(Generated {
                incidents: 0,
                clocks: 0,
                last_id: None,
            });
        };
        let have: Vec<(i64,)> = tx
            .fetch_all(
                sql("SELECT DISTINCT record_id FROM sla_clocks WHERE tenant_id = $1 AND record_kind = 'incident' \
                     AND record_id BETWEEN $2 AND $3")
                    .bind(tenant_id)
                    .bind(first)
                    .bind(last),
            )
            .await?;
        let have: std::collections::HashSet<i64> = have.into_iter().map(|(id,)| id).collect();
        let now = now_micros();
        let numbered = agreements.numbered();
        let mut values: Vec<crate::db::Arg> = Vec::new();
        let mut count = 0;
        for r in rows.iter().filter(|r| !have.contains(&r.id)) {
            let snapshot = Snapshot::parse(&serde_json::json!({
                "number": r.number,
                "status": r.status,
                "pending_reason": r.pending_reason,
                "priority": r.priority,
                "service_id": r.service_id,
                "customer_id": r.customer_id,
                "assignee_team_id": r.assignee_team_id,
                "assignee_id": r.assignee_id,
                "first_response_at": r.first_response_at,
                "opened_at": r.opened_at,
                "resolved_at": r.resolved_at,
                "closed_at": r.closed_at,
            }))
            .ok_or_else(|| StoreError::Corrupt(format!("incident {} does not read", r.id)))?;
            let steps = history::steps(
                RecordKind::Incident,
                [(r.opened_at, true, snapshot.clone())],
            );
            for d in sla::derive(RecordKind::Incident, &steps, &numbered) {
                let Some((_, agreement, calendar)) = agreements.get(d.agreement_id) else {
                    continue;
                };
                let reading = read(&d.track, i64::from(d.minutes), agreement, calendar, now);
                let track_json = serde_json::to_string(&d.track)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                values.extend([
                    tenant_id.into(),
                    "incident".into(),
                    r.id.into(),
                    snapshot.key(RecordKind::Incident).into(),
                    d.slot.clone().into(),
                    d.metric.clone().into(),
                    d.agreement_id.into(),
                    i64::from(d.minutes).into(),
                    Some(r.priority.clone()).into(),
                    r.service_id.into(),
                    r.customer_id.into(),
                    track_json.into(),
                    reading.state.as_str().into(),
                    reading.due_at.into(),
                    reading.warn_at.into(),
                    d.track.stopped_at.into(),
                    decided_at(&reading, &d.track).into(),
                    snapshot.voided().into(),
                    now.into(),
                ]);
                count += 1;
            }
        }
        for chunk in values.chunks(COLUMNS * ROWS_PER_STATEMENT) {
            let mut q = sql(
                "INSERT INTO sla_clocks (tenant_id, record_kind, record_id, record_key, slot, metric, agreement_id, \
                 target_minutes, priority, service_id, customer_id, track_json, state, due_at, warn_at, stopped_at, \
                 decided_at, voided, updated_at) VALUES ",
            );
            for (i, row) in chunk.chunks(COLUMNS).enumerate() {
                q = q.push(if i == 0 { "(" } else { ", (" });
                for (j, value) in row.iter().enumerate() {
                    q = q.push_bound(if j == 0 { "{}" } else { ", {}" }, value.clone());
                }
                q = q.push(")");
            }
            tx.execute(q).await?;
        }
        tx.commit().await?;
        Ok(Generated {
            incidents: rows.len(),
            clocks: count,
            last_id,
        })
    }
}
