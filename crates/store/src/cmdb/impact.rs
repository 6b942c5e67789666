//! Impact reports: what a CI's failure reaches (downstream) or what a CI needs (upstream),
//! with the services, customers and open records on the way.
//!
//! The graph search runs on the node's in-memory graph ([`super::graph`]); names, services,
//! customers and records come from the database. A small answer is looked up by id; a large
//! one (a core switch reaches most of the estate) reads the tenant's links once and filters in
//! memory, which is cheaper than thousands of lookups.

use super::{CHUNK, with_ids};
use crate::db::{Tx, sql};
use crate::journal::{Change, Record};
use crate::refs::Ref;
use crate::{Actor, Store, StoreResult, now_micros};
use serde::Serialize;
use steward_domain::cmdb::Direction;
use steward_domain::cmdb::impact::{ImpactHit, ImpactPath};
use steward_domain::journal::Action;

/// Beyond this many CIs, links are read whole and filtered in memory.
const LOOKUP_LIMIT: usize = 2_000;

/// What to analyse.
#[derive(Debug, Clone, Copy)]
pub struct ImpactRequest {
    pub ci_id: i64,
    pub direction: Direction,
    /// Relationships to follow at most; `None` for no limit.
    pub depth: Option<u32>,
    /// CIs listed at most (nearest first); services, customers and records cover them all.
    pub limit: usize,
}

/// One CI reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactItem {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub status: String,
    pub depth: u32,
    /// From the analysed CI to this one.
    pub path: ImpactPath,
}

/// A service or customer reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

/// An open incident or problem on a CI reached (or on the analysed CI itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenRecord {
    pub record_type: String,
    pub key: String,
    pub title: String,
    pub status: String,
    pub ci_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactReport {
    pub ci_id: i64,
    /// CIs reached, not counting the analysed one.
    pub total: usize,
    /// Whether the depth limit hid CIs further out.
    pub cut_off: bool,
    pub items: Vec<ImpactItem>,
    pub services: Vec<Named>,
    pub customers: Vec<Named>,
    pub open_records: Vec<OpenRecord>,
}

/// What the graph search found.
struct Reached {
    total: usize,
    cut_off: bool,
    shown: Vec<(ImpactHit, ImpactPath)>,
    /// The analysed CI and every CI reached, in ascending order.
    all: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct Link {
    ci_id: i64,
    other: i64,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    record_type: String,
    ci_id: i64,
    number: i64,
    title: String,
    status: String,
}

impl Store {
    /// The impact report for `req`; `NotFound` if the CI is not the tenant's.
    pub async fn ci_impact(&self, tenant_id: i64, req: ImpactRequest) -> StoreResult<ImpactReport> {
        self.ci(tenant_id, req.ci_id).await?;
        let reached = self
            .with_graph(tenant_id, |graph| {
                let impact = graph.impact(req.ci_id, req.direction, req.depth)?;
                let shown = impact
                    .hits()
                    .take(req.limit)
                    .filter_map(|hit| Some((hit, impact.path(hit.ci_id)?)))
                    .collect();
                let mut all = impact.ci_ids_sorted();
                let at = all.partition_point(|&id| id < req.ci_id);
                all.insert(at, req.ci_id);
                Some(Reached {
                    total: impact.len(),
                    cut_off: impact.cut_off(),
                    shown,
                    all,
                })
            })
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        let items = self.impact_items(tenant_id, &reached.shown).await?;
        let service_ids = self
            .linked(tenant_id, "ci_services", "service_id", &reached.all)
            .await?;
        let services = self.named(tenant_id, "services", &service_ids).await?;
        let customers = self.customers_of(tenant_id, &service_ids).await?;
        let open_records = self.open_records_on(tenant_id, &reached.all).await?;
        Ok(ImpactReport {
            ci_id: req.ci_id,
            total: reached.total,
            cut_off: reached.cut_off,
            items,
            services,
            customers,
            open_records,
        })
    }

    async fn impact_items(
        &self,
        tenant_id: i64,
        shown: &[(ImpactHit, ImpactPath)],
    ) -> StoreResult<Vec<ImpactItem>> {
        let ids: Vec<i64> = shown.iter().map(|(hit, _)| hit.ci_id).collect();
        let names = self.ci_labels(tenant_id, &ids).await?;
        Ok(shown
            .iter()
            .filter_map(|(hit, path)| {
                let ci = names.get(&hit.ci_id)?;
                Some(ImpactItem {
                    id: ci.id,
                    name: ci.name.clone(),
                    class: ci.class.clone(),
                    status: ci.status.clone(),
                    depth: hit.depth,
                    path: path.clone(),
                })
            })
            .collect())
    }

    /// The distinct `column` values of `table` rows whose `ci_id` is among `cis` (ascending),
    /// sorted.
    pub(crate) async fn linked(
        &self,
        tenant_id: i64,
        table: &str,
        column: &str,
        cis: &[i64],
    ) -> StoreResult<Vec<i64>> {
        let base = || {
            sql(format!(
                "SELECT ci_id, {column} AS other FROM {table} WHERE tenant_id = $1"
            ))
            .bind(tenant_id)
        };
        let mut found = Vec::new();
        if cis.len() <= LOOKUP_LIMIT {
            for chunk in cis.chunks(CHUNK) {
                let rows: Vec<Link> = self.db.fetch_all(with_ids(base(), "ci_id", chunk)).await?;
                found.extend(rows.into_iter().map(|l| l.other));
            }
        } else {
            let rows: Vec<Link> = self.db.fetch_all(base()).await?;
            found.extend(
                rows.into_iter()
                    .filter(|l| cis.binary_search(&l.ci_id).is_ok())
                    .map(|l| l.other),
            );
        }
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    /// Id and name of the tenant's rows of `table` among `ids`, by name.
    async fn named(&self, tenant_id: i64, table: &str, ids: &[i64]) -> StoreResult<Vec<Named>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let q =
                sql(format!("SELECT id, name FROM {table} WHERE tenant_id = $1")).bind(tenant_id);
            out.extend(self.db.fetch_all::<Named>(with_ids(q, "id", chunk)).await?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn customers_of(&self, tenant_id: i64, service_ids: &[i64]) -> StoreResult<Vec<Named>> {
        let mut ids = Vec::new();
        for chunk in service_ids.chunks(CHUNK) {
            let q = sql("SELECT customer_id FROM service_customers WHERE tenant_id = $1")
                .bind(tenant_id);
            let rows: Vec<(i64,)> = self.db.fetch_all(with_ids(q, "service_id", chunk)).await?;
            ids.extend(rows.into_iter().map(|(id,)| id));
        }
        ids.sort_unstable();
        ids.dedup();
        self.named(tenant_id, "customers", &ids).await
    }

    /// Open incidents and problems linked to any of `cis` (ascending). Reads every open linked record of
    /// the tenant (open records are few next to CIs) and keeps those on `cis`.
    async fn open_records_on(&self, tenant_id: i64, cis: &[i64]) -> StoreResult<Vec<OpenRecord>> {
        let open = sql(
            "SELECT r.record_type, r.ci_id, i.number, i.title, i.status FROM record_cis r \
                 JOIN incidents i ON i.id = r.record_id AND r.record_type = 'incident' \
                 WHERE r.tenant_id = $1 AND i.status IN ('new', 'in_progress', 'pending') \
                 UNION ALL \
                 SELECT r.record_type, r.ci_id, p.number, p.title, p.status FROM record_cis r \
                 JOIN problems p ON p.id = r.record_id AND r.record_type = 'problem' \
                 WHERE r.tenant_id = $1 AND p.status IN ('new', 'investigating', 'known_error')",
        )
        .bind(tenant_id);
        let rows: Vec<RecordRow> = self.db.fetch_all(open).await?;
        let mut out: Vec<OpenRecord> = rows
            .into_iter()
            .filter(|r| cis.binary_search(&r.ci_id).is_ok())
            .map(|r| OpenRecord {
                key: match r.record_type.as_str() {
                    "problem" => format!("PRB-{}", r.number),
                    _ => format!("INC-{}", r.number),
                },
                record_type: r.record_type,
                title: r.title,
                status: r.status,
                ci_id: r.ci_id,
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.record_type, &a.key, a.ci_id).cmp(&(&b.record_type, &b.key, b.ci_id))
        });
        Ok(out)
    }

    /// The services that `ci_ids` and everything downstream of them (everything that depends
    /// on them) help deliver, by name: what an incident on those CIs hits. One graph walk from
    /// all of them at once, so CIs that share dependants cost nothing extra.
    pub async fn services_hit(&self, tenant_id: i64, ci_ids: &[i64]) -> StoreResult<Vec<Named>> {
        if ci_ids.is_empty() {
            return Ok(Vec::new());
        }
        let reached = self
            .with_graph(tenant_id, |graph| {
                graph.reach_all(ci_ids, steward_domain::cmdb::Direction::Downstream)
            })
            .await?;
        let service_ids = self
            .linked(tenant_id, "ci_services", "service_id", &reached)
            .await?;
        self.named(tenant_id, "services", &service_ids).await
    }

    /// The open incidents and problems that name the CI itself.
    pub async fn open_records_of_ci(
        &self,
        tenant_id: i64,
        ci_id: i64,
    ) -> StoreResult<Vec<OpenRecord>> {
        self.open_records_on(tenant_id, &[ci_id]).await
    }

    /// Names the CIs an incident or problem is about, replacing the ones it named before.
    pub async fn set_record_cis(
        &self,
        tenant_id: i64,
        record_type: &'static str,
        record_id: i64,
        ci_ids: &[i64],
        actor: &Actor,
    ) -> StoreResult<()> {
        let mut ci_ids = ci_ids.to_vec();
        ci_ids.sort_unstable();
        ci_ids.dedup();
        let refs: Vec<Ref<'_>> = ci_ids
            .iter()
            .map(|id| ("cis".into(), "cis", Some(*id), "CI"))
            .collect();
        self.missing_refs(tenant_id, &refs).await?.into_result(())?;
        let mut tx = self.db.begin().await?;
        let before = RecordCis {
            record_type,
            record_id,
            ci_ids: record_cis(&mut tx, tenant_id, record_type, record_id).await?,
        };
        tx.execute(
            sql("DELETE FROM record_cis WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3")
                .bind(tenant_id)
                .bind(record_type)
                .bind(record_id),
        )
        .await?;
        for id in &ci_ids {
            tx.execute(
                sql(
                    "INSERT INTO record_cis (tenant_id, record_type, record_id, ci_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(tenant_id)
                .bind(record_type)
                .bind(record_id)
                .bind(*id)
                .bind(now_micros()),
            )
            .await?;
        }
        let after = RecordCis {
            record_type,
            record_id,
            ci_ids,
        };
        self.journal(
            &mut tx,
            Change::of(
                tenant_id,
                actor,
                Action::Update,
                Some(&before),
                Some(&after),
            ),
        )
        .await?;
        tx.commit().await
    }

    /// The CIs an incident or problem names, by id.
    pub async fn cis_of_record(
        &self,
        tenant_id: i64,
        record_type: &str,
        record_id: i64,
    ) -> StoreResult<Vec<i64>> {
        let mut conn = self.db.snapshot().await?;
        let ids = record_cis(&mut conn, tenant_id, record_type, record_id).await?;
        conn.commit().await?;
        Ok(ids)
    }
}

/// The CIs a record names, as the journal shows a change of them.
#[derive(Serialize)]
struct RecordCis {
    record_type: &'static str,
    record_id: i64,
    ci_ids: Vec<i64>,
}

impl Record for RecordCis {
    const KIND: &'static str = "record_cis";
    fn id(&self) -> i64 {
        self.record_id
    }
}

async fn record_cis(
    tx: &mut Tx,
    tenant_id: i64,
    record_type: &str,
    record_id: i64,
) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64,)> = tx
        .fetch_all(
            sql("SELECT ci_id FROM record_cis WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 ORDER BY ci_id")
                .bind(tenant_id)
                .bind(record_type)
                .bind(record_id),
        )
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
