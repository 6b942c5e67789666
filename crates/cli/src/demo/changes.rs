//! The demo change schedule: a CAB with a quorum, a payroll freeze, a standard-change
//! template, and changes at every stage, from last month's reviewed ones to next week's, one
//! of which collides with another on the portal's web servers.

use super::Org;
use anyhow::anyhow;
use std::collections::{BTreeMap, HashMap};
use steward_domain::change::approval::{ApprovalPolicy, ApprovalRule, ApprovalStage, Verdict};
use steward_domain::change::policy::MajorChangeRule;
use steward_domain::change::schedule::BlackoutScope;
use steward_domain::change::{Blackout, ChangeDraft, ChangeStatus, ChangeType, RiskLevel, Window};
use steward_store::Store;
use steward_store::change::policy::default_policy;
use steward_store::change::{Change, ReviewInput, ReviewOutcome, TemplateDraft};

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

/// Indexes into the demo's users.
const MANAGER: usize = 1;
const SAM: usize = 2;
const PRIYA: usize = 3;
const OMAR: usize = 4;

/// How far a demo change has got, and who decided on it.
#[derive(Clone, Copy)]
enum Stage {
    Draft,
    Assessment,
    /// In authorisation with these approvals so far.
    Authorisation(&'static [usize]),
    Scheduled(&'static [usize]),
    Reviewed(&'static [usize], ReviewOutcome),
}

struct DemoChange {
    title: &'static str,
    change_type: ChangeType,
    reason: &'static str,
    cis: &'static [&'static str],
    /// Days from today, hour of day (UTC) it starts, hours it lasts.
    window: (i64, i64, i64),
    risk: Option<&'static str>,
    stage: Stage,
}

const CHANGES: [DemoChange; 8] = [
    DemoChange {
        title: "Patch mail gateway to 2025.3",
        change_type: ChangeType::Normal,
        reason: "Security fixes for the mail transfer agent; the delayed-mail problem traced to its queue handling.",
        cis: &["mail-gw-01", "Mail Platform"],
        window: (-21, 20, 2),
        risk: Some("low"),
        stage: Stage::Reviewed(&[MANAGER], ReviewOutcome::Successful),
    },
    DemoChange {
        title: "Upgrade portal database to PostgreSQL 16",
        change_type: ChangeType::Normal,
        reason: "PostgreSQL 15 leaves vendor support next year; 16 also speeds up the order history queries.",
        cis: &["portal-db"],
        window: (-12, 21, 3),
        risk: Some("high"),
        stage: Stage::Reviewed(&[MANAGER, PRIYA], ReviewOutcome::Failed),
    },
    DemoChange {
        title: "Replace failed power supply in core switch",
        change_type: ChangeType::Emergency,
        reason: "One of two power supplies failed; the switch runs without redundancy.",
        cis: &["core-sw-01"],
        window: (-5, 14, 1),
        risk: Some("high"),
        stage: Stage::Reviewed(&[MANAGER], ReviewOutcome::Successful),
    },
    DemoChange {
        title: "Replace access point in meeting room 4",
        change_type: ChangeType::Standard,
        reason: "The access point drops clients; replaced under the standard procedure.",
        cis: &["ap-meeting-4"],
        window: (3, 7, 1),
        risk: None,
        stage: Stage::Scheduled(&[]),
    },
    DemoChange {
        title: "Deploy Customer Portal 4.9",
        change_type: ChangeType::Normal,
        reason: "Release 4.9: saved baskets and the new order history page.",
        cis: &["Customer Portal Web", "portal-web-01", "portal-web-02"],
        window: (5, 20, 3),
        risk: Some("high"),
        stage: Stage::Authorisation(&[PRIYA]),
    },
    DemoChange {
        title: "Kernel update on portal web servers",
        change_type: ChangeType::Normal,
        reason: "Monthly kernel patching; needs a reboot of each web server.",
        cis: &["portal-web-01"],
        window: (5, 21, 2),
        risk: Some("low"),
        stage: Stage::Scheduled(&[MANAGER]),
    },
    DemoChange {
        title: "Payroll app update to 12.0",
        change_type: ChangeType::Normal,
        reason: "The new payroll engine with the collective agreement rules and next year's tax tables.",
        cis: &["Payroll App", "payroll-app-01"],
        window: (16, 19, 2),
        risk: Some("low"),
        stage: Stage::Assessment,
    },
    DemoChange {
        title: "Decommission the fax gateway",
        change_type: ChangeType::Normal,
        reason: "The fax service is retired; the server and its licence can go.",
        cis: &["fax-01"],
        window: (30, 10, 4),
        risk: None,
        stage: Stage::Draft,
    },
];

/// Answers the changes' ids by title, for the releases that group them.
pub(crate) async fn seed(
    store: &Store,
    org: &Org,
    cis: &HashMap<String, i64>,
) -> anyhow::Result<HashMap<&'static str, i64>> {
    let admin = org.actor(0);
    let t = org.tenant_id;
    store.save_change_policy(t, &policy(org), &admin).await?;
    let payroll_freeze = Blackout {
        id: 0,
        name: "Payroll run freeze".into(),
        window: Window {
            start: today() + 14 * DAY,
            end: today() + 18 * DAY,
        },
        scope: BlackoutScope::Only {
            service_ids: vec![org.services[1]],
            ci_ids: Vec::new(),
        },
    }
    .validate()
    .map_err(|e| anyhow!("demo blackout: {e:?}"))?;
    store.create_blackout(t, &payroll_freeze, &admin).await?;
    let template = TemplateDraft {
        name: "Replace a Wi-Fi access point".into(),
        description: "Swap a faulty access point for a spare of the same model.".into(),
        implementation_plan:
            "Adopt the spare in the controller, swap it, check clients roam to it.".into(),
        backout_plan: "Put the old access point back and re-adopt it.".into(),
        test_plan: "Walk the room with a laptop; check signal and roaming.".into(),
        active: true,
    }
    .validate()
    .map_err(|e| anyhow!("demo template: {e:?}"))?;
    let template = store.create_change_template(t, &template, &admin).await?;
    let mut ids = HashMap::new();
    for demo in &CHANGES {
        let draft = draft(demo, template.id, cis)?;
        let change = store
            .create_change(t, &draft, Some(org.users[OMAR].id), &org.actor(SAM))
            .await?;
        ids.insert(demo.title, change.id);
        advance(store, org, change, demo)
            .await
            .map_err(|e| anyhow!("demo change {}: {e}", demo.title))?;
    }
    Ok(ids)
}

/// The CAB (manager, Priya, Omar; two to approve) for high-risk normal changes, the manager
/// for the rest, and an ECAB of one for emergencies.
fn policy(org: &Org) -> steward_domain::change::ChangePolicy {
    let id = |i: usize| org.users[i].id;
    let mut policy = default_policy();
    policy.major = MajorChangeRule {
        from_risk: Some(RiskLevel::Critical),
        from_services: None,
        service_ids: Vec::new(),
    };
    policy.approvals = ApprovalPolicy {
        rules: vec![
            ApprovalRule {
                change_type: ChangeType::Normal,
                from_risk: RiskLevel::Low,
                stage: ApprovalStage::ChangeManager,
            },
            ApprovalRule {
                change_type: ChangeType::Normal,
                from_risk: RiskLevel::High,
                stage: ApprovalStage::Cab {
                    members: vec![id(MANAGER), id(PRIYA), id(OMAR)],
                    quorum: 2,
                },
            },
            ApprovalRule {
                change_type: ChangeType::Emergency,
                from_risk: RiskLevel::Low,
                stage: ApprovalStage::Ecab {
                    members: vec![id(MANAGER), id(OMAR)],
                    quorum: 1,
                },
            },
        ],
    };
    policy
}

fn today() -> i64 {
    let now = steward_store::now_micros();
    now - now.rem_euclid(DAY)
}

fn draft(
    demo: &DemoChange,
    template_id: i64,
    cis: &HashMap<String, i64>,
) -> anyhow::Result<ChangeDraft> {
    let (days, hour, hours) = demo.window;
    let start = today() + days * DAY + hour * HOUR;
    let ci_ids = demo
        .cis
        .iter()
        .map(|name| {
            cis.get(*name)
                .copied()
                .ok_or_else(|| anyhow!("no demo CI {name}"))
        })
        .collect::<anyhow::Result<Vec<i64>>>()?;
    ChangeDraft {
        title: demo.title.into(),
        change_type: demo.change_type,
        template_id: (demo.change_type == ChangeType::Standard).then_some(template_id),
        reason: demo.reason.into(),
        implementation_plan: "Follow the runbook linked in the team wiki, step by step.".into(),
        backout_plan: "Restore from the snapshot taken just before the window.".into(),
        test_plan: "Smoke tests from the service's checklist; watch the dashboards for an hour."
            .into(),
        window: Some(Window {
            start,
            end: start + hours * HOUR,
        }),
        ci_ids,
        service_ids: Vec::new(),
        incident_ids: Vec::new(),
        problem_ids: Vec::new(),
    }
    .validate()
    .map_err(|e| anyhow!("{e:?}"))
}

/// Answers to the built-in questionnaire that come out low or high.
fn answers(level: &str) -> BTreeMap<String, String> {
    let high = level == "high";
    [
        (
            "blast_radius",
            if high { "several_services" } else { "one_ci" },
        ),
        ("tested", if high { "no" } else { "yes" }),
        ("backout_tested", "yes"),
        ("customer_facing", "no"),
        ("out_of_hours", "yes"),
    ]
    .into_iter()
    .map(|(q, a)| (q.to_owned(), a.to_owned()))
    .collect()
}

/// Walks a change through its lifecycle up to the demo's stage, as the people would.
async fn advance(
    store: &Store,
    org: &Org,
    change: Change,
    demo: &DemoChange,
) -> anyhow::Result<()> {
    let t = org.tenant_id;
    let sam = org.actor(SAM);
    let to = |status: ChangeStatus| store.transition_change(t, change.id, status, &sam);
    if matches!(demo.stage, Stage::Draft) {
        return Ok(());
    }
    if demo.change_type == ChangeType::Standard {
        to(ChangeStatus::Scheduled).await?;
        return Ok(());
    }
    if demo.change_type == ChangeType::Normal {
        to(ChangeStatus::Assessment).await?;
    }
    if let Some(level) = demo.risk {
        store
            .assess_change_risk(t, change.id, &answers(level), &sam)
            .await?;
    }
    let approvers = match demo.stage {
        Stage::Draft | Stage::Assessment => return Ok(()),
        Stage::Authorisation(a) | Stage::Scheduled(a) | Stage::Reviewed(a, _) => a,
    };
    to(ChangeStatus::Authorisation).await?;
    for &who in approvers {
        store
            .decide_change(
                t,
                change.id,
                Verdict::Approve,
                approval_comment(who),
                None,
                &org.actor(who),
            )
            .await?;
    }
    if let Stage::Authorisation(_) = demo.stage {
        return Ok(());
    }
    to(ChangeStatus::Scheduled).await?;
    let Stage::Reviewed(_, outcome) = demo.stage else {
        return Ok(());
    };
    to(ChangeStatus::Implementing).await?;
    to(ChangeStatus::Review).await?;
    let backed_out = outcome == ReviewOutcome::Failed;
    let notes = if backed_out {
        "The upgrade's extension check failed on the production copy; backed out within the window. Retry after the extension is rebuilt."
    } else {
        "Done inside the window; no incidents raised afterwards."
    };
    let review = ReviewInput {
        outcome,
        backed_out,
        notes: notes.into(),
    };
    store
        .review_change(t, change.id, &review, &org.actor(MANAGER))
        .await?;
    let end = if backed_out {
        ChangeStatus::Failed
    } else {
        ChangeStatus::Closed
    };
    store
        .transition_change(t, change.id, end, &org.actor(MANAGER))
        .await?;
    Ok(())
}

fn approval_comment(who: usize) -> &'static str {
    match who {
        MANAGER => "Plans and back-out are sound.",
        _ => "Tested in staging; fine by me.",
    }
}
