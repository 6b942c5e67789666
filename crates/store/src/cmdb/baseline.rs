//! Baselines: the CIs of a service (with everything they depend on) or of the whole CMDB as
//! they were at a moment, kept item by item; the differences between two of them; and any CI
//! as it was at a past moment, read back from the journal.
//!
//! A baseline records the CIs that are not retired: retiring a CI takes it out of the
//! configuration, so the next baseline's diff lists it as removed. Its header is journaled
//! (kind `ci_baseline`); its items are not, since they only copy what the journal already holds.

use super::ci::Ci;
use super::{CHUNK, with_ids};
use crate::bulk::insert_keyed_rows;
use crate::db::{Sql, Tx, sql};
use crate::journal::Record;
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::cmdb::CiStatus;
use steward_domain::cmdb::baseline::{
    Baseline, BaselineDiff, BaselineDraft, CiSnapshot, RelationshipRef, diff, service_scope,
};

/// A baseline's header: what was recorded, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BaselineHeader {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The service whose CIs it records; `None` for the whole CMDB.
    pub service_id: Option<i64>,
    pub taken_at: i64,
    /// Who took it, as the journal names them.
    pub taken_by: String,
    pub ci_count: i64,
}

impl Record for BaselineHeader {
    const KIND: &'static str = "ci_baseline";
    fn id(&self) -> i64 {
        self.id
    }
}

const HEADER_COLUMNS: &str = "id, name, description, service_id, taken_at, taken_by, ci_count";
const ITEM_COLUMNS: [&str; 3] = ["baseline_id", "ci_id", "snapshot_json"];

/// A CI's row as a baseline reads it, with its class's name.
#[derive(sqlx::FromRow)]
struct SnapshotRow {
    id: i64,
    name: String,
    class_id: i64,
    class_name: String,
    #[sqlx(try_from = "String")]
    status: CiStatus,
    owner_id: Option<i64>,
    team_id: Option<i64>,
    external_id: Option<String>,
    attributes_json: String,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    snapshot_json: String,
}

impl ItemRow {
    fn snapshot(self) -> StoreResult<CiSnapshot> {
        serde_json::from_str(&self.snapshot_json)
            .map_err(|e| StoreError::Corrupt(format!("baseline item of ci {}: {e}", self.id)))
    }
}

/// Runs `query` (a tenant's rows) once for the whole tenant, or once per chunk of `ids` with
/// `column IN (...)` added.
async fn rows_for<T: crate::db::Row>(
    tx: &mut Tx,
    query: impl Fn() -> Sql,
    column: &str,
    ids: Option<&[i64]>,
) -> StoreResult<Vec<T>> {
    let Some(ids) = ids else {
        return tx.fetch_all(query()).await;
    };
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        out.extend(tx.fetch_all::<T>(with_ids(query(), column, chunk)).await?);
    }
    Ok(out)
}

/// The tenant's CIs that are not retired (among `ids` when given), with their services and
/// outgoing relationships, all read inside `tx`.
async fn read_snapshots(
    tx: &mut Tx,
    tenant_id: i64,
    ids: Option<&[i64]>,
) -> StoreResult<Vec<CiSnapshot>> {
    let cis: Vec<SnapshotRow> = rows_for(
        tx,
        || {
            sql(
                "SELECT c.id, c.name, c.class_id, k.name AS class_name, c.status, c.owner_id, \
                 c.team_id, c.external_id, c.attributes_json FROM cis c \
                 JOIN ci_classes k ON k.id = c.class_id \
                 WHERE c.tenant_id = $1 AND c.status <> 'retired'",
            )
            .bind(tenant_id)
        },
        "c.id",
        ids,
    )
    .await?;
    let links: Vec<(i64, i64)> = rows_for(
        tx,
        || sql("SELECT ci_id, service_id FROM ci_services WHERE tenant_id = $1").bind(tenant_id),
        "ci_id",
        ids,
    )
    .await?;
    let wiring: Vec<(i64, String, i64)> = rows_for(
        tx,
        || {
            sql("SELECT source_id, type_name, target_id FROM ci_relationships WHERE tenant_id = $1")
                .bind(tenant_id)
        },
        "source_id",
        ids,
    )
    .await?;
    let mut services: HashMap<i64, Vec<i64>> = HashMap::new();
    for (ci_id, service_id) in links {
        services.entry(ci_id).or_default().push(service_id);
    }
    let mut relationships: HashMap<i64, Vec<RelationshipRef>> = HashMap::new();
    for (source_id, type_name, target_id) in wiring {
        relationships
            .entry(source_id)
            .or_default()
            .push(RelationshipRef {
                type_name,
                target_id,
            });
    }
    cis.into_iter()
        .map(|row| {
            let attributes = serde_json::from_str(&row.attributes_json)
                .map_err(|e| StoreError::Corrupt(format!("ci {} attributes: {e}", row.id)))?;
            Ok(CiSnapshot {
                service_ids: services.remove(&row.id).unwrap_or_default(),
                relationships: relationships.remove(&row.id).unwrap_or_default(),
                id: row.id,
                name: row.name,
                class_id: row.class_id,
                class_name: row.class_name,
                status: row.status,
                owner_id: row.owner_id,
                team_id: row.team_id,
                external_id: row.external_id,
                attributes,
            })
        })
        .collect()
}

impl Store {
    /// Records the CIs in the draft's scope as they are now: a service's CIs and everything
    /// upstream of them (what they need to work), or the whole CMDB. The scope comes from the
    /// dependency graph; the CIs, their services and relationships from one snapshot.
    pub async fn take_baseline(
        &self,
        tenant_id: i64,
        draft: &BaselineDraft,
        actor: &Actor,
    ) -> StoreResult<BaselineHeader> {
        let scope = match draft.service_id {
            None => None,
            Some(service_id) => Some(self.service_scope(tenant_id, service_id).await?),
        };
        let mut read = self.db.snapshot().await?;
        let snapshots = read_snapshots(&mut read, tenant_id, scope.as_deref()).await?;
        read.commit().await?;
        let baseline = Baseline::new(snapshots);

        let mut tx = self.db.begin().await?;
        let header: BaselineHeader = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO ci_baselines (tenant_id, name, description, service_id, taken_at, taken_by, ci_count) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {HEADER_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(&draft.name)
                .bind(&draft.description)
                .bind(draft.service_id)
                .bind(now_micros())
                .bind(&actor.label)
                .bind(baseline.cis.len() as i64),
            )
            .await?;
        let items: Vec<&CiSnapshot> = baseline.cis.values().collect();
        insert_keyed_rows(
            &mut tx,
            "ci_baseline_items",
            &ITEM_COLUMNS,
            &items,
            |q, _, ci| {
                q.bind(header.id)
                    .bind(ci.id)
                    .bind(serde_json::to_string(ci).unwrap_or_default())
            },
        )
        .await?;
        self.commit_created(tx, tenant_id, actor, header).await
    }

    /// The CIs linked to a live service of the tenant and everything upstream of them.
    async fn service_scope(&self, tenant_id: i64, service_id: i64) -> StoreResult<Vec<i64>> {
        let service: Option<(i64,)> = self
            .db
            .fetch_optional(
                sql("SELECT id FROM services WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL")
                    .bind(tenant_id)
                    .bind(service_id),
            )
            .await?;
        if service.is_none() {
            return Err(
                Invalid::one("service_id", format!("There is no service {service_id}")).into(),
            );
        }
        let linked: Vec<(i64,)> = self
            .db
            .fetch_all(
                sql("SELECT ci_id FROM ci_services WHERE tenant_id = $1 AND service_id = $2")
                    .bind(tenant_id)
                    .bind(service_id),
            )
            .await?;
        let linked: Vec<i64> = linked.into_iter().map(|(id,)| id).collect();
        self.with_graph(tenant_id, |graph| service_scope(graph, &linked))
            .await
    }

    /// The tenant's baselines, newest first.
    pub async fn baselines(
        &self,
        tenant_id: i64,
        page: &PageRequest,
    ) -> StoreResult<Page<BaselineHeader>> {
        let q = sql(format!(
            "SELECT {HEADER_COLUMNS} FROM ci_baselines WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        let sort = Sort {
            column: "taken_at",
            descending: true,
        };
        let rows = self.db.fetch_all(paginate(q, sort, page)?).await?;
        Ok(finish(rows, page, |b: &BaselineHeader| {
            (CursorKey::Int(b.taken_at), b.id)
        }))
    }

    pub async fn baseline(&self, tenant_id: i64, id: i64) -> StoreResult<BaselineHeader> {
        self.db
            .fetch_one(
                sql(format!(
                    "SELECT {HEADER_COLUMNS} FROM ci_baselines WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await
    }

    /// A page of a baseline's CIs, by CI id.
    pub async fn baseline_page(
        &self,
        tenant_id: i64,
        id: i64,
        page: &PageRequest,
    ) -> StoreResult<Page<CiSnapshot>> {
        self.baseline(tenant_id, id).await?;
        let q = items_of(id);
        let sort = Sort {
            column: "id",
            descending: false,
        };
        let rows: Vec<ItemRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        let items = rows
            .into_iter()
            .map(ItemRow::snapshot)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |ci| (CursorKey::Int(ci.id), ci.id)))
    }

    /// All of a baseline's CIs.
    pub async fn baseline_items(&self, tenant_id: i64, id: i64) -> StoreResult<Baseline> {
        self.baseline(tenant_id, id).await?;
        let rows: Vec<ItemRow> = self.db.fetch_all(items_of(id)).await?;
        let items = rows
            .into_iter()
            .map(ItemRow::snapshot)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Baseline::new(items))
    }

    /// What changed from baseline `before` to baseline `after`.
    pub async fn diff_baselines(
        &self,
        tenant_id: i64,
        before: i64,
        after: i64,
    ) -> StoreResult<BaselineDiff> {
        let before = self.baseline_items(tenant_id, before).await?;
        let after = self.baseline_items(tenant_id, after).await?;
        Ok(diff(&before, &after))
    }

    /// The CI as it was at `at_micros`: the state its last journal entry at or before then left
    /// it in. `None` if it did not exist yet (or is not the tenant's).
    pub async fn ci_as_of(
        &self,
        tenant_id: i64,
        ci_id: i64,
        at_micros: i64,
    ) -> StoreResult<Option<Ci>> {
        let last: Option<(Option<String>,)> = self
            .db
            .fetch_optional(
                sql(
                    "SELECT after_json FROM journal WHERE tenant_id = $1 AND record_type = $2 \
                     AND record_id = $3 AND at <= $4 ORDER BY seq DESC LIMIT 1",
                )
                .bind(tenant_id)
                .bind(<Ci as Record>::KIND)
                .bind(ci_id)
                .bind(at_micros),
            )
            .await?;
        last.and_then(|(after,)| after)
            .map(|json| {
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("journal entry of ci {ci_id}: {e}")))
            })
            .transpose()
    }
}

/// A baseline's items, each row's CI id as `id` so that lists page them by it.
fn items_of(baseline_id: i64) -> Sql {
    sql(
        "SELECT id, snapshot_json FROM (SELECT ci_id AS id, snapshot_json FROM ci_baseline_items \
         WHERE baseline_id = $1) items WHERE 1 = 1",
    )
    .bind(baseline_id)
}
