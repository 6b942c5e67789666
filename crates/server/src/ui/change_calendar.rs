//! The forward schedule of change as a calendar (`/changes/calendar?view=month|week&date=…`):
//! scheduled and implementing changes on the days their windows cover, blackout windows
//! shaded and named, and changes that collide with another marked by colour, an icon and
//! words. Days are UTC days, as the rest of the console shows times in UTC.

use super::changes::{NAV_HREF, status_label};
use super::{Chrome, UiError, UiResult};
use crate::AppState;
use crate::auth::{Can, perm};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use steward_domain::change::Window;
use steward_domain::change::schedule::Conflict;

const DAY: i64 = 86_400_000_000;

/// A change on a day.
pub struct Item {
    pub key: String,
    pub title: String,
    /// `22:00–02:00`, the window's hours (UTC).
    pub hours: String,
    pub status: &'static str,
    pub status_code: &'static str,
    /// The changes it collides with, by key.
    pub collides_with: Vec<String>,
}

pub struct Day {
    pub date: String,
    /// The day of the month.
    pub label: String,
    pub in_range: bool,
    pub today: bool,
    /// Names of the blackouts covering part of the day.
    pub blackouts: Vec<String>,
    pub items: Vec<Item>,
}

#[derive(Template, WebTemplate)]
#[template(path = "change_calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    heading: String,
    view: &'static str,
    weekdays: &'static [&'static str],
    weeks: Vec<Vec<Day>>,
    prev: String,
    next: String,
    today: String,
    other_view: String,
    error: Option<String>,
    ics: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CalendarQuery {
    view: String,
    date: String,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn start_of(date: Date) -> Result<i64, UiError> {
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_microsecond())
        .map_err(|_| UiError::NotFound)
}

/// The Monday on or before `date`.
fn monday(date: Date) -> Result<Date, UiError> {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(back.days()).map_err(|_| UiError::NotFound)
}

fn hm(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%H:%M").to_string())
        .unwrap_or_default()
}

fn link(view: &str, date: Date) -> String {
    format!("/changes/calendar?view={view}&date={date}")
}

pub async fn page(
    State(state): State<AppState>,
    who: Can<perm::ChangesRead>,
    Query(q): Query<CalendarQuery>,
) -> UiResult {
    let t = who.tenant_id();
    let today = jiff::Timestamp::now().to_zoned(TimeZone::UTC).date();
    let (date, error) = match q.date.trim() {
        "" => (today, None),
        text => match text.parse::<Date>() {
            Ok(d) => (d, None),
            Err(_) => (
                today,
                Some(format!(
                    "“{text}” is not a date such as 2031-03-01; showing today"
                )),
            ),
        },
    };
    let week = q.view == "week";
    let view = if week { "week" } else { "month" };
    let bad = |_| UiError::NotFound;
    let (first, last, prev, next, heading) = if week {
        let first = monday(date)?;
        let last = first.checked_add(6.days()).map_err(bad)?;
        (
            first,
            last,
            first.checked_sub(7.days()).map_err(bad)?,
            first.checked_add(7.days()).map_err(bad)?,
            format!("Week of {}", first.strftime("%-d %B %Y")),
        )
    } else {
        let month = date.first_of_month();
        let first = monday(month)?;
        let last = monday(date.last_of_month())?
            .checked_add(6.days())
            .map_err(bad)?;
        (
            first,
            last,
            month.checked_sub(1.month()).map_err(bad)?,
            month.checked_add(1.month()).map_err(bad)?,
            month.strftime("%B %Y").to_string(),
        )
    };
    let (in_first, in_last) = if week {
        (first, last)
    } else {
        (date.first_of_month(), date.last_of_month())
    };
    let window = Window {
        start: start_of(first)?,
        end: start_of(last)? + DAY,
    };
    let entries = state.store.change_schedule(t, &window).await?;
    let blackouts = state.store.blackouts(t, Some(&window)).await?;
    let mut collisions = Vec::with_capacity(entries.len());
    for e in &entries {
        let found = state.store.change_conflicts(t, e.id).await?;
        let mut keys: Vec<String> = found
            .into_iter()
            .filter(|k| !matches!(k.conflict, Conflict::Blackout { .. }))
            .filter_map(|k| k.other.map(|o| steward_domain::change::key(o.number)))
            .collect();
        keys.sort();
        keys.dedup();
        collisions.push(keys);
    }
    let mut weeks = Vec::new();
    let mut day = first;
    while day <= last {
        let mut row = Vec::with_capacity(7);
        for _ in WEEKDAYS {
            let start = start_of(day)?;
            let span = Window {
                start,
                end: start + DAY,
            };
            row.push(Day {
                date: day.to_string(),
                label: day.day().to_string(),
                in_range: day >= in_first && day <= in_last,
                today: day == today,
                blackouts: blackouts
                    .iter()
                    .filter(|b| b.window.overlaps(&span))
                    .map(|b| b.name.clone())
                    .collect(),
                items: entries
                    .iter()
                    .zip(&collisions)
                    .filter(|(e, _)| e.window.overlaps(&span))
                    .map(|(e, with)| Item {
                        key: steward_domain::change::key(e.number),
                        title: e.title.clone(),
                        hours: format!("{}–{}", hm(e.window.start), hm(e.window.end)),
                        status: status_label(e.status),
                        status_code: e.status.as_str(),
                        collides_with: with.clone(),
                    })
                    .collect(),
            });
            day = day.checked_add(1.days()).map_err(bad)?;
        }
        weeks.push(row);
    }
    let page = CalendarPage {
        chrome: Chrome::new(&state, &who, NAV_HREF).await,
        heading,
        view,
        weekdays: &WEEKDAYS,
        weeks,
        prev: link(view, prev),
        next: link(view, next),
        today: link(view, today),
        other_view: link(if week { "month" } else { "week" }, date),
        error,
        ics: "/api/v1/changes.ics?token=YOUR-API-TOKEN".to_owned(),
    };
    Ok(page.into_response())
}
