//! CMDB impact analysis at the scale: 1,000,000 CIs and 5,000,000 relationships.
//!
//! The synthetic estate is layered the way real ones are: one core switch and one shared
//! database cluster that much depends on, distribution and access switches, racks containing
//! hosts, VMs running on hosts, and applications running on VMs and depending on older ones
//! (1% of calls go anywhere, making cycles) and on the database cluster. Built deterministically, so runs compare.
//!
//! `cargo bench -p steward-domain --bench cmdb -- --sample-size 10`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};
use steward_domain::cmdb::impact::{Edge, ImpactGraph};
use steward_domain::cmdb::relationship::{BuiltinRelationship, Dependency};

const CIS: i64 = 1_000_000;
const RELATIONSHIPS: usize = 5_000_000;

const CORE_SWITCH: i64 = 1;
const DB_CLUSTER: i64 = 2;
const DISTRIBUTION: i64 = 100;
const ACCESS: i64 = 2_000;
const RACKS: i64 = 5_000;
const HOSTS: i64 = 100_000;
const VMS: i64 = 300_000;

/// A small deterministic generator (SplitMix64), so the bench needs no `rand`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform pick from `first..first + count`.
    fn pick(&mut self, first: i64, count: i64) -> i64 {
        first + (self.next() % count as u64) as i64
    }
}

/// The first id of each layer, in order.
struct Layers {
    distribution: i64,
    access: i64,
    racks: i64,
    hosts: i64,
    vms: i64,
    apps: i64,
}

const LAYERS: Layers = Layers {
    distribution: 3,
    access: 3 + DISTRIBUTION,
    racks: 3 + DISTRIBUTION + ACCESS,
    hosts: 3 + DISTRIBUTION + ACCESS + RACKS,
    vms: 3 + DISTRIBUTION + ACCESS + RACKS + HOSTS,
    apps: 3 + DISTRIBUTION + ACCESS + RACKS + HOSTS + VMS,
};

fn estate() -> Vec<Edge> {
    let mut rng = Rng(200_001);
    let mut edges = Vec::with_capacity(RELATIONSHIPS);
    let add = |edges: &mut Vec<Edge>, source_id, target_id, kind: BuiltinRelationship| {
        edges.push(Edge {
            relationship_id: edges.len() as i64 + 1,
            source_id,
            target_id,
            dependency: kind.dependency(),
        });
    };
    use BuiltinRelationship::*;
    let l = &LAYERS;
    let apps = CIS + 1 - l.apps;
    for d in l.distribution..l.access {
        add(&mut edges, d, CORE_SWITCH, DependsOn);
    }
    for a in l.access..l.racks {
        for _ in 0..2 {
            add(
                &mut edges,
                a,
                rng.pick(l.distribution, DISTRIBUTION),
                DependsOn,
            );
        }
    }
    for h in l.hosts..l.vms {
        add(&mut edges, rng.pick(l.racks, RACKS), h, Contains);
        for _ in 0..2 {
            add(&mut edges, h, rng.pick(l.access, ACCESS), DependsOn);
        }
    }
    for v in l.vms..l.apps {
        add(&mut edges, v, rng.pick(l.hosts, HOSTS), RunsOn);
    }
    for app in l.apps..=CIS {
        add(&mut edges, app, rng.pick(l.vms, VMS), RunsOn);
        if rng.next() % 10 < 3 {
            add(&mut edges, app, DB_CLUSTER, DependsOn);
        }
    }
    // The rest: applications calling one another. Mostly layered (an app calls older ones),
    // with one call in a hundred going anywhere, which makes cycles.
    while edges.len() < RELATIONSHIPS {
        let source = rng.pick(l.apps + 1, apps - 1);
        let target = if rng.next().is_multiple_of(100) {
            rng.pick(l.apps, apps)
        } else {
            rng.pick(l.apps, source - l.apps)
        };
        if source != target {
            let kind = if rng.next().is_multiple_of(50) {
                ConnectsTo
            } else {
                DependsOn
            };
            add(&mut edges, source, target, kind);
        }
    }
    edges
}

fn p99(mut run: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..100)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    times.sort();
    (times[50], times[98])
}

fn impact(c: &mut Criterion) {
    let edges = estate();
    let started = Instant::now();
    let graph = ImpactGraph::build(1..=CIS, edges.iter().copied());
    eprintln!(
        "built {} CIs, {} arcs in {:?}; about {} MB",
        graph.ci_count(),
        graph.arc_count(),
        started.elapsed(),
        graph.approx_heap_bytes() / 1_000_000
    );
    let leaf_app = CIS;
    for (what, id) in [
        ("core switch", CORE_SWITCH),
        ("db cluster", DB_CLUSTER),
        ("newest app", leaf_app),
        ("oldest app", LAYERS.apps),
    ] {
        let reached = graph.downstream(id, None).map_or(0, |i| i.len());
        let (median, p99) = p99(|| {
            black_box(graph.downstream(black_box(id), None).map(|i| i.len()));
        });
        eprintln!(
            "downstream({what}): {reached} CIs; median {median:?}, p99 {p99:?} over 100 runs"
        );
    }

    let mut group = c.benchmark_group("cmdb impact, 1M CIs / 5M relationships");
    group.bench_function("downstream(core switch), unlimited depth", |b| {
        b.iter(|| {
            graph
                .downstream(black_box(CORE_SWITCH), None)
                .map(|i| i.len())
        });
    });
    group.bench_function("downstream(db cluster), unlimited depth", |b| {
        b.iter(|| {
            graph
                .downstream(black_box(DB_CLUSTER), None)
                .map(|i| i.len())
        });
    });
    group.bench_function("downstream(core switch), depth 3", |b| {
        b.iter(|| {
            graph
                .downstream(black_box(CORE_SWITCH), Some(3))
                .map(|i| i.len())
        });
    });
    group.bench_function("upstream(newest app), unlimited depth", |b| {
        b.iter(|| graph.upstream(black_box(leaf_app), None).map(|i| i.len()));
    });
    group.bench_function("path of every CI reached from the db cluster", |b| {
        let impact = graph.downstream(DB_CLUSTER, None);
        b.iter(|| {
            impact.as_ref().map(|i| {
                i.ci_ids()
                    .take(10_000)
                    .filter_map(|id| i.path(id))
                    .map(|p| p.ci_ids.len())
                    .sum::<usize>()
            })
        });
    });
    let mut with_overlay = graph.clone();
    for r in 0..50_000 {
        let app = LAYERS.apps + r * 7;
        with_overlay.add_relationship(&Edge {
            relationship_id: 10_000_000 + r,
            source_id: app,
            target_id: app + 1,
            dependency: Dependency::SourceOnTarget,
        });
        let gone = edges[(r * 90) as usize];
        with_overlay.remove_relationship(gone.relationship_id, gone.source_id, gone.target_id);
    }
    group.bench_function(
        "downstream(core switch) with 50k pending additions and removals",
        |b| {
            b.iter(|| {
                with_overlay
                    .downstream(black_box(CORE_SWITCH), None)
                    .map(|i| i.len())
            });
        },
    );
    group.finish();

    let mut group = c.benchmark_group("cmdb graph build");
    group.sample_size(10);
    group.bench_function("build 1M CIs / 5M relationships", |b| {
        b.iter(|| ImpactGraph::build(1..=CIS, edges.iter().copied()).ci_count());
    });
    group.bench_function("compact after 50k changes", |b| {
        b.iter_batched(
            || with_overlay.clone(),
            |mut g| {
                g.compact();
                g.ci_count()
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, impact);
criterion_main!(benches);
