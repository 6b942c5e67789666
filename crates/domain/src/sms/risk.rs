//! Risks and opportunities (ISO/IEC 20000-1 6.1): what could stop the management system or
//! the services achieving their outcomes, and what could help them, each rated on a five by
//! five grid of likelihood and impact, treated, owned and reviewed by a date.
//!
//! A risk's treatments are the classic four; an opportunity's are their positive mirrors. The
//! rating before treatment is the inherent one; the rating expected once the treatment works
//! is the residual one, and never worse than the inherent one.

use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 5_000;
/// The grid is five by five.
pub const SCALE: u8 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    Risk,
    Opportunity,
}

crate::service::text_enum!(RiskKind { Risk => "risk", Opportunity => "opportunity" });

impl RiskKind {
    pub fn label(self) -> &'static str {
        match self {
            RiskKind::Risk => "Risk",
            RiskKind::Opportunity => "Opportunity",
        }
    }
}

/// How a risk or an opportunity is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Treatment {
    /// Live with it (either kind: an opportunity not pursued is accepted too).
    Accept,
    Mitigate,
    Transfer,
    Avoid,
    Exploit,
    Enhance,
    Share,
}

crate::service::text_enum!(Treatment {
    Accept => "accept", Mitigate => "mitigate", Transfer => "transfer", Avoid => "avoid",
    Exploit => "exploit", Enhance => "enhance", Share => "share",
});

impl Treatment {
    pub fn label(self) -> &'static str {
        match self {
            Treatment::Accept => "Accept",
            Treatment::Mitigate => "Mitigate",
            Treatment::Transfer => "Transfer",
            Treatment::Avoid => "Avoid",
            Treatment::Exploit => "Exploit",
            Treatment::Enhance => "Enhance",
            Treatment::Share => "Share",
        }
    }

    /// Whether it is a treatment for `kind`.
    pub fn fits(self, kind: RiskKind) -> bool {
        use Treatment::*;
        match kind {
            RiskKind::Risk => matches!(self, Accept | Mitigate | Transfer | Avoid),
            RiskKind::Opportunity => matches!(self, Accept | Exploit | Enhance | Share),
        }
    }
}

/// A point on the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rating {
    /// 1 (rare) to 5 (almost certain).
    pub likelihood: u8,
    /// 1 (negligible) to 5 (severe, or for an opportunity: transformative).
    pub impact: u8,
}

/// Bands of the grid's scores, for colour and for what needs treating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = RiskLevel))]
pub enum Level {
    Low,
    Medium,
    High,
    VeryHigh,
}

crate::service::text_enum!(Level {
    Low => "low", Medium => "medium", High => "high", VeryHigh => "very_high",
});

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Low => "Low",
            Level::Medium => "Medium",
            Level::High => "High",
            Level::VeryHigh => "Very high",
        }
    }
}

impl Rating {
    pub fn score(self) -> u8 {
        self.likelihood * self.impact
    }

    /// The usual five-by-five bands: 1–4 low, 5–9 medium, 10–16 high, 20–25 very high.
    pub fn level(self) -> Level {
        match self.score() {
            0..=4 => Level::Low,
            5..=9 => Level::Medium,
            10..=16 => Level::High,
            _ => Level::VeryHigh,
        }
    }

    fn on_scale(value: u8) -> bool {
        (1..=SCALE).contains(&value)
    }

    fn check(self, errors: &mut Invalid, prefix: &str, label: &str) {
        for (field, value) in [("likelihood", self.likelihood), ("impact", self.impact)] {
            if !Rating::on_scale(value) {
                errors.add(
                    &format!("{prefix}{field}"),
                    format!("{label} {field} must be from 1 to {SCALE}"),
                );
            }
        }
    }
}

/// Whether it is still being managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskStatus {
    Open,
    /// No longer relevant or fully treated; closed with a reason, kept for the record.
    Closed,
}

crate::service::text_enum!(RiskStatus { Open => "open", Closed => "closed" });

/// The editable fields of a risk or an opportunity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskDraft {
    pub kind: RiskKind,
    pub title: String,
    pub description: String,
    /// What it concerns: a service, the SMS, a supplier, information security…
    pub area: String,
    pub inherent: Rating,
    pub treatment: Treatment,
    pub treatment_plan: String,
    /// Expected once the treatment works.
    pub residual: Option<Rating>,
    pub owner_id: Option<i64>,
    pub review_date: Date,
}

impl RiskDraft {
    /// Checks the fields, in one [`Invalid`]. `today` bounds the review date: a new review
    /// date in the past would make the record overdue the moment it is saved.
    pub fn validate(mut self, today: Date) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, MAX_TITLE);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            self.description.trim(),
            MAX_TEXT,
        );
        self.area = optional_text(&mut errors, "area", "Area", self.area.trim(), MAX_TITLE);
        self.treatment_plan = optional_text(
            &mut errors,
            "treatment_plan",
            "Treatment plan",
            self.treatment_plan.trim(),
            MAX_TEXT,
        );
        self.inherent.check(&mut errors, "", "The");
        if let Some(residual) = self.residual {
            residual.check(&mut errors, "residual_", "The residual");
            if residual.score() > self.inherent.score() {
                errors.add(
                    "residual_likelihood",
                    "The residual rating cannot be worse than the rating before treatment",
                );
            }
        }
        if !self.treatment.fits(self.kind) {
            errors.add(
                "treatment",
                format!(
                    "{} is not a treatment for {}: choose {}",
                    self.treatment.label(),
                    match self.kind {
                        RiskKind::Risk => "a risk",
                        RiskKind::Opportunity => "an opportunity",
                    },
                    treatments_for(self.kind)
                        .iter()
                        .map(|t| t.label())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if self.treatment != Treatment::Accept && self.treatment_plan.is_empty() {
            errors.add(
                "treatment_plan",
                "Say how it will be treated: the plan is required unless it is accepted",
            );
        }
        if self.review_date < today {
            errors.add("review_date", "The review date cannot be in the past");
        }
        errors.into_result(self)
    }
}

/// The treatments that fit `kind`, in the order a form offers them.
pub fn treatments_for(kind: RiskKind) -> Vec<Treatment> {
    Treatment::ALL
        .iter()
        .copied()
        .filter(|t| t.fits(kind))
        .collect()
}

/// How many open entries sit in each cell of the grid: `[likelihood-1][impact-1]`.
pub fn heat_map(ratings: impl IntoIterator<Item = Rating>) -> [[u32; 5]; 5] {
    let mut grid = [[0u32; 5]; 5];
    for r in ratings {
        if Rating::on_scale(r.likelihood) && Rating::on_scale(r.impact) {
            grid[usize::from(r.likelihood - 1)][usize::from(r.impact - 1)] += 1;
        }
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(text: &str) -> Date {
        Date::strptime("%Y-%m-%d", text).expect("date")
    }

    fn draft() -> RiskDraft {
        RiskDraft {
            kind: RiskKind::Risk,
            title: " Single data centre ".into(),
            description: String::new(),
            area: "Service continuity".into(),
            inherent: Rating {
                likelihood: 2,
                impact: 5,
            },
            treatment: Treatment::Mitigate,
            treatment_plan: "Second site by Q3".into(),
            residual: Some(Rating {
                likelihood: 1,
                impact: 5,
            }),
            owner_id: Some(1),
            review_date: day("2027-03-01"),
        }
    }

    #[test]
    fn a_sound_draft_passes_trimmed() {
        let d = draft().validate(day("2026-12-01")).expect("valid");
        assert_eq!(d.title, "Single data centre");
    }

    #[test]
    fn every_rule_says_what_is_wrong() {
        let mut d = draft();
        d.inherent.likelihood = 0;
        d.residual = Some(Rating {
            likelihood: 6,
            impact: 5,
        });
        d.treatment = Treatment::Exploit;
        d.review_date = day("2026-01-01");
        let e = d.validate(day("2026-12-01")).expect_err("refused");
        assert_eq!(
            e.message_for("likelihood"),
            Some("The likelihood must be from 1 to 5")
        );
        assert_eq!(
            e.message_for("residual_likelihood"),
            Some("The residual likelihood must be from 1 to 5")
        );
        assert_eq!(
            e.message_for("treatment"),
            Some("Exploit is not a treatment for a risk: choose Accept, Mitigate, Transfer, Avoid")
        );
        assert!(e.message_for("review_date").is_some());
    }

    #[test]
    fn a_plan_is_needed_unless_accepted() {
        let mut d = draft();
        d.treatment_plan = " ".into();
        assert!(d.clone().validate(day("2026-12-01")).is_err());
        d.treatment = Treatment::Accept;
        d.residual = None;
        assert!(d.validate(day("2026-12-01")).is_ok());
    }

    #[test]
    fn bands_follow_the_grid() {
        let r = |likelihood, impact| Rating { likelihood, impact }.level();
        assert_eq!(r(1, 4), Level::Low);
        assert_eq!(r(3, 3), Level::Medium);
        assert_eq!(r(4, 4), Level::High);
        assert_eq!(r(4, 5), Level::VeryHigh);
    }

    proptest! {
        /// Every rating on the scale lands in exactly one cell, and the grid counts them all.
        #[test]
        fn the_heat_map_counts_every_rating_once(cells in proptest::collection::vec((1u8..=5, 1u8..=5), 0..60)) {
            let ratings: Vec<Rating> = cells.iter().map(|&(likelihood, impact)| Rating { likelihood, impact }).collect();
            let grid = heat_map(ratings.iter().copied());
            let total: u32 = grid.iter().flatten().sum();
            prop_assert_eq!(total as usize, ratings.len());
            for r in &ratings {
                prop_assert!(grid[usize::from(r.likelihood - 1)][usize::from(r.impact - 1)] > 0);
            }
        }

        /// A higher likelihood or impact never lowers the band.
        #[test]
        fn bands_are_monotonic(l in 1u8..=5, i in 1u8..=5) {
            let here = Rating { likelihood: l, impact: i }.level();
            let more_likely = Rating { likelihood: (l + 1).min(5), impact: i }.level();
            let more_severe = Rating { likelihood: l, impact: (i + 1).min(5) }.level();
            prop_assert!(more_likely >= here && more_severe >= here);
        }
    }
}
