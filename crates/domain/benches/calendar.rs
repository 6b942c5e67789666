//! Due-date computations on a Monday–Friday 09:00–17:00 Europe/London calendar with the UK bank
//! holidays of 2025–2027. Target: at least 1,000,000 due dates per second on one core.
//!
//! `cargo bench -p steward-domain --bench calendar`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use std::hint::black_box;
use steward_domain::calendar::{Calendar, CalendarDraft, Holiday, Weekday, WorkingHours};
use steward_domain::sla::clock::{Pause, Track};

const BANK_HOLIDAYS: [&str; 24] = [
    "2025-01-01",
    "2025-04-18",
    "2025-04-21",
    "2025-05-05",
    "2025-05-26",
    "2025-08-25",
    "2025-12-25",
    "2025-12-26",
    "2026-01-01",
    "2026-04-03",
    "2026-04-06",
    "2026-05-04",
    "2026-05-25",
    "2026-08-31",
    "2026-12-25",
    "2026-12-28",
    "2027-01-01",
    "2027-03-26",
    "2027-03-29",
    "2027-05-03",
    "2027-05-31",
    "2027-08-30",
    "2027-12-27",
    "2027-12-28",
];

fn calendar() -> Calendar {
    let hours = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ]
    .into_iter()
    .map(|weekday| WorkingHours {
        weekday,
        start: "09:00".into(),
        end: "17:00".into(),
    })
    .collect();
    let holidays = BANK_HOLIDAYS
        .iter()
        .map(|date| Holiday {
            date: (*date).into(),
            name: "Bank holiday".into(),
            yearly: false,
        })
        .collect();
    CalendarDraft {
        name: "UK office".into(),
        timezone: "Europe/London".into(),
        hours,
        holidays,
        exceptions: vec![],
    }
    .validate()
    .expect("a valid calendar")
}

/// 1,024 starts spread over 2026 (incl. nights, weekends, holidays and both DST changes).
fn starts() -> Vec<Timestamp> {
    let year = 365 * 86_400;
    let mut x: i64 = 0x2545_f491;
    (0..1024)
        .map(|_| {
            x = (x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1)) & i64::MAX;
            Timestamp::from_second(1_767_225_600 + (x >> 16) % year).expect("in range")
        })
        .collect()
}

fn due_dates(c: &mut Criterion) {
    let cal = calendar();
    let starts = starts();
    let mut group = c.benchmark_group("calendar");
    group.throughput(Throughput::Elements(starts.len() as u64));
    for (label, business) in [
        ("add 8h", SignedDuration::from_hours(8)),
        ("add 3 days (24h)", SignedDuration::from_hours(24)),
    ] {
        group.bench_function(label, |b| {
            b.iter(|| {
                for &t in &starts {
                    black_box(cal.add(black_box(t), business).expect("due"));
                }
            })
        });
    }
    group.bench_function("between (1 week)", |b| {
        b.iter(|| {
            for &t in &starts {
                black_box(cal.between(black_box(t), t + SignedDuration::from_hours(168)));
            }
        })
    });
    group.finish();
}

/// A whole SLA clock reading (elapsed, due time, warning time, state) for a record opened at
/// each start, paused twice for an hour while waiting on the customer: what a record page and
/// every clock write compute.
fn clock_readings(c: &mut Criterion) {
    let cal = calendar();
    let hour = 3_600_000_000;
    let tracks: Vec<(Track, i64)> = starts()
        .into_iter()
        .map(|t| {
            let start = t.as_microsecond();
            let pause = |from: i64| Pause {
                from,
                to: Some(from + hour),
                why: "pending: awaiting customer".into(),
            };
            let track = Track {
                started_at: Some(start),
                pauses: vec![pause(start + 2 * hour), pause(start + 26 * hour)],
                stopped_at: None,
                seen_at: start + 27 * hour,
            };
            (track, start + 30 * hour)
        })
        .collect();
    let mut group = c.benchmark_group("sla");
    group.throughput(Throughput::Elements(tracks.len() as u64));
    group.bench_function("read a clock with 2 pauses (16h target)", |b| {
        b.iter(|| {
            for (track, now) in &tracks {
                black_box(steward_domain::sla::read(
                    black_box(track),
                    SignedDuration::from_hours(16),
                    75,
                    &cal,
                    *now,
                ));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, due_dates, clock_readings);
criterion_main!(benches);
