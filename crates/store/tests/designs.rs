//! Design and transition of new or changed services on SQLite and, when
//! `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL: design records and their lifecycle,
//! acceptance in one step (and nothing written when a part fails), tenant isolation, and major
//! changes opening a design record and waiting for its acceptance before being scheduled.

use serde_json::{Map, json};
use std::collections::BTreeMap;
use steward_domain::access::Role;
use steward_domain::change::{ChangeDraft, ChangeStatus, ChangeType, Verdict, Window};
use steward_domain::cmdb::{CiClassDraft, CiStatus};
use steward_domain::design::{
    CatalogueProposal, CiProposal, Criterion, DesignDraft, DesignStatus, Proposal, ServiceProposal,
};
use steward_domain::request::{FieldKind, FormField};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::change::policy::default_policy;
use steward_store::journal::JournalFilter;
use steward_store::service::ServiceFilter;
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

struct Org {
    t: i64,
    admin: Actor,
    agent: Actor,
    class_id: i64,
}

async fn org(store: &Store, name: &str) -> Org {
    let t = store
        .create_tenant(&new_tenant(name).expect("name"), &Actor::cli())
        .await
        .expect("tenant")
        .id;
    let mut people = Vec::new();
    for (email, role) in [
        (format!("admin@{name}.test"), Role::Admin),
        (format!("agent@{name}.test"), Role::Agent),
    ] {
        let draft = UserDraft {
            email: email.clone(),
            name: email.clone(),
            role,
            active: true,
        };
        let user = store
            .create_user(t, &draft, None, &Actor::cli())
            .await
            .expect("user");
        people.push(Actor::user(user.id, &email));
    }
    let class = CiClassDraft {
        name: "Server".into(),
        description: String::new(),
        attributes: vec![FormField {
            name: "ram".into(),
            label: "RAM (GB)".into(),
            kind: FieldKind::Number,
            required: true,
            options: Vec::new(),
        }],
    }
    .validate()
    .expect("class");
    let mut people = people.into_iter();
    let admin = people.next().expect("admin");
    let class_id = store
        .create_ci_class(t, &class, &admin)
        .await
        .expect("class")
        .id;
    Org {
        t,
        admin,
        agent: people.next().expect("agent"),
        class_id,
    }
}

fn ci(class_id: i64, name: &str, ram: serde_json::Value) -> CiProposal {
    let mut attributes = Map::new();
    attributes.insert("ram".into(), ram);
    CiProposal {
        class_id,
        name: name.into(),
        status: CiStatus::InUse,
        attributes,
    }
}

/// A design for a new service with every section, a met criterion, and a full proposal.
fn video(o: &Org, ram: serde_json::Value) -> DesignDraft {
    DesignDraft {
        title: "Video Conferencing".into(),
        target_service_id: None,
        requirements: "Meetings of up to 200 people".into(),
        design: "Hosted platform with SSO".into(),
        resources: "Two engineers for a month".into(),
        transition_plan: "Pilot with IT, then everyone".into(),
        criteria: vec![Criterion {
            text: "Load test with 200 participants passes".into(),
            met: true,
            evidence: "Test report TR-7".into(),
        }],
        proposal: Proposal {
            service: Some(ServiceProposal {
                name: "Video Conferencing".into(),
                description: "Meetings for everyone".into(),
                criticality: Criticality::High,
                owner_id: o.admin.user_id,
            }),
            catalogue: Some(CatalogueProposal {
                item_id: None,
                name: "Video conferencing account".into(),
                description: "Ask for an account".into(),
                category: "Collaboration".into(),
            }),
            agreement: Some(AgreementDraft::new(
                "Video Conferencing SLA",
                AgreementKind::Sla,
                RecordKind::Incident,
                vec![Target {
                    metric: "resolution".into(),
                    priority: None,
                    minutes: 480,
                }],
            )),
            new_cis: vec![
                ci(o.class_id, "video01", json!(64)),
                ci(o.class_id, "video02", ram),
            ],
            link_ci_ids: Vec::new(),
        },
    }
    .validate()
    .expect("valid design")
}

async fn ready(store: &Store, o: &Org, d: &DesignDraft) -> i64 {
    let design = store
        .create_design(o.t, d, None, &o.admin)
        .await
        .expect("design");
    assert_eq!(design.key(), "SDR-1");
    for to in [DesignStatus::InDesign, DesignStatus::ReadyForAcceptance] {
        store
            .transition_design(o.t, design.id, to, &o.admin)
            .await
            .unwrap_or_else(|e| panic!("{to}: {e}"));
    }
    design.id
}

async fn live_services(store: &Store, t: i64) -> Vec<String> {
    store
        .services(t, &ServiceFilter::default(), &PageRequest::default())
        .await
        .expect("services")
        .items
        .into_iter()
        .map(|s| s.name)
        .collect()
}

async fn verified(store: &Store) {
    let v = store.verify_journal().await.expect("verify");
    assert!(v.is_ok(), "journal broken: {v:?}");
}

both_backends!(
    acceptance_creates_everything_in_one_step,
    |store: Store| async move {
        let o = org(&store, "acme").await;
        let id = ready(&store, &o, &video(&o, json!(32))).await;
        let (design, done) = store
            .accept_design(o.t, id, &o.admin)
            .await
            .expect("accepted");
        assert_eq!(design.status, DesignStatus::Accepted);
        assert_eq!(design.accepted_by, o.admin.user_id);
        assert!(design.accepted_at.is_some());
        assert!(done.service_created);
        assert_eq!(design.target_service_id, Some(done.service_id));
        let service = store.service(o.t, done.service_id).await.expect("service");
        assert_eq!(service.name, "Video Conferencing");
        assert_eq!(service.status, ServiceStatus::Live);
        let item = store
            .item(o.t, done.catalogue_item_id.expect("item"))
            .await
            .expect("item");
        assert_eq!(item.category, "Collaboration");
        let agreement = store
            .agreement(o.t, done.agreement_id.expect("agreement"))
            .await
            .expect("agreement");
        assert_eq!(agreement.draft.service_id, Some(service.id));
        assert_eq!(done.ci_ids.len(), 2);
        for ci_id in &done.ci_ids {
            let ci = store.ci(o.t, *ci_id).await.expect("ci");
            assert_eq!(ci.service_ids, vec![service.id]);
        }
        // The record links it all for the auditor.
        assert_eq!(design.outputs_of("service"), vec![service.id]);
        assert_eq!(design.outputs_of("ci"), done.ci_ids);
        assert_eq!(design.outputs_of("agreement").len(), 1);
        assert_eq!(design.outputs_of("catalogue_item").len(), 1);
        let again = store.service_design(o.t, id).await.expect("read");
        assert_eq!(again, design);
        // Accepted is the end: no second acceptance, no edits.
        let twice = store.accept_design(o.t, id, &o.admin).await;
        assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
        let edit = store
            .update_design(o.t, id, design.updated_at, &design.draft(), &o.admin)
            .await;
        assert!(matches!(edit, Err(StoreError::Conflict(_))), "{edit:?}");
        // Every write is in the journal.
        let entries = store
            .journal_entries(
                o.t,
                &JournalFilter::default(),
                &PageRequest {
                    limit: Some(500),
                    cursor: None,
                },
            )
            .await
            .expect("journal")
            .items;
        for kind in [
            "service",
            "ci",
            "sla_agreement",
            "catalogue_item",
            "service_design",
        ] {
            assert!(
                entries.iter().any(|e| e.record_type == kind),
                "no journal entry for {kind}"
            );
        }
        verified(&store).await;
    }
);

both_backends!(a_failing_part_writes_nothing, |store: Store| async move {
    let o = org(&store, "acme").await;
    // The second CI's RAM is not a number: its class refuses it, after the service.
    let id = ready(&store, &o, &video(&o, json!("lots"))).await;
    let err = store
        .accept_design(o.t, id, &o.admin)
        .await
        .expect_err("refused");
    match err {
        StoreError::Invalid(i) => assert!(
            i.message_for("proposal.new_cis[1].attributes.ram")
                .is_some(),
            "{i:?}"
        ),
        other => panic!("expected a field error, got {other:?}"),
    }
    assert!(live_services(&store, o.t).await.is_empty());
    assert!(store.agreements(o.t).await.expect("agreements").is_empty());
    let design = store.service_design(o.t, id).await.expect("read");
    assert_eq!(design.status, DesignStatus::ReadyForAcceptance);
    assert!(design.outputs.is_empty());
    verified(&store).await;
});

both_backends!(
    the_lifecycle_guards_and_optimistic_edits,
    |store: Store| async move {
        let o = org(&store, "acme").await;
        let mut d = video(&o, json!(8));
        d.design.clear();
        d.criteria[0].met = false;
        d.criteria[0].evidence.clear();
        let created = store
            .create_design(o.t, &d, None, &o.admin)
            .await
            .expect("design");
        store
            .transition_design(o.t, created.id, DesignStatus::InDesign, &o.admin)
            .await
            .expect("in design");
        let refused = store
            .transition_design(o.t, created.id, DesignStatus::ReadyForAcceptance, &o.admin)
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("design")),
            "{refused:?}"
        );
        let current = store.service_design(o.t, created.id).await.expect("read");
        d.design = "Hosted".into();
        let stale = store
            .update_design(o.t, created.id, current.updated_at - 1, &d, &o.admin)
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
        store
            .update_design(o.t, created.id, current.updated_at, &d, &o.admin)
            .await
            .expect("edited");
        store
            .transition_design(o.t, created.id, DesignStatus::ReadyForAcceptance, &o.admin)
            .await
            .expect("ready");
        let unmet = store.accept_design(o.t, created.id, &o.admin).await;
        assert!(
            matches!(&unmet, Err(StoreError::Conflict(m)) if m.contains("not met")),
            "{unmet:?}"
        );
        let by_move = store
            .transition_design(o.t, created.id, DesignStatus::Accepted, &o.admin)
            .await;
        assert!(
            matches!(by_move, Err(StoreError::Conflict(_))),
            "{by_move:?}"
        );
        verified(&store).await;
    }
);

both_backends!(
    design_records_are_the_tenants_own,
    |store: Store| async move {
        let a = org(&store, "acme").await;
        let b = org(&store, "globex").await;
        let id = ready(&store, &a, &video(&a, json!(8))).await;
        assert!(matches!(
            store.service_design(b.t, id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.accept_design(b.t, id, &b.admin).await,
            Err(StoreError::NotFound)
        ));
        let listed = store
            .service_designs(b.t, &Default::default(), &PageRequest::default())
            .await
            .expect("list");
        assert!(listed.items.is_empty());
        // Another tenant's class, service and CI are not proposals' to use.
        let mut d = video(&b, json!(8));
        d.proposal.new_cis = vec![ci(a.class_id, "stray", json!(8))];
        let theirs = store
            .create_design(b.t, &d, None, &b.admin)
            .await
            .expect("design");
        for to in [DesignStatus::InDesign, DesignStatus::ReadyForAcceptance] {
            store
                .transition_design(b.t, theirs.id, to, &b.admin)
                .await
                .expect("moved");
        }
        let err = store.accept_design(b.t, theirs.id, &b.admin).await;
        assert!(matches!(err, Err(StoreError::Invalid(_))), "{err:?}");
        assert!(live_services(&store, b.t).await.is_empty());
        let mut d = video(&b, json!(8));
        let svc = store
            .create_service(
                a.t,
                &ServiceDraft {
                    name: "Payroll".into(),
                    description: String::new(),
                    owner_id: None,
                    criticality: Criticality::Low,
                    status: ServiceStatus::Live,
                },
                &a.admin,
            )
            .await
            .expect("service");
        d.target_service_id = Some(svc.id);
        let err = store.create_design(b.t, &d, None, &b.admin).await;
        assert!(matches!(err, Err(StoreError::Invalid(_))), "{err:?}");
    }
);

fn change(service_id: i64) -> ChangeDraft {
    ChangeDraft {
        title: "Move the Customer Portal to the new cluster".into(),
        change_type: ChangeType::Normal,
        template_id: None,
        reason: "The old cluster is out of support".into(),
        implementation_plan: "Deploy, switch DNS".into(),
        backout_plan: "Switch DNS back".into(),
        test_plan: String::new(),
        window: Some(Window {
            start: 2_000_000_000_000_000,
            end: 2_000_003_600_000_000,
        }),
        ci_ids: Vec::new(),
        service_ids: vec![service_id],
        incident_ids: Vec::new(),
        problem_ids: Vec::new(),
    }
    .validate()
    .expect("change")
}

fn low_risk() -> BTreeMap<String, String> {
    [
        ("blast_radius", "one_ci"),
        ("tested", "yes"),
        ("backout_tested", "yes"),
        ("customer_facing", "no"),
        ("out_of_hours", "yes"),
    ]
    .into_iter()
    .map(|(q, a)| (q.to_owned(), a.to_owned()))
    .collect()
}

both_backends!(
    a_major_change_opens_a_design_and_waits_for_its_acceptance,
    |store: Store| async move {
        let o = org(&store, "acme").await;
        let portal = store
            .create_service(
                o.t,
                &ServiceDraft {
                    name: "Customer Portal".into(),
                    description: String::new(),
                    owner_id: None,
                    criticality: Criticality::High,
                    status: ServiceStatus::Live,
                },
                &o.admin,
            )
            .await
            .expect("service");
        let mut policy = default_policy();
        policy.major.service_ids = vec![portal.id];
        store
            .save_change_policy(o.t, &policy, &o.admin)
            .await
            .expect("policy");
        // A change to another service is not major and opens nothing.
        let other = store
            .create_service(
                o.t,
                &ServiceDraft {
                    name: "Intranet".into(),
                    description: String::new(),
                    owner_id: None,
                    criticality: Criticality::Low,
                    status: ServiceStatus::Live,
                },
                &o.admin,
            )
            .await
            .expect("service");
        let minor = store
            .create_change(o.t, &change(other.id), None, &o.agent)
            .await
            .expect("minor change");
        let minor_design = store.change_design(o.t, &minor).await.expect("design");
        assert!(!minor_design.major);
        assert!(minor_design.design.is_none());

        let c = store
            .create_change(o.t, &change(portal.id), None, &o.agent)
            .await
            .expect("change");
        let found = store.change_design(o.t, &c).await.expect("design");
        assert!(found.major);
        let (design_id, key, status) = found.design.expect("a design record was opened");
        assert_eq!(key, "SDR-1");
        assert_eq!(status, DesignStatus::Draft);
        let design = store.service_design(o.t, design_id).await.expect("design");
        assert_eq!(design.change_id, Some(c.id));
        assert_eq!(design.target_service_id, Some(portal.id));
        // Saving the change again opens no second record.
        store
            .update_change(o.t, c.id, &c.draft(), None, None, &o.agent)
            .await
            .expect("saved");
        let all = store
            .service_designs(o.t, &Default::default(), &PageRequest::default())
            .await
            .expect("list");
        assert_eq!(all.items.len(), 1);

        for to in [ChangeStatus::Assessment] {
            store
                .transition_change(o.t, c.id, to, &o.agent)
                .await
                .expect("moved");
        }
        store
            .assess_change_risk(o.t, c.id, &low_risk(), &o.agent)
            .await
            .expect("risk");
        store
            .transition_change(o.t, c.id, ChangeStatus::Authorisation, &o.agent)
            .await
            .expect("authorisation");
        store
            .decide_change(o.t, c.id, Verdict::Approve, "", None, &o.admin)
            .await
            .expect("approved");
        let refused = store
            .transition_change(o.t, c.id, ChangeStatus::Scheduled, &o.agent)
            .await;
        match refused {
            Err(StoreError::Invalid(i)) => {
                let message = i.message_for("to").expect("message");
                assert!(message.contains("SDR-1"), "{message}");
                assert!(message.contains("accepted"), "{message}");
            }
            other => panic!("expected a 422, got {other:?}"),
        }
        // Accept the design (a change to the existing service), then it may be scheduled.
        let mut d = design.draft();
        d.design = "Two clusters behind one balancer".into();
        d.resources = "Platform team".into();
        d.transition_plan = "Blue/green".into();
        d.criteria = vec![Criterion {
            text: "Smoke tests pass".into(),
            met: true,
            evidence: "Run 41".into(),
        }];
        let d = d.validate().expect("valid");
        store
            .update_design(o.t, design_id, design.updated_at, &d, &o.admin)
            .await
            .expect("edited");
        for to in [DesignStatus::InDesign, DesignStatus::ReadyForAcceptance] {
            store
                .transition_design(o.t, design_id, to, &o.admin)
                .await
                .expect("moved");
        }
        // Rejected: the change stays unscheduled, and a new record may be opened for it.
        store
            .transition_design(o.t, design_id, DesignStatus::Rejected, &o.admin)
            .await
            .expect("rejected");
        let still = store
            .transition_change(o.t, c.id, ChangeStatus::Scheduled, &o.agent)
            .await;
        assert!(matches!(still, Err(StoreError::Invalid(_))), "{still:?}");
        let again = store
            .create_design(o.t, &d, Some(c.id), &o.admin)
            .await
            .expect("a new record for the same change");
        assert_eq!(again.key(), "SDR-2");
        let twice = store.create_design(o.t, &d, Some(c.id), &o.admin).await;
        assert!(twice.is_err(), "one open record per change: {twice:?}");
        let found = store.change_design(o.t, &c).await.expect("design");
        assert_eq!(found.design.map(|(_, k, _)| k), Some("SDR-2".to_owned()));
        let design_id = again.id;
        for to in [DesignStatus::InDesign, DesignStatus::ReadyForAcceptance] {
            store
                .transition_design(o.t, design_id, to, &o.admin)
                .await
                .expect("moved");
        }
        let (_, done) = store
            .accept_design(o.t, design_id, &o.admin)
            .await
            .expect("accepted");
        assert_eq!(done.service_id, portal.id);
        assert!(!done.service_created);
        let scheduled = store
            .transition_change(o.t, c.id, ChangeStatus::Scheduled, &o.agent)
            .await
            .expect("scheduled");
        assert_eq!(scheduled.status, ChangeStatus::Scheduled);
        verified(&store).await;
    }
);
