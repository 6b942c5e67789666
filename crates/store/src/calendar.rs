//! Business calendars: a name, an IANA time zone, and the weekly hours, holidays and exceptions
//! (`domain::calendar`) kept together as one JSON document.
//!
//! Only a validated [`Calendar`] is written, so what is read back validates again; if a row was
//! edited by hand into something that does not, [`StoredCalendar::calendar`] answers
//! `StoreError::Corrupt` instead of guessing.

use crate::db::sql;
use crate::identity::like_pattern;
use crate::journal::{Change, Record};
use crate::page::{CursorKey, Page, PageRequest, Sort, finish, paginate};
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use serde::{Deserialize, Serialize};
use steward_domain::calendar::{Calendar, CalendarDraft, Exception, Holiday, WorkingHours};
use steward_domain::journal::Action;

/// A calendar as stored: what was validated, with its id and times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredCalendar {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub hours: Vec<WorkingHours>,
    pub holidays: Vec<Holiday>,
    pub exceptions: Vec<Exception>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl StoredCalendar {
    /// The calendar as a draft, to edit or validate.
    pub fn draft(&self) -> CalendarDraft {
        CalendarDraft {
            name: self.name.clone(),
            timezone: self.timezone.clone(),
            hours: self.hours.clone(),
            holidays: self.holidays.clone(),
            exceptions: self.exceptions.clone(),
        }
    }

    /// The calendar, ready to answer; `Corrupt` if the stored definition no longer validates
    /// (a hand-edited row, or a time zone the tz database no longer knows).
    pub fn calendar(&self) -> StoreResult<Calendar> {
        self.draft().validate().map_err(|invalid| {
            let why: Vec<String> = invalid
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            StoreError::Corrupt(format!("calendar {}: {}", self.id, why.join("; ")))
        })
    }
}

impl Record for StoredCalendar {
    const KIND: &'static str = "calendar";
    fn id(&self) -> i64 {
        self.id
    }
}

/// The JSON document in `definition_json`.
#[derive(Serialize, Deserialize)]
struct Definition {
    hours: Vec<WorkingHours>,
    holidays: Vec<Holiday>,
    exceptions: Vec<Exception>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct CalendarRow {
    id: i64,
    name: String,
    timezone: String,
    definition_json: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<CalendarRow> for StoredCalendar {
    type Error = StoreError;
    fn try_from(r: CalendarRow) -> StoreResult<Self> {
        let d: Definition = serde_json::from_str(&r.definition_json)
            .map_err(|e| StoreError::Corrupt(format!("calendar {} definition: {e}", r.id)))?;
        Ok(StoredCalendar {
            id: r.id,
            name: r.name,
            timezone: r.timezone,
            hours: d.hours,
            holidays: d.holidays,
            exceptions: d.exceptions,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn definition_json(c: &Calendar) -> StoreResult<String> {
    let d = c.draft();
    serde_json::to_string(&Definition {
        hours: d.hours.clone(),
        holidays: d.holidays.clone(),
        exceptions: d.exceptions.clone(),
    })
    .map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) const COLUMNS: &str = "id, name, timezone, definition_json, created_at, updated_at";
const NAME_TAKEN: (&str, &str) = ("name", "A calendar with this name already exists");

fn select_one(tenant_id: i64, id: i64) -> crate::db::Sql {
    sql(format!(
        "SELECT {COLUMNS} FROM calendars WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
    ))
    .bind(tenant_id)
    .bind(id)
}

#[derive(Debug, Clone, Default)]
pub struct CalendarFilter {
    /// Words in the name.
    pub q: Option<String>,
    /// `name` (default), `created_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
}

impl Store {
    pub async fn create_calendar(
        &self,
        tenant_id: i64,
        c: &Calendar,
        actor: &Actor,
    ) -> StoreResult<StoredCalendar> {
        let d = c.draft();
        let write = sql(format!(
            "INSERT INTO calendars (tenant_id, name, timezone, definition_json, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING {COLUMNS}"
        ))
        .bind(tenant_id)
        .bind(&d.name)
        .bind(&d.timezone)
        .bind(definition_json(c)?)
        .bind(now_micros());
        let mut tx = self.db.begin().await?;
        let after: StoredCalendar = tx
            .fetch_one::<CalendarRow>(write)
            .await
            .map_err(|e| e.unique_as(NAME_TAKEN.0, NAME_TAKEN.1))?
            .try_into()?;
        self.commit_created(tx, tenant_id, actor, after).await
    }

    pub async fn calendar(&self, tenant_id: i64, id: i64) -> StoreResult<StoredCalendar> {
        self.db
            .fetch_one::<CalendarRow>(select_one(tenant_id, id))
            .await?
            .try_into()
    }

    /// Replaces a calendar's definition if it has not changed since `seen_updated_at`;
    /// otherwise answers `Conflict`, so a merge or an edit never overwrites one made meanwhile.
    pub async fn update_calendar(
        &self,
        tenant_id: i64,
        id: i64,
        seen_updated_at: i64,
        c: &Calendar,
        actor: &Actor,
    ) -> StoreResult<StoredCalendar> {
        let d = c.draft();
        let write = sql(format!(
            "UPDATE calendars SET name = $1, timezone = $2, definition_json = $3, updated_at = $4 \
             WHERE tenant_id = $5 AND id = $6 AND updated_at = $7 AND deleted_at IS NULL RETURNING {COLUMNS}"
        ))
        .bind(&d.name)
        .bind(&d.timezone)
        .bind(definition_json(c)?)
        .bind(now_micros().max(seen_updated_at + 1))
        .bind(tenant_id)
        .bind(id)
        .bind(seen_updated_at);
        let mut tx = self.db.begin().await?;
        let before: StoredCalendar = tx
            .fetch_one::<CalendarRow>(select_one(tenant_id, id))
            .await?
            .try_into()?;
        if before.updated_at != seen_updated_at {
            return Err(StoreError::Conflict(
                "The calendar was changed by someone else; reload it and try again".into(),
            ));
        }
        let after: StoredCalendar = tx
            .fetch_one::<CalendarRow>(write)
            .await
            .map_err(|e| e.unique_as(NAME_TAKEN.0, NAME_TAKEN.1))?
            .try_into()?;
        self.commit_update(tx, tenant_id, actor, &before, after)
            .await
    }

    /// Takes a calendar out of use. The row stays and the journal keeps its last definition.
    ///
    /// A calendar that an active agreement counts on cannot go (`Conflict`, naming them).
    pub async fn delete_calendar(&self, tenant_id: i64, id: i64, actor: &Actor) -> StoreResult<()> {
        let users = self.agreements_on_calendar(tenant_id, id).await?;
        if !users.is_empty() {
            return Err(StoreError::Conflict(format!(
                "The calendar is in use by {}; give them another calendar or deactivate them first",
                users.join(", ")
            )));
        }
        let mut tx = self.db.begin().await?;
        let before: StoredCalendar = tx
            .fetch_one::<CalendarRow>(select_one(tenant_id, id))
            .await?
            .try_into()?;
        tx.execute(
            sql("UPDATE calendars SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL")
                .bind(now_micros())
                .bind(tenant_id)
                .bind(id),
        )
        .await?;
        self.journal(
            &mut tx,
            Change::of(tenant_id, actor, Action::Delete, Some(&before), None),
        )
        .await?;
        tx.commit().await
    }

    pub async fn calendars(
        &self,
        tenant_id: i64,
        f: &CalendarFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StoredCalendar>> {
        let sort =
            Sort::parse_or_invalid(f.sort.as_deref(), &["name", "created_at", "updated_at"])?;
        let mut q = sql(format!(
            "SELECT {COLUMNS} FROM calendars WHERE tenant_id = $1 AND deleted_at IS NULL"
        ))
        .bind(tenant_id);
        if let Some(text) = f.q.as_deref().filter(|t| !t.trim().is_empty()) {
            q = q.push_bound(" AND lower(name) LIKE {}", like_pattern(text.trim()));
        }
        let rows: Vec<CalendarRow> = self.db.fetch_all(paginate(q, sort, page)?).await?;
        let rows = rows
            .into_iter()
            .map(StoredCalendar::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(finish(rows, page, |c| match sort.column {
            "created_at" => (CursorKey::Int(c.created_at), c.id),
            "updated_at" => (CursorKey::Int(c.updated_at), c.id),
            _ => (CursorKey::Text(c.name.clone()), c.id),
        }))
    }
}
