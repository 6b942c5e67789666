//! Customers: the organisations served, and the people there Steward talks to.

use crate::validation::{Invalid, email, optional_text, required_text};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerDraft {
    pub name: String,
    pub notes: String,
}

impl CustomerDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, 200);
        self.notes = optional_text(&mut errors, "notes", "Notes", &self.notes, 20_000);
        errors.into_result(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactDraft {
    pub name: String,
    pub email: String,
    pub phone: String,
}

impl ContactDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Contact name", &self.name, 200);
        self.email = email(&mut errors, "email", "Contact email", &self.email);
        self.phone = optional_text(&mut errors, "phone", "Phone", self.phone.trim(), 50);
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_need_a_real_looking_email() {
        let bad = ContactDraft {
            name: "Hank".into(),
            email: "hank".into(),
            phone: String::new(),
        };
        assert!(bad.validate().is_err());
        let good = ContactDraft {
            name: "Hank".into(),
            email: "Hank@Globex.test".into(),
            phone: " 555 ".into(),
        }
        .validate()
        .expect("valid");
        assert_eq!(good.email, "hank@globex.test");
        assert_eq!(good.phone, "555");
    }

    #[test]
    fn customers_need_a_name() {
        let draft = CustomerDraft {
            name: String::new(),
            notes: String::new(),
        };
        assert!(draft.validate().is_err());
    }
}
