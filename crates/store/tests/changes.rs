//! Change management on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL: the
//! lifecycle per type, risk, CAB quorum with delegation, rejections, blackouts, collisions
//! through the CMDB, the post-implementation review, metrics, and the journal.

use std::collections::BTreeMap;
use steward_domain::access::Role;
use steward_domain::change::approval::ApprovalRule;
use steward_domain::change::schedule::BlackoutScope;
use steward_domain::change::{
    ApprovalPolicy, ApprovalStage, ApprovalState, Blackout, ChangeDraft, ChangeStatus, ChangeType,
    Conflict, Delegation, RiskLevel, Verdict, Window,
};
use steward_domain::cmdb::{CiClassDraft, CiDraft, CiStatus};
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::change::policy::default_policy;
use steward_store::change::{Change, ReviewInput, ReviewOutcome, TemplateDraft};
use steward_store::journal::JournalFilter;
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends, now_micros};

const HOUR: i64 = 3_600_000_000;

/// Noon on some day well in the future, so windows never start in the past.
fn at(hours: i64) -> i64 {
    2_000_000_000_000_000 + hours * HOUR
}

fn window(from: i64, to: i64) -> Option<Window> {
    Some(Window {
        start: at(from),
        end: at(to),
    })
}

/// A tenant with users of every role plus three CAB members and a delegate.
struct Org {
    t: i64,
    admin: Actor,
    requester: Actor,
    cab: Vec<Actor>,
    delegate: Actor,
}

async fn org(store: &Store) -> Org {
    let t = store
        .create_tenant(&new_tenant("Acme").expect("name"), &Actor::cli())
        .await
        .expect("tenant")
        .id;
    let mut people = Vec::new();
    for (email, role) in [
        ("admin@acme.test", Role::Admin),
        ("agent@acme.test", Role::Agent),
        ("cab1@acme.test", Role::Agent),
        ("cab2@acme.test", Role::Agent),
        ("cab3@acme.test", Role::Agent),
        ("delegate@acme.test", Role::Agent),
    ] {
        let draft = UserDraft {
            email: email.into(),
            name: email.into(),
            role,
            active: true,
        };
        let user = store
            .create_user(t, &draft, None, &Actor::cli())
            .await
            .expect("user");
        people.push(Actor::user(user.id, email));
    }
    let mut people = people.into_iter();
    let mut next = || people.next().expect("person");
    Org {
        t,
        admin: next(),
        requester: next(),
        cab: vec![next(), next(), next()],
        delegate: next(),
    }
}

fn id(actor: &Actor) -> i64 {
    actor.user_id.expect("a user")
}

/// The default policy, with high-risk normal changes for a CAB of the three (quorum 2) and
/// emergencies for an ECAB of the first two (quorum 1).
async fn cab_policy(store: &Store, o: &Org) {
    let mut policy = default_policy();
    let members: Vec<i64> = o.cab.iter().map(id).collect();
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
                    members: members.clone(),
                    quorum: 2,
                },
            },
            ApprovalRule {
                change_type: ChangeType::Emergency,
                from_risk: RiskLevel::Low,
                stage: ApprovalStage::Ecab {
                    members: members[..2].to_vec(),
                    quorum: 1,
                },
            },
        ],
    };
    store
        .save_change_policy(o.t, &policy, &o.admin)
        .await
        .expect("policy");
}

fn draft(change_type: ChangeType, title: &str, w: Option<Window>, ci_ids: Vec<i64>) -> ChangeDraft {
    ChangeDraft {
        title: title.into(),
        change_type,
        // Standard changes name their template; callers put the real one in.
        template_id: (change_type == ChangeType::Standard).then_some(0),
        reason: "Because".into(),
        implementation_plan: "Do it".into(),
        backout_plan: "Undo it".into(),
        test_plan: String::new(),
        window: w,
        ci_ids,
        service_ids: Vec::new(),
        incident_ids: Vec::new(),
        problem_ids: Vec::new(),
    }
    .validate()
    .expect("valid draft")
}

fn answers(level: &str) -> BTreeMap<String, String> {
    let pick = |low: &'static str, high: &'static str| if level == "high" { high } else { low };
    [
        ("blast_radius", pick("one_ci", "several_services")),
        ("tested", pick("yes", "no")),
        ("backout_tested", "yes"),
        ("customer_facing", "no"),
        ("out_of_hours", "yes"),
    ]
    .into_iter()
    .map(|(q, a)| (q.to_owned(), a.to_owned()))
    .collect()
}

async fn create(store: &Store, o: &Org, d: &ChangeDraft) -> Change {
    store
        .create_change(o.t, d, None, &o.requester)
        .await
        .expect("change")
}

async fn move_to(store: &Store, o: &Org, c: &Change, to: ChangeStatus) -> Change {
    store
        .transition_change(o.t, c.id, to, &o.requester)
        .await
        .unwrap_or_else(|e| panic!("{} -> {to}: {e}", c.key()))
}

async fn refused(store: &Store, o: &Org, c: &Change, to: ChangeStatus) -> String {
    match store.transition_change(o.t, c.id, to, &o.requester).await {
        Err(StoreError::Conflict(message)) => message,
        other => panic!("{} -> {to}: expected a refusal, got {other:?}", c.key()),
    }
}

async fn journal_len(store: &Store, t: i64) -> usize {
    let page = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    store
        .journal_entries(t, &JournalFilter::default(), &page)
        .await
        .expect("journal")
        .items
        .len()
}

async fn verified(store: &Store) {
    let v = store.verify_journal().await.expect("verify");
    assert!(v.is_ok(), "journal broken: {v:?}");
}

/// A normal change raised by the requester, assessed high risk, waiting for the CAB.
async fn in_authorisation(store: &Store, o: &Org, level: &str, w: Option<Window>) -> Change {
    let c = create(
        store,
        o,
        &draft(ChangeType::Normal, "Patch payroll", w, vec![]),
    )
    .await;
    let c = move_to(store, o, &c, ChangeStatus::Assessment).await;
    store
        .assess_change_risk(o.t, c.id, &answers(level), &o.requester)
        .await
        .expect("risk");
    move_to(store, o, &c, ChangeStatus::Authorisation).await
}

both_backends!(
    standard_changes_skip_approval_and_review,
    |store: Store| async move {
        let o = org(&store).await;
        let template = TemplateDraft {
            name: "Restart a web node".into(),
            description: String::new(),
            implementation_plan: "Drain, restart, undrain".into(),
            backout_plan: "Nothing to back out".into(),
            test_plan: String::new(),
            active: true,
        }
        .validate()
        .expect("valid template");
        let template = store
            .create_change_template(o.t, &template, &o.admin)
            .await
            .expect("template");
        let mut d = draft(ChangeType::Standard, "Restart web01", window(1, 2), vec![]);
        d.template_id = Some(template.id);
        d.implementation_plan.clear();
        let c = create(&store, &o, &d).await;
        assert_eq!(c.key(), "CHG-1");
        assert_eq!(c.status, ChangeStatus::Draft);
        assert_eq!(c.implementation_plan, "Drain, restart, undrain");
        let refusal = refused(&store, &o, &c, ChangeStatus::Assessment).await;
        assert!(
            refusal.starts_with("A standard change cannot go"),
            "{refusal}"
        );
        for to in [
            ChangeStatus::Scheduled,
            ChangeStatus::Implementing,
            ChangeStatus::Closed,
        ] {
            move_to(&store, &o, &c, to).await;
        }
        let closed = store.change(o.t, c.id).await.expect("read");
        assert_eq!(closed.status, ChangeStatus::Closed);
        assert!(closed.ended_at.is_some());
        let by_number = store.change_by_number(o.t, 1).await.expect("by number");
        assert_eq!(by_number, closed);
        verified(&store).await;
    }
);

both_backends!(
    cab_quorum_with_a_delegate_then_review_before_closing,
    |store: Store| async move {
        let o = org(&store).await;
        cab_policy(&store, &o).await;
        let c = create(
            &store,
            &o,
            &draft(
                ChangeType::Normal,
                "Upgrade the database",
                window(1, 3),
                vec![],
            ),
        )
        .await;
        let refusal = refused(&store, &o, &c, ChangeStatus::Authorisation).await;
        assert!(refusal.contains("cannot go"), "{refusal}");
        let c = move_to(&store, &o, &c, ChangeStatus::Assessment).await;
        let refusal = refused(&store, &o, &c, ChangeStatus::Authorisation).await;
        assert!(refusal.contains("risk questionnaire"), "{refusal}");
        let (c, assessment) = store
            .assess_change_risk(o.t, c.id, &answers("high"), &o.requester)
            .await
            .expect("risk");
        assert_eq!(assessment.level, RiskLevel::High);
        assert_eq!(c.risk.as_ref().map(|r| r.level), Some(RiskLevel::High));
        let c = move_to(&store, &o, &c, ChangeStatus::Authorisation).await;
        let approvals = store.change_approvals(o.t, c.id).await.expect("approvals");
        assert!(matches!(
            approvals.stage,
            ApprovalStage::Cab { quorum: 2, .. }
        ));

        // The requester never decides; nor does anyone off the board.
        for who in [&o.requester, &o.delegate] {
            let err = store
                .decide_change(o.t, c.id, Verdict::Approve, "", None, who)
                .await
                .expect_err("not an approver");
            assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        }
        let refusal = refused(&store, &o, &c, ChangeStatus::Scheduled).await;
        assert!(refusal.contains("not authorised yet"), "{refusal}");

        let first = store
            .decide_change(o.t, c.id, Verdict::Approve, "Fine", None, &o.cab[0])
            .await
            .expect("first approval");
        assert!(matches!(
            first.state,
            ApprovalState::Pending {
                approved: 1,
                needed: 2,
                ..
            }
        ));
        let again = store
            .decide_change(
                o.t,
                c.id,
                Verdict::Reject,
                "Changed my mind",
                None,
                &o.cab[0],
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

        // The second member is away and delegated their seat.
        let err = store
            .decide_change(
                o.t,
                c.id,
                Verdict::Approve,
                "",
                Some(id(&o.cab[1])),
                &o.delegate,
            )
            .await
            .expect_err("no delegation yet");
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let delegation = store
            .create_delegation(
                o.t,
                &Delegation {
                    from: id(&o.cab[1]),
                    to: id(&o.delegate),
                    from_time: now_micros() - HOUR,
                    until: now_micros() + HOUR,
                },
                &o.cab[1],
            )
            .await
            .expect("delegation");
        let done = store
            .decide_change(
                o.t,
                c.id,
                Verdict::Approve,
                "For cab2",
                Some(id(&o.cab[1])),
                &o.delegate,
            )
            .await
            .expect("delegate approves");
        assert_eq!(done.state, ApprovalState::Approved);
        assert_eq!(done.decisions[1].on_behalf_of, Some(id(&o.cab[1])));
        let mine = store
            .delegations_of(o.t, id(&o.delegate))
            .await
            .expect("delegations");
        assert_eq!(mine.len(), 1);
        store
            .end_delegation(o.t, delegation.id, &o.cab[1])
            .await
            .expect("ended");
        // Ending the delegation keeps the decision made under it.
        let still = store.change_approvals(o.t, c.id).await.expect("approvals");
        assert_eq!(still.state, ApprovalState::Approved);

        // Approval does not schedule by itself.
        assert_eq!(
            store.change(o.t, c.id).await.expect("read").status,
            ChangeStatus::Authorisation
        );
        let c = move_to(&store, &o, &c, ChangeStatus::Scheduled).await;
        let c = move_to(&store, &o, &c, ChangeStatus::Implementing).await;
        let c = move_to(&store, &o, &c, ChangeStatus::Review).await;

        // A refused transition changes nothing.
        let before = journal_len(&store, o.t).await;
        let refusal = refused(&store, &o, &c, ChangeStatus::Closed).await;
        assert!(refusal.contains("post-implementation review"), "{refusal}");
        assert_eq!(journal_len(&store, o.t).await, before);
        assert_eq!(store.change(o.t, c.id).await.expect("read"), c);

        let reviewed = store
            .review_change(
                o.t,
                c.id,
                &ReviewInput {
                    outcome: ReviewOutcome::Successful,
                    backed_out: false,
                    notes: "Went well".into(),
                },
                &o.admin,
            )
            .await
            .expect("review");
        assert_eq!(
            reviewed.review.as_ref().map(|r| r.reviewed_by),
            Some(Some(id(&o.admin)))
        );
        let closed = move_to(&store, &o, &c, ChangeStatus::Closed).await;
        assert_eq!(closed.status, ChangeStatus::Closed);

        let period = Window {
            start: 0,
            end: i64::MAX,
        };
        let m = store.change_metrics(o.t, &period).await.expect("metrics");
        assert_eq!((m.implemented, m.successful, m.emergency), (1, 1, 0));
        assert_eq!(m.success_rate, Some(1.0));
        verified(&store).await;
    }
);

both_backends!(
    a_rejection_rejects_and_needs_a_reason,
    |store: Store| async move {
        let o = org(&store).await;
        // Low risk: the change manager (any admin or manager) decides.
        let c = in_authorisation(&store, &o, "low", window(1, 2)).await;
        let approvals = store.change_approvals(o.t, c.id).await.expect("approvals");
        assert_eq!(approvals.stage, ApprovalStage::ChangeManager);
        let err = store
            .decide_change(o.t, c.id, Verdict::Reject, "  ", None, &o.admin)
            .await
            .expect_err("no reason");
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        let refusal = refused(&store, &o, &c, ChangeStatus::Rejected).await;
        assert!(
            refusal.contains("Only an approver's rejection"),
            "{refusal}"
        );
        let state = store
            .decide_change(o.t, c.id, Verdict::Reject, "Not now", None, &o.admin)
            .await
            .expect("rejected");
        assert!(matches!(state.state, ApprovalState::Rejected { .. }));
        let after = store.change(o.t, c.id).await.expect("read");
        assert_eq!(after.status, ChangeStatus::Rejected);
        assert!(after.ended_at.is_some());
        let late = store
            .decide_change(o.t, c.id, Verdict::Approve, "", None, &o.admin)
            .await;
        assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
        verified(&store).await;
    }
);

both_backends!(
    blackouts_block_normal_changes_but_not_emergencies,
    |store: Store| async move {
        let o = org(&store).await;
        cab_policy(&store, &o).await;
        let freeze = Blackout {
            id: 0,
            name: "Year-end freeze".into(),
            window: Window {
                start: at(0),
                end: at(24),
            },
            scope: BlackoutScope::All,
        };
        let freeze = store
            .create_blackout(o.t, &freeze, &o.admin)
            .await
            .expect("blackout");
        let normal = in_authorisation(&store, &o, "low", window(2, 3)).await;
        store
            .decide_change(o.t, normal.id, Verdict::Approve, "", None, &o.admin)
            .await
            .expect("approved");
        let refusal = refused(&store, &o, &normal, ChangeStatus::Scheduled).await;
        assert!(refusal.contains("blackout"), "{refusal}");
        let conflicts = store
            .change_conflicts(o.t, normal.id)
            .await
            .expect("conflicts");
        assert!(
            matches!(&conflicts[0].conflict, Conflict::Blackout { blackout_id, .. } if *blackout_id == freeze.id),
            "{conflicts:?}"
        );

        let emergency = create(
            &store,
            &o,
            &draft(
                ChangeType::Emergency,
                "Stop the bleeding",
                window(2, 3),
                vec![],
            ),
        )
        .await;
        let emergency = move_to(&store, &o, &emergency, ChangeStatus::Authorisation).await;
        store
            .decide_change(o.t, emergency.id, Verdict::Approve, "Go", None, &o.cab[1])
            .await
            .expect("ecab approves");
        let emergency = move_to(&store, &o, &emergency, ChangeStatus::Implementing).await;
        assert_eq!(emergency.status, ChangeStatus::Implementing);

        // Lifting the freeze lets the normal change through.
        store
            .delete_blackout(o.t, freeze.id, &o.admin)
            .await
            .expect("deleted");
        assert!(store.blackouts(o.t, None).await.expect("list").is_empty());
        move_to(&store, &o, &normal, ChangeStatus::Scheduled).await;
        verified(&store).await;
    }
);

both_backends!(
    collisions_on_the_same_and_dependent_cis,
    |store: Store| async move {
        let o = org(&store).await;
        let class = CiClassDraft {
            name: "Server".into(),
            description: String::new(),
            attributes: Vec::new(),
        }
        .validate()
        .expect("class");
        let class = store
            .create_ci_class(o.t, &class, &o.admin)
            .await
            .expect("class");
        let mut cis = Vec::new();
        for name in ["app01", "db01", "san01", "lonely01"] {
            let d = CiDraft {
                name: name.into(),
                class_id: class.id,
                status: CiStatus::InUse,
                description: String::new(),
                owner_id: None,
                team_id: None,
                external_id: None,
                service_ids: Vec::new(),
                attributes: Default::default(),
            };
            cis.push(store.create_ci(o.t, &d, &o.admin).await.expect("ci").id);
        }
        let (app, db, san, lonely) = (cis[0], cis[1], cis[2], cis[3]);
        store
            .create_ci_relationship(o.t, db, san, "depends_on", &o.admin)
            .await
            .expect("relationship");

        let template = TemplateDraft {
            name: "Routine".into(),
            description: String::new(),
            implementation_plan: "Do".into(),
            backout_plan: "Undo".into(),
            test_plan: String::new(),
            active: true,
        }
        .validate()
        .expect("template");
        let template = store
            .create_change_template(o.t, &template, &o.admin)
            .await
            .expect("template");
        let mut scheduled = Vec::new();
        for (title, w, ci_ids) in [
            ("On app and db", window(1, 3), vec![app, db]),
            ("On the SAN", window(2, 4), vec![san]),
            ("Later on app", window(3, 5), vec![app]),
            ("Elsewhere", window(1, 5), vec![lonely]),
        ] {
            let mut d = draft(ChangeType::Standard, title, w, ci_ids);
            d.template_id = Some(template.id);
            let c = create(&store, &o, &d).await;
            scheduled.push(move_to(&store, &o, &c, ChangeStatus::Scheduled).await);
        }
        // A draft on app and db from 2 to 3: the first change on the same CIs, the SAN change one
        // dependency away from db; "Later on app" starts when it ends, so it does not collide.
        let mine = create(
            &store,
            &o,
            &draft(ChangeType::Normal, "Mine", window(2, 3), vec![app, db]),
        )
        .await;
        let found = store
            .change_conflicts(o.t, mine.id)
            .await
            .expect("conflicts");
        let conflicts: Vec<Conflict> = found.iter().map(|c| c.conflict.clone()).collect();
        assert_eq!(
            conflicts,
            vec![
                Conflict::SameCi {
                    change_id: scheduled[0].id,
                    ci_id: app
                },
                Conflict::SameCi {
                    change_id: scheduled[0].id,
                    ci_id: db
                },
                Conflict::DependentCi {
                    change_id: scheduled[1].id,
                    ours: db,
                    theirs: san
                },
            ]
        );
        assert_eq!(
            found[2].other.as_ref().map(|r| r.number),
            Some(scheduled[1].number)
        );
        // The schedule in a window lists what is on it, by start.
        let on = store
            .change_schedule(
                o.t,
                &Window {
                    start: at(0),
                    end: at(2),
                },
            )
            .await
            .expect("schedule");
        let titles: Vec<&str> = on.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["On app and db", "Elsewhere"]);
        // Cancelled changes leave the schedule.
        move_to(&store, &o, &scheduled[0], ChangeStatus::Cancelled).await;
        let found = store
            .change_conflicts(o.t, mine.id)
            .await
            .expect("conflicts");
        assert_eq!(found.len(), 1, "{found:?}");
        verified(&store).await;
    }
);

both_backends!(edits_and_policies_are_checked, |store: Store| async move {
    let o = org(&store).await;
    let c = create(
        &store,
        &o,
        &draft(ChangeType::Normal, "Edit me", None, vec![]),
    )
    .await;
    let mut d = c.draft();
    d.ci_ids = vec![9_999];
    let err = store
        .update_change(o.t, c.id, &d, None, None, &o.requester)
        .await
        .expect_err("unknown CI");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    let mut d = c.draft();
    d.title = "Edited".into();
    let edited = store
        .update_change(o.t, c.id, &d, Some(id(&o.admin)), None, &o.requester)
        .await
        .expect("edited");
    assert_eq!(
        (edited.title.as_str(), edited.assignee_id),
        ("Edited", Some(id(&o.admin)))
    );
    // An edit made from what was read before that save is refused and changes nothing.
    let mut stale = c.draft();
    stale.title = "Overwritten".into();
    let err = store
        .update_change(o.t, c.id, &stale, None, Some(c.updated_at), &o.requester)
        .await
        .expect_err("stale");
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("changed by someone else")),
        "{err:?}"
    );
    assert_eq!(store.change(o.t, c.id).await.expect("read"), edited);
    let current = store
        .update_change(o.t, c.id, &d, None, Some(edited.updated_at), &o.requester)
        .await
        .expect("an edit of what is there now");
    assert_eq!(current.assignee_id, None);
    let err = store
        .assess_change_risk(o.t, c.id, &BTreeMap::new(), &o.requester)
        .await
        .expect_err("unanswered");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    // A board of people who do not exist is refused.
    let mut policy = default_policy();
    policy.approvals.rules[0].stage = ApprovalStage::Cab {
        members: vec![123_456],
        quorum: 1,
    };
    let err = store
        .save_change_policy(o.t, &policy, &o.admin)
        .await
        .expect_err("unknown member");
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert_eq!(
        store.change_policy(o.t).await.expect("policy"),
        default_policy()
    );
    // Another tenant sees nothing.
    let other = store
        .create_tenant(&new_tenant("Other").expect("name"), &Actor::cli())
        .await
        .expect("tenant")
        .id;
    assert!(matches!(
        store.change(other, c.id).await,
        Err(StoreError::NotFound)
    ));
    verified(&store).await;
});

both_backends!(
    templates_are_edited_and_retired,
    |store: Store| async move {
        let o = org(&store).await;
        let mut d = TemplateDraft {
            name: "Patch a server".into(),
            description: String::new(),
            implementation_plan: "Patch".into(),
            backout_plan: "Unpatch".into(),
            test_plan: String::new(),
            active: true,
        }
        .validate()
        .expect("template");
        let template = store
            .create_change_template(o.t, &d, &o.admin)
            .await
            .expect("template");
        d.name = "Other".into();
        store
            .create_change_template(o.t, &d, &o.admin)
            .await
            .expect("another");
        let entries = journal_len(&store, o.t).await;

        d.name = "Patch a Linux server".into();
        d.implementation_plan = "apt upgrade".into();
        let edited = store
            .update_change_template(o.t, template.id, &d, &o.admin)
            .await
            .expect("edited");
        assert_eq!(edited.name, "Patch a Linux server");
        assert_eq!(edited.implementation_plan, "apt upgrade");
        assert!(edited.active && edited.updated_at >= template.updated_at);
        assert_eq!(journal_len(&store, o.t).await, entries + 1, "journaled");

        // Another template's name is taken; another tenant's template is not found.
        d.name = "Other".into();
        let err = store
            .update_change_template(o.t, template.id, &d, &o.admin)
            .await
            .expect_err("duplicate name");
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        let other = store
            .create_tenant(&new_tenant("Other").expect("name"), &Actor::cli())
            .await
            .expect("tenant")
            .id;
        d.name = "Patch a Linux server".into();
        assert!(matches!(
            store
                .update_change_template(other, template.id, &d, &o.admin)
                .await,
            Err(StoreError::NotFound)
        ));

        // A change may follow it until it is retired; then it is neither listed nor followed.
        let mut standard = draft(ChangeType::Standard, "Patch web01", window(1, 2), vec![]);
        standard.template_id = Some(template.id);
        let followed = create(&store, &o, &standard).await;
        assert_eq!(followed.implementation_plan, "Do it");
        d.active = false;
        let retired = store
            .update_change_template(o.t, template.id, &d, &o.admin)
            .await
            .expect("retired");
        assert!(!retired.active);
        let listed = store.change_templates(o.t, false).await.expect("templates");
        assert!(listed.iter().all(|t| t.id != template.id));
        assert!(
            store
                .change_templates(o.t, true)
                .await
                .expect("all")
                .iter()
                .any(|t| t.id == template.id)
        );
        let err = store
            .create_change(o.t, &standard, None, &o.requester)
            .await
            .expect_err("retired template");
        match err {
            StoreError::Invalid(invalid) => {
                assert_eq!(invalid.errors[0].field, "template_id");
                assert!(invalid.errors[0].message.contains("retired"));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(
            store
                .change(o.t, followed.id)
                .await
                .expect("kept")
                .template_id,
            Some(template.id),
            "the change that followed it keeps it"
        );
        verified(&store).await;
    }
);
