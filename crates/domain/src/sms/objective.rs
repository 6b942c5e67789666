//! Service management objectives (ISO/IEC 20000-1 6.2): measurable targets with an owner and
//! a date, each measured by a key performance indicator. Where Steward holds the data the KPI
//! is computed from its own records (SLA attainment, change success, major incidents); other
//! objectives are measured by hand, one value per month.

use crate::validation::{Invalid, optional_text, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 5_000;
pub const MAX_UNIT: usize = 20;

/// How an objective is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    /// Values recorded by hand.
    Manual,
    /// Per cent of SLA targets met among those decided in the month.
    SlaAttainment,
    /// Per cent of changes that finished in the month and closed rather than failed.
    ChangeSuccess,
    /// Major incidents declared in the month.
    MajorIncidents,
}

crate::service::text_enum!(Kpi {
    Manual => "manual", SlaAttainment => "sla_attainment", ChangeSuccess => "change_success",
    MajorIncidents => "major_incidents",
});

impl Kpi {
    pub fn label(self) -> &'static str {
        match self {
            Kpi::Manual => "Measured by hand",
            Kpi::SlaAttainment => "SLA attainment (% of targets met)",
            Kpi::ChangeSuccess => "Change success (% of finished changes closed, not failed)",
            Kpi::MajorIncidents => "Major incidents declared",
        }
    }

    /// The unit a computed KPI is in; a manual one names its own.
    pub fn unit(self) -> Option<&'static str> {
        match self {
            Kpi::Manual => None,
            Kpi::SlaAttainment | Kpi::ChangeSuccess => Some("%"),
            Kpi::MajorIncidents => Some("incidents"),
        }
    }

    pub fn is_computed(self) -> bool {
        self != Kpi::Manual
    }
}

/// Which side of the target is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = ObjectiveDirection))]
pub enum Direction {
    AtLeast,
    AtMost,
}

crate::service::text_enum!(Direction { AtLeast => "at_least", AtMost => "at_most" });

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::AtLeast => "at least",
            Direction::AtMost => "at most",
        }
    }

    pub fn met(self, value: f64, target: f64) -> bool {
        match self {
            Direction::AtLeast => value >= target,
            Direction::AtMost => value <= target,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveStatus {
    Active,
    Achieved,
    /// Dropped, with the reason in the journal; kept for the record.
    Withdrawn,
}

crate::service::text_enum!(ObjectiveStatus {
    Active => "active", Achieved => "achieved", Withdrawn => "withdrawn",
});

impl ObjectiveStatus {
    pub fn label(self) -> &'static str {
        match self {
            ObjectiveStatus::Active => "Active",
            ObjectiveStatus::Achieved => "Achieved",
            ObjectiveStatus::Withdrawn => "Withdrawn",
        }
    }
}

/// The editable fields of an objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveDraft {
    pub title: String,
    pub description: String,
    pub kpi: Kpi,
    pub direction: Direction,
    pub target: f64,
    /// The unit of a manual KPI ("%", "days", "points"); computed KPIs bring their own.
    pub unit: String,
    pub owner_id: Option<i64>,
    pub due_date: Option<Date>,
    pub status: ObjectiveStatus,
}

impl ObjectiveDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.title = required_text(&mut errors, "title", "Title", &self.title, MAX_TITLE);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            self.description.trim(),
            MAX_TEXT,
        );
        match self.kpi.unit() {
            Some(unit) => self.unit = unit.to_owned(),
            None => {
                self.unit = optional_text(&mut errors, "unit", "Unit", self.unit.trim(), MAX_UNIT)
            }
        }
        check_value(&mut errors, "target", "The target", self.target);
        if self.unit == "%" && !(0.0..=100.0).contains(&self.target) {
            errors.add("target", "A percentage target must be from 0 to 100");
        }
        if self.owner_id.is_none() {
            errors.add("owner_id", "Every objective needs an owner");
        }
        errors.into_result(self)
    }
}

/// Checks that a measured or target value is an ordinary number.
pub fn check_value(errors: &mut Invalid, field: &str, label: &str, value: f64) {
    if !value.is_finite() || value.abs() > 1e12 {
        errors.add(field, format!("{label} must be a number"));
    }
}

/// One month's value of a KPI, when there was anything to measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reading {
    /// The first day of the month.
    pub month: Date,
    pub value: Option<f64>,
}

/// Where an objective stands by its latest reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = ObjectiveStanding))]
pub enum Standing {
    OnTarget,
    OffTarget,
    /// Nothing measured yet.
    Unmeasured,
}

impl Standing {
    pub fn label(self) -> &'static str {
        match self {
            Standing::OnTarget => "On target",
            Standing::OffTarget => "Off target",
            Standing::Unmeasured => "Not measured yet",
        }
    }

    /// By the newest month that has a value.
    pub fn of(readings: &[Reading], direction: Direction, target: f64) -> Standing {
        match readings.iter().rev().find_map(|r| r.value) {
            Some(v) if direction.met(v, target) => Standing::OnTarget,
            Some(_) => Standing::OffTarget,
            None => Standing::Unmeasured,
        }
    }
}

/// Per cent of `part` in `whole`, none when there was nothing to count.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64) * 100.0 / (whole as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn draft() -> ObjectiveDraft {
        ObjectiveDraft {
            title: " Meet our SLAs ".into(),
            description: String::new(),
            kpi: Kpi::SlaAttainment,
            direction: Direction::AtLeast,
            target: 95.0,
            unit: "ignored".into(),
            owner_id: Some(3),
            due_date: None,
            status: ObjectiveStatus::Active,
        }
    }

    #[test]
    fn a_computed_kpi_brings_its_unit() {
        let d = draft().validate().expect("valid");
        assert_eq!((d.title.as_str(), d.unit.as_str()), ("Meet our SLAs", "%"));
    }

    #[test]
    fn targets_must_make_sense() {
        let mut d = draft();
        d.target = 120.0;
        d.owner_id = None;
        let e = d.validate().expect_err("refused");
        assert_eq!(
            e.message_for("target"),
            Some("A percentage target must be from 0 to 100")
        );
        assert_eq!(
            e.message_for("owner_id"),
            Some("Every objective needs an owner")
        );
        let mut d = draft();
        d.kpi = Kpi::Manual;
        d.unit = "points".into();
        d.target = f64::NAN;
        assert_eq!(
            d.validate().expect_err("nan").message_for("target"),
            Some("The target must be a number")
        );
    }

    #[test]
    fn standing_reads_the_newest_measured_month() {
        let month = |m| Date::new(2026, m, 1).expect("date");
        let readings = [
            Reading {
                month: month(9),
                value: Some(90.0),
            },
            Reading {
                month: month(10),
                value: Some(97.0),
            },
            Reading {
                month: month(11),
                value: None,
            },
        ];
        assert_eq!(
            Standing::of(&readings, Direction::AtLeast, 95.0),
            Standing::OnTarget
        );
        assert_eq!(
            Standing::of(&readings[..1], Direction::AtLeast, 95.0),
            Standing::OffTarget
        );
        assert_eq!(
            Standing::of(&readings[2..], Direction::AtMost, 1.0),
            Standing::Unmeasured
        );
    }

    proptest! {
        /// A percentage is within 0–100 whenever the part is within the whole.
        #[test]
        fn percentages_stay_in_range(whole in 0i64..1_000_000, share in 0.0f64..=1.0) {
            let part = ((whole as f64) * share) as i64;
            match percent(part, whole) {
                None => prop_assert_eq!(whole, 0),
                Some(p) => prop_assert!((0.0..=100.0).contains(&p)),
            }
        }
    }
}
