//! The forward schedule of change: blackout windows, collisions, the schedule in a window, the
//! calendar feed's changes and the dashboard's figures.
//!
//! # The collision prefilter
//!
//! A collision check must not read every change the tenant ever had. Only changes on the
//! schedule (`scheduled`, `implementing`) can collide, and only those whose window overlaps
//! ours, so one query reads exactly those, with their CIs, through the partial index
//! `changes_on_schedule (tenant_id, planned_start, planned_end) WHERE status IN (...)`: the
//! index holds the forward schedule only (closed changes leave it), and the range
//! `planned_start < our end` bounds the scan. The statuses are written into the statement as
//! literals, not bound, so that PostgreSQL's planner can prove the partial index applies.
//! The domain's `conflicts` then checks windows and CIs, asking the tenant's in-memory CMDB
//! graph (`Store::with_graph`) for each of our CIs' direct neighbours.

use super::{Change, read_change};
use crate::db::{Tx, sql};
use crate::journal::{Change as Entry, Record};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::Serialize;
use std::collections::BTreeMap;
use steward_domain::change::metrics::{ChangeMetrics, Ended, change_metrics};
use steward_domain::change::schedule::{BlackoutScope, conflicts};
use steward_domain::change::{
    Blackout, ChangeStatus, ChangeType, Conflict, RiskLevel, ScheduledChange, Window,
};
use steward_domain::journal::Action;

impl Record for Blackout {
    const KIND: &'static str = "change_blackout";
    fn id(&self) -> i64 {
        self.id
    }
}

#[derive(sqlx::FromRow)]
struct BlackoutRow {
    id: i64,
    name: String,
    window_start: i64,
    window_end: i64,
    scope_json: String,
}

impl TryFrom<BlackoutRow> for Blackout {
    type Error = StoreError;
    fn try_from(r: BlackoutRow) -> StoreResult<Blackout> {
        let scope: BlackoutScope = serde_json::from_str(&r.scope_json)
            .map_err(|e| StoreError::Corrupt(format!("blackout {} scope: {e}", r.id)))?;
        Ok(Blackout {
            id: r.id,
            name: r.name,
            window: Window {
                start: r.window_start,
                end: r.window_end,
            },
            scope,
        })
    }
}

const BLACKOUT_COLUMNS: &str = "id, name, window_start, window_end, scope_json";

/// The tenant's live blackouts overlapping `window`, by start.
pub(crate) async fn blackouts_in(
    tx: &mut Tx,
    tenant_id: i64,
    window: &Window,
) -> StoreResult<Vec<Blackout>> {
    let rows: Vec<BlackoutRow> = tx
        .fetch_all(
            sql(format!(
                "SELECT {BLACKOUT_COLUMNS} FROM change_blackouts WHERE tenant_id = $1 AND deleted_at IS NULL \
                 AND window_start < $2 AND window_end > $3 ORDER BY window_start, id"
            ))
            .bind(tenant_id)
            .bind(window.end)
            .bind(window.start),
        )
        .await?;
    rows.into_iter().map(Blackout::try_from).collect()
}

/// Another change, as a conflict or the schedule names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeRef {
    pub id: i64,
    pub number: i64,
    pub title: String,
}

/// A conflict of a change's window, with the other change when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeConflict {
    pub conflict: Conflict,
    pub other: Option<ChangeRef>,
}

/// A change on the schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScheduleEntry {
    pub id: i64,
    pub number: i64,
    pub title: String,
    pub change_type: ChangeType,
    pub status: ChangeStatus,
    pub risk: Option<RiskLevel>,
    pub window: Window,
    pub ci_ids: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct WindowedRow {
    id: i64,
    number: i64,
    title: String,
    #[sqlx(try_from = "String")]
    change_type: ChangeType,
    #[sqlx(try_from = "String")]
    status: ChangeStatus,
    risk_level: Option<String>,
    planned_start: i64,
    planned_end: i64,
    ci_id: Option<i64>,
}

/// The statuses of the forward schedule, as the partial index `changes_on_schedule` names them.
const ON_SCHEDULE: &str = "('scheduled', 'implementing')";
/// The statuses a calendar feed shows: everything past draft and assessment that has a window.
const IN_FEED: &str =
    "('authorisation', 'scheduled', 'implementing', 'review', 'closed', 'failed', 'cancelled')";

/// The changes with one of `statuses` (a literal list) whose windows overlap `window`, with
/// their CIs, by start then id; `except` leaves one change out.
async fn windowed(
    tx: &mut Tx,
    tenant_id: i64,
    window: &Window,
    statuses: &'static str,
    except: Option<i64>,
) -> StoreResult<Vec<ScheduleEntry>> {
    let rows: Vec<WindowedRow> = tx
        .fetch_all(
            sql(format!(
                "SELECT c.id, c.number, c.title, c.change_type, c.status, c.risk_level, c.planned_start, \
                 c.planned_end, cc.ci_id FROM changes c LEFT JOIN change_cis cc ON cc.change_id = c.id \
                 WHERE c.tenant_id = $1 AND c.status IN {statuses} AND c.planned_start < $2 \
                 AND c.planned_end > $3 AND c.id <> $4 ORDER BY c.planned_start, c.id, cc.ci_id"
            ))
            .bind(tenant_id)
            .bind(window.end)
            .bind(window.start)
            .bind(except.unwrap_or(0)),
        )
        .await?;
    let mut out: Vec<ScheduleEntry> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(last) if last.id == r.id => last.ci_ids.extend(r.ci_id),
            _ => out.push(ScheduleEntry {
                id: r.id,
                number: r.number,
                title: r.title,
                change_type: r.change_type,
                status: r.status,
                risk: r.risk_level.as_deref().and_then(RiskLevel::parse),
                window: Window {
                    start: r.planned_start,
                    end: r.planned_end,
                },
                ci_ids: r.ci_id.into_iter().collect(),
            }),
        }
    }
    Ok(out)
}

impl Store {
    /// Adds a validated blackout window (its `id` is ignored).
    pub async fn create_blackout(
        &self,
        tenant_id: i64,
        blackout: &Blackout,
        actor: &Actor,
    ) -> StoreResult<Blackout> {
        let b = blackout.clone().validate()?;
        let scope =
            serde_json::to_string(&b.scope).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        let created: Blackout = tx
            .fetch_one::<BlackoutRow>(
                sql(format!(
                    "INSERT INTO change_blackouts (tenant_id, name, window_start, window_end, scope_json, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING {BLACKOUT_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(&b.name)
                .bind(b.window.start)
                .bind(b.window.end)
                .bind(scope)
                .bind(now_micros()),
            )
            .await?
            .try_into()?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Removes a blackout from the schedule; the journal keeps what it was.
    pub async fn delete_blackout(&self, tenant_id: i64, id: i64, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let before: Blackout = tx
            .fetch_one::<BlackoutRow>(
                sql(format!(
                    "SELECT {BLACKOUT_COLUMNS} FROM change_blackouts WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
                ))
                .bind(tenant_id)
                .bind(id),
            )
            .await?
            .try_into()?;
        tx.execute(
            sql("UPDATE change_blackouts SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(now_micros())
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        self.journal(
            &mut tx,
            Entry::of(tenant_id, actor, Action::Delete, Some(&before), None),
        )
        .await?;
        tx.commit().await
    }

    /// The live blackouts overlapping `window`, or all of them, by start.
    pub async fn blackouts(
        &self,
        tenant_id: i64,
        window: Option<&Window>,
    ) -> StoreResult<Vec<Blackout>> {
        let all = Window {
            start: i64::MIN,
            end: i64::MAX,
        };
        let mut conn = self.db.snapshot().await?;
        let found = blackouts_in(&mut conn, tenant_id, window.unwrap_or(&all)).await?;
        conn.commit().await?;
        Ok(found)
    }

    /// Everything wrong with a change's planned window: the blackouts it falls in, then the
    /// changes on the schedule that touch the same CIs, or CIs one dependency away, at an
    /// overlapping time. Empty for a change without a window.
    pub async fn change_conflicts(
        &self,
        tenant_id: i64,
        id: i64,
    ) -> StoreResult<Vec<ChangeConflict>> {
        let mut conn = self.db.snapshot().await?;
        let change: Change = read_change(&mut conn, tenant_id, id).await?;
        let Some(window) = change.window else {
            conn.commit().await?;
            return Ok(Vec::new());
        };
        let blackouts = blackouts_in(&mut conn, tenant_id, &window).await?;
        let candidates = windowed(&mut conn, tenant_id, &window, ON_SCHEDULE, Some(id)).await?;
        conn.commit().await?;
        let this = ScheduledChange {
            id,
            window,
            ci_ids: change.ci_ids.clone(),
        };
        let scheduled: Vec<ScheduledChange> = candidates
            .iter()
            .map(|c| ScheduledChange {
                id: c.id,
                window: c.window,
                ci_ids: c.ci_ids.clone(),
            })
            .collect();
        let found = self
            .with_graph(tenant_id, |graph| {
                conflicts(&this, &change.service_ids, &blackouts, &scheduled, graph)
            })
            .await?;
        let names: BTreeMap<i64, ChangeRef> = candidates
            .into_iter()
            .map(|c| {
                (
                    c.id,
                    ChangeRef {
                        id: c.id,
                        number: c.number,
                        title: c.title,
                    },
                )
            })
            .collect();
        Ok(found
            .into_iter()
            .map(|conflict| ChangeConflict {
                other: conflict.change_id().and_then(|c| names.get(&c).cloned()),
                conflict,
            })
            .collect())
    }

    /// The forward schedule: changes scheduled or being implemented whose windows overlap
    /// `window`, by start.
    pub async fn change_schedule(
        &self,
        tenant_id: i64,
        window: &Window,
    ) -> StoreResult<Vec<ScheduleEntry>> {
        let mut conn = self.db.snapshot().await?;
        let found = windowed(&mut conn, tenant_id, window, ON_SCHEDULE, None).await?;
        conn.commit().await?;
        Ok(found)
    }

    /// What the calendar feed shows for `window`: changes from authorisation on (tentative
    /// until scheduled, and cancelled ones so that clients remove them), by start.
    pub async fn change_feed(
        &self,
        tenant_id: i64,
        window: &Window,
    ) -> StoreResult<Vec<ScheduleEntry>> {
        let mut conn = self.db.snapshot().await?;
        let found = windowed(&mut conn, tenant_id, window, IN_FEED, None).await?;
        conn.commit().await?;
        Ok(found)
    }

    /// Success rate and emergency-change ratio of the changes that ended in `period`.
    pub async fn change_metrics(
        &self,
        tenant_id: i64,
        period: &Window,
    ) -> StoreResult<ChangeMetrics> {
        #[derive(sqlx::FromRow)]
        struct EndedRow {
            #[sqlx(try_from = "String")]
            change_type: ChangeType,
            #[sqlx(try_from = "String")]
            status: ChangeStatus,
            ended_at: i64,
        }
        let rows: Vec<EndedRow> = self
            .db
            .fetch_all(
                sql(
                    "SELECT change_type, status, ended_at FROM changes WHERE tenant_id = $1 \
                     AND ended_at >= $2 AND ended_at < $3",
                )
                .bind(tenant_id)
                .bind(period.start)
                .bind(period.end),
            )
            .await?;
        let ended: Vec<Ended> = rows
            .into_iter()
            .map(|r| Ended {
                change_type: r.change_type,
                status: r.status,
                ended_at: r.ended_at,
            })
            .collect();
        Ok(change_metrics(&ended, period))
    }
}
