//! Bulk loads of requests and problems (what `steward bench generate` writes), on SQLite and,
//! when `STEWARD_TEST_DATABASE_URL` is set, on PostgreSQL: numbering continues after them, what
//! their statuses imply is there, the searchable parts are indexed, and the journal verifies.

use serde_json::{Map, Value, json};
use steward_domain::access::Role;
use steward_domain::incident::{Level, Priority, Source, Status};
use steward_domain::problem::{LinkKind, ProblemStatus, RecordKind};
use steward_domain::request::{
    Decision, FieldKind, FormField, ItemDraft, RequestStatus, TaskTemplate,
};
use steward_domain::tenant::new_tenant;
use steward_domain::user::UserDraft;
use steward_store::incident::IncidentFields;
use steward_store::journal::JournalFilter;
use steward_store::problem::{NewProblem, ProblemFields, ProblemFilter};
use steward_store::request::{
    CatalogueItem, NewRequest, RequestFields, RequestFilter, RequestValues,
};
use steward_store::{Actor, PageRequest, Store, both_backends};

const DAY: i64 = 86_400_000_000;
const ALL: PageRequest = PageRequest {
    limit: Some(500),
    cursor: None,
};

async fn item(store: &Store, t: i64, name: &str, approvers: Vec<i64>) -> CatalogueItem {
    let draft = ItemDraft {
        name: name.into(),
        description: String::new(),
        category: "Hardware".into(),
        fields: vec![FormField {
            name: "model".into(),
            label: "Model".into(),
            kind: FieldKind::Select,
            required: true,
            options: vec!["13-inch".into(), "15-inch".into()],
        }],
        approver_ids: approvers,
        tasks: vec![
            TaskTemplate {
                title: "Order it".into(),
                team_id: None,
            },
            TaskTemplate {
                title: "Hand it over".into(),
                team_id: None,
            },
        ],
        active: true,
    }
    .validate()
    .expect("valid item");
    store
        .save_item(t, None, &draft, &Actor::cli())
        .await
        .expect("item")
}

fn answers() -> Map<String, Value> {
    json!({ "model": "13-inch" })
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Request `i` of a load: statuses in turn (those needing approval only from `approved`),
/// with the times its status implies.
fn new_request<'a>(
    i: usize,
    approved: &'a CatalogueItem,
    direct: &'a CatalogueItem,
    now: i64,
) -> NewRequest<'a> {
    use RequestStatus::*;
    let status = RequestStatus::ALL[i % RequestStatus::ALL.len()];
    let item = if matches!(status, PendingApproval | Rejected) || i.is_multiple_of(2) {
        approved
    } else {
        direct
    };
    let opened_at = now - 30 * DAY + i64::try_from(i).unwrap_or(0);
    let decided_at =
        (!item.approver_ids.is_empty() && status != PendingApproval).then_some(opened_at + DAY);
    let fulfilled_at = matches!(status, Fulfilled | Closed).then_some(opened_at + 2 * DAY);
    NewRequest {
        item,
        values: RequestValues {
            title: item.name.clone(),
            answers: answers(),
            status,
            requester_user_id: None,
            opened_at,
            fulfilled_at,
            closed_at: status.is_terminal().then_some(opened_at + 3 * DAY),
            fields: RequestFields::default(),
        },
        decided_at,
    }
}

both_backends!(
    bulk_requests_continue_numbering_with_their_work,
    |store: Store| async move {
        let actor = Actor::cli();
        let t = store
            .create_tenant(&new_tenant("A").expect("name"), &actor)
            .await
            .expect("tenant")
            .id;
        let approver = store
            .create_user(
                t,
                &UserDraft {
                    email: "boss@example.org".into(),
                    name: "Boss".into(),
                    role: Role::Manager,
                    active: true,
                },
                None,
                &actor,
            )
            .await
            .expect("approver");
        let approved = item(&store, t, "New laptop", vec![approver.id]).await;
        let direct = item(&store, t, "Spare charger", Vec::new()).await;
        let before = store
            .create_request(
                t,
                &direct,
                &answers(),
                None,
                &RequestFields::default(),
                &actor,
            )
            .await
            .expect("a request before the load");
        assert_eq!(before.key(), "REQ-1");
        let now = steward_store::now_micros();
        let rows: Vec<NewRequest> = (0..300)
            .map(|i| new_request(i, &approved, &direct, now))
            .collect();
        for batch in rows.chunks(200) {
            assert_eq!(
                store.load_requests(t, batch, &actor).await.expect("load"),
                batch.len()
            );
        }
        let listed = store
            .requests(t, &RequestFilter::default(), &ALL)
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 301);
        let after = store
            .create_request(
                t,
                &direct,
                &answers(),
                None,
                &RequestFields::default(),
                &actor,
            )
            .await
            .expect("a request after the load");
        assert_eq!(after.key(), "REQ-302", "numbering continues after the load");
        // Loaded as given, and found by key.
        let second = store.request_by_number(t, 3).await.expect("REQ-3");
        assert_eq!(second.status, rows[1].values.status);
        assert_eq!(second.opened_at, rows[1].values.opened_at);
        assert_eq!(second.created_at, rows[1].values.opened_at);
        assert_eq!(second.answers, answers());
        // What each status implies is there: pending approvals, tasks, done tasks.
        for (k, r) in rows.iter().enumerate().take(24) {
            let loaded = store
                .request_by_number(t, i64::try_from(k).unwrap_or(0) + 2)
                .await
                .expect("loaded");
            let approvals = store.approvals(t, loaded.id).await.expect("approvals");
            let tasks = store.tasks(t, loaded.id).await.expect("tasks");
            let decisions: Vec<Decision> = approvals.iter().map(|a| a.decision).collect();
            match r.values.status {
                RequestStatus::PendingApproval => {
                    assert_eq!(decisions, [Decision::Pending]);
                    assert!(tasks.is_empty());
                }
                RequestStatus::Rejected => {
                    assert_eq!(decisions, [Decision::Rejected]);
                    assert!(tasks.is_empty());
                }
                RequestStatus::InFulfilment => {
                    assert_eq!(tasks.len(), 2);
                    assert!(tasks.iter().all(|t| !t.done));
                }
                RequestStatus::Fulfilled | RequestStatus::Closed => {
                    assert!(
                        tasks
                            .iter()
                            .all(|t| t.done && t.done_at == r.values.fulfilled_at)
                    );
                    assert!(decisions.iter().all(|d| *d == Decision::Approved));
                }
                RequestStatus::Cancelled => {}
            }
        }
        // The work is real: an approver decides a loaded request, and its tasks follow.
        let pending = store
            .requests(
                t,
                &RequestFilter {
                    awaiting_approver: Some(approver.id),
                    ..Default::default()
                },
                &ALL,
            )
            .await
            .expect("awaiting");
        assert_eq!(pending.items.len(), 50);
        let decided = store
            .decide(
                t,
                pending.items[0].id,
                approver.id,
                Decision::Approved,
                "",
                &actor,
            )
            .await
            .expect("decide");
        assert_eq!(decided.status, RequestStatus::InFulfilment);
        let journaled = store
            .journal_entries(
                t,
                &JournalFilter {
                    record_type: Some("request".into()),
                    ..Default::default()
                },
                &ALL,
            )
            .await
            .expect("journal");
        assert_eq!(journaled.items.len(), 303, "302 creates and a decision");
        assert!(store.verify_journal().await.expect("verify").is_ok());
    }
);

fn incident(i: usize, now: i64) -> IncidentFields {
    IncidentFields {
        title: format!("Generated {i}"),
        description: String::new(),
        status: Status::New,
        pending_reason: None,
        impact: Level::Low,
        urgency: Level::Low,
        priority: Priority::P5,
        service_id: None,
        customer_id: None,
        requester_contact_id: None,
        requester_user_id: None,
        assignee_team_id: None,
        assignee_id: None,
        source: Source::Phone,
        resolution_code: None,
        resolution_notes: String::new(),
        opened_at: now - DAY,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        category_id: None,
        custom: Default::default(),
    }
}

/// Problem `i` of a load: statuses in turn, one in ten about toner, each caused by two of
/// the 50 incidents and by a number no incident has.
fn new_problem(i: usize, now: i64) -> NewProblem {
    use ProblemStatus::*;
    let status = ProblemStatus::ALL[i % ProblemStatus::ALL.len()];
    let known = matches!(status, KnownError | Resolved | Closed);
    let n = i64::try_from(i).unwrap_or(0);
    NewProblem {
        fields: ProblemFields {
            title: if i.is_multiple_of(10) {
                format!("Toner smudges on floor {i}")
            } else {
                format!("Printer queue stalls {i}")
            },
            description: "Several incidents".into(),
            status,
            impact: Level::Medium,
            urgency: Level::High,
            priority: Priority::P2,
            service_id: None,
            assignee_id: None,
            root_cause: if known {
                "Driver bug".into()
            } else {
                String::new()
            },
            workaround: if status == KnownError {
                "Restart the spooler".into()
            } else {
                String::new()
            },
            resolved_at: matches!(status, Resolved | Closed).then_some(now - DAY),
            closed_at: status.is_terminal().then_some(now - DAY / 2),
            category_id: None,
            custom: Map::new(),
        },
        opened_at: now - 10 * DAY,
        incident_numbers: vec![n % 50 + 1, (n * 7 + 3) % 50 + 1, 999],
    }
}

both_backends!(
    bulk_problems_continue_numbering_with_known_errors_and_links,
    |store: Store| async move {
        let actor = Actor::cli();
        let t = store
            .create_tenant(&new_tenant("A").expect("name"), &actor)
            .await
            .expect("tenant")
            .id;
        let now = steward_store::now_micros();
        let incidents: Vec<IncidentFields> = (0..50).map(|i| incident(i, now)).collect();
        store
            .load_incidents(t, &incidents, &actor)
            .await
            .expect("incidents");
        let first = store
            .create_problem(t, &new_problem(1, now).fields, &actor)
            .await
            .expect("a problem before the load");
        assert_eq!(first.key(), "PRB-1");
        let rows: Vec<NewProblem> = (0..240).map(|i| new_problem(i, now)).collect();
        for batch in rows.chunks(100) {
            assert_eq!(
                store.load_problems(t, batch, &actor).await.expect("load"),
                batch.len()
            );
        }
        let listed = store
            .problems(t, &ProblemFilter::default(), &ALL)
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 241);
        let known = store
            .problems(
                t,
                &ProblemFilter {
                    statuses: vec![ProblemStatus::KnownError],
                    ..Default::default()
                },
                &ALL,
            )
            .await
            .expect("known errors");
        assert_eq!(known.items.len(), 40);
        let after = store
            .create_problem(t, &new_problem(0, now).fields, &actor)
            .await
            .expect("a problem after the load");
        assert_eq!(after.key(), "PRB-242", "numbering continues after the load");
        let loaded = store.problem_by_number(t, 3).await.expect("PRB-3");
        assert_eq!(loaded.title, rows[1].fields.title);
        assert_eq!(loaded.created_at, rows[1].opened_at);
        // Each known error has its KE, numbered in load order and searchable by its title.
        let kes = store
            .known_errors(t, None, false, &ALL)
            .await
            .expect("known errors");
        assert_eq!(kes.items.len(), 40);
        let toner = store
            .known_errors(t, Some("toner"), false, &ALL)
            .await
            .expect("search");
        let expected = rows
            .iter()
            .filter(|p| {
                p.fields.status == ProblemStatus::KnownError && p.fields.title.starts_with("Toner")
            })
            .count();
        assert!(expected > 0);
        assert_eq!(toner.items.len(), expected);
        let ke = store
            .known_error_of(t, known.items[0].id)
            .await
            .expect("known error of a loaded problem");
        assert!(ke.is_some());
        // A problem reaching known error after the load gets the next KE number.
        let investigating = store.problem_by_number(t, 3).await.expect("PRB-3");
        assert_eq!(investigating.status, ProblemStatus::Investigating);
        let mut fields = steward_store::problem::ProblemFields::from(&investigating);
        fields.status = ProblemStatus::KnownError;
        fields.root_cause = "Driver bug".into();
        fields.workaround = "Restart the spooler".into();
        let moved = store
            .update_problem(
                t,
                investigating.id,
                investigating.updated_at,
                &fields,
                &actor,
            )
            .await
            .expect("to known error");
        let next = store
            .known_error_of(t, moved.id)
            .await
            .expect("known error")
            .expect("created");
        assert_eq!(next.key(), "KE-41");
        // Linked to the incidents that exist: two each, the missing number skipped.
        let links = store
            .links(t, (RecordKind::Problem, loaded.id))
            .await
            .expect("links");
        assert_eq!(links.len(), 2);
        assert!(links.iter().all(|l| l.kind == LinkKind::CausedBy
            && !l.outgoing
            && l.other_kind == RecordKind::Incident));
        let journaled = |record_type: &str| {
            let store = store.clone();
            let filter = JournalFilter {
                record_type: Some(record_type.into()),
                ..Default::default()
            };
            async move {
                store
                    .journal_entries(t, &filter, &ALL)
                    .await
                    .expect("journal")
                    .items
                    .len()
            }
        };
        assert_eq!(journaled("problem").await, 243, "242 creates and an update");
        assert_eq!(journaled("known_error").await, 41);
        assert_eq!(journaled("link").await, 480);
        assert!(store.verify_journal().await.expect("verify").is_ok());
    }
);
