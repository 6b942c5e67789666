//! Tenants: separate organisations sharing one Steward installation.

use crate::validation::{Invalid, required_text};

/// Turns an organisation's name into its URL-safe slug: `"Acme IT"` -> `"acme-it"`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(48);
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// A validated new tenant: its display name and slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    pub name: String,
    pub slug: String,
}

pub fn new_tenant(name: &str) -> Result<NewTenant, Invalid> {
    let mut errors = Invalid::new();
    let name = required_text(&mut errors, "name", "Name", name, 200);
    let slug = slugify(&name);
    if errors.errors.is_empty() && slug.is_empty() {
        errors.add("name", "Name must contain at least one letter or digit");
    }
    errors.into_result(NewTenant { name, slug })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Acme IT"), "acme-it");
        assert_eq!(slugify("  Globex -- Corp. "), "globex-corp");
        assert_eq!(slugify("Ünïcode Ltd"), "n-code-ltd");
        assert!(new_tenant("!!!").is_err());
    }

    proptest! {
        #[test]
        fn slugs_are_url_safe(name in ".{0,80}") {
            let slug = slugify(&name);
            prop_assert!(slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
            prop_assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"));
            prop_assert!(slug.len() <= 48);
        }
    }
}
