//! Customer satisfaction (8.3.2-f): surveys, with their sample, responses, average score and
//! analysis, and the ratings requesters give their own resolved tickets.
//!
//! Scores are on a 1–5 scale. A survey's average keeps one decimal and is held in tenths
//! (`42` is 4.2) so that both backends and the backup file keep it exactly.

use super::not_future;
use crate::incident::Status;
use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::Serialize;

pub const MAX_ANALYSIS: usize = 10_000;
pub const MAX_COMMENT: usize = 2_000;
pub const MIN_SCORE: i64 = 1;
pub const MAX_SCORE: i64 = 5;

/// A survey as typed; `average_score` is a number such as 4.2.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyDraft {
    /// The customer surveyed; `None` for a survey of all customers.
    pub customer_id: Option<i64>,
    pub service_id: Option<i64>,
    pub conducted_on: Date,
    /// How many people were asked.
    pub sample_size: i64,
    pub responses: i64,
    /// The average of the responses; required when there were responses.
    pub average_score: Option<f64>,
    pub analysis: String,
    /// The improvement raised from the survey, if any.
    pub improvement_id: Option<i64>,
}

/// A survey that passed the checks, its score in tenths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidSurvey {
    pub customer_id: Option<i64>,
    pub service_id: Option<i64>,
    pub conducted_on: Date,
    pub sample_size: i64,
    pub responses: i64,
    pub average_tenths: Option<i64>,
    pub analysis: String,
    pub improvement_id: Option<i64>,
}

impl SurveyDraft {
    pub fn validate(self, today: Date) -> Result<ValidSurvey, Invalid> {
        let mut errors = Invalid::new();
        not_future(
            &mut errors,
            "conducted_on",
            "The survey date",
            self.conducted_on,
            today,
        );
        if self.sample_size < 1 {
            errors.add("sample_size", "Sample size must be at least one person");
        }
        if self.responses < 0 {
            errors.add("responses", "Responses cannot be negative");
        } else if self.responses > self.sample_size.max(0) {
            errors.add(
                "responses",
                format!(
                    "Responses ({}) cannot exceed the people asked ({})",
                    self.responses, self.sample_size
                ),
            );
        }
        let average_tenths = match self.average_score {
            Some(score) => match score_tenths(score) {
                Some(t) => Some(t),
                None => {
                    errors.add("average_score", "Average score must be between 1.0 and 5.0");
                    None
                }
            },
            None => {
                if self.responses > 0 {
                    errors.add(
                        "average_score",
                        "Average score is required when there were responses",
                    );
                }
                None
            }
        };
        if self.responses == 0 && self.average_score.is_some() {
            errors.add(
                "average_score",
                "A survey without responses has no average score",
            );
        }
        let analysis = required_text(
            &mut errors,
            "analysis",
            "Analysis",
            &self.analysis,
            MAX_ANALYSIS,
        );
        for (field, id) in [
            ("customer_id", self.customer_id),
            ("service_id", self.service_id),
            ("improvement_id", self.improvement_id),
        ] {
            if id.is_some_and(|id| id <= 0) {
                errors.add(field, "The linked record's number must be positive");
            }
        }
        errors.into_result(ValidSurvey {
            customer_id: self.customer_id,
            service_id: self.service_id,
            conducted_on: self.conducted_on,
            sample_size: self.sample_size,
            responses: self.responses,
            average_tenths,
            analysis,
            improvement_id: self.improvement_id,
        })
    }
}

/// A score on the 1–5 scale rounded to one decimal, in tenths; `None` outside the scale.
pub fn score_tenths(score: f64) -> Option<i64> {
    if !score.is_finite() {
        return None;
    }
    let tenths = (score * 10.0).round();
    (10.0..=50.0).contains(&tenths).then_some(tenths as i64)
}

/// Tenths as the score people read: `4.2`.
pub fn tenths_text(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A typed score ("4.2" or "4,2"); `None` when empty. An unreadable one is a field error.
pub fn parse_score(field: &str, text: &str) -> Result<Option<f64>, Invalid> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.replace(',', ".")
        .parse::<f64>()
        .map(Some)
        .map_err(|_| Invalid::one(field, format!("“{text}” is not a score such as 4.2")))
}

/// A requester's rating of their own ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RatingDraft {
    pub score: i64,
    pub comment: String,
}

impl RatingDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        if !(MIN_SCORE..=MAX_SCORE).contains(&self.score) {
            errors.add("score", "Choose a rating from 1 to 5");
        }
        self.comment = optional_text(
            &mut errors,
            "comment",
            "Comment",
            self.comment.trim(),
            MAX_COMMENT,
        );
        errors.into_result(self)
    }
}

/// Whether an incident in `status` may be rated by its requester: once it is resolved or
/// closed, that is, once there is a service to judge.
pub fn can_rate(status: Status) -> bool {
    matches!(status, Status::Resolved | Status::Closed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn survey() -> SurveyDraft {
        SurveyDraft {
            customer_id: None,
            service_id: None,
            conducted_on: date(2026, 3, 31),
            sample_size: 40,
            responses: 22,
            average_score: Some(4.16),
            analysis: "Mostly happy; slow password resets".into(),
            improvement_id: None,
        }
    }

    #[test]
    fn a_survey_keeps_one_decimal_and_needs_analysis() {
        let today = date(2026, 4, 1);
        let v = survey().validate(today).expect("valid");
        assert_eq!(v.average_tenths, Some(42));
        assert_eq!(tenths_text(42), "4.2");
        let mut s = survey();
        s.responses = 41;
        s.analysis = " ".into();
        s.average_score = Some(5.3);
        let e = s.validate(today).expect_err("refused");
        assert!(e.message_for("responses").is_some());
        assert!(e.message_for("analysis").is_some());
        assert!(e.message_for("average_score").is_some());
    }

    #[test]
    fn responses_need_an_average_and_none_has_none() {
        let today = date(2026, 4, 1);
        let mut s = survey();
        s.average_score = None;
        assert!(s.validate(today).is_err());
        let mut s = survey();
        s.responses = 0;
        assert!(s.clone().validate(today).is_err());
        s.average_score = None;
        assert!(s.validate(today).is_ok());
    }

    #[test]
    fn scores_are_read_with_a_comma_or_a_point() {
        assert_eq!(parse_score("s", " 4,5 ").expect("ok"), Some(4.5));
        assert_eq!(parse_score("s", "").expect("ok"), None);
        assert!(parse_score("s", "good").is_err());
    }

    #[test]
    fn ratings_are_one_to_five_on_resolved_tickets() {
        assert!(
            RatingDraft {
                score: 0,
                comment: String::new()
            }
            .validate()
            .is_err()
        );
        assert!(
            RatingDraft {
                score: 5,
                comment: " great ".into()
            }
            .validate()
            .is_ok_and(|r| r.comment == "great")
        );
        assert!(can_rate(Status::Resolved) && can_rate(Status::Closed));
        assert!(!can_rate(Status::InProgress) && !can_rate(Status::Cancelled));
    }
}
