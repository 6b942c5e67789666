//! Teams: groups of people that records are assigned to.

use crate::validation::{Invalid, optional_text, required_text};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamDraft {
    pub name: String,
    pub description: String,
}

impl TeamDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = required_text(&mut errors, "name", "Name", &self.name, 200);
        self.description = optional_text(
            &mut errors,
            "description",
            "Description",
            &self.description,
            5_000,
        );
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_need_a_name() {
        let draft = TeamDraft {
            name: " ".into(),
            description: String::new(),
        };
        assert!(draft.validate().is_err());
    }
}
