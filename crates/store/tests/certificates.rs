//! The certificate register and tenant signing keys on SQLite and, when
//! `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL: records with optimistic concurrency, the
//! status lifecycle with its history, the public lookup across tenants, expiry, reminders that
//! go out once, and one current key per tenant however many ask at once.

use steward_domain::access::Role;
use steward_domain::certificate::{CertificateDraft, CertificateStatus, ReminderKind};
use steward_domain::signing::{KeySet, Signed, verify_statement};
use steward_store::asset::today_utc;
use steward_store::certificate::{Certificate, CertificateFilter};
use steward_store::journal::JournalFilter;
use steward_store::testing::in_days;
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

fn draft(number: &str) -> CertificateDraft {
    CertificateDraft {
        number: number.into(),
        standard: String::new(),
        scope: "Managed hosting and the service desk, delivered from Berlin".into(),
        organisation: "Acme GmbH".into(),
        sites: "Berlin".into(),
        certification_body: "Example Certification".into(),
        accreditation_body: "DAkkS".into(),
        accreditation_number: "D-ZM-12345-01-00".into(),
        original_date: in_days(-800),
        issue_date: in_days(-330),
        expiry_date: in_days(765),
        next_surveillance: Some(in_days(35)),
        confidential: false,
    }
    .validate()
    .expect("valid draft")
}

async fn create(store: &Store, t: i64, d: &CertificateDraft) -> Certificate {
    store
        .create_certificate(
            t,
            d,
            CertificateStatus::Valid,
            "Recorded",
            today_utc(),
            &Actor::cli(),
        )
        .await
        .expect("certificate")
}

both_backends!(
    certificates_are_recorded_updated_and_listed,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let c = create(&store, t, &draft("ITSM-1")).await;
        assert_eq!(c.status, CertificateStatus::Valid);
        assert_eq!(c.standard, "ISO/IEC 20000-1:2018");
        // Unique per tenant, ignoring case.
        let taken = store
            .create_certificate(
                t,
                &draft("itsm-1"),
                CertificateStatus::Valid,
                "Recorded",
                today_utc(),
                &Actor::cli(),
            )
            .await
            .expect_err("duplicate");
        assert!(matches!(taken, StoreError::Invalid(ref i) if i.message_for("number").is_some()));
        // A valid certificate cannot start out past its expiry.
        let mut old = draft("ITSM-0");
        old.issue_date = in_days(-1200);
        old.original_date = in_days(-1200);
        old.expiry_date = in_days(-100);
        old.next_surveillance = None;
        assert!(matches!(
            store
                .create_certificate(
                    t,
                    &old,
                    CertificateStatus::Valid,
                    "x",
                    today_utc(),
                    &Actor::cli()
                )
                .await,
            Err(StoreError::Invalid(_))
        ));
        let expired = store
            .create_certificate(
                t,
                &old,
                CertificateStatus::Expired,
                "Superseded",
                today_utc(),
                &Actor::cli(),
            )
            .await
            .expect("an expired one is recorded as it stands");

        let mut edit = c.draft();
        edit.scope = "Hosting only".into();
        let saved = store
            .update_certificate(t, c.id, c.updated_at, &edit, &Actor::cli())
            .await
            .expect("update");
        assert_eq!(saved.scope, "Hosting only");
        // An edit over someone else's is refused.
        assert!(matches!(
            store
                .update_certificate(t, c.id, c.updated_at, &edit, &Actor::cli())
                .await,
            Err(StoreError::Conflict(_))
        ));

        let all = store
            .certificates(t, &CertificateFilter::default(), &PageRequest::default())
            .await
            .expect("list");
        // Soonest expiry first.
        assert_eq!(
            all.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            [expired.id, c.id]
        );
        let only_valid = store
            .certificates(
                t,
                &CertificateFilter {
                    status: Some(CertificateStatus::Valid),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("filtered");
        assert_eq!(only_valid.items.len(), 1);
        // Keyset pages.
        let first = store
            .certificates(
                t,
                &CertificateFilter::default(),
                &PageRequest {
                    limit: Some(1),
                    cursor: None,
                },
            )
            .await
            .expect("page 1");
        let second = store
            .certificates(
                t,
                &CertificateFilter::default(),
                &PageRequest {
                    limit: Some(1),
                    cursor: first.next_cursor.clone(),
                },
            )
            .await
            .expect("page 2");
        assert_eq!(second.items[0].id, c.id);
    }
);

both_backends!(
    status_changes_follow_the_lifecycle_with_history,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let other = tenant(&store, "Beta").await;
        let c = create(&store, t, &draft("ITSM-1")).await;
        let cli = Actor::cli();
        let today = today_utc();
        let suspended = store
            .change_certificate_status(
                t,
                c.id,
                CertificateStatus::Suspended,
                "Missed surveillance",
                today,
                &cli,
            )
            .await
            .expect("suspend");
        assert_eq!(suspended.status_reason, "Missed surveillance");
        assert!(matches!(
            store
                .change_certificate_status(t, c.id, CertificateStatus::Valid, "  ", today, &cli)
                .await,
            Err(StoreError::Invalid(_))
        ));
        store
            .change_certificate_status(t, c.id, CertificateStatus::Valid, "Restored", today, &cli)
            .await
            .expect("restore");
        store
            .change_certificate_status(
                t,
                c.id,
                CertificateStatus::Withdrawn,
                "Withdrawn by the CB",
                today,
                &cli,
            )
            .await
            .expect("withdraw");
        let refused = store
            .change_certificate_status(t, c.id, CertificateStatus::Valid, "Again", today, &cli)
            .await
            .expect_err("withdrawn is terminal");
        assert!(matches!(refused, StoreError::Conflict(ref m) if m.contains("withdrawn")));
        let history = store.certificate_history(t, c.id).await.expect("history");
        let moves: Vec<(Option<&str>, &str)> = history
            .iter()
            .map(|h| (h.from_status.as_deref(), h.to_status.as_str()))
            .collect();
        assert_eq!(
            moves,
            [
                (None, "valid"),
                (Some("valid"), "suspended"),
                (Some("suspended"), "valid"),
                (Some("valid"), "withdrawn")
            ]
        );
        assert_eq!(history[1].actor_label, "cli");
        assert!(matches!(
            store.certificate_history(other, c.id).await,
            Err(StoreError::NotFound)
        ));
        let entries = store
            .journal_entries(
                t,
                &JournalFilter {
                    record_type: Some("certificate".into()),
                    record_id: Some(c.id),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("journal");
        assert_eq!(entries.items.len(), 4);
    }
);

both_backends!(
    the_public_lookup_spans_tenants_and_hides_the_confidential,
    |store: Store| async move {
        let a = tenant(&store, "Acme").await;
        let b = tenant(&store, "Beta").await;
        create(&store, a, &draft("SHARED-1")).await;
        create(&store, b, &draft("SHARED-1")).await;
        let mut secret = draft("SECRET-1");
        secret.confidential = true;
        create(&store, a, &secret).await;
        let found = store.public_certificates("shared-1").await.expect("lookup");
        assert_eq!(
            found.iter().map(|f| f.tenant.as_str()).collect::<Vec<_>>(),
            ["acme", "beta"]
        );
        assert!(
            store
                .public_certificates("SECRET-1")
                .await
                .expect("lookup")
                .is_empty()
        );
        assert!(
            store
                .public_certificates("NOPE")
                .await
                .expect("lookup")
                .is_empty()
        );
    }
);

both_backends!(
    expiry_and_reminders_happen_once,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        user(&store, t, "max@example.org", Role::Manager).await;
        user(&store, t, "ann@example.org", Role::Agent).await;
        // Expiry in 20 days, surveillance in 10: two reminders.
        let mut soon = draft("SOON-1");
        soon.expiry_date = in_days(20);
        soon.next_surveillance = Some(in_days(10));
        let soon = create(&store, t, &soon).await;
        // Far off: none.
        let mut later = draft("LATER-1");
        later.next_surveillance = Some(in_days(100));
        create(&store, t, &later).await;
        let render = |r: &steward_store::certificate::CertificateReminder, name: &str| {
            (
                format!(
                    "{} {} in {} days",
                    r.certificate.number,
                    r.kind.as_str(),
                    r.days_left
                ),
                format!("Hello {name}"),
            )
        };
        let first = store
            .send_certificate_reminders(t, today_utc(), render)
            .await
            .expect("first run");
        let mut kinds: Vec<ReminderKind> = first.iter().map(|r| r.kind).collect();
        kinds.sort_by_key(|k| k.as_str());
        assert_eq!(kinds, [ReminderKind::Expiry, ReminderKind::Surveillance]);
        let again = store
            .send_certificate_reminders(t, today_utc(), render)
            .await
            .expect("second run");
        assert!(again.is_empty(), "sent again: {again:?}");
        let outbox = store.outbox(t).await.expect("outbox");
        assert_eq!(outbox.len(), 2, "{outbox:?}");
        assert!(
            outbox
                .iter()
                .all(|m| m.to_address == "max@example.org" && m.record_id == soon.id)
        );

        // Twenty-one days on the certificate has expired; the job moves it, once.
        let later = in_days(21);
        let moved = store.expire_certificates(t, later).await.expect("expire");
        assert_eq!(moved.iter().map(|c| c.id).collect::<Vec<_>>(), [soon.id]);
        assert_eq!(moved[0].status, CertificateStatus::Expired);
        assert!(
            store
                .expire_certificates(t, later)
                .await
                .expect("again")
                .is_empty()
        );
        let history = store
            .certificate_history(t, soon.id)
            .await
            .expect("history");
        let last = history.last().expect("a row");
        assert_eq!(
            (last.to_status.as_str(), last.actor_label.as_str()),
            ("expired", "system")
        );
        // Re-issued with a later expiry, it may be valid again.
        let mut reissued = moved[0].draft();
        reissued.issue_date = in_days(21);
        reissued.expiry_date = in_days(1100);
        reissued.next_surveillance = None;
        let c = store
            .update_certificate(t, soon.id, moved[0].updated_at, &reissued, &Actor::cli())
            .await
            .expect("re-issue");
        assert!(
            store
                .change_certificate_status(
                    t,
                    c.id,
                    CertificateStatus::Valid,
                    "Re-issued",
                    later,
                    &Actor::cli()
                )
                .await
                .is_ok()
        );
    }
);

both_backends!(
    each_tenant_has_one_key_however_many_ask,
    |store: Store| async move {
        let a = tenant(&store, "Acme").await;
        let b = tenant(&store, "Beta").await;
        let asks: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.signing_key(a).await })
            })
            .collect();
        let mut ids = Vec::new();
        for ask in asks {
            ids.push(ask.await.expect("task").expect("key").key_id);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{ids:?}");
        let key_b = store.signing_key(b).await.expect("key b");
        assert_ne!(key_b.key_id, ids[0]);
        // The secret never shows in Debug.
        assert!(!format!("{key_b:?}").contains(&key_b.pair.secret_base64()));

        let published = KeySet {
            keys: store.published_keys().await.expect("published"),
        };
        assert_eq!(published.keys.len(), 2);
        let key_a = store.signing_key(a).await.expect("key a");
        let signed = Signed::new(
            &serde_json::json!({"tenant": "acme", "key_id": key_a.key_id, "status": "valid"}),
            &key_a.pair,
        )
        .expect("signed");
        assert!(verify_statement(&signed, &published).is_ok());

        // A retired key stays published; the next signature uses a new one.
        store.retire_signing_key(a).await.expect("retire");
        let fresh = store.signing_key(a).await.expect("new key");
        assert_ne!(fresh.key_id, key_a.key_id);
        let keys = store.published_keys().await.expect("published");
        assert_eq!(keys.len(), 3);
        assert!(
            keys.iter()
                .any(|k| k.key_id == key_a.key_id && k.retired_at.is_some())
        );
        let after = KeySet { keys };
        assert!(
            verify_statement(&signed, &after)
                .expect("still valid")
                .retired
        );
    }
);
