//! The readiness view: for every requirement, the machine's status from its evidence rule
//! beside the assessor's judgement (kept apart, both shown), and each clause rolled up. It
//! says what Steward's records show; it is not a certification and never calls itself one.

use super::catalogue::{Catalogue, Clause};
use super::rules::{MachineStatus, RecordRef, RuleId};
use crate::validation::{Invalid, optional_text};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An assessor's judgement of one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    Conforming,
    Nonconforming,
}

crate::service::text_enum!(Judgement {
    Conforming => "conforming", Nonconforming => "nonconforming",
});

/// What an assessor writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssessmentDraft {
    pub judgement: Judgement,
    #[serde(default)]
    pub comment: String,
    /// What the judgement rests on (documents seen, people interviewed, records sampled).
    #[serde(default)]
    pub evidence: String,
}

impl AssessmentDraft {
    /// A nonconforming judgement must say why; every text has a bound.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.comment = optional_text(&mut errors, "comment", "Comment", &self.comment, 10_000);
        self.evidence = optional_text(&mut errors, "evidence", "Evidence", &self.evidence, 10_000);
        if self.judgement == Judgement::Nonconforming && self.comment.trim().is_empty() {
            errors.add("comment", "Say what does not conform");
        }
        errors.into_result(self)
    }
}

/// A judgement as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    pub judgement: Judgement,
    pub comment: String,
    pub evidence: String,
    pub assessed_by: String,
    pub assessed_at: i64,
}

/// What one rule found in the period, with its record lists already cut to a readable length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleResult {
    pub status: MachineStatus,
    /// How many records the rule looked at.
    pub population: usize,
    /// How many of them fail it.
    pub failing_count: usize,
    /// The failing records (the first ones).
    pub failing: Vec<RecordRef>,
    /// Records that serve as evidence (the first ones).
    pub records: Vec<RecordRef>,
}

/// How a requirement or a clause stands, both views taken together: a gap if either the
/// machine or the assessor found one; met if either confirms it and neither found a gap;
/// open while neither has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Met,
    Open,
    Gap,
}

crate::service::text_enum!(Standing { Met => "met", Open => "open", Gap => "gap" });

impl Standing {
    pub fn of(machine: MachineStatus, judgement: Option<Judgement>) -> Standing {
        match (machine, judgement) {
            (MachineStatus::Gap, _) | (_, Some(Judgement::Nonconforming)) => Standing::Gap,
            (MachineStatus::Met, _) | (_, Some(Judgement::Conforming)) => Standing::Met,
            _ => Standing::Open,
        }
    }

    /// Words for people: never "certified" or "compliant".
    pub fn label(self) -> &'static str {
        match self {
            Standing::Met => "Evidence complete",
            Standing::Open => "Open",
            Standing::Gap => "Gap",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequirementReadiness {
    pub id: String,
    pub text: String,
    /// What an auditor asks to see.
    pub evidence: String,
    pub rule: Option<RuleId>,
    pub rule_description: Option<&'static str>,
    pub machine: MachineStatus,
    /// What the rule found; absent for a manual requirement.
    pub found: Option<RuleResult>,
    /// The latest judgement, if any.
    pub assessment: Option<Assessment>,
    pub standing: Standing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    pub met: usize,
    pub open: usize,
    pub gap: usize,
}

impl Counts {
    fn add(&mut self, s: Standing) {
        match s {
            Standing::Met => self.met += 1,
            Standing::Open => self.open += 1,
            Standing::Gap => self.gap += 1,
        }
    }

    /// The clause's standing: any gap makes it a gap; met once nothing is open.
    pub fn standing(&self) -> Standing {
        if self.gap > 0 {
            Standing::Gap
        } else if self.open > 0 {
            Standing::Open
        } else {
            Standing::Met
        }
    }

    /// Whole per cent of requirements met, rounded down.
    pub fn percent_met(&self) -> usize {
        let all = self.met + self.open + self.gap;
        (self.met * 100).checked_div(all).unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClauseReadiness {
    pub id: String,
    pub title: String,
    pub parent: String,
    pub summary: String,
    pub documented_information: Vec<String>,
    pub counts: Counts,
    pub standing: Standing,
    pub requirements: Vec<RequirementReadiness>,
}

/// Every clause of `catalogue` with its requirements' standing, from the rules' results and
/// the latest assessments (by requirement id).
pub fn readiness(
    catalogue: &Catalogue,
    results: &HashMap<RuleId, RuleResult>,
    assessments: &HashMap<String, Assessment>,
) -> Vec<ClauseReadiness> {
    catalogue
        .clauses
        .iter()
        .map(|c| clause_readiness(c, results, assessments))
        .collect()
}

/// One clause's readiness (see [`readiness`]); `results` need hold only its rules.
pub fn clause_readiness(
    clause: &Clause,
    results: &HashMap<RuleId, RuleResult>,
    assessments: &HashMap<String, Assessment>,
) -> ClauseReadiness {
    let mut counts = Counts::default();
    let requirements = clause
        .requirements
        .iter()
        .map(|r| {
            let found = r.rule.and_then(|rule| results.get(&rule)).cloned();
            let machine = match (&r.rule, &found) {
                (None, _) => MachineStatus::Manual,
                (Some(_), Some(f)) => f.status,
                (Some(_), None) => MachineStatus::NotYetEvaluable,
            };
            let assessment = assessments.get(&r.id).cloned();
            let standing = Standing::of(machine, assessment.as_ref().map(|a| a.judgement));
            counts.add(standing);
            RequirementReadiness {
                id: r.id.clone(),
                text: r.text.clone(),
                evidence: r.evidence.clone(),
                rule: r.rule,
                rule_description: r.rule.map(RuleId::description),
                machine,
                found,
                assessment,
                standing,
            }
        })
        .collect();
    ClauseReadiness {
        id: clause.id.clone(),
        title: clause.title.clone(),
        parent: clause.parent.clone(),
        summary: clause.summary.clone(),
        documented_information: clause.documented_information.clone(),
        standing: counts.standing(),
        counts,
        requirements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::catalogue::catalogue;

    fn judged(judgement: Judgement) -> Assessment {
        Assessment {
            judgement,
            comment: "seen".into(),
            evidence: String::new(),
            assessed_by: "Ada".into(),
            assessed_at: 1,
        }
    }

    #[test]
    fn a_gap_from_either_side_is_a_gap() {
        use Judgement::*;
        use MachineStatus::*;
        assert_eq!(Standing::of(Gap, Some(Conforming)), Standing::Gap);
        assert_eq!(Standing::of(Met, Some(Nonconforming)), Standing::Gap);
        assert_eq!(Standing::of(Met, None), Standing::Met);
        assert_eq!(Standing::of(Manual, Some(Conforming)), Standing::Met);
        assert_eq!(Standing::of(Manual, None), Standing::Open);
        assert_eq!(Standing::of(NotYetEvaluable, None), Standing::Open);
    }

    #[test]
    fn with_nothing_known_every_clause_is_open_and_rules_await_records() {
        let all = readiness(catalogue(), &HashMap::new(), &HashMap::new());
        assert_eq!(all.len(), catalogue().clauses.len());
        for c in &all {
            assert_eq!(c.standing, Standing::Open, "{}", c.id);
            assert_eq!(c.counts.open, c.requirements.len());
            for r in &c.requirements {
                let expected = if r.rule.is_some() {
                    MachineStatus::NotYetEvaluable
                } else {
                    MachineStatus::Manual
                };
                assert_eq!(r.machine, expected, "{}", r.id);
            }
        }
    }

    #[test]
    fn results_and_judgements_reach_their_requirements() {
        let mut results = HashMap::new();
        results.insert(
            RuleId::ChangesHaveBackoutPlan,
            RuleResult {
                status: MachineStatus::Gap,
                population: 3,
                failing_count: 1,
                failing: vec![],
                records: vec![],
            },
        );
        let clause = catalogue()
            .clauses
            .iter()
            .find(|c| {
                c.requirements
                    .iter()
                    .any(|r| r.rule == Some(RuleId::ChangesHaveBackoutPlan))
            })
            .expect("a clause uses the rule");
        let manual = clause
            .requirements
            .iter()
            .find(|r| r.rule.is_none())
            .expect("a manual requirement");
        let mut assessments = HashMap::new();
        assessments.insert(manual.id.clone(), judged(Judgement::Conforming));
        let all = readiness(catalogue(), &results, &assessments);
        let got = all.iter().find(|c| c.id == clause.id).expect("clause");
        assert_eq!(got.standing, Standing::Gap);
        assert_eq!(got.counts.gap, 1);
        assert_eq!(got.counts.met, 1);
        let m = got
            .requirements
            .iter()
            .find(|r| r.id == manual.id)
            .expect("req");
        assert_eq!(m.standing, Standing::Met);
        assert_eq!(
            m.machine,
            MachineStatus::Manual,
            "the machine's view is kept apart"
        );
    }

    #[test]
    fn a_nonconforming_judgement_says_why() {
        let draft = AssessmentDraft {
            judgement: Judgement::Nonconforming,
            comment: " ".into(),
            evidence: String::new(),
        };
        let e = draft.validate().expect_err("needs a comment");
        assert_eq!(e.errors[0].field, "comment");
    }
}
