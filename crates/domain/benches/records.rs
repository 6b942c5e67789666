//! The pure decisions every record write makes: priority from impact and urgency, the
//! incident lifecycle's transition check, and the journal's hash chain (append and verify).
//!
//! `cargo bench -p steward-domain --bench records`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use steward_domain::incident::{
    Level, PendingReason, PriorityMatrix, REOPEN_WINDOW, Status, TransitionContext,
};
use steward_domain::journal::{self, Action, Chained, Entry, GENESIS};

const LEVELS: [Level; 3] = [Level::Low, Level::Medium, Level::High];
const STATUSES: [Status; 6] = [
    Status::New,
    Status::InProgress,
    Status::Pending,
    Status::Resolved,
    Status::Closed,
    Status::Cancelled,
];

/// An entry the size of a real incident write: the whole record before and after.
fn entry(seq: i64) -> Entry {
    let incident = |status: &str| {
        json!({
            "id": seq, "number": seq, "title": format!("Mail server {seq} rejects attachments"),
            "description": "Users in the Leeds office cannot send attachments over 2 MB since this morning.",
            "status": status, "impact": "medium", "urgency": "high", "priority": "P2",
            "service_id": 3, "customer_id": 7, "assignee_team_id": 2, "assignee_id": 11,
            "source": "email", "opened_at": 1_780_000_000_000_000_i64 + seq,
        })
    };
    Entry {
        tenant_id: 1,
        seq,
        at_micros: 1_780_000_000_000_000 + seq,
        actor_id: Some(11),
        actor: "Alex Agent".into(),
        action: Action::Update,
        record_type: "incident".into(),
        record_id: seq,
        before: Some(incident("new")),
        after: Some(incident("in_progress")),
    }
}

fn chain_of(n: i64) -> Vec<Chained> {
    let mut prev = GENESIS.to_owned();
    (1..=n)
        .map(|seq| {
            let chained = journal::chain(entry(seq), &prev);
            prev.clone_from(&chained.hash);
            chained
        })
        .collect()
}

fn priority(c: &mut Criterion) {
    let matrix = PriorityMatrix::default();
    let mut group = c.benchmark_group("priority");
    group.throughput(Throughput::Elements(9));
    group.bench_function("all 9 impact × urgency pairs", |b| {
        b.iter(|| {
            for impact in LEVELS {
                for urgency in LEVELS {
                    black_box(matrix.priority(black_box(impact), black_box(urgency)));
                }
            }
        });
    });
    group.finish();
}

fn lifecycle(c: &mut Criterion) {
    let ctx = TransitionContext {
        now_micros: 1_780_000_000_000_000,
        resolved_at_micros: Some(1_779_999_000_000_000),
        resolution_code: Some("fixed".into()),
        pending_reason: Some(PendingReason::AwaitingCustomer),
        reopen_window: REOPEN_WINDOW,
    };
    let mut group = c.benchmark_group("incident lifecycle");
    group.throughput(Throughput::Elements(36));
    group.bench_function("check all 36 status changes", |b| {
        b.iter(|| {
            for from in STATUSES {
                for to in STATUSES {
                    let _ = black_box(black_box(from).transition(black_box(to), &ctx));
                }
            }
        });
    });
    group.finish();
}

fn hash_chain(c: &mut Criterion) {
    let mut group = c.benchmark_group("journal");
    group.throughput(Throughput::Elements(1));
    let prev = chain_of(1).remove(0).hash;
    group.bench_function("chain one incident update", |b| {
        b.iter_batched(
            || entry(2),
            |e| journal::chain(e, black_box(&prev)),
            BatchSize::SmallInput,
        );
    });
    let chain = chain_of(1_000);
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("verify 1,000 entries", |b| {
        b.iter(|| journal::verify(1, black_box(&chain)).expect("an intact chain"));
    });
    group.finish();
}

criterion_group!(benches, priority, lifecycle, hash_chain);
criterion_main!(benches);
