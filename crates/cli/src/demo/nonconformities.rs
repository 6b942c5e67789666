//! The demo organisation's nonconformities over the past year (ISO/IEC 20000-1 10.1): one from
//! the mail incident that ran past its resolution target, one from a customer complaint closed
//! only after a first check found the fix ineffective, one from the management review with an
//! overdue action, one from a sample of changes (as an audit would find it) awaiting its
//! effectiveness check, and a fresh one not yet analysed.
//!
//! Actions are planned, due and completed on dates across the year; the records themselves
//! are written when the demo is seeded.

use super::Org;
use jiff::civil::Date;
use steward_domain::sms::nonconformity::{
    ActionDraft, NonconformityDraft, RootCauseMethod, Severity, Source,
};
use steward_store::asset::today_utc;
use steward_store::incident::IncidentFilter;
use steward_store::nonconformity::Nonconformity;
use steward_store::{Actor, PageRequest, Store};

fn day(offset: i64) -> anyhow::Result<Date> {
    Ok(today_utc().checked_add(jiff::Span::new().days(offset))?)
}

/// The quality manager owns the nonconformities; the admin checks them independently.
const OWNER: usize = 1;
const CHECKER: usize = 0;

/// One nonconformity's story: what it is, its analysis, and its actions as (description,
/// owner index, planned on, due on, completed on with its note).
struct Story {
    draft: NonconformityDraft,
    analysis: Option<(&'static str, &'static str, RootCauseMethod)>,
    actions: Vec<Action>,
}

struct Action {
    description: &'static str,
    owner: usize,
    planned: i64,
    due: i64,
    done: Option<(i64, &'static str)>,
}

fn draft(
    title: &str,
    description: &str,
    clause: &str,
    severity: Severity,
    source: Source,
    source_ref: Option<i64>,
    org: &Org,
) -> NonconformityDraft {
    NonconformityDraft {
        title: title.into(),
        description: description.into(),
        clause_id: Some(clause.into()),
        severity,
        source,
        source_ref,
        owner_id: Some(org.users[OWNER].id),
    }
}

/// The demo's mail incident that ran far past its resolution target, if it is there.
async fn breached_incident(store: &Store, org: &Org) -> anyhow::Result<Option<i64>> {
    let filter = IncidentFilter {
        q: Some("Mail delayed".into()),
        ..Default::default()
    };
    let page = PageRequest {
        limit: Some(1),
        cursor: None,
    };
    Ok(store
        .incidents(org.tenant_id, &filter, &page)
        .await?
        .items
        .first()
        .map(|i| i.id))
}

/// Raises the story's nonconformity, records its analysis, plans and completes its actions.
async fn tell(store: &Store, org: &Org, story: Story) -> anyhow::Result<Nonconformity> {
    let owner = org.actor(OWNER);
    let t = org.tenant_id;
    let mut nc = store.raise_nonconformity(t, &story.draft, &owner).await?;
    if let Some((containment, root_cause, method)) = story.analysis {
        let mut edit = nc.edit();
        edit.containment = containment.into();
        edit.root_cause = root_cause.into();
        edit.root_cause_method = Some(method);
        nc = store
            .update_nonconformity(t, nc.id, nc.updated_at, &edit, today_utc(), &owner)
            .await?;
    }
    for a in story.actions {
        let planned_on = day(a.planned)?;
        let draft = ActionDraft {
            description: a.description.into(),
            owner_id: Some(org.users[a.owner].id),
            due: day(a.due)?,
        };
        let action = store
            .add_corrective_action(t, nc.id, &draft, planned_on, &owner)
            .await?;
        if let Some((on, note)) = a.done {
            store
                .complete_corrective_action(
                    t,
                    nc.id,
                    action.id,
                    note,
                    day(on)?,
                    &org.actor(a.owner),
                )
                .await?;
        }
    }
    Ok(store.nonconformity(t, nc.id).await?)
}

async fn check(
    store: &Store,
    org: &Org,
    nc: &Nonconformity,
    effective: bool,
    notes: &str,
) -> anyhow::Result<()> {
    let checker: Actor = org.actor(CHECKER);
    store
        .record_effectiveness_check(org.tenant_id, nc.id, effective, notes, &checker)
        .await?;
    Ok(())
}

pub async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let incident = breached_incident(store, org).await?;
    let (source, source_ref) = match incident {
        Some(id) => (Source::Incident, Some(id)),
        None => (Source::Other, None),
    };
    let mail = tell(store, org, Story {
        draft: draft(
            "Major mail incident resolved outside its SLA, no major incident review held",
            "Mail was delayed by up to an hour for most of a working day. The incident was handled \
             as a major incident but resolved 3 h 40 min after its 2-hour resolution target, and \
             no major incident review was held afterwards, although the major incident procedure \
             requires one within five working days.",
            "8.6.1",
            Severity::Major,
            source,
            source_ref,
            org,
        ),
        analysis: Some((
            "Mail queues drained by hand the same day; a review of the incident was held two weeks late \
             and its findings recorded on the incident.",
            "Why late? The on-call engineer waited for the mail team lead. Why? The escalation list \
             named a person who had left. Why? Escalation lists are not reviewed when people leave. \
             Why no review? The major incident procedure did not say who schedules it.",
            RootCauseMethod::FiveWhys,
        )),
        actions: vec![
            Action {
                description: "Review the escalation lists as part of every leaver checklist",
                owner: 2,
                planned: -300,
                due: -280,
                done: Some((-282, "Leaver checklist updated; lists reviewed for all 9 services")),
            },
            Action {
                description: "Name the incident manager as the one who schedules the major incident review",
                owner: 3,
                planned: -300,
                due: -285,
                done: Some((-286, "Procedure v2.1 approved and briefed to the service desk")),
            },
        ],
    })
    .await?;
    check(store, org, &mail, true,
        "Two major incidents since: both escalated within 10 minutes and both reviewed within five working days.").await?;

    let complaint = tell(store, org, Story {
        draft: draft(
            "Monthly service reports sent late to a customer three months running",
            "Northwind Logistics complained in writing that the monthly service report arrived on \
             the 12th, 14th and 11th working day, while the SLA promises it by the 5th.",
            "8.3.3",
            Severity::Minor,
            Source::Complaint,
            None,
            org,
        ),
        analysis: Some((
            "Reports for the three months re-sent with an apology; the account manager called the customer.",
            "Fishbone: method (the report was assembled by hand from three exports), people (one \
             person knew how), tools (no scheduled report job). Main cause: a manual process with a \
             single point of knowledge.",
            RootCauseMethod::Fishbone,
        )),
        actions: vec![Action {
            description: "Document the report steps so that two people can produce it",
            owner: 4,
            planned: -210,
            due: -190,
            done: Some((-195, "Work instruction written; a second analyst trained")),
        }],
    })
    .await?;
    check(store, org, &complaint, false,
        "The next report was late again (8th working day): the second analyst was on leave. Documenting the steps did not remove the cause.").await?;
    let scheduled = store
        .add_corrective_action(
            org.tenant_id,
            complaint.id,
            &ActionDraft {
                description:
                    "Generate the monthly service report automatically on the 2nd working day"
                        .into(),
                owner_id: Some(org.users[4].id),
                due: day(-140)?,
            },
            day(-160)?,
            &org.actor(OWNER),
        )
        .await?;
    store
        .complete_corrective_action(
            org.tenant_id,
            complaint.id,
            scheduled.id,
            "Report job scheduled; reports now sent on the 2nd working day",
            day(-145)?,
            &org.actor(4),
        )
        .await?;
    check(store, org, &complaint, true,
        "Four reports in a row sent on the 2nd working day; the customer confirmed in the quarterly review.").await?;

    tell(store, org, Story {
        draft: draft(
            "Capacity plan not updated for the payroll service since last year",
            "The management review found that the capacity plan for payroll still forecasts last \
             year's volumes, although headcount at two customers grew by 40 %.",
            "8.4.3",
            Severity::Minor,
            Source::ManagementReview,
            None,
            org,
        ),
        analysis: Some((
            "Payroll servers checked: 55 % peak utilisation, no immediate risk.",
            "The capacity plan has no owner after the reorganisation; nobody was asked to update it.",
            RootCauseMethod::Other,
        )),
        actions: vec![Action {
            description: "Assign an owner to the capacity plan and update it with this year's forecasts",
            owner: 2,
            planned: -45,
            due: -12,
            done: None,
        }],
    })
    .await?;

    tell(store, org, Story {
        draft: draft(
            "Normal changes closed without a post-implementation review",
            "A sample of 12 normal changes closed last quarter found 3 without a post-implementation \
             review, which the change management policy requires.",
            "8.5.1.3",
            Severity::Minor,
            Source::Other,
            None,
            org,
        ),
        analysis: Some((
            "The three reviews were held retrospectively and recorded on the changes.",
            "Why missed? The change could be closed without one. Why? The closing step did not \
             check for it. Root cause: the tool allowed closure without the review.",
            RootCauseMethod::FiveWhys,
        )),
        actions: vec![Action {
            description: "Require a post-implementation review before a normal change can be closed",
            owner: 3,
            planned: -20,
            due: -5,
            done: Some((-6, "Closure now asks for the review; briefed at the CAB")),
        }],
    })
    .await?;

    let fresh = store
        .raise_nonconformity(
            org.tenant_id,
            &draft(
                "Backup supplier contract expired without review",
                "The contract with the offsite backup supplier expired last month; the supplier \
                 still delivers, but no review of its performance or renewal took place.",
                "8.3.4.1",
                Severity::Minor,
                Source::Other,
                None,
                org,
            ),
            &org.actor(OWNER),
        )
        .await?;
    let mut edit = fresh.edit();
    edit.containment =
        "Supplier confirmed in writing that service continues on the old terms until renewal."
            .into();
    store
        .update_nonconformity(
            org.tenant_id,
            fresh.id,
            fresh.updated_at,
            &edit,
            today_utc(),
            &org.actor(OWNER),
        )
        .await?;
    Ok(())
}
