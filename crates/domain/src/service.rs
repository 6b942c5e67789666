//! Services: what the organisation delivers, the anchor for SLAs, records and CIs.

use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Criticality {
    High,
    #[default]
    Medium,
    Low,
}

/// Where a service stands in its life: being designed, delivered, or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    #[default]
    Pipeline,
    Live,
    Retired,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(<$ty>::$variant),)+ _ => None }
            }
        }
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                Self::parse(&s).ok_or_else(|| format!("unknown {} `{s}`", stringify!($ty)))
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(Criticality { High => "high", Medium => "medium", Low => "low" });
text_enum!(ServiceStatus { Pipeline => "pipeline", Live => "live", Retired => "retired" });

/// The editable fields of a service, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceDraft {
    pub name: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub criticality: Criticality,
    pub status: ServiceStatus,
}

impl ServiceDraft {
    /// Checks the fields a person typed; `name` is trimmed.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, 200);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            20_000,
        );
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str) -> ServiceDraft {
        ServiceDraft {
            name: name.into(),
            description: "Pays people".into(),
            owner_id: None,
            criticality: Criticality::High,
            status: ServiceStatus::Live,
        }
    }

    #[test]
    fn a_service_needs_a_name() {
        let err = draft("  ").validate().expect_err("blank name");
        assert_eq!(err.message_for("name"), Some("Name is required"));
        assert_eq!(
            draft(" Payroll ").validate().map(|d| d.name),
            Ok("Payroll".into())
        );
    }

    #[test]
    fn enums_round_trip() {
        for c in Criticality::ALL {
            assert_eq!(Criticality::parse(c.as_str()), Some(*c));
        }
        for s in ServiceStatus::ALL {
            assert_eq!(ServiceStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Criticality::parse("urgent"), None);
    }
}
