//! The CMDB on SQLite and, when `STEWARD_TEST_DATABASE_URL` is set, PostgreSQL: classes, CIs,
//! relationships, impact reports with services, customers and open records, and the in-memory
//! graph kept in step across nodes.

use serde_json::{Map, Value, json};
use steward_domain::cmdb::RelationshipTypeDraft;
use steward_domain::cmdb::{CiClassDraft, CiDraft, CiStatus, Dependency, Direction};
use steward_domain::customer::CustomerDraft;
use steward_domain::request::{FieldKind, FormField};
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_store::cmdb::bulk::NewRelationship;
use steward_store::cmdb::{CiClass, ImpactReport, ImpactRequest};
use steward_store::incident::IncidentFields;
use steward_store::testing::TestDb;
use steward_store::testing::tenant_id as tenant;
use steward_store::{Actor, Store, StoreError, both_backends};

fn field(name: &str, kind: FieldKind, required: bool) -> FormField {
    FormField {
        name: name.into(),
        label: name.into(),
        kind,
        required,
        options: Vec::new(),
    }
}

async fn class(store: &Store, t: i64, name: &str, attributes: Vec<FormField>) -> CiClass {
    let draft = CiClassDraft {
        name: name.into(),
        description: String::new(),
        attributes,
    }
    .validate()
    .expect("valid class");
    store
        .create_ci_class(t, &draft, &Actor::cli())
        .await
        .expect("class")
}

fn draft(class: &CiClass, name: &str, attributes: Value) -> CiDraft {
    let attributes: Map<String, Value> = attributes.as_object().cloned().unwrap_or_default();
    CiDraft {
        name: name.into(),
        class_id: class.id,
        status: CiStatus::InUse,
        description: String::new(),
        owner_id: None,
        team_id: None,
        external_id: None,
        service_ids: Vec::new(),
        attributes,
    }
    .validate(&class.name, &class.attributes)
    .expect("valid ci")
}

async fn ci(store: &Store, t: i64, class: &CiClass, name: &str) -> i64 {
    let attributes = if class.name == "Server" {
        json!({"hostname": name.to_lowercase()})
    } else {
        json!({})
    };
    store
        .create_ci(t, &draft(class, name, attributes), &Actor::cli())
        .await
        .expect("ci")
        .id
}

async fn relate(store: &Store, t: i64, source: i64, target: i64, kind: &str) -> i64 {
    store
        .create_ci_relationship(t, source, target, kind, &Actor::cli())
        .await
        .expect("relationship")
        .id
}

fn downstream(ci_id: i64) -> ImpactRequest {
    ImpactRequest {
        ci_id,
        direction: Direction::Downstream,
        depth: None,
        limit: 100,
    }
}

fn reached(report: &ImpactReport) -> Vec<(String, u32)> {
    report
        .items
        .iter()
        .map(|i| (i.name.clone(), i.depth))
        .collect()
}

/// A small estate: a switch two servers depend on, a database on one, an application that
/// runs on the other and uses the database, and a rack holding the first server.
struct Estate {
    t: i64,
    switch: i64,
    web01: i64,
    db01: i64,
    payroll_db: i64,
    payroll_app: i64,
    rack: i64,
}

async fn estate(store: &Store) -> Estate {
    let t = tenant(store, "Acme IT").await;
    let server = class(
        store,
        t,
        "Server",
        vec![
            field("hostname", FieldKind::Text, true),
            field("ram_gb", FieldKind::Number, false),
        ],
    )
    .await;
    let network = class(store, t, "Network device", Vec::new()).await;
    let app = class(store, t, "Application", Vec::new()).await;
    let database = class(store, t, "Database", Vec::new()).await;
    let switch = ci(store, t, &network, "Core switch").await;
    let rack = ci(store, t, &network, "Rack A1").await;
    let web01 = ci(store, t, &server, "WEB01").await;
    let db01 = ci(store, t, &server, "DB01").await;
    let payroll_db = ci(store, t, &database, "Payroll DB").await;
    let payroll_app = ci(store, t, &app, "Payroll app").await;
    relate(store, t, web01, switch, "depends_on").await;
    relate(store, t, db01, switch, "depends_on").await;
    relate(store, t, payroll_db, db01, "runs_on").await;
    relate(store, t, payroll_app, web01, "runs_on").await;
    relate(store, t, payroll_app, payroll_db, "depends_on").await;
    relate(store, t, rack, web01, "contains").await;
    Estate {
        t,
        switch,
        web01,
        db01,
        payroll_db,
        payroll_app,
        rack,
    }
}

both_backends!(
    downstream_impact_follows_dependency,
    |store: Store| async move {
        let e = estate(&store).await;
        let report = store
            .ci_impact(e.t, downstream(e.switch))
            .await
            .expect("impact");
        assert_eq!(
            reached(&report),
            [
                ("WEB01".to_owned(), 1),
                ("DB01".to_owned(), 1),
                ("Payroll DB".to_owned(), 2),
                ("Payroll app".to_owned(), 2),
            ]
        );
        assert_eq!(report.total, 4);
        assert!(!report.cut_off);
        let app = report
            .items
            .iter()
            .find(|i| i.id == e.payroll_app)
            .expect("app reached");
        assert_eq!(app.class, "Application");
        assert_eq!(app.path.ci_ids, [e.switch, e.web01, e.payroll_app]);

        // The rack holds WEB01, so WEB01 and what runs on it depend on the rack.
        let rack = store
            .ci_impact(e.t, downstream(e.rack))
            .await
            .expect("impact");
        assert_eq!(
            reached(&rack),
            [("WEB01".to_owned(), 1), ("Payroll app".to_owned(), 2)]
        );

        // Upstream of the application: everything it needs.
        let needs = store
            .ci_impact(
                e.t,
                ImpactRequest {
                    direction: Direction::Upstream,
                    ..downstream(e.payroll_app)
                },
            )
            .await
            .expect("impact");
        let mut names: Vec<String> = needs.items.iter().map(|i| i.name.clone()).collect();
        names.sort();
        assert_eq!(
            names,
            ["Core switch", "DB01", "Payroll DB", "Rack A1", "WEB01"]
        );

        // A depth limit cuts the answer off and says so.
        let near = store
            .ci_impact(
                e.t,
                ImpactRequest {
                    depth: Some(1),
                    ..downstream(e.switch)
                },
            )
            .await
            .expect("impact");
        assert_eq!(near.total, 2);
        assert!(near.cut_off);
        assert!(store.verify_journal().await.expect("verify").is_ok());
    }
);

both_backends!(
    impact_names_services_customers_and_open_records,
    |store: Store| async move {
        let e = estate(&store).await;
        let cli = Actor::cli();
        let payroll = store
            .create_service(
                e.t,
                &ServiceDraft {
                    name: "Payroll".into(),
                    description: String::new(),
                    owner_id: None,
                    criticality: Criticality::High,
                    status: ServiceStatus::Live,
                },
                &cli,
            )
            .await
            .expect("service");
        let finance = store
            .create_customer(
                e.t,
                &CustomerDraft {
                    name: "Finance".into(),
                    notes: String::new(),
                },
                &cli,
            )
            .await
            .expect("customer");
        store
            .set_service_customers(e.t, payroll.id, &[finance.id], &cli)
            .await
            .expect("customers");
        let app = store.ci(e.t, e.payroll_app).await.expect("app");
        let app_class = store.ci_class(e.t, app.class_id).await.expect("class");
        let app_draft = CiDraft {
            service_ids: vec![payroll.id],
            ..draft(&app_class, &app.name, json!({}))
        };
        let updated = store
            .update_ci(e.t, e.payroll_app, &app_draft, &cli)
            .await
            .expect("update");
        assert_eq!(updated.service_ids, [payroll.id]);

        let incident = store
            .create_incident(e.t, &IncidentFields::new("Payroll DB slow", 0), &cli)
            .await
            .expect("incident");
        store
            .set_record_cis(e.t, "incident", incident.id, &[e.payroll_db], &cli)
            .await
            .expect("link");
        assert_eq!(
            store
                .cis_of_record(e.t, "incident", incident.id)
                .await
                .expect("cis"),
            [e.payroll_db]
        );

        let report = store
            .ci_impact(e.t, downstream(e.db01))
            .await
            .expect("impact");
        let services: Vec<&str> = report.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(services, ["Payroll"]);
        let customers: Vec<&str> = report.customers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(customers, ["Finance"]);
        assert_eq!(report.open_records.len(), 1);
        assert_eq!(report.open_records[0].key, incident.key());
        assert_eq!(report.open_records[0].ci_id, e.payroll_db);

        // The switch's report names them too; the rack's does not reach the database.
        let rack = store
            .ci_impact(e.t, downstream(e.rack))
            .await
            .expect("impact");
        assert!(rack.open_records.is_empty());
        assert_eq!(rack.services.len(), 1, "the app runs on WEB01, in the rack");
        assert!(store.verify_journal().await.expect("verify").is_ok());
    }
);

both_backends!(
    cycles_and_custom_types_are_followed_once,
    |store: Store| async move {
        let e = estate(&store).await;
        // A cycle: the database now also depends on the application.
        relate(&store, e.t, e.payroll_db, e.payroll_app, "depends_on").await;
        let kind = RelationshipTypeDraft {
            name: "replicates_to".into(),
            label: "replicates to".into(),
            reverse_label: "is replicated from".into(),
            dependency: Dependency::TargetOnSource,
        }
        .validate()
        .expect("valid type");
        store
            .create_relationship_type(e.t, &kind, &Actor::cli())
            .await
            .expect("type");
        let types = store.relationship_types(e.t).await.expect("types");
        assert!(
            types
                .iter()
                .any(|t| t.name == "depends_on" && t.id.is_none())
        );
        assert!(
            types
                .iter()
                .any(|t| t.name == "replicates_to" && t.id.is_some())
        );
        // DB01 replicates to WEB01: WEB01 (the replica) depends on DB01.
        relate(&store, e.t, e.db01, e.web01, "replicates_to").await;
        let report = store
            .ci_impact(e.t, downstream(e.db01))
            .await
            .expect("impact");
        assert_eq!(
            reached(&report),
            [
                ("WEB01".to_owned(), 1),
                ("Payroll DB".to_owned(), 1),
                ("Payroll app".to_owned(), 2),
            ]
        );
    }
);

fn invalid<T>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::Invalid(_)))
}

both_backends!(
    bad_relationships_and_lifecycle_moves_are_refused,
    |store: Store| async move {
        let e = estate(&store).await;
        let other = tenant(&store, "Globex").await;
        let cli = Actor::cli();
        assert!(invalid(
            store
                .create_ci_relationship(e.t, e.web01, e.web01, "depends_on", &cli)
                .await
        ));
        assert!(invalid(
            store
                .create_ci_relationship(e.t, e.web01, e.switch, "depends_on", &cli)
                .await
        ));
        assert!(invalid(
            store
                .create_ci_relationship(e.t, e.web01, e.switch, "loves", &cli)
                .await
        ));
        assert!(invalid(
            store
                .create_ci_relationship(other, e.web01, e.switch, "depends_on", &cli)
                .await
        ));
        assert!(matches!(
            store.ci_impact(other, downstream(e.switch)).await,
            Err(StoreError::NotFound)
        ));

        let web = store.ci(e.t, e.web01).await.expect("ci");
        let server = store.ci_class(e.t, web.class_id).await.expect("class");
        let retire = CiDraft {
            status: CiStatus::Retired,
            ..draft(&server, "WEB01", json!({"hostname": "web01"}))
        };
        store
            .update_ci(e.t, e.web01, &retire, &cli)
            .await
            .expect("retire");
        let revive = draft(&server, "WEB01", json!({"hostname": "web01"}));
        assert!(matches!(
            store.update_ci(e.t, e.web01, &revive, &cli).await,
            Err(StoreError::Conflict(_))
        ));
        let taken = CiDraft {
            external_id: Some("X-1".into()),
            ..draft(&server, "WEB02", json!({"hostname": "web02"}))
        };
        store.create_ci(e.t, &taken, &cli).await.expect("first");
        assert!(invalid(store.create_ci(e.t, &taken, &cli).await));
    }
);

/// Two stores on one database stand for two nodes: each answers from its own copy of the
/// graph, and a change written through one is in the other's next answer.
async fn nodes_see_each_others_changes(db: TestDb) {
    let node_a = db.store.clone();
    let node_b = Store::open(&db.url).await.expect("second node");
    let e = estate(&node_a).await;
    // A node reads the graphs ahead when it starts; questions then find them current.
    assert_eq!(
        node_b.warm_graphs().await.expect("warm"),
        1,
        "one tenant has CIs"
    );
    let before = node_b
        .ci_impact(e.t, downstream(e.switch))
        .await
        .expect("impact");
    assert_eq!(before.total, 4);
    let web_link = node_a
        .ci_relationships_of(e.t, e.web01)
        .await
        .expect("relationships")
        .into_iter()
        .find(|r| r.target_id == e.switch)
        .expect("web01 depends on the switch");
    node_a
        .delete_ci_relationship(e.t, web_link.id, &Actor::cli())
        .await
        .expect("delete");
    let after = node_b
        .ci_impact(e.t, downstream(e.switch))
        .await
        .expect("impact");
    assert_eq!(
        reached(&after),
        [
            ("DB01".to_owned(), 1),
            ("Payroll DB".to_owned(), 2),
            ("Payroll app".to_owned(), 3),
        ]
    );
    let new_host = node_a.ci(e.t, e.db01).await.expect("db01");
    let server = node_a
        .ci_class(e.t, new_host.class_id)
        .await
        .expect("class");
    let db02 = node_a
        .create_ci(
            e.t,
            &draft(&server, "DB02", json!({"hostname": "db02"})),
            &Actor::cli(),
        )
        .await
        .expect("ci");
    relate(&node_a, e.t, db02.id, e.switch, "depends_on").await;
    let again = node_b
        .ci_impact(e.t, downstream(e.switch))
        .await
        .expect("impact");
    assert!(again.items.iter().any(|i| i.id == db02.id));
    assert_eq!(again.total, 4);

    // A bulk load moves the graph on without a log entry per change: B reads it whole again.
    let vms: Vec<CiDraft> = (0..3)
        .map(|n| {
            draft(
                &server,
                &format!("VM{n}"),
                json!({"hostname": format!("vm{n}")}),
            )
        })
        .collect();
    let ids = node_a
        .load_cis(e.t, &vms, &Actor::cli())
        .await
        .expect("bulk cis");
    let runs_on: Vec<NewRelationship> = ids
        .iter()
        .map(|&id| NewRelationship {
            source_id: id,
            target_id: db02.id,
            type_name: "runs_on".into(),
            dependency: Dependency::SourceOnTarget,
        })
        .collect();
    node_a
        .load_ci_relationships(e.t, &runs_on, &Actor::cli())
        .await
        .expect("bulk relationships");
    let bulk = node_b
        .ci_impact(e.t, downstream(db02.id))
        .await
        .expect("impact");
    assert_eq!(
        reached(&bulk),
        [
            ("VM0".to_owned(), 1),
            ("VM1".to_owned(), 1),
            ("VM2".to_owned(), 1)
        ]
    );

    // Housekeeping prunes the log: a node behind what is left reads its graph whole.
    relate(&node_a, e.t, ids[0], e.switch, "depends_on").await;
    assert!(node_a.prune_graph_log(i64::MAX).await.expect("prune") > 0);
    let pruned = node_b
        .ci_impact(e.t, downstream(e.switch))
        .await
        .expect("impact");
    assert!(pruned.items.iter().any(|i| i.id == ids[0]), "{pruned:?}");
    assert!(node_a.verify_journal().await.expect("verify").is_ok());
    db.finish().await;
}

#[tokio::test]
async fn nodes_see_each_others_changes_on_sqlite() {
    nodes_see_each_others_changes(TestDb::sqlite().await.expect("sqlite")).await;
}

#[tokio::test]
async fn nodes_see_each_others_changes_on_postgres() {
    if let Some(db) = TestDb::postgres().await.expect("postgres") {
        nodes_see_each_others_changes(db).await;
    }
}
