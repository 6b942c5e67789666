//! `steward audit sample`: the records an auditor samples for a clause, drawn so that anyone
//! with the same seed, period and data draws the same ones (and can redo the draw by hand).

use anyhow::{anyhow, bail};
use clap::Args;
use steward_domain::conformance::catalogue::catalogue;
use steward_domain::conformance::sample::sample;
use steward_server::api::conformance::{MAX_SAMPLE, period_of};
use steward_store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The tenant's short name (slug).
    #[arg(long)]
    pub tenant: String,
    /// The clause whose evidence to sample, such as 8.6.1.
    #[arg(long)]
    pub clause: String,
    /// How many records (1 to 100).
    #[arg(long, default_value_t = 10)]
    pub size: usize,
    /// The seed: note it in the audit report, so the sample can be drawn again.
    #[arg(long)]
    pub seed: u64,
    /// First day of the period (YYYY-MM-DD, UTC); default a year before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the period, included; default today.
    #[arg(long)]
    pub to: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn sample_records(store: &Store, args: SampleArgs) -> anyhow::Result<()> {
    if !(1..=MAX_SAMPLE).contains(&args.size) {
        bail!("--size must be 1 to {MAX_SAMPLE}");
    }
    let clause = catalogue().clause(&args.clause).ok_or_else(|| {
        anyhow!(
            "there is no clause {} in the catalogue (clauses run from 4.1 to 10.2)",
            args.clause
        )
    })?;
    let period = period_of(args.from.as_deref(), args.to.as_deref()).map_err(|e| {
        let why: Vec<String> = e.errors.into_iter().map(|f| f.message).collect();
        anyhow!("{}", why.join("; "))
    })?;
    let tenant = match store.tenant_by_slug(&args.tenant).await {
        Err(StoreError::NotFound) => bail!("there is no tenant {}", args.tenant),
        other => other?,
    };
    let population = store
        .clause_population(tenant.id, &clause.id, period)
        .await?;
    let drawn = sample(&population, args.size, args.seed);
    if args.json {
        let out = serde_json::json!({
            "tenant": tenant.slug, "clause": clause.id, "seed": args.seed, "size": args.size,
            "population": population.len(), "records": drawn,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{} {}: {} of {} records, seed {}",
        clause.id,
        clause.title,
        drawn.len(),
        population.len(),
        args.seed
    );
    for r in &drawn {
        println!("{:<16} {:>8}  {}", r.kind, r.id, r.label);
    }
    if population.is_empty() {
        println!("(no records serve as evidence for this clause in the period)");
    }
    Ok(())
}
