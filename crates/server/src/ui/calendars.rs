//! Calendar pages: the list; a calendar's page with its working week, upcoming holidays and
//! exceptions, a "try it" form and the holiday import; and the form that creates and edits one.
//!
//! The form's rows are named after the paths the domain reports errors under
//! (`hours[2].start`), so every error lands next to its input. Blank rows and rows marked for
//! removal are dropped before validation, and the form is shown again with the rows renumbered
//! the same way, so the indices always agree. "Add a row" submits the form to show it again
//! with one more blank row; nothing is saved until the main button is pressed.

use super::{Chrome, FormState, HistoryRow, Opt, UiError, UiResult, history, next_link, when};
use crate::AppState;
use crate::api::calendars::{due, import_ics, load};
use crate::auth::{Can, Principal, perm};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::multipart::Multipart;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use std::collections::BTreeMap;
use steward_domain::Invalid;
use steward_domain::access::Permission;
use steward_domain::calendar::{
    Calendar, CalendarDraft, Exception, Holiday, Weekday, WorkingHours,
};
use steward_store::calendar::{CalendarFilter, StoredCalendar};
use steward_store::{PageRequest, StoreError};

/// Zones offered while typing; any IANA name is accepted.
const COMMON_ZONES: [&str; 40] = [
    "UTC",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/St_Johns",
    "America/Halifax",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Sao_Paulo",
];

const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A Monday at 00:00 UTC (1 January 2001): the week the working-week view is measured on.
const REFERENCE_MONDAY: i64 = 978_307_200;

// ---------- List ----------

pub struct Row {
    pub id: i64,
    pub name: String,
    pub timezone: String,
    pub weekly: String,
    pub holidays: usize,
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendars_list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    q: String,
    next: Option<String>,
    can_write: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    q: String,
    cursor: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    Query(q): Query<ListQuery>,
) -> UiResult {
    let filter = CalendarFilter {
        q: Some(q.q.clone()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(50),
        cursor: q.cursor,
    };
    let found = match state.store.calendars(who.tenant_id(), &filter, &page).await {
        Err(StoreError::Invalid(_)) => return Ok(Redirect::to("/calendars").into_response()),
        other => other?,
    };
    let rows = found
        .items
        .into_iter()
        .map(|c| Row {
            weekly: hours_text(week_of(&c.hours).total),
            holidays: c.holidays.len(),
            updated: when(c.updated_at),
            id: c.id,
            name: c.name,
            timezone: c.timezone,
        })
        .collect();
    let chrome = Chrome::new(&state, &who, "/calendars")
        .await
        .with_notice(q.done.as_deref());
    let next = next_link("/calendars", &[("q", &q.q)], found.next_cursor);
    Ok(ListPage {
        chrome,
        rows,
        q: q.q,
        next,
        can_write: who.can(Permission::ServicesWrite),
    }
    .into_response())
}

// ---------- The working week ----------

/// One hour of one weekday in the week view.
pub struct WeekCell {
    /// `work` (the whole hour), `part` (some of it) or empty.
    pub class: &'static str,
    pub title: String,
}

/// One hour of the day across the seven weekdays.
pub struct WeekRow {
    pub label: String,
    pub cells: Vec<WeekCell>,
}

pub struct Week {
    pub rows: Vec<WeekRow>,
    pub total: SignedDuration,
}

/// The working time of an ordinary week (no holidays or exceptions), hour by hour, measured by
/// the domain itself on a week without clock changes, so night shifts spill into the next day
/// exactly as they count.
fn week_of(hours: &[WorkingHours]) -> Week {
    let pattern = CalendarDraft {
        name: "week".into(),
        timezone: "UTC".into(),
        hours: hours.to_vec(),
        holidays: Vec::new(),
        exceptions: Vec::new(),
    }
    .validate()
    .ok();
    let mut total = SignedDuration::ZERO;
    let rows = (0..24i64)
        .map(|hour| WeekRow {
            label: format!("{hour:02}:00"),
            cells: (0..7i64)
                .map(|day| {
                    let from = Timestamp::from_second(REFERENCE_MONDAY + (day * 24 + hour) * 3600)
                        .unwrap_or(Timestamp::UNIX_EPOCH);
                    let to = from + SignedDuration::from_hours(1);
                    let working = pattern
                        .as_ref()
                        .map_or(SignedDuration::ZERO, |c| c.between(from, to));
                    total += working;
                    let span = format!(
                        "{} {hour:02}:00–{:02}:00",
                        DAY_NAMES[day as usize],
                        hour + 1
                    );
                    let (class, what) = if working == SignedDuration::from_hours(1) {
                        ("work", "working".to_owned())
                    } else if working.is_zero() {
                        ("", "closed".to_owned())
                    } else {
                        (
                            "part",
                            format!("{} of 60 minutes working", (working.as_secs() + 59) / 60),
                        )
                    };
                    WeekCell {
                        class,
                        title: format!("{span}: {what}"),
                    }
                })
                .collect(),
        })
        .collect();
    Week { rows, total }
}

/// `40 h` or `37 h 30 min`.
fn hours_text(d: SignedDuration) -> String {
    let minutes = d.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// A holiday on the calendar page.
pub struct HolidayLine {
    pub date: String,
    pub name: String,
    pub yearly: bool,
}

/// The next `n` holidays from `today` (yearly ones on their next occurrence).
fn upcoming_holidays(holidays: &[Holiday], today: Date, n: usize) -> Vec<HolidayLine> {
    let mut next: Vec<(Date, &Holiday)> = holidays
        .iter()
        .filter_map(|h| {
            let date: Date = h.date.parse().ok()?;
            let on = if h.yearly {
                (today.year()..today.year().saturating_add(9))
                    .filter_map(|y| Date::new(y, date.month(), date.day()).ok())
                    .find(|d| *d >= today)?
            } else {
                date
            };
            (on >= today).then_some((on, h))
        })
        .collect();
    next.sort_by_key(|(d, _)| *d);
    next.dedup_by_key(|(d, _)| *d);
    next.into_iter()
        .take(n)
        .map(|(d, h)| HolidayLine {
            date: d.strftime("%a %-d %b %Y").to_string(),
            name: h.name.clone(),
            yearly: h.yearly,
        })
        .collect()
}

/// An exception on the calendar page.
pub struct ExceptionLine {
    pub date: String,
    pub span: String,
    pub working: bool,
}

fn upcoming_exceptions(exceptions: &[Exception], today: Date, n: usize) -> Vec<ExceptionLine> {
    let mut next: Vec<(Date, &Exception)> = exceptions
        .iter()
        .filter_map(|e| Some((e.date.parse::<Date>().ok()?, e)))
        .filter(|(d, _)| *d >= today)
        .collect();
    next.sort_by_key(|(d, e)| (*d, e.start.clone()));
    next.into_iter()
        .take(n)
        .map(|(d, e)| ExceptionLine {
            date: d.strftime("%a %-d %b %Y").to_string(),
            span: format!("{}–{}", e.start, e.end),
            working: e.working,
        })
        .collect()
}

// ---------- The calendar's page ----------

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ViewQuery {
    done: Option<String>,
    /// "Try it": a start (in the calendar's zone, or RFC 3339) ...
    start: Option<String>,
    /// ... and working minutes to add.
    minutes: Option<String>,
}

/// The "try it" form and its answer.
pub struct TryIt {
    pub form: FormState,
    pub due_local: Option<String>,
    pub due_utc: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar_view.html")]
struct ViewPage {
    chrome: Chrome,
    calendar: StoredCalendar,
    week: Week,
    day_names: &'static [&'static str],
    weekly: String,
    weekly_hours: Vec<String>,
    holidays: Vec<HolidayLine>,
    exceptions: Vec<ExceptionLine>,
    today: String,
    try_it: TryIt,
    import_form: FormState,
    import_action: String,
    created: String,
    updated: String,
    can_write: bool,
    history: Option<Vec<HistoryRow>>,
}

/// A start as typed: a wall-clock time in the calendar's zone (what `datetime-local` sends),
/// or an RFC 3339 instant.
fn typed_start(tz: &TimeZone, text: &str) -> Result<Timestamp, Invalid> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    text.parse::<DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(tz.clone()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| Invalid::one("start", "Use a date and time such as 2026-12-24 16:00"))
}

fn try_it(calendar: &Calendar, start: Option<&str>, minutes: Option<&str>) -> TryIt {
    let tz = calendar.time_zone();
    let now = Timestamp::now().to_zoned(tz.clone());
    let start_text =
        start.map_or_else(|| now.strftime("%Y-%m-%dT%H:%M").to_string(), str::to_owned);
    let minutes_text = minutes.unwrap_or("240").to_owned();
    let mut form = FormState::with(&[("start", &start_text), ("minutes", &minutes_text)]);
    let mut answer = TryIt {
        form: FormState::default(),
        due_local: None,
        due_utc: None,
    };
    if start.is_some() || minutes.is_some() {
        let mut errors = Invalid::new();
        let at = typed_start(tz, &start_text)
            .map_err(|e| errors.errors.extend(e.errors))
            .ok();
        let mins = minutes_text
            .trim()
            .parse::<i64>()
            .map_err(|_| errors.add("minutes", "Minutes must be a whole number"))
            .ok();
        if let (Some(at), Some(mins)) = (at, mins) {
            match due(calendar, at, mins) {
                Ok(end) => {
                    answer.due_local = Some(
                        end.to_zoned(tz.clone())
                            .strftime("%a %-d %b %Y %H:%M %Z")
                            .to_string(),
                    );
                    answer.due_utc = Some(end.to_string());
                }
                Err(e) => errors.errors.extend(e.errors),
            }
        }
        form = form.rejected(errors);
    }
    answer.form = form;
    answer
}

/// The import form's action: a multipart body is not read for the CSRF check, so the token
/// travels in the query (see `auth::csrf_ok`).
fn import_action(id: i64, csrf: &str) -> String {
    format!(
        "/calendars/{id}/holidays?{}",
        serde_urlencoded::to_string([("_csrf", csrf)]).unwrap_or_default()
    )
}

async fn render_view(
    state: &AppState,
    who: &Principal,
    id: i64,
    q: ViewQuery,
    import_form: FormState,
    status: StatusCode,
) -> UiResult {
    let (stored, calendar) = load(state, who, id).await?;
    let today = Timestamp::now()
        .to_zoned(calendar.time_zone().clone())
        .date();
    let week = week_of(&stored.hours);
    let chrome = Chrome::new(state, who, "/calendars")
        .await
        .with_notice(q.done.as_deref());
    let page = ViewPage {
        weekly: hours_text(week.total),
        week,
        day_names: &DAY_NAMES,
        weekly_hours: stored
            .hours
            .iter()
            .map(|h| format!("{} {}–{}", DAY_NAMES[h.weekday.index()], h.start, h.end))
            .collect(),
        holidays: upcoming_holidays(&stored.holidays, today, 10),
        exceptions: upcoming_exceptions(&stored.exceptions, today, 10),
        today: today.strftime("%a %-d %b %Y").to_string(),
        try_it: try_it(&calendar, q.start.as_deref(), q.minutes.as_deref()),
        import_form,
        import_action: import_action(id, &chrome.csrf),
        created: when(stored.created_at),
        updated: when(stored.updated_at),
        can_write: who.can(Permission::ServicesWrite),
        history: history(state, who, "calendar", id).await,
        calendar: stored,
        chrome,
    };
    Ok((status, page).into_response())
}

pub async fn view(
    State(state): State<AppState>,
    who: Can<perm::RecordsRead>,
    super::Id(id): super::Id<i64>,
    Query(q): Query<ViewQuery>,
) -> UiResult {
    render_view(&state, &who, id, q, FormState::default(), StatusCode::OK).await
}

// ---------- Importing holidays ----------

/// The uploaded file, or else the pasted text, of the import form.
async fn read_ics(multipart: &mut Multipart) -> Result<String, ApiError> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(e.status(), "too-large", "The file is too large.")
        } else {
            ApiError::bad_request(format!("The form could not be read: {}", e.body_text()))
        }
    };
    let (mut file, mut pasted) = (Vec::new(), String::new());
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        match field.name() {
            Some("file") => file = field.bytes().await.map_err(broken)?.to_vec(),
            Some("ics") => pasted = field.text().await.map_err(broken)?,
            _ => {}
        }
    }
    if !file.is_empty() {
        return String::from_utf8(file)
            .map_err(|_| Invalid::one("ics", "The file is not UTF-8 text").into());
    }
    if pasted.trim().is_empty() {
        return Err(Invalid::one("ics", "Choose an .ics file or paste its text").into());
    }
    Ok(pasted)
}

pub async fn import(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    super::Id(id): super::Id<i64>,
    mut multipart: Multipart,
) -> UiResult {
    let imported = match read_ics(&mut multipart).await {
        Ok(text) => import_ics(&state, &who, id, &text).await,
        Err(e) => Err(e),
    };
    match imported {
        Ok(_) => Ok(Redirect::to(&format!("/calendars/{id}?done=imported")).into_response()),
        Err(e) => match e.refusal("ics") {
            Some(invalid) => {
                let status = e.status();
                let form = FormState::default().rejected(invalid);
                render_view(&state, &who, id, ViewQuery::default(), form, status).await
            }
            None if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                let form = FormState::default().rejected(Invalid::one("ics", e.detail()));
                render_view(&state, &who, id, ViewQuery::default(), form, e.status()).await
            }
            None => Err(UiError::from(e)),
        },
    }
}

// ---------- The form ----------

#[derive(Debug, Default, Clone)]
struct HourInput {
    weekday: String,
    start: String,
    end: String,
    remove: bool,
}

#[derive(Debug, Default, Clone)]
struct HolidayInput {
    date: String,
    name: String,
    yearly: bool,
    remove: bool,
}

#[derive(Debug, Default, Clone)]
struct ExceptionInput {
    date: String,
    start: String,
    end: String,
    working: String,
    remove: bool,
}

/// What the calendar form holds.
#[derive(Debug, Default)]
struct CalendarForm {
    name: String,
    timezone: String,
    /// `updated_at` of the calendar as the form was shown, for optimistic concurrency.
    version: String,
    hours: Vec<HourInput>,
    holidays: Vec<HolidayInput>,
    exceptions: Vec<ExceptionInput>,
    /// Which section's "Add a row" was pressed, if one was.
    add: Option<String>,
}

/// `hours[3].start` as (`hours`, 3, `start`).
fn row_key(key: &str) -> Option<(&str, usize, &str)> {
    let (section, rest) = key.split_once('[')?;
    let (index, field) = rest.split_once("].")?;
    let index = index.parse::<usize>().ok().filter(|i| *i < 10_000)?;
    Some((section, index, field))
}

impl CalendarForm {
    fn parse(fields: Vec<(String, String)>) -> CalendarForm {
        let mut form = CalendarForm::default();
        let mut hours: BTreeMap<usize, HourInput> = BTreeMap::new();
        let mut holidays: BTreeMap<usize, HolidayInput> = BTreeMap::new();
        let mut exceptions: BTreeMap<usize, ExceptionInput> = BTreeMap::new();
        for (key, value) in fields {
            match key.as_str() {
                "name" => form.name = value,
                "timezone" => form.timezone = value,
                "version" => form.version = value,
                "_add" => form.add = Some(value),
                _ => match row_key(&key) {
                    Some(("hours", i, field)) => {
                        let row = hours.entry(i).or_default();
                        match field {
                            "weekday" => row.weekday = value,
                            "start" => row.start = value,
                            "end" => row.end = value,
                            "remove" => row.remove = true,
                            _ => {}
                        }
                    }
                    Some(("holidays", i, field)) => {
                        let row = holidays.entry(i).or_default();
                        match field {
                            "date" => row.date = value,
                            "name" => row.name = value,
                            "yearly" => row.yearly = true,
                            "remove" => row.remove = true,
                            _ => {}
                        }
                    }
                    Some(("exceptions", i, field)) => {
                        let row = exceptions.entry(i).or_default();
                        match field {
                            "date" => row.date = value,
                            "start" => row.start = value,
                            "end" => row.end = value,
                            "working" => row.working = value,
                            "remove" => row.remove = true,
                            _ => {}
                        }
                    }
                    _ => {}
                },
            }
        }
        // Blank rows and rows marked for removal go; the rest are renumbered in order, as the
        // domain will number them.
        let blank = |texts: &[&str]| texts.iter().all(|t| t.trim().is_empty());
        form.hours = hours
            .into_values()
            .filter(|r| !(r.remove || blank(&[&r.start, &r.end])))
            .collect();
        form.holidays = holidays
            .into_values()
            .filter(|r| !(r.remove || blank(&[&r.date, &r.name])))
            .collect();
        form.exceptions = exceptions
            .into_values()
            .filter(|r| !(r.remove || blank(&[&r.date, &r.start, &r.end])))
            .collect();
        form
    }

    fn of(c: &StoredCalendar) -> CalendarForm {
        CalendarForm {
            name: c.name.clone(),
            timezone: c.timezone.clone(),
            version: c.updated_at.to_string(),
            hours: c
                .hours
                .iter()
                .map(|h| HourInput {
                    weekday: h.weekday.as_str().to_owned(),
                    start: h.start.clone(),
                    end: h.end.clone(),
                    remove: false,
                })
                .collect(),
            holidays: c
                .holidays
                .iter()
                .map(|h| HolidayInput {
                    date: h.date.clone(),
                    name: h.name.clone(),
                    yearly: h.yearly,
                    remove: false,
                })
                .collect(),
            exceptions: c
                .exceptions
                .iter()
                .map(|e| ExceptionInput {
                    date: e.date.clone(),
                    start: e.start.clone(),
                    end: e.end.clone(),
                    working: e.working.to_string(),
                    remove: false,
                })
                .collect(),
            add: None,
        }
    }

    /// A new calendar starts as Monday to Friday, 09:00 to 17:00.
    fn blank() -> CalendarForm {
        CalendarForm {
            hours: Weekday::ALL[..5]
                .iter()
                .map(|d| HourInput {
                    weekday: d.as_str().to_owned(),
                    start: "09:00".into(),
                    end: "17:00".into(),
                    remove: false,
                })
                .collect(),
            ..CalendarForm::default()
        }
    }

    fn calendar(&self) -> Result<Calendar, Invalid> {
        let mut errors = Invalid::new();
        let hours = self
            .hours
            .iter()
            .enumerate()
            .map(|(i, h)| WorkingHours {
                weekday: Weekday::parse(h.weekday.trim()).unwrap_or_else(|| {
                    errors.add(&format!("hours[{i}].weekday"), "Choose a day of the week");
                    Weekday::Mon
                }),
                start: h.start.clone(),
                end: h.end.clone(),
            })
            .collect();
        let exceptions = self
            .exceptions
            .iter()
            .enumerate()
            .map(|(i, e)| Exception {
                date: e.date.clone(),
                start: e.start.clone(),
                end: e.end.clone(),
                working: match e.working.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        errors.add(
                            &format!("exceptions[{i}].working"),
                            "Choose working or closed",
                        );
                        false
                    }
                },
            })
            .collect();
        let draft = CalendarDraft {
            name: self.name.clone(),
            timezone: self.timezone.clone(),
            hours,
            holidays: self
                .holidays
                .iter()
                .map(|h| Holiday {
                    date: h.date.clone(),
                    name: h.name.clone(),
                    yearly: h.yearly,
                })
                .collect(),
            exceptions,
        };
        match draft.validate() {
            Ok(calendar) if errors.errors.is_empty() => Ok(calendar),
            Ok(_) => Err(errors),
            Err(mut more) => {
                more.errors.extend(errors.errors);
                Err(more)
            }
        }
    }

    fn state(&self) -> FormState {
        FormState::with(&[("name", &self.name), ("timezone", &self.timezone)])
    }
}

/// One working-hours row of the form.
pub struct HourRow {
    pub i: usize,
    pub days: Vec<Opt>,
    pub start: String,
    pub end: String,
    pub day_error: Option<String>,
    pub start_error: Option<String>,
    pub end_error: Option<String>,
}

pub struct HolidayRow {
    pub i: usize,
    pub date: String,
    pub name: String,
    pub yearly: bool,
    pub date_error: Option<String>,
    pub name_error: Option<String>,
}

pub struct ExceptionRow {
    pub i: usize,
    pub date: String,
    pub start: String,
    pub end: String,
    pub working: bool,
    pub date_error: Option<String>,
    pub start_error: Option<String>,
    pub end_error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
    form: FormState,
    version: String,
    zones: &'static [&'static str],
    hours: Vec<HourRow>,
    holidays: Vec<HolidayRow>,
    exceptions: Vec<ExceptionRow>,
}

struct FormTarget {
    heading: String,
    action: String,
    submit: &'static str,
    cancel: String,
}

fn new_target() -> FormTarget {
    FormTarget {
        heading: "New calendar".into(),
        action: "/calendars".into(),
        submit: "Create calendar",
        cancel: "/calendars".into(),
    }
}

fn edit_target(c: &StoredCalendar) -> FormTarget {
    FormTarget {
        heading: format!("Edit {}", c.name),
        action: format!("/calendars/{}", c.id),
        submit: "Save",
        cancel: format!("/calendars/{}", c.id),
    }
}

async fn render_form(
    state: &AppState,
    who: &Principal,
    target: FormTarget,
    form: &CalendarForm,
    invalid: Option<Invalid>,
    status: StatusCode,
) -> UiResult {
    let mut shown = form.state();
    if let Some(invalid) = invalid {
        shown = shown.rejected(invalid);
    }
    let error = |path: String| shown.error(&path).map(str::to_owned);
    // Each section ends with a blank row (two when "Add a row" was pressed for it).
    let extra = |section: &str| 1 + usize::from(form.add.as_deref() == Some(section));
    let mut hours: Vec<HourInput> = form.hours.clone();
    hours.extend((0..extra("hours")).map(|_| HourInput::default()));
    let mut holidays: Vec<HolidayInput> = form.holidays.clone();
    holidays.extend((0..extra("holidays")).map(|_| HolidayInput::default()));
    let mut exceptions: Vec<ExceptionInput> = form.exceptions.clone();
    exceptions.extend((0..extra("exceptions")).map(|_| ExceptionInput {
        working: "false".into(),
        ..ExceptionInput::default()
    }));
    let hours = hours
        .into_iter()
        .enumerate()
        .map(|(i, h)| HourRow {
            i,
            days: super::options(
                Weekday::ALL
                    .iter()
                    .map(|d| (d.as_str().to_owned(), DAY_NAMES[d.index()].to_owned())),
                &h.weekday,
            ),
            day_error: error(format!("hours[{i}].weekday")),
            start_error: error(format!("hours[{i}].start")),
            end_error: error(format!("hours[{i}].end")),
            start: h.start,
            end: h.end,
        })
        .collect();
    let holidays = holidays
        .into_iter()
        .enumerate()
        .map(|(i, h)| HolidayRow {
            i,
            date_error: error(format!("holidays[{i}].date")),
            name_error: error(format!("holidays[{i}].name")),
            date: h.date,
            name: h.name,
            yearly: h.yearly,
        })
        .collect();
    let exceptions = exceptions
        .into_iter()
        .enumerate()
        .map(|(i, e)| ExceptionRow {
            i,
            date_error: error(format!("exceptions[{i}].date")),
            start_error: error(format!("exceptions[{i}].start")),
            end_error: error(format!("exceptions[{i}].end"))
                .or_else(|| error(format!("exceptions[{i}].working"))),
            working: e.working == "true",
            date: e.date,
            start: e.start,
            end: e.end,
        })
        .collect();
    let page = FormPage {
        chrome: Chrome::new(state, who, "/calendars").await,
        heading: target.heading,
        action: target.action,
        submit: target.submit,
        cancel: target.cancel,
        version: form.version.clone(),
        zones: &COMMON_ZONES,
        hours,
        holidays,
        exceptions,
        form: shown,
    };
    Ok((status, page).into_response())
}

pub async fn new_form(State(state): State<AppState>, who: Can<perm::ServicesWrite>) -> UiResult {
    render_form(
        &state,
        &who,
        new_target(),
        &CalendarForm::blank(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A store refusal a form shows: field errors, and a conflict as an error of the whole form.
fn refused(e: StoreError) -> Result<Invalid, UiError> {
    match e {
        StoreError::Invalid(invalid) => Ok(invalid),
        StoreError::Conflict(message) => Ok(Invalid::one("version", message)),
        other => Err(other.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    let form = CalendarForm::parse(fields);
    if form.add.is_some() {
        return render_form(&state, &who, new_target(), &form, None, StatusCode::OK).await;
    }
    let invalid = match form.calendar() {
        Ok(calendar) => match state
            .store
            .create_calendar(who.tenant_id(), &calendar, &who.actor())
            .await
        {
            Ok(saved) => {
                return Ok(
                    Redirect::to(&format!("/calendars/{}?done=created", saved.id)).into_response(),
                );
            }
            Err(e) => refused(e)?,
        },
        Err(invalid) => invalid,
    };
    render_form(
        &state,
        &who,
        new_target(),
        &form,
        Some(invalid),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn edit_form(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    super::Id(id): super::Id<i64>,
) -> UiResult {
    let current = state.store.calendar(who.tenant_id(), id).await?;
    render_form(
        &state,
        &who,
        edit_target(&current),
        &CalendarForm::of(&current),
        None,
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    super::Id(id): super::Id<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> UiResult {
    let current = state.store.calendar(who.tenant_id(), id).await?;
    let form = CalendarForm::parse(fields);
    if form.add.is_some() {
        return render_form(
            &state,
            &who,
            edit_target(&current),
            &form,
            None,
            StatusCode::OK,
        )
        .await;
    }
    let seen = form.version.trim().parse().unwrap_or(current.updated_at);
    let (invalid, status) = match form.calendar() {
        Ok(calendar) => match state
            .store
            .update_calendar(who.tenant_id(), id, seen, &calendar, &who.actor())
            .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/calendars/{id}?done=saved")).into_response());
            }
            Err(StoreError::Conflict(message)) => {
                (Invalid::one("version", message), StatusCode::CONFLICT)
            }
            Err(e) => (refused(e)?, StatusCode::UNPROCESSABLE_ENTITY),
        },
        Err(invalid) => (invalid, StatusCode::UNPROCESSABLE_ENTITY),
    };
    render_form(
        &state,
        &who,
        edit_target(&current),
        &form,
        Some(invalid),
        status,
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    who: Can<perm::ServicesWrite>,
    super::Id(id): super::Id<i64>,
) -> UiResult {
    state
        .store
        .delete_calendar(who.tenant_id(), id, &who.actor())
        .await?;
    Ok(Redirect::to("/calendars?done=deleted").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nine_to_five(days: &[Weekday]) -> Vec<WorkingHours> {
        days.iter()
            .map(|&weekday| WorkingHours {
                weekday,
                start: "09:00".into(),
                end: "17:00".into(),
            })
            .collect()
    }

    #[test]
    fn the_week_view_shades_working_hours_and_spills_night_shifts() {
        let mut hours = nine_to_five(&Weekday::ALL[..5]);
        hours.push(WorkingHours {
            weekday: Weekday::Sun,
            start: "22:30".into(),
            end: "02:00".into(),
        });
        let week = week_of(&hours);
        assert_eq!(week.rows.len(), 24);
        assert!(week.rows.iter().all(|r| r.cells.len() == 7));
        assert_eq!(week.rows[9].cells[0].class, "work");
        assert_eq!(week.rows[16].cells[4].class, "work");
        assert_eq!(week.rows[17].cells[4].class, "");
        assert_eq!(week.rows[9].cells[5].class, "", "Saturday is closed");
        assert_eq!(week.rows[22].cells[6].class, "part", "Sunday 22:30");
        assert_eq!(week.rows[23].cells[6].class, "work");
        assert_eq!(
            (week.rows[0].cells[0].class, week.rows[1].cells[0].class),
            ("work", "work"),
            "Sunday's shift runs into Monday"
        );
        assert_eq!(week.rows[2].cells[0].class, "");
        assert_eq!(hours_text(week.total), "43 h 30 min");
        assert!(week.rows[22].cells[6].title.contains("30 of 60 minutes"));
    }

    #[test]
    fn upcoming_holidays_put_yearly_ones_on_their_next_date() {
        let holiday = |date: &str, yearly| Holiday {
            date: date.into(),
            name: date.into(),
            yearly,
        };
        let today: Date = "2026-12-20".parse().expect("date");
        let lines = upcoming_holidays(
            &[
                holiday("2026-12-25", false),
                holiday("2020-01-01", true),
                holiday("2026-01-01", false),
                holiday("2024-02-29", true),
            ],
            today,
            10,
        );
        let dates: Vec<&str> = lines.iter().map(|l| l.date.as_str()).collect();
        assert_eq!(
            dates,
            ["Fri 25 Dec 2026", "Fri 1 Jan 2027", "Tue 29 Feb 2028"]
        );
    }

    #[test]
    fn form_rows_are_renumbered_without_blank_or_removed_rows() {
        let fields = [
            ("name", "Desk"),
            ("timezone", "Europe/London"),
            ("hours[0].weekday", "mon"),
            ("hours[0].start", "09:00"),
            ("hours[0].end", "17:00"),
            ("hours[1].weekday", "tue"),
            ("hours[1].start", ""),
            ("hours[1].end", ""),
            ("hours[2].weekday", "wed"),
            ("hours[2].start", "08:00"),
            ("hours[2].end", "12:00"),
            ("hours[2].remove", "true"),
            ("hours[7].weekday", "thu"),
            ("hours[7].start", "25:00"),
            ("hours[7].end", "12:00"),
            ("holidays[0].date", "2026-12-25"),
            ("holidays[0].name", "Christmas"),
            ("holidays[0].yearly", "true"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        let form = CalendarForm::parse(fields);
        assert_eq!(form.hours.len(), 2);
        assert_eq!(form.hours[1].weekday, "thu");
        assert!(form.holidays[0].yearly);
        let invalid = form.calendar().expect_err("25:00");
        assert!(
            invalid.message_for("hours[1].start").is_some(),
            "{invalid:?}"
        );
    }
}
