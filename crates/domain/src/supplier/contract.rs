//! Contracts with suppliers (8.3.4.1 c, g, h; for internal suppliers and customers acting as a
//! supplier, agreements, 8.3.4.2 b, e), kept as numbered versions.
//!
//! A version is a draft until someone approves it; the approval must be dated on or before
//! the day the version starts, so nobody works under terms approved after the fact. Every
//! version after the first carries an assessment of what the change does to the SMS and the
//! services. The current contract is the latest approved version in effect on the day. Each
//! contract is reviewed at its interval against today's service requirements.

use super::{MAX_NAME, MAX_TEXT, StepError, add_months};
use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The review interval a contract gets unless it says otherwise.
pub const DEFAULT_REVIEW_MONTHS: i64 = 12;
/// The longest review interval: five years.
pub const MAX_REVIEW_MONTHS: i64 = 60;

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = SupplierContractStatus))]
pub enum ContractStatus {
    Draft,
    Approved,
}

crate::service::text_enum!(ContractStatus { Draft => "draft", Approved => "approved" });

impl ContractStatus {
    pub fn label(self) -> &'static str {
        match self {
            ContractStatus::Draft => "Draft",
            ContractStatus::Approved => "Approved",
        }
    }
}

/// The fields of a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractDraft {
    pub reference: String,
    /// The scope of the work.
    pub scope: String,
    /// The requirements the supplier must meet.
    pub requirements: String,
    /// Service level targets and other obligations.
    pub obligations: String,
    /// Who does what, on either side.
    pub responsibilities: String,
    pub starts_on: Date,
    /// The last day in effect; open-ended when absent.
    pub ends_on: Option<Date>,
    pub review_months: i64,
    /// What the change does to the SMS and the services (every version after the first).
    pub impact: String,
}

impl ContractDraft {
    /// Checks a new version, given how many versions the supplier already has.
    pub fn validate(mut self, earlier_versions: i64) -> Result<ContractDraft, Invalid> {
        let mut errors = Invalid::new();
        self.reference = required_text(
            &mut errors,
            "reference",
            "Reference",
            &self.reference,
            MAX_NAME,
        );
        self.scope = required_text(&mut errors, "scope", "Scope", &self.scope, MAX_TEXT);
        for (field, label, value) in [
            ("requirements", "Requirements", &mut self.requirements),
            (
                "obligations",
                "Targets and obligations",
                &mut self.obligations,
            ),
            (
                "responsibilities",
                "Responsibilities",
                &mut self.responsibilities,
            ),
            ("impact", "Impact assessment", &mut self.impact),
        ] {
            *value = optional_text(&mut errors, field, label, value.trim(), MAX_TEXT);
        }
        if let Some(ends_on) = self.ends_on
            && ends_on < self.starts_on
        {
            errors.add(
                "ends_on",
                format!(
                    "The end date cannot be before the start ({})",
                    self.starts_on
                ),
            );
        }
        if !(1..=MAX_REVIEW_MONTHS).contains(&self.review_months) {
            errors.add(
                "review_months",
                format!("The review interval must be 1 to {MAX_REVIEW_MONTHS} months"),
            );
        }
        if earlier_versions > 0 && self.impact.is_empty() {
            errors.add(
                "impact",
                "Assess the impact of the change: every version after the first needs it",
            );
        }
        errors.into_result(self)
    }

    /// The terms an approval needs written down (8.3.4.1 c): field, label, text.
    fn terms(&self) -> [(&'static str, &'static str, &str); 4] {
        [
            ("scope", "The scope", &self.scope),
            ("requirements", "The requirements", &self.requirements),
            (
                "obligations",
                "The targets and obligations",
                &self.obligations,
            ),
            (
                "responsibilities",
                "The responsibilities",
                &self.responsibilities,
            ),
        ]
    }

    /// Whether scope, requirements, obligations and responsibilities are all written down.
    pub fn complete(&self) -> bool {
        self.terms().iter().all(|(_, _, t)| !t.trim().is_empty())
    }
}

/// Checks the approval of a version on `approved_on`: a draft only, complete, approved no later
/// than `today` and on or before the day it starts.
pub fn check_approval(
    status: ContractStatus,
    draft: &ContractDraft,
    approved_on: Date,
    today: Date,
) -> Result<(), StepError> {
    if status == ContractStatus::Approved {
        return Err(StepError::Refused(
            "This version is already approved; changes need a new version".into(),
        ));
    }
    let mut errors = Invalid::new();
    for (field, label, text) in draft.terms() {
        if text.trim().is_empty() {
            errors.add(
                field,
                format!("{label} must be written down before the version is approved"),
            );
        }
    }
    if approved_on > today {
        errors.add("approved_on", "The approval cannot be dated in the future");
    } else if approved_on > draft.starts_on {
        errors.add(
            "approved_on",
            format!(
                "The approval must be dated on or before the day the version starts ({})",
                draft.starts_on
            ),
        );
    }
    errors.into_result(()).map_err(StepError::from)
}

/// What the register knows of a version, for deciding which one is current and when it is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractFacts {
    pub id: i64,
    pub version: i64,
    pub status: ContractStatus,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub approved_on: Option<Date>,
    pub reviewed_on: Option<Date>,
    pub review_months: i64,
}

impl ContractFacts {
    /// Approved, begun and not ended on `day` (the end date is its last day).
    pub fn in_effect(&self, day: Date) -> bool {
        self.status == ContractStatus::Approved
            && self.starts_on <= day
            && self.ends_on.is_none_or(|end| day <= end)
    }

    /// When the next review is due: the interval after the last review, or after the start.
    pub fn review_due(&self) -> Date {
        add_months(
            self.reviewed_on.unwrap_or(self.starts_on),
            self.review_months,
        )
    }
}

/// The current contract on `day`: the latest approved version in effect.
pub fn current(contracts: &[ContractFacts], day: Date) -> Option<&ContractFacts> {
    contracts
        .iter()
        .filter(|c| c.in_effect(day))
        .max_by_key(|c| c.version)
}

/// A review of a contract against today's service requirements (8.3.4.1 g).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractReviewDraft {
    pub reviewed_on: Date,
    /// Whether the contract still fits the current service requirements.
    pub still_fits: bool,
    /// What was compared and, when it no longer fits, what is to change.
    pub notes: String,
}

impl ContractReviewDraft {
    /// Checks a review of a version in `status`, on a day not after `today`.
    pub fn validate(
        mut self,
        status: ContractStatus,
        today: Date,
    ) -> Result<ContractReviewDraft, StepError> {
        if status != ContractStatus::Approved {
            return Err(StepError::Refused(
                "Only an approved version can be reviewed; approve the draft first".into(),
            ));
        }
        let mut errors = Invalid::new();
        if self.reviewed_on > today {
            errors.add("reviewed_on", "The review cannot be dated in the future");
        }
        let label = if self.still_fits {
            "Notes"
        } else {
            "What no longer fits"
        };
        self.notes = required_text(&mut errors, "notes", label, &self.notes, MAX_TEXT);
        Ok(errors.into_result(self)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supplier::tests::day;
    use proptest::prelude::*;

    pub(crate) fn draft() -> ContractDraft {
        ContractDraft {
            reference: " UC-2026-01 ".into(),
            scope: "WAN links for both offices".into(),
            requirements: "99.9 % availability".into(),
            obligations: "Restore within 4 hours".into(),
            responsibilities: "Carrier runs the links; we report faults".into(),
            starts_on: day("2026-01-01"),
            ends_on: Some(day("2026-12-31")),
            review_months: 12,
            impact: String::new(),
        }
    }

    #[test]
    fn a_first_version_needs_no_impact_a_later_one_does() {
        assert_eq!(draft().validate(0).expect("first").reference, "UC-2026-01");
        let e = draft().validate(1).expect_err("second");
        assert!(e.message_for("impact").is_some());
        let mut d = draft();
        d.impact = "Adds the new office".into();
        assert!(d.validate(1).is_ok());
    }

    #[test]
    fn dates_and_interval_are_checked() {
        let mut d = draft();
        d.ends_on = Some(day("2025-12-31"));
        d.review_months = 0;
        let e = d.validate(0).expect_err("refused");
        assert!(e.message_for("ends_on").is_some());
        assert!(e.message_for("review_months").is_some());
    }

    #[test]
    fn approval_is_complete_and_dated_before_the_start() {
        let today = day("2026-03-01");
        let d = draft();
        assert!(check_approval(ContractStatus::Draft, &d, day("2025-12-20"), today).is_ok());
        assert!(check_approval(ContractStatus::Draft, &d, day("2026-01-01"), today).is_ok());
        let Err(StepError::Invalid(e)) =
            check_approval(ContractStatus::Draft, &d, day("2026-01-02"), today)
        else {
            panic!("late approval accepted")
        };
        assert!(e.message_for("approved_on").is_some());
        let mut incomplete = draft();
        incomplete.responsibilities = " ".into();
        let Err(StepError::Invalid(e)) =
            check_approval(ContractStatus::Draft, &incomplete, day("2025-12-01"), today)
        else {
            panic!("incomplete approved")
        };
        assert!(e.message_for("responsibilities").is_some());
        assert!(matches!(
            check_approval(ContractStatus::Approved, &d, day("2025-12-01"), today),
            Err(StepError::Refused(_))
        ));
    }

    fn facts(version: i64, starts: &str, ends: Option<&str>, approved: bool) -> ContractFacts {
        ContractFacts {
            id: version,
            version,
            status: if approved {
                ContractStatus::Approved
            } else {
                ContractStatus::Draft
            },
            starts_on: day(starts),
            ends_on: ends.map(day),
            approved_on: approved.then(|| day(starts)),
            reviewed_on: None,
            review_months: 12,
        }
    }

    #[test]
    fn the_current_contract_is_the_latest_approved_in_effect() {
        let all = [
            facts(1, "2025-01-01", None, true),
            facts(2, "2026-01-01", Some("2026-12-31"), true),
            facts(3, "2026-02-01", None, false),
        ];
        assert_eq!(current(&all, day("2025-06-01")).map(|c| c.version), Some(1));
        assert_eq!(current(&all, day("2026-03-01")).map(|c| c.version), Some(2));
        assert_eq!(current(&all, day("2026-12-31")).map(|c| c.version), Some(2));
        assert_eq!(current(&all, day("2027-01-01")).map(|c| c.version), Some(1));
        assert_eq!(current(&all[2..], day("2026-03-01")), None);
    }

    #[test]
    fn a_review_is_due_an_interval_after_the_last() {
        let mut c = facts(1, "2026-01-15", None, true);
        assert_eq!(c.review_due(), day("2027-01-15"));
        c.reviewed_on = Some(day("2026-06-30"));
        c.review_months = 6;
        assert_eq!(c.review_due(), day("2026-12-30"));
    }

    #[test]
    fn only_approved_versions_are_reviewed_and_not_ahead_of_time() {
        let r = ContractReviewDraft {
            reviewed_on: day("2026-03-01"),
            still_fits: false,
            notes: " ".into(),
        };
        assert!(matches!(
            r.clone().validate(ContractStatus::Draft, day("2026-03-01")),
            Err(StepError::Refused(_))
        ));
        let Err(StepError::Invalid(e)) = r
            .clone()
            .validate(ContractStatus::Approved, day("2026-02-01"))
        else {
            panic!("accepted")
        };
        assert!(e.message_for("reviewed_on").is_some());
        assert_eq!(
            e.message_for("notes"),
            Some("What no longer fits is required")
        );
    }

    proptest! {
        /// Whatever the dates, an approval that passes is dated on or before both today and the
        /// version's start, and leaves the version's terms complete.
        #[test]
        fn an_accepted_approval_is_never_late(
            start in 0i64..400, approve in 0i64..400, today in 0i64..400, blank in 0usize..5,
        ) {
            let base = day("2026-01-01");
            let at = |n: i64| crate::supplier::add_days(base, n);
            let mut d = draft();
            d.starts_on = at(start);
            d.ends_on = None;
            match blank {
                0 => d.requirements.clear(),
                1 => d.obligations.clear(),
                2 => d.responsibilities.clear(),
                _ => {}
            }
            if check_approval(ContractStatus::Draft, &d, at(approve), at(today)).is_ok() {
                prop_assert!(approve <= start && approve <= today);
                prop_assert!(d.complete());
            }
        }

        /// The current contract is always in effect, and no version in effect is later.
        #[test]
        fn the_current_contract_is_in_effect_and_latest(
            versions in proptest::collection::vec((0i64..300, proptest::option::of(0i64..300), any::<bool>()), 0..6),
            on in 0i64..400,
        ) {
            let base = day("2026-01-01");
            let at = |n: i64| crate::supplier::add_days(base, n);
            let all: Vec<ContractFacts> = versions
                .iter()
                .enumerate()
                .map(|(i, &(s, len, approved))| ContractFacts {
                    id: i as i64,
                    version: i as i64 + 1,
                    status: if approved { ContractStatus::Approved } else { ContractStatus::Draft },
                    starts_on: at(s),
                    ends_on: len.map(|l| at(s + l)),
                    approved_on: approved.then(|| at(s)),
                    reviewed_on: None,
                    review_months: 12,
                })
                .collect();
            match current(&all, at(on)) {
                Some(c) => {
                    prop_assert!(c.in_effect(at(on)));
                    prop_assert!(all.iter().all(|o| !o.in_effect(at(on)) || o.version <= c.version));
                }
                None => prop_assert!(all.iter().all(|o| !o.in_effect(at(on)))),
            }
        }
    }
}
