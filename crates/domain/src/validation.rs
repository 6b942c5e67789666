//! Field-level validation results shared by every record kind.

use serde::Serialize;

/// One problem with one input field, phrased for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A set of field errors: the input was rejected and nothing changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid input: {}", .errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
pub struct Invalid {
    pub errors: Vec<FieldError>,
}

impl Invalid {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut invalid = Self::new();
        invalid.add(field, message);
        invalid
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// `Ok(value)` when no error was collected, so validators end with `errors.into_result(value)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Invalid> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// Trims a required text field and checks its length; records an error under `field` if it fails.
pub fn required_text(
    errors: &mut Invalid,
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.add(field, format!("{label} is required"));
    } else if trimmed.chars().count() > max {
        errors.add(field, format!("{label} must be at most {max} characters"));
    }
    trimmed.to_owned()
}

/// Checks an optional free-text field's length; returns it as given (descriptions keep their spacing).
pub fn optional_text(
    errors: &mut Invalid,
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> String {
    if value.chars().count() > max {
        errors.add(field, format!("{label} must be at most {max} characters"));
    }
    value.to_owned()
}

/// A deliberately plain e-mail check: one `@`, something on each side, a dot in the domain,
/// no spaces. Deliverability is the mail system's business, not ours.
pub fn is_plausible_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && value.len() <= 254
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Normalises and validates an e-mail address (lower-cased, trimmed).
pub fn email(errors: &mut Invalid, field: &str, label: &str, value: &str) -> String {
    let normalised = value.trim().to_lowercase();
    if normalised.is_empty() {
        errors.add(field, format!("{label} is required"));
    } else if !is_plausible_email(&normalised) {
        errors.add(
            field,
            format!("{label} must be an e-mail address like name@example.org"),
        );
    }
    normalised
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_reports() {
        let mut errors = Invalid::new();
        assert_eq!(
            required_text(&mut errors, "name", "Name", "  Payroll ", 10),
            "Payroll"
        );
        assert!(errors.errors.is_empty());
        required_text(&mut errors, "name", "Name", "   ", 10);
        assert_eq!(errors.message_for("name"), Some("Name is required"));
    }

    #[test]
    fn emails() {
        assert!(is_plausible_email("a@b.co"));
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a b@c.de", "a@b.co.", "a@b@c.de",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
        let mut errors = Invalid::new();
        assert_eq!(
            email(&mut errors, "email", "Email", " Ann@Example.ORG "),
            "ann@example.org"
        );
        assert!(errors.errors.is_empty());
    }
}
