//! The management system's registers on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set,
//! PostgreSQL: risks and opportunities with their reviews, objectives with hand-measured and
//! computed readings, and the improvement register's lifecycle. Every write is journaled and no
//! tenant sees another's entries.

use steward_domain::access::Role;
use steward_domain::sms::improvement::{
    ImprovementDraft, ImprovementSource, ImprovementStatus, ImprovementStep, Priority,
};
use steward_domain::sms::objective::{Direction, Kpi, ObjectiveDraft, ObjectiveStatus, Standing};
use steward_domain::sms::risk::{Rating, RiskDraft, RiskKind, RiskStatus, Treatment};
use steward_store::asset::today_utc;
use steward_store::incident::IncidentFields;
use steward_store::sms::improvement::ImprovementFilter;
use steward_store::sms::objective::last_months;
use steward_store::sms::risk::RiskFilter;
use steward_store::testing::{in_days, journaled};
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

fn risk(owner: i64) -> RiskDraft {
    RiskDraft {
        kind: RiskKind::Risk,
        title: "Single data centre".into(),
        description: "Every live service runs in one building.".into(),
        area: "Service continuity".into(),
        inherent: Rating {
            likelihood: 2,
            impact: 5,
        },
        treatment: Treatment::Mitigate,
        treatment_plan: "Second site by Q3".into(),
        residual: Some(Rating {
            likelihood: 1,
            impact: 5,
        }),
        owner_id: Some(owner),
        review_date: in_days(90),
    }
    .validate(today_utc())
    .expect("valid risk")
}

both_backends!(
    risks_keep_every_assessment_and_close_for_good,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let owner = user(&store, t, "rita@acme.test", Role::Manager).await;
        let r = store
            .create_risk(t, &risk(owner), &Actor::cli())
            .await
            .expect("risk");
        assert_eq!((r.status, r.inherent.score()), (RiskStatus::Open, 10));

        // A new rating is an assessment; a new title alone is not.
        let mut d = r.draft();
        d.inherent.likelihood = 3;
        let r2 = store
            .update_risk(t, r.id, r.updated_at, &d, &Actor::cli())
            .await
            .expect("reassessed");
        let mut d = r2.draft();
        d.title = "One data centre".into();
        let r3 = store
            .update_risk(t, r.id, r2.updated_at, &d, &Actor::cli())
            .await
            .expect("renamed");
        assert!(matches!(
            store
                .update_risk(t, r.id, r.updated_at, &d, &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        let reviewed = store
            .review_risk(
                t,
                r.id,
                in_days(180),
                "Second site contract signed",
                today_utc(),
                &Actor::cli(),
            )
            .await
            .expect("reviewed");
        assert_eq!(reviewed.review_date, in_days(180));
        let reviews = store.risk_reviews(t, r.id).await.expect("reviews");
        let notes: Vec<&str> = reviews.iter().map(|r| r.note.as_str()).collect();
        assert_eq!(
            notes,
            ["Recorded", "Reassessed", "Second site contract signed"]
        );
        assert_eq!(reviews[1].inherent.likelihood, 3);

        // A review needs a note and a later date.
        let refused = store
            .review_risk(t, r.id, today_utc(), " ", today_utc(), &Actor::cli())
            .await;
        match refused {
            Err(StoreError::Invalid(e)) => {
                assert!(e.message_for("note").is_some());
                assert!(e.message_for("review_date").is_some());
            }
            other => panic!("expected invalid, got {other:?}"),
        }

        let closed = store
            .close_risk(t, r.id, "Second site live", &Actor::cli())
            .await
            .expect("closed");
        assert_eq!(closed.status, RiskStatus::Closed);
        assert!(matches!(
            store
                .update_risk(t, r.id, closed.updated_at, &r3.draft(), &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(journaled(&store, t, "risk", r.id).await, 5);

        // The other tenant sees nothing of it, and an owner must be one of the tenant's users.
        assert!(matches!(
            store.risk(other, r.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.create_risk(other, &risk(owner), &Actor::cli()).await,
            Err(StoreError::Invalid(_))
        ));
    }
);

both_backends!(
    the_risk_list_filters_and_the_heat_map_counts_open_entries,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let owner = user(&store, t, "rita@acme.test", Role::Manager).await;
        let a = store
            .create_risk(t, &risk(owner), &Actor::cli())
            .await
            .expect("a");
        let mut opportunity = risk(owner);
        opportunity.kind = RiskKind::Opportunity;
        opportunity.treatment = Treatment::Exploit;
        store
            .create_risk(t, &opportunity, &Actor::cli())
            .await
            .expect("b");
        let closed = store
            .create_risk(t, &risk(owner), &Actor::cli())
            .await
            .expect("c");
        store
            .close_risk(t, closed.id, "Gone", &Actor::cli())
            .await
            .expect("closed");
        let risks = store
            .risks(
                t,
                &RiskFilter {
                    kind: Some(RiskKind::Risk),
                    status: Some(RiskStatus::Open),
                    review_before: None,
                },
                &PageRequest::default(),
            )
            .await
            .expect("list");
        assert_eq!(risks.items.iter().map(|r| r.id).collect::<Vec<_>>(), [a.id]);
        let overdue = store
            .risks(
                t,
                &RiskFilter {
                    review_before: Some(in_days(100)),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("overdue");
        assert_eq!(
            overdue.items.len(),
            2,
            "both open entries fall due before day 100"
        );
        let ratings = store
            .open_risk_ratings(t, RiskKind::Risk)
            .await
            .expect("ratings");
        assert_eq!(
            ratings,
            [Rating {
                likelihood: 2,
                impact: 5
            }]
        );
        // Pages follow one another without repeats.
        let first = store
            .risks(
                t,
                &RiskFilter::default(),
                &PageRequest {
                    limit: Some(2),
                    cursor: None,
                },
            )
            .await
            .expect("page 1");
        let second = store
            .risks(
                t,
                &RiskFilter::default(),
                &PageRequest {
                    limit: Some(2),
                    cursor: first.next_cursor.clone(),
                },
            )
            .await
            .expect("page 2");
        assert_eq!(first.items.len() + second.items.len(), 3);
        assert!(second.next_cursor.is_none());
    }
);

fn objective(owner: i64, kpi: Kpi) -> ObjectiveDraft {
    ObjectiveDraft {
        title: "Customer satisfaction above 4.2".into(),
        description: String::new(),
        kpi,
        direction: Direction::AtLeast,
        target: 4.2,
        unit: "points".into(),
        owner_id: Some(owner),
        due_date: Some(in_days(200)),
        status: ObjectiveStatus::Active,
    }
    .validate()
    .expect("valid objective")
}

both_backends!(
    hand_measured_objectives_keep_one_value_a_month,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let owner = user(&store, t, "olga@acme.test", Role::Manager).await;
        let o = store
            .create_objective(t, &objective(owner, Kpi::Manual), &Actor::cli())
            .await
            .expect("objective");
        assert_eq!(o.target, 4.2);
        let (first, this_month) = last_months(today_utc(), 12);
        let last_month = this_month.prev();
        store
            .record_measurement(t, o.id, last_month, 3.9, "Survey Q3", &Actor::cli())
            .await
            .expect("measured");
        store
            .record_measurement(
                t,
                o.id,
                last_month,
                4.4,
                "Survey Q3, recounted",
                &Actor::cli(),
            )
            .await
            .expect("replaced");
        let kept = store.measurements(t, o.id).await.expect("measurements");
        assert_eq!(kept.len(), 1);
        assert_eq!(
            (kept[0].value, kept[0].note.as_str()),
            (4.4, "Survey Q3, recounted")
        );
        let readings = store
            .readings(t, &o, first, this_month)
            .await
            .expect("readings");
        assert_eq!(readings.len(), 12);
        assert_eq!(readings[10].value, Some(4.4));
        assert_eq!(readings[11].value, None);
        assert_eq!(
            Standing::of(&readings, o.direction, o.target),
            Standing::OnTarget
        );
        // A month to come cannot be measured; the measure cannot change once measured.
        assert!(matches!(
            store
                .record_measurement(t, o.id, this_month.next(), 1.0, "", &Actor::cli())
                .await,
            Err(StoreError::Invalid(_))
        ));
        let current = store.objective(t, o.id).await.expect("objective");
        let mut d = current.draft();
        d.kpi = Kpi::MajorIncidents;
        assert!(matches!(
            store
                .update_objective(t, o.id, current.updated_at, &d, &Actor::cli())
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(journaled(&store, t, "objective", o.id).await, 3);
    }
);

both_backends!(
    computed_objectives_read_steward_records,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let owner = user(&store, t, "olga@acme.test", Role::Manager).await;
        let mut d = objective(owner, Kpi::MajorIncidents);
        d.direction = Direction::AtMost;
        d.target = 0.0;
        let o = store
            .create_objective(t, &d.validate().expect("valid"), &Actor::cli())
            .await
            .expect("objective");
        assert_eq!(o.unit, "incidents");
        let (first, this_month) = last_months(today_utc(), 3);
        let quiet = store
            .readings(t, &o, first, this_month)
            .await
            .expect("readings");
        assert_eq!(quiet.last().and_then(|r| r.value), Some(0.0));
        assert_eq!(
            Standing::of(&quiet, o.direction, o.target),
            Standing::OnTarget
        );
        let incident = store
            .create_incident(
                t,
                &IncidentFields::new("Data centre power lost", steward_store::now_micros()),
                &Actor::cli(),
            )
            .await
            .expect("incident");
        store
            .declare_major(t, incident.id, owner, &Actor::cli())
            .await
            .expect("major");
        let after = store
            .readings(t, &o, first, this_month)
            .await
            .expect("readings");
        assert_eq!(after.last().and_then(|r| r.value), Some(1.0));
        assert_eq!(
            Standing::of(&after, o.direction, o.target),
            Standing::OffTarget
        );
        // Nothing is typed in for a computed objective.
        assert!(matches!(
            store
                .record_measurement(t, o.id, this_month, 2.0, "", &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
    }
);

fn improvement(owner: i64) -> ImprovementDraft {
    ImprovementDraft {
        title: "Self-service password reset".into(),
        description: "Half of the desk's calls are password resets.".into(),
        source: ImprovementSource::Measurement,
        source_ref: None,
        evaluation_criteria: "Under five days' work; no new licence".into(),
        expected_benefit: "30% fewer calls".into(),
        priority: Priority::High,
        owner_id: Some(owner),
        target_date: Some(in_days(60)),
    }
    .validate()
    .expect("valid improvement")
}

both_backends!(
    improvements_are_decided_worked_and_closed_with_their_benefit,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let owner = user(&store, t, "ivan@acme.test", Role::Manager).await;
        let i = store
            .create_improvement(t, &improvement(owner), &Actor::cli())
            .await
            .expect("improvement");
        assert_eq!(i.status, ImprovementStatus::Proposed);

        // A decision needs its reason; a step out of turn is refused and changes nothing.
        assert!(matches!(
            store
                .step_improvement(t, i.id, ImprovementStep::Approve, " ", &Actor::cli())
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            store
                .step_improvement(t, i.id, ImprovementStep::Close, "Done", &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        let mut status = ImprovementStatus::Proposed;
        for (step, note) in [
            (ImprovementStep::Defer, "After the migration"),
            (ImprovementStep::Reconsider, ""),
            (ImprovementStep::Approve, "Cheap and wanted"),
            (ImprovementStep::Start, ""),
            (ImprovementStep::Implement, "Live since Monday"),
            (
                ImprovementStep::Close,
                "Password calls down 41% in the first month",
            ),
        ] {
            status = store
                .step_improvement(t, i.id, step, note, &Actor::cli())
                .await
                .expect("step")
                .status;
        }
        assert_eq!(status, ImprovementStatus::Closed);
        let closed = store.improvement(t, i.id).await.expect("improvement");
        assert_eq!(closed.decision_reason, "Cheap and wanted");
        assert_eq!(
            closed.benefit_realised,
            "Password calls down 41% in the first month"
        );
        assert!(closed.decided_at.is_some());
        let steps = store.improvement_steps(t, i.id).await.expect("steps");
        assert_eq!(steps.len(), 6);
        assert_eq!(
            (steps[0].from_status.as_str(), steps[0].to_status.as_str()),
            ("proposed", "deferred")
        );
        // Closed is kept as decided.
        assert!(matches!(
            store
                .update_improvement(t, i.id, closed.updated_at, &closed.draft(), &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(journaled(&store, t, "improvement", i.id).await, 7);

        let listed = store
            .improvements(
                t,
                &ImprovementFilter {
                    status: Some(ImprovementStatus::Closed),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 1);
        assert!(matches!(
            store.improvement(other, i.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.improvement_steps(other, i.id).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_backends!(
    the_register_evidence_rules_show_met_and_gap,
    |store: Store| async move {
        use steward_domain::conformance::rules::{MachineStatus, RuleId};
        use steward_store::conformance::Period;
        let t = tenant(&store, "Acme").await;
        let owner = user(&store, t, "rita@acme.test", Role::Manager).await;
        // The last 60 days, ending today; and a period ending a year on.
        let now = Period::days(in_days(-60), in_days(0)).expect("period");
        let later = Period::days(in_days(300), in_days(365)).expect("period");
        let status = |results: &std::collections::HashMap<
            RuleId,
            steward_domain::conformance::readiness::RuleResult,
        >,
                      rule| results[&rule].status;
        let results = store.rule_results(t, now).await.expect("rules");
        for (rule, expected) in [
            (RuleId::RisksReviewedOnTime, MachineStatus::NotYetEvaluable),
            (RuleId::HighRisksTreated, MachineStatus::NotYetEvaluable),
            (RuleId::ObjectivesSet, MachineStatus::Gap),
            (RuleId::ImprovementsDecided, MachineStatus::NotYetEvaluable),
            (RuleId::ImprovementsRealised, MachineStatus::Gap),
        ] {
            assert_eq!(status(&results, rule), expected, "{rule:?}");
        }

        // A high risk, accepted without an owner: untreated. Reviewed by day 90: on time now,
        // overdue by the later period's end.
        let mut high = risk(owner);
        high.inherent = Rating {
            likelihood: 4,
            impact: 4,
        };
        high.residual = None;
        high.treatment = Treatment::Accept;
        high.owner_id = None;
        let high = store
            .create_risk(t, &high, &Actor::cli())
            .await
            .expect("risk");
        store
            .create_objective(t, &objective(owner, Kpi::Manual), &Actor::cli())
            .await
            .expect("objective");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::HighRisksTreated),
            MachineStatus::Gap
        );
        assert_eq!(
            results[&RuleId::HighRisksTreated].failing[0].label,
            "Single data centre"
        );
        assert_eq!(
            status(&results, RuleId::RisksReviewedOnTime),
            MachineStatus::Met
        );
        assert_eq!(status(&results, RuleId::ObjectivesSet), MachineStatus::Met);
        let results = store.rule_results(t, later).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::RisksReviewedOnTime),
            MachineStatus::Gap
        );
        let mut treated = high.draft();
        treated.treatment = Treatment::Mitigate;
        treated.owner_id = Some(owner);
        store
            .update_risk(t, high.id, high.updated_at, &treated, &Actor::cli())
            .await
            .expect("treated");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::HighRisksTreated),
            MachineStatus::Met
        );

        // An improvement raised today is not yet due a decision; closed with its benefit, it
        // shows that improvement happened.
        let i = store
            .create_improvement(t, &improvement(owner), &Actor::cli())
            .await
            .expect("improvement");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ImprovementsDecided),
            MachineStatus::NotYetEvaluable
        );
        let month_on = Period::days(in_days(-1), in_days(40)).expect("period");
        let results = store.rule_results(t, month_on).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ImprovementsDecided),
            MachineStatus::Gap
        );
        for (step, note) in [
            (ImprovementStep::Approve, "Yes"),
            (ImprovementStep::Implement, "Done"),
            (ImprovementStep::Close, "Calls down 30%"),
        ] {
            store
                .step_improvement(t, i.id, step, note, &Actor::cli())
                .await
                .expect("step");
        }
        let results = store.rule_results(t, month_on).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ImprovementsDecided),
            MachineStatus::Met
        );
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::ImprovementsRealised),
            MachineStatus::Met
        );
    }
);
