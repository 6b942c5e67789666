//! The backend-conformance suite: every test runs on SQLite and, when
//! `STEWARD_TEST_DATABASE_URL` is set, on PostgreSQL, each on a fresh database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use steward_domain::access::Role;
use steward_domain::customer::{ContactDraft, CustomerDraft};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::team::TeamDraft;
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::incident::Author;
use steward_store::jobs::NewJob;
use steward_store::journal::JournalFilter;
use steward_store::service::ServiceFilter;
use steward_store::tenant::Tenant;
use steward_store::testing::{POSTGRES_ENV, TestDb};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

const REQUESTER: Author = Author::Requester {
    reopen_window: steward_domain::incident::REOPEN_WINDOW,
};

async fn tenant(store: &Store, name: &str) -> Tenant {
    store
        .create_tenant(&new_tenant(name).expect("valid name"), &Actor::cli())
        .await
        .expect("tenant")
}

fn service(name: &str) -> ServiceDraft {
    ServiceDraft {
        name: name.into(),
        description: format!("{name} for everyone"),
        owner_id: None,
        criticality: Criticality::Medium,
        status: ServiceStatus::Live,
    }
}

fn user(email: &str, role: Role) -> UserDraft {
    UserDraft {
        email: email.into(),
        name: "Someone".into(),
        role,
        active: true,
    }
}

async fn journal_len(store: &Store, tenant_id: i64) -> usize {
    let page = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    store
        .journal_entries(tenant_id, &JournalFilter::default(), &page)
        .await
        .expect("journal")
        .items
        .len()
}

#[tokio::test]
async fn postgres_backend_ran() {
    let Some(db) = TestDb::postgres().await.expect("postgres test database") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set {POSTGRES_ENV} so the PostgreSQL half runs"
        );
        return;
    };
    assert_eq!(db.store.backend(), steward_store::Backend::Postgres);
    println!("postgres backend: ran");
    db.finish().await;
}

#[tokio::test]
async fn both_schemas_agree() {
    let Some(pg) = TestDb::postgres().await.expect("postgres") else {
        return;
    };
    let lite = TestDb::sqlite().await.expect("sqlite");
    let a = lite.store.schema_outline().await.expect("sqlite schema");
    let b = pg.store.schema_outline().await.expect("postgres schema");
    assert!(!a.is_empty());
    assert_eq!(
        a, b,
        "migrations/sqlite and migrations/postgres must define the same tables and columns"
    );
    lite.finish().await;
    pg.finish().await;
}

both_backends!(migrations_are_idempotent, |store: Store| async move {
    store.migrate().await.expect("second run");
    assert!(store.is_migrated().await.expect("check"));
});

both_backends!(tenants_start_their_own_journal, |store: Store| async move {
    let t = tenant(&store, "Acme IT").await;
    assert_eq!(t.slug, "acme-it");
    assert_eq!(
        store.tenant_by_slug("acme-it").await.expect("found").id,
        t.id
    );
    assert_eq!(store.verify_journal().await.expect("verify"), Ok(1));
    let dup = store
        .create_tenant(&new_tenant("Acme IT").expect("valid"), &Actor::cli())
        .await;
    assert!(matches!(dup, Err(StoreError::Invalid(_))), "{dup:?}");
});

both_backends!(service_lifecycle_is_journaled, |store: Store| async move {
    let t = tenant(&store, "Acme").await;
    let admin = store
        .create_user(
            t.id,
            &user("ann@acme.test", Role::Admin),
            None,
            &Actor::cli(),
        )
        .await
        .expect("user");
    let actor = Actor::user(admin.id, &admin.email);
    let mut draft = service("Payroll");
    draft.owner_id = Some(admin.id);
    let created = store
        .create_service(t.id, &draft, &actor)
        .await
        .expect("create");
    assert_eq!(store.service(t.id, created.id).await.expect("get"), created);

    draft.criticality = Criticality::High;
    let updated = store
        .update_service(t.id, created.id, &draft, &actor)
        .await
        .expect("update");
    assert_eq!(updated.criticality, Criticality::High);

    store
        .delete_service(t.id, created.id, &actor)
        .await
        .expect("delete");
    assert!(matches!(
        store.service(t.id, created.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_service(t.id, created.id, &actor).await,
        Err(StoreError::NotFound)
    ));

    let page = PageRequest::default();
    let filter = JournalFilter {
        record_type: Some("service".into()),
        record_id: Some(created.id),
        ..Default::default()
    };
    let entries = store
        .journal_entries(t.id, &filter, &page)
        .await
        .expect("journal")
        .items;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["delete", "update", "create"]);
    assert_eq!(
        entries[1]
            .before
            .as_ref()
            .and_then(|b| b["criticality"].as_str()),
        Some("medium")
    );
    assert_eq!(
        entries[1]
            .after
            .as_ref()
            .and_then(|a| a["criticality"].as_str()),
        Some("high")
    );
    assert_eq!(entries[1].actor, "ann@acme.test");
    assert_eq!(store.verify_journal().await.expect("verify"), Ok(5));
});

both_backends!(
    owners_come_from_the_same_tenant,
    |store: Store| async move {
        let a = tenant(&store, "A").await;
        let b = tenant(&store, "B").await;
        let stranger = store
            .create_user(b.id, &user("x@b.test", Role::Agent), None, &Actor::cli())
            .await
            .expect("user");
        let mut draft = service("Mail");
        draft.owner_id = Some(stranger.id);
        let err = store
            .create_service(a.id, &draft, &Actor::cli())
            .await
            .expect_err("foreign owner");
        assert!(
            matches!(err, StoreError::Invalid(ref i) if i.message_for("owner_id").is_some()),
            "{err:?}"
        );
    }
);

both_backends!(tenants_never_see_each_other, |store: Store| async move {
    let a = tenant(&store, "A").await;
    let b = tenant(&store, "B").await;
    let svc = store
        .create_service(a.id, &service("Secret"), &Actor::cli())
        .await
        .expect("create");
    let cust = store
        .create_customer(
            b.id,
            &CustomerDraft {
                name: "Globex".into(),
                notes: String::new(),
            },
            &Actor::cli(),
        )
        .await
        .expect("customer");
    assert!(matches!(
        store.service(b.id, svc.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .update_service(b.id, svc.id, &service("Hijack"), &Actor::cli())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_service(b.id, svc.id, &Actor::cli()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.customer(a.id, cust.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.contacts(a.id, cust.id).await,
        Err(StoreError::NotFound)
    ));
    let listed = store
        .services(b.id, &ServiceFilter::default(), &PageRequest::default())
        .await
        .expect("list");
    assert!(listed.items.is_empty());
    assert_eq!(
        store.service(a.id, svc.id).await.expect("still there").name,
        "Secret"
    );
});

both_backends!(
    a_failure_after_the_journal_write_rolls_both_back,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let before = journal_len(&store, t.id).await;
        store.inject_failure_after_journal(true);
        let result = store
            .create_service(t.id, &service("Ghost"), &Actor::cli())
            .await;
        store.inject_failure_after_journal(false);
        assert!(matches!(result, Err(StoreError::Injected)), "{result:?}");
        let listed = store
            .services(t.id, &ServiceFilter::default(), &PageRequest::default())
            .await
            .expect("list");
        assert!(listed.items.is_empty(), "the service must not exist");
        assert_eq!(
            journal_len(&store, t.id).await,
            before,
            "the journal entry must not exist"
        );
        assert!(store.verify_journal().await.expect("verify").is_ok());
        store
            .create_service(t.id, &service("Real"), &Actor::cli())
            .await
            .expect("next write works");
        assert!(store.verify_journal().await.expect("verify").is_ok());
    }
);

async fn journal_with_entries(store: &Store) -> Tenant {
    let t = tenant(store, "Acme").await;
    for name in ["One", "Two", "Three", "Four"] {
        store
            .create_service(t.id, &service(name), &Actor::cli())
            .await
            .expect("create");
    }
    assert_eq!(store.verify_journal().await.expect("verify"), Ok(5));
    t
}

both_backends!(verify_catches_an_edited_entry, |store: Store| async move {
    let t = journal_with_entries(&store).await;
    store
        .execute_raw_for_tests(&format!(
            "UPDATE journal SET after_json = '{{\"name\":\"Forged\"}}' WHERE tenant_id = {} AND seq = 3",
            t.id
        ))
        .await
        .expect("tamper");
    let broken = store
        .verify_journal()
        .await
        .expect("verify")
        .expect_err("edit caught");
    assert_eq!(broken.seq, 3);
});

both_backends!(verify_catches_a_deleted_entry, |store: Store| async move {
    let t = journal_with_entries(&store).await;
    store
        .execute_raw_for_tests(&format!(
            "DELETE FROM journal WHERE tenant_id = {} AND seq = 2",
            t.id
        ))
        .await
        .expect("tamper");
    let broken = store
        .verify_journal()
        .await
        .expect("verify")
        .expect_err("deletion caught");
    assert_eq!(broken.seq, 3);
});

both_backends!(verify_catches_a_removed_tail, |store: Store| async move {
    let t = journal_with_entries(&store).await;
    store
        .execute_raw_for_tests(&format!(
            "DELETE FROM journal WHERE tenant_id = {} AND seq = 5",
            t.id
        ))
        .await
        .expect("tamper");
    let broken = store
        .verify_journal()
        .await
        .expect("verify")
        .expect_err("truncation caught");
    assert_eq!(broken.seq, 5);
});

both_backends!(
    verify_catches_reordered_entries,
    |store: Store| async move {
        let t = journal_with_entries(&store).await;
        let id = t.id;
        for statement in [
            format!("UPDATE journal SET seq = 100 WHERE tenant_id = {id} AND seq = 2"),
            format!("UPDATE journal SET seq = 2 WHERE tenant_id = {id} AND seq = 3"),
            format!("UPDATE journal SET seq = 3 WHERE tenant_id = {id} AND seq = 100"),
        ] {
            store
                .execute_raw_for_tests(&statement)
                .await
                .expect("tamper");
        }
        let broken = store
            .verify_journal()
            .await
            .expect("verify")
            .expect_err("reorder caught");
        assert_eq!(broken.seq, 2);
    }
);

both_backends!(lists_page_by_keyset, |store: Store| async move {
    let t = tenant(&store, "Acme").await;
    for i in 0..25 {
        let mut d = service(&format!("Service {i:02}"));
        d.criticality = if i % 5 == 0 {
            Criticality::High
        } else {
            Criticality::Low
        };
        store
            .create_service(t.id, &d, &Actor::cli())
            .await
            .expect("create");
    }
    let mut names = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = PageRequest {
            limit: Some(10),
            cursor,
        };
        let got = store
            .services(t.id, &ServiceFilter::default(), &page)
            .await
            .expect("page");
        names.extend(got.items.into_iter().map(|s| s.name));
        pages += 1;
        match got.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("Service {i:02}")).collect();
    assert_eq!(names, expected);

    let newest_first = ServiceFilter {
        sort: Some("-created_at".into()),
        ..Default::default()
    };
    let first = store
        .services(
            t.id,
            &newest_first,
            &PageRequest {
                limit: Some(1),
                cursor: None,
            },
        )
        .await
        .expect("page");
    assert_eq!(first.items[0].name, "Service 24");

    let high = ServiceFilter {
        criticality: Some(Criticality::High),
        q: Some("service 1".into()),
        ..Default::default()
    };
    let got = store
        .services(t.id, &high, &PageRequest::default())
        .await
        .expect("filtered");
    assert_eq!(
        got.items
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["Service 10", "Service 15"]
    );

    let bad = PageRequest {
        limit: None,
        cursor: Some("not-a-cursor".into()),
    };
    assert!(matches!(
        store.services(t.id, &ServiceFilter::default(), &bad).await,
        Err(StoreError::Invalid(_))
    ));
    let bad_sort = ServiceFilter {
        sort: Some("password".into()),
        ..Default::default()
    };
    assert!(matches!(
        store
            .services(t.id, &bad_sort, &PageRequest::default())
            .await,
        Err(StoreError::Invalid(_))
    ));
});

both_backends!(users_are_unique_per_tenant, |store: Store| async move {
    let a = tenant(&store, "A").await;
    let b = tenant(&store, "B").await;
    store
        .create_user(
            a.id,
            &user("ann@x.test", Role::Agent),
            Some("hash-a"),
            &Actor::cli(),
        )
        .await
        .expect("first");
    let dup = store
        .create_user(a.id, &user("ann@x.test", Role::Admin), None, &Actor::cli())
        .await;
    assert!(
        matches!(dup, Err(StoreError::Invalid(ref i)) if i.message_for("email").is_some()),
        "{dup:?}"
    );
    store
        .create_user(
            b.id,
            &user("ann@x.test", Role::Auditor),
            Some("hash-b"),
            &Actor::cli(),
        )
        .await
        .expect("other tenant");
    let creds = store
        .credentials_by_email("ANN@x.test")
        .await
        .expect("lookup");
    assert_eq!(creds.len(), 2);
    assert_eq!(creds[0].password_hash.as_deref(), Some("hash-a"));
    assert_eq!(creds[1].user.role, Role::Auditor);
});

both_backends!(
    password_changes_end_other_sessions,
    |store: Store| async move {
        let t = tenant(&store, "A").await;
        let u = store
            .create_user(
                t.id,
                &user("ann@x.test", Role::Agent),
                Some("old"),
                &Actor::cli(),
            )
            .await
            .expect("user");
        let far = steward_store::now_micros() + 3_600_000_000;
        store
            .create_session("keep", t.id, u.id, "csrf1", far)
            .await
            .expect("s1");
        store
            .create_session("drop", t.id, u.id, "csrf2", far)
            .await
            .expect("s2");
        store
            .create_session("old", t.id, u.id, "csrf3", 1)
            .await
            .expect("expired");
        assert!(
            store.session("old").await.expect("lookup").is_none(),
            "expired sessions do not count"
        );
        store
            .set_password(
                t.id,
                u.id,
                "new",
                Some("keep"),
                &Actor::user(u.id, &u.email),
            )
            .await
            .expect("set");
        assert_eq!(
            store
                .password_hash(t.id, u.id)
                .await
                .expect("hash")
                .as_deref(),
            Some("new")
        );
        assert_eq!(
            store
                .session("keep")
                .await
                .expect("lookup")
                .map(|s| s.csrf_token),
            Some("csrf1".into())
        );
        assert!(store.session("drop").await.expect("lookup").is_none());
        let last = store
            .journal_entries(t.id, &JournalFilter::default(), &PageRequest::default())
            .await
            .expect("journal")
            .items;
        assert_eq!(
            last[0].after,
            Some(serde_json::json!({"password": "changed"})),
            "the hash never enters the journal"
        );
        store
            .create_session("stale", t.id, u.id, "csrf4", 1)
            .await
            .expect("expired");
        assert_eq!(
            store.purge_expired(0).await.expect("purge"),
            1,
            "only the expired session goes"
        );
        assert!(store.session("keep").await.expect("lookup").is_some());
    }
);

both_backends!(
    deactivated_users_lose_sessions_and_tokens,
    |store: Store| async move {
        let t = tenant(&store, "A").await;
        let mut draft = user("ann@x.test", Role::Agent);
        let u = store
            .create_user(t.id, &draft, None, &Actor::cli())
            .await
            .expect("user");
        let (token, secret) = store
            .create_token(t.id, u.id, "ci", &Actor::cli())
            .await
            .expect("token");
        assert!(secret.starts_with("stw_") && secret.len() == 68);
        assert!(secret.starts_with(&token.prefix));
        assert_eq!(
            store
                .authenticate_token(&secret)
                .await
                .expect("auth")
                .map(|u| u.id),
            Some(u.id)
        );
        assert!(
            store
                .authenticate_token("stw_wrong")
                .await
                .expect("auth")
                .is_none()
        );
        draft.active = false;
        store
            .update_user(t.id, u.id, &draft, &Actor::cli())
            .await
            .expect("deactivate");
        assert!(
            store
                .authenticate_token(&secret)
                .await
                .expect("auth")
                .is_none()
        );
    }
);

both_backends!(revoked_tokens_stop_working, |store: Store| async move {
    let t = tenant(&store, "A").await;
    let u = store
        .create_user(t.id, &user("ann@x.test", Role::Agent), None, &Actor::cli())
        .await
        .expect("user");
    let (token, secret) = store
        .create_token(t.id, u.id, "ci", &Actor::cli())
        .await
        .expect("token");
    let revoked = store
        .revoke_token(t.id, token.id, &Actor::cli())
        .await
        .expect("revoke");
    assert!(revoked.revoked_at.is_some());
    assert!(
        store
            .authenticate_token(&secret)
            .await
            .expect("auth")
            .is_none()
    );
    assert_eq!(
        store.tokens(t.id, Some(u.id)).await.expect("list").len(),
        1,
        "revoked tokens stay listed"
    );
});

both_backends!(login_failures_are_counted, |store: Store| async move {
    let start = steward_store::now_micros();
    for _ in 0..3 {
        store
            .record_login_failure("Ann@X.test")
            .await
            .expect("record");
    }
    let (count, newest) = store
        .login_failures("ann@x.test", start)
        .await
        .expect("count");
    assert_eq!(count, 3);
    assert!(newest.is_some_and(|n| n >= start));
    store
        .clear_login_failures("ann@x.test")
        .await
        .expect("clear");
    assert_eq!(
        store
            .login_failures("ann@x.test", start)
            .await
            .expect("count")
            .0,
        0
    );
});

both_backends!(
    teams_hold_members_of_their_tenant,
    |store: Store| async move {
        let a = tenant(&store, "A").await;
        let b = tenant(&store, "B").await;
        let ann = store
            .create_user(a.id, &user("ann@x.test", Role::Agent), None, &Actor::cli())
            .await
            .expect("ann");
        let bob = store
            .create_user(a.id, &user("bob@x.test", Role::Agent), None, &Actor::cli())
            .await
            .expect("bob");
        let eve = store
            .create_user(b.id, &user("eve@x.test", Role::Agent), None, &Actor::cli())
            .await
            .expect("eve");
        let desk = store
            .create_team(
                a.id,
                &TeamDraft {
                    name: "Service Desk".into(),
                    description: String::new(),
                },
                &Actor::cli(),
            )
            .await
            .expect("team");
        let dup = store
            .create_team(
                a.id,
                &TeamDraft {
                    name: "Service Desk".into(),
                    description: String::new(),
                },
                &Actor::cli(),
            )
            .await;
        assert!(matches!(dup, Err(StoreError::Invalid(_))), "{dup:?}");
        assert_eq!(
            store
                .set_team_members(a.id, desk.id, &[bob.id, ann.id, ann.id], &Actor::cli())
                .await
                .expect("set"),
            vec![ann.id, bob.id]
        );
        let err = store
            .set_team_members(a.id, desk.id, &[eve.id], &Actor::cli())
            .await;
        assert!(matches!(err, Err(StoreError::Invalid(_))), "{err:?}");
        assert_eq!(
            store.team_members(a.id, desk.id).await.expect("members"),
            vec![ann.id, bob.id]
        );
        store
            .delete_team(a.id, desk.id, &Actor::cli())
            .await
            .expect("delete");
        store
            .create_team(
                a.id,
                &TeamDraft {
                    name: "Service Desk".into(),
                    description: String::new(),
                },
                &Actor::cli(),
            )
            .await
            .expect("name free again");
    }
);

both_backends!(customers_keep_their_contacts, |store: Store| async move {
    let t = tenant(&store, "A").await;
    let c = store
        .create_customer(
            t.id,
            &CustomerDraft {
                name: "Globex".into(),
                notes: "Big".into(),
            },
            &Actor::cli(),
        )
        .await
        .expect("customer");
    let hank = ContactDraft {
        name: "Hank".into(),
        email: "hank@globex.test".into(),
        phone: String::new(),
    };
    let contact = store
        .create_contact(t.id, c.id, &hank, &Actor::cli())
        .await
        .expect("contact");
    assert_eq!(
        store.contacts(t.id, c.id).await.expect("list"),
        vec![contact.clone()]
    );
    let renamed = ContactDraft {
        name: "Hank Scorpio".into(),
        ..hank
    };
    assert_eq!(
        store
            .update_contact(t.id, c.id, contact.id, &renamed, &Actor::cli())
            .await
            .expect("update")
            .name,
        "Hank Scorpio"
    );
    store
        .delete_contact(t.id, c.id, contact.id, &Actor::cli())
        .await
        .expect("delete");
    assert!(store.contacts(t.id, c.id).await.expect("list").is_empty());
});

both_backends!(jobs_retry_then_die, |store: Store| async move {
    let mut job = NewJob::now("test.fail", serde_json::json!({"n": 1}));
    job.max_attempts = 2;
    let id = store.enqueue(&job).await.expect("enqueue").expect("new");
    assert_eq!(
        store
            .enqueue(&NewJob::now("x", serde_json::json!({})).dedupe("k"))
            .await
            .expect("first"),
        Some(id + 1)
    );
    assert_eq!(
        store
            .enqueue(&NewJob::now("x", serde_json::json!({})).dedupe("k"))
            .await
            .expect("dup"),
        None
    );

    let claimed = store
        .claim_jobs("w1", 10, Duration::from_secs(60))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 2);
    assert!(
        store
            .claim_jobs("w2", 10, Duration::from_secs(60))
            .await
            .expect("claim")
            .is_empty(),
        "leased jobs are not handed out twice"
    );
    let first = &claimed[0];
    assert_eq!(first.attempts, 1);
    let outcome = store.fail_job(first, "w1", "boom").await.expect("fail");
    assert!(matches!(
        outcome,
        steward_domain::jobs::AfterFailure::RetryIn(_)
    ));
    assert!(
        store
            .claim_jobs("w1", 10, Duration::from_secs(60))
            .await
            .expect("claim")
            .is_empty(),
        "retry waits for its delay"
    );
    assert!(
        !store
            .complete_job(claimed[1].id, "w2")
            .await
            .expect("complete"),
        "only the claimer completes"
    );
    assert!(
        store
            .complete_job(claimed[1].id, "w1")
            .await
            .expect("complete")
    );
    let counts: HashMap<String, i64> = store
        .job_counts()
        .await
        .expect("counts")
        .into_iter()
        .collect();
    assert_eq!(counts.get("queued"), Some(&1));
    assert_eq!(counts.get("done"), Some(&1));
});

both_backends!(expired_leases_are_reclaimed, |store: Store| async move {
    store
        .enqueue(&NewJob::now("x", serde_json::json!({})))
        .await
        .expect("enqueue");
    let first = store
        .claim_jobs("dead-node", 1, Duration::ZERO)
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = store
        .claim_jobs("live-node", 1, Duration::from_secs(60))
        .await
        .expect("reclaim");
    assert_eq!(
        again.iter().map(|j| (j.id, j.attempts)).collect::<Vec<_>>(),
        vec![(first[0].id, 2)]
    );
    assert!(
        !store
            .complete_job(first[0].id, "dead-node")
            .await
            .expect("stale"),
        "the old lease holder cannot complete"
    );
});

/// Two runners, each with its own pool (as two nodes would have), drain 1,000 jobs; every job
/// runs exactly once.
async fn two_runners_share_the_queue(url: String, store: Store) {
    for i in 0..1000 {
        store
            .enqueue(&NewJob::now("count", serde_json::json!({ "i": i })))
            .await
            .expect("enqueue");
    }
    let runs: Arc<Mutex<HashMap<i64, u32>>> = Arc::default();
    let mut handles = Vec::new();
    for worker in ["node-a", "node-b"] {
        let node = Store::connect(&url, steward_store::PoolConfig::default())
            .await
            .expect("second pool");
        let runs = runs.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let jobs = node
                    .claim_jobs(worker, 25, Duration::from_secs(300))
                    .await
                    .expect("claim");
                if jobs.is_empty() {
                    break;
                }
                for job in jobs {
                    *runs.lock().expect("lock").entry(job.id).or_default() += 1;
                    assert!(node.complete_job(job.id, worker).await.expect("complete"));
                }
            }
            node.close().await;
        }));
    }
    for h in handles {
        h.await.expect("runner");
    }
    let runs = runs.lock().expect("lock");
    assert_eq!(runs.len(), 1000);
    assert!(runs.values().all(|&n| n == 1), "a job ran twice");
}

#[tokio::test]
async fn two_runners_execute_each_job_once_sqlite() {
    let db = TestDb::sqlite().await.expect("db");
    two_runners_share_the_queue(db.url.clone(), db.store.clone()).await;
    db.finish().await;
}

#[tokio::test]
async fn two_runners_execute_each_job_once_postgres() {
    let Some(db) = TestDb::postgres().await.expect("db") else {
        return;
    };
    two_runners_share_the_queue(db.url.clone(), db.store.clone()).await;
    db.finish().await;
}

mod incidents {
    use super::*;
    use steward_domain::incident::{Priority, Status};
    use steward_store::incident::{IncidentFields, IncidentFilter};

    pub fn fields(title: &str, description: &str) -> IncidentFields {
        IncidentFields {
            description: description.into(),
            ..IncidentFields::new(title, steward_store::now_micros())
        }
    }

    fn keys(page: &steward_store::Page<steward_store::incident::Incident>) -> Vec<String> {
        page.items.iter().map(|i| i.key()).collect()
    }

    both_backends!(numbers_are_per_tenant, |store: Store| async move {
        let a = tenant(&store, "A").await;
        let b = tenant(&store, "B").await;
        let first = store
            .create_incident(a.id, &fields("Mail down", ""), &Actor::cli())
            .await
            .expect("a1");
        let second = store
            .create_incident(a.id, &fields("VPN slow", ""), &Actor::cli())
            .await
            .expect("a2");
        let other = store
            .create_incident(b.id, &fields("Printer", ""), &Actor::cli())
            .await
            .expect("b1");
        assert_eq!(
            (first.key(), second.key(), other.key()),
            ("INC-1".into(), "INC-2".into(), "INC-1".into())
        );
        assert_eq!(
            store
                .incident_by_number(a.id, 2)
                .await
                .expect("by number")
                .id,
            second.id
        );
        assert!(matches!(
            store.incident(b.id, first.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(store.verify_journal().await.expect("verify").is_ok());
    });

    // Creates that arrive together share a transaction (group commit); each must still come
    // back as its own incident, with its own number, search entry and journal entry.
    both_backends!(
        concurrent_creates_each_get_their_own_record,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let before = journal_len(&store, t.id).await;
            let creates = (0..40).map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let title = format!("Concurrent {i} word{i}x");
                    let created = store
                        .create_incident(t.id, &fields(&title, ""), &Actor::cli())
                        .await
                        .expect("create");
                    (title, created)
                })
            });
            let mut numbers = Vec::new();
            for create in creates.collect::<Vec<_>>() {
                let (title, created) = create.await.expect("task");
                assert_eq!(created.title, title);
                let found = store
                    .incidents(
                        t.id,
                        &IncidentFilter {
                            q: Some(title.split(' ').next_back().unwrap_or("").into()),
                            ..Default::default()
                        },
                        &PageRequest::default(),
                    )
                    .await
                    .expect("search");
                assert_eq!(keys(&found), [created.key()]);
                numbers.push(created.number);
            }
            numbers.sort_unstable();
            assert_eq!(numbers, (1..=40).collect::<Vec<i64>>());
            assert_eq!(journal_len(&store, t.id).await, before + 40);
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );

    both_backends!(
        full_text_search_covers_the_conversation,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let mail = store
                .create_incident(
                    t.id,
                    &fields("Mailbox full", "Outlook says the mailbox is full"),
                    &Actor::cli(),
                )
                .await
                .expect("mail");
            let vpn = store
                .create_incident(
                    t.id,
                    &fields("VPN drops", "Connection drops every hour"),
                    &Actor::cli(),
                )
                .await
                .expect("vpn");
            store
                .add_incident_comment(
                    t.id,
                    vpn.id,
                    "Replaced the router firmware",
                    true,
                    Author::Agent,
                    &Actor::cli(),
                )
                .await
                .expect("comment");
            let search = |q: &str| IncidentFilter {
                q: Some(q.into()),
                ..Default::default()
            };
            let page = PageRequest::default();
            assert_eq!(
                keys(
                    &store
                        .incidents(t.id, &search("mailbox"), &page)
                        .await
                        .expect("search")
                ),
                [mail.key()]
            );
            assert_eq!(
                keys(
                    &store
                        .incidents(t.id, &search("router firmware"), &page)
                        .await
                        .expect("search")
                ),
                [vpn.key()]
            );
            assert_eq!(
                keys(
                    &store
                        .incidents(t.id, &search("dropping"), &page)
                        .await
                        .expect("stemmed")
                ),
                [vpn.key()]
            );
            assert!(
                store
                    .incidents(t.id, &search("\"unbalanced OR*"), &page)
                    .await
                    .expect("syntax is neutral")
                    .items
                    .is_empty()
            );
            assert!(
                store
                    .incidents(t.id, &search("mailbox router"), &page)
                    .await
                    .expect("all words")
                    .items
                    .is_empty()
            );
            let mut renamed = IncidentFields::from(&mail);
            renamed.title = "Quota exceeded".into();
            renamed.description = "Storage quota".into();
            store
                .update_incident(t.id, mail.id, mail.updated_at, &renamed, &Actor::cli())
                .await
                .expect("update");
            assert!(
                store
                    .incidents(t.id, &search("mailbox"), &page)
                    .await
                    .expect("reindexed")
                    .items
                    .is_empty()
            );
            assert_eq!(
                keys(
                    &store
                        .incidents(t.id, &search("quota"), &page)
                        .await
                        .expect("reindexed")
                ),
                [mail.key()]
            );
        }
    );

    both_backends!(stale_updates_are_refused, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let inc = store
            .create_incident(t.id, &fields("Disk", ""), &Actor::cli())
            .await
            .expect("create");
        let mut f = IncidentFields::from(&inc);
        f.status = Status::InProgress;
        let updated = store
            .update_incident(t.id, inc.id, inc.updated_at, &f, &Actor::cli())
            .await
            .expect("first");
        assert!(updated.updated_at > inc.updated_at);
        let again = store
            .update_incident(t.id, inc.id, inc.updated_at, &f, &Actor::cli())
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let missing = store
            .update_incident(t.id, 999_999, 0, &f, &Actor::cli())
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    });

    both_backends!(
        references_stay_inside_the_tenant,
        |store: Store| async move {
            let a = tenant(&store, "A").await;
            let b = tenant(&store, "B").await;
            let foreign = store
                .create_service(b.id, &service("Theirs"), &Actor::cli())
                .await
                .expect("service");
            let mut f = fields("Broken", "");
            f.service_id = Some(foreign.id);
            let err = store
                .create_incident(a.id, &f, &Actor::cli())
                .await
                .expect_err("foreign service");
            assert!(
                matches!(err, StoreError::Invalid(ref i) if i.message_for("service_id").is_some()),
                "{err:?}"
            );
            let agent = store
                .create_user(a.id, &user("sam@a.test", Role::Agent), None, &Actor::cli())
                .await
                .expect("agent");
            let desk = store
                .create_team(
                    a.id,
                    &TeamDraft {
                        name: "Desk".into(),
                        description: String::new(),
                    },
                    &Actor::cli(),
                )
                .await
                .expect("team");
            let mut f = fields("Broken", "");
            f.assignee_team_id = Some(desk.id);
            f.assignee_id = Some(agent.id);
            let err = store
                .create_incident(a.id, &f, &Actor::cli())
                .await
                .expect_err("not a member");
            assert!(
                matches!(err, StoreError::Invalid(ref i) if i.message_for("assignee_id").is_some()),
                "{err:?}"
            );
            store
                .set_team_members(a.id, desk.id, &[agent.id], &Actor::cli())
                .await
                .expect("join");
            store
                .create_incident(a.id, &f, &Actor::cli())
                .await
                .expect("member may be assigned");
        }
    );

    both_backends!(queues_filter_and_count, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let agent = store
            .create_user(t.id, &user("sam@a.test", Role::Agent), None, &Actor::cli())
            .await
            .expect("agent");
        for (title, priority, status, mine) in [
            ("One", Priority::P1, Status::New, true),
            ("Two", Priority::P3, Status::InProgress, false),
            ("Three", Priority::P2, Status::Resolved, true),
            ("Four", Priority::P1, Status::Pending, false),
        ] {
            let mut f = fields(title, "");
            f.priority = priority;
            f.status = status;
            f.assignee_id = mine.then_some(agent.id);
            store
                .create_incident(t.id, &f, &Actor::cli())
                .await
                .expect("create");
        }
        let page = PageRequest::default();
        let open = store
            .incidents(
                t.id,
                &IncidentFilter {
                    open: true,
                    ..Default::default()
                },
                &page,
            )
            .await
            .expect("open");
        assert_eq!(
            open.items
                .iter()
                .map(|i| i.title.as_str())
                .collect::<Vec<_>>(),
            ["One", "Four", "Two"],
            "by priority, then age"
        );
        let unassigned = IncidentFilter {
            open: true,
            unassigned: true,
            ..Default::default()
        };
        assert_eq!(
            store
                .incidents(t.id, &unassigned, &page)
                .await
                .expect("list")
                .items
                .len(),
            2
        );
        assert_eq!(
            store
                .incident_queue_counts(t.id, agent.id)
                .await
                .expect("counts"),
            (1, 2)
        );
        let counts: HashMap<String, i64> = store
            .incident_counts(t.id)
            .await
            .expect("counts")
            .into_iter()
            .collect();
        assert_eq!(counts.get("resolved"), Some(&1));
        let paged = store
            .incidents(
                t.id,
                &IncidentFilter::default(),
                &PageRequest {
                    limit: Some(3),
                    cursor: None,
                },
            )
            .await
            .expect("page");
        let rest = PageRequest {
            limit: Some(3),
            cursor: paged.next_cursor.clone(),
        };
        assert_eq!(
            store
                .incidents(t.id, &IncidentFilter::default(), &rest)
                .await
                .expect("page 2")
                .items
                .len(),
            1
        );
    });

    both_backends!(
        requester_replies_resume_and_reopen,
        |store: Store| async move {
            use steward_domain::incident::{PendingReason, Status};
            let t = tenant(&store, "A").await;
            let inc = store
                .create_incident(t.id, &fields("Printer", ""), &Actor::cli())
                .await
                .expect("create");
            let set = |inc: &steward_store::incident::Incident, status: Status| {
                let mut f = IncidentFields::from(inc);
                f.status = status;
                f.pending_reason =
                    (status == Status::Pending).then_some(PendingReason::AwaitingCustomer);
                f.resolved_at = (status == Status::Resolved).then_some(inc.updated_at);
                f
            };
            let waiting = store
                .update_incident(
                    t.id,
                    inc.id,
                    inc.updated_at,
                    &set(&inc, Status::Pending),
                    &Actor::cli(),
                )
                .await
                .expect("pending");
            let reply = |text: &'static str, public: bool| {
                let store = store.clone();
                async move {
                    store
                        .add_incident_comment(t.id, inc.id, text, public, REQUESTER, &Actor::cli())
                        .await
                        .expect("reply");
                    store.incident(t.id, inc.id).await.expect("get")
                }
            };
            let resumed = reply("Here is the serial number", true).await;
            assert_eq!(resumed.status, Status::InProgress);
            assert_eq!(resumed.pending(), None);
            let resolved = store
                .update_incident(
                    t.id,
                    inc.id,
                    resumed.updated_at,
                    &set(&resumed, Status::Resolved),
                    &Actor::cli(),
                )
                .await
                .expect("resolve");
            assert_eq!(
                reply("note", false).await.status,
                Status::Resolved,
                "only public replies count"
            );
            let reopened = reply("Still jams", true).await;
            assert_eq!(reopened.status, Status::InProgress);
            assert_eq!(reopened.resolved_at, None);
            assert!(reopened.updated_at > resolved.updated_at);
            assert_eq!(waiting.status, Status::Pending);
            let entries = store
                .journal_entries(
                    t.id,
                    &JournalFilter::default(),
                    &PageRequest {
                        limit: Some(500),
                        cursor: None,
                    },
                )
                .await
                .expect("journal");
            let reopen = entries
                .items
                .iter()
                .find(|e| {
                    e.after
                        .as_ref()
                        .is_some_and(|a| a["status"] == "in_progress" && a["resolved_at"].is_null())
                        && e.before.as_ref().is_some_and(|b| b["status"] == "resolved")
                })
                .is_some();
            assert!(reopen, "the reopening is journaled");
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );

    both_backends!(replies_mark_the_first_response, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let inc = store
            .create_incident(t.id, &fields("Disk", ""), &Actor::cli())
            .await
            .expect("create");
        store
            .add_incident_comment(
                t.id,
                inc.id,
                "Checking logs",
                false,
                Author::Agent,
                &Actor::cli(),
            )
            .await
            .expect("note");
        assert_eq!(
            store
                .incident(t.id, inc.id)
                .await
                .expect("get")
                .first_response_at,
            None,
            "internal notes are not a response"
        );
        store
            .add_incident_comment(
                t.id,
                inc.id,
                "We are on it",
                true,
                Author::Agent,
                &Actor::cli(),
            )
            .await
            .expect("reply");
        let first = store
            .incident(t.id, inc.id)
            .await
            .expect("get")
            .first_response_at;
        assert!(first.is_some());
        store
            .add_incident_comment(
                t.id,
                inc.id,
                "Fixed soon",
                true,
                Author::Agent,
                &Actor::cli(),
            )
            .await
            .expect("reply");
        assert_eq!(
            store
                .incident(t.id, inc.id)
                .await
                .expect("get")
                .first_response_at,
            first
        );
        assert_eq!(
            store
                .incident_comments(t.id, inc.id, false)
                .await
                .expect("all")
                .len(),
            3
        );
        assert_eq!(
            store
                .incident_comments(t.id, inc.id, true)
                .await
                .expect("public")
                .len(),
            2
        );
        assert!(store.verify_journal().await.expect("verify").is_ok());
    });
}

mod problems {
    use super::incidents::fields as incident;
    use super::*;
    use steward_domain::incident::{Level, Priority};
    use steward_domain::problem::{LinkKind, ProblemStatus, RecordKind};
    use steward_store::problem::ProblemFields;

    fn problem(title: &str) -> ProblemFields {
        ProblemFields {
            title: title.into(),
            description: "Users report it daily".into(),
            status: ProblemStatus::New,
            impact: Level::High,
            urgency: Level::Medium,
            priority: Priority::P2,
            service_id: None,
            assignee_id: None,
            root_cause: String::new(),
            workaround: String::new(),
            resolved_at: None,
            closed_at: None,
            category_id: None,
            custom: Default::default(),
        }
    }

    both_backends!(
        a_known_error_appears_once_with_the_workaround,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let p = store
                .create_problem(t.id, &problem("Mailbox sync stalls"), &Actor::cli())
                .await
                .expect("problem");
            assert_eq!(p.key(), "PRB-1");
            let mut f = ProblemFields::from(&p);
            f.status = ProblemStatus::Investigating;
            let p = store
                .update_problem(t.id, p.id, p.updated_at, &f, &Actor::cli())
                .await
                .expect("investigate");
            f.status = ProblemStatus::KnownError;
            f.root_cause = "Memory leak in the sync agent".into();
            f.workaround = "Restart the sync agent".into();
            let p = store
                .update_problem(t.id, p.id, p.updated_at, &f, &Actor::cli())
                .await
                .expect("known error");
            let ke = store
                .known_error_of(t.id, p.id)
                .await
                .expect("lookup")
                .expect("created");
            assert_eq!(
                (ke.key(), ke.workaround.as_str()),
                ("KE-1".into(), "Restart the sync agent")
            );
            let page = PageRequest::default();
            let found = store
                .known_errors(t.id, Some("restarting agents"), true, &page)
                .await
                .expect("search");
            assert_eq!(
                found.items.iter().map(KnownError::key).collect::<Vec<_>>(),
                ["KE-1"]
            );
            let stale = store.update_problem(t.id, p.id, 0, &f, &Actor::cli()).await;
            assert!(matches!(stale, Err(StoreError::Conflict(_))));
            store
                .update_known_error(
                    t.id,
                    ke.id,
                    ("Sync stalls", "Mail stops arriving", "Restart", false),
                    &Actor::cli(),
                )
                .await
                .expect("retire");
            assert!(
                store
                    .known_errors(t.id, None, true, &page)
                    .await
                    .expect("active")
                    .items
                    .is_empty()
            );
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );

    use steward_store::problem::KnownError;

    both_backends!(links_read_from_both_ends, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let inc = store
            .create_incident(t.id, &incident("Mail slow", ""), &Actor::cli())
            .await
            .expect("incident");
        let p = store
            .create_problem(t.id, &problem("Mail server overloaded"), &Actor::cli())
            .await
            .expect("problem");
        let id = store
            .link(
                t.id,
                LinkKind::CausedBy,
                (RecordKind::Incident, inc.id),
                (RecordKind::Problem, p.id),
                &Actor::cli(),
            )
            .await
            .expect("link");
        let again = store
            .link(
                t.id,
                LinkKind::CausedBy,
                (RecordKind::Incident, inc.id),
                (RecordKind::Problem, p.id),
                &Actor::cli(),
            )
            .await
            .expect("again");
        assert_eq!(id, again, "linking twice keeps one link");
        let from_incident = store
            .links(t.id, (RecordKind::Incident, inc.id))
            .await
            .expect("links");
        assert_eq!(from_incident.len(), 1);
        assert!(from_incident[0].outgoing);
        assert_eq!(from_incident[0].other_key, "PRB-1");
        let from_problem = store
            .links(t.id, (RecordKind::Problem, p.id))
            .await
            .expect("links");
        assert_eq!(
            (from_problem[0].outgoing, from_problem[0].other_key.as_str()),
            (false, "INC-1")
        );
        let other = tenant(&store, "B").await;
        let err = store
            .link(
                other.id,
                LinkKind::Related,
                (RecordKind::Incident, inc.id),
                (RecordKind::Problem, p.id),
                &Actor::cli(),
            )
            .await;
        assert!(
            matches!(err, Err(StoreError::Invalid(_))),
            "links never cross tenants"
        );
    });

    both_backends!(
        repeated_incidents_suggest_a_problem,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let mail = store
                .create_service(t.id, &service("Mail"), &Actor::cli())
                .await
                .expect("service");
            let wifi = store
                .create_service(t.id, &service("Wi-Fi"), &Actor::cli())
                .await
                .expect("service");
            for (svc, n) in [(mail.id, 3), (wifi.id, 1)] {
                for i in 0..n {
                    let mut f = incident(&format!("Trouble {i}"), "");
                    f.service_id = Some(svc);
                    store
                        .create_incident(t.id, &f, &Actor::cli())
                        .await
                        .expect("incident");
                }
            }
            let candidates = store
                .problem_candidates(t.id, 3, 0)
                .await
                .expect("candidates");
            assert_eq!(
                candidates
                    .iter()
                    .map(|c| (c.service_id, c.incidents))
                    .collect::<Vec<_>>(),
                [(mail.id, 3)]
            );
            let mut p = problem("Mail keeps failing");
            p.service_id = Some(mail.id);
            store
                .create_problem(t.id, &p, &Actor::cli())
                .await
                .expect("problem");
            assert!(
                store
                    .problem_candidates(t.id, 3, 0)
                    .await
                    .expect("candidates")
                    .is_empty(),
                "an open problem answers the candidate"
            );
            assert!(
                store
                    .problem_candidates(t.id, 3, steward_store::now_micros())
                    .await
                    .expect("window")
                    .is_empty()
            );
        }
    );
}

mod merging {
    use super::incidents::fields as incident;
    use super::*;
    use steward_domain::incident::Status;
    use steward_domain::problem::RecordKind;

    both_backends!(
        merging_moves_the_conversation_and_cancels_the_duplicate,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let keep = store
                .create_incident(t.id, &incident("Printer jammed", ""), &Actor::cli())
                .await
                .expect("keep");
            let dup = store
                .create_incident(t.id, &incident("Printer jammed again", ""), &Actor::cli())
                .await
                .expect("dup");
            store
                .add_incident_comment(
                    t.id,
                    dup.id,
                    "Tray 2 this time",
                    true,
                    REQUESTER,
                    &Actor::cli(),
                )
                .await
                .expect("comment");
            store
                .merge_incident(t.id, dup.id, keep.id, &Actor::cli())
                .await
                .expect("merge");
            let dup = store.incident(t.id, dup.id).await.expect("dup");
            assert_eq!(
                (dup.status, dup.resolution_code.as_deref()),
                (Status::Cancelled, Some("duplicate"))
            );
            let moved = store
                .incident_comments(t.id, keep.id, false)
                .await
                .expect("comments");
            assert_eq!(
                moved.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(),
                ["Tray 2 this time"]
            );
            let links = store
                .links(t.id, (RecordKind::Incident, keep.id))
                .await
                .expect("links");
            assert_eq!(links[0].other_key, dup.key());
            let again = store
                .merge_incident(t.id, dup.id, keep.id, &Actor::cli())
                .await;
            assert!(matches!(again, Err(StoreError::Conflict(_))));
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );
}

mod knowledge {
    use super::*;
    use steward_domain::knowledge::{ArticleDraft, ArticleStatus};
    use steward_store::knowledge::{Article, ArticleChange, ArticleFilter};

    fn draft(title: &str, body: &str) -> ArticleDraft {
        ArticleDraft {
            title: title.into(),
            body: body.into(),
            public: false,
            service_id: None,
        }
    }

    fn keys(page: &steward_store::Page<Article>) -> Vec<String> {
        page.items.iter().map(Article::key).collect()
    }

    /// Moves an article to `to` through the store, as the server does after the domain agreed.
    async fn set_status(store: &Store, tenant_id: i64, a: &Article, to: ArticleStatus) -> Article {
        let change = ArticleChange {
            draft: ArticleDraft {
                title: a.title.clone(),
                body: a.body.clone(),
                public: a.public,
                service_id: a.service_id,
            },
            status: to,
            published_at: if to == ArticleStatus::Published {
                Some(steward_store::now_micros())
            } else {
                a.published_at
            },
        };
        store
            .update_article(tenant_id, a.id, a.updated_at, &change, &Actor::cli())
            .await
            .expect("status")
    }

    both_backends!(
        articles_are_numbered_per_tenant,
        |store: Store| async move {
            let a = tenant(&store, "A").await;
            let b = tenant(&store, "B").await;
            let first = store
                .create_article(a.id, &draft("Reset a password", ""), &Actor::cli())
                .await
                .expect("a1");
            let second = store
                .create_article(a.id, &draft("Connect to VPN", ""), &Actor::cli())
                .await
                .expect("a2");
            let other = store
                .create_article(b.id, &draft("Printing", ""), &Actor::cli())
                .await
                .expect("b1");
            assert_eq!(
                (first.key(), second.key(), other.key()),
                ("KB-1".into(), "KB-2".into(), "KB-1".into())
            );
            assert_eq!((first.status, first.version), (ArticleStatus::Draft, 1));
            assert_eq!(
                store
                    .article_by_number(a.id, 2)
                    .await
                    .expect("by number")
                    .id,
                second.id
            );
            assert!(matches!(
                store.article(b.id, first.id).await,
                Err(StoreError::NotFound)
            ));
            let missing = ArticleDraft {
                service_id: Some(9_999),
                ..draft("Linked", "")
            };
            let refused = store.create_article(a.id, &missing, &Actor::cli()).await;
            assert!(
                matches!(&refused, Err(StoreError::Invalid(i)) if i.message_for("service_id").is_some()),
                "{refused:?}"
            );
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );

    both_backends!(edits_make_versions, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let svc = store
            .create_service(t.id, &service("Mail"), &Actor::cli())
            .await
            .expect("service");
        let a = store
            .create_article(
                t.id,
                &draft("Mailbox full", "Empty the trash"),
                &Actor::cli(),
            )
            .await
            .expect("create");
        let change = |title: &str, body: &str, public: bool| ArticleChange {
            draft: ArticleDraft {
                title: title.into(),
                body: body.into(),
                public,
                service_id: Some(svc.id),
            },
            status: ArticleStatus::Draft,
            published_at: None,
        };
        let linked = store
            .update_article(
                t.id,
                a.id,
                a.updated_at,
                &change("Mailbox full", "Empty the trash", true),
                &Actor::cli(),
            )
            .await
            .expect("link");
        assert_eq!(
            (linked.version, linked.public, linked.service_id),
            (1, true, Some(svc.id)),
            "no new text, no new version"
        );
        let edited = store
            .update_article(
                t.id,
                a.id,
                linked.updated_at,
                &change("Mailbox full", "Empty the trash, then archive", true),
                &Actor::cli(),
            )
            .await
            .expect("edit");
        assert_eq!(edited.version, 2);
        let stale = store
            .update_article(
                t.id,
                a.id,
                linked.updated_at,
                &change("Other", "", true),
                &Actor::cli(),
            )
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))));
        let unchanged = store
            .update_article(
                t.id,
                a.id,
                edited.updated_at,
                &change("Mailbox full", "Empty the trash, then archive", true),
                &Actor::cli(),
            )
            .await
            .expect("no-op");
        assert_eq!(unchanged, edited);

        // Editing a published article makes a new version that stays published.
        let review = set_status(&store, t.id, &edited, ArticleStatus::Review).await;
        let published = set_status(&store, t.id, &review, ArticleStatus::Published).await;
        assert!(published.published_at.is_some());
        let mut republish = change(
            "Mailbox full (Outlook)",
            "Empty the trash, then archive",
            true,
        );
        republish.status = ArticleStatus::Published;
        republish.published_at = published.published_at;
        let v3 = store
            .update_article(t.id, a.id, published.updated_at, &republish, &Actor::cli())
            .await
            .expect("edit published");
        assert_eq!((v3.version, v3.status), (3, ArticleStatus::Published));

        let versions = store.article_versions(t.id, a.id).await.expect("versions");
        assert_eq!(
            versions
                .iter()
                .map(|v| (v.version, v.title.as_str(), v.body.as_str()))
                .collect::<Vec<_>>(),
            [
                (1, "Mailbox full", "Empty the trash"),
                (2, "Mailbox full", "Empty the trash, then archive"),
                (3, "Mailbox full (Outlook)", "Empty the trash, then archive"),
            ]
        );
        assert!(versions.iter().all(|v| v.author == "cli"));
        assert!(
            store
                .article_versions(t.id + 1, a.id)
                .await
                .expect("other tenant")
                .is_empty()
        );
        assert!(store.verify_journal().await.expect("verify").is_ok());
    });

    both_backends!(the_lifecycle_is_enforced, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let a = store
            .create_article(t.id, &draft("Printer setup", ""), &Actor::cli())
            .await
            .expect("create");
        let mut skip = ArticleChange {
            draft: draft("Printer setup", ""),
            status: ArticleStatus::Published,
            published_at: Some(1),
        };
        let refused = store
            .update_article(t.id, a.id, a.updated_at, &skip, &Actor::cli())
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        let review = set_status(&store, t.id, &a, ArticleStatus::Review).await;
        let back = set_status(&store, t.id, &review, ArticleStatus::Draft).await;
        let review = set_status(&store, t.id, &back, ArticleStatus::Review).await;
        let published = set_status(&store, t.id, &review, ArticleStatus::Published).await;
        let retired = set_status(&store, t.id, &published, ArticleStatus::Retired).await;
        assert_eq!(retired.status, ArticleStatus::Retired);
        skip.status = ArticleStatus::Retired;
        skip.draft.title = "Rewritten".into();
        let frozen = store
            .update_article(t.id, a.id, retired.updated_at, &skip, &Actor::cli())
            .await;
        assert!(matches!(frozen, Err(StoreError::Conflict(_))), "{frozen:?}");
        let entries = store
            .journal_entries(
                t.id,
                &JournalFilter {
                    record_type: Some("article".into()),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("journal");
        assert_eq!(entries.items.len(), 6, "create and five status changes");
        assert!(store.verify_journal().await.expect("verify").is_ok());
    });

    both_backends!(search_and_requester_visibility, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let vpn = store
            .create_article(
                t.id,
                &draft("Connecting to the VPN", "Install the client and sign in"),
                &Actor::cli(),
            )
            .await
            .expect("vpn");
        let printer = store
            .create_article(
                t.id,
                &draft("Printer jams", "Open tray 2 and remove the jammed paper"),
                &Actor::cli(),
            )
            .await
            .expect("printer");
        let search = |q: &str| ArticleFilter {
            q: Some(q.into()),
            ..Default::default()
        };
        let page = PageRequest::default();
        for (q, expected) in [
            ("vpn", vec![vpn.key()]),
            ("installing clients", vec![vpn.key()]),
            ("jammed", vec![printer.key()]),
            ("printers", vec![printer.key()]),
            ("tray vpn", vec![]),
            ("\"unbalanced OR*", vec![]),
        ] {
            assert_eq!(
                keys(
                    &store
                        .articles(t.id, &search(q), &page)
                        .await
                        .expect("search")
                ),
                expected,
                "query {q}"
            );
        }

        // Requesters see published public articles only.
        let public = ArticleDraft {
            public: true,
            ..draft("Printer jams", "Open tray 2 and remove the jammed paper")
        };
        let change = ArticleChange {
            draft: public,
            status: ArticleStatus::Draft,
            published_at: None,
        };
        let printer = store
            .update_article(t.id, printer.id, printer.updated_at, &change, &Actor::cli())
            .await
            .expect("public");
        let requesters = ArticleFilter::default().for_requesters();
        assert!(
            store
                .articles(t.id, &requesters, &page)
                .await
                .expect("none yet")
                .items
                .is_empty(),
            "a public draft is not visible"
        );
        let review = set_status(&store, t.id, &printer, ArticleStatus::Review).await;
        set_status(&store, t.id, &review, ArticleStatus::Published).await;
        let vpn_review = set_status(&store, t.id, &vpn, ArticleStatus::Review).await;
        set_status(&store, t.id, &vpn_review, ArticleStatus::Published).await;
        assert_eq!(
            keys(&store.articles(t.id, &requesters, &page).await.expect("one")),
            [printer.key()],
            "the private VPN article stays internal"
        );
        let searched = ArticleFilter {
            q: Some("vpn".into()),
            ..Default::default()
        }
        .for_requesters();
        assert!(
            store
                .articles(t.id, &searched, &page)
                .await
                .expect("search")
                .items
                .is_empty()
        );

        // Keyset pages by title.
        let by_title = ArticleFilter {
            sort: Some("title".into()),
            ..Default::default()
        };
        let first = store
            .articles(
                t.id,
                &by_title,
                &PageRequest {
                    limit: Some(1),
                    cursor: None,
                },
            )
            .await
            .expect("page 1");
        assert_eq!(keys(&first), [vpn.key()]);
        let second = store
            .articles(
                t.id,
                &by_title,
                &PageRequest {
                    limit: Some(1),
                    cursor: first.next_cursor.clone(),
                },
            )
            .await
            .expect("page 2");
        assert_eq!(keys(&second), [printer.key()]);
        assert!(second.next_cursor.is_none());
        let bad = ArticleFilter {
            sort: Some("body".into()),
            ..Default::default()
        };
        assert!(matches!(
            store.articles(t.id, &bad, &page).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(store.verify_journal().await.expect("verify").is_ok());
    });
}

mod requests {
    use super::*;
    use serde_json::json;
    use steward_domain::request::{
        Decision, FieldKind, FormField, ItemDraft, RequestStatus, TaskTemplate,
    };

    fn laptop(approvers: Vec<i64>, tasks: Vec<&str>) -> ItemDraft {
        ItemDraft {
            name: "New laptop".into(),
            description: "A laptop for a new starter".into(),
            category: "Hardware".into(),
            fields: vec![FormField {
                name: "model".into(),
                label: "Model".into(),
                kind: FieldKind::Text,
                required: true,
                options: vec![],
            }],
            approver_ids: approvers,
            tasks: tasks
                .into_iter()
                .map(|t| TaskTemplate {
                    title: t.into(),
                    team_id: None,
                })
                .collect(),
            active: true,
        }
    }

    both_backends!(
        approvals_then_tasks_fulfil_a_request,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let boss = store
                .create_user(
                    t.id,
                    &user("boss@a.test", Role::Manager),
                    None,
                    &Actor::cli(),
                )
                .await
                .expect("boss");
            let cfo = store
                .create_user(
                    t.id,
                    &user("cfo@a.test", Role::Manager),
                    None,
                    &Actor::cli(),
                )
                .await
                .expect("cfo");
            let item = store
                .save_item(
                    t.id,
                    None,
                    &laptop(vec![boss.id, cfo.id], vec!["Order", "Set up"]),
                    &Actor::cli(),
                )
                .await
                .expect("item");
            let answers = json!({"model": "13-inch"})
                .as_object()
                .cloned()
                .unwrap_or_default();
            let req = store
                .create_request(
                    t.id,
                    &item,
                    &answers,
                    None,
                    &Default::default(),
                    &Actor::cli(),
                )
                .await
                .expect("request");
            assert_eq!(
                (req.key(), req.status),
                ("REQ-1".into(), RequestStatus::PendingApproval)
            );
            assert!(
                store.tasks(t.id, req.id).await.expect("tasks").is_empty(),
                "no work before approval"
            );
            let waiting = steward_store::request::RequestFilter {
                awaiting_approver: Some(boss.id),
                ..Default::default()
            };
            assert_eq!(
                store
                    .requests(t.id, &waiting, &PageRequest::default())
                    .await
                    .expect("queue")
                    .items
                    .len(),
                1
            );

            let half = store
                .decide(
                    t.id,
                    req.id,
                    boss.id,
                    Decision::Approved,
                    "ok",
                    &Actor::cli(),
                )
                .await
                .expect("boss");
            assert_eq!(half.status, RequestStatus::PendingApproval);
            let twice = store
                .decide(
                    t.id,
                    req.id,
                    boss.id,
                    Decision::Approved,
                    "again",
                    &Actor::cli(),
                )
                .await;
            assert!(matches!(twice, Err(StoreError::Conflict(_))));
            let approved = store
                .decide(t.id, req.id, cfo.id, Decision::Approved, "", &Actor::cli())
                .await
                .expect("cfo");
            assert_eq!(approved.status, RequestStatus::InFulfilment);
            let tasks = store.tasks(t.id, req.id).await.expect("tasks");
            assert_eq!(tasks.len(), 2);
            assert_eq!(
                store
                    .complete_task(t.id, tasks[0].id, &Actor::cli())
                    .await
                    .expect("one")
                    .status,
                RequestStatus::InFulfilment
            );
            let done = store
                .complete_task(t.id, tasks[1].id, &Actor::cli())
                .await
                .expect("two");
            assert_eq!(done.status, RequestStatus::Fulfilled);
            assert!(done.fulfilled_at.is_some());
            let closed = store
                .set_request_status(t.id, req.id, RequestStatus::Closed, &Actor::cli())
                .await
                .expect("close");
            assert!(closed.closed_at.is_some());
            let stuck = store
                .set_request_status(t.id, req.id, RequestStatus::InFulfilment, &Actor::cli())
                .await;
            assert!(matches!(stuck, Err(StoreError::Conflict(_))));
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );

    both_backends!(one_rejection_rejects, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let boss = store
            .create_user(
                t.id,
                &user("boss@a.test", Role::Manager),
                None,
                &Actor::cli(),
            )
            .await
            .expect("boss");
        let item = store
            .save_item(
                t.id,
                None,
                &laptop(vec![boss.id], vec!["Order"]),
                &Actor::cli(),
            )
            .await
            .expect("item");
        let req = store
            .create_request(
                t.id,
                &item,
                &Default::default(),
                None,
                &Default::default(),
                &Actor::cli(),
            )
            .await
            .expect("request");
        let rejected = store
            .decide(
                t.id,
                req.id,
                boss.id,
                Decision::Rejected,
                "No budget",
                &Actor::cli(),
            )
            .await
            .expect("reject");
        assert_eq!(rejected.status, RequestStatus::Rejected);
        assert!(store.tasks(t.id, req.id).await.expect("tasks").is_empty());
        assert_eq!(
            store.approvals(t.id, req.id).await.expect("approvals")[0].comment,
            "No budget"
        );
    });

    both_backends!(
        items_without_approval_start_work_at_once,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let item = store
                .save_item(
                    t.id,
                    None,
                    &laptop(vec![], vec!["Hand over"]),
                    &Actor::cli(),
                )
                .await
                .expect("item");
            let req = store
                .create_request(
                    t.id,
                    &item,
                    &Default::default(),
                    None,
                    &Default::default(),
                    &Actor::cli(),
                )
                .await
                .expect("request");
            assert_eq!(req.status, RequestStatus::InFulfilment);
            assert_eq!(store.tasks(t.id, req.id).await.expect("tasks").len(), 1);
            let mut retired = laptop(vec![], vec![]);
            retired.active = false;
            store
                .save_item(t.id, Some(item.id), &retired, &Actor::cli())
                .await
                .expect("retire");
            assert!(store.items(t.id, true).await.expect("active").is_empty());
            assert_eq!(store.items(t.id, false).await.expect("all").len(), 1);
            let other = tenant(&store, "B").await;
            let stranger = store
                .create_user(
                    other.id,
                    &user("x@b.test", Role::Manager),
                    None,
                    &Actor::cli(),
                )
                .await
                .expect("user");
            let bad = store
                .save_item(
                    t.id,
                    None,
                    &laptop(vec![stranger.id], vec![]),
                    &Actor::cli(),
                )
                .await;
            assert!(
                matches!(bad, Err(StoreError::Invalid(_))),
                "approvers come from the same tenant"
            );
        }
    );
}

mod mail {
    use super::incidents::fields as incident;
    use super::*;
    use steward_store::mail::{Direction, MailTarget, NewAttachment, OutMail, SEND_KIND};

    fn target(id: i64) -> MailTarget {
        MailTarget {
            record_type: "incident".into(),
            record_id: id,
        }
    }

    both_backends!(dead_letters_keep_every_byte, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let raw: Vec<u8> = (0..=255u8).chain(*b"not a mail\r\n").collect();
        let id = store
            .save_dead_letter(Some(t.id), "not a mail", &raw)
            .await
            .expect("save");
        store
            .save_dead_letter(None, "no tenant with slug `x`", b"From: a@b\r\n\r\nx")
            .await
            .expect("save without tenant");
        let kept = store.dead_letters(Some(t.id)).await.expect("list");
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].id, kept[0].reason.as_str()), (id, "not a mail"));
        assert_eq!(kept[0].raw, raw, "binary content survives unchanged");
        assert_eq!(store.dead_letters(None).await.expect("orphans").len(), 1);
    });

    both_backends!(blobs_are_stored_once, |store: Store| async move {
        let a = tenant(&store, "A").await;
        let b = tenant(&store, "B").await;
        let one = store
            .create_incident(a.id, &incident("Logs", ""), &Actor::cli())
            .await
            .expect("incident");
        let two = store
            .create_incident(b.id, &incident("Logs", ""), &Actor::cli())
            .await
            .expect("incident");
        let log = NewAttachment {
            filename: "app.log",
            content_type: "text/plain",
            bytes: b"ERROR disk full\n",
        };
        let first = store
            .add_attachment(a.id, &target(one.id), log, &Actor::cli())
            .await
            .expect("attach");
        let again = store
            .add_attachment(
                a.id,
                &target(one.id),
                NewAttachment {
                    filename: "copy.log",
                    ..log
                },
                &Actor::cli(),
            )
            .await
            .expect("attach");
        store
            .add_attachment(b.id, &target(two.id), log, &Actor::cli())
            .await
            .expect("attach");
        store
            .add_attachment(
                a.id,
                &target(one.id),
                NewAttachment {
                    bytes: &[0, 1, 2],
                    ..log
                },
                &Actor::cli(),
            )
            .await
            .expect("attach");
        assert_eq!(first.sha256, again.sha256);
        assert_eq!(first.size, 16);
        assert_eq!(
            store.count_blobs().await.expect("count"),
            2,
            "the same content is stored once"
        );
        let listed = store
            .attachments(a.id, &target(one.id))
            .await
            .expect("list");
        assert_eq!(
            listed
                .iter()
                .map(|x| x.filename.as_str())
                .collect::<Vec<_>>(),
            ["app.log", "copy.log", "app.log"]
        );
        assert_eq!(
            store.attachment_bytes(a.id, again.id).await.expect("bytes"),
            b"ERROR disk full\n"
        );
        assert!(matches!(
            store.attachment_bytes(b.id, again.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(store.verify_journal().await.expect("verify").is_ok());
    });

    both_backends!(message_ids_find_their_record, |store: Store| async move {
        let a = tenant(&store, "A").await;
        let b = tenant(&store, "B").await;
        let inc = store
            .create_incident(a.id, &incident("Printer", ""), &Actor::cli())
            .await
            .expect("incident");
        assert!(
            store
                .record_mail_message(
                    a.id,
                    Direction::In,
                    Some("m1@globex.test"),
                    &target(inc.id),
                    Some(b"raw")
                )
                .await
                .expect("record")
        );
        assert!(
            !store
                .record_mail_message(
                    a.id,
                    Direction::In,
                    Some("m1@globex.test"),
                    &target(inc.id),
                    None
                )
                .await
                .expect("again"),
            "a redelivery is recognised"
        );
        let outbox_id = store
            .queue_mail(
                a.id,
                &OutMail {
                    record_type: "incident".into(),
                    record_id: inc.id,
                    to_address: "hank@globex.test".into(),
                    subject: "[INC-1] Printer".into(),
                    body: "Recorded".into(),
                    message_id: "inc-1.abc@steward".into(),
                    in_reply_to: Some("m1@globex.test".into()),
                    references: Some("m1@globex.test".into()),
                },
            )
            .await
            .expect("queue");
        let found = |ids: &[&str]| {
            let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
            let store = store.clone();
            async move {
                store
                    .record_by_message_id(a.id, &ids)
                    .await
                    .expect("lookup")
            }
        };
        assert_eq!(found(&["m1@globex.test"]).await, Some(target(inc.id)));
        assert_eq!(
            found(&["unknown@x", "inc-1.abc@steward"]).await,
            Some(target(inc.id)),
            "our own notification's id threads a reply too"
        );
        assert_eq!(found(&["unknown@x"]).await, None);
        assert_eq!(
            store
                .record_by_message_id(b.id, &["m1@globex.test".to_owned()])
                .await
                .expect("other tenant"),
            None
        );
        assert_eq!(
            store
                .thread_of(a.id, &target(inc.id))
                .await
                .expect("thread"),
            (
                vec!["m1@globex.test".to_owned(), "inc-1.abc@steward".to_owned()],
                Some("m1@globex.test".to_owned())
            )
        );
        let row = store.outbox_message(outbox_id).await.expect("outbox");
        assert_eq!((row.state.as_str(), row.attempts), ("queued", 0));
        let jobs = store
            .claim_jobs("w", 10, Duration::from_secs(60))
            .await
            .expect("claim");
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].kind, SEND_KIND);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&jobs[0].payload).expect("json")["outbox_id"],
            outbox_id
        );
        store
            .outbox_attempted(outbox_id, Some("connection refused"), false)
            .await
            .expect("attempt");
        store
            .outbox_attempted(outbox_id, None, false)
            .await
            .expect("sent");
        let row = store.outbox_message(outbox_id).await.expect("outbox");
        assert_eq!((row.state.as_str(), row.attempts), ("sent", 2));
        assert!(row.sent_at.is_some() && row.last_error.is_none());
    });

    both_backends!(contacts_are_found_by_email, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let globex = store
            .create_customer(
                t.id,
                &CustomerDraft {
                    name: "Globex".into(),
                    notes: String::new(),
                },
                &Actor::cli(),
            )
            .await
            .expect("customer");
        let hank = store
            .create_contact(
                t.id,
                globex.id,
                &ContactDraft {
                    name: "Hank".into(),
                    email: "hank@globex.test".into(),
                    phone: String::new(),
                },
                &Actor::cli(),
            )
            .await
            .expect("contact");
        let found = store
            .contact_by_email(t.id, " Hank@Globex.TEST ")
            .await
            .expect("lookup");
        assert_eq!(found.map(|c| c.id), Some(hank.id));
        assert_eq!(
            store
                .contact_by_email(t.id, "nobody@globex.test")
                .await
                .expect("lookup"),
            None
        );
        assert_eq!(
            store
                .customer_id_by_name(t.id, "Globex")
                .await
                .expect("lookup"),
            Some(globex.id)
        );
        store
            .delete_contact(t.id, globex.id, hank.id, &Actor::cli())
            .await
            .expect("delete");
        assert_eq!(
            store
                .contact_by_email(t.id, "hank@globex.test")
                .await
                .expect("lookup"),
            None
        );
    });
}

mod major {
    use super::incidents::fields as incident;
    use super::*;
    use steward_domain::major::{Audience, ReviewDraft, UpdateDraft};

    fn update(audience: Audience, body: &str) -> UpdateDraft {
        UpdateDraft {
            audience,
            body: body.into(),
        }
    }

    both_backends!(declaring_logging_and_reviewing, |store: Store| async move {
        let t = tenant(&store, "A").await;
        let other = tenant(&store, "B").await;
        let agent = store
            .create_user(t.id, &user("mim@a.test", Role::Agent), None, &Actor::cli())
            .await
            .expect("agent");
        let requester = store
            .create_user(
                t.id,
                &user("rita@a.test", Role::Requester),
                None,
                &Actor::cli(),
            )
            .await
            .expect("requester");
        let stranger = store
            .create_user(
                other.id,
                &user("sam@b.test", Role::Agent),
                None,
                &Actor::cli(),
            )
            .await
            .expect("stranger");
        let inc = store
            .create_incident(t.id, &incident("Mail down for everyone", ""), &Actor::cli())
            .await
            .expect("incident");
        let calm = store
            .create_incident(t.id, &incident("Printer jammed", ""), &Actor::cli())
            .await
            .expect("incident");
        assert_eq!(
            store.is_major(t.id, inc.id).await.expect("flag"),
            (false, None)
        );

        for bad in [requester.id, stranger.id] {
            let refused = store.declare_major(t.id, inc.id, bad, &Actor::cli()).await;
            assert!(
                matches!(&refused, Err(StoreError::Invalid(i)) if i.message_for("manager_id").is_some()),
                "{refused:?}"
            );
        }
        assert!(matches!(
            store
                .add_communication(
                    t.id,
                    inc.id,
                    &update(Audience::Internal, "x"),
                    &Actor::cli()
                )
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store.stand_down(t.id, inc.id, &Actor::cli()).await,
            Err(StoreError::Conflict(_))
        ));

        let before = store.incident(t.id, inc.id).await.expect("incident");
        let flag = store
            .declare_major(t.id, inc.id, agent.id, &Actor::cli())
            .await
            .expect("declare");
        assert!(flag.major);
        assert_eq!(
            store.is_major(t.id, inc.id).await.expect("flag"),
            (true, Some(agent.id))
        );
        let after = store.incident(t.id, inc.id).await.expect("incident");
        assert!(
            after.updated_at > before.updated_at,
            "declaring touches the incident"
        );
        assert_eq!(
            store
                .majors_among(t.id, &[inc.id, calm.id])
                .await
                .expect("among"),
            [inc.id].into_iter().collect()
        );
        assert!(
            store
                .declare_major(other.id, inc.id, stranger.id, &Actor::cli())
                .await
                .is_err(),
            "another tenant cannot reach the incident"
        );

        store
            .add_communication(
                t.id,
                inc.id,
                &update(Audience::Customers, "We are on it"),
                &Actor::cli(),
            )
            .await
            .expect("update");
        store
            .add_communication(
                t.id,
                inc.id,
                &update(Audience::Executives, "ETA 2 h"),
                &Actor::cli(),
            )
            .await
            .expect("update");
        let log = store.communications(t.id, inc.id).await.expect("log");
        assert_eq!(
            log.iter()
                .map(|c| (c.audience, c.body.as_str()))
                .collect::<Vec<_>>(),
            [
                (Audience::Customers, "We are on it"),
                (Audience::Executives, "ETA 2 h")
            ]
        );
        assert!(
            store
                .communications(other.id, inc.id)
                .await
                .expect("log")
                .is_empty()
        );

        assert_eq!(store.review(t.id, inc.id).await.expect("review"), None);
        let draft = ReviewDraft {
            summary: "Mail was down for 2 h".into(),
            ..Default::default()
        };
        let first = store
            .save_review(t.id, inc.id, &draft, &Actor::cli())
            .await
            .expect("draft");
        assert!(!first.completed && first.completed_at.is_none());
        let complete = ReviewDraft {
            root_cause: "Disk full".into(),
            improvements: "Alert at 80 %".into(),
            completed: true,
            ..draft.clone()
        };
        let done = store
            .save_review(t.id, inc.id, &complete, &Actor::cli())
            .await
            .expect("complete");
        assert_eq!(done.id, first.id, "one review per incident");
        assert!(done.completed && done.completed_at.is_some());
        let again = store
            .save_review(t.id, inc.id, &complete, &Actor::cli())
            .await
            .expect("again");
        assert_eq!(
            again.completed_at, done.completed_at,
            "completion keeps its first time"
        );
        let incomplete = ReviewDraft {
            completed: true,
            ..draft
        };
        let kept_open = store
            .save_review(t.id, calm.id, &incomplete, &Actor::cli())
            .await;
        assert!(
            matches!(kept_open, Err(StoreError::Conflict(_))),
            "only major incidents are reviewed"
        );

        let list = store.major_incidents(t.id, true).await.expect("list");
        assert_eq!(
            list.iter()
                .map(|m| (m.key(), m.review_completed))
                .collect::<Vec<_>>(),
            [(inc.key(), true)]
        );
        assert!(
            store
                .major_incidents(other.id, false)
                .await
                .expect("list")
                .is_empty()
        );

        let down = store
            .stand_down(t.id, inc.id, &Actor::cli())
            .await
            .expect("stand down");
        assert_eq!((down.major, down.major_manager_id), (false, None));
        assert!(
            store
                .major_incidents(t.id, false)
                .await
                .expect("list")
                .is_empty()
        );
        assert_eq!(
            store.communications(t.id, inc.id).await.expect("log").len(),
            2,
            "the log stays"
        );

        let page = PageRequest {
            limit: Some(500),
            cursor: None,
        };
        let kinds: Vec<String> = store
            .journal_entries(t.id, &JournalFilter::default(), &page)
            .await
            .expect("journal")
            .items
            .into_iter()
            .map(|e| e.record_type)
            .collect();
        for kind in ["incident_communication", "incident_review"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} is journaled");
        }
        assert!(store.verify_journal().await.expect("verify").is_ok());
    });

    both_backends!(
        a_failed_declaration_leaves_no_trace,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let agent = store
                .create_user(t.id, &user("mim@a.test", Role::Agent), None, &Actor::cli())
                .await
                .expect("agent");
            let inc = store
                .create_incident(t.id, &incident("Mail down", ""), &Actor::cli())
                .await
                .expect("incident");
            let entries = journal_len(&store, t.id).await;
            store.inject_failure_after_journal(true);
            assert!(
                store
                    .declare_major(t.id, inc.id, agent.id, &Actor::cli())
                    .await
                    .is_err()
            );
            store.inject_failure_after_journal(false);
            assert_eq!(
                store.is_major(t.id, inc.id).await.expect("flag"),
                (false, None)
            );
            assert_eq!(journal_len(&store, t.id).await, entries);
        }
    );
}

mod counting {
    use super::incidents::fields;
    use super::*;
    use steward_store::incident::IncidentFilter;

    both_backends!(
        counts_match_the_lists_without_caps,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            for i in 0..7 {
                let title = if i % 2 == 0 {
                    format!("Printer {i}")
                } else {
                    format!("Laptop {i}")
                };
                store
                    .create_incident(t.id, &fields(&title, ""), &Actor::cli())
                    .await
                    .expect("incident");
            }
            let printers = IncidentFilter {
                q: Some("printer".into()),
                ..Default::default()
            };
            assert_eq!(
                store.count_incidents(t.id, &printers).await.expect("count"),
                4
            );
            let page = PageRequest {
                limit: Some(2),
                cursor: None,
            };
            assert_eq!(
                store
                    .incidents(t.id, &printers, &page)
                    .await
                    .expect("page")
                    .items
                    .len(),
                2
            );
            assert_eq!(
                store
                    .count_incidents(t.id, &IncidentFilter::default())
                    .await
                    .expect("all"),
                7
            );
            let view = store
                .save_view(
                    t.id,
                    None,
                    "incidents",
                    "Printers",
                    "q=printer",
                    &Actor::cli(),
                )
                .await
                .expect("view");
            assert_eq!(
                store.views(t.id, 0, "incidents").await.expect("views"),
                vec![view]
            );
        }
    );
}

mod attachments_and_watchers {
    use super::incidents::fields as incident;
    use super::*;
    use steward_store::mail::{MailTarget, NewAttachment};

    fn target(id: i64) -> MailTarget {
        MailTarget {
            record_type: "incident".into(),
            record_id: id,
        }
    }

    both_backends!(
        an_attachment_is_found_through_its_record,
        |store: Store| async move {
            let a = tenant(&store, "A").await;
            let b = tenant(&store, "B").await;
            let one = store
                .create_incident(a.id, &incident("Logs", ""), &Actor::cli())
                .await
                .expect("incident");
            let two = store
                .create_incident(a.id, &incident("Other", ""), &Actor::cli())
                .await
                .expect("incident");
            let bytes: Vec<u8> = (0..=255u8).rev().collect();
            let file = NewAttachment {
                filename: "dump.bin",
                content_type: "application/octet-stream",
                bytes: &bytes,
            };
            let saved = store
                .add_attachment(a.id, &target(one.id), file, &Actor::cli())
                .await
                .expect("attach");
            let found = store
                .attachment(a.id, &target(one.id), saved.id)
                .await
                .expect("found");
            assert_eq!(found, saved);
            assert_eq!(
                store.attachment_bytes(a.id, found.id).await.expect("bytes"),
                bytes
            );
            for (tenant_id, record) in [(a.id, two.id), (b.id, one.id)] {
                assert!(
                    matches!(
                        store.attachment(tenant_id, &target(record), saved.id).await,
                        Err(StoreError::NotFound)
                    ),
                    "another record or tenant does not find it"
                );
            }
            assert!(
                store
                    .attachments(a.id, &target(two.id))
                    .await
                    .expect("list")
                    .is_empty()
            );
        }
    );

    both_backends!(
        watchers_are_journaled_and_unique,
        |store: Store| async move {
            let a = tenant(&store, "A").await;
            let b = tenant(&store, "B").await;
            let member = store
                .create_user(
                    a.id,
                    &user("sam@acme.test", Role::Agent),
                    None,
                    &Actor::cli(),
                )
                .await
                .expect("user");
            let one = store
                .create_incident(a.id, &incident("VPN", ""), &Actor::cli())
                .await
                .expect("incident");
            let before = journal_len(&store, a.id).await;
            let sam = store
                .add_watcher(a.id, &target(one.id), "Sam@Acme.test", &Actor::cli())
                .await
                .expect("watch");
            assert_eq!(sam.email, "sam@acme.test");
            assert_eq!(sam.user_id, Some(member.id), "a user's address is linked");
            let guest = store
                .add_watcher(a.id, &target(one.id), "guest@example.org", &Actor::cli())
                .await
                .expect("watch");
            assert_eq!(guest.user_id, None);
            match store
                .add_watcher(a.id, &target(one.id), "sam@acme.test", &Actor::cli())
                .await
            {
                Err(StoreError::Invalid(invalid)) => {
                    assert_eq!(invalid.errors[0].field, "email");
                }
                other => panic!("a second watch by one address must be refused: {other:?}"),
            }
            assert_eq!(
                store
                    .watchers(a.id, &target(one.id))
                    .await
                    .expect("list")
                    .iter()
                    .map(|w| w.email.as_str())
                    .collect::<Vec<_>>(),
                ["sam@acme.test", "guest@example.org"]
            );
            assert!(
                store
                    .watchers(b.id, &target(one.id))
                    .await
                    .expect("list")
                    .is_empty()
            );
            assert!(matches!(
                store
                    .remove_watcher(b.id, &target(one.id), sam.id, &Actor::cli())
                    .await,
                Err(StoreError::NotFound)
            ));
            let removed = store
                .remove_watcher(a.id, &target(one.id), sam.id, &Actor::cli())
                .await
                .expect("remove");
            assert_eq!(removed, sam);
            assert_eq!(
                store.watchers(a.id, &target(one.id)).await.expect("list"),
                [guest]
            );
            assert_eq!(
                journal_len(&store, a.id).await,
                before + 3,
                "two adds and a removal; the refused add left no trace"
            );
            let entries = store
                .journal_entries(
                    a.id,
                    &JournalFilter {
                        record_type: Some("watcher".into()),
                        ..Default::default()
                    },
                    &PageRequest::default(),
                )
                .await
                .expect("journal");
            assert_eq!(entries.items[0].action.as_str(), "delete");
            assert_eq!(
                entries.items[0].before.as_ref().map(|b| b["email"].clone()),
                Some("sam@acme.test".into())
            );
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );
}

mod bulk_loading {
    use super::incidents::fields;
    use super::*;
    use steward_store::incident::{IncidentFields, IncidentFilter, NewComment};

    both_backends!(
        bulk_loads_are_numbered_searchable_and_journaled,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            store
                .create_incident(t.id, &fields("Before the load", ""), &Actor::cli())
                .await
                .expect("one");
            let rows: Vec<_> = (0..1200)
                .map(|i| {
                    fields(
                        &format!("Generated {i}"),
                        if i % 100 == 0 {
                            "toner empty"
                        } else {
                            "paper jam"
                        },
                    )
                })
                .collect();
            assert_eq!(
                store
                    .load_incidents(t.id, &rows, &Actor::cli())
                    .await
                    .expect("load"),
                1200
            );
            let last = store
                .incident_by_number(t.id, 1201)
                .await
                .expect("numbered after the existing one");
            assert_eq!(last.title, "Generated 1199");
            let toner = IncidentFilter {
                q: Some("toner".into()),
                ..Default::default()
            };
            assert_eq!(
                store.count_incidents(t.id, &toner).await.expect("count"),
                12
            );
            assert_eq!(
                store.verify_journal().await.expect("verify"),
                Ok(1 + 1 + 1200)
            );
            let after = store
                .create_incident(t.id, &fields("After the load", ""), &Actor::cli())
                .await
                .expect("next");
            assert_eq!(after.key(), "INC-1202");
        }
    );

    both_backends!(
        bulk_loads_carry_searchable_journaled_conversation,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let opened = steward_store::now_micros() - 86_400_000_000;
            let rows: Vec<_> = (0..3)
                .map(|i| IncidentFields {
                    opened_at: opened,
                    ..fields(&format!("Printer jammed {i}"), "paper jam")
                })
                .collect();
            let said = |author: &str, body: &str, public: bool, minutes: i64| NewComment {
                author_id: None,
                author: author.into(),
                body: body.into(),
                public,
                created_at: opened + minutes * 60_000_000,
            };
            let first = vec![
                said("agent", "Have you tried another tray?", true, 5),
                said("requester", "Yes, same jam.", true, 20),
                said("agent", "Roller worn; ordering a spare.", false, 25),
            ];
            let second = vec![said(
                "requester",
                "The defragmentation finished overnight.",
                true,
                3,
            )];
            let loaded = store
                .load_incidents_with_comments(
                    t.id,
                    &rows,
                    &[first.clone(), second, Vec::new()],
                    &Actor::cli(),
                )
                .await
                .expect("load");
            assert_eq!(loaded, 3);
            let one = store.incident_by_number(t.id, 1).await.expect("first");
            let listed = store
                .incident_comments(t.id, one.id, false)
                .await
                .expect("comments");
            let got: Vec<_> = listed
                .iter()
                .map(|c| NewComment {
                    author_id: c.author_id,
                    author: c.author.clone(),
                    body: c.body.clone(),
                    public: c.public,
                    created_at: c.created_at,
                })
                .collect();
            assert_eq!(got, first, "in order, with their own authors and times");
            assert_eq!(
                store
                    .incident_comments(t.id, one.id, true)
                    .await
                    .expect("public")
                    .len(),
                2,
                "the internal note is not public"
            );
            let three = store.incident_by_number(t.id, 3).await.expect("third");
            assert!(
                store
                    .incident_comments(t.id, three.id, false)
                    .await
                    .expect("none")
                    .is_empty()
            );
            // A word only in the second incident's conversation finds it.
            let found = store
                .incidents(
                    t.id,
                    &IncidentFilter {
                        q: Some("defragmentation".into()),
                        ..Default::default()
                    },
                    &PageRequest::default(),
                )
                .await
                .expect("search");
            let keys: Vec<_> = found.items.iter().map(|i| i.key()).collect();
            assert_eq!(keys, ["INC-2"]);
            let journaled = store
                .journal_entries(
                    t.id,
                    &JournalFilter {
                        record_type: Some("comment".into()),
                        ..Default::default()
                    },
                    &PageRequest::default(),
                )
                .await
                .expect("journal");
            let mut records: Vec<_> = journaled
                .items
                .iter()
                .filter_map(|e| e.after.as_ref().map(|a| a["record"].clone()))
                .collect();
            records.sort_by_key(|r| r.to_string());
            assert_eq!(records, ["INC-1", "INC-1", "INC-1", "INC-2"]);
            assert_eq!(
                store.verify_journal().await.expect("verify"),
                Ok(1 + 3 + 4),
                "tenant, incidents and comments, one chain"
            );
        }
    );
}

mod categories_and_custom_fields {
    use super::incidents::fields;
    use super::*;
    use serde_json::json;
    use steward_domain::request::{FieldKind, FormField};
    use steward_store::category::CategoryChange;
    use steward_store::incident::IncidentFilter;

    both_backends!(
        categories_form_a_journaled_tree,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let other = tenant(&store, "B").await;
            let cli = Actor::cli();
            let hw = store
                .create_category(t.id, None, "Hardware", &cli)
                .await
                .expect("root");
            let laptops = store
                .create_category(t.id, Some(hw.id), " Laptops ", &cli)
                .await
                .expect("child");
            let batteries = store
                .create_category(t.id, Some(laptops.id), "Batteries", &cli)
                .await
                .expect("grandchild");
            assert_eq!(laptops.name, "Laptops");
            // Same name at another level is fine; among siblings it is not (case-insensitive).
            store
                .create_category(t.id, None, "Laptops", &cli)
                .await
                .expect("other level");
            let twin = store
                .create_category(t.id, Some(hw.id), "LAPTOPS", &cli)
                .await
                .expect_err("twin");
            assert!(
                matches!(&twin, StoreError::Invalid(i) if i.message_for("name").is_some()),
                "{twin:?}"
            );
            let foreign = store
                .create_category(other.id, Some(hw.id), "X", &cli)
                .await
                .expect_err("foreign parent");
            assert!(
                matches!(&foreign, StoreError::Invalid(i) if i.message_for("parent_id").is_some()),
                "{foreign:?}"
            );

            let cycle = CategoryChange {
                parent_id: Some(Some(batteries.id)),
                ..Default::default()
            };
            let refused = store
                .update_category(t.id, hw.id, &cycle, &cli)
                .await
                .expect_err("cycle");
            assert!(
                matches!(&refused, StoreError::Invalid(i) if i.message_for("parent_id").is_some()),
                "{refused:?}"
            );

            let tree = store.category_tree(t.id).await.expect("tree");
            let paths: Vec<(&str, usize)> =
                tree.iter().map(|c| (c.path.as_str(), c.depth)).collect();
            assert_eq!(
                paths,
                vec![
                    ("Hardware", 0),
                    ("Hardware › Laptops", 1),
                    ("Hardware › Laptops › Batteries", 2),
                    ("Laptops", 0)
                ]
            );
            let retire = CategoryChange {
                retired: Some(true),
                ..Default::default()
            };
            assert!(
                store
                    .update_category(t.id, batteries.id, &retire, &cli)
                    .await
                    .expect("retire")
                    .retired
            );
            assert!(
                store
                    .category_tree(other.id)
                    .await
                    .expect("tree")
                    .is_empty()
            );
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );

    both_backends!(
        incidents_keep_category_and_custom_values,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let cli = Actor::cli();
            let defs = vec![
                FormField {
                    name: "asset".into(),
                    label: "Asset".into(),
                    kind: FieldKind::Text,
                    required: true,
                    options: vec![],
                },
                FormField {
                    name: "owner".into(),
                    label: "Owner".into(),
                    kind: FieldKind::User,
                    required: false,
                    options: vec![],
                },
            ];
            store
                .replace_custom_fields(t.id, "incident", &defs, &cli)
                .await
                .expect("defs");
            assert_eq!(
                store.custom_fields(t.id, "incident").await.expect("read"),
                defs
            );
            assert!(matches!(
                store.custom_fields(t.id, "nothing").await,
                Err(StoreError::NotFound)
            ));

            let missing = store
                .check_custom_values(t.id, "incident", &serde_json::Map::new(), true)
                .await
                .expect_err("required");
            assert!(
                matches!(&missing, StoreError::Invalid(i) if i.message_for("custom.asset").is_some())
            );
            let lenient = store
                .check_custom_values(t.id, "incident", &serde_json::Map::new(), false)
                .await;
            assert!(lenient.is_ok());
            let ghost = json!({"asset": "A-1", "owner": 424_242});
            let ghost = store
                .check_custom_values(t.id, "incident", ghost.as_object().expect("object"), true)
                .await
                .expect_err("no such user");
            assert!(
                matches!(&ghost, StoreError::Invalid(i) if i.message_for("custom.owner").is_some())
            );

            let hw = store
                .create_category(t.id, None, "Hardware", &cli)
                .await
                .expect("root");
            let laptops = store
                .create_category(t.id, Some(hw.id), "Laptops", &cli)
                .await
                .expect("child");
            let values = json!({"asset": "A-1"});
            let clean = store
                .check_custom_values(t.id, "incident", values.as_object().expect("object"), true)
                .await
                .expect("clean");
            let mut f = fields("Laptop broken", "");
            f.category_id = Some(laptops.id);
            f.custom = clean;
            let created = store.create_incident(t.id, &f, &cli).await.expect("create");
            assert_eq!(created.category_id, Some(laptops.id));
            assert_eq!(created.custom.0.get("asset"), Some(&json!("A-1")));
            store
                .create_incident(t.id, &fields("Unrelated", ""), &cli)
                .await
                .expect("create");

            let mut wrong = fields("Elsewhere", "");
            wrong.category_id = Some(999_999);
            let refused = store
                .create_incident(t.id, &wrong, &cli)
                .await
                .expect_err("unknown category");
            assert!(
                matches!(&refused, StoreError::Invalid(i) if i.message_for("category_id").is_some())
            );

            let under = |id| IncidentFilter {
                category_id: Some(id),
                ..Default::default()
            };
            assert_eq!(
                store
                    .count_incidents(t.id, &under(hw.id))
                    .await
                    .expect("count"),
                1,
                "subcategories included"
            );
            assert_eq!(
                store
                    .count_incidents(t.id, &under(laptops.id))
                    .await
                    .expect("count"),
                1
            );

            let mut moved = steward_store::incident::IncidentFields::from(&created);
            moved.category_id = Some(hw.id);
            let updated = store
                .update_incident(t.id, created.id, created.updated_at, &moved, &cli)
                .await
                .expect("update");
            assert_eq!(updated.category_id, Some(hw.id));
            assert_eq!(updated.custom, created.custom);
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );
}

mod filtering_on_fields {
    use super::incidents::fields;
    use super::*;
    use serde_json::json;
    use steward_domain::request::{FieldKind, FormField};
    use steward_store::incident::IncidentFilter;

    fn field(name: &str, kind: FieldKind, options: &[&str]) -> FormField {
        FormField {
            name: name.into(),
            label: name.to_uppercase(),
            kind,
            required: false,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    fn custom(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn invalid_field(e: &StoreError) -> Vec<String> {
        match e {
            StoreError::Invalid(i) => i.errors.iter().map(|e| e.field.clone()).collect(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    /// Keys of every incident a filter matches, across pages of one, and the uncapped count.
    async fn matching(store: &Store, tenant_id: i64, f: &IncidentFilter) -> (Vec<String>, i64) {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .incidents(
                    tenant_id,
                    f,
                    &PageRequest {
                        limit: Some(1),
                        cursor,
                    },
                )
                .await
                .expect("list");
            keys.extend(page.items.iter().map(|i| i.key()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        keys.sort();
        let count = store.count_incidents(tenant_id, f).await.expect("count");
        (keys, count)
    }

    both_backends!(
        incident_lists_filter_on_category_subtrees_and_custom_values,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let other = tenant(&store, "B").await;
            let cli = Actor::cli();
            let defs = vec![
                field("site", FieldKind::Text, &[]),
                field("floor", FieldKind::Number, &[]),
                field("os", FieldKind::Select, &["Linux", "Windows"]),
                field("since", FieldKind::Date, &[]),
            ];
            store
                .replace_custom_fields(t.id, "incident", &defs, &cli)
                .await
                .expect("defs");
            let hw = store
                .create_category(t.id, None, "Hardware", &cli)
                .await
                .expect("hw");
            let laptops = store
                .create_category(t.id, Some(hw.id), "Laptops", &cli)
                .await
                .expect("laptops");
            let batteries = store
                .create_category(t.id, Some(laptops.id), "Batteries", &cli)
                .await
                .expect("batteries");
            let access = store
                .create_category(t.id, None, "Access", &cli)
                .await
                .expect("access");
            let foreign = store
                .create_category(other.id, None, "Hardware", &cli)
                .await
                .expect("foreign");

            let mut made = Vec::new();
            for (title, category, values) in [
                (
                    "Laptop",
                    Some(laptops.id),
                    json!({"site": "Berlin", "floor": "3", "os": "Linux", "since": "2026-01-05"}),
                ),
                (
                    "Battery",
                    Some(batteries.id),
                    json!({"site": " berlin ", "floor": 30}),
                ),
                (
                    "Badge",
                    Some(access.id),
                    json!({"site": "Paris", "floor": 3.0}),
                ),
                ("Loose", None, json!({})),
            ] {
                let clean = store
                    .check_custom_values(t.id, "incident", values.as_object().expect("obj"), true)
                    .await
                    .expect("clean");
                let mut f = fields(title, "");
                f.category_id = category;
                f.custom = clean;
                made.push(
                    store
                        .create_incident(t.id, &f, &cli)
                        .await
                        .expect("create")
                        .key(),
                );
            }
            // The other tenant's incident in its own "Hardware" with the same site.
            store
                .replace_custom_fields(other.id, "incident", &defs, &cli)
                .await
                .expect("defs");
            let mut f = fields("Elsewhere", "");
            f.category_id = Some(foreign.id);
            f.custom = json!({"site": "Berlin"}).as_object().cloned().expect("obj");
            store
                .create_incident(other.id, &f, &cli)
                .await
                .expect("create");

            let (laptop, battery, badge) = (made[0].clone(), made[1].clone(), made[2].clone());
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v
            };
            let by = |category: Option<i64>, pairs: &[(&str, &str)]| IncidentFilter {
                category_id: category,
                custom: custom(pairs),
                ..Default::default()
            };
            let cases: Vec<(IncidentFilter, Vec<String>, &str)> = vec![
                (
                    by(Some(hw.id), &[]),
                    sorted(vec![laptop.clone(), battery.clone()]),
                    "the whole subtree",
                ),
                (
                    by(Some(laptops.id), &[]),
                    sorted(vec![laptop.clone(), battery.clone()]),
                    "a middle node",
                ),
                (by(Some(batteries.id), &[]), vec![battery.clone()], "a leaf"),
                (
                    by(Some(access.id), &[]),
                    vec![badge.clone()],
                    "another tree",
                ),
                (
                    by(Some(foreign.id), &[]),
                    vec![],
                    "another tenant's category",
                ),
                (
                    by(None, &[("site", "BERLIN")]),
                    sorted(vec![laptop.clone(), battery.clone()]),
                    "text ignores case",
                ),
                (
                    by(None, &[("site", "Berl")]),
                    vec![],
                    "text is whole, not a prefix",
                ),
                (
                    by(None, &[("floor", "3")]),
                    sorted(vec![laptop.clone(), badge.clone()]),
                    "number",
                ),
                (
                    by(None, &[("floor", " 3.0 ")]),
                    sorted(vec![laptop.clone(), badge.clone()]),
                    "number as stored",
                ),
                (
                    by(None, &[("floor", "30")]),
                    vec![battery.clone()],
                    "number is exact",
                ),
                (by(None, &[("os", "Linux")]), vec![laptop.clone()], "select"),
                (
                    by(None, &[("since", "2026-01-05")]),
                    vec![laptop.clone()],
                    "date",
                ),
                (
                    by(None, &[("site", "")]),
                    sorted(made.clone()),
                    "an empty value filters nothing",
                ),
                (
                    by(Some(hw.id), &[("floor", "3")]),
                    vec![laptop.clone()],
                    "conditions combine",
                ),
                (
                    by(None, &[("site", "berlin"), ("floor", "30")]),
                    vec![battery.clone()],
                    "fields combine",
                ),
            ];
            for (filter, expected, why) in cases {
                let (keys, count) = matching(&store, t.id, &filter).await;
                assert_eq!(keys, expected, "{why}");
                assert_eq!(
                    count,
                    i64::try_from(keys.len()).expect("len"),
                    "{why}: count"
                );
            }
            let open_berlin = IncidentFilter {
                open: true,
                q: Some("laptop".into()),
                custom: custom(&[("site", "berlin")]),
                ..Default::default()
            };
            assert_eq!(
                matching(&store, t.id, &open_berlin).await,
                (vec![laptop.clone()], 1),
                "with search"
            );

            for (pairs, at) in [
                (&[("nope", "x")][..], "custom.nope"),
                (&[("os", "BeOS")][..], "custom.os"),
                (&[("floor", "third")][..], "custom.floor"),
            ] {
                let f = by(None, pairs);
                let listed = store
                    .incidents(t.id, &f, &PageRequest::default())
                    .await
                    .expect_err("refused");
                assert_eq!(invalid_field(&listed), vec![at]);
                let counted = store.count_incidents(t.id, &f).await.expect_err("refused");
                assert_eq!(invalid_field(&counted), vec![at]);
            }
            // A field of problems is not a field of incidents.
            store
                .replace_custom_fields(t.id, "problem", &[field("rca", FieldKind::Text, &[])], &cli)
                .await
                .expect("defs");
            let wrong_kind = store
                .count_incidents(t.id, &by(None, &[("rca", "x")]))
                .await
                .expect_err("incident has no rca");
            assert_eq!(invalid_field(&wrong_kind), vec!["custom.rca"]);
        }
    );

    both_backends!(
        problem_and_request_lists_filter_on_the_same_fields,
        |store: Store| async move {
            use steward_domain::incident::{Level, Priority};
            use steward_domain::problem::ProblemStatus;
            use steward_domain::request::{ItemDraft, TaskTemplate};
            use steward_store::problem::{ProblemFields, ProblemFilter};
            use steward_store::request::RequestFilter;
            let t = tenant(&store, "A").await;
            let cli = Actor::cli();
            let net = store
                .create_category(t.id, None, "Network", &cli)
                .await
                .expect("net");
            let wifi = store
                .create_category(t.id, Some(net.id), "Wi-Fi", &cli)
                .await
                .expect("wifi");
            store
                .replace_custom_fields(
                    t.id,
                    "problem",
                    &[
                        field("vendor", FieldKind::Text, &[]),
                        field("sites", FieldKind::Number, &[]),
                    ],
                    &cli,
                )
                .await
                .expect("defs");
            let mut problems = Vec::new();
            for (title, category, values) in [
                (
                    "Roaming drops",
                    Some(wifi.id),
                    json!({"vendor": "Acme Radio", "sites": 4}),
                ),
                (
                    "Core switch",
                    Some(net.id),
                    json!({"vendor": "Other", "sites": "4"}),
                ),
                ("Printers", None, json!({"vendor": "ACME RADIO"})),
            ] {
                let custom = store
                    .check_custom_values(t.id, "problem", values.as_object().expect("obj"), true)
                    .await
                    .expect("clean");
                let f = ProblemFields {
                    title: title.into(),
                    description: String::new(),
                    status: ProblemStatus::New,
                    impact: Level::Medium,
                    urgency: Level::Medium,
                    priority: Priority::P3,
                    service_id: None,
                    assignee_id: None,
                    root_cause: String::new(),
                    workaround: String::new(),
                    resolved_at: None,
                    closed_at: None,
                    category_id: category,
                    custom,
                };
                problems.push(
                    store
                        .create_problem(t.id, &f, &cli)
                        .await
                        .expect("problem")
                        .key(),
                );
            }
            let problem_keys = |f: ProblemFilter| {
                let store = store.clone();
                async move {
                    let mut keys: Vec<String> = store
                        .problems(t.id, &f, &PageRequest::default())
                        .await
                        .expect("list")
                        .items
                        .iter()
                        .map(|p| p.key())
                        .collect();
                    keys.sort();
                    keys
                }
            };
            let in_net = ProblemFilter {
                category_id: Some(net.id),
                ..Default::default()
            };
            assert_eq!(
                problem_keys(in_net).await,
                vec![problems[0].clone(), problems[1].clone()]
            );
            let acme = ProblemFilter {
                custom: custom(&[("vendor", "acme radio")]),
                ..Default::default()
            };
            assert_eq!(
                problem_keys(acme).await,
                vec![problems[0].clone(), problems[2].clone()]
            );
            let four_in_wifi = ProblemFilter {
                category_id: Some(wifi.id),
                custom: custom(&[("sites", "4")]),
                ..Default::default()
            };
            assert_eq!(problem_keys(four_in_wifi).await, vec![problems[0].clone()]);
            let unknown = ProblemFilter {
                custom: custom(&[("site", "4")]),
                ..Default::default()
            };
            let refused = store
                .problems(t.id, &unknown, &PageRequest::default())
                .await
                .expect_err("unknown field");
            assert_eq!(invalid_field(&refused), vec!["custom.site"]);

            // Requests: classified rows written directly, so this checks only the filter.
            store
                .replace_custom_fields(
                    t.id,
                    "request",
                    &[field("room", FieldKind::Text, &[])],
                    &cli,
                )
                .await
                .expect("defs");
            let item = store
                .save_item(
                    t.id,
                    None,
                    &ItemDraft {
                        name: "Access point".into(),
                        description: String::new(),
                        category: "Network".into(),
                        fields: vec![],
                        approver_ids: vec![],
                        tasks: vec![TaskTemplate {
                            title: "Mount it".into(),
                            team_id: None,
                        }],
                        active: true,
                    },
                    &cli,
                )
                .await
                .expect("item");
            let mut requests = Vec::new();
            for _ in 0..3 {
                let r = store
                    .create_request(
                        t.id,
                        &item,
                        &serde_json::Map::new(),
                        None,
                        &Default::default(),
                        &cli,
                    )
                    .await
                    .expect("request");
                requests.push(r);
            }
            for (r, category, custom) in [
                (&requests[0], wifi.id.to_string(), r#"{"room":"B-12"}"#),
                (&requests[1], "NULL".to_owned(), r#"{"room":"b-12"}"#),
            ] {
                store
                    .execute_raw_for_tests(&format!(
                        "UPDATE requests SET category_id = {category}, custom_json = '{custom}' WHERE id = {}",
                        r.id
                    ))
                    .await
                    .expect("classify");
            }
            let request_keys = |f: RequestFilter| {
                let store = store.clone();
                async move {
                    let mut keys: Vec<String> = store
                        .requests(t.id, &f, &PageRequest::default())
                        .await
                        .expect("list")
                        .items
                        .iter()
                        .map(|r| r.key())
                        .collect();
                    keys.sort();
                    keys
                }
            };
            let under_net = RequestFilter {
                category_id: Some(net.id),
                ..Default::default()
            };
            assert_eq!(request_keys(under_net).await, vec![requests[0].key()]);
            let room = RequestFilter {
                custom: custom(&[("room", "B-12")]),
                ..Default::default()
            };
            assert_eq!(
                request_keys(room).await,
                vec![requests[0].key(), requests[1].key()]
            );
            let problem_field = RequestFilter {
                custom: custom(&[("vendor", "x")]),
                ..Default::default()
            };
            let refused = store
                .requests(t.id, &problem_field, &PageRequest::default())
                .await
                .expect_err("not a request field");
            assert_eq!(invalid_field(&refused), vec!["custom.vendor"]);
        }
    );
}

mod request_and_problem_fields {
    use super::*;
    use serde_json::{Value, json};
    use steward_domain::incident::{Level, Priority};
    use steward_domain::problem::ProblemStatus;
    use steward_domain::request::{FieldKind, FormField, ItemDraft};
    use steward_store::problem::ProblemFields;
    use steward_store::request::RequestFields;

    fn defs() -> Vec<FormField> {
        vec![
            FormField {
                name: "asset".into(),
                label: "Asset".into(),
                kind: FieldKind::Text,
                required: true,
                options: vec![],
            },
            FormField {
                name: "owner".into(),
                label: "Owner".into(),
                kind: FieldKind::User,
                required: false,
                options: vec![],
            },
        ]
    }

    fn object(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    /// The newest journal entry of a record: (before, after).
    async fn last_change(
        store: &Store,
        tenant_id: i64,
        kind: &str,
        id: i64,
    ) -> (Option<Value>, Option<Value>) {
        let filter = JournalFilter {
            record_type: Some(kind.into()),
            record_id: Some(id),
            ..Default::default()
        };
        let entry = store
            .journal_entries(tenant_id, &filter, &PageRequest::default())
            .await
            .expect("journal")
            .items
            .into_iter()
            .next()
            .expect("an entry");
        (entry.before, entry.after)
    }

    both_backends!(
        problems_keep_category_and_custom_values,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let other = tenant(&store, "B").await;
            let cli = Actor::cli();
            store
                .replace_custom_fields(t.id, "problem", &defs(), &cli)
                .await
                .expect("defs");
            let missing = store
                .check_custom_values(t.id, "problem", &serde_json::Map::new(), true)
                .await
                .expect_err("required");
            assert!(
                matches!(&missing, StoreError::Invalid(i) if i.message_for("custom.asset").is_some()),
                "{missing:?}"
            );
            let hw = store
                .create_category(t.id, None, "Hardware", &cli)
                .await
                .expect("category");
            let foreign = store
                .create_category(other.id, None, "Elsewhere", &cli)
                .await
                .expect("other tenant's category");
            let clean = store
                .check_custom_values(t.id, "problem", &object(json!({"asset": " A-1 "})), true)
                .await
                .expect("clean");
            let f = ProblemFields {
                title: "Mailbox sync stalls".into(),
                description: String::new(),
                status: ProblemStatus::New,
                impact: Level::High,
                urgency: Level::Medium,
                priority: Priority::P2,
                service_id: None,
                assignee_id: None,
                root_cause: String::new(),
                workaround: String::new(),
                resolved_at: None,
                closed_at: None,
                category_id: Some(hw.id),
                custom: clean,
            };
            let created = store.create_problem(t.id, &f, &cli).await.expect("create");
            assert_eq!(created.category_id, Some(hw.id));
            assert_eq!(created.custom.0, object(json!({"asset": "A-1"})));
            assert_eq!(
                store.problem(t.id, created.id).await.expect("read"),
                created
            );
            let (_, after) = last_change(&store, t.id, "problem", created.id).await;
            let after = after.expect("after");
            assert_eq!(after["category_id"], json!(hw.id));
            assert_eq!(after["custom"], json!({"asset": "A-1"}));

            let entries = journal_len(&store, t.id).await;
            let mut elsewhere = f.clone();
            elsewhere.category_id = Some(foreign.id);
            let refused = store
                .create_problem(t.id, &elsewhere, &cli)
                .await
                .expect_err("another tenant's category");
            assert!(
                matches!(&refused, StoreError::Invalid(i) if i.message_for("category_id").is_some()),
                "{refused:?}"
            );
            let refused = store
                .update_problem(t.id, created.id, created.updated_at, &elsewhere, &cli)
                .await
                .expect_err("another tenant's category");
            assert!(
                matches!(&refused, StoreError::Invalid(i) if i.message_for("category_id").is_some()),
                "{refused:?}"
            );
            assert_eq!(journal_len(&store, t.id).await, entries, "nothing written");

            let mut changed = ProblemFields::from(&created);
            changed.category_id = None;
            changed.custom = object(json!({"asset": "A-2"}));
            let updated = store
                .update_problem(t.id, created.id, created.updated_at, &changed, &cli)
                .await
                .expect("update");
            assert_eq!(updated.category_id, None);
            assert_eq!(updated.custom.0, object(json!({"asset": "A-2"})));
            assert_eq!(
                store.problem(t.id, created.id).await.expect("read"),
                updated
            );
            let (before, after) = last_change(&store, t.id, "problem", created.id).await;
            let (before, after) = (before.expect("before"), after.expect("after"));
            assert_eq!(
                (&before["category_id"], &before["custom"]["asset"]),
                (&json!(hw.id), &json!("A-1"))
            );
            assert_eq!(
                (&after["category_id"], &after["custom"]["asset"]),
                (&Value::Null, &json!("A-2"))
            );
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );

    both_backends!(
        requests_keep_category_and_custom_values,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let other = tenant(&store, "B").await;
            let cli = Actor::cli();
            store
                .replace_custom_fields(t.id, "request", &defs(), &cli)
                .await
                .expect("defs");
            assert_eq!(
                store.custom_fields(t.id, "request").await.expect("read"),
                defs()
            );
            let item = store
                .save_item(
                    t.id,
                    None,
                    &ItemDraft {
                        name: "Desk phone".into(),
                        description: String::new(),
                        category: "Hardware".into(),
                        fields: vec![],
                        approver_ids: vec![],
                        tasks: vec![],
                        active: true,
                    },
                    &cli,
                )
                .await
                .expect("item");
            let hw = store
                .create_category(t.id, None, "Hardware", &cli)
                .await
                .expect("category");
            let foreign = store
                .create_category(other.id, None, "Elsewhere", &cli)
                .await
                .expect("other tenant's category");
            let plain = store
                .create_request(
                    t.id,
                    &item,
                    &Default::default(),
                    None,
                    &RequestFields::default(),
                    &cli,
                )
                .await
                .expect("unclassified");
            assert_eq!((plain.category_id, plain.custom.0.len()), (None, 0));

            let fields = RequestFields {
                category_id: Some(hw.id),
                custom: object(json!({"asset": "A-1"})),
            };
            let created = store
                .create_request(t.id, &item, &Default::default(), None, &fields, &cli)
                .await
                .expect("classified");
            assert_eq!(RequestFields::from(&created), fields);
            assert_eq!(
                store.request(t.id, created.id).await.expect("read"),
                created
            );
            let (_, after) = last_change(&store, t.id, "request", created.id).await;
            let after = after.expect("after");
            assert_eq!(after["category_id"], json!(hw.id));
            assert_eq!(after["custom"], json!({"asset": "A-1"}));

            let entries = journal_len(&store, t.id).await;
            let elsewhere = RequestFields {
                category_id: Some(foreign.id),
                ..fields.clone()
            };
            let refused = store
                .create_request(t.id, &item, &Default::default(), None, &elsewhere, &cli)
                .await
                .expect_err("another tenant's category");
            assert!(
                matches!(&refused, StoreError::Invalid(i) if i.message_for("category_id").is_some()),
                "{refused:?}"
            );
            let refused = store
                .update_request(t.id, created.id, created.updated_at, &elsewhere, &cli)
                .await
                .expect_err("another tenant's category");
            assert!(
                matches!(&refused, StoreError::Invalid(i) if i.message_for("category_id").is_some()),
                "{refused:?}"
            );
            assert_eq!(journal_len(&store, t.id).await, entries, "nothing written");

            let changed = RequestFields {
                category_id: None,
                custom: object(json!({"asset": "A-2"})),
            };
            let stale = store
                .update_request(t.id, created.id, created.updated_at - 1, &changed, &cli)
                .await;
            assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
            let updated = store
                .update_request(t.id, created.id, created.updated_at, &changed, &cli)
                .await
                .expect("update");
            assert_eq!(RequestFields::from(&updated), changed);
            assert_eq!(
                (updated.status, updated.item_id),
                (created.status, created.item_id),
                "the lifecycle is left alone"
            );
            assert!(updated.updated_at > created.updated_at);
            assert_eq!(
                store.request(t.id, created.id).await.expect("read"),
                updated
            );
            let (before, after) = last_change(&store, t.id, "request", created.id).await;
            let (before, after) = (before.expect("before"), after.expect("after"));
            assert_eq!(
                (&before["category_id"], &before["custom"]["asset"]),
                (&json!(hw.id), &json!("A-1"))
            );
            assert_eq!(
                (&after["category_id"], &after["custom"]["asset"]),
                (&Value::Null, &json!("A-2"))
            );
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );
}

mod imports {
    use super::*;
    use steward_domain::incident::{Level, Priority};
    use steward_domain::journal::Action;
    use steward_domain::problem::ProblemStatus;
    use steward_domain::request::{ItemDraft, RequestStatus, TaskTemplate};
    use steward_store::external::Imported;
    use steward_store::problem::ProblemFields;
    use steward_store::request::{RequestFields, RequestValues};

    /// 2024-03-01T09:00:00Z, and hours after it.
    const OPENED: i64 = 1_709_283_600_000_000;
    const HOUR: i64 = 3_600_000_000;

    fn importer() -> Actor {
        Actor {
            user_id: None,
            label: "import".into(),
        }
    }

    /// A record's journal, oldest first: action, actor, and the status before and after.
    async fn history(
        store: &Store,
        tenant_id: i64,
        kind: &str,
        id: i64,
    ) -> Vec<(Action, String, Option<String>, Option<String>)> {
        let filter = JournalFilter {
            record_type: Some(kind.into()),
            record_id: Some(id),
            ..Default::default()
        };
        let status = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .and_then(|v| v["status"].as_str())
                .map(str::to_owned)
        };
        let mut entries: Vec<_> = store
            .journal_entries(tenant_id, &filter, &PageRequest::default())
            .await
            .expect("journal")
            .items
            .into_iter()
            .map(|e| {
                (
                    e.seq,
                    e.action,
                    e.actor,
                    status(&e.before),
                    status(&e.after),
                )
            })
            .collect();
        entries.sort_by_key(|e| e.0);
        entries
            .into_iter()
            .map(|(_, action, actor, before, after)| (action, actor, before, after))
            .collect()
    }

    fn s(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    both_backends!(
        incidents_import_once_and_update_by_external_id,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let mut f = super::incidents::fields("Mail down", "Since nine");
            f.opened_at = OPENED;
            let (created, new) = store
                .upsert_incident(t.id, "OTRS-1", &f, &importer())
                .await
                .expect("create");
            assert!(new);
            // The desk works the record in Steward before the file is imported again.
            let mut worked = steward_store::incident::IncidentFields::from(&created);
            worked.resolution_notes = "Restarted the relay".into();
            worked.custom.insert("site".into(), "Berlin".into());
            let created = store
                .update_incident(t.id, created.id, created.updated_at, &worked, &Actor::cli())
                .await
                .expect("work it");
            f.title = "Mail down for everyone".into();
            let (updated, new) = store
                .upsert_incident(t.id, "OTRS-1", &f, &importer())
                .await
                .expect("update");
            assert!(!new);
            assert_eq!(
                (updated.id, updated.opened_at, updated.title.as_str()),
                (created.id, OPENED, "Mail down for everyone")
            );
            assert_eq!(
                (
                    updated.resolution_notes.as_str(),
                    updated.custom.0.get("site")
                ),
                ("Restarted the relay", Some(&"Berlin".into())),
                "what the file has no column for survives a re-import"
            );
            assert_eq!(
                store
                    .external_ids(t.id, Imported::Incident)
                    .await
                    .expect("ids"),
                HashMap::from([(created.id, "OTRS-1".to_owned())])
            );
            assert_eq!(
                history(&store, t.id, "incident", created.id).await,
                [
                    (Action::Create, "import".into(), None, s("new")),
                    (Action::Update, "cli".into(), s("new"), s("new")),
                    (Action::Update, "import".into(), s("new"), s("new")),
                ]
            );
        }
    );

    both_backends!(
        problems_import_once_and_update_by_external_id,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let other = tenant(&store, "B").await;
            let f = ProblemFields {
                title: "Mailbox sync stalls".into(),
                description: "Since the upgrade".into(),
                status: ProblemStatus::Resolved,
                impact: Level::High,
                urgency: Level::Medium,
                priority: Priority::P2,
                service_id: None,
                assignee_id: None,
                root_cause: "A full disk".into(),
                workaround: String::new(),
                resolved_at: Some(OPENED + HOUR),
                closed_at: None,
                category_id: None,
                custom: Default::default(),
            };
            let (created, new) = store
                .upsert_problem(t.id, "OTRS-7", &f, OPENED, &importer())
                .await
                .expect("create");
            assert!(new);
            assert_eq!(created.key(), "PRB-1");
            assert_eq!(
                (created.created_at, created.resolved_at, created.status),
                (OPENED, Some(OPENED + HOUR), ProblemStatus::Resolved),
                "history is kept as given"
            );
            let (_, new) = store
                .upsert_problem(other.id, "OTRS-7", &f, OPENED, &importer())
                .await
                .expect("another tenant");
            assert!(new, "external ids are per tenant");

            let closed = ProblemFields {
                title: "Mailbox sync stalls on big folders".into(),
                status: ProblemStatus::Closed,
                closed_at: Some(OPENED + 2 * HOUR),
                ..f.clone()
            };
            let (updated, new) = store
                .upsert_problem(t.id, "OTRS-7", &closed, OPENED - HOUR, &importer())
                .await
                .expect("update");
            assert!(!new);
            assert_eq!((updated.id, updated.number), (created.id, created.number));
            assert_eq!(
                (
                    updated.created_at,
                    updated.closed_at,
                    updated.title.as_str()
                ),
                (
                    OPENED - HOUR,
                    Some(OPENED + 2 * HOUR),
                    "Mailbox sync stalls on big folders"
                ),
                "the file's times win on update too"
            );
            assert_eq!(
                store.problem(t.id, created.id).await.expect("read"),
                updated
            );
            let page = PageRequest {
                limit: Some(500),
                cursor: None,
            };
            let listed = store
                .problems(t.id, &Default::default(), &page)
                .await
                .expect("list");
            assert_eq!(listed.items.len(), 1, "updated, not duplicated");
            assert_eq!(
                store
                    .external_ids(t.id, Imported::Problem)
                    .await
                    .expect("ids"),
                HashMap::from([(created.id, "OTRS-7".to_owned())])
            );
            assert_eq!(
                history(&store, t.id, "problem", created.id).await,
                [
                    (Action::Create, "import".into(), None, s("resolved")),
                    (Action::Update, "import".into(), s("resolved"), s("closed")),
                ]
            );

            let known = ProblemFields {
                status: ProblemStatus::KnownError,
                workaround: "Archive old mail".into(),
                resolved_at: None,
                ..f.clone()
            };
            let (ke_problem, _) = store
                .upsert_problem(t.id, "OTRS-8", &known, OPENED, &importer())
                .await
                .expect("known error");
            let ke = store
                .known_error_of(t.id, ke_problem.id)
                .await
                .expect("read")
                .expect("a known error comes with it");
            assert_eq!(ke.workaround, "Archive old mail");
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );

    both_backends!(
        requests_import_once_and_update_by_external_id,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let other = tenant(&store, "B").await;
            let cli = Actor::cli();
            let boss = store
                .create_user(t.id, &user("boss@a.test", Role::Agent), None, &cli)
                .await
                .expect("approver");
            let stranger = store
                .create_user(other.id, &user("x@b.test", Role::Agent), None, &cli)
                .await
                .expect("stranger");
            let item = store
                .save_item(
                    t.id,
                    None,
                    &ItemDraft {
                        name: "Laptop".into(),
                        description: String::new(),
                        category: "Hardware".into(),
                        fields: vec![],
                        approver_ids: vec![boss.id],
                        tasks: vec![TaskTemplate {
                            title: "Order".into(),
                            team_id: None,
                        }],
                        active: false,
                    },
                    &cli,
                )
                .await
                .expect("item");
            let waiting = RequestValues {
                title: "Laptop for Ann".into(),
                answers: Default::default(),
                status: RequestStatus::PendingApproval,
                requester_user_id: Some(boss.id),
                opened_at: OPENED,
                fulfilled_at: None,
                closed_at: None,
                fields: RequestFields::default(),
            };
            let (created, new) = store
                .upsert_request(t.id, "SN-1", &item, &waiting, &importer())
                .await
                .expect("create");
            assert!(new);
            assert_eq!(created.key(), "REQ-1");
            assert_eq!(
                (
                    created.title.as_str(),
                    created.status,
                    created.opened_at,
                    created.requester_user_id
                ),
                (
                    "Laptop for Ann",
                    RequestStatus::PendingApproval,
                    OPENED,
                    Some(boss.id)
                )
            );
            let approvals = store.approvals(t.id, created.id).await.expect("approvals");
            assert_eq!(
                approvals.iter().map(|a| a.approver_id).collect::<Vec<_>>(),
                [boss.id],
                "a request waiting for approval can be decided"
            );
            assert!(
                store
                    .tasks(t.id, created.id)
                    .await
                    .expect("tasks")
                    .is_empty()
            );

            let working = RequestValues {
                status: RequestStatus::InFulfilment,
                ..waiting.clone()
            };
            let (updated, new) = store
                .upsert_request(t.id, "SN-1", &item, &working, &importer())
                .await
                .expect("update");
            assert!(!new);
            assert_eq!((updated.id, updated.number), (created.id, created.number));
            assert_eq!(updated.status, RequestStatus::InFulfilment);
            assert_eq!(
                store.tasks(t.id, created.id).await.expect("tasks").len(),
                1,
                "a request in fulfilment gets its tasks"
            );

            let done = RequestValues {
                status: RequestStatus::Closed,
                fulfilled_at: Some(OPENED + HOUR),
                closed_at: Some(OPENED + 2 * HOUR),
                ..waiting.clone()
            };
            let (closed, new) = store
                .upsert_request(t.id, "SN-1", &item, &done, &importer())
                .await
                .expect("close");
            assert!(!new);
            assert_eq!(
                (closed.opened_at, closed.fulfilled_at, closed.closed_at),
                (OPENED, Some(OPENED + HOUR), Some(OPENED + 2 * HOUR))
            );
            assert_eq!(store.request(t.id, created.id).await.expect("read"), closed);
            assert_eq!(store.tasks(t.id, created.id).await.expect("tasks").len(), 1);
            let (_, _) = store
                .upsert_request(t.id, "SN-1", &item, &working, &importer())
                .await
                .expect("back to fulfilment");
            assert_eq!(
                store.tasks(t.id, created.id).await.expect("tasks").len(),
                1,
                "tasks are not spawned twice"
            );

            let entries = journal_len(&store, t.id).await;
            let foreign = RequestValues {
                requester_user_id: Some(stranger.id),
                ..waiting.clone()
            };
            let refused = store
                .upsert_request(t.id, "SN-2", &item, &foreign, &importer())
                .await
                .expect_err("another tenant's user");
            assert!(
                matches!(&refused, StoreError::Invalid(i) if i.message_for("requester_user_id").is_some()),
                "{refused:?}"
            );
            assert_eq!(journal_len(&store, t.id).await, entries, "nothing written");

            let listed = store
                .requests(t.id, &Default::default(), &PageRequest::default())
                .await
                .expect("list");
            assert_eq!(listed.items.len(), 1, "updated, not duplicated");
            assert_eq!(
                store
                    .external_ids(t.id, Imported::Request)
                    .await
                    .expect("ids"),
                HashMap::from([(created.id, "SN-1".to_owned())])
            );
            assert_eq!(
                history(&store, t.id, "request", created.id).await,
                [
                    (Action::Create, "import".into(), None, s("pending_approval")),
                    (
                        Action::Update,
                        "import".into(),
                        s("pending_approval"),
                        s("in_fulfilment")
                    ),
                    (
                        Action::Update,
                        "import".into(),
                        s("in_fulfilment"),
                        s("closed")
                    ),
                    (
                        Action::Update,
                        "import".into(),
                        s("closed"),
                        s("in_fulfilment")
                    ),
                ]
            );
            assert!(store.verify_journal().await.expect("verify").is_ok());
        }
    );
}

mod calendars {
    use super::*;
    use steward_domain::calendar::{Calendar, CalendarDraft, Holiday, Weekday, WorkingHours};
    use steward_domain::journal::Action;
    use steward_store::calendar::CalendarFilter;

    fn office(name: &str) -> Calendar {
        CalendarDraft {
            name: name.into(),
            timezone: "Europe/London".into(),
            hours: [Weekday::Mon, Weekday::Tue, Weekday::Wed]
                .into_iter()
                .map(|weekday| WorkingHours {
                    weekday,
                    start: "09:00".into(),
                    end: "17:00".into(),
                })
                .collect(),
            holidays: vec![Holiday {
                date: "2026-12-25".into(),
                name: "Christmas Day".into(),
                yearly: false,
            }],
            exceptions: vec![],
        }
        .validate()
        .expect("valid calendar")
    }

    both_backends!(calendar_lifecycle_is_journaled, |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let actor = Actor::cli();
        let created = store
            .create_calendar(t.id, &office("London office"), &actor)
            .await
            .expect("create");
        assert_eq!(created.name, "London office");
        assert_eq!(created.timezone, "Europe/London");
        assert_eq!(created.hours.len(), 3);
        assert_eq!(created.holidays[0].date, "2026-12-25");
        let read = store.calendar(t.id, created.id).await.expect("get");
        assert_eq!(read, created);
        assert_eq!(
            read.calendar().expect("validates again").name(),
            "London office"
        );

        let mut draft = created.draft();
        draft.hours[0].end = "18:00".into();
        draft.holidays.clear();
        let changed = draft.validate().expect("valid");
        let updated = store
            .update_calendar(t.id, created.id, created.updated_at, &changed, &actor)
            .await
            .expect("update");
        assert_eq!(updated.hours[0].end, "18:00");
        assert!(updated.holidays.is_empty());
        assert!(updated.updated_at > created.updated_at);
        let stale = store
            .update_calendar(t.id, created.id, created.updated_at, &changed, &actor)
            .await;
        assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");

        let listed = store
            .calendars(t.id, &CalendarFilter::default(), &PageRequest::default())
            .await
            .expect("list");
        assert_eq!(listed.items, vec![updated.clone()]);
        let none = store
            .calendars(
                t.id,
                &CalendarFilter {
                    q: Some("paris".into()),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("search");
        assert!(none.items.is_empty());

        store
            .delete_calendar(t.id, created.id, &actor)
            .await
            .expect("delete");
        assert!(matches!(
            store.calendar(t.id, created.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.delete_calendar(t.id, created.id, &actor).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            store
                .calendars(t.id, &CalendarFilter::default(), &PageRequest::default())
                .await
                .expect("list")
                .items
                .is_empty()
        );

        let filter = JournalFilter {
            record_type: Some("calendar".into()),
            record_id: Some(created.id),
            ..Default::default()
        };
        let entries = store
            .journal_entries(t.id, &filter, &PageRequest::default())
            .await
            .expect("journal")
            .items;
        let actions: Vec<Action> = entries.iter().map(|e| e.action).collect();
        assert_eq!(actions, [Action::Delete, Action::Update, Action::Create]);
        let update = &entries[1];
        assert_eq!(
            update.before.as_ref().map(|b| b["hours"][0]["end"].clone()),
            Some(serde_json::json!("17:00")),
            "the journal keeps the definition as JSON, not as a string"
        );
        assert_eq!(
            update.after.as_ref().map(|a| a["hours"][0]["end"].clone()),
            Some(serde_json::json!("18:00"))
        );
        assert_eq!(
            entries[0].before.as_ref().map(|b| b["name"].clone()),
            Some(serde_json::json!("London office"))
        );
        assert!(entries[0].after.is_none());
        assert_eq!(store.verify_journal().await.expect("verify"), Ok(4));
    });

    both_backends!(
        calendar_names_are_unique_per_tenant,
        |store: Store| async move {
            let a = tenant(&store, "A").await;
            let b = tenant(&store, "B").await;
            let cli = Actor::cli();
            let first = store
                .create_calendar(a.id, &office("Office hours"), &cli)
                .await
                .expect("create");
            let entries = journal_len(&store, a.id).await;
            let twin = store
                .create_calendar(a.id, &office("office HOURS"), &cli)
                .await;
            assert!(
                matches!(&twin, Err(StoreError::Invalid(i)) if i.message_for("name").is_some()),
                "{twin:?}"
            );
            assert_eq!(journal_len(&store, a.id).await, entries, "nothing written");
            let second = store
                .create_calendar(a.id, &office("24x7"), &cli)
                .await
                .expect("another name");
            let renamed = store
                .update_calendar(
                    a.id,
                    second.id,
                    second.updated_at,
                    &office("Office Hours"),
                    &cli,
                )
                .await;
            assert!(
                matches!(&renamed, Err(StoreError::Invalid(i)) if i.message_for("name").is_some()),
                "{renamed:?}"
            );
            store
                .create_calendar(b.id, &office("Office hours"), &cli)
                .await
                .expect("another tenant may use the name");
            store
                .delete_calendar(a.id, first.id, &cli)
                .await
                .expect("delete");
            store
                .create_calendar(a.id, &office("Office hours"), &cli)
                .await
                .expect("a deleted calendar frees its name");
        }
    );

    both_backends!(
        calendars_of_other_tenants_are_invisible,
        |store: Store| async move {
            let a = tenant(&store, "A").await;
            let b = tenant(&store, "B").await;
            let cli = Actor::cli();
            let secret = store
                .create_calendar(a.id, &office("Secret"), &cli)
                .await
                .expect("create");
            assert!(matches!(
                store.calendar(b.id, secret.id).await,
                Err(StoreError::NotFound)
            ));
            assert!(matches!(
                store
                    .update_calendar(b.id, secret.id, secret.updated_at, &office("Hijack"), &cli)
                    .await,
                Err(StoreError::NotFound)
            ));
            assert!(matches!(
                store.delete_calendar(b.id, secret.id, &cli).await,
                Err(StoreError::NotFound)
            ));
            assert!(
                store
                    .calendars(b.id, &CalendarFilter::default(), &PageRequest::default())
                    .await
                    .expect("list")
                    .items
                    .is_empty()
            );
            assert_eq!(
                store.calendar(a.id, secret.id).await.expect("kept").name,
                "Secret"
            );
        }
    );

    both_backends!(
        a_calendar_edited_by_hand_is_reported_not_guessed,
        |store: Store| async move {
            let t = tenant(&store, "A").await;
            let cal = store
                .create_calendar(t.id, &office("Office"), &Actor::cli())
                .await
                .expect("create");
            store
                .execute_raw_for_tests(&format!(
                    "UPDATE calendars SET timezone = 'Mars/Olympus_Mons' WHERE id = {}",
                    cal.id
                ))
                .await
                .expect("tamper");
            let read = store.calendar(t.id, cal.id).await.expect("still readable");
            assert!(
                matches!(read.calendar(), Err(StoreError::Corrupt(_))),
                "an unknown zone is corrupt data"
            );
            store
                .execute_raw_for_tests(&format!(
                    "UPDATE calendars SET definition_json = 'not json' WHERE id = {}",
                    cal.id
                ))
                .await
                .expect("tamper");
            assert!(matches!(
                store.calendar(t.id, cal.id).await,
                Err(StoreError::Corrupt(_))
            ));
        }
    );
}

mod sla {
    use super::incidents::fields;
    use super::*;
    use steward_domain::incident::{PendingReason, Priority, Status};
    use steward_domain::journal::Action;
    use steward_domain::sla::{
        AgreementDraft, AgreementKind, ClockState, Escalation, RecordKind, Target, Threshold,
    };
    use steward_store::sla::Notice;

    const MINUTE: i64 = 60_000_000;

    fn draft(targets: Vec<Target>) -> AgreementDraft {
        AgreementDraft::new(
            "Standard",
            AgreementKind::Sla,
            RecordKind::Incident,
            targets,
        )
    }

    fn target(metric: &str, priority: Option<Priority>, minutes: u32) -> Target {
        Target {
            metric: metric.into(),
            priority,
            minutes,
        }
    }

    fn render(n: &Notice) -> (String, String) {
        (
            format!("{} {}", n.threshold.as_str(), n.record_key),
            n.clock.target.clone(),
        )
    }

    both_backends!(
        agreements_are_checked_and_journaled,
        |store: Store| async move {
            let t = tenant(&store, "Acme").await;
            let start = journal_len(&store, t.id).await;
            let actor = Actor::cli();
            let mut d = draft(vec![target("resolution", None, 480)]);
            d.calendar_id = Some(999);
            let err = store
                .create_agreement(t.id, &d.clone().validate().expect("valid"), &actor)
                .await
                .expect_err("unknown calendar");
            assert!(
                matches!(err, StoreError::Invalid(ref i) if i.message_for("calendar_id").is_some())
            );
            d.calendar_id = None;
            let created = store
                .create_agreement(t.id, &d.clone().validate().expect("valid"), &actor)
                .await
                .expect("create");
            assert_eq!(
                created.draft.pause_in,
                Some(vec!["pending:awaiting_customer".to_owned()])
            );
            let again = store
                .create_agreement(t.id, &d.clone().validate().expect("valid"), &actor)
                .await
                .expect_err("duplicate name");
            assert!(matches!(again, StoreError::Invalid(_)));
            d.warn_percent = 50;
            let updated = store
                .update_agreement(
                    t.id,
                    created.id,
                    created.updated_at,
                    &d.clone().validate().expect("valid"),
                    &actor,
                )
                .await
                .expect("update");
            assert_eq!(updated.draft.warn_percent, 50);
            let stale = store
                .update_agreement(
                    t.id,
                    created.id,
                    created.updated_at,
                    &d.validate().expect("valid"),
                    &actor,
                )
                .await
                .expect_err("stale");
            assert!(matches!(stale, StoreError::Conflict(_)));
            assert_eq!(store.agreements(t.id).await.expect("list").len(), 1);
            let other = tenant(&store, "Other").await;
            assert!(matches!(
                store.agreement(other.id, created.id).await,
                Err(StoreError::NotFound)
            ));
            assert_eq!(journal_len(&store, t.id).await, start + 2);
        }
    );

    both_backends!(clocks_follow_the_incident, |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let actor = Actor::cli();
        let d = draft(vec![
            target("first_response", None, 30),
            target("resolution", Some(Priority::P1), 20),
            target("resolution", None, 60),
        ]);
        store
            .create_agreement(t.id, &d.validate().expect("valid"), &actor)
            .await
            .expect("agreement");
        let incident = store
            .create_incident(t.id, &fields("Mail down", ""), &actor)
            .await
            .expect("incident");
        let clocks = store
            .record_clocks(t.id, RecordKind::Incident, incident.id)
            .await
            .expect("clocks");
        let names: Vec<&str> = clocks.iter().map(|c| c.target.as_str()).collect();
        assert_eq!(names, ["first_response", "resolution"]);
        let resolution = &clocks[1];
        assert_eq!(resolution.state, ClockState::Running);
        assert_eq!(resolution.due_at, Some(incident.opened_at + 60 * MINUTE));
        assert_eq!(resolution.target_minutes, 60);

        let mut f = steward_store::incident::IncidentFields::from(&incident);
        f.status = Status::Pending;
        f.pending_reason = Some(PendingReason::AwaitingCustomer);
        let paused = store
            .update_incident(t.id, incident.id, incident.updated_at, &f, &actor)
            .await
            .expect("pending");
        let clocks = store
            .record_clocks(t.id, RecordKind::Incident, incident.id)
            .await
            .expect("clocks");
        assert!(
            clocks.iter().all(|c| c.state == ClockState::Paused),
            "{clocks:?}"
        );
        assert_eq!(clocks[1].pauses[0].why, "pending: awaiting customer");
        assert_eq!(clocks[1].due_at, None);

        f.status = Status::InProgress;
        f.pending_reason = None;
        f.priority = Priority::P1;
        let p1 = store
            .update_incident(t.id, incident.id, paused.updated_at, &f, &actor)
            .await
            .expect("priority up");
        let clocks = store
            .record_clocks(t.id, RecordKind::Incident, incident.id)
            .await
            .expect("clocks");
        assert_eq!(clocks[1].target_minutes, 20);
        assert_eq!(clocks[1].started_at, Some(incident.opened_at));
        let entries = store
            .journal_entries(
                t.id,
                &JournalFilter::default(),
                &PageRequest {
                    limit: Some(100),
                    cursor: None,
                },
            )
            .await
            .expect("journal");
        let change = entries
            .items
            .iter()
            .find(|e| e.record_type == "sla_clock")
            .expect("the target change is journaled");
        assert_eq!(change.action, Action::Update);
        assert_eq!(
            change.before.as_ref().expect("before")["target_minutes"],
            60
        );
        assert_eq!(change.after.as_ref().expect("after")["target_minutes"], 20);

        f.status = Status::Resolved;
        f.resolution_code = Some("fixed".into());
        store
            .update_incident(t.id, incident.id, p1.updated_at, &f, &actor)
            .await
            .expect("resolve");
        let clocks = store
            .record_clocks(t.id, RecordKind::Incident, incident.id)
            .await
            .expect("clocks");
        assert_eq!(clocks[1].state, ClockState::Met);
        assert_eq!(
            clocks[0].state,
            ClockState::Met,
            "resolving counts as the first response"
        );
    });

    both_backends!(a_breach_is_acted_on_once, |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let actor = Actor::cli();
        let lead = store
            .create_user(
                t.id,
                &user("lead@acme.test", steward_domain::access::Role::Agent),
                None,
                &actor,
            )
            .await
            .expect("lead");
        let team = store
            .create_team(
                t.id,
                &TeamDraft {
                    name: "Second line".into(),
                    description: String::new(),
                },
                &actor,
            )
            .await
            .expect("team");
        let mut d = draft(vec![target("resolution", None, 60)]);
        d.escalations = vec![Escalation {
            on: Threshold::Breach,
            notify_user_id: Some(lead.id),
            reassign_team_id: Some(team.id),
        }];
        store
            .create_agreement(t.id, &d.validate().expect("valid"), &actor)
            .await
            .expect("agreement");
        let mut f = fields("Printer on fire", "");
        f.opened_at = steward_store::now_micros() - 120 * MINUTE;
        let incident = store
            .create_incident(t.id, &f, &actor)
            .await
            .expect("incident");
        let clock = store
            .record_clocks(t.id, RecordKind::Incident, incident.id)
            .await
            .expect("clocks")
            .remove(0);
        assert_eq!(clock.state, ClockState::Breached);
        assert!((-61..=-60).contains(&clock.remaining_minutes), "{clock:?}");

        let jobs = store
            .claim_jobs("w", 10, Duration::from_secs(60))
            .await
            .expect("jobs");
        assert!(
            jobs.iter()
                .any(|j| j.kind == steward_store::sla::THRESHOLD_KIND),
            "{jobs:?}"
        );
        let warned = store
            .act_on_threshold(t.id, clock.id, Threshold::Warning, render)
            .await
            .expect("warning");
        assert_eq!(warned, None, "a breached clock is past warning");
        let acted = store
            .act_on_threshold(t.id, clock.id, Threshold::Breach, render)
            .await
            .expect("breach")
            .expect("acted");
        assert_eq!(acted.notified, ["lead@acme.test"]);
        assert_eq!(acted.reassigned_to_team, Some(team.id));
        let again = store
            .act_on_threshold(t.id, clock.id, Threshold::Breach, render)
            .await
            .expect("again");
        assert_eq!(again, None, "acted on once");
        let after = store.incident(t.id, incident.id).await.expect("incident");
        assert_eq!(after.assignee_team_id, Some(team.id));
        let outbox = store.outbox(t.id).await.expect("outbox");
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].subject, format!("breach {}", incident.key()));
        let clock = store
            .record_clocks(t.id, RecordKind::Incident, incident.id)
            .await
            .expect("clocks")
            .remove(0);
        assert!(clock.breach_noted_at.is_some());
        let reasoned = store
            .set_breach_reason(
                t.id,
                RecordKind::Incident,
                incident.id,
                clock.id,
                "Supplier late",
                &actor,
            )
            .await
            .expect("reason");
        assert_eq!(reasoned.breach_reason.as_deref(), Some("Supplier late"));
        let fresh = store
            .create_incident(t.id, &fields("New one", ""), &actor)
            .await
            .expect("incident");
        let running = store
            .record_clocks(t.id, RecordKind::Incident, fresh.id)
            .await
            .expect("clocks")
            .remove(0);
        let err = store
            .set_breach_reason(
                t.id,
                RecordKind::Incident,
                fresh.id,
                running.id,
                "Why not",
                &actor,
            )
            .await
            .expect_err("not breached");
        assert!(matches!(err, StoreError::Conflict(_)));
        let err = store
            .set_breach_reason(
                t.id,
                RecordKind::Incident,
                fresh.id,
                clock.id,
                "Wrong record",
                &actor,
            )
            .await
            .expect_err("other record's clock");
        assert!(matches!(err, StoreError::NotFound));
    });

    both_backends!(
        recompute_applies_edited_agreements,
        |store: Store| async move {
            let t = tenant(&store, "Acme").await;
            let actor = Actor::cli();
            let a = store
                .create_agreement(
                    t.id,
                    &draft(vec![target("resolution", None, 60)])
                        .validate()
                        .expect("valid"),
                    &actor,
                )
                .await
                .expect("agreement");
            let incident = store
                .create_incident(t.id, &fields("Slow VPN", ""), &actor)
                .await
                .expect("incident");
            store
                .update_agreement(
                    t.id,
                    a.id,
                    a.updated_at,
                    &draft(vec![target("resolution", None, 90)])
                        .validate()
                        .expect("valid"),
                    &actor,
                )
                .await
                .expect("edit");
            let before = store
                .record_clocks(t.id, RecordKind::Incident, incident.id)
                .await
                .expect("clocks");
            assert_eq!(
                before[0].target_minutes, 60,
                "records follow an edit when they next change"
            );
            assert_eq!(store.recompute_scope(None).await.expect("scope"), 1);
            let mut seen = 0;
            let done = store
                .recompute_clocks(None, |n| seen = n)
                .await
                .expect("recompute");
            assert_eq!((done.records, seen), (1, 1));
            assert_eq!(done.changes.len(), 1);
            let change = &done.changes[0];
            assert_eq!(change.record, incident.key());
            assert_eq!(change.before.as_ref().map(|b| b.target_minutes), Some(60));
            assert_eq!(change.after.as_ref().map(|b| b.target_minutes), Some(90));
            let after = store
                .record_clocks(t.id, RecordKind::Incident, incident.id)
                .await
                .expect("clocks");
            assert_eq!(after[0].due_at, Some(incident.opened_at + 90 * MINUTE));
            let again = store
                .recompute_clocks(None, |_| {})
                .await
                .expect("recompute");
            assert!(again.changes.is_empty(), "{:?}", again.changes);
        }
    );

    both_backends!(exclusions_need_a_reason, |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let actor = Actor::cli();
        let incident = store
            .create_incident(t.id, &fields("Power cut", ""), &actor)
            .await
            .expect("incident");
        let err = store
            .set_sla_exclusion(t.id, RecordKind::Incident, incident.id, Some("  "), &actor)
            .await
            .expect_err("no reason");
        assert!(matches!(err, StoreError::Invalid(_)));
        let len = journal_len(&store, t.id).await;
        assert!(
            store
                .set_sla_exclusion(
                    t.id,
                    RecordKind::Incident,
                    incident.id,
                    Some("Site-wide power cut"),
                    &actor
                )
                .await
                .expect("exclude")
        );
        assert_eq!(
            store
                .sla_exclusion(t.id, RecordKind::Incident, incident.id)
                .await
                .expect("read")
                .as_deref(),
            Some("Site-wide power cut")
        );
        assert_eq!(journal_len(&store, t.id).await, len + 1);
        assert!(
            store
                .set_sla_exclusion(t.id, RecordKind::Incident, incident.id, None, &actor)
                .await
                .expect("include")
        );
        assert_eq!(
            store
                .sla_exclusion(t.id, RecordKind::Incident, incident.id)
                .await
                .expect("read"),
            None
        );
    });

    both_backends!(a_calendar_in_use_stays, |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let actor = Actor::cli();
        let calendar = steward_domain::calendar::CalendarDraft {
            name: "Office".into(),
            timezone: "Europe/Berlin".into(),
            hours: vec![steward_domain::calendar::WorkingHours {
                weekday: steward_domain::calendar::Weekday::Mon,
                start: "09:00".into(),
                end: "17:00".into(),
            }],
            holidays: vec![],
            exceptions: vec![],
        }
        .validate()
        .expect("calendar");
        let cal = store
            .create_calendar(t.id, &calendar, &actor)
            .await
            .expect("calendar");
        let mut d = draft(vec![target("resolution", None, 60)]);
        d.calendar_id = Some(cal.id);
        store
            .create_agreement(t.id, &d.validate().expect("valid"), &actor)
            .await
            .expect("agreement");
        let err = store
            .delete_calendar(t.id, cal.id, &actor)
            .await
            .expect_err("in use");
        assert!(matches!(err, StoreError::Conflict(ref m) if m.contains("Standard")));
    });
}

mod sla_report {
    //! Attainment reports and the breach list over a small data set whose figures are counted
    //! by hand: incidents opened in January and February 2025, met and breached, one
    //! cancelled, one excluded, one across the month boundary, and one OLA clock.
    use super::incidents::fields;
    use super::*;
    use steward_domain::incident::{Priority, Status};
    use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
    use steward_store::sla::report::{Group, Month, ReportQuery};

    const MINUTE: i64 = 60_000_000;
    const DAY: i64 = 1440 * MINUTE;

    /// Monday 6 January 2025, 09:00 UTC.
    fn t0() -> i64 {
        Month::parse("2025-01").expect("month").start() + 5 * DAY + 9 * 60 * MINUTE
    }

    fn agreement(name: &str, kind: AgreementKind, targets: Vec<Target>) -> AgreementDraft {
        AgreementDraft {
            name: name.into(),
            kind,
            record_kind: RecordKind::Incident,
            customer_id: None,
            service_id: None,
            team_id: None,
            supplier: String::new(),
            calendar_id: None,
            warn_percent: 75,
            pause_in: None,
            start_in: vec![],
            milestones: vec![],
            targets,
            escalations: vec![],
            active: true,
        }
    }

    fn target(metric: &str, priority: Option<Priority>, minutes: u32) -> Target {
        Target {
            metric: metric.into(),
            priority,
            minutes,
        }
    }

    struct Data {
        payroll: i64,
        mail: i64,
        acme: i64,
        globex: i64,
        /// INC-2, breached twice, with a breach reason on its resolution.
        late: i64,
    }

    /// An incident opened at `opened`, first answered and resolved after the given minutes.
    #[allow(clippy::too_many_arguments)]
    async fn incident(
        store: &Store,
        t: i64,
        title: &str,
        (service_id, customer_id, team): (Option<i64>, Option<i64>, Option<i64>),
        priority: Priority,
        opened: i64,
        response: Option<i64>,
        resolution: Option<i64>,
    ) -> i64 {
        let mut f = fields(title, "");
        f.service_id = service_id;
        f.customer_id = customer_id;
        f.assignee_team_id = team;
        f.priority = priority;
        f.opened_at = opened;
        f.first_response_at = response.map(|m| opened + m * MINUTE);
        f.status = Status::InProgress;
        if let Some(m) = resolution {
            f.status = Status::Resolved;
            f.resolution_code = Some("fixed".into());
            f.resolved_at = Some(opened + m * MINUTE);
        }
        store
            .create_incident(t, &f, &Actor::cli())
            .await
            .expect("incident")
            .id
    }

    /// Standard SLA: first response in 30 minutes; resolution in 60 for P1, else 240.
    /// Second line OLA: resolution in 120 minutes while with the team.
    async fn data(store: &Store, t: i64) -> Data {
        let actor = Actor::cli();
        let payroll = store
            .create_service(t, &service("Payroll"), &actor)
            .await
            .expect("service")
            .id;
        let mail = store
            .create_service(t, &service("Mail"), &actor)
            .await
            .expect("service")
            .id;
        let customer = |name: &str| CustomerDraft {
            name: name.into(),
            notes: String::new(),
        };
        let acme = store
            .create_customer(t, &customer("Acme Ltd"), &actor)
            .await
            .expect("customer")
            .id;
        let globex = store
            .create_customer(t, &customer("Globex"), &actor)
            .await
            .expect("customer")
            .id;
        let team = store
            .create_team(
                t,
                &TeamDraft {
                    name: "Second line".into(),
                    description: String::new(),
                },
                &actor,
            )
            .await
            .expect("team")
            .id;
        let sla = agreement(
            "Standard",
            AgreementKind::Sla,
            vec![
                target("first_response", None, 30),
                target("resolution", Some(Priority::P1), 60),
                target("resolution", None, 240),
            ],
        );
        store
            .create_agreement(t, &sla.validate().expect("valid"), &actor)
            .await
            .expect("sla");
        let mut ola = agreement(
            "Second line OLA",
            AgreementKind::Ola,
            vec![target("resolution", None, 120)],
        );
        ola.team_id = Some(team);
        store
            .create_agreement(t, &ola.validate().expect("valid"), &actor)
            .await
            .expect("ola");
        let t0 = t0();
        let (p1, p2, p3, p4) = (Priority::P1, Priority::P2, Priority::P3, Priority::P4);
        // INC-1: both met in January.
        let s = (Some(payroll), Some(acme), None);
        incident(store, t, "Payroll run stuck", s, p1, t0, Some(10), Some(50)).await;
        // INC-2: both breached in January.
        let late = incident(
            store,
            t,
            "Payslips wrong",
            s,
            p3,
            t0 + DAY,
            Some(45),
            Some(300),
        )
        .await;
        // INC-3: both met; its OLA clock breached (resolved after 3 hours).
        let s = (Some(mail), Some(globex), Some(team));
        incident(
            store,
            t,
            "Mailbox full",
            s,
            p3,
            t0 + 2 * DAY,
            Some(20),
            Some(180),
        )
        .await;
        // INC-4: opened 31 January 23:00, answered in January, resolved in February: both met.
        let eve = Month::parse("2025-02").expect("month").start() - 60 * MINUTE;
        let s = (Some(mail), None, None);
        incident(store, t, "Mail bounces", s, p2, eve, Some(15), Some(120)).await;
        // INC-5: cancelled, so it never counts.
        let feb = Month::parse("2025-02").expect("month").start();
        let mut f = fields("Duplicate report", "");
        f.service_id = Some(payroll);
        f.customer_id = Some(globex);
        f.opened_at = feb + 9 * DAY;
        f.status = Status::Cancelled;
        store
            .create_incident(t, &f, &actor)
            .await
            .expect("cancelled");
        // INC-6: breached twice, but excluded from attainment.
        let s = (Some(payroll), Some(acme), None);
        let excluded = incident(
            store,
            t,
            "Power cut",
            s,
            p3,
            feb + 11 * DAY,
            Some(40),
            Some(360),
        )
        .await;
        store
            .set_sla_exclusion(
                t,
                RecordKind::Incident,
                excluded,
                Some("Site-wide power cut"),
                &actor,
            )
            .await
            .expect("exclude");
        // INC-7: answered in time, still open long past its resolution target.
        let s = (None, Some(acme), None);
        incident(
            store,
            t,
            "Laptop slow",
            s,
            p4,
            feb + 19 * DAY,
            Some(5),
            None,
        )
        .await;
        let clock = store
            .record_clocks(t, RecordKind::Incident, late)
            .await
            .expect("clocks")
            .into_iter()
            .find(|c| c.target == "resolution")
            .expect("resolution clock");
        store
            .set_breach_reason(
                t,
                RecordKind::Incident,
                late,
                clock.id,
                "Payroll supplier late",
                &actor,
            )
            .await
            .expect("reason");
        Data {
            payroll,
            mail,
            acme,
            globex,
            late,
        }
    }

    /// January and February 2025.
    fn period(group: Group) -> ReportQuery {
        let jan = Month::parse("2025-01").expect("month");
        ReportQuery::new(jan.start(), jan.plus(2).start(), group)
    }

    type Figures = Vec<(String, i64, i64, i64, f64)>;

    async fn report(store: &Store, t: i64, q: &ReportQuery) -> Figures {
        store
            .attainment(t, q)
            .await
            .expect("report")
            .into_iter()
            .map(|r| {
                let label = match &r.then {
                    Some(then) => format!("{} / {}", r.group.label, then.label),
                    None => r.group.label.clone(),
                };
                assert_eq!(r.met + r.breached, r.total);
                (label, r.met, r.breached, r.total, r.attainment_percent)
            })
            .collect()
    }

    fn rows(expected: &[(&str, i64, i64, f64)]) -> Figures {
        expected
            .iter()
            .map(|(l, m, b, p)| ((*l).to_owned(), *m, *b, m + b, *p))
            .collect()
    }

    both_backends!(attainment_matches_a_hand_count, |store: Store| async move {
        let t = tenant(&store, "Acme").await.id;
        let d = data(&store, t).await;
        assert_eq!(
            report(&store, t, &period(Group::Service)).await,
            rows(&[
                ("Mail", 4, 0, 100.0),
                ("Payroll", 2, 2, 50.0),
                ("No service", 1, 1, 50.0)
            ])
        );
        assert_eq!(
            report(&store, t, &period(Group::Customer)).await,
            rows(&[
                ("Acme Ltd", 3, 3, 50.0),
                ("Globex", 2, 0, 100.0),
                ("No customer", 2, 0, 100.0)
            ])
        );
        assert_eq!(
            report(&store, t, &period(Group::Priority)).await,
            rows(&[
                ("P1", 2, 0, 100.0),
                ("P2", 2, 0, 100.0),
                ("P3", 2, 2, 50.0),
                ("P4", 1, 1, 50.0)
            ])
        );
        let months = store
            .attainment(t, &period(Group::Month))
            .await
            .expect("months");
        let keys: Vec<Option<&str>> = months.iter().map(|r| r.group.key.as_deref()).collect();
        assert_eq!(keys, [Some("2025-01"), Some("2025-02")]);
        assert_eq!(
            report(&store, t, &period(Group::Month)).await,
            rows(&[("2025-01", 5, 2, 71.43), ("2025-02", 2, 1, 66.67)])
        );
        assert_eq!(
            report(&store, t, &period(Group::Target)).await,
            rows(&[("First response", 4, 1, 80.0), ("Resolution", 3, 2, 60.0)])
        );
        let mut all_kinds = period(Group::Agreement);
        all_kinds.agreement_kind = None;
        assert_eq!(
            report(&store, t, &all_kinds).await,
            rows(&[("Second line OLA", 0, 1, 0.0), ("Standard", 7, 3, 70.0)])
        );
        let mut ola = period(Group::Target);
        ola.agreement_kind = Some(AgreementKind::Ola);
        assert_eq!(
            report(&store, t, &ola).await,
            rows(&[("Resolution", 0, 1, 0.0)])
        );

        let mut by_service_target = period(Group::Service);
        by_service_target.then = Some(Group::Target);
        let detailed = store
            .attainment(t, &by_service_target)
            .await
            .expect("two levels");
        assert_eq!(
            detailed[0].group.key.as_deref(),
            Some(d.mail.to_string().as_str())
        );
        assert_eq!(
            detailed[0].then.as_ref().and_then(|v| v.key.as_deref()),
            Some("first_response")
        );
        assert_eq!(
            report(&store, t, &by_service_target).await,
            rows(&[
                ("Mail / First response", 2, 0, 100.0),
                ("Mail / Resolution", 2, 0, 100.0),
                ("Payroll / First response", 1, 1, 50.0),
                ("Payroll / Resolution", 1, 1, 50.0),
                ("No service / First response", 1, 0, 100.0),
                ("No service / Resolution", 0, 1, 0.0)
            ])
        );

        // Months as the second grouping and as the first; the excluded February incident
        // of Payroll is taken out of its month.
        let mut by_service_month = period(Group::Service);
        by_service_month.then = Some(Group::Month);
        assert_eq!(
            report(&store, t, &by_service_month).await,
            rows(&[
                ("Mail / 2025-01", 3, 0, 100.0),
                ("Mail / 2025-02", 1, 0, 100.0),
                ("Payroll / 2025-01", 2, 2, 50.0),
                ("No service / 2025-02", 1, 1, 50.0)
            ])
        );
        let mut by_month_target = period(Group::Month);
        by_month_target.then = Some(Group::Target);
        assert_eq!(
            report(&store, t, &by_month_target).await,
            rows(&[
                ("2025-01 / First response", 3, 1, 75.0),
                ("2025-01 / Resolution", 2, 1, 66.67),
                ("2025-02 / First response", 1, 0, 100.0),
                ("2025-02 / Resolution", 1, 1, 50.0)
            ])
        );

        // Filters, and the period's ends: from is inclusive, to exclusive.
        let mut acme = period(Group::Target);
        acme.customer_id = Some(d.acme);
        assert_eq!(
            report(&store, t, &acme).await,
            rows(&[("First response", 2, 1, 66.67), ("Resolution", 1, 2, 33.33)])
        );
        let mut resolution = period(Group::Month);
        resolution.target = Some("resolution".into());
        assert_eq!(
            report(&store, t, &resolution).await,
            rows(&[("2025-01", 2, 1, 66.67), ("2025-02", 1, 1, 50.0)])
        );
        let feb = Month::parse("2025-02").expect("month");
        let mut february = period(Group::Service);
        february.from = feb.start();
        february.service_id = Some(d.mail);
        assert_eq!(
            report(&store, t, &february).await,
            rows(&[("Mail", 1, 0, 100.0)])
        );
        let mut january = period(Group::Month);
        january.to = feb.start();
        january.priority = Some(Priority::P3);
        assert_eq!(
            report(&store, t, &january).await,
            rows(&[("2025-01", 2, 2, 50.0)])
        );
        let mut requests = period(Group::Service);
        requests.record_kind = Some(RecordKind::Request);
        assert_eq!(report(&store, t, &requests).await, rows(&[]));
        let mut globex = period(Group::Service);
        globex.customer_id = Some(d.globex);
        globex.service_id = Some(d.payroll);
        assert_eq!(
            report(&store, t, &globex).await,
            rows(&[]),
            "the cancelled incident does not count"
        );

        // Another tenant sees none of it; a backwards period is refused.
        let other = tenant(&store, "Other").await.id;
        assert!(
            report(&store, other, &period(Group::Service))
                .await
                .is_empty()
        );
        let mut backwards = period(Group::Service);
        backwards.to = backwards.from;
        let err = store
            .attainment(t, &backwards)
            .await
            .expect_err("empty period");
        assert!(matches!(err, StoreError::Invalid(ref i) if i.message_for("to").is_some()));
        let mut twice = period(Group::Service);
        twice.then = Some(Group::Service);
        assert!(matches!(
            store.attainment(t, &twice).await,
            Err(StoreError::Invalid(_))
        ));
    });

    both_backends!(
        breaches_are_listed_newest_first,
        |store: Store| async move {
            let t = tenant(&store, "Acme").await.id;
            let d = data(&store, t).await;
            let q = period(Group::Service);
            let first = store
                .breaches(
                    t,
                    &q,
                    &PageRequest {
                        limit: Some(2),
                        cursor: None,
                    },
                )
                .await
                .expect("page 1");
            let second = store
                .breaches(
                    t,
                    &q,
                    &PageRequest {
                        limit: Some(2),
                        cursor: first.next_cursor.clone(),
                    },
                )
                .await
                .expect("page 2");
            assert!(first.next_cursor.is_some());
            assert_eq!(second.next_cursor, None);
            let all: Vec<_> = first.items.iter().chain(&second.items).collect();
            let seen: Vec<(&str, &str)> = all
                .iter()
                .map(|b| (b.record_key.as_str(), b.target.as_str()))
                .collect();
            assert_eq!(
                seen,
                [
                    ("INC-7", "resolution"),
                    ("INC-2", "resolution"),
                    ("INC-2", "first_response")
                ]
            );
            let feb = Month::parse("2025-02").expect("month").start();
            let open = all[0];
            assert_eq!(open.record_title, "Laptop slow");
            assert_eq!(open.stopped_at, None, "still open");
            assert_eq!(open.due_at, feb + 19 * DAY + 240 * MINUTE);
            assert_eq!((open.service_id, open.service.as_deref()), (None, None));
            assert_eq!(open.customer.as_deref(), Some("Acme Ltd"));
            assert_eq!(open.priority.as_deref(), Some("P4"));
            let late = all[1];
            assert_eq!(late.record_id, d.late);
            assert_eq!(late.record_kind, RecordKind::Incident);
            assert_eq!(late.agreement, "Standard");
            assert_eq!(late.agreement_kind, AgreementKind::Sla);
            assert_eq!(late.target_minutes, 240);
            assert_eq!(late.due_at, t0() + DAY + 240 * MINUTE);
            assert_eq!(late.stopped_at, Some(t0() + DAY + 300 * MINUTE));
            assert_eq!(late.breach_reason.as_deref(), Some("Payroll supplier late"));
            assert_eq!(late.service.as_deref(), Some("Payroll"));
            assert_eq!(all[2].breach_reason, None);

            let mut ola = q.clone();
            ola.agreement_kind = Some(AgreementKind::Ola);
            let olas = store
                .breaches(t, &ola, &PageRequest::default())
                .await
                .expect("ola");
            let keys: Vec<&str> = olas.items.iter().map(|b| b.record_key.as_str()).collect();
            assert_eq!(keys, ["INC-3"]);
            let mut mail = q.clone();
            mail.service_id = Some(d.mail);
            assert!(
                store
                    .breaches(t, &mail, &PageRequest::default())
                    .await
                    .expect("mail")
                    .items
                    .is_empty()
            );
            let bad = PageRequest {
                limit: None,
                cursor: Some("zz".into()),
            };
            assert!(matches!(
                store.breaches(t, &q, &bad).await,
                Err(StoreError::Invalid(_))
            ));
        }
    );

    both_backends!(
        a_running_clock_past_due_counts_as_breached,
        |store: Store| async move {
            let t = tenant(&store, "Acme").await.id;
            let actor = Actor::cli();
            let sla = agreement(
                "Standard",
                AgreementKind::Sla,
                vec![target("resolution", None, 60)],
            );
            store
                .create_agreement(t, &sla.validate().expect("valid"), &actor)
                .await
                .expect("sla");
            // Due one second after it is written: stored as running, read later as breached,
            // before any breach job has run.
            let mut f = fields("Printer jammed", "");
            f.opened_at = steward_store::now_micros() - 60 * MINUTE + 1_000_000;
            store
                .create_incident(t, &f, &actor)
                .await
                .expect("incident");
            let now = steward_store::now_micros();
            let today = ReportQuery::new(now - DAY, now + DAY, Group::Target);
            assert_eq!(report(&store, t, &today).await, rows(&[]), "not yet due");
            tokio::time::sleep(Duration::from_millis(1_100)).await;
            assert_eq!(
                report(&store, t, &today).await,
                rows(&[("Resolution", 0, 1, 0.0)])
            );
            let listed = store
                .breaches(t, &today, &PageRequest::default())
                .await
                .expect("breaches");
            assert_eq!(listed.items.len(), 1);
            assert_eq!(listed.items[0].stopped_at, None);
        }
    );
}
