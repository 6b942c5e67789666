//! The improvement register (ISO/IEC 20000-1 10.2): opportunities to improve the management
//! system and the services, the criteria they are judged by, the decision on each, and the
//! benefit it brought once implemented.
//!
//! An opportunity is proposed, then decided (approved, deferred or rejected, always with a
//! reason), worked and implemented, and closed only once the benefit realised is written down:
//! that last sentence is what an auditor reads to see that improvement is real.

use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 5_000;

/// Where an opportunity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImprovementSource {
    /// An internal or external audit's opportunity for improvement.
    Audit,
    Nonconformity,
    ManagementReview,
    /// A customer's suggestion, complaint or survey.
    Customer,
    Staff,
    Supplier,
    /// Trends in incidents, problems, SLA reports and the like.
    Measurement,
    Other,
}

crate::service::text_enum!(ImprovementSource {
    Audit => "audit", Nonconformity => "nonconformity", ManagementReview => "management_review",
    Customer => "customer", Staff => "staff", Supplier => "supplier", Measurement => "measurement",
    Other => "other",
});

impl ImprovementSource {
    pub fn label(self) -> &'static str {
        match self {
            ImprovementSource::Audit => "Audit",
            ImprovementSource::Nonconformity => "Nonconformity",
            ImprovementSource::ManagementReview => "Management review",
            ImprovementSource::Customer => "Customer",
            ImprovementSource::Staff => "Staff suggestion",
            ImprovementSource::Supplier => "Supplier",
            ImprovementSource::Measurement => "Measurement and trends",
            ImprovementSource::Other => "Other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = ImprovementPriority))]
pub enum Priority {
    Low,
    Medium,
    High,
}

crate::service::text_enum!(Priority { Low => "low", Medium => "medium", High => "high" });

impl Priority {
    pub fn label(self) -> &'static str {
        match self {
            Priority::Low => "Low",
            Priority::Medium => "Medium",
            Priority::High => "High",
        }
    }
}

/// Where an opportunity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImprovementStatus {
    /// Raised, waiting for a decision.
    Proposed,
    /// Worth doing later; it comes back as proposed.
    Deferred,
    Rejected,
    /// Decided on, not started.
    Approved,
    InProgress,
    /// Done; the benefit is still to be seen.
    Implemented,
    /// Done, with the benefit realised on record.
    Closed,
}

crate::service::text_enum!(ImprovementStatus {
    Proposed => "proposed", Deferred => "deferred", Rejected => "rejected", Approved => "approved",
    InProgress => "in_progress", Implemented => "implemented", Closed => "closed",
});

impl ImprovementStatus {
    pub fn label(self) -> &'static str {
        match self {
            ImprovementStatus::Proposed => "Proposed",
            ImprovementStatus::Deferred => "Deferred",
            ImprovementStatus::Rejected => "Rejected",
            ImprovementStatus::Approved => "Approved",
            ImprovementStatus::InProgress => "In progress",
            ImprovementStatus::Implemented => "Implemented",
            ImprovementStatus::Closed => "Closed",
        }
    }

    /// Whether a decision on it has been taken (what 10.2 asks of every opportunity).
    pub fn is_decided(self) -> bool {
        !matches!(self, ImprovementStatus::Proposed)
    }

    pub fn is_open(self) -> bool {
        !matches!(
            self,
            ImprovementStatus::Rejected | ImprovementStatus::Closed
        )
    }
}

/// What someone does to an opportunity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImprovementStep {
    Approve,
    Defer,
    Reject,
    /// Bring a deferred opportunity back for a decision.
    Reconsider,
    Start,
    Implement,
    /// Close with the benefit realised.
    Close,
}

crate::service::text_enum!(ImprovementStep {
    Approve => "approve", Defer => "defer", Reject => "reject", Reconsider => "reconsider",
    Start => "start", Implement => "implement", Close => "close",
});

impl ImprovementStep {
    pub fn label(self) -> &'static str {
        match self {
            ImprovementStep::Approve => "Approve",
            ImprovementStep::Defer => "Defer",
            ImprovementStep::Reject => "Reject",
            ImprovementStep::Reconsider => "Reconsider",
            ImprovementStep::Start => "Start work",
            ImprovementStep::Implement => "Mark implemented",
            ImprovementStep::Close => "Close with benefit",
        }
    }

    /// Whether the step is a decision, which needs its reason written down.
    pub fn is_decision(self) -> bool {
        matches!(
            self,
            ImprovementStep::Approve | ImprovementStep::Defer | ImprovementStep::Reject
        )
    }

    /// Where the step leads from `from`, or why it cannot be taken.
    pub fn apply(self, from: ImprovementStatus) -> Result<ImprovementStatus, StepRefused> {
        use ImprovementStatus::*;
        use ImprovementStep::*;
        let to = match (from, self) {
            (Proposed | Deferred, Approve) => Approved,
            (Proposed, Defer) => Deferred,
            (Proposed | Deferred, Reject) => Rejected,
            (Deferred, Reconsider) => Proposed,
            (Approved, Start) => InProgress,
            (Approved | InProgress, Implement) => Implemented,
            (Implemented, Close) => Closed,
            _ => return Err(StepRefused { from, step: self }),
        };
        Ok(to)
    }

    /// The steps open from `status`, in the order a page offers them.
    pub fn open_from(status: ImprovementStatus) -> Vec<ImprovementStep> {
        ImprovementStep::ALL
            .iter()
            .copied()
            .filter(|s| s.apply(status).is_ok())
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an improvement that is {} cannot be given the step \"{}\"", .from.label().to_lowercase(), .step.label().to_lowercase())]
pub struct StepRefused {
    pub from: ImprovementStatus,
    pub step: ImprovementStep,
}

/// The note a step carries, checked against what the step needs: a decision needs its reason,
/// closing needs the benefit realised.
pub fn step_note(step: ImprovementStep, note: &str) -> Result<String, Invalid> {
    let mut errors = Invalid::new();
    let note = match step {
        ImprovementStep::Close => {
            required_text(&mut errors, "note", "The benefit realised", note, MAX_TEXT)
        }
        s if s.is_decision() => {
            required_text(&mut errors, "note", "The decision's reason", note, MAX_TEXT)
        }
        _ => optional_text(&mut errors, "note", "Note", note.trim(), MAX_TEXT),
    };
    errors.into_result(note)
}

/// The editable fields of an opportunity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImprovementDraft {
    pub title: String,
    pub description: String,
    pub source: ImprovementSource,
    /// The record it came from (a nonconformity's or review's id), when there is one.
    pub source_ref: Option<i64>,
    /// How the opportunity is judged: cost, effort, risk, fit with the objectives.
    pub evaluation_criteria: String,
    pub expected_benefit: String,
    pub priority: Priority,
    pub owner_id: Option<i64>,
    pub target_date: Option<Date>,
}

impl ImprovementDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, MAX_TITLE);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            self.description.trim(),
            MAX_TEXT,
        );
        self.evaluation_criteria = optional_text(
            &mut errors,
            "evaluation_criteria",
            "Evaluation criteria",
            self.evaluation_criteria.trim(),
            MAX_TEXT,
        );
        self.expected_benefit = optional_text(
            &mut errors,
            "expected_benefit",
            "Expected benefit",
            self.expected_benefit.trim(),
            MAX_TEXT,
        );
        if self.source_ref.is_some_and(|id| id <= 0) {
            errors.add("source_ref", "The source record's number must be positive");
        }
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ImprovementStatus::*;
    use ImprovementStep::*;
    use proptest::prelude::*;

    fn draft() -> ImprovementDraft {
        ImprovementDraft {
            title: "  Self-service password reset ".into(),
            description: "Half of the desk's calls are password resets.".into(),
            source: ImprovementSource::Measurement,
            source_ref: None,
            evaluation_criteria: "Cost under 5 days' work".into(),
            expected_benefit: "30% fewer calls".into(),
            priority: Priority::High,
            owner_id: Some(1),
            target_date: None,
        }
    }

    #[test]
    fn a_draft_is_trimmed_and_needs_a_title() {
        assert_eq!(
            draft().validate().expect("valid").title,
            "Self-service password reset"
        );
        let mut d = draft();
        d.title = "  ".into();
        d.source_ref = Some(0);
        let e = d.validate().expect_err("refused");
        assert_eq!(e.message_for("title"), Some("Title is required"));
        assert!(e.message_for("source_ref").is_some());
    }

    #[test]
    fn the_happy_path_ends_closed() {
        let mut s = Proposed;
        for step in [Approve, Start, Implement, Close] {
            s = step.apply(s).expect("allowed");
        }
        assert_eq!(s, Closed);
    }

    #[test]
    fn refusals_say_where_it_stands() {
        let e = Close.apply(Proposed).expect_err("refused");
        assert_eq!(
            e.to_string(),
            "an improvement that is proposed cannot be given the step \"close with benefit\""
        );
        assert_eq!(open_steps(Deferred), vec![Approve, Reject, Reconsider]);
    }

    fn open_steps(s: ImprovementStatus) -> Vec<ImprovementStep> {
        ImprovementStep::open_from(s)
    }

    #[test]
    fn decisions_need_reasons_and_closing_needs_the_benefit() {
        assert!(step_note(Approve, " ").is_err());
        assert!(step_note(Close, "").is_err());
        assert_eq!(step_note(Start, "  go ").expect("ok"), "go");
        assert_eq!(step_note(Reject, " too costly ").expect("ok"), "too costly");
    }

    proptest! {
        /// Whatever steps are tried, an opportunity is closed only after it was decided and
        /// implemented, and nothing leaves Rejected or Closed.
        #[test]
        fn closure_follows_decision_and_implementation(steps in proptest::collection::vec(0usize..ImprovementStep::ALL.len(), 0..30)) {
            let mut status = Proposed;
            let mut approved = false;
            let mut implemented = false;
            for i in steps {
                let step = ImprovementStep::ALL[i];
                match step.apply(status) {
                    Ok(next) => {
                        prop_assert!(status.is_open());
                        approved |= next == Approved;
                        implemented |= next == Implemented;
                        if next == Closed {
                            prop_assert!(approved && implemented);
                        }
                        status = next;
                    }
                    Err(refused) => prop_assert_eq!(refused.from, status),
                }
            }
            prop_assert_eq!(status.is_decided(), status != Proposed);
        }
    }
}
