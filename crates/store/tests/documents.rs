//! Controlled documents on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL:
//! documents with their unique references and one active core document of each kind, versions
//! through review and approval (approving supersedes, nobody approves their own, approved text
//! never changes), reviews moving the due date, acknowledgements by the distribution, files on
//! versions, tenant isolation, review reminders sent once, and the evidence rules.

use steward_domain::access::Role;
use steward_domain::conformance::rules::{MachineStatus, RuleId};
use steward_domain::sms::document::{
    Classification, DocumentDraft, DocumentKind, DocumentStatus, ReviewReminder, VersionDraft,
    VersionState,
};
use steward_domain::team::TeamDraft;
use steward_store::asset::today_utc;
use steward_store::conformance::Period;
use steward_store::document::{Document, DocumentFilter, DocumentVersion};
use steward_store::journal::JournalFilter;
use steward_store::mail::NewAttachment;
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends, now_micros};

const DAY: i64 = 86_400_000_000;

fn draft(reference: &str, kind: DocumentKind, owner: i64, readers: Vec<i64>) -> DocumentDraft {
    DocumentDraft {
        reference: reference.into(),
        title: format!("{} {reference}", kind.label()),
        kind,
        owner_id: owner,
        review_months: 12,
        retention_years: 6,
        classification: Classification::Internal,
        distribution_users: readers,
        distribution_teams: vec![],
    }
    .validate()
    .expect("valid document")
}

fn text(body: &str) -> VersionDraft {
    VersionDraft {
        body: body.into(),
        change_summary: "Written".into(),
    }
    .validate()
    .expect("valid version")
}

/// The people of a test tenant: (tenant, author, approver, reader).
struct People {
    t: i64,
    author: Actor,
    author_id: i64,
    approver: Actor,
    approver_id: i64,
    reader: Actor,
    reader_id: i64,
}

async fn people(store: &Store, name: &str) -> People {
    let t = tenant(store, name).await;
    let author_id = user(store, t, &format!("author@{name}.test"), Role::Manager).await;
    let approver_id = user(store, t, &format!("approver@{name}.test"), Role::Admin).await;
    let reader_id = user(store, t, &format!("reader@{name}.test"), Role::Agent).await;
    People {
        t,
        author: Actor::user(author_id, &format!("author@{name}.test")),
        author_id,
        approver: Actor::user(approver_id, &format!("approver@{name}.test")),
        approver_id,
        reader: Actor::user(reader_id, &format!("reader@{name}.test")),
        reader_id,
    }
}

fn no_notice(_: &Document, _: &DocumentVersion, name: &str) -> (String, String) {
    ("Approved".into(), format!("Hello {name}"))
}

/// Writes, submits and approves the next version of `d`, approved at `at`.
async fn approved(store: &Store, p: &People, d: i64, body: &str, at: i64) -> DocumentVersion {
    let v = store
        .create_document_version(p.t, d, &text(body), at, &p.author)
        .await
        .expect("version");
    store
        .submit_document_version(p.t, d, v.number, p.approver_id, at, &p.author)
        .await
        .expect("submit");
    store
        .approve_document_version(p.t, d, v.number, at, &p.approver, &no_notice)
        .await
        .expect("approve")
}

both_backends!(
    documents_are_recorded_with_unique_references_and_one_core_each,
    |store: Store| async move {
        let p = people(&store, "acme").await;
        let policy = store
            .create_document(
                p.t,
                &draft(
                    "SMS-POL-01",
                    DocumentKind::Policy,
                    p.author_id,
                    vec![p.reader_id],
                ),
                &p.author,
            )
            .await
            .expect("policy");
        assert_eq!(policy.status, DocumentStatus::Active);
        assert_eq!(policy.distribution_users, [p.reader_id]);
        assert_eq!(policy.review_due, None);
        // The reference is unique, ignoring case.
        let taken = store
            .create_document(
                p.t,
                &draft("sms-pol-01", DocumentKind::Procedure, p.author_id, vec![]),
                &p.author,
            )
            .await
            .expect_err("taken");
        assert!(
            matches!(taken, StoreError::Invalid(ref i) if i.message_for("reference").is_some())
        );
        // A second active policy is refused, with a clear message.
        let second = store
            .create_document(
                p.t,
                &draft("SMS-POL-02", DocumentKind::Policy, p.author_id, vec![]),
                &p.author,
            )
            .await
            .expect_err("one policy");
        let StoreError::Invalid(i) = second else {
            panic!("expected a field error, got {second:?}");
        };
        assert!(
            i.message_for("kind")
                .expect("kind")
                .contains("already has an active")
        );
        // Any number of procedures.
        for r in ["PRC-1", "PRC-2"] {
            store
                .create_document(
                    p.t,
                    &draft(r, DocumentKind::Procedure, p.author_id, vec![]),
                    &p.author,
                )
                .await
                .expect("procedure");
        }
        // The owner and the distribution must be the tenant's people.
        let other = tenant(&store, "beta").await;
        let stranger = user(&store, other, "x@beta.test", Role::Agent).await;
        let refused = store
            .create_document(
                p.t,
                &draft("PRC-9", DocumentKind::Procedure, stranger, vec![stranger]),
                &p.author,
            )
            .await
            .expect_err("strangers");
        assert!(matches!(refused, StoreError::Invalid(ref i)
            if i.message_for("owner_id").is_some() && i.message_for("distribution_users").is_some()));

        // Withdrawn, the policy frees its kind for a successor, and is kept.
        let edit = store
            .update_document(
                p.t,
                policy.id,
                policy.updated_at,
                &draft("SMS-POL-01", DocumentKind::Policy, p.author_id, vec![]),
                &p.author,
            )
            .await
            .expect("update");
        assert!(edit.distribution_users.is_empty());
        assert!(matches!(
            store
                .update_document(p.t, policy.id, policy.updated_at, &edit.draft(), &p.author)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let withdrawn = store
            .withdraw_document(p.t, policy.id, "Replaced by the group policy", &p.author)
            .await
            .expect("withdraw");
        assert_eq!(withdrawn.status, DocumentStatus::Withdrawn);
        assert!(withdrawn.retained_until().is_some());
        store
            .create_document(
                p.t,
                &draft("SMS-POL-02", DocumentKind::Policy, p.author_id, vec![]),
                &p.author,
            )
            .await
            .expect("successor");

        let all = store
            .documents(p.t, &DocumentFilter::default(), &PageRequest::default())
            .await
            .expect("list");
        assert_eq!(all.items.len(), 4);
        let policies = store
            .documents(
                p.t,
                &DocumentFilter {
                    kind: Some(DocumentKind::Policy),
                    status: Some(DocumentStatus::Active),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("filtered");
        assert_eq!(policies.items.len(), 1);
        assert_eq!(policies.items[0].reference, "SMS-POL-02");
        let first = store
            .documents(
                p.t,
                &DocumentFilter::default(),
                &PageRequest {
                    limit: Some(3),
                    cursor: None,
                },
            )
            .await
            .expect("page 1");
        let second = store
            .documents(
                p.t,
                &DocumentFilter::default(),
                &PageRequest {
                    limit: Some(3),
                    cursor: first.next_cursor.clone(),
                },
            )
            .await
            .expect("page 2");
        assert_eq!(first.items.len() + second.items.len(), 4);
        assert!(second.next_cursor.is_none());

        // Every write is journaled.
        let journal = store
            .journal_entries(
                p.t,
                &JournalFilter {
                    record_type: Some("document".into()),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("journal");
        assert!(journal.items.len() >= 6, "{}", journal.items.len());
    }
);

both_backends!(
    versions_go_through_review_and_approval_supersedes,
    |store: Store| async move {
        let p = people(&store, "acme").await;
        let d = store
            .create_document(
                p.t,
                &draft(
                    "SMS-SCOPE",
                    DocumentKind::Scope,
                    p.author_id,
                    vec![p.reader_id],
                ),
                &p.author,
            )
            .await
            .expect("scope")
            .id;
        let v1 = store
            .create_document_version(p.t, d, &text("Scope, first text"), now_micros(), &p.author)
            .await
            .expect("v1");
        assert_eq!((v1.number, v1.state), (1, VersionState::Draft));
        // One unapproved version at a time.
        assert!(matches!(
            store
                .create_document_version(p.t, d, &text("Another"), now_micros(), &p.author)
                .await,
            Err(StoreError::Conflict(_))
        ));
        // Only the author edits; nobody may name themselves reviewer.
        assert!(matches!(
            store
                .update_document_version(p.t, d, 1, &text("Mine now"), &p.approver)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let edited = store
            .update_document_version(p.t, d, 1, &text("Scope, second text"), &p.author)
            .await
            .expect("edit");
        assert_eq!(edited.body, "Scope, second text");
        assert!(matches!(
            store
                .submit_document_version(p.t, d, 1, p.author_id, now_micros(), &p.author)
                .await,
            Err(StoreError::Conflict(_))
        ));
        // The reviewer must be able to approve.
        assert!(matches!(
            store.submit_document_version(p.t, d, 1, p.reader_id, now_micros(), &p.author).await,
            Err(StoreError::Invalid(ref i)) if i.message_for("reviewer_id").is_some()
        ));
        let submitted = store
            .submit_document_version(p.t, d, 1, p.approver_id, now_micros(), &p.author)
            .await
            .expect("submit");
        assert_eq!(submitted.state, VersionState::InReview);
        // In review, the text is frozen.
        assert!(matches!(
            store
                .update_document_version(p.t, d, 1, &text("Sneaky"), &p.author)
                .await,
            Err(StoreError::Conflict(_))
        ));
        // The author cannot approve their own version.
        let own = store
            .approve_document_version(p.t, d, 1, now_micros(), &p.author, &no_notice)
            .await
            .expect_err("separation of duties");
        assert!(
            matches!(own, StoreError::Conflict(ref m) if m.contains("cannot approve their own")),
            "{own:?}"
        );
        // Returned with a reason, edited, submitted again, approved.
        assert!(matches!(
            store
                .return_document_version(p.t, d, 1, " ", &p.approver)
                .await,
            Err(StoreError::Invalid(_))
        ));
        let returned = store
            .return_document_version(p.t, d, 1, "Name the Lisbon site", &p.approver)
            .await
            .expect("return");
        assert_eq!(returned.state, VersionState::Returned);
        assert_eq!(returned.returned_reason, "Name the Lisbon site");
        store
            .update_document_version(p.t, d, 1, &text("Scope: Berlin and Lisbon"), &p.author)
            .await
            .expect("edit returned");
        store
            .submit_document_version(p.t, d, 1, p.approver_id, now_micros(), &p.author)
            .await
            .expect("submit again");
        let a1 = store
            .approve_document_version(p.t, d, 1, now_micros(), &p.approver, &no_notice)
            .await
            .expect("approve");
        assert_eq!(a1.state, VersionState::Approved);
        assert_eq!(a1.approved_by_label, "approver@acme.test");
        // The distribution got its notice.
        let outbox = store.outbox(p.t).await.expect("outbox");
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].to_address, "reader@acme.test");
        // Approved text never changes, nor do its files.
        assert!(matches!(
            store
                .update_document_version(p.t, d, 1, &text("Changed"), &p.author)
                .await,
            Err(StoreError::Conflict(_))
        ));
        let file = NewAttachment {
            filename: "signed.pdf",
            content_type: "application/pdf",
            bytes: b"%PDF-1.7",
        };
        assert!(matches!(
            store.attach_document_file(p.t, d, 1, file, &p.author).await,
            Err(StoreError::Conflict(_))
        ));
        let listing = store.document_listing(p.t, d).await.expect("listing");
        assert_eq!(listing.approved.as_ref().map(|a| a.number), Some(1));
        assert!(listing.pending.is_none());
        let due = store.document(p.t, d).await.expect("document").review_due;
        assert_eq!(
            due,
            today_utc().checked_add(jiff::Span::new().months(12)).ok()
        );

        // Version 2: a draft with a file, then approved; version 1 is superseded.
        let v2 = store
            .create_document_version(p.t, d, &text("Scope v2"), now_micros(), &p.author)
            .await
            .expect("v2");
        let attached = store
            .attach_document_file(p.t, d, 2, file, &p.author)
            .await
            .expect("file on a draft");
        assert_eq!(attached.size, 8);
        let listing = store.document_listing(p.t, d).await.expect("listing");
        assert_eq!(listing.approved.as_ref().map(|a| a.number), Some(1));
        assert_eq!(listing.pending.as_ref().map(|p| p.number), Some(2));
        store
            .submit_document_version(p.t, d, v2.number, p.approver_id, now_micros(), &p.author)
            .await
            .expect("submit v2");
        store
            .approve_document_version(p.t, d, 2, now_micros(), &p.approver, &no_notice)
            .await
            .expect("approve v2");
        let versions = store.document_versions(p.t, d).await.expect("versions");
        let states: Vec<_> = versions.iter().map(|v| (v.number, v.state)).collect();
        assert_eq!(
            states,
            [(2, VersionState::Approved), (1, VersionState::Superseded)]
        );
        assert!(versions[1].superseded_at.is_some());
        // Withdrawn, the document's versions no longer move.
        store
            .withdraw_document(p.t, d, "Merged", &p.author)
            .await
            .expect("withdraw");
        assert!(matches!(
            store
                .create_document_version(p.t, d, &text("v3"), now_micros(), &p.author)
                .await,
            Err(StoreError::Conflict(_))
        ));
    }
);

both_backends!(
    reviews_move_the_due_date_and_readers_acknowledge,
    |store: Store| async move {
        let p = people(&store, "acme").await;
        let team = store
            .create_team(
                p.t,
                &TeamDraft {
                    name: "Desk".into(),
                    description: String::new(),
                }
                .validate()
                .expect("team"),
                &Actor::cli(),
            )
            .await
            .expect("team");
        let member = user(&store, p.t, "member@acme.test", Role::Agent).await;
        store
            .set_team_members(p.t, team.id, &[member], &Actor::cli())
            .await
            .expect("members");
        let mut d = draft(
            "PRC-INC",
            DocumentKind::Procedure,
            p.author_id,
            vec![p.reader_id],
        );
        d.distribution_teams = vec![team.id];
        let doc = store
            .create_document(p.t, &d, &p.author)
            .await
            .expect("doc");
        // Nothing to review or read before an approval.
        assert!(matches!(
            store
                .record_document_review(p.t, doc.id, today_utc(), today_utc(), "", &p.author)
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .acknowledge_document(p.t, doc.id, p.reader_id, &p.reader)
                .await,
            Err(StoreError::Conflict(_))
        ));
        // Approved 400 days ago: the review is overdue.
        let long_ago = now_micros() - 400 * DAY;
        approved(&store, &p, doc.id, "How incidents are handled", long_ago).await;
        let overdue = store
            .documents(
                p.t,
                &DocumentFilter {
                    overdue_on: Some(today_utc()),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("overdue");
        assert_eq!(overdue.items.len(), 1);
        // A review today moves the due date a year on, without a new version.
        assert!(matches!(
            store.record_document_review(p.t, doc.id, today_utc().tomorrow().expect("day"), today_utc(), "", &p.author).await,
            Err(StoreError::Invalid(ref i)) if i.message_for("reviewed_on").is_some()
        ));
        let review = store
            .record_document_review(
                p.t,
                doc.id,
                today_utc(),
                today_utc(),
                "Still fit for purpose",
                &p.author,
            )
            .await
            .expect("review");
        assert_eq!(review.note, "Still fit for purpose");
        let after = store.document(p.t, doc.id).await.expect("doc");
        assert_eq!(
            after.review_due,
            today_utc().checked_add(jiff::Span::new().months(12)).ok()
        );
        assert_eq!(
            store
                .document_versions(p.t, doc.id)
                .await
                .expect("versions")
                .len(),
            1
        );
        assert!(
            store
                .documents(
                    p.t,
                    &DocumentFilter {
                        overdue_on: Some(today_utc()),
                        ..Default::default()
                    },
                    &PageRequest::default()
                )
                .await
                .expect("overdue")
                .items
                .is_empty()
        );
        assert_eq!(
            store
                .document_reviews(p.t, doc.id)
                .await
                .expect("reviews")
                .len(),
            1
        );

        // The distribution: the listed reader and the team's member; both start unread.
        let readers = store.document_readers(p.t, doc.id).await.expect("readers");
        let ids: Vec<i64> = readers.iter().map(|r| r.user_id).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&p.reader_id) && ids.contains(&member));
        assert!(readers.iter().all(|r| r.acknowledged_at.is_none()));
        let ack = store
            .acknowledge_document(p.t, doc.id, p.reader_id, &p.reader)
            .await
            .expect("ack");
        let again = store
            .acknowledge_document(p.t, doc.id, p.reader_id, &p.reader)
            .await
            .expect("ack twice");
        assert_eq!(ack.id, again.id);
        let readers = store.document_readers(p.t, doc.id).await.expect("readers");
        assert_eq!(
            readers
                .iter()
                .filter(|r| r.acknowledged_at.is_some())
                .count(),
            1
        );
        // A new approved version needs reading again: acknowledgements belong to a version.
        approved(
            &store,
            &p,
            doc.id,
            "How incidents are handled, v2",
            now_micros(),
        )
        .await;
        let readers = store.document_readers(p.t, doc.id).await.expect("readers");
        assert!(readers.iter().all(|r| r.acknowledged_at.is_none()));
        assert_eq!(
            store
                .document_acknowledgements(p.t, doc.id)
                .await
                .expect("acks")
                .len(),
            1
        );
    }
);

both_backends!(
    another_tenants_documents_are_not_found,
    |store: Store| async move {
        let p = people(&store, "acme").await;
        let q = people(&store, "beta").await;
        let doc = store
            .create_document(
                p.t,
                &draft("SMS-PLAN", DocumentKind::Plan, p.author_id, vec![]),
                &p.author,
            )
            .await
            .expect("plan");
        approved(&store, &p, doc.id, "The plan", now_micros()).await;
        assert!(matches!(
            store.document(q.t, doc.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.document_listing(q.t, doc.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.document_version(q.t, doc.id, 1).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.document_versions(q.t, doc.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .create_document_version(q.t, doc.id, &text("x"), now_micros(), &q.author)
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.withdraw_document(q.t, doc.id, "x", &q.author).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            store
                .documents(q.t, &DocumentFilter::default(), &PageRequest::default())
                .await
                .expect("list")
                .items
                .is_empty()
        );
        // Each tenant has its own core documents.
        store
            .create_document(
                q.t,
                &draft("SMS-PLAN", DocumentKind::Plan, q.author_id, vec![]),
                &q.author,
            )
            .await
            .expect("beta's own plan");
    }
);

both_backends!(review_reminders_are_sent_once, |store: Store| async move {
    let p = people(&store, "acme").await;
    let soon = store
        .create_document(
            p.t,
            &draft("PRC-SOON", DocumentKind::Procedure, p.author_id, vec![]),
            &p.author,
        )
        .await
        .expect("doc");
    let late = store
        .create_document(
            p.t,
            &draft("PRC-LATE", DocumentKind::Procedure, p.author_id, vec![]),
            &p.author,
        )
        .await
        .expect("doc");
    let fresh = store
        .create_document(
            p.t,
            &draft("PRC-NEW", DocumentKind::Procedure, p.author_id, vec![]),
            &p.author,
        )
        .await
        .expect("doc");
    // A year's interval: approved 350 days ago is due within the lead time, 400 days ago
    // overdue, today not due for a year.
    approved(&store, &p, soon.id, "Soon", now_micros() - 350 * DAY).await;
    approved(&store, &p, late.id, "Late", now_micros() - 400 * DAY).await;
    approved(&store, &p, fresh.id, "Fresh", now_micros()).await;
    let render = |r: &steward_store::document::DocumentReminder| {
        (
            format!("{} {}", r.document.reference, r.kind),
            "body".to_owned(),
        )
    };
    let sent = store
        .send_document_reminders(p.t, today_utc(), render)
        .await
        .expect("send");
    let mut kinds: Vec<_> = sent
        .iter()
        .map(|r| (r.document.reference.clone(), r.kind))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("PRC-LATE".into(), ReviewReminder::Overdue),
            ("PRC-SOON".into(), ReviewReminder::Upcoming)
        ]
    );
    assert_eq!(sent[0].owner.1, "author@acme.test");
    // Again the same day, and the next: nothing new.
    for day in [today_utc(), today_utc().tomorrow().expect("day")] {
        let again = store
            .send_document_reminders(p.t, day, render)
            .await
            .expect("send");
        assert!(again.is_empty(), "{again:?}");
    }
    let reminders = store
        .outbox(p.t)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|m| m.subject.starts_with("PRC-"))
        .count();
    assert_eq!(reminders, 2);
});

fn year() -> Period {
    Period::year_to(now_micros())
}

async fn status(store: &Store, t: i64, rule: RuleId) -> MachineStatus {
    store.rule_results(t, year()).await.expect("rules")[&rule].status
}

both_backends!(
    the_core_document_rules_show_met_and_gap,
    |store: Store| async move {
        let p = people(&store, "acme").await;
        let rules = [
            (DocumentKind::Scope, RuleId::ScopeApproved),
            (DocumentKind::Policy, RuleId::PolicyApproved),
            (DocumentKind::Plan, RuleId::SmsPlanApproved),
            (
                DocumentKind::CommunicationPlan,
                RuleId::CommunicationPlanApproved,
            ),
        ];
        for (kind, rule) in rules {
            assert_eq!(
                status(&store, p.t, rule).await,
                MachineStatus::Gap,
                "{rule:?} with nothing"
            );
            let doc = store
                .create_document(
                    p.t,
                    &draft(
                        &format!("CORE-{}", kind.as_str()),
                        kind,
                        p.author_id,
                        vec![],
                    ),
                    &p.author,
                )
                .await
                .expect("core");
            // A draft is not enough.
            store
                .create_document_version(p.t, doc.id, &text("Draft"), now_micros(), &p.author)
                .await
                .expect("draft");
            assert_eq!(
                status(&store, p.t, rule).await,
                MachineStatus::Gap,
                "{rule:?} with a draft"
            );
            store
                .submit_document_version(p.t, doc.id, 1, p.approver_id, now_micros(), &p.author)
                .await
                .expect("submit");
            store
                .approve_document_version(p.t, doc.id, 1, now_micros(), &p.approver, &no_notice)
                .await
                .expect("approve");
            assert_eq!(
                status(&store, p.t, rule).await,
                MachineStatus::Met,
                "{rule:?} approved"
            );
        }
    }
);

both_backends!(
    the_review_rule_shows_met_and_gap,
    |store: Store| async move {
        let p = people(&store, "acme").await;
        let rule = RuleId::DocumentsReviewedOnTime;
        assert_eq!(
            status(&store, p.t, rule).await,
            MachineStatus::NotYetEvaluable
        );
        let doc = store
            .create_document(
                p.t,
                &draft("PRC-1", DocumentKind::Procedure, p.author_id, vec![]),
                &p.author,
            )
            .await
            .expect("doc");
        approved(&store, &p, doc.id, "Text", now_micros()).await;
        assert_eq!(status(&store, p.t, rule).await, MachineStatus::Met);
        let old = store
            .create_document(
                p.t,
                &draft("PRC-2", DocumentKind::Procedure, p.author_id, vec![]),
                &p.author,
            )
            .await
            .expect("doc");
        approved(&store, &p, old.id, "Old text", now_micros() - 500 * DAY).await;
        assert_eq!(status(&store, p.t, rule).await, MachineStatus::Gap);
        store
            .record_document_review(
                p.t,
                old.id,
                today_utc(),
                today_utc(),
                "Still right",
                &p.author,
            )
            .await
            .expect("review");
        assert_eq!(status(&store, p.t, rule).await, MachineStatus::Met);
    }
);
