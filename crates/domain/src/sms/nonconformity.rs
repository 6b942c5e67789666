//! Nonconformities, their corrective actions and the check that the actions worked
//! (ISO/IEC 20000-1 clause 10.1).
//!
//! A nonconformity moves through an explicit lifecycle:
//! `open` → (containment and root cause recorded, at least one corrective action planned)
//! `actions_planned` → (every action completed) `awaiting_verification` → `closed` when an
//! independent effectiveness check finds the actions effective, or back to `actions_planned`
//! when it does not: then a new action is required before the nonconformity can be verified
//! again, and the ineffective check stays in its history.
//!
//! The store reports what it holds as [`Facts`]; [`NcStatus::settle`] says where those facts
//! put the nonconformity and [`NcStatus::check`] refuses what its status does not allow.

use crate::asset::days_until;
use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest description, containment, root cause, action, note or evidence.
pub const MAX_TEXT: usize = 10_000;
/// Days from the completion of the last action to the effectiveness check, unless changed.
pub const DEFAULT_CHECK_DAYS: i64 = 30;

/// How much a nonconformity matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A requirement is missed in a way that casts doubt on the SMS achieving its outcomes.
    Major,
    /// An isolated lapse; the system still works.
    Minor,
}

crate::service::text_enum!(Severity { Major => "major", Minor => "minor" });

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Major => "Major",
            Severity::Minor => "Minor",
        }
    }
}

/// Where a nonconformity was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = NcSource))]
pub enum Source {
    /// A finding of an internal audit; `source_ref` is the finding's id.
    Audit,
    /// An incident; `source_ref` is the incident's id.
    Incident,
    Complaint,
    ManagementReview,
    Other,
}

crate::service::text_enum!(Source {
    Audit => "audit", Incident => "incident", Complaint => "complaint",
    ManagementReview => "management_review", Other => "other",
});

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Audit => "Audit finding",
            Source::Incident => "Incident",
            Source::Complaint => "Complaint",
            Source::ManagementReview => "Management review",
            Source::Other => "Other",
        }
    }

    /// Whether `source_ref` names a record of this source (and must be given).
    pub fn takes_reference(self) -> bool {
        matches!(self, Source::Audit | Source::Incident)
    }
}

/// How the root cause was analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RootCauseMethod {
    FiveWhys,
    Fishbone,
    Other,
}

crate::service::text_enum!(RootCauseMethod {
    FiveWhys => "five_whys", Fishbone => "fishbone", Other => "other",
});

impl RootCauseMethod {
    pub fn label(self) -> &'static str {
        match self {
            RootCauseMethod::FiveWhys => "5 whys",
            RootCauseMethod::Fishbone => "Fishbone (Ishikawa)",
            RootCauseMethod::Other => "Other",
        }
    }
}

/// Where a nonconformity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NcStatus {
    /// Raised; containment, root cause or a corrective action still missing.
    Open,
    /// Analysed, with corrective actions under way.
    ActionsPlanned,
    /// Every action is done; an independent check of their effectiveness is due.
    AwaitingVerification,
    /// Found effective. Nothing changes any more.
    Closed,
}

crate::service::text_enum!(NcStatus {
    Open => "open", ActionsPlanned => "actions_planned",
    AwaitingVerification => "awaiting_verification", Closed => "closed",
});

impl NcStatus {
    pub fn label(self) -> &'static str {
        match self {
            NcStatus::Open => "Open",
            NcStatus::ActionsPlanned => "Actions planned",
            NcStatus::AwaitingVerification => "Awaiting verification",
            NcStatus::Closed => "Closed",
        }
    }
}

/// What the store knows of a nonconformity that decides its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    pub has_containment: bool,
    pub has_root_cause: bool,
    /// Corrective actions, done or not.
    pub actions: usize,
    /// Actions not yet completed.
    pub open_actions: usize,
    /// Actions added since the latest ineffective check (all of them when there is none):
    /// after an ineffective check, verification waits for a new action.
    pub actions_since_ineffective_check: usize,
}

impl Facts {
    fn analysed(&self) -> bool {
        self.has_containment && self.has_root_cause
    }

    fn ready_for_verification(&self) -> bool {
        self.actions > 0 && self.open_actions == 0 && self.actions_since_ineffective_check > 0
    }
}

/// Something done to a nonconformity that its status may refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcMove {
    /// Change its description, owner, containment, root cause or check date.
    Edit,
    AddAction,
    CompleteAction,
    /// Record an effectiveness check.
    Verify,
}

/// Why a nonconformity refuses a move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NcRefusal {
    #[error("the nonconformity is closed: nothing about it changes any more")]
    Closed,
    #[error(
        "the effectiveness of the corrective actions can be checked only once every action is completed (the nonconformity is {status})"
    )]
    NotAwaitingVerification { status: NcStatus },
    #[error(
        "the owner of a nonconformity cannot verify it: the effectiveness check must be made by someone else"
    )]
    OwnerCannotVerify,
    #[error("this corrective action is already completed")]
    ActionAlreadyCompleted,
}

impl NcStatus {
    /// Refuses `what` when this status does not allow it.
    pub fn check(self, what: NcMove) -> Result<(), NcRefusal> {
        match (self, what) {
            (NcStatus::Closed, _) => Err(NcRefusal::Closed),
            (NcStatus::AwaitingVerification, NcMove::Verify) => Ok(()),
            (status, NcMove::Verify) => Err(NcRefusal::NotAwaitingVerification { status }),
            _ => Ok(()),
        }
    }

    /// Where `facts` put a nonconformity in this status, moving forward through every step
    /// they allow (an analysed one whose single action is already done goes from open to
    /// awaiting verification at once), and back to actions planned when a new open action
    /// arrives while it awaits verification. A closed one stays closed.
    pub fn settle(self, facts: &Facts) -> NcStatus {
        let mut status = self;
        loop {
            let next = match status {
                NcStatus::Open if facts.analysed() && facts.actions > 0 => NcStatus::ActionsPlanned,
                NcStatus::ActionsPlanned if facts.ready_for_verification() => {
                    NcStatus::AwaitingVerification
                }
                NcStatus::AwaitingVerification if !facts.ready_for_verification() => {
                    NcStatus::ActionsPlanned
                }
                other => other,
            };
            if next == status {
                return status;
            }
            status = next;
        }
    }

    /// The status after an effectiveness check: closed when effective, otherwise back to
    /// actions planned (a new action is needed). Refused unless awaiting verification, and
    /// when the checker owns the nonconformity.
    pub fn verify(
        self,
        effective: bool,
        checker: i64,
        owner: Option<i64>,
    ) -> Result<NcStatus, NcRefusal> {
        self.check(NcMove::Verify)?;
        if owner == Some(checker) {
            return Err(NcRefusal::OwnerCannotVerify);
        }
        Ok(if effective {
            NcStatus::Closed
        } else {
            NcStatus::ActionsPlanned
        })
    }

    /// What the people responsible should do next, in a sentence.
    pub fn next_step(self, facts: &Facts, check_due: Option<Date>) -> String {
        match self {
            NcStatus::Open if !facts.has_containment => "Next: record the containment".into(),
            NcStatus::Open if !facts.has_root_cause => "Next: record the root cause".into(),
            NcStatus::Open => "Next: plan a corrective action".into(),
            NcStatus::ActionsPlanned if facts.actions_since_ineffective_check == 0 => {
                "Next: the last check found the actions ineffective; plan a new corrective action"
                    .into()
            }
            NcStatus::ActionsPlanned => "Next: complete the corrective actions".into(),
            NcStatus::AwaitingVerification => match check_due {
                Some(due) => format!("Next: verify effectiveness by {due}"),
                None => "Next: verify effectiveness".into(),
            },
            NcStatus::Closed => "Closed: the corrective actions were found effective".into(),
        }
    }
}

/// What is needed to raise a nonconformity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonconformityDraft {
    pub title: String,
    pub description: String,
    /// A clause of the catalogue ("8.2.4"), when the nonconformity is against one.
    pub clause_id: Option<String>,
    pub severity: Severity,
    pub source: Source,
    /// The record of the source: the audit finding's or the incident's id.
    pub source_ref: Option<i64>,
    pub owner_id: Option<i64>,
}

/// Checks an optional clause id against the catalogue; an empty one is none.
fn checked_clause(errors: &mut Invalid, clause_id: Option<String>) -> Option<String> {
    let clause_id = clause_id
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())?;
    if crate::conformance::catalogue::catalogue()
        .clause(&clause_id)
        .is_none()
    {
        errors.add(
            "clause_id",
            format!("Clause {clause_id} is not a clause of ISO/IEC 20000-1"),
        );
    }
    Some(clause_id)
}

impl NonconformityDraft {
    /// Checks the fields, in one [`Invalid`]; text is trimmed. Whether the referenced records
    /// exist is the store's to check.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, MAX_TITLE);
        self.description = required_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            MAX_TEXT,
        );
        self.clause_id = checked_clause(&mut errors, self.clause_id);
        match (self.source.takes_reference(), self.source_ref) {
            (true, None) => errors.add(
                "source_ref",
                format!(
                    "Give the {} this nonconformity comes from",
                    if self.source == Source::Audit {
                        "audit finding"
                    } else {
                        "incident"
                    }
                ),
            ),
            (false, Some(_)) => errors.add(
                "source_ref",
                format!(
                    "A nonconformity from {} refers to no record; leave the reference empty",
                    self.source.label().to_lowercase()
                ),
            ),
            _ => {}
        }
        errors.into_result(self)
    }
}

/// The fields of a nonconformity that its people edit after raising it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonconformityEdit {
    pub title: String,
    pub description: String,
    pub owner_id: Option<i64>,
    /// What was done at once to limit the effect.
    pub containment: String,
    pub root_cause: String,
    pub root_cause_method: Option<RootCauseMethod>,
    /// When the effectiveness check is due; set when the actions are complete.
    pub check_due: Option<Date>,
}

impl NonconformityEdit {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, MAX_TITLE);
        self.description = required_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            MAX_TEXT,
        );
        self.containment = optional_text(
            &mut errors,
            "containment",
            "Containment",
            self.containment.trim(),
            MAX_TEXT,
        );
        self.root_cause = optional_text(
            &mut errors,
            "root_cause",
            "Root cause",
            self.root_cause.trim(),
            MAX_TEXT,
        );
        if !self.root_cause.is_empty() && self.root_cause_method.is_none() {
            errors.add(
                "root_cause_method",
                "Say how the root cause was analysed (5 whys, fishbone or other)",
            );
        }
        errors.into_result(self)
    }
}

/// A corrective action to plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDraft {
    pub description: String,
    pub owner_id: Option<i64>,
    pub due: Date,
}

impl ActionDraft {
    /// Checks the fields; a new action may not be due in the past.
    pub fn validate(mut self, today: Date) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.description = required_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            MAX_TEXT,
        );
        if self.owner_id.is_none() {
            errors.add("owner_id", "Choose who carries out the action");
        }
        if self.due < today {
            errors.add("due", "The due date cannot be in the past");
        }
        errors.into_result(self)
    }
}

/// Checks a completion note or check evidence: required, not too long.
pub fn checked_note(field: &str, label: &str, text: &str) -> Result<String, Invalid> {
    let mut errors = Invalid::new();
    let text = required_text(&mut errors, field, label, text, MAX_TEXT);
    errors.into_result(text)
}

/// Whether an action not completed and due on `due` is overdue on `today`.
pub fn is_overdue(due: Date, completed: bool, today: Date) -> bool {
    !completed && due < today
}

/// The default date of an effectiveness check when the last action is completed on `today`.
pub fn default_check_due(today: Date) -> Date {
    today
        .checked_add(jiff::Span::new().days(DEFAULT_CHECK_DAYS))
        .unwrap_or(today)
}

/// What a reminder mail is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NcReminderKind {
    /// A corrective action is due today; to its owner.
    ActionDue,
    /// A corrective action is past its due date; to its owner.
    ActionOverdue,
    /// An effectiveness check is due; to the nonconformity's owner.
    CheckDue,
}

crate::service::text_enum!(NcReminderKind {
    ActionDue => "action_due", ActionOverdue => "action_overdue", CheckDue => "check_due",
});

/// The reminder an open action due on `due` needs on `today`, if any: on the due date, and
/// once it is past. (The store sends each kind once per action and date.)
pub fn action_reminder(due: Date, completed: bool, today: Date) -> Option<NcReminderKind> {
    if completed {
        return None;
    }
    match days_until(today, due) {
        0 => Some(NcReminderKind::ActionDue),
        d if d < 0 => Some(NcReminderKind::ActionOverdue),
        _ => None,
    }
}

/// Whether a nonconformity needs its check reminder on `today`.
pub fn check_reminder_due(status: NcStatus, check_due: Option<Date>, today: Date) -> bool {
    status == NcStatus::AwaitingVerification && check_due.is_some_and(|due| due <= today)
}

#[cfg(test)]
mod tests {
    use super::*;
    use NcStatus::*;
    use proptest::prelude::*;

    fn day(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn draft() -> NonconformityDraft {
        NonconformityDraft {
            title: "  Changes deployed without approval ".into(),
            description: "Two emergency changes went live without CAB approval.".into(),
            clause_id: Some(" 8.5.1.3 ".into()),
            severity: Severity::Major,
            source: Source::Incident,
            source_ref: Some(7),
            owner_id: Some(2),
        }
    }

    #[test]
    fn a_draft_is_trimmed_and_checked_against_the_catalogue() {
        let d = draft().validate().expect("valid");
        assert_eq!(d.title, "Changes deployed without approval");
        assert_eq!(d.clause_id.as_deref(), Some("8.5.1.3"));
        let mut bad = draft();
        bad.clause_id = Some("99.9".into());
        bad.title = " ".into();
        let e = bad.validate().expect_err("refused");
        assert!(e.message_for("clause_id").is_some());
        assert!(e.message_for("title").is_some());
        let mut none = draft();
        none.clause_id = Some(String::new());
        assert_eq!(none.validate().expect("valid").clause_id, None);
    }

    #[test]
    fn incident_and_audit_sources_need_their_record_and_others_take_none() {
        let mut d = draft();
        d.source_ref = None;
        assert!(
            d.validate()
                .expect_err("refused")
                .message_for("source_ref")
                .is_some()
        );
        let mut d = draft();
        d.source = Source::Complaint;
        assert!(d.clone().validate().is_err());
        d.source_ref = None;
        assert!(d.validate().is_ok());
    }

    #[test]
    fn a_root_cause_needs_its_method() {
        let edit = NonconformityEdit {
            title: "t".into(),
            description: "d".into(),
            owner_id: None,
            containment: "Stopped".into(),
            root_cause: "No review".into(),
            root_cause_method: None,
            check_due: None,
        };
        assert!(edit.clone().validate().is_err());
        let ok = NonconformityEdit {
            root_cause_method: Some(RootCauseMethod::FiveWhys),
            ..edit
        };
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn actions_need_an_owner_and_a_date_not_past() {
        let today = day("2027-01-05");
        let a = ActionDraft {
            description: "Add an approval gate".into(),
            owner_id: None,
            due: day("2027-01-04"),
        };
        let e = a.validate(today).expect_err("refused");
        assert!(e.message_for("owner_id").is_some() && e.message_for("due").is_some());
    }

    #[test]
    fn the_lifecycle_moves_with_its_facts() {
        let analysed = Facts {
            has_containment: true,
            has_root_cause: true,
            ..Facts::default()
        };
        assert_eq!(Open.settle(&analysed), Open);
        let planned = Facts {
            actions: 1,
            open_actions: 1,
            actions_since_ineffective_check: 1,
            ..analysed
        };
        assert_eq!(Open.settle(&planned), ActionsPlanned);
        let done = Facts {
            open_actions: 0,
            ..planned
        };
        assert_eq!(Open.settle(&done), AwaitingVerification);
        assert_eq!(AwaitingVerification.settle(&planned), ActionsPlanned);
        // After an ineffective check only a new action leads back to verification.
        let after_ineffective = Facts {
            actions_since_ineffective_check: 0,
            ..done
        };
        assert_eq!(ActionsPlanned.settle(&after_ineffective), ActionsPlanned);
        assert_eq!(Closed.settle(&planned), Closed);
    }

    #[test]
    fn verification_is_independent_and_only_when_due() {
        assert_eq!(AwaitingVerification.verify(true, 3, Some(2)), Ok(Closed));
        assert_eq!(
            AwaitingVerification.verify(false, 3, Some(2)),
            Ok(ActionsPlanned)
        );
        assert_eq!(
            AwaitingVerification.verify(true, 2, Some(2)),
            Err(NcRefusal::OwnerCannotVerify)
        );
        assert_eq!(
            ActionsPlanned.verify(true, 3, Some(2)),
            Err(NcRefusal::NotAwaitingVerification {
                status: ActionsPlanned
            })
        );
        assert_eq!(Closed.check(NcMove::AddAction), Err(NcRefusal::Closed));
        assert_eq!(Open.check(NcMove::AddAction), Ok(()));
    }

    #[test]
    fn next_steps_read_as_sentences() {
        let f = Facts {
            has_containment: true,
            ..Facts::default()
        };
        assert_eq!(Open.next_step(&f, None), "Next: record the root cause");
        assert_eq!(
            AwaitingVerification.next_step(&f, Some(day("2027-01-05"))),
            "Next: verify effectiveness by 2027-01-05"
        );
    }

    #[test]
    fn reminders_fall_on_the_due_date_and_after() {
        let due = day("2027-01-05");
        assert_eq!(
            action_reminder(due, false, due),
            Some(NcReminderKind::ActionDue)
        );
        assert_eq!(
            action_reminder(due, false, day("2027-01-09")),
            Some(NcReminderKind::ActionOverdue)
        );
        assert_eq!(action_reminder(due, false, day("2027-01-04")), None);
        assert_eq!(action_reminder(due, true, day("2027-01-09")), None);
        assert!(is_overdue(due, false, day("2027-01-06")));
        assert!(!is_overdue(due, false, due));
        assert!(check_reminder_due(AwaitingVerification, Some(due), due));
        assert!(!check_reminder_due(ActionsPlanned, Some(due), due));
        assert_eq!(default_check_due(due), day("2027-02-04"));
    }

    /// One thing that happens to a nonconformity in the model below.
    #[derive(Debug, Clone)]
    enum Step {
        Analyse,
        AddAction,
        CompleteAction(usize),
        Verify { effective: bool, by_owner: bool },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Analyse),
            Just(Step::AddAction),
            (0usize..6).prop_map(Step::CompleteAction),
            (any::<bool>(), any::<bool>()).prop_map(|(effective, by_owner)| Step::Verify {
                effective,
                by_owner
            }),
        ]
    }

    /// A nonconformity as the store keeps it: the actions (done or not, added after the
    /// latest ineffective check or not) and its checks.
    #[derive(Debug, Default)]
    struct Model {
        analysed: bool,
        actions: Vec<(bool, bool)>,
        checks: Vec<bool>,
    }

    impl Model {
        fn facts(&self) -> Facts {
            Facts {
                has_containment: self.analysed,
                has_root_cause: self.analysed,
                actions: self.actions.len(),
                open_actions: self.actions.iter().filter(|(done, _)| !done).count(),
                actions_since_ineffective_check: self
                    .actions
                    .iter()
                    .filter(|(_, new)| *new)
                    .count(),
            }
        }
    }

    proptest! {
        #[test]
        fn closed_only_after_an_effective_check_and_verified_only_when_all_done(
            steps in prop::collection::vec(step(), 0..40)
        ) {
            let owner = 1;
            let mut status = Open;
            let mut m = Model::default();
            for s in steps {
                let was_closed = status == Closed;
                match s {
                    Step::Analyse => if status.check(NcMove::Edit).is_ok() { m.analysed = true },
                    Step::AddAction => if status.check(NcMove::AddAction).is_ok() {
                        m.actions.push((false, true));
                    },
                    Step::CompleteAction(i) => if status.check(NcMove::CompleteAction).is_ok()
                        && let Some(a) = m.actions.get_mut(i) { a.0 = true },
                    Step::Verify { effective, by_owner } => {
                        let facts = m.facts();
                        let checker = if by_owner { owner } else { 2 };
                        match status.verify(effective, checker, Some(owner)) {
                            Ok(next) => {
                                prop_assert!(!by_owner, "the owner verified");
                                prop_assert!(facts.actions > 0 && facts.open_actions == 0);
                                m.checks.push(effective);
                                if !effective {
                                    for a in &mut m.actions { a.1 = false; }
                                }
                                status = next;
                            }
                            Err(_) => prop_assert!(status != AwaitingVerification || by_owner),
                        }
                    }
                }
                status = status.settle(&m.facts());
                prop_assert!(!was_closed || status == Closed, "left closed");
                if status == Closed {
                    prop_assert_eq!(m.checks.last(), Some(&true));
                }
                if status == AwaitingVerification {
                    let f = m.facts();
                    prop_assert!(f.actions > 0 && f.open_actions == 0 && m.analysed);
                }
                if status != Open {
                    prop_assert!(m.analysed && !m.actions.is_empty());
                }
            }
        }
    }
}
