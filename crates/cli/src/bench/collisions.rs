//! `steward bench collisions`: the collision check of a change, timed against a forward
//! schedule full of changes on the `bench cmdb` estate.
//!
//! The schedule is standard changes (they go straight to scheduled), two hours each, spread
//! over the next --days days, each touching a few CIs picked at random from the estate; one in
//! twenty also touches the core switch, the way network work does. A check reads the change,
//! the blackouts and the changes overlapping its window, then looks for shared CIs and CIs one
//! dependency apart in the tenant's in-memory graph.

use super::percentile;
use anyhow::{Context, anyhow};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::time::Instant;
use steward_domain::change::{ChangeDraft, ChangeStatus, ChangeType, Window};
use steward_store::change::TemplateDraft;
use steward_store::cmdb::CiFilter;
use steward_store::{Actor, PageRequest, Store, now_micros};

#[derive(Debug, Args)]
pub struct CollisionArgs {
    #[arg(long)]
    tenant: String,
    /// Changes to put on the forward schedule first.
    #[arg(long, default_value_t = 2_000)]
    changes: usize,
    /// Days ahead the schedule spreads over.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Timed checks, after the first (which may read the graph).
    #[arg(long, default_value_t = 200)]
    samples: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

const HOUR: i64 = 3_600_000_000;

pub async fn collisions(store: &Store, args: CollisionArgs) -> anyhow::Result<()> {
    let tenant = store
        .require_tenant(&args.tenant)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let t = tenant.id;
    let (first_ci, last_ci) = ci_id_range(store, t).await?;
    let core = super::cmdb::named(store, t, "Core switch").await?;
    let actor = Actor::cli();
    let template = TemplateDraft {
        name: format!("Benchmark maintenance {}", now_micros()),
        description: "Routine work on the benchmark estate".into(),
        implementation_plan: "Apply the runbook".into(),
        backout_plan: "Reverse the runbook".into(),
        test_plan: String::new(),
        active: true,
    }
    .validate()
    .map_err(|e| anyhow!("{e:?}"))?;
    let template = store.create_change_template(t, &template, &actor).await?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let bar = ProgressBar::new(args.changes as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("scheduling changes");
    let now = now_micros();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(args.changes);
    for n in 0..args.changes {
        let start = now + rng.random_range(1..args.days.max(1) * 24) * HOUR;
        let mut ci_ids: Vec<i64> = (0..rng.random_range(1..=4))
            .map(|_| rng.random_range(first_ci..=last_ci))
            .collect();
        if n % 20 == 0 {
            ci_ids.push(core);
        }
        let draft = ChangeDraft {
            title: format!("Benchmark change {n}"),
            change_type: ChangeType::Standard,
            template_id: Some(template.id),
            reason: String::new(),
            implementation_plan: String::new(),
            backout_plan: String::new(),
            test_plan: String::new(),
            window: Some(Window {
                start,
                end: start + 2 * HOUR,
            }),
            ci_ids,
            service_ids: Vec::new(),
            incident_ids: Vec::new(),
            problem_ids: Vec::new(),
        }
        .validate()
        .map_err(|e| anyhow!("{e:?}"))?;
        let change = store.create_change(t, &draft, None, &actor).await?;
        store
            .transition_change(t, change.id, ChangeStatus::Scheduled, &actor)
            .await?;
        ids.push(change.id);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let schedule_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let first = store.change_conflicts(t, ids[0]).await?;
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;
    let mut ms = Vec::with_capacity(args.samples);
    let mut found = first.len();
    for _ in 0..args.samples {
        let id = ids[rng.random_range(0..ids.len())];
        let started = Instant::now();
        found += store.change_conflicts(t, id).await?.len();
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    println!(
        "{}",
        json!({
            "query": "change.conflicts", "scheduled": ids.len(),
            "schedule_seconds": round(schedule_seconds),
            "cis": last_ci - first_ci + 1, "first_ms": round(first_ms),
            "p50_ms": round(percentile(&ms, 50.0)), "p95_ms": round(percentile(&ms, 95.0)),
            "p99_ms": round(percentile(&ms, 99.0)), "samples": args.samples,
            "conflicts_per_check": round(found as f64 / (args.samples + 1) as f64),
        })
    );
    Ok(())
}

/// The ids of the estate's oldest and newest CIs: the bulk loader numbers them in one run.
async fn ci_id_range(store: &Store, t: i64) -> anyhow::Result<(i64, i64)> {
    let mut ends = Vec::new();
    for sort in ["created_at", "-created_at"] {
        let filter = CiFilter {
            sort: Some(sort.into()),
            ..CiFilter::default()
        };
        let page = PageRequest {
            limit: Some(1),
            cursor: None,
        };
        let found = store.cis(t, &filter, &page).await?;
        ends.push(
            found
                .items
                .first()
                .map(|c| c.id)
                .context("no CIs: run `steward bench cmdb` first")?,
        );
    }
    Ok((ends[0].min(ends[1]), ends[0].max(ends[1])))
}
