//! Change risk from an admin-defined questionnaire.
//!
//! Each question offers answers worth a score; the total, against the questionnaire's
//! thresholds, gives the risk level. Scores are plain sums so that an assessor can see why a
//! change came out high: the answers that scored are listed beside the level.

use crate::validation::{Invalid, required_text};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
    Critical,
}

crate::service::text_enum!(RiskLevel {
    Low => "low", Medium => "medium", High => "high", Critical => "critical",
});

/// One possible answer and what it adds to the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerOption {
    pub id: String,
    pub label: String,
    pub score: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    pub id: String,
    pub text: String,
    pub options: Vec<AnswerOption>,
}

/// The lowest total score of each level above low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thresholds {
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

impl Thresholds {
    pub fn level(&self, score: u32) -> RiskLevel {
        if score >= self.critical {
            RiskLevel::Critical
        } else if score >= self.high {
            RiskLevel::High
        } else if score >= self.medium {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}

/// A risk questionnaire as an admin writes it; [`Questionnaire::validate`] checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Questionnaire {
    pub questions: Vec<Question>,
    pub thresholds: Thresholds,
}

/// The answers to a questionnaire: question id → option id.
pub type Answers = BTreeMap<String, String>;

/// What the answers add up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    pub score: u32,
    pub level: RiskLevel,
    /// The questions whose answer scored, with that score, in questionnaire order: the "why".
    pub contributions: Vec<(String, u32)>,
}

const MAX_QUESTIONS: usize = 100;
const MAX_OPTIONS: usize = 20;
const MAX_ID: usize = 64;

impl Questionnaire {
    /// Checks the definition: at least one question, ids unique (questions among themselves,
    /// options within their question), each question with options, thresholds ascending and
    /// reachable. Text is trimmed.
    pub fn validate(mut self) -> Result<Questionnaire, Invalid> {
        let mut errors = Invalid::new();
        if self.questions.is_empty() {
            errors.add("questions", "A questionnaire needs at least one question");
        }
        if self.questions.len() > MAX_QUESTIONS {
            errors.add(
                "questions",
                format!("A questionnaire has at most {MAX_QUESTIONS} questions"),
            );
        }
        let mut ids = HashSet::new();
        for (i, q) in self.questions.iter_mut().enumerate() {
            check_question(&mut errors, i, q, &mut ids);
        }
        check_thresholds(&mut errors, &self.thresholds, self.max_score());
        errors.into_result(self)
    }

    /// The highest total the answers can reach.
    pub fn max_score(&self) -> u32 {
        self.questions
            .iter()
            .map(|q| q.options.iter().map(|o| o.score).max().unwrap_or(0))
            .fold(0u32, u32::saturating_add)
    }

    /// Scores a complete set of answers. Every question must be answered with one of its
    /// options, and nothing else may be answered: a partial assessment would under-state risk.
    pub fn assess(&self, answers: &Answers) -> Result<Assessment, Invalid> {
        let mut errors = Invalid::new();
        let mut score = 0u32;
        let mut contributions = Vec::new();
        for q in &self.questions {
            let field = format!("answers.{}", q.id);
            match answers.get(&q.id) {
                None => errors.add(&field, format!("Answer “{}”", q.text)),
                Some(chosen) => match q.options.iter().find(|o| &o.id == chosen) {
                    None => errors.add(
                        &field,
                        format!("“{chosen}” is not one of the answers to “{}”", q.text),
                    ),
                    Some(option) => {
                        score = score.saturating_add(option.score);
                        if option.score > 0 {
                            contributions.push((q.id.clone(), option.score));
                        }
                    }
                },
            }
        }
        for id in answers.keys() {
            if !self.questions.iter().any(|q| &q.id == id) {
                errors.add(
                    &format!("answers.{id}"),
                    format!("There is no question “{id}” in this questionnaire"),
                );
            }
        }
        errors.into_result(Assessment {
            score,
            level: self.thresholds.level(score),
            contributions,
        })
    }

    /// Five questions most change managers start from; scores 0-14, low below 3, medium
    /// from 3, high from 6, critical from 10.
    pub fn default_questionnaire() -> Questionnaire {
        let q = |id: &str, text: &str, options: &[(&str, &str, u32)]| Question {
            id: id.into(),
            text: text.into(),
            options: options
                .iter()
                .map(|(id, label, score)| AnswerOption {
                    id: (*id).into(),
                    label: (*label).into(),
                    score: *score,
                })
                .collect(),
        };
        Questionnaire {
            questions: vec![
                q(
                    "blast_radius",
                    "How much could break if this change goes wrong?",
                    &[
                        ("one_ci", "One CI, no dependants", 0),
                        ("one_service", "One service", 2),
                        ("several_services", "Several services", 4),
                    ],
                ),
                q(
                    "tested",
                    "Was the change tested in a staging environment?",
                    &[
                        ("yes", "Yes, the same change", 0),
                        ("partly", "Partly, or a similar change", 1),
                        ("no", "No", 3),
                    ],
                ),
                q(
                    "backout_tested",
                    "Has the back-out plan been tested?",
                    &[
                        ("yes", "Yes", 0),
                        ("no", "No", 2),
                        ("impossible", "There is no way back", 3),
                    ],
                ),
                q(
                    "customer_facing",
                    "Will customers notice during the change?",
                    &[
                        ("no", "No", 0),
                        ("degraded", "Reduced service", 1),
                        ("outage", "Outage", 2),
                    ],
                ),
                q(
                    "out_of_hours",
                    "Is the change done outside business hours?",
                    &[("yes", "Yes", 0), ("no", "No, during business hours", 2)],
                ),
            ],
            thresholds: Thresholds {
                medium: 3,
                high: 6,
                critical: 10,
            },
        }
    }
}

fn check_question(errors: &mut Invalid, i: usize, q: &mut Question, ids: &mut HashSet<String>) {
    let field = format!("questions[{i}]");
    q.id = required_text(errors, &format!("{field}.id"), "Question id", &q.id, MAX_ID);
    q.text = required_text(errors, &format!("{field}.text"), "Question", &q.text, 500);
    if !q.id.is_empty() && !ids.insert(q.id.clone()) {
        errors.add(
            &format!("{field}.id"),
            format!("Two questions have the id “{}”", q.id),
        );
    }
    if q.options.is_empty() {
        errors.add(
            &format!("{field}.options"),
            format!("Question “{}” needs at least one answer", q.text),
        );
    }
    if q.options.len() > MAX_OPTIONS {
        errors.add(
            &format!("{field}.options"),
            format!("A question has at most {MAX_OPTIONS} answers"),
        );
    }
    let mut option_ids = HashSet::new();
    for (j, o) in q.options.iter_mut().enumerate() {
        let field = format!("{field}.options[{j}]");
        o.id = required_text(errors, &format!("{field}.id"), "Answer id", &o.id, MAX_ID);
        o.label = required_text(errors, &format!("{field}.label"), "Answer", &o.label, 300);
        if !o.id.is_empty() && !option_ids.insert(o.id.clone()) {
            errors.add(
                &format!("{field}.id"),
                format!(
                    "Question “{}” has two answers with the id “{}”",
                    q.text, o.id
                ),
            );
        }
    }
}

fn check_thresholds(errors: &mut Invalid, t: &Thresholds, max_score: u32) {
    if !(0 < t.medium && t.medium < t.high && t.high < t.critical) {
        errors.add(
            "thresholds",
            "Thresholds must rise: 0 < medium < high < critical",
        );
    } else if t.critical > max_score {
        // Not fatal to scoring, but a level nobody can reach is a mistake worth catching.
        errors.add(
            "thresholds.critical",
            format!("No answers reach the critical threshold: the highest score is {max_score}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(q, a)| ((*q).to_owned(), (*a).to_owned()))
            .collect()
    }

    #[test]
    fn the_default_questionnaire_is_valid_and_scores() {
        let q = Questionnaire::default_questionnaire()
            .validate()
            .expect("valid");
        assert_eq!(q.max_score(), 14);
        let safe = answers(&[
            ("blast_radius", "one_ci"),
            ("tested", "yes"),
            ("backout_tested", "yes"),
            ("customer_facing", "no"),
            ("out_of_hours", "yes"),
        ]);
        let a = q.assess(&safe).expect("complete");
        assert_eq!((a.score, a.level), (0, RiskLevel::Low));
        let risky = answers(&[
            ("blast_radius", "several_services"),
            ("tested", "no"),
            ("backout_tested", "impossible"),
            ("customer_facing", "outage"),
            ("out_of_hours", "no"),
        ]);
        let a = q.assess(&risky).expect("complete");
        assert_eq!((a.score, a.level), (14, RiskLevel::Critical));
        assert_eq!(a.contributions.len(), 5);
    }

    #[test]
    fn missing_unknown_and_extra_answers_are_named() {
        let q = Questionnaire::default_questionnaire();
        let err = q
            .assess(&answers(&[("tested", "maybe"), ("colour", "blue")]))
            .expect_err("incomplete");
        assert!(
            err.message_for("answers.blast_radius")
                .is_some_and(|m| m.contains("How much could break"))
        );
        assert!(
            err.message_for("answers.tested")
                .is_some_and(|m| m.contains("maybe"))
        );
        assert!(err.message_for("answers.colour").is_some());
    }

    #[test]
    fn a_bad_definition_is_refused() {
        let mut q = Questionnaire::default_questionnaire();
        q.questions[1].id = "blast_radius".into();
        q.questions[2].options.clear();
        q.questions[3].options[1].id = "no".into();
        q.thresholds = Thresholds {
            medium: 5,
            high: 5,
            critical: 9,
        };
        let err = q.validate().expect_err("bad");
        for field in [
            "questions[1].id",
            "questions[2].options",
            "questions[3].options[1].id",
            "thresholds",
        ] {
            assert!(err.message_for(field).is_some(), "{field}: {err}");
        }
        let empty = Questionnaire {
            questions: vec![],
            thresholds: Thresholds {
                medium: 1,
                high: 2,
                critical: 3,
            },
        };
        assert!(empty.validate().is_err());
    }

    proptest! {
        /// The level never falls as the score rises.
        #[test]
        fn levels_rise_with_scores(a in 0u32..30, b in 0u32..30) {
            let t = Thresholds { medium: 3, high: 6, critical: 10 };
            let (low, high) = (a.min(b), a.max(b));
            prop_assert!(t.level(low) <= t.level(high));
        }
    }
}
