//! Complaints (8.3.2-g/h/i): recorded, investigated, actioned and closed with the outcome told
//! to the complainant, escalated when they run past their target date.
//!
//! The lifecycle is a straight line, and every step carries what it stands for:
//! received → investigating → actioned (the findings and the action taken) → closed (the date,
//! the outcome and that the complainant was told). Closed is final.

use super::{add_months, not_future};
use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub const MAX_SUMMARY: usize = 200;
pub const MAX_TEXT: usize = 10_000;
/// Days a complaint gets by default, from the day it was received.
pub const DEFAULT_TARGET_DAYS: i64 = 10;

/// How the complaint reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = ComplaintChannel))]
pub enum Channel {
    Email,
    Phone,
    Portal,
    Meeting,
    Other,
}

crate::service::text_enum!(Channel {
    Email => "email", Phone => "phone", Portal => "portal", Meeting => "meeting", Other => "other",
});

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::Email => "E-mail",
            Channel::Phone => "Phone",
            Channel::Portal => "Portal",
            Channel::Meeting => "Meeting",
            Channel::Other => "Other",
        }
    }
}

/// Where a complaint stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    Received,
    Investigating,
    /// The findings and the action taken are on record.
    Actioned,
    /// The complainant was told the outcome.
    Closed,
}

crate::service::text_enum!(ComplaintStatus {
    Received => "received", Investigating => "investigating", Actioned => "actioned",
    Closed => "closed",
});

impl ComplaintStatus {
    pub fn label(self) -> &'static str {
        match self {
            ComplaintStatus::Received => "Received",
            ComplaintStatus::Investigating => "Investigating",
            ComplaintStatus::Actioned => "Actioned",
            ComplaintStatus::Closed => "Closed",
        }
    }

    pub fn is_open(self) -> bool {
        self != ComplaintStatus::Closed
    }
}

/// What someone does to a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStep {
    Investigate,
    /// Record the findings and the action taken.
    Action,
    /// Close, with the outcome told to the complainant.
    Close,
}

crate::service::text_enum!(ComplaintStep {
    Investigate => "investigate", Action => "action", Close => "close",
});

impl ComplaintStep {
    pub fn label(self) -> &'static str {
        match self {
            ComplaintStep::Investigate => "Start investigating",
            ComplaintStep::Action => "Record action taken",
            ComplaintStep::Close => "Close with outcome",
        }
    }

    /// Where the step leads from `from`, or why it cannot be taken.
    pub fn apply(self, from: ComplaintStatus) -> Result<ComplaintStatus, StepRefused> {
        use ComplaintStatus::*;
        use ComplaintStep::*;
        match (from, self) {
            (Received, Investigate) => Ok(Investigating),
            (Investigating, Action) => Ok(Actioned),
            (Actioned, Close) => Ok(Closed),
            _ => Err(StepRefused { from, step: self }),
        }
    }

    /// The step open from `status`, if any.
    pub fn next_from(status: ComplaintStatus) -> Option<ComplaintStep> {
        ComplaintStep::ALL
            .iter()
            .copied()
            .find(|s| s.apply(status).is_ok())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a complaint that is {} cannot be given the step \"{}\"", .from.label().to_lowercase(), .step.label().to_lowercase())]
pub struct StepRefused {
    pub from: ComplaintStatus,
    pub step: ComplaintStep,
}

/// What a step carries. Only the fields its step needs are read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StepInput {
    /// Actioned: what the investigation found.
    pub findings: String,
    /// Actioned: what was done about it.
    pub action_taken: String,
    /// Closed: the day it was closed.
    pub closed_on: Option<Date>,
    /// Closed: the complainant was told the outcome.
    pub customer_informed: bool,
    /// Closed: the outcome as told to the complainant.
    pub outcome: String,
    /// Any step: a note for the history.
    pub note: String,
}

/// Why a step was not taken: out of order, or without what it needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Refused(#[from] StepRefused),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// Checks `input` for `step` from `from` on a complaint received on `received_on`; gives the
/// new status and the input cleaned (trimmed; fields the step does not carry emptied).
pub fn transition(
    from: ComplaintStatus,
    step: ComplaintStep,
    input: StepInput,
    received_on: Date,
    today: Date,
) -> Result<(ComplaintStatus, StepInput), StepError> {
    let to = step.apply(from)?;
    let mut errors = Invalid::new();
    let mut clean = StepInput {
        note: optional_text(&mut errors, "note", "Note", input.note.trim(), MAX_TEXT),
        ..StepInput::default()
    };
    match step {
        ComplaintStep::Investigate => {}
        ComplaintStep::Action => {
            clean.findings = required_text(
                &mut errors,
                "findings",
                "The investigation's findings",
                &input.findings,
                MAX_TEXT,
            );
            clean.action_taken = required_text(
                &mut errors,
                "action_taken",
                "The action taken",
                &input.action_taken,
                MAX_TEXT,
            );
        }
        ComplaintStep::Close => {
            match input.closed_on {
                None => errors.add("closed_on", "The closing date is required"),
                Some(d) => {
                    not_future(&mut errors, "closed_on", "The closing date", d, today);
                    if d < received_on {
                        errors.add(
                            "closed_on",
                            format!(
                                "The closing date cannot be before the complaint was received ({received_on})"
                            ),
                        );
                    }
                }
            }
            clean.closed_on = input.closed_on;
            if !input.customer_informed {
                errors.add(
                    "customer_informed",
                    "Tell the complainant the outcome before closing the complaint",
                );
            }
            clean.customer_informed = input.customer_informed;
            clean.outcome = required_text(
                &mut errors,
                "outcome",
                "The outcome told to the complainant",
                &input.outcome,
                MAX_TEXT,
            );
        }
    }
    errors.into_result((to, clean)).map_err(StepError::from)
}

/// A complaint as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplaintDraft {
    pub customer_id: Option<i64>,
    pub service_id: Option<i64>,
    /// Who complained: a contact's name or whoever it was.
    pub complainant: String,
    pub received_on: Date,
    pub channel: Channel,
    pub summary: String,
    pub details: String,
    pub owner_id: Option<i64>,
    /// Defaults to ten days after it was received.
    pub target_date: Option<Date>,
}

/// A complaint that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidComplaint {
    pub customer_id: i64,
    pub service_id: Option<i64>,
    pub complainant: String,
    pub received_on: Date,
    pub channel: Channel,
    pub summary: String,
    pub details: String,
    pub owner_id: i64,
    pub target_date: Date,
}

/// The default target date of a complaint received on `received_on`.
pub fn default_target(received_on: Date) -> Date {
    received_on
        .checked_add(jiff::Span::new().days(DEFAULT_TARGET_DAYS))
        .unwrap_or(received_on)
}

impl ComplaintDraft {
    pub fn validate(self, today: Date) -> Result<ValidComplaint, Invalid> {
        let mut errors = Invalid::new();
        if self.customer_id.is_none_or(|id| id <= 0) {
            errors.add("customer_id", "Choose the customer who complained");
        }
        if self.owner_id.is_none_or(|id| id <= 0) {
            errors.add("owner_id", "Choose who owns the complaint");
        }
        if self.service_id.is_some_and(|id| id <= 0) {
            errors.add("service_id", "Choose a service, or none");
        }
        let complainant = required_text(
            &mut errors,
            "complainant",
            "Complainant",
            &self.complainant,
            200,
        );
        not_future(
            &mut errors,
            "received_on",
            "The date received",
            self.received_on,
            today,
        );
        let summary = required_text(
            &mut errors,
            "summary",
            "Summary",
            &self.summary,
            MAX_SUMMARY,
        );
        let details = optional_text(
            &mut errors,
            "details",
            "Details",
            self.details.trim(),
            MAX_TEXT,
        );
        let target_date = self
            .target_date
            .unwrap_or_else(|| default_target(self.received_on));
        if target_date < self.received_on {
            errors.add(
                "target_date",
                "The target date cannot be before the complaint was received",
            );
        }
        if add_months(self.received_on, 24).is_some_and(|limit| target_date > limit) {
            errors.add(
                "target_date",
                "The target date must be within two years of receipt",
            );
        }
        errors.into_result(ValidComplaint {
            customer_id: self.customer_id.unwrap_or_default(),
            service_id: self.service_id,
            complainant,
            received_on: self.received_on,
            channel: self.channel,
            summary,
            details,
            owner_id: self.owner_id.unwrap_or_default(),
            target_date,
        })
    }
}

/// Whether an open complaint has run past its target date on `today`.
pub fn overdue(status: ComplaintStatus, target_date: Date, today: Date) -> bool {
    status.is_open() && target_date < today
}

/// An escalation as typed: to whom and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationDraft {
    /// The person it goes to, by name.
    pub escalated_to: String,
    pub reason: String,
}

impl EscalationDraft {
    /// Checks the escalation of a complaint in `status` due on `target_date`: only an open
    /// complaint past its target date is escalated (8.3.2-h).
    pub fn validate(
        mut self,
        status: ComplaintStatus,
        target_date: Date,
        today: Date,
    ) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        if !overdue(status, target_date, today) {
            errors.add(
                "escalated_to",
                if status.is_open() {
                    format!(
                        "A complaint is escalated once it is past its target date ({target_date})"
                    )
                } else {
                    "A closed complaint is not escalated".to_string()
                },
            );
        }
        self.escalated_to = required_text(
            &mut errors,
            "escalated_to",
            "The person escalated to",
            &self.escalated_to,
            200,
        );
        self.reason = required_text(&mut errors, "reason", "Reason", &self.reason, MAX_TEXT);
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComplaintStatus::*;
    use ComplaintStep::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn draft() -> ComplaintDraft {
        ComplaintDraft {
            customer_id: Some(1),
            service_id: None,
            complainant: " Hank Scorpio ".into(),
            received_on: date(2026, 3, 2),
            channel: Channel::Phone,
            summary: "Payroll outage went unexplained".into(),
            details: String::new(),
            owner_id: Some(2),
            target_date: None,
        }
    }

    fn full() -> StepInput {
        StepInput {
            findings: "Status page not updated".into(),
            action_taken: "Comms duty added to the major-incident rota".into(),
            closed_on: Some(date(2026, 3, 9)),
            customer_informed: true,
            outcome: "Apologised; explained the new rota".into(),
            note: String::new(),
        }
    }

    #[test]
    fn the_target_defaults_to_ten_days_after_receipt() {
        let v = draft().validate(date(2026, 3, 2)).expect("valid");
        assert_eq!(v.target_date, date(2026, 3, 12));
        assert_eq!(v.complainant, "Hank Scorpio");
        let mut d = draft();
        d.customer_id = None;
        d.owner_id = None;
        d.received_on = date(2026, 3, 3);
        d.target_date = Some(date(2026, 3, 1));
        let e = d.validate(date(2026, 3, 2)).expect_err("refused");
        for field in ["customer_id", "owner_id", "received_on", "target_date"] {
            assert!(e.message_for(field).is_some(), "{field}");
        }
    }

    #[test]
    fn actioned_needs_findings_and_action_and_closed_needs_the_outcome_told() {
        let today = date(2026, 3, 10);
        let received = date(2026, 3, 2);
        let e = transition(Investigating, Action, StepInput::default(), received, today)
            .expect_err("refused");
        let StepError::Invalid(e) = e else {
            panic!("expected field errors")
        };
        assert!(e.message_for("findings").is_some() && e.message_for("action_taken").is_some());
        let mut input = full();
        input.customer_informed = false;
        let StepError::Invalid(e) =
            transition(Actioned, Close, input, received, today).expect_err("refused")
        else {
            panic!("expected field errors")
        };
        assert!(e.message_for("customer_informed").is_some());
        let (to, clean) = transition(Actioned, Close, full(), received, today).expect("closed");
        assert_eq!(to, Closed);
        assert!(clean.findings.is_empty());
    }

    #[test]
    fn steps_go_in_order_and_say_why_not() {
        let e = Close.apply(Received).expect_err("refused");
        assert_eq!(
            e.to_string(),
            "a complaint that is received cannot be given the step \"close with outcome\""
        );
        assert_eq!(ComplaintStep::next_from(Investigating), Some(Action));
        assert_eq!(ComplaintStep::next_from(Closed), None);
    }

    #[test]
    fn only_overdue_open_complaints_are_escalated() {
        let e = EscalationDraft {
            escalated_to: "Head of service".into(),
            reason: "No answer".into(),
        };
        let target = date(2026, 3, 12);
        assert!(
            e.clone()
                .validate(Received, target, date(2026, 3, 12))
                .is_err()
        );
        assert!(
            e.clone()
                .validate(Closed, target, date(2026, 4, 1))
                .is_err()
        );
        assert!(e.validate(Investigating, target, date(2026, 3, 13)).is_ok());
    }

    fn input_strategy() -> impl Strategy<Value = StepInput> {
        (
            prop_oneof![
                Just(String::new()),
                Just("  ".to_string()),
                Just("found".to_string())
            ],
            prop_oneof![Just(String::new()), Just("fixed".to_string())],
            prop_oneof![
                Just(None),
                Just(Some(date(2026, 3, 1))),
                Just(Some(date(2026, 3, 5))),
                Just(Some(date(2026, 4, 1)))
            ],
            any::<bool>(),
            prop_oneof![Just(String::new()), Just("told them".to_string())],
        )
            .prop_map(
                |(findings, action_taken, closed_on, customer_informed, outcome)| StepInput {
                    findings,
                    action_taken,
                    closed_on,
                    customer_informed,
                    outcome,
                    note: String::new(),
                },
            )
    }

    proptest! {
        /// Whatever steps are tried with whatever input, no status is reached without what it
        /// stands for, none is skipped, and nothing leaves Closed.
        #[test]
        fn no_step_skips_required_data(
            tries in proptest::collection::vec((0usize..ComplaintStep::ALL.len(), input_strategy()), 0..30)
        ) {
            let received = date(2026, 3, 2);
            let today = date(2026, 3, 20);
            let mut status = Received;
            let mut seen = vec![Received];
            for (i, input) in tries {
                let step = ComplaintStep::ALL[i];
                match transition(status, step, input.clone(), received, today) {
                    Ok((next, clean)) => {
                        prop_assert!(status != Closed);
                        match next {
                            Actioned => prop_assert!(
                                !clean.findings.is_empty() && !clean.action_taken.is_empty()
                            ),
                            Closed => {
                                prop_assert!(clean.customer_informed && !clean.outcome.is_empty());
                                prop_assert!(clean.closed_on.is_some_and(|d| d >= received && d <= today));
                                prop_assert!(seen.contains(&Actioned));
                            }
                            Investigating => prop_assert_eq!(status, Received),
                            Received => prop_assert!(false, "nothing leads back to received"),
                        }
                        seen.push(next);
                        status = next;
                    }
                    Err(StepError::Refused(r)) => prop_assert_eq!(r.from, status),
                    Err(StepError::Invalid(e)) => prop_assert!(!e.errors.is_empty()),
                }
            }
            if status == Closed {
                prop_assert_eq!(seen, vec![Received, Investigating, Actioned, Closed]);
            }
        }
    }
}
