//! What business relationship management gives the management review (9.3): complaints and
//! customer satisfaction in the review's period.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// One customer's complaints received in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerComplaints {
    pub customer_id: i64,
    pub customer: String,
    pub received: i64,
    pub closed: i64,
    pub open: i64,
    pub overdue: i64,
}

/// Complaints received in the period (8.3.2-g/h): how many, what became of them, by customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintInputs {
    pub received: i64,
    pub closed: i64,
    pub open: i64,
    /// Open past their target date when compiled.
    pub overdue: i64,
    pub escalated: i64,
    pub by_customer: Vec<CustomerComplaints>,
}

/// A satisfaction survey conducted in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyInput {
    pub id: i64,
    pub conducted_on: Date,
    /// The customer surveyed, or `All customers`.
    pub customer: String,
    pub sample_size: i64,
    pub responses: i64,
    /// Average score on the 1–5 scale, when there were responses.
    pub average: Option<f64>,
}

/// Customer satisfaction in the period (8.3.2-f): surveys and ticket ratings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionInputs {
    pub surveys: Vec<SurveyInput>,
    pub survey_responses: i64,
    /// The average over every response of the period's surveys.
    pub survey_average: Option<f64>,
    pub ratings: i64,
    pub rating_average: Option<f64>,
}

/// The average of surveys' averages weighted by their responses, to two decimals.
pub fn weighted_average(surveys: &[SurveyInput]) -> Option<f64> {
    let (sum, n) = surveys
        .iter()
        .filter_map(|s| s.average.map(|a| (a * s.responses as f64, s.responses)))
        .fold((0.0, 0), |(sum, n), (a, r)| (sum + a, n + r));
    (n > 0).then(|| (sum / n as f64 * 100.0).round() / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_survey_average_weighs_each_by_its_responses() {
        let s = |responses, average| SurveyInput {
            id: 1,
            conducted_on: jiff::civil::date(2026, 1, 1),
            customer: "All customers".into(),
            sample_size: 100,
            responses,
            average,
        };
        assert_eq!(
            weighted_average(&[s(10, Some(4.0)), s(30, Some(3.0)), s(0, None)]),
            Some(3.25)
        );
        assert_eq!(weighted_average(&[]), None);
    }
}
