use super::clock::{Mode, Pause, Track};
use super::rule::Facts;
use super::*;
use crate::calendar::{Calendar, CalendarDraft, Holiday, Weekday, WorkingHours};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn office() -> Calendar {
    CalendarDraft {
        name: "Office".into(),
        timezone: "Europe/Berlin".into(),
        hours: [
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
        .collect(),
        holidays: vec![Holiday {
            date: "2026-12-25".into(),
            name: "Christmas".into(),
            yearly: true,
        }],
        exceptions: vec![],
    }
    .validate()
    .expect("valid calendar")
}

/// Berlin wall-clock time (winter, UTC+1) to micros.
fn at(local: &str) -> i64 {
    let ts: Timestamp = format!("{local}:00+01:00").parse().expect("instant");
    ts.as_microsecond()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

fn facts(status: &str) -> Facts {
    Facts {
        status: status.into(),
        priority: Some(Priority::P2),
        ..Facts::default()
    }
}

fn pending(reason: &str) -> Facts {
    Facts {
        pending_reason: Some(reason.into()),
        ..facts("pending")
    }
}

fn sla(targets: Vec<Target>) -> AgreementDraft {
    AgreementDraft::new("Gold", AgreementKind::Sla, RecordKind::Incident, targets)
}

fn target(metric: &str, priority: Option<Priority>, minutes: u32) -> Target {
    Target {
        metric: metric.into(),
        priority,
        minutes,
    }
}

fn resolution_rule() -> rule::Rule {
    sla(vec![target(RESOLUTION, None, 60)])
        .validate()
        .expect("valid")
        .rule(RESOLUTION)
}

fn resolution_track(history: &[(i64, Facts)]) -> Track {
    Track::replay(&resolution_rule(), history.iter().map(|(t, f)| (*t, f)))
}

#[test]
fn due_time_counts_only_working_hours() {
    let track = resolution_track(&[(at("2026-12-07T10:00"), facts("new"))]);
    let r = read(&track, hours(8), 75, &office(), at("2026-12-07T12:00"));
    assert_eq!(r.due_at, Some(at("2026-12-08T10:00")));
    assert_eq!(r.warn_at, Some(at("2026-12-07T16:00")));
    assert_eq!(r.state, ClockState::Running);
    assert_eq!(r.remaining_minutes(), 6 * 60);
}

#[test]
fn waiting_on_the_customer_pauses_and_moves_the_due_time() {
    let track = resolution_track(&[
        (at("2026-12-07T10:00"), facts("new")),
        (at("2026-12-07T11:00"), pending("awaiting_customer")),
        (at("2026-12-07T13:00"), facts("in_progress")),
    ]);
    assert_eq!(track.pauses.len(), 1);
    assert_eq!(track.pauses[0].why, "pending: awaiting customer");
    let r = read(&track, hours(8), 75, &office(), at("2026-12-07T14:00"));
    assert_eq!(r.due_at, Some(at("2026-12-08T12:00")));
    assert_eq!(r.elapsed, hours(2));
}

#[test]
fn a_paused_clock_has_no_due_time_and_keeps_its_remainder() {
    let track = resolution_track(&[
        (at("2026-12-07T10:00"), facts("new")),
        (at("2026-12-07T12:00"), pending("awaiting_customer")),
    ]);
    let r = read(&track, hours(8), 75, &office(), at("2026-12-09T12:00"));
    assert_eq!(r.state, ClockState::Paused);
    assert_eq!(r.due_at, None);
    assert_eq!(r.remaining_minutes(), 6 * 60);
}

#[test]
fn waiting_on_a_third_party_does_not_pause_an_sla() {
    let track = resolution_track(&[
        (at("2026-12-07T10:00"), facts("new")),
        (at("2026-12-07T11:00"), pending("third_party")),
    ]);
    assert_eq!(track.mode(), Some(Mode::Running));
}

#[test]
fn resolving_in_time_meets_and_late_breaches() {
    let cal = office();
    let met = resolution_track(&[
        (at("2026-12-07T10:00"), facts("new")),
        (at("2026-12-08T10:00"), facts("resolved")),
    ]);
    assert_eq!(
        read(&met, hours(8), 75, &cal, at("2026-12-20T10:00")).state,
        ClockState::Met
    );
    let late = resolution_track(&[
        (at("2026-12-07T10:00"), facts("new")),
        (at("2026-12-08T10:01"), facts("resolved")),
    ]);
    let r = read(&late, hours(8), 75, &cal, at("2026-12-20T10:00"));
    assert_eq!(r.state, ClockState::Breached);
    assert_eq!(r.remaining_minutes(), -1);
}

#[test]
fn overdue_on_friday_evening_is_breached_all_weekend() {
    let track = resolution_track(&[(at("2026-12-11T09:00"), facts("new"))]);
    let r = read(&track, hours(8), 75, &office(), at("2026-12-12T12:00"));
    assert_eq!(r.due_at, Some(at("2026-12-11T17:00")));
    assert_eq!(r.state, ClockState::Breached);
    assert_eq!(r.remaining_minutes(), 0);
}

#[test]
fn reopening_resumes_without_counting_the_resolved_time() {
    let track = resolution_track(&[
        (at("2026-12-07T09:00"), facts("new")),
        (at("2026-12-07T11:00"), facts("resolved")),
        (at("2026-12-08T11:00"), facts("in_progress")),
    ]);
    assert_eq!(track.mode(), Some(Mode::Running));
    let r = read(&track, hours(8), 75, &office(), at("2026-12-08T12:00"));
    assert_eq!(r.elapsed, hours(3));
    assert_eq!(r.due_at, Some(at("2026-12-08T17:00")));
}

#[test]
fn first_response_stops_at_the_first_reply() {
    let a = sla(vec![target(FIRST_RESPONSE, None, 60)])
        .validate()
        .expect("valid");
    let replied = Facts {
        responded: true,
        ..facts("in_progress")
    };
    let history = [
        (at("2026-12-07T09:00"), facts("new")),
        (at("2026-12-07T09:30"), replied),
    ];
    let track = Track::replay(
        &a.rule(FIRST_RESPONSE),
        history.iter().map(|(t, f)| (*t, f)),
    );
    assert_eq!(track.stopped_at, Some(at("2026-12-07T09:30")));
    let r = read(&track, hours(1), 75, &office(), at("2026-12-09T09:00"));
    assert_eq!(r.state, ClockState::Met);
}

#[test]
fn a_priority_change_recounts_from_the_original_start() {
    let a = sla(vec![
        target(RESOLUTION, Some(Priority::P1), 4 * 60),
        target(RESOLUTION, None, 16 * 60),
    ])
    .validate()
    .expect("valid");
    let agreements = [Numbered {
        id: 1,
        agreement: &a,
    }];
    let mut history = vec![(at("2026-12-07T09:00"), facts("new"))];
    let before = derive(RecordKind::Incident, &history, &agreements);
    assert_eq!(before[0].minutes, 16 * 60);
    history.push((
        at("2026-12-07T11:00"),
        Facts {
            priority: Some(Priority::P1),
            ..facts("in_progress")
        },
    ));
    let after = derive(RecordKind::Incident, &history, &agreements);
    assert_eq!(after[0].minutes, 4 * 60);
    assert_eq!(after[0].track.started_at, Some(at("2026-12-07T09:00")));
    let r = read(
        &after[0].track,
        hours(4),
        75,
        &office(),
        at("2026-12-07T11:00"),
    );
    assert_eq!(r.due_at, Some(at("2026-12-07T13:00")));
}

#[test]
fn the_most_specific_sla_wins() {
    let default = sla(vec![target(RESOLUTION, None, 600)])
        .validate()
        .expect("valid");
    let service = AgreementDraft {
        service_id: Some(7),
        ..sla(vec![target(RESOLUTION, None, 300)])
    }
    .validate()
    .expect("valid");
    let customer = AgreementDraft {
        customer_id: Some(3),
        ..sla(vec![target(RESOLUTION, None, 200)])
    }
    .validate()
    .expect("valid");
    let both = AgreementDraft {
        customer_id: Some(3),
        service_id: Some(7),
        ..sla(vec![target(RESOLUTION, None, 100)])
    }
    .validate()
    .expect("valid");
    let all = [
        Numbered {
            id: 1,
            agreement: &default,
        },
        Numbered {
            id: 2,
            agreement: &service,
        },
        Numbered {
            id: 3,
            agreement: &customer,
        },
        Numbered {
            id: 4,
            agreement: &both,
        },
    ];
    let minutes_for = |customer_id, service_id| {
        let f = Facts {
            customer_id,
            service_id,
            ..facts("new")
        };
        derive(RecordKind::Incident, &[(0, f)], &all)[0].minutes
    };
    assert_eq!(minutes_for(Some(3), Some(7)), 100);
    assert_eq!(minutes_for(Some(3), Some(8)), 200);
    assert_eq!(minutes_for(Some(4), Some(7)), 300);
    assert_eq!(minutes_for(None, None), 600);
}

#[test]
fn an_ola_runs_only_while_its_team_has_the_record() {
    let ola = AgreementDraft {
        kind: AgreementKind::Ola,
        team_id: Some(5),
        ..sla(vec![target(RESOLUTION, None, 120)])
    }
    .validate()
    .expect("valid");
    let with = |team| Facts {
        team_id: team,
        ..facts("in_progress")
    };
    let history = vec![
        (at("2026-12-07T09:00"), with(None)),
        (at("2026-12-07T10:00"), with(Some(5))),
        (at("2026-12-07T11:00"), with(Some(6))),
    ];
    let clocks = derive(
        RecordKind::Incident,
        &history,
        &[Numbered {
            id: 9,
            agreement: &ola,
        }],
    );
    assert_eq!(clocks.len(), 1);
    assert_eq!(clocks[0].slot, "ola:9");
    assert_eq!(clocks[0].track.started_at, Some(at("2026-12-07T10:00")));
    assert_eq!(clocks[0].track.pauses[0].why, "with another team");
    let r = read(
        &clocks[0].track,
        hours(2),
        75,
        &office(),
        at("2026-12-08T10:00"),
    );
    assert_eq!((r.state, r.elapsed), (ClockState::Paused, hours(1)));
}

#[test]
fn an_underpinning_contract_counts_the_wait_on_the_supplier() {
    let uc = AgreementDraft {
        kind: AgreementKind::Uc,
        supplier: "Carrier".into(),
        ..sla(vec![target(RESOLUTION, None, 240)])
    }
    .validate()
    .expect("valid");
    let history = vec![
        (at("2026-12-07T09:00"), facts("new")),
        (at("2026-12-07T10:00"), pending("third_party")),
        (at("2026-12-07T12:00"), facts("in_progress")),
    ];
    let clocks = derive(
        RecordKind::Incident,
        &history,
        &[Numbered {
            id: 2,
            agreement: &uc,
        }],
    );
    let r = read(
        &clocks[0].track,
        hours(4),
        75,
        &office(),
        at("2026-12-07T15:00"),
    );
    assert_eq!((r.state, r.elapsed), (ClockState::Paused, hours(2)));
}

#[test]
fn milestones_stop_on_their_own_condition() {
    let a = AgreementDraft {
        milestones: vec![Milestone {
            name: "assigned".into(),
            reached_in: vec![],
            reached_when_assigned: true,
        }],
        ..sla(vec![target("assigned", None, 30)])
    }
    .validate()
    .expect("valid");
    let assigned = Facts {
        assignee_id: Some(1),
        ..facts("new")
    };
    let history = [
        (at("2026-12-07T09:00"), facts("new")),
        (at("2026-12-07T09:20"), assigned),
    ];
    let clocks = derive(
        RecordKind::Incident,
        &history,
        &[Numbered {
            id: 1,
            agreement: &a,
        }],
    );
    assert_eq!(clocks[0].track.stopped_at, Some(at("2026-12-07T09:20")));
}

#[test]
fn validation_explains_each_mistake() {
    let bad = AgreementDraft {
        name: " ".into(),
        kind: AgreementKind::Ola,
        warn_percent: 100,
        pause_in: Some(vec!["waiting".into()]),
        ..sla(vec![
            target("diagnosed", None, 0),
            target(RESOLUTION, None, 5),
            target(RESOLUTION, None, 6),
        ])
    };
    let invalid = bad.validate().expect_err("invalid");
    for field in [
        "name",
        "team_id",
        "warn_percent",
        "pause_in",
        "targets[0].metric",
        "targets[0].minutes",
        "targets[2].priority",
    ] {
        assert!(
            invalid.message_for(field).is_some(),
            "no error for {field}: {invalid:?}"
        );
    }
    let request = AgreementDraft {
        record_kind: RecordKind::Request,
        service_id: Some(1),
        ..sla(vec![target(FIRST_RESPONSE, Some(Priority::P1), 5)])
    };
    let invalid = request.validate().expect_err("invalid");
    for field in ["service_id", "targets[0].metric", "targets[0].priority"] {
        assert!(
            invalid.message_for(field).is_some(),
            "no error for {field}: {invalid:?}"
        );
    }
}

#[test]
fn requests_pause_while_waiting_for_approval() {
    let a = AgreementDraft {
        record_kind: RecordKind::Request,
        ..sla(vec![target(RESOLUTION, None, 60)])
    }
    .validate()
    .expect("valid");
    let history = [
        (at("2026-12-07T09:00"), facts("pending_approval")),
        (at("2026-12-07T11:00"), facts("in_fulfilment")),
        (at("2026-12-07T11:30"), facts("fulfilled")),
    ];
    let clocks = derive(
        RecordKind::Request,
        &history,
        &[Numbered {
            id: 1,
            agreement: &a,
        }],
    );
    let r = read(
        &clocks[0].track,
        hours(1),
        75,
        &office(),
        at("2026-12-08T09:00"),
    );
    assert_eq!(
        (r.state, r.elapsed),
        (ClockState::Met, SignedDuration::from_mins(30))
    );
}

// ---- properties ----------------------------------------------------------------------------

const STATUSES: &[&str] = &["new", "in_progress", "pending", "resolved", "closed"];
const REASONS: &[&str] = &["awaiting_customer", "third_party"];
const WEEK: i64 = 7 * 86_400_000_000;
const START: i64 = 1_796_000_000_000_000; // late 2026

fn arb_history() -> impl Strategy<Value = Vec<(i64, Facts)>> {
    prop::collection::vec(
        (
            0i64..WEEK / 4,
            0usize..STATUSES.len(),
            0usize..2,
            any::<bool>(),
        ),
        1..12,
    )
    .prop_map(|steps| {
        let mut t = START;
        steps
            .into_iter()
            .map(|(gap, s, r, p1)| {
                t += gap;
                let status = STATUSES[s];
                let facts = Facts {
                    status: status.into(),
                    pending_reason: (status == "pending").then(|| REASONS[r].into()),
                    priority: Some(if p1 { Priority::P1 } else { Priority::P3 }),
                    ..Facts::default()
                };
                (t, facts)
            })
            .collect()
    })
}

fn check_shape(track: &Track) -> Result<(), TestCaseError> {
    let start = track.started_at.unwrap_or(i64::MIN);
    let mut last = start;
    for (i, Pause { from, to, .. }) in track.pauses.iter().enumerate() {
        prop_assert!(
            *from >= last,
            "pauses overlap or precede the start: {track:?}"
        );
        match to {
            Some(to) => {
                prop_assert!(to > from);
                last = *to;
            }
            None => prop_assert_eq!(i, track.pauses.len() - 1),
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn tracks_stay_well_formed(history in arb_history()) {
        let track = resolution_track(&history);
        check_shape(&track)?;
        prop_assert_eq!(track.started_at, Some(history[0].0));
    }

    #[test]
    fn elapsed_plus_remaining_is_the_target(history in arb_history(), later in 0i64..WEEK, minutes in 1i64..5000) {
        let track = resolution_track(&history);
        let now = history.last().map_or(START, |h| h.0) + later;
        let target = SignedDuration::from_mins(minutes);
        let r = read(&track, target, 75, &office(), now);
        prop_assert_eq!(r.elapsed + r.remaining, target);
        prop_assert!(r.elapsed <= SignedDuration::from_micros(now - START));
    }

    #[test]
    fn elapsed_never_shrinks(history in arb_history(), a in 0i64..WEEK, b in 0i64..WEEK) {
        let track = resolution_track(&history);
        let (a, b) = (START + a.min(b), START + a.max(b));
        let cal = office();
        prop_assert!(read(&track, hours(8), 75, &cal, a).elapsed <= read(&track, hours(8), 75, &cal, b).elapsed);
    }

    #[test]
    fn at_the_due_time_exactly_the_target_has_elapsed(history in arb_history(), minutes in 1i64..3000) {
        let cal = Calendar::around_the_clock();
        let track = resolution_track(&history);
        let target = SignedDuration::from_mins(minutes);
        let far = START + 10 * WEEK;
        if let Some(due) = read(&track, target, 75, &cal, far).due_at {
            prop_assert_eq!(read(&track, target, 75, &cal, due).elapsed, target);
            let state = read(&track, target, 75, &cal, due).state;
            prop_assert!(state != ClockState::Breached, "breached at its own due time");
        }
    }

    #[test]
    fn met_means_stopped_by_the_due_time(history in arb_history(), minutes in 1i64..3000) {
        let track = resolution_track(&history);
        let r = read(&track, SignedDuration::from_mins(minutes), 75, &office(), START + 20 * WEEK);
        match (r.state, track.stopped_at, r.due_at) {
            (ClockState::Met, Some(stop), due) => prop_assert!(due.is_none_or(|d| stop <= d)),
            (ClockState::Met, None, _) => prop_assert!(false, "met without stopping"),
            (ClockState::Breached, _, due) => prop_assert!(due.is_some()),
            _ => {}
        }
    }

    #[test]
    fn pausing_never_brings_the_due_time_forward(history in arb_history(), minutes in 1i64..3000) {
        let cal = office();
        let target = SignedDuration::from_mins(minutes);
        let with_pauses = resolution_track(&history);
        let never_paused: Vec<(i64, Facts)> = history
            .iter()
            .map(|(t, f)| (*t, if f.status == "pending" { facts("in_progress") } else { f.clone() }))
            .collect();
        let without = resolution_track(&never_paused);
        let far = START + 20 * WEEK;
        let (a, b) = (read(&with_pauses, target, 75, &cal, far), read(&without, target, 75, &cal, far));
        prop_assert!(a.elapsed <= b.elapsed);
        if let (Some(a), Some(b)) = (a.due_at, b.due_at) {
            prop_assert!(a >= b);
        }
    }

    #[test]
    fn the_warning_comes_no_later_than_the_due_time(history in arb_history(), minutes in 1i64..3000, pct in 1u8..100) {
        let track = resolution_track(&history);
        let r = read(&track, SignedDuration::from_mins(minutes), pct, &office(), START + 20 * WEEK);
        if let (Some(w), Some(d)) = (r.warn_at, r.due_at) {
            prop_assert!(w <= d);
        }
    }
}

#[test]
fn an_sla_may_start_its_clocks_later_than_the_opening() {
    let a = AgreementDraft {
        record_kind: RecordKind::Request,
        start_in: vec!["in_fulfilment".into()],
        pause_in: Some(vec![]),
        ..sla(vec![target(RESOLUTION, None, 60)])
    }
    .validate()
    .expect("valid");
    let history = [
        (at("2026-12-07T09:00"), facts("pending_approval")),
        (at("2026-12-07T13:00"), facts("in_fulfilment")),
    ];
    let clocks = derive(
        RecordKind::Request,
        &history,
        &[Numbered {
            id: 1,
            agreement: &a,
        }],
    );
    assert_eq!(clocks[0].track.started_at, Some(at("2026-12-07T13:00")));
    assert_eq!(
        a.rule(RESOLUTION).starts_in_words(),
        "when status is in fulfilment"
    );
    let ola = AgreementDraft {
        kind: AgreementKind::Ola,
        team_id: Some(1),
        start_in: vec!["in_progress".into(), "sleeping".into()],
        ..sla(vec![target(RESOLUTION, None, 60)])
    };
    let invalid = ola.validate().expect_err("an OLA starts with its team");
    assert_eq!(
        invalid
            .errors
            .iter()
            .filter(|e| e.field == "start_in")
            .count(),
        2
    );
}
