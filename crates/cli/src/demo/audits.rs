//! The demo organisation's internal audit programme (9.2) for the certification cycle that
//! began with the recertification about eleven months ago: five audits over the past year,
//! reported or closed with their checklists filled and a few findings (a minor nonconformity,
//! observations, an opportunity for improvement), one audit in progress, and audits planned
//! for the next two years so that the cycle covers every clause of the standard.

use super::Org;
use anyhow::Context;
use jiff::civil::Date;
use std::collections::BTreeSet;
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::sms::audit::{
    AuditDraft, ChecklistResult, FindingDraft, FindingKind, ProgrammeDraft,
};
use steward_store::Store;
use steward_store::asset::today_utc;
use steward_store::audit::{Audit, ChecklistEntry};

/// Indexes into `USERS`.
const ADMIN: usize = 0;
const MANAGER: usize = 1;
const SAM: usize = 2;
const PRIYA: usize = 3;
const OMAR: usize = 4;
const ANN: usize = 5;

fn day(offset: i64) -> anyhow::Result<Date> {
    Ok(today_utc().checked_add(jiff::Span::new().days(offset))?)
}

/// An audit of the demo: title, scope, planned start (days from today), length in days, lead,
/// other auditors and auditees (indexes into `USERS`).
struct Plan {
    title: &'static str,
    scope: Vec<String>,
    start: i64,
    days: i64,
    lead: usize,
    others: &'static [usize],
    auditees: &'static [usize],
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Plan {
    /// The plan with its auditors: the lead and others it names where the RACI matrix leaves
    /// them independent of the scope, else the first who is (Ann, the internal auditor, last:
    /// her login only reads).
    async fn draft(&self, store: &Store, org: &Org) -> anyhow::Result<(AuditDraft, usize)> {
        let owners: BTreeSet<i64> = store
            .scope_owners(org.tenant_id, &self.scope)
            .await?
            .iter()
            .map(|o| o.person_id)
            .collect();
        let free = |i: &usize| !owners.contains(&org.users[*i].id) && !self.auditees.contains(i);
        let lead = [self.lead, PRIYA, SAM, OMAR, MANAGER, ADMIN, ANN]
            .into_iter()
            .find(free)
            .with_context(|| format!("nobody is independent of “{}”", self.title))?;
        let draft = AuditDraft {
            title: self.title.into(),
            scope: self.scope.clone(),
            criteria: String::new(),
            planned_start: day(self.start)?,
            planned_end: day(self.start + self.days)?,
            lead_auditor_id: org.users[lead].id,
            auditor_ids: self
                .others
                .iter()
                .filter(|i| **i != lead && free(i))
                .map(|&i| org.users[i].id)
                .collect(),
            auditee_ids: self.auditees.iter().map(|&i| org.users[i].id).collect(),
        };
        Ok((draft, lead))
    }
}

/// What an audit found: kind, requirement or clause, statement, evidence; the checklist row of
/// a nonconformity is marked nonconforming, of an observation as one.
type Found = (FindingKind, &'static str, &'static str, &'static str);

/// Plans, starts and (when `report` is given) reports an audit, filling its checklist.
async fn hold(
    store: &Store,
    org: &Org,
    programme: i64,
    plan: &Plan,
    findings: &[Found],
    report: Option<&str>,
) -> anyhow::Result<Audit> {
    let t = org.tenant_id;
    let (draft, lead) = plan.draft(store, org).await?;
    let lead = org.actor(lead);
    let audit = store
        .plan_audit(t, programme, &draft, &org.actor(MANAGER))
        .await?;
    store
        .start_audit(t, audit.id, audit.planned_start, &lead)
        .await?;
    for (kind, reference, statement, evidence) in findings {
        let draft = FindingDraft {
            kind: *kind,
            reference: (*reference).into(),
            statement: (*statement).into(),
            evidence: (*evidence).into(),
        };
        store.record_finding(t, audit.id, &draft, &lead).await?;
    }
    let rows = store.audit_checklist(t, audit.id).await?;
    // An audit in progress has worked through the first half of its checklist.
    let done = if report.is_some() {
        rows.len()
    } else {
        rows.len() / 2
    };
    for row in rows.iter().take(done) {
        let marked = findings
            .iter()
            .find(|(_, reference, _, _)| *reference == row.requirement_id);
        let result = match marked.map(|(kind, ..)| *kind) {
            Some(k) if k.is_nonconformity() => ChecklistResult::Nonconforming,
            Some(FindingKind::Observation) => ChecklistResult::Observation,
            _ => ChecklistResult::Conforming,
        };
        let entry = ChecklistEntry {
            result,
            notes: marked.map_or_else(String::new, |(_, _, s, _)| (*s).to_owned()),
            evidence: "Records sampled on the clause's conformance page; interviews with the process owner"
                .into(),
        };
        store
            .record_checklist_result(t, audit.id, &row.requirement_id, &entry, &lead)
            .await?;
    }
    match report {
        Some(summary) => Ok(store
            .report_audit(t, audit.id, summary, audit.planned_end, &lead)
            .await?),
        None => Ok(audit),
    }
}

/// Records the programme and its audits.
pub async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let t = org.tenant_id;
    let manager = org.actor(MANAGER);
    let programme = store
        .create_programme(
            t,
            &ProgrammeDraft {
                name: "Internal audit programme, certification cycle 2".into(),
                cycle_start: day(-335)?,
                owner_id: Some(org.users[MANAGER].id),
                notes: "Every clause once a cycle; incident, change and service level management \
                        every year, as the processes the customers feel first. Auditors are \
                        never the owners of the processes they audit."
                    .into(),
            },
            &manager,
        )
        .await?;
    let past = [
        (
            Plan {
                title: "Context, leadership and planning",
                scope: ids(&[
                    "4.1", "4.2", "4.3", "4.4", "5.1", "5.2.1", "5.2.2", "5.3", "6.1", "6.2.1",
                    "6.2.2", "6.3",
                ]),
                start: -300,
                days: 2,
                lead: ADMIN,
                others: &[PRIYA],
                auditees: &[MANAGER],
            },
            vec![(
                FindingKind::Observation,
                "6.2.2-a",
                "Two service objectives have no named owner; both are tracked in the monthly service review.",
                "Objectives register, March review minutes",
            )],
            Some(
                "The context, policy and plans are in place and understood; one observation on objective ownership.",
            ),
            true,
        ),
        (
            Plan {
                title: "Support of the SMS",
                scope: ids(&[
                    "7.1", "7.2", "7.3", "7.4", "7.5.1", "7.5.2", "7.5.3", "7.5.4", "7.6",
                ]),
                start: -240,
                days: 1,
                lead: MANAGER,
                others: &[],
                auditees: &[OMAR],
            },
            vec![(
                FindingKind::OpportunityForImprovement,
                "7.6",
                "Knowledge articles could link the known errors they describe, so agents find the workaround from either side.",
                "Knowledge base sample of 12 articles",
            )],
            Some(
                "Resources, competence and documented information support the SMS; one opportunity for improvement.",
            ),
            true,
        ),
        (
            Plan {
                title: "Incident, request and problem management",
                scope: ids(&["8.6.1", "8.6.2", "8.6.3"]),
                start: -170,
                days: 2,
                lead: MANAGER,
                others: &[PRIYA],
                auditees: &[SAM],
            },
            vec![
                (
                    FindingKind::MinorNonconformity,
                    "8.6.1-a",
                    "Three of twenty sampled incidents were closed without a category, so their trend could not be analysed.",
                    "Sample of 20 incidents resolved in the quarter; three uncategorised",
                ),
                (
                    FindingKind::Observation,
                    "8.6.3",
                    "Problem records state the root cause but not always how it was found.",
                    "Five problem records",
                ),
            ],
            Some(
                "Incidents and requests are handled to their SLAs; one minor nonconformity on incident categorisation.",
            ),
            false,
        ),
        (
            Plan {
                title: "Change, configuration and release",
                scope: ids(&["8.5.1.1", "8.5.1.2", "8.5.1.3", "8.2.6", "8.5.3"]),
                start: -100,
                days: 2,
                lead: ADMIN,
                others: &[],
                auditees: &[OMAR],
            },
            vec![],
            Some(
                "Changes are authorised, scheduled and reviewed; the CMDB matches the sampled servers.",
            ),
            false,
        ),
        (
            Plan {
                title: "Performance evaluation and improvement",
                scope: ids(&["9.1", "9.3", "9.4", "10.1", "10.2"]),
                start: -40,
                days: 1,
                lead: PRIYA,
                others: &[],
                auditees: &[MANAGER],
            },
            vec![(
                FindingKind::OpportunityForImprovement,
                "9.4",
                "Service reports could show the trend of the last four quarters beside this quarter's figures.",
                "Two quarterly service reports",
            )],
            Some(
                "Monitoring, reviews and improvement work as planned; one opportunity for improvement.",
            ),
            false,
        ),
    ];
    let mut planned: BTreeSet<String> = BTreeSet::new();
    for (plan, findings, summary, close) in &past {
        let audit = hold(store, org, programme.id, plan, findings, *summary).await?;
        if *close {
            // The programme's owner closes an audit once its follow-up is agreed.
            store.close_audit(t, audit.id, &manager).await?;
        }
        planned.extend(plan.scope.iter().cloned());
    }
    let running = Plan {
        title: "Service level and supplier management",
        scope: ids(&["8.3.3", "8.3.4.1", "8.3.4.2"]),
        start: -3,
        days: 5,
        lead: MANAGER,
        others: &[],
        auditees: &[PRIYA],
    };
    hold(store, org, programme.id, &running, &[], None).await?;
    planned.extend(running.scope.iter().cloned());
    // The rest of the standard over the cycle's second and third years.
    let rest: Vec<String> = catalogue()
        .clauses
        .iter()
        .map(|c| c.id.clone())
        .filter(|id| !planned.contains(id))
        .collect();
    let titles = [
        ("Service portfolio and relationships", 60, SAM),
        ("Supply and demand, budgeting and capacity", 200, OMAR),
        ("Design, transition and service continuity", 450, SAM),
        (
            "Internal audit, security and the rest of the cycle",
            600,
            MANAGER,
        ),
    ];
    let per = rest.len().div_ceil(titles.len()).max(1);
    for ((title, start, auditee), scope) in titles.iter().zip(rest.chunks(per)) {
        let plan = Plan {
            title,
            scope: scope.to_vec(),
            start: *start,
            days: 2,
            lead: if *auditee == MANAGER { PRIYA } else { MANAGER },
            others: &[],
            auditees: match *auditee {
                SAM => &[SAM],
                OMAR => &[OMAR],
                _ => &[MANAGER],
            },
        };
        let (draft, _) = plan.draft(store, org).await?;
        store.plan_audit(t, programme.id, &draft, &manager).await?;
    }
    Ok(())
}
