//! Acceptance criteria and their sign-off: what must be true of a release before it is
//! accepted for deployment, and who said it is.

use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};

/// A sign-off's decision on one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    Refused,
}

crate::service::text_enum!(Verdict { Accepted => "accepted", Refused => "refused" });

/// A new acceptance criterion, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionDraft {
    pub text: String,
}

impl CriterionDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.text = required_text(&mut errors, "text", "Criterion", &self.text, 2_000);
        errors.into_result(self)
    }
}

/// A sign-off as written: the decision and why. Who and when come from the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub verdict: Verdict,
    pub comment: String,
}

impl SignOff {
    /// A refusal must say why, so that the release team knows what to fix.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.comment = optional_text(&mut errors, "comment", "Comment", &self.comment, 10_000);
        if self.verdict == Verdict::Refused && self.comment.trim().is_empty() {
            errors.add("comment", "Say why the criterion is refused");
        }
        errors.into_result(self)
    }
}

/// Whether a release with criteria signed off as `verdicts` (`None`: not signed yet) may be
/// accepted: there is at least one criterion and every one is signed off as accepted.
pub fn all_accepted(verdicts: &[Option<Verdict>]) -> bool {
    !verdicts.is_empty() && verdicts.iter().all(|v| *v == Some(Verdict::Accepted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn acceptance_needs_every_criterion_accepted() {
        assert!(!all_accepted(&[]));
        assert!(all_accepted(&[Some(Verdict::Accepted)]));
        assert!(!all_accepted(&[Some(Verdict::Accepted), None]));
        assert!(!all_accepted(&[Some(Verdict::Refused)]));
    }

    #[test]
    fn a_refusal_says_why() {
        let refusal = SignOff {
            verdict: Verdict::Refused,
            comment: "  ".into(),
        };
        assert!(refusal.validate().is_err());
        let accepted = SignOff {
            verdict: Verdict::Accepted,
            comment: String::new(),
        };
        assert!(accepted.validate().is_ok());
        assert!(CriterionDraft { text: " ".into() }.validate().is_err());
    }

    proptest! {
        /// One unsigned or refused criterion anywhere is enough to block acceptance.
        #[test]
        fn one_missing_sign_off_blocks(
            mut verdicts in prop::collection::vec(
                prop::option::of(prop::sample::select(vec![Verdict::Accepted, Verdict::Refused])), 0..20),
            blocker in prop::option::of(Just(Verdict::Refused)),
            at in any::<prop::sample::Index>(),
        ) {
            let i = at.index(verdicts.len() + 1);
            verdicts.insert(i, blocker);
            prop_assert!(!all_accepted(&verdicts));
        }
    }
}
