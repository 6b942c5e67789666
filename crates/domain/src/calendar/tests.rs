use super::*;
use jiff::civil::{Date, DateTime};
use proptest::prelude::*;

fn hours(days: &[Weekday], start: &str, end: &str) -> Vec<WorkingHours> {
    days.iter()
        .map(|&weekday| WorkingHours {
            weekday,
            start: start.into(),
            end: end.into(),
        })
        .collect()
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

fn draft(timezone: &str, hours: Vec<WorkingHours>) -> CalendarDraft {
    CalendarDraft {
        name: "Service desk".into(),
        timezone: timezone.into(),
        hours,
        holidays: vec![],
        exceptions: vec![],
    }
}

fn holiday(date: &str) -> Holiday {
    Holiday {
        date: date.into(),
        name: String::new(),
        yearly: false,
    }
}

fn office(timezone: &str) -> Calendar {
    draft(timezone, hours(&WEEKDAYS, "09:00", "17:00"))
        .validate()
        .expect("valid calendar")
}

/// A wall-clock time in the calendar's zone (the earlier one if it is shown twice).
fn at(cal: &Calendar, civil: &str) -> Timestamp {
    civil
        .parse::<DateTime>()
        .and_then(|dt| dt.to_zoned(cal.time_zone().clone()))
        .expect("a civil date-time")
        .timestamp()
}

fn utc(text: &str) -> Timestamp {
    text.parse().expect("an RFC 3339 instant")
}

fn hrs(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn add(cal: &Calendar, t: Timestamp, d: SignedDuration) -> Timestamp {
    cal.add(t, d).expect("a due date")
}

#[test]
fn friday_afternoon_runs_into_monday() {
    let cal = office("Europe/London");
    // 2026-03-20 is a Friday.
    let due = add(&cal, at(&cal, "2026-03-20T16:00"), hrs(2));
    assert_eq!(due, at(&cal, "2026-03-23T10:00"));
    assert_eq!(cal.between(at(&cal, "2026-03-20T16:00"), due), hrs(2));
    // A full working day ends at the day's end, not the next morning.
    assert_eq!(
        add(&cal, at(&cal, "2026-03-20T09:00"), hrs(8)),
        at(&cal, "2026-03-20T17:00")
    );
    // From outside working time the clock starts at the next opening.
    assert_eq!(
        add(&cal, at(&cal, "2026-03-21T12:00"), mins(1)),
        at(&cal, "2026-03-23T09:01")
    );
    assert_eq!(
        cal.next_business_instant(at(&cal, "2026-03-20T17:00")),
        Ok(at(&cal, "2026-03-23T09:00"))
    );
    let inside = at(&cal, "2026-03-20T10:30");
    assert_eq!(cal.next_business_instant(inside), Ok(inside));
}

#[test]
fn christmas_holidays_are_skipped() {
    let mut d = draft("Europe/London", hours(&WEEKDAYS, "09:00", "17:00"));
    d.holidays = vec![holiday("2025-12-25"), holiday("2025-12-26")];
    let cal = d.validate().expect("valid");
    // Wednesday 24 December 2025; Thursday and Friday are holidays.
    let due = add(&cal, at(&cal, "2025-12-24T16:00"), hrs(2));
    assert_eq!(due, at(&cal, "2025-12-29T10:00"));
    let plain = office("Europe/London");
    assert_eq!(
        add(&plain, at(&plain, "2025-12-24T16:00"), hrs(2)),
        at(&plain, "2025-12-25T10:00")
    );
    // Yearly holidays come back, and 29 February only in leap years.
    let mut d = draft("Europe/London", hours(&WEEKDAYS, "09:00", "17:00"));
    d.holidays = vec![
        Holiday {
            date: "2020-12-25".into(),
            name: "Christmas Day".into(),
            yearly: true,
        },
        Holiday {
            date: "2024-02-29".into(),
            name: "Leap day".into(),
            yearly: true,
        },
    ];
    let cal = d.validate().expect("valid");
    assert!(!cal.is_working(at(&cal, "2030-12-25T10:00")));
    assert!(cal.is_working(at(&cal, "2030-12-24T10:00")));
    assert!(!cal.is_working(at(&cal, "2028-02-29T10:00")));
    assert!(cal.is_working(at(&cal, "2027-03-01T10:00")));
    assert!(cal.is_working(at(&cal, "2027-02-26T10:00")));
}

#[test]
fn night_shifts_cross_midnight() {
    let cal = draft("Europe/London", hours(&WEEKDAYS, "22:00", "06:00"))
        .validate()
        .expect("valid");
    // Monday 2026-03-02 21:00: the shift starts at 22:00 and runs into Tuesday.
    assert_eq!(
        add(&cal, at(&cal, "2026-03-02T21:00"), hrs(3)),
        at(&cal, "2026-03-03T01:00")
    );
    // Friday's shift ends Saturday 06:00; the next one starts Monday 22:00.
    assert_eq!(
        add(&cal, at(&cal, "2026-03-07T05:00"), hrs(2)),
        at(&cal, "2026-03-09T23:00")
    );
    assert!(
        !cal.is_working(at(&cal, "2026-03-02T05:00")),
        "Monday morning"
    );
    assert!(
        cal.is_working(at(&cal, "2026-03-03T05:00")),
        "Tuesday morning"
    );
    assert_eq!(
        cal.between(at(&cal, "2026-03-02T00:00"), at(&cal, "2026-03-09T00:00")),
        hrs(40)
    );
    // A holiday removes its whole date: the tail of the night before and the evening start,
    // but not the part of its own night that runs into the next date.
    let mut d = draft("Europe/London", hours(&WEEKDAYS, "22:00", "06:00"));
    d.holidays = vec![holiday("2026-03-04")];
    let cal = d.validate().expect("valid");
    assert_eq!(
        cal.between(at(&cal, "2026-03-03T22:00"), at(&cal, "2026-03-05T06:00")),
        hrs(2) + hrs(6)
    );
}

#[test]
fn twenty_four_seven_is_plain_addition() {
    let all = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    for zone in ["UTC", "Europe/London", "America/New_York"] {
        let cal = draft(zone, hours(&all, "00:00", "24:00"))
            .validate()
            .expect("valid");
        for start in [
            "2026-03-28T23:59:59.25Z",
            "2026-10-24T12:00:00Z",
            "2024-02-28T23:00:00Z",
        ] {
            let t = utc(start);
            for d in [
                SignedDuration::from_nanos(1),
                hrs(1),
                hrs(49),
                hrs(24 * 400),
            ] {
                assert_eq!(add(&cal, t, d), t + d, "{zone} {start} {d}");
                assert_eq!(cal.between(t, t + d), d);
            }
        }
        // Midnight to midnight is 23 or 25 real hours on a DST day, and is all counted.
        if zone == "Europe/London" {
            assert_eq!(
                cal.between(at(&cal, "2026-03-29T00:00"), at(&cal, "2026-03-30T00:00")),
                hrs(23)
            );
            assert_eq!(
                cal.between(at(&cal, "2026-10-25T00:00"), at(&cal, "2026-10-26T00:00")),
                hrs(25)
            );
        }
    }
}

fn sundays(zone: &str, start: &str, end: &str) -> Calendar {
    draft(zone, hours(&[Weekday::Sun], start, end))
        .validate()
        .expect("valid")
}

fn sunday_total(cal: &Calendar, date: &str) -> SignedDuration {
    let day = format!("{date}T00:00");
    let next = format!("{date}T23:59:59");
    cal.between(at(cal, &day), at(cal, &next))
}

#[test]
fn daylight_saving_days_count_real_time() {
    // Europe/London: 2026-03-29 01:00 GMT → 02:00 BST; 2026-10-25 02:00 BST → 01:00 GMT.
    let cal = sundays("Europe/London", "01:00", "03:00");
    assert_eq!(sunday_total(&cal, "2026-03-29"), hrs(1));
    assert_eq!(sunday_total(&cal, "2026-03-22"), hrs(2));
    assert_eq!(sunday_total(&cal, "2026-10-25"), hrs(3));
    let cal = sundays("Europe/London", "01:00", "02:00");
    assert_eq!(sunday_total(&cal, "2026-10-25"), hrs(2));
    assert_eq!(sunday_total(&cal, "2026-03-29"), SignedDuration::ZERO);
    // An end inside the skipped hour is the moment the clocks jump.
    let cal = sundays("Europe/London", "00:00", "01:30");
    assert_eq!(sunday_total(&cal, "2026-03-29"), hrs(1));
    // A short interval inside the repeated hour happens twice.
    let cal = sundays("Europe/London", "01:30", "01:45");
    assert_eq!(sunday_total(&cal, "2026-10-25"), mins(30));
    // Adding across the jump: one hour before it, half an hour after.
    let cal = sundays("Europe/London", "00:00", "03:00");
    assert_eq!(
        add(&cal, at(&cal, "2026-03-29T00:00"), mins(90)),
        utc("2026-03-29T01:30:00Z")
    );
    assert_eq!(utc("2026-03-29T01:30:00Z"), at(&cal, "2026-03-29T02:30"));

    // America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
    let cal = sundays("America/New_York", "01:00", "04:00");
    assert_eq!(sunday_total(&cal, "2026-03-08"), hrs(2));
    assert_eq!(sunday_total(&cal, "2026-11-01"), hrs(4));
    let cal = sundays("America/New_York", "01:00", "02:00");
    assert_eq!(sunday_total(&cal, "2026-11-01"), hrs(2));
    // The repeated hour, walked one real hour at a time.
    assert_eq!(
        add(&cal, utc("2026-11-01T05:00:00Z"), hrs(1)),
        utc("2026-11-01T06:00:00Z")
    );
    assert_eq!(
        add(&cal, utc("2026-11-01T05:30:00Z"), hrs(1)),
        utc("2026-11-01T06:30:00Z")
    );
    assert_eq!(
        add(&cal, utc("2026-11-01T05:30:00Z"), mins(90)),
        utc("2026-11-01T07:00:00Z")
    );
    assert_eq!(
        add(&cal, utc("2026-11-01T05:30:00Z"), hrs(2)),
        at(&cal, "2026-11-08T01:30")
    );

    // An office calendar does not notice DST outside its hours.
    let cal = office("America/New_York");
    assert_eq!(
        cal.between(at(&cal, "2026-03-06T09:00"), at(&cal, "2026-03-09T17:00")),
        hrs(16)
    );
}

#[test]
fn exceptions_add_and_remove_time() {
    let mut d = draft("Europe/London", hours(&WEEKDAYS, "09:00", "17:00"));
    d.holidays = vec![holiday("2026-12-28")];
    d.exceptions = vec![
        // A Saturday on duty, and an afternoon off.
        Exception {
            date: "2026-12-12".into(),
            start: "10:00".into(),
            end: "14:00".into(),
            working: true,
        },
        Exception {
            date: "2026-12-11".into(),
            start: "13:00".into(),
            end: "24:00".into(),
            working: false,
        },
        // A skeleton shift on a holiday, with a break that wins over it.
        Exception {
            date: "2026-12-28".into(),
            start: "10:00".into(),
            end: "12:00".into(),
            working: true,
        },
        Exception {
            date: "2026-12-28".into(),
            start: "11:00".into(),
            end: "11:30".into(),
            working: false,
        },
        // An overnight migration from Tuesday into Wednesday.
        Exception {
            date: "2026-12-29".into(),
            start: "23:00".into(),
            end: "02:00".into(),
            working: true,
        },
    ];
    let cal = d.validate().expect("valid");
    let total = |from: &str, to: &str| cal.between(at(&cal, from), at(&cal, to));
    assert_eq!(total("2026-12-11T00:00", "2026-12-12T00:00"), hrs(4));
    assert_eq!(total("2026-12-12T00:00", "2026-12-13T00:00"), hrs(4));
    assert_eq!(total("2026-12-28T00:00", "2026-12-29T00:00"), mins(90));
    assert_eq!(total("2026-12-29T00:00", "2026-12-30T00:00"), hrs(9));
    assert_eq!(total("2026-12-30T00:00", "2026-12-31T00:00"), hrs(10));
    assert_eq!(
        add(&cal, at(&cal, "2026-12-11T12:00"), hrs(2)),
        at(&cal, "2026-12-12T11:00")
    );
}

#[test]
fn sub_second_instants_are_exact() {
    let cal = office("UTC");
    let t = utc("2026-03-02T09:00:00.5Z");
    assert_eq!(add(&cal, t, hrs(1)), utc("2026-03-02T10:00:00.5Z"));
    assert_eq!(
        add(
            &cal,
            utc("2026-03-02T16:59:59.75Z"),
            SignedDuration::from_secs(1)
        ),
        utc("2026-03-03T09:00:00.75Z")
    );
    assert_eq!(
        cal.between(
            utc("2026-03-02T08:59:59.9Z"),
            utc("2026-03-02T09:00:00.25Z")
        ),
        SignedDuration::from_millis(250)
    );
    assert_eq!(
        cal.next_business_instant(utc("2026-03-02T08:59:59.9Z")),
        Ok(utc("2026-03-02T09:00:00Z"))
    );
    assert!(cal.is_working(utc("2026-03-02T16:59:59.999Z")));
    assert!(!cal.is_working(utc("2026-03-02T17:00:00Z")));
}

#[test]
fn limits_and_errors() {
    let cal = office("UTC");
    let t = utc("2026-03-02T09:00:00Z");
    assert_eq!(cal.add(t, hrs(-1)), Err(CalendarError::Negative));
    assert_eq!(cal.add(t, SignedDuration::ZERO), Ok(t));
    assert_eq!(
        cal.add(t, SignedDuration::MAX),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(
        cal.add(t, hrs(24 * 365 * 7980)),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(cal.between(t, t), SignedDuration::ZERO);
    assert_eq!(
        cal.between(t + hrs(1), t),
        SignedDuration::ZERO,
        "backwards"
    );
    assert_eq!(
        cal.next_business_instant(Timestamp::MAX),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(END, Timestamp::MAX.as_second());
    // Only dated working time: after the last of it, nothing is left (and quickly).
    let mut d = draft("UTC", vec![]);
    d.exceptions = vec![Exception {
        date: "2026-05-01".into(),
        start: "09:00".into(),
        end: "10:00".into(),
        working: true,
    }];
    let cal = d.validate().expect("valid");
    assert_eq!(add(&cal, t, mins(30)), utc("2026-05-01T09:30:00Z"));
    assert_eq!(cal.add(t, hrs(2)), Err(CalendarError::OutOfRange));
    assert_eq!(
        cal.next_business_instant(utc("2026-05-01T10:00:00Z")),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(cal.between(Timestamp::MIN, Timestamp::MAX), hrs(1));
}

#[test]
fn validation_names_the_field() {
    let mut d = draft("Mars/Olympus", hours(&WEEKDAYS, "09:00", "17:00"));
    d.hours.push(WorkingHours {
        weekday: Weekday::Sat,
        start: "9am".into(),
        end: "25:00".into(),
    });
    d.hours.push(WorkingHours {
        weekday: Weekday::Sun,
        start: "10:00".into(),
        end: "10:00".into(),
    });
    d.hours.push(WorkingHours {
        weekday: Weekday::Sun,
        start: "24:00".into(),
        end: "24:00:00".into(),
    });
    d.holidays = vec![holiday("2026-02-30"), holiday("25/12/2026")];
    d.exceptions = vec![Exception {
        date: "2026-12-31".into(),
        start: "12:60".into(),
        end: "13:00".into(),
        working: true,
    }];
    d.name = " ".into();
    let err = d.validate().expect_err("invalid");
    for field in [
        "name",
        "timezone",
        "hours[5].start",
        "hours[5].end",
        "hours[6].end",
        "hours[7].start",
        "holidays[0].date",
        "holidays[1].date",
        "exceptions[0].start",
    ] {
        assert!(err.message_for(field).is_some(), "{field}: {err:?}");
    }
    assert_eq!(err.errors.len(), 9, "{err:?}");

    let err = draft("UTC", vec![]).validate().expect_err("no time");
    assert!(err.message_for("hours").is_some());
    let mut d = draft("UTC", vec![]);
    d.holidays = vec![holiday("2026-01-01"); MAX_HOLIDAYS + 1];
    assert!(
        d.validate()
            .expect_err("too many")
            .message_for("holidays")
            .is_some()
    );
}

#[test]
fn validation_normalises_and_the_api_shape_reads() {
    let json = r#"{"name": " Office ", "timezone": "europe/london",
        "hours": [{"weekday": "mon", "start": "9:00", "end": "17:00"},
                  {"weekday": "tue", "start": "09:00:30", "end": "24:00"}],
        "holidays": [{"date": "2026-12-25", "name": " Christmas Day "}]}"#;
    let d: CalendarDraft = serde_json::from_str(json).expect("the API shape");
    assert!(!d.holidays[0].yearly);
    assert!(d.exceptions.is_empty());
    // One-digit hours are not accepted: times are HH:MM.
    let err = d.clone().validate().expect_err("9:00");
    assert!(err.message_for("hours[0].start").is_some());
    let mut d = d;
    d.hours[0].start = "09:00".into();
    let cal = d.validate().expect("valid");
    assert_eq!(cal.name(), "Office");
    assert_eq!(cal.draft().timezone, "Europe/London");
    assert_eq!(cal.draft().hours[1].start, "09:00:30");
    assert_eq!(cal.draft().hours[1].end, "24:00");
    assert_eq!(cal.draft().holidays[0].name, "Christmas Day");
    let back = serde_json::to_value(cal.draft()).expect("json");
    assert_eq!(back["hours"][0]["weekday"], "mon");
    assert_eq!(back["holidays"][0]["date"], "2026-12-25");
    // Overlapping intervals merge.
    let mut d = draft("UTC", hours(&[Weekday::Mon], "09:00", "17:00"));
    d.hours.extend(hours(&[Weekday::Mon], "12:00", "18:00"));
    d.hours.extend(hours(&[Weekday::Sun], "20:00", "10:00"));
    let cal = d.validate().expect("valid");
    assert_eq!(
        cal.between(utc("2026-03-01T00:00:00Z"), utc("2026-03-03T00:00:00Z")),
        hrs(4 + 18)
    );
    for w in Weekday::ALL {
        assert_eq!(Weekday::parse(w.as_str()), Some(*w));
    }
}

// ---------------------------------------------------------------------------------------
// Property tests against a model written from the rule "an instant works when its wall clock
// is inside working time", using jiff's civil arithmetic rather than the engine's.

fn clock_of(text: &str) -> u32 {
    parse_clock(text).expect("a validated time")
}

/// Whether an interval written on `date` from `start` to `end` covers second `s` of day `on`.
fn covers(date: Date, start: &str, end: &str, on: Date, s: u32) -> bool {
    let (start, end) = (clock_of(start), clock_of(end));
    if date == on {
        s >= start && (end <= start || s < end)
    } else {
        date.tomorrow().ok() == Some(on) && end <= start && s < end
    }
}

fn model_working(d: &CalendarDraft, tz: &TimeZone, t: Timestamp) -> bool {
    let dt = tz.to_datetime(t);
    let on = dt.date();
    let s = dt.hour() as u32 * 3600 + dt.minute() as u32 * 60 + dt.second() as u32;
    let date = |text: &str| text.parse::<Date>().expect("a validated date");
    let weekday_date = |w: Weekday| {
        // The day on or before `on` with weekday `w`.
        let back = (on.weekday().to_monday_zero_offset() as i64 - w.index() as i64).rem_euclid(7);
        on.checked_sub(jiff::Span::new().days(back))
            .expect("in range")
    };
    let weekly = d
        .hours
        .iter()
        .any(|h| covers(weekday_date(h.weekday), &h.start, &h.end, on, s));
    let holiday = d.holidays.iter().any(|h| {
        let hd = date(&h.date);
        hd == on || (h.yearly && hd.month() == on.month() && hd.day() == on.day())
    });
    let extra = |working: bool| {
        d.exceptions
            .iter()
            .any(|e| e.working == working && covers(date(&e.date), &e.start, &e.end, on, s))
    };
    !extra(false) && (extra(true) || (!holiday && weekly))
}

const ZONES: [&str; 5] = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "UTC",
    "Australia/Lord_Howe",
];

fn a_time() -> impl Strategy<Value = String> {
    let interesting = prop::sample::select(vec![
        0,
        60,
        90,
        120,
        150,
        180,
        8 * 60,
        9 * 60,
        17 * 60,
        22 * 60,
        23 * 60,
        1439,
        1440,
    ]);
    prop_oneof![interesting, 0u32..=1440].prop_map(|m| format!("{:02}:{:02}", m / 60, m % 60))
}

fn a_weekday() -> impl Strategy<Value = Weekday> {
    prop::sample::select(Weekday::ALL.to_vec())
}

/// A date from 2023 to 2030, often one of the dates where things happen.
fn a_date() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        "2024-02-29",
        "2028-02-29",
        "2025-12-31",
        "2026-01-01",
        "2026-03-29",
        "2026-10-25",
        "2026-03-08",
        "2026-11-01",
        "2026-04-05",
        "2026-10-04",
    ])
    .prop_map(str::to_owned);
    let any = (0i64..8 * 366).prop_map(|n| {
        let (y, m, d) = civil_from_days(days_from_civil(2023, 1, 1) + n);
        format!("{y:04}-{m:02}-{d:02}")
    });
    prop_oneof![special, any]
}

fn a_calendar() -> impl Strategy<Value = CalendarDraft> {
    let hours = prop::collection::vec(
        (a_weekday(), a_time(), a_time()).prop_map(|(weekday, start, end)| WorkingHours {
            weekday,
            start,
            end,
        }),
        1..7,
    );
    let holidays = prop::collection::vec(
        (a_date(), any::<bool>()).prop_map(|(date, yearly)| Holiday {
            date,
            name: "h".into(),
            yearly,
        }),
        0..8,
    );
    // Exceptions, some on (or the day after) a holiday's month and day in another year.
    let exceptions = prop::collection::vec(
        (
            a_date(),
            a_time(),
            a_time(),
            any::<bool>(),
            prop::option::of((0usize..8, 0i16..3, 0i64..2)),
        ),
        0..5,
    );
    (
        prop::sample::select(ZONES.to_vec()),
        hours,
        holidays,
        exceptions,
    )
        .prop_map(|(zone, mut hours, holidays, exceptions)| {
            let exceptions = exceptions
                .into_iter()
                .map(|(mut date, start, end, working, near)| {
                    if let Some((i, years, days)) = near
                        && let Some(h) = holidays.get(i % holidays.len().max(1))
                        && let Ok(d) = h.date.parse::<Date>()
                        && let Ok(moved) = d
                            .with()
                            .year(d.year() + years)
                            .build()
                            .and_then(|d| d.checked_add(jiff::Span::new().days(days)))
                    {
                        date = moved.to_string();
                    }
                    Exception {
                        date,
                        start,
                        end,
                        working,
                    }
                })
                .collect::<Vec<_>>();
            for h in &mut hours {
                if h.start == "24:00" {
                    h.start = "00:00".into();
                }
                if h.start == h.end {
                    h.end = "24:00".into();
                }
            }
            CalendarDraft {
                name: "generated".into(),
                timezone: zone.into(),
                hours,
                holidays,
                exceptions: exceptions
                    .into_iter()
                    .filter(|e| e.start != e.end && e.start != "24:00")
                    .collect(),
            }
        })
}

/// An instant from 2023 to 2030, often near a DST change, a leap day or a new year, with a
/// fraction of a second now and then.
#[derive(Debug, Clone)]
struct When {
    anchor: usize,
    shift: i64,
    nanos: i32,
}

fn a_when() -> impl Strategy<Value = When> {
    (
        0usize..40,
        prop_oneof![-7200i64..7200, -3 * 86_400i64..3 * 86_400],
        prop_oneof![Just(0), 0..1_000_000_000],
    )
        .prop_map(|(anchor, shift, nanos)| When {
            anchor,
            shift,
            nanos,
        })
}

fn instant(cal: &Calendar, w: &When) -> Timestamp {
    let tz = cal.time_zone();
    let base = utc("2023-01-01T00:00:00Z");
    let fixed = [
        "2024-02-29T00:00:00Z",
        "2024-03-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "2028-02-29T12:00:00Z",
    ];
    // The calendar's own dates: holidays (in a year near 2026 for yearly ones) and exceptions.
    let d = cal.draft();
    let dates: Vec<&str> = d
        .holidays
        .iter()
        .map(|h| h.date.as_str())
        .chain(d.exceptions.iter().map(|e| e.date.as_str()))
        .collect();
    let mut shift = w.shift;
    let t = if w.anchor < 16 {
        tz.following(base)
            .nth(w.anchor)
            .map_or(base, |tr| tr.timestamp())
    } else if w.anchor < 21 {
        utc(fixed[w.anchor - 16])
    } else if w.anchor < 30 && !dates.is_empty() {
        let date: Date = dates[w.anchor % dates.len()].parse().expect("a date");
        let year = date.year() + (w.anchor % 3) as i16;
        // Somewhere in that date or the next, where a night's tail falls.
        shift = w.shift.rem_euclid(2 * 86_400);
        date.with()
            .year(year)
            .build()
            .unwrap_or(date)
            .to_zoned(tz.clone())
            .expect("in range")
            .timestamp()
    } else {
        // Spread over eight years.
        base + SignedDuration::from_secs(w.anchor as i64 * 13_000_003)
    };
    t + SignedDuration::new(shift, w.nanos)
}

fn a_duration() -> impl Strategy<Value = SignedDuration> {
    (
        prop_oneof![0i64..600, 0i64..36_000, 0i64..40 * 86_400],
        prop_oneof![Just(0), 0..1_000_000_000],
    )
        .prop_map(|(s, n)| SignedDuration::new(s, n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn day_numbers_agree_with_jiff(n in -800_000i64..800_000) {
        let (y, m, d) = civil_from_days(n);
        let date = Date::new(y as i16, m as i8, d as i8).expect("a date");
        let epoch = Date::new(1970, 1, 1).expect("epoch");
        prop_assert_eq!(i64::from(epoch.until(date).expect("span").get_days()), n);
        prop_assert_eq!(days_from_civil(y as i32, m, d), n);
        prop_assert_eq!(weekday_of(n), date.weekday().to_monday_zero_offset() as usize);
    }

    #[test]
    fn working_time_is_what_the_wall_clock_says(d in a_calendar(), whens in prop::collection::vec(a_when(), 16)) {
        let cal = d.clone().validate().expect("a generated calendar is valid");
        for w in &whens {
            let t = instant(&cal, w);
            prop_assert_eq!(cal.is_working(t), model_working(cal.draft(), cal.time_zone(), t), "at {}", t);
        }
    }

    #[test]
    fn between_counts_the_working_seconds(d in a_calendar(), w in a_when(), len in 0i64..7200) {
        let cal = d.validate().expect("valid");
        let t = Timestamp::from_second(instant(&cal, &w).as_second()).expect("in range");
        let counted = (0..len)
            .filter(|&i| model_working(cal.draft(), cal.time_zone(), t + SignedDuration::from_secs(i)))
            .count() as i64;
        prop_assert_eq!(cal.between(t, t + SignedDuration::from_secs(len)), SignedDuration::from_secs(counted));
    }

    #[test]
    fn add_is_monotonic(d in a_calendar(), w1 in a_when(), w2 in a_when(), a in a_duration(), b in a_duration()) {
        let cal = d.validate().expect("valid");
        let (t1, t2) = (instant(&cal, &w1), instant(&cal, &w2));
        let (t1, t2) = (t1.min(t2), t1.max(t2));
        let (a, b) = (a.min(b), a.max(b));
        prop_assert!(add(&cal, t1, a) <= add(&cal, t1, b), "in the duration");
        prop_assert!(add(&cal, t1, a) <= add(&cal, t2, a), "in the start");
        prop_assert!(add(&cal, t1, a) >= t1);
    }

    #[test]
    fn adding_in_steps_is_adding_at_once(d in a_calendar(), w in a_when(), a in a_duration(), b in a_duration()) {
        let cal = d.validate().expect("valid");
        let t = instant(&cal, &w);
        prop_assert_eq!(add(&cal, add(&cal, t, a), b), add(&cal, t, a + b));
    }

    #[test]
    fn between_undoes_add(d in a_calendar(), w in a_when(), dur in a_duration()) {
        let cal = d.validate().expect("valid");
        let t = instant(&cal, &w);
        let end = add(&cal, t, dur);
        prop_assert_eq!(cal.between(t, end), dur);
        if dur.is_positive() {
            // The due instant closes working time: the moment before it works.
            prop_assert!(cal.is_working(end - SignedDuration::from_nanos(1)));
            prop_assert!(model_working(cal.draft(), cal.time_zone(), end - SignedDuration::from_nanos(1)));
        }
    }

    #[test]
    fn between_adds_up(d in a_calendar(), w1 in a_when(), w2 in a_when(), w3 in a_when()) {
        let cal = d.validate().expect("valid");
        let mut ts = [instant(&cal, &w1), instant(&cal, &w2), instant(&cal, &w3)];
        ts.sort();
        let [a, b, c] = ts;
        prop_assert_eq!(cal.between(a, b) + cal.between(b, c), cal.between(a, c));
        prop_assert!(cal.between(a, c) <= c.duration_since(a));
        prop_assert_eq!(cal.between(c, a), SignedDuration::ZERO);
    }

    #[test]
    fn nothing_outside_working_time_counts(d in a_calendar(), w in a_when(), frac in 0.0f64..=1.0) {
        let cal = d.validate().expect("valid");
        let t = instant(&cal, &w);
        let next = cal.next_business_instant(t).expect("working time ahead");
        prop_assert!(next >= t);
        prop_assert!(cal.is_working(next));
        prop_assert_eq!(cal.between(t, next), SignedDuration::ZERO);
        if cal.is_working(t) {
            prop_assert_eq!(next, t);
        } else {
            // Anywhere inside the gap, nothing has counted yet.
            let gap = next.duration_since(t);
            let u = t + SignedDuration::from_secs_f64(gap.as_secs_f64() * frac).min(gap);
            prop_assert_eq!(cal.between(t, u), SignedDuration::ZERO);
            prop_assert!(!model_working(cal.draft(), cal.time_zone(), u) || u == next);
            prop_assert_eq!(add(&cal, t, SignedDuration::from_nanos(1)), next + SignedDuration::from_nanos(1));
        }
    }
}
