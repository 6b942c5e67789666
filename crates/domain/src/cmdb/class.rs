//! CI classes: the kinds of configuration item an admin defines ("Server", "Database",
//! "Network switch"), each with a typed attribute schema.
//!
//! Attributes are the same typed fields as catalogue forms ([`FormField`]), so one checker
//! ([`check_answers`]) validates both and the UI renders both with one form builder.

use crate::request::{FormField, check_answers, validate_custom_fields};
use crate::validation::{Invalid, optional_text, required_text};
use serde::Serialize;
use serde_json::{Map, Value};

/// Longest class name; class names appear in pickers and impact lists.
pub const MAX_CLASS_NAME: usize = 100;

/// A CI class as an admin defines it, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CiClassDraft {
    pub name: String,
    pub description: String,
    /// The attribute schema: names unique, each typed, required or optional.
    pub attributes: Vec<FormField>,
}

impl CiClassDraft {
    /// Checks the name and the attribute schema; names and labels are trimmed.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, MAX_CLASS_NAME);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            10_000,
        );
        match validate_custom_fields(std::mem::take(&mut self.attributes)) {
            Ok(attributes) => self.attributes = attributes,
            Err(invalid) => {
                for error in invalid.errors {
                    errors.add(&as_attribute_path(&error.field), error.message);
                }
            }
        }
        errors.into_result(self)
    }
}

/// `fields[2]` (the shared checker's wording) becomes `attributes[2]` (the class's).
fn as_attribute_path(field: &str) -> String {
    match field.strip_prefix("fields") {
        Some(rest) => format!("attributes{rest}"),
        None => field.to_owned(),
    }
}

/// Checks a CI's attribute values against its class's schema and returns them normalised
/// (trimmed text, numbers as numbers, dates as `YYYY-MM-DD`).
///
/// Errors are reported under `attributes.<name>` so that they sit beside the CI's own fields
/// (`name`, `owner_id`...) in one [`Invalid`]. A value for an attribute the class does not
/// define is refused rather than silently dropped.
pub fn check_attributes(
    class_name: &str,
    schema: &[FormField],
    values: &Map<String, Value>,
) -> Result<Map<String, Value>, Invalid> {
    check_answers(schema, values).map_err(|invalid| {
        let mut errors = Invalid::new();
        for error in invalid.errors {
            let defined = schema.iter().any(|f| f.name == error.field);
            let message = if defined {
                error.message
            } else {
                format!("The class {class_name} has no attribute `{}`", error.field)
            };
            errors.add(&format!("attributes.{}", error.field), message);
        }
        errors
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::FieldKind;
    use serde_json::json;

    fn field(name: &str, kind: FieldKind, required: bool) -> FormField {
        FormField {
            name: name.into(),
            label: name.replace('_', " "),
            kind,
            required,
            options: if kind == FieldKind::Select {
                vec!["prod".into(), "test".into()]
            } else {
                vec![]
            },
        }
    }

    fn server_class() -> CiClassDraft {
        CiClassDraft {
            name: " Server ".into(),
            description: String::new(),
            attributes: vec![
                field("hostname", FieldKind::Text, true),
                field("serial_number", FieldKind::Text, false),
                field("cpu_cores", FieldKind::Number, false),
                field("environment", FieldKind::Select, true),
                field("warranty_ends", FieldKind::Date, false),
            ],
        }
    }

    #[test]
    fn a_class_is_checked_and_trimmed() {
        let class = server_class().validate().expect("valid");
        assert_eq!(class.name, "Server");
        assert_eq!(class.attributes.len(), 5);
    }

    #[test]
    fn attribute_schema_errors_name_the_attribute() {
        let mut class = server_class();
        class.name = " ".into();
        class
            .attributes
            .push(field("hostname", FieldKind::Text, false));
        class
            .attributes
            .push(field("bad name", FieldKind::Text, false));
        let err = class.validate().expect_err("duplicate and bad names");
        assert_eq!(err.message_for("name"), Some("Name is required"));
        assert!(err.message_for("attributes[5]").is_some(), "{err:?}");
        assert!(err.message_for("attributes[6]").is_some(), "{err:?}");
    }

    #[test]
    fn attribute_values_are_checked_against_the_class() {
        let class = server_class().validate().expect("valid");
        let values = json!({"hostname": " db01 ", "cpu_cores": "16", "environment": "prod"});
        let clean = check_attributes(
            "Server",
            &class.attributes,
            values.as_object().expect("object"),
        )
        .expect("valid values");
        assert_eq!(
            Value::Object(clean),
            json!({"hostname": "db01", "cpu_cores": 16.0, "environment": "prod"})
        );

        let bad = json!({"cpu_cores": "many", "environment": "staging", "colour": "red"});
        let err = check_attributes("Server", &class.attributes, bad.as_object().expect("obj"))
            .expect_err("bad values");
        assert_eq!(
            err.message_for("attributes.hostname"),
            Some("hostname is required")
        );
        assert!(err.message_for("attributes.cpu_cores").is_some());
        assert!(err.message_for("attributes.environment").is_some());
        assert_eq!(
            err.message_for("attributes.colour"),
            Some("The class Server has no attribute `colour`")
        );
    }
}
