//! Competence (7.2) on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL: role
//! profiles, people's records, the actions that close gaps and their lifecycle, the gap
//! analysis over the roles register's current holders, and the evidence rules. Every write is
//! journaled and no tenant sees or references another's records.

use jiff::civil::Date;
use steward_domain::access::Role;
use steward_domain::conformance::readiness::RuleResult;
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::sms::competence::{
    ActionDraft, ActionKind, ActionStage, Basis, CompetenceStanding, RecordDraft, RequirementDraft,
};
use steward_domain::sms::role::RoleDraft;
use steward_store::asset::today_utc;
use steward_store::conformance::Period;
use steward_store::testing::{in_days, journaled};
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, Store, StoreError, both_backends};

/// A role held by `holder` since a hundred days ago; its id.
async fn held_role(store: &Store, t: i64, name: &str, holder: i64) -> i64 {
    let role = store
        .create_sms_role(
            t,
            &RoleDraft {
                name: name.into(),
                responsibilities: "Runs the service desk".into(),
                authorities: "Assigns tickets".into(),
                conformity_lead: false,
                reports_performance: false,
            },
            &Actor::cli(),
        )
        .await
        .expect("role");
    store
        .assign_role(t, role.id, holder, in_days(-100), "", &Actor::cli())
        .await
        .expect("assignment");
    role.id
}

async fn requirement(store: &Store, t: i64, role_id: i64, name: &str) -> i64 {
    store
        .create_competence_requirement(
            t,
            &RequirementDraft {
                role_id,
                name: name.into(),
                description: String::new(),
            },
            &Actor::cli(),
        )
        .await
        .expect("requirement")
        .id
}

fn record(user_id: i64, requirement_id: i64, expires_on: Option<Date>) -> RecordDraft {
    RecordDraft {
        user_id,
        requirement_id,
        basis: Basis::Qualification,
        title: "ITIL 4 Foundation".into(),
        provider: "PeopleCert".into(),
        achieved_on: in_days(-200),
        expires_on,
        evidence: "Certificate GR671234, checked by the service desk manager".into(),
    }
    .validate(today_utc())
    .expect("valid record")
}

fn action(user_id: i64, requirement_id: i64, owner: i64) -> ActionDraft {
    ActionDraft {
        user_id,
        requirement_id,
        kind: ActionKind::Training,
        description: "Two-day ITIL 4 Foundation course and exam".into(),
        owner_id: Some(owner),
        due_date: in_days(20),
    }
    .validate(today_utc())
    .expect("valid action")
}

both_backends!(
    profiles_and_records_are_kept_per_tenant,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let ann = user(&store, t, "ann@acme.test", Role::Agent).await;
        let stranger = user(&store, other, "sam@beta.test", Role::Agent).await;
        let desk = held_role(&store, t, "Service desk analyst", ann).await;
        let foreign_role = held_role(&store, other, "Analyst", stranger).await;

        // A requirement belongs to a role of the same organisation.
        let refused = store
            .create_competence_requirement(
                t,
                &RequirementDraft {
                    role_id: foreign_role,
                    name: "ITIL".into(),
                    description: String::new(),
                },
                &Actor::cli(),
            )
            .await;
        match refused {
            Err(StoreError::Invalid(e)) => assert!(e.message_for("role_id").is_some()),
            other => panic!("{other:?}"),
        }
        let itil = requirement(&store, t, desk, "ITIL 4 Foundation").await;
        let req = store.competence_requirement(t, itil).await.expect("read");
        let mut renamed = req.draft();
        renamed.name = "ITIL 4 Foundation certificate".into();
        let saved = store
            .update_competence_requirement(t, itil, req.updated_at, &renamed, &Actor::cli())
            .await
            .expect("renamed");
        assert_eq!(saved.name, "ITIL 4 Foundation certificate");
        assert!(matches!(
            store
                .update_competence_requirement(t, itil, req.updated_at, &renamed, &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            journaled(&store, t, "competence_requirement", itil).await,
            2
        );

        // Records name a person and a requirement of the organisation.
        let refused = store
            .create_competence_record(t, &record(stranger, itil, None), &Actor::cli())
            .await;
        match refused {
            Err(StoreError::Invalid(e)) => assert!(e.message_for("user_id").is_some()),
            other => panic!("{other:?}"),
        }
        let r = store
            .create_competence_record(t, &record(ann, itil, None), &Actor::cli())
            .await
            .expect("record");
        let mut renewed = r.draft();
        renewed.expires_on = Some(in_days(700));
        let saved = store
            .update_competence_record(t, r.id, r.updated_at, &renewed, &Actor::cli())
            .await
            .expect("updated");
        assert_eq!(saved.expires_on, Some(in_days(700)));
        assert!(matches!(
            store
                .update_competence_record(t, r.id, r.updated_at, &renewed, &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(journaled(&store, t, "competence_record", r.id).await, 2);
        assert_eq!(
            store
                .competence_records(t, Some(ann))
                .await
                .expect("list")
                .len(),
            1
        );
        assert!(
            store
                .competence_records(t, Some(stranger))
                .await
                .expect("list")
                .is_empty()
        );

        // Another organisation sees none of it.
        assert!(matches!(
            store.competence_record(other, r.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.competence_requirement(other, itil).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            store
                .competence_requirements(other)
                .await
                .expect("list")
                .is_empty()
        );
    }
);

both_backends!(
    actions_are_completed_then_evaluated,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let ann = user(&store, t, "ann@acme.test", Role::Agent).await;
        let boss = user(&store, t, "rita@acme.test", Role::Manager).await;
        let stranger = user(&store, other, "sam@beta.test", Role::Manager).await;
        let desk = held_role(&store, t, "Service desk analyst", ann).await;
        let itil = requirement(&store, t, desk, "ITIL 4 Foundation").await;

        let mut foreign_owner = action(ann, itil, boss);
        foreign_owner.owner_id = Some(stranger);
        assert!(matches!(
            store
                .create_competence_action(t, &foreign_owner, &Actor::cli())
                .await,
            Err(StoreError::Invalid(_))
        ));
        let a = store
            .create_competence_action(t, &action(ann, itil, boss), &Actor::cli())
            .await
            .expect("action");
        assert_eq!(a.stage, ActionStage::Open);
        assert!(matches!(
            store
                .evaluate_competence_action(t, a.id, true, "Passed", &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .complete_competence_action(t, a.id, in_days(1), today_utc(), &Actor::cli())
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store
                .complete_competence_action(other, a.id, today_utc(), today_utc(), &Actor::cli())
                .await,
            Err(StoreError::NotFound)
        ));
        let done = store
            .complete_competence_action(t, a.id, in_days(-1), today_utc(), &Actor::cli())
            .await
            .expect("completed");
        assert_eq!(done.stage.completed_on(), Some(in_days(-1)));
        // Done but not yet judged, the action still stands for the gap.
        let gaps = store.competence_gaps(t, today_utc()).await.expect("gaps");
        assert!(matches!(
            gaps[0].standing,
            CompetenceStanding::GapActioned { overdue: false, .. }
        ));
        match store
            .evaluate_competence_action(t, a.id, false, " ", &Actor::cli())
            .await
        {
            Err(StoreError::Invalid(e)) => assert!(e.message_for("evaluation").is_some()),
            other => panic!("{other:?}"),
        }
        let judged = store
            .evaluate_competence_action(t, a.id, false, "Failed the exam", &Actor::cli())
            .await
            .expect("evaluated");
        assert_eq!(judged.stage.effective(), Some(false));
        assert_eq!(judged.evaluated_by, None);
        // An ineffective action leaves a bare gap: a new action is needed.
        let gaps = store.competence_gaps(t, today_utc()).await.expect("gaps");
        assert_eq!(gaps[0].standing, CompetenceStanding::Gap);
        assert!(matches!(
            store
                .evaluate_competence_action(t, a.id, true, "Again", &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(journaled(&store, t, "competence_action", a.id).await, 3);
        assert_eq!(
            store
                .competence_actions(t, Some(ann))
                .await
                .expect("list")
                .len(),
            1
        );
    }
);

both_backends!(
    gaps_follow_holders_records_and_actions,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Agent).await;
        let bob = user(&store, t, "bob@acme.test", Role::Agent).await;
        let boss = user(&store, t, "rita@acme.test", Role::Manager).await;
        let desk = held_role(&store, t, "Service desk analyst", ann).await;
        let bobs = store
            .assign_role(t, desk, bob, in_days(-50), "", &Actor::cli())
            .await
            .expect("assigned");
        let itil = requirement(&store, t, desk, "ITIL 4 Foundation").await;
        let tools = requirement(&store, t, desk, "Service desk tooling").await;
        store
            .create_competence_record(t, &record(ann, itil, Some(in_days(10))), &Actor::cli())
            .await
            .expect("record");
        store
            .create_competence_record(t, &record(ann, tools, None), &Actor::cli())
            .await
            .expect("record");
        let a = store
            .create_competence_action(t, &action(bob, itil, boss), &Actor::cli())
            .await
            .expect("action");

        let gaps = store.competence_gaps(t, today_utc()).await.expect("gaps");
        let of = |user, req| {
            gaps.iter()
                .find(|c| c.user_id == user && c.requirement_id == req)
                .map(|c| c.standing)
        };
        assert_eq!(gaps.len(), 4);
        assert_eq!(
            of(ann, itil),
            Some(CompetenceStanding::Expiring {
                expires_on: in_days(10)
            })
        );
        assert_eq!(
            of(ann, tools),
            Some(CompetenceStanding::Competent { expires_on: None })
        );
        assert_eq!(
            of(bob, itil),
            Some(CompetenceStanding::GapActioned {
                action_id: a.id,
                due_date: in_days(20),
                overdue: false
            })
        );
        assert_eq!(of(bob, tools), Some(CompetenceStanding::Gap));
        // Past its due date the action is overdue; past its expiry the record is a gap.
        let later = store.competence_gaps(t, in_days(25)).await.expect("gaps");
        assert!(later.iter().any(|c| c.user_id == bob
            && matches!(
                c.standing,
                CompetenceStanding::GapActioned { overdue: true, .. }
            )));
        assert!(
            later
                .iter()
                .any(|c| c.user_id == ann && c.requirement_id == itil && c.standing.is_gap())
        );

        // Once Bob leaves the role, he is no longer in the matrix.
        store
            .end_role_assignment(t, bobs.id, today_utc(), &Actor::cli())
            .await
            .expect("ended");
        let gaps = store.competence_gaps(t, today_utc()).await.expect("gaps");
        assert!(gaps.iter().all(|c| c.user_id == ann));
    }
);

fn status(results: &std::collections::HashMap<RuleId, RuleResult>, rule: RuleId) -> MachineStatus {
    results[&rule].status
}

both_backends!(
    the_competence_evidence_rules_show_met_and_gap,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Agent).await;
        let boss = user(&store, t, "rita@acme.test", Role::Manager).await;
        let now = Period::days(in_days(-60), in_days(0)).expect("period");
        let rules = [
            RuleId::CompetenceProfilesSet,
            RuleId::RoleHoldersCompetent,
            RuleId::CompetenceGapsActioned,
            RuleId::CompetenceActionsEvaluated,
        ];
        let results = store.rule_results(t, now).await.expect("rules");
        for rule in rules {
            assert_eq!(
                status(&results, rule),
                MachineStatus::NotYetEvaluable,
                "{rule:?}"
            );
        }

        // A held role without a profile.
        let desk = held_role(&store, t, "Service desk analyst", ann).await;
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CompetenceProfilesSet),
            MachineStatus::Gap
        );
        assert_eq!(
            results[&RuleId::CompetenceProfilesSet].failing[0].label,
            "Service desk analyst"
        );

        // With a profile, Ann lacks it and nothing is being done.
        let itil = requirement(&store, t, desk, "ITIL 4 Foundation").await;
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CompetenceProfilesSet),
            MachineStatus::Met
        );
        assert_eq!(
            status(&results, RuleId::RoleHoldersCompetent),
            MachineStatus::Gap
        );
        assert_eq!(
            results[&RuleId::RoleHoldersCompetent].failing[0].label,
            "ann: ITIL 4 Foundation"
        );
        assert_eq!(
            status(&results, RuleId::CompetenceGapsActioned),
            MachineStatus::Gap
        );

        // An action under way answers the gap; the record closes it.
        let a = store
            .create_competence_action(t, &action(ann, itil, boss), &Actor::cli())
            .await
            .expect("action");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CompetenceGapsActioned),
            MachineStatus::Met
        );
        store
            .complete_competence_action(t, a.id, in_days(-40), today_utc(), &Actor::cli())
            .await
            .expect("completed");
        store
            .create_competence_record(t, &record(ann, itil, None), &Actor::cli())
            .await
            .expect("record");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::RoleHoldersCompetent),
            MachineStatus::Met
        );
        assert_eq!(
            status(&results, RuleId::CompetenceGapsActioned),
            MachineStatus::NotYetEvaluable
        );
        // Completed 40 days ago and not evaluated: a gap; evaluated: met.
        assert_eq!(
            status(&results, RuleId::CompetenceActionsEvaluated),
            MachineStatus::Gap
        );
        store
            .evaluate_competence_action(t, a.id, true, "Passed the exam", &Actor::cli())
            .await
            .expect("evaluated");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CompetenceActionsEvaluated),
            MachineStatus::Met
        );
    }
);

both_backends!(
    a_new_holder_is_checked_against_the_role_within_thirty_days,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Agent).await;
        let bob = user(&store, t, "bob@acme.test", Role::Agent).await;
        let boss = user(&store, t, "rita@acme.test", Role::Manager).await;
        let now = Period::days(in_days(-60), in_days(0)).expect("period");
        // Rita's assignment began before the period: not a new holder in it.
        let change = held_role(&store, t, "Change manager", boss).await;
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::NewRoleHoldersChecked),
            MachineStatus::NotYetEvaluable
        );
        let itil = requirement(&store, t, change, "ITIL 4 Foundation").await;
        for (who, began) in [(bob, -45), (ann, -10)] {
            store
                .assign_role(t, change, who, in_days(began), "", &Actor::cli())
                .await
                .expect("assigned");
        }
        // Bob has had 45 days and nothing is being done; Ann is still within her 30.
        let results = store.rule_results(t, now).await.expect("rules");
        let result = &results[&RuleId::NewRoleHoldersChecked];
        assert_eq!(result.status, MachineStatus::Gap);
        assert_eq!(result.population, 2);
        let failing: Vec<&str> = result.failing.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            failing,
            [format!("bob as Change manager, from {}", in_days(-45))]
        );
        store
            .create_competence_action(t, &action(bob, itil, boss), &Actor::cli())
            .await
            .expect("action");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::NewRoleHoldersChecked),
            MachineStatus::Met
        );
    }
);

both_backends!(
    reminders_go_out_once_to_each_recipient,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Agent).await;
        let bob = user(&store, t, "bob@acme.test", Role::Agent).await;
        let boss = user(&store, t, "rita@acme.test", Role::Manager).await;
        let desk = held_role(&store, t, "Service desk analyst", ann).await;
        store
            .assign_role(t, desk, bob, in_days(-50), "", &Actor::cli())
            .await
            .expect("assigned");
        let itil = requirement(&store, t, desk, "ITIL 4 Foundation").await;
        store
            .create_competence_record(t, &record(ann, itil, Some(in_days(10))), &Actor::cli())
            .await
            .expect("record");
        store
            .create_competence_action(t, &action(bob, itil, boss), &Actor::cli())
            .await
            .expect("action");
        let render = |r: &steward_store::sms::competence::CompetenceReminder, name: &str| {
            (
                format!("Competence {} {}", r.kind.as_str(), r.requirement),
                format!("Hello {name}"),
            )
        };
        let kinds = |sent: Vec<steward_store::sms::competence::CompetenceReminder>| {
            sent.into_iter()
                .map(|r| (r.kind.as_str(), r.recipient_id))
                .collect::<Vec<_>>()
        };
        for expected in [vec![("record_expiring", ann)], vec![]] {
            let sent = store
                .send_competence_reminders(t, today_utc(), render)
                .await
                .expect("today");
            assert_eq!(kinds(sent), expected);
        }
        // Past the action's due date: the person and its owner, once each.
        for expected in [
            vec![("action_overdue", bob), ("action_overdue", boss)],
            vec![],
        ] {
            let sent = store
                .send_competence_reminders(t, in_days(25), render)
                .await
                .expect("later");
            assert_eq!(kinds(sent), expected);
        }
        let outbox = store.outbox(t).await.expect("outbox");
        let ours: Vec<_> = outbox
            .iter()
            .filter(|m| m.subject.starts_with("Competence"))
            .collect();
        assert_eq!(ours.len(), 3, "{ours:?}");
        assert!(ours.iter().any(|m| m.to_address == "rita@acme.test"));
    }
);
