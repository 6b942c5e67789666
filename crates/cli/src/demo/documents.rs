//! The demo organisation's controlled documents (ISO/IEC 20000-1 7.5): the SMS scope (first
//! approved about a year ago, revised three months ago for the Lisbon site), the service
//! management policy, the service management plan and the communication plan, the incident and
//! change procedures, a problem procedure whose review is overdue, and a revision of the change
//! procedure waiting for the administrator's approval. Some of the service desk have confirmed
//! reading what concerns them.
//!
//! The quality manager (Maria) writes; the administrator (Alex) reviews and approves, so no one
//! approves their own text.

use super::Org;
use steward_domain::sms::document::{Classification, DocumentDraft, DocumentKind, VersionDraft};
use steward_server::document_reminders::render_notice;
use steward_store::asset::today_utc;
use steward_store::{Store, now_micros};

const DAY: i64 = 86_400_000_000;

const SCOPE_V1: &str = "SMS scope statement

1. Organisation
Meridian IT GmbH, providing managed IT services to business customers from its office at \
Friedrichstraße 120, 10117 Berlin.

2. Services in scope
The service management system covers the design, transition, delivery and improvement of:
- Service Desk (first-line support by phone, e-mail and portal)
- Managed Hosting (servers, storage and backup in the Berlin data centre)
- Payroll Service (hosted payroll application and its interfaces)
- Customer Portal (self-service ordering and status for customers)

3. Exclusions
The retired Fax Gateway is outside the scope; no customer receives it any longer.

4. Parties involved
Services depend on two external suppliers: the data-centre operator (colocation, power, \
cooling) and the network carrier. Both are managed under supplier agreements (8.3.4).";

const SCOPE_V2: &str = "SMS scope statement

1. Organisation
Meridian IT GmbH, providing managed IT services to business customers from its sites at \
Friedrichstraße 120, 10117 Berlin, Germany, and Avenida da Liberdade 50, 1250-145 Lisboa, \
Portugal.

2. Services in scope
The service management system covers the design, transition, delivery and improvement of:
- Service Desk (first-line support by phone, e-mail and portal, from Berlin and Lisbon)
- Managed Hosting (servers, storage and backup in the Berlin data centre)
- Payroll Service (hosted payroll application and its interfaces)
- Customer Portal (self-service ordering and status for customers)

3. Exclusions
The retired Fax Gateway is outside the scope; no customer receives it any longer.

4. Parties involved
Services depend on two external suppliers: the data-centre operator (colocation, power, \
cooling) and the network carrier. Both are managed under supplier agreements (8.3.4). The \
Lisbon service desk is staffed by Meridian employees; no part of the service desk is \
outsourced.";

const POLICY: &str = "Service management policy

Meridian IT exists to keep its customers' business services running and to make them better \
year after year. Top management commits to the following.

1. We meet the requirements that apply to our services: those agreed with customers in service \
level agreements, those of law and regulation, and those of ISO/IEC 20000-1.

2. We set measurable service management objectives each year, derived from this policy, and \
review them at every management review.

3. We restore service first: incidents are handled to agreed targets, and the causes of \
repeated or major incidents are found and removed.

4. No change reaches production without assessment and authorisation proportionate to its \
risk.

5. We continually improve the service management system and the services, and we act on what \
customers, staff, audits and measurements tell us.

This policy is communicated to everyone in scope, who confirm having read it, and it is \
available to customers and suppliers on request.";

const PLAN: &str = "Service management plan 2026

1. Purpose and basis
This plan sets out how the service management system is run in 2026. It rests on the service \
management policy (SMS-POL-01), the objectives for 2026, the risk register and the service \
requirements in the SLAs.

2. Services
The services in scope are listed in the SMS scope statement (SMS-SCOPE-01) and in the service \
catalogue in Steward.

3. Constraints
The Berlin data centre's contract runs until June 2027; no hosting changes that depend on a new \
site are planned before then.

4. Obligations
ISO/IEC 20000-1:2018; the EU GDPR for payroll data; customer contracts and their SLAs.

5. Roles
The service manager (Maria Lopez) owns the SMS; process owners are named in the RACI in section \
7; top management reviews the SMS twice a year.

6. Resources
Eleven staff in two sites; the Steward platform for all records; a budget line for the \
recertification audit.

7. Measurement
Each objective is measured monthly from Steward's records and reported at the management \
review.";

const COMMUNICATION: &str = "Communication plan

For every planned communication: subject, timing, audience, channel and sender.

- Service reports: monthly; each customer's contacts; e-mail from Steward; the service manager.
- Major incident updates: at least hourly while open; affected customers and internal teams; \
status page and e-mail; the major incident manager.
- Change schedule: weekly; the CAB and service owners; Steward's change calendar; the change \
manager.
- Policy and procedure changes: on approval; the document's distribution; e-mail notice and \
read confirmation in Steward; the document's owner.
- Management review outcomes: twice a year; all staff; staff meeting and minutes; top \
management.
- Planned maintenance: five working days ahead; affected customers; e-mail; the service desk.";

const INCIDENT: &str = "Incident management procedure

1. Record every incident in Steward, from phone, e-mail or the portal, with its service.
2. Classify it: category, impact and urgency set the priority and the SLA clock.
3. Diagnose at first line for up to 30 minutes; escalate to the owning team with what was tried.
4. Major incidents: any priority 1 incident is declared major at once; the major incident \
manager takes over communication (see the communication plan).
5. Resolve: record the resolution and how it was verified; the customer confirms or the \
incident closes after five working days.
6. Link repeated incidents to a problem.";

const CHANGE_V1: &str = "Change management procedure

1. Raise a change in Steward with its reason, the services and CIs it affects, an \
implementation plan and a back-out plan.
2. Assess the risk with the questionnaire; the result sets the approvals needed.
3. Standard changes use an approved template and need no further approval.
4. Normal changes are approved by the CAB before implementation; emergency changes by the \
emergency CAB, and reviewed afterwards.
5. Implement within the approved window, outside blackout periods.
6. Review every normal and emergency change after implementation.";

const CHANGE_V2: &str = "Change management procedure

1. Raise a change in Steward with its reason, the services and CIs it affects, an \
implementation plan and a back-out plan.
2. Assess the risk with the questionnaire; the result sets the approvals needed.
3. Standard changes use an approved template and need no further approval.
4. Normal changes are approved by the CAB before implementation; emergency changes by the \
emergency CAB, and reviewed afterwards.
5. Major changes (new or removed services, or a high risk) first go through a service design \
record (8.5.2) and are accepted into live operation only when its criteria are met.
6. Implement within the approved window, outside blackout periods.
7. Review every normal and emergency change after implementation.";

const PROBLEM: &str = "Problem management procedure

1. Open a problem for any major incident and for incidents that recur three times in a month.
2. Investigate the root cause; record it in the problem.
3. Record a workaround as a known error as soon as one exists.
4. Raise a change to remove the cause where the benefit justifies it.
5. Close the problem once the change is reviewed and no new incident has occurred for 30 days.";

/// One document of the demo: reference, title, kind, review interval in months, distribution
/// (indices of `USERS`).
struct Doc {
    reference: &'static str,
    title: &'static str,
    kind: DocumentKind,
    review_months: i64,
    readers: &'static [usize],
}

impl Doc {
    async fn create(&self, store: &Store, org: &Org) -> anyhow::Result<i64> {
        let draft = DocumentDraft {
            reference: self.reference.into(),
            title: self.title.into(),
            kind: self.kind,
            owner_id: org.users[1].id,
            review_months: self.review_months,
            retention_years: 6,
            classification: Classification::Internal,
            distribution_users: self.readers.iter().map(|&i| org.users[i].id).collect(),
            distribution_teams: vec![],
        }
        .validate()?;
        Ok(store
            .create_document(org.tenant_id, &draft, &org.actor(1))
            .await?
            .id)
    }
}

/// Writes the next version of document `id` as the manager, `days_ago`, and sends it to the
/// administrator; approves it then too unless `pending`.
async fn version(
    store: &Store,
    org: &Org,
    id: i64,
    (body, summary): (&str, &str),
    days_ago: i64,
    pending: bool,
) -> anyhow::Result<()> {
    let at = now_micros() - days_ago * DAY;
    let text = VersionDraft {
        body: body.into(),
        change_summary: summary.into(),
    }
    .validate()?;
    let t = org.tenant_id;
    let (author, approver) = (org.actor(1), org.actor(0));
    let v = store
        .create_document_version(t, id, &text, at, &author)
        .await?;
    store
        .submit_document_version(t, id, v.number, org.users[0].id, at, &author)
        .await?;
    if !pending {
        store
            .approve_document_version(t, id, v.number, at, &approver, &render_notice)
            .await?;
    }
    Ok(())
}

pub(crate) async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let t = org.tenant_id;
    let desk: &[usize] = &[2, 3, 4];
    let scope = Doc {
        reference: "SMS-SCOPE-01",
        title: "Scope of the service management system",
        kind: DocumentKind::Scope,
        review_months: 12,
        readers: desk,
    }
    .create(store, org)
    .await?;
    version(store, org, scope, (SCOPE_V1, "First issue"), 365, false).await?;
    version(
        store,
        org,
        scope,
        (SCOPE_V2, "Adds the Lisbon site and its service desk"),
        90,
        false,
    )
    .await?;
    let policy = Doc {
        reference: "SMS-POL-01",
        title: "Service management policy",
        kind: DocumentKind::Policy,
        review_months: 12,
        readers: desk,
    }
    .create(store, org)
    .await?;
    version(
        store,
        org,
        policy,
        (POLICY, "First issue, signed by the managing director"),
        200,
        false,
    )
    .await?;
    let plan = Doc {
        reference: "SMS-PLAN-01",
        title: "Service management plan 2026",
        kind: DocumentKind::Plan,
        review_months: 12,
        readers: &[],
    }
    .create(store, org)
    .await?;
    version(store, org, plan, (PLAN, "Plan for 2026"), 150, false).await?;
    let communication = Doc {
        reference: "SMS-COMM-01",
        title: "Communication plan",
        kind: DocumentKind::CommunicationPlan,
        review_months: 12,
        readers: desk,
    }
    .create(store, org)
    .await?;
    version(
        store,
        org,
        communication,
        (COMMUNICATION, "First issue"),
        120,
        false,
    )
    .await?;
    let incident = Doc {
        reference: "PRC-INC-01",
        title: "Incident management procedure",
        kind: DocumentKind::Procedure,
        review_months: 12,
        readers: desk,
    }
    .create(store, org)
    .await?;
    version(store, org, incident, (INCIDENT, "First issue"), 300, false).await?;
    let reviewed = today_utc().checked_sub(jiff::Span::new().days(30))?;
    store
        .record_document_review(
            t,
            incident,
            reviewed,
            today_utc(),
            "Walked through with the service desk; still fit for purpose",
            &org.actor(1),
        )
        .await?;
    let change = Doc {
        reference: "PRC-CHG-01",
        title: "Change management procedure",
        kind: DocumentKind::Procedure,
        review_months: 12,
        readers: &[2, 4],
    }
    .create(store, org)
    .await?;
    version(store, org, change, (CHANGE_V1, "First issue"), 60, false).await?;
    version(
        store,
        org,
        change,
        (
            CHANGE_V2,
            "Major changes go through a service design record",
        ),
        2,
        true,
    )
    .await?;
    // Reviewed every six months, approved eight months ago: overdue.
    let problem = Doc {
        reference: "PRC-PRB-01",
        title: "Problem management procedure",
        kind: DocumentKind::Procedure,
        review_months: 6,
        readers: desk,
    }
    .create(store, org)
    .await?;
    version(store, org, problem, (PROBLEM, "First issue"), 240, false).await?;
    // Sam and Priya have read the scope and the policy; Sam the incident procedure.
    for (document, readers) in [
        (scope, &[2usize, 3][..]),
        (policy, &[2, 3]),
        (incident, &[2]),
    ] {
        for &i in readers {
            store
                .acknowledge_document(t, document, org.users[i].id, &org.actor(i))
                .await?;
        }
    }
    Ok(())
}
