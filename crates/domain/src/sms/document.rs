//! Controlled documents (ISO/IEC 20000-1 clause 7.5): the SMS scope, the service management
//! policy and plan, the communication plan, procedures and the rest. A document carries its
//! metadata (reference, owner, review interval, retention, classification, distribution); its
//! text lives in numbered versions that go through review and approval.
//!
//! What is decided here: the checks on a document's and a version's fields, the version state
//! machine (draft → in review → approved or returned; an approved version is superseded when the
//! next one is approved), the rules across a document's versions (one unapproved version at a
//! time, at most one approved, nobody approves their own text), and when a review is due.

use crate::asset::days_until;
use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Longest reference (`SMS-POL-01`).
pub const MAX_REFERENCE: usize = 40;
/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest version body, in characters.
pub const MAX_BODY: usize = 200_000;
/// Longest change summary, return reason or review note.
pub const MAX_NOTE: usize = 2_000;
/// Review interval bounds and default, in months.
pub const REVIEW_MONTHS: std::ops::RangeInclusive<i64> = 1..=36;
pub const DEFAULT_REVIEW_MONTHS: i64 = 12;
/// Retention bounds and default, in years after withdrawal or supersession.
pub const RETENTION_YEARS: std::ops::RangeInclusive<i64> = 1..=50;
pub const DEFAULT_RETENTION_YEARS: i64 = 6;
/// How many days before a review is due its owner is reminded.
pub const REVIEW_LEAD_DAYS: i64 = 30;

/// What a document is. The first four are the SMS's core documents, one active of each per
/// organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// The scope of the SMS (4.3).
    Scope,
    /// The service management policy (5.2).
    Policy,
    /// The service management plan (6.3).
    Plan,
    /// The communication plan (7.4).
    CommunicationPlan,
    Procedure,
    Process,
    Other,
}

crate::service::text_enum!(DocumentKind {
    Scope => "scope", Policy => "policy", Plan => "plan",
    CommunicationPlan => "communication_plan", Procedure => "procedure",
    Process => "process", Other => "other",
});

impl DocumentKind {
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Scope => "SMS scope",
            DocumentKind::Policy => "Service management policy",
            DocumentKind::Plan => "Service management plan",
            DocumentKind::CommunicationPlan => "Communication plan",
            DocumentKind::Procedure => "Procedure",
            DocumentKind::Process => "Process",
            DocumentKind::Other => "Other",
        }
    }

    /// Whether an organisation holds at most one active document of this kind: there is one
    /// scope, one policy, one plan and one communication plan, or auditors cannot tell which
    /// applies.
    pub fn is_singular(self) -> bool {
        matches!(
            self,
            DocumentKind::Scope
                | DocumentKind::Policy
                | DocumentKind::Plan
                | DocumentKind::CommunicationPlan
        )
    }

    /// The refusal of a second active document of a singular kind.
    pub fn taken_message(self) -> String {
        format!(
            "This organisation already has an active {} document; revise it with a new version, \
             or withdraw it first",
            self.label().to_lowercase()
        )
    }
}

/// Who may see a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Public,
    Internal,
    Confidential,
}

crate::service::text_enum!(Classification {
    Public => "public", Internal => "internal", Confidential => "confidential",
});

impl Classification {
    pub fn label(self) -> &'static str {
        match self {
            Classification::Public => "Public",
            Classification::Internal => "Internal",
            Classification::Confidential => "Confidential",
        }
    }
}

/// A document as a whole: in use, or withdrawn (kept, with its history, for its retention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    Active,
    Withdrawn,
}

crate::service::text_enum!(DocumentStatus { Active => "active", Withdrawn => "withdrawn" });

impl DocumentStatus {
    pub fn label(self) -> &'static str {
        match self {
            DocumentStatus::Active => "Active",
            DocumentStatus::Withdrawn => "Withdrawn",
        }
    }
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    /// Being written by its author.
    Draft,
    /// Submitted to a named reviewer.
    InReview,
    /// Sent back by the reviewer with a reason; the author edits it and submits again.
    Returned,
    /// The document's current text.
    Approved,
    /// Was approved; a later version replaced it.
    Superseded,
}

crate::service::text_enum!(VersionState {
    Draft => "draft", InReview => "in_review", Returned => "returned",
    Approved => "approved", Superseded => "superseded",
});

impl VersionState {
    pub fn label(self) -> &'static str {
        match self {
            VersionState::Draft => "Draft",
            VersionState::InReview => "In review",
            VersionState::Returned => "Returned",
            VersionState::Approved => "Approved",
            VersionState::Superseded => "Superseded",
        }
    }

    /// Not yet approved: a document has at most one such version at a time.
    pub fn is_unapproved(self) -> bool {
        matches!(
            self,
            VersionState::Draft | VersionState::InReview | VersionState::Returned
        )
    }

    /// Approved or superseded: its text and files never change again.
    pub fn is_immutable(self) -> bool {
        matches!(self, VersionState::Approved | VersionState::Superseded)
    }

    /// Whether its text and files may be changed.
    pub fn is_editable(self) -> bool {
        matches!(self, VersionState::Draft | VersionState::Returned)
    }
}

/// What someone does to a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionAction {
    /// Change its text or files.
    Edit,
    /// Send it to `reviewer` for approval.
    Submit { reviewer: i64 },
    /// Approve it.
    Approve,
    /// Send it back to its author.
    Return,
}

/// Why a version may not move as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionRefusal {
    #[error("version is {0}: only a draft or returned version can be changed")]
    NotEditable(VersionState),
    #[error("version is {0}: only a draft or returned version can be submitted")]
    NotSubmittable(VersionState),
    #[error("version is {0}: only a version in review can be approved or returned")]
    NotInReview(VersionState),
    #[error("the author cannot review their own version: name someone else")]
    OwnReviewer,
    #[error(
        "the author cannot approve their own version: another person with document rights must approve it"
    )]
    OwnApproval,
    #[error(
        "version {0} is not yet approved: approve, or return and finish it, before starting another"
    )]
    UnapprovedExists(i64),
    #[error("the document is withdrawn: its versions no longer change")]
    Withdrawn,
}

impl VersionState {
    /// The state after `actor` does `action` to a version written by `author`. Someone not
    /// signed in as a user (the command line) is `None`; two `None`s cannot be told apart, so
    /// they count as the same person.
    pub fn apply(
        self,
        action: VersionAction,
        author: Option<i64>,
        actor: Option<i64>,
    ) -> Result<VersionState, VersionRefusal> {
        match action {
            VersionAction::Edit if self.is_editable() => Ok(self),
            VersionAction::Edit => Err(VersionRefusal::NotEditable(self)),
            VersionAction::Submit { .. } if !self.is_editable() => {
                Err(VersionRefusal::NotSubmittable(self))
            }
            VersionAction::Submit { reviewer } if Some(reviewer) == author => {
                Err(VersionRefusal::OwnReviewer)
            }
            VersionAction::Submit { .. } => Ok(VersionState::InReview),
            VersionAction::Approve | VersionAction::Return if self != VersionState::InReview => {
                Err(VersionRefusal::NotInReview(self))
            }
            // Separation of duties: whoever wrote the text does not approve it.
            VersionAction::Approve if actor == author => Err(VersionRefusal::OwnApproval),
            VersionAction::Approve => Ok(VersionState::Approved),
            VersionAction::Return => Ok(VersionState::Returned),
        }
    }
}

/// Whether a new version may be started on a document whose versions are `existing`
/// (number, state): not while one is still unapproved.
pub fn may_start_version(existing: &[(i64, VersionState)]) -> Result<(), VersionRefusal> {
    match existing.iter().find(|(_, s)| s.is_unapproved()) {
        Some((number, _)) => Err(VersionRefusal::UnapprovedExists(*number)),
        None => Ok(()),
    }
}

/// The number the next version gets.
pub fn next_number(existing: &[(i64, VersionState)]) -> i64 {
    existing.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1
}

/// The versions' states once version `approved` is approved: it becomes approved and the one
/// approved before it superseded; the rest stay.
pub fn approve_in(existing: &mut [(i64, VersionState)], approved: i64) {
    for (number, state) in existing.iter_mut() {
        if *number == approved {
            *state = VersionState::Approved;
        } else if *state == VersionState::Approved {
            *state = VersionState::Superseded;
        }
    }
}

/// The editable fields of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentDraft {
    /// Unique in the organisation, ignoring case.
    pub reference: String,
    pub title: String,
    pub kind: DocumentKind,
    pub owner_id: i64,
    pub review_months: i64,
    pub retention_years: i64,
    pub classification: Classification,
    /// People who must receive and read it, besides the teams' members.
    pub distribution_users: Vec<i64>,
    pub distribution_teams: Vec<i64>,
}

/// Whether `reference` is made only of letters, digits and `-`, `.`, `_`, `/` between them.
pub fn is_plausible_reference(reference: &str) -> bool {
    crate::certificate::is_plausible_number(reference)
}

impl DocumentDraft {
    /// Checks the fields, in one [`Invalid`]. Text is trimmed, the distribution sorted and
    /// without repeats.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.reference = required_text(
            &mut errors,
            "reference",
            "Reference",
            &self.reference,
            MAX_REFERENCE,
        );
        if !self.reference.is_empty() && !is_plausible_reference(&self.reference) {
            errors.add(
                "reference",
                "Reference may hold letters, digits and - . _ / between them, e.g. SMS-POL-01",
            );
        }
        self.title = required_text(&mut errors, "title", "Title", &self.title, MAX_TITLE);
        if !REVIEW_MONTHS.contains(&self.review_months) {
            errors.add(
                "review_months",
                "Review interval must be from 1 to 36 months",
            );
        }
        if !RETENTION_YEARS.contains(&self.retention_years) {
            errors.add("retention_years", "Retention must be from 1 to 50 years");
        }
        self.distribution_users.sort_unstable();
        self.distribution_users.dedup();
        self.distribution_teams.sort_unstable();
        self.distribution_teams.dedup();
        errors.into_result(self)
    }
}

/// The text of a version and what changed in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionDraft {
    /// Plain text; line breaks are kept when shown.
    pub body: String,
    pub change_summary: String,
}

impl VersionDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        // The body keeps its own white space (indentation, blank lines); only its ends go.
        let body = self.body.trim().replace("\r\n", "\n");
        if body.is_empty() {
            errors.add("body", "Text is required");
        } else if body.chars().count() > MAX_BODY {
            errors.add(
                "body",
                format!("Text must be at most {MAX_BODY} characters"),
            );
        }
        self.body = body;
        self.change_summary = required_text(
            &mut errors,
            "change_summary",
            "Change summary",
            &self.change_summary,
            MAX_NOTE,
        );
        errors.into_result(self)
    }
}

/// A reason or note: trimmed, required, not too long.
pub fn checked_note(field: &str, label: &str, text: &str) -> Result<String, Invalid> {
    let mut errors = Invalid::new();
    let text = required_text(&mut errors, field, label, text, MAX_NOTE);
    errors.into_result(text)
}

/// An optional note: trimmed, not too long.
pub fn optional_note(field: &str, label: &str, text: &str) -> Result<String, Invalid> {
    let mut errors = Invalid::new();
    let text = optional_text(&mut errors, field, label, text, MAX_NOTE);
    errors.into_result(text)
}

/// When the next review is due: `months` after the later of the last approval and the last
/// recorded review; none while nothing was ever approved or reviewed.
pub fn review_due(
    last_approval: Option<Date>,
    last_review: Option<Date>,
    months: i64,
) -> Option<Date> {
    let from = last_approval.max(last_review)?;
    from.checked_add(jiff::Span::new().months(months)).ok()
}

/// A reminder about a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewReminder {
    /// The review falls due within [`REVIEW_LEAD_DAYS`].
    Upcoming,
    /// The review date has passed.
    Overdue,
}

crate::service::text_enum!(ReviewReminder { Upcoming => "upcoming", Overdue => "overdue" });

/// The reminder a review due on `due` calls for on `today`, if any. The store sends each
/// (document, kind, due date) once, so a daily run may ask every day.
pub fn review_reminder(due: Date, today: Date) -> Option<ReviewReminder> {
    match days_until(today, due) {
        d if d < 0 => Some(ReviewReminder::Overdue),
        d if d <= REVIEW_LEAD_DAYS => Some(ReviewReminder::Upcoming),
        _ => None,
    }
}

/// Whether a review due on `due` is past on `today`.
pub fn is_overdue(due: Option<Date>, today: Date) -> bool {
    due.is_some_and(|d| d < today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use VersionState::*;
    use proptest::prelude::*;

    fn day(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn draft() -> DocumentDraft {
        DocumentDraft {
            reference: " SMS-POL-01 ".into(),
            title: " Service management policy ".into(),
            kind: DocumentKind::Policy,
            owner_id: 1,
            review_months: 12,
            retention_years: 6,
            classification: Classification::Internal,
            distribution_users: vec![3, 2, 3],
            distribution_teams: vec![],
        }
    }

    #[test]
    fn a_document_is_trimmed_and_its_distribution_deduplicated() {
        let d = draft().validate().expect("valid");
        assert_eq!(d.reference, "SMS-POL-01");
        assert_eq!(d.title, "Service management policy");
        assert_eq!(d.distribution_users, [2, 3]);
    }

    #[test]
    fn bad_fields_are_named() {
        let mut d = draft();
        d.reference = "SMS POL".into();
        d.title = " ".into();
        d.review_months = 37;
        d.retention_years = 0;
        let e = d.validate().expect_err("refused");
        for field in ["reference", "title", "review_months", "retention_years"] {
            assert!(e.message_for(field).is_some(), "{field}");
        }
    }

    #[test]
    fn a_version_needs_text_and_a_summary() {
        let e = VersionDraft {
            body: "  ".into(),
            change_summary: String::new(),
        }
        .validate()
        .expect_err("refused");
        assert!(e.message_for("body").is_some());
        assert!(e.message_for("change_summary").is_some());
        let long = VersionDraft {
            body: "x".repeat(MAX_BODY + 1),
            change_summary: "First".into(),
        };
        assert!(long.validate().is_err());
        let kept = VersionDraft {
            body: "  1. Scope\r\n\n   indented\n".into(),
            change_summary: "First".into(),
        }
        .validate()
        .expect("valid");
        assert_eq!(kept.body, "1. Scope\n\n   indented");
    }

    #[test]
    fn the_core_kinds_are_singular() {
        let singular: Vec<_> = DocumentKind::ALL
            .iter()
            .filter(|k| k.is_singular())
            .collect();
        assert_eq!(singular.len(), 4);
        assert!(DocumentKind::Scope.taken_message().contains("sms scope"));
    }

    #[test]
    fn versions_move_through_review() {
        let (author, reviewer) = (Some(1), Some(2));
        let submit = VersionAction::Submit { reviewer: 2 };
        assert_eq!(Draft.apply(submit, author, author), Ok(InReview));
        assert_eq!(
            Draft.apply(VersionAction::Submit { reviewer: 1 }, author, author),
            Err(VersionRefusal::OwnReviewer)
        );
        assert_eq!(
            InReview.apply(VersionAction::Approve, author, author),
            Err(VersionRefusal::OwnApproval)
        );
        assert_eq!(
            InReview.apply(VersionAction::Approve, author, reviewer),
            Ok(Approved)
        );
        assert_eq!(
            InReview.apply(VersionAction::Return, author, reviewer),
            Ok(Returned)
        );
        assert_eq!(
            Returned.apply(VersionAction::Edit, author, author),
            Ok(Returned)
        );
        assert_eq!(Returned.apply(submit, author, author), Ok(InReview));
        for frozen in [Approved, Superseded, InReview] {
            assert_eq!(
                frozen.apply(VersionAction::Edit, author, author),
                Err(VersionRefusal::NotEditable(frozen))
            );
        }
        assert!(matches!(
            Draft.apply(VersionAction::Approve, author, reviewer),
            Err(VersionRefusal::NotInReview(Draft))
        ));
    }

    #[test]
    fn the_unidentified_cannot_approve_what_the_unidentified_wrote() {
        assert_eq!(
            InReview.apply(VersionAction::Approve, None, None),
            Err(VersionRefusal::OwnApproval)
        );
        assert_eq!(
            InReview.apply(VersionAction::Approve, None, Some(2)),
            Ok(Approved)
        );
    }

    #[test]
    fn one_unapproved_version_at_a_time() {
        assert_eq!(may_start_version(&[]), Ok(()));
        assert_eq!(next_number(&[]), 1);
        let versions = [(1, Superseded), (2, Approved), (3, Returned)];
        assert_eq!(
            may_start_version(&versions),
            Err(VersionRefusal::UnapprovedExists(3))
        );
        assert_eq!(next_number(&versions[..2]), 3);
    }

    #[test]
    fn reviews_fall_due_after_the_interval() {
        assert_eq!(review_due(None, None, 12), None);
        assert_eq!(
            review_due(Some(day("2026-01-31")), None, 1),
            Some(day("2026-02-28"))
        );
        // A review after the approval moves the date.
        assert_eq!(
            review_due(Some(day("2025-03-01")), Some(day("2026-02-01")), 12),
            Some(day("2027-02-01"))
        );
        let due = day("2026-06-30");
        assert_eq!(review_reminder(due, day("2026-05-01")), None);
        assert_eq!(
            review_reminder(due, day("2026-05-31")),
            Some(ReviewReminder::Upcoming)
        );
        assert_eq!(review_reminder(due, due), Some(ReviewReminder::Upcoming));
        assert_eq!(
            review_reminder(due, day("2026-07-01")),
            Some(ReviewReminder::Overdue)
        );
        assert!(is_overdue(Some(due), day("2026-07-01")));
        assert!(!is_overdue(Some(due), due));
        assert!(!is_overdue(None, due));
    }

    /// What a test sequence does to a document's versions.
    #[derive(Debug, Clone)]
    enum Step {
        Start {
            author: i64,
        },
        Act {
            version: usize,
            action: VersionAction,
            actor: i64,
        },
    }

    fn step() -> impl Strategy<Value = Step> {
        let person = 1i64..4;
        prop_oneof![
            person.clone().prop_map(|author| Step::Start { author }),
            (0usize..6, 0u8..4, person.clone(), person).prop_map(
                |(version, a, reviewer, actor)| {
                    let action = match a {
                        0 => VersionAction::Edit,
                        1 => VersionAction::Submit { reviewer },
                        2 => VersionAction::Approve,
                        _ => VersionAction::Return,
                    };
                    Step::Act {
                        version,
                        action,
                        actor,
                    }
                }
            ),
        ]
    }

    proptest! {
        /// Whatever people try, in any order: at most one approved and one unapproved version,
        /// approved and superseded versions never change, superseded ones never come back, and
        /// nobody approves their own text.
        #[test]
        fn no_sequence_breaks_the_version_rules(steps in prop::collection::vec(step(), 0..40)) {
            // (number, state, author)
            let mut versions: Vec<(i64, VersionState, i64)> = Vec::new();
            for step in steps {
                let states: Vec<(i64, VersionState)> =
                    versions.iter().map(|(n, s, _)| (*n, *s)).collect();
                match step {
                    Step::Start { author } => {
                        if may_start_version(&states).is_ok() {
                            versions.push((next_number(&states), Draft, author));
                        } else {
                            prop_assert!(states.iter().any(|(_, s)| s.is_unapproved()));
                        }
                    }
                    Step::Act { version, action, actor } => {
                        let Some(&(number, before, author)) = versions.get(version) else {
                            continue;
                        };
                        let Ok(after) = before.apply(action, Some(author), Some(actor)) else {
                            continue;
                        };
                        prop_assert!(!before.is_immutable(), "{before:?} changed by {action:?}");
                        if action == VersionAction::Edit {
                            prop_assert!(before.is_editable());
                        }
                        if after == Approved {
                            prop_assert!(actor != author);
                            let mut states = states.clone();
                            approve_in(&mut states, number);
                            for (v, (_, s)) in versions.iter_mut().zip(states) {
                                v.1 = s;
                            }
                        } else {
                            versions[version].1 = after;
                        }
                    }
                }
                let approved = versions.iter().filter(|v| v.1 == Approved).count();
                let open = versions.iter().filter(|v| v.1.is_unapproved()).count();
                prop_assert!(approved <= 1);
                prop_assert!(open <= 1);
                // Every version before the approved one is approved-then-superseded or was
                // never approved; none after it is superseded.
                if let Some(current) = versions.iter().find(|v| v.1 == Approved) {
                    prop_assert!(versions.iter().filter(|v| v.1 == Superseded).all(|v| v.0 < current.0));
                }
            }
        }
    }
}
