//! The readiness trend: once a day each tenant's conformance readiness over the twelve months
//! up to that day is counted (requirements met, open, gap) and kept, so the dashboard can show
//! whether the management system is getting closer to certification or drifting away.

use crate::conformance::Period;
use crate::db::sql;
use crate::sms::{date_text, stored_date};
use crate::{Store, StoreResult, now_micros};
use jiff::civil::Date;
use steward_domain::conformance::readiness::Counts;

/// One day's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub day: Date,
    pub counts: Counts,
}

/// Whole days in the year a snapshot looks back over (the readiness view's default period).
const YEAR_DAYS: i64 = 364;

impl Store {
    /// Counts the readiness over the year up to the end of `day` and keeps it, unless the day
    /// was already counted (by another node, or a retried job): the first count stands.
    /// Whether this call kept it.
    pub async fn record_readiness_snapshot(&self, tenant_id: i64, day: Date) -> StoreResult<bool> {
        let from = day
            .checked_sub(jiff::Span::new().days(YEAR_DAYS))
            .unwrap_or(day);
        let Some(period) = Period::days(from, day) else {
            return Ok(false);
        };
        let mut counts = Counts::default();
        for clause in self.readiness(tenant_id, period).await? {
            counts.met += clause.counts.met;
            counts.open += clause.counts.open;
            counts.gap += clause.counts.gap;
        }
        let as_int = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let kept: Option<(i64,)> = self
            .db
            .fetch_optional(
                sql(
                    "INSERT INTO readiness_snapshots (tenant_id, day, met, open, gap, taken_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant_id, day) DO NOTHING RETURNING id",
                )
                .bind(tenant_id)
                .bind(date_text(day))
                .bind(as_int(counts.met))
                .bind(as_int(counts.open))
                .bind(as_int(counts.gap))
                .bind(now_micros()),
            )
            .await?;
        Ok(kept.is_some())
    }

    /// The snapshots from `since` on, oldest first.
    pub async fn readiness_trend(&self, tenant_id: i64, since: Date) -> StoreResult<Vec<Snapshot>> {
        let rows: Vec<(String, i64, i64, i64)> = self
            .db
            .fetch_all(
                sql("SELECT day, met, open, gap FROM readiness_snapshots \
                     WHERE tenant_id = $1 AND day >= $2 ORDER BY day LIMIT 1000")
                .bind(tenant_id)
                .bind(date_text(since)),
            )
            .await?;
        let count = |n: i64| usize::try_from(n).unwrap_or(0);
        rows.into_iter()
            .map(|(day, met, open, gap)| {
                Ok(Snapshot {
                    day: stored_date("readiness snapshot", tenant_id, &day)?,
                    counts: Counts {
                        met: count(met),
                        open: count(open),
                        gap: count(gap),
                    },
                })
            })
            .collect()
    }
}
