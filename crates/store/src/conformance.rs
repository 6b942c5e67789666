//! Evidence for the conformance view: each rule's population and failures, found in the
//! tenant's own records for a period (`domain::conformance::rules` decides what they mean).
//!
//! Most rules are one SQL statement ([`RuleSql`]) counted and listed by the database, so a
//! CMDB of a million CIs is counted, never loaded; the readiness view shows the first records
//! of each list. A few rules need the domain's judgement on each record (which changes are
//! major, which agreements cover which services, whether the journal links up) and are
//! computed over the records they read.

use crate::db::sql;
use crate::journal::Record;
use crate::{Actor, Store, StoreError, StoreResult, now_micros};
use std::collections::{BTreeSet, HashMap, HashSet};
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::conformance::readiness::{
    Assessment, AssessmentDraft, ClauseReadiness, Judgement, RuleResult, clause_readiness,
    readiness,
};
use steward_domain::conformance::rules::{Found, RecordRef, RuleId, decide, evaluate};
use steward_domain::design::Criterion;
use steward_domain::sla::AgreementKind;

/// The period rules that speak of "in the period" look at: `[from, to)` in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

impl Period {
    /// The twelve months (365 days) up to `now`, the default for every view.
    pub fn year_to(now: i64) -> Period {
        Period {
            from: now - 365 * DAY_MICROS,
            to: now,
        }
    }

    /// From the start of `from` to the end of `to` (both whole UTC days); `None` when `to`
    /// comes before `from`.
    pub fn days(from: jiff::civil::Date, to: jiff::civil::Date) -> Option<Period> {
        let start = |d: jiff::civil::Date| {
            d.to_zoned(jiff::tz::TimeZone::UTC)
                .ok()
                .map(|z| z.timestamp().as_microsecond())
        };
        let end = start(to)? + DAY_MICROS;
        let from = start(from)?;
        (from < end).then_some(Period { from, to: end })
    }
}

/// How many records of each list the readiness view carries.
pub const SHOWN: usize = 20;

const DAY_MICROS: i64 = 86_400_000_000;
/// A CI not verified for longer is stale (the CMDB health report's default).
const STALE_AFTER_DAYS: i64 = 90;

/// A rule as one statement: `FROM … WHERE …` over the records it applies to (binding `$1` to
/// the tenant and then its [`Binds`]), how each is named, and the condition that makes one
/// fail.
struct RuleSql {
    kind: &'static str,
    from: String,
    id: &'static str,
    label: &'static str,
    failing: String,
    binds: Binds,
}

/// What a rule's statement binds after the tenant.
#[derive(Clone, Copy)]
enum Binds {
    Tenant,
    /// `$2`, `$3`: the period.
    Period(Period),
}

impl RuleSql {
    fn query(&self, text: String, tenant_id: i64) -> crate::db::Sql {
        let s = sql(text).bind(tenant_id);
        match self.binds {
            Binds::Tenant => s,
            Binds::Period(p) => s.bind(p.from).bind(p.to),
        }
    }
}

fn rule_sql(rule: RuleId, period: Period) -> Option<RuleSql> {
    let r = |kind, from: &str, id, label, failing: &str, in_period: bool| {
        Some(RuleSql {
            kind,
            from: from.to_owned(),
            id,
            label,
            failing: failing.to_owned(),
            binds: if in_period {
                Binds::Period(period)
            } else {
                Binds::Tenant
            },
        })
    };
    let implemented = "FROM changes c WHERE c.tenant_id = $1 \
        AND c.status IN ('implementing', 'review', 'closed', 'failed') \
        AND COALESCE(c.planned_start, c.updated_at) >= $2 AND COALESCE(c.planned_start, c.updated_at) < $3";
    match rule {
        RuleId::LiveServicesHaveOwner => r(
            "service",
            "FROM services s WHERE s.tenant_id = $1 AND s.status = 'live' AND s.deleted_at IS NULL",
            "s.id",
            "s.name",
            "s.owner_id IS NULL",
            false,
        ),
        RuleId::IncidentsResolvedWithNotes => r(
            "incident",
            "FROM incidents i WHERE i.tenant_id = $1 AND i.resolved_at >= $2 AND i.resolved_at < $3",
            "i.id",
            "'INC-' || i.number",
            "trim(i.resolution_notes) = ''",
            true,
        ),
        RuleId::MajorIncidentsReviewed => r(
            "incident",
            "FROM incidents i WHERE i.tenant_id = $1 AND i.major = TRUE \
             AND i.resolved_at >= $2 AND i.resolved_at < $3",
            "i.id",
            "'INC-' || i.number",
            "NOT EXISTS (SELECT 1 FROM incident_reviews r WHERE r.incident_id = i.id AND r.completed = TRUE)",
            true,
        ),
        RuleId::ProblemsHaveRootCause => r(
            "problem",
            "FROM problems p WHERE p.tenant_id = $1 \
             AND COALESCE(p.resolved_at, p.closed_at) >= $2 AND COALESCE(p.resolved_at, p.closed_at) < $3",
            "p.id",
            "'PRB-' || p.number",
            "trim(p.root_cause) = ''",
            true,
        ),
        RuleId::KnownErrorsHaveWorkaround => r(
            "known_error",
            "FROM known_errors k WHERE k.tenant_id = $1 AND k.active = TRUE",
            "k.id",
            "'KE-' || k.number",
            "trim(k.workaround) = ''",
            false,
        ),
        RuleId::ChangesAuthorisedBeforeImplementation => r(
            "change",
            implemented,
            "c.id",
            "'CHG-' || c.number",
            "c.change_type <> 'standard' AND NOT EXISTS (SELECT 1 FROM change_decisions d \
             WHERE d.change_id = c.id AND d.round = c.approval_round AND d.verdict = 'approve')",
            true,
        ),
        RuleId::ChangesHaveBackoutPlan => r(
            "change",
            implemented,
            "c.id",
            "'CHG-' || c.number",
            "trim(c.backout_plan) = ''",
            true,
        ),
        RuleId::ChangesReviewedAfterImplementation => r(
            "change",
            "FROM changes c WHERE c.tenant_id = $1 AND c.status = 'closed' \
             AND c.change_type IN ('normal', 'emergency') AND c.ended_at >= $2 AND c.ended_at < $3",
            "c.id",
            "'CHG-' || c.number",
            "c.reviewed_at IS NULL",
            true,
        ),
        RuleId::ReleasesSignedOff => r(
            "release",
            "FROM releases r WHERE r.tenant_id = $1 AND EXISTS (SELECT 1 FROM release_deployments d \
             WHERE d.release_id = r.id AND d.outcome = 'succeeded' AND d.ended_at >= $2 AND d.ended_at < $3)",
            "r.id",
            "'REL-' || r.number",
            "NOT EXISTS (SELECT 1 FROM release_criteria k WHERE k.release_id = r.id) \
             OR EXISTS (SELECT 1 FROM release_criteria k WHERE k.release_id = r.id \
                        AND (k.verdict IS NULL OR k.verdict <> 'accepted'))",
            true,
        ),
        RuleId::DeploymentsVerified => r(
            "release",
            "FROM release_deployments d JOIN releases r ON r.id = d.release_id \
             WHERE d.tenant_id = $1 AND d.outcome = 'succeeded' AND d.ended_at >= $2 AND d.ended_at < $3",
            "r.id",
            "'REL-' || r.number || ' to ' || d.environment",
            "trim(d.verification_notes) = ''",
            true,
        ),
        RuleId::CisHaveOwner => r(
            "ci",
            "FROM cis c WHERE c.tenant_id = $1 AND c.status = 'in_use'",
            "c.id",
            "c.name",
            "c.owner_id IS NULL AND c.team_id IS NULL",
            false,
        ),
        // The threshold is computed here, never typed by anyone: written into the statement,
        // so every list of the rule binds the same parameters.
        RuleId::CisVerifiedRecently => r(
            "ci",
            "FROM cis c WHERE c.tenant_id = $1 AND c.status = 'in_use'",
            "c.id",
            "c.name",
            &format!(
                "c.verified_at IS NULL OR c.verified_at < {}",
                period.to - STALE_AFTER_DAYS * DAY_MICROS
            ),
            false,
        ),
        RuleId::ConfigurationBaselineTaken => r(
            "baseline",
            "FROM ci_baselines b WHERE b.tenant_id = $1 AND b.taken_at >= $2 AND b.taken_at < $3",
            "b.id",
            "b.name",
            "FALSE",
            true,
        ),
        RuleId::AssetsHaveOwner => r(
            "asset",
            "FROM assets a WHERE a.tenant_id = $1 AND a.status <> 'disposed'",
            "a.id",
            "a.tag",
            "a.owner_id IS NULL",
            false,
        ),
        RuleId::LicencesWithinEntitlement => r(
            "asset",
            "FROM assets a WHERE a.tenant_id = $1 AND a.status <> 'disposed' \
             AND a.licence_seats IS NOT NULL",
            "a.id",
            "a.tag",
            "COALESCE(a.seats_in_use, 0) > a.licence_seats",
            false,
        ),
        RuleId::NonconformitiesHandled => r(
            "nonconformity",
            "FROM nonconformities n WHERE n.tenant_id = $1 AND n.raised_at >= $2 AND n.raised_at < $3",
            "n.id",
            "'NC-' || n.number",
            "n.status <> 'closed' AND (trim(n.root_cause) = '' OR NOT EXISTS \
             (SELECT 1 FROM corrective_actions a WHERE a.nonconformity_id = n.id))",
            true,
        ),
        // Due dates are civil dates: the period's bounds are turned into dates here and
        // written into the statement (computed, never typed by anyone).
        RuleId::CorrectiveActionsOnTime => r(
            "nonconformity",
            &format!(
                "FROM corrective_actions a JOIN nonconformities n ON n.id = a.nonconformity_id \
                 WHERE a.tenant_id = $1 AND a.due >= '{}' AND a.due < '{}'",
                utc_date(period.from),
                utc_date(period.to)
            ),
            "n.id",
            "'NC-' || n.number || ' action due ' || a.due",
            "a.completed_on IS NULL OR a.completed_on > a.due",
            false,
        ),
        RuleId::NonconformitiesVerified => r(
            "nonconformity",
            "FROM nonconformities n WHERE n.tenant_id = $1 AND n.status = 'closed' \
             AND n.closed_at >= $2 AND n.closed_at < $3",
            "n.id",
            "'NC-' || n.number",
            "NOT EXISTS (SELECT 1 FROM effectiveness_checks e WHERE e.nonconformity_id = n.id \
             AND e.effective = TRUE)",
            true,
        ),
        // An audit's actual end is a civil date, compared like the corrective actions' due dates.
        RuleId::InternalAuditHeld => r(
            "audit",
            &format!(
                "FROM audits a WHERE a.tenant_id = $1 AND a.status IN ('reported', 'closed') \
                 AND a.actual_end >= '{}' AND a.actual_end <= '{}'",
                utc_date(period.from),
                utc_date(period.to - 1)
            ),
            "a.id",
            "'AUD-' || a.id || ' ' || a.title",
            "FALSE",
            false,
        ),
        RuleId::ScopeApproved => approved_core_document("scope", period),
        RuleId::PolicyApproved => approved_core_document("policy", period),
        RuleId::SmsPlanApproved => approved_core_document("plan", period),
        RuleId::CommunicationPlanApproved => approved_core_document("communication_plan", period),
        // The review date is a civil date, compared with the period's last day (written into
        // the statement, computed, never typed by anyone).
        RuleId::DocumentsReviewedOnTime => r(
            "document",
            "FROM documents d WHERE d.tenant_id = $1 AND d.status = 'active' AND d.review_due IS NOT NULL",
            "d.id",
            "d.reference || ' ' || d.title",
            &format!("d.review_due < '{}'", utc_date(period.to - 1)),
            false,
        ),
        RuleId::RisksReviewedOnTime => r(
            "risk",
            &format!(
                "FROM risks k WHERE k.tenant_id = $1 AND k.status = 'open' AND k.created_at < {}",
                period.to
            ),
            "k.id",
            "k.title",
            &format!("k.review_date < '{}'", utc_date(period.to - 1)),
            false,
        ),
        RuleId::HighRisksTreated => r(
            "risk",
            "FROM risks k WHERE k.tenant_id = $1 AND k.status = 'open' AND k.kind = 'risk' \
             AND k.likelihood * k.impact >= 10",
            "k.id",
            "k.title",
            "k.owner_id IS NULL OR k.treatment = 'accept'",
            false,
        ),
        RuleId::ObjectivesSet => r(
            "objective",
            &format!(
                "FROM objectives o WHERE o.tenant_id = $1 AND o.status = 'active' \
                 AND o.owner_id IS NOT NULL AND o.created_at < {}",
                period.to
            ),
            "o.id",
            "o.title",
            "FALSE",
            false,
        ),
        // A proposal gets 30 days before its missing decision counts against the period.
        RuleId::ImprovementsDecided => r(
            "improvement",
            &format!(
                "FROM improvements m WHERE m.tenant_id = $1 AND m.created_at >= $2 \
                 AND m.created_at < $3 - {}",
                30 * DAY_MICROS
            ),
            "m.id",
            "'IMP-' || m.id || ' ' || m.title",
            "m.decided_at IS NULL OR m.decided_at >= $3",
            true,
        ),
        RuleId::ImprovementsRealised => r(
            "improvement",
            "FROM improvements m WHERE m.tenant_id = $1 AND EXISTS (SELECT 1 FROM improvement_steps s \
             WHERE s.improvement_id = m.id AND s.to_status = 'closed' AND s.at >= $2 AND s.at < $3)",
            "m.id",
            "'IMP-' || m.id || ' ' || m.title",
            "FALSE",
            true,
        ),
        // Reviews are held at planned intervals, at least yearly: a review held within the
        // twelve months before the period's end counts, whatever the period's start.
        RuleId::ManagementReviewHeld => r(
            "management_review",
            &format!(
                "FROM management_reviews v WHERE v.tenant_id = $1 \
                 AND v.status IN ('held', 'closed') AND v.inputs IS NOT NULL \
                 AND v.held_at >= {} AND v.held_at < {}",
                period.to - 365 * DAY_MICROS,
                period.to
            ),
            "v.id",
            "'MR-' || v.id || ' ' || v.title",
            "FALSE",
            false,
        ),
        RuleId::ReviewActionsClosed => r(
            "management_review",
            &format!(
                "FROM review_actions a JOIN management_reviews v ON v.id = a.review_id \
                 WHERE a.tenant_id = $1 AND a.due_on >= '{}' AND a.due_on < '{}'",
                utc_date(period.from),
                utc_date(period.to)
            ),
            "v.id",
            "'MR-' || v.id || ' action due ' || a.due_on",
            "a.done_on IS NULL OR a.done_on > a.due_on",
            false,
        ),
        // Roles (5.3) are judged as they stand on the period's last day (a civil date, written
        // into the statements, computed, never typed by anyone).
        RuleId::RolesHeld => r(
            "sms_role",
            "FROM sms_roles k WHERE k.tenant_id = $1 AND k.retired = FALSE \
             AND EXISTS (SELECT 1 FROM raci_entries e WHERE e.role_id = k.id)",
            "k.id",
            "k.name",
            &format!(
                "NOT EXISTS (SELECT 1 FROM role_assignments a WHERE a.role_id = k.id AND {})",
                held_on(period)
            ),
            false,
        ),
        RuleId::ConformityLeadAssigned => role_held_by_active("k.conformity_lead", period),
        RuleId::PerformanceReporterAssigned => role_held_by_active("k.reports_performance", period),
        RuleId::NoDepartedRoleHolders => r(
            "sms_role",
            &format!(
                "FROM role_assignments a JOIN sms_roles k ON k.id = a.role_id \
                 JOIN users u ON u.id = a.user_id WHERE a.tenant_id = $1 AND {}",
                held_on(period)
            ),
            "k.id",
            "k.name || ': ' || u.name",
            "u.active = FALSE",
            false,
        ),
        // 7.2-a: a profile is owed by every role someone actually holds; an unheld role is
        // 5.3's concern, not competence's.
        RuleId::CompetenceProfilesSet => r(
            "sms_role",
            &format!(
                "FROM sms_roles k WHERE k.tenant_id = $1 AND k.retired = FALSE \
                 AND EXISTS (SELECT 1 FROM role_assignments a JOIN users u ON u.id = a.user_id \
                 WHERE a.role_id = k.id AND u.active = TRUE AND {})",
                held_on(period)
            ),
            "k.id",
            "k.name",
            "NOT EXISTS (SELECT 1 FROM competence_requirements q WHERE q.role_id = k.id)",
            false,
        ),
        // 7.2-d: whether training worked shows some weeks later, so an action completed in
        // the period's last 30 days is not yet owed its evaluation.
        RuleId::CompetenceActionsEvaluated => r(
            "competence_action",
            &format!(
                "FROM competence_actions c JOIN users u ON u.id = c.user_id \
                 WHERE c.tenant_id = $1 AND c.status IN ('completed', 'evaluated') \
                 AND c.completed_on >= '{}' AND c.completed_on < '{}'",
                utc_date(period.from),
                utc_date(period.to - 30 * DAY_MICROS)
            ),
            "c.id",
            "u.name || ': ' || c.description",
            "c.status <> 'evaluated'",
            false,
        ),
        // Business relationship management (8.3.2). Customers are judged as they stand;
        // dates are civil dates compared with the period's last day (computed, never typed).
        RuleId::CustomersHaveRelationshipOwner => r(
            "customer",
            "FROM customers c LEFT JOIN users u ON u.id = c.relationship_owner_id \
             WHERE c.tenant_id = $1 AND c.deleted_at IS NULL",
            "c.id",
            "c.name",
            "u.id IS NULL OR u.active = FALSE",
            false,
        ),
        RuleId::CustomersHaveContacts => r(
            "customer",
            &format!(
                "FROM customers c WHERE c.tenant_id = $1 AND c.deleted_at IS NULL AND {LIVE_CUSTOMER}"
            ),
            "c.id",
            "c.name",
            "NOT EXISTS (SELECT 1 FROM contacts k WHERE k.customer_id = c.id AND k.deleted_at IS NULL) \
             OR c.review_frequency_months IS NULL",
            false,
        ),
        RuleId::CustomerServicesReviewed => r(
            "customer",
            &format!(
                "FROM customers c WHERE c.tenant_id = $1 AND c.deleted_at IS NULL AND {LIVE_CUSTOMER}"
            ),
            "c.id",
            "c.name",
            &format!(
                "NOT EXISTS (SELECT 1 FROM customer_reviews r WHERE r.customer_id = c.id \
                 AND r.held_on <= '{}' AND r.held_on >= {})",
                utc_date(period.to - 1),
                review_window_start(period)
            ),
            false,
        ),
        RuleId::SatisfactionSurveyed => r(
            "satisfaction_survey",
            &format!(
                "FROM satisfaction_surveys v WHERE v.tenant_id = $1 AND v.responses > 0 \
                 AND trim(v.analysis) <> '' AND v.conducted_on > '{}' AND v.conducted_on <= '{}'",
                utc_date(period.to - 1 - 365 * DAY_MICROS),
                utc_date(period.to - 1)
            ),
            "v.id",
            "'Survey of ' || v.conducted_on",
            "FALSE",
            false,
        ),
        RuleId::ComplaintsHandled => r(
            "complaint",
            &format!(
                "FROM complaints k WHERE k.tenant_id = $1 AND k.received_on >= '{}' \
                 AND k.received_on <= '{}'",
                utc_date(period.from),
                utc_date(period.to - 1)
            ),
            "k.id",
            "'CMP-' || k.id || ' ' || k.summary",
            &format!(
                "k.status <> 'closed' AND k.target_date < '{}'",
                utc_date(period.to - 1)
            ),
            false,
        ),
        RuleId::OverdueComplaintsEscalated => r(
            "complaint",
            &format!(
                "FROM complaints k WHERE k.tenant_id = $1 AND k.status <> 'closed' \
                 AND k.target_date < '{}'",
                utc_date(period.to - 1)
            ),
            "k.id",
            "'CMP-' || k.id || ' ' || k.summary",
            "NOT EXISTS (SELECT 1 FROM complaint_escalations e WHERE e.complaint_id = k.id)",
            false,
        ),
        RuleId::ImprovementsFromCustomerFeedback => r(
            "improvement",
            &format!(
                "FROM improvements m WHERE m.tenant_id = $1 AND m.created_at >= {} \
                 AND m.created_at < {} AND (EXISTS (SELECT 1 FROM complaints k WHERE k.improvement_id = m.id) \
                 OR EXISTS (SELECT 1 FROM satisfaction_surveys v WHERE v.improvement_id = m.id))",
                period.to - 365 * DAY_MICROS,
                period.to
            ),
            "m.id",
            "'IMP-' || m.id || ' ' || m.title",
            "FALSE",
            false,
        ),
        RuleId::SuppliersHaveOwner
        | RuleId::InternalSuppliersHaveOwner
        | RuleId::SuppliersEvaluatedBeforeContract
        | RuleId::SupplierContractsCurrent
        | RuleId::InternalSupplierAgreementsCurrent
        | RuleId::SupplierInterfacesDefined
        | RuleId::SupplierContractChangesAssessed
        | RuleId::SupplierDisputesEscalated => supplier_rule_sql(rule, period),
        RuleId::SupplierPerformanceReviewed
        | RuleId::InternalSupplierPerformanceReviewed
        | RuleId::SupplierContractsReviewed => None,
        RuleId::LiveServicesHaveSla
        | RuleId::RoleHoldersCompetent
        | RuleId::CompetenceGapsActioned
        | RuleId::NewRoleHoldersChecked
        | RuleId::ProcessesHaveOwner
        | RuleId::RelationshipsHaveOwner
        | RuleId::MajorChangesHaveDesign
        | RuleId::DesignsAcceptedWithCriteriaMet
        | RuleId::JournalChainIntact
        | RuleId::AuditProgrammeCoversClauses => None,
    }
}

/// Supplier management (8.3.4): suppliers as they stand, judged on the period's last day
/// (dates are civil dates compared as text; the day is computed, never typed). The current
/// contract is the latest approved version in effect on that day. Reviews due at an interval
/// of months are the store's `supplier_found`.
fn supplier_rule_sql(rule: RuleId, period: Period) -> Option<RuleSql> {
    let last = utc_date(period.to - 1);
    let active = |kinds: &str| {
        format!(
            "FROM suppliers s WHERE s.tenant_id = $1 AND s.status = 'active' AND s.kind {kinds}"
        )
    };
    let (external, others) = ("= 'external'", "<> 'external'");
    let in_effect = |c: &str| {
        format!(
            "{c}.supplier_id = s.id AND {c}.status = 'approved' AND {c}.starts_on <= '{last}' \
             AND ({c}.ends_on IS NULL OR {c}.ends_on >= '{last}')"
        )
    };
    let current_incomplete = format!(
        "NOT EXISTS (SELECT 1 FROM supplier_contracts c WHERE {} AND trim(c.scope) <> '' \
         AND trim(c.requirements) <> '' AND trim(c.obligations) <> '' \
         AND trim(c.responsibilities) <> '' \
         AND NOT EXISTS (SELECT 1 FROM supplier_contracts n WHERE {} AND n.version > c.version))",
        in_effect("c"),
        in_effect("n")
    );
    let no_owner = "NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.owner_id AND u.active = TRUE)";
    let of_suppliers = |from: String, failing: &str| RuleSql {
        kind: "supplier",
        from,
        id: "s.id",
        label: "s.name",
        failing: failing.to_owned(),
        binds: Binds::Tenant,
    };
    match rule {
        RuleId::SuppliersHaveOwner => Some(of_suppliers(active(external), no_owner)),
        RuleId::InternalSuppliersHaveOwner => Some(of_suppliers(active(others), no_owner)),
        RuleId::SuppliersEvaluatedBeforeContract => Some(of_suppliers(
            active(external),
            "s.evaluation_result IS NULL OR s.evaluation_result <> 'approved' \
             OR s.evaluated_on IS NULL OR EXISTS (SELECT 1 FROM supplier_contracts c \
             WHERE c.supplier_id = s.id AND c.starts_on < s.evaluated_on)",
        )),
        RuleId::SupplierContractsCurrent => {
            Some(of_suppliers(active(external), &current_incomplete))
        }
        RuleId::InternalSupplierAgreementsCurrent => {
            Some(of_suppliers(active(others), &current_incomplete))
        }
        RuleId::SupplierInterfacesDefined => Some(of_suppliers(
            active(external),
            "trim(s.contacts) = '' OR trim(s.escalation) = ''",
        )),
        RuleId::SupplierContractChangesAssessed => Some(RuleSql {
            kind: "supplier_contract",
            from: format!(
                "FROM supplier_contracts c JOIN suppliers s ON s.id = c.supplier_id \
                 WHERE c.tenant_id = $1 AND c.version > 1 AND c.starts_on >= '{}' \
                 AND c.starts_on <= '{last}'",
                utc_date(period.from)
            ),
            id: "c.id",
            label: "s.name || ': ' || c.reference",
            failing: "trim(c.impact) = '' OR c.status <> 'approved' OR c.approved_on IS NULL \
                      OR c.approved_on > c.starts_on"
                .to_owned(),
            binds: Binds::Tenant,
        }),
        RuleId::SupplierDisputesEscalated => Some(RuleSql {
            kind: "supplier_dispute",
            from: format!(
                "FROM supplier_disputes d JOIN suppliers s ON s.id = d.supplier_id \
                 WHERE d.tenant_id = $1 AND d.state IN ('open', 'escalated') \
                 AND d.raised_on < '{}'",
                utc_date(period.to - 1 - 30 * DAY_MICROS)
            ),
            id: "d.id",
            label: "s.name || ': ' || d.subject",
            failing: "d.state = 'open'".to_owned(),
            binds: Binds::Tenant,
        }),
        _ => None,
    }
}

/// An exists rule: an active document of `kind` (a core kind, a literal here) with a version
/// approved before the period's end.
fn approved_core_document(kind: &str, period: Period) -> Option<RuleSql> {
    Some(RuleSql {
        kind: "document",
        from: format!(
            "FROM documents d WHERE d.tenant_id = $1 AND d.kind = '{kind}' AND d.status = 'active' \
             AND EXISTS (SELECT 1 FROM document_versions v WHERE v.document_id = d.id \
             AND v.state IN ('approved', 'superseded') AND v.approved_at < {})",
            period.to
        ),
        id: "d.id",
        label: "d.reference || ' ' || d.title",
        failing: "FALSE".into(),
        binds: Binds::Tenant,
    })
}

/// Whether the role assignment `a` runs on the period's last day (its end date is the first
/// day it is no longer held).
fn held_on(period: Period) -> String {
    let day = utc_date(period.to - 1);
    format!("a.from_date <= '{day}' AND (a.to_date IS NULL OR a.to_date > '{day}')")
}

/// An exists rule: a role in use with `flag` set, held by an active person on the period's
/// last day.
fn role_held_by_active(flag: &str, period: Period) -> Option<RuleSql> {
    Some(RuleSql {
        kind: "sms_role",
        from: format!(
            "FROM role_assignments a JOIN sms_roles k ON k.id = a.role_id \
             JOIN users u ON u.id = a.user_id WHERE a.tenant_id = $1 AND {flag} = TRUE \
             AND k.retired = FALSE AND u.active = TRUE AND {}",
            held_on(period)
        ),
        id: "k.id",
        label: "k.name || ': ' || u.name",
        failing: "FALSE".into(),
        binds: Binds::Tenant,
    })
}

/// The UTC civil date of a moment in microseconds, as `YYYY-MM-DD`.
/// A customer with a live service (8.3.2 rules judge those), over customers `c`.
const LIVE_CUSTOMER: &str = "EXISTS (SELECT 1 FROM service_customers sc JOIN services s \
     ON s.id = sc.service_id WHERE sc.customer_id = c.id AND s.status = 'live' AND s.deleted_at IS NULL)";

/// The earliest day a customer's last service review may have been held to count at the
/// period's end: its review frequency (1 to 24 months) before the period's last day, as a
/// `CASE` over the customer `c` with the days written in.
fn review_window_start(period: Period) -> String {
    let Ok(end) = jiff::civil::Date::strptime("%Y-%m-%d", utc_date(period.to - 1)) else {
        return "'9999-12-31'".into();
    };
    let mut case = String::from("CASE c.review_frequency_months");
    for months in 1..=24 {
        let from = steward_domain::relationship::add_months(end, -months).unwrap_or(end);
        case.push_str(&format!(
            " WHEN {months} THEN '{}'",
            from.strftime("%Y-%m-%d")
        ));
    }
    case.push_str(" ELSE '9999-12-31' END");
    case
}

fn utc_date(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
        .unwrap_or(jiff::civil::Date::ZERO)
        .strftime("%Y-%m-%d")
        .to_string()
}

fn refs(kind: &str, rows: Vec<(i64, String)>) -> Vec<RecordRef> {
    rows.into_iter()
        .map(|(id, label)| RecordRef {
            kind: kind.to_owned(),
            id,
            label,
        })
        .collect()
}

/// What a rule found, cut to [`SHOWN`] records a list, with the counts kept whole.
fn result(rule: RuleId, found: Found) -> RuleResult {
    let (population, failing_count) = (found.population.len(), found.failing.len());
    RuleResult {
        status: evaluate(rule, &found),
        population,
        failing_count,
        failing: found.failing.into_iter().take(SHOWN).collect(),
        records: found.population.into_iter().take(SHOWN).collect(),
    }
}

impl Store {
    /// Every rule's result for the tenant and period: what the readiness view shows.
    pub async fn rule_results(
        &self,
        tenant_id: i64,
        period: Period,
    ) -> StoreResult<HashMap<RuleId, RuleResult>> {
        let mut out = HashMap::new();
        for rule in RuleId::ALL {
            out.insert(*rule, self.rule_result(tenant_id, *rule, period).await?);
        }
        Ok(out)
    }

    async fn rule_result(
        &self,
        tenant_id: i64,
        rule: RuleId,
        period: Period,
    ) -> StoreResult<RuleResult> {
        let Some(q) = rule_sql(rule, period) else {
            return Ok(result(rule, self.computed(tenant_id, rule, period).await?));
        };
        let (population, failing): (i64, i64) = self
            .db
            .fetch_one(q.query(
                format!(
                    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN {} THEN 1 ELSE 0 END), 0) {}",
                    q.failing, q.from
                ),
                tenant_id,
            ))
            .await?;
        let list = |filter: String| {
            q.query(
                format!(
                    "SELECT {}, {} {}{filter} ORDER BY {} LIMIT {SHOWN}",
                    q.id, q.label, q.from, q.id
                ),
                tenant_id,
            )
        };
        let records = self.db.fetch_all(list(String::new())).await?;
        let failing_rows = self
            .db
            .fetch_all(list(format!(" AND ({})", q.failing)))
            .await?;
        Ok(RuleResult {
            status: decide(rule, population as usize, failing as usize),
            population: population as usize,
            failing_count: failing as usize,
            failing: refs(q.kind, failing_rows),
            records: refs(q.kind, records),
        })
    }

    /// The whole population a rule applies to, for sampling; computed rules give theirs too.
    pub async fn rule_population(
        &self,
        tenant_id: i64,
        rule: RuleId,
        period: Period,
    ) -> StoreResult<Vec<RecordRef>> {
        match rule_sql(rule, period) {
            Some(q) => Ok(self.sql_found(tenant_id, &q).await?.population),
            None => Ok(self.computed(tenant_id, rule, period).await?.population),
        }
    }

    /// Every record a rule written in SQL looks at, and those failing it, in full.
    async fn sql_found(&self, tenant_id: i64, q: &RuleSql) -> StoreResult<Found> {
        let all = |filter: String| {
            q.query(
                format!(
                    "SELECT {}, {} {}{filter} ORDER BY {}",
                    q.id, q.label, q.from, q.id
                ),
                tenant_id,
            )
        };
        let population = self.db.fetch_all(all(String::new())).await?;
        let failing = self
            .db
            .fetch_all(all(format!(" AND ({})", q.failing)))
            .await?;
        Ok(Found {
            population: refs(q.kind, population),
            failing: refs(q.kind, failing),
        })
    }

    /// 8.3.1-c: the customers' and all active suppliers' owner rules taken together.
    async fn relationships_owned(&self, tenant_id: i64, period: Period) -> StoreResult<Found> {
        let mut found = Found::default();
        for part in [
            RuleId::CustomersHaveRelationshipOwner,
            RuleId::SuppliersHaveOwner,
            RuleId::InternalSuppliersHaveOwner,
        ] {
            if let Some(q) = rule_sql(part, period) {
                let Found {
                    population,
                    failing,
                } = self.sql_found(tenant_id, &q).await?;
                found.population.extend(population);
                found.failing.extend(failing);
            }
        }
        Ok(found)
    }

    /// Rules that need the domain's judgement on each record.
    async fn computed(&self, tenant_id: i64, rule: RuleId, period: Period) -> StoreResult<Found> {
        match rule {
            RuleId::LiveServicesHaveSla => self.services_without_sla(tenant_id).await,
            RuleId::MajorChangesHaveDesign => self.major_changes(tenant_id, period).await,
            RuleId::DesignsAcceptedWithCriteriaMet => {
                self.accepted_designs(tenant_id, period).await
            }
            RuleId::JournalChainIntact => self.journal_in_period(tenant_id, period).await,
            RuleId::ProcessesHaveOwner => self.processes_owned(tenant_id).await,
            RuleId::RelationshipsHaveOwner => self.relationships_owned(tenant_id, period).await,
            RuleId::RoleHoldersCompetent | RuleId::CompetenceGapsActioned => {
                self.competence_found(tenant_id, rule, &utc_date(period.to - 1))
                    .await
            }
            RuleId::NewRoleHoldersChecked => {
                self.new_holders_found(tenant_id, &utc_date(period.from), &utc_date(period.to - 1))
                    .await
            }
            RuleId::AuditProgrammeCoversClauses => {
                self.programme_coverage_at(tenant_id, period).await
            }
            RuleId::SupplierPerformanceReviewed
            | RuleId::InternalSupplierPerformanceReviewed
            | RuleId::SupplierContractsReviewed => {
                self.supplier_found(tenant_id, rule, &utc_date(period.to - 1))
                    .await
            }
            _ => Ok(Found::default()),
        }
    }

    async fn services_without_sla(&self, tenant_id: i64) -> StoreResult<Found> {
        let services: Vec<(i64, String)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT id, name FROM services WHERE tenant_id = $1 AND status = 'live' \
                     AND deleted_at IS NULL ORDER BY id",
                )
                .bind(tenant_id),
            )
            .await?;
        let slas: Vec<_> = self
            .agreements(tenant_id)
            .await?
            .into_iter()
            .filter(|a| a.draft.active && a.draft.kind == AgreementKind::Sla)
            .collect();
        let every_service = slas.iter().any(|a| a.draft.service_id.is_none());
        let covered: HashSet<i64> = slas.iter().filter_map(|a| a.draft.service_id).collect();
        let population = refs("service", services);
        let failing = population
            .iter()
            .filter(|s| !every_service && !covered.contains(&s.id))
            .cloned()
            .collect();
        Ok(Found {
            population,
            failing,
        })
    }

    async fn major_changes(&self, tenant_id: i64, period: Period) -> StoreResult<Found> {
        let policy = self.change_policy(tenant_id).await?;
        let rows: Vec<(i64, i64, Option<String>, bool)> = self
            .db
            .fetch_all(
                sql("SELECT c.id, c.number, c.risk_level, \
                     EXISTS (SELECT 1 FROM service_designs d WHERE d.change_id = c.id) \
                     FROM changes c WHERE c.tenant_id = $1 AND c.created_at >= $2 AND c.created_at < $3 \
                     ORDER BY c.id")
                .bind(tenant_id)
                .bind(period.from)
                .bind(period.to),
            )
            .await?;
        let links: Vec<(i64, i64)> = self
            .db
            .fetch_all(
                sql(
                    "SELECT cs.change_id, cs.service_id FROM change_services cs \
                     JOIN changes c ON c.id = cs.change_id \
                     WHERE c.tenant_id = $1 AND c.created_at >= $2 AND c.created_at < $3",
                )
                .bind(tenant_id)
                .bind(period.from)
                .bind(period.to),
            )
            .await?;
        let mut services_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for (change_id, service_id) in links {
            services_of.entry(change_id).or_default().push(service_id);
        }
        let mut found = Found::default();
        for (id, number, risk, has_design) in rows {
            let services = services_of.remove(&id).unwrap_or_default();
            let risk = risk
                .as_deref()
                .and_then(steward_domain::change::risk::RiskLevel::parse);
            if !policy.is_major(risk, &services) {
                continue;
            }
            let r = RecordRef {
                kind: "change".into(),
                id,
                label: format!("CHG-{number}"),
            };
            if !has_design {
                found.failing.push(r.clone());
            }
            found.population.push(r);
        }
        Ok(found)
    }

    async fn accepted_designs(&self, tenant_id: i64, period: Period) -> StoreResult<Found> {
        let rows: Vec<(i64, i64, String)> = self
            .db
            .fetch_all(
                sql("SELECT id, number, criteria_json FROM service_designs WHERE tenant_id = $1 \
                     AND status = 'accepted' AND accepted_at >= $2 AND accepted_at < $3 ORDER BY id")
                .bind(tenant_id)
                .bind(period.from)
                .bind(period.to),
            )
            .await?;
        let mut found = Found::default();
        for (id, number, criteria) in rows {
            let criteria: Vec<Criterion> = serde_json::from_str(&criteria).unwrap_or_default();
            let r = RecordRef {
                kind: "service_design".into(),
                id,
                label: format!("SDR-{number}"),
            };
            let unmet = criteria.is_empty()
                || criteria
                    .iter()
                    .any(|c| !c.met || c.evidence.trim().is_empty());
            if unmet {
                found.failing.push(r.clone());
            }
            found.population.push(r);
        }
        Ok(found)
    }

    /// The period's journal entries checked link by link from the entry before the period;
    /// the population is one line naming the stretch checked, the failure the first broken
    /// entry.
    async fn journal_in_period(&self, tenant_id: i64, period: Period) -> StoreResult<Found> {
        match self
            .verify_journal_between(tenant_id, period.from, period.to)
            .await?
        {
            None => Ok(Found::default()),
            Some((first, last, broken)) => {
                let stretch = RecordRef {
                    kind: "journal".into(),
                    id: first,
                    label: format!("journal entries {first} to {last}"),
                };
                let failing = broken
                    .map(|b| {
                        vec![RecordRef {
                            kind: "journal".into(),
                            id: b.seq,
                            label: format!("journal entry {}: {}", b.seq, b.reason),
                        }]
                    })
                    .unwrap_or_default();
                Ok(Found {
                    population: vec![stretch],
                    failing,
                })
            }
        }
    }
}

/// A judgement as stored: which requirement, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredAssessment {
    pub id: i64,
    pub requirement_id: String,
    #[serde(flatten)]
    pub assessment: Assessment,
    pub assessed_by_id: Option<i64>,
}

impl Record for StoredAssessment {
    const KIND: &'static str = "conformance_assessment";
    fn id(&self) -> i64 {
        self.id
    }
}

const ASSESSMENT_COLUMNS: &str = "id, requirement_id, judgement, comment, evidence, assessed_by, \
                                  assessed_by_name, assessed_at";

type AssessmentRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<i64>,
    String,
    i64,
);

fn assessment(row: AssessmentRow) -> StoreResult<StoredAssessment> {
    let (id, requirement_id, judgement, comment, evidence, by_id, by, at) = row;
    let judgement = Judgement::parse(&judgement)
        .ok_or_else(|| StoreError::Corrupt(format!("judgement {judgement:?}")))?;
    Ok(StoredAssessment {
        id,
        requirement_id,
        assessment: Assessment {
            judgement,
            comment,
            evidence,
            assessed_by: by,
            assessed_at: at,
        },
        assessed_by_id: by_id,
    })
}

impl Store {
    /// Records an assessor's judgement of a catalogue requirement (journaled). Earlier
    /// judgements stay; the newest is the current one.
    pub async fn assess(
        &self,
        tenant_id: i64,
        requirement_id: &str,
        draft: &AssessmentDraft,
        actor: &Actor,
    ) -> StoreResult<StoredAssessment> {
        if catalogue().requirement(requirement_id).is_none() {
            return Err(StoreError::NotFound);
        }
        let draft = draft.clone().validate()?;
        let mut tx = self.db.begin().await?;
        let row: AssessmentRow = tx
            .fetch_one(
                sql(format!(
                    "INSERT INTO conformance_assessments (tenant_id, requirement_id, judgement, comment, \
                     evidence, assessed_by, assessed_by_name, assessed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ASSESSMENT_COLUMNS}"
                ))
                .bind(tenant_id)
                .bind(requirement_id.to_owned())
                .bind(draft.judgement.as_str())
                .bind(draft.comment.clone())
                .bind(draft.evidence.clone())
                .bind(actor.user_id)
                .bind(actor.label.clone())
                .bind(now_micros()),
            )
            .await?;
        self.commit_created(tx, tenant_id, actor, assessment(row)?)
            .await
    }

    /// The current (newest) judgement of every assessed requirement, by requirement id.
    pub async fn current_assessments(
        &self,
        tenant_id: i64,
    ) -> StoreResult<HashMap<String, Assessment>> {
        let rows: Vec<AssessmentRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {ASSESSMENT_COLUMNS} FROM conformance_assessments a WHERE tenant_id = $1 \
                     AND id = (SELECT MAX(id) FROM conformance_assessments b \
                               WHERE b.tenant_id = a.tenant_id AND b.requirement_id = a.requirement_id)"
                ))
                .bind(tenant_id),
            )
            .await?;
        rows.into_iter()
            .map(|r| assessment(r).map(|a| (a.requirement_id, a.assessment)))
            .collect()
    }

    /// Every judgement of one requirement, newest first.
    pub async fn assessment_history(
        &self,
        tenant_id: i64,
        requirement_id: &str,
    ) -> StoreResult<Vec<StoredAssessment>> {
        let rows: Vec<AssessmentRow> = self
            .db
            .fetch_all(
                sql(format!(
                    "SELECT {ASSESSMENT_COLUMNS} FROM conformance_assessments \
                     WHERE tenant_id = $1 AND requirement_id = $2 ORDER BY id DESC"
                ))
                .bind(tenant_id)
                .bind(requirement_id.to_owned()),
            )
            .await?;
        rows.into_iter().map(assessment).collect()
    }

    /// The readiness of every clause for the period: the rules' results and the current
    /// judgements, put together by the domain.
    pub async fn readiness(
        &self,
        tenant_id: i64,
        period: Period,
    ) -> StoreResult<Vec<ClauseReadiness>> {
        let results = self.rule_results(tenant_id, period).await?;
        let assessments = self.current_assessments(tenant_id).await?;
        Ok(readiness(catalogue(), &results, &assessments))
    }

    /// One clause's readiness, evaluating only its own rules; `NotFound` for a clause the
    /// catalogue does not have.
    pub async fn clause_readiness(
        &self,
        tenant_id: i64,
        clause_id: &str,
        period: Period,
    ) -> StoreResult<ClauseReadiness> {
        let clause = catalogue().clause(clause_id).ok_or(StoreError::NotFound)?;
        let rules: BTreeSet<RuleId> = clause.requirements.iter().filter_map(|r| r.rule).collect();
        let mut results = HashMap::new();
        for rule in rules {
            results.insert(rule, self.rule_result(tenant_id, rule, period).await?);
        }
        let assessments = self.current_assessments(tenant_id).await?;
        Ok(clause_readiness(clause, &results, &assessments))
    }

    /// The records that serve as evidence for `clause_id` in the period (the union of its
    /// rules' populations, journal stretches left out), for sampling. `NotFound` for a clause
    /// the catalogue does not have.
    pub async fn clause_population(
        &self,
        tenant_id: i64,
        clause_id: &str,
        period: Period,
    ) -> StoreResult<Vec<RecordRef>> {
        let clause = catalogue().clause(clause_id).ok_or(StoreError::NotFound)?;
        let rules: BTreeSet<RuleId> = clause.requirements.iter().filter_map(|r| r.rule).collect();
        let mut out = Vec::new();
        for rule in rules {
            out.extend(
                self.rule_population(tenant_id, rule, period)
                    .await?
                    .into_iter()
                    .filter(|r| r.kind != "journal" && r.kind != crate::audit::CLAUSE_KIND),
            );
        }
        Ok(out)
    }
}
