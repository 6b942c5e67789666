//! CMDB baselines on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL: a
//! service's scope, diffs between two baselines, and a CI as it was at a past moment.

use serde_json::json;
use std::time::Duration;
use steward_domain::cmdb::baseline::BaselineDraft;
use steward_domain::cmdb::{CiClassDraft, CiDraft, CiStatus};
use steward_domain::request::{FieldKind, FormField};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::tenant::new_tenant;
use steward_store::cmdb::{Ci, CiClass};
use steward_store::journal::JournalFilter;
use steward_store::{Actor, PageRequest, Store, both_backends, now_micros};

/// A tenant with one CI class whose CIs this test makes and edits.
struct Cmdb {
    store: Store,
    t: i64,
    class: CiClass,
    actor: Actor,
}

impl Cmdb {
    async fn new(store: Store) -> Cmdb {
        let actor = Actor::cli();
        let t = store
            .create_tenant(&new_tenant("Baseline Co").expect("tenant name"), &actor)
            .await
            .expect("tenant")
            .id;
        let attribute = |name: &str, kind| FormField {
            name: name.into(),
            label: name.into(),
            kind,
            required: false,
            options: Vec::new(),
        };
        let schema = CiClassDraft {
            name: "Node".into(),
            description: String::new(),
            attributes: vec![
                attribute("hostname", FieldKind::Text),
                attribute("ram_gb", FieldKind::Number),
            ],
        };
        let class = store
            .create_ci_class(t, &schema.validate().expect("class"), &actor)
            .await
            .expect("class");
        Cmdb {
            store,
            t,
            class,
            actor,
        }
    }

    /// `ci`'s fields as a draft for `update_ci`, after `edit`.
    fn redraft(&self, ci: &Ci, edit: impl FnOnce(&mut CiDraft)) -> CiDraft {
        let mut draft = ci.draft();
        edit(&mut draft);
        draft
            .validate(&self.class.name, &self.class.attributes)
            .expect("valid draft")
    }

    async fn add(&self, name: &str, service_ids: Vec<i64>) -> Ci {
        let blank = Ci {
            id: 0,
            class_id: self.class.id,
            name: name.into(),
            status: CiStatus::InUse,
            description: String::new(),
            owner_id: None,
            team_id: None,
            external_id: None,
            attributes: json!({"hostname": name, "ram_gb": 16})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            service_ids,
            verified_at: None,
            created_at: 0,
            updated_at: 0,
        };
        let draft = self.redraft(&blank, |_| {});
        self.store
            .create_ci(self.t, &draft, &self.actor)
            .await
            .expect("create ci")
    }

    async fn edit(&self, ci: &Ci, edit: impl FnOnce(&mut CiDraft)) -> Ci {
        let draft = self.redraft(ci, edit);
        self.store
            .update_ci(self.t, ci.id, &draft, &self.actor)
            .await
            .expect("update ci")
    }

    async fn relate(&self, source: &Ci, target: &Ci, kind: &str) {
        self.store
            .create_ci_relationship(self.t, source.id, target.id, kind, &self.actor)
            .await
            .expect("relationship");
    }

    async fn take(&self, name: &str, service_id: Option<i64>) -> i64 {
        let draft = BaselineDraft {
            name: name.into(),
            description: String::new(),
            service_id,
        }
        .validate()
        .expect("draft");
        self.store
            .take_baseline(self.t, &draft, &self.actor)
            .await
            .expect("baseline")
            .id
    }

    async fn ids_in(&self, baseline: i64) -> Vec<i64> {
        let items = self
            .store
            .baseline_items(self.t, baseline)
            .await
            .expect("items");
        items.cis.into_keys().collect()
    }
}

/// Lets the clock move on, so that journal entries on either side of a moment differ in time.
async fn tick() -> i64 {
    tokio::time::sleep(Duration::from_millis(3)).await;
    let now = now_micros();
    tokio::time::sleep(Duration::from_millis(3)).await;
    now
}

both_backends!(
    a_service_baseline_takes_what_it_runs_on,
    |store: Store| async move {
        let c = Cmdb::new(store).await;
        let service = c
            .store
            .create_service(
                c.t,
                &ServiceDraft {
                    name: "Payroll".into(),
                    description: String::new(),
                    owner_id: None,
                    criticality: Criticality::High,
                    status: ServiceStatus::Live,
                },
                &c.actor,
            )
            .await
            .expect("service");
        let app = c.add("payroll-app", vec![service.id]).await;
        let host = c.add("host01", Vec::new()).await;
        let switch = c.add("switch01", Vec::new()).await;
        let portal = c.add("portal", Vec::new()).await;
        let stray = c.add("stray01", Vec::new()).await;
        c.relate(&app, &host, "runs_on").await;
        c.relate(&host, &switch, "depends_on").await;
        // The portal depends on the application: downstream of the service, not part of it.
        c.relate(&portal, &app, "depends_on").await;

        let scoped = c.take("Payroll stack", Some(service.id)).await;
        assert_eq!(c.ids_in(scoped).await, [app.id, host.id, switch.id]);
        let header = c.store.baseline(c.t, scoped).await.expect("header");
        assert_eq!((header.ci_count, header.service_id), (3, Some(service.id)));
        let items = c.store.baseline_items(c.t, scoped).await.expect("items");
        assert_eq!(items.cis[&app.id].service_ids, [service.id]);
        assert_eq!(items.cis[&host.id].relationships[0].target_id, switch.id);

        let whole = c.take("Everything", None).await;
        assert_eq!(
            c.ids_in(whole).await,
            [app.id, host.id, switch.id, portal.id, stray.id]
        );
        let first = PageRequest {
            limit: Some(2),
            cursor: None,
        };
        let page = c
            .store
            .baseline_page(c.t, whole, &first)
            .await
            .expect("page");
        assert_eq!(page.items.len(), 2);
        let rest = PageRequest {
            limit: Some(10),
            cursor: page.next_cursor,
        };
        let page = c
            .store
            .baseline_page(c.t, whole, &rest)
            .await
            .expect("page");
        assert_eq!(page.items.len(), 3);
        let listed = c.store.baselines(c.t, &first).await.expect("list");
        assert_eq!(listed.items[0].id, whole, "newest first");

        let nowhere = BaselineDraft {
            name: "Nothing".into(),
            description: String::new(),
            service_id: Some(service.id + 100),
        };
        assert!(
            c.store
                .take_baseline(c.t, &nowhere, &c.actor)
                .await
                .is_err()
        );
        assert!(c.store.baseline(c.t + 1, scoped).await.is_err());
    }
);

both_backends!(
    a_diff_shows_exactly_what_changed,
    |store: Store| async move {
        let c = Cmdb::new(store).await;
        let db = c.add("db01", Vec::new()).await;
        let web = c.add("web01", Vec::new()).await;
        let old = c.add("old01", Vec::new()).await;
        let before = c.take("Before", None).await;
        let same = c.take("Same", None).await;
        assert!(
            c.store
                .diff_baselines(c.t, before, same)
                .await
                .expect("diff")
                .is_empty()
        );

        c.edit(&db, |d| d.name = "db01-primary".into()).await;
        c.edit(&web, |d| {
            d.attributes.insert("ram_gb".into(), json!(64));
        })
        .await;
        let new = c.add("new01", Vec::new()).await;
        c.edit(&old, |d| d.status = CiStatus::Retired).await;
        let after = c.take("After", None).await;

        let diff = c
            .store
            .diff_baselines(c.t, before, after)
            .await
            .expect("diff");
        let ids = |list: &[steward_domain::cmdb::baseline::CiSnapshot]| {
            list.iter().map(|ci| ci.id).collect::<Vec<_>>()
        };
        assert_eq!(ids(&diff.added), [new.id]);
        assert_eq!(
            ids(&diff.removed),
            [old.id],
            "a retired CI leaves the baseline"
        );
        let changed: Vec<(i64, String, serde_json::Value, serde_json::Value)> = diff
            .changed
            .iter()
            .flat_map(|ci| {
                ci.changes
                    .iter()
                    .map(|f| (ci.ci_id, f.field.clone(), f.before.clone(), f.after.clone()))
            })
            .collect();
        assert_eq!(
            changed,
            [
                (db.id, "name".into(), json!("db01"), json!("db01-primary")),
                (web.id, "attributes.ram_gb".into(), json!(16.0), json!(64.0)),
            ]
        );

        let journaled = c
            .store
            .journal_entries(
                c.t,
                &JournalFilter {
                    record_type: Some("ci_baseline".into()),
                    ..Default::default()
                },
                &PageRequest::default(),
            )
            .await
            .expect("journal");
        assert_eq!(
            journaled.items.len(),
            3,
            "one entry per baseline, not per CI"
        );
        assert!(c.store.verify_journal().await.expect("verify").is_ok());
    }
);

both_backends!(
    a_ci_as_it_was_comes_from_the_journal,
    |store: Store| async move {
        let c = Cmdb::new(store).await;
        let before_it = tick().await;
        let ci = c.add("app01", Vec::new()).await;
        let created = tick().await;
        let renamed = c.edit(&ci, |d| d.name = "app01-v2".into()).await;
        let between = tick().await;
        c.edit(&renamed, |d| d.name = "app01-v3".into()).await;
        let after = tick().await;

        let as_of = |at| c.store.ci_as_of(c.t, ci.id, at);
        assert_eq!(as_of(before_it).await.expect("as of"), None);
        assert_eq!(as_of(created).await.expect("as of"), Some(ci.clone()));
        let then = as_of(between).await.expect("as of").expect("existed");
        assert_eq!(then.name, "app01-v2");
        assert_eq!(then, renamed);
        let now = as_of(after).await.expect("as of").expect("exists");
        assert_eq!(now.name, "app01-v3");
        assert_eq!(
            c.store
                .ci_as_of(c.t + 1, ci.id, after)
                .await
                .expect("as of"),
            None,
            "another tenant's CI"
        );
    }
);
