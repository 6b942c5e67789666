//! Problems and known errors (ISO/IEC 20000-1 8.6.3): the causes behind incidents.
//!
//! A problem is investigated until its root cause is known; with a workaround it becomes a
//! known error, which the service desk looks up when the same symptoms come in again.

use crate::incident::{Level, Priority};
use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProblemStatus {
    #[default]
    New,
    Investigating,
    KnownError,
    Resolved,
    Closed,
    Cancelled,
}

crate::service::text_enum!(ProblemStatus {
    New => "new", Investigating => "investigating", KnownError => "known_error",
    Resolved => "resolved", Closed => "closed", Cancelled => "cancelled",
});

/// Why a problem may not move as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemRefusal {
    #[error("a problem cannot go from {from} to {to}")]
    NotAllowed {
        from: ProblemStatus,
        to: ProblemStatus,
        allowed: Vec<ProblemStatus>,
    },
    #[error("{1}")]
    Needs(&'static str, &'static str),
}

impl ProblemStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, ProblemStatus::Closed | ProblemStatus::Cancelled)
    }

    pub fn next(self) -> &'static [ProblemStatus] {
        use ProblemStatus::*;
        match self {
            New => &[Investigating, Cancelled],
            Investigating => &[KnownError, Resolved, Cancelled],
            KnownError => &[Resolved, Cancelled],
            Resolved => &[Closed, Investigating],
            Closed | Cancelled => &[],
        }
    }

    /// A known error needs its root cause and a workaround; resolving needs the root cause.
    pub fn transition(
        self,
        to: ProblemStatus,
        root_cause: &str,
        workaround: &str,
    ) -> Result<ProblemStatus, ProblemRefusal> {
        if !self.next().contains(&to) {
            return Err(ProblemRefusal::NotAllowed {
                from: self,
                to,
                allowed: self.next().to_vec(),
            });
        }
        let needs_cause = matches!(to, ProblemStatus::KnownError | ProblemStatus::Resolved);
        if needs_cause && root_cause.trim().is_empty() {
            return Err(ProblemRefusal::Needs(
                "root_cause",
                "Record the root cause first",
            ));
        }
        if to == ProblemStatus::KnownError && workaround.trim().is_empty() {
            return Err(ProblemRefusal::Needs(
                "workaround",
                "A known error needs a workaround",
            ));
        }
        Ok(to)
    }
}

/// The editable fields of a problem, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemDraft {
    pub title: String,
    pub description: String,
    pub impact: Level,
    pub urgency: Level,
    pub service_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub root_cause: String,
    pub workaround: String,
}

impl ProblemDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, 300);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            100_000,
        );
        self.root_cause = optional_text(
            &mut errors,
            "root_cause",
            "Root cause",
            &self.root_cause,
            50_000,
        );
        self.workaround = optional_text(
            &mut errors,
            "workaround",
            "Workaround",
            &self.workaround,
            50_000,
        );
        errors.into_result(self)
    }
}

/// Problem priority comes from the same matrix as incidents.
pub fn priority(
    matrix: &crate::incident::PriorityMatrix,
    impact: Level,
    urgency: Level,
) -> Priority {
    matrix.priority(impact, urgency)
}

/// How two records relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Related,
    /// The source is the parent of the target.
    ParentOf,
    /// The source duplicates the target; merging closes the source.
    DuplicateOf,
    /// The source (an incident) is caused by the target (a problem).
    CausedBy,
}

crate::service::text_enum!(LinkKind { Related => "related", ParentOf => "parent_of", DuplicateOf => "duplicate_of", CausedBy => "caused_by" });

/// The kinds of record a link can join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Incident,
    Problem,
}

crate::service::text_enum!(RecordKind { Incident => "incident", Problem => "problem" });

impl RecordKind {
    pub fn prefix(self) -> &'static str {
        match self {
            RecordKind::Incident => "INC",
            RecordKind::Problem => "PRB",
        }
    }

    /// Reads `INC-42` or `PRB-7` into its kind and number.
    pub fn parse_key(key: &str) -> Option<(RecordKind, i64)> {
        let (prefix, number) = key.trim().split_once('-')?;
        let kind = [RecordKind::Incident, RecordKind::Problem]
            .into_iter()
            .find(|k| k.prefix().eq_ignore_ascii_case(prefix))?;
        let number = number.parse().ok().filter(|n: &i64| *n > 0)?;
        Some((kind, number))
    }
}

/// Checks that a link makes sense before it is stored.
pub fn check_link(
    kind: LinkKind,
    from: (RecordKind, i64),
    to: (RecordKind, i64),
) -> Result<(), Invalid> {
    if from == to {
        return Err(Invalid::one(
            "target",
            "A record cannot be linked to itself",
        ));
    }
    match kind {
        LinkKind::CausedBy if from.0 != RecordKind::Incident || to.0 != RecordKind::Problem => {
            Err(Invalid::one(
                "kind",
                "caused_by links an incident to the problem that caused it",
            ))
        }
        LinkKind::DuplicateOf | LinkKind::ParentOf if from.0 != to.0 => Err(Invalid::one(
            "kind",
            "parent_of and duplicate_of join records of the same kind",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_known_error_needs_cause_and_workaround() {
        use ProblemStatus::*;
        assert!(matches!(
            Investigating.transition(KnownError, "", "reboot"),
            Err(ProblemRefusal::Needs("root_cause", _))
        ));
        assert!(matches!(
            Investigating.transition(KnownError, "leak", " "),
            Err(ProblemRefusal::Needs("workaround", _))
        ));
        assert_eq!(
            Investigating.transition(KnownError, "leak", "reboot"),
            Ok(KnownError)
        );
        assert!(matches!(
            New.transition(Closed, "x", "y"),
            Err(ProblemRefusal::NotAllowed { .. })
        ));
    }

    #[test]
    fn keys_parse() {
        assert_eq!(
            RecordKind::parse_key("INC-42"),
            Some((RecordKind::Incident, 42))
        );
        assert_eq!(
            RecordKind::parse_key("prb-7"),
            Some((RecordKind::Problem, 7))
        );
        for bad in ["", "INC", "INC-", "INC-x", "KB-1", "INC-0", "INC--1"] {
            assert_eq!(RecordKind::parse_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn links_are_checked() {
        let inc = (RecordKind::Incident, 1);
        let prb = (RecordKind::Problem, 1);
        assert!(check_link(LinkKind::CausedBy, inc, prb).is_ok());
        assert!(check_link(LinkKind::CausedBy, prb, inc).is_err());
        assert!(check_link(LinkKind::Related, inc, inc).is_err());
        assert!(check_link(LinkKind::DuplicateOf, inc, prb).is_err());
        assert!(check_link(LinkKind::DuplicateOf, inc, (RecordKind::Incident, 2)).is_ok());
    }

    proptest! {
        #[test]
        fn terminal_problems_never_move(steps in prop::collection::vec(prop::sample::select(ProblemStatus::ALL.to_vec()), 0..30)) {
            let mut status = ProblemStatus::New;
            for to in steps {
                match status.transition(to, "cause", "workaround") {
                    Ok(next) => {
                        prop_assert!(!status.is_terminal());
                        status = next;
                    }
                    Err(ProblemRefusal::NotAllowed { allowed, .. }) => prop_assert_eq!(allowed, status.next().to_vec()),
                    Err(other) => prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }
}
