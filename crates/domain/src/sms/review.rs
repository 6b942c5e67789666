//! Management review (ISO/IEC 20000-1 9.3): top management reviews the management system and
//! the services at planned intervals, on inputs the standard lists, and decides on actions.
//!
//! A review is planned, then held (with its minutes, on inputs Steward compiled from its own
//! records), then closed once its decisions are written down; a planned review may be
//! cancelled. Holding freezes the inputs: the record must show what the meeting saw. The
//! actions a review decides are tracked to closure on their own, after the review is closed.

use crate::validation::{Invalid, optional_text, required_text};
use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 20_000;

/// Where a review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Planned,
    /// The meeting took place; its minutes are on record and its inputs frozen.
    Held,
    /// Its decisions are written down; its actions are tracked on their own.
    Closed,
    Cancelled,
}

crate::service::text_enum!(ReviewStatus {
    Planned => "planned", Held => "held", Closed => "closed", Cancelled => "cancelled",
});

impl ReviewStatus {
    pub fn label(self) -> &'static str {
        match self {
            ReviewStatus::Planned => "Planned",
            ReviewStatus::Held => "Held",
            ReviewStatus::Closed => "Closed",
            ReviewStatus::Cancelled => "Cancelled",
        }
    }

    /// Whether the inputs may still be compiled again (only before the meeting).
    pub fn inputs_open(self) -> bool {
        self == ReviewStatus::Planned
    }

    /// Whether the title, dates, chair and attendees may still be edited.
    pub fn editable(self) -> bool {
        matches!(self, ReviewStatus::Planned | ReviewStatus::Held)
    }
}

/// What someone does to a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewStep {
    Hold,
    Close,
    Cancel,
}

crate::service::text_enum!(ReviewStep { Hold => "hold", Close => "close", Cancel => "cancel" });

impl ReviewStep {
    pub fn label(self) -> &'static str {
        match self {
            ReviewStep::Hold => "Record as held",
            ReviewStep::Close => "Close with decisions",
            ReviewStep::Cancel => "Cancel",
        }
    }

    /// Where the step leads from `from`, or why it cannot be taken.
    pub fn apply(self, from: ReviewStatus) -> Result<ReviewStatus, StepRefused> {
        use ReviewStatus::*;
        let to = match (from, self) {
            (Planned, ReviewStep::Hold) => Held,
            (Held, ReviewStep::Close) => Closed,
            (Planned, ReviewStep::Cancel) => Cancelled,
            _ => return Err(StepRefused { from, step: self }),
        };
        Ok(to)
    }

    /// The steps open from `status`, in the order a page offers them.
    pub fn open_from(status: ReviewStatus) -> Vec<ReviewStep> {
        ReviewStep::ALL
            .iter()
            .copied()
            .filter(|s| s.apply(status).is_ok())
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a review that is {} cannot be given the step \"{}\"", .from.label().to_lowercase(), .step.label().to_lowercase())]
pub struct StepRefused {
    pub from: ReviewStatus,
    pub step: ReviewStep,
}

/// The text a step carries, checked against what the step needs: holding needs the minutes
/// and inputs compiled, closing needs the decisions, cancelling needs a reason.
pub fn step_text(step: ReviewStep, text: &str, inputs_compiled: bool) -> Result<String, Invalid> {
    let mut errors = Invalid::new();
    let text = match step {
        ReviewStep::Hold => {
            if !inputs_compiled {
                errors.add(
                    "inputs",
                    "Compile the review's inputs before recording it as held",
                );
            }
            required_text(&mut errors, "minutes", "The minutes", text, MAX_TEXT)
        }
        ReviewStep::Close => {
            required_text(&mut errors, "decisions", "The decisions", text, MAX_TEXT)
        }
        ReviewStep::Cancel => required_text(
            &mut errors,
            "reason",
            "The reason for cancelling",
            text,
            MAX_TEXT,
        ),
    };
    errors.into_result(text)
}

/// The day a review was held when its minutes are written up afterwards: never after
/// `today`, since a meeting still to come is not held.
pub fn check_held_on(held_on: Date, today: Date) -> Result<Date, Invalid> {
    if held_on > today {
        return Err(Invalid::one(
            "held_on",
            format!("A review cannot be recorded as held on {held_on}, after today"),
        ));
    }
    Ok(held_on)
}

/// The editable fields of a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewDraft {
    pub title: String,
    pub planned_on: Date,
    /// The period reviewed; both default to the twelve months before the planned date.
    pub period_from: Option<Date>,
    pub period_to: Option<Date>,
    pub chair_id: Option<i64>,
    /// One attendee per line.
    pub attendees: String,
}

/// A validated draft, with its period settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidReview {
    pub title: String,
    pub planned_on: Date,
    pub period_from: Date,
    pub period_to: Date,
    pub chair_id: Option<i64>,
    pub attendees: String,
}

/// The twelve months before `planned_on`: from the same day a year earlier to the day before.
pub fn default_period(planned_on: Date) -> (Date, Date) {
    let from = planned_on.checked_sub(1.year()).unwrap_or(planned_on);
    let to = planned_on.yesterday().unwrap_or(planned_on);
    (from, to)
}

impl ReviewDraft {
    pub fn validate(self) -> Result<ValidReview, Invalid> {
        let mut errors = Invalid::new();
        let title = required_text(&mut errors, "title", "Title", &self.title, MAX_TITLE);
        let attendees = attendee_lines(&self.attendees);
        let attendees = optional_text(&mut errors, "attendees", "Attendees", &attendees, MAX_TEXT);
        let (default_from, default_to) = default_period(self.planned_on);
        let period_from = self.period_from.unwrap_or(default_from);
        let period_to = self.period_to.unwrap_or(default_to);
        if period_to < period_from {
            errors.add(
                "period_to",
                "The end of the period reviewed must not come before its start",
            );
        }
        errors.into_result(ValidReview {
            title,
            planned_on: self.planned_on,
            period_from,
            period_to,
            chair_id: self.chair_id,
            attendees,
        })
    }
}

/// Attendees one per line, trimmed, without blank lines.
pub fn attendee_lines(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An action a review decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionDraft {
    pub description: String,
    pub owner_id: Option<i64>,
    pub due_on: Date,
}

impl ActionDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.description = required_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            MAX_TEXT,
        );
        errors.into_result(self)
    }
}

/// Whether an action not done by `today` is past its due date.
pub fn action_overdue(due_on: Date, done: bool, today: Date) -> bool {
    !done && due_on < today
}

/// A count under a name: a status, a level, a kind of finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub key: String,
    pub label: String,
    pub count: i64,
}

/// An action of an earlier review that is still open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAction {
    pub id: i64,
    pub review_id: i64,
    pub review_title: String,
    pub description: String,
    pub due_on: Date,
    pub overdue: bool,
}

/// 9.3 a): the status of actions from previous management reviews.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierActions {
    pub open: i64,
    pub done: i64,
    pub overdue: i64,
    pub open_actions: Vec<OpenAction>,
}

/// One month's SLA attainment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthAttainment {
    /// `2026-01`.
    pub month: String,
    pub met: i64,
    pub total: i64,
    pub percent: Option<f64>,
}

/// Service performance against the SLAs in the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlaInputs {
    pub met: i64,
    pub total: i64,
    pub percent: Option<f64>,
    pub months: Vec<MonthAttainment>,
    /// The target of the active SLA-attainment objective, in %, when one is set (inputs
    /// compiled before targets were kept have none).
    #[serde(default)]
    pub target: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentInputs {
    pub raised: i64,
    pub resolved: i64,
    pub major: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProblemInputs {
    pub raised: i64,
    pub resolved: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeInputs {
    /// Closed or failed in the period.
    pub finished: i64,
    pub successful: i64,
    pub success_percent: Option<f64>,
}

/// An active objective and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveInput {
    pub id: i64,
    pub title: String,
    /// `at least 95 %`.
    pub target: String,
    pub latest: Option<f64>,
    pub standing: String,
    pub on_target: Option<bool>,
    /// Whether it is measured by hand (customer satisfaction is, today).
    pub manual: bool,
    /// Each month of the period that had a value: `(2026-01, 93.5)`.
    pub readings: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonconformityInputs {
    pub raised: i64,
    pub closed: i64,
    pub open: i64,
    pub overdue_actions: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInputs {
    pub reported: i64,
    pub findings: Vec<Tally>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskInputs {
    pub open_by_level: Vec<Tally>,
    pub reviews_overdue: i64,
}

/// A version of a core SMS document (scope, policy, plan, communication plan) approved in the
/// period: how the SMS's context and intent moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextDocument {
    pub document_id: i64,
    pub reference: String,
    pub title: String,
    pub version: i64,
    pub change_summary: String,
    pub approved_on: Date,
}

/// Changes in the context of the SMS and the services in the period (9.3): the core documents
/// re-approved and the risks and opportunities newly recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextInputs {
    pub documents: Vec<ContextDocument>,
    pub risks_recorded: i64,
    pub opportunities_recorded: i64,
}

/// An improvement closed in the period and the benefit it brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealisedImprovement {
    pub id: i64,
    pub title: String,
    pub benefit: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImprovementInputs {
    pub by_status: Vec<Tally>,
    pub closed_with_benefit: Vec<RealisedImprovement>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConformanceInputs {
    pub met: i64,
    pub gap: i64,
    pub open: i64,
}

/// One active supplier's performance in the review's period (9.3: performance of suppliers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplierPerformance {
    pub supplier_id: i64,
    pub name: String,
    pub kind: crate::supplier::SupplierKind,
    /// The latest performance review held in the period: its day, rating and what was missed.
    pub reviewed_on: Option<Date>,
    pub rating: Option<crate::supplier::review::Rating>,
    pub targets_missed: String,
    /// Disputes raised in the period, and those still unsettled at its end.
    pub disputes_raised: i64,
    pub disputes_open: i64,
    /// The end of the current contract, when it falls within 90 days of the period's end.
    pub contract_ends_on: Option<Date>,
    /// Attainment of the linked underpinning contracts' clocks decided in the period, in %.
    pub uc_percent: Option<f64>,
}

/// Supplier performance (9.3), per active supplier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupplierInputs {
    pub suppliers: Vec<SupplierPerformance>,
}

/// What the meeting reviews (9.3 a–j), compiled by Steward from its own records for the
/// review's period, and kept as it was when the review was held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewInputs {
    /// When they were compiled (micros since the epoch).
    pub compiled_at: i64,
    pub period_from: Date,
    pub period_to: Date,
    pub earlier_actions: EarlierActions,
    /// Inputs compiled before the context was kept have none.
    #[serde(default)]
    pub context: ContextInputs,
    pub sla: SlaInputs,
    pub incidents: IncidentInputs,
    pub problems: ProblemInputs,
    pub changes: ChangeInputs,
    pub objectives: Vec<ObjectiveInput>,
    pub nonconformities: NonconformityInputs,
    pub audits: AuditInputs,
    pub risks: RiskInputs,
    pub improvements: ImprovementInputs,
    pub conformance: ConformanceInputs,
    /// Inputs compiled before suppliers were kept have none.
    #[serde(default)]
    pub suppliers: SupplierInputs,
    /// Complaints received in the period; inputs compiled before complaints were kept have none.
    #[serde(default)]
    pub complaints: crate::relationship::inputs::ComplaintInputs,
    /// Customer satisfaction in the period; inputs compiled before it was kept have none.
    #[serde(default)]
    pub satisfaction: crate::relationship::inputs::SatisfactionInputs,
    /// Inputs 9.3 asks for that Steward does not record yet, said plainly rather than left out.
    pub not_recorded: Vec<String>,
}

/// The inputs 9.3 lists that Steward does not hold records of yet.
pub fn not_recorded_inputs() -> Vec<String> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_is_held_today_or_before() {
        let today = jiff::civil::date(2026, 6, 10);
        assert_eq!(check_held_on(today, today), Ok(today));
        let before = jiff::civil::date(2025, 12, 1);
        assert_eq!(check_held_on(before, today), Ok(before));
        let refused = check_held_on(jiff::civil::date(2026, 6, 11), today).expect_err("future");
        assert!(
            refused
                .message_for("held_on")
                .is_some_and(|m| m.contains("after today"))
        );
    }
    use ReviewStatus::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn draft() -> ReviewDraft {
        ReviewDraft {
            title: "  Annual review ".into(),
            planned_on: date(2026, 6, 15),
            period_from: None,
            period_to: None,
            chair_id: Some(1),
            attendees: " Ada \n\n Bob \n".into(),
        }
    }

    #[test]
    fn the_period_defaults_to_the_twelve_months_before() {
        let v = draft().validate().expect("valid");
        assert_eq!(v.title, "Annual review");
        assert_eq!(v.period_from, date(2025, 6, 15));
        assert_eq!(v.period_to, date(2026, 6, 14));
        assert_eq!(v.attendees, "Ada\nBob");
    }

    #[test]
    fn a_period_must_not_end_before_it_starts() {
        let mut d = draft();
        d.title = " ".into();
        d.period_from = Some(date(2026, 3, 1));
        d.period_to = Some(date(2026, 2, 1));
        let e = d.validate().expect_err("refused");
        assert_eq!(e.message_for("title"), Some("Title is required"));
        assert!(e.message_for("period_to").is_some());
    }

    #[test]
    fn holding_needs_minutes_and_compiled_inputs() {
        let e = step_text(ReviewStep::Hold, "  ", false).expect_err("refused");
        assert!(e.message_for("minutes").is_some());
        assert!(e.message_for("inputs").is_some());
        assert!(step_text(ReviewStep::Hold, "Met.", false).is_err());
        assert_eq!(
            step_text(ReviewStep::Hold, " Met. ", true).expect("ok"),
            "Met."
        );
        assert!(step_text(ReviewStep::Close, "", true).is_err());
        assert!(step_text(ReviewStep::Cancel, "", true).is_err());
    }

    #[test]
    fn refusals_say_where_it_stands() {
        let e = ReviewStep::Close.apply(Planned).expect_err("refused");
        assert_eq!(
            e.to_string(),
            "a review that is planned cannot be given the step \"close with decisions\""
        );
        assert_eq!(
            ReviewStep::open_from(Planned),
            vec![ReviewStep::Hold, ReviewStep::Cancel]
        );
        assert!(ReviewStep::open_from(Closed).is_empty());
    }

    #[test]
    fn an_action_is_overdue_only_when_open_past_its_date() {
        let today = date(2026, 5, 1);
        assert!(action_overdue(date(2026, 4, 30), false, today));
        assert!(!action_overdue(date(2026, 4, 30), true, today));
        assert!(!action_overdue(date(2026, 5, 1), false, today));
        let a = ActionDraft {
            description: " ".into(),
            owner_id: None,
            due_on: today,
        };
        assert!(a.validate().is_err());
    }

    #[test]
    fn inputs_survive_a_round_trip_through_json() {
        let inputs = ReviewInputs {
            compiled_at: 1,
            period_from: date(2025, 1, 1),
            period_to: date(2025, 12, 31),
            earlier_actions: EarlierActions::default(),
            context: ContextInputs {
                documents: vec![ContextDocument {
                    document_id: 4,
                    reference: "SMS-POL-01".into(),
                    title: "Policy".into(),
                    version: 2,
                    change_summary: "Hosting in scope".into(),
                    approved_on: date(2025, 3, 1),
                }],
                risks_recorded: 2,
                opportunities_recorded: 1,
            },
            sla: SlaInputs::default(),
            incidents: IncidentInputs {
                raised: 3,
                resolved: 2,
                major: 1,
            },
            problems: ProblemInputs::default(),
            changes: ChangeInputs::default(),
            objectives: vec![],
            nonconformities: NonconformityInputs::default(),
            audits: AuditInputs::default(),
            risks: RiskInputs::default(),
            improvements: ImprovementInputs::default(),
            conformance: ConformanceInputs::default(),
            suppliers: SupplierInputs::default(),
            complaints: crate::relationship::inputs::ComplaintInputs {
                received: 2,
                closed: 1,
                open: 1,
                overdue: 1,
                escalated: 1,
                by_customer: vec![],
            },
            satisfaction: crate::relationship::inputs::SatisfactionInputs::default(),
            not_recorded: not_recorded_inputs(),
        };
        let text = serde_json::to_string(&inputs).expect("serialises");
        let back: ReviewInputs = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, inputs);
        // Inputs frozen before the context and the SLA target were compiled still read.
        let mut older: serde_json::Value = serde_json::from_str(&text).expect("json");
        if let Some(fields) = older.as_object_mut() {
            fields.remove("context");
            fields.remove("suppliers");
            fields.remove("complaints");
            fields.remove("satisfaction");
        }
        if let Some(sla) = older["sla"].as_object_mut() {
            sla.remove("target");
        }
        let old: ReviewInputs = serde_json::from_value(older).expect("older inputs read");
        assert_eq!(old.context, ContextInputs::default());
        assert_eq!(old.suppliers, SupplierInputs::default());
        assert_eq!(
            old.complaints,
            crate::relationship::inputs::ComplaintInputs::default()
        );
    }

    proptest! {
        /// Whatever steps are tried, a review is closed only after it was held, nothing
        /// leaves Closed or Cancelled, and a held review is never cancelled.
        #[test]
        fn closure_follows_holding(steps in proptest::collection::vec(0usize..ReviewStep::ALL.len(), 0..20)) {
            let mut status = Planned;
            let mut held = false;
            for i in steps {
                let step = ReviewStep::ALL[i];
                match step.apply(status) {
                    Ok(next) => {
                        prop_assert!(matches!(status, Planned | Held));
                        held |= next == Held;
                        if next == Closed { prop_assert!(held); }
                        if next == Cancelled { prop_assert!(!held); }
                        status = next;
                    }
                    Err(refused) => prop_assert_eq!(refused.from, status),
                }
            }
            prop_assert_eq!(status.inputs_open(), status == Planned);
        }
    }
}
