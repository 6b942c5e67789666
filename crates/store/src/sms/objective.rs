//! Service management objectives (6.2) and their readings: hand-measured values kept one per
//! month (`objective_measurements`), computed ones read from Steward's own records each time
//! they are asked for, so they can never go stale.

use super::{NEWEST_FIRST, date_text, stored_optional_date};
use crate::db::{Sql, Tx, sql};
use crate::journal::Record;
use crate::page::{CursorKey, Page, PageRequest, finish, paginate};
use crate::sla::report::{Group, Month, ReportQuery};
use crate::{Actor, Store, StoreError, StoreResult, next_updated_at, now_micros};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use steward_domain::Invalid;
use steward_domain::sms::objective::{
    Direction, Kpi, ObjectiveDraft, ObjectiveStatus, Reading, check_value, percent,
};
use steward_domain::validation::optional_text;

/// Values are kept in thousandths: three decimals, exactly, on both backends.
const MILLI: f64 = 1000.0;

fn to_milli(value: f64) -> i64 {
    (value * MILLI).round() as i64
}

fn from_milli(milli: i64) -> f64 {
    milli as f64 / MILLI
}

/// An objective as stored (and as the journal keeps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub kpi: Kpi,
    pub direction: Direction,
    pub target: f64,
    pub unit: String,
    pub owner_id: Option<i64>,
    pub due_date: Option<Date>,
    pub status: ObjectiveStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Record for Objective {
    const KIND: &'static str = "objective";
    fn id(&self) -> i64 {
        self.id
    }
}

impl Objective {
    pub fn draft(&self) -> ObjectiveDraft {
        ObjectiveDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            kpi: self.kpi,
            direction: self.direction,
            target: self.target,
            unit: self.unit.clone(),
            owner_id: self.owner_id,
            due_date: self.due_date,
            status: self.status,
        }
    }
}

#[derive(sqlx::FromRow)]
struct ObjectiveRow {
    id: i64,
    title: String,
    description: String,
    #[sqlx(try_from = "String")]
    kpi: Kpi,
    #[sqlx(try_from = "String")]
    direction: Direction,
    target_milli: i64,
    unit: String,
    owner_id: Option<i64>,
    due_date: Option<String>,
    #[sqlx(try_from = "String")]
    status: ObjectiveStatus,
    created_at: i64,
    updated_at: i64,
}

impl ObjectiveRow {
    fn into_objective(self) -> StoreResult<Objective> {
        Ok(Objective {
            due_date: stored_optional_date("objective", self.id, self.due_date.as_deref())?,
            id: self.id,
            title: self.title,
            description: self.description,
            kpi: self.kpi,
            direction: self.direction,
            target: from_milli(self.target_milli),
            unit: self.unit,
            owner_id: self.owner_id,
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, title, description, kpi, direction, target_milli, unit, owner_id, \
                       due_date, status, created_at, updated_at";

/// Which objectives a list shows.
#[derive(Debug, Clone, Default)]
pub struct ObjectiveFilter {
    pub status: Option<ObjectiveStatus>,
}

/// A value measured by hand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub month: Date,
    pub value: f64,
    pub note: String,
    pub actor_label: String,
    pub at: i64,
}

fn select_one(tenant_id: i64, id: i64) -> Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM objectives WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
}

async fn read(tx: &mut Tx, tenant_id: i64, id: i64) -> StoreResult<Objective> {
    tx.fetch_one::<ObjectiveRow>(select_one(tenant_id, id))
        .await?
        .into_objective()
}

fn bind_draft(q: Sql, d: &ObjectiveDraft) -> Sql {
    q.bind(&d.title)
        .bind(&d.description)
        .bind(d.kpi.as_str())
        .bind(d.direction.as_str())
        .bind(to_milli(d.target))
        .bind(&d.unit)
        .bind(d.owner_id)
        .bind(d.due_date.map(date_text))
        .bind(d.status.as_str())
}

/// The first day of `month`.
pub fn first_day(month: Month) -> Date {
    // Month keeps to years 1000–9999 and months 1–12, which every civil date holds.
    Date::new(month.year() as i16, month.month() as i8, 1).unwrap_or(Date::MIN)
}

/// The month a date falls in.
pub fn month_of(date: Date) -> Option<Month> {
    Month::new(i32::from(date.year()), date.month() as u32)
}

const MAX_NOTE: usize = 2_000;

impl Store {
    pub async fn create_objective(
        &self,
        tenant_id: i64,
        draft: &ObjectiveDraft,
        actor: &Actor,
    ) -> StoreResult<Objective> {
        self.check_owner(tenant_id, draft.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let write = sql(
            "INSERT INTO objectives (tenant_id, title, description, kpi, direction, target_milli, \
             unit, owner_id, due_date, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(tenant_id);
        let write = bind_draft(write, draft).bind(now_micros());
        let (id,): (i64,) = tx.fetch_one(write).await?;
        let created = read(&mut tx, tenant_id, id).await?;
        self.commit_created(tx, tenant_id, actor, created).await
    }

    /// Replaces an objective's fields (its status included) if it has not changed since
    /// `seen_updated_at`. Its KPI may change only while nothing was measured by hand, so that
    /// recorded values never end up read as another measure.
    pub async fn update_objective(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        draft: &ObjectiveDraft,
        actor: &Actor,
    ) -> StoreResult<Objective> {
        self.check_owner(tenant_id, draft.owner_id).await?;
        let mut tx = self.db.begin().await?;
        let before = read(&mut tx, tenant_id, id).await?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The objective was changed by someone else; reload it and try again".into(),
            ));
        }
        if before.kpi != draft.kpi {
            let (measured,): (i64,) = tx
                .fetch_one(
                    sql("SELECT COUNT(*) FROM objective_measurements WHERE objective_id = $1")
                        .bind(id),
                )
                .await?;
            if measured > 0 {
                return Err(Invalid::one(
                    "kpi",
                    "Values were recorded for this objective's measure; keep the measure or set up a new objective",
                )
                .into());
            }
        }
        let write = sql(
            "UPDATE objectives SET title = $1, description = $2, kpi = $3, direction = $4, \
             target_milli = $5, unit = $6, owner_id = $7, due_date = $8, status = $9, \
             updated_at = $10 WHERE tenant_id = $11 AND id = $12",
        );
        tx.execute(
            bind_draft(write, draft)
                .bind(next_updated_at(seen_updated_at))
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        let after = read(&mut tx, tenant_id, id).await?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Records the value of a hand-measured objective for `month` (replacing one recorded
    /// before for that month). A computed objective is measured by Steward and refuses it.
    pub async fn record_measurement(
        &self,
        tenant_id: i64,
        id: i64,
        month: Month,
        value: f64,
        note: &str,
        actor: &Actor,
    ) -> StoreResult<Measurement> {
        let mut errors = Invalid::new();
        check_value(&mut errors, "value", "The value", value);
        let note = optional_text(&mut errors, "note", "Note", note.trim(), MAX_NOTE);
        if first_day(month) > crate::asset::today_utc() {
            errors.add("month", "A month still to come cannot be measured");
        }
        errors.into_result(())?;
        let mut tx = self.db.begin().await?;
        let objective = read(&mut tx, tenant_id, id).await?;
        if objective.kpi.is_computed() {
            return Err(StoreError::Conflict(
                "This objective is measured from Steward's own records; there is nothing to type in"
                    .into(),
            ));
        }
        let month_text = date_text(first_day(month));
        tx.execute(
            sql("DELETE FROM objective_measurements WHERE objective_id = $1 AND month = $2")
                .bind(id)
                .bind(&month_text),
        )
        .await?;
        let at = now_micros();
        tx.execute(
            sql(
                "INSERT INTO objective_measurements (tenant_id, objective_id, month, value_milli, \
                 note, actor_id, actor_label, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(tenant_id)
            .bind(id)
            .bind(&month_text)
            .bind(to_milli(value))
            .bind(&note)
            .bind(actor.user_id)
            .bind(&actor.label)
            .bind(at),
        )
        .await?;
        let measured = Measurement {
            month: first_day(month),
            value: from_milli(to_milli(value)),
            note,
            actor_label: actor.label.clone(),
            at,
        };
        // The journal keeps the measurement as a change to its objective: what was measured
        // for which month, by whom.
        let mut after = objective.clone();
        after.updated_at = next_updated_at(objective.updated_at);
        tx.execute(
            sql("UPDATE objectives SET updated_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(after.updated_at)
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        self.journal(
            &mut tx,
            crate::journal::Change {
                tenant_id,
                actor,
                action: steward_domain::journal::Action::Update,
                record_type: Objective::KIND,
                record_id: id,
                before: crate::journal::snapshot(&objective),
                after: crate::journal::snapshot(&serde_json::json!({
                    "objective": after,
                    "measured": { "month": month_text, "value": measured.value, "note": measured.note },
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(measured)
    }

    pub async fn objective(&self, tenant_id: i64, id: i64) -> StoreResult<Objective> {
        self.db
            .fetch_one::<ObjectiveRow>(select_one(tenant_id, id))
            .await?
            .into_objective()
    }

    /// A page of objectives, newest first.
    pub async fn objectives(
        &self,
        tenant_id: i64,
        f: &ObjectiveFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Objective>> {
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM objectives WHERE tenant_id = $1"
        ))
        .bind(tenant_id);
        if let Some(status) = f.status {
            q = q.push_bound(" AND status = {}", status.as_str());
        }
        let rows: Vec<ObjectiveRow> = self.db.fetch_all(paginate(q, NEWEST_FIRST, page)?).await?;
        let items = rows
            .into_iter()
            .map(ObjectiveRow::into_objective)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(items, page, |o| (CursorKey::Int(o.id), o.id)))
    }

    /// The values recorded by hand for an objective, newest month first.
    pub async fn measurements(&self, tenant_id: i64, id: i64) -> StoreResult<Vec<Measurement>> {
        self.objective(tenant_id, id).await?;
        let rows: Vec<(String, i64, String, String, i64)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT month, value_milli, note, actor_label, at FROM objective_measurements \
                     WHERE tenant_id = $1 AND objective_id = $2 ORDER BY month DESC LIMIT 240",
                )
                .bind(tenant_id)
                .bind(id),
            )
            .await?;
        rows.into_iter()
            .map(|(month, value, note, actor_label, at)| {
                Ok(Measurement {
                    month: super::stored_date("objective measurement", id, &month)?,
                    value: from_milli(value),
                    note,
                    actor_label,
                    at,
                })
            })
            .collect()
    }

    /// The objective's reading for each month from `first` to `last`, in order: what was
    /// recorded by hand, or what Steward's records say for a computed KPI. A month with
    /// nothing to measure has no value.
    pub async fn readings(
        &self,
        tenant_id: i64,
        objective: &Objective,
        first: Month,
        last: Month,
    ) -> StoreResult<Vec<Reading>> {
        let values = match objective.kpi {
            Kpi::Manual => self.manual_values(tenant_id, objective.id).await?,
            Kpi::SlaAttainment => self.sla_attainment_by_month(tenant_id, first, last).await?,
            Kpi::ChangeSuccess => self.change_success_by_month(tenant_id, first, last).await?,
            Kpi::MajorIncidents => {
                self.major_incidents_by_month(tenant_id, first, last)
                    .await?
            }
        };
        let mut month = first;
        let mut readings = Vec::new();
        while month <= last {
            readings.push(Reading {
                month: first_day(month),
                value: values.get(&month.to_string()).copied(),
            });
            month = month.next();
        }
        Ok(readings)
    }

    async fn manual_values(&self, tenant_id: i64, id: i64) -> StoreResult<HashMap<String, f64>> {
        Ok(self
            .measurements(tenant_id, id)
            .await?
            .into_iter()
            .map(|m| (m.month.strftime("%Y-%m").to_string(), m.value))
            .collect())
    }

    async fn sla_attainment_by_month(
        &self,
        tenant_id: i64,
        first: Month,
        last: Month,
    ) -> StoreResult<HashMap<String, f64>> {
        let q = ReportQuery::new(first.start(), last.end(), Group::Month);
        Ok(self
            .attainment(tenant_id, &q)
            .await?
            .into_iter()
            .filter_map(|row| Some((row.group.key?, percent(row.met, row.total)?)))
            .collect())
    }

    /// Changes that ended in each month, closed against failed.
    async fn change_success_by_month(
        &self,
        tenant_id: i64,
        first: Month,
        last: Month,
    ) -> StoreResult<HashMap<String, f64>> {
        let mut values = HashMap::new();
        let mut month = first;
        while month <= last {
            let (closed, ended): (i64, i64) = self
                .db
                .fetch_one(
                    sql(
                        "SELECT COALESCE(SUM(CASE WHEN status = 'closed' THEN 1 ELSE 0 END), 0), \
                         COUNT(*) FROM changes WHERE tenant_id = $1 AND status IN ('closed', 'failed') \
                         AND ended_at >= $2 AND ended_at < $3",
                    )
                    .bind(tenant_id)
                    .bind(month.start())
                    .bind(month.end()),
                )
                .await?;
            if let Some(p) = percent(closed, ended) {
                values.insert(month.to_string(), p);
            }
            month = month.next();
        }
        Ok(values)
    }

    /// Major incidents raised in each month (a month without any counts zero).
    async fn major_incidents_by_month(
        &self,
        tenant_id: i64,
        first: Month,
        last: Month,
    ) -> StoreResult<HashMap<String, f64>> {
        let mut values = HashMap::new();
        let mut month = first;
        while month <= last {
            let (count,): (i64,) = self
                .db
                .fetch_one(
                    sql(
                        "SELECT COUNT(*) FROM incidents WHERE tenant_id = $1 AND major = TRUE \
                         AND created_at >= $2 AND created_at < $3",
                    )
                    .bind(tenant_id)
                    .bind(month.start())
                    .bind(month.end()),
                )
                .await?;
            values.insert(month.to_string(), count as f64);
            month = month.next();
        }
        Ok(values)
    }
}

/// The last `n` months up to and including the one `today` falls in.
pub fn last_months(today: Date, n: i32) -> (Month, Month) {
    let last = month_of(today).unwrap_or_else(|| Month::containing(now_micros()));
    (last.plus(1 - n.max(1)), last)
}
