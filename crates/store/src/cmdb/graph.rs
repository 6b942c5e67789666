//! The dependency graph each node keeps in memory for impact analysis, kept consistent with
//! the database on every node.
//!
//! Reading a million CIs and five million relationships for every impact question would take
//! seconds, so each node holds the tenant's [`ImpactGraph`] with the version it reflects. Every
//! write that changes the graph appends what it did to `ci_graph_log` in its own transaction,
//! numbered by the tenant's `ci_graph` counter. That counter's row stays locked until commit, so
//! versions commit in order and a log read up to the counter's value sees every entry below it.
//!
//! Before answering, a node compares its version with the counter (one indexed read) and, if
//! behind, applies the log entries after its version; with no graph yet, or a gap in the log, it
//! reads the whole graph again inside one snapshot.

use crate::db::{Tx, sql};
use crate::incident::take_numbers;
use crate::{Store, StoreError, StoreResult, now_micros};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use steward_domain::cmdb::{Dependency, Edge, ImpactGraph};
use tokio::sync::RwLock;

/// The counter in `record_counters` that numbers a tenant's graph versions.
const COUNTER: &str = "ci_graph";

/// One change to the dependency graph, as the log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GraphOp {
    AddCi(i64),
    AddRelationship(Edge),
    RemoveRelationship(Edge),
}

/// Moves the tenant's graph version on without logging what changed: every node reads the
/// whole graph again on its next question. For bulk loads, where one full read is cheaper than
/// replaying millions of entries.
pub(crate) async fn changed_wholesale(tx: &mut Tx, tenant_id: i64) -> StoreResult<()> {
    take_numbers(tx, tenant_id, COUNTER, 1).await.map(drop)
}

/// Appends `ops` to the tenant's graph log inside `tx`, numbered after the last version.
pub(crate) async fn log(tx: &mut Tx, tenant_id: i64, ops: &[GraphOp]) -> StoreResult<()> {
    if ops.is_empty() {
        return Ok(());
    }
    let first = take_numbers(tx, tenant_id, COUNTER, ops.len() as i64).await?;
    let at = now_micros();
    for (version, op) in (first..).zip(ops) {
        let (name, ci, edge) = match *op {
            GraphOp::AddCi(id) => ("add_ci", Some(id), None),
            GraphOp::AddRelationship(e) => ("add_relationship", None, Some(e)),
            GraphOp::RemoveRelationship(e) => ("remove_relationship", None, Some(e)),
        };
        tx.execute(
            sql("INSERT INTO ci_graph_log (tenant_id, version, op, ci_id, relationship_id, source_id, target_id, dependency, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(tenant_id)
                .bind(version)
                .bind(name)
                .bind(ci)
                .bind(edge.map(|e| e.relationship_id))
                .bind(edge.map(|e| e.source_id))
                .bind(edge.map(|e| e.target_id))
                .bind(edge.map(|e| e.dependency.as_str().to_owned()))
                .bind(at),
        )
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct LogRow {
    version: i64,
    op: String,
    ci_id: Option<i64>,
    relationship_id: Option<i64>,
    source_id: Option<i64>,
    target_id: Option<i64>,
    dependency: Option<String>,
}

impl LogRow {
    fn op(&self) -> StoreResult<GraphOp> {
        let corrupt = || StoreError::Corrupt(format!("ci_graph_log version {}", self.version));
        let edge = || -> StoreResult<Edge> {
            Ok(Edge {
                relationship_id: self.relationship_id.ok_or_else(corrupt)?,
                source_id: self.source_id.ok_or_else(corrupt)?,
                target_id: self.target_id.ok_or_else(corrupt)?,
                dependency: self
                    .dependency
                    .as_deref()
                    .and_then(Dependency::parse)
                    .ok_or_else(corrupt)?,
            })
        };
        Ok(match self.op.as_str() {
            "add_ci" => GraphOp::AddCi(self.ci_id.ok_or_else(corrupt)?),
            "add_relationship" => GraphOp::AddRelationship(edge()?),
            "remove_relationship" => GraphOp::RemoveRelationship(edge()?),
            _ => return Err(corrupt()),
        })
    }
}

fn apply(graph: &mut ImpactGraph, op: GraphOp) {
    match op {
        GraphOp::AddCi(id) => graph.add_ci(id),
        GraphOp::AddRelationship(edge) => graph.add_relationship(&edge),
        GraphOp::RemoveRelationship(e) => {
            graph.remove_relationship(e.relationship_id, e.source_id, e.target_id);
        }
    }
}

/// A tenant's graph and the version it reflects.
pub(crate) struct Versioned {
    pub version: i64,
    pub graph: ImpactGraph,
}

/// The graphs this node holds, one per tenant asked about.
#[derive(Default)]
pub(crate) struct GraphCache {
    tenants: Mutex<HashMap<i64, Arc<RwLock<Option<Versioned>>>>>,
}

impl std::fmt::Debug for GraphCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GraphCache")
    }
}

impl GraphCache {
    fn slot(&self, tenant_id: i64) -> Arc<RwLock<Option<Versioned>>> {
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(tenants.entry(tenant_id).or_default())
    }
}

/// The tenant's graph version as the counter holds it.
fn version_of(tenant_id: i64) -> crate::db::Sql {
    sql("SELECT last FROM record_counters WHERE tenant_id = $1 AND kind = $2")
        .bind(tenant_id)
        .bind(COUNTER)
}

#[derive(sqlx::FromRow)]
struct EdgeRow {
    id: i64,
    source_id: i64,
    target_id: i64,
    dependency: String,
}

impl Store {
    /// The tenant's graph version: the number of the last change to its graph (0 for none).
    async fn graph_version(&self, tenant_id: i64) -> StoreResult<i64> {
        let row: Option<(i64,)> = self.db.fetch_optional(version_of(tenant_id)).await?;
        Ok(row.map_or(0, |(last,)| last))
    }

    /// Deletes graph-log entries written before `before`: nodes that are further behind than
    /// that read their graph whole on their next question. Answers how many went.
    pub async fn prune_graph_log(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.db.begin().await?;
        let gone = tx
            .execute(sql("DELETE FROM ci_graph_log WHERE at < $1").bind(before))
            .await?;
        tx.commit().await?;
        Ok(gone)
    }

    /// Reads the graph of every tenant that has CIs, so that the first impact question or
    /// collision check after a start does not wait for it (at a million CIs, a read takes
    /// most of a minute). Questions asked meanwhile wait for the same read, not a second one.
    /// Answers how many graphs were read.
    pub async fn warm_graphs(&self) -> StoreResult<usize> {
        let tenants: Vec<(i64,)> = self
            .db
            .fetch_all(sql(
                "SELECT id FROM tenants t WHERE EXISTS (SELECT 1 FROM cis c WHERE c.tenant_id = t.id)",
            ))
            .await?;
        for &(tenant_id,) in &tenants {
            self.with_graph(tenant_id, |_| ()).await?;
        }
        Ok(tenants.len())
    }

    /// Runs `read` on the tenant's current dependency graph, bringing this node's copy up to
    /// date first.
    pub(crate) async fn with_graph<T>(
        &self,
        tenant_id: i64,
        read: impl FnOnce(&ImpactGraph) -> T,
    ) -> StoreResult<T> {
        let current = self.graph_version(tenant_id).await?;
        let slot = self.graphs.slot(tenant_id);
        {
            let held = slot.read().await;
            if let Some(v) = held.as_ref().filter(|v| v.version >= current) {
                return Ok(read(&v.graph));
            }
        }
        let mut held = slot.write().await;
        let fresh = match held.take() {
            Some(v) if v.version >= current => v,
            Some(v) => self.catch_up(tenant_id, v, current).await?,
            None => self.load_graph(tenant_id).await?,
        };
        let answer = read(&fresh.graph);
        *held = Some(fresh);
        Ok(answer)
    }

    /// Applies the log entries after `v.version` up to `current`; reads the whole graph again
    /// if any is missing (pruned, or a bulk load that changed the graph without logging each
    /// change).
    async fn catch_up(
        &self,
        tenant_id: i64,
        mut v: Versioned,
        current: i64,
    ) -> StoreResult<Versioned> {
        let rows: Vec<LogRow> = self
            .db
            .fetch_all(
                sql(
                    "SELECT version, op, ci_id, relationship_id, source_id, target_id, dependency \
                     FROM ci_graph_log WHERE tenant_id = $1 AND version > $2 AND version <= $3 \
                     ORDER BY version",
                )
                .bind(tenant_id)
                .bind(v.version)
                .bind(current),
            )
            .await?;
        let complete = rows.len() as i64 == current - v.version
            && rows
                .iter()
                .zip(v.version + 1..)
                .all(|(row, expected)| row.version == expected);
        if !complete {
            return self.load_graph(tenant_id).await;
        }
        for row in &rows {
            apply(&mut v.graph, row.op()?);
            v.version = row.version;
        }
        if v.graph.needs_compaction() {
            v.graph.compact();
        }
        Ok(v)
    }

    /// Reads the tenant's whole graph and its version from one snapshot.
    async fn load_graph(&self, tenant_id: i64) -> StoreResult<Versioned> {
        let mut tx = self.db.snapshot().await?;
        let version: Option<(i64,)> = tx.fetch_optional(version_of(tenant_id)).await?;
        let cis: Vec<(i64,)> = tx
            .fetch_all(sql("SELECT id FROM cis WHERE tenant_id = $1").bind(tenant_id))
            .await?;
        let rows: Vec<EdgeRow> = tx
            .fetch_all(
                sql("SELECT id, source_id, target_id, dependency FROM ci_relationships WHERE tenant_id = $1")
                    .bind(tenant_id),
            )
            .await?;
        tx.commit().await?;
        let edges = rows
            .into_iter()
            .map(|r| {
                let dependency = Dependency::parse(&r.dependency).ok_or_else(|| {
                    StoreError::Corrupt(format!("ci relationship {} dependency", r.id))
                })?;
                Ok(Edge {
                    relationship_id: r.id,
                    source_id: r.source_id,
                    target_id: r.target_id,
                    dependency,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Versioned {
            version: version.map_or(0, |(last,)| last),
            graph: ImpactGraph::build(cis.into_iter().map(|(id,)| id), edges),
        })
    }
}
