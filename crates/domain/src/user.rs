//! People who sign in, and the rules for their passwords.

use crate::access::Role;
use crate::validation::{Invalid, email, required_text};
use serde::Serialize;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserDraft {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

impl UserDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.email = email(&mut errors, "email", "Email", &self.email);
        self.name = required_text(&mut errors, "name", "Name", &self.name, 200);
        errors.into_result(self)
    }
}

/// A display name for someone known only by address: `ann.lee@x.org` -> `Ann Lee`.
pub fn name_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or(email);
    local
        .split(['.', '_', '-', '+'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Length rules only: long passphrases beat composition rules (NIST SP 800-63B).
pub fn check_password(field: &str, password: &str) -> Result<(), Invalid> {
    let count = password.chars().count();
    if count < MIN_PASSWORD_CHARS {
        Err(Invalid::one(
            field,
            format!("Password must be at least {MIN_PASSWORD_CHARS} characters"),
        ))
    } else if count > MAX_PASSWORD_CHARS {
        Err(Invalid::one(
            field,
            format!("Password must be at most {MAX_PASSWORD_CHARS} characters"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_addresses() {
        assert_eq!(name_from_email("ann.lee@x.org"), "Ann Lee");
        assert_eq!(name_from_email("bob@x.org"), "Bob");
    }

    #[test]
    fn passwords_are_judged_by_length() {
        assert!(check_password("password", "short").is_err());
        assert!(check_password("password", "correct horse battery staple").is_ok());
    }
}
