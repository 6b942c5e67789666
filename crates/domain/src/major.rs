//! Major incidents (ISO/IEC 20000-1 8.6.1 asks for a documented procedure for them).
//!
//! An incident declared major gets a major-incident manager, a log of the updates sent to each
//! audience, and a post-incident review (PIR). It may only be closed once that review is
//! complete: a summary, the root cause and what to improve are written down.

use crate::validation::{Invalid, optional_text};
use serde::{Deserialize, Serialize};

/// Who an update was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The people working the incident and the service desk.
    #[default]
    Internal,
    Customers,
    Executives,
}

crate::service::text_enum!(Audience { Internal => "internal", Customers => "customers", Executives => "executives" });

/// Why a major incident may not be closed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MajorRefusal {
    #[error("A major incident needs a completed post-incident review before it is closed")]
    ReviewNeeded,
}

/// Closing a major incident needs a completed post-incident review; other incidents close freely.
pub fn can_close(is_major: bool, review_completed: bool) -> Result<(), MajorRefusal> {
    if is_major && !review_completed {
        Err(MajorRefusal::ReviewNeeded)
    } else {
        Ok(())
    }
}

/// Longest text of any review field.
pub const REVIEW_TEXT_MAX: usize = 20_000;

/// Longest update in the communications log.
pub const UPDATE_MAX: usize = 10_000;

/// The post-incident review as someone edits it, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ReviewDraft {
    pub summary: String,
    pub root_cause: String,
    pub went_well: String,
    pub improvements: String,
    /// Follow-up actions, one per line or as prose.
    pub actions: String,
    /// The reviewer says the review is done; only accepted for a complete review.
    pub completed: bool,
}

impl ReviewDraft {
    /// Complete means a summary, the root cause and the improvements are written down.
    pub fn is_complete(&self) -> bool {
        [&self.summary, &self.root_cause, &self.improvements]
            .iter()
            .all(|t| !t.trim().is_empty())
    }

    /// Checks lengths and, when `completed` is asked for, that the review is complete.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        let fields: [(&str, &str, &mut String); 5] = [
            ("summary", "Summary", &mut self.summary),
            ("root_cause", "Root cause", &mut self.root_cause),
            ("went_well", "What went well", &mut self.went_well),
            ("improvements", "What to improve", &mut self.improvements),
            ("actions", "Actions", &mut self.actions),
        ];
        for (field, label, value) in fields {
            *value = optional_text(&mut errors, field, label, value.trim(), REVIEW_TEXT_MAX);
        }
        if self.completed {
            for (field, label, value) in [
                ("summary", "summary", &self.summary),
                ("root_cause", "root cause", &self.root_cause),
                ("improvements", "what to improve", &self.improvements),
            ] {
                if value.is_empty() {
                    errors.add(
                        field,
                        format!("A completed review needs the {label} written down"),
                    );
                }
            }
        }
        errors.into_result(self)
    }
}

/// One update for the communications log, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateDraft {
    pub audience: Audience,
    pub body: String,
}

impl UpdateDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.body = self.body.trim().to_owned();
        if self.body.is_empty() {
            errors.add("body", "Write the update");
        } else if self.body.chars().count() > UPDATE_MAX {
            errors.add(
                "body",
                format!("An update must be at most {UPDATE_MAX} characters"),
            );
        }
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn review(summary: &str, root_cause: &str, improvements: &str, completed: bool) -> ReviewDraft {
        ReviewDraft {
            summary: summary.into(),
            root_cause: root_cause.into(),
            went_well: String::new(),
            improvements: improvements.into(),
            actions: String::new(),
            completed,
        }
    }

    #[test]
    fn only_major_incidents_wait_for_their_review() {
        assert_eq!(can_close(false, false), Ok(()));
        assert_eq!(can_close(false, true), Ok(()));
        assert_eq!(can_close(true, true), Ok(()));
        assert_eq!(can_close(true, false), Err(MajorRefusal::ReviewNeeded));
        assert_eq!(
            MajorRefusal::ReviewNeeded.to_string(),
            "A major incident needs a completed post-incident review before it is closed"
        );
    }

    #[test]
    fn a_draft_may_be_incomplete_but_a_completed_review_may_not() {
        let draft = review("Mail was down", "", "", false)
            .validate()
            .expect("drafts may be partial");
        assert!(!draft.is_complete());
        let refused = review("Mail was down", " ", "", true)
            .validate()
            .expect_err("incomplete");
        let fields: Vec<&str> = refused.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["root_cause", "improvements"]);
        let done = review(" Mail was down ", "Disk full", "Alert at 80 %", true)
            .validate()
            .expect("complete");
        assert!(done.is_complete() && done.completed);
        assert_eq!(done.summary, "Mail was down", "texts are trimmed");
    }

    #[test]
    fn review_texts_and_updates_are_bounded() {
        let long = "x".repeat(REVIEW_TEXT_MAX + 1);
        let refused = review(&long, "", "", false).validate().expect_err("long");
        assert_eq!(refused.errors[0].field, "summary");
        let empty = UpdateDraft {
            audience: Audience::Customers,
            body: "  ".into(),
        };
        assert_eq!(empty.validate().expect_err("empty").errors[0].field, "body");
        let ok = UpdateDraft {
            audience: Audience::Executives,
            body: " Mail is back ".into(),
        }
        .validate()
        .expect("ok");
        assert_eq!(ok.body, "Mail is back");
        assert_eq!(Audience::parse("customers"), Some(Audience::Customers));
        assert_eq!(Audience::parse("press"), None);
    }

    proptest! {
        /// Whatever is typed, a review that validates as completed is complete, so closing a
        /// major incident on its strength is always allowed, and a failed one never is.
        #[test]
        fn a_validated_completed_review_always_allows_closing(
            summary in "[ a-z]{0,8}", root_cause in "[ a-z]{0,8}", improvements in "[ a-z]{0,8}",
            completed in any::<bool>(), major in any::<bool>(),
        ) {
            let draft = review(&summary, &root_cause, &improvements, completed);
            let complete = draft.is_complete();
            match draft.validate() {
                Ok(r) => {
                    prop_assert!(!r.completed || r.is_complete());
                    prop_assert_eq!(can_close(major, r.completed).is_ok(), !major || r.completed);
                }
                Err(_) => prop_assert!(completed && !complete),
            }
        }
    }
}
