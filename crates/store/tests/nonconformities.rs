//! Nonconformities, corrective actions and effectiveness checks on SQLite and, when
//! `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL: raising (from an incident too), the
//! lifecycle settled by its facts and its refusals, independent verification, an ineffective
//! check that sends it back, lists and filters, tenant isolation, the journal, reminders sent
//! once, and the three evidence rules met and in gap.

use jiff::civil::Date;
use steward_domain::access::Role;
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::sms::nonconformity::{
    ActionDraft, NcReminderKind, NcStatus, NonconformityDraft, NonconformityEdit, RootCauseMethod,
    Severity, Source,
};
use steward_store::asset::today_utc;
use steward_store::conformance::Period;
use steward_store::incident::IncidentFields;
use steward_store::journal::JournalFilter;
use steward_store::nonconformity::{Nonconformity, NonconformityFilter};
use steward_store::testing::in_days;
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends, now_micros};

fn draft(title: &str, owner_id: Option<i64>) -> NonconformityDraft {
    NonconformityDraft {
        title: title.into(),
        description: "Two emergency changes went live without approval.".into(),
        clause_id: Some("8.5.1.3".into()),
        severity: Severity::Major,
        source: Source::Complaint,
        source_ref: None,
        owner_id,
    }
}

fn analysed(nc: &Nonconformity) -> NonconformityEdit {
    NonconformityEdit {
        containment: "Both changes reviewed after the fact; no harm found.".into(),
        root_cause: "The emergency path skipped the ECAB call when on-call was alone.".into(),
        root_cause_method: Some(RootCauseMethod::FiveWhys),
        ..nc.edit()
    }
}

fn action(owner: i64, due_in: i64) -> ActionDraft {
    ActionDraft {
        description: "Require a second approver in the emergency change form".into(),
        owner_id: Some(owner),
        due: in_days(due_in),
    }
}

/// A tenant with an owner (Max), an action owner (Ann) and an independent checker (Kim).
struct People {
    t: i64,
    max: Actor,
    ann: i64,
    kim: Actor,
}

async fn people(store: &Store, name: &str) -> People {
    let t = tenant(store, name).await;
    let max = user(store, t, "max@example.org", Role::Manager).await;
    let ann = user(store, t, "ann@example.org", Role::Agent).await;
    let kim = user(store, t, "kim@example.org", Role::Manager).await;
    People {
        t,
        max: Actor::user(max, "max@example.org"),
        ann,
        kim: Actor::user(kim, "kim@example.org"),
    }
}

/// Raised by Max, owned by Max, analysed, with one action for Ann due in `due_in` days.
async fn planned(store: &Store, p: &People, due_in: i64) -> (Nonconformity, i64) {
    let nc = store
        .raise_nonconformity(p.t, &draft("Unapproved changes", p.max.user_id), &p.max)
        .await
        .expect("raised");
    let nc = store
        .update_nonconformity(
            p.t,
            nc.id,
            nc.updated_at,
            &analysed(&nc),
            today_utc(),
            &p.max,
        )
        .await
        .expect("analysed");
    let a = store
        .add_corrective_action(p.t, nc.id, &action(p.ann, due_in), today_utc(), &p.max)
        .await
        .expect("action");
    let nc = store.nonconformity(p.t, nc.id).await.expect("nc");
    (nc, a.id)
}

fn conflict(e: StoreError) -> String {
    match e {
        StoreError::Conflict(m) => m,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

both_backends!(
    raising_numbers_per_tenant_and_checks_references,
    |store: Store| async move {
        let p = people(&store, "Acme").await;
        let other = people(&store, "Beta").await;
        let first = store
            .raise_nonconformity(p.t, &draft("One", None), &p.max)
            .await
            .expect("one");
        let second = store
            .raise_nonconformity(p.t, &draft("Two", None), &p.max)
            .await
            .expect("two");
        let theirs = store
            .raise_nonconformity(other.t, &draft("Theirs", None), &other.max)
            .await
            .expect("theirs");
        assert_eq!(
            (first.reference(), second.reference(), theirs.reference()),
            ("NC-1".into(), "NC-2".into(), "NC-1".into())
        );
        assert_eq!(first.status, NcStatus::Open);
        assert_eq!(first.raised_by, p.max.user_id);

        // An owner of another tenant, an unknown clause, an incident that is not there.
        let e = store
            .raise_nonconformity(p.t, &draft("x", other.max.user_id), &p.max)
            .await
            .expect_err("foreign owner");
        assert!(matches!(e, StoreError::Invalid(ref i) if i.message_for("owner_id").is_some()));
        let mut bad = draft("x", None);
        bad.clause_id = Some("42".into());
        assert!(matches!(
            store.raise_nonconformity(p.t, &bad, &p.max).await,
            Err(StoreError::Invalid(_))
        ));
        let mut from_incident = draft("Backups failed", None);
        from_incident.source = Source::Incident;
        from_incident.source_ref = Some(9_999);
        let e = store
            .raise_nonconformity(p.t, &from_incident, &p.max)
            .await
            .expect_err("no incident");
        assert!(matches!(e, StoreError::Invalid(ref i) if i.message_for("source_ref").is_some()));
        let incident = store
            .create_incident(
                p.t,
                &IncidentFields::new("Nightly backup failed", now_micros()),
                &Actor::cli(),
            )
            .await
            .expect("incident");
        from_incident.source_ref = Some(incident.id);
        let nc = store
            .raise_nonconformity(p.t, &from_incident, &p.max)
            .await
            .expect("from the incident");
        assert_eq!(nc.source_ref, Some(incident.id));
        // The other tenant's incident is not theirs to cite.
        assert!(
            store
                .raise_nonconformity(other.t, &from_incident, &other.max)
                .await
                .is_err()
        );

        // Tenant isolation.
        assert!(matches!(
            store.nonconformity(other.t, first.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .add_corrective_action(
                    other.t,
                    first.id,
                    &action(other.ann, 5),
                    today_utc(),
                    &other.max
                )
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.nonconformity_history(other.t, first.id).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_backends!(
    the_lifecycle_runs_to_closed_with_an_independent_check,
    |store: Store| async move {
        let p = people(&store, "Acme").await;
        let nc = store
            .raise_nonconformity(p.t, &draft("Unapproved changes", p.max.user_id), &p.max)
            .await
            .expect("raised");
        // Nothing to verify yet.
        let refused = store
            .record_effectiveness_check(p.t, nc.id, true, "Looks fine", &p.kim)
            .await
            .expect_err("too early");
        assert!(conflict(refused).contains("every action is completed"));
        // An action alone does not plan it: containment and root cause are missing.
        let a1 = store
            .add_corrective_action(p.t, nc.id, &action(p.ann, 10), today_utc(), &p.max)
            .await
            .expect("action");
        let nc = store.nonconformity(p.t, nc.id).await.expect("nc");
        assert_eq!(nc.status, NcStatus::Open);
        // A stale edit is refused.
        assert!(matches!(
            store
                .update_nonconformity(
                    p.t,
                    nc.id,
                    nc.updated_at - 1,
                    &analysed(&nc),
                    today_utc(),
                    &p.max
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        let nc = store
            .update_nonconformity(
                p.t,
                nc.id,
                nc.updated_at,
                &analysed(&nc),
                today_utc(),
                &p.max,
            )
            .await
            .expect("analysed");
        assert_eq!(nc.status, NcStatus::ActionsPlanned);
        // An action not in the tenant's users, or due in the past, is refused.
        let mut past = action(p.ann, -1);
        past.owner_id = None;
        let e = store
            .add_corrective_action(p.t, nc.id, &past, today_utc(), &p.max)
            .await
            .expect_err("invalid");
        assert!(
            matches!(e, StoreError::Invalid(ref i) if i.message_for("due").is_some() && i.message_for("owner_id").is_some())
        );

        let done = store
            .complete_corrective_action(
                p.t,
                nc.id,
                a1.id,
                "Second approver now required",
                today_utc(),
                &p.max,
            )
            .await
            .expect("completed");
        assert_eq!(done.completed_on, Some(today_utc()));
        assert!(
            conflict(
                store
                    .complete_corrective_action(p.t, nc.id, a1.id, "again", today_utc(), &p.max)
                    .await
                    .expect_err("twice")
            )
            .contains("already completed")
        );
        let nc = store.nonconformity(p.t, nc.id).await.expect("nc");
        assert_eq!(nc.status, NcStatus::AwaitingVerification);
        assert_eq!(nc.check_due, Some(in_days(30)));

        // The owner may not verify; someone else may.
        let own = store
            .record_effectiveness_check(p.t, nc.id, true, "Checked", &p.max)
            .await
            .expect_err("owner");
        assert!(conflict(own).contains("owner"));
        let check = store
            .record_effectiveness_check(
                p.t,
                nc.id,
                true,
                "Ten emergency changes since, all approved",
                &p.kim,
            )
            .await
            .expect("check");
        assert!(check.effective);
        let nc = store.nonconformity(p.t, nc.id).await.expect("nc");
        assert_eq!(nc.status, NcStatus::Closed);
        assert!(nc.closed_at.is_some());

        // Closed: nothing changes any more.
        assert!(
            conflict(
                store
                    .add_corrective_action(p.t, nc.id, &action(p.ann, 3), today_utc(), &p.max)
                    .await
                    .expect_err("closed")
            )
            .contains("closed")
        );
        assert!(matches!(
            store
                .update_nonconformity(p.t, nc.id, nc.updated_at, &nc.edit(), today_utc(), &p.max)
                .await,
            Err(StoreError::Conflict(_))
        ));

        let history: Vec<(Option<String>, String)> = store
            .nonconformity_history(p.t, nc.id)
            .await
            .expect("history")
            .into_iter()
            .map(|h| (h.from_status, h.to_status))
            .collect();
        assert_eq!(
            history,
            [
                (None, "open".to_owned()),
                (Some("open".into()), "actions_planned".into()),
                (
                    Some("actions_planned".into()),
                    "awaiting_verification".into()
                ),
                (Some("awaiting_verification".into()), "closed".into()),
            ]
        );
        let journal = store
            .journal_entries(
                p.t,
                &JournalFilter {
                    record_type: Some("nonconformity".into()),
                    record_id: Some(nc.id),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("journal");
        // Raised, analysed, completed (awaiting verification), closed.
        assert_eq!(journal.items.len(), 4);
    }
);

both_backends!(
    an_ineffective_check_requires_a_new_action,
    |store: Store| async move {
        let p = people(&store, "Acme").await;
        let (nc, a1) = planned(&store, &p, 5).await;
        store
            .complete_corrective_action(p.t, nc.id, a1, "Done", today_utc(), &p.max)
            .await
            .expect("done");
        store
            .record_effectiveness_check(
                p.t,
                nc.id,
                false,
                "Another unapproved change last week",
                &p.kim,
            )
            .await
            .expect("check");
        let nc = store.nonconformity(p.t, nc.id).await.expect("nc");
        assert_eq!(nc.status, NcStatus::ActionsPlanned);
        assert_eq!(nc.check_due, None);
        // Still nothing to verify until a new action is done.
        assert!(
            store
                .record_effectiveness_check(p.t, nc.id, true, "Fine now", &p.kim)
                .await
                .is_err()
        );
        let a2 = store
            .add_corrective_action(p.t, nc.id, &action(p.ann, 7), today_utc(), &p.max)
            .await
            .expect("new action");
        store
            .complete_corrective_action(p.t, nc.id, a2.id, "Form enforces it", today_utc(), &p.max)
            .await
            .expect("done");
        assert_eq!(
            store.nonconformity(p.t, nc.id).await.expect("nc").status,
            NcStatus::AwaitingVerification
        );
        // Adding an action while awaiting verification sends it back.
        let a3 = store
            .add_corrective_action(p.t, nc.id, &action(p.ann, 7), today_utc(), &p.max)
            .await
            .expect("more");
        assert_eq!(
            store.nonconformity(p.t, nc.id).await.expect("nc").status,
            NcStatus::ActionsPlanned
        );
        store
            .complete_corrective_action(
                p.t,
                nc.id,
                a3.id,
                "Also trained on-call",
                today_utc(),
                &p.max,
            )
            .await
            .expect("done");
        store
            .record_effectiveness_check(p.t, nc.id, true, "No unapproved change in 30 days", &p.kim)
            .await
            .expect("effective");
        let checks = store
            .effectiveness_checks(p.t, nc.id)
            .await
            .expect("checks");
        assert_eq!(
            checks.iter().map(|c| c.effective).collect::<Vec<_>>(),
            [false, true]
        );
        assert_eq!(
            store.nonconformity(p.t, nc.id).await.expect("nc").status,
            NcStatus::Closed
        );
    }
);

both_backends!(
    lists_filter_and_flag_overdue_actions,
    |store: Store| async move {
        let p = people(&store, "Acme").await;
        let (late, _) = planned(&store, &p, 1).await;
        let mut minor = draft("Minor lapse", None);
        minor.severity = Severity::Minor;
        minor.source = Source::ManagementReview;
        let minor = store
            .raise_nonconformity(p.t, &minor, &p.kim)
            .await
            .expect("minor");
        let list = |f: NonconformityFilter, today: Date| {
            let store = store.clone();
            async move {
                store
                    .nonconformities(p.t, &f, today, &PageRequest::default())
                    .await
                    .expect("list")
                    .items
                    .into_iter()
                    .map(|i| (i.nonconformity.id, i.overdue_actions))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            list(NonconformityFilter::default(), today_utc()).await,
            [(late.id, 0), (minor.id, 0)]
        );
        // Two days on, the action due tomorrow is overdue.
        let overdue = NonconformityFilter {
            overdue: true,
            ..Default::default()
        };
        assert_eq!(list(overdue.clone(), today_utc()).await, []);
        assert_eq!(list(overdue, in_days(2)).await, [(late.id, 1)]);
        let by = |f: NonconformityFilter| f;
        assert_eq!(
            list(
                by(NonconformityFilter {
                    severity: Some(Severity::Minor),
                    ..Default::default()
                }),
                today_utc()
            )
            .await,
            [(minor.id, 0)]
        );
        assert_eq!(
            list(
                by(NonconformityFilter {
                    source: Some(Source::ManagementReview),
                    status: Some(NcStatus::Open),
                    ..Default::default()
                }),
                today_utc()
            )
            .await,
            [(minor.id, 0)]
        );
        // Ann owns an open action on the first; Max owns it.
        for who in [p.ann, p.max.user_id.expect("max")] {
            assert_eq!(
                list(
                    NonconformityFilter {
                        mine: Some(who),
                        ..Default::default()
                    },
                    today_utc()
                )
                .await,
                [(late.id, 0)]
            );
        }
        // Keyset pages, newest first.
        let first = store
            .nonconformities(
                p.t,
                &NonconformityFilter {
                    sort: Some("-number".into()),
                    ..Default::default()
                },
                today_utc(),
                &PageRequest {
                    limit: Some(1),
                    cursor: None,
                },
            )
            .await
            .expect("page 1");
        assert_eq!(first.items[0].nonconformity.id, minor.id);
        let second = store
            .nonconformities(
                p.t,
                &NonconformityFilter {
                    sort: Some("-number".into()),
                    ..Default::default()
                },
                today_utc(),
                &PageRequest {
                    limit: Some(1),
                    cursor: first.next_cursor,
                },
            )
            .await
            .expect("page 2");
        assert_eq!(second.items[0].nonconformity.id, late.id);
        assert!(second.next_cursor.is_none());
    }
);

both_backends!(reminders_go_out_once, |store: Store| async move {
    let p = people(&store, "Acme").await;
    let (nc, a1) = planned(&store, &p, 3).await;
    let render = |r: &steward_store::nonconformity::NcReminder, name: &str| {
        (
            format!("{} {}", r.nonconformity.reference(), r.kind.as_str()),
            format!("Hello {name}"),
        )
    };
    let kinds = |sent: Vec<steward_store::nonconformity::NcReminder>| {
        sent.into_iter().map(|r| r.kind).collect::<Vec<_>>()
    };
    assert_eq!(
        kinds(
            store
                .send_nonconformity_reminders(p.t, today_utc(), render)
                .await
                .expect("today")
        ),
        []
    );
    // On the due date, once; overdue the day after, once.
    for _ in 0..2 {
        let due = kinds(
            store
                .send_nonconformity_reminders(p.t, in_days(3), render)
                .await
                .expect("due"),
        );
        assert!(due.is_empty() || due == [NcReminderKind::ActionDue]);
    }
    for _ in 0..2 {
        let late = kinds(
            store
                .send_nonconformity_reminders(p.t, in_days(5), render)
                .await
                .expect("late"),
        );
        assert!(late.is_empty() || late == [NcReminderKind::ActionOverdue]);
    }
    let outbox = store.outbox(p.t).await.expect("outbox");
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    assert!(outbox.iter().all(|m| m.to_address == "ann@example.org"));

    // Once the action is done the owner hears when the check falls due.
    store
        .complete_corrective_action(p.t, nc.id, a1, "Done", today_utc(), &p.max)
        .await
        .expect("done");
    assert_eq!(
        kinds(
            store
                .send_nonconformity_reminders(p.t, in_days(30), render)
                .await
                .expect("check")
        ),
        [NcReminderKind::CheckDue]
    );
    assert_eq!(
        kinds(
            store
                .send_nonconformity_reminders(p.t, in_days(31), render)
                .await
                .expect("again")
        ),
        []
    );
    let outbox = store.outbox(p.t).await.expect("outbox");
    assert_eq!(outbox.len(), 3);
    assert!(outbox.iter().any(|m| m.to_address == "max@example.org"));
});

both_backends!(
    the_evidence_rules_show_met_and_gap,
    |store: Store| async move {
        let p = people(&store, "Acme").await;
        let period = |days_on: i64| Period::days(in_days(-30), in_days(days_on)).expect("period");
        let status = |results: &std::collections::HashMap<
            RuleId,
            steward_domain::conformance::readiness::RuleResult,
        >,
                      rule| { results[&rule].status };
        // Nothing raised: nothing to judge.
        let results = store.rule_results(p.t, period(0)).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::NonconformitiesHandled),
            MachineStatus::NotYetEvaluable
        );

        // One raised and not analysed: a gap; analysed with an action: met.
        let open = store
            .raise_nonconformity(p.t, &draft("Open", p.max.user_id), &p.max)
            .await
            .expect("raised");
        let results = store.rule_results(p.t, period(0)).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::NonconformitiesHandled),
            MachineStatus::Gap
        );
        assert_eq!(
            results[&RuleId::NonconformitiesHandled].failing[0].label,
            "NC-1"
        );
        let open = store
            .update_nonconformity(
                p.t,
                open.id,
                open.updated_at,
                &analysed(&open),
                today_utc(),
                &p.max,
            )
            .await
            .expect("analysed");
        let on_time = store
            .add_corrective_action(p.t, open.id, &action(p.ann, 0), today_utc(), &p.max)
            .await
            .expect("action");
        let late = store
            .add_corrective_action(p.t, open.id, &action(p.ann, 1), today_utc(), &p.max)
            .await
            .expect("action");
        let results = store.rule_results(p.t, period(5)).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::NonconformitiesHandled),
            MachineStatus::Met
        );

        // Actions due in the period: one done on its day, one not done (gap), then done late (gap).
        store
            .complete_corrective_action(p.t, open.id, on_time.id, "Done", today_utc(), &p.max)
            .await
            .expect("done");
        let results = store.rule_results(p.t, period(0)).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CorrectiveActionsOnTime),
            MachineStatus::Met
        );
        let results = store.rule_results(p.t, period(5)).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CorrectiveActionsOnTime),
            MachineStatus::Gap
        );
        store
            .complete_corrective_action(p.t, open.id, late.id, "Done late", in_days(3), &p.max)
            .await
            .expect("done late");
        let results = store.rule_results(p.t, period(5)).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CorrectiveActionsOnTime),
            MachineStatus::Gap
        );
        assert_eq!(results[&RuleId::CorrectiveActionsOnTime].failing_count, 1);

        // Closed after an effective check: verified. A closed one without one (written by hand
        // past the store, as an import might) is a gap.
        assert_eq!(
            status(&results, RuleId::NonconformitiesVerified),
            MachineStatus::NotYetEvaluable
        );
        store
            .record_effectiveness_check(p.t, open.id, true, "Held for a month", &p.kim)
            .await
            .expect("check");
        let now = Period {
            from: now_micros() - 86_400_000_000,
            to: now_micros() + 1_000_000,
        };
        let results = store.rule_results(p.t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::NonconformitiesVerified),
            MachineStatus::Met
        );
        let other = store
            .raise_nonconformity(p.t, &draft("Closed by hand", None), &p.max)
            .await
            .expect("raised");
        store
            .execute_raw_for_tests(&format!(
                "UPDATE nonconformities SET status = 'closed', closed_at = {} WHERE id = {}",
                now_micros(),
                other.id
            ))
            .await
            .expect("closed by hand");
        let results = store.rule_results(p.t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::NonconformitiesVerified),
            MachineStatus::Gap
        );
        assert_eq!(
            results[&RuleId::NonconformitiesVerified].failing[0].label,
            "NC-2"
        );
    }
);
