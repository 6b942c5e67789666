//! Customer service reviews (8.3.2-d/e): meetings held with a customer about the services'
//! performance and trends, what came out of them, and changes to requirements identified.

use super::{add_months, not_future};
use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::Serialize;

pub const MAX_TEXT: usize = 10_000;

/// A service review as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerReviewDraft {
    pub held_on: Date,
    pub attendees: String,
    /// What was discussed about the services' performance and trends.
    pub performance: String,
    pub outcomes: String,
    /// Changes to the service requirements identified, in words.
    pub requirement_changes: String,
    /// The change raised for a requirement change, if any.
    pub change_id: Option<i64>,
    /// The improvement raised from the review, if any.
    pub improvement_id: Option<i64>,
}

impl CustomerReviewDraft {
    /// Checks the review against `today`: it was held, so not in the future.
    pub fn validate(mut self, today: Date) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        not_future(
            &mut errors,
            "held_on",
            "The review date",
            self.held_on,
            today,
        );
        self.attendees = required_text(
            &mut errors,
            "attendees",
            "Attendees",
            &self.attendees,
            MAX_TEXT,
        );
        self.performance = required_text(
            &mut errors,
            "performance",
            "The discussion of performance and trends",
            &self.performance,
            MAX_TEXT,
        );
        self.outcomes = required_text(
            &mut errors,
            "outcomes",
            "Outcomes",
            &self.outcomes,
            MAX_TEXT,
        );
        self.requirement_changes = optional_text(
            &mut errors,
            "requirement_changes",
            "Requirement changes",
            self.requirement_changes.trim(),
            MAX_TEXT,
        );
        for (field, id) in [
            ("change_id", self.change_id),
            ("improvement_id", self.improvement_id),
        ] {
            if id.is_some_and(|id| id <= 0) {
                errors.add(field, "The linked record's number must be positive");
            }
        }
        errors.into_result(self)
    }
}

/// The period a review held on `held_on` looks back over: the `frequency` months before it.
pub fn review_period(held_on: Date, frequency_months: i64) -> (Date, Date) {
    let from = add_months(held_on, -frequency_months).unwrap_or(held_on);
    (from, held_on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn draft() -> CustomerReviewDraft {
        CustomerReviewDraft {
            held_on: date(2026, 3, 2),
            attendees: " Ada, Bob ".into(),
            performance: "Resolution attainment up to 97%".into(),
            outcomes: "Keep the desk hours".into(),
            requirement_changes: String::new(),
            change_id: None,
            improvement_id: None,
        }
    }

    #[test]
    fn a_review_was_held_and_says_what_was_discussed() {
        let today = date(2026, 3, 2);
        assert_eq!(
            draft().validate(today).expect("valid").attendees,
            "Ada, Bob"
        );
        let mut d = draft();
        d.held_on = date(2026, 3, 3);
        d.outcomes = " ".into();
        d.change_id = Some(0);
        let e = d.validate(today).expect_err("refused");
        assert!(e.message_for("held_on").is_some());
        assert!(e.message_for("outcomes").is_some());
        assert!(e.message_for("change_id").is_some());
    }

    #[test]
    fn the_period_is_the_frequency_before() {
        assert_eq!(
            review_period(date(2026, 6, 30), 6),
            (date(2025, 12, 30), date(2026, 6, 30))
        );
    }
}
