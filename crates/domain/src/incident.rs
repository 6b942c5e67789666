//! Incidents: unplanned interruptions or degradations of a service (ISO/IEC 20000-1 8.6.1).
//!
//! The lifecycle is an explicit state machine: `Status::transition` either returns what the
//! change implies (timestamps to set, fields to clear) or refuses with the statuses that are
//! allowed from here, which the API reports with a 409.

use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Impact or urgency.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    #[default]
    Medium,
    High,
}

/// P1 (most urgent) to P5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
    P5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    New,
    InProgress,
    Pending,
    Resolved,
    Closed,
    Cancelled,
}

/// Why an incident waits: the clock owner is someone outside the service desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PendingReason {
    AwaitingCustomer,
    ThirdParty,
}

/// How the incident reached the service desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Portal,
    Email,
    #[default]
    Phone,
    Api,
    Monitoring,
}

crate::service::text_enum!(Level { Low => "low", Medium => "medium", High => "high" });
crate::service::text_enum!(Priority { P1 => "P1", P2 => "P2", P3 => "P3", P4 => "P4", P5 => "P5" });
crate::service::text_enum!(Status {
    New => "new", InProgress => "in_progress", Pending => "pending",
    Resolved => "resolved", Closed => "closed", Cancelled => "cancelled",
});
crate::service::text_enum!(PendingReason { AwaitingCustomer => "awaiting_customer", ThirdParty => "third_party" });
crate::service::text_enum!(Source { Portal => "portal", Email => "email", Phone => "phone", Api => "api", Monitoring => "monitoring" });

/// Impact × urgency → priority. Tenants may replace the default table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityMatrix {
    /// Rows by impact (low, medium, high), columns by urgency (low, medium, high).
    pub cells: [[Priority; 3]; 3],
}

impl Default for PriorityMatrix {
    fn default() -> Self {
        use Priority::*;
        PriorityMatrix {
            cells: [[P5, P4, P3], [P4, P3, P2], [P3, P2, P1]],
        }
    }
}

impl PriorityMatrix {
    pub fn priority(&self, impact: Level, urgency: Level) -> Priority {
        self.cells[impact as usize][urgency as usize]
    }
}

impl Status {
    /// Statuses that end the lifecycle.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Cancelled)
    }

    /// Open means someone still has work to do (resolved waits only for confirmation).
    pub fn is_open(self) -> bool {
        matches!(self, Status::New | Status::InProgress | Status::Pending)
    }

    /// Where an incident may go from here, ignoring the conditions checked in `transition`.
    pub fn next(self) -> &'static [Status] {
        use Status::*;
        match self {
            New => &[InProgress, Pending, Resolved, Cancelled],
            InProgress => &[Pending, Resolved, Cancelled],
            Pending => &[InProgress, Resolved, Cancelled],
            Resolved => &[Closed, InProgress],
            Closed | Cancelled => &[],
        }
    }

    /// Checks a status change against the lifecycle and its conditions.
    pub fn transition(self, to: Status, ctx: &TransitionContext) -> Result<Transition, Refusal> {
        if !self.next().contains(&to) {
            return Err(Refusal::NotAllowed {
                from: self,
                to,
                allowed: self.next().to_vec(),
            });
        }
        if to == Status::Pending && ctx.pending_reason.is_none() {
            return Err(Refusal::Needs(
                "pending_reason",
                "Say what the incident is waiting for: awaiting_customer or third_party",
            ));
        }
        if to == Status::Closed && ctx.resolution_code.is_none() {
            return Err(Refusal::Needs(
                "resolution_code",
                "Closing needs a resolution code",
            ));
        }
        if self == Status::Resolved && to == Status::InProgress {
            let resolved_at = ctx.resolved_at_micros.unwrap_or(ctx.now_micros);
            let window = i64::try_from(ctx.reopen_window.as_micros()).unwrap_or(i64::MAX);
            if ctx.now_micros.saturating_sub(resolved_at) > window {
                return Err(Refusal::ReopenWindowPassed);
            }
        }
        Ok(Transition {
            to,
            set_resolved_at: to == Status::Resolved,
            clear_resolved_at: self == Status::Resolved && to == Status::InProgress,
            set_closed_at: to.is_terminal(),
            keep_pending_reason: to == Status::Pending,
        })
    }
}

/// Facts a transition depends on.
#[derive(Debug, Clone)]
pub struct TransitionContext {
    pub now_micros: i64,
    pub resolved_at_micros: Option<i64>,
    pub resolution_code: Option<String>,
    pub pending_reason: Option<PendingReason>,
    /// How long after resolution the requester may still reopen.
    pub reopen_window: Duration,
}

/// What an allowed status change implies for the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub to: Status,
    pub set_resolved_at: bool,
    pub clear_resolved_at: bool,
    pub set_closed_at: bool,
    pub keep_pending_reason: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("an incident cannot go from {from} to {to}")]
    NotAllowed {
        from: Status,
        to: Status,
        allowed: Vec<Status>,
    },
    #[error("{1}")]
    Needs(&'static str, &'static str),
    #[error("the reopen window has passed; open a new incident instead")]
    ReopenWindowPassed,
}

/// Default reopen window.
pub const REOPEN_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a requester's public reply does to the incident's status. An answer to the desk's
/// question resumes the work, and a reply to a resolution within the reopen window reopens the
/// incident: the requester is saying it is not fixed. Anything else leaves the status alone.
pub fn after_requester_reply(
    status: Status,
    pending_reason: Option<PendingReason>,
    ctx: &TransitionContext,
) -> Option<Transition> {
    let resumes = match status {
        Status::Pending => pending_reason == Some(PendingReason::AwaitingCustomer),
        Status::Resolved => true,
        _ => false,
    };
    resumes
        .then(|| status.transition(Status::InProgress, ctx).ok())
        .flatten()
}

/// The fields an agent edits, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentDraft {
    pub title: String,
    pub description: String,
    pub impact: Level,
    pub urgency: Level,
    pub service_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub requester_contact_id: Option<i64>,
    pub assignee_team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub source: Source,
    pub resolution_code: Option<String>,
    pub resolution_notes: String,
}

impl IncidentDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, 300);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            100_000,
        );
        self.resolution_notes = optional_text(
            &mut errors,
            "resolution_notes",
            "Resolution notes",
            &self.resolution_notes,
            20_000,
        );
        self.resolution_code = self
            .resolution_code
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if self
            .resolution_code
            .as_ref()
            .is_some_and(|c| c.chars().count() > 100)
        {
            errors.add(
                "resolution_code",
                "Resolution code must be at most 100 characters",
            );
        }
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx() -> TransitionContext {
        TransitionContext {
            now_micros: 1_000_000_000,
            resolved_at_micros: None,
            resolution_code: None,
            pending_reason: None,
            reopen_window: REOPEN_WINDOW,
        }
    }

    #[test]
    fn a_requester_reply_reopens_a_resolution_within_the_window() {
        let resolved = TransitionContext {
            resolved_at_micros: Some(0),
            ..ctx()
        };
        let t = after_requester_reply(Status::Resolved, None, &resolved).expect("reopens");
        assert!(t.clear_resolved_at);
        let late = TransitionContext {
            now_micros: i64::try_from(REOPEN_WINDOW.as_micros()).unwrap_or(i64::MAX) + 1,
            ..resolved
        };
        assert_eq!(after_requester_reply(Status::Resolved, None, &late), None);
        let third_party = Some(PendingReason::ThirdParty);
        assert_eq!(
            after_requester_reply(Status::Pending, third_party, &ctx()),
            None
        );
        assert_eq!(after_requester_reply(Status::New, None, &ctx()), None);
    }

    #[test]
    fn default_matrix() {
        let m = PriorityMatrix::default();
        assert_eq!(m.priority(Level::High, Level::High), Priority::P1);
        assert_eq!(m.priority(Level::Medium, Level::Medium), Priority::P3);
        assert_eq!(m.priority(Level::Low, Level::Low), Priority::P5);
        assert_eq!(m.priority(Level::High, Level::Low), Priority::P3);
    }

    #[test]
    fn illegal_moves_name_the_allowed_ones() {
        let err = Status::New
            .transition(Status::Closed, &ctx())
            .expect_err("new cannot close");
        assert_eq!(
            err,
            Refusal::NotAllowed {
                from: Status::New,
                to: Status::Closed,
                allowed: vec![
                    Status::InProgress,
                    Status::Pending,
                    Status::Resolved,
                    Status::Cancelled
                ]
            }
        );
    }

    #[test]
    fn closing_needs_a_resolution_code_and_pending_a_reason() {
        assert!(matches!(
            Status::Resolved.transition(Status::Closed, &ctx()),
            Err(Refusal::Needs("resolution_code", _))
        ));
        let with_code = TransitionContext {
            resolution_code: Some("fixed".into()),
            ..ctx()
        };
        assert!(
            Status::Resolved
                .transition(Status::Closed, &with_code)
                .is_ok()
        );
        assert!(matches!(
            Status::New.transition(Status::Pending, &ctx()),
            Err(Refusal::Needs("pending_reason", _))
        ));
    }

    #[test]
    fn reopening_is_limited_to_the_window() {
        let day = 86_400_000_000;
        let recent = TransitionContext {
            resolved_at_micros: Some(1_000_000_000 - day),
            ..ctx()
        };
        assert!(
            Status::Resolved
                .transition(Status::InProgress, &recent)
                .is_ok()
        );
        let old = TransitionContext {
            now_micros: 1_000_000_000 + 8 * day,
            resolved_at_micros: Some(1_000_000_000),
            ..ctx()
        };
        assert_eq!(
            Status::Resolved.transition(Status::InProgress, &old),
            Err(Refusal::ReopenWindowPassed)
        );
    }

    fn any_level() -> impl Strategy<Value = Level> {
        prop_oneof![Just(Level::Low), Just(Level::Medium), Just(Level::High)]
    }

    fn any_status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn more_impact_or_urgency_never_lowers_priority(i in any_level(), u in any_level(), j in any_level(), v in any_level()) {
            let m = PriorityMatrix::default();
            if i <= j && u <= v {
                // P1 < P5 in declaration order: a more urgent priority compares smaller.
                prop_assert!(m.priority(j, v) <= m.priority(i, u));
            }
        }

        #[test]
        fn any_walk_follows_the_lifecycle(steps in prop::collection::vec(any_status(), 0..30)) {
            let full = TransitionContext { resolution_code: Some("fixed".into()), pending_reason: Some(PendingReason::ThirdParty), ..ctx() };
            let mut status = Status::New;
            let mut resolved = false;
            for to in steps {
                match status.transition(to, &full) {
                    Ok(t) => {
                        prop_assert!(status.next().contains(&to));
                        prop_assert!(!status.is_terminal());
                        if t.set_resolved_at { resolved = true; }
                        if t.clear_resolved_at { resolved = false; }
                        status = t.to;
                    }
                    Err(Refusal::NotAllowed { allowed, .. }) => prop_assert_eq!(allowed, status.next().to_vec()),
                    Err(other) => prop_assert!(false, "unexpected refusal {other:?}"),
                }
                // A resolution time exists exactly while the incident is resolved or closed after it.
                if status.is_open() { prop_assert!(!resolved); }
                if matches!(status, Status::Resolved | Status::Closed) { prop_assert!(resolved); }
            }
        }

        #[test]
        fn a_requester_reply_only_ever_resumes_work(
            status in any_status(),
            awaiting_customer in any::<bool>(),
            age_hours in 0i64..400,
        ) {
            let reason = if awaiting_customer { PendingReason::AwaitingCustomer } else { PendingReason::ThirdParty };
            let now = 1_000_000_000_000i64;
            let at = TransitionContext { now_micros: now, resolved_at_micros: Some(now - age_hours * 3_600_000_000), ..ctx() };
            match after_requester_reply(status, Some(reason), &at) {
                Some(t) => {
                    prop_assert_eq!(t.to, Status::InProgress);
                    prop_assert!(status.next().contains(&Status::InProgress));
                    prop_assert!(status != Status::Pending || awaiting_customer);
                    prop_assert!(status != Status::Resolved || age_hours <= 7 * 24);
                }
                None => {
                    let reopenable = status == Status::Resolved && age_hours <= 7 * 24;
                    let answerable = status == Status::Pending && awaiting_customer;
                    prop_assert!(!reopenable && !answerable);
                }
            }
        }
    }
}
