//! Evidence rules: checks over Steward's own records that say whether a requirement is met.
//!
//! A rule is one of two shapes. An **every** rule has a population (the records it applies to
//! in the period, such as the changes implemented) and the failures among them (those
//! implemented without authorisation); no population means there is nothing to judge yet. An
//! **exists** rule asks for at least one record (a configuration baseline in the last twelve
//! months); none is a gap. The store finds the records; [`evaluate`] decides.

use serde::{Deserialize, Serialize};

/// Every rule Steward can evaluate, by the name the catalogue gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    LiveServicesHaveOwner,
    LiveServicesHaveSla,
    IncidentsResolvedWithNotes,
    MajorIncidentsReviewed,
    ProblemsHaveRootCause,
    KnownErrorsHaveWorkaround,
    ChangesAuthorisedBeforeImplementation,
    ChangesHaveBackoutPlan,
    ChangesReviewedAfterImplementation,
    MajorChangesHaveDesign,
    DesignsAcceptedWithCriteriaMet,
    ReleasesSignedOff,
    DeploymentsVerified,
    CisHaveOwner,
    CisVerifiedRecently,
    ConfigurationBaselineTaken,
    AssetsHaveOwner,
    LicencesWithinEntitlement,
    JournalChainIntact,
    NonconformitiesHandled,
    CorrectiveActionsOnTime,
    NonconformitiesVerified,
    InternalAuditHeld,
    AuditProgrammeCoversClauses,
    ScopeApproved,
    PolicyApproved,
    SmsPlanApproved,
    CommunicationPlanApproved,
    DocumentsReviewedOnTime,
    RisksReviewedOnTime,
    HighRisksTreated,
    ObjectivesSet,
    ImprovementsDecided,
    ImprovementsRealised,
    ManagementReviewHeld,
    ReviewActionsClosed,
    ProcessesHaveOwner,
    RolesHeld,
    ConformityLeadAssigned,
    PerformanceReporterAssigned,
    NoDepartedRoleHolders,
    CompetenceProfilesSet,
    RoleHoldersCompetent,
    CompetenceGapsActioned,
    CompetenceActionsEvaluated,
    NewRoleHoldersChecked,
    SuppliersHaveOwner,
    InternalSuppliersHaveOwner,
    SuppliersEvaluatedBeforeContract,
    SupplierContractsCurrent,
    InternalSupplierAgreementsCurrent,
    SupplierInterfacesDefined,
    SupplierPerformanceReviewed,
    InternalSupplierPerformanceReviewed,
    SupplierContractsReviewed,
    SupplierContractChangesAssessed,
    SupplierDisputesEscalated,
    CustomersHaveRelationshipOwner,
    RelationshipsHaveOwner,
    CustomersHaveContacts,
    CustomerServicesReviewed,
    SatisfactionSurveyed,
    ComplaintsHandled,
    OverdueComplaintsEscalated,
    ImprovementsFromCustomerFeedback,
}

/// The two shapes of rule (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Every,
    Exists,
}

impl RuleId {
    pub const ALL: &'static [RuleId] = &[
        RuleId::LiveServicesHaveOwner,
        RuleId::LiveServicesHaveSla,
        RuleId::IncidentsResolvedWithNotes,
        RuleId::MajorIncidentsReviewed,
        RuleId::ProblemsHaveRootCause,
        RuleId::KnownErrorsHaveWorkaround,
        RuleId::ChangesAuthorisedBeforeImplementation,
        RuleId::ChangesHaveBackoutPlan,
        RuleId::ChangesReviewedAfterImplementation,
        RuleId::MajorChangesHaveDesign,
        RuleId::DesignsAcceptedWithCriteriaMet,
        RuleId::ReleasesSignedOff,
        RuleId::DeploymentsVerified,
        RuleId::CisHaveOwner,
        RuleId::CisVerifiedRecently,
        RuleId::ConfigurationBaselineTaken,
        RuleId::AssetsHaveOwner,
        RuleId::LicencesWithinEntitlement,
        RuleId::JournalChainIntact,
        RuleId::NonconformitiesHandled,
        RuleId::CorrectiveActionsOnTime,
        RuleId::NonconformitiesVerified,
        RuleId::InternalAuditHeld,
        RuleId::AuditProgrammeCoversClauses,
        RuleId::ScopeApproved,
        RuleId::PolicyApproved,
        RuleId::SmsPlanApproved,
        RuleId::CommunicationPlanApproved,
        RuleId::DocumentsReviewedOnTime,
        RuleId::RisksReviewedOnTime,
        RuleId::HighRisksTreated,
        RuleId::ObjectivesSet,
        RuleId::ImprovementsDecided,
        RuleId::ImprovementsRealised,
        RuleId::ManagementReviewHeld,
        RuleId::ReviewActionsClosed,
        RuleId::ProcessesHaveOwner,
        RuleId::RolesHeld,
        RuleId::ConformityLeadAssigned,
        RuleId::PerformanceReporterAssigned,
        RuleId::NoDepartedRoleHolders,
        RuleId::CompetenceProfilesSet,
        RuleId::RoleHoldersCompetent,
        RuleId::CompetenceGapsActioned,
        RuleId::CompetenceActionsEvaluated,
        RuleId::NewRoleHoldersChecked,
        RuleId::SuppliersHaveOwner,
        RuleId::InternalSuppliersHaveOwner,
        RuleId::SuppliersEvaluatedBeforeContract,
        RuleId::SupplierContractsCurrent,
        RuleId::InternalSupplierAgreementsCurrent,
        RuleId::SupplierInterfacesDefined,
        RuleId::SupplierPerformanceReviewed,
        RuleId::InternalSupplierPerformanceReviewed,
        RuleId::SupplierContractsReviewed,
        RuleId::SupplierContractChangesAssessed,
        RuleId::SupplierDisputesEscalated,
        RuleId::CustomersHaveRelationshipOwner,
        RuleId::RelationshipsHaveOwner,
        RuleId::CustomersHaveContacts,
        RuleId::CustomerServicesReviewed,
        RuleId::SatisfactionSurveyed,
        RuleId::ComplaintsHandled,
        RuleId::OverdueComplaintsEscalated,
        RuleId::ImprovementsFromCustomerFeedback,
    ];

    pub fn shape(self) -> Shape {
        match self {
            RuleId::ConfigurationBaselineTaken
            | RuleId::InternalAuditHeld
            | RuleId::ScopeApproved
            | RuleId::PolicyApproved
            | RuleId::SmsPlanApproved
            | RuleId::CommunicationPlanApproved
            | RuleId::ObjectivesSet
            | RuleId::ImprovementsRealised
            | RuleId::ManagementReviewHeld
            | RuleId::ConformityLeadAssigned
            | RuleId::PerformanceReporterAssigned
            | RuleId::SatisfactionSurveyed
            | RuleId::ImprovementsFromCustomerFeedback => Shape::Exists,
            _ => Shape::Every,
        }
    }

    /// What the rule checks, in words for the readiness view.
    pub fn description(self) -> &'static str {
        match self {
            RuleId::LiveServicesHaveOwner => "Every live service has an owner.",
            RuleId::LiveServicesHaveSla => "Every live service is covered by an active SLA.",
            RuleId::IncidentsResolvedWithNotes => {
                "Every incident resolved in the period records how it was resolved."
            }
            RuleId::MajorIncidentsReviewed => {
                "Every major incident resolved in the period has a completed review."
            }
            RuleId::ProblemsHaveRootCause => {
                "Every problem resolved or closed in the period records its root cause."
            }
            RuleId::KnownErrorsHaveWorkaround => "Every known error records a workaround.",
            RuleId::ChangesAuthorisedBeforeImplementation => {
                "Every change implemented in the period was authorised (or pre-approved as a \
                 standard change) before implementation began."
            }
            RuleId::ChangesHaveBackoutPlan => {
                "Every change implemented in the period had a back-out plan."
            }
            RuleId::ChangesReviewedAfterImplementation => {
                "Every normal or emergency change closed in the period has a post-implementation \
                 review."
            }
            RuleId::MajorChangesHaveDesign => {
                "Every major change raised in the period went through a service design record."
            }
            RuleId::DesignsAcceptedWithCriteriaMet => {
                "Every design accepted in the period had all its acceptance criteria met, with \
                 evidence."
            }
            RuleId::ReleasesSignedOff => {
                "Every release deployed in the period had its acceptance criteria signed off."
            }
            RuleId::DeploymentsVerified => {
                "Every successful deployment in the period was verified."
            }
            RuleId::CisHaveOwner => "Every CI in use has an owner (a person or a team).",
            RuleId::CisVerifiedRecently => {
                "Every CI in use was verified within the CMDB's staleness window."
            }
            RuleId::ConfigurationBaselineTaken => {
                "A configuration baseline was taken in the last twelve months."
            }
            RuleId::AssetsHaveOwner => "Every asset not yet disposed of has an owner.",
            RuleId::LicencesWithinEntitlement => {
                "No software licence has more seats in use than it grants."
            }
            RuleId::JournalChainIntact => {
                "The audit journal's entries of the period are unaltered: each links to the one \
                 before it and matches its hash."
            }
            RuleId::NonconformitiesHandled => {
                "Every nonconformity raised in the period has a root cause and at least one \
                 corrective action, or is closed."
            }
            RuleId::CorrectiveActionsOnTime => {
                "Every corrective action due within the period was completed by its due date."
            }
            RuleId::NonconformitiesVerified => {
                "Every nonconformity closed in the period has an effective check recorded."
            }
            RuleId::InternalAuditHeld => {
                "An internal audit was reported (or reported and closed) in the period."
            }
            RuleId::AuditProgrammeCoversClauses => {
                "Every clause of the catalogue is in the scope of some audit of the audit \
                 programme whose cycle contains the end of the period."
            }
            RuleId::ScopeApproved => "An active SMS scope document has an approved version.",
            RuleId::PolicyApproved => {
                "An active service management policy has an approved version."
            }
            RuleId::SmsPlanApproved => "An active service management plan has an approved version.",
            RuleId::CommunicationPlanApproved => {
                "An active communication plan has an approved version."
            }
            RuleId::DocumentsReviewedOnTime => {
                "Every active document with an approved version is not past its review date at \
                 the end of the period."
            }
            RuleId::RisksReviewedOnTime => {
                "Every risk and opportunity open at the end of the period is not past its review \
                 date."
            }
            RuleId::HighRisksTreated => {
                "Every open risk rated high or very high (10 or more) has an owner and a \
                 treatment other than acceptance."
            }
            RuleId::ObjectivesSet => {
                "At least one service management objective is active, with an owner and a target."
            }
            RuleId::ImprovementsDecided => {
                "Every opportunity for improvement raised in the period (and at least 30 days \
                 before its end) was decided: approved, deferred or rejected, with a reason."
            }
            RuleId::ImprovementsRealised => {
                "An improvement was closed in the period with the benefit it realised on record."
            }
            RuleId::ManagementReviewHeld => {
                "A management review was held (or held and closed) within the twelve months \
                 before the period's end, on inputs compiled for it."
            }
            RuleId::ReviewActionsClosed => {
                "Every management review action due within the period was done by its due date."
            }
            RuleId::ProcessesHaveOwner => {
                "Every process of the SMS has exactly one accountable role in the RACI matrix, \
                 a role in use with its responsibilities and authorities written down."
            }
            RuleId::RolesHeld => {
                "Every role in use that has a part in the RACI matrix is held by someone at the \
                 end of the period."
            }
            RuleId::ConformityLeadAssigned => {
                "At the end of the period an active person holds a role that answers for the \
                 SMS conforming to the standard."
            }
            RuleId::PerformanceReporterAssigned => {
                "At the end of the period an active person holds a role that reports the SMS's \
                 and the services' performance to top management."
            }
            RuleId::NoDepartedRoleHolders => {
                "No role assignment running at the end of the period is held by a deactivated \
                 person."
            }
            RuleId::CompetenceProfilesSet => {
                "Every role in use that someone holds at the end of the period has at least one \
                 competence requirement."
            }
            RuleId::RoleHoldersCompetent => {
                "At the end of the period every holder of a role has a valid competence record \
                 (education, training, qualification or experience) for each requirement of it."
            }
            RuleId::CompetenceGapsActioned => {
                "Every competence gap at the end of the period has an action under way: open \
                 with a due date, or completed and awaiting evaluation."
            }
            RuleId::CompetenceActionsEvaluated => {
                "Every competence action completed in the period (and at least 30 days before \
                 its end) was evaluated for whether it closed the gap."
            }
            RuleId::NewRoleHoldersChecked => {
                "Every role assignment that began in the period was checked against the role's \
                 competence requirements: 30 days after it began, the holder meets each one or \
                 has an action under way for it."
            }
            RuleId::SuppliersHaveOwner => {
                "Every active external supplier has an owner who is an active user."
            }
            RuleId::InternalSuppliersHaveOwner => {
                "Every active internal supplier and customer acting as a supplier has an owner who is an active user."
            }
            RuleId::SuppliersEvaluatedBeforeContract => {
                "Every active external supplier has a selection evaluation that approved it, dated on or before its first contract started."
            }
            RuleId::SupplierContractsCurrent => {
                "Every active external supplier has a current approved contract that sets out the scope, the requirements, the targets and obligations, and the responsibilities."
            }
            RuleId::InternalSupplierAgreementsCurrent => {
                "Every active internal supplier and customer acting as a supplier has a current approved agreement that sets out the scope, the requirements, the targets and obligations, and the responsibilities."
            }
            RuleId::SupplierInterfacesDefined => {
                "Every active external supplier has its interface contacts and escalation route on record."
            }
            RuleId::SupplierPerformanceReviewed => {
                "Every active external supplier with an approved contract had its performance reviewed within the contract's review interval."
            }
            RuleId::InternalSupplierPerformanceReviewed => {
                "Every active internal supplier and customer acting as a supplier with an approved agreement had its performance reviewed within the agreement's review interval."
            }
            RuleId::SupplierContractsReviewed => {
                "Every current supplier contract or agreement was reviewed against the service requirements within its review interval."
            }
            RuleId::SupplierContractChangesAssessed => {
                "Every supplier contract or agreement version after the first that started in the period has an impact assessment and was approved on or before it started."
            }
            RuleId::SupplierDisputesEscalated => {
                "Every supplier dispute unsettled more than 30 days after it was raised has been escalated."
            }
            RuleId::CustomersHaveRelationshipOwner => {
                "Every customer (all customers on record) has a relationship owner who is an \
                 active user."
            }
            RuleId::RelationshipsHaveOwner => {
                "Every relationship, with a customer or with an active supplier of any kind, has \
                 an owner who is an active user."
            }
            RuleId::CustomersHaveContacts => {
                "Every customer with a live service has at least one contact and a review \
                 frequency."
            }
            RuleId::CustomerServicesReviewed => {
                "Every customer with a live service had a service review within its review \
                 frequency before the period's end."
            }
            RuleId::SatisfactionSurveyed => {
                "A satisfaction survey with responses and an analysis was conducted within the \
                 twelve months before the period's end."
            }
            RuleId::ComplaintsHandled => {
                "Every complaint received in the period is closed, or still open within its \
                 target date at the period's end."
            }
            RuleId::OverdueComplaintsEscalated => {
                "Every complaint open past its target date at the period's end has been \
                 escalated."
            }
            RuleId::ImprovementsFromCustomerFeedback => {
                "An improvement was raised from a complaint or a satisfaction survey within the \
                 twelve months before the period's end."
            }
        }
    }
}

/// A record that serves as evidence: its kind (`incident`, `change`…) and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordRef {
    pub kind: String,
    pub id: i64,
    /// How people know it: `CHG-12`, a service's name.
    pub label: String,
}

/// What the machine says of a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MachineStatus {
    Met,
    Gap,
    /// Nothing to judge yet (no records the rule applies to).
    NotYetEvaluable,
    /// No rule: a person assesses it.
    Manual,
}

crate::service::text_enum!(MachineStatus {
    Met => "met", Gap => "gap", NotYetEvaluable => "not_yet_evaluable", Manual => "manual",
});

/// The records a rule found: the population it applies to and the failures among it (for an
/// exists rule, the population is what exists and there are no failures).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub population: Vec<RecordRef>,
    pub failing: Vec<RecordRef>,
}

/// The decision on what a rule found.
pub fn evaluate(rule: RuleId, found: &Found) -> MachineStatus {
    decide(rule, found.population.len(), found.failing.len())
}

/// The decision from counts alone (the store counts large populations without listing them).
pub fn decide(rule: RuleId, population: usize, failing: usize) -> MachineStatus {
    match (rule.shape(), population) {
        (Shape::Exists, 0) => MachineStatus::Gap,
        (Shape::Exists, _) => MachineStatus::Met,
        (Shape::Every, 0) => MachineStatus::NotYetEvaluable,
        (Shape::Every, _) if failing == 0 => MachineStatus::Met,
        (Shape::Every, _) => MachineStatus::Gap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(n: i64) -> Vec<RecordRef> {
        (1..=n)
            .map(|id| RecordRef {
                kind: "change".into(),
                id,
                label: format!("CHG-{id}"),
            })
            .collect()
    }

    #[test]
    fn every_rules_need_a_population_and_no_failures() {
        let rule = RuleId::ChangesHaveBackoutPlan;
        assert_eq!(
            evaluate(rule, &Found::default()),
            MachineStatus::NotYetEvaluable
        );
        let clean = Found {
            population: refs(3),
            failing: vec![],
        };
        assert_eq!(evaluate(rule, &clean), MachineStatus::Met);
        let one_bad = Found {
            population: refs(3),
            failing: refs(1),
        };
        assert_eq!(evaluate(rule, &one_bad), MachineStatus::Gap);
    }

    #[test]
    fn exists_rules_need_one_record() {
        let rule = RuleId::ConfigurationBaselineTaken;
        assert_eq!(evaluate(rule, &Found::default()), MachineStatus::Gap);
        let one = Found {
            population: refs(1),
            failing: vec![],
        };
        assert_eq!(evaluate(rule, &one), MachineStatus::Met);
    }

    #[test]
    fn every_rule_is_listed_once_and_described() {
        let mut seen = std::collections::HashSet::new();
        for r in RuleId::ALL {
            assert!(seen.insert(*r), "{r:?} twice");
            assert!(r.description().ends_with('.'));
        }
    }
}
