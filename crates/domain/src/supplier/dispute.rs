//! Disputes with suppliers (8.3.4.1 i): logged when raised and seen through until settled.
//!
//! The lifecycle is explicit: open → escalated → resolved → closed, or open → resolved
//! straight away. Escalating names who it goes to and why; resolving needs the resolution.
//! Each step is kept in the dispute's history. A dispute still open (not escalated) more than
//! 30 days after it was raised is flagged: it should have been settled or escalated by then.

use super::{MAX_NAME, MAX_TEXT, StepError, add_days};
use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Days an open dispute may wait before it is flagged for escalation.
pub const ESCALATE_AFTER_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = SupplierDisputeState))]
pub enum DisputeState {
    Open,
    Escalated,
    Resolved,
    Closed,
}

crate::service::text_enum!(DisputeState {
    Open => "open", Escalated => "escalated", Resolved => "resolved", Closed => "closed",
});

impl DisputeState {
    pub fn label(self) -> &'static str {
        match self {
            DisputeState::Open => "Open",
            DisputeState::Escalated => "Escalated",
            DisputeState::Resolved => "Resolved",
            DisputeState::Closed => "Closed",
        }
    }

    /// Not yet settled.
    pub fn unsettled(self) -> bool {
        matches!(self, DisputeState::Open | DisputeState::Escalated)
    }
}

/// What someone does to a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = SupplierDisputeStep))]
pub enum DisputeStep {
    Escalate,
    Resolve,
    Close,
}

crate::service::text_enum!(DisputeStep {
    Escalate => "escalate", Resolve => "resolve", Close => "close",
});

impl DisputeStep {
    pub fn label(self) -> &'static str {
        match self {
            DisputeStep::Escalate => "Escalate",
            DisputeStep::Resolve => "Resolve",
            DisputeStep::Close => "Close",
        }
    }

    /// Where the step leads from `from`, or why it cannot be taken.
    pub fn apply(self, from: DisputeState) -> Result<DisputeState, StepError> {
        use DisputeState::*;
        match (from, self) {
            (Open, DisputeStep::Escalate) => Ok(Escalated),
            (Open | Escalated, DisputeStep::Resolve) => Ok(Resolved),
            (Resolved, DisputeStep::Close) => Ok(Closed),
            _ => Err(StepError::Refused(format!(
                "A dispute that is {} cannot be given the step \"{}\"",
                from.label().to_lowercase(),
                self.label().to_lowercase()
            ))),
        }
    }

    /// The steps open from `state`, in the order a page offers them.
    pub fn open_from(state: DisputeState) -> Vec<DisputeStep> {
        DisputeStep::ALL
            .iter()
            .copied()
            .filter(|s| s.apply(state).is_ok())
            .collect()
    }
}

/// What a step carries: escalation needs to whom and why, resolving the resolution; a note on
/// closing is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepInput {
    pub escalated_to: String,
    pub note: String,
}

/// A step taken, checked: the state it leads to and its fields, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stepped {
    pub to: DisputeState,
    pub escalated_to: String,
    pub note: String,
}

/// Checks `step` from `from` with its input.
pub fn step(from: DisputeState, step: DisputeStep, input: StepInput) -> Result<Stepped, StepError> {
    let to = step.apply(from)?;
    let mut errors = Invalid::new();
    let (escalated_to, note) = match step {
        DisputeStep::Escalate => (
            required_text(
                &mut errors,
                "escalated_to",
                "Who it is escalated to",
                &input.escalated_to,
                MAX_NAME,
            ),
            required_text(
                &mut errors,
                "note",
                "Why it is escalated",
                &input.note,
                MAX_TEXT,
            ),
        ),
        DisputeStep::Resolve => (
            String::new(),
            required_text(&mut errors, "note", "The resolution", &input.note, MAX_TEXT),
        ),
        DisputeStep::Close => (
            String::new(),
            optional_text(&mut errors, "note", "The note", input.note.trim(), MAX_TEXT),
        ),
    };
    Ok(errors.into_result(Stepped {
        to,
        escalated_to,
        note,
    })?)
}

/// Whether a dispute in `state` raised on `raised_on` is still open, unescalated, more than 30
/// days later on `today`.
pub fn overdue(state: DisputeState, raised_on: Date, today: Date) -> bool {
    state == DisputeState::Open && add_days(raised_on, ESCALATE_AFTER_DAYS) < today
}

/// The fields of a new dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisputeDraft {
    pub raised_on: Date,
    pub subject: String,
    pub details: String,
}

impl DisputeDraft {
    pub fn validate(mut self, today: Date) -> Result<DisputeDraft, Invalid> {
        let mut errors = Invalid::new();
        if self.raised_on > today {
            errors.add("raised_on", "A dispute cannot be raised in the future");
        }
        self.subject = required_text(&mut errors, "subject", "Subject", &self.subject, MAX_NAME);
        self.details = optional_text(
            &mut errors,
            "details",
            "Details",
            self.details.trim(),
            MAX_TEXT,
        );
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supplier::tests::day;
    use proptest::prelude::*;

    fn input(to: &str, note: &str) -> StepInput {
        StepInput {
            escalated_to: to.into(),
            note: note.into(),
        }
    }

    #[test]
    fn the_lifecycle_runs_open_escalated_resolved_closed() {
        use DisputeState::*;
        let s = step(Open, DisputeStep::Escalate, input("Director", "No answer")).expect("esc");
        assert_eq!(s.to, Escalated);
        let s = step(Escalated, DisputeStep::Resolve, input("", "Credit note")).expect("res");
        assert_eq!(s.to, Resolved);
        assert_eq!(
            step(Resolved, DisputeStep::Close, input("", "")).map(|s| s.to),
            Ok(Closed)
        );
        assert_eq!(
            step(Open, DisputeStep::Resolve, input("", "Agreed")).map(|s| s.to),
            Ok(Resolved)
        );
        assert!(matches!(
            step(Open, DisputeStep::Close, input("", "")),
            Err(StepError::Refused(_))
        ));
        assert!(matches!(
            step(Escalated, DisputeStep::Escalate, input("X", "Y")),
            Err(StepError::Refused(_))
        ));
        assert_eq!(DisputeStep::open_from(Closed), vec![]);
        assert_eq!(
            DisputeStep::open_from(Open),
            vec![DisputeStep::Escalate, DisputeStep::Resolve]
        );
    }

    #[test]
    fn escalation_needs_who_and_why_resolution_needs_the_resolution() {
        let Err(StepError::Invalid(e)) =
            step(DisputeState::Open, DisputeStep::Escalate, input(" ", ""))
        else {
            panic!("accepted")
        };
        assert_eq!(
            e.message_for("escalated_to"),
            Some("Who it is escalated to is required")
        );
        assert_eq!(
            e.message_for("note"),
            Some("Why it is escalated is required")
        );
        let Err(StepError::Invalid(e)) =
            step(DisputeState::Open, DisputeStep::Resolve, input("", " "))
        else {
            panic!("accepted")
        };
        assert_eq!(e.message_for("note"), Some("The resolution is required"));
    }

    #[test]
    fn open_disputes_are_flagged_after_thirty_days() {
        let raised = day("2026-03-01");
        assert!(!overdue(DisputeState::Open, raised, day("2026-03-31")));
        assert!(overdue(DisputeState::Open, raised, day("2026-04-01")));
        assert!(!overdue(DisputeState::Escalated, raised, day("2026-06-01")));
        assert!(!overdue(DisputeState::Resolved, raised, day("2026-06-01")));
    }

    #[test]
    fn a_dispute_is_not_raised_in_the_future() {
        let d = DisputeDraft {
            raised_on: day("2026-03-02"),
            subject: " Invoice ".into(),
            details: String::new(),
        };
        assert!(d.clone().validate(day("2026-03-01")).is_err());
        assert_eq!(
            d.validate(day("2026-03-02")).expect("ok").subject,
            "Invoice"
        );
    }

    fn any_step() -> impl Strategy<Value = DisputeStep> {
        prop::sample::select(DisputeStep::ALL.to_vec())
    }

    proptest! {
        /// Driven by any steps with any text: nothing leaves closed, nothing is resolved
        /// without a resolution, nothing is escalated without who and why, an escalation
        /// comes only from open, and closed only after resolved.
        #[test]
        fn the_dispute_machine_keeps_its_rules(
            steps in proptest::collection::vec((any_step(), "[ a-z]{0,3}", "[ a-z]{0,3}"), 0..12),
        ) {
            let mut state = DisputeState::Open;
            let mut resolved_once = false;
            for (s, to, note) in steps {
                let before = state;
                match step(state, s, StepInput { escalated_to: to.clone(), note: note.clone() }) {
                    Ok(done) => {
                        prop_assert!(before != DisputeState::Closed);
                        match s {
                            DisputeStep::Escalate => {
                                prop_assert_eq!(before, DisputeState::Open);
                                prop_assert!(!done.escalated_to.is_empty() && !done.note.is_empty());
                            }
                            DisputeStep::Resolve => {
                                prop_assert!(before.unsettled());
                                prop_assert!(!done.note.is_empty());
                                resolved_once = true;
                            }
                            DisputeStep::Close => prop_assert_eq!(before, DisputeState::Resolved),
                        }
                        state = done.to;
                    }
                    Err(_) => prop_assert_eq!(state, before),
                }
                if state == DisputeState::Closed {
                    prop_assert!(resolved_once);
                }
            }
        }
    }
}
