//! Change collision checks at the scale: one change with 50 CIs against 10,000
//! scheduled changes of 20 CIs each, on a CMDB of 1,000,000 CIs and 5,000,000 relationships.
//!
//! The estate is a smaller copy of the one in `benches/cmdb.rs` (switches, racks, hosts, VMs,
//! applications calling one another, a shared database cluster), deterministic so runs compare.
//! The target is under 10 ms per check.
//!
//! `cargo bench -p steward-domain --bench change`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;
use steward_domain::change::schedule::{
    NoDependencies, ScheduleIndex, ScheduledChange, Window, collisions,
};
use steward_domain::cmdb::impact::{Direction, Edge, ImpactGraph};
use steward_domain::cmdb::relationship::BuiltinRelationship;

const CIS: i64 = 1_000_000;
const RELATIONSHIPS: usize = 5_000_000;
const DB_CLUSTER: i64 = 2;
const HOSTS: i64 = 7_103;
const VMS: i64 = 107_103;
const APPS: i64 = 407_103;
const HOUR: i64 = 3_600_000_000;

/// SplitMix64, so the bench needs no `rand`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick(&mut self, first: i64, count: i64) -> i64 {
        first + (self.next() % count as u64) as i64
    }
}

fn add(edges: &mut Vec<Edge>, source_id: i64, target_id: i64, kind: BuiltinRelationship) {
    edges.push(Edge {
        relationship_id: edges.len() as i64 + 1,
        source_id,
        target_id,
        dependency: kind.dependency(),
    });
}

/// Switches on a core switch, hosts on switches, VMs on hosts, apps on VMs, 30% of apps on
/// the database cluster, and app-to-app calls (to older apps) making up the rest.
fn estate() -> Vec<Edge> {
    use BuiltinRelationship::*;
    let mut rng = Rng(200_001);
    let mut edges = Vec::with_capacity(RELATIONSHIPS);
    for switch in 3..HOSTS {
        add(&mut edges, switch, 1, DependsOn);
    }
    for host in HOSTS..VMS {
        add(&mut edges, host, rng.pick(3, HOSTS - 3), DependsOn);
    }
    for vm in VMS..APPS {
        add(&mut edges, vm, rng.pick(HOSTS, VMS - HOSTS), RunsOn);
    }
    for app in APPS..=CIS {
        add(&mut edges, app, rng.pick(VMS, APPS - VMS), RunsOn);
        if rng.next() % 10 < 3 {
            add(&mut edges, app, DB_CLUSTER, DependsOn);
        }
    }
    while edges.len() < RELATIONSHIPS {
        let source = rng.pick(APPS + 1, CIS - APPS);
        let target = rng.pick(APPS, source - APPS);
        add(&mut edges, source, target, DependsOn);
    }
    edges
}

/// A change on `count` CIs spread over VMs and apps (the things changes usually touch).
fn change(rng: &mut Rng, id: i64, window: Window, count: usize) -> ScheduledChange {
    let ci_ids = (0..count).map(|_| rng.pick(VMS, CIS - VMS + 1)).collect();
    ScheduledChange { id, window, ci_ids }
}

fn bench(c: &mut Criterion) {
    let started = Instant::now();
    let graph = ImpactGraph::build(1..=CIS, estate());
    eprintln!(
        "estate: {} CIs, {} arcs, built in {:?}",
        graph.ci_count(),
        graph.arc_count(),
        started.elapsed()
    );
    let mut rng = Rng(42);
    let night = Window {
        start: 22 * HOUR,
        end: 26 * HOUR,
    };
    // Worst case for the domain: every scheduled change overlaps ours (no prefilter helped).
    let all_overlapping: Vec<ScheduledChange> = (1..=10_000)
        .map(|id| change(&mut rng, id, night, 20))
        .collect();
    // A realistic forward schedule: 10,000 changes of 1-4 hours over 90 days.
    let forward: Vec<ScheduledChange> = (1..=10_000)
        .map(|id| {
            let start = rng.pick(0, 90 * 24) * HOUR;
            let len = rng.pick(1, 4) * HOUR;
            change(
                &mut rng,
                id,
                Window {
                    start,
                    end: start + len,
                },
                20,
            )
        })
        .collect();
    let ours = change(&mut rng, 0, night, 50);
    let mut with_hub = ours.clone();
    with_hub.ci_ids[0] = DB_CLUSTER;

    let found = collisions(&ours, &all_overlapping, &graph);
    let index = ScheduleIndex::new(forward.clone());
    eprintln!(
        "50 CIs vs 10,000 overlapping changes: {} conflicts; vs the 90-day schedule: {} of {} overlap, {} conflicts; with the db cluster: {} conflicts",
        found.len(),
        index.overlapping(&ours.window).len(),
        index.len(),
        index.collisions(&ours, &graph).len(),
        collisions(&with_hub, &all_overlapping, &graph).len(),
    );

    // What the rejected alternative, the whole upstream and downstream closure, would cost.
    for (what, change) in [("ours", &ours), ("ours with the db cluster", &with_hub)] {
        let started = Instant::now();
        let up = graph.reach_all(&change.ci_ids, Direction::Upstream).len();
        let down = graph.reach_all(&change.ci_ids, Direction::Downstream).len();
        eprintln!(
            "closure of {what}: {up} upstream + {down} downstream CIs in {:?}",
            started.elapsed()
        );
    }
    let mut group = c.benchmark_group("change collisions, 1M CIs / 5M relationships");
    group.bench_function(
        "50 CIs vs 10,000 overlapping changes x 20 CIs, same CI only",
        |b| {
            b.iter(|| collisions(black_box(&ours), &all_overlapping, &NoDependencies).len());
        },
    );
    group.bench_function(
        "50 CIs vs 10,000 overlapping changes x 20 CIs, with dependent CIs",
        |b| {
            b.iter(|| collisions(black_box(&ours), &all_overlapping, &graph).len());
        },
    );
    group.bench_function(
        "same, one of our CIs the shared db cluster (~180k neighbours)",
        |b| {
            b.iter(|| collisions(black_box(&with_hub), &all_overlapping, &graph).len());
        },
    );
    group.bench_function(
        "50 CIs vs a 90-day schedule of 10,000 changes, via the index",
        |b| {
            b.iter(|| index.collisions(black_box(&ours), &graph).len());
        },
    );
    group.bench_function("build the index of 10,000 changes", |b| {
        b.iter(|| ScheduleIndex::new(black_box(forward.clone())).len());
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
