//! Roles and responsibilities (5.3) on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set,
//! PostgreSQL: roles named once per tenant, assignments announced by mail and kept as history
//! when they end, the RACI matrix replaced a row at a time, and the evidence rules of 5.3.

use steward_domain::access::Role;
use steward_domain::conformance::readiness::RuleResult;
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::sms::role::{PROCESSES, RaciLetter, RoleDraft};
use steward_domain::user::UserDraft;
use steward_store::conformance::Period;
use steward_store::testing::{in_days, journaled};
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, Store, StoreError, both_backends};

fn role(name: &str) -> RoleDraft {
    RoleDraft {
        name: name.into(),
        responsibilities: format!("Runs what the {name} runs"),
        authorities: "Decides within the process".into(),
        conformity_lead: false,
        reports_performance: false,
    }
    .validate()
    .expect("valid role")
}

fn refused(e: StoreError, field: &str) -> String {
    match e {
        StoreError::Invalid(i) => i.message_for(field).unwrap_or_default().to_owned(),
        other => panic!("expected a field error on {field}, got {other:?}"),
    }
}

async fn deactivate(store: &Store, t: i64, id: i64) {
    let u = store.user(t, id).await.expect("user");
    let draft = UserDraft {
        email: u.email,
        name: u.name,
        role: u.role,
        active: false,
    };
    store
        .update_user(t, id, &draft, &Actor::cli())
        .await
        .expect("deactivated");
}

both_backends!(
    roles_are_assigned_announced_and_kept_as_history,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let bob = user(&store, t, "bob@acme.test", Role::Agent).await;
        let me = Actor::user(ann, "ann@acme.test");

        let change = store
            .create_sms_role(t, &role("Change manager"), &me)
            .await
            .expect("role");
        let dup = store
            .create_sms_role(t, &role("change MANAGER"), &me)
            .await
            .expect_err("duplicate");
        assert_eq!(
            refused(dup, "name"),
            "A role named change MANAGER already exists"
        );
        store
            .create_sms_role(other, &role("Change manager"), &Actor::cli())
            .await
            .expect("another tenant may use the name");
        let audit = store
            .create_sms_role(t, &role("Auditor"), &me)
            .await
            .expect("role");

        // Assigned, with a notice to the new holder in the outbox.
        let a = store
            .assign_role(t, change.id, bob, in_days(-10), " Covers CAB ", &me)
            .await
            .expect("assigned");
        assert_eq!((a.note.as_str(), a.assigned_by), ("Covers CAB", Some(ann)));
        let notice = store
            .outbox(t)
            .await
            .expect("outbox")
            .into_iter()
            .find(|m| m.record_type == "role_assignment" && m.record_id == a.id)
            .expect("notice queued");
        assert_eq!(notice.to_address, "bob@acme.test");
        assert!(
            notice.subject.contains("Change manager"),
            "{}",
            notice.subject
        );
        assert!(notice.body.contains("Runs what the Change manager runs"));

        let twice = store
            .assign_role(t, change.id, bob, in_days(0), "", &me)
            .await
            .expect_err("twice");
        assert!(refused(twice, "user_id").starts_with("This person already holds Change manager"));
        assert!(matches!(
            store
                .assign_role(other, change.id, bob, in_days(0), "", &me)
                .await,
            Err(StoreError::NotFound)
        ));
        let stranger = user(&store, other, "sam@beta.test", Role::Agent).await;
        let foreign = store
            .assign_role(t, change.id, stranger, in_days(0), "", &me)
            .await
            .expect_err("not ours");
        assert_eq!(
            refused(foreign, "user_id"),
            "The holder must be an active person of this organisation"
        );

        // Ended (never before it began), kept as history; the hand-over is current first.
        let early = store
            .end_role_assignment(t, a.id, in_days(-11), &me)
            .await
            .expect_err("before start");
        assert!(refused(early, "to_date").starts_with("The end date cannot be before"));
        assert!(matches!(
            store
                .end_role_assignment(other, a.id, in_days(0), &me)
                .await,
            Err(StoreError::NotFound)
        ));
        let ended = store
            .end_role_assignment(t, a.id, in_days(0), &me)
            .await
            .expect("ended");
        assert_eq!(
            (ended.to_date, ended.ended_by),
            (Some(in_days(0)), Some(ann))
        );
        assert!(
            store
                .end_role_assignment(t, a.id, in_days(1), &me)
                .await
                .is_err()
        );
        let next = store
            .assign_role(t, change.id, ann, in_days(0), "Hand-over", &me)
            .await
            .expect("next holder");
        let history = store.role_assignments(t, change.id).await.expect("history");
        assert_eq!(
            history.iter().map(|h| h.id).collect::<Vec<_>>(),
            vec![next.id, a.id]
        );
        let holders = store
            .current_role_holders(t, in_days(0))
            .await
            .expect("holders");
        assert_eq!(
            holders.iter().map(|h| h.user_id).collect::<Vec<_>>(),
            vec![ann]
        );
        assert!(matches!(
            store.role_assignments(other, change.id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(journaled(&store, t, "sms_role", change.id).await, 1);
        assert_eq!(journaled(&store, t, "role_assignment", a.id).await, 2);

        // Edited only as last seen; retired only once nobody holds it; then not assignable.
        let mut edit = change.draft();
        edit.conformity_lead = true;
        let stale = store
            .update_sms_role(t, change.id, change.updated_at - 1, &edit, false, &me)
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))));
        let held = store
            .update_sms_role(t, change.id, change.updated_at, &edit, true, &me)
            .await
            .expect_err("still held");
        assert_eq!(
            refused(held, "retired"),
            "Change manager is still held: end its assignments before retiring it"
        );
        let renamed = store
            .update_sms_role(
                t,
                audit.id,
                audit.updated_at,
                &role("Change manager"),
                false,
                &me,
            )
            .await
            .expect_err("name taken");
        assert_eq!(
            refused(renamed, "name"),
            "A role named Change manager already exists"
        );
        store
            .end_role_assignment(t, next.id, in_days(0), &me)
            .await
            .expect("ended");
        let retired = store
            .update_sms_role(t, change.id, change.updated_at, &edit, true, &me)
            .await
            .expect("retired");
        assert!(retired.retired && retired.conformity_lead);
        let late = store
            .assign_role(t, change.id, bob, in_days(5), "", &me)
            .await
            .expect_err("retired");
        assert_eq!(
            refused(late, "role_id"),
            "The role Change manager is retired and can no longer be assigned"
        );
        let names: Vec<String> = store
            .sms_roles(t)
            .await
            .expect("roles")
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, vec!["Auditor", "Change manager"]);
        assert!(matches!(
            store.sms_role(other, change.id).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_backends!(
    the_raci_matrix_is_replaced_a_row_at_a_time,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let owner = store
            .create_sms_role(t, &role("Incident manager"), &Actor::cli())
            .await
            .expect("role");
        let desk = store
            .create_sms_role(t, &role("Service desk"), &Actor::cli())
            .await
            .expect("role");
        let theirs = store
            .create_sms_role(other, &role("Intruder"), &Actor::cli())
            .await
            .expect("role");

        let matrix = store.raci(t).await.expect("matrix");
        assert_eq!(matrix.len(), PROCESSES.len());
        assert!(matrix.iter().all(|r| r.cells.is_empty()));

        let row = store
            .set_raci_row(
                t,
                "8.6.1",
                &[
                    (desk.id, RaciLetter::Responsible),
                    (owner.id, RaciLetter::Accountable),
                ],
                &Actor::cli(),
            )
            .await
            .expect("row");
        assert_eq!(row.accountable(), Some(owner.id));
        assert_eq!(row.letter_of(desk.id), Some(RaciLetter::Responsible));

        // Refused rows change nothing.
        let none = store
            .set_raci_row(
                t,
                "8.6.1",
                &[(desk.id, RaciLetter::Responsible)],
                &Actor::cli(),
            )
            .await
            .expect_err("no owner");
        assert_eq!(
            refused(none, "accountable"),
            "Exactly one role must be accountable for Incident management"
        );
        let foreign = store
            .set_raci_row(
                t,
                "8.6.1",
                &[(theirs.id, RaciLetter::Accountable)],
                &Actor::cli(),
            )
            .await
            .expect_err("another tenant's role");
        assert!(refused(foreign, "entries").contains("is not a role of the SMS"));
        assert!(matches!(
            store
                .set_raci_row(
                    t,
                    "4.1",
                    &[(owner.id, RaciLetter::Accountable)],
                    &Actor::cli()
                )
                .await,
            Err(StoreError::NotFound)
        ));
        let matrix = store.raci(t).await.expect("matrix");
        let incident = matrix.iter().find(|r| r.process == "8.6.1").expect("row");
        assert_eq!(incident, &row);
        assert!(
            store
                .raci(other)
                .await
                .expect("matrix")
                .iter()
                .all(|r| r.cells.is_empty())
        );

        // Replaced whole; the role in it cannot be retired.
        let replaced = store
            .set_raci_row(
                t,
                "8.6.1",
                &[(desk.id, RaciLetter::Accountable)],
                &Actor::cli(),
            )
            .await
            .expect("replaced");
        assert_eq!(replaced.cells.len(), 1);
        assert_eq!(journaled(&store, t, "raci_row", 80_601).await, 2);
        let stuck = store
            .update_sms_role(
                t,
                desk.id,
                desk.updated_at,
                &desk.draft(),
                true,
                &Actor::cli(),
            )
            .await
            .expect_err("in the matrix");
        assert_eq!(
            refused(stuck, "retired"),
            "Service desk still has a part in Incident management: take it out of the RACI \
             matrix first"
        );
    }
);

both_backends!(
    the_role_evidence_rules_show_met_and_gap,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let bob = user(&store, t, "bob@acme.test", Role::Agent).await;
        let now = Period::days(in_days(-30), in_days(0)).expect("period");
        let status =
            |results: &std::collections::HashMap<RuleId, RuleResult>, rule| results[&rule].status;
        let results = store.rule_results(t, now).await.expect("rules");
        for (rule, expected) in [
            (RuleId::ProcessesHaveOwner, MachineStatus::Gap),
            (RuleId::RolesHeld, MachineStatus::NotYetEvaluable),
            (RuleId::ConformityLeadAssigned, MachineStatus::Gap),
            (RuleId::PerformanceReporterAssigned, MachineStatus::Gap),
            (
                RuleId::NoDepartedRoleHolders,
                MachineStatus::NotYetEvaluable,
            ),
        ] {
            assert_eq!(status(&results, rule), expected, "{rule:?}");
        }
        assert_eq!(
            results[&RuleId::ProcessesHaveOwner].failing_count,
            PROCESSES.len()
        );

        let mut lead = role("SMS manager");
        lead.conformity_lead = true;
        lead.reports_performance = true;
        let lead = store
            .create_sms_role(t, &lead, &Actor::cli())
            .await
            .expect("role");
        for p in PROCESSES {
            store
                .set_raci_row(
                    t,
                    p.id,
                    &[(lead.id, RaciLetter::Accountable)],
                    &Actor::cli(),
                )
                .await
                .expect("row");
        }
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ProcessesHaveOwner),
            MachineStatus::Met
        );
        assert_eq!(status(&results, RuleId::RolesHeld), MachineStatus::Gap);
        assert_eq!(results[&RuleId::RolesHeld].failing[0].label, "SMS manager");

        // Held by Ann from a week ago: held, led, reported; Bob's assignment starts tomorrow
        // and so counts for nothing yet.
        store
            .assign_role(t, lead.id, ann, in_days(-7), "", &Actor::cli())
            .await
            .expect("assigned");
        store
            .assign_role(t, lead.id, bob, in_days(1), "", &Actor::cli())
            .await
            .expect("assigned");
        let results = store.rule_results(t, now).await.expect("rules");
        for rule in [
            RuleId::RolesHeld,
            RuleId::ConformityLeadAssigned,
            RuleId::PerformanceReporterAssigned,
            RuleId::NoDepartedRoleHolders,
        ] {
            assert_eq!(status(&results, rule), MachineStatus::Met, "{rule:?}");
        }
        assert_eq!(results[&RuleId::NoDepartedRoleHolders].population, 1);

        // Ann leaves without handing over: a departed holder, and nobody active leads.
        deactivate(&store, t, ann).await;
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::NoDepartedRoleHolders),
            MachineStatus::Gap
        );
        assert_eq!(
            results[&RuleId::NoDepartedRoleHolders].failing[0].label,
            "SMS manager: ann"
        );
        assert_eq!(
            status(&results, RuleId::ConformityLeadAssigned),
            MachineStatus::Gap
        );
        assert_eq!(
            status(&results, RuleId::PerformanceReporterAssigned),
            MachineStatus::Gap
        );
    }
);
