//! Reviews of a supplier's performance (8.3.4.1 f, 8.3.4.2 d): held on a day not in the future,
//! over a period, with a rating and the targets missed. A supplier that did not fully meet its
//! commitments owes an improvement, raised with the review or linked from the improvement
//! register. The next review is due the contract's review interval after the last one.

use super::{MAX_TEXT, add_months};
use crate::validation::{Invalid, optional_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = SupplierRating))]
pub enum Rating {
    Meets,
    PartlyMeets,
    Fails,
}

crate::service::text_enum!(Rating {
    Meets => "meets", PartlyMeets => "partly_meets", Fails => "fails",
});

impl Rating {
    pub fn label(self) -> &'static str {
        match self {
            Rating::Meets => "Meets commitments",
            Rating::PartlyMeets => "Partly meets commitments",
            Rating::Fails => "Fails commitments",
        }
    }
}

/// The fields of a performance review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceReviewDraft {
    pub held_on: Date,
    pub period_from: Date,
    pub period_to: Date,
    pub rating: Rating,
    pub targets_missed: String,
    pub notes: String,
    /// An existing improvement that addresses what was missed.
    pub improvement_id: Option<i64>,
    /// Raise a new improvement (source: supplier) with the review.
    pub raise_improvement: bool,
}

impl PerformanceReviewDraft {
    pub fn validate(mut self, today: Date) -> Result<PerformanceReviewDraft, Invalid> {
        let mut errors = Invalid::new();
        if self.held_on > today {
            errors.add("held_on", "A review cannot be recorded as held after today");
        }
        if self.period_to < self.period_from {
            errors.add(
                "period_to",
                "The end of the period reviewed must not come before its start",
            );
        } else if self.period_to > self.held_on {
            errors.add(
                "period_to",
                "The period reviewed must end by the day the review is held",
            );
        }
        self.targets_missed = optional_text(
            &mut errors,
            "targets_missed",
            "Targets missed",
            self.targets_missed.trim(),
            MAX_TEXT,
        );
        self.notes = optional_text(&mut errors, "notes", "Notes", self.notes.trim(), MAX_TEXT);
        if self.rating != Rating::Meets {
            if self.targets_missed.is_empty() {
                errors.add(
                    "targets_missed",
                    "Name the targets or commitments that were missed",
                );
            }
            if self.improvement_id.is_none() && !self.raise_improvement {
                errors.add(
                    "improvement",
                    "A rating below \"meets\" needs an improvement: raise one or link an existing one",
                );
            }
        }
        if self.improvement_id.is_some() && self.raise_improvement {
            errors.add(
                "improvement",
                "Either raise a new improvement or link an existing one, not both",
            );
        }
        errors.into_result(self)
    }
}

/// When the next performance review is due: `months` after the last one, or after `first_start`
/// (the first contract's start) when none was held yet.
pub fn next_due(last_held: Option<Date>, first_start: Date, months: i64) -> Date {
    add_months(last_held.unwrap_or(first_start), months)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supplier::tests::day;

    fn draft(rating: Rating) -> PerformanceReviewDraft {
        PerformanceReviewDraft {
            held_on: day("2026-04-05"),
            period_from: day("2026-01-01"),
            period_to: day("2026-03-31"),
            rating,
            targets_missed: String::new(),
            notes: "Quarterly review".into(),
            improvement_id: None,
            raise_improvement: false,
        }
    }

    #[test]
    fn a_review_that_meets_needs_nothing_more() {
        assert!(draft(Rating::Meets).validate(day("2026-04-05")).is_ok());
    }

    #[test]
    fn a_review_is_not_held_in_the_future_nor_before_its_period_ends() {
        let e = draft(Rating::Meets)
            .validate(day("2026-04-04"))
            .expect_err("future");
        assert!(e.message_for("held_on").is_some());
        let mut d = draft(Rating::Meets);
        d.period_to = day("2026-04-06");
        assert!(d.validate(day("2026-04-10")).is_err());
    }

    #[test]
    fn a_shortfall_needs_the_targets_missed_and_an_improvement() {
        let e = draft(Rating::PartlyMeets)
            .validate(day("2026-04-05"))
            .expect_err("refused");
        assert!(e.message_for("targets_missed").is_some());
        assert!(e.message_for("improvement").is_some());
        let mut d = draft(Rating::Fails);
        d.targets_missed = "Restore time".into();
        d.raise_improvement = true;
        assert!(d.clone().validate(day("2026-04-05")).is_ok());
        d.improvement_id = Some(4);
        assert!(d.clone().validate(day("2026-04-05")).is_err(), "not both");
        d.raise_improvement = false;
        assert!(d.validate(day("2026-04-05")).is_ok());
    }

    #[test]
    fn the_next_review_follows_the_interval() {
        assert_eq!(
            next_due(Some(day("2026-04-05")), day("2025-01-01"), 3),
            day("2026-07-05")
        );
        assert_eq!(next_due(None, day("2025-01-01"), 12), day("2026-01-01"));
    }
}
