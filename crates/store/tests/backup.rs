//! Backups and restores: on each backend, across backends, refused when they would be unsafe,
//! and consistent while writes go on. PostgreSQL halves run when `STEWARD_TEST_DATABASE_URL`
//! is set.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use steward_domain::access::Role;
use steward_domain::customer::CustomerDraft;
use steward_domain::incident::{Level, Priority};
use steward_domain::problem::ProblemStatus;
use steward_domain::service::{Criticality, ServiceDraft, ServiceStatus};
use steward_domain::sla::{AgreementDraft, AgreementKind, RecordKind, Target};
use steward_domain::team::TeamDraft;
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::backup::{BackupSummary, TABLES};
use steward_store::category::CategoryChange;
use steward_store::incident::{Author, IncidentFields, IncidentFilter};
use steward_store::problem::ProblemFields;
use steward_store::testing::TestDb;
use steward_store::{Actor, PageRequest, Store, StoreError, both_backends};

const WORD: &str = "zeppelin";

fn incident(title: &str, description: &str) -> IncidentFields {
    IncidentFields {
        description: description.into(),
        ..IncidentFields::new(title, steward_store::now_micros())
    }
}

/// A tenant with a realistic mix of records, and a second tenant with a little.
async fn fill(store: &Store) {
    let cli = Actor::cli();
    let t = store
        .create_tenant(&new_tenant("Acme IT").expect("name"), &cli)
        .await
        .expect("tenant");
    let admin = store
        .create_user(
            t.id,
            &UserDraft {
                email: "ann@acme.test".into(),
                name: "Ann Admin".into(),
                role: Role::Admin,
                active: true,
            },
            Some("$argon2id$not-a-real-hash"),
            &cli,
        )
        .await
        .expect("admin");
    let agent = store
        .create_user(
            t.id,
            &UserDraft {
                email: "bob@acme.test".into(),
                name: "Bob Agent".into(),
                role: Role::Agent,
                active: false,
            },
            None,
            &cli,
        )
        .await
        .expect("agent");
    let actor = Actor::user(admin.id, &admin.email);
    let team = store
        .create_team(
            t.id,
            &TeamDraft {
                name: "Service Desk".into(),
                description: "First line".into(),
            },
            &actor,
        )
        .await
        .expect("team");
    let service = store
        .create_service(
            t.id,
            &ServiceDraft {
                name: "Mail".into(),
                description: "Mail for everyone — ünïcode ✓".into(),
                owner_id: Some(agent.id),
                criticality: Criticality::High,
                status: ServiceStatus::Live,
            },
            &actor,
        )
        .await
        .expect("service");
    let customer = store
        .create_customer(
            t.id,
            &CustomerDraft {
                name: "Globex".into(),
                notes: "Key account\nsecond line".into(),
            },
            &actor,
        )
        .await
        .expect("customer");
    // A category whose parent comes after it: a restore must not trip over the order.
    let child = store
        .create_category(t.id, None, "Hardware", &actor)
        .await
        .expect("category");
    let parent = store
        .create_category(t.id, None, "Workplace", &actor)
        .await
        .expect("category");
    store
        .update_category(
            t.id,
            child.id,
            &CategoryChange {
                name: None,
                parent_id: Some(Some(parent.id)),
                retired: None,
            },
            &actor,
        )
        .await
        .expect("move category");
    let agreement = AgreementDraft::new(
        "Standard",
        AgreementKind::Sla,
        RecordKind::Incident,
        vec![
            Target {
                metric: "first_response".into(),
                priority: None,
                minutes: 30,
            },
            Target {
                metric: "resolution".into(),
                priority: None,
                minutes: 480,
            },
        ],
    );
    store
        .create_agreement(t.id, &agreement.validate().expect("valid"), &actor)
        .await
        .expect("agreement");
    for n in 0..12 {
        let mut f = incident(&format!("Mail bounces {n}"), "Since the update");
        f.service_id = Some(service.id);
        f.customer_id = Some(customer.id);
        f.assignee_team_id = Some(team.id);
        f.category_id = Some(child.id);
        let inc = store
            .create_incident(t.id, &f, &actor)
            .await
            .expect("incident");
        if n % 3 == 0 {
            let body = if n == 6 {
                format!("The {WORD} is out of order")
            } else {
                "Looking into it".to_owned()
            };
            store
                .add_incident_comment(t.id, inc.id, &body, n % 2 == 0, Author::Agent, &actor)
                .await
                .expect("comment");
        }
    }
    store
        .create_problem(
            t.id,
            &ProblemFields {
                title: "Mail relay overloaded".into(),
                description: "Bounces every morning".into(),
                status: ProblemStatus::New,
                impact: Level::High,
                urgency: Level::Medium,
                priority: Priority::P2,
                service_id: Some(service.id),
                assignee_id: Some(admin.id),
                root_cause: String::new(),
                workaround: String::new(),
                resolved_at: None,
                closed_at: None,
                category_id: None,
                custom: Default::default(),
            },
            &actor,
        )
        .await
        .expect("problem");
    let other = store
        .create_tenant(&new_tenant("Other").expect("name"), &cli)
        .await
        .expect("tenant");
    store
        .create_incident(other.id, &incident("Printer jammed", ""), &cli)
        .await
        .expect("incident");
}

async fn backup(store: &Store) -> (Vec<u8>, BackupSummary) {
    let mut out = Vec::new();
    let summary = store.backup(&mut out, |_, _| {}).await.expect("backup");
    (out, summary)
}

async fn restore(store: &Store, file: &[u8]) -> Result<BackupSummary, StoreError> {
    store.restore(file, |_, _| {}).await
}

/// A table as a backup holds it, independent of the backend that wrote it: columns by name,
/// rows sorted.
type Tables = BTreeMap<String, (Vec<String>, Vec<Vec<Value>>)>;

fn contents(file: &[u8]) -> Tables {
    let text = std::str::from_utf8(file).expect("utf-8");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("header")).expect("json");
    assert_eq!(header["format"], "steward-backup");
    let mut tables = Tables::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let mut ended = false;
    for line in lines {
        let value: Value = serde_json::from_str(line).expect("json line");
        match value {
            Value::Array(row) => {
                let (table, columns) = current.as_ref().expect("table first");
                let mut pairs: Vec<(String, Value)> = columns.iter().cloned().zip(row).collect();
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                let entry = tables.get_mut(table).expect("table");
                entry.1.push(pairs.into_iter().map(|p| p.1).collect());
            }
            Value::Object(o) if o.contains_key("end") => ended = true,
            Value::Object(o) => {
                let table = o["table"].as_str().expect("name").to_owned();
                let columns: Vec<String> = o["columns"]
                    .as_array()
                    .expect("columns")
                    .iter()
                    .map(|c| c.as_str().expect("column").to_owned())
                    .collect();
                let mut sorted = columns.clone();
                sorted.sort();
                tables.insert(table.clone(), (sorted, Vec::new()));
                current = Some((table, columns));
            }
            other => panic!("unexpected line {other}"),
        }
    }
    assert!(ended, "trailer");
    for (_, rows) in tables.values_mut() {
        rows.sort_by_key(|r| serde_json::to_string(r).unwrap_or_default());
    }
    tables
}

/// The restored database holds what the original held, its journal verifies, search works,
/// and it takes new writes (ids and numbers continue after the restored ones).
async fn assert_restored(original: &Tables, restored: &Store) {
    let (file, _) = backup(restored).await;
    let again = contents(&file);
    assert_eq!(
        original.keys().collect::<Vec<_>>(),
        again.keys().collect::<Vec<_>>()
    );
    for (table, data) in original {
        assert_eq!(data, &again[table], "table {table} differs after restore");
    }
    assert!(original["journal"].1.len() > 20);
    assert!(
        matches!(restored.verify_journal().await.expect("verify"), Ok(n) if n as usize == original["journal"].1.len()),
        "journal chain"
    );
    let acme = restored.tenant_by_slug("acme-it").await.expect("tenant");
    let found = restored
        .incidents(
            acme.id,
            &IncidentFilter {
                q: Some(WORD.into()),
                ..Default::default()
            },
            &PageRequest::default(),
        )
        .await
        .expect("search");
    assert_eq!(found.items.len(), 1, "full-text search after restore");
    assert_eq!(found.items[0].title, "Mail bounces 6");
    let next = restored
        .create_incident(acme.id, &incident("After the restore", ""), &Actor::cli())
        .await
        .expect("write after restore");
    assert_eq!(next.number, 13);
    assert!(restored.verify_journal().await.expect("verify").is_ok());
}

/// Values of one column of a table in `contents`.
fn column<'a>(tables: &'a Tables, table: &str, name: &str) -> Vec<&'a Value> {
    let (columns, rows) = &tables[table];
    let at = columns.iter().position(|c| c == name).expect("column");
    rows.iter().map(|r| &r[at]).collect()
}

/// What a snapshot taken between two commits always shows: every journal head at its
/// tenant's last entry, and one incident per journaled incident create.
fn assert_consistent(tables: &Tables) {
    let heads: BTreeMap<i64, i64> = column(tables, "journal_heads", "tenant_id")
        .into_iter()
        .zip(column(tables, "journal_heads", "seq"))
        .map(|(t, s)| (t.as_i64().expect("id"), s.as_i64().expect("seq")))
        .collect();
    let mut last: BTreeMap<i64, i64> = BTreeMap::new();
    for (t, s) in column(tables, "journal", "tenant_id")
        .into_iter()
        .zip(column(tables, "journal", "seq"))
    {
        let entry = last.entry(t.as_i64().expect("id")).or_default();
        *entry = (*entry).max(s.as_i64().expect("seq"));
    }
    assert_eq!(
        heads, last,
        "journal heads and entries from different moments"
    );
    let creates = column(tables, "journal", "record_type")
        .into_iter()
        .zip(column(tables, "journal", "action"))
        .filter(|(r, a)| *r == "incident" && *a == "create")
        .count();
    assert_eq!(
        creates,
        tables["incidents"].1.len(),
        "incidents and journal from different moments"
    );
}

both_backends!(the_table_list_is_the_schema, |store: Store| async move {
    let real: BTreeSet<String> = store
        .schema_outline()
        .await
        .expect("outline")
        .into_iter()
        .map(|(table, _)| table)
        .collect();
    let listed: BTreeSet<String> = TABLES.iter().map(|t| (*t).to_owned()).collect();
    assert_eq!(
        listed, real,
        "backup::TABLES must list every table of the schema (in foreign-key order)"
    );
    assert_eq!(listed.len(), TABLES.len(), "a table listed twice");
});

both_backends!(
    a_backup_restores_into_an_empty_database,
    |store: Store| async move {
        fill(&store).await;
        let (file, summary) = backup(&store).await;
        assert_eq!(summary.tables, TABLES.len());
        assert_eq!(summary.bytes, file.len() as u64);
        let original = contents(&file);
        assert_eq!(
            summary.rows,
            original.values().map(|t| t.1.len() as u64).sum::<u64>()
        );
        assert!(!original["sla_clocks"].1.is_empty());
        assert_consistent(&original);
        let target = match store.backend() {
            steward_store::Backend::Sqlite => TestDb::sqlite().await.expect("sqlite"),
            steward_store::Backend::Postgres => TestDb::postgres()
                .await
                .expect("postgres")
                .expect("configured"),
        };
        let restored = restore(&target.store, &file).await.expect("restore");
        assert_eq!(restored.rows, summary.rows);
        assert_restored(&original, &target.store).await;
        target.finish().await;
    }
);

#[tokio::test]
async fn backups_cross_backends() {
    let Some(pg) = TestDb::postgres().await.expect("postgres") else {
        return;
    };
    // SQLite into PostgreSQL.
    let lite = TestDb::sqlite().await.expect("sqlite");
    fill(&lite.store).await;
    let (file, _) = backup(&lite.store).await;
    restore(&pg.store, &file)
        .await
        .expect("restore into postgres");
    assert_restored(&contents(&file), &pg.store).await;
    // PostgreSQL, filled natively, into SQLite.
    let source = TestDb::postgres()
        .await
        .expect("postgres")
        .expect("configured");
    fill(&source.store).await;
    let (file, _) = backup(&source.store).await;
    let target = TestDb::sqlite().await.expect("sqlite");
    restore(&target.store, &file)
        .await
        .expect("restore into sqlite");
    assert_restored(&contents(&file), &target.store).await;
    for db in [lite, pg, source, target] {
        db.finish().await;
    }
}

both_backends!(unsafe_restores_are_refused, |store: Store| async move {
    fill(&store).await;
    let (file, _) = backup(&store).await;

    // Into a database that has data: refused, and nothing changes.
    let err = restore(&store, &file).await.expect_err("not empty");
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(contents(&backup(&store).await.0), contents(&file));

    let empty = match store.backend() {
        steward_store::Backend::Sqlite => TestDb::sqlite().await.expect("sqlite"),
        steward_store::Backend::Postgres => TestDb::postgres()
            .await
            .expect("postgres")
            .expect("configured"),
    };
    let (nothing, _) = backup(&empty.store).await;
    let text = String::from_utf8(file.clone()).expect("utf-8");

    // A file cut short, at a line or in the middle of one: refused, the database stays empty.
    let lines: Vec<&str> = text.lines().collect();
    let without_trailer = lines[..lines.len() - 1].join("\n");
    let err = restore(&empty.store, without_trailer.as_bytes())
        .await
        .expect_err("truncated");
    assert!(err.to_string().contains("truncated"), "{err}");
    let cut = &file[..file.len() * 2 / 3];
    assert!(restore(&empty.store, cut).await.is_err());
    // A row dropped (the trailer's counts no longer match).
    let journal_row = lines
        .iter()
        .position(|l| l.starts_with("{\"table\":\"journal\""))
        .expect("journal table")
        + 1;
    let mut edited = lines.clone();
    edited.remove(journal_row);
    let err = restore(&empty.store, edited.join("\n").as_bytes())
        .await
        .expect_err("row missing");
    assert!(err.to_string().contains("end marker says"), "{err}");
    // Another schema version, or not a backup at all.
    let other_version = text.replacen("\"schema_version\":", "\"schema_version\":9", 1);
    let err = restore(&empty.store, other_version.as_bytes())
        .await
        .expect_err("schema version");
    assert!(err.to_string().contains("schema version"), "{err}");
    let err = restore(&empty.store, format!("{text}[1]\n").as_bytes())
        .await
        .expect_err("more after the end");
    assert!(err.to_string().contains("after the end marker"), "{err}");
    let err = restore(&empty.store, &b"hello\n"[..])
        .await
        .expect_err("not a backup");
    assert!(
        err.to_string().contains("not a usable Steward backup"),
        "{err}"
    );
    assert_eq!(contents(&backup(&empty.store).await.0), contents(&nothing));

    // The intact file still restores there afterwards.
    restore(&empty.store, &file).await.expect("restore");
    assert_eq!(contents(&backup(&empty.store).await.0), contents(&file));
    empty.finish().await;
});

both_backends!(
    a_backup_while_writing_is_consistent,
    |store: Store| async move {
        fill(&store).await;
        let acme = store.tenant_by_slug("acme-it").await.expect("tenant");
        let before = contents(&backup(&store).await.0)["journal"].1.len();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    for n in 0..40 {
                        let title = format!("Concurrent {w}-{n}");
                        store
                            .create_incident(acme.id, &incident(&title, "busy"), &Actor::cli())
                            .await
                            .expect("create while backing up");
                    }
                })
            })
            .collect();
        // Back up again and again while the writers run; keep the backups taken mid-way.
        let mut taken = Vec::new();
        while writers.iter().any(|w| !w.is_finished()) {
            taken.push(backup(&store).await.0);
            tokio::task::yield_now().await;
        }
        for w in writers {
            w.await.expect("writer");
        }
        let after = contents(&backup(&store).await.0)["journal"].1.len();
        assert_eq!(after, before + 160);
        let during: Vec<Vec<u8>> = taken
            .into_iter()
            .filter(|f| {
                let n = contents(f)["journal"].1.len();
                n > before && n < after
            })
            .collect();
        assert!(!during.is_empty(), "no backup ran while the writers wrote");
        for file in &during {
            assert_consistent(&contents(file));
        }
        // Each of them restores to a journal whose chains verify: a consistent snapshot.
        for file in during.iter().rev().take(2) {
            let target = match store.backend() {
                steward_store::Backend::Sqlite => TestDb::sqlite().await.expect("sqlite"),
                steward_store::Backend::Postgres => TestDb::postgres()
                    .await
                    .expect("postgres")
                    .expect("configured"),
            };
            restore(&target.store, file).await.expect("restore");
            let journal = contents(file)["journal"].1.len();
            assert_eq!(
                target.store.verify_journal().await.expect("verify"),
                Ok(journal as i64),
                "the restored journal chain verifies"
            );
            target.finish().await;
        }
    }
);
