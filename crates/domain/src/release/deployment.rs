//! Deployments: a release put into an environment, when, how it went, how it was verified and,
//! if it was rolled back, how.
//!
//! # The production rule
//!
//! A deployment to an environment named `production` (in any case, surrounding spaces aside)
//! is refused unless the release has been accepted (it is accepted, deploying or deployed) or
//! it is an emergency release. Test and staging environments take deployments as soon as
//! something is built: that is how a release is tested.
//!
//! # Outcomes
//!
//! A deployment starts `in_progress` and ends once: `succeeded`, `failed` or `rolled_back`.
//! A rolled-back deployment must say how it was rolled back.

use crate::release::{ReleaseKind, ReleaseStatus};
use crate::validation::{Invalid, optional_text, required_text};
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeploymentOutcome {
    #[default]
    InProgress,
    Succeeded,
    Failed,
    RolledBack,
}

crate::service::text_enum!(DeploymentOutcome {
    InProgress => "in_progress", Succeeded => "succeeded", Failed => "failed",
    RolledBack => "rolled_back",
});

impl DeploymentOutcome {
    pub fn is_final(self) -> bool {
        self != DeploymentOutcome::InProgress
    }
}

/// Whether `environment` is production.
pub fn is_production(environment: &str) -> bool {
    environment.trim().eq_ignore_ascii_case("production")
}

/// Whether a release of `kind` in `status` may be deployed to `environment` (see the module
/// documentation); `Err` says why not, for the `environment` field.
pub fn may_deploy(
    kind: ReleaseKind,
    status: ReleaseStatus,
    environment: &str,
) -> Result<(), Invalid> {
    if !status.takes_deployments() {
        return Err(Invalid::one(
            "environment",
            format!("A release that is {status} takes no deployments"),
        ));
    }
    if is_production(environment) && !status.is_accepted() && kind != ReleaseKind::Emergency {
        return Err(Invalid::one(
            "environment",
            "Only an accepted release (or an emergency release) may be deployed to production",
        ));
    }
    Ok(())
}

/// A new deployment, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentDraft {
    /// Free text: test, staging, production, a region...
    pub environment: String,
    pub planned_start: Option<i64>,
    pub planned_end: Option<i64>,
}

impl DeploymentDraft {
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        self.environment = required_text(
            &mut errors,
            "environment",
            "Environment",
            &self.environment,
            100,
        );
        if let (Some(start), Some(end)) = (self.planned_start, self.planned_end)
            && end < start
        {
            errors.add(
                "planned_end",
                "The planned end must not be before the planned start",
            );
        }
        errors.into_result(self)
    }
}

/// How a deployment ended, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeDraft {
    pub outcome: DeploymentOutcome,
    pub verification_notes: String,
    pub rollback_notes: String,
}

impl OutcomeDraft {
    /// The outcome must end the deployment, and a rollback must say how it was done.
    pub fn validate(mut self) -> Result<Self, Invalid> {
        let mut errors = Invalid::new();
        if !self.outcome.is_final() {
            errors.add("outcome", "The outcome is succeeded, failed or rolled_back");
        }
        self.verification_notes = optional_text(
            &mut errors,
            "verification_notes",
            "Verification notes",
            &self.verification_notes,
            50_000,
        );
        self.rollback_notes = optional_text(
            &mut errors,
            "rollback_notes",
            "Rollback notes",
            &self.rollback_notes,
            50_000,
        );
        if self.outcome == DeploymentOutcome::RolledBack && self.rollback_notes.trim().is_empty() {
            errors.add("rollback_notes", "Say how the deployment was rolled back");
        }
        errors.into_result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn production_needs_acceptance_unless_emergency() {
        use ReleaseStatus::*;
        assert!(may_deploy(ReleaseKind::Minor, InTest, "test").is_ok());
        assert!(may_deploy(ReleaseKind::Minor, InTest, " Production ").is_err());
        assert!(may_deploy(ReleaseKind::Minor, Accepted, "production").is_ok());
        assert!(may_deploy(ReleaseKind::Emergency, Built, "PRODUCTION").is_ok());
        assert!(may_deploy(ReleaseKind::Major, Planned, "test").is_err());
        assert!(may_deploy(ReleaseKind::Emergency, Closed, "production").is_err());
    }

    #[test]
    fn a_rollback_says_how() {
        let draft = |outcome, notes: &str| OutcomeDraft {
            outcome,
            verification_notes: String::new(),
            rollback_notes: notes.into(),
        };
        let err = draft(DeploymentOutcome::RolledBack, " ")
            .validate()
            .expect_err("no notes");
        assert!(err.message_for("rollback_notes").is_some());
        assert!(
            draft(DeploymentOutcome::RolledBack, "restored")
                .validate()
                .is_ok()
        );
        assert!(draft(DeploymentOutcome::InProgress, "").validate().is_err());
        assert!(draft(DeploymentOutcome::Succeeded, "").validate().is_ok());
    }

    proptest! {
        /// No major or minor release reaches production before acceptance, whatever the
        /// environment's spelling.
        #[test]
        fn production_is_guarded(
            kind in prop::sample::select(vec![ReleaseKind::Major, ReleaseKind::Minor]),
            status in prop::sample::select(ReleaseStatus::ALL.to_vec()),
            upper in prop::collection::vec(any::<bool>(), 10),
            pad in "[ ]{0,3}",
        ) {
            let env: String = "production"
                .chars()
                .zip(&upper)
                .map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c })
                .collect();
            let env = format!("{pad}{env}{pad}");
            if may_deploy(kind, status, &env).is_ok() {
                prop_assert!(status.is_accepted());
            }
        }
    }
}
