//! Keeping each record's clocks in step with it, reading them, and acting on their thresholds.
//!
//! Clocks follow the journal: whenever an incident or request entry is appended, the record's
//! clocks are derived again from its history (`domain::sla::derive`) in the same transaction,
//! and the rows that changed are written. A clock whose agreement or target changed leaves the
//! old one in the journal. Each running clock has a warning and a breach job queued for the
//! moment it reaches them; the job acts once, whatever the number of nodes or retries.

use super::history::{self, Snapshot};
use super::{Agreements, StoredAgreement};
use crate::db::{Tx, sql};
use crate::jobs::{NewJob, enqueue_in};
use crate::journal::{Actor, Change};
use crate::{Store, StoreError, StoreResult, now_micros};
use jiff::SignedDuration;
use serde::Serialize;
use serde_json::{Value, json};
use steward_domain::calendar::Calendar;
use steward_domain::journal::{Action, Entry};
use steward_domain::sla::clock::{Micros, Pause, Track};
use steward_domain::sla::rule::Facts;
use steward_domain::sla::{
    self, Agreement, AgreementKind, ClockState, Derived, Escalation, Reading, RecordKind,
};

pub use steward_domain::sla::Threshold;

/// The job kind that acts on a clock's warning or breach.
pub const THRESHOLD_KIND: &str = "sla.threshold";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ClockRow {
    pub id: i64,
    pub record_kind: String,
    pub record_id: i64,
    pub record_key: String,
    pub slot: String,
    pub metric: String,
    pub agreement_id: i64,
    pub target_minutes: i64,
    pub priority: Option<String>,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub track_json: String,
    pub state: String,
    pub due_at: Option<i64>,
    pub warn_at: Option<i64>,
    pub stopped_at: Option<i64>,
    pub decided_at: Option<i64>,
    pub voided: bool,
    pub warned_at: Option<i64>,
    pub breach_noted_at: Option<i64>,
    pub breach_reason: Option<String>,
}

pub(crate) const CLOCK_COLUMNS: &str = "id, record_kind, record_id, record_key, slot, metric, agreement_id, target_minutes, \
    priority, service_id, customer_id, track_json, state, due_at, warn_at, stopped_at, decided_at, voided, warned_at, breach_noted_at, breach_reason";

impl ClockRow {
    pub fn track(&self) -> StoreResult<Track> {
        serde_json::from_str(&self.track_json)
            .map_err(|e| StoreError::Corrupt(format!("clock {} track: {e}", self.id)))
    }
}

/// A clock as the record page and the API show it: what it counts towards, where it stands,
/// and everything that explains why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockView {
    pub id: i64,
    /// `first_response`, `resolution` or a milestone.
    pub target: String,
    pub agreement_id: i64,
    pub agreement: String,
    pub agreement_kind: AgreementKind,
    pub calendar: String,
    pub target_minutes: i64,
    pub state: ClockState,
    pub due_at: Option<i64>,
    pub warn_at: Option<i64>,
    pub remaining_minutes: i64,
    pub elapsed_minutes: i64,
    pub started_at: Option<i64>,
    pub stopped_at: Option<i64>,
    pub pauses: Vec<Pause>,
    pub rule: RuleWords,
    pub warned_at: Option<i64>,
    pub breach_noted_at: Option<i64>,
    /// Why the clock breached, as an agent recorded it.
    pub breach_reason: Option<String>,
    /// Why the record does not count towards attainment, if it does not.
    pub excluded: Option<String>,
}

/// A clock's rule in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleWords {
    pub starts: String,
    pub pauses: String,
    pub stops: String,
}

/// What a clock row should hold after a change.
struct Wanted<'a> {
    derived: Derived,
    reading: Reading,
    agreement: &'a StoredAgreement,
}

impl Store {
    /// Brings the clocks of the incidents and requests among `entries` in step with them.
    /// Called by the journal inside the writing transaction; returns the journal changes it
    /// made (a changed agreement or target), to append after.
    pub(crate) async fn follow_clocks(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        entries: &[&Entry],
    ) -> StoreResult<Vec<(i64, Value, Value)>> {
        let mut records: Vec<(RecordKind, i64, bool, &Value)> = Vec::new();
        for e in entries.iter().rev() {
            let (Some(kind), Some(after)) = (RecordKind::parse(&e.record_type), e.after.as_ref())
            else {
                continue;
            };
            if records
                .iter()
                .any(|(k, id, ..)| *k == kind && *id == e.record_id)
            {
                continue;
            }
            let first = e.action == Action::Create;
            records.push((kind, e.record_id, first, after));
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let agreements = self.load_agreements(Some(&mut *tx), tenant_id).await?;
        // Agreements are never deleted, so a tenant without any has no clocks to follow.
        if agreements.is_empty() {
            return Ok(Vec::new());
        }
        let mut changes = Vec::new();
        for (kind, record_id, created, after) in records.into_iter().rev() {
            let Some(snapshot) = Snapshot::parse(after) else {
                continue;
            };
            let existing = if created {
                Vec::new()
            } else {
                clock_rows(tx, tenant_id, kind, record_id).await?
            };
            let past = if created {
                history::Past {
                    steps: history::steps(kind, [(now_micros(), true, snapshot.clone())]),
                    now: snapshot,
                }
            } else {
                match history::load(tx, tenant_id, kind, record_id).await? {
                    Some(past) => past,
                    None => continue,
                }
            };
            let wanted = wanted(kind, &past.steps, &agreements, now_micros());
            changes.extend(
                write_clocks(tx, tenant_id, kind, record_id, &past.now, &existing, wanted).await?,
            );
        }
        Ok(changes)
    }

    /// The clocks of one record, read now.
    pub async fn record_clocks(
        &self,
        tenant_id: i64,
        kind: RecordKind,
        record_id: i64,
    ) -> StoreResult<Vec<ClockView>> {
        let rows: Vec<ClockRow> = self
            .db
            .fetch_all(select_clocks(tenant_id, kind, record_id))
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let agreements = self.load_agreements(None, tenant_id).await?;
        let excluded = self.sla_exclusion(tenant_id, kind, record_id).await?;
        let now = now_micros();
        rows.iter()
            .map(|row| view(row, &agreements, excluded.clone(), now))
            .collect()
    }

    /// The reason `record` is excluded from attainment, if it is.
    pub async fn sla_exclusion(
        &self,
        tenant_id: i64,
        kind: RecordKind,
        record_id: i64,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = self
            .db
            .fetch_optional(
                sql("SELECT reason FROM sla_exclusions WHERE tenant_id = $1 AND record_kind = $2 AND record_id = $3")
                    .bind(tenant_id)
                    .bind(kind.as_str())
                    .bind(record_id),
            )
            .await?;
        Ok(row.map(|(r,)| r))
    }

    /// Takes a record out of attainment (with `Some(reason)`) or puts it back (`None`);
    /// journaled on the record. Returns whether anything changed.
    pub async fn set_sla_exclusion(
        &self,
        tenant_id: i64,
        kind: RecordKind,
        record_id: i64,
        reason: Option<&str>,
        actor: &Actor,
    ) -> StoreResult<bool> {
        let before = self.sla_exclusion(tenant_id, kind, record_id).await?;
        let mut tx = self.db.begin().await?;
        let n = match reason {
            Some(reason) => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(steward_domain::Invalid::one(
                        "reason",
                        "Say why the record should not count towards attainment",
                    )
                    .into());
                }
                tx.execute(
                    sql("INSERT INTO sla_exclusions (tenant_id, record_kind, record_id, reason, excluded_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (tenant_id, record_kind, record_id) DO UPDATE SET reason = excluded.reason")
                        .bind(tenant_id)
                        .bind(kind.as_str())
                        .bind(record_id)
                        .bind(reason)
                        .bind(actor.label.clone())
                        .bind(now_micros()),
                )
                .await?
            }
            None => {
                tx.execute(
                    sql("DELETE FROM sla_exclusions WHERE tenant_id = $1 AND record_kind = $2 AND record_id = $3")
                        .bind(tenant_id)
                        .bind(kind.as_str())
                        .bind(record_id),
                )
                .await?
            }
        };
        let after = reason.map(|r| r.trim().to_owned());
        if n == 0 || before == after {
            return Ok(false);
        }
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Update,
                record_type: "sla_exclusion",
                record_id,
                before: Some(json!({ "record_kind": kind.as_str(), "excluded": before })),
                after: Some(json!({ "record_kind": kind.as_str(), "excluded": after })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records why a breached clock of `record` breached (journaled); `Conflict` if the clock
    /// has not breached, `NotFound` if it is not the record's.
    pub async fn set_breach_reason(
        &self,
        tenant_id: i64,
        kind: RecordKind,
        record_id: i64,
        clock_id: i64,
        reason: &str,
        actor: &Actor,
    ) -> StoreResult<ClockView> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 2000 {
            return Err(steward_domain::Invalid::one(
                "reason",
                "Give the reason in 1 to 2000 characters",
            )
            .into());
        }
        let clock = self
            .record_clocks(tenant_id, kind, record_id)
            .await?
            .into_iter()
            .find(|c| c.id == clock_id)
            .ok_or(StoreError::NotFound)?;
        if clock.state != ClockState::Breached {
            return Err(StoreError::Conflict(format!(
                "The {} clock has not breached; only a breach takes a reason",
                clock.target
            )));
        }
        let mut tx = self.db.begin().await?;
        tx.execute(
            sql("UPDATE sla_clocks SET breach_reason = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(reason)
                .bind(tenant_id)
                .bind(clock_id),
        )
        .await?;
        self.journal(
            &mut tx,
            Change {
                tenant_id,
                actor,
                action: Action::Update,
                record_type: "sla_clock",
                record_id: clock_id,
                before: Some(
                    json!({ "target": clock.target, "breach_reason": clock.breach_reason }),
                ),
                after: Some(json!({ "target": clock.target, "breach_reason": reason })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(ClockView {
            breach_reason: Some(reason.to_owned()),
            ..clock
        })
    }

    /// Marks `clock_id`'s `threshold` as acted on, if it has been reached and not yet acted on,
    /// in `tx`; returns the clock as it reads now, with its agreement's escalations for that
    /// threshold, if this call is the one that acts.
    pub(crate) async fn claim_threshold(
        &self,
        tx: &mut Tx,
        tenant_id: i64,
        clock_id: i64,
        threshold: Threshold,
    ) -> StoreResult<Option<(ClockRow, ClockView, Vec<Escalation>)>> {
        let Some(row) = tx
            .fetch_optional::<ClockRow>(
                sql(format!(
                    "SELECT {CLOCK_COLUMNS} FROM sla_clocks WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant_id)
                .bind(clock_id),
            )
            .await?
        else {
            return Ok(None);
        };
        let agreements = self.load_agreements(Some(&mut *tx), tenant_id).await?;
        let now = now_micros();
        let clock = view(&row, &agreements, None, now)?;
        let (reached, column) = match threshold {
            Threshold::Warning => (
                matches!(clock.state, ClockState::Running | ClockState::Paused)
                    && clock.warn_at.is_some_and(|w| w <= now),
                "warned_at",
            ),
            Threshold::Breach => (clock.state == ClockState::Breached, "breach_noted_at"),
        };
        if !reached {
            return Ok(None);
        }
        let claimed = tx
            .execute(
                sql(format!(
                    "UPDATE sla_clocks SET {column} = $1 WHERE id = $2 AND {column} IS NULL"
                ))
                .bind(now)
                .bind(clock_id),
            )
            .await?;
        let escalations = agreements
            .get(row.agreement_id)
            .map(|(stored, _, _)| {
                let all = &stored.draft.escalations;
                all.iter().filter(|e| e.on == threshold).cloned().collect()
            })
            .unwrap_or_default();
        Ok((claimed == 1).then_some((row, clock, escalations)))
    }
}

fn select_clocks(tenant_id: i64, kind: RecordKind, record_id: i64) -> crate::db::Sql {
    sql(format!(
        "SELECT {CLOCK_COLUMNS} FROM sla_clocks WHERE tenant_id = $1 AND record_kind = $2 AND record_id = $3 ORDER BY id"
    ))
    .bind(tenant_id)
    .bind(kind.as_str())
    .bind(record_id)
}

/// Derives one record's clocks again from `past` and writes what differs; returns the rows
/// before and after, and the journal changes to append.
pub(crate) async fn write_clocks_for(
    tx: &mut Tx,
    tenant_id: i64,
    kind: RecordKind,
    record_id: i64,
    past: &history::Past,
    agreements: &Agreements,
) -> StoreResult<(Vec<ClockRow>, Vec<ClockRow>, Vec<(i64, Value, Value)>)> {
    let existing = clock_rows(tx, tenant_id, kind, record_id).await?;
    let wanted = wanted(kind, &past.steps, agreements, now_micros());
    let changes =
        write_clocks(tx, tenant_id, kind, record_id, &past.now, &existing, wanted).await?;
    let after = clock_rows(tx, tenant_id, kind, record_id).await?;
    Ok((existing, after, changes))
}

async fn clock_rows(
    tx: &mut Tx,
    tenant_id: i64,
    kind: RecordKind,
    record_id: i64,
) -> StoreResult<Vec<ClockRow>> {
    tx.fetch_all(select_clocks(tenant_id, kind, record_id))
        .await
}

/// The clocks `history` calls for, each read at `now`.
fn wanted<'a>(
    kind: RecordKind,
    history: &[(Micros, Facts)],
    agreements: &'a Agreements,
    now: Micros,
) -> Vec<Wanted<'a>> {
    sla::derive(kind, history, &agreements.numbered())
        .into_iter()
        .filter_map(|derived| {
            let (stored, agreement, calendar) = agreements.get(derived.agreement_id)?;
            let reading = read(
                &derived.track,
                i64::from(derived.minutes),
                agreement,
                calendar,
                now,
            );
            Some(Wanted {
                derived,
                reading,
                agreement: stored,
            })
        })
        .collect()
}

pub(crate) fn read(
    track: &Track,
    minutes: i64,
    agreement: &Agreement,
    calendar: &Calendar,
    now: Micros,
) -> Reading {
    sla::read(
        track,
        SignedDuration::from_mins(minutes),
        agreement.warn_percent(),
        calendar,
        now,
    )
}

/// When a clock's outcome is (or will be) settled: the stop when met, else the due time.
pub(crate) fn decided_at(r: &Reading, track: &Track) -> Option<Micros> {
    match r.state {
        ClockState::Met => track.stopped_at,
        _ => r.due_at,
    }
}

/// Writes the rows that differ from `existing`; returns journal changes for clocks whose
/// agreement or target changed, or that went away.
async fn write_clocks(
    tx: &mut Tx,
    tenant_id: i64,
    kind: RecordKind,
    record_id: i64,
    snapshot: &Snapshot,
    existing: &[ClockRow],
    wanted: Vec<Wanted<'_>>,
) -> StoreResult<Vec<(i64, Value, Value)>> {
    let now = now_micros();
    let mut changes = Vec::new();
    for w in &wanted {
        let d = &w.derived;
        let old = existing
            .iter()
            .find(|r| r.slot == d.slot && r.metric == d.metric);
        let track_json =
            serde_json::to_string(&d.track).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let row = (
            d.agreement_id,
            i64::from(d.minutes),
            snapshot.priority().map(|p| p.as_str().to_owned()),
            snapshot.service_id,
            snapshot.customer_id,
            track_json,
            w.reading.state.as_str().to_owned(),
            w.reading.due_at,
            w.reading.warn_at,
            d.track.stopped_at,
            decided_at(&w.reading, &d.track),
            snapshot.voided(),
        );
        let same = old.is_some_and(|o| {
            (
                o.agreement_id,
                o.target_minutes,
                o.priority.clone(),
                o.service_id,
                o.customer_id,
                o.track_json.clone(),
                o.state.clone(),
                o.due_at,
                o.warn_at,
                o.stopped_at,
                o.decided_at,
                o.voided,
            ) == row
        });
        if same {
            continue;
        }
        let q = match old {
            Some(o) => sql(
                "UPDATE sla_clocks SET agreement_id = $1, target_minutes = $2, priority = $3, service_id = $4, customer_id = $5, \
                 track_json = $6, state = $7, due_at = $8, warn_at = $9, stopped_at = $10, decided_at = $11, voided = $12, \
                 updated_at = $13, record_key = $14 WHERE id = $15 RETURNING id",
            )
            .bind(row.0)
            .bind(row.1)
            .bind(row.2.clone())
            .bind(row.3)
            .bind(row.4)
            .bind(row.5.clone())
            .bind(row.6.clone())
            .bind(row.7)
            .bind(row.8)
            .bind(row.9)
            .bind(row.10)
            .bind(row.11)
            .bind(now)
            .bind(snapshot.key(kind))
            .bind(o.id),
            None => sql(
                "INSERT INTO sla_clocks (agreement_id, target_minutes, priority, service_id, customer_id, track_json, state, \
                 due_at, warn_at, stopped_at, decided_at, voided, updated_at, record_key, tenant_id, record_kind, record_id, slot, metric) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
            )
            .bind(row.0)
            .bind(row.1)
            .bind(row.2.clone())
            .bind(row.3)
            .bind(row.4)
            .bind(row.5.clone())
            .bind(row.6.clone())
            .bind(row.7)
            .bind(row.8)
            .bind(row.9)
            .bind(row.10)
            .bind(row.11)
            .bind(now)
            .bind(snapshot.key(kind))
            .bind(tenant_id)
            .bind(kind.as_str())
            .bind(record_id)
            .bind(d.slot.clone())
            .bind(d.metric.clone()),
        };
        let (id,): (i64,) = tx.fetch_one(q).await?;
        if let Some(o) = old
            && (o.agreement_id != d.agreement_id || o.target_minutes != i64::from(d.minutes))
        {
            changes.push((
                id,
                json!({ "record": o.record_key, "target": o.metric, "agreement_id": o.agreement_id,
                        "target_minutes": o.target_minutes, "due_at": o.due_at }),
                json!({ "record": snapshot.key(kind), "target": d.metric, "agreement_id": d.agreement_id,
                        "agreement": w.agreement.draft.name, "target_minutes": d.minutes, "due_at": w.reading.due_at }),
            ));
        }
        schedule(tx, tenant_id, id, old, &w.reading).await?;
    }
    for gone in existing.iter().filter(|o| {
        !wanted
            .iter()
            .any(|w| w.derived.slot == o.slot && w.derived.metric == o.metric)
    }) {
        tx.execute(sql("DELETE FROM sla_clocks WHERE id = $1").bind(gone.id))
            .await?;
        changes.push((
            gone.id,
            json!({ "record": gone.record_key, "target": gone.metric, "agreement_id": gone.agreement_id,
                    "target_minutes": gone.target_minutes, "due_at": gone.due_at }),
            json!({ "record": gone.record_key, "target": gone.metric, "removed": "no agreement covers the record any more" }),
        ));
    }
    Ok(changes)
}

/// Queues the warning and breach jobs for the instants the clock reaches them, if those moved.
/// A job that finds the clock no longer at its threshold does nothing, so stale jobs are harmless.
async fn schedule(
    tx: &mut Tx,
    tenant_id: i64,
    clock_id: i64,
    old: Option<&ClockRow>,
    r: &Reading,
) -> StoreResult<()> {
    if !matches!(
        r.state,
        ClockState::Running | ClockState::Paused | ClockState::Breached
    ) {
        return Ok(());
    }
    let plans = [
        (
            Threshold::Warning,
            r.warn_at,
            old.and_then(|o| o.warn_at),
            old.and_then(|o| o.warned_at),
        ),
        (
            Threshold::Breach,
            r.due_at,
            old.and_then(|o| o.due_at),
            old.and_then(|o| o.breach_noted_at),
        ),
    ];
    for (threshold, at, was, done) in plans {
        let Some(at) = at else { continue };
        if done.is_some() || (old.is_some() && was == Some(at)) {
            continue;
        }
        if threshold == Threshold::Warning && r.state == ClockState::Breached {
            continue;
        }
        let mut job = NewJob::now(
            THRESHOLD_KIND,
            json!({ "tenant_id": tenant_id, "clock_id": clock_id, "threshold": threshold.as_str() }),
        )
        .dedupe(format!("sla:{clock_id}:{}:{at}", threshold.as_str()));
        job.tenant_id = Some(tenant_id);
        // Strictly after the due instant: a record resolved exactly on time has met its target.
        job.run_at_micros = at + 1;
        enqueue_in(tx, &job).await?;
    }
    Ok(())
}

/// Reads a stored clock now, with everything that explains it.
pub(crate) fn view(
    row: &ClockRow,
    agreements: &Agreements,
    excluded: Option<String>,
    now: Micros,
) -> StoreResult<ClockView> {
    let (stored, agreement, calendar) = agreements.get(row.agreement_id).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "clock {} names missing agreement {}",
            row.id, row.agreement_id
        ))
    })?;
    let track = row.track()?;
    let reading = read(&track, row.target_minutes, agreement, calendar, now);
    let rule = agreement.rule(&row.metric);
    Ok(ClockView {
        id: row.id,
        target: row.metric.clone(),
        agreement_id: row.agreement_id,
        agreement: stored.draft.name.clone(),
        agreement_kind: agreement.kind(),
        calendar: calendar.name().to_owned(),
        target_minutes: row.target_minutes,
        state: reading.state,
        due_at: reading.due_at,
        warn_at: reading.warn_at,
        remaining_minutes: reading.remaining_minutes(),
        elapsed_minutes: reading.elapsed.as_secs() / 60,
        started_at: track.started_at,
        stopped_at: track.stopped_at,
        pauses: track.pauses,
        rule: RuleWords {
            starts: rule.starts_in_words(),
            pauses: rule.pause.describe(),
            stops: rule.stop.describe(),
        },
        warned_at: row.warned_at,
        breach_noted_at: row.breach_noted_at,
        breach_reason: row.breach_reason.clone(),
        excluded,
    })
}
