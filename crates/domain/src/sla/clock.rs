//! One SLA clock: when it started, when it was paused and why, when it stopped; and, given a
//! target and a calendar, what it reads now.
//!
//! A clock is fed the facts of its record after every change ([`Track::observe`]). It keeps
//! only instants, never business durations, so the same track reads correctly against any
//! target or calendar: a priority change, a new agreement or an edited calendar is applied
//! from the original start without replaying anything.

use super::rule::{Facts, Rule};
use crate::calendar::Calendar;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch, as the store keeps instants.
pub type Micros = i64;

/// A stretch of time the clock did not count: paused, or stopped and later resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: Micros,
    /// `None` while the pause lasts.
    pub to: Option<Micros>,
    /// What held the clock, in words (`pending: awaiting customer`, `resolved`).
    pub why: String,
}

/// The instants a clock has seen: its whole history, independent of targets and calendars.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    /// When the start condition first held; a clock that never started counts nothing.
    pub started_at: Option<Micros>,
    /// In time order, disjoint, all after `started_at`; only the last may be open.
    #[serde(default)]
    pub pauses: Vec<Pause>,
    /// When the stop condition began to hold, while it still does.
    pub stopped_at: Option<Micros>,
    /// The latest instant observed: observations never move the clock backwards.
    #[serde(default)]
    pub seen_at: Micros,
}

/// What a started clock is doing between observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Running,
    Paused,
    Stopped,
}

impl Track {
    /// Builds a track from a record's history: the facts after each change, in time order.
    pub fn replay<'a>(
        rule: &Rule,
        history: impl IntoIterator<Item = (Micros, &'a Facts)>,
    ) -> Track {
        let mut track = Track::default();
        for (at, facts) in history {
            track.observe(rule, at, facts);
        }
        track
    }

    pub fn mode(&self) -> Option<Mode> {
        self.started_at?;
        Some(if self.stopped_at.is_some() {
            Mode::Stopped
        } else if self.pauses.last().is_some_and(|p| p.to.is_none()) {
            Mode::Paused
        } else {
            Mode::Running
        })
    }

    /// Takes in the record's facts as of `at`. An `at` before an earlier observation is read as
    /// that earlier instant, so a clock never runs backwards.
    pub fn observe(&mut self, rule: &Rule, at: Micros, facts: &Facts) {
        let at = at.max(self.seen_at);
        self.seen_at = at;
        if self.started_at.is_none() {
            if !rule.start.holds(facts) {
                return;
            }
            self.started_at = Some(at);
        }
        let next = if rule.stop.holds(facts) {
            Mode::Stopped
        } else if rule.pause.holds(facts) {
            Mode::Paused
        } else {
            Mode::Running
        };
        let Some(now) = self.mode() else { return };
        if now == next {
            return;
        }
        match now {
            Mode::Paused => self.end_pause(at),
            Mode::Stopped => {
                // A reopened record resumes its clock; the time it spent stopped is not counted.
                let from = self.stopped_at.take().unwrap_or(at);
                self.pauses.push(Pause {
                    from,
                    to: Some(at),
                    why: "stopped, then resumed".into(),
                });
            }
            Mode::Running => {}
        }
        match next {
            Mode::Paused => self.pauses.push(Pause {
                from: at,
                to: None,
                why: rule.pause.explain(facts),
            }),
            Mode::Stopped => self.stopped_at = Some(at),
            Mode::Running => {}
        }
        self.merge_empty_pauses();
    }

    fn end_pause(&mut self, at: Micros) {
        if let Some(open) = self.pauses.last_mut().filter(|p| p.to.is_none()) {
            open.to = Some(at);
        }
    }

    /// A pause that began and ended at the same instant held nothing.
    fn merge_empty_pauses(&mut self) {
        self.pauses.retain(|p| p.to != Some(p.from));
    }

    /// The stretches the clock counted, `[from, to)`; the last one is open (`None`) while it runs.
    pub fn running(&self) -> Vec<(Micros, Option<Micros>)> {
        let Some(mut from) = self.started_at else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(self.pauses.len() + 1);
        for pause in &self.pauses {
            out.push((from, Some(pause.from)));
            match pause.to {
                Some(to) => from = to,
                None => return drop_empty(out),
            }
        }
        out.push((from, self.stopped_at));
        drop_empty(out)
    }
}

fn drop_empty(mut spans: Vec<(Micros, Option<Micros>)>) -> Vec<(Micros, Option<Micros>)> {
    spans.retain(|&(a, b)| b.is_none_or(|b| b > a));
    spans
}

/// How a clock stands, as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Paused,
    Met,
    Breached,
}

crate::service::text_enum!(ClockState {
    Running => "running", Paused => "paused", Met => "met", Breached => "breached",
});

/// A clock read against its target on its calendar at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub state: ClockState,
    /// When the target is (or was) reached; unknown while paused short of it.
    pub due_at: Option<Micros>,
    /// When the warning threshold is (or was) reached, likewise.
    pub warn_at: Option<Micros>,
    /// Business time counted so far.
    pub elapsed: SignedDuration,
    /// Target minus elapsed: negative once overdue.
    pub remaining: SignedDuration,
}

impl Reading {
    /// Remaining business time in whole minutes, rounded away from zero so that a clock with
    /// seconds left still shows a minute and one a second overdue shows minus one.
    pub fn remaining_minutes(&self) -> i64 {
        const MINUTE: i128 = 60_000_000_000;
        let nanos = self.remaining.as_nanos();
        let minutes = (nanos.abs() + MINUTE - 1) / MINUTE;
        i64::try_from(minutes * nanos.signum()).unwrap_or(i64::MAX)
    }

    /// Whether the warning point has passed on a clock that is neither stopped nor breached.
    pub fn warns(&self, now: Micros) -> bool {
        matches!(self.state, ClockState::Running | ClockState::Paused)
            && self.warn_at.is_some_and(|w| w <= now)
    }
}

/// Reads `track` at `now` against a `target` of business time on `calendar`, with the warning
/// at `warn_percent` of the target.
pub fn read(
    track: &Track,
    target: SignedDuration,
    warn_percent: u8,
    calendar: &Calendar,
    now: Micros,
) -> Reading {
    let spans = track.running();
    let end = track.stopped_at.unwrap_or(now).min(now);
    let elapsed = spans
        .iter()
        .map(|&(a, b)| business(calendar, a, b.unwrap_or(end).min(end)))
        .fold(SignedDuration::ZERO, |acc, d| acc.saturating_add(d));
    let due_at = reach(&spans, target, calendar);
    let warn = target
        .checked_mul(i32::from(warn_percent))
        .and_then(|d| d.checked_div(100))
        .unwrap_or(target);
    let warn_at = reach(&spans, warn, calendar);
    let late = |t: Micros| due_at.is_some_and(|due| t > due);
    let state = match track.mode() {
        Some(Mode::Stopped) if late(end) => ClockState::Breached,
        Some(Mode::Stopped) => ClockState::Met,
        _ if late(now) => ClockState::Breached,
        Some(Mode::Paused) | None => ClockState::Paused,
        Some(Mode::Running) => ClockState::Running,
    };
    Reading {
        state,
        due_at,
        warn_at,
        elapsed,
        remaining: target.saturating_sub(elapsed),
    }
}

/// The instant the counted stretches reach `amount` of business time, if they do.
fn reach(
    spans: &[(Micros, Option<Micros>)],
    amount: SignedDuration,
    calendar: &Calendar,
) -> Option<Micros> {
    let mut left = amount;
    for &(a, b) in spans {
        let start = ts(a);
        if let Some(b) = b {
            let len = calendar.between(start, ts(b));
            if len < left {
                left = left.saturating_sub(len);
                continue;
            }
        }
        return calendar.add(start, left).ok().map(micros);
    }
    None
}

fn business(calendar: &Calendar, a: Micros, b: Micros) -> SignedDuration {
    calendar.between(ts(a), ts(b))
}

fn ts(micros: Micros) -> Timestamp {
    Timestamp::from_microsecond(micros).unwrap_or(if micros < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

fn micros(t: Timestamp) -> Micros {
    t.as_microsecond()
}
