//! `steward sla recompute`: every record's clocks derived again from its journal, after an
//! agreement or calendar was edited, with a report of what changed.

use super::clocks::{ClockRow, write_clocks_for};
use super::history;
use crate::db::sql;
use crate::journal::Change;
use crate::{Actor, Store, StoreResult};
use serde::Serialize;
use steward_domain::journal::Action;
use steward_domain::sla::RecordKind;

/// Records are recomputed this many to a transaction.
const BATCH: i64 = 200;

/// One clock whose reading changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecomputeChange {
    pub tenant_id: i64,
    pub record: String,
    pub target: String,
    /// `state, due time, target minutes` before and after; `None` where the clock did not exist.
    pub before: Option<ClockSummary>,
    pub after: Option<ClockSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockSummary {
    pub state: String,
    pub due_at: Option<i64>,
    pub target_minutes: i64,
    pub agreement_id: i64,
}

impl From<&ClockRow> for ClockSummary {
    fn from(r: &ClockRow) -> Self {
        ClockSummary {
            state: r.state.clone(),
            due_at: r.due_at,
            target_minutes: r.target_minutes,
            agreement_id: r.agreement_id,
        }
    }
}

/// What a recompute did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recomputed {
    pub records: u64,
    pub changes: Vec<RecomputeChange>,
}

impl Store {
    /// How many incidents and requests a recompute from `since` (opened at or after; all when
    /// `None`) goes through.
    pub async fn recompute_scope(&self, since: Option<i64>) -> StoreResult<u64> {
        let mut total = 0;
        for kind in RecordKind::ALL {
            let (n,): (i64,) = self
                .db
                .fetch_one(
                    sql(format!(
                        "SELECT count(*) FROM {} WHERE opened_at >= $1",
                        table(*kind)
                    ))
                    .bind(since.unwrap_or(i64::MIN)),
                )
                .await?;
            total += u64::try_from(n).unwrap_or(0);
        }
        Ok(total)
    }

    /// Derives the clocks of every incident and request opened since `since` again from the
    /// journal, under the agreements and calendars as they are now, writing (and journaling)
    /// what differs. `progress` hears how many records are done.
    pub async fn recompute_clocks(
        &self,
        since: Option<i64>,
        mut progress: impl FnMut(u64),
    ) -> StoreResult<Recomputed> {
        let mut out = Recomputed::default();
        for kind in RecordKind::ALL {
            let mut after_id = 0;
            loop {
                let ids: Vec<(i64, i64)> = self
                    .db
                    .fetch_all(
                        sql(format!(
                            "SELECT id, tenant_id FROM {} WHERE opened_at >= $1 AND id > $2 ORDER BY id LIMIT $3",
                            table(*kind)
                        ))
                        .bind(since.unwrap_or(i64::MIN))
                        .bind(after_id)
                        .bind(BATCH),
                    )
                    .await?;
                let Some(&(last, _)) = ids.last() else { break };
                after_id = last;
                self.recompute_batch(*kind, &ids, &mut out).await?;
                out.records += ids.len() as u64;
                progress(out.records);
            }
        }
        Ok(out)
    }

    async fn recompute_batch(
        &self,
        kind: RecordKind,
        ids: &[(i64, i64)],
        out: &mut Recomputed,
    ) -> StoreResult<()> {
        let actor = Actor::cli();
        let mut tx = self.db.begin().await?;
        let mut agreements: Option<(i64, super::Agreements)> = None;
        for &(record_id, tenant_id) in ids {
            if agreements.as_ref().is_none_or(|(t, _)| *t != tenant_id) {
                agreements = Some((
                    tenant_id,
                    self.load_agreements(Some(&mut tx), tenant_id).await?,
                ));
            }
            let Some((_, set)) = agreements.as_ref() else {
                continue;
            };
            let Some(past) = history::load(&mut tx, tenant_id, kind, record_id).await? else {
                continue;
            };
            let (before, after, changes) =
                write_clocks_for(&mut tx, tenant_id, kind, record_id, &past, set).await?;
            diff(tenant_id, &before, &after, &mut out.changes);
            let changes = changes
                .into_iter()
                .map(|(id, b, a)| Change {
                    tenant_id,
                    actor: &actor,
                    action: Action::Update,
                    record_type: "sla_clock",
                    record_id: id,
                    before: Some(b),
                    after: Some(a),
                })
                .collect();
            self.journal_many(&mut tx, changes).await?;
        }
        tx.commit().await
    }
}

fn table(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Incident => "incidents",
        RecordKind::Request => "requests",
    }
}

fn diff(tenant_id: i64, before: &[ClockRow], after: &[ClockRow], out: &mut Vec<RecomputeChange>) {
    let key = |r: &ClockRow| (r.slot.clone(), r.metric.clone());
    let mut keys: Vec<(String, String)> = before.iter().chain(after).map(key).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let b = before.iter().find(|r| key(r) == k);
        let a = after.iter().find(|r| key(r) == k);
        let (bs, as_) = (b.map(ClockSummary::from), a.map(ClockSummary::from));
        if bs != as_ {
            let record = a.or(b).map(|r| r.record_key.clone()).unwrap_or_default();
            out.push(RecomputeChange {
                tenant_id,
                record,
                target: k.1,
                before: bs,
                after: as_,
            });
        }
    }
}
