//! The demo organisation's roles (5.3): nine roles with their duties and powers, held by its
//! people (the service desk manager's role handed over from Sam to Priya, so the history shows
//! a hand-over), and a RACI matrix in which every process of the SMS has its owner.

use super::Org;
use steward_domain::sms::role::{PROCESSES, RaciLetter, RoleDraft};
use steward_store::Store;
use steward_store::asset::today_utc;

/// Name, responsibilities, authorities, conformity lead, reports performance.
type DemoRole = (&'static str, &'static str, &'static str, bool, bool);

const ROLES: [DemoRole; 9] = [
    (
        "SMS manager",
        "Runs the service management system day to day: keeps the plan, the policies and the \
         registers current, prepares management reviews and internal audits, and follows up \
         nonconformities and improvements.",
        "May stop any process step that breaks the SMS's policies, require corrective action \
         from any process owner, and approve changes to SMS documents.",
        true,
        false,
    ),
    (
        "Service owner",
        "Answers for the services in the catalogue end to end: their requirements, their SLAs, \
         their performance and their improvement.",
        "Agrees service levels with customers and decides on service changes within budget.",
        false,
        false,
    ),
    (
        "Service desk manager",
        "Runs the service desk: incidents and requests are logged, prioritised and resolved \
         within their targets; the desk is staffed and trained.",
        "Assigns and escalates incidents and requests, declares major incidents and sets the \
         desk's rota.",
        false,
        false,
    ),
    (
        "Change manager",
        "Runs change and release management: every change is assessed, authorised, scheduled \
         and reviewed; the change calendar and blackouts are kept.",
        "Chairs the CAB, authorises normal changes of low and medium risk, and may stop any \
         deployment.",
        false,
        false,
    ),
    (
        "Problem manager",
        "Finds the root causes of recurring and major incidents, records known errors and \
         their workarounds, and drives their permanent fixes.",
        "Opens problems, assigns investigations and raises changes for permanent fixes.",
        false,
        false,
    ),
    (
        "Configuration manager",
        "Keeps the CMDB and the asset register accurate: CIs owned, verified and baselined, \
         licences within entitlement.",
        "Approves new CI classes and relationship types and orders verification audits.",
        false,
        false,
    ),
    (
        "Information security manager",
        "Keeps the information security policy and controls, assesses security risks and \
         handles information security incidents.",
        "Sets security controls, may isolate any system at risk and vetoes changes that weaken \
         controls.",
        false,
        false,
    ),
    (
        "Internal auditor",
        "Plans and carries out internal audits under the programme, independent of the work \
         audited, and reports findings.",
        "Has access to every record and person in the SMS's scope during an audit.",
        false,
        false,
    ),
    (
        "Top management representative",
        "Reports the performance of the SMS and the services to top management each quarter \
         and carries its decisions back.",
        "Commits resources within the agreed budget and signs off management review outputs.",
        false,
        true,
    ),
];

/// Role index, user index (in the order of `USERS`), days ago the holding began.
const HOLDERS: [(usize, usize, i64); 10] = [
    (0, 1, 700),
    (1, 1, 700),
    (1, 0, 300),
    (3, 4, 500),
    (4, 3, 420),
    (5, 4, 500),
    (6, 0, 650),
    (7, 5, 380),
    (8, 0, 700),
    (2, 2, 600),
];

/// Process id, accountable role, then the responsible, consulted and informed roles.
type DemoRow = (
    &'static str,
    usize,
    &'static [usize],
    &'static [usize],
    &'static [usize],
);

const RACI: [DemoRow; 26] = [
    ("6.1", 0, &[1], &[6], &[8]),
    ("7.5", 0, &[1], &[], &[7]),
    ("8.2", 1, &[0], &[8], &[2]),
    ("8.2.4", 1, &[2], &[], &[0]),
    ("8.2.5", 5, &[2], &[], &[0]),
    ("8.2.6", 5, &[3], &[4], &[0]),
    ("8.3.2", 1, &[0], &[], &[8]),
    ("8.3.3", 1, &[2], &[0], &[8]),
    ("8.3.4", 0, &[1], &[6], &[8]),
    ("8.4.1", 8, &[1], &[0], &[]),
    ("8.4.2", 1, &[5], &[], &[0]),
    ("8.4.3", 5, &[1], &[3], &[0]),
    ("8.5.1", 3, &[5], &[6], &[2]),
    ("8.5.2", 1, &[3], &[6], &[0]),
    ("8.5.3", 3, &[5], &[4], &[2]),
    ("8.6.1", 2, &[], &[4], &[1]),
    ("8.6.2", 2, &[], &[], &[1]),
    ("8.6.3", 4, &[2], &[5], &[0]),
    ("8.7.1", 1, &[5], &[4], &[0]),
    ("8.7.2", 0, &[5], &[6], &[8]),
    ("8.7.3", 6, &[5], &[0], &[8]),
    ("9.2", 7, &[], &[0], &[8]),
    ("9.3", 8, &[0], &[], &[1]),
    ("9.4", 8, &[0], &[1], &[]),
    ("10.1", 0, &[4], &[7], &[8]),
    ("10.2", 0, &[1], &[2], &[8]),
];

fn days_ago(days: i64) -> anyhow::Result<jiff::civil::Date> {
    Ok(today_utc().checked_sub(jiff::Span::new().days(days))?)
}

pub async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let (t, manager) = (org.tenant_id, org.actor(1));
    let mut ids = Vec::with_capacity(ROLES.len());
    for (name, duties, powers, conformity_lead, reports_performance) in ROLES {
        let draft = RoleDraft {
            name: name.into(),
            responsibilities: duties.into(),
            authorities: powers.into(),
            conformity_lead,
            reports_performance,
        }
        .validate()?;
        ids.push(store.create_sms_role(t, &draft, &manager).await?.id);
    }
    for (role, user, since) in HOLDERS {
        store
            .assign_role(
                t,
                ids[role],
                org.users[user].id,
                days_ago(since)?,
                "",
                &manager,
            )
            .await?;
    }
    // Sam moved to the infrastructure team; Priya took the desk over from him.
    let sam = store
        .role_assignments(t, ids[2])
        .await?
        .into_iter()
        .find(|a| a.user_id == org.users[2].id)
        .ok_or_else(|| anyhow::anyhow!("the desk's first holder"))?;
    store
        .end_role_assignment(t, sam.id, days_ago(60)?, &manager)
        .await?;
    store
        .assign_role(
            t,
            ids[2],
            org.users[3].id,
            days_ago(60)?,
            "Took the desk over from Sam Carter on his move to infrastructure.",
            &manager,
        )
        .await?;
    for (process, accountable, responsible, consulted, informed) in RACI {
        let mut row = vec![(ids[accountable], RaciLetter::Accountable)];
        for (roles, letter) in [
            (responsible, RaciLetter::Responsible),
            (consulted, RaciLetter::Consulted),
            (informed, RaciLetter::Informed),
        ] {
            row.extend(roles.iter().map(|&r| (ids[r], letter)));
        }
        store.set_raci_row(t, process, &row, &manager).await?;
    }
    debug_assert_eq!(RACI.len(), PROCESSES.len());
    Ok(())
}
