//! Business calendars: when a service desk works, so that SLA clocks count only working time.
//!
//! A calendar has an IANA time zone, weekly working intervals, holidays and dated exceptions.
//! [`CalendarDraft::validate`] turns what a person typed into a [`Calendar`], which answers three
//! questions: [`Calendar::add`] (the instant a business duration after a start ends),
//! [`Calendar::between`] (the business time between two instants) and
//! [`Calendar::next_business_instant`].
//!
//! # What counts as working time
//!
//! An instant is working when its *wall-clock* reading in the calendar's zone (civil date and
//! time of day) lies inside working time. Everything else follows from that one rule:
//!
//! - **Weekly hours.** `{"weekday": "mon", "start": "09:00", "end": "17:00"}` covers the wall-clock
//!   times `[09:00, 17:00)` of every Monday. An interval whose end is not after its start crosses
//!   midnight: Monday `22:00`–`06:00` runs to Tuesday 06:00. `end` may be `"24:00"` (the next
//!   midnight), so `00:00`–`24:00` is a whole day and seven of them are 24×7. `start == end` is
//!   refused as ambiguous. Times are `HH:MM` or `HH:MM:SS`.
//! - **Overlaps are merged**: working time is the union of the intervals, so overlapping or
//!   touching intervals (also across midnight) simply join.
//! - **Holidays** remove the whole civil date in the calendar's zone, including the part of a
//!   night shift from the day before that runs past midnight into it. A `yearly` holiday
//!   recurs on its month and day in every year, before and after the year written; a yearly
//!   29 February counts only in leap years.
//! - **Exceptions** are dated intervals with the same clock rules as weekly hours (so they may
//!   cross midnight into the next date). `working: true` adds working time, also on a holiday;
//!   `working: false` removes it. Removal wins: working time on a date is
//!   `((weekly hours unless a holiday) ∪ working exceptions) − non-working exceptions`.
//!
//! # Daylight saving time
//!
//! Because membership is decided on the wall clock, a day's real length is respected with no
//! special cases and no choice of disambiguation: on a spring-forward day in Europe/London the
//! wall-clock hour 01:00–02:00 does not exist, so `01:00`–`03:00` counts one real hour; on the
//! fall-back day 01:00–02:00 is shown twice and `01:00`–`02:00` counts two real hours. An
//! interval boundary that falls inside the skipped hour therefore behaves as the moment the
//! clocks jump, and a boundary inside the repeated hour is met twice (an interval ending at
//! 01:30 on fall-back night also covers the second 01:00–01:30).
//!
//! # Precision and cost
//!
//! Instants and business durations are exact to the nanosecond (jiff's precision): nothing is
//! rounded. Schedules are defined to the second, and every offset and transition in the tzdb is
//! a whole second, so the working/non-working boundaries are whole seconds.
//!
//! Operations walk civil days with per-weekday intervals computed at validation, so their cost
//! grows with the number of calendar days crossed, not with the duration's size in minutes.
//! Dated holidays and exceptions are looked up in a sorted table, yearly holidays in a bitmap.

pub mod ics;

use crate::validation::{Invalid, required_text};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;

/// At most this many weekly intervals.
pub const MAX_HOURS: usize = 100;
/// At most this many holidays.
pub const MAX_HOLIDAYS: usize = 1000;
/// At most this many exceptions.
pub const MAX_EXCEPTIONS: usize = 1000;
/// Calendar and holiday names are at most this many characters.
pub const MAX_NAME: usize = 200;

const DAY: i64 = 86_400;
const NANOS: i128 = 1_000_000_000;

/// A day of the week, as the API writes it (`"mon"` … `"sun"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

crate::service::text_enum!(Weekday {
    Mon => "mon", Tue => "tue", Wed => "wed", Thu => "thu", Fri => "fri", Sat => "sat", Sun => "sun",
});

impl Weekday {
    /// Monday is 0, Sunday 6.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One weekly working interval in wall-clock time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkingHours {
    pub weekday: Weekday,
    /// `HH:MM` or `HH:MM:SS`, from `00:00` to `23:59:59`.
    pub start: String,
    /// `HH:MM` or `HH:MM:SS`, up to `24:00`. Not after `start`: the interval crosses midnight.
    pub end: String,
}

/// A date on which nobody works (unless an exception says otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Holiday {
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub name: String,
    /// Recurs on the same month and day every year (29 February: leap years only).
    #[serde(default)]
    pub yearly: bool,
}

/// Extra working (`working: true`) or non-working time on one date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exception {
    /// `YYYY-MM-DD`: the date the interval starts on.
    pub date: String,
    pub start: String,
    pub end: String,
    pub working: bool,
}

/// A business calendar as a person types it; [`CalendarDraft::validate`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDraft {
    pub name: String,
    /// An IANA time zone name such as `Europe/London`.
    pub timezone: String,
    #[serde(default)]
    pub hours: Vec<WorkingHours>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

/// Why a calendar could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("a business duration cannot be negative")]
    Negative,
    #[error(
        "there is not enough working time in the calendar before the end of the supported range (year 9999)"
    )]
    OutOfRange,
}

/// Working time within one civil day: sorted, disjoint, non-empty `[start, end)` in seconds
/// since the day's midnight (`end` ≤ 86 400).
type DaySet = Vec<(u32, u32)>;

/// A validated business calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    draft: CalendarDraft,
    tz: TimeZone,
    /// Working time of an ordinary day of each weekday (Monday first), including the part of
    /// the previous weekday's intervals that cross midnight.
    week: [DaySet; 7],
    /// Yearly holidays, bit `month * 32 + day`.
    yearly: [u64; 7],
    yearly_any: bool,
    /// Days (since 1970-01-01, civil) touched by a dated holiday or an exception, ascending,
    /// with their complete working time.
    special_days: Vec<i64>,
    special_sets: Vec<DaySet>,
    /// Whether ordinary days ever have working time; if not, nothing works after the last
    /// special day and walks stop there.
    regular: bool,
}

impl CalendarDraft {
    /// Checks and normalises the calendar: times become `HH:MM` (`HH:MM:SS` when the seconds
    /// are not zero), dates `YYYY-MM-DD`, the zone its canonical IANA name, names trimmed.
    pub fn validate(mut self) -> Result<Calendar, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_NAME);

        let tz = match TimeZone::get(self.timezone.trim()) {
            Ok(tz) if !self.timezone.trim().is_empty() => {
                if let Some(name) = tz.iana_name() {
                    self.timezone = name.to_owned();
                }
                Some(tz)
            }
            _ if self.timezone.trim().is_empty() => {
                errors.add("timezone", "Time zone is required, such as Europe/London");
                None
            }
            _ => {
                errors.add(
                    "timezone",
                    format!(
                        "Unknown time zone `{}`: use an IANA name such as Europe/London",
                        self.timezone.trim()
                    ),
                );
                None
            }
        };

        let mut week: [DaySet; 7] = Default::default();
        if self.hours.len() > MAX_HOURS {
            errors.add(
                "hours",
                format!("A calendar has at most {MAX_HOURS} working intervals"),
            );
        }
        for (i, h) in self.hours.iter_mut().enumerate() {
            let at = format!("hours[{i}]");
            if let Some((start, end)) = interval(&mut errors, &at, &mut h.start, &mut h.end) {
                let w = h.weekday.index();
                let (today, tomorrow) = split(start, end);
                week[w].push(today);
                week[(w + 1) % 7].extend(tomorrow);
            }
        }
        for set in &mut week {
            normalise(set);
        }

        let mut dated_holidays = Vec::new();
        let mut yearly = [0u64; 7];
        if self.holidays.len() > MAX_HOLIDAYS {
            errors.add(
                "holidays",
                format!("A calendar has at most {MAX_HOLIDAYS} holidays"),
            );
        }
        for (i, h) in self.holidays.iter_mut().enumerate() {
            let at = format!("holidays[{i}]");
            h.name = h.name.trim().to_owned();
            if h.name.chars().count() > MAX_NAME {
                errors.add(
                    &format!("{at}.name"),
                    format!("A holiday name must be at most {MAX_NAME} characters"),
                );
            }
            if let Some(day) = date(&mut errors, &format!("{at}.date"), &mut h.date) {
                if h.yearly {
                    let (_, month, dom) = civil_from_days(day);
                    set_bit(&mut yearly, month, dom);
                } else {
                    dated_holidays.push(day);
                }
            }
        }
        dated_holidays.sort_unstable();
        dated_holidays.dedup();

        // Exception pieces by the day they fall on: (day, start, end, working).
        let mut pieces: Vec<(i64, u32, u32, bool)> = Vec::new();
        if self.exceptions.len() > MAX_EXCEPTIONS {
            errors.add(
                "exceptions",
                format!("A calendar has at most {MAX_EXCEPTIONS} exceptions"),
            );
        }
        for (i, e) in self.exceptions.iter_mut().enumerate() {
            let at = format!("exceptions[{i}]");
            let day = date(&mut errors, &format!("{at}.date"), &mut e.date);
            let clock = interval(&mut errors, &at, &mut e.start, &mut e.end);
            if let (Some(day), Some((start, end))) = (day, clock) {
                let (today, tomorrow) = split(start, end);
                pieces.push((day, today.0, today.1, e.working));
                if let Some((s, e2)) = tomorrow {
                    pieces.push((day + 1, s, e2, e.working));
                }
            }
        }

        let Some(tz) = tz else {
            return Err(errors);
        };
        if !errors.errors.is_empty() {
            return Err(errors);
        }

        let yearly_any = yearly.iter().any(|&b| b != 0);
        let yearly_full = (1..=12u32).all(|m| (1..=days_in_month(m)).all(|d| bit(&yearly, m, d)));
        let regular = week.iter().any(|s| !s.is_empty()) && !yearly_full;

        pieces.sort_unstable_by_key(|p| p.0);
        let mut special_days: Vec<i64> = dated_holidays.clone();
        special_days.extend(pieces.iter().map(|p| p.0));
        special_days.sort_unstable();
        special_days.dedup();
        let special_sets: Vec<DaySet> = special_days
            .iter()
            .map(|&day| {
                let holiday = dated_holidays.binary_search(&day).is_ok() || {
                    let (_, m, d) = civil_from_days(day);
                    bit(&yearly, m, d)
                };
                let mut set = if holiday {
                    Vec::new()
                } else {
                    week[weekday_of(day)].clone()
                };
                let first = pieces.partition_point(|p| p.0 < day);
                let last = pieces.partition_point(|p| p.0 <= day);
                let today = &pieces[first..last];
                set.extend(today.iter().filter(|p| p.3).map(|p| (p.1, p.2)));
                normalise(&mut set);
                let mut off: DaySet = today.iter().filter(|p| !p.3).map(|p| (p.1, p.2)).collect();
                normalise(&mut off);
                subtract(&set, &off)
            })
            .collect();

        if !regular && special_sets.iter().all(|s| s.is_empty()) {
            errors.add(
                "hours",
                "A calendar needs working time: add at least one working interval",
            );
            return Err(errors);
        }

        Ok(Calendar {
            draft: self,
            tz,
            week,
            yearly,
            yearly_any,
            special_days,
            special_sets,
            regular,
        })
    }
}

impl Calendar {
    /// Every instant is working time: what an agreement without a calendar counts by.
    pub fn around_the_clock() -> Calendar {
        let hours = Weekday::ALL
            .iter()
            .map(|&weekday| WorkingHours {
                weekday,
                start: "00:00".into(),
                end: "24:00".into(),
            })
            .collect();
        Calendar {
            draft: CalendarDraft {
                name: "24×7".into(),
                timezone: "UTC".into(),
                hours,
                holidays: Vec::new(),
                exceptions: Vec::new(),
            },
            tz: TimeZone::UTC,
            week: std::array::from_fn(|_| vec![(0, DAY_U32)]),
            yearly: [0; 7],
            yearly_any: false,
            special_days: Vec::new(),
            special_sets: Vec::new(),
            regular: true,
        }
    }

    /// The calendar as validated and normalised, ready to store or show.
    pub fn draft(&self) -> &CalendarDraft {
        &self.draft
    }

    pub fn name(&self) -> &str {
        &self.draft.name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Whether `t` is working time.
    pub fn is_working(&self, t: Timestamp) -> bool {
        let s = floor_second(t);
        s < END && self.walk(s, s + 1, |_, _| ControlFlow::Break(())).is_some()
    }

    /// The instant at which `business` of working time, counted from `start`, has elapsed.
    ///
    /// Zero returns `start` unchanged. Otherwise the result is inside working time or at the
    /// very end of a working interval (Friday 09:00 + 8 h on a 09:00–17:00 calendar is Friday
    /// 17:00, not Monday 09:00).
    pub fn add(
        &self,
        start: Timestamp,
        business: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        if business.is_negative() {
            return Err(CalendarError::Negative);
        }
        if business.is_zero() {
            return Ok(start);
        }
        let from = start.as_nanosecond();
        let mut left = business.as_nanos();
        // Business time never runs faster than real time.
        if left > Timestamp::MAX.as_nanosecond() - from {
            return Err(CalendarError::OutOfRange);
        }
        self.walk(floor_second(start), END, |a, b| {
            let a = (i128::from(a) * NANOS).max(from);
            let len = i128::from(b) * NANOS - a;
            if left <= len {
                ControlFlow::Break(a + left)
            } else {
                left -= len;
                ControlFlow::Continue(())
            }
        })
        .and_then(|end| Timestamp::from_nanosecond(end).ok())
        .ok_or(CalendarError::OutOfRange)
    }

    /// Working time in `[start, end)`; zero when `end` is not after `start`.
    pub fn between(&self, start: Timestamp, end: Timestamp) -> SignedDuration {
        if end <= start {
            return SignedDuration::ZERO;
        }
        let (from, to) = (start.as_nanosecond(), end.as_nanosecond());
        let mut total: i128 = 0;
        self.walk(floor_second(start), ceil_second(end).min(END), |a, b| {
            let a = (i128::from(a) * NANOS).max(from);
            let b = (i128::from(b) * NANOS).min(to);
            total += (b - a).max(0);
            ControlFlow::<()>::Continue(())
        });
        // `total` ≤ end − start, which jiff's range keeps far inside a SignedDuration.
        let secs = i64::try_from(total / NANOS).unwrap_or(i64::MAX);
        let nanos = i32::try_from(total % NANOS).unwrap_or(0);
        SignedDuration::new(secs, nanos)
    }

    /// `t` itself if it is working time, else the instant working time next begins.
    pub fn next_business_instant(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        let from = t.as_nanosecond();
        self.walk(floor_second(t), END, |a, _| {
            ControlFlow::Break((i128::from(a) * NANOS).max(from))
        })
        .and_then(|at| Timestamp::from_nanosecond(at).ok())
        .ok_or(CalendarError::OutOfRange)
    }

    /// Visits the working time in `[from, until)` (whole seconds since the Unix epoch) as
    /// instant intervals `[a, b)` in chronological order, clipped to the range. Returns what
    /// the visitor broke with, or `None` once the range or the calendar's working time ends.
    ///
    /// The timeline is cut where the zone's offset changes. Between two changes the offset is
    /// constant, so instants map to wall-clock seconds by adding it, and each civil day's
    /// working time maps back by subtracting it.
    fn walk<R>(
        &self,
        from: i64,
        until: i64,
        mut visit: impl FnMut(i64, i64) -> ControlFlow<R>,
    ) -> Option<R> {
        let last_special = self.special_days.last().copied().unwrap_or(i64::MIN);
        let mut t = from;
        while t < until {
            let (offset, next) = self.period(t);
            let stop = next.min(until);
            let (local_from, local_to) = (t + offset, stop + offset);
            let mut day = local_from.div_euclid(DAY);
            let mut special = self.special_days.partition_point(|&d| d < day);
            loop {
                let day_start = day * DAY;
                if day_start >= local_to {
                    break;
                }
                if !self.regular && day > last_special {
                    return None;
                }
                let set = if self.special_days.get(special) == Some(&day) {
                    special += 1;
                    &self.special_sets[special - 1]
                } else {
                    self.ordinary(day)
                };
                for &(s, e) in set {
                    let a = (day_start + i64::from(s)).max(local_from);
                    let b = (day_start + i64::from(e)).min(local_to);
                    if a < b
                        && let ControlFlow::Break(r) = visit(a - offset, b - offset)
                    {
                        return Some(r);
                    }
                }
                day += 1;
            }
            t = stop;
        }
        None
    }

    /// The working time of a day with no dated holiday or exception.
    #[inline]
    fn ordinary(&self, day: i64) -> &[(u32, u32)] {
        if self.yearly_any {
            let (_, m, d) = civil_from_days(day);
            if bit(&self.yearly, m, d) {
                return &[];
            }
        }
        &self.week[weekday_of(day)]
    }

    /// The offset at second `t` and the second at which it next changes (or the range's end).
    #[inline]
    fn period(&self, t: i64) -> (i64, i64) {
        let Ok(ts) = Timestamp::from_second(t) else {
            return (0, END);
        };
        let offset = i64::from(self.tz.to_offset(ts).seconds());
        let next = self
            .tz
            .following(ts)
            .next()
            .map_or(END, |tr| tr.timestamp().as_second());
        (offset, next)
    }
}

/// The last whole second jiff can represent; walks never go past it.
const END: i64 = 253_402_207_200;

fn floor_second(t: Timestamp) -> i64 {
    // In range by construction of `Timestamp`.
    i64::try_from(t.as_nanosecond().div_euclid(NANOS)).unwrap_or(END)
}

fn ceil_second(t: Timestamp) -> i64 {
    let n = t.as_nanosecond();
    i64::try_from(n.div_euclid(NANOS) + i128::from(n.rem_euclid(NANOS) != 0)).unwrap_or(END)
}

/// Checks `start`/`end` of an interval under `at`, normalises them, and returns them in
/// seconds of the day (`end` may be 86 400; an `end` ≤ `start` crosses midnight).
fn interval(
    errors: &mut Invalid,
    at: &str,
    start: &mut String,
    end: &mut String,
) -> Option<(u32, u32)> {
    let s = clock(errors, &format!("{at}.start"), start, false);
    let e = clock(errors, &format!("{at}.end"), end, true);
    let (s, e) = (s?, e?);
    if s == e {
        errors.add(
            &format!("{at}.end"),
            "Start and end are the same time: use 00:00 to 24:00 for a whole day",
        );
        return None;
    }
    Some((s, e))
}

/// Splits an interval into the part on its own day and the part after midnight, if any.
fn split(start: u32, end: u32) -> ((u32, u32), Option<(u32, u32)>) {
    if end > start {
        ((start, end), None)
    } else {
        ((start, DAY_U32), (end > 0).then_some((0, end)))
    }
}

/// Parses a wall-clock time into seconds of the day and normalises the text.
fn clock(errors: &mut Invalid, field: &str, text: &mut String, is_end: bool) -> Option<u32> {
    match parse_clock(text.trim()) {
        Some(DAY_U32) if !is_end => {
            errors.add(field, "A start time must be before 24:00");
            None
        }
        Some(secs) => {
            *text = format_clock(secs);
            Some(secs)
        }
        None => {
            errors.add(
                field,
                "Use a time like 09:00 or 17:30 (24-hour clock, HH:MM or HH:MM:SS)",
            );
            None
        }
    }
}

const DAY_U32: u32 = DAY as u32;

fn parse_clock(text: &str) -> Option<u32> {
    let mut parts = text.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next());
    if parts.next().is_some() {
        return None;
    }
    let number = |p: &str, max: u32| -> Option<u32> {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    let (h, m, s) = (
        number(h, 24)?,
        number(m, 59)?,
        s.map_or(Some(0), |s| number(s, 59))?,
    );
    let secs = h * 3600 + m * 60 + s;
    (secs <= DAY_U32).then_some(secs)
}

fn format_clock(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Parses `YYYY-MM-DD`, normalises the text, and returns the civil day number.
fn date(errors: &mut Invalid, field: &str, text: &mut String) -> Option<i64> {
    match jiff::civil::Date::strptime("%Y-%m-%d", text.trim()) {
        Ok(d) => {
            *text = d.to_string();
            Some(days_from_civil(
                i32::from(d.year()),
                d.month().unsigned_abs().into(),
                d.day().unsigned_abs().into(),
            ))
        }
        Err(_) => {
            errors.add(field, "Use a date like 2026-12-25 (YYYY-MM-DD)");
            None
        }
    }
}

/// Sorts and merges touching or overlapping intervals.
fn normalise(set: &mut DaySet) {
    set.retain(|(s, e)| s < e);
    set.sort_unstable();
    let mut merged: DaySet = Vec::with_capacity(set.len());
    for &(s, e) in set.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *set = merged;
}

/// `set − off`, both normalised.
fn subtract(set: &DaySet, off: &DaySet) -> DaySet {
    let mut out = Vec::new();
    for &(mut s, e) in set {
        for &(os, oe) in off {
            if oe <= s || os >= e {
                continue;
            }
            if os > s {
                out.push((s, os));
            }
            s = s.max(oe);
        }
        if s < e {
            out.push((s, e));
        }
    }
    out
}

fn days_in_month(m: u32) -> u32 {
    match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn set_bit(bits: &mut [u64; 7], month: u32, day: u32) {
    let i = (month * 32 + day) as usize;
    bits[i / 64] |= 1 << (i % 64);
}

#[inline]
fn bit(bits: &[u64; 7], month: u32, day: u32) -> bool {
    let i = (month * 32 + day) as usize;
    bits[i / 64] & (1 << (i % 64)) != 0
}

/// Monday 0 … Sunday 6 of a civil day number (1970-01-01 was a Thursday).
#[inline]
fn weekday_of(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number (the inverse of [`days_from_civil`]).
#[inline]
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests;
