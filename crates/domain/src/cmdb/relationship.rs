//! Typed, directed relationships between CIs, and which way dependency flows along each type.

use crate::validation::{Invalid, required_text};
use serde::{Deserialize, Serialize};

/// How dependency flows along a relationship `{source, target}`. Impact analysis reads only
/// this, so admin-defined types take part in it exactly like the built-in ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dependency {
    /// The source depends on the target (`app depends_on db`, `vm runs_on host`).
    SourceOnTarget,
    /// The target depends on the source (`rack contains server`: the server needs the rack).
    TargetOnSource,
    /// Each depends on the other (`switch connects_to router`).
    Mutual,
    /// Documentation only (`backs_up`, `licensed_by`...): no impact flows along it.
    Informational,
}

crate::service::text_enum!(Dependency {
    SourceOnTarget => "source_on_target", TargetOnSource => "target_on_source",
    Mutual => "mutual", Informational => "informational",
});

impl Dependency {
    /// The `(dependent, dependency)` pairs a relationship from `source` to `target` stands for.
    pub fn arcs<T: Copy>(self, source: T, target: T) -> impl Iterator<Item = (T, T)> {
        let (first, second) = match self {
            Dependency::SourceOnTarget => (Some((source, target)), None),
            Dependency::TargetOnSource => (Some((target, source)), None),
            Dependency::Mutual => (Some((source, target)), Some((target, source))),
            Dependency::Informational => (None, None),
        };
        first.into_iter().chain(second)
    }
}

/// The relationship types every CMDB has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BuiltinRelationship {
    DependsOn,
    RunsOn,
    ConnectsTo,
    Contains,
}

crate::service::text_enum!(BuiltinRelationship {
    DependsOn => "depends_on", RunsOn => "runs_on", ConnectsTo => "connects_to", Contains => "contains",
});

impl BuiltinRelationship {
    pub fn dependency(self) -> Dependency {
        match self {
            BuiltinRelationship::DependsOn | BuiltinRelationship::RunsOn => {
                Dependency::SourceOnTarget
            }
            BuiltinRelationship::Contains => Dependency::TargetOnSource,
            BuiltinRelationship::ConnectsTo => Dependency::Mutual,
        }
    }

    /// How the relationship reads from the source and from the target.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            BuiltinRelationship::DependsOn => ("depends on", "is needed by"),
            BuiltinRelationship::RunsOn => ("runs on", "hosts"),
            BuiltinRelationship::ConnectsTo => ("connects to", "connects to"),
            BuiltinRelationship::Contains => ("contains", "is contained in"),
        }
    }
}

/// Longest machine name of a relationship type.
pub const MAX_TYPE_NAME: usize = 64;

/// An admin-defined relationship type, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelationshipTypeDraft {
    /// Machine name: lower-case letters, digits and underscores, starting with a letter.
    pub name: String,
    /// How it reads from the source ("backs up").
    pub label: String,
    /// How it reads from the target ("is backed up by").
    pub reverse_label: String,
    pub dependency: Dependency,
}

impl RelationshipTypeDraft {
    /// Changing an existing type's `dependency` changes every impact answer that crosses it,
    /// so the store must rebuild the impact graph after such an edit.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.name = self.name.trim().to_owned();
        if !is_machine_name(&self.name) {
            errors.add(
                "name",
                format!(
                    "Type names use lower-case letters, digits and underscores, start with a \
                     letter (at most {MAX_TYPE_NAME})"
                ),
            );
        } else if BuiltinRelationship::parse(&self.name).is_some() {
            errors.add("name", format!("`{}` is a built-in type", self.name));
        }
        self.label = required_text(&mut errors, "label", "Label", &self.label, 100);
        self.reverse_label = required_text(
            &mut errors,
            "reverse_label",
            "Reverse label",
            &self.reverse_label,
            100,
        );
        errors.into_result(self)
    }
}

fn is_machine_name(name: &str) -> bool {
    name.len() <= MAX_TYPE_NAME
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a relationship before it is stored. The store refuses exact duplicates (same source,
/// target and type) with a unique index; cycles are allowed, because real estates have them
/// (a cluster's nodes connect to each other) and impact analysis handles them.
pub fn check_relationship(source_id: i64, target_id: i64) -> Result<(), Invalid> {
    if source_id == target_id {
        return Err(Invalid::one(
            "target_id",
            "A CI cannot be related to itself",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(name: &str) -> RelationshipTypeDraft {
        RelationshipTypeDraft {
            name: name.into(),
            label: "backs up".into(),
            reverse_label: "is backed up by".into(),
            dependency: Dependency::Informational,
        }
    }

    #[test]
    fn built_in_types_say_who_depends_on_whom() {
        let arcs = |t: BuiltinRelationship| t.dependency().arcs("src", "tgt").collect::<Vec<_>>();
        assert_eq!(arcs(BuiltinRelationship::DependsOn), [("src", "tgt")]);
        assert_eq!(arcs(BuiltinRelationship::RunsOn), [("src", "tgt")]);
        assert_eq!(arcs(BuiltinRelationship::Contains), [("tgt", "src")]);
        assert_eq!(
            arcs(BuiltinRelationship::ConnectsTo),
            [("src", "tgt"), ("tgt", "src")]
        );
        assert_eq!(Dependency::Informational.arcs(1, 2).count(), 0);
        for t in BuiltinRelationship::ALL {
            assert_eq!(BuiltinRelationship::parse(t.as_str()), Some(*t));
        }
    }

    #[test]
    fn admin_types_are_checked() {
        assert_eq!(
            custom(" backs_up ").validate().map(|t| t.name),
            Ok("backs_up".into())
        );
        for bad in [
            "",
            "Backs_up",
            "1st",
            "backs up",
            "depends_on",
            &"a".repeat(65),
        ] {
            assert!(custom(bad).validate().is_err(), "{bad}");
        }
        let no_labels = RelationshipTypeDraft {
            label: " ".into(),
            reverse_label: String::new(),
            ..custom("feeds")
        };
        let err = no_labels.validate().expect_err("labels");
        assert!(err.message_for("label").is_some() && err.message_for("reverse_label").is_some());
    }

    #[test]
    fn self_loops_are_refused() {
        assert!(check_relationship(4, 4).is_err());
        assert!(check_relationship(4, 5).is_ok());
    }
}
