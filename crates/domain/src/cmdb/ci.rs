//! Configuration items: their lifecycle and the checks on their fields.

use crate::cmdb::class::check_attributes;
use crate::request::FormField;
use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a CI stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CiStatus {
    /// Ordered or being built; not yet serving.
    Planned,
    InUse,
    /// Temporarily out of service (patching, repair); expected back.
    Maintenance,
    /// Gone for good. Kept for history, baselines and audits; never revived, because a CI that
    /// comes back (a re-imaged server, a reused hostname) is a new item with a new history.
    Retired,
}

crate::service::text_enum!(CiStatus {
    Planned => "planned", InUse => "in_use", Maintenance => "maintenance", Retired => "retired",
});

/// Why a CI may not move as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CiRefusal {
    #[error("a CI cannot go from {from} to {to}")]
    NotAllowed {
        from: CiStatus,
        to: CiStatus,
        allowed: Vec<CiStatus>,
    },
}

impl CiStatus {
    pub fn is_terminal(self) -> bool {
        self == CiStatus::Retired
    }

    /// The statuses a CI may move to from this one.
    pub fn next(self) -> &'static [CiStatus] {
        use CiStatus::*;
        match self {
            // A plan can be abandoned before the item ever served.
            Planned => &[InUse, Retired],
            InUse => &[Maintenance, Retired],
            Maintenance => &[InUse, Retired],
            Retired => &[],
        }
    }

    pub fn transition(self, to: CiStatus) -> Result<CiStatus, CiRefusal> {
        if self.next().contains(&to) {
            Ok(to)
        } else {
            Err(CiRefusal::NotAllowed {
                from: self,
                to,
                allowed: self.next().to_vec(),
            })
        }
    }
}

/// Longest CI name (hostnames, asset tags and product names fit easily).
pub const MAX_CI_NAME: usize = 200;
/// Longest identifier from a discovery tool or an external asset register.
pub const MAX_EXTERNAL_ID: usize = 200;

/// The editable fields of a CI, validated against its class.
///
/// A new CI may start in any status: imports bring whole estates that are already in use.
/// Later changes of status go through [`CiStatus::transition`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiDraft {
    pub name: String,
    pub class_id: i64,
    pub status: CiStatus,
    pub description: String,
    /// The person accountable for the CI.
    pub owner_id: Option<i64>,
    /// The team that supports it.
    pub team_id: Option<i64>,
    /// Its key in a discovery tool or asset register, so re-imports update instead of duplicate.
    pub external_id: Option<String>,
    /// The services this CI helps deliver.
    pub service_ids: Vec<i64>,
    /// Values for the class's attributes.
    pub attributes: Map<String, Value>,
}

impl CiDraft {
    /// Checks the fields and the attributes against the class's schema, in one [`Invalid`].
    /// Text is trimmed, attribute values normalised, service ids sorted and deduplicated.
    pub fn validate(mut self, class_name: &str, schema: &[FormField]) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_CI_NAME);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            20_000,
        );
        self.external_id = self.external_id.as_deref().map(str::trim).and_then(|id| {
            if id.is_empty() {
                None
            } else {
                if id.chars().count() > MAX_EXTERNAL_ID {
                    errors.add(
                        "external_id",
                        format!("External id must be at most {MAX_EXTERNAL_ID} characters"),
                    );
                }
                Some(id.to_owned())
            }
        });
        if self.class_id <= 0 {
            errors.add("class_id", "Choose a class");
        }
        self.service_ids.sort_unstable();
        self.service_ids.dedup();
        if self.service_ids.iter().any(|id| *id <= 0) {
            errors.add("service_ids", "Service ids are positive numbers");
        }
        match check_attributes(class_name, schema, &self.attributes) {
            Ok(clean) => self.attributes = clean,
            Err(invalid) => errors.errors.extend(invalid.errors),
        }
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::FieldKind;
    use proptest::prelude::*;
    use serde_json::json;

    fn schema() -> Vec<FormField> {
        vec![FormField {
            name: "hostname".into(),
            label: "Hostname".into(),
            kind: FieldKind::Text,
            required: true,
            options: vec![],
        }]
    }

    fn draft() -> CiDraft {
        CiDraft {
            name: " db01 ".into(),
            class_id: 3,
            status: CiStatus::InUse,
            description: String::new(),
            owner_id: Some(7),
            team_id: None,
            external_id: Some("  ".into()),
            service_ids: vec![5, 2, 5],
            attributes: json!({"hostname": " db01.example.org "})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    }

    #[test]
    fn a_ci_is_checked_and_normalised() {
        let ci = draft().validate("Server", &schema()).expect("valid");
        assert_eq!(ci.name, "db01");
        assert_eq!(ci.external_id, None);
        assert_eq!(ci.service_ids, vec![2, 5]);
        assert_eq!(
            ci.attributes.get("hostname"),
            Some(&json!("db01.example.org"))
        );
    }

    #[test]
    fn field_and_attribute_errors_come_together() {
        let bad = CiDraft {
            name: String::new(),
            class_id: 0,
            service_ids: vec![-1],
            attributes: Map::new(),
            ..draft()
        };
        let err = bad.validate("Server", &schema()).expect_err("invalid");
        for field in ["name", "class_id", "service_ids", "attributes.hostname"] {
            assert!(err.message_for(field).is_some(), "{field}: {err:?}");
        }
    }

    #[test]
    fn the_lifecycle_follows_the_table() {
        use CiStatus::*;
        assert_eq!(Planned.transition(InUse), Ok(InUse));
        assert_eq!(InUse.transition(Maintenance), Ok(Maintenance));
        assert_eq!(Maintenance.transition(InUse), Ok(InUse));
        assert_eq!(
            Retired.transition(InUse),
            Err(CiRefusal::NotAllowed {
                from: Retired,
                to: InUse,
                allowed: vec![]
            })
        );
        assert!(Planned.transition(Maintenance).is_err());
        assert_eq!(
            Retired.transition(InUse).map_err(|e| e.to_string()),
            Err("a CI cannot go from retired to in_use".into())
        );
        for s in CiStatus::ALL {
            assert_eq!(CiStatus::parse(s.as_str()), Some(*s));
            assert!(!s.next().contains(s), "{s} loops to itself");
        }
    }

    proptest! {
        #[test]
        fn status_changes_never_leave_retired(steps in prop::collection::vec(prop::sample::select(CiStatus::ALL.to_vec()), 0..40)) {
            let mut status = CiStatus::Planned;
            let mut retired = false;
            for to in steps {
                if let Ok(next) = status.transition(to) {
                    prop_assert!(!retired, "moved out of retired to {next}");
                    status = next;
                }
                retired |= status == CiStatus::Retired;
                prop_assert_eq!(retired, status.is_terminal());
            }
        }
    }
}
