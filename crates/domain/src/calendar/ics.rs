//! Holidays from an iCalendar file (RFC 5545), such as the UK government's bank-holiday feed.
//!
//! Each `VEVENT` becomes one holiday per civil date it covers:
//!
//! - `DTSTART;VALUE=DATE:20261225` is that date. A date-time start (`20261225T000000Z`, with or
//!   without `TZID`) is taken by its written date, without converting zones.
//! - `DTEND` is exclusive: `DTSTART;VALUE=DATE:20261225` with `DTEND;VALUE=DATE:20261227` gives
//!   25 and 26 December. A date-time end covers its own date unless it is exactly midnight.
//!   `DURATION` (`P2D`, `P1W`) works the same way. No end, or an end not after the start, means
//!   one date. An event spans at most 366 dates.
//! - `SUMMARY` is the name, unescaped (`\,` `\;` `\\` `\n`).
//! - `RRULE:FREQ=YEARLY` makes the holidays yearly. Only a rule that repeats the event's own
//!   month and day every year is accepted (`INTERVAL=1`, `BYMONTH`/`BYMONTHDAY` equal to the
//!   start, `WKST` allowed). Anything else (`BYDAY=1MO`, `COUNT`, `UNTIL`, other frequencies),
//!   and `RDATE`/`EXDATE`, is refused with the line number: importing a rule we cannot follow
//!   would silently lose or invent holidays.
//! - `STATUS:CANCELLED` events are skipped; other components (`VTIMEZONE`, `VALARM` inside an
//!   event, `VTODO`) and unknown properties are ignored.
//!
//! Long lines folded onto continuation lines (a leading space or tab) are unfolded first. Bad
//! input gives field errors under `ics`, each starting with its line number; nothing panics.
//! The same date is kept once (the first name wins), and a file may give at most
//! [`MAX_HOLIDAYS`] holidays.

use super::{Holiday, MAX_HOLIDAYS};
use crate::validation::Invalid;
use jiff::civil::Date;
use std::collections::HashSet;

const FIELD: &str = "ics";
/// Stop collecting errors after this many: a file that bad is the wrong file.
const MAX_ERRORS: usize = 20;
/// The longest event we expand, in dates.
const MAX_SPAN: i64 = 366;

/// Reads the holidays of an iCalendar file.
pub fn parse_ics_holidays(text: &str) -> Result<Vec<Holiday>, Invalid> {
    let mut parser = Parser::default();
    let lines = unfold(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut first = true;
    for (number, line) in lines {
        if parser.errors.errors.len() >= MAX_ERRORS {
            break;
        }
        let parsed = content_line(&line);
        if first {
            first = false;
            if !parsed.as_ref().is_ok_and(|p| {
                p.name == "BEGIN" && p.value.trim().eq_ignore_ascii_case("VCALENDAR")
            }) {
                parser.error(
                    number,
                    "this is not an iCalendar file: it must begin with BEGIN:VCALENDAR",
                );
                break;
            }
        }
        match parsed {
            Ok(parsed) => parser.line(number, parsed),
            Err(message) => parser.error(number, message),
        }
        if parser.full {
            break;
        }
    }
    if first {
        parser.error(1, "the file is empty");
    }
    if let Some((name, at)) = parser.open.last().cloned()
        && parser.errors.errors.is_empty()
    {
        parser.error(at, format!("BEGIN:{name} has no matching END:{name}"));
    }
    parser.errors.into_result(parser.holidays)
}

/// Joins continuation lines; yields each logical line with the number of its first line.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.strip_prefix([' ', '\t']) {
            Some(rest) if !lines.is_empty() => {
                if let Some(last) = lines.last_mut() {
                    last.1.push_str(rest);
                }
            }
            _ if raw.trim().is_empty() => {}
            _ => lines.push((i + 1, raw.to_owned())),
        }
    }
    lines
}

/// One content line: `NAME;PARAM=VALUE;...:VALUE`, the name and parameter names upper-cased.
struct Line<'a> {
    name: String,
    params: Vec<(String, &'a str)>,
    value: &'a str,
}

impl Line<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim_matches('"'))
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn content_line(line: &str) -> Result<Line<'_>, String> {
    let expected = || {
        format!(
            "expected a property such as SUMMARY:Christmas Day, found `{}`",
            excerpt(line)
        )
    };
    let end = line.find([';', ':']).ok_or_else(expected)?;
    let name = &line[..end];
    if !is_name(name) {
        return Err(expected());
    }
    let mut params = Vec::new();
    let mut rest = &line[end..];
    // `rest` starts with ';' (a parameter follows) or ':' (the value follows).
    while let Some(after) = rest.strip_prefix(';') {
        let eq = after.find('=').ok_or_else(expected)?;
        let pname = &after[..eq];
        if !is_name(pname) {
            return Err(expected());
        }
        let mut v = &after[eq + 1..];
        let mut len = 0;
        loop {
            if let Some(quoted) = v[len..].strip_prefix('"') {
                let close = quoted
                    .find('"')
                    .ok_or_else(|| format!("unclosed quote in `{}`", excerpt(line)))?;
                len += close + 2;
            } else {
                len += v[len..].find([',', ';', ':']).ok_or_else(expected)?;
            }
            if v[len..].starts_with(',') {
                len += 1;
            } else {
                break;
            }
        }
        params.push((pname.to_ascii_uppercase(), &v[..len]));
        v = &v[len..];
        rest = v;
    }
    let value = rest.strip_prefix(':').ok_or_else(expected)?;
    Ok(Line {
        name: name.to_ascii_uppercase(),
        params,
        value,
    })
}

fn excerpt(line: &str) -> String {
    let short: String = line.chars().take(60).collect();
    if short.len() < line.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// A date or date-time property value.
#[derive(Clone, Copy)]
struct When {
    date: Date,
    /// The time of day in seconds, for a date-time.
    time: Option<i64>,
}

fn when(line: &Line<'_>) -> Result<When, String> {
    let v = line.value.trim();
    let bad = || {
        format!(
            "{} must be a date like 20261225 or a date-time like 20261225T090000Z, found `{}`",
            line.name,
            excerpt(v)
        )
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (day, time) = match v.split_once(['T', 't']) {
        Some((day, time)) => (day, Some(time.strip_suffix(['Z', 'z']).unwrap_or(time))),
        None => (v, None),
    };
    if day.len() != 8 || !digits(day) {
        return Err(bad());
    }
    let number = |s: &str| s.parse::<i16>().map_err(|_| bad());
    let date = Date::new(
        number(&day[..4])?,
        number(&day[4..6])? as i8,
        number(&day[6..])? as i8,
    )
    .map_err(|_| format!("{} is not a calendar date", excerpt(v)))?;
    let time = match time {
        None => None,
        Some(t) if t.len() == 6 && digits(t) => {
            let (h, m, s) = (number(&t[..2])?, number(&t[2..4])?, number(&t[4..])?);
            if h > 23 || m > 59 || s > 60 {
                return Err(bad());
            }
            Some(i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(s.min(59)))
        }
        Some(_) => return Err(bad()),
    };
    if line
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
        && time.is_some()
    {
        return Err(format!("{} says VALUE=DATE but has a time", line.name));
    }
    Ok(When { date, time })
}

/// `DURATION` in seconds (`P1D` is 86 400: holidays are civil dates, not elapsed time).
fn duration_seconds(value: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "DURATION must look like P1D, P2W or PT8H, found `{}`",
            excerpt(value)
        )
    };
    let body = value.trim().strip_prefix(['P', 'p']).ok_or_else(bad)?;
    let mut total = 0i64;
    let (mut in_time, mut number, mut any) = (false, String::new(), false);
    for c in body.chars() {
        match c.to_ascii_uppercase() {
            '0'..='9' => number.push(c),
            'T' if !in_time && number.is_empty() => in_time = true,
            unit @ ('W' | 'D' | 'H' | 'M' | 'S') => {
                let n: i64 = number.parse().map_err(|_| bad())?;
                number.clear();
                any = true;
                let scale = match (in_time, unit) {
                    (false, 'W') => 7 * 86_400,
                    (false, 'D') => 86_400,
                    (true, 'H') => 3600,
                    (true, 'M') => 60,
                    (true, 'S') => 1,
                    _ => return Err(bad()),
                };
                total = total.saturating_add(n.saturating_mul(scale));
            }
            _ => return Err(bad()),
        }
    }
    if !any || !number.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

#[derive(Default)]
struct Event {
    begin: usize,
    start: Option<(usize, When)>,
    end: Option<(usize, When)>,
    duration: Option<(usize, String)>,
    summary: Option<String>,
    yearly: bool,
    cancelled: bool,
}

#[derive(Default)]
struct Parser {
    /// Components opened and not yet closed, with the line of their BEGIN.
    open: Vec<(String, usize)>,
    event: Option<Event>,
    holidays: Vec<Holiday>,
    /// (date, yearly) of the holidays so far, to keep each once.
    seen: HashSet<(Date, bool)>,
    /// Set once the file has given more holidays than a calendar takes.
    full: bool,
    errors: Invalid,
}

impl Parser {
    fn error(&mut self, line: usize, message: impl AsRef<str>) {
        self.errors
            .add(FIELD, format!("line {line}: {}", message.as_ref()));
    }

    fn line(&mut self, number: usize, line: Line<'_>) {
        match line.name.as_str() {
            "BEGIN" => {
                let component = line.value.trim().to_ascii_uppercase();
                if !is_name(&component) {
                    return self.error(number, "BEGIN needs a component name such as VEVENT");
                }
                if component == "VEVENT" && self.open.len() == 1 {
                    self.event = Some(Event {
                        begin: number,
                        ..Event::default()
                    });
                } else if self.open.is_empty() && component != "VCALENDAR" {
                    return self
                        .error(number, format!("BEGIN:{component} outside BEGIN:VCALENDAR"));
                }
                self.open.push((component, number));
            }
            "END" => {
                let component = line.value.trim().to_ascii_uppercase();
                match self.open.pop() {
                    Some((open, _)) if open == component => {
                        if component == "VEVENT"
                            && self.open.len() == 1
                            && let Some(event) = self.event.take()
                        {
                            self.finish(event);
                        }
                    }
                    Some((open, at)) => self.error(
                        number,
                        format!("END:{component} does not close BEGIN:{open} on line {at}"),
                    ),
                    None => self.error(number, format!("END:{component} without a BEGIN")),
                }
            }
            _ if self.open.len() == 2 && self.event.is_some() => self.property(number, line),
            _ if self.open.is_empty() => {
                self.error(number, format!("{} outside BEGIN:VCALENDAR", line.name));
            }
            _ => {}
        }
    }

    fn property(&mut self, number: usize, line: Line<'_>) {
        let Some(mut event) = self.event.take() else {
            return;
        };
        let name = line.name.as_str();
        match name {
            "DTSTART" | "DTEND" => match when(&line) {
                Ok(w) => {
                    let slot = if name == "DTSTART" {
                        &mut event.start
                    } else {
                        &mut event.end
                    };
                    if let Some((at, _)) = slot {
                        let at = *at;
                        self.error(
                            number,
                            format!("a second {name} (the first is on line {at})"),
                        );
                    } else {
                        *slot = Some((number, w));
                    }
                }
                Err(message) => self.error(number, message),
            },
            "DURATION" => event.duration = Some((number, line.value.to_owned())),
            "SUMMARY" => event.summary = Some(unescape(line.value)),
            "STATUS" => event.cancelled = line.value.trim().eq_ignore_ascii_case("CANCELLED"),
            "RRULE" => {
                if event.yearly {
                    self.error(number, "only one RRULE per event is supported");
                }
                match yearly_rule(line.value, event.start.map(|s| s.1.date)) {
                    Ok(()) => event.yearly = true,
                    Err(message) => self.error(number, message),
                }
            }
            "RDATE" | "EXDATE" | "EXRULE" => self.error(
                number,
                format!("{name} is not supported: give each holiday date its own event"),
            ),
            _ => {}
        }
        self.event = Some(event);
    }

    fn finish(&mut self, event: Event) {
        if event.cancelled {
            return;
        }
        let Some((start_line, start)) = event.start else {
            return self.error(event.begin, "this event has no DTSTART, so it has no date");
        };
        let mut days = 1i64;
        if let Some((line, end)) = event.end {
            if event.duration.is_some() {
                return self.error(line, "an event has DTEND or DURATION, not both");
            }
            if end.time.is_some() != start.time.is_some() {
                return self.error(
                    line,
                    "DTEND must be a date when DTSTART is a date, and a date-time when it is a date-time",
                );
            }
            // An end at midnight does not touch its date; any later time does.
            let exclusive = match end.time {
                Some(t) if t > 0 => end.date.tomorrow().unwrap_or(end.date),
                _ => end.date,
            };
            days = start
                .date
                .until(exclusive)
                .map_or(1, |s| i64::from(s.get_days()));
        } else if let Some((line, value)) = &event.duration {
            let seconds = match duration_seconds(value) {
                Ok(seconds) => seconds,
                Err(message) => return self.error(*line, message),
            };
            days = match start.time {
                None if seconds % 86_400 != 0 => {
                    return self.error(
                        *line,
                        "an all-day event's DURATION must be whole days or weeks",
                    );
                }
                None => seconds / 86_400,
                // The dates that [start, start + duration) touches.
                Some(t) if seconds > 0 => (t.saturating_add(seconds) - 1) / 86_400 + 1,
                Some(_) => 1,
            };
        }
        if days > MAX_SPAN {
            return self.error(
                start_line,
                format!(
                    "this event spans {days} days; a holiday event may span at most {MAX_SPAN}"
                ),
            );
        }
        let name = event.summary.unwrap_or_default().trim().to_owned();
        let mut date = start.date;
        for _ in 0..days.max(1) {
            if self.seen.insert((date, event.yearly)) {
                if self.holidays.len() == MAX_HOLIDAYS {
                    self.full = true;
                    return self.error(
                        start_line,
                        format!("the file has more than {MAX_HOLIDAYS} holidays, the most a calendar takes"),
                    );
                }
                self.holidays.push(Holiday {
                    date: date.to_string(),
                    name: name.clone(),
                    yearly: event.yearly,
                });
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
    }
}

/// Accepts `FREQ=YEARLY` rules that repeat the start's own month and day every year.
fn yearly_rule(rule: &str, start: Option<Date>) -> Result<(), String> {
    let refuse = |what: &str| {
        Err(format!(
            "RRULE `{}` is not supported ({what}): only a holiday on the same month and day every year (RRULE:FREQ=YEARLY) can be imported",
            excerpt(rule)
        ))
    };
    let mut freq = false;
    for part in rule.trim().split(';').filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return refuse("a part has no `=`");
        };
        let value = value.trim();
        match key.trim().to_ascii_uppercase().as_str() {
            "FREQ" if value.eq_ignore_ascii_case("YEARLY") => freq = true,
            "FREQ" => return refuse("it does not repeat yearly"),
            "INTERVAL" if value == "1" => {}
            "WKST" => {}
            "BYMONTH" if start.is_some_and(|d| value.parse::<i8>() == Ok(d.month())) => {}
            "BYMONTHDAY" if start.is_some_and(|d| value.parse::<i8>() == Ok(d.day())) => {}
            "BYMONTH" | "BYMONTHDAY" => {
                return refuse("its month and day must be those of DTSTART, given before it");
            }
            other => return refuse(&format!("{other} is not supported")),
        }
    }
    if freq {
        Ok(())
    } else {
        refuse("it has no FREQ")
    }
}

/// Undoes RFC 5545 text escaping: `\\`, `\;`, `\,`, `\n`/`\N`.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const UK: &str = "BEGIN:VCALENDAR\r
VERSION:2.0\r
METHOD:PUBLISH\r
PRODID:-//uk.gov/GOVUK calendars//EN\r
CALSCALE:GREGORIAN\r
BEGIN:VEVENT\r
DTEND;VALUE=DATE:20260102\r
DTSTART;VALUE=DATE:20260101\r
SUMMARY:New Year’s Day\r
UID:ca6af7456b0088abad9a69f9f620f5ac-1@gov.uk\r
SEQUENCE:0\r
DTSTAMP:20260108T175106Z\r
END:VEVENT\r
BEGIN:VEVENT\r
DTEND;VALUE=DATE:20260404\r
DTSTART;VALUE=DATE:20260403\r
SUMMARY:Good Friday\r
UID:ca6af7456b0088abad9a69f9f620f5ac-2@gov.uk\r
SEQUENCE:0\r
DTSTAMP:20260108T175106Z\r
END:VEVENT\r
BEGIN:VEVENT\r
DTEND;VALUE=DATE:20260505\r
DTSTART;VALUE=DATE:20260504\r
SUMMARY:Early May bank holiday\r
UID:ca6af7456b0088abad9a69f9f620f5ac-3@gov.uk\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20261225\r
DTEND;VALUE=DATE:20261227\r
SUMMARY:Christmas Day and Boxing Day\\, with a very long name that somebo\r
 dy folded onto a second line\r
END:VEVENT\r
END:VCALENDAR\r
";

    fn dates(holidays: &[Holiday]) -> Vec<&str> {
        holidays.iter().map(|h| h.date.as_str()).collect()
    }

    #[test]
    fn reads_the_uk_bank_holidays() {
        let holidays = parse_ics_holidays(UK).expect("valid file");
        assert_eq!(
            dates(&holidays),
            [
                "2026-01-01",
                "2026-04-03",
                "2026-05-04",
                "2026-12-25",
                "2026-12-26"
            ]
        );
        assert_eq!(holidays[0].name, "New Year’s Day");
        assert_eq!(
            holidays[3].name,
            "Christmas Day and Boxing Day, with a very long name that somebody folded onto a second line"
        );
        assert!(holidays.iter().all(|h| !h.yearly));
    }

    fn wrap(events: &str) -> String {
        format!("BEGIN:VCALENDAR\nVERSION:2.0\n{events}END:VCALENDAR\n")
    }

    fn one(event: &str) -> Result<Vec<Holiday>, Invalid> {
        parse_ics_holidays(&wrap(&format!("BEGIN:VEVENT\n{event}END:VEVENT\n")))
    }

    fn error(result: Result<Vec<Holiday>, Invalid>) -> String {
        result.expect_err("refused").errors[0].message.clone()
    }

    #[test]
    fn yearly_rules_on_a_fixed_date_are_yearly_holidays() {
        let h = one("DTSTART;VALUE=DATE:20240229\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29\nSUMMARY:Leap\n")
            .expect("yearly");
        assert_eq!(
            h,
            [Holiday {
                date: "2024-02-29".into(),
                name: "Leap".into(),
                yearly: true
            }]
        );
        let err = error(one(
            "DTSTART;VALUE=DATE:20260504\nRRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=1MO\n",
        ));
        assert!(err.starts_with("line 5: RRULE"), "{err}");
        assert!(err.contains("BYDAY is not supported"), "{err}");
        assert!(error(one("DTSTART;VALUE=DATE:20260504\nRRULE:FREQ=MONTHLY\n")).contains("yearly"));
        assert!(
            error(one(
                "DTSTART;VALUE=DATE:20260504\nRRULE:FREQ=YEARLY;COUNT=3\n"
            ))
            .contains("COUNT")
        );
        assert!(
            error(one(
                "DTSTART;VALUE=DATE:20260504\nRDATE;VALUE=DATE:20270503\n"
            ))
            .contains("RDATE")
        );
    }

    #[test]
    fn date_times_durations_and_escapes() {
        let h = one("DTSTART;TZID=Europe/London:20261224T120000\nDTEND;TZID=Europe/London:20261226T000000\nSUMMARY:Half\\; day\\nand \\\\ more\n")
            .expect("date-times");
        assert_eq!(dates(&h), ["2026-12-24", "2026-12-25"]);
        assert_eq!(h[0].name, "Half; day\nand \\ more");
        let h = one("DTSTART:20261231T220000Z\nDTEND:20270101T020000Z\n").expect("over new year");
        assert_eq!(dates(&h), ["2026-12-31", "2027-01-01"]);
        let h = one("DTSTART;VALUE=DATE:20281230\nDURATION:P1W\n").expect("a week");
        assert_eq!(h.len(), 7);
        assert_eq!(h[6].date, "2029-01-05");
        let h = one("DTSTART:20260301T090000\nDURATION:PT8H\n").expect("a working day");
        assert_eq!(dates(&h), ["2026-03-01"]);
        // A cancelled event is no holiday; an end equal to the start is one date.
        assert_eq!(
            one("DTSTART;VALUE=DATE:20260101\nSTATUS:CANCELLED\n"),
            Ok(vec![])
        );
        let h = one("DTSTART;VALUE=DATE:20260101\nDTEND;VALUE=DATE:20260101\n").expect("one");
        assert_eq!(dates(&h), ["2026-01-01"]);
    }

    #[test]
    fn bad_files_say_which_line() {
        assert!(error(parse_ics_holidays("")).contains("empty"));
        let err = parse_ics_holidays("hello\nworld").expect_err("not ics");
        assert_eq!(err.errors.len(), 1);
        assert!(
            err.errors[0]
                .message
                .starts_with("line 1: this is not an iCalendar file")
        );
        assert!(error(parse_ics_holidays("BEGIN:VEVENT\n")).contains("BEGIN:VCALENDAR"));
        assert!(
            error(one("DTSTART;VALUE=DATE:20261332\n"))
                .starts_with("line 4: 20261332 is not a calendar date")
        );
        assert!(error(one("SUMMARY:No date\n")).starts_with("line 3: this event has no DTSTART"));
        assert!(
            error(one(
                "DTSTART;VALUE=DATE:20260101\nDTEND;VALUE=DATE:20280101\n"
            ))
            .contains("spans 730 days")
        );
        assert!(
            error(parse_ics_holidays(
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101\n"
            ))
            .contains("no matching END:VEVENT")
        );
        assert!(
            error(parse_ics_holidays("BEGIN:VCALENDAR\nEND:VEVENT\n")).contains("does not close")
        );
        assert!(error(one("DTSTART;VALUE=DATE:20260101T000000\n")).contains("VALUE=DATE"));
        assert!(error(one("DTSTART;X-P=\"unclosed:20260101\n")).contains("unclosed quote"));
    }

    #[test]
    fn a_file_with_too_many_holidays_stops_early() {
        let event = |y: i32| {
            format!("BEGIN:VEVENT\nDTSTART;VALUE=DATE:{y:04}0101\nDURATION:P300D\nEND:VEVENT\n")
        };
        let text = wrap(&(2000..3000).map(event).collect::<String>());
        let err = parse_ics_holidays(&text).expect_err("too many");
        assert_eq!(err.errors.len(), 1);
        assert_eq!(
            err.errors[0].message,
            format!(
                "line 16: the file has more than {MAX_HOLIDAYS} holidays, the most a calendar takes"
            )
        );
    }

    #[test]
    fn nested_components_and_quoted_parameters() {
        let h = one("DTSTART;X-NOTE=\"a;b:c\",plain;VALUE=DATE:20260831\nSUMMARY:Summer bank holiday\nBEGIN:VALARM\nTRIGGER:-PT15M\nDTSTART:19990101T000000\nEND:VALARM\n")
            .expect("nested alarm ignored");
        assert_eq!(dates(&h), ["2026-08-31"]);
        // The same date twice is kept once.
        let both = wrap(
            "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20260831\nEND:VEVENT\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260831\nEND:VEVENT\n",
        );
        assert_eq!(parse_ics_holidays(&both).map(|h| h.len()), Ok(1));
    }

    #[test]
    fn imported_holidays_validate() {
        let holidays = parse_ics_holidays(UK).expect("valid file");
        let draft = crate::calendar::CalendarDraft {
            name: "UK".into(),
            timezone: "Europe/London".into(),
            hours: vec![crate::calendar::WorkingHours {
                weekday: crate::calendar::Weekday::Mon,
                start: "09:00".into(),
                end: "17:00".into(),
            }],
            holidays,
            exceptions: vec![],
        };
        assert!(draft.validate().is_ok());
    }

    fn ics_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("BEGIN:VEVENT".to_owned()),
            Just("END:VEVENT".to_owned()),
            Just("BEGIN:VALARM".to_owned()),
            Just("END:VALARM".to_owned()),
            Just("END:VCALENDAR".to_owned()),
            "(DTSTART|DTEND)(;VALUE=DATE|;TZID=\"A;B\")?:[0-9]{8}(T[0-9]{6}Z?)?",
            "DURATION:P[0-9]{0,4}[WDTHMS]{1,3}",
            "RRULE:FREQ=(YEARLY|DAILY)(;BYMONTH=[0-9]{1,2})?(;BYMONTHDAY=[0-9]{1,2})?",
            "SUMMARY:[a-z\\\\;,]{0,12}",
            " [ -~]{0,10}",
            "[ -~]{0,20}",
            "\\PC{0,20}",
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC*") {
            let _ = parse_ics_holidays(&text);
        }

        #[test]
        fn arbitrary_calendars_never_panic(lines in prop::collection::vec(ics_line(), 0..40)) {
            let text = format!("BEGIN:VCALENDAR\r\n{}", lines.join("\r\n"));
            if let Ok(holidays) = parse_ics_holidays(&text) {
                prop_assert!(holidays.len() <= MAX_HOLIDAYS);
                for h in holidays {
                    prop_assert!(h.date.parse::<Date>().is_ok());
                }
            }
        }
    }
}
