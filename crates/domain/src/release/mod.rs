//! Release and deployment management (ISO/IEC 20000-1 8.5.3): releases that group changes,
//! their lifecycle, acceptance criteria with sign-off, and deployments per environment.
//!
//! - [`lifecycle`]: release kinds and statuses, the transition table and its guards.
//! - [`criteria`]: acceptance criteria, their sign-off, and whether a release may be accepted.
//! - [`deployment`]: deployments to an environment, their outcome, and the production rule.
//!
//! Times are microseconds since the Unix epoch, UTC, as the store keeps instants. Nothing here
//! reads a clock.

pub mod criteria;
pub mod deployment;
pub mod lifecycle;

pub use criteria::{CriterionDraft, SignOff, Verdict, all_accepted};
pub use deployment::{DeploymentDraft, DeploymentOutcome, OutcomeDraft, is_production, may_deploy};
pub use lifecycle::{Facts, ReleaseKind, ReleaseRefusal, ReleaseStatus, transition};

use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};

/// The editable fields of a release, validated. Status, criteria and deployments move through
/// their own rules, not through edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseDraft {
    pub title: String,
    pub kind: ReleaseKind,
    pub description: String,
    /// Planned start of the release window; with `planned_end`, both or neither.
    pub planned_start: Option<i64>,
    pub planned_end: Option<i64>,
    /// The user accountable for the release.
    pub manager_id: Option<i64>,
}

impl ReleaseDraft {
    /// Trims the text, and checks that the planned end is not before the planned start.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, 300);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            50_000,
        );
        match (self.planned_start, self.planned_end) {
            (Some(start), Some(end)) if end < start => errors.add(
                "planned_end",
                "The planned end must not be before the planned start",
            ),
            (Some(_), None) | (None, Some(_)) => errors.add(
                "planned_end",
                "Give both the planned start and the planned end, or neither",
            ),
            _ => {}
        }
        if self.manager_id.is_some_and(|id| id <= 0) {
            errors.add("manager_id", "Choose the release manager from the list");
        }
        errors.into_result(self)
    }
}

/// Reads `REL-7` into its number.
pub fn parse_key(key: &str) -> Option<i64> {
    let (prefix, number) = key.trim().split_once('-')?;
    if !prefix.eq_ignore_ascii_case("REL") {
        return None;
    }
    number.parse().ok().filter(|n: &i64| *n > 0)
}

/// The human-facing key of release number `n`.
pub fn key(number: i64) -> String {
    format!("REL-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ReleaseDraft {
        ReleaseDraft {
            title: "  Portal 2.4  ".into(),
            kind: ReleaseKind::Minor,
            description: String::new(),
            planned_start: Some(10),
            planned_end: Some(20),
            manager_id: Some(3),
        }
    }

    #[test]
    fn a_draft_is_trimmed() {
        assert_eq!(draft().validate().expect("valid").title, "Portal 2.4");
    }

    #[test]
    fn the_end_may_not_come_before_the_start() {
        let mut d = draft();
        d.planned_end = Some(5);
        let err = d.validate().expect_err("backwards");
        assert!(err.message_for("planned_end").is_some());
        let mut d = draft();
        d.planned_end = Some(10);
        assert!(d.validate().is_ok(), "end equal to start is allowed");
        let mut d = draft();
        d.planned_end = None;
        assert!(d.validate().is_err(), "both or neither");
    }

    #[test]
    fn an_empty_title_is_refused() {
        let mut d = draft();
        d.title = "   ".into();
        assert!(
            d.validate()
                .expect_err("empty")
                .message_for("title")
                .is_some()
        );
    }

    #[test]
    fn keys() {
        assert_eq!(parse_key(" rel-7"), Some(7));
        assert_eq!(parse_key("CHG-7"), None);
        assert_eq!(parse_key("REL-0"), None);
        assert_eq!(key(12), "REL-12");
    }
}
