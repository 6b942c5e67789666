//! Competence (ISO/IEC 20000-1 7.2): what each role demands of its holders, the proof each
//! person has of it, and the actions that close the gaps.
//!
//! A role's requirements are its competence profile. A person's record meets a requirement
//! from the day it was achieved until the day it expires (a record without expiry never
//! does). An action (training, mentoring, hiring) is opened for a gap, completed, and then
//! evaluated: only that evaluation says whether the gap really closed, and an ineffective one
//! leaves the gap open for a new action.

use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const MAX_NAME: usize = 200;
pub const MAX_TEXT: usize = 5_000;
/// A record expiring within this many days is flagged so that it is renewed in time.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Where a person's competence comes from (the standard's "education, training or experience").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = CompetenceBasis))]
pub enum Basis {
    Education,
    Training,
    Qualification,
    Experience,
}

crate::service::text_enum!(Basis {
    Education => "education", Training => "training", Qualification => "qualification",
    Experience => "experience",
});

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Basis::Education => "Education",
            Basis::Training => "Training",
            Basis::Qualification => "Qualification",
            Basis::Experience => "Experience",
        }
    }
}

/// How a gap is to be filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = CompetenceActionKind))]
pub enum ActionKind {
    Training,
    Mentoring,
    Hiring,
    Other,
}

crate::service::text_enum!(ActionKind {
    Training => "training", Mentoring => "mentoring", Hiring => "hiring", Other => "other",
});

impl ActionKind {
    pub fn label(self) -> &'static str {
        match self {
            ActionKind::Training => "Training",
            ActionKind::Mentoring => "Mentoring",
            ActionKind::Hiring => "Hiring",
            ActionKind::Other => "Other",
        }
    }
}

/// The stored name of an action's stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = CompetenceActionStatus))]
pub enum ActionStatus {
    Open,
    Completed,
    Evaluated,
}

crate::service::text_enum!(ActionStatus {
    Open => "open", Completed => "completed", Evaluated => "evaluated",
});

impl ActionStatus {
    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::Open => "Open",
            ActionStatus::Completed => "Completed, awaiting evaluation",
            ActionStatus::Evaluated => "Evaluated",
        }
    }
}

/// Where an action stands, with what each stage must carry: a completed action has its
/// completion date, an evaluated one also its verdict and the reasoning behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ActionStage {
    Open,
    Completed {
        completed_on: Date,
    },
    Evaluated {
        completed_on: Date,
        effective: bool,
        evaluation: String,
    },
}

/// Why a step of an action's lifecycle was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The step does not follow from where the action stands.
    #[error("{0}")]
    Refused(String),
    /// The step's fields are wrong.
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

impl ActionStage {
    pub fn status(&self) -> ActionStatus {
        match self {
            ActionStage::Open => ActionStatus::Open,
            ActionStage::Completed { .. } => ActionStatus::Completed,
            ActionStage::Evaluated { .. } => ActionStatus::Evaluated,
        }
    }

    pub fn completed_on(&self) -> Option<Date> {
        match self {
            ActionStage::Open => None,
            ActionStage::Completed { completed_on }
            | ActionStage::Evaluated { completed_on, .. } => Some(*completed_on),
        }
    }

    /// The verdict, once evaluated.
    pub fn effective(&self) -> Option<bool> {
        match self {
            ActionStage::Evaluated { effective, .. } => Some(*effective),
            _ => None,
        }
    }

    pub fn evaluation(&self) -> &str {
        match self {
            ActionStage::Evaluated { evaluation, .. } => evaluation,
            _ => "",
        }
    }

    /// Whether the action still stands for its gap: open, or done and not yet judged.
    pub fn addresses_gap(&self) -> bool {
        matches!(self, ActionStage::Open | ActionStage::Completed { .. })
    }

    /// Marks an open action done on `on`, which cannot be after `today`.
    pub fn complete(&self, on: Date, today: Date) -> Result<ActionStage, StepError> {
        if *self != ActionStage::Open {
            return Err(StepError::Refused(format!(
                "The action is already {}: only an open action can be completed",
                self.status().as_str()
            )));
        }
        if on > today {
            return Err(Invalid::one(
                "completed_on",
                "The completion date cannot be in the future",
            )
            .into());
        }
        Ok(ActionStage::Completed { completed_on: on })
    }

    /// Judges a completed action: did the gap close? The reasoning is required either way.
    pub fn evaluate(&self, effective: bool, evaluation: &str) -> Result<ActionStage, StepError> {
        let ActionStage::Completed { completed_on } = *self else {
            return Err(StepError::Refused(match self {
                ActionStage::Open => {
                    "The action is still open: complete it before evaluating it".to_owned()
                }
                _ => "The action has already been evaluated; raise a new action if the gap \
                      remains"
                    .to_owned(),
            }));
        };
        let mut errors = Invalid::new();
        let evaluation = required_text(
            &mut errors,
            "evaluation",
            "The evaluation",
            evaluation,
            MAX_TEXT,
        );
        let evaluation = errors.into_result(evaluation)?;
        Ok(ActionStage::Evaluated {
            completed_on,
            effective,
            evaluation,
        })
    }
}

/// Why a reminder is sent, once to each of its recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// The proof a role holder relies on expires within [`EXPIRY_WARNING_DAYS`]: to the person.
    RecordExpiring,
    /// An open action is past its due date: to the person and to its owner.
    ActionOverdue,
}

crate::service::text_enum!(ReminderKind {
    RecordExpiring => "record_expiring", ActionOverdue => "action_overdue",
});

/// A requirement of a role's competence profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementDraft {
    pub role_id: i64,
    pub name: String,
    pub description: String,
}

impl RequirementDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_NAME);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            self.description.trim(),
            MAX_TEXT,
        );
        errors.into_result(self)
    }
}

/// A person's proof of meeting a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordDraft {
    pub user_id: i64,
    pub requirement_id: i64,
    pub basis: Basis,
    /// The course, certificate, degree or experience, as people know it.
    pub title: String,
    /// Who gave it: a training company, a university, an employer.
    pub provider: String,
    pub achieved_on: Date,
    /// The first day it no longer counts; none for what does not lapse.
    pub expires_on: Option<Date>,
    /// Where the proof is (certificate number, file, CV) and who checked it.
    pub evidence: String,
}

impl RecordDraft {
    pub fn validate(mut self, today: Date) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, MAX_NAME);
        self.provider = optional_text(
            &mut errors,
            "provider",
            "Provider",
            self.provider.trim(),
            MAX_NAME,
        );
        self.evidence = required_text(
            &mut errors,
            "evidence",
            "The evidence",
            &self.evidence,
            MAX_TEXT,
        );
        if self.achieved_on > today {
            errors.add(
                "achieved_on",
                "The date achieved cannot be in the future: record it once it is achieved",
            );
        }
        if self.expires_on.is_some_and(|e| e <= self.achieved_on) {
            errors.add(
                "expires_on",
                "The expiry date must come after the date achieved",
            );
        }
        errors.into_result(self)
    }

    /// Whether it meets its requirement on `day`.
    pub fn valid_on(&self, day: Date) -> bool {
        valid_on(self.achieved_on, self.expires_on, day)
    }
}

fn valid_on(achieved_on: Date, expires_on: Option<Date>, day: Date) -> bool {
    achieved_on <= day && expires_on.is_none_or(|e| day < e)
}

/// An action to fill a person's gap in one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionDraft {
    pub user_id: i64,
    pub requirement_id: i64,
    pub kind: ActionKind,
    pub description: String,
    pub owner_id: Option<i64>,
    pub due_date: Date,
}

impl ActionDraft {
    /// `today` bounds the due date: an action due in the past is overdue the moment it exists.
    pub fn validate(mut self, today: Date) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.description = required_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            MAX_TEXT,
        );
        if self.due_date < today {
            errors.add("due_date", "The due date cannot be in the past");
        }
        errors.into_result(self)
    }
}

/// A requirement as the gap analysis needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub id: i64,
    pub role_id: i64,
}

/// Someone holding a role on the day analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub user_id: i64,
    pub role_id: i64,
}

/// A competence record as the gap analysis needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proof {
    pub user_id: i64,
    pub requirement_id: i64,
    pub achieved_on: Date,
    pub expires_on: Option<Date>,
}

/// An action as the gap analysis needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remedy {
    pub id: i64,
    pub user_id: i64,
    pub requirement_id: i64,
    pub due_date: Date,
    pub status: ActionStatus,
}

/// How one person stands against one requirement of their roles on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "standing", rename_all = "snake_case")]
pub enum CompetenceStanding {
    /// A record meets it and stays valid beyond the warning window (or never expires).
    Competent { expires_on: Option<Date> },
    /// A record meets it but expires within [`EXPIRY_WARNING_DAYS`].
    Expiring { expires_on: Date },
    /// No record meets it; an action (open, or done and awaiting evaluation) is under way.
    GapActioned {
        action_id: i64,
        due_date: Date,
        /// Open and past its due date.
        overdue: bool,
    },
    /// No record meets it and nothing is being done.
    Gap,
}

impl CompetenceStanding {
    /// Whether the person lacks the requirement on the day (with or without an action).
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            CompetenceStanding::Gap | CompetenceStanding::GapActioned { .. }
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            CompetenceStanding::Competent { .. } => "Competent",
            CompetenceStanding::Expiring { .. } => "Expiring",
            CompetenceStanding::GapActioned { overdue: true, .. } => "Gap, action overdue",
            CompetenceStanding::GapActioned { .. } => "Gap, action under way",
            CompetenceStanding::Gap => "Gap",
        }
    }
}

/// One cell of the competence matrix: a holder and a requirement of one of their roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GapCell {
    pub user_id: i64,
    pub role_id: i64,
    pub requirement_id: i64,
    pub standing: CompetenceStanding,
}

/// How every current holder stands against every requirement of their roles on `day`, one
/// cell per (person, requirement), ordered by person, role and requirement.
pub fn gap_analysis(
    requirements: &[Requirement],
    holders: &[Holder],
    proofs: &[Proof],
    remedies: &[Remedy],
    day: Date,
) -> Vec<GapCell> {
    let mut by_role: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for r in requirements {
        by_role.entry(r.role_id).or_default().insert(r.id);
    }
    let pairs: BTreeSet<(i64, i64, i64)> = holders
        .iter()
        .flat_map(|h| {
            by_role
                .get(&h.role_id)
                .into_iter()
                .flatten()
                .map(move |req| (h.user_id, h.role_id, *req))
        })
        .collect();
    pairs
        .into_iter()
        .map(|(user_id, role_id, requirement_id)| GapCell {
            user_id,
            role_id,
            requirement_id,
            standing: standing(user_id, requirement_id, proofs, remedies, day),
        })
        .collect()
}

fn standing(
    user_id: i64,
    requirement_id: i64,
    proofs: &[Proof],
    remedies: &[Remedy],
    day: Date,
) -> CompetenceStanding {
    let concerns = |u: i64, r: i64| u == user_id && r == requirement_id;
    // The longest-lasting valid record counts: no expiry beats any expiry.
    let best = proofs
        .iter()
        .filter(|p| concerns(p.user_id, p.requirement_id))
        .filter(|p| valid_on(p.achieved_on, p.expires_on, day))
        .map(|p| p.expires_on)
        .max_by_key(|e| (e.is_none(), *e));
    if let Some(expires_on) = best {
        return match expires_on {
            Some(e) if expiring_within(day, e) => CompetenceStanding::Expiring { expires_on: e },
            _ => CompetenceStanding::Competent { expires_on },
        };
    }
    // An open action is what is being done now; one awaiting evaluation comes second.
    let remedy = remedies
        .iter()
        .filter(|a| concerns(a.user_id, a.requirement_id))
        .filter(|a| matches!(a.status, ActionStatus::Open | ActionStatus::Completed))
        .min_by_key(|a| (a.status != ActionStatus::Open, a.due_date, a.id));
    match remedy {
        Some(a) => CompetenceStanding::GapActioned {
            action_id: a.id,
            due_date: a.due_date,
            overdue: a.status == ActionStatus::Open && a.due_date < day,
        },
        None => CompetenceStanding::Gap,
    }
}

/// Days a new holder has to meet their role's requirements or have an action for each gap
/// before the missing gap check counts against 7.2 f.
pub const NEW_HOLDER_GRACE_DAYS: i64 = 30;

/// Whether the person who took up `role_id` on `from_date` still shows, on `day`, a gap in that
/// role with nothing being done, past the grace period: the gap check a new assignment should
/// trigger did not happen. `cells` is the gap analysis on `day`.
pub fn new_holder_unchecked(
    user_id: i64,
    role_id: i64,
    from_date: Date,
    cells: &[GapCell],
    day: Date,
) -> bool {
    let grace_over = from_date
        .checked_add(jiff::Span::new().days(NEW_HOLDER_GRACE_DAYS))
        .is_ok_and(|end| end <= day);
    grace_over
        && cells.iter().any(|c| {
            c.user_id == user_id && c.role_id == role_id && c.standing == CompetenceStanding::Gap
        })
}

fn expiring_within(day: Date, expires_on: Date) -> bool {
    day.checked_add(jiff::Span::new().days(EXPIRY_WARNING_DAYS))
        .is_ok_and(|horizon| expires_on <= horizon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn record() -> RecordDraft {
        RecordDraft {
            user_id: 1,
            requirement_id: 2,
            basis: Basis::Qualification,
            title: " ITIL 4 Foundation ".into(),
            provider: "PeopleCert".into(),
            achieved_on: day("2026-03-01"),
            expires_on: Some(day("2029-03-01")),
            evidence: "Certificate GR671234, checked by R. Jones".into(),
        }
    }

    #[test]
    fn a_sound_record_passes_trimmed() {
        let r = record().validate(day("2026-12-01")).expect("valid");
        assert_eq!(r.title, "ITIL 4 Foundation");
        assert!(r.valid_on(day("2026-12-01")));
        assert!(!r.valid_on(day("2029-03-01")));
        assert!(!r.valid_on(day("2026-02-28")));
    }

    #[test]
    fn a_record_cannot_be_achieved_in_the_future_or_expire_before_it_starts() {
        let mut r = record();
        r.achieved_on = day("2027-01-01");
        r.expires_on = Some(day("2026-12-31"));
        r.evidence = " ".into();
        let e = r.validate(day("2026-12-01")).expect_err("refused");
        assert!(e.message_for("achieved_on").is_some());
        assert_eq!(
            e.message_for("expires_on"),
            Some("The expiry date must come after the date achieved")
        );
        assert_eq!(e.message_for("evidence"), Some("The evidence is required"));
    }

    #[test]
    fn requirements_and_actions_need_their_text() {
        let e = RequirementDraft {
            role_id: 1,
            name: " ".into(),
            description: String::new(),
        }
        .validate()
        .expect_err("refused");
        assert_eq!(e.message_for("name"), Some("Name is required"));
        let a = ActionDraft {
            user_id: 1,
            requirement_id: 2,
            kind: ActionKind::Training,
            description: String::new(),
            owner_id: None,
            due_date: day("2026-11-30"),
        };
        let e = a.validate(day("2026-12-01")).expect_err("refused");
        assert!(e.message_for("description").is_some());
        assert!(e.message_for("due_date").is_some());
    }

    #[test]
    fn an_action_is_completed_then_evaluated_and_nothing_else() {
        let today = day("2026-12-01");
        let open = ActionStage::Open;
        assert!(matches!(
            open.evaluate(true, "Passed"),
            Err(StepError::Refused(_))
        ));
        assert!(matches!(
            open.complete(day("2026-12-02"), today),
            Err(StepError::Invalid(_))
        ));
        let done = open.complete(day("2026-11-20"), today).expect("completed");
        assert_eq!(done.completed_on(), Some(day("2026-11-20")));
        assert!(matches!(
            done.complete(today, today),
            Err(StepError::Refused(_))
        ));
        match done.evaluate(false, " ") {
            Err(StepError::Invalid(e)) => {
                assert_eq!(
                    e.message_for("evaluation"),
                    Some("The evaluation is required")
                )
            }
            other => panic!("{other:?}"),
        }
        let judged = done
            .evaluate(false, " Failed the exam ")
            .expect("evaluated");
        assert_eq!(judged.effective(), Some(false));
        assert_eq!(judged.evaluation(), "Failed the exam");
        assert!(!judged.addresses_gap());
        let Err(StepError::Refused(message)) = judged.evaluate(true, "Again") else {
            panic!("evaluated twice");
        };
        assert!(message.contains("raise a new action"));
    }

    const ROLE: i64 = 10;

    fn analyse(proofs: &[Proof], remedies: &[Remedy], on: &str) -> Vec<GapCell> {
        gap_analysis(
            &[
                Requirement {
                    id: 1,
                    role_id: ROLE,
                },
                Requirement {
                    id: 2,
                    role_id: ROLE,
                },
            ],
            &[Holder {
                user_id: 7,
                role_id: ROLE,
            }],
            proofs,
            remedies,
            day(on),
        )
    }

    #[test]
    fn the_matrix_shows_competent_expiring_actioned_and_bare_gaps() {
        let proof = |expires: Option<&str>| Proof {
            user_id: 7,
            requirement_id: 1,
            achieved_on: day("2026-01-01"),
            expires_on: expires.map(day),
        };
        let remedy = Remedy {
            id: 3,
            user_id: 7,
            requirement_id: 2,
            due_date: day("2026-11-30"),
            status: ActionStatus::Open,
        };
        let cells = analyse(&[proof(Some("2026-12-20"))], &[remedy], "2026-12-01");
        assert_eq!(
            cells[0].standing,
            CompetenceStanding::Expiring {
                expires_on: day("2026-12-20")
            }
        );
        assert_eq!(
            cells[1].standing,
            CompetenceStanding::GapActioned {
                action_id: 3,
                due_date: day("2026-11-30"),
                overdue: true
            }
        );
        // A second record without expiry wins; an evaluated action no longer counts.
        let evaluated = Remedy {
            status: ActionStatus::Evaluated,
            ..remedy
        };
        let cells = analyse(
            &[proof(Some("2026-12-20")), proof(None)],
            &[evaluated],
            "2026-12-01",
        );
        assert_eq!(
            cells[0].standing,
            CompetenceStanding::Competent { expires_on: None }
        );
        assert_eq!(cells[1].standing, CompetenceStanding::Gap);
        // Past the expiry, the record no longer counts.
        let cells = analyse(&[proof(Some("2026-12-20"))], &[], "2026-12-20");
        assert_eq!(cells[0].standing, CompetenceStanding::Gap);
    }

    fn date_in(offset: i64) -> Date {
        day("2026-01-01")
            .checked_add(jiff::Span::new().days(offset))
            .expect("date")
    }

    prop_compose! {
        fn world()(
            requirements in proptest::collection::vec((1i64..8, 1i64..4), 0..10),
            holders in proptest::collection::vec((1i64..6, 1i64..4), 0..10),
            proofs in proptest::collection::vec((1i64..6, 1i64..8, 0i64..200, proptest::option::of(1i64..200)), 0..15),
            remedies in proptest::collection::vec((1i64..6, 1i64..8, 0i64..200, 0usize..3), 0..10),
            today in 0i64..250,
        ) -> (Vec<Requirement>, Vec<Holder>, Vec<Proof>, Vec<Remedy>, Date) {
            // One role per requirement id, as in the database.
            let mut seen = BTreeMap::new();
            for (id, role_id) in requirements {
                seen.entry(id).or_insert(role_id);
            }
            (
                seen.into_iter().map(|(id, role_id)| Requirement { id, role_id }).collect(),
                holders.into_iter().map(|(user_id, role_id)| Holder { user_id, role_id }).collect(),
                proofs.into_iter().map(|(user_id, requirement_id, from, lasts)| Proof {
                    user_id,
                    requirement_id,
                    achieved_on: date_in(from),
                    expires_on: lasts.map(|d| date_in(from + d)),
                }).collect(),
                remedies.into_iter().enumerate().map(|(i, (user_id, requirement_id, due, s))| Remedy {
                    id: i as i64 + 1,
                    user_id,
                    requirement_id,
                    due_date: date_in(due),
                    status: ActionStatus::ALL[s],
                }).collect(),
                date_in(today),
            )
        }
    }

    #[test]
    fn a_new_holder_is_checked_once_the_grace_period_is_over() {
        let cell = |standing| GapCell {
            user_id: 7,
            role_id: 3,
            requirement_id: 11,
            standing,
        };
        let from = day("2026-05-01");
        let gap = [cell(CompetenceStanding::Gap)];
        assert!(!new_holder_unchecked(7, 3, from, &gap, day("2026-05-30")));
        assert!(new_holder_unchecked(7, 3, from, &gap, day("2026-05-31")));
        let actioned = [cell(CompetenceStanding::GapActioned {
            action_id: 1,
            due_date: day("2026-07-01"),
            overdue: false,
        })];
        assert!(!new_holder_unchecked(
            7,
            3,
            from,
            &actioned,
            day("2026-06-30")
        ));
        assert!(
            !new_holder_unchecked(7, 4, from, &gap, day("2026-06-30")),
            "another role"
        );
        assert!(
            !new_holder_unchecked(8, 3, from, &gap, day("2026-06-30")),
            "another person"
        );
    }

    proptest! {
        /// A valid record for a requirement means no gap in it, whatever the actions.
        #[test]
        fn a_valid_record_is_never_a_gap((reqs, holders, proofs, remedies, today) in world()) {
            for cell in gap_analysis(&reqs, &holders, &proofs, &remedies, today) {
                let proven = proofs.iter().any(|p| p.user_id == cell.user_id
                    && p.requirement_id == cell.requirement_id
                    && valid_on(p.achieved_on, p.expires_on, today));
                prop_assert_eq!(proven, !cell.standing.is_gap());
            }
        }

        /// Recording more proof can close gaps but never opens one.
        #[test]
        fn a_new_record_never_adds_a_gap(
            (reqs, holders, mut proofs, remedies, today) in world(),
            extra in (1i64..6, 1i64..8, 0i64..200, proptest::option::of(1i64..200)),
        ) {
            let gaps = |proofs: &[Proof]| gap_analysis(&reqs, &holders, proofs, &remedies, today)
                .into_iter()
                .filter(|c| c.standing.is_gap())
                .map(|c| (c.user_id, c.requirement_id))
                .collect::<BTreeSet<_>>();
            let before = gaps(&proofs);
            proofs.push(Proof {
                user_id: extra.0,
                requirement_id: extra.1,
                achieved_on: date_in(extra.2),
                expires_on: extra.3.map(|d| date_in(extra.2 + d)),
            });
            prop_assert!(gaps(&proofs).is_subset(&before));
        }

        /// Every holder meets every requirement of each of their roles exactly once.
        #[test]
        fn every_holder_and_requirement_appears_once((reqs, holders, proofs, remedies, today) in world()) {
            let cells = gap_analysis(&reqs, &holders, &proofs, &remedies, today);
            let expected: BTreeSet<(i64, i64)> = holders.iter().flat_map(|h| {
                reqs.iter().filter(move |r| r.role_id == h.role_id).map(move |r| (h.user_id, r.id))
            }).collect();
            let got: Vec<(i64, i64)> = cells.iter().map(|c| (c.user_id, c.requirement_id)).collect();
            prop_assert_eq!(got.len(), expected.len());
            prop_assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected);
        }
    }
}
