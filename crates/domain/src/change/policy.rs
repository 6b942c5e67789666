//! A tenant's change policy: what is under change control, what counts as a major change, and
//! who authorises what.
//!
//! Under change control means a modification needs a change record (ISO/IEC 20000-1 8.5.1.1
//! asks the organisation to define this). Major changes, those with the potential for a major
//! impact on services or customers, go through service design and transition (8.5.2) as well
//! as change management; the policy decides which changes those are, so the UI can say so as
//! soon as a change is assessed.

use crate::change::approval::ApprovalPolicy;
use crate::change::risk::{Questionnaire, RiskLevel};
use crate::validation::Invalid;
use serde::{Deserialize, Serialize};

/// Which services and CI classes need a change record to be modified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ControlScope {
    /// Every service and CI.
    Everything,
    /// These services (and their CIs), and CIs of these classes.
    Only {
        service_ids: Vec<i64>,
        ci_class_ids: Vec<i64>,
    },
}

/// When a change is major.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MajorChangeRule {
    /// Changes assessed at this risk or above are major; `None`: risk alone never makes one.
    pub from_risk: Option<RiskLevel>,
    /// Changes touching this many services or more are major; `None`: no such limit.
    pub from_services: Option<u32>,
    /// Changes touching any of these services are major (for example the customer-facing ones).
    pub service_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePolicy {
    pub control: ControlScope,
    pub major: MajorChangeRule,
    pub questionnaire: Questionnaire,
    pub approvals: ApprovalPolicy,
}

impl ChangePolicy {
    /// Validates the questionnaire and approval rules together, their errors under
    /// `questionnaire.` and `approvals.`.
    pub fn validate(self) -> Result<ChangePolicy, Invalid> {
        let mut errors = Invalid::new();
        let mut nest = |prefix: &str, e: Invalid| {
            for mut f in e.errors {
                f.field = format!("{prefix}.{}", f.field);
                errors.errors.push(f);
            }
        };
        let questionnaire = match self.questionnaire.validate() {
            Ok(q) => Some(q),
            Err(e) => {
                nest("questionnaire", e);
                None
            }
        };
        let approvals = match self.approvals.validate() {
            Ok(a) => Some(a),
            Err(e) => {
                nest("approvals", e);
                None
            }
        };
        if self.major.from_services == Some(0) {
            errors.add(
                "major.from_services",
                "Every change would be major: use at least 1, or leave it empty",
            );
        }
        match (questionnaire, approvals) {
            (Some(questionnaire), Some(approvals)) if errors.errors.is_empty() => {
                Ok(ChangePolicy {
                    control: self.control,
                    major: self.major,
                    questionnaire,
                    approvals,
                })
            }
            _ => Err(errors),
        }
    }

    /// Whether modifying something in these services, or CIs of these classes, needs a change.
    pub fn requires_change(&self, service_ids: &[i64], ci_class_ids: &[i64]) -> bool {
        match &self.control {
            ControlScope::Everything => true,
            ControlScope::Only {
                service_ids: controlled_services,
                ci_class_ids: controlled_classes,
            } => {
                service_ids.iter().any(|s| controlled_services.contains(s))
                    || ci_class_ids.iter().any(|c| controlled_classes.contains(c))
            }
        }
    }

    /// Whether a change at `risk` touching `service_ids` is major.
    pub fn is_major(&self, risk: Option<RiskLevel>, service_ids: &[i64]) -> bool {
        let rule = &self.major;
        let by_risk = matches!((rule.from_risk, risk), (Some(from), Some(r)) if r >= from);
        let by_count = rule
            .from_services
            .is_some_and(|n| service_ids.len() >= n as usize);
        let by_service = service_ids.iter().any(|s| rule.service_ids.contains(s));
        by_risk || by_count || by_service
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::approval::Board;

    fn policy() -> ChangePolicy {
        let board = Board {
            members: vec![1, 2, 3],
            quorum: 2,
        };
        ChangePolicy {
            control: ControlScope::Only {
                service_ids: vec![10],
                ci_class_ids: vec![3],
            },
            major: MajorChangeRule {
                from_risk: Some(RiskLevel::Critical),
                from_services: Some(3),
                service_ids: vec![11],
            },
            questionnaire: Questionnaire::default_questionnaire(),
            approvals: ApprovalPolicy::typical(board.clone(), board),
        }
    }

    #[test]
    fn control_scope_and_major_changes() {
        let p = policy().validate().expect("valid");
        assert!(p.requires_change(&[10], &[]));
        assert!(p.requires_change(&[], &[3]));
        assert!(!p.requires_change(&[12], &[4]));
        assert!(p.is_major(Some(RiskLevel::Critical), &[]));
        assert!(!p.is_major(Some(RiskLevel::High), &[1, 2]));
        assert!(p.is_major(Some(RiskLevel::Low), &[1, 2, 3]));
        assert!(p.is_major(None, &[11]));
    }

    #[test]
    fn errors_are_nested_by_part() {
        let mut p = policy();
        p.questionnaire.questions.clear();
        p.approvals.rules.clear();
        p.major.from_services = Some(0);
        let err = p.validate().expect_err("bad");
        assert!(err.message_for("questionnaire.questions").is_some());
        assert!(err.message_for("approvals.rules").is_some());
        assert!(err.message_for("major.from_services").is_some());
    }
}
