//! Business relationship management (8.3.2) on SQLite and, when `STEWARD_TEST_DATABASE_URL`
//! is set, PostgreSQL: relationship owners and review frequencies, service reviews, surveys,
//! ticket ratings, complaints through their lifecycle with escalation and the records raised
//! from them, the reminders, the evidence rules and the management review's inputs. Every
//! write is journaled and no tenant sees another's records.

use steward_domain::access::Role;
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::incident::Status;
use steward_domain::relationship::RelationshipDraft;
use steward_domain::relationship::complaint::{
    Channel, ComplaintDraft, ComplaintStatus, ComplaintStep, EscalationDraft, StepInput,
};
use steward_domain::relationship::review::CustomerReviewDraft;
use steward_domain::relationship::satisfaction::{RatingDraft, SurveyDraft};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_store::asset::today_utc;
use steward_store::conformance::Period;
use steward_store::incident::IncidentFields;
use steward_store::relationship::complaint::ComplaintFilter;
use steward_store::testing::{in_days, journaled};
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends, now_micros};

async fn customer(store: &Store, t: i64, name: &str) -> i64 {
    store
        .create_customer(
            t,
            &CustomerDraft {
                name: name.into(),
                notes: String::new(),
            },
            &Actor::cli(),
        )
        .await
        .expect("customer")
        .id
}

fn complaint(customer_id: i64, owner: i64, received_days_ago: i64) -> ComplaintDraft {
    ComplaintDraft {
        customer_id: Some(customer_id),
        service_id: None,
        complainant: "Hank Scorpio".into(),
        received_on: in_days(-received_days_ago),
        channel: Channel::Phone,
        summary: "Payroll outage went unexplained for a day".into(),
        details: "Nobody told finance what was happening.".into(),
        owner_id: Some(owner),
        target_date: None,
    }
}

fn invalid_field(r: Result<impl std::fmt::Debug, StoreError>, field: &str) {
    match r {
        Err(StoreError::Invalid(e)) => assert!(e.message_for(field).is_some(), "{e:?}"),
        other => panic!("expected a field error on {field}: {other:?}"),
    }
}

both_backends!(
    relationship_owner_must_be_active_and_reviews_are_kept,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let rita = user(&store, t, "rita@acme.test", Role::Manager).await;
        let gone = user(&store, t, "gone@acme.test", Role::Agent).await;
        let stranger = user(&store, other, "sam@beta.test", Role::Manager).await;
        store
            .update_user(
                t,
                gone,
                &steward_domain::user::UserDraft {
                    email: "gone@acme.test".into(),
                    name: "gone".into(),
                    role: Role::Agent,
                    active: false,
                },
                &Actor::cli(),
            )
            .await
            .expect("deactivated");
        let globex = customer(&store, t, "Globex").await;
        let fresh = store.customer(t, globex).await.expect("read");
        assert_eq!(fresh.review_frequency_months, 6);
        assert_eq!(fresh.relationship_owner_id, None);

        for (owner, months, field) in [
            (Some(gone), 6, "relationship_owner_id"),
            (Some(stranger), 6, "relationship_owner_id"),
            (Some(rita), 25, "review_frequency_months"),
        ] {
            invalid_field(
                store
                    .set_customer_relationship(
                        t,
                        globex,
                        &RelationshipDraft {
                            relationship_owner_id: owner,
                            review_frequency_months: months,
                        },
                        &Actor::cli(),
                    )
                    .await,
                field,
            );
        }
        let set = store
            .set_customer_relationship(
                t,
                globex,
                &RelationshipDraft {
                    relationship_owner_id: Some(rita),
                    review_frequency_months: 3,
                },
                &Actor::cli(),
            )
            .await
            .expect("set");
        assert_eq!(set.relationship_owner_id, Some(rita));
        assert_eq!(set.review_frequency_months, 3);
        assert_eq!(journaled(&store, t, "customer", globex).await, 2);

        let review = CustomerReviewDraft {
            held_on: in_days(-10),
            attendees: "Rita, Hank".into(),
            performance: "Resolution attainment up from 91% to 96%".into(),
            outcomes: "Keep the extended desk hours".into(),
            requirement_changes: "Weekend cover for payroll week".into(),
            change_id: None,
            improvement_id: Some(999_999),
        };
        invalid_field(
            store
                .record_customer_review(t, globex, &review, today_utc(), &Actor::cli())
                .await,
            "improvement_id",
        );
        let mut future = review.clone();
        future.improvement_id = None;
        future.held_on = in_days(1);
        invalid_field(
            store
                .record_customer_review(t, globex, &future, today_utc(), &Actor::cli())
                .await,
            "held_on",
        );
        let mut ok = review.clone();
        ok.improvement_id = None;
        let held = store
            .record_customer_review(t, globex, &ok, today_utc(), &Actor::cli())
            .await
            .expect("review");
        assert_eq!(
            held.period_from,
            in_days(-10)
                .checked_sub(jiff::Span::new().months(3))
                .expect("date")
        );
        assert_eq!(journaled(&store, t, "customer_review", held.id).await, 1);
        assert_eq!(
            store.customer_reviews(t, globex).await.expect("list").len(),
            1
        );
        assert!(
            store
                .customer_attainment(t, globex, held.period_from, held.held_on)
                .await
                .expect("attainment")
                .is_empty()
        );
        assert!(matches!(
            store.customer_reviews(other, globex).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_backends!(
    complaints_move_in_order_with_what_each_step_needs,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let rita = user(&store, t, "rita@acme.test", Role::Manager).await;
        let globex = customer(&store, t, "Globex").await;
        let today = today_utc();

        let mut bad = complaint(globex, rita, 0);
        bad.received_on = in_days(1);
        bad.customer_id = Some(customer(&store, other, "Initech").await);
        let refused = store.create_complaint(t, &bad, today, &Actor::cli()).await;
        invalid_field(refused, "received_on");
        let mut foreign = complaint(globex, rita, 0);
        foreign.customer_id = bad.customer_id;
        invalid_field(
            store
                .create_complaint(t, &foreign, today, &Actor::cli())
                .await,
            "customer_id",
        );

        let c = store
            .create_complaint(t, &complaint(globex, rita, 2), today, &Actor::cli())
            .await
            .expect("complaint");
        assert_eq!(c.status, ComplaintStatus::Received);
        assert_eq!(c.target_date, in_days(8));
        assert!(!c.overdue(today));

        // Out of order is a conflict; actioned without findings a field error.
        assert!(matches!(
            store
                .transition_complaint(
                    t,
                    c.id,
                    ComplaintStep::Close,
                    StepInput::default(),
                    today,
                    &Actor::cli()
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        store
            .transition_complaint(
                t,
                c.id,
                ComplaintStep::Investigate,
                StepInput::default(),
                today,
                &Actor::cli(),
            )
            .await
            .expect("investigating");
        invalid_field(
            store
                .transition_complaint(
                    t,
                    c.id,
                    ComplaintStep::Action,
                    StepInput::default(),
                    today,
                    &Actor::cli(),
                )
                .await,
            "findings",
        );
        let actioned = store
            .transition_complaint(
                t,
                c.id,
                ComplaintStep::Action,
                StepInput {
                    findings: "The status page was not updated".into(),
                    action_taken: "Comms duty added to the major-incident rota".into(),
                    ..StepInput::default()
                },
                today,
                &Actor::cli(),
            )
            .await
            .expect("actioned");
        assert_eq!(actioned.status, ComplaintStatus::Actioned);
        let mut close = StepInput {
            closed_on: Some(today),
            outcome: "Apologised and explained the new rota".into(),
            ..StepInput::default()
        };
        invalid_field(
            store
                .transition_complaint(
                    t,
                    c.id,
                    ComplaintStep::Close,
                    close.clone(),
                    today,
                    &Actor::cli(),
                )
                .await,
            "customer_informed",
        );
        close.customer_informed = true;
        let closed = store
            .transition_complaint(t, c.id, ComplaintStep::Close, close, today, &Actor::cli())
            .await
            .expect("closed");
        assert_eq!(closed.status, ComplaintStatus::Closed);
        assert_eq!(closed.closed_on, Some(today));
        assert!(matches!(
            store
                .update_complaint(
                    t,
                    c.id,
                    None,
                    &complaint(globex, rita, 2),
                    today,
                    &Actor::cli()
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        let history = store.complaint_history(t, c.id).await.expect("history");
        assert_eq!(
            history
                .iter()
                .map(|h| h.to_status.as_str())
                .collect::<Vec<_>>(),
            ["received", "investigating", "actioned", "closed"]
        );
        assert_eq!(journaled(&store, t, "complaint", c.id).await, 4);
        assert!(matches!(
            store.complaint(other, c.id).await,
            Err(StoreError::NotFound)
        ));
    }
);

both_backends!(
    overdue_complaints_are_escalated_reminded_and_raise_records,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let rita = user(&store, t, "rita@acme.test", Role::Manager).await;
        let globex = customer(&store, t, "Globex").await;
        let today = today_utc();
        let late = store
            .create_complaint(t, &complaint(globex, rita, 20), today, &Actor::cli())
            .await
            .expect("complaint");
        let on_time = store
            .create_complaint(t, &complaint(globex, rita, 1), today, &Actor::cli())
            .await
            .expect("complaint");
        assert!(late.overdue(today));
        let escalation = EscalationDraft {
            escalated_to: "Head of service".into(),
            reason: "No answer after three weeks".into(),
        };
        invalid_field(
            store
                .escalate_complaint(t, on_time.id, &escalation, today, &Actor::cli())
                .await,
            "escalated_to",
        );
        let e = store
            .escalate_complaint(t, late.id, &escalation, today, &Actor::cli())
            .await
            .expect("escalated");
        assert_eq!(e.escalated_on, today);
        assert_eq!(journaled(&store, t, "complaint_escalation", e.id).await, 1);

        let overdue = store
            .complaints(
                t,
                &ComplaintFilter {
                    overdue_on: Some(today),
                    ..ComplaintFilter::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("list");
        assert_eq!(
            overdue.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            [late.id]
        );

        // The owner is mailed once about the late one.
        let sent = store
            .send_complaint_reminders(t, today, |c, name| {
                (format!("{} {name}", c.key()), String::new())
            })
            .await
            .expect("sent");
        assert_eq!(sent.len(), 1);
        let again = store
            .send_complaint_reminders(t, today, |c, _| (c.key(), String::new()))
            .await
            .expect("sent");
        assert!(again.is_empty());

        // A nonconformity and an improvement, each once, linked both ways.
        let linked = store
            .raise_nonconformity_from_complaint(t, late.id, &Actor::cli())
            .await
            .expect("nc");
        let nc = linked.nonconformity_id.expect("nc id");
        assert_eq!(
            store
                .complaint_of_nonconformity(t, nc)
                .await
                .expect("back")
                .map(|c| c.id),
            Some(late.id)
        );
        assert!(matches!(
            store
                .raise_nonconformity_from_complaint(t, late.id, &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        let linked = store
            .propose_improvement_from_complaint(t, late.id, &Actor::cli())
            .await
            .expect("improvement");
        let imp = linked.improvement_id.expect("improvement id");
        let improvement = store.improvement(t, imp).await.expect("read");
        assert_eq!(improvement.source_ref, Some(late.id));

        // Evidence: the late one was escalated; the on-time one is within target.
        let period = Period::year_to(now_micros());
        let results = store.rule_results(t, period).await.expect("rules");
        assert_eq!(
            results[&RuleId::ComplaintsHandled].status,
            MachineStatus::Gap
        );
        assert_eq!(
            results[&RuleId::OverdueComplaintsEscalated].status,
            MachineStatus::Met
        );
        assert_eq!(
            results[&RuleId::ImprovementsFromCustomerFeedback].status,
            MachineStatus::Met
        );
    }
);

both_backends!(
    satisfaction_is_surveyed_and_rated_by_requesters,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let rita = user(&store, t, "rita@acme.test", Role::Manager).await;
        let req = user(&store, t, "hank@acme.test", Role::Requester).await;
        let someone = user(&store, t, "else@acme.test", Role::Requester).await;
        let today = today_utc();
        let survey = SurveyDraft {
            customer_id: None,
            service_id: None,
            conducted_on: in_days(-5),
            sample_size: 40,
            responses: 41,
            average_score: Some(4.16),
            analysis: "Slow password resets".into(),
            improvement_id: None,
        };
        invalid_field(
            store.record_survey(t, &survey, today, &Actor::cli()).await,
            "responses",
        );
        let mut ok = survey.clone();
        ok.responses = 22;
        let s = store
            .record_survey(t, &ok, today, &Actor::cli())
            .await
            .expect("survey");
        assert_eq!(s.average_tenths, Some(42));
        assert_eq!(s.average_text(), "4.2");

        let mut f = IncidentFields::new("VPN drops", now_micros());
        f.requester_user_id = Some(req);
        let open = store
            .create_incident(t, &f, &Actor::cli())
            .await
            .expect("incident");
        let rating = RatingDraft {
            score: 2,
            comment: "Took three days".into(),
        };
        assert!(matches!(
            store
                .rate_incident(t, open.id, req, &rating, &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));
        let mut resolved = IncidentFields::from(&open);
        resolved.status = Status::Resolved;
        resolved.resolution_code = Some("fixed".into());
        resolved.resolution_notes = "Replaced the router".into();
        resolved.resolved_at = Some(now_micros());
        let done = store
            .update_incident(t, open.id, open.updated_at, &resolved, &Actor::cli())
            .await
            .expect("resolved");
        assert!(matches!(
            store
                .rate_incident(t, done.id, someone, &rating, &Actor::cli())
                .await,
            Err(StoreError::NotFound)
        ));
        let first = store
            .rate_incident(t, done.id, req, &rating, &Actor::cli())
            .await
            .expect("rated");
        let changed = store
            .rate_incident(
                t,
                done.id,
                req,
                &RatingDraft {
                    score: 4,
                    comment: String::new(),
                },
                &Actor::cli(),
            )
            .await
            .expect("changed");
        assert_eq!(first.id, changed.id);
        assert_eq!(changed.score, 4);
        assert_eq!(journaled(&store, t, "ticket_rating", first.id).await, 2);
        let months = store.rating_months(t, now_micros()).await.expect("months");
        assert_eq!(months.len(), 12);
        assert_eq!(months[11].count, 1);
        assert_eq!(months[11].average, Some(4.0));
        assert_eq!(store.lowest_rated(t, 0, 5).await.expect("low").len(), 1);

        // Management review inputs and the survey rule.
        let inputs = store
            .satisfaction_inputs(t, in_days(-30), today)
            .await
            .expect("inputs");
        assert_eq!(inputs.surveys.len(), 1);
        assert_eq!(inputs.survey_average, Some(4.2));
        assert_eq!(inputs.ratings, 1);
        let results = store
            .rule_results(t, Period::year_to(now_micros()))
            .await
            .expect("rules");
        assert_eq!(
            results[&RuleId::SatisfactionSurveyed].status,
            MachineStatus::Met
        );
        let _ = rita;
    }
);

both_backends!(
    customer_rules_judge_customers_with_live_services,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let rita = user(&store, t, "rita@acme.test", Role::Manager).await;
        let globex = customer(&store, t, "Globex").await;
        let period = Period::year_to(now_micros());
        let status = |r: &std::collections::HashMap<
            RuleId,
            steward_domain::conformance::readiness::RuleResult,
        >,
                      id| r[&id].status;
        let results = store.rule_results(t, period).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CustomersHaveRelationshipOwner),
            MachineStatus::Gap
        );
        assert_eq!(
            status(&results, RuleId::RelationshipsHaveOwner),
            MachineStatus::Gap
        );
        assert_eq!(
            status(&results, RuleId::CustomerServicesReviewed),
            MachineStatus::NotYetEvaluable
        );
        assert_eq!(
            status(&results, RuleId::SatisfactionSurveyed),
            MachineStatus::Gap
        );

        let service = store
            .create_service(
                t,
                &ServiceDraft {
                    name: "Payroll".into(),
                    description: String::new(),
                    owner_id: Some(rita),
                    criticality: Criticality::High,
                    status: ServiceStatus::Live,
                }
                .validate()
                .expect("service"),
                &Actor::cli(),
            )
            .await
            .expect("service");
        store
            .set_service_customers(t, service.id, &[globex], &Actor::cli())
            .await
            .expect("linked");
        let results = store.rule_results(t, period).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::CustomersHaveContacts),
            MachineStatus::Gap
        );
        assert_eq!(
            status(&results, RuleId::CustomerServicesReviewed),
            MachineStatus::Gap
        );

        store
            .set_customer_relationship(
                t,
                globex,
                &RelationshipDraft {
                    relationship_owner_id: Some(rita),
                    review_frequency_months: 6,
                },
                &Actor::cli(),
            )
            .await
            .expect("owner");
        store
            .create_contact(
                t,
                globex,
                &ContactDraft {
                    name: "Hank".into(),
                    email: "hank@globex.test".into(),
                    phone: String::new(),
                },
                &Actor::cli(),
            )
            .await
            .expect("contact");
        store
            .record_customer_review(
                t,
                globex,
                &CustomerReviewDraft {
                    held_on: in_days(-40),
                    attendees: "Rita, Hank".into(),
                    performance: "Steady".into(),
                    outcomes: "None needed".into(),
                    requirement_changes: String::new(),
                    change_id: None,
                    improvement_id: None,
                },
                today_utc(),
                &Actor::cli(),
            )
            .await
            .expect("review");
        let results = store.rule_results(t, period).await.expect("rules");
        for rule in [
            RuleId::CustomersHaveRelationshipOwner,
            RuleId::RelationshipsHaveOwner,
            RuleId::CustomersHaveContacts,
            RuleId::CustomerServicesReviewed,
        ] {
            assert_eq!(status(&results, rule), MachineStatus::Met, "{rule:?}");
        }
        // The management review's complaint inputs count by customer.
        store
            .create_complaint(t, &complaint(globex, rita, 30), today_utc(), &Actor::cli())
            .await
            .expect("complaint");
        let inputs = store
            .complaint_inputs(t, in_days(-60), today_utc(), today_utc())
            .await
            .expect("inputs");
        assert_eq!((inputs.received, inputs.open, inputs.overdue), (1, 1, 1));
        assert_eq!(inputs.by_customer[0].customer, "Globex");
    }
);
