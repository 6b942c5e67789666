//! The conformance evidence on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set,
//! PostgreSQL: rules counted and listed from real records, the readiness roll-up, journal
//! stretches verified, assessments kept apart and appended, clause populations for sampling,
//! and tenant isolation.

use steward_domain::access::Role;
use steward_domain::asset::{AssetDraft, AssetKind, AssetStatus};
use steward_domain::conformance::readiness::{AssessmentDraft, Judgement, Standing};
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_store::conformance::Period;
use steward_store::testing::{tenant_id as tenant, user_id};
use steward_store::{Actor, Store, StoreError, both_backends, now_micros};

const YEAR: i64 = 365 * 86_400_000_000;

fn last_year() -> Period {
    let now = now_micros();
    Period {
        from: now - YEAR,
        to: now + 1_000_000,
    }
}

async fn service(store: &Store, t: i64, name: &str, owner_id: Option<i64>) -> i64 {
    let draft = ServiceDraft {
        name: name.into(),
        description: String::new(),
        owner_id,
        criticality: Criticality::Medium,
        status: ServiceStatus::Live,
    }
    .validate()
    .expect("service");
    store
        .create_service(t, &draft, &Actor::cli())
        .await
        .expect("service")
        .id
}

fn licence(tag: &str, owner_id: Option<i64>, seats: i64, in_use: i64) -> AssetDraft {
    AssetDraft {
        tag: tag.into(),
        name: format!("Licence {tag}"),
        kind: AssetKind::Software,
        manufacturer: "Acme".into(),
        model: String::new(),
        serial_number: String::new(),
        owner_id,
        location: "Cloud".into(),
        supplier: String::new(),
        cost_minor: None,
        currency: None,
        purchase_date: None,
        warranty_expires: None,
        licence_seats: Some(seats),
        seats_in_use: Some(in_use),
        licence_expires: None,
        notes: String::new(),
    }
    .validate()
    .expect("licence")
}

both_backends!(
    rules_count_and_list_real_records,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let mia = user_id(&store, t, "mia@acme.test", Role::Manager).await;
        service(&store, t, "Payroll", Some(mia)).await;
        let mail = service(&store, t, "Mail", None).await;
        for (tag, owner, in_use) in [("SW-1", Some(mia), 5), ("SW-2", None, 12)] {
            store
                .create_asset(
                    t,
                    &licence(tag, owner, 10, in_use),
                    AssetStatus::InStock,
                    &Actor::cli(),
                )
                .await
                .expect("asset");
        }
        let results = store.rule_results(t, last_year()).await.expect("rules");
        assert_eq!(results.len(), RuleId::ALL.len());

        let owners = &results[&RuleId::LiveServicesHaveOwner];
        assert_eq!(owners.status, MachineStatus::Gap);
        assert_eq!((owners.population, owners.failing_count), (2, 1));
        assert_eq!(owners.failing[0].id, mail);
        assert_eq!(owners.failing[0].label, "Mail");

        let seats = &results[&RuleId::LicencesWithinEntitlement];
        assert_eq!((seats.status, seats.failing_count), (MachineStatus::Gap, 1));
        assert_eq!(seats.failing[0].label, "SW-2");
        assert_eq!(results[&RuleId::AssetsHaveOwner].failing[0].label, "SW-2");

        // No SLA covers the live services yet; no incidents were resolved; no baseline was taken.
        assert_eq!(
            results[&RuleId::LiveServicesHaveSla].status,
            MachineStatus::Gap
        );
        assert_eq!(
            results[&RuleId::IncidentsResolvedWithNotes].status,
            MachineStatus::NotYetEvaluable
        );
        assert_eq!(
            results[&RuleId::ConfigurationBaselineTaken].status,
            MachineStatus::Gap
        );

        // The period's journal links up from the entry before it.
        let journal = &results[&RuleId::JournalChainIntact];
        assert_eq!(journal.status, MachineStatus::Met, "{journal:?}");
        assert!(
            journal.records[0]
                .label
                .starts_with("journal entries 1 to ")
        );

        // A period before anything happened has nothing to judge.
        let long_ago = Period { from: 0, to: 1 };
        let empty = store.rule_results(t, long_ago).await.expect("rules");
        assert_eq!(
            empty[&RuleId::JournalChainIntact].status,
            MachineStatus::NotYetEvaluable
        );

        // Another tenant sees none of it.
        let other = tenant(&store, "Other").await;
        let theirs = store.rule_results(other, last_year()).await.expect("rules");
        assert_eq!(theirs[&RuleId::LiveServicesHaveOwner].population, 0);
        assert_eq!(theirs[&RuleId::LicencesWithinEntitlement].population, 0);

        // The clause's population is what its rules looked at, for sampling.
        let clause = store
            .clause_population(t, "8.2.5", last_year())
            .await
            .expect("population");
        let mut tags: Vec<&str> = clause.iter().map(|r| r.label.as_str()).collect();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags, vec!["SW-1", "SW-2"]);
        let unknown = store.clause_population(t, "99.9", last_year()).await;
        assert!(matches!(unknown, Err(StoreError::NotFound)));
    }
);

both_backends!(
    assessments_are_kept_apart_and_appended,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let mia = user_id(&store, t, "mia@acme.test", Role::Manager).await;
        let actor = Actor::user(mia, "mia@acme.test");
        let (req, clause) = {
            let c = steward_domain::conformance::catalogue::catalogue();
            let clause = c.clause("4.1").expect("4.1");
            (clause.requirements[0].id.clone(), clause.id.clone())
        };
        let conforming = AssessmentDraft {
            judgement: Judgement::Conforming,
            comment: "Context reviewed at the March review".into(),
            evidence: "MR-2026-03 minutes".into(),
        };
        store
            .assess(t, &req, &conforming, &actor)
            .await
            .expect("assessed");
        let nonconforming = AssessmentDraft {
            judgement: Judgement::Nonconforming,
            comment: "Issues list out of date".into(),
            evidence: String::new(),
        };
        store
            .assess(t, &req, &nonconforming, &actor)
            .await
            .expect("assessed");

        let current = store.current_assessments(t).await.expect("current");
        assert_eq!(current.len(), 1);
        assert_eq!(current[&req].judgement, Judgement::Nonconforming);
        assert_eq!(current[&req].assessed_by, "mia@acme.test");
        let history = store.assessment_history(t, &req).await.expect("history");
        assert_eq!(history.len(), 2, "earlier judgements stay");
        assert_eq!(history[1].assessment.judgement, Judgement::Conforming);

        let all = store.readiness(t, last_year()).await.expect("readiness");
        let four_one = all.iter().find(|c| c.id == clause).expect("clause");
        assert_eq!(four_one.standing, Standing::Gap);
        let r = &four_one.requirements[0];
        assert_eq!(
            r.machine,
            MachineStatus::Manual,
            "the machine's view stays its own"
        );
        assert_eq!(r.standing, Standing::Gap);

        // Bad input changes nothing.
        let why_not = AssessmentDraft {
            judgement: Judgement::Nonconforming,
            comment: String::new(),
            evidence: String::new(),
        };
        let refused = store.assess(t, &req, &why_not, &actor).await;
        assert!(matches!(refused, Err(StoreError::Invalid(_))));
        let unknown = store.assess(t, "4.1-zz", &conforming, &actor).await;
        assert!(matches!(unknown, Err(StoreError::NotFound)));
        assert_eq!(
            store
                .assessment_history(t, &req)
                .await
                .expect("history")
                .len(),
            2
        );

        // Another tenant's view is untouched.
        let other = tenant(&store, "Other").await;
        assert!(
            store
                .current_assessments(other)
                .await
                .expect("theirs")
                .is_empty()
        );
    }
);

both_backends!(
    readiness_is_counted_once_a_day_for_the_trend,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let today = steward_store::asset::today_utc();
        let yesterday = today.yesterday().expect("yesterday");
        assert!(
            store
                .record_readiness_snapshot(t, yesterday)
                .await
                .expect("kept")
        );
        // A service without an owner is a gap from now on; today's count shows it, and a second
        // count of the same day (another node, a retried job) changes nothing.
        service(&store, t, "Payroll", None).await;
        assert!(
            store
                .record_readiness_snapshot(t, today)
                .await
                .expect("kept")
        );
        assert!(
            !store
                .record_readiness_snapshot(t, today)
                .await
                .expect("second")
        );
        let trend = store.readiness_trend(t, yesterday).await.expect("trend");
        assert_eq!(
            trend.iter().map(|s| s.day).collect::<Vec<_>>(),
            [yesterday, today]
        );
        assert!(trend[1].counts.gap > trend[0].counts.gap, "{trend:?}");
        let total = |s: &steward_store::readiness_trend::Snapshot| {
            s.counts.met + s.counts.open + s.counts.gap
        };
        assert_eq!(total(&trend[0]), total(&trend[1]));
        assert!(
            store
                .readiness_trend(other, yesterday)
                .await
                .expect("theirs")
                .is_empty()
        );
    }
);
