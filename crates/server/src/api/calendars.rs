//! `/calendars`: business calendars (working hours, holidays, exceptions in an IANA time zone)
//! and the working-time arithmetic SLA clocks are built on: `add` (when does a business
//! duration end) and `between` (how much working time lies between two instants).
//!
//! Agents and up read calendars and ask them questions; managers and admins (who edit services)
//! change them. The arithmetic is `domain::calendar`; the UI's "try it" form calls the same
//! functions as the API (`due`, `elapsed`, `import_ics`).

use super::{ApiJson, ApiPath, ApiQuery, ListOf, time};
use crate::AppState;
use crate::auth::{Can, Principal, perm};
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use steward_domain::Invalid;
use steward_domain::calendar::{
    Calendar, CalendarDraft, CalendarError, Exception, Holiday, Weekday, WorkingHours,
};
use steward_store::PageRequest;
use steward_store::calendar::{CalendarFilter, StoredCalendar};
use utoipa::{IntoParams, ToSchema};

/// The largest business duration `add` takes: ten years of minutes.
pub const MAX_MINUTES: i64 = 10 * 366 * 24 * 60;
/// The longest span `between` measures: ten years.
pub const MAX_SPAN: SignedDuration = SignedDuration::from_hours(10 * 366 * 24);

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarOut {
    pub id: i64,
    pub name: String,
    /// The canonical IANA name of the calendar's time zone.
    pub timezone: String,
    pub hours: Vec<WorkingHours>,
    pub holidays: Vec<Holiday>,
    pub exceptions: Vec<Exception>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<StoredCalendar> for CalendarOut {
    fn from(c: StoredCalendar) -> Self {
        CalendarOut {
            id: c.id,
            name: c.name,
            timezone: c.timezone,
            hours: c.hours,
            holidays: c.holidays,
            exceptions: c.exceptions,
            created_at: time(c.created_at),
            updated_at: time(c.updated_at),
        }
    }
}

/// A whole calendar, as created or replaced.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarIn {
    pub name: String,
    /// An IANA time zone name such as `Europe/London`.
    pub timezone: String,
    /// Weekly working intervals in wall-clock time. An `end` not after its `start` crosses
    /// midnight (`22:00`–`06:00`); `24:00` is the next midnight.
    #[serde(default)]
    pub hours: Vec<HoursIn>,
    /// Dates on which nobody works; `yearly` repeats the month and day every year.
    #[serde(default)]
    pub holidays: Vec<HolidayIn>,
    /// Dated extra working time (`working: true`) or time off (`working: false`).
    #[serde(default)]
    pub exceptions: Vec<ExceptionIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursIn {
    pub weekday: Weekday,
    /// `HH:MM` or `HH:MM:SS`.
    pub start: String,
    /// `HH:MM` or `HH:MM:SS`, up to `24:00`.
    pub end: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayIn {
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub yearly: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExceptionIn {
    /// `YYYY-MM-DD`: the date the interval starts on.
    pub date: String,
    pub start: String,
    pub end: String,
    pub working: bool,
}

impl From<CalendarIn> for CalendarDraft {
    fn from(c: CalendarIn) -> Self {
        CalendarDraft {
            name: c.name,
            timezone: c.timezone,
            hours: c
                .hours
                .into_iter()
                .map(|h| WorkingHours {
                    weekday: h.weekday,
                    start: h.start,
                    end: h.end,
                })
                .collect(),
            holidays: c
                .holidays
                .into_iter()
                .map(|h| Holiday {
                    date: h.date,
                    name: h.name,
                    yearly: h.yearly,
                })
                .collect(),
            exceptions: c
                .exceptions
                .into_iter()
                .map(|e| Exception {
                    date: e.date,
                    start: e.start,
                    end: e.end,
                    working: e.working,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CalendarQuery {
    /// Words in the name.
    pub q: Option<String>,
    /// `name` (default), `created_at` or `updated_at`; a leading `-` sorts descending.
    pub sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A calendar and what it answers with; a stored definition that no longer validates is a
/// logged 500, never a guess.
pub async fn load(
    state: &AppState,
    who: &Principal,
    id: i64,
) -> ApiResult<(StoredCalendar, Calendar)> {
    let stored = state.store.calendar(who.tenant_id(), id).await?;
    let calendar = stored.calendar()?;
    Ok((stored, calendar))
}

/// The instant `minutes` of working time after `start`: what `add` answers.
pub fn due(calendar: &Calendar, start: Timestamp, minutes: i64) -> Result<Timestamp, Invalid> {
    if minutes < 0 {
        return Err(Invalid::one("minutes", "minutes cannot be negative"));
    }
    if minutes > MAX_MINUTES {
        return Err(Invalid::one(
            "minutes",
            format!("minutes can be at most {MAX_MINUTES} (ten years)"),
        ));
    }
    calendar
        .add(start, SignedDuration::from_mins(minutes))
        .map_err(|e| match e {
            CalendarError::Negative => Invalid::one("minutes", "minutes cannot be negative"),
            CalendarError::OutOfRange => Invalid::one("minutes", e.to_string()),
        })
}

/// The working time from `start` to `end`: what `between` answers.
pub fn elapsed(
    calendar: &Calendar,
    start: Timestamp,
    end: Timestamp,
) -> Result<SignedDuration, Invalid> {
    if end < start {
        return Err(Invalid::one("end", "end cannot be before start"));
    }
    if end.duration_since(start) > MAX_SPAN {
        return Err(Invalid::one(
            "end",
            "end can be at most ten years after start",
        ));
    }
    Ok(calendar.between(start, end))
}

/// Parses an RFC 3339 instant for the field `field`.
pub fn instant(field: &str, text: &str) -> Result<Timestamp, Invalid> {
    text.trim().parse::<Timestamp>().map_err(|_| {
        Invalid::one(
            field,
            format!("{field} must be an RFC 3339 time such as 2026-12-24T16:00:00Z"),
        )
    })
}

/// `imported` added to `existing`, without the dates `existing` already covers (a date is kept
/// once, and a dated holiday on a yearly holiday's day adds nothing). Returns how many were new.
pub fn merge_holidays(existing: &[Holiday], imported: Vec<Holiday>) -> (Vec<Holiday>, usize) {
    let month_day = |date: &str| date.get(5..).map(str::to_owned);
    let mut merged = existing.to_vec();
    let mut added = 0;
    for h in imported {
        let covered = merged.iter().any(|e| {
            (e.date == h.date && e.yearly == h.yearly)
                || (e.yearly && !h.yearly && month_day(&e.date) == month_day(&h.date))
        });
        if !covered {
            merged.push(h);
            added += 1;
        }
    }
    (merged, added)
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    /// Holidays that were new; dates the calendar already had are not added again.
    pub added: usize,
    pub calendar: CalendarOut,
}

/// Reads the holidays of an iCalendar file into a calendar; shared by API and UI. A file that
/// does not parse, or a calendar that would not validate with them, changes nothing.
pub async fn import_ics(
    state: &AppState,
    who: &Principal,
    id: i64,
    text: &str,
) -> ApiResult<ImportOut> {
    let (stored, _) = load(state, who, id).await?;
    let imported = steward_domain::calendar::ics::parse_ics_holidays(text)?;
    let (holidays, added) = merge_holidays(&stored.holidays, imported);
    if added == 0 {
        return Ok(ImportOut {
            added,
            calendar: stored.into(),
        });
    }
    let calendar = CalendarDraft {
        holidays,
        ..stored.draft()
    }
    .validate()?;
    let saved = state
        .store
        .update_calendar(
            who.tenant_id(),
            id,
            stored.updated_at,
            &calendar,
            &who.actor(),
        )
        .await?;
    Ok(ImportOut {
        added,
        calendar: saved.into(),
    })
}

#[utoipa::path(get, path = "/calendars", tag = "calendars", params(CalendarQuery),
    responses((status = 200, body = ListOf<CalendarOut>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> ApiResult<Json<ListOf<CalendarOut>>> {
    let filter = CalendarFilter {
        q: q.q,
        sort: q.sort,
    };
    let page = PageRequest {
        limit: q.limit,
        cursor: q.cursor,
    };
    let found = state
        .store
        .calendars(who.tenant_id(), &filter, &page)
        .await?;
    Ok(Json(ListOf::from_page(found, CalendarOut::from)))
}

#[utoipa::path(post, path = "/calendars", tag = "calendars", request_body = CalendarIn,
    responses((status = 201, body = CalendarOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiJson(body): ApiJson<CalendarIn>,
) -> ApiResult<(StatusCode, Json<CalendarOut>)> {
    let calendar = CalendarDraft::from(body).validate()?;
    let saved = state
        .store
        .create_calendar(who.tenant_id(), &calendar, &who.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/calendars/{id}", tag = "calendars", params(("id" = i64, Path)),
    responses((status = 200, body = CalendarOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_one(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CalendarOut>> {
    Ok(Json(
        state.store.calendar(who.tenant_id(), id).await?.into(),
    ))
}

#[utoipa::path(put, path = "/calendars/{id}", tag = "calendars", params(("id" = i64, Path)), request_body = CalendarIn,
    responses((status = 200, body = CalendarOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn replace(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CalendarIn>,
) -> ApiResult<Json<CalendarOut>> {
    let current = state.store.calendar(who.tenant_id(), id).await?;
    let calendar = CalendarDraft::from(body).validate()?;
    let saved = state
        .store
        .update_calendar(
            who.tenant_id(),
            id,
            current.updated_at,
            &calendar,
            &who.actor(),
        )
        .await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(delete, path = "/calendars/{id}", tag = "calendars", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_calendar(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddIn {
    /// RFC 3339, such as `2026-12-24T16:00:00Z`.
    pub start: String,
    /// Working minutes to add, 0 to 5 270 400 (ten years).
    pub minutes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddOut {
    /// RFC 3339 in UTC: the instant the working time has elapsed. It is inside working time,
    /// or at the very end of a working interval (Friday 09:00 + 480 minutes on a 09:00–17:00
    /// calendar is Friday 17:00); zero minutes answer `start` itself.
    pub end: String,
}

#[utoipa::path(post, path = "/calendars/{id}/add", tag = "calendars", params(("id" = i64, Path)), request_body = AddIn,
    responses((status = 200, body = AddOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn add(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AddIn>,
) -> ApiResult<Json<AddOut>> {
    let (_, calendar) = load(&state, &who, id).await?;
    let start = instant("start", &body.start)?;
    let end = due(&calendar, start, body.minutes)?;
    Ok(Json(AddOut {
        end: end.to_string(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BetweenIn {
    /// RFC 3339.
    pub start: String,
    /// RFC 3339, not before `start` and at most ten years after it.
    pub end: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BetweenOut {
    /// Working time in `[start, end)`, in whole minutes (rounded down).
    pub minutes: i64,
    /// The same in whole seconds (rounded down).
    pub seconds: i64,
}

#[utoipa::path(post, path = "/calendars/{id}/between", tag = "calendars", params(("id" = i64, Path)), request_body = BetweenIn,
    responses((status = 200, body = BetweenOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn between(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<BetweenIn>,
) -> ApiResult<Json<BetweenOut>> {
    let (_, calendar) = load(&state, &who, id).await?;
    let mut errors = Invalid::new();
    let start = instant("start", &body.start)
        .map_err(|e| errors.errors.extend(e.errors))
        .ok();
    let end = instant("end", &body.end)
        .map_err(|e| errors.errors.extend(e.errors))
        .ok();
    let (Some(start), Some(end)) = (start, end) else {
        return Err(errors.into());
    };
    let working = elapsed(&calendar, start, end)?;
    Ok(Json(BetweenOut {
        minutes: working.as_secs() / 60,
        seconds: working.as_secs(),
    }))
}

#[utoipa::path(post, path = "/calendars/{id}/holidays/ics", tag = "calendars", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/calendar",
        description = "An iCalendar file (RFC 5545) such as a government bank-holiday feed, sent as the body itself \
                       with `Content-Type: text/calendar` (`text/plain` is accepted too). Each event becomes a holiday \
                       per date it covers, `RRULE:FREQ=YEARLY` a yearly one. The holidays are merged into the \
                       calendar: dates it already has are kept once. A file that does not parse is a 422 whose \
                       errors (field `ics`) give the line numbers, and nothing changes."),
    responses((status = 200, body = ImportOut), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem)))]
pub async fn holidays_ics(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportOut>> {
    let bytes = super::file_body(
        &headers,
        body,
        &["text/calendar", "text/plain"],
        "Send the iCalendar file itself as the body with `Content-Type: text/calendar`.",
        state.config.max_body_bytes,
    )
    .await?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Invalid::one("ics", "The file is not UTF-8 text"))?;
    Ok(Json(import_ics(&state, &who, id, text).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holiday(date: &str, yearly: bool) -> Holiday {
        Holiday {
            date: date.into(),
            name: date.into(),
            yearly,
        }
    }

    #[test]
    fn merging_keeps_each_date_once() {
        let existing = [holiday("2026-12-25", false), holiday("2020-01-01", true)];
        let (merged, added) = merge_holidays(
            &existing,
            vec![
                holiday("2026-12-25", false),
                holiday("2026-12-26", false),
                holiday("2026-12-26", false),
                holiday("2027-01-01", false),
                holiday("2026-12-25", true),
            ],
        );
        let dates: Vec<(&str, bool)> = merged.iter().map(|h| (h.date.as_str(), h.yearly)).collect();
        assert_eq!(
            dates,
            [
                ("2026-12-25", false),
                ("2020-01-01", true),
                ("2026-12-26", false),
                ("2026-12-25", true),
            ]
        );
        assert_eq!(added, 2);
    }
}
