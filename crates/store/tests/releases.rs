//! Release and deployment management on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set,
//! PostgreSQL: REL-n numbering per tenant, the lifecycle with its guards, sign-off, the
//! production rule, a deployment whose success updates a CI through the CMDB (journaled on the
//! CI, atomically with the outcome), links checked against the tenant, and the journal.

use serde_json::{Map, Value, json};
use steward_domain::access::Role;
use steward_domain::cmdb::{CiClassDraft, CiDraft, CiStatus};
use steward_domain::release::{
    CriterionDraft, DeploymentDraft, DeploymentOutcome, OutcomeDraft, ReleaseDraft, ReleaseKind,
    ReleaseStatus, SignOff, Verdict,
};
use steward_domain::request::{FieldKind, FormField};
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::journal::JournalFilter;
use steward_store::release::{CiUpdate, ReleaseFilter};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

async fn tenant(store: &Store, name: &str) -> (i64, Actor) {
    let t = store
        .create_tenant(&new_tenant(name).expect("name"), &Actor::cli())
        .await
        .expect("tenant")
        .id;
    let email = format!("rm@{}.test", name.to_lowercase());
    let user = store
        .create_user(
            t,
            &UserDraft {
                email: email.clone(),
                name: "Release Manager".into(),
                role: Role::Manager,
                active: true,
            },
            None,
            &Actor::cli(),
        )
        .await
        .expect("user");
    (t, Actor::user(user.id, &email))
}

fn draft(title: &str, kind: ReleaseKind, manager_id: Option<i64>) -> ReleaseDraft {
    ReleaseDraft {
        title: title.into(),
        kind,
        description: String::new(),
        planned_start: None,
        planned_end: None,
        manager_id,
    }
    .validate()
    .expect("draft")
}

async fn web_ci(store: &Store, t: i64, actor: &Actor) -> i64 {
    let class = CiClassDraft {
        name: "Web app".into(),
        description: String::new(),
        attributes: vec![FormField {
            name: "version".into(),
            label: "Version".into(),
            kind: FieldKind::Text,
            required: false,
            options: vec![],
        }],
    }
    .validate()
    .expect("class");
    let class = store
        .create_ci_class(t, &class, actor)
        .await
        .expect("class");
    let mut attributes = Map::new();
    attributes.insert("version".into(), json!("2.3.0"));
    let ci = CiDraft {
        name: "portal-web-01".into(),
        class_id: class.id,
        status: CiStatus::Planned,
        description: String::new(),
        owner_id: None,
        team_id: None,
        external_id: None,
        service_ids: vec![],
        attributes,
    };
    store.create_ci(t, &ci, actor).await.expect("ci").id
}

fn outcome(o: DeploymentOutcome, rollback: &str) -> OutcomeDraft {
    OutcomeDraft {
        outcome: o,
        verification_notes: "Checked".into(),
        rollback_notes: rollback.into(),
    }
    .validate()
    .expect("outcome")
}

both_backends!(
    a_minor_release_goes_to_production_and_updates_its_ci,
    |store: Store| async move {
        let (t, rm) = tenant(&store, "Acme").await;
        let (other, _) = tenant(&store, "Other").await;
        let ci = web_ci(&store, t, &rm).await;
        let r = store
            .create_release(t, &draft("Portal 2.4", ReleaseKind::Minor, rm.user_id), &rm)
            .await
            .expect("release");
        assert_eq!(r.key(), "REL-1");
        let theirs = store
            .create_release(
                other,
                &draft("Theirs", ReleaseKind::Major, None),
                &Actor::cli(),
            )
            .await
            .expect("theirs");
        assert_eq!(theirs.key(), "REL-1", "numbered per tenant");
        assert!(matches!(
            store.release(other, r.id).await,
            Err(StoreError::NotFound)
        ));

        for to in [ReleaseStatus::Built, ReleaseStatus::InTest] {
            store
                .transition_release(t, r.id, to, &rm)
                .await
                .expect("move");
        }
        let refused = store
            .transition_release(t, r.id, ReleaseStatus::Accepted, &rm)
            .await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "no criteria"
        );
        let r = store
            .add_release_criterion(
                t,
                r.id,
                &CriterionDraft {
                    text: "Smoke tests pass".into(),
                },
                &rm,
            )
            .await
            .expect("criterion");
        let criterion = r.criteria[0].id;
        let early = store
            .add_release_deployment(
                t,
                r.id,
                &DeploymentDraft {
                    environment: "production".into(),
                    planned_start: None,
                    planned_end: None,
                },
                &rm,
            )
            .await;
        assert!(
            matches!(early, Err(StoreError::Invalid(_))),
            "not accepted yet"
        );
        let (_, test) = store
            .add_release_deployment(
                t,
                r.id,
                &DeploymentDraft {
                    environment: "test".into(),
                    planned_start: None,
                    planned_end: None,
                },
                &rm,
            )
            .await
            .expect("test deployment");
        store
            .record_deployment_outcome(
                t,
                r.id,
                test,
                &outcome(DeploymentOutcome::Succeeded, ""),
                &[],
                &rm,
            )
            .await
            .expect("test outcome");
        store
            .sign_off_release_criterion(
                t,
                r.id,
                criterion,
                &SignOff {
                    verdict: Verdict::Accepted,
                    comment: String::new(),
                },
                &rm,
            )
            .await
            .expect("sign-off");
        for to in [ReleaseStatus::Accepted, ReleaseStatus::Deploying] {
            store
                .transition_release(t, r.id, to, &rm)
                .await
                .expect("move");
        }
        let (_, prod) = store
            .add_release_deployment(
                t,
                r.id,
                &DeploymentDraft {
                    environment: "Production".into(),
                    planned_start: None,
                    planned_end: None,
                },
                &rm,
            )
            .await
            .expect("production deployment");

        // A refused CI update (a status the CI lifecycle lacks) refuses the whole outcome.
        let mut attributes = Map::new();
        attributes.insert("version".into(), Value::String("2.4.0".into()));
        let bad = store
            .record_deployment_outcome(
                t,
                r.id,
                prod,
                &outcome(DeploymentOutcome::Succeeded, ""),
                &[CiUpdate {
                    ci_id: ci,
                    status: Some(CiStatus::Maintenance),
                    attributes: Some(attributes.clone()),
                }],
                &rm,
            )
            .await;
        assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
        let unchanged = store.ci(t, ci).await.expect("ci");
        assert_eq!(unchanged.attributes["version"], "2.3.0");
        let still = store.release(t, r.id).await.expect("release");
        assert_eq!(still.deployments[1].outcome, DeploymentOutcome::InProgress);

        let done = store
            .record_deployment_outcome(
                t,
                r.id,
                prod,
                &outcome(DeploymentOutcome::Succeeded, ""),
                &[CiUpdate {
                    ci_id: ci,
                    status: Some(CiStatus::InUse),
                    attributes: Some(attributes),
                }],
                &rm,
            )
            .await
            .expect("production outcome");
        assert_eq!(done.deployments[1].ci_updates[0].ci_id, ci);
        let updated = store.ci(t, ci).await.expect("ci");
        assert_eq!(updated.attributes["version"], "2.4.0");
        assert_eq!(updated.status, CiStatus::InUse);
        let first = PageRequest {
            limit: Some(50),
            cursor: None,
        };
        let ci_journal = store
            .journal_entries(
                t,
                &JournalFilter {
                    record_type: Some("ci".into()),
                    record_id: Some(ci),
                    ..Default::default()
                },
                &first,
            )
            .await
            .expect("journal");
        assert_eq!(
            ci_journal.items.len(),
            2,
            "created, then updated by the deployment"
        );
        for to in [ReleaseStatus::Deployed, ReleaseStatus::Closed] {
            store
                .transition_release(t, r.id, to, &rm)
                .await
                .expect("move");
        }
        let closed = store.release_by_number(t, 1).await.expect("by number");
        assert_eq!(closed.status, ReleaseStatus::Closed);
        assert!(closed.ended_at.is_some());
        assert!(matches!(
            store
                .transition_release(t, r.id, ReleaseStatus::Cancelled, &rm)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let release_journal = store
            .journal_entries(
                t,
                &JournalFilter {
                    record_type: Some("release".into()),
                    record_id: Some(r.id),
                    ..Default::default()
                },
                &first,
            )
            .await
            .expect("journal");
        assert!(release_journal.items.len() >= 12, "every write journaled");
        let closed_minor = store
            .releases(
                t,
                &ReleaseFilter {
                    status: Some(ReleaseStatus::Closed),
                    kind: Some(ReleaseKind::Minor),
                    sort: None,
                },
                &first,
            )
            .await
            .expect("list");
        assert_eq!(closed_minor.items.len(), 1);
    }
);

both_backends!(
    links_are_checked_against_the_tenant_and_edits_against_staleness,
    |store: Store| async move {
        let (t, rm) = tenant(&store, "Acme").await;
        let (other, boss) = tenant(&store, "Other").await;
        let r = store
            .create_release(t, &draft("Portal 2.5", ReleaseKind::Emergency, None), &rm)
            .await
            .expect("release");
        let change = store
            .create_change(
                other,
                &steward_domain::change::ChangeDraft {
                    title: "Theirs".into(),
                    change_type: steward_domain::change::ChangeType::Normal,
                    template_id: None,
                    reason: String::new(),
                    implementation_plan: String::new(),
                    backout_plan: String::new(),
                    test_plan: String::new(),
                    window: None,
                    ci_ids: vec![],
                    service_ids: vec![],
                    incident_ids: vec![],
                    problem_ids: vec![],
                },
                None,
                &boss,
            )
            .await
            .expect("their change");
        let refused = store.set_release_changes(t, r.id, &[change.id], &rm).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
        let refused = store.set_release_known_errors(t, r.id, &[12345], &rm).await;
        assert!(matches!(refused, Err(StoreError::Invalid(_))));

        let mut edit = r.draft();
        edit.description = "Hotfix".into();
        let saved = store
            .update_release(t, r.id, &edit, Some(r.updated_at), &rm)
            .await
            .expect("fresh edit");
        let stale = store
            .update_release(t, r.id, &edit, Some(r.updated_at), &rm)
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))));
        assert!(saved.updated_at > r.updated_at);

        // An emergency release goes to production once built, without acceptance.
        store
            .transition_release(t, r.id, ReleaseStatus::Built, &rm)
            .await
            .expect("built");
        let (_, prod) = store
            .add_release_deployment(
                t,
                r.id,
                &DeploymentDraft {
                    environment: "PRODUCTION".into(),
                    planned_start: None,
                    planned_end: None,
                },
                &rm,
            )
            .await
            .expect("emergency production deployment");
        let rolled = store
            .record_deployment_outcome(
                t,
                r.id,
                prod,
                &outcome(DeploymentOutcome::RolledBack, "Restored the snapshot"),
                &[],
                &rm,
            )
            .await
            .expect("rolled back");
        assert_eq!(rolled.deployments[0].outcome, DeploymentOutcome::RolledBack);
        let no_success = store
            .transition_release(t, r.id, ReleaseStatus::Deploying, &rm)
            .await
            .expect("deploying");
        assert_eq!(no_success.status, ReleaseStatus::Deploying);
        assert!(matches!(
            store
                .transition_release(t, r.id, ReleaseStatus::Deployed, &rm)
                .await,
            Err(StoreError::Invalid(_))
        ));
    }
);
