//! The demo organisation's competence (7.2): each role's requirements, a year of records for
//! the people holding them (Omar's ITIL certificate about to expire), Priya's gap as the new
//! service desk manager with her training booked, and Ann's lead auditor course, completed,
//! evaluated as effective and on file.

use super::Org;
use anyhow::anyhow;
use std::collections::HashMap;
use steward_domain::sms::competence::{
    ActionDraft, ActionKind, Basis, RecordDraft, RequirementDraft,
};
use steward_store::Store;
use steward_store::asset::today_utc;

/// Role (by name, as the roles demo names them), requirement, what it means.
const REQUIREMENTS: [(&str, &str, &str); 11] = [
    (
        "SMS manager",
        "ISO/IEC 20000-1 implementation",
        "Can plan, run and improve an SMS against every clause of the standard.",
    ),
    (
        "Service owner",
        "Service level management",
        "Can agree, monitor and report service levels with customers.",
    ),
    (
        "Service desk manager",
        "ITIL 4 Foundation",
        "Certified in the ITIL 4 vocabulary and practices the desk works by.",
    ),
    (
        "Service desk manager",
        "Incident and major incident handling",
        "Has handled incidents on the desk, including at least one major incident.",
    ),
    (
        "Change manager",
        "Change advisory experience",
        "Has sat on a change advisory board and assessed change risk.",
    ),
    (
        "Change manager",
        "ITIL 4 Foundation",
        "Certified in the ITIL 4 vocabulary and practices.",
    ),
    (
        "Problem manager",
        "Root cause analysis",
        "Trained in a structured root cause method (Kepner-Tregoe, 5 whys, fishbone).",
    ),
    (
        "Configuration manager",
        "CMDB and asset management practice",
        "Can model CIs and relationships and run verification audits.",
    ),
    (
        "Information security manager",
        "ISO/IEC 27001 Foundation",
        "Knows the information security management requirements and Annex A controls.",
    ),
    (
        "Internal auditor",
        "ISO/IEC 20000-1 lead auditor",
        "Qualified to plan and lead audits against ISO/IEC 20000-1 (ISO 19011 methods).",
    ),
    (
        "Top management representative",
        "Management review and reporting",
        "Has chaired management reviews and reported service performance to the board.",
    ),
];

/// User index, requirement index, basis, title, provider, achieved days ago, expires in days,
/// evidence.
type DemoRecord = (
    usize,
    usize,
    Basis,
    &'static str,
    &'static str,
    i64,
    Option<i64>,
    &'static str,
);

const RECORDS: [DemoRecord; 11] = [
    (
        1,
        0,
        Basis::Qualification,
        "ISO/IEC 20000 Practitioner",
        "APMG International",
        330,
        Some(760),
        "Certificate APMG-20K-55812 on the HR file; checked by Alex Admin.",
    ),
    (
        1,
        1,
        Basis::Experience,
        "Eight years as service owner for mail and payroll",
        "Meridian and previous employer",
        700,
        None,
        "CV and references on the HR file; checked by Alex Admin.",
    ),
    (
        0,
        1,
        Basis::Training,
        "Service level management workshop",
        "ITSM Academy",
        200,
        None,
        "Attendance certificate scanned to the HR file; checked by Maria Lopez.",
    ),
    (
        4,
        4,
        Basis::Experience,
        "Two years chairing the weekly CAB",
        "Meridian",
        500,
        None,
        "CAB minutes since 2024 in the change records; confirmed by Maria Lopez.",
    ),
    (
        4,
        5,
        Basis::Qualification,
        "ITIL 4 Foundation",
        "PeopleCert",
        1_080,
        Some(18),
        "Certificate GR671234 (three-year validity); checked by Maria Lopez.",
    ),
    (
        4,
        7,
        Basis::Training,
        "CMDB design and verification course",
        "Pink Elephant",
        250,
        None,
        "Course record and exam result on the HR file; checked by Maria Lopez.",
    ),
    (
        3,
        6,
        Basis::Training,
        "Kepner-Tregoe problem analysis",
        "Kepner-Tregoe",
        150,
        None,
        "Attendance certificate on the HR file; checked by Maria Lopez.",
    ),
    (
        3,
        3,
        Basis::Experience,
        "Eighteen months as service desk analyst, two major incidents",
        "Meridian",
        400,
        None,
        "Incident records INC-12 and INC-31 as coordinator; confirmed by Sam Carter.",
    ),
    (
        0,
        8,
        Basis::Qualification,
        "ISO/IEC 27001 Foundation",
        "BSI",
        360,
        Some(730),
        "Certificate 27K-F-90817 on the HR file; checked by Maria Lopez.",
    ),
    (
        0,
        10,
        Basis::Experience,
        "Chaired the quarterly service reviews since 2023",
        "Meridian",
        700,
        None,
        "Management review minutes; confirmed by the managing director.",
    ),
    (
        5,
        9,
        Basis::Qualification,
        "ISO/IEC 20000-1 Lead Auditor",
        "BSI",
        95,
        Some(1_000),
        "Certificate LA-20K-44120 on the HR file; checked by Maria Lopez.",
    ),
];

fn shifted(days: i64) -> anyhow::Result<jiff::civil::Date> {
    Ok(today_utc().checked_add(jiff::Span::new().days(days))?)
}

pub async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    let (t, manager) = (org.tenant_id, org.actor(1));
    let roles: HashMap<String, i64> = store
        .competence_roles(t)
        .await?
        .into_iter()
        .map(|r| (r.name, r.id))
        .collect();
    let mut requirements = Vec::with_capacity(REQUIREMENTS.len());
    for (role, name, description) in REQUIREMENTS {
        let role_id = *roles
            .get(role)
            .ok_or_else(|| anyhow!("the roles demo has no role `{role}`"))?;
        let draft = RequirementDraft {
            role_id,
            name: name.into(),
            description: description.into(),
        }
        .validate()?;
        requirements.push(
            store
                .create_competence_requirement(t, &draft, &manager)
                .await?
                .id,
        );
    }
    for (user, requirement, basis, title, provider, ago, lasts, evidence) in RECORDS {
        let draft = RecordDraft {
            user_id: org.users[user].id,
            requirement_id: requirements[requirement],
            basis,
            title: title.into(),
            provider: provider.into(),
            achieved_on: shifted(-ago)?,
            expires_on: lasts.map(shifted).transpose()?,
            evidence: evidence.into(),
        }
        .validate(today_utc())?;
        store.create_competence_record(t, &draft, &manager).await?;
    }
    // Priya took the desk over without the certificate: her course is booked.
    let booked = ActionDraft {
        user_id: org.users[3].id,
        requirement_id: requirements[2],
        kind: ActionKind::Training,
        description: "ITIL 4 Foundation: three-day course and exam with PeopleCert.".into(),
        owner_id: Some(org.users[1].id),
        due_date: shifted(25)?,
    }
    .validate(today_utc())?;
    store.create_competence_action(t, &booked, &manager).await?;
    // Ann's lead auditor course, raised when she joined the audit team, done and judged.
    let raised_on = shifted(-160)?;
    let course = ActionDraft {
        user_id: org.users[5].id,
        requirement_id: requirements[9],
        kind: ActionKind::Training,
        description: "ISO/IEC 20000-1 lead auditor course (five days) with BSI.".into(),
        owner_id: Some(org.users[1].id),
        due_date: shifted(-90)?,
    }
    .validate(raised_on)?;
    let course = store.create_competence_action(t, &course, &manager).await?;
    store
        .complete_competence_action(t, course.id, shifted(-96)?, today_utc(), &manager)
        .await?;
    store
        .evaluate_competence_action(
            t,
            course.id,
            true,
            "Passed the exam first time; led the 8.5 audit with the external auditor observing, \
             who found her audit trail complete.",
            &manager,
        )
        .await?;
    Ok(())
}
