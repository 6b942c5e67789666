//! Management reviews (9.3) on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set,
//! PostgreSQL: the lifecycle and its refusals, inputs compiled from real records and frozen
//! once the review is held, actions tracked after closure, the evidence rules, and tenant
//! isolation.

use jiff::civil::Date;
use steward_domain::access::Role;
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::sms::document::{Classification, DocumentDraft, DocumentKind, VersionDraft};
use steward_domain::sms::improvement::{ImprovementDraft, ImprovementSource, Priority};
use steward_domain::sms::objective::{Direction, Kpi, ObjectiveDraft, ObjectiveStatus};
use steward_domain::sms::review::{ActionDraft, ReviewDraft, ReviewStatus, ReviewStep};
use steward_domain::sms::risk::{Rating, RiskDraft, RiskKind, Treatment};
use steward_store::asset::today_utc;
use steward_store::conformance::Period;
use steward_store::document::{Document, DocumentVersion};
use steward_store::incident::IncidentFields;
use steward_store::sms::review::ReviewFilter;
use steward_store::testing::{in_days, journaled};
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

fn review(chair: i64, planned_in_days: i64) -> steward_domain::sms::review::ValidReview {
    ReviewDraft {
        title: "Annual management review".into(),
        planned_on: in_days(planned_in_days),
        period_from: None,
        period_to: None,
        chair_id: Some(chair),
        attendees: "Managing director\nService manager".into(),
    }
    .validate()
    .expect("valid review")
}

fn action(owner: i64, due: Date) -> ActionDraft {
    ActionDraft {
        description: "Fund the second site".into(),
        owner_id: Some(owner),
        due_on: due,
    }
}

both_backends!(
    a_review_is_held_on_frozen_inputs_and_closed_with_decisions,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let chair = user(&store, t, "mia@acme.test", Role::Manager).await;
        let r = store
            .create_management_review(t, &review(chair, 10), &Actor::cli())
            .await
            .expect("review");
        assert_eq!(r.status, ReviewStatus::Planned);
        assert_eq!(r.period_to, in_days(9));
        assert!(r.inputs.is_none());

        // Holding needs compiled inputs and minutes; closing needs holding first.
        match store
            .step_management_review(t, r.id, ReviewStep::Hold, "Met", &Actor::cli())
            .await
        {
            Err(StoreError::Invalid(e)) => assert!(e.message_for("inputs").is_some()),
            other => panic!("expected invalid, got {other:?}"),
        }
        assert!(matches!(
            store
                .step_management_review(t, r.id, ReviewStep::Close, "Go", &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));

        // The inputs count real records of the period.
        store
            .create_incident(
                t,
                &IncidentFields::new("Mail down", steward_store::now_micros()),
                &Actor::cli(),
            )
            .await
            .expect("incident");
        let risk = RiskDraft {
            kind: RiskKind::Risk,
            title: "Single data centre".into(),
            description: String::new(),
            area: "Continuity".into(),
            inherent: Rating {
                likelihood: 4,
                impact: 5,
            },
            treatment: Treatment::Mitigate,
            treatment_plan: "Second site".into(),
            residual: None,
            owner_id: Some(chair),
            review_date: in_days(30),
        }
        .validate(today_utc())
        .expect("valid risk");
        store
            .create_risk(t, &risk, &Actor::cli())
            .await
            .expect("risk");
        let improvement = ImprovementDraft {
            title: "Self-service resets".into(),
            description: String::new(),
            source: ImprovementSource::Staff,
            source_ref: None,
            evaluation_criteria: String::new(),
            expected_benefit: String::new(),
            priority: Priority::Medium,
            owner_id: None,
            target_date: None,
        }
        .validate()
        .expect("valid improvement");
        store
            .create_improvement(t, &improvement, &Actor::cli())
            .await
            .expect("improvement");
        // A new policy version is a change in the SMS's context.
        let approver = user(&store, t, "ada@acme.test", Role::Admin).await;
        let policy = DocumentDraft {
            reference: "SMS-POL-01".into(),
            title: "Service management policy".into(),
            kind: DocumentKind::Policy,
            owner_id: chair,
            review_months: 12,
            retention_years: 6,
            classification: Classification::Internal,
            distribution_users: vec![],
            distribution_teams: vec![],
        }
        .validate()
        .expect("valid document");
        let policy = store
            .create_document(t, &policy, &Actor::cli())
            .await
            .expect("document");
        let text = VersionDraft {
            body: "We run our services to ISO/IEC 20000-1.".into(),
            change_summary: "Now covers the hosting services".into(),
        }
        .validate()
        .expect("valid version");
        let now = steward_store::now_micros();
        let chair_actor = Actor::user(chair, "mia@acme.test");
        let v = store
            .create_document_version(t, policy.id, &text, now, &chair_actor)
            .await
            .expect("version");
        store
            .submit_document_version(t, policy.id, v.number, approver, now, &chair_actor)
            .await
            .expect("submitted");
        let no_notice = |_: &Document, _: &DocumentVersion, name: &str| {
            ("Approved".to_owned(), format!("Hello {name}"))
        };
        store
            .approve_document_version(
                t,
                policy.id,
                v.number,
                now,
                &Actor::user(approver, "ada@acme.test"),
                &no_notice,
            )
            .await
            .expect("approved");
        let compiled = store
            .compile_review_inputs(t, r.id, &Actor::cli())
            .await
            .expect("compiled");
        let inputs = compiled.inputs.clone().expect("inputs");
        assert_eq!(inputs.incidents.raised, 1);
        assert_eq!(inputs.context.risks_recorded, 1);
        assert_eq!(inputs.context.opportunities_recorded, 0);
        let changed: Vec<(&str, i64, &str)> = inputs
            .context
            .documents
            .iter()
            .map(|d| (d.reference.as_str(), d.version, d.change_summary.as_str()))
            .collect();
        assert_eq!(
            changed,
            [("SMS-POL-01", v.number, "Now covers the hosting services")]
        );
        let very_high = inputs
            .risks
            .open_by_level
            .iter()
            .find(|l| l.key == "very_high")
            .expect("level");
        assert_eq!(very_high.count, 1);
        let proposed = inputs
            .improvements
            .by_status
            .iter()
            .find(|s| s.key == "proposed")
            .expect("status");
        assert_eq!(proposed.count, 1);
        // Complaints and satisfaction are compiled from their registers now (8.3.2).
        assert!(inputs.not_recorded.iter().all(|n| !n.contains("omplaints")));
        assert!(
            inputs
                .not_recorded
                .iter()
                .all(|n| !n.contains("satisfaction"))
        );
        assert_eq!(inputs.complaints.received, 0);
        assert!(inputs.satisfaction.surveys.is_empty());
        assert!(
            !inputs.not_recorded.iter().any(|n| n.contains("Supplier")),
            "supplier performance is compiled from the supplier register"
        );
        assert!(inputs.conformance.met + inputs.conformance.gap + inputs.conformance.open > 0);
        assert_eq!(inputs.sla.target, None, "no SLA attainment objective yet");
        // The SLA bars are held against the SLA attainment objective's target once there is one.
        let objective = ObjectiveDraft {
            title: "SLA attainment".into(),
            description: String::new(),
            kpi: Kpi::SlaAttainment,
            direction: Direction::AtLeast,
            target: 97.5,
            unit: String::new(),
            owner_id: Some(chair),
            due_date: None,
            status: ObjectiveStatus::Active,
        }
        .validate()
        .expect("valid objective");
        store
            .create_objective(t, &objective, &Actor::cli())
            .await
            .expect("objective");
        let recompiled = store
            .compile_review_inputs(t, r.id, &Actor::cli())
            .await
            .expect("compiled");
        assert_eq!(recompiled.inputs.map(|i| i.sla.target), Some(Some(97.5)));

        // Compiled again as often as wanted until held; then frozen.
        store
            .create_incident(
                t,
                &IncidentFields::new("Mail down again", steward_store::now_micros()),
                &Actor::cli(),
            )
            .await
            .expect("incident");
        // A meeting written up afterwards is held on its day, never on a day still to come.
        match store
            .hold_management_review(t, r.id, "Met", Some(in_days(1)), &Actor::cli())
            .await
        {
            Err(StoreError::Invalid(e)) => assert!(e.message_for("held_on").is_some()),
            other => panic!("expected invalid, got {other:?}"),
        }
        let held = store
            .hold_management_review(
                t,
                r.id,
                " Met for two hours ",
                Some(in_days(-3)),
                &Actor::cli(),
            )
            .await
            .expect("held");
        let held_day = held
            .held_at
            .and_then(|at| jiff::Timestamp::from_microsecond(at).ok())
            .map(|at| at.to_zoned(jiff::tz::TimeZone::UTC).date());
        assert_eq!(held_day, Some(in_days(-3)));
        assert_eq!(held.status, ReviewStatus::Held);
        assert_eq!(held.minutes, "Met for two hours");
        assert_eq!(held.inputs.as_ref().map(|i| i.incidents.raised), Some(1));
        assert!(matches!(
            store.compile_review_inputs(t, r.id, &Actor::cli()).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .step_management_review(t, r.id, ReviewStep::Cancel, "No", &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .step_management_review(t, r.id, ReviewStep::Close, " ", &Actor::cli())
                .await,
            Err(StoreError::Invalid(_))
        ));
        let closed = store
            .step_management_review(
                t,
                r.id,
                ReviewStep::Close,
                "Fund a second site",
                &Actor::cli(),
            )
            .await
            .expect("closed");
        assert_eq!(closed.decisions, "Fund a second site");
        assert!(matches!(
            store
                .update_management_review(
                    t,
                    r.id,
                    closed.updated_at,
                    &review(chair, 10),
                    &Actor::cli()
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        // Planned, compiled twice, held, closed.
        assert_eq!(journaled(&store, t, "management_review", r.id).await, 5);

        let listed = store
            .management_reviews(
                t,
                &ReviewFilter {
                    status: Some(ReviewStatus::Closed),
                },
                &PageRequest::default(),
            )
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 1);
        assert!(matches!(
            store.management_review(other, r.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .compile_review_inputs(other, r.id, &Actor::cli())
                .await,
            Err(StoreError::NotFound)
        ));
    }
);

both_backends!(
    actions_are_tracked_after_the_review_and_counted_by_the_next,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let chair = user(&store, t, "mia@acme.test", Role::Manager).await;
        let first = store
            .create_management_review(t, &review(chair, -30), &Actor::cli())
            .await
            .expect("review");
        let stale = review(chair, -30);
        let edited = store
            .update_management_review(t, first.id, first.updated_at, &stale, &Actor::cli())
            .await
            .expect("edited");
        assert!(matches!(
            store
                .update_management_review(t, first.id, first.updated_at, &stale, &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        let overdue = store
            .add_review_action(t, first.id, &action(chair, in_days(-2)), &Actor::cli())
            .await
            .expect("action");
        let done = store
            .add_review_action(t, first.id, &action(chair, in_days(20)), &Actor::cli())
            .await
            .expect("action");
        assert!(overdue.overdue(today_utc()));
        assert!(matches!(
            store
                .add_review_action(
                    t,
                    first.id,
                    &ActionDraft {
                        owner_id: Some(999_999),
                        ..action(chair, in_days(1))
                    },
                    &Actor::cli()
                )
                .await,
            Err(StoreError::Invalid(_))
        ));
        store
            .compile_review_inputs(t, first.id, &Actor::cli())
            .await
            .expect("compiled");
        store
            .step_management_review(t, first.id, ReviewStep::Hold, "Met", &Actor::cli())
            .await
            .expect("held");
        store
            .step_management_review(t, first.id, ReviewStep::Close, "Decided", &Actor::cli())
            .await
            .expect("closed");
        // Completed after the review closed: that is the point.
        let completed = store
            .complete_review_action(t, first.id, done.id, " Contract signed ", &Actor::cli())
            .await
            .expect("done");
        assert_eq!(completed.done_note, "Contract signed");
        assert_eq!(completed.done_on, Some(today_utc()));
        assert!(matches!(
            store
                .complete_review_action(t, first.id, done.id, "", &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .complete_review_action(other, first.id, overdue.id, "", &Actor::cli())
                .await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(journaled(&store, t, "review_action", done.id).await, 2);
        assert_eq!(
            store
                .review_actions(t, first.id)
                .await
                .expect("actions")
                .len(),
            2
        );

        // The next review sees the earlier one's actions: one done, one open and overdue.
        let next = store
            .create_management_review(t, &review(chair, 20), &Actor::cli())
            .await
            .expect("review");
        let inputs = store
            .compile_review_inputs(t, next.id, &Actor::cli())
            .await
            .expect("compiled")
            .inputs
            .expect("inputs");
        assert_eq!(
            (
                inputs.earlier_actions.done,
                inputs.earlier_actions.open,
                inputs.earlier_actions.overdue
            ),
            (1, 1, 1)
        );
        assert_eq!(inputs.earlier_actions.open_actions[0].id, overdue.id);
        assert_eq!(edited.status, ReviewStatus::Planned);

        // A cancelled review needs a reason and decides nothing.
        let cancelled = store
            .step_management_review(t, next.id, ReviewStep::Cancel, "Merged", &Actor::cli())
            .await
            .expect("cancelled");
        assert_eq!(cancelled.cancel_reason, "Merged");
        assert!(matches!(
            store
                .add_review_action(t, next.id, &action(chair, in_days(3)), &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
    }
);

both_backends!(
    the_review_evidence_rules_show_met_and_gap,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let chair = user(&store, t, "mia@acme.test", Role::Manager).await;
        let period = Period::days(in_days(-60), in_days(0)).expect("period");
        let status = |results: &std::collections::HashMap<
            RuleId,
            steward_domain::conformance::readiness::RuleResult,
        >,
                      rule| results[&rule].status;
        let results = store.rule_results(t, period).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ManagementReviewHeld),
            MachineStatus::Gap
        );
        assert_eq!(
            status(&results, RuleId::ReviewActionsClosed),
            MachineStatus::NotYetEvaluable
        );

        let r = store
            .create_management_review(t, &review(chair, 0), &Actor::cli())
            .await
            .expect("review");
        let late = store
            .add_review_action(t, r.id, &action(chair, in_days(-5)), &Actor::cli())
            .await
            .expect("action");
        // Planned is not held.
        let results = store.rule_results(t, period).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ManagementReviewHeld),
            MachineStatus::Gap
        );
        assert_eq!(
            status(&results, RuleId::ReviewActionsClosed),
            MachineStatus::Gap
        );

        store
            .compile_review_inputs(t, r.id, &Actor::cli())
            .await
            .expect("compiled");
        store
            .step_management_review(t, r.id, ReviewStep::Hold, "Met", &Actor::cli())
            .await
            .expect("held");
        let results = store.rule_results(t, period).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ManagementReviewHeld),
            MachineStatus::Met
        );
        // Done today, after its due date: still late.
        store
            .complete_review_action(t, r.id, late.id, "", &Actor::cli())
            .await
            .expect("done");
        let results = store.rule_results(t, period).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ReviewActionsClosed),
            MachineStatus::Gap
        );
        // An action due today and done today is on time.
        let earlier = Period::days(in_days(-60), in_days(-10)).expect("period");
        let on_time = store
            .add_review_action(t, r.id, &action(chair, in_days(0)), &Actor::cli())
            .await
            .expect("action");
        store
            .complete_review_action(t, r.id, on_time.id, "", &Actor::cli())
            .await
            .expect("done");
        let today_only = Period::days(in_days(0), in_days(0)).expect("period");
        let results = store.rule_results(t, today_only).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ReviewActionsClosed),
            MachineStatus::Met
        );
        let results = store.rule_results(t, earlier).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ReviewActionsClosed),
            MachineStatus::NotYetEvaluable
        );
    }
);
