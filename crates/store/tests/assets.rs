//! Assets on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL: the register with
//! its filters, optimistic concurrency, the lifecycle, links to CIs, tenant isolation, the
//! expiring query and reminders that go out once.

use steward_domain::access::Role;
use steward_domain::asset::{AssetDraft, AssetKind, AssetStatus, Compliance, Term};
use steward_domain::cmdb::{CiClassDraft, CiDraft, CiStatus};
use steward_store::asset::{AssetFilter, today_utc};
use steward_store::journal::JournalFilter;
use steward_store::testing::in_days;
use steward_store::testing::{tenant_id as tenant, user_id as user};
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

fn laptop(tag: &str) -> AssetDraft {
    AssetDraft {
        tag: tag.into(),
        name: format!("Laptop {tag}"),
        kind: AssetKind::Hardware,
        manufacturer: "Lenovo".into(),
        model: "T14".into(),
        serial_number: format!("SN-{tag}"),
        owner_id: None,
        location: "Berlin office".into(),
        supplier: "Bechtle".into(),
        cost_minor: Some(129_900),
        currency: Some("EUR".into()),
        purchase_date: None,
        warranty_expires: Some(in_days(400)),
        licence_seats: None,
        seats_in_use: None,
        licence_expires: None,
        notes: String::new(),
    }
    .validate()
    .expect("valid asset")
}

async fn create(store: &Store, t: i64, draft: &AssetDraft) -> steward_store::asset::Asset {
    store
        .create_asset(t, draft, AssetStatus::InStock, &Actor::cli())
        .await
        .expect("asset")
}

async fn ci(store: &Store, t: i64, name: &str) -> i64 {
    let class = match store.ci_class_named(t, "Server").await {
        Ok(class) => class,
        Err(_) => store
            .create_ci_class(
                t,
                &CiClassDraft {
                    name: "Server".into(),
                    description: String::new(),
                    attributes: Vec::new(),
                }
                .validate()
                .expect("class"),
                &Actor::cli(),
            )
            .await
            .expect("class"),
    };
    let draft = CiDraft {
        name: name.into(),
        class_id: class.id,
        status: CiStatus::InUse,
        description: String::new(),
        owner_id: None,
        team_id: None,
        external_id: None,
        service_ids: Vec::new(),
        attributes: Default::default(),
    }
    .validate(&class.name, &class.attributes)
    .expect("ci");
    store
        .create_ci(t, &draft, &Actor::cli())
        .await
        .expect("ci")
        .id
}

both_backends!(
    the_register_creates_updates_and_lists,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let owner = user(&store, t, "ann@example.org", Role::Agent).await;
        let a = create(
            &store,
            t,
            &AssetDraft {
                owner_id: Some(owner),
                ..laptop("LT-1")
            },
        )
        .await;
        assert_eq!(a.status, AssetStatus::InStock);
        assert_eq!(a.currency.as_deref(), Some("EUR"));
        create(&store, t, &laptop("LT-2")).await;
        let licence = AssetDraft {
            kind: AssetKind::Software,
            name: "Payroll licence".into(),
            serial_number: String::new(),
            location: "Cloud".into(),
            warranty_expires: None,
            licence_seats: Some(10),
            seats_in_use: Some(12),
            licence_expires: Some(in_days(200)),
            ..laptop("SW-1")
        }
        .validate()
        .expect("licence");
        let sw = create(&store, t, &licence).await;
        assert_eq!(sw.compliance(), Compliance::OverDeployed { over: 2 });

        // The same tag, in another case, is refused.
        let taken = store
            .create_asset(t, &laptop("lt-1"), AssetStatus::InStock, &Actor::cli())
            .await
            .expect_err("tag taken");
        assert!(matches!(taken, StoreError::Invalid(ref i) if i.message_for("tag").is_some()));

        let page = PageRequest::default();
        let all = store
            .assets(t, &AssetFilter::default(), &page)
            .await
            .expect("list");
        let tags: Vec<&str> = all.items.iter().map(|a| a.tag.as_str()).collect();
        assert_eq!(tags, ["LT-1", "LT-2", "SW-1"]);
        let filter = |f: AssetFilter| {
            let store = store.clone();
            async move {
                store
                    .assets(t, &f, &PageRequest::default())
                    .await
                    .expect("list")
                    .items
                    .into_iter()
                    .map(|a| a.tag)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            filter(AssetFilter {
                kind: Some(AssetKind::Software),
                ..Default::default()
            })
            .await,
            ["SW-1"]
        );
        assert_eq!(
            filter(AssetFilter {
                owner_id: Some(owner),
                ..Default::default()
            })
            .await,
            ["LT-1"]
        );
        assert_eq!(
            filter(AssetFilter {
                q: Some("sn-lt-2".into()),
                ..Default::default()
            })
            .await,
            ["LT-2"]
        );
        assert_eq!(
            filter(AssetFilter {
                location: Some("cloud".into()),
                ..Default::default()
            })
            .await,
            ["SW-1"]
        );
        assert_eq!(
            filter(AssetFilter {
                expiring_within: Some(300),
                ..Default::default()
            })
            .await,
            ["SW-1"]
        );
        // Keyset pages: two, then one.
        let first = store
            .assets(
                t,
                &AssetFilter::default(),
                &PageRequest {
                    limit: Some(2),
                    cursor: None,
                },
            )
            .await
            .expect("page");
        assert_eq!(first.items.len(), 2);
        let second = store
            .assets(
                t,
                &AssetFilter::default(),
                &PageRequest {
                    limit: Some(2),
                    cursor: first.next_cursor,
                },
            )
            .await
            .expect("page");
        assert_eq!(second.items[0].tag, "SW-1");

        // Optimistic concurrency: a write from a stale read is refused.
        let renamed = AssetDraft {
            name: "Renamed".into(),
            ..a.draft()
        };
        let saved = store
            .update_asset(t, a.id, a.updated_at, &renamed, &Actor::cli())
            .await
            .expect("update");
        assert_eq!(saved.name, "Renamed");
        let stale = store
            .update_asset(t, a.id, a.updated_at, &renamed, &Actor::cli())
            .await
            .expect_err("stale");
        assert!(matches!(stale, StoreError::Conflict(_)));
        // An owner of another organisation is refused.
        let other = tenant(&store, "Other").await;
        let stranger = user(&store, other, "bob@example.org", Role::Agent).await;
        let refused = store
            .update_asset(
                t,
                a.id,
                saved.updated_at,
                &AssetDraft {
                    owner_id: Some(stranger),
                    ..saved.draft()
                },
                &Actor::cli(),
            )
            .await
            .expect_err("foreign owner");
        assert!(matches!(refused, StoreError::Invalid(_)));
    }
);

both_backends!(
    tenants_do_not_see_each_others_assets,
    |store: Store| async move {
        let a = tenant(&store, "Acme").await;
        let b = tenant(&store, "Beta").await;
        let mine = create(&store, a, &laptop("LT-1")).await;
        // The same tag is free in another organisation.
        create(&store, b, &laptop("LT-1")).await;
        assert!(matches!(
            store.asset(b, mine.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .move_asset(b, mine.id, AssetStatus::Deployed, &Actor::cli())
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .update_asset(b, mine.id, mine.updated_at, &mine.draft(), &Actor::cli())
                .await,
            Err(StoreError::NotFound)
        ));
        let listed = store
            .assets(b, &AssetFilter::default(), &PageRequest::default())
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 1);
        assert_ne!(listed.items[0].id, mine.id);
        // A CI of organisation A cannot be linked from B.
        let theirs = ci(&store, a, "web-01").await;
        let b_asset = &listed.items[0];
        assert!(matches!(
            store
                .set_asset_cis(b, b_asset.id, &[theirs], &Actor::cli())
                .await,
            Err(StoreError::Invalid(_))
        ));
    }
);

both_backends!(
    moves_follow_the_lifecycle_and_are_journaled,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let a = create(&store, t, &laptop("LT-1")).await;
        let cli = Actor::cli();
        let deployed = store
            .move_asset(t, a.id, AssetStatus::Deployed, &cli)
            .await
            .expect("deploy");
        assert_eq!(deployed.status, AssetStatus::Deployed);
        store
            .move_asset(t, a.id, AssetStatus::InRepair, &cli)
            .await
            .expect("repair");
        store
            .move_asset(t, a.id, AssetStatus::Deployed, &cli)
            .await
            .expect("back");
        let refused = store
            .move_asset(t, a.id, AssetStatus::Disposed, &cli)
            .await
            .expect_err("deployed cannot be disposed");
        assert!(matches!(refused, StoreError::Conflict(ref m) if m.contains("deployed")));
        store
            .move_asset(t, a.id, AssetStatus::Retired, &cli)
            .await
            .expect("retire");
        let gone = store
            .move_asset(t, a.id, AssetStatus::Disposed, &cli)
            .await
            .expect("dispose");
        assert!(gone.status.is_terminal());
        assert!(
            store
                .move_asset(t, a.id, AssetStatus::InStock, &cli)
                .await
                .is_err()
        );
        let filter = JournalFilter {
            record_type: Some("asset".into()),
            record_id: Some(a.id),
            ..Default::default()
        };
        let entries = store
            .journal_entries(t, &filter, &PageRequest::default())
            .await
            .expect("journal");
        // Created, then five moves.
        assert_eq!(entries.items.len(), 6);
    }
);

both_backends!(links_to_cis_both_ways, |store: Store| async move {
    let t = tenant(&store, "Acme").await;
    let a = create(&store, t, &laptop("SRV-1")).await;
    let web = ci(&store, t, "web-01").await;
    let db = ci(&store, t, "db-01").await;
    let linked = store
        .set_asset_cis(t, a.id, &[db, web, web], &Actor::cli())
        .await
        .expect("link");
    let mut expected = vec![web, db];
    expected.sort_unstable();
    assert_eq!(linked.ci_ids, expected);
    let of_web = store.assets_of_ci(t, web).await.expect("assets of ci");
    assert_eq!(of_web.len(), 1);
    assert_eq!(of_web[0].id, a.id);
    let unlinked = store
        .set_asset_cis(t, a.id, &[db], &Actor::cli())
        .await
        .expect("unlink");
    assert_eq!(unlinked.ci_ids, vec![db]);
    assert!(store.assets_of_ci(t, web).await.expect("none").is_empty());
    let missing = store
        .set_asset_cis(t, a.id, &[999_999], &Actor::cli())
        .await
        .expect_err("no such CI");
    assert!(matches!(missing, StoreError::Invalid(ref i) if i.message_for("ci_ids").is_some()));
});

both_backends!(
    reminders_go_out_once_and_only_when_due,
    |store: Store| async move {
        let t = tenant(&store, "Acme").await;
        let owner = user(&store, t, "ann@example.org", Role::Agent).await;
        user(&store, t, "max@example.org", Role::Manager).await;
        let soon = create(
            &store,
            t,
            &AssetDraft {
                owner_id: Some(owner),
                warranty_expires: Some(in_days(10)),
                ..laptop("LT-SOON")
            },
        )
        .await;
        create(
            &store,
            t,
            &AssetDraft {
                warranty_expires: Some(in_days(90)),
                ..laptop("LT-LATER")
            },
        )
        .await;
        let ownerless = create(
            &store,
            t,
            &AssetDraft {
                warranty_expires: Some(in_days(20)),
                ..laptop("LT-NOBODY")
            },
        )
        .await;
        let expiring = store
            .expiring_assets(t, today_utc(), 30)
            .await
            .expect("expiring");
        let tags: Vec<&str> = expiring.iter().map(|a| a.tag.as_str()).collect();
        assert_eq!(tags, ["LT-NOBODY", "LT-SOON"]);

        let render = |r: &steward_store::asset::Reminder, name: &str| {
            (
                format!("{} {} ends in {} days", r.asset.tag, r.term, r.days_left),
                format!("Hello {name}"),
            )
        };
        let first = store
            .send_asset_reminders(t, today_utc(), 30, render)
            .await
            .expect("first run");
        assert_eq!(first.len(), 2);
        let second = store
            .send_asset_reminders(t, today_utc(), 30, render)
            .await
            .expect("second run");
        assert!(second.is_empty(), "sent again: {second:?}");
        let outbox = store.outbox(t).await.expect("outbox");
        assert_eq!(outbox.len(), 2, "{outbox:?}");
        let to_owner: Vec<_> = outbox
            .iter()
            .filter(|m| m.record_id == soon.id)
            .map(|m| (m.to_address.as_str(), m.subject.as_str()))
            .collect();
        assert_eq!(
            to_owner,
            [("ann@example.org", "LT-SOON warranty ends in 10 days")]
        );
        // Without an owner, the managers hear of it.
        assert!(
            outbox
                .iter()
                .any(|m| m.record_id == ownerless.id && m.to_address == "max@example.org")
        );
        assert!(first.iter().all(|r| r.term == Term::Warranty));
    }
);
