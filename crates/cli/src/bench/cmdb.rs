//! `steward bench cmdb`: a realistic estate for the CMDB figures, and `steward bench impact`:
//! impact analysis timed on it.
//!
//! The estate is layered the way data centres are: a core switch, distribution and access
//! switches, racks holding servers, virtual machines on the servers, applications on the
//! virtual machines, a shared database cluster that three in ten applications use, and calls
//! between applications (mostly to older ones, one in a hundred to any, which makes cycles).
//! Its shape is worked out from indices first ([`Estate`], pure and deterministic from the
//! seed), then written with the bulk loaders.

use super::{BATCH, in_batches, percentile};
use anyhow::{Context, anyhow};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Instant;
use steward_domain::cmdb::{CiClassDraft, CiDraft, CiStatus, Dependency, Direction};
use steward_domain::request::{FieldKind, FormField};
use steward_store::cmdb::bulk::NewRelationship;
use steward_store::cmdb::{CiClass, CiFilter, ImpactRequest};
use steward_store::{Actor, PageRequest, Store};

#[derive(Debug, Args)]
pub struct CmdbArgs {
    #[arg(long)]
    tenant: String,
    /// How many CIs the estate has.
    #[arg(long, default_value_t = 100_000)]
    cis: u64,
    /// Relationships per CI on average (applications call each other to make up the count).
    #[arg(long, default_value_t = 5)]
    relationships_per_ci: u64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    #[arg(long)]
    tenant: String,
    /// Timed runs of each question, after the first (which reads the graph).
    #[arg(long, default_value_t = 100)]
    samples: usize,
}

/// The kinds of CI in the estate, in the order they are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Core,
    Distribution,
    Access,
    Rack,
    Server,
    Cluster,
    Vm,
    App,
}

impl Layer {
    fn class(self) -> &'static str {
        match self {
            Layer::Core | Layer::Distribution | Layer::Access => "Network device",
            Layer::Rack => "Rack",
            Layer::Server => "Server",
            Layer::Cluster => "Database",
            Layer::Vm => "Virtual machine",
            Layer::App => "Application",
        }
    }

    fn name(self, n: u64) -> String {
        match self {
            Layer::Core => "Core switch".into(),
            Layer::Distribution => format!("dist-sw-{n:03}"),
            Layer::Access => format!("acc-sw-{n:05}"),
            Layer::Rack => format!("rack-{n:05}"),
            Layer::Server => format!("srv-{n:06}"),
            Layer::Cluster => "Shared database cluster".into(),
            Layer::Vm => format!("vm-{n:07}"),
            Layer::App => format!("app-{n:07}"),
        }
    }
}

/// Where each layer's CIs start and how many there are, by index into the estate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estate {
    layers: Vec<(Layer, u64, u64)>,
    total: u64,
}

impl Estate {
    pub fn new(cis: u64) -> Estate {
        let cis = cis.max(20);
        let sizes = [
            (Layer::Core, 1),
            (Layer::Distribution, (cis / 25_000).max(1)),
            (Layer::Access, (cis / 1_000).max(1)),
            (Layer::Rack, (cis / 100).max(1)),
            (Layer::Server, (cis / 10).max(3)),
            (Layer::Cluster, 1),
            (Layer::Vm, cis * 6 / 10),
        ];
        let mut layers = Vec::new();
        let mut start = 0;
        for (layer, n) in sizes {
            layers.push((layer, start, n));
            start += n;
        }
        layers.push((Layer::App, start, cis.saturating_sub(start).max(1)));
        let total = layers.iter().map(|(_, _, n)| n).sum();
        Estate { layers, total }
    }

    fn layer(&self, layer: Layer) -> (u64, u64) {
        self.layers
            .iter()
            .find(|(l, _, _)| *l == layer)
            .map_or((0, 0), |(_, start, n)| (*start, *n))
    }

    /// Every CI as (layer, number within the layer), in creation order.
    fn cis(&self) -> impl Iterator<Item = (Layer, u64)> + '_ {
        self.layers
            .iter()
            .flat_map(|(layer, _, n)| (0..*n).map(move |i| (*layer, i)))
    }

    /// Every relationship as (source index, target index, type), deterministic from `seed`.
    /// The fixed structure comes first; calls between applications make up `target` in all.
    pub fn relationships(&self, seed: u64, target: u64) -> Vec<(u64, u64, &'static str)> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = Vec::new();
        let (core, _) = self.layer(Layer::Core);
        let (dist, dists) = self.layer(Layer::Distribution);
        let (access, accesses) = self.layer(Layer::Access);
        let (rack, racks) = self.layer(Layer::Rack);
        let (server, servers) = self.layer(Layer::Server);
        let (cluster, _) = self.layer(Layer::Cluster);
        let (vm, vms) = self.layer(Layer::Vm);
        let (app, apps) = self.layer(Layer::App);
        for i in 0..dists {
            out.push((dist + i, core, "depends_on"));
        }
        for i in 0..accesses {
            out.push((access + i, dist + i % dists, "depends_on"));
        }
        for i in 0..servers {
            out.push((server + i, access + i % accesses, "depends_on"));
            out.push((rack + i % racks, server + i, "contains"));
        }
        for i in 0..3.min(servers) {
            out.push((cluster, server + i, "runs_on"));
        }
        for i in 0..vms {
            out.push((vm + i, server + rng.random_range(0..servers), "runs_on"));
        }
        for i in 0..apps {
            out.push((app + i, vm + rng.random_range(0..vms.max(1)), "runs_on"));
            if rng.random_range(0..10) < 3 {
                out.push((app + i, cluster, "depends_on"));
            }
        }
        let calls = target.saturating_sub(out.len() as u64);
        let per_app = calls / apps.max(1);
        for i in 1..apps {
            let mut called = HashSet::new();
            for _ in 0..per_app {
                let callee = if rng.random_range(0..100) == 0 {
                    rng.random_range(0..apps)
                } else {
                    i.saturating_sub(rng.random_range(1..=5_000.min(i)))
                };
                if callee != i && called.insert(callee) {
                    out.push((app + i, app + callee, "depends_on"));
                }
            }
        }
        out
    }
}

const CLASSES: [&str; 6] = [
    "Network device",
    "Rack",
    "Server",
    "Database",
    "Virtual machine",
    "Application",
];

/// The estate's classes, made if the tenant lacks them; servers have a required host name.
async fn classes(store: &Store, t: i64) -> anyhow::Result<Vec<CiClass>> {
    let existing = store.ci_classes(t).await?;
    let mut out = Vec::new();
    for name in CLASSES {
        if let Some(c) = existing.iter().find(|c| c.name == name) {
            out.push(c.clone());
            continue;
        }
        let attributes = if name == "Server" {
            vec![FormField {
                name: "hostname".into(),
                label: "Host name".into(),
                kind: FieldKind::Text,
                required: true,
                options: Vec::new(),
            }]
        } else {
            Vec::new()
        };
        let draft = CiClassDraft {
            name: name.into(),
            description: "Benchmark estate".into(),
            attributes,
        }
        .validate()
        .map_err(|e| anyhow!("{e:?}"))?;
        out.push(store.create_ci_class(t, &draft, &Actor::cli()).await?);
    }
    Ok(out)
}

fn draft(classes: &[CiClass], layer: Layer, n: u64) -> anyhow::Result<CiDraft> {
    let class = classes
        .iter()
        .find(|c| c.name == layer.class())
        .context("a benchmark class is missing")?;
    let name = layer.name(n);
    let attributes = match layer {
        Layer::Server => json!({"hostname": name}),
        _ => json!({}),
    };
    CiDraft {
        name,
        class_id: class.id,
        status: CiStatus::InUse,
        description: String::new(),
        owner_id: None,
        team_id: None,
        external_id: None,
        service_ids: Vec::new(),
        attributes: attributes.as_object().cloned().unwrap_or_default(),
    }
    .validate(&class.name, &class.attributes)
    .map_err(|e| anyhow!("{e:?}"))
}

fn dependency_of(type_name: &str) -> Dependency {
    match type_name {
        "contains" => Dependency::TargetOnSource,
        _ => Dependency::SourceOnTarget,
    }
}

pub async fn generate(store: &Store, args: CmdbArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let t = tenant.id;
    let classes = classes(store, t).await?;
    let actor = Actor {
        user_id: None,
        label: "bench".into(),
    };
    let estate = Estate::new(args.cis);
    let mut pending = estate.cis();
    let mut ids: Vec<i64> = Vec::with_capacity(estate.total as usize);
    let ci_seconds = in_batches(estate.total, "CIs", async |n| {
        let drafts = pending
            .by_ref()
            .take(n as usize)
            .map(|(layer, i)| draft(&classes, layer, i))
            .collect::<anyhow::Result<Vec<_>>>()?;
        ids.extend(store.load_cis(t, &drafts, &actor).await?);
        Ok(format!("{} CIs", ids.len()))
    })
    .await?;
    let relationships = estate.relationships(args.seed, args.cis * args.relationships_per_ci);
    let mut rows = relationships.iter();
    let relationship_seconds = in_batches(relationships.len() as u64, "relationships", async |n| {
        let batch: Vec<NewRelationship> = rows
            .by_ref()
            .take(n as usize)
            .map(|&(source, target, kind)| NewRelationship {
                source_id: ids[source as usize],
                target_id: ids[target as usize],
                type_name: kind.into(),
                dependency: dependency_of(kind),
            })
            .collect();
        store.load_ci_relationships(t, &batch, &actor).await?;
        Ok(String::new())
    })
    .await?;
    store.refresh_statistics().await?;
    println!(
        "{}",
        json!({
            "cis": ids.len(), "relationships": relationships.len(),
            "ci_seconds": round(ci_seconds), "relationship_seconds": round(relationship_seconds),
            "batch": BATCH,
        })
    );
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The id of the CI named `name` (the estate's names are unique).
pub(super) async fn named(store: &Store, t: i64, name: &str) -> anyhow::Result<i64> {
    let filter = CiFilter {
        q: Some(name.into()),
        ..CiFilter::default()
    };
    let page = PageRequest {
        limit: Some(500),
        cursor: None,
    };
    let found = store.cis(t, &filter, &page).await?;
    found
        .items
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.id)
        .with_context(|| format!("no CI named `{name}`: run `steward bench cmdb` first"))
}

/// The application created last (names are numbered and zero-padded): what it needs reaches
/// far upstream through the calls to older applications.
async fn newest_app(store: &Store, t: i64) -> anyhow::Result<i64> {
    let class = store
        .ci_class_named(t, Layer::App.class())
        .await
        .context("no Application class: run `steward bench cmdb` first")?;
    let filter = CiFilter {
        class_id: Some(class.id),
        sort: Some("-name".into()),
        ..CiFilter::default()
    };
    let page = PageRequest {
        limit: Some(1),
        cursor: None,
    };
    let found = store.cis(t, &filter, &page).await?;
    found
        .items
        .first()
        .map(|c| c.id)
        .context("no applications: run `steward bench cmdb` first")
}

/// Times one question: the first run apart (it may read the graph), then `samples` more.
async fn time_impact(
    store: &Store,
    t: i64,
    label: &str,
    req: ImpactRequest,
    samples: usize,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    let first = store.ci_impact(t, req).await?;
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        store.ci_impact(t, req).await?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok(json!({
        "query": label, "reached": first.total, "listed": first.items.len(),
        "services": first.services.len(), "first_ms": round(first_ms),
        "p50_ms": round(percentile(&ms, 50.0)), "p95_ms": round(percentile(&ms, 95.0)),
        "p99_ms": round(percentile(&ms, 99.0)), "samples": samples,
    }))
}

pub async fn impact(store: &Store, args: ImpactArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let t = tenant.id;
    let core = named(store, t, "Core switch").await?;
    let cluster = named(store, t, "Shared database cluster").await?;
    let app = newest_app(store, t).await?;
    let questions = [
        (
            "impact.downstream.core_switch",
            core,
            Direction::Downstream,
            None,
        ),
        (
            "impact.downstream.database_cluster",
            cluster,
            Direction::Downstream,
            None,
        ),
        (
            "impact.downstream.core_switch.depth3",
            core,
            Direction::Downstream,
            Some(3),
        ),
        ("impact.upstream.newest_app", app, Direction::Upstream, None),
    ];
    for (label, ci_id, direction, depth) in questions {
        let req = ImpactRequest {
            ci_id,
            direction,
            depth,
            limit: 1_000,
        };
        println!("{}", time_impact(store, t, label, req, args.samples).await?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estate_is_layered_and_sized() {
        let estate = Estate::new(100_000);
        assert_eq!(estate.total, 100_000);
        assert_eq!(estate.layer(Layer::Core), (0, 1));
        assert_eq!(estate.layer(Layer::Server).1, 10_000);
        let cis: Vec<(Layer, u64)> = estate.cis().take(3).collect();
        assert_eq!(cis[0], (Layer::Core, 0));
        assert_eq!(cis[1], (Layer::Distribution, 0));
    }

    #[test]
    fn relationships_are_deterministic_valid_and_near_the_target() {
        let estate = Estate::new(10_000);
        let a = estate.relationships(7, 50_000);
        assert_eq!(a, estate.relationships(7, 50_000));
        assert_ne!(a, estate.relationships(8, 50_000));
        assert!(a.len() > 45_000 && a.len() <= 50_000, "{}", a.len());
        assert!(
            a.iter()
                .all(|(s, t, _)| s != t && *s < 10_000 && *t < 10_000)
        );
        let distinct: HashSet<_> = a.iter().collect();
        assert_eq!(distinct.len(), a.len(), "no relationship twice");
    }
}
