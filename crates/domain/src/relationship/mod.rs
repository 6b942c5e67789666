//! Business relationship management (ISO/IEC 20000-1 8.3.2): who looks after each customer and
//! how often the services are reviewed with them, the service reviews held, satisfaction
//! measured by surveys and ticket ratings, and complaints handled to a close.
//!
//! The domain decides what may be written: the store keeps it, the server shows it.

pub mod complaint;
pub mod inputs;
pub mod review;
pub mod satisfaction;

use crate::validation::Invalid;
use jiff::civil::Date;
use serde::Serialize;

/// How often a customer's services are reviewed with them when nobody said otherwise.
pub const DEFAULT_REVIEW_FREQUENCY_MONTHS: i64 = 6;
pub const MIN_REVIEW_FREQUENCY_MONTHS: i64 = 1;
pub const MAX_REVIEW_FREQUENCY_MONTHS: i64 = 24;

/// How a customer's relationship is kept: its owner and the months between service reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelationshipDraft {
    /// The tenant's user who owns the relationship (8.3.2-b); the store checks they are active.
    pub relationship_owner_id: Option<i64>,
    pub review_frequency_months: i64,
}

impl RelationshipDraft {
    pub fn validate(self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        if !(MIN_REVIEW_FREQUENCY_MONTHS..=MAX_REVIEW_FREQUENCY_MONTHS)
            .contains(&self.review_frequency_months)
        {
            errors.add(
                "review_frequency_months",
                format!(
                    "Review frequency must be between {MIN_REVIEW_FREQUENCY_MONTHS} and \
                     {MAX_REVIEW_FREQUENCY_MONTHS} months"
                ),
            );
        }
        if self.relationship_owner_id.is_some_and(|id| id <= 0) {
            errors.add(
                "relationship_owner_id",
                "Choose a user of this organisation as relationship owner",
            );
        }
        errors.into_result(self)
    }
}

/// `date` moved by `months` (negative: back), clamped to the month's last day; `None` only
/// beyond the calendar's range.
pub fn add_months(date: Date, months: i64) -> Option<Date> {
    date.checked_add(jiff::Span::new().months(months)).ok()
}

/// When the next service review is due: `frequency` months after the last one. A customer never
/// reviewed is due now (`None`).
pub fn next_review_due(last_review: Option<Date>, frequency_months: i64) -> Option<Date> {
    last_review.and_then(|d| add_months(d, frequency_months))
}

/// A date that must not be after today, under `field`.
pub(crate) fn not_future(
    errors: &mut Invalid,
    field: &str,
    label: &str,
    date: Date,
    today: Date,
) -> Date {
    if date > today {
        errors.add(field, format!("{label} cannot be after today ({today})"));
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn frequency_is_between_one_and_twenty_four_months() {
        for bad in [0, 25, -3] {
            let e = RelationshipDraft {
                relationship_owner_id: Some(1),
                review_frequency_months: bad,
            }
            .validate()
            .expect_err("refused");
            assert!(e.message_for("review_frequency_months").is_some());
        }
        assert!(
            RelationshipDraft {
                relationship_owner_id: None,
                review_frequency_months: 24,
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn the_next_review_follows_the_last_by_the_frequency() {
        assert_eq!(
            next_review_due(Some(date(2026, 1, 31)), 1),
            Some(date(2026, 2, 28))
        );
        assert_eq!(next_review_due(None, 6), None);
    }
}
