//! Supplier management (8.3.4) on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set,
//! PostgreSQL: the register with its owner and services, contract versions with approval and
//! review, performance reviews that raise improvements in their own transaction, disputes and
//! their lifecycle, UC links with attainment, the evidence rules, the reminders sent once, and
//! the management review's input. Every write is journaled; no tenant sees another's suppliers.

use std::collections::HashMap;
use steward_domain::access::Role;
use steward_domain::conformance::readiness::RuleResult;
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_domain::sms::improvement::ImprovementSource;
use steward_domain::supplier::contract::{ContractDraft, ContractReviewDraft, ContractStatus};
use steward_domain::supplier::dispute::{DisputeDraft, DisputeState, DisputeStep, StepInput};
use steward_domain::supplier::evidence::{Flag, ReminderKind};
use steward_domain::supplier::review::{PerformanceReviewDraft, Rating};
use steward_domain::supplier::{EvaluationResult, SupplierDraft, SupplierKind, SupplierStatus};
use steward_store::asset::today_utc;
use steward_store::conformance::Period;
use steward_store::supplier::SupplierFilter;
use steward_store::testing::{in_days, journaled};
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

fn supplier(name: &str, kind: SupplierKind, owner: i64) -> SupplierDraft {
    SupplierDraft {
        name: name.into(),
        kind,
        supplies: "WAN links between the offices".into(),
        owner_id: Some(owner),
        contacts: "NOC: noc@carrier.example, +44 20 7946 0000".into(),
        escalation: "NOC, then account manager, then service director".into(),
        status: SupplierStatus::Active,
        service_ids: vec![],
        evaluation_criteria: "Coverage, price, four-hour restore".into(),
        evaluation_result: Some(EvaluationResult::Approved),
        evaluated_on: Some(in_days(-400)),
        evaluator_id: Some(owner),
    }
    .validate(today_utc())
    .expect("valid supplier")
}

fn contract(starts: i64, ends: Option<i64>, impact: &str) -> ContractDraft {
    ContractDraft {
        reference: "UC-NET-01".into(),
        scope: "Both office links".into(),
        requirements: "99.9 % availability".into(),
        obligations: "Restore within 4 hours".into(),
        responsibilities: "Carrier runs the links; we report faults".into(),
        starts_on: in_days(starts),
        ends_on: ends.map(in_days),
        review_months: 12,
        impact: impact.into(),
    }
}

/// A supplier with an approved first contract that started `starts` days from today.
async fn contracted(store: &Store, t: i64, name: &str, owner: i64, starts: i64) -> (i64, i64) {
    let s = store
        .create_supplier(
            t,
            &supplier(name, SupplierKind::External, owner),
            &Actor::cli(),
        )
        .await
        .expect("supplier");
    let c = store
        .create_supplier_contract(t, s.id, contract(starts, None, ""), &Actor::cli())
        .await
        .expect("contract");
    store
        .approve_supplier_contract(
            t,
            s.id,
            c.id,
            in_days(starts - 5),
            today_utc(),
            &Actor::cli(),
        )
        .await
        .expect("approved");
    (s.id, c.id)
}

fn field_of(e: StoreError) -> String {
    match e {
        StoreError::Invalid(i) => i.errors[0].field.clone(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

both_backends!(
    suppliers_are_registered_journaled_and_kept_per_tenant,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Globex").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let service = store
            .create_service(
                t,
                &steward_domain::service::ServiceDraft {
                    name: "Network".into(),
                    description: String::new(),
                    owner_id: None,
                    criticality: steward_domain::service::Criticality::High,
                    status: steward_domain::service::ServiceStatus::Live,
                },
                &Actor::cli(),
            )
            .await
            .expect("service");
        let mut draft = supplier("Northwind Carrier", SupplierKind::External, ann);
        draft.service_ids = vec![service.id];
        let s = store
            .create_supplier(t, &draft, &Actor::cli())
            .await
            .expect("created");
        assert_eq!(s.service_ids, vec![service.id]);
        assert_eq!(journaled(&store, t, "supplier", s.id).await, 1);

        let twice = store.create_supplier(t, &draft, &Actor::cli()).await;
        assert_eq!(field_of(twice.expect_err("duplicate")), "name");
        let mut foreign_service = supplier("Other", SupplierKind::Internal, ann);
        foreign_service.service_ids = vec![service.id + 999];
        let refused = store
            .create_supplier(t, &foreign_service, &Actor::cli())
            .await;
        assert_eq!(field_of(refused.expect_err("service")), "service_ids");
        let stranger = user(&store, other, "zed@globex.test", Role::Manager).await;
        let refused = store
            .create_supplier(
                t,
                &supplier("Stranger", SupplierKind::External, stranger),
                &Actor::cli(),
            )
            .await;
        assert_eq!(field_of(refused.expect_err("owner")), "owner_id");

        let mut ended = s.draft();
        ended.status = SupplierStatus::Ended;
        let saved = store
            .update_supplier(t, s.id, s.updated_at, &ended, &Actor::cli())
            .await
            .expect("ended");
        assert_eq!(saved.status, SupplierStatus::Ended);
        let stale = store
            .update_supplier(t, s.id, s.updated_at, &ended, &Actor::cli())
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        assert_eq!(journaled(&store, t, "supplier", s.id).await, 2);

        assert!(matches!(
            store.supplier(other, s.id).await,
            Err(StoreError::NotFound)
        ));
        for name in ["Bravo Print", "Alpha Cloud", "Charlie Catering"] {
            store
                .create_supplier(
                    t,
                    &supplier(name, SupplierKind::Internal, ann),
                    &Actor::cli(),
                )
                .await
                .expect("more");
        }
        let page = PageRequest {
            limit: Some(2),
            cursor: None,
        };
        let first = store
            .suppliers(t, &SupplierFilter::default(), &page)
            .await
            .expect("list");
        let names: Vec<_> = first.items.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Alpha Cloud", "Bravo Print"]);
        let rest = store
            .suppliers(
                t,
                &SupplierFilter::default(),
                &PageRequest {
                    limit: Some(2),
                    cursor: first.next_cursor,
                },
            )
            .await
            .expect("next page");
        let names: Vec<_> = rest.items.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Charlie Catering", "Northwind Carrier"]);
        let ended_only = SupplierFilter {
            status: Some(SupplierStatus::Ended),
            ..Default::default()
        };
        let found = store
            .suppliers(t, &ended_only, &PageRequest::default())
            .await
            .expect("filtered");
        assert_eq!(found.items.len(), 1);
        let none = store
            .suppliers(other, &SupplierFilter::default(), &PageRequest::default())
            .await
            .expect("other tenant");
        assert!(none.items.is_empty());
    }
);

both_backends!(
    contracts_are_versioned_approved_before_they_start_and_reviewed,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let s = store
            .create_supplier(
                t,
                &supplier("Northwind", SupplierKind::External, ann),
                &Actor::cli(),
            )
            .await
            .expect("supplier");
        let today = today_utc();
        let v1 = store
            .create_supplier_contract(t, s.id, contract(-100, None, ""), &Actor::cli())
            .await
            .expect("first version");
        assert_eq!((v1.version, v1.status), (1, ContractStatus::Draft));
        let late = store
            .approve_supplier_contract(t, s.id, v1.id, in_days(-99), today, &Actor::cli())
            .await;
        assert_eq!(field_of(late.expect_err("after the start")), "approved_on");
        let v1 = store
            .approve_supplier_contract(t, s.id, v1.id, in_days(-110), today, &Actor::cli())
            .await
            .expect("approved");
        assert_eq!(v1.approved_by, None, "the CLI approved it");
        let again = store
            .approve_supplier_contract(t, s.id, v1.id, in_days(-110), today, &Actor::cli())
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))));

        let no_impact = store
            .create_supplier_contract(t, s.id, contract(10, None, ""), &Actor::cli())
            .await;
        assert_eq!(field_of(no_impact.expect_err("impact")), "impact");
        let v2 = store
            .create_supplier_contract(
                t,
                s.id,
                contract(10, Some(375), "Adds the third office; no SLA changes"),
                &Actor::cli(),
            )
            .await
            .expect("second version");
        assert_eq!(v2.version, 2);
        let draft_review = store
            .review_supplier_contract(
                t,
                s.id,
                v2.id,
                ContractReviewDraft {
                    reviewed_on: today,
                    still_fits: true,
                    notes: "Checked".into(),
                },
                today,
                &Actor::cli(),
            )
            .await;
        assert!(matches!(draft_review, Err(StoreError::Conflict(_))));
        let (reviewed, review) = store
            .review_supplier_contract(
                t,
                s.id,
                v1.id,
                ContractReviewDraft {
                    reviewed_on: in_days(-1),
                    still_fits: false,
                    notes: "Bandwidth no longer enough for the video service".into(),
                },
                today,
                &Actor::cli(),
            )
            .await
            .expect("reviewed");
        assert_eq!(reviewed.reviewed_on, Some(in_days(-1)));
        assert!(!review.still_fits);
        assert_eq!(journaled(&store, t, "supplier_contract", v1.id).await, 3);
        assert_eq!(
            journaled(&store, t, "supplier_contract_review", review.id).await,
            1
        );
        let all = store.supplier_contracts(t, s.id).await.expect("versions");
        assert_eq!(
            all.iter().map(|c| c.version).collect::<Vec<_>>(),
            vec![2, 1]
        );
        assert_eq!(
            store
                .supplier_contract_reviews(t, s.id)
                .await
                .expect("reviews")
                .len(),
            1
        );
        // A version of another supplier is not found through this one.
        let other = store
            .create_supplier(
                t,
                &supplier("Other", SupplierKind::External, ann),
                &Actor::cli(),
            )
            .await
            .expect("other");
        let wrong = store
            .approve_supplier_contract(t, other.id, v2.id, in_days(-1), today, &Actor::cli())
            .await;
        assert!(matches!(wrong, Err(StoreError::NotFound)));
    }
);

fn review(rating: Rating, raise: bool, improvement_id: Option<i64>) -> PerformanceReviewDraft {
    PerformanceReviewDraft {
        held_on: in_days(-2),
        period_from: in_days(-92),
        period_to: in_days(-3),
        rating,
        targets_missed: if rating == Rating::Meets {
            String::new()
        } else {
            "Restore within 4 hours: missed twice".into()
        },
        notes: "Quarterly review with the account manager".into(),
        improvement_id,
        raise_improvement: raise,
    }
}

both_backends!(
    a_shortfall_raises_an_improvement_in_the_same_transaction,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let (s, _) = contracted(&store, t, "Northwind", ann, -200).await;
        let today = today_utc();
        let refused = store
            .create_supplier_review(
                t,
                s,
                review(Rating::PartlyMeets, false, None),
                today,
                &Actor::cli(),
            )
            .await;
        assert_eq!(
            field_of(refused.expect_err("no improvement")),
            "improvement"
        );
        let unknown = store
            .create_supplier_review(
                t,
                s,
                review(Rating::Fails, false, Some(424_242)),
                today,
                &Actor::cli(),
            )
            .await;
        assert_eq!(field_of(unknown.expect_err("unknown")), "improvement");

        let r = store
            .create_supplier_review(
                t,
                s,
                review(Rating::PartlyMeets, true, None),
                today,
                &Actor::cli(),
            )
            .await
            .expect("review");
        let raised = store
            .improvement(t, r.improvement_id.expect("raised"))
            .await
            .expect("improvement");
        assert_eq!(raised.source, ImprovementSource::Supplier);
        assert_eq!(raised.source_ref, Some(r.id));
        assert_eq!(raised.owner_id, Some(ann));
        assert!(raised.title.contains("Northwind"));
        assert_eq!(journaled(&store, t, "supplier_review", r.id).await, 1);
        assert_eq!(journaled(&store, t, "improvement", raised.id).await, 1);

        let linked = store
            .create_supplier_review(
                t,
                s,
                review(Rating::Fails, false, Some(raised.id)),
                today,
                &Actor::cli(),
            )
            .await
            .expect("linked");
        assert_eq!(linked.improvement_id, Some(raised.id));
        let fine = store
            .create_supplier_review(
                t,
                s,
                review(Rating::Meets, false, None),
                today,
                &Actor::cli(),
            )
            .await
            .expect("meets");
        assert_eq!(fine.improvement_id, None);
        assert_eq!(store.supplier_reviews(t, s).await.expect("list").len(), 3);
    }
);

both_backends!(
    disputes_follow_their_lifecycle_with_a_history,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let (s, _) = contracted(&store, t, "Northwind", ann, -200).await;
        let today = today_utc();
        let d = store
            .create_supplier_dispute(
                t,
                s,
                DisputeDraft {
                    raised_on: in_days(-40),
                    subject: "Invoice for unused circuits".into(),
                    details: "Billed for two circuits cancelled in March".into(),
                },
                today,
                &Actor::cli(),
            )
            .await
            .expect("dispute");
        assert_eq!(d.state, DisputeState::Open);
        let flags = store.supplier_flags(t, today).await.expect("flags");
        assert!(flags[&s].contains(&Flag::DisputesOverdue { count: 1 }));

        let step = |to: DisputeStep, who: &str, note: &str| {
            let store = store.clone();
            let input = StepInput {
                escalated_to: who.into(),
                note: note.into(),
            };
            async move {
                store
                    .step_supplier_dispute(t, s, d.id, to, input, &Actor::cli())
                    .await
            }
        };
        let missing = step(DisputeStep::Escalate, "", "").await;
        assert!(matches!(missing, Err(StoreError::Invalid(_))));
        let early = step(DisputeStep::Close, "", "").await;
        assert!(matches!(early, Err(StoreError::Conflict(_))));
        let escalated = step(
            DisputeStep::Escalate,
            "Carrier account director",
            "No answer in 40 days",
        )
        .await
        .expect("escalated");
        assert_eq!(escalated.escalated_to, "Carrier account director");
        let flags = store.supplier_flags(t, today).await.expect("flags");
        assert!(!flags[&s].contains(&Flag::DisputesOverdue { count: 1 }));
        step(DisputeStep::Resolve, "", "Credit note for both circuits")
            .await
            .expect("resolved");
        let closed = step(DisputeStep::Close, "", "").await.expect("closed");
        assert_eq!(closed.state, DisputeState::Closed);
        assert_eq!(closed.resolution, "Credit note for both circuits");
        let history = store.supplier_dispute_steps(t, s).await.expect("steps");
        let moves: Vec<_> = history
            .iter()
            .map(|h| (h.from_state.as_str(), h.to_state.as_str()))
            .collect();
        assert_eq!(
            moves,
            [
                ("open", "escalated"),
                ("escalated", "resolved"),
                ("resolved", "closed")
            ]
        );
        assert_eq!(journaled(&store, t, "supplier_dispute", d.id).await, 4);
    }
);

both_backends!(
    ucs_are_linked_and_their_attainment_read,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let (s, _) = contracted(&store, t, "Northwind", ann, -200).await;
        let target = Target {
            metric: "resolution".into(),
            priority: None,
            minutes: 240,
        };
        let mut uc = AgreementDraft::new(
            "Northwind restore",
            AgreementKind::Uc,
            RecordKind::Incident,
            vec![target.clone()],
        );
        uc.supplier = "Northwind".into();
        let uc = store
            .create_agreement(t, &uc.validate().expect("uc"), &Actor::cli())
            .await
            .expect("uc stored");
        let sla = AgreementDraft::new(
            "Standard",
            AgreementKind::Sla,
            RecordKind::Incident,
            vec![target],
        );
        let sla = store
            .create_agreement(t, &sla.validate().expect("sla"), &Actor::cli())
            .await
            .expect("sla stored");
        let wrong = store.set_supplier_ucs(t, s, &[sla.id], &Actor::cli()).await;
        assert_eq!(field_of(wrong.expect_err("an SLA")), "agreement_ids");
        let linked = store
            .set_supplier_ucs(t, s, &[uc.id, uc.id], &Actor::cli())
            .await
            .expect("linked");
        assert_eq!(linked.uc_agreement_ids, vec![uc.id]);
        assert_eq!(
            store
                .suppliers_of_agreement(t, uc.id)
                .await
                .expect("back link"),
            vec![(s, "Northwind".to_owned())]
        );
        let now = jiff::Timestamp::now().as_microsecond();
        let rows = store
            .supplier_uc_attainment(t, &linked, now - 365 * 86_400_000_000, now)
            .await
            .expect("attainment");
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].total, rows[0].percent), (0, None));
        let cleared = store
            .set_supplier_ucs(t, s, &[], &Actor::cli())
            .await
            .expect("cleared");
        assert!(cleared.uc_agreement_ids.is_empty());
        assert_eq!(journaled(&store, t, "supplier", s).await, 3);
    }
);

fn status(results: &HashMap<RuleId, RuleResult>, rule: RuleId) -> MachineStatus {
    results[&rule].status
}

both_backends!(
    the_supplier_evidence_rules_show_met_and_gap,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let now = Period::days(in_days(-365), in_days(0)).expect("period");
        let rules = [
            RuleId::SuppliersHaveOwner,
            RuleId::SuppliersEvaluatedBeforeContract,
            RuleId::SupplierContractsCurrent,
            RuleId::SupplierInterfacesDefined,
            RuleId::SupplierPerformanceReviewed,
            RuleId::SupplierContractsReviewed,
            RuleId::SupplierContractChangesAssessed,
            RuleId::SupplierDisputesEscalated,
            RuleId::InternalSuppliersHaveOwner,
            RuleId::InternalSupplierAgreementsCurrent,
            RuleId::InternalSupplierPerformanceReviewed,
        ];
        let results = store.rule_results(t, now).await.expect("rules");
        for rule in rules {
            assert_eq!(
                status(&results, rule),
                MachineStatus::NotYetEvaluable,
                "{rule:?}"
            );
        }

        // An external supplier contracted 500 days ago, evaluated after its contract began,
        // never reviewed, with a dispute open for 40 days.
        let (s, c) = contracted(&store, t, "Northwind", ann, -500).await;
        store
            .create_supplier_dispute(
                t,
                s,
                DisputeDraft {
                    raised_on: in_days(-40),
                    subject: "Invoice".into(),
                    details: String::new(),
                },
                today_utc(),
                &Actor::cli(),
            )
            .await
            .expect("dispute");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::SuppliersHaveOwner),
            MachineStatus::Met
        );
        assert_eq!(
            status(&results, RuleId::SupplierContractsCurrent),
            MachineStatus::Met
        );
        assert_eq!(
            status(&results, RuleId::SupplierInterfacesDefined),
            MachineStatus::Met
        );
        for gap in [
            RuleId::SuppliersEvaluatedBeforeContract,
            RuleId::SupplierPerformanceReviewed,
            RuleId::SupplierContractsReviewed,
            RuleId::SupplierDisputesEscalated,
        ] {
            assert_eq!(status(&results, gap), MachineStatus::Gap, "{gap:?}");
        }
        assert_eq!(
            results[&RuleId::SupplierPerformanceReviewed].failing[0].label,
            "Northwind"
        );

        // Put right: reviewed, contract reviewed, evaluated before, dispute escalated.
        let today = today_utc();
        store
            .create_supplier_review(
                t,
                s,
                review(Rating::Meets, false, None),
                today,
                &Actor::cli(),
            )
            .await
            .expect("review");
        store
            .review_supplier_contract(
                t,
                s,
                c,
                ContractReviewDraft {
                    reviewed_on: today,
                    still_fits: true,
                    notes: "Fits".into(),
                },
                today,
                &Actor::cli(),
            )
            .await
            .expect("contract review");
        let current = store.supplier(t, s).await.expect("supplier");
        let mut evaluated = current.draft();
        evaluated.evaluated_on = Some(in_days(-600));
        store
            .update_supplier(t, s, current.updated_at, &evaluated, &Actor::cli())
            .await
            .expect("evaluation");
        let dispute = store.supplier_disputes(t, s).await.expect("disputes")[0].id;
        store
            .step_supplier_dispute(
                t,
                s,
                dispute,
                DisputeStep::Escalate,
                StepInput {
                    escalated_to: "Director".into(),
                    note: "Stuck".into(),
                },
                &Actor::cli(),
            )
            .await
            .expect("escalated");
        let results = store.rule_results(t, now).await.expect("rules");
        for met in [
            RuleId::SuppliersEvaluatedBeforeContract,
            RuleId::SupplierPerformanceReviewed,
            RuleId::SupplierContractsReviewed,
            RuleId::SupplierDisputesEscalated,
        ] {
            assert_eq!(status(&results, met), MachineStatus::Met, "{met:?}");
        }

        // A second version that started last week without its approval.
        store
            .create_supplier_contract(t, s, contract(-7, None, ""), &Actor::cli())
            .await
            .expect_err("impact needed");
        store
            .create_supplier_contract(t, s, contract(-7, None, "More bandwidth"), &Actor::cli())
            .await
            .expect("second version");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::SupplierContractChangesAssessed),
            MachineStatus::Gap
        );

        // An internal supplier with no agreement and an owner who left.
        let bob = user(&store, t, "bob@acme.test", Role::Agent).await;
        store
            .create_supplier(
                t,
                &supplier("Facilities", SupplierKind::Internal, bob),
                &Actor::cli(),
            )
            .await
            .expect("internal");
        let draft = store.user(t, bob).await.expect("bob");
        let mut gone = steward_domain::user::UserDraft {
            email: draft.email.clone(),
            name: draft.name.clone(),
            role: draft.role,
            active: false,
        }
        .validate()
        .expect("user");
        gone.active = false;
        store
            .update_user(t, bob, &gone, &Actor::cli())
            .await
            .expect("deactivated");
        let results = store.rule_results(t, now).await.expect("rules");
        assert_eq!(
            status(&results, RuleId::InternalSuppliersHaveOwner),
            MachineStatus::Gap
        );
        // 8.3.1-c takes every relationship together and names the one without an owner.
        let together = &results[&RuleId::RelationshipsHaveOwner];
        assert_eq!(together.status, MachineStatus::Gap);
        assert_eq!(together.failing[0].label, "Facilities");
        assert_eq!(together.failing[0].kind, "supplier");
        assert_eq!(
            status(&results, RuleId::InternalSupplierAgreementsCurrent),
            MachineStatus::Gap
        );
        assert_eq!(
            status(&results, RuleId::SuppliersHaveOwner),
            MachineStatus::Met
        );
    }
);

both_backends!(
    owners_are_reminded_once_and_the_review_sees_suppliers,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let ann = user(&store, t, "ann@acme.test", Role::Manager).await;
        let s = store
            .create_supplier(
                t,
                &supplier("Northwind", SupplierKind::External, ann),
                &Actor::cli(),
            )
            .await
            .expect("supplier");
        let c = store
            .create_supplier_contract(t, s.id, contract(-360, Some(30), ""), &Actor::cli())
            .await
            .expect("contract");
        store
            .approve_supplier_contract(t, s.id, c.id, in_days(-365), today_utc(), &Actor::cli())
            .await
            .expect("approved");
        let today = today_utc();
        let render = |r: &steward_store::supplier::reminders::SupplierReminder| {
            (format!("{:?} {}", r.kind, r.supplier), "body".to_owned())
        };
        let sent = store
            .send_supplier_reminders(t, today, render)
            .await
            .expect("reminders");
        let kinds: Vec<_> = sent.iter().map(|r| r.kind).collect();
        assert!(kinds.contains(&ReminderKind::ContractEnding), "{kinds:?}");
        assert!(
            kinds.contains(&ReminderKind::ContractReviewDue),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&ReminderKind::PerformanceReviewDue),
            "{kinds:?}"
        );
        assert!(sent.iter().all(|r| r.recipient.1 == "ann@acme.test"));
        let again = store
            .send_supplier_reminders(t, today, render)
            .await
            .expect("again");
        assert!(again.is_empty(), "sent once: {again:?}");

        store
            .create_supplier_review(
                t,
                s.id,
                review(Rating::PartlyMeets, true, None),
                today,
                &Actor::cli(),
            )
            .await
            .expect("review");
        let planned = steward_domain::sms::review::ReviewDraft {
            title: "Annual review".into(),
            planned_on: today,
            period_from: None,
            period_to: None,
            chair_id: Some(ann),
            attendees: String::new(),
        }
        .validate()
        .expect("review draft");
        let mr = store
            .create_management_review(t, &planned, &Actor::cli())
            .await
            .expect("management review");
        let inputs = store.review_inputs(t, &mr).await.expect("inputs");
        let p = &inputs.suppliers.suppliers[0];
        assert_eq!(p.name, "Northwind");
        assert_eq!(p.rating, Some(Rating::PartlyMeets));
        assert_eq!(p.contract_ends_on, Some(in_days(30)));
        assert!(!inputs.not_recorded.iter().any(|n| n.contains("Supplier")));
    }
);
