//! The demo organisation's management-system registers: its risks and opportunities (one of
//! them reviewed and one closed), its objectives (three measured from Steward's own records,
//! customer satisfaction measured by hand for the last six months), and an improvement register
//! with opportunities in every state, one closed with the benefit it brought.

use super::Org;
use steward_domain::sms::improvement::{
    ImprovementDraft, ImprovementSource, ImprovementStep, Priority,
};
use steward_domain::sms::objective::{Direction, Kpi, ObjectiveDraft, ObjectiveStatus};
use steward_domain::sms::risk::{Rating, RiskDraft, RiskKind, Treatment};
use steward_store::Store;
use steward_store::asset::today_utc;
use steward_store::sms::objective::last_months;

/// Kind, title, area, (likelihood, impact), treatment, plan, residual, owner index, review in days.
type DemoRisk = (
    RiskKind,
    &'static str,
    &'static str,
    (u8, u8),
    Treatment,
    &'static str,
    Option<(u8, u8)>,
    usize,
    i64,
);

const RISKS: [DemoRisk; 6] = [
    (
        RiskKind::Risk,
        "Both hosting halls share one power feed",
        "Service continuity",
        (2, 5),
        Treatment::Mitigate,
        "Second feed from the other substation contracted; switch-over tested twice a year.",
        Some((1, 5)),
        4,
        75,
    ),
    (
        RiskKind::Risk,
        "Payroll depends on one supplier's file format",
        "Suppliers",
        (3, 4),
        Treatment::Transfer,
        "Supplier contract now carries a format-change notice period of 90 days and a penalty.",
        Some((2, 3)),
        1,
        40,
    ),
    (
        RiskKind::Risk,
        "Ransomware reaches the file servers",
        "Information security",
        (3, 5),
        Treatment::Mitigate,
        "Immutable backups, EDR on every server, quarterly restore drills.",
        Some((2, 4)),
        4,
        20,
    ),
    (
        RiskKind::Risk,
        "Service desk loses two senior agents in one quarter",
        "People and competence",
        (2, 3),
        Treatment::Accept,
        "",
        None,
        1,
        120,
    ),
    (
        RiskKind::Opportunity,
        "Move test environments to the cloud at night rates",
        "Cost and capacity",
        (4, 3),
        Treatment::Exploit,
        "Pilot with the customer portal's test stage; measure cost for three months.",
        None,
        1,
        60,
    ),
    (
        RiskKind::Opportunity,
        "Self-service password reset through the portal",
        "Service desk",
        (4, 4),
        Treatment::Enhance,
        "Raised in the improvement register; decided by the management review.",
        None,
        2,
        90,
    ),
];

async fn seed_risks(store: &Store, org: &Org) -> anyhow::Result<()> {
    let manager = org.actor(1);
    let today = today_utc();
    let mut ids = Vec::new();
    for (kind, title, area, (likelihood, impact), treatment, plan, residual, owner, review) in RISKS
    {
        let draft = RiskDraft {
            kind,
            title: title.into(),
            description: String::new(),
            area: area.into(),
            inherent: Rating { likelihood, impact },
            treatment,
            treatment_plan: plan.into(),
            residual: residual.map(|(likelihood, impact)| Rating { likelihood, impact }),
            owner_id: Some(org.users[owner].id),
            review_date: today.checked_add(jiff::Span::new().days(review))?,
        }
        .validate(today)?;
        ids.push(store.create_risk(org.tenant_id, &draft, &manager).await?.id);
    }
    store
        .review_risk(
            org.tenant_id,
            ids[2],
            today.checked_add(jiff::Span::new().days(90))?,
            "Restore drill in October recovered the payroll share in 42 minutes; rating unchanged.",
            today,
            &manager,
        )
        .await?;
    let closed = RiskDraft {
        kind: RiskKind::Risk,
        title: "Windows Server 2012 hosts out of support".into(),
        description: "Three hosts of the customer portal ran an unsupported operating system."
            .into(),
        area: "Information security".into(),
        inherent: Rating {
            likelihood: 4,
            impact: 3,
        },
        treatment: Treatment::Avoid,
        treatment_plan: "Migrate the three hosts in the summer change window.".into(),
        residual: None,
        owner_id: Some(org.users[4].id),
        review_date: today.checked_add(jiff::Span::new().days(30))?,
    }
    .validate(today)?;
    let closed = store.create_risk(org.tenant_id, &closed, &manager).await?;
    store
        .close_risk(
            org.tenant_id,
            closed.id,
            "All three hosts migrated to Windows Server 2022 (change CHG-12); nothing left to treat.",
            &manager,
        )
        .await?;
    Ok(())
}

/// Title, why, KPI, direction, target, unit.
const OBJECTIVES: [(&str, &str, Kpi, Direction, f64, &str); 4] = [
    (
        "Meet 95% of SLA targets",
        "Customers judge us by the targets we agreed; the contract review asks for 95%.",
        Kpi::SlaAttainment,
        Direction::AtLeast,
        95.0,
        "",
    ),
    (
        "Nine in ten changes succeed",
        "Failed changes cause a third of our major incidents.",
        Kpi::ChangeSuccess,
        Direction::AtLeast,
        90.0,
        "",
    ),
    (
        "No more than one major incident a month",
        "Major incidents cost the most goodwill and the most money.",
        Kpi::MajorIncidents,
        Direction::AtMost,
        1.0,
        "",
    ),
    (
        "Customer satisfaction of 4.2 or better",
        "Measured by the quarterly customer survey and the monthly ticket survey (1 to 5).",
        Kpi::Manual,
        Direction::AtLeast,
        4.2,
        "points",
    ),
];

/// The satisfaction survey's last six months, oldest first.
const SATISFACTION: [f64; 6] = [3.9, 4.0, 4.1, 4.0, 4.3, 4.4];

async fn seed_objectives(store: &Store, org: &Org) -> anyhow::Result<()> {
    let manager = org.actor(1);
    let due = today_utc().checked_add(jiff::Span::new().days(300))?;
    let mut manual = None;
    for (title, why, kpi, direction, target, unit) in OBJECTIVES {
        let draft = ObjectiveDraft {
            title: title.into(),
            description: why.into(),
            kpi,
            direction,
            target,
            unit: unit.into(),
            owner_id: Some(org.users[1].id),
            due_date: Some(due),
            status: ObjectiveStatus::Active,
        }
        .validate()?;
        let objective = store
            .create_objective(org.tenant_id, &draft, &manager)
            .await?;
        if kpi == Kpi::Manual {
            manual = Some(objective.id);
        }
    }
    if let Some(id) = manual {
        let (_, this_month) = last_months(today_utc(), 1);
        for (i, value) in SATISFACTION.iter().enumerate() {
            let month = this_month.plus(i as i32 - SATISFACTION.len() as i32);
            store
                .record_measurement(
                    org.tenant_id,
                    id,
                    month,
                    *value,
                    "Monthly ticket survey",
                    &manager,
                )
                .await?;
        }
    }
    Ok(())
}

/// Title, description, source, criteria, benefit, priority, and the steps with their notes.
type DemoImprovement = (
    &'static str,
    &'static str,
    ImprovementSource,
    &'static str,
    &'static str,
    Priority,
    &'static [(ImprovementStep, &'static str)],
);

const IMPROVEMENTS: [DemoImprovement; 5] = [
    (
        "Self-service password reset",
        "Password resets are 31% of the desk's calls and the slowest to reach a person for.",
        ImprovementSource::Measurement,
        "Under ten days' work; no new licence; meets the security policy's MFA rule.",
        "A quarter fewer calls; resets in minutes instead of hours.",
        Priority::High,
        &[
            (
                ImprovementStep::Approve,
                "Cheap, wanted by customers and within policy.",
            ),
            (ImprovementStep::Start, "Sprint 41"),
            (
                ImprovementStep::Implement,
                "Live for all customers since the 3rd.",
            ),
            (
                ImprovementStep::Close,
                "Password calls fell from 412 to 260 a month (−37%); median reset time 4 minutes.",
            ),
        ],
    ),
    (
        "Major-incident bridge opens automatically",
        "The last major incident review found twelve minutes lost gathering people.",
        ImprovementSource::ManagementReview,
        "Fits the major-incident procedure; uses the existing phone system.",
        "Bridge open within two minutes of declaration.",
        Priority::Medium,
        &[
            (
                ImprovementStep::Approve,
                "Decided at the management review.",
            ),
            (ImprovementStep::Start, ""),
        ],
    ),
    (
        "Chat channel for the service desk",
        "Customers asked for chat in the spring survey.",
        ImprovementSource::Customer,
        "Staffing for a third channel; tool cost.",
        "Faster answers to short questions.",
        Priority::Low,
        &[(
            ImprovementStep::Defer,
            "Revisit after the service desk hires in Q2; not enough staff for a third channel now.",
        )],
    ),
    (
        "Weekly change advisory board instead of twice weekly",
        "Staff suggestion: most Tuesday boards have no normal changes to decide.",
        ImprovementSource::Staff,
        "No longer lead time for urgent changes; emergency board unchanged.",
        "Two hours a week back for five people.",
        Priority::Low,
        &[(
            ImprovementStep::Reject,
            "The change success objective is off target; fewer boards would slow feedback now.",
        )],
    ),
    (
        "Supplier scorecards in the quarterly review",
        "Internal audit opportunity for improvement: supplier reviews lack figures.",
        ImprovementSource::Audit,
        "Data exists in the SLA reports; a template is enough.",
        "Supplier reviews argue from numbers.",
        Priority::Medium,
        &[],
    ),
];

async fn seed_improvements(store: &Store, org: &Org) -> anyhow::Result<()> {
    let manager = org.actor(1);
    let target = today_utc().checked_add(jiff::Span::new().days(120))?;
    for (title, description, source, criteria, benefit, priority, steps) in IMPROVEMENTS {
        let draft = ImprovementDraft {
            title: title.into(),
            description: description.into(),
            source,
            source_ref: None,
            evaluation_criteria: criteria.into(),
            expected_benefit: benefit.into(),
            priority,
            owner_id: Some(org.users[1].id),
            target_date: Some(target),
        }
        .validate()?;
        let improvement = store
            .create_improvement(org.tenant_id, &draft, &manager)
            .await?;
        for (step, note) in steps {
            store
                .step_improvement(org.tenant_id, improvement.id, *step, note, &manager)
                .await?;
        }
    }
    Ok(())
}

/// Seeds the three registers as the quality manager.
pub async fn seed(store: &Store, org: &Org) -> anyhow::Result<()> {
    seed_risks(store, org).await?;
    seed_objectives(store, org).await?;
    seed_improvements(store, org).await
}
